"""The bureau's 公众号 channel through the emulator over HTTP: a citizen's 留言 becomes an item with the 留言答复
clock, retries have one effect, further messages join it, the approved answer goes back by 客服消息 within 48 h,
and after that the office answers by hand and confirms (docs/intake.md, 公众号)."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from models import CitizenMessage, Clock, Item, OutboxMessage
from sandbox.mp import message_xml, open_reply, seal
from sandbox.mp_state import MP_CREDS, MpSide
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click, code_in
from tests.integration.harness import Stack

OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
REPORT = "我家小区门口的下水道堵了一个星期，污水流到路上，没人管"


@pytest.fixture()
def st(make_stack, emulator: EmulatorServer) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with [mp] pointing at the emulated 公众号, whose server URL is Liaowang's /mp/callback."""
    stack: Stack = make_stack(extra={"mp": {**MP_CREDS, "api_base": emulator.url}})
    emulator.mp.reset()
    answer = _control("post", stack, "/sandbox/mp/callback", {"url": stack.app_url + "/mp/callback"})
    assert answer["verify"]["ok"], "WeChat's server-URL check (GET with signature and echostr) passes"
    return stack


def _control(method: str, st: Stack, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    with requests.Session() as http:
        http.trust_env = False
        resp = http.request(method, st.emu.base_url + path, json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


def _citizen(st: Stack, openid: str = OPENID, replay: int = 1, **body: Any) -> dict[str, Any]:
    """The citizen sends body (text=…, image=…, link={…}) in WeChat; the office's notices are then delivered."""
    out = _control("post", st, "/sandbox/mp/say", {"openid": openid, "replay": replay, **body})
    st.drain()
    return out


def _lines(st: Stack, openid: str = OPENID) -> list[dict[str, Any]]:
    return list(_control("get", st, f"/sandbox/mp/lines/{openid}")["lines"])


def _reply_clock(st: Stack, code: str) -> Clock:
    with st.rt.sessions() as s:
        clock = s.scalar(select(Clock).join(Item).where(Item.code == code, Clock.kind == "reply_source"))
        assert clock is not None
        s.expunge(clock)
        return clock


def _answered(st: Stack, code: str, answer: str) -> None:
    """Dispatch, written report approved, the general office consulted, then the office's 回复来源."""
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    st.say("wangwu", f"书面报告 {code} 经核实，已安排疏通。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {code} {answer}")
    assert "已记录" in st.reply("chenqi"), st.reply("chenqi")


def test_a_citizens_text_becomes_a_message_item_and_they_are_told_its_number_at_once(st: Stack) -> None:
    out = _citizen(st, text=REPORT)
    assert (out["tries"], out["statuses"]) == (1, [200]), out
    assert max(out["elapsed_ms"]) < 5000, "the passive reply comes within WeChat's 5 s"
    code = code_in(out["reply"])
    assert "您的留言已收到" in out["reply"], out["reply"]
    assert "前答复您" in out["reply"], out["reply"]
    assert _lines(st)[-1]["who"] == "passive", "the citizen sees the reply in the conversation"
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        assert (item.source, item.reporter.name) == ("official_account", "局微信公众号")
    assert _reply_clock(st, code).state == "open", "the 留言答复 clock runs from the message"
    notice = next(t for t in st.texts("chenqi") if code in t)
    assert "【新舆情待交办】" in notice, notice
    assert "局微信公众号" in notice, notice
    assert OPENID not in notice, "the citizen's openid is not shown"


def test_wechats_retries_of_one_message_have_one_effect_and_the_same_reply(st: Stack) -> None:
    out = _citizen(st, replay=3, text=REPORT)
    assert out["tries"] == 3, "WeChat sent the same message three times"
    assert out["statuses"] == [200, 200, 200], out
    assert "您的留言已收到" in out["reply"], "a retry is answered with the first delivery's reply"
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
        assert s.scalar(select(func.count()).select_from(CitizenMessage)) == 1
    code = code_in(out["reply"])
    assert len([t for t in st.texts("chenqi") if code in t]) == 1, "the office is told once"


def test_further_messages_join_the_citizens_open_item_and_the_office_is_told(st: Stack) -> None:
    code = code_in(_citizen(st, text=REPORT)["reply"])
    more = _citizen(st, link={"title": "附近居民拍的视频", "description": "", "url": "https://v.douyin.com/abc123/"})
    assert "已收到您的补充，已记入" in more["reply"], more["reply"]
    assert code in more["reply"], more["reply"]
    photo = _citizen(st, image="https://mmbiz.qpic.cn/mmbiz_jpg/demo/0")
    assert code in photo["reply"], photo["reply"]
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
    told = [t for t in st.texts("chenqi") if "【市民补充留言】" in t]
    assert len(told) == 2, told
    assert "附近居民拍的视频" in told[0], told
    other = _citizen(st, openid="o_another_citizen", text="另一位市民反映：公园路灯不亮")
    assert code_in(other["reply"]) != code, "another citizen's message is an item of its own"


def test_the_approved_answer_reaches_the_citizen_by_customer_service_message_and_meets_the_clock(st: Stack) -> None:
    code = code_in(_citizen(st, text=REPORT)["reply"])
    _answered(st, code, "您反映的下水道堵塞问题已安排疏通，感谢您的监督。")
    assert "答复将通过公众号发给市民" in st.reply("chenqi"), st.reply("chenqi")
    custom = [ln for ln in _lines(st) if ln["who"] == "custom"]
    assert [ln["text"] for ln in custom] == ["您反映的下水道堵塞问题已安排疏通，感谢您的监督。"]
    assert _reply_clock(st, code).state == "met", "the clock is met once the answer reached the citizen"
    assert any("【已答复市民】" in t and code in t for t in st.texts("chenqi"))
    for userid in ("wangwu", "lisi", "zhouba"):
        assert not [t for t in st.texts(userid) if OPENID in t], "the openid never reaches units"


def test_after_48_hours_the_office_is_told_to_answer_by_hand_and_the_clock_waits_for_its_word(st: Stack) -> None:
    code = code_in(_citizen(st, text=REPORT)["reply"])
    st.later(49 * 3600)
    _answered(st, code, "您反映的问题已处理。")
    assert not [ln for ln in _lines(st) if ln["who"] == "custom"], "WeChat allows no 客服消息 after 48 h"
    hand = next(t for t in st.texts("chenqi") if "【请人工答复市民】" in t)
    for said in (code, "48 小时", OPENID, f"已答复市民 {code}"):
        assert said in hand, hand
    assert _reply_clock(st, code).state in ("open", "missed"), "not met until the office confirms"
    st.say("wangwu", f"已答复市民 {code}")
    assert "只有领导小组办公室" in st.reply("wangwu")
    st.say("chenqi", f"已答复市民 {code}")
    assert "已人工答复市民" in st.reply("chenqi"), st.reply("chenqi")
    assert _reply_clock(st, code).state in ("met", "met_late")
    st.say("chenqi", f"已答复市民 {code}")
    assert "无需再确认" in st.reply("chenqi"), "confirmed once"


def test_wechat_refusing_with_45015_sends_the_office_to_answer_by_hand(st: Stack) -> None:
    code = code_in(_citizen(st, text=REPORT)["reply"])
    _control("post", st, "/sandbox/mp/fault", {"errcode": 45015})
    _answered(st, code, "您反映的问题已处理。")
    hand = next(t for t in st.texts("chenqi") if "【请人工答复市民】" in t)
    assert "45015" in hand, hand
    with st.rt.sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "mp_send"))
        assert row is not None
        assert row.state == "failed"
    assert _reply_clock(st, code).state == "open"
    st.later(6 * 86400)
    told = [t for t in st.texts("chenqi") if "》的留言答复" in t]
    assert told, "the clock's reminders reach the office"
    assert all(f"已答复市民 {code}" in t for t in told), told


