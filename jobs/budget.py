"""The per-person send budget: WeCom silently drops more than 30 app messages a minute to one person.

Each send is counted per recipient in a Redis sorted set (a 60 s sliding window on the one clock). A
notice that would exceed `[policy] per_minute_budget` for someone is not sent to them: it is held in the
database and merged, with everything else held for them, into one digest sent when the window allows.
Replies to a person's own command are never held (they asked), but they count.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core import clock
from core.runtime import Runtime, runtime
from models import HeldMessage, OutboxMessage
from workflow import render
from workflow.outbox import emit

WINDOW = 60.0


def _key(userid: str) -> str:
    return f"liaowang:budget:{userid}"


def split(rt: Runtime, row: OutboxMessage) -> tuple[list[str], list[str]]:
    """Return (recipients within budget, recipients over it) for a send row; replies are always within."""
    users = [u for u in row.touser.split("|") if u]
    if row.idem_key.startswith(("reply:", "digest:")) or row.kind != "send":
        return users, []
    with rt.sessions() as s:  # a retried row: whoever it was already held for stays held, never twice
        held = set(s.scalars(select(HeldMessage.userid).where(HeldMessage.outbox_id == row.id)))
    users = [u for u in users if u not in held]
    limit, now = int(rt.config.policy.per_minute_budget), clock.now().timestamp()
    pipe = rt.redis.pipeline()
    for u in users:
        pipe.zremrangebyscore(_key(u), 0, now - WINDOW)
        pipe.zcard(_key(u))
    counts = pipe.execute()[1::2]
    ok = [u for u, n in zip(users, counts, strict=True) if n < limit]
    return ok, [u for u in users if u not in ok]


def count(rt: Runtime, users: list[str], oid: int) -> None:
    """Record one send to each of users now."""
    now = clock.now().timestamp()
    pipe = rt.redis.pipeline()
    for u in users:
        pipe.zadd(_key(u), {f"{oid}:{now}": now})
        pipe.expire(_key(u), int(WINDOW) + 5)
    pipe.execute()


def summary(payload: dict[str, Any]) -> str:
    """Return one line that stands for a message in a digest."""
    kind = payload.get("msgtype")
    if kind == "template_card":
        card = payload["template_card"]
        return f"{card.get('main_title', {}).get('title', '')} {card.get('main_title', {}).get('desc', '')}".strip()
    body = payload.get(kind or "", {})
    text = str(body.get("content") or body.get("title") or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:2])[:80] if lines else "（一条消息）"


def hold(rt: Runtime, row: OutboxMessage, users: list[str]) -> None:
    """Hold row for users and schedule their digest for when their window frees up."""
    now = clock.now()
    with rt.sessions() as s, s.begin():
        for u in users:
            s.add(HeldMessage(userid=u, outbox_id=row.id, summary=summary(row.payload), created_at=now))
    for u in users:
        oldest = rt.redis.zrange(_key(u), 0, 0, withscores=True)
        free_at = (float(oldest[0][1]) + WINDOW) if oldest else now.timestamp()
        when = datetime.fromtimestamp(math.ceil(max(free_at, now.timestamp()) + 1), UTC)
        rt.queue.enqueue_at(when, send_digest, u, job_id=f"digest-{u}", result_ttl=60)


def send_digest(userid: str) -> int:
    """Merge everything held for userid into one message (subject to the budget itself); return how many."""
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        held = list(
            s.scalars(
                select(HeldMessage)
                .where(HeldMessage.userid == userid, HeldMessage.digest_id.is_(None))
                .order_by(HeldMessage.id)
            )
        )
        if not held:
            return 0
        lines = "\n".join(f"{i + 1}. {h.summary}" for i, h in enumerate(held[:30]))
        more = f"\n……另有 {len(held) - 30} 条" if len(held) > 30 else ""
        text = f"【汇总】刚才给您的提醒较多，以下 {len(held)} 条合并发送：\n{lines}{more}\n发送“我的待办”查看全部。"
        row = emit(s, [userid], render.text(text), f"digest:{userid}:{held[0].id}", now)
        if row is None:
            return 0
        s.execute(update(HeldMessage).where(HeldMessage.id.in_([h.id for h in held])).values(digest_id=row.id))
    return len(held)


def pending_digests(rt: Runtime, older_than: timedelta) -> list[str]:
    """Return people with held messages not yet digested for longer than older_than (lost digest jobs)."""
    cutoff = clock.now() - older_than
    with rt.sessions() as s:
        return list(
            s.scalars(
                select(HeldMessage.userid)
                .where(HeldMessage.digest_id.is_(None), HeldMessage.created_at <= cutoff)
                .distinct()
            )
        )
