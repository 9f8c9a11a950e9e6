"""Deadline policy (SPEC §4–5): per-clock, per-grade aim and due, nudges, warnings and escalation; pure.

The typed [policy] section of the configuration (core.config.Config.policy): durations only. What each clock is
(who owes it, which action starts and meets it, its wording and deduction) is declared in the clock table,
models/clocktable.py; the [policy.clocks.<kind>] sections are parsed here generically and checked against that
table at startup (wiring). Working days are counted by the calendar passed in (models.calendar.WorkCalendar), so
this module needs nothing above core.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from core.durations import parse_duration

GRADES = ("major", "significant", "general")


class WorkingDays(Protocol):
    """A working calendar (models.calendar.WorkCalendar): counts working days from a moment."""

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return start moved on by days working days."""
        ...


@dataclass(frozen=True)
class Span:
    """How long a step may take for one grade: a due time, an optional aim, or a number of days."""

    due: timedelta
    aim: timedelta | None = None
    days: int | None = None


@dataclass(frozen=True)
class ClockPolicy:
    """The durations of one kind of clock ([policy.clocks.<kind>]): its spans, extension cap, optional new name."""

    kind: str
    spans: dict[str, Span]
    label: str | None = None  # renames the clock (else the clock table's label)
    cap: timedelta | None = None
    cap_days: int | None = None
    max_extensions: int | None = None  # how many extensions may be approved (None: any, within the cap)

    def span(self, grade: str) -> Span | None:
        """Return the span for grade (or the "all" span)."""
        return self.spans.get(grade) or self.spans.get("all")


@dataclass(frozen=True)
class Schedule:
    """The moments of one clock."""

    start: datetime
    nudge_at: datetime
    warn_at: datetime
    due_at: datetime
    aim_at: datetime | None


@dataclass(frozen=True)
class Policy:
    """Everything configurable about clocks."""

    start: str = "reported"
    nudge_share: float = 0.5
    warn_share: float = 0.8
    warn_before: timedelta | None = None
    escalate_after: timedelta = timedelta(minutes=10)
    escalate_every: timedelta = timedelta(minutes=30)
    escalate_max: int = 3
    days: str = "natural"
    per_minute_budget: int = 20
    per_hour_budget: int = 1000  # WeCom also drops more than 1,000 app messages an hour to one person
    follow_up_period: timedelta = timedelta(days=3)
    follow_up_every: timedelta = timedelta(days=1)
    scale: float = 1.0
    min_time_to_act: timedelta = timedelta(minutes=10)  # a unit is charged for a miss only if it had this long
    clocks: dict[str, ClockPolicy] = field(default_factory=dict)
    disabled: tuple[str, ...] = ()  # clock kinds switched off ([policy.clocks.<kind>] enabled = false)

    def schedule(
        self,
        kind: str,
        grade: str,
        start: datetime,
        calendar: WorkingDays | None = None,
        override_due: datetime | None = None,
    ) -> Schedule | None:
        """Return the schedule of clock kind for grade started at start (None if the clock does not apply)."""
        clock = self.clocks.get(kind)
        span = clock.span(grade) if clock else None
        if span is None:
            return None
        due = override_due or self._due(start, span, calendar)
        aim = start + span.aim if span.aim is not None and not override_due else None
        return self.moments(start, due, aim)

    def _due(self, start: datetime, span: Span, calendar: WorkingDays | None) -> datetime:
        if span.days is not None and self.days == "working":
            if calendar is None:
                raise ValueError("working days need the working calendar (workflow.engine.clocks.calendar_for)")
            return calendar.add_working_days(start, span.days)
        if span.days is not None:
            return start + timedelta(days=span.days)
        return start + span.due

    def moments(self, start: datetime, due: datetime, aim: datetime | None) -> Schedule:
        """Return nudge (aim, else a share of the span) and warning (share or fixed lead) before due."""
        total = due - start
        nudge = aim if aim is not None else start + total * self.nudge_share
        warn = due - self.warn_before if self.warn_before is not None else start + total * self.warn_share
        warn = max(warn, nudge)
        return Schedule(start=start, nudge_at=min(nudge, due), warn_at=min(warn, due), due_at=due, aim_at=aim)

    def cap_for(self, kind: str, start: datetime, calendar: WorkingDays | None = None) -> datetime | None:
        """Return the latest due an extension may reach for this clock kind (None = no extensions)."""
        clock = self.clocks.get(kind)
        if clock is None:
            return None
        if clock.cap_days is not None:
            return self._due(start, Span(due=timedelta(days=clock.cap_days), days=clock.cap_days), calendar)
        return start + clock.cap if clock.cap is not None else None


