"""The assessment rules of [scoring] (SPEC §10): points per fact, grade and role, in force from a date; pure.

The typed [scoring] section of the configuration (checked by core.config when it is loaded); the facts, disputes and
bulletins it scores are in models.assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

FACT_KINDS = ("迟报", "漏报", "瞒报", "处置不当", "处置未报", "未巡查", "未跟帖")
ALL_GRADES = ("major", "significant", "general")


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
