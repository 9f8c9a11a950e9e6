"""Send the office's answer to a 公众号 citizen by 客服消息 (POST /cgi-bin/message/custom/send), from the outbox.

jobs.deliver claims the row (kind "mp_send") and hands it here. WeChat allows 客服消息 to a citizen only within 48 h
of their last message (errcode 45015 after that): past the window, or on 45015 (or another refusal that a retry
cannot mend), the row fails and the office is told to answer by hand; a network failure or a stale token is retried
with the outbox's backoff. A send whose outcome was unknown may reach the citizen twice: WeChat has no duplicate
check for 客服消息 (docs/intake.md).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import update
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from core import clock
from core.config import MpConfig
from core.runtime import Runtime
from core.wecom import WecomError
from jobs.deliver import _failed
from models import Item, OutboxMessage
from models.state import OutboxState
from workflow.incident import citizen

log = logging.getLogger(__name__)
OUT_OF_TIME = 45015  # response out of time limit or subscription is canceled
TOKEN_ERRORS = (40001, 40014, 42001)
_clients: dict[str, WeChatClient] = {}
_lock = threading.Lock()


class MpClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's official-account client pointed at [mp] api_base, its token shared through Redis, no auto retry."""

    def __init__(self, cfg: MpConfig, storage: RedisStorage) -> None:
        super().__init__(cfg.app_id, cfg.app_secret, session=storage, timeout=cfg.timeout, auto_retry=False)
        self.API_BASE_URL = cfg.api_base + "/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        """GET <api_base>/cgi-bin/token (wechatpy's own asks the real host whatever the base)."""
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        result: dict[str, Any] = self._fetch_access_token(url=self.API_BASE_URL + "token", params=params)
        return result


def client(rt: Runtime) -> MpClient:
    """This process's client for [mp] (one per app id)."""
    cfg = rt.config.mp
    if cfg is None:
        raise WecomError(None, "[mp] is not configured")
    with _lock:
        found = _clients.get(cfg.app_id)
        if found is None or cfg.api_base + "/cgi-bin/" != found.API_BASE_URL:
            found = MpClient(cfg, RedisStorage(rt.redis, prefix="liaowang:mp"))
            _clients[cfg.app_id] = found
        return found


def _send(rt: Runtime, openid: str, text: str) -> dict[str, Any]:
    """One 客服消息; WecomError for a refusal (errcode) or a network failure (None)."""
    api = client(rt)
    try:
        answer: dict[str, Any] = api.message.send_text(openid, text)
        return answer
    except WeChatClientException as exc:
        if exc.errcode in TOKEN_ERRORS:
            api.session.delete(api.access_token_key)  # the next attempt fetches a new token
        raise WecomError(exc.errcode, str(exc.errmsg or "")) from None
    except requests.RequestException as exc:
        raise WecomError(None, type(exc).__name__) from None


def deliver(rt: Runtime, row: OutboxMessage) -> str:
    """Send claimed outbox row (kind mp_send) to its citizen; return "sent", "retry" or "failed" (office told)."""
    now = clock.now()
    with rt.sessions() as s:
        to = citizen.recipient(s, int(row.payload["message"]))
    if to is None or row.item_id is None:
        _give_up(rt, row, None, "", "找不到这位市民的留言记录", now)
        return "failed"
    if to.unfollowed:
        _give_up(rt, row, to.openid, "市民已取消关注公众号，微信不再允许发消息给他。", "unfollowed", now)
        return "failed"
    if now >= to.until:
        last = clock.show(to.until, True)
        why = f"市民最后一次留言已超过 48 小时（截至 {last}），微信不再允许通过公众号主动发消息给他。"
        _give_up(rt, row, to.openid, why, "window passed", now)
        return "failed"
    try:
        answer = _send(rt, to.openid, str(row.payload["text"]))
    except WecomError as exc:
        if exc.errcode == OUT_OF_TIME:
            why = "微信拒绝了这条答复（45015：超过 48 小时互动时限，或市民已取消关注）。"
            _give_up(rt, row, to.openid, why, str(exc), now)
            return "failed"
        if exc.errcode is None or exc.errcode in TOKEN_ERRORS or exc.errcode == -1:  # worth another attempt
            outcome = _failed(row.id, row.attempts, WecomError(None, str(exc)), row.kind)
            if outcome == "failed":  # the attempts are used up: the office answers by hand
                why = f"多次发送都没有成功（最后一次：{exc.errmsg or '网络故障'}）。"
                _give_up(rt, row, to.openid, why, str(exc), now, mark=False)
            return outcome
        _give_up(rt, row, to.openid, f"微信拒绝了这条答复（{exc.errcode}：{exc.errmsg}）。", str(exc), now)
        return "failed"
    _sent(rt, row, answer)
    log.info("mp answer of outbox %s sent", row.id)
    return "sent"


def _sent(rt: Runtime, row: OutboxMessage, answer: dict[str, Any]) -> None:
    """Mark the row sent and meet the item's 留言答复 clock in one transaction (never one without the other)."""
    now = clock.now()
    with rt.sessions() as s, s.begin():
        values = {"state": OutboxState.sent, "sent_at": now, "msgid": str(answer.get("msgid") or "")}
        s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))
        item = s.get(Item, row.item_id)
        if item is not None:
            citizen.delivered(s, item, now)


def _give_up(
    rt: Runtime, row: OutboxMessage, openid: str | None, why: str, note: str, at: datetime, mark: bool = True
) -> None:
    """Mark the row failed (unless mark is False: already done) and, when there is a citizen to answer, tell the
    office to answer by hand."""
    with rt.sessions() as s, s.begin():
        stored = s.get(OutboxMessage, row.id)
        if stored is not None and mark:
            stored.state, stored.last_error = OutboxState.failed, note[:500]
        item = s.get(Item, row.item_id) if row.item_id is not None else None
        if item is not None and openid:
            citizen.by_hand(s, item, openid, why, at)
    log.warning("mp answer of outbox %s not sent: %s", row.id, note)
