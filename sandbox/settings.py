"""Configuration of one emulated WeCom corp with one self-built app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class EmulatorSettings:
    """The app's identity and secrets as WeCom knows them, plus callback delivery tuning."""

    corp_id: str
    agent_id: int
    secret: str
    token: str
    encoding_aes_key: str
    callback_url: str | None = None
    callback_timeout: float = 5.0
    callback_tries: int = 3
    verify_timeout: float = 1.0
    app_name: str = "瞭望"
    notice: str = ""
    redirect_domain: str = "127.0.0.1"  # 可信域名: where OAuth may redirect (agent/get reports it)
    visibility_root: bool = True  # the app's 可见范围 is the root department: WeCom allows appchat/create only then
    clock_shift: float = 0.0  # seconds the emulated WeCom's clock runs ahead of real time (LIAOWANG_NOW)
    time_source: Callable[[], float] | None = None  # unix seconds instead of the real clock (tests share theirs)
