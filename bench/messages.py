"""Count the messages each role receives for one 重大 item through its whole lifecycle, with one 反弹.

    .venv/bin/python -m bench.messages [--show ROLE]

The real stack (web app over HTTP, RQ worker, Redis, SQLite) wired to the WeCom emulator, on a clock the benchmark
moves: the item is reported, dispatched 重大 to 执法一队 (主办) with 法制处 (协办), acknowledged, 首报, written report,
审核 + 审定, 会商, 处置报告, 回复来源, 办结, a 反弹 at the first 善后 check-in, the same again, 办结,
the rest of the watch, 总结评估 and 归档; every reminder and escalation that falls due while time moves fires. Printed:
for each role the messages in its inbox (direct cards and notices, answers to its own commands, lines of the item's
group chat), and whether the targets hold (office person and unit lead ≤ 20, supervisor ≤ 12). Exit status 1 if not.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core import clock
from core.redisconn import start_embedded, stop_embedded
from migrations import upgrade
from models import Watch
from models.clock import OPEN_STATES, Clock
from models.state import WatchState
from sandbox.render import describe
from sandbox.server import serve
from sandbox.settings import EmulatorSettings
from tests.integration.flowkit import buttons, code_in
from tests.integration.harness import CREDS, Stack, start_stack

START = "2026-11-10T09:00:00+08:00"  # a working morning mid-month (no month-end bulletin); clocks count natural time
ROLES = {  # the demo organisation's people, by the part they play in the item
    "office": "chenqi",
    "unit_lead": "wangwu",
    "co_unit_lead": "gaojing",
    "supervisor": "lisi",
    "leader": "liujiu",
    "general_office": "zhouba",
    "reporter": "zhangsan",
}
ROLE_NAMES = {
    "office": "办公室（陈七）",
    "unit_lead": "主办单位负责人（王五）",
    "co_unit_lead": "协办单位负责人（高静）",
    "supervisor": "分管领导（李四）",
    "leader": "领导小组（刘九）",
    "general_office": "局办公室（周八）",
    "reporter": "上报人（张三）",
}
TARGETS = {"office": 20, "unit_lead": 20, "supervisor": 12}
BASELINE = {"office": 48, "unit_lead": 42, "supervisor": 32}  # this lifecycle on main before issue 20
MIN, HOUR, DAY = 60, 3600, 86400


def open_card(st: Stack, userid: str, prefix: str) -> dict[str, Any]:
    """Return the newest card userid received whose task id starts with prefix (ack-, appr-, opin-, fu-)."""
    found = [
        r
        for r in st.inbox(userid)
        if r["msgtype"] == "template_card" and r["body"]["template_card"]["task_id"].startswith(prefix)
    ]
    assert found, f"{userid} has no {prefix} card"
    return found[-1]


def tap(st: Stack, userid: str, prefix: str, button: str) -> None:
    """Click button on userid's newest card of that kind, through the emulator."""
    card = open_card(st, userid, prefix)
    st.emu.card_click(userid, card["body"]["template_card"]["task_id"], buttons(card)[button]["key"])
    st.drain()


def wait(st: Stack, seconds: float) -> None:
    """Let seconds pass the way a running worker sees them: every clock threshold and check-in fires at its time."""
    end = clock.now() + timedelta(seconds=seconds)
    while True:
        with st.rt.sessions() as s:
            due = [
                *s.scalars(select(Clock.next_at).where(Clock.state.in_(OPEN_STATES), Clock.next_at.is_not(None))),
                *s.scalars(select(Watch.next_at).where(Watch.state == WatchState.watching)),
            ]
        upcoming = [clock.as_utc(t) for t in due if clock.now() < clock.as_utc(t) < end]
        step = min(upcoming, default=end)
        st.later((step - clock.now()).total_seconds())
        if step >= end:
            return


def handle(st: Stack, code: str, round_: int) -> None:
    """One round of handling by the units, the supervisor and the leaders, up to the general office's opinion."""
    if round_ == 1:
        wait(st, 3 * MIN)
        tap(st, "wangwu", "ack-", "签收")
        tap(st, "gaojing", "ack-", "签收")
        wait(st, 7 * MIN)  # 首报 before its aim (20 min after the report)
    else:
        wait(st, 10 * MIN)
    st.say("wangwu", f"首报 {code} 已核实：视频属实，当事队员已停止执法，正在约谈。")
    wait(st, 30 * MIN if round_ == 1 else 25 * MIN)  # the first time, the written report's aim passes: a nudge
    if round_ == 1:
        st.say("gaojing", f"书面报告 {code} 法制处意见：执法程序符合规定，建议公开执法记录仪视频。")
    st.say("wangwu", f"书面报告 {code} 经核实，执法队员与商户因占道经营发生争执，已约谈并暂停其执法，拟答复如下……")
    wait(st, 10 * MIN)
    tap(st, "lisi", "appr-", "批准")  # 审核
    wait(st, 15 * MIN)
    tap(st, "liujiu", "appr-", "批准")  # 审定; the 会商 card goes out
    wait(st, 20 * MIN)
    tap(st, "zhouba", "opin-", "无不同意见")
    if round_ == 1:
        tap(st, "gaojing", "opin-", "无不同意见")


