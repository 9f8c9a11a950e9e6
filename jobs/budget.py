"""The per-person send budget: WeCom silently drops more than 30 app messages a minute to one person.

Each send is counted per recipient in a Redis sorted set (a 60 s sliding window on the one clock), checked and
counted in one script. A notice that would exceed `[policy] per_minute_budget` for someone is not sent to them:
it is held in the database and merged, with everything else held for them, into one digest sent when the window
allows. Replies to a person's own command (and digests) are never merged: they wait until the window allows.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core import clock
from core.runtime import Runtime, runtime
from models import HeldMessage, OutboxMessage
from models.state import OutboxKind, OutboxState
from workflow.engine.outbox import emit
from workflow.views import render

WINDOW = 60.0
HOUR = 3600.0


def _key(userid: str) -> str:
    return f"liaowang:budget:{userid}"


def _hour_key(userid: str) -> str:
    return f"liaowang:budget:hour:{userid}"


# Atomically, for each recipient (a minute key and an hour key): forget sends older than each window, and count one
# more send only if both windows have room. Returns, per recipient, 1 (counted) or when they have room again.
_RESERVE = """
local out = {}
local now = tonumber(ARGV[1])
for i = 1, #KEYS, 2 do
  local minute, hour = KEYS[i], KEYS[i + 1]
  redis.call('ZREMRANGEBYSCORE', minute, 0, now - tonumber(ARGV[2]))
  redis.call('ZREMRANGEBYSCORE', hour, 0, now - tonumber(ARGV[5]))
  local free = 0
  if redis.call('ZCARD', minute) >= tonumber(ARGV[3]) then
    free = tonumber(redis.call('ZRANGE', minute, 0, 0, 'WITHSCORES')[2]) + tonumber(ARGV[2])
  end
  if redis.call('ZCARD', hour) >= tonumber(ARGV[6]) then
    free = math.max(free, tonumber(redis.call('ZRANGE', hour, 0, 0, 'WITHSCORES')[2]) + tonumber(ARGV[5]))
  end
  if free == 0 then
    redis.call('ZADD', minute, now, ARGV[4])
    redis.call('EXPIRE', minute, math.ceil(tonumber(ARGV[2])) + 5)
    redis.call('ZADD', hour, now, ARGV[4])
    redis.call('EXPIRE', hour, math.ceil(tonumber(ARGV[5])) + 5)
    out[(i + 1) / 2] = '1'
  else
    out[(i + 1) / 2] = tostring(free)
  end
end
return out
"""


ALIVE = "liaowang:budget:alive"  # absent after Redis lost its data: the last minute is rebuilt from the database


def _remember(rt: Runtime) -> None:
    """After Redis lost its data (a restart, FLUSHALL), put back each person's sends of the last minute and hour."""
    if rt.redis.exists(ALIVE):
        return
    since = clock.now() - timedelta(seconds=HOUR)
    with rt.sessions() as s:
        rows = s.execute(
            select(OutboxMessage.id, OutboxMessage.sent_at, OutboxMessage.sent_to, OutboxMessage.touser).where(
                OutboxMessage.sent_at >= since,
                OutboxMessage.state == OutboxState.sent,
                OutboxMessage.kind == OutboxKind.send,
            )
        ).all()
    pipe = rt.redis.pipeline()
    for oid, at, sent_to, touser in rows:
        score = at.timestamp() if at is not None else 0.0
        for u in (sent_to if sent_to is not None else touser).split("|"):
            if not u:
                continue
            pipe.zadd(_hour_key(u), {f"{oid}:{score}": score})
            pipe.expire(_hour_key(u), int(HOUR) + 5)
            if score >= clock.now().timestamp() - WINDOW:
                pipe.zadd(_key(u), {f"{oid}:{score}": score})
                pipe.expire(_key(u), int(WINDOW) + 5)
    pipe.set(ALIVE, "1")
    pipe.execute()


REPLY_SHARE = 0.25  # of each person's minute budget only replies and digests may use: notices never starve them


def reserve(rt: Runtime, users: list[str], oid: int, personal: bool = False) -> tuple[list[str], dict[str, float]]:
    """Count one send to each user whose last minute and last hour have room; return (counted, {full user: free at}).

    Check and count are one Redis script, so several worker processes never pass the budget together. Notices
    (personal=False) may use only the first 75 % of the budget; the rest is kept for replies and digests.
    """
    if not users:
        return [], {}
    _remember(rt)
    now = clock.now().timestamp()
    budget = int(rt.config.policy.per_minute_budget)
    limit = budget if personal else max(1, budget - max(1, round(budget * REPLY_SHARE)))
    hourly = int(rt.config.policy.per_hour_budget)
    keys = [k for u in users for k in (_key(u), _hour_key(u))]
    answers = rt.redis.eval(_RESERVE, len(keys), *keys, now, WINDOW, limit, f"{oid}:{now}", HOUR, hourly)
    ok = [u for u, a in zip(users, answers, strict=True) if a in (b"1", "1")]
    full = {u: float(a) for u, a in zip(users, answers, strict=True) if a not in (b"1", "1")}
    return ok, full


def is_personal(row: OutboxMessage) -> bool:
    """A reply to a person's own command or a digest: never held or merged, only delayed until the budget allows."""
    return row.idem_key.startswith(("reply:", "digest:"))


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


def hold(rt: Runtime, row: OutboxMessage, full: dict[str, float]) -> None:
    """Hold row for the people whose budget is full and schedule each one's digest for when it frees up."""
    now = clock.now()
    with rt.sessions() as s, s.begin():
        already = set(s.scalars(select(HeldMessage.userid).where(HeldMessage.outbox_id == row.id)))
        for u in full:
            if u not in already:
                s.add(HeldMessage(userid=u, outbox_id=row.id, summary=summary(row.payload), created_at=now))
    for u, free_at in full.items():
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
