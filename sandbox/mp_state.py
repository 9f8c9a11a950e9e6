"""The emulated 公众号 (official account): its identity, followers, tokens and every citizen's conversation.

What WeChat does and the emulator copies: safe-mode crypto (AES with the EncodingAESKey, `msg_signature`), the
message XML, a 5 s window for the passive reply with the same message sent again when there is no answer (3 sends in
all), access_token by AppID/AppSecret, and 客服消息 (message/custom/send) allowed only within 48 h of the citizen's
last message (errcode 45015 after that).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MP_CREDS = {
    "app_id": "wx5a1b2c3d4e5f6a7b",
    "app_secret": "mp-sandbox-secret-0123456789abcdef",
    "token": "mpsandboxtoken",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
ORIGINAL_ID = "gh_5a1b2c3d4e5f"  # the account's 原始 ID: ToUserName of every message
WINDOW = 48 * 3600  # 客服消息 may reach a citizen this long after their last message
TOKEN_LIFETIME = 7200
REPLY_WINDOW = 5.0  # seconds WeChat waits for the passive reply
SENDS = 3  # WeChat sends a message this many times in all when it gets no answer
UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"  # what WeChat shows the citizen when the server did not answer


@dataclass
class Line:
    """One line of a citizen's conversation: who said it (citizen, passive, custom, wechat), what, when."""

    seq: int
    who: str
    text: str
    at: float
    kind: str = "text"

    def as_json(self) -> dict[str, Any]:
        """The line as JSON."""
        return dict(self.__dict__)


@dataclass
class MpSide:
    """All of the emulated 公众号's state; every access goes through lock."""

    now: Callable[[], float]
    app_id: str = MP_CREDS["app_id"]
    app_secret: str = MP_CREDS["app_secret"]
    token: str = MP_CREDS["token"]
    encoding_aes_key: str = MP_CREDS["encoding_aes_key"]
    reply_window: float = REPLY_WINDOW
    lock: threading.RLock = field(default_factory=threading.RLock)
    callback_url: str | None = None
    tokens: dict[str, float] = field(default_factory=dict)
    last_said: dict[str, float] = field(default_factory=dict)  # openid → when they last sent a message
    lines: dict[str, list[Line]] = field(default_factory=dict)
    faults: list[int] = field(default_factory=list)  # errcodes the next custom/send calls answer with
    calls: dict[str, int] = field(default_factory=dict)
    seq: int = 0
    msg_id: int = field(default_factory=lambda: secrets.randbits(62) | (1 << 62))

    def reset(self) -> None:
        """Forget followers, conversations, tokens and faults (the callback URL stays)."""
        with self.lock:
            self.tokens, self.last_said, self.lines, self.faults, self.calls = {}, {}, {}, [], {}
            self.reply_window = REPLY_WINDOW

    def add(self, openid: str, who: str, text: str, kind: str = "text") -> Line:
        """Append a line to openid's conversation."""
        with self.lock:
            self.seq += 1
            line = Line(self.seq, who, text, self.now(), kind)
            self.lines.setdefault(openid, []).append(line)
            return line

    def said(self, openid: str) -> str:
        """The citizen sent a message now: a new MsgId, and their 48 h window starts again."""
        with self.lock:
            self.last_said[openid] = self.now()
            self.msg_id += 1
            return str(self.msg_id)

    def interacted(self, openid: str, event: str) -> None:
        """An event: following or a menu click opens the 48 h window as a message does; unfollowing closes it."""
        with self.lock:
            if event == "unsubscribe":
                self.last_said.pop(openid, None)
            else:
                self.last_said[openid] = self.now()

    def count(self, api: str) -> None:
        """Count one call of api (for tests and the control page)."""
        with self.lock:
            self.calls[api] = self.calls.get(api, 0) + 1

    def new_token(self) -> str:
        """Issue an access_token valid for TOKEN_LIFETIME."""
        with self.lock:
            token = "mp_" + secrets.token_urlsafe(24)
            self.tokens[token] = self.now() + TOKEN_LIFETIME
            return token

    def token_error(self, token: str | None) -> tuple[int, str] | None:
        """(errcode, errmsg) if token is not a live access_token, else None."""
        with self.lock:
            until = self.tokens.get(token or "")
        if until is None:
            return 40001, "invalid credential, access_token is invalid or not latest"
        if until <= self.now():
            return 42001, "access_token expired"
        return None

    def may_send(self, openid: str) -> bool:
        """True if 客服消息 may reach openid now: within 48 h of their last message."""
        with self.lock:
            last = self.last_said.get(openid)
        return last is not None and self.now() - last <= WINDOW