def test_a_forged_or_plain_mode_message_is_refused_and_nothing_is_stored(st: Stack) -> None:
    url = st.app_url + "/mp/callback"
    body = "<xml><ToUserName>gh_x</ToUserName><Encrypt>AAAA</Encrypt></xml>"
    query = {"signature": "0" * 40, "timestamp": "1", "nonce": "2", "encrypt_type": "aes", "msg_signature": "0" * 40}
    with requests.Session() as http:
        http.trust_env = False
        forged = http.post(url, params=query, data=body, timeout=10)
        plain = http.post(url, params={**query, "encrypt_type": "raw"}, data=body, timeout=10)
        check = http.get(
            url, params={"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "9"}, timeout=10
        )
    assert (forged.status_code, forged.text.strip()) == (403, "签名不对，已拒收。")
    assert plain.status_code == 400
    assert "安全模式" in plain.text
    assert check.status_code == 403
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CitizenMessage)) == 0


def test_a_new_follower_is_welcomed_and_no_item_is_made(st: Stack) -> None:
    welcome = _citizen(st, event="subscribe")
    assert "您可以直接发送文字、图片或链接" in welcome["reply"], welcome
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0


def test_the_citizens_phone_page_sends_a_message_and_shows_the_reply(st: Stack) -> None:
    page = st.emu.base_url + "/phone/mp"
    with requests.Session() as http:
        http.trust_env = False
        sent = http.post(page + "/send", data={"openid": "o_phone", "text": "公园的路灯坏了三天"}, timeout=30)
    assert sent.status_code == 200, "the form redirects back to the conversation"
    assert "公园的路灯坏了三天" in sent.text
    assert "您的留言已收到，编号 YQ-" in sent.text, "the passive reply is on the phone"
    assert "被动回复" in sent.text


