"""WeCom server API behaviour: tokens, message/send validation, limits, duplicates and faults."""

from __future__ import annotations

import pytest
import requests

from sandbox.client import SandboxClient, SandboxError

from .conftest import AGENT_ID, CORP_ID, SECRET, WeComApi, card


def test_gettoken_right_and_wrong_credentials(api: WeComApi, sb: SandboxClient) -> None:
    ok = api.get("gettoken", token=False, corpid=CORP_ID, corpsecret=SECRET)
    assert ok["errcode"] == 0
    assert ok["access_token"]
    assert 0 < ok["expires_in"] <= 7200
    again = api.get("gettoken", token=False, corpid=CORP_ID, corpsecret=SECRET)
    assert again["access_token"] == ok["access_token"]
    assert api.get("gettoken", token=False, corpid=CORP_ID, corpsecret="nope")["errcode"] == 40001
    assert api.get("gettoken", token=False, corpid="wwother", corpsecret=SECRET)["errcode"] == 40013
    assert sb.stats()["gettoken"] == 4


def test_token_missing_unknown_expired_forgotten(api: WeComApi, sb: SandboxClient) -> None:
    body = {"touser": "alice", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": "hi"}}
    assert api.post("message/send", body, token=False)["errcode"] == 41001
    assert api.post("message/send", body, access_token="bogus")["errcode"] == 40014
    token = api.token()
    assert api.post("message/send", body)["errcode"] == 0
    sb.advance(7201)
    assert api.post("message/send", body, access_token=token)["errcode"] == 42001
    fresh = api.get("gettoken", token=False, corpid=CORP_ID, corpsecret=SECRET)["access_token"]
    assert fresh != token
    assert api.post("message/send", body, access_token=fresh)["errcode"] == 0
    sb.expire_tokens()
    assert api.post("message/send", body, access_token=fresh)["errcode"] == 42001
    sb.expire_tokens(forget=True)
    assert api.post("message/send", body, access_token=fresh)["errcode"] == 40014


def test_send_to_valid_and_invalid_users(api: WeComApi, sb: SandboxClient) -> None:
    answer = api.send("alice|mallory|bob", "text", {"content": "你好"})
    assert answer["errcode"] == 0
    assert answer["errmsg"] == "ok"
    assert answer["invaliduser"] == "mallory"
    assert answer["msgid"]
    alice = sb.inbox("alice")
    assert [r["body"]["text"]["content"] for r in alice] == ["你好"]
    assert alice[0]["msgid"] == answer["msgid"]
    assert alice[0]["msgtype"] == "text"
    assert len(sb.inbox("bob")) == 1
    assert sb.inbox("mallory") == []
    nobody = api.send("mallory|eve", "text", {"content": "x"})
    assert nobody["errcode"] == 81013
    assert nobody["invaliduser"] == "mallory|eve"


def test_markdown_and_textcard(api: WeComApi, sb: SandboxClient) -> None:
    assert api.send("alice", "markdown", {"content": "**bold**"})["errcode"] == 0
    tc = {"title": "舆情", "description": "<div>d</div>", "url": "https://example.com/x", "btntxt": "详情"}
    assert api.send("alice", "textcard", tc)["errcode"] == 0
    assert api.send("alice", "textcard", {"title": "t", "description": "d"})["errcode"] == 40058
    assert api.send("alice", "textcard", {**tc, "title": "长" * 43})["errcode"] == 45002
    assert [r["msgtype"] for r in sb.inbox("alice")] == ["markdown", "textcard"]


def test_shape_refusals(api: WeComApi, sb: SandboxClient) -> None:
    assert api.send("alice", "text", {"content": "x" * 2049})["errcode"] == 45002
    assert api.send("alice", "text", {"content": "字" * 683})["errcode"] == 45002
    assert api.send("alice", "text", {"content": ""})["errcode"] == 44004
    assert api.send("alice", "video_call", {"x": 1})["errcode"] == 40008
    wrong_agent = api.post(
        "message/send", {"touser": "alice", "msgtype": "text", "agentid": 1, "text": {"content": "x"}}
    )
    assert wrong_agent["errcode"] == 40056
    raw = api.http.post(
        api.base + "message/send", params={"access_token": api.token()}, data=b"{not json", timeout=10
    ).json()
    assert raw["errcode"] == 47001
    seven = card("t7", keys=tuple(f"k{i}" for i in range(7)))
    answer = api.send("alice", "template_card", seven)
    assert answer["errcode"] == 40058
    assert "button_list" in answer["errmsg"]
    no_task = card("x")
    del no_task["task_id"]
    assert api.send("alice", "template_card", no_task)["errcode"] == 42014  # WeCom: "taskid … empty"
    assert api.send("alice", "template_card", card("bad task id!"))["errcode"] == 42014
    assert api.send("alice", "template_card", card("x" * 129))["errcode"] == 42014
    nokey = card("nokey")
    del nokey["button_list"][0]["key"]
    assert api.send("alice", "template_card", nokey)["errcode"] == 40058
    longkey = card("longkey", keys=("k" * 1025,))
    assert api.send("alice", "template_card", longkey)["errcode"] == 40058
    url_button = card("urlbtn", keys=("ok",))
    url_button["button_list"].append({"type": 1, "text": "open", "url": "https://example.com"})
    assert api.send("alice", "template_card", url_button)["errcode"] == 0
    assert api.send("alice", "template_card", {"card_type": "weird", "task_id": "w"})["errcode"] == 40058
    assert (
        api.send("alice", "template_card", {"card_type": "text_notice", "main_title": {"title": "t"}})["errcode"]
        == 40058
    )  # text_notice needs card_action
    assert len(sb.inbox("alice")) == 1


def test_duplicate_task_id_refused(api: WeComApi, sb: SandboxClient) -> None:
    assert api.send("alice", "template_card", card("task-1"))["errcode"] == 0
    again = api.send("bob", "template_card", card("task-1"))
    assert again["errcode"] == 42014
    assert "taskid has existed" in again["errmsg"]
    assert sb.inbox("bob") == []


def test_per_person_limit_silently_drops(api: WeComApi, sb: SandboxClient) -> None:
    for i in range(31):
        answer = api.send("alice|bob" if i == 30 else "alice", "text", {"content": f"m{i}"})
        assert answer["errcode"] == 0
    assert len(sb.inbox("alice")) == 30
    assert len(sb.inbox("bob")) == 1
    stats = sb.stats()
    assert stats["dropped"] == {"alice": 1}
    assert stats["dropped_total"] == 1
    sb.advance(61)
    api.send("alice", "text", {"content": "after a minute"})
    assert sb.inbox("alice")[-1]["body"]["text"]["content"] == "after a minute"


def test_duplicate_check(api: WeComApi, sb: SandboxClient) -> None:
    flags = {"enable_duplicate_check": 1, "duplicate_check_interval": 600}
    for _ in range(3):
        assert api.send("alice", "text", {"content": "same"}, **flags)["errcode"] == 0
    assert api.send("alice", "text", {"content": "other"}, **flags)["errcode"] == 0
    assert api.send("alice", "text", {"content": "same"})["errcode"] == 0  # no check asked
    assert [r["body"]["text"]["content"] for r in sb.inbox("alice")] == ["same", "other", "same"]
    assert sb.stats()["duplicates_suppressed"] == 2
    sb.advance(601)
    api.send("alice", "text", {"content": "same"}, **flags)
    assert len(sb.inbox("alice")) == 4


def test_faults_consumed_by_count(api: WeComApi, sb: SandboxClient) -> None:
    api.token()
    sb.fault("message/send", errcode=45009, times=2)
    results = [api.send("alice", "text", {"content": str(i)}) for i in range(3)]
    assert [r["errcode"] for r in results] == [45009, 45009, 0]
    assert results[0]["errmsg"] == "api freq out of limit"
    assert len(sb.inbox("alice")) == 1
    sb.fault("*", http_status=502, times=1)
    resp = api.http.get(api.base + "gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET}, timeout=5)
    assert resp.status_code == 502
    assert api.get("gettoken", token=False, corpid=CORP_ID, corpsecret=SECRET)["errcode"] == 0
    sb.fault("message/send", delay=3, times=1)  # a slow WeCom: the caller gives up, the message still arrives
    since = sb.cursor()
    body = {"touser": "alice", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": "slow"}}
    with pytest.raises(requests.Timeout):
        api.http.post(api.base + "message/send", json=body, params={"access_token": api.token()}, timeout=0.3)
    assert [r["body"]["text"]["content"] for r in sb.wait_for("alice", since, timeout=10)] == ["slow"]
    assert api.send("alice", "text", {"content": "fast"})["errcode"] == 0, "the delay was used up"
    sb.fault("message/send", delay=0.5, when="before", times=1)  # lost on the way: WeCom never saw it
    since = sb.cursor()
    lost = api.http.post(
        api.base + "message/send",
        json={**body, "text": {"content": "lost"}},
        params={"access_token": api.token()},
        timeout=5,
    )
    assert lost.status_code == 504
    assert api.send("alice", "text", {"content": "after the loss"})["errcode"] == 0
    assert [r["body"]["text"]["content"] for r in sb.inbox("alice", since)] == ["after the loss"]
    sb.fault("message/send", errcode=-1, times=5)
    sb.clear_faults()
    assert api.send("alice", "text", {"content": "clear"})["errcode"] == 0
    assert sb.stats()["calls"]["message/send"] == 8


def test_user_get_and_unknown_api(api: WeComApi) -> None:
    alice = api.get("user/get", userid="alice")
    assert alice["errcode"] == 0
    assert alice["name"] == "Alice"
    assert api.get("user/get", userid="mallory")["errcode"] == 60111
    assert api.get("no/such/api")["errcode"] == 48001


@pytest.mark.parametrize(
    "fault", [{"delay": 1, "when": "sometimes"}, {"errcode": -1, "rate": 0}, {"errcode": -1, "rate": 1.5}, {}]
)
def test_a_fault_that_makes_no_sense_is_refused(
    api: WeComApi,
    sb: SandboxClient,
    fault: dict,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(SandboxError):
        sb.fault("message/send", **fault)
    assert api.send("alice", "text", {"content": "no fault was installed"})["errcode"] == 0
