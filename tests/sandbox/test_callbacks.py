"""Acting as a person: encrypted callbacks, WeCom's retries, replays, passive replies, URL check."""

from __future__ import annotations

import pytest

from sandbox.client import SandboxClient, SandboxError

from .conftest import AGENT_ID, CORP_ID, Receiver, WeComApi


def test_say_delivers_an_encrypted_text_message(sb: SandboxClient, receiver: Receiver) -> None:
    report = sb.say("alice", "舆情 <b>]]> & 测试")
    assert report["tries"] == 1
    assert report["statuses"] == [200]
    assert report["reply"] is None
    got = receiver.received[0]
    assert got.fields["Content"] == "舆情 <b>]]> & 测试"
    assert (got.fields["MsgType"], got.fields["FromUserName"], got.fields["ToUserName"]) == ("text", "alice", CORP_ID)
    assert got.fields["MsgId"] == report["msg_id"]
    assert got.fields["AgentID"] == str(AGENT_ID)
    assert set(got.query) == {"msg_signature", "timestamp", "nonce"}
    assert b"<Encrypt>" in got.body
    assert b"<AgentID>" in got.body
    assert "alice" not in got.body.decode()


def test_outsider_can_say_but_cannot_be_messaged(sb: SandboxClient, receiver: Receiver, api: WeComApi) -> None:
    sb.say("mallory", "hello")
    assert receiver.received[0].fields["FromUserName"] == "mallory"
    assert api.send("mallory", "text", {"content": "no"})["errcode"] == 81013


def test_slow_receiver_gets_the_same_payload_three_times(sb: SandboxClient, receiver: Receiver) -> None:
    sb.config(callback_timeout=0.3)
    receiver.delay = 0.6
    report = sb.say("alice", "slow")
    assert report["tries"] == 3
    assert report["statuses"] == ["timeout"] * 3
    assert len(receiver.received) == 3
    first = receiver.received[0]
    assert all(r.query == first.query and r.body == first.body for r in receiver.received)


def test_unreachable_app_is_tried_three_times(sb: SandboxClient) -> None:
    sb.set_callback("http://127.0.0.1:9/callback")
    report = sb.say("alice", "anyone?")
    assert report["tries"] == 3
    assert report["statuses"] == ["connection_error"] * 3


def test_replay_resends_identical_callback(sb: SandboxClient, receiver: Receiver) -> None:
    report = sb.say("bob", "again", replay=3)
    assert report["tries"] == 3
    assert len(receiver.received) == 3
    assert len({(r.body, tuple(sorted(r.query.items()))) for r in receiver.received}) == 1
    assert {r.fields["MsgId"] for r in receiver.received} == {report["msg_id"]}


def test_link_image_click_enter(sb: SandboxClient, receiver: Receiver, api: WeComApi) -> None:
    sb.link("alice", "https://news.example/a", title="标题", description="摘要")
    img = sb.image("alice", b"\xff\xd8\xff\xe0jpegdata")
    sb.click("alice", "todo")
    sb.enter("bob")
    link, image, click, enter = (r.fields for r in receiver.received)
    assert (link["MsgType"], link["Url"], link["Title"]) == ("link", "https://news.example/a", "标题")
    assert image["MsgType"] == "image"
    assert image["MediaId"] == img["media_id"]
    media = api.http.get(
        api.base + "media/get", params={"access_token": api.token(), "media_id": image["MediaId"]}, timeout=10
    )
    assert media.content == b"\xff\xd8\xff\xe0jpegdata"
    assert api.http.get(image["PicUrl"], timeout=10).content == b"\xff\xd8\xff\xe0jpegdata"
    assert (click["Event"], click["EventKey"]) == ("click", "todo")
    assert "MsgId" not in click
    assert (enter["Event"], enter["FromUserName"]) == ("enter_agent", "bob")


def test_click_must_match_menu_when_one_exists(sb: SandboxClient, receiver: Receiver, api: WeComApi) -> None:
    menu = {"button": [{"type": "click", "name": "待办", "key": "todo"}]}
    assert api.post("menu/create", menu, agentid=AGENT_ID)["errcode"] == 0
    with pytest.raises(SandboxError):
        sb.click("alice", "not-in-menu")
    assert sb.click("alice", "todo")["statuses"] == [200]


def test_passive_reply_is_decrypted_into_inbox(sb: SandboxClient, receiver: Receiver) -> None:
    def reply(fields: dict[str, str]) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName>"
            f"<FromUserName><![CDATA[{CORP_ID}]]></FromUserName><CreateTime>1</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[收到]]></Content></xml>"
        )

    receiver.reply = reply
    since = sb.cursor()
    report = sb.say("carol", "report this")
    assert report["reply"]["Content"] == "收到"
    got = sb.wait_for("carol", since=since, timeout=2)
    assert got[0]["passive"] is True
    assert got[0]["msgtype"] == "text"
    assert got[0]["body"]["Content"] == "收到"


def test_async_act_and_wait_for(sb: SandboxClient, receiver: Receiver) -> None:
    def reply(fields: dict[str, str]) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName><FromUserName>"
            f"<![CDATA[{CORP_ID}]]></FromUserName><CreateTime>2</CreateTime><MsgType><![CDATA[text]]>"
            "</MsgType><Content><![CDATA[later]]></Content></xml>"
        )

    receiver.reply = reply
    report = sb.say("alice", "hi", wait=False)
    assert report["queued"] is True
    got = sb.wait_for("alice", 0, timeout=5, predicate=lambda r: r["passive"])
    assert got[0]["body"]["Content"] == "later"
    with pytest.raises(TimeoutError):
        sb.wait_for("bob", sb.cursor(), timeout=0.3)


def test_verify_url(sb: SandboxClient, receiver: Receiver) -> None:
    result = sb.verify_url()
    assert result["ok"] is True
    assert result["body"] == result["expected"]
    assert not receiver.rejected


def test_verify_url_fails_on_wrong_answer(sb: SandboxClient) -> None:
    other = Receiver(token="another-token")
    try:
        sb.set_callback(other.url)
        result = sb.verify_url()
        assert result["ok"] is False
        assert result["status"] == 403
    finally:
        other.shutdown()


def test_app_may_call_the_api_while_handling_a_callback(sb: SandboxClient, receiver: Receiver, api: WeComApi) -> None:
    def answer_through_api(fields: dict[str, str]) -> None:
        api.send(fields["FromUserName"], "text", {"content": "echo: " + fields["Content"]})

    receiver.reply = answer_through_api
    since = sb.cursor()
    assert sb.say("bob", "ping")["statuses"] == [200]
    assert [r["body"]["text"]["content"] for r in sb.inbox("bob", since=since)] == ["echo: ping"]
    everyone = sb.inbox()
    assert [r["userid"] for r in everyone] == ["bob"]
    assert sb.inbox(since=everyone[-1]["seq"]) == []
