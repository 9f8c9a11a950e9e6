"""Helpers for flow tests: items through report and dispatch, cards in inboxes, clicks (real and forged)."""

from __future__ import annotations

import re
import time
from typing import Any

import requests
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.crypto import signature
from core import clock
from models import AuditEvent, Item
from tests.integration.harness import CREDS, Stack


def code_in(text: str) -> str:
    """Return the first 编号 in text."""
    m = re.search(r"YQ-\d{8}-\d{3}", text)
    assert m, text
    return m.group(0)


def dispatched(st: Stack, units: str = "执法一队", grade: str = "较大", reporter: str = "zhangsan") -> str:
    """Report an item as reporter and have the office dispatch it; return its 编号."""
    st.say(reporter, "上报 网传执法人员与商户发生冲突的视频 https://weibo.com/9/" + str(time.monotonic_ns()))
    code = code_in(st.last(reporter))
    st.say("chenqi", f"交办 {code} {units} {grade}")
    return code


def item_of(st: Stack, code: str) -> Item:
    """Return item code as it is in the database now (detached)."""
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        s.expunge(item)
        return item


def cards(st: Stack, userid: str, source: str) -> list[dict[str, Any]]:
    """Return the template cards userid received whose source line contains source, oldest first."""
    return [
        r
        for r in st.inbox(userid)
        if r["msgtype"] == "template_card" and source in r["body"]["template_card"].get("source", {}).get("desc", "")
    ]


def buttons(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a card's buttons by their text."""
    return {b["text"]: b for b in record["body"]["template_card"]["button_list"]}


def click(st: Stack, userid: str, record: dict[str, Any], text: str, replay: int = 1) -> None:
    """Click the button named text on record as userid (through the emulator), then work the queue."""
    key = buttons(record)[text]["key"]
    st.emu.card_click(userid, record["body"]["template_card"]["task_id"], key, replay=replay)
    st.drain()


def current(st: Stack, userid: str, record: dict[str, Any]) -> dict[str, Any]:
    """Return record as userid sees it now (after card updates)."""
    return next(r for r in st.inbox(userid) if r["msgid"] == record["msgid"])


def forged_click(st: Stack, userid: str, task_id: str, key: str) -> requests.Response:
    """Deliver a correctly signed template_card_event from userid for a card they never received."""
    stamp = str(int(clock.now().timestamp()))
    inner = (
        f"<xml><ToUserName><![CDATA[{CREDS['corp_id']}]]></ToUserName>"
        f"<FromUserName><![CDATA[{userid}]]></FromUserName><CreateTime>{stamp}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
        "<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[forged]]></ResponseCode>"
        f"<AgentID>{CREDS['agent_id']}</AgentID></xml>"
    )
    crypto = WeChatCrypto(CREDS["token"], CREDS["encoding_aes_key"], CREDS["corp_id"])
    out = crypto.encrypt_message(inner, "424242", stamp)
    enc = out.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    params = {"msg_signature": signature(CREDS["token"], stamp, "424242", enc), "timestamp": stamp, "nonce": "424242"}
    body = f"<xml><ToUserName><![CDATA[{CREDS['corp_id']}]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    res = requests.post(st.app_url + "/wecom/callback", params=params, data=body.encode(), timeout=5)
    st.drain()
    return res


def step_texts(st: Stack, code: str, action: str) -> list[str]:
    """The texts recorded for item code by the steps of one kind (first_report, reply_source …), oldest first."""
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [str((r.detail or {}).get("text", "")) for r in rows]
