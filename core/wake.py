"""Wake-up signals between processes: a capped Redis list per kind of work, rung after a commit, waited on with BLPOP.

A list, not pub/sub: a token rung while nobody waits stays until a waiter takes it, so a signal sent between a
waiter's last look at the database and its BLPOP is not lost. A token carries nothing: the waiter looks at the
database. A lost token (Redis restarted or flushed) costs only the waiter's fallback period.
"""

from __future__ import annotations

import redis

INBOX = "liaowang:wake:inbox"  # rung by the web's inbox writer after a batch of new callbacks committed
CLOCKS = "liaowang:wake:clocks"  # rung after a commit that started or moved clocks
KEEP = 16  # tokens kept per list: enough to wake every idle consumer, never a backlog of stale ones
SHORTEST = 0.01  # BLPOP's timeout 0 means "forever": shorter waits are rounded up to this


def ring(client: redis.Redis, key: str, tokens: int = 1) -> None:
    """Leave up to KEEP tokens on key's list (one per waiter that should wake); raise RedisError if Redis is away."""
    n = max(1, min(tokens, KEEP))
    with client.pipeline(transaction=False) as pipe:
        pipe.rpush(key, *([b"1"] * n))
        pipe.ltrim(key, -KEEP, -1)
        pipe.execute()


def wait(client: redis.Redis, key: str, timeout: float) -> bool:
    """Block until a token is taken from key's list (True) or timeout seconds pass (False); raise if Redis is away
    (refused, reset). A read that times out first (a socket timeout on the connection) ends the wait as False."""
    limit = client.connection_pool.connection_kwargs.get("socket_timeout")
    if limit:
        timeout = min(timeout, float(limit) * 0.8)
    try:
        return client.blpop([key], timeout=max(SHORTEST, timeout)) is not None
    except redis.exceptions.TimeoutError:
        return False  # the read ended before BLPOP did: the caller looks at the database, as after its own timeout


def clear(client: redis.Redis, key: str) -> None:
    """Drop every waiting token of key (the caller is about to look at the database anyway)."""
    client.delete(key)
