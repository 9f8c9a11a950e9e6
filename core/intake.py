"""The signed intake API's configuration ([intake], [intake.sources.<key>]) and its signature (HMAC-SHA256).

A source is configured as `[intake.sources.<key>]` with `name`, `secret` and optional `category` (an item source key
such as "discovery") and `grade` ("general", "significant", "major"); each of its keys can also be set (or a whole
source defined) from the environment as LIAOWANG_INTAKE_SOURCES_<KEY>_<FIELD>. A request is signed over
"<timestamp>.<raw body>" with the source's secret: `X-Liaowang-Signature: sha256=<hex>` (docs/intake.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Any

FIELDS = ("name", "secret", "category", "grade")
CATEGORIES = ("discovery", "disclosure", "cac", "official_account", "message_board", "media")
GRADES = ("general", "significant", "major")
WINDOW = 300  # seconds a signed timestamp may differ from now, either way
KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_ENV = re.compile(r"LIAOWANG_INTAKE_SOURCES_([A-Z0-9_-]+)_(NAME|SECRET|CATEGORY|GRADE)")


@dataclass(frozen=True)
class Source:
    """One system allowed to push items: its key (in the URL), name (shown to people), secret and defaults."""

    key: str
    name: str
    secret: str
    category: str = "discovery"
    grade: str | None = None


@dataclass(frozen=True)
class Limits:
    """[intake] limits: the largest body in bytes and requests per source per minute."""

    max_bytes: int = 256 * 1024
    per_minute: int = 60


def _env_sources(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """[intake.sources] with every LIAOWANG_INTAKE_SOURCES_<KEY>_<FIELD> applied (a source may come from there)."""
    sources = {str(k): dict(v) for k, v in (raw.get("intake", {}).get("sources") or {}).items() if isinstance(v, dict)}
    for name, value in os.environ.items():
        if m := _ENV.fullmatch(name):
            sources.setdefault(m.group(1).lower(), {})[m.group(2).lower()] = value
    return sources


def sources(raw: dict[str, Any]) -> dict[str, Source]:
    """The configured sources by key; raise ValueError naming the key of the first problem."""
    out = {}
    for key, spec in _env_sources(raw).items():
        where = f"[intake.sources.{key}]"
        if not KEY.fullmatch(key):
            raise ValueError(f"{where} 的 key 只能用小写字母、数字、- 和 _（不超过 32 个字符）")
        name, secret = str(spec.get("name", "")).strip(), str(spec.get("secret", ""))
        if not name or len(name) > 32:
            raise ValueError(f"{where} name 须是 1～32 个字的名称，如 “某舆情监测平台”")
        if len(secret) < 16:
            raise ValueError(f"{where} secret 至少 16 个字符（随机生成，只告诉推送方）")
        category = str(spec.get("category") or "discovery")
        if category not in CATEGORIES:
            raise ValueError(f"{where} category 须是 {'、'.join(CATEGORIES)} 之一，现在是 {category!r}")
        grade = spec.get("grade") or None
        if grade is not None and grade not in GRADES:
            raise ValueError(f"{where} grade 须是 {'、'.join(GRADES)} 之一，现在是 {grade!r}")
        out[key] = Source(key=key, name=name, secret=secret, category=category, grade=grade)
    return out


def limits(raw: dict[str, Any]) -> Limits:
    """[intake] max_kb and per_minute (after environment overrides); raise ValueError if not positive integers."""
    sec = raw.get("intake", {})
    try:
        max_kb, per_minute = int(sec.get("max_kb", 256)), int(sec.get("per_minute", 60))
    except (TypeError, ValueError):
        raise ValueError("[intake] max_kb 和 per_minute 须是正整数") from None
    if max_kb < 1 or per_minute < 1:
        raise ValueError("[intake] max_kb 和 per_minute 须是正整数")
    return Limits(max_bytes=max_kb * 1024, per_minute=per_minute)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Liaowang-Signature value for body sent at timestamp: sha256=<hex HMAC-SHA256 of "<ts>.<body>">."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """True if given is the signature of body at timestamp (constant-time comparison)."""
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), given.strip().encode())


def fresh(timestamp: str, now: float) -> bool:
    """True if timestamp is unix seconds within WINDOW of now."""
    if not re.fullmatch(r"\d{1,12}", timestamp.strip()):
        return False
    return abs(int(timestamp) - now) <= WINDOW