def lifecycle(st: Stack) -> str:
    """Drive one 重大 item from report to archive with one 反弹; return its 编号."""
    st.say("zhangsan", "上报 网传执法人员与商户发生冲突的视频，转发量快速上升 https://weibo.com/9/4990001")
    code = code_in(st.last("zhangsan"))
    wait(st, 5 * MIN)
    st.say("chenqi", f"交办 {code} 执法一队 法制处 重大")
    handle(st, code, 1)
    wait(st, 30 * MIN)
    st.say("wangwu", f"处置报告 {code} 已约谈当事队员并暂停执法，商户诉求已协调解决。")
    wait(st, 10 * MIN)
    st.say("chenqi", f"回复来源 {code} 经核查，执法人员已停职检查，感谢监督。")
    wait(st, 40 * MIN)
    st.say("chenqi", f"办结 {code} 处置完毕，舆情平稳。")
    wait(st, DAY)  # the first 善后 check-in
    tap(st, "wangwu", "fu-", "反弹")
    handle(st, code, 2)
    wait(st, 10 * MIN)
    st.say("chenqi", f"回复来源 {code} 经再次核查，当事队员已调离执法岗位，感谢监督。")
    wait(st, HOUR)
    st.say("chenqi", f"办结 {code} 反弹已处置。")
    for _ in range(2):  # two 平稳 check-ins, then the end of the watch
        wait(st, DAY)
        tap(st, "wangwu", "fu-", "平稳")
    wait(st, DAY)
    st.say("chenqi", f"总结评估 {code} 首报及时，反弹后处置到位，舆情平稳。")
    wait(st, 10 * MIN)
    st.say("chenqi", f"归档 {code}")
    return code


@dataclass
class Tally:
    """What one person received: direct cards and notices, answers to their own commands, group lines."""

    direct: list[str]
    replies: list[str]
    group: list[str]

    @property
    def total(self) -> int:
        """Every message that reached the person."""
        return len(self.direct) + len(self.replies) + len(self.group)


def tally(st: Stack, userid: str) -> Tally:
    """Sort userid's inbox into direct notices and cards, replies and group lines."""
    t = Tally([], [], [])
    for r in st.inbox(userid):
        if r.get("chatid"):
            t.group.append(describe(r))
        elif r.get("passive") or str(r["body"].get("idem_key", "")).startswith("reply:"):
            t.replies.append(describe(r))
        else:
            t.direct.append(describe(r))
    return t


@contextmanager
def running() -> Iterator[Stack]:
    """A Liaowang stack on a temporary SQLite database and Redis, wired to an in-process emulator."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # the archive package's PDF font subsetting
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-messages-"))
    clock.freeze(clock.parse_instant(START))
    emulator = serve("127.0.0.1", 0, EmulatorSettings(**CREDS, time_source=lambda: clock.now().timestamp()))
    st = None
    try:
        redis_url = start_embedded(tmp / "redis")
        db = f"sqlite:///{tmp / 'liaowang.db'}"
        upgrade(db)
        st = start_stack(emulator.url, db, redis_url, tmp)
        logging.getLogger().setLevel(logging.WARNING)  # the figures, not every callback and sweep
        yield st
    finally:
        if st is not None:
            st.close()
        emulator.shutdown()
        stop_embedded(tmp / "redis")
        clock.reset()
        shutil.rmtree(tmp, ignore_errors=True)


def _width(text: str) -> int:
    """Columns text takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def main(argv: list[str] | None = None) -> int:
    """Run the lifecycle and print what each role received."""
    p = argparse.ArgumentParser(prog="python -m bench.messages", description=__doc__)
    p.add_argument("--show", action="append", default=[], choices=sorted(ROLES), help="print this role's messages")
    args = p.parse_args(argv)
    with running() as st:
        code = lifecycle(st)
        tallies = {role: tally(st, userid) for role, userid in ROLES.items()}
    print(f"one 重大 item ({code}) from 上报 to 归档 with one 反弹: messages each role received")
    print(f"  {'role':<24}{'total':>6}{'direct':>8}{'replies':>9}{'group':>7}   target")
    ok = True
    for role, t in tallies.items():
        target = TARGETS.get(role)
        verdict = ""
        if target is not None:
            met = t.total <= target
            ok = ok and met
            verdict = f"≤ {target} (before: {BASELINE[role]})  {'ok' if met else 'MISSED'}"
        name = ROLE_NAMES[role] + " " * (24 - _width(ROLE_NAMES[role]))
        print(f"  {name}{t.total:>6}{len(t.direct):>8}{len(t.replies):>9}{len(t.group):>7}   {verdict}")
    for role in args.show:
        t = tallies[role]
        for kind, texts in (("direct", t.direct), ("reply", t.replies), ("group", t.group)):
            for text in texts:
                print(f"\n[{ROLE_NAMES[role]} · {kind}]\n{text}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
