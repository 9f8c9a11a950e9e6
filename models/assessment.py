"""Assessment (考核, SPEC §10): the scoring rules as data, the facts the office records, disputes and bulletins.

Late reports (迟报) and handling not reported in 24 h (处置未报) are never stored: workflow/assessment.py derives them
from the clocks each time, so a later waiver or extension is always taken into account. What the office records
(漏报, 瞒报, 处置不当) is a `Fact`; a unit's 申诉 is a `Dispute` naming the fact by its key; neither is ever edited
after its decision, and the audit log has every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime

FACT_KINDS = ("迟报", "漏报", "瞒报", "处置不当", "处置未报", "未巡查", "未跟帖")
DUTY_KINDS = ("未巡查", "未跟帖")  # the team's duty (SPEC §11): counted in every bulletin, 0 points unless a rule says
RECORDED_KINDS = ("漏报", "瞒报", "处置不当")  # the office records these; the others come from the clocks
ROLES = {"main": "主要责任", "indirect": "间接责任"}
ALL_GRADES = ("major", "significant", "general")


class DisputeState(StrEnum):
    """A unit's dispute (申诉) of a fact: awaiting the office, or decided (the fact upheld or withdrawn)."""

    pending = "pending"
    upheld = "upheld"
    withdrawn = "withdrawn"


@dataclass(frozen=True)
class Rule:
    """Points for one fact at some grades: for the unit mainly responsible and for one indirectly responsible."""

    fact: str
    grades: tuple[str, ...]
    main: float
    indirect: float


@dataclass(frozen=True)
class RuleSet:
    """The rules in force from `since` (a date, Beijing time) until a later set's since."""

    since: date
    base: float
    rules: tuple[Rule, ...]

    def points(self, fact: str, grade: str | None, role: str) -> float:
        """Return the (negative) points for a fact at a grade and role; 0 when no rule counts it."""
        for rule in self.rules:
            if rule.fact == fact and (grade or "general") in rule.grades:
                return rule.main if role == "main" else rule.indirect
        return 0.0

    def as_dict(self) -> dict[str, Any]:
        """The rule set as stored with a bulletin (so a past month keeps the rules it was scored with)."""
        return {
            "since": self.since.isoformat(),
            "base": self.base,
            "rules": [
                {"fact": r.fact, "grades": list(r.grades), "main": r.main, "indirect": r.indirect} for r in self.rules
            ],
        }


HIGH = ("major", "significant")
DEFAULT_RULES = (
    Rule("迟报", HIGH, -2, -1),
    Rule("迟报", ("general",), -1, -0.5),
    Rule("漏报", HIGH, -4, -2),
    Rule("漏报", ("general",), -2, -1),
    Rule("瞒报", HIGH, -4, -2),
    Rule("瞒报", ("general",), -2, -1),
    Rule("处置不当", HIGH, -30, -20),
    Rule("处置不当", ("general",), -20, -10),
    Rule("处置未报", ALL_GRADES, -2, 0),
)
EPOCH = date(2000, 1, 1)


def _rule(raw: dict[str, Any], where: str) -> Rule:
    fact = str(raw.get("fact", ""))
    if fact not in FACT_KINDS:
        raise ValueError(f"{where} fact 须是 {'、'.join(FACT_KINDS)} 之一，现在是 {fact!r}")
    grades = tuple(str(g) for g in raw.get("grades", ALL_GRADES))
    if not grades or any(g not in ALL_GRADES for g in grades):
        raise ValueError(f"{where} grades 只能是 major、significant、general，现在是 {list(grades)!r}")
    main, indirect = float(raw.get("main", 0)), float(raw.get("indirect", 0))
    if main > 0 or indirect > 0:
        raise ValueError(f"{where} 扣分写成负数或 0（例如 main = -2），现在是 {main}、{indirect}")
    return Rule(fact, grades, main, indirect)


def _set(raw: dict[str, Any], where: str) -> RuleSet:
    since = raw.get("since", EPOCH)
    try:
        since = since if isinstance(since, date) else date.fromisoformat(str(since))
    except ValueError:
        raise ValueError(f"{where} since 不是日期：{since!r}（写成 2027-01-01）") from None
    rules = raw.get("rules")
    parsed = tuple(_rule(r, f"{where} rules[{i}]") for i, r in enumerate(rules)) if rules else DEFAULT_RULES
    return RuleSet(since, float(raw.get("base", 100)), parsed)


def parse_scoring(raw: dict[str, Any] | None) -> tuple[RuleSet, ...]:
    """Return the rule sets of [scoring] (the current one and any [[scoring.earlier]]), oldest first."""
    raw = raw or {}
    sets = [_set(raw, "[scoring]")] + [
        _set(e, f"[[scoring.earlier]] {i}") for i, e in enumerate(raw.get("earlier", []))
    ]
    sets.sort(key=lambda s: s.since)
    if len({s.since for s in sets}) != len(sets):
        raise ValueError("[scoring] 两组规则的 since 相同")
    return tuple(sets)


def in_force(sets: tuple[RuleSet, ...], on: date) -> RuleSet:
    """Return the rule set in force on a date (the earliest set if the date precedes them all)."""
    chosen = sets[0]
    for s in sets:
        if s.since <= on:
            chosen = s
    return chosen


def rule_set_from(stored: dict[str, Any]) -> RuleSet:
    """Read a rule set back from a bulletin row."""
    return _set(stored, "bulletin")


class Fact(Base):
    """A fact the office recorded against a unit (漏报, 瞒报, 处置不当), with its evidence and reason."""

    __tablename__ = "facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    recorded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Dispute(Base):
    """A unit's dispute (申诉) of a fact, named by its key ("clock:<id>" derived, "fact:<id>" recorded)."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_fact_key", "fact_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fact_key: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[DisputeState] = mapped_column(StateText(DisputeState), default=DisputeState.pending)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class Bulletin(Base):
    """A month's bulletin (月考核通报): the rules it was scored with, and when it was sent (once)."""

    __tablename__ = "bulletins"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sends: Mapped[int] = mapped_column(Integer, default=0)
