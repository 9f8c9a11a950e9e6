"""The callback refuses what WeCom would never send, and changes nothing when it does."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.crypto import signature
from core import clock
from models import AuditEvent, Item, OutboxMessage, ProcessedCallback
from tests.integration.harness import CREDS, Stack

URL_PATH = "/wecom/callback"


def _stamp() -> str:
    """Return the callback timestamp WeCom would send now (the test instant)."""
    return str(int(clock.now().timestamp()))


def _inner(
    userid: str = "zhangsan",
    content: str = "上报 测试",
    msg_id: str = "7001",
    corp: str | None = None,
    agent: int | None = None,
) -> str:
    agent_id = CREDS["agent_id"] if agent is None else agent
    return (
        f"<xml><ToUserName><![CDATA[{corp or CREDS['corp_id']}]]></ToUserName>"
        f"<FromUserName><![CDATA[{userid}]]></FromUserName><CreateTime>{_stamp()}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>"
    )


def _envelope(
    inner: str, corp: str | None = None, token: str | None = None, stamp: str | None = None
) -> tuple[bytes, dict[str, str]]:
    crypto = WeChatCrypto(token or CREDS["token"], CREDS["encoding_aes_key"], corp or CREDS["corp_id"])
    stamp = stamp or _stamp()
    out = crypto.encrypt_message(inner, "12345", stamp)
    enc = out.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    sig = signature(token or CREDS["token"], stamp, "12345", enc)
    body = f"<xml><ToUserName><![CDATA[{CREDS['corp_id']}]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return body.encode(), {"msg_signature": sig, "timestamp": stamp, "nonce": "12345"}


def _counts(stack: Stack) -> tuple[int, int, int, int]:
    with stack.rt.sessions() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) or 0  # type: ignore[return-value]
            for t in (Item, OutboxMessage, ProcessedCallback, AuditEvent)
        )


def _post(stack: Stack, body: bytes, params: dict[str, str]) -> requests.Response:
    return requests.post(
        stack.app_url + URL_PATH, params=params, data=body, timeout=5, headers={"Content-Type": "text/xml"}
    )


def test_a_valid_signed_callback_is_accepted(stack: Stack) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner())
    assert _post(stack, body, params).status_code == 200
    stack.drain()
    assert _counts(stack)[0] == before[0] + 1


def test_forged_signature_is_403_and_changes_nothing(stack: Stack) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner())
    params["msg_signature"] = "0" * 40
    assert _post(stack, body, params).status_code == 403
    body, params = _envelope(_inner(), token="AnotherToken")
    assert _post(stack, body, params).status_code == 403
    assert _counts(stack) == before


def test_wrong_corp_id_is_403_and_changes_nothing(stack: Stack) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner(corp="wwsomebodyelse000"), corp="wwsomebodyelse000")
    assert _post(stack, body, params).status_code == 403
    assert _counts(stack) == before


@pytest.mark.parametrize(
    "offset", [-10 * 365 * 86400, -601, 601, 10 * 365 * 86400], ids=["2016", "11min-old", "11min-ahead", "2036"]
)
def test_a_validly_signed_callback_outside_the_time_window_is_403_and_changes_nothing(
    stack: Stack, offset: int
) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner(), stamp=str(int(clock.now().timestamp()) + offset))
    refused = _post(stack, body, params)
    assert refused.status_code == 403
    assert "时间戳" in refused.text
    stack.drain()
    assert _counts(stack) == before


def test_a_callback_signed_nine_minutes_ago_is_still_accepted(stack: Stack) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner(msg_id="7009"), stamp=str(int(clock.now().timestamp()) - 540))
    assert _post(stack, body, params).status_code == 200
    stack.drain()
    assert _counts(stack)[0] == before[0] + 1


def test_another_apps_agent_id_is_403_and_changes_nothing(stack: Stack) -> None:
    before = _counts(stack)
    for agent in (1000099, 0):
        body, params = _envelope(_inner(agent=agent))
        refused = _post(stack, body, params)
        assert refused.status_code == 403, agent
        assert "AgentID" in refused.text
    stack.drain()
    assert _counts(stack) == before


def test_malformed_xml_and_missing_params_are_400(stack: Stack) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner())
    assert _post(stack, b"<xml><Encrypt>abc", params).status_code == 400
    assert _post(stack, b"not xml at all", params).status_code == 400
    assert _post(stack, b"<xml><Other>1</Other></xml>", params).status_code == 400
    assert _post(stack, body, {}).status_code == 400
    inner_bad = "<xml><FromUserName>zhangsan</FromUserName></xml>"
    body, params = _envelope(inner_bad)
    assert _post(stack, body, params).status_code == 400
    assert _counts(stack) == before


def test_entity_bomb_is_refused_outer_and_inner(stack: Stack) -> None:
    before = _counts(stack)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><Encrypt>&c;</Encrypt></xml>'
    )
    _, params = _envelope(_inner())
    assert _post(stack, bomb.encode(), params).status_code == 400
    inner = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        "<xml><ToUserName>x</ToUserName><FromUserName>zhangsan</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&b;</Content><MsgId>99</MsgId></xml>"
    )
    body, params = _envelope(inner)
    assert _post(stack, body, params).status_code == 400
    ext = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>'
    )
    assert _post(stack, ext.encode(), params).status_code == 400
    assert _counts(stack) == before


def test_oversized_body_is_413(stack: Stack) -> None:
    before = _counts(stack)
    body, params = _envelope(_inner(content="上报 " + "长" * 30000))
    assert len(body) > 64 * 1024
    assert _post(stack, body, params).status_code == 413
    assert _counts(stack) == before


def test_url_verification_echoes_plaintext_and_refuses_forgery(stack: Stack) -> None:
    result = stack.emu.verify_url()
    assert result["ok"], result
    r = requests.get(
        stack.app_url + URL_PATH,
        params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "abc"},
        timeout=5,
    )
    assert r.status_code == 403
    bare = requests.get(stack.app_url + URL_PATH, timeout=5)  # the address opened in a browser
    assert bare.status_code == 200
    assert "回调地址" in bare.text
    assert requests.get(stack.app_url + URL_PATH, params={"echostr": "abc"}, timeout=5).status_code == 400


def test_outsider_gets_one_polite_reply_and_nothing_is_recorded(stack: Stack) -> None:
    before = _counts(stack)
    out = stack.say("outsider", "上报 我也想报一条")
    assert out["statuses"] == [200]
    assert _counts(stack) == before
    assert len(stack.inbox("outsider")) == 1
    assert "不在瞭望系统的组织名单中" in stack.last("outsider")


def test_three_deliveries_of_one_callback_have_one_effect(stack: Stack) -> None:
    stack.say("zhangsan", "上报 同一条消息被企业微信重试三次", replay=3)
    with stack.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
    assert len(stack.inbox("zhangsan")) == 1
    assert len(stack.inbox("chenqi")) == 1


def test_three_deliveries_of_a_card_click_acknowledge_once(stack: Stack) -> None:
    stack.say("zhangsan", "上报 卡片重试")
    code = stack.last("zhangsan").split("编号 ")[1].split("。")[0]
    stack.say("chenqi", f"交办 {code} 执法一队")
    card = stack.inbox("wangwu")[-1]["body"]["template_card"]
    stack.emu.card_click("wangwu", card["task_id"], card["button_list"][0]["key"], replay=3)
    stack.drain()
    assert sum(t.startswith("已签收") for t in stack.texts("wangwu")) == 1
    assert sum("【已签收】" in t for t in stack.texts("chenqi")) == 1


def test_the_same_callback_arriving_concurrently_is_stored_once(stack: Stack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body, params = _envelope(_inner(content="上报 并发重试", msg_id="88001"))
    others = [_envelope(_inner(content=f"帮助{i}", msg_id=f"8810{i}")) for i in range(10)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda bp: _post(stack, *bp).status_code, [(body, params)] * 6 + others))
    assert codes == [200] * 16
    stack.drain()
    with stack.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
        assert s.scalar(select(func.count()).select_from(ProcessedCallback)) == 11