class ClockKind(StrEnum):
    """The shipped clock kinds; their string forms appear only here (and as [policy.clocks.*] keys). Their rules are
    the rows of the clock table (models/clocktable.py); their default durations are DEFAULT_CLOCKS below."""

    first_report = "first_report"
    written_report = "written_report"
    notify_units = "notify_units"
    handling_report = "handling_report"
    public_response = "public_response"
    public_update = "public_update"
    reply_source = "reply_source"


DEFAULT_CLOCKS: dict[str, dict[str, Any]] = {  # the shipped [policy.clocks] durations (the clock table says the rest)
    ClockKind.first_report: {
        "major": {"aim": "20m", "due": "30m"},
        "significant": {"aim": "20m", "due": "30m"},
        "general": {"due": "60m"},
    },
    ClockKind.written_report: {
        "major": {"aim": "40m", "due": "90m"},
        "significant": {"aim": "40m", "due": "90m"},
        "general": {"due": "120m"},
    },
    ClockKind.notify_units: {"major": {"due": "30m"}, "significant": {"due": "30m"}, "general": {"due": "24h"}},
    ClockKind.handling_report: {"all": {"due": "24h"}},
    ClockKind.public_response: {"major": {"due": "24h"}, "significant": {"due": "48h"}, "general": {"due": "48h"}},
    ClockKind.public_update: {"all": {"due": "24h"}},
    ClockKind.reply_source: {"all": {"days": 3}, "cap_days": 5, "extensions": 1},
}


def _span(raw: dict[str, Any], where: str) -> Span:
    try:
        if "days" in raw:
            days = int(raw["days"])
            return Span(due=timedelta(days=days), days=days)
        due = parse_duration(raw["due"])
        aim = parse_duration(raw["aim"]) if raw.get("aim") is not None else None
    except (KeyError, ValueError) as exc:
        raise ValueError(f'[{where}] 需要 due（如 "30m"）或 days：{exc}') from None
    if aim is not None and aim > due:
        raise ValueError(f"[{where}] aim 不能晚于 due")
    return Span(due=due, aim=aim)


def _clock(kind: str, raw: dict[str, Any]) -> ClockPolicy:
    where = f"policy.clocks.{kind}"
    spans = {g: _span(raw[g], f"{where}.{g}") for g in (*GRADES, "all") if isinstance(raw.get(g), dict)}
    if not spans:
        raise ValueError(f"[{where}] 至少要为一个等级（major/significant/general/all）设置时限")
    cap = parse_duration(raw["cap"]) if raw.get("cap") else None
    return ClockPolicy(
        kind=kind,
        spans=spans,
        label=str(raw["label"]) if raw.get("label") else None,
        cap=cap,
        cap_days=int(raw["cap_days"]) if raw.get("cap_days") else None,
        max_extensions=int(raw["extensions"]) if raw.get("extensions") is not None else None,
    )


def _follow_up(raw: dict[str, Any]) -> dict[str, timedelta]:
    """Return the follow-up watch period and check-in interval (善后观察), or raise ValueError."""
    period = parse_duration(str(raw.get("follow_up_period", "3d")))
    every = parse_duration(str(raw.get("follow_up_every", "1d")))
    if every.total_seconds() <= 0 or period < timedelta(0):
        raise ValueError("[policy] follow_up_every 必须大于 0，follow_up_period 不能为负")
    return {"follow_up_period": period, "follow_up_every": every}