def test_a_busy_wechat_is_tried_again_and_the_answer_still_arrives(st: Stack) -> None:
    code = code_in(_citizen(st, text=REPORT)["reply"])
    _control("post", st, "/sandbox/mp/fault", {"errcode": -1})  # 系统繁忙 once
    _answered(st, code, "您反映的问题已处理。")
    assert not [ln for ln in _lines(st) if ln["who"] == "custom"], "the first attempt was refused"
    st.later(10)
    assert [ln["text"] for ln in _lines(st) if ln["who"] == "custom"] == ["您反映的问题已处理。"], "sent once"
    assert _reply_clock(st, code).state == "met"
    assert not [t for t in st.texts("chenqi") if "【请人工答复市民】" in t]


def test_the_emulator_sends_a_message_three_times_to_a_server_that_does_not_answer(st: Stack) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections wait in the backlog: nothing ever answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/mp/callback"
        _control("post", st, "/sandbox/mp/callback", {"url": url, "reply_window": 0.3, "verify": False})
        out = _citizen(st, openid="o_silent", text="有人吗")
    finally:
        silent.close()
    assert out["statuses"] == ["timeout", "timeout", "timeout"], out
    assert _lines(st, "o_silent")[-1]["text"] == "该公众号暂时无法提供服务，请稍后再试"


def test_a_citizen_who_unfollowed_is_answered_by_hand(st: Stack) -> None:
    code = code_in(_citizen(st, text=REPORT)["reply"])
    _citizen(st, event="unsubscribe")
    _answered(st, code, "您反映的问题已处理。")
    hand = next(t for t in st.texts("chenqi") if "【请人工答复市民】" in t)
    assert "取消关注" in hand, hand
    assert not [ln for ln in _lines(st) if ln["who"] == "custom"]


def test_the_same_message_arriving_four_times_at_once_makes_one_item(st: Stack, emulator: EmulatorServer) -> None:
    xml, _key = message_xml(emulator.mp, OPENID, {"text": REPORT})
    query, body = seal(emulator.mp, xml, OPENID)

    def post(_n: int) -> requests.Response:
        with requests.Session() as http:
            http.trust_env = False
            return http.post(st.app_url + "/mp/callback", params=query, data=body.encode(), timeout=30)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    replies = {open_reply(emulator.mp, a.content, OPENID)[0] for a in answers}
    assert len(replies) == 1, replies
    assert "您的留言已收到" in str(replies.pop())
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
        assert s.scalar(select(func.count()).select_from(CitizenMessage)) == 1


def test_a_message_sealed_for_another_account_is_refused(st: Stack, emulator: EmulatorServer) -> None:
    other = MpSide(now=emulator.mp.now, app_id="wx0000000000000000")  # same token and key, another AppID
    xml, _key = message_xml(other, OPENID, {"text": REPORT})
    query, body = seal(other, xml, OPENID)
    with requests.Session() as http:
        http.trust_env = False
        answer = http.post(st.app_url + "/mp/callback", params=query, data=body.encode(), timeout=30)
    assert answer.status_code == 403
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CitizenMessage)) == 0
