"""Walk one card click to an approval and count what it passes through (issue 22: "today 74 steps through 20 files").

    .venv/bin/python -m bench.walk [--show]

The real stack (web app over HTTP, the emulator, Redis, SQLite) takes a 较大 item to a written report waiting for
the supervisor; then 李四 presses 批准 on the approval card. From the emulator's POST of the click until the queue is
empty, every call into Liaowang's own packages (bot, handlers, jobs, workflow, models, core, wiring) is recorded, in
every thread. Printed: the distinct functions called (the walk's steps), the files they live in, and how many times
the walk comes back to a file it had left — the same count on any commit, so two commits compare (run it in a
worktree of the other commit for the baseline).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from bench.messages import open_card, running
from tests.integration.flowkit import buttons, code_in

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "handlers", "jobs", "workflow", "models", "core", "wiring")


def ours(frame: FrameType) -> str | None:
    """Return the repository path of frame's file if it is Liaowang's own code, else None."""
    try:
        rel = Path(frame.f_code.co_filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    return str(rel) if rel.parts and rel.parts[0] in OURS else None


DECISION = ("handlers/runner.py", "handle")  # a stored callback becomes a decision and its reply here


class Walk:
    """The calls into our code, in order: (file, function); decision: those made while a stored callback is handled
    (handlers/runner.py handle: parse, decide, record, queue the messages), the rest being transport (receiving,
    storing, delivering)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.decision: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.inside = threading.local()

    def profiler(self) -> Callable[[FrameType, str, Any], None]:
        """Return a profile function that records each call of one of our functions."""

        def prof(frame: FrameType, event: str, arg: Any) -> None:
            if event not in ("call", "return"):
                return
            path = ours(frame)
            name = frame.f_code.co_name
            if path is None or name.startswith("<"):  # comprehensions, lambdas, module bodies
                return
            depth = getattr(self.inside, "depth", 0)
            if (path, name) == DECISION:
                self.inside.depth = depth + (1 if event == "call" else -1)
            if event != "call":
                return
            with self.lock:
                self.calls.append((path, name))
                if getattr(self.inside, "depth", 0):
                    self.decision.append((path, name))

        return prof

    def figures(self, calls: list[tuple[str, str]]) -> dict[str, Any]:
        """Distinct functions in first-call order, their files, and returns to a file already left."""
        steps: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for c in calls:
            if c not in seen:
                seen.add(c)
                steps.append(c)
        files = [f for f, _ in steps]
        returns, visited, last = 0, set(), None
        for f in files:
            if f != last and f in visited:
                returns += 1
            visited.add(f)
            last = f
        return {"steps": steps, "files": sorted(set(files)), "returns": returns, "calls": len(calls)}


def to_approval(st: Any) -> str:
    """Take a 较大 item to a written report waiting for the supervisor's 审核; return its 编号."""
    st.say("zhangsan", "上报 网传执法人员与商户发生冲突的视频 https://weibo.com/9/4990777")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 较大")
    st.say("wangwu", f"首报 {code} 已核实，正在处置。")
    st.say("wangwu", f"书面报告 {code} 经核实，执法队员与商户因占道经营发生争执，已约谈。")
    return code


def main(argv: list[str] | None = None) -> int:
    """Drive to the approval card, trace the 批准 click, print the figures."""
    p = argparse.ArgumentParser(prog="python -m bench.walk", description=__doc__)
    p.add_argument("--show", action="store_true", help="print every step (file and function)")
    args = p.parse_args(argv)
    walk = Walk()
    with running() as st:
        code = to_approval(st)
        card = open_card(st, "lisi", "appr-")
        key = buttons(card)["批准"]["key"]
        prof = walk.profiler()
        threading.setprofile(prof)
        sys.setprofile(prof)
        try:
            st.emu.card_click("lisi", card["body"]["template_card"]["task_id"], key)
            st.drain()
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
        approved = any("已批准" in t or "审核通过" in t for t in st.texts("wangwu"))
    print(f"批准 on {code}'s approval card (approved: {approved})")
    print(f"  {'':<44}{'steps':>7}{'files':>7}{'returns':>9}{'calls':>7}")
    for what, calls in (
        ("the decision (runner.handle: parse → reply)", walk.decision),
        ("click to empty queue", walk.calls),
    ):
        f = walk.figures(calls)
        print(f"  {what:<44}{len(f['steps']):>7}{len(f['files']):>7}{f['returns']:>9}{f['calls']:>7}")
    print("  steps: distinct functions of ours; returns: times the walk comes back to a file it had left")
    if args.show:
        for path, name in walk.figures(walk.decision)["steps"]:
            print(f"    {path}:{name}")
    return 0 if approved else 1


if __name__ == "__main__":
    raise SystemExit(main())
