"""A running Liaowang (real web server over HTTP, real Redis, real database) wired to the WeCom emulator."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from rq import SimpleWorker
from sqlalchemy import select
from werkzeug.serving import make_server

from cli.sandbox_cmd import department_tree, directory
from core import clock
from core.config import config_from_dict
from core.runtime import Runtime, set_runtime
from jobs.inbox import pending_users, process_user
from jobs.queueing import queues
from jobs.sweep import sweep
from models import OutboxMessage
from sandbox.client import SandboxClient
from sandbox.render import describe
from wiring import web_app
from workflow.engine import outbox
from workflow.people.org import import_org, load_org_file

CREDS = {
    "corp_id": "wwa1b2c3d4e5f60718",
    "agent_id": 1000017,
    "secret": "sEcReT-for-tests-only-0123456789",
    "token": "Tok3nForTests",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
ORG = Path(__file__).resolve().parents[2] / "cli" / "demo_org.toml"


def text_of(record: dict[str, Any]) -> str:
    """Return what a person reads in an inbox record."""
    return describe(record)


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command pub/sub thread, whose stop costs up to a second per burst."""

    def subscribe(self) -> None:
        """Listen on no command channel: nobody sends commands to a burst in a test."""

    def unsubscribe(self) -> None:
        """There is no channel to leave."""


@dataclass
class Stack:
    """Liaowang plus the emulator; helpers act as people and run the worker until the queue is empty."""

    rt: Runtime
    emu: SandboxClient
    app_url: str
    _server: Any = field(repr=False, default=None)

    def drain(self) -> None:
        """Handle every stored callback, then run the real RQ worker (burst), until nothing is left."""
        for _ in range(20):
            woken = False
            for userid in pending_users(self.rt):
                process_user(userid, self.rt)
                woken = True
            listened = queues(self.rt.queue)
            if sum(q.count for q in listened) == 0 and not woken:
                return
            BurstWorker(listened, connection=self.rt.redis).work(burst=True, logging_level="ERROR")

    def later(self, seconds: float) -> None:
        """Move Liaowang's clock forward, let the sweep find due rows, and work the queue."""
        clock.advance(timedelta(seconds=seconds))
        sweep(grace_seconds=0)
        self.drain()

    def say(self, userid: str, text: str, replay: int = 1) -> dict[str, Any]:
        """Send text as userid through the emulator (encrypted callback), then deliver the outbox."""
        out = self.emu.say(userid, text, replay=replay)
        self.drain()
        return out

    def inbox(self, userid: str, since: int = 0) -> list[dict[str, Any]]:
        """Return the person's inbox records after since, in the order they were delivered (a card's later update
        does not make it the newest thing received)."""
        return sorted(self.emu.inbox(userid, since), key=lambda r: r["created_seq"])

    def texts(self, userid: str, since: int = 0) -> list[str]:
        """Return what the person has read since the cursor, as strings."""
        return [text_of(r) for r in self.inbox(userid, since)]

    def last(self, userid: str) -> str:
        """Return the newest thing the person received."""
        records = self.inbox(userid)
        assert records, f"{userid} received nothing"
        return text_of(records[-1])

    def reply(self, userid: str) -> str:
        """Return Liaowang's answer to the person's newest message (replies are delivered before notices)."""
        replies = [r for r in self.inbox(userid) if str(r["body"].get("idem_key", "")).startswith("reply:")]
        assert replies, f"{userid} got no reply"
        return text_of(replies[-1])

    def outbox_states(self) -> dict[str, int]:
        """Return how many outbox rows are in each state."""
        with self.rt.sessions() as s:
            counts: dict[str, int] = {}
            for st in s.scalars(select(OutboxMessage.state)):
                counts[st] = counts.get(st, 0) + 1
            return counts

    def close(self) -> None:
        """Stop the web server and release connections."""
        self._server.shutdown()
        self.rt.engine.dispose()
        outbox.set_notifier(None)
        outbox.set_job_runner(None)
        set_runtime(None)


def start_stack(
    emulator_url: str,
    database_url: str,
    redis_url: str,
    tmp: Path,
    outbox_cfg: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    pages: bool = False,
    wecom_timeout: float = 5,
) -> Stack:
    """Start Liaowang's web app on a free port, import the demo organisation, point the emulator at it.

    Liaowang's clock stays frozen at the test instant (tests/conftest.py): only the test moves it (Stack.later).
    pages: also send OAuth2 to the emulator and make [web] public_url the served app's URL (for the H5 pages).
    wecom_timeout: how long a call to WeCom may take before Liaowang gives up on its answer.
    """
    oauth = {"oauth_base": emulator_url} if pages else {}
    raw = {
        "wecom": {**CREDS, "api_base": emulator_url, "timeout": wecom_timeout, **oauth},
        "database": {"url": database_url},
        "app": {"data_dir": str(tmp / "var")},
        "outbox": outbox_cfg or {"backoff_base": 1, "max_attempts": 5},
        # the daily patrol's cards and reminders would interleave with every test's messages: on where a test asks
        "patrol": {"enabled": False},
        **(extra or {}),
    }
    # tests run clocks of seconds: a unit is charged for a miss however short its time, unless a test says otherwise
    raw["policy"] = {"min_time_to_act": "0s", **raw.get("policy", {})}
    # likewise the office's weekly notice while next year's holidays are unknown: on where a test asks
    raw["calendar"] = {"weekly_notice": False, **raw.get("calendar", {})}
    rt = Runtime(config_from_dict(raw, base_dir=tmp), _redis_url=redis_url)
    app = web_app(rt)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    if pages:
        rt.config = dataclasses.replace(rt.config, public_url=url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    data = load_org_file(ORG)
    with rt.sessions() as s, s.begin():
        import_org(s, data, clock.now())
    emu = SandboxClient(emulator_url)
    emu.reset()
    emu.set_callback(url + "/wecom/callback")
    emu.departments(department_tree(data))
    emu.people([*directory(data), {"userid": "outsider", "name": "局外人"}])
    return Stack(rt=rt, emu=emu, app_url=url, _server=server)
