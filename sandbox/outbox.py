"""Messages people sent to the app (say, link, image acts), in the inbox's seq order, and the phone's feed query."""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from sandbox.state import Record, World


def add_outgoing(world: World, userid: str, msg_id: str, msgtype: str, body: dict[str, Any]) -> Record:
    """Store a message userid sends to the app (status "sending") under a fresh seq and wake pollers."""
    record: Record = {
        "userid": userid,
        "msgid": msg_id,
        "msgtype": msgtype,
        "body": copy.deepcopy(body),
        "at": world.now(),
        "outgoing": True,
        "status": "sending",
        "statuses": [],
        "chatid": None,
        "passive": False,
    }
    return world.add_record(record, world.outbox)


def finish_outgoing(world: World, record: Record, statuses: list[int | str]) -> None:
    """Mark a sent message "ok" (the app answered HTTP 200) or "failed", and wake pollers."""
    with world.lock:
        record["status"] = "ok" if 200 in statuses else "failed"
        record["statuses"] = list(statuses)
        world.touch_record(record)


def phone_records(world: World, userids: Collection[str], since: int) -> list[Record]:
    """Return copies of what these people received or sent with seq greater than since, in seq order."""
    with world.lock:
        found = [r for r in (*world.inbox, *world.outbox) if r["seq"] > since and r["userid"] in userids]
        return copy.deepcopy(sorted(found, key=lambda r: r["seq"]))


def wait_phone_records(
    world: World, userids: Collection[str], since: int, timeout: float
) -> tuple[list[Record], int, bool]:
    """Wait up to timeout for records newer than since; return (records, cursor, whether since predates a reset)."""

    def ready() -> bool:
        return world.seq < since or any(
            r["seq"] > since and r["userid"] in userids for r in (*world.inbox, *world.outbox)
        )

    with world.cond:
        if since <= world.seq:
            world.cond.wait_for(ready, timeout)
        reset = since > world.seq
        return phone_records(world, userids, 0 if reset else since), world.seq, reset
