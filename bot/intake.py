"""POST /api/intake/<source>: the signed intake API for monitoring systems and upper-level platforms (docs/intake.md).

Checks in this order, each refusing before anything is stored: 404 unknown source, 413 body over the limit, 401
missing/bad signature or a timestamp outside ±5 minutes, 429 over the source's per-minute budget (Redis, with
Retry-After), 400 not JSON, 422 a field missing or wrong; then 201 {"code", "created": true} for a new item, 200
{"code", "created": false} for a repeat of the same (source, id) or a link already open (merged, first finder kept).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from core import clock, intake
from core.runtime import Runtime
from workflow.engine.errors import Refusal
from workflow.incident import intake as receiving

log = logging.getLogger(__name__)
bp = Blueprint("intake", __name__)


def init_app(app: Flask, rt: Runtime) -> None:
    """Read the configured sources and limits once and register the API on app."""
    app.extensions["liaowang_intake"] = (intake.sources(rt.config.raw), intake.limits(rt.config.raw))
    app.register_blueprint(bp)


def _answer(status: int, headers: dict[str, str] | None = None, **body: Any) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, headers=headers, mimetype="application/json")


def _refuse(status: int, error: str, headers: dict[str, str] | None = None) -> Response:
    log.info("intake refused %s: %s", status, error)
    return _answer(status, headers, error=error)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    """The body is over [web] max_request_mb: the same 413 as over the intake limit."""
    return _refuse(413, "请求体太大，已拒收。")


def _body(limit: int) -> bytes | None:
    """The raw body, or None if it is over limit bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


def _over_budget(rt: Runtime, key: str, per_minute: int) -> int:
    """Count this request against the source's minute; the seconds to wait if it is over budget, else 0."""
    now = clock.now().timestamp()
    minute = int(now // 60)
    name = f"liaowang:intake:rate:{key}:{minute}"
    pipe = rt.redis.pipeline()
    pipe.incr(name)
    pipe.expire(name, 120)
    count = int(pipe.execute()[0])
    return 0 if count <= per_minute else max(1, 60 - int(now % 60))


@bp.post("/api/intake/<key>")
def receive(key: str) -> Response:
    """Accept one signed push from the source named key (the checks and answers are in the module's docstring)."""
    rt: Runtime = current_app.extensions["liaowang"]
    sources, limits = current_app.extensions["liaowang_intake"]
    source = sources.get(key)
    if source is None:
        return _refuse(404, "没有这个推送来源。")
    body = _body(min(limits.max_bytes, rt.config.max_request_mb * 1024 * 1024))
    if body is None:
        return _refuse(413, f"请求体超过 {limits.max_bytes // 1024} KB，已拒收。")
    stamp = request.headers.get("X-Liaowang-Timestamp", "")
    given = request.headers.get("X-Liaowang-Signature", "")
    if not stamp or not given:
        return _refuse(401, "缺少签名：请带上 X-Liaowang-Timestamp 和 X-Liaowang-Signature。")
    if not intake.verify(source.secret, stamp, body, given):
        return _refuse(401, "签名不对，已拒收。")
    if not intake.fresh(stamp, clock.now().timestamp()):
        return _refuse(401, "时间戳与服务器时间相差超过 5 分钟，已拒收（请校准推送方的时钟）。")
    if wait := _over_budget(rt, key, limits.per_minute):
        headers = {"Retry-After": str(wait)}
        return _refuse(429, f"推送太频繁（每分钟最多 {limits.per_minute} 条），请 {wait} 秒后再试。", headers)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _refuse(400, "请求体不是有效的 JSON（须为 UTF-8 编码的 JSON 对象）。")
    try:
        push = receiving.parse(payload)
        with rt.sessions() as session, session.begin():
            got = receiving.receive(session, rt.config, source, push, clock.now())
    except Refusal as exc:
        return _refuse(422 if isinstance(payload, dict) else 400, exc.message)
    except IntegrityError:  # the same (source, id) pushed twice at once: the other request stored it
        with rt.sessions() as session:
            got = receiving.earlier(session, source, push.id)  # type: ignore[assignment]
        if got is None:
            raise
    log.info("intake %s: %s %s", key, got.code, "created" if got.created else "known")
    return _answer(201 if got.created else 200, code=got.code, created=got.created)