def _scaled_clock(clock: ClockPolicy, k: float) -> ClockPolicy:
    """Return clock with every span divided by k; day counts become plain (natural) durations."""
    spans = {g: Span(due=s.due / k, aim=s.aim / k if s.aim is not None else None) for g, s in clock.spans.items()}
    cap = (
        clock.cap / k
        if clock.cap is not None
        else (timedelta(days=clock.cap_days) / k if clock.cap_days is not None else None)
    )
    return replace(clock, spans=spans, cap=cap, cap_days=None)


def scaled(policy: Policy, k: float) -> Policy:
    """Return policy with every duration divided by k (the demo's faster clocks, e.g. k = 60); k = 1 is unchanged."""
    if k == 1:
        return policy

    def div(td: timedelta | None) -> timedelta | None:
        return td / k if td is not None else None

    return replace(
        policy,
        scale=k,
        warn_before=div(policy.warn_before),
        escalate_after=policy.escalate_after / k,
        escalate_every=policy.escalate_every / k,
        follow_up_period=policy.follow_up_period / k,
        follow_up_every=policy.follow_up_every / k,
        min_time_to_act=policy.min_time_to_act / k,
        clocks={kind: _scaled_clock(c, k) for kind, c in policy.clocks.items()},
    )


def parse_policy(raw: dict[str, Any] | None) -> Policy:
    """Build a Policy from the [policy] table merged over the shipped defaults; raise ValueError naming the key."""
    raw = dict(raw or {})
    merged = {k: dict(v) for k, v in DEFAULT_CLOCKS.items()}
    for kind, over in (raw.get("clocks") or {}).items():
        merged[kind] = {**merged.get(kind, {}), **over}
    start = str(raw.get("start", "reported"))
    if start not in ("reported", "dispatched"):
        raise ValueError("[policy] start 必须是 reported 或 dispatched")
    days = str(raw.get("days", "natural"))
    if days not in ("natural", "working"):
        raise ValueError("[policy] days 必须是 natural 或 working")
    shares = {k: float(raw.get(k, d)) for k, d in (("nudge_share", 0.5), ("warn_share", 0.8))}
    if not all(0 < v < 1 for v in shares.values()):
        raise ValueError("[policy] nudge_share 与 warn_share 必须在 0 与 1 之间")
    follow_up = _follow_up(raw)
    min_time = parse_duration(str(raw.get("min_time_to_act", "10m")))
    if min_time < timedelta(0):
        raise ValueError("[policy] min_time_to_act 不能为负（缺省 10m；0 表示只要交办时没过时限就计承办单位）")
    scale = float(raw.get("scale", 1))
    if scale <= 0:
        raise ValueError("[policy] scale 必须大于 0（演示用 60 表示时钟快 60 倍）")
    return scaled(
        Policy(
            start=start,
            days=days,
            nudge_share=shares["nudge_share"],
            warn_share=shares["warn_share"],
            warn_before=parse_duration(raw["warn_before"]) if raw.get("warn_before") else None,
            escalate_after=parse_duration(raw.get("escalate_after", "10m")),
            escalate_every=parse_duration(raw.get("escalate_every", "30m")),
            escalate_max=int(raw.get("escalate_max", 3)),
            per_minute_budget=int(raw.get("per_minute_budget", 20)),
            per_hour_budget=int(raw.get("per_hour_budget", 1000)),
            follow_up_period=follow_up["follow_up_period"],
            follow_up_every=follow_up["follow_up_every"],
            min_time_to_act=min_time,
            clocks={kind: _clock(kind, spec) for kind, spec in merged.items() if spec.get("enabled", True)},
            disabled=tuple(kind for kind, spec in merged.items() if not spec.get("enabled", True)),
        ),
        scale,
    )
