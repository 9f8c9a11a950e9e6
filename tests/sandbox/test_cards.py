"""Template cards: response codes, update_template_card rules and card clicks as callbacks."""

from __future__ import annotations

import pytest

from sandbox.client import SandboxClient, SandboxError

from .conftest import AGENT_ID, CORP_ID, Receiver, WeComApi, card


def update(api: WeComApi, code: str, name: str = "已同意", **extra: object) -> dict:
    """Call update_template_card replacing the button name."""
    body = {"agentid": AGENT_ID, "response_code": code, "button": {"replace_name": name}, **extra}
    return api.post("message/update_template_card", body)


def test_interactive_card_gets_response_codes(api: WeComApi, sb: SandboxClient) -> None:
    answer = api.send("alice|bob", "template_card", card("task-a"))
    assert answer["errcode"] == 0
    assert answer["response_code"]
    alice, bob = sb.inbox("alice")[0], sb.inbox("bob")[0]
    assert alice["task_id"] == "task-a"
    assert alice["response_code"] != bob["response_code"]
    notice = {
        "card_type": "text_notice",
        "main_title": {"title": "t"},
        "card_action": {"type": 1, "url": "https://example.com"},
    }
    plain = api.send("alice", "template_card", notice)
    assert plain["errcode"] == 0
    assert "response_code" not in plain


def test_update_is_single_use_and_updates_all_recipients(api: WeComApi, sb: SandboxClient) -> None:
    code = api.send("alice|bob", "template_card", card("task-b"))["response_code"]
    since = sb.cursor()
    answer = update(api, code)
    assert answer == {"errcode": 0, "errmsg": "ok", "invaliduser": []}
    changed = sb.wait_for("bob", since=since, timeout=2)
    assert changed[0]["replaced_button"] == "已同意"
    assert changed[0]["updates"][0]["kind"] == "button"
    assert sb.inbox("alice")[0]["replaced_button"] == "已同意"
    again = update(api, code, name="again")
    assert again["errcode"] == 40148
    assert again["errmsg"] == "response_code used"
    assert update(api, "never-issued")["errcode"] == 40148


def test_update_for_named_users_and_whole_card(api: WeComApi, sb: SandboxClient) -> None:
    api.send("alice|bob", "template_card", card("task-c"))
    code_alice = sb.inbox("alice")[0]["response_code"]
    answer = update(api, code_alice, userids=["alice", "mallory"])
    assert answer["invaliduser"] == ["mallory"]
    assert sb.inbox("alice")[0]["replaced_button"] == "已同意"
    assert sb.inbox("bob")[0]["replaced_button"] is None
    new_card = {
        "card_type": "text_notice",
        "main_title": {"title": "已处理"},
        "card_action": {"type": 1, "url": "https://example.com"},
    }
    code_bob = sb.inbox("bob")[0]["response_code"]
    body = {"agentid": AGENT_ID, "response_code": code_bob, "userids": ["bob"], "template_card": new_card}
    assert api.post("message/update_template_card", body)["errcode"] == 0
    bob = sb.inbox("bob")[0]
    assert bob["card"]["main_title"]["title"] == "已处理"
    assert bob["card"]["task_id"] == "task-c"
    assert bob["body"]["template_card"]["card_type"] == "button_interaction"  # as sent, kept


def test_response_code_expires_after_24h(api: WeComApi, sb: SandboxClient) -> None:
    code = api.send("alice", "template_card", card("task-d"))["response_code"]
    sb.advance(24 * 3600 + 1)
    api.forget_token()  # the clock jump expired the access token too
    answer = update(api, code)
    assert answer["errcode"] == 40148
    assert answer["errmsg"] == "response_code expired"


def test_update_refuses_bad_agentid(api: WeComApi) -> None:
    code = api.send("alice", "template_card", card("task-e"))["response_code"]
    body = {"agentid": 999, "response_code": code, "button": {"replace_name": "x"}}
    assert api.post("message/update_template_card", body)["errcode"] == 40056
    assert update(api, code)["errcode"] == 0  # a refused call does not use the code


def test_card_click_event_and_its_response_code(api: WeComApi, sb: SandboxClient, receiver: Receiver) -> None:
    api.send("alice", "template_card", card("task-f"))
    report = sb.card_click("alice", "task-f", "approve")
    assert report["tries"] == 1
    assert report["statuses"] == [200]
    got = receiver.received[0].fields
    assert got["MsgType"] == "event"
    assert got["Event"] == "template_card_event"
    assert (got["FromUserName"], got["ToUserName"], got["AgentID"]) == ("alice", CORP_ID, str(AGENT_ID))
    assert (got["EventKey"], got["TaskId"], got["CardType"]) == ("approve", "task-f", "button_interaction")
    assert got["ResponseCode"] == report["response_code"]
    assert "MsgId" not in got
    assert "<SelectedItems></SelectedItems>" in receiver.received[0].xml
    assert update(api, got["ResponseCode"], name="已同意")["errcode"] == 0
    assert update(api, got["ResponseCode"])["errmsg"] == "response_code used"
    with pytest.raises(SandboxError) as replaced:
        sb.card_click("alice", "task-f", "reject")
    assert replaced.value.status == 400


def test_card_click_refuses_what_wecom_never_sends(api: WeComApi, sb: SandboxClient, receiver: Receiver) -> None:
    api.send("alice", "template_card", card("task-g"))
    for userid, task_id, key in (
        ("bob", "task-g", "approve"),
        ("alice", "task-g", "nope"),
        ("alice", "task-zz", "approve"),
    ):
        with pytest.raises(SandboxError) as err:
            sb.card_click(userid, task_id, key)
        assert err.value.status == 400
    assert receiver.received == []


def test_passive_update_button_reply(api: WeComApi, sb: SandboxClient, receiver: Receiver) -> None:
    api.send("alice", "template_card", card("task-h"))

    def reply(fields: dict[str, str]) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName><FromUserName><![CDATA["
            f"{CORP_ID}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[update_button]]>"
            "</MsgType><Button><ReplaceName><![CDATA[处理中]]></ReplaceName></Button></xml>"
        )

    receiver.reply = reply
    report = sb.card_click("alice", "task-h", "approve")
    assert report["reply"]["MsgType"] == "update_button"
    assert sb.inbox("alice")[0]["replaced_button"] == "处理中"
