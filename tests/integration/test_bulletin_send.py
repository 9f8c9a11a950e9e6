"""`liaowang bulletin --send` (issue 20 item 7): only a complete month at or after first use is sent; any other month
is refused in Chinese with a non-zero exit, sends nothing and leaves the month's single send to the month-end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core import clock
from core.clock import local
from sandbox.server import EmulatorServer
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config

LEADERS = ("liujiu", "chenqi")


def _month(delta_months: int = 0) -> str:
    t = local(clock.now())
    y, m = divmod(t.year * 12 + t.month - 1 + delta_months, 12)
    return f"{y:04d}-{m + 1:02d}"


def _bulletins(st: Stack, userid: str) -> list[dict[str, object]]:
    return [r for r in st.inbox(userid) if r["msgtype"] in ("markdown", "file", "image")]


def test_send_refuses_the_current_a_future_and_a_month_before_first_use(
    stack: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    st = stack
    st.say("zhangsan", "上报 本月的第一条舆情")
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    this, before, future = _month(0), _month(-1), _month(1)

    out = liaowang(cfg, "bulletin", "--month", this, "--send")
    assert out.returncode != 0, out.stderr
    assert "还没有结束" in out.stderr, out.stderr
    assert not out.stdout, "nothing printed as if sent"

    out = liaowang(cfg, "bulletin", "--month", before, "--send")
    assert out.returncode != 0
    assert "还没有启用" in out.stderr, out.stderr

    out = liaowang(cfg, "bulletin", "--month", future, "--send")
    assert out.returncode != 0
    assert "还没有到" in out.stderr, out.stderr
    st.later(1)
    for userid in LEADERS:
        assert not _bulletins(st, userid), "nothing was sent"

    out = liaowang(cfg, "bulletin", "--month", this)  # looking at the month so far is allowed
    assert out.returncode == 0, out.stderr
    assert "截至" in out.stdout.splitlines()[0], out.stdout

    now = local(clock.now())  # the month ends: the automatic send still has the month's single send
    first = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    st.later((first - now).total_seconds())
    for userid in LEADERS:
        kinds = [r["msgtype"] for r in _bulletins(st, userid)]
        assert kinds.count("markdown") == 1, kinds
    md = next(r for r in _bulletins(st, "liujiu") if r["msgtype"] == "markdown")
    assert "截至" not in str(md["body"]), "a complete month is not marked as partial"
    out = liaowang(cfg, "bulletin", "--month", this, "--send")
    assert out.returncode == 0, out.stderr
    assert "没有重复发送" in out.stderr
    out = liaowang(cfg, "bulletin", "--month", before, "--send")
    assert out.returncode != 0, "a month before first use stays refused"
    assert "还没有启用" in out.stderr
