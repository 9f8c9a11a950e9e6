"""The clock table (SPEC §4–5), declared once beside the action table: every deadline an item can owe.

One row per clock kind says who owes it, which actions of `models.procedure` start and meet it, whether a 反弹
restarts it, which items carry it (sources), what people read about it (label, the next step, the reminder
buttons) and the assessment fact a miss is charged as. Durations are configuration (`[policy.clocks.<kind>]`,
shipped defaults in `core.policy`); everything else is here. `workflow.engine.clocks.on_action` starts and meets
clocks from this table, and every reader (reminders, assessment, bulletin, extension, timeline, docs) asks it.

A new clock is one `ClockRow` in CLOCKS below plus its durations in config — or, for a deployment's own clock, one
`[policy.clocks.<kind>]` section that also declares the row (`started_by`, `met_by`, `next_step`, `deduction` …;
see `rows_from_config`), added to this same table at startup by the composition root (wiring). Pure data,
checked at import (`check_clocks`) and at startup (`check_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.policy import ClockKind, Policy
from core.scoring import FACT_KINDS
from models.codes import CARD_KEYS
from models.procedure import ACTIONS, Act


class Owner(StrEnum):
    """Who owes a clock: the item's lead unit (its leads) or the leading group's office."""

    lead_unit = "lead_unit"
    office = "office"


class CountsFrom(StrEnum):
    """When a started clock's time counts from (a 反弹 restart always counts from the rebound)."""

    reported = "reported"  # the item's report (发现) time
    policy = "policy"  # [policy] start: the report time, or the starting action's time ("dispatched")
    action = "action"  # the starting action's time


@dataclass(frozen=True)
class Button:
    """A button on the clock's reminder cards: its text and the card key prefix it sends (models.codes)."""

    text: str
    key: str  # a CARD_KEYS prefix whose fields are "clock" (the clock's id), "code" (the item's 编号), "step"
    step: Act | None = None  # the "step" field: the action a `do:<step>:<编号>` button opens (写首报)


def step_button(text: str, act: Act) -> Button:
    """The button that opens the conversation for the step that meets the clock (`do:<step>:<编号>`)."""
    return Button(text, "do", act)


@dataclass(frozen=True)
class ClockRow:
    """One kind of clock: everything but its durations (config)."""

    kind: str
    label: str  # its Chinese name (config may rename it: [policy.clocks.<kind>] label)
    owner: Owner
    started_by: tuple[Act, ...]  # actions that start it
    met_by: tuple[Act, ...]  # actions that meet it (met late once missed)
    next_step: str  # the sentence a reminder ends with: what to send to meet it ({code}: the item's 编号)
    deduction: str | None  # the assessment fact (core.scoring) a miss or a late meeting is charged as; None: none
    counts_from: CountsFrom = CountsFrom.policy
    rebound_restarts: bool = False  # a 反弹 starts it again for the lead unit, counted from the rebound
    sources: tuple[str, ...] = ()  # only items from these sources carry it (empty: every item)
    met_by_source: tuple[tuple[str, tuple[Act, ...]], ...] = ()  # items from a source met by these actions instead
    next_step_by_source: tuple[tuple[str, str], ...] = ()  # items from a source: their own next step ({code})
    buttons: tuple[Button, ...] = ()  # on its reminder cards (the final warning adds 申请延期)
    external_due: bool = False  # a deadline the upper level set at 交办 (限 …) is its due
    period_limit: bool = False  # a sensitive period's own first-report limit caps its due
    named_in_bulletin: bool = False  # a miss without an extension asked names the unit in the bulletin (点名)
    aliases: tuple[str, ...] = ()  # other words people type for it (the command that meets it: 处置报告, 发布 …)
    prepared_by: tuple[Act, ...] = ()  # steps owed while it is open that lead to meeting it (拟口径 before 发布)
    notes: dict[str, Any] = field(default_factory=dict, compare=False)  # free-form, for a deployment's own rows


class Effect(StrEnum):
    """What an action does to every clock of the item still owed, beyond the clocks its rows start and meet."""

    waive = "waive"  # waived, each with a `clock_waived` audit row (办结: the item is closed)
    waive_in_row = "waive_in_row"  # waived without rows of their own: the action's own row names them (归档)
    reschedule = "reschedule"  # the open ones recomputed for the item's new grade (定级, 升级为重大)


@dataclass(frozen=True)
class OnAll:
    """An action's effect on every owed clock, and the reason its audit rows and card labels give."""

    effect: Effect
    reason: str = ""  # 办结: "已办结"; 归档: "已立卷归档"


ON_ALL: dict[Act, OnAll] = {
    Act.close: OnAll(Effect.waive, "已办结"),
    Act.archive: OnAll(Effect.waive_in_row, "已立卷归档"),
    Act.regrade: OnAll(Effect.reschedule),
    Act.merge: OnAll(Effect.waive, "已并入同一事件"),  # the merged item's clocks end, not missed: no deduction
}


def effect_of(act: Act) -> OnAll | None:
    """Return what action act does to every clock still owed (waive, reschedule), or None (only its rows)."""
    return ON_ALL.get(act)


CLOCKS: dict[str, ClockRow] = {}
_CONFIGURED: set[str] = set()  # the kinds declared from configuration (replaced when a process is wired again)


def declare(row: ClockRow) -> ClockRow:
    """Add row to the clock table (a deployment's own clock: then give it durations in [policy.clocks.<kind>]);
    refuse a kind declared twice or a row the check rejects."""
    if row.kind in CLOCKS:
        raise ValueError(f"clock {row.kind!r} declared twice")
    _check(row)
    CLOCKS[row.kind] = row
    return row


def withdraw(kind: str) -> None:
    """Remove a clock declared with declare() or from configuration; the shipped rows stay."""
    if kind in set(ClockKind):
        raise ValueError(f"clock {kind!r} is shipped and cannot be withdrawn")
    CLOCKS.pop(kind, None)
    _CONFIGURED.discard(kind)


ROW_KEYS = {"started_by", "met_by", "next_step", "deduction", "owner", "label"}  # a config row needs these


def _acts(raw: Any, where: str) -> tuple[Act, ...]:
    names = [raw] if isinstance(raw, str) else list(raw or ())
    known = {a.value for a in Act}
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"[{where}] {bad} 不是动作表（models/procedure.py）里的动作；可用：{'、'.join(sorted(known))}")
    return tuple(Act(n) for n in names)


def row_from_config(kind: str, raw: dict[str, Any]) -> ClockRow:
    """Return the clock row a [policy.clocks.<kind>] section declares (a deployment's own clock), or raise
    ValueError naming the key. `deduction = ""` says explicitly that a miss is not charged."""
    where = f"policy.clocks.{kind}"
    missing = sorted(k for k in ROW_KEYS if k not in raw)
    if missing:
        raise ValueError(f'[{where}] 声明新时限还需要：{"、".join(missing)}（deduction 写 "" 表示不扣分）')
    try:
        owner, counts = Owner(str(raw["owner"])), CountsFrom(str(raw.get("counts_from", CountsFrom.policy)))
    except ValueError:
        raise ValueError(
            f"[{where}] owner 须是 lead_unit 或 office，counts_from 须是 reported、policy 或 action"
        ) from None
    try:
        buttons = tuple(Button(str(t), str(k)) for t, k in raw.get("buttons", ()))
    except (TypeError, ValueError):
        raise ValueError(f'[{where}] buttons 写成 [["按钮文字", "卡片键前缀"], …]') from None
    r = ClockRow(
        kind=kind,
        label=str(raw["label"]),
        owner=owner,
        started_by=_acts(raw["started_by"], f"{where}.started_by"),
        met_by=_acts(raw["met_by"], f"{where}.met_by"),
        next_step=str(raw["next_step"]),
        deduction=str(raw["deduction"]) or None,
        counts_from=counts,
        rebound_restarts=bool(raw.get("rebound_restarts", False)),
        sources=tuple(str(s) for s in raw.get("sources", ())),
        buttons=buttons,
        external_due=bool(raw.get("external_due", False)),
        named_in_bulletin=bool(raw.get("named_in_bulletin", False)),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
    )
    try:
        _check(r)
    except ValueError as exc:
        raise ValueError(f"[{where}] {exc}") from None
    return r


def rows_from_config(clocks: dict[str, Any]) -> list[ClockRow]:
    """Declare the clocks the [policy.clocks.*] sections declare (those with `started_by`), replacing the ones an
    earlier wiring of this process declared; return them. A shipped kind cannot be redeclared (only renamed)."""
    for kind in list(_CONFIGURED):
        withdraw(kind)
    rows = []
    for kind, raw in clocks.items():
        if not isinstance(raw, dict) or "started_by" not in raw:
            continue
        if kind in CLOCKS:
            raise ValueError(f"[policy.clocks.{kind}] 已在时限表里声明，配置只能改时长和 label")
        rows.append(declare(row_from_config(kind, raw)))
        _CONFIGURED.add(kind)
    return rows


def row(kind: str) -> ClockRow | None:
    """Return the declared row of clock kind (None for a kind no longer declared)."""
    return CLOCKS.get(kind)


def label(kind: str) -> str:
    """Return a clock kind's Chinese name as declared (the kind itself if undeclared)."""
    r = CLOCKS.get(kind)
    return r.label if r else kind


def resolve(word: str) -> str:
    """Return the label of the clock a typed word names through its aliases (处置报告 → 处置情况报告), else word."""
    return next((r.label for r in CLOCKS.values() if word in r.aliases), word)


def labels() -> tuple[str, ...]:
    """Return every declared clock's label, in table order."""
    return tuple(r.label for r in CLOCKS.values())


def clocks_started_by(act: Act) -> tuple[ClockRow, ...]:
    """Return the clocks action act starts (a 反弹 restarts those whose row says so)."""
    return tuple(r for r in CLOCKS.values() if act in r.started_by or (act == Act.rebound and r.rebound_restarts))


def clocks_met_by(act: Act, source: str | None = None) -> tuple[str, ...]:
    """Return the kinds of the clocks action act meets (on an item from source, when given: met_by_source)."""
    return tuple(r.kind for r in CLOCKS.values() if act in dict(r.met_by_source).get(source or "", r.met_by))


def clocks_owed_by(act: Act) -> tuple[str, ...]:
    """Return the kinds of the clocks whose being open means act is owed (those it meets or prepares)."""
    return tuple(r.kind for r in CLOCKS.values() if act in r.met_by or act in r.prepared_by)


def met_for_sources(act: Act) -> list[tuple[str, str]]:
    """(source name, clock kind) of each clock act meets only on items from that source (met_by_source)."""
    from models.item import SOURCES

    return [(SOURCES.get(src, src), r.kind) for r in CLOCKS.values() for src, acts in r.met_by_source if act in acts]


def deductions() -> dict[str, str]:
    """Return kind → assessment fact for every clock a unit is charged for when it misses it."""
    return {r.kind: r.deduction for r in CLOCKS.values() if r.deduction and r.owner == Owner.lead_unit}


def deduction_of(kind: str) -> dict[str, str]:
    """Return {"fact": …} — what a miss of clock kind counts as, for its audit row — or {} when it is not charged."""
    r = CLOCKS.get(kind)
    return {"fact": r.deduction} if r is not None and r.deduction else {}


def named_in_bulletin() -> tuple[str, ...]:
    """Return the kinds whose miss names the unit in the monthly bulletin."""
    return tuple(r.kind for r in CLOCKS.values() if r.named_in_bulletin)


def _check(r: ClockRow) -> None:
    """Fail unless r is started and met by declared actions, its deduction is a scoring fact, its buttons exist."""
    for what, acts in (("started_by", r.started_by), ("met_by", r.met_by)):
        if not acts and not (what == "started_by" and r.rebound_restarts):
            raise ValueError(f"clock {r.kind}: {what} names no action")
        unknown = [a for a in acts if a not in ACTIONS]
        if unknown:
            raise ValueError(f"clock {r.kind}: {what} names undeclared actions {unknown}")
    if r.deduction is not None and r.deduction not in FACT_KINDS:
        raise ValueError(f"clock {r.kind}: deduction {r.deduction!r} is not one of {FACT_KINDS}")
    if r.deduction is not None and r.owner != Owner.lead_unit:
        raise ValueError(f"clock {r.kind}: only a unit's clock is charged (the office is not assessed)")
    for b in r.buttons:
        fields = CARD_KEYS.get(b.key)
        if fields is None or not set(fields) <= {"clock", "code", "step"}:
            raise ValueError(f"clock {r.kind}: button {b.text} sends {b.key!r}, not a key of a clock or an item")
        if ("step" in fields) != (b.step is not None) or (b.step is not None and b.step not in r.met_by):
            raise ValueError(f"clock {r.kind}: button {b.text} must name a step that meets the clock (and only then)")
    if "{code}" not in r.next_step:
        raise ValueError(f"clock {r.kind}: next_step must name the item ({{code}})")


def check_clocks() -> None:
    """Fail (at import) unless every clock is started by a declared action, met by one and says its deduction."""
    for r in CLOCKS.values():
        _check(r)


def check_policy(policy: Policy) -> None:
    """Fail (at startup, wiring) unless every [policy.clocks.<kind>] names a declared clock and every declared clock
    has durations (or is switched off with enabled = false): a clock is never silently never started."""
    unknown = sorted(set(policy.clocks) - set(CLOCKS))
    if unknown:
        names = "、".join(f"[policy.clocks.{k}]" for k in unknown)
        raise ValueError(f"{names} 不是时限表（models/clocktable.py）里声明的时限：{'、'.join(CLOCKS)}")
    missing = sorted(set(CLOCKS) - set(policy.clocks) - set(policy.disabled))
    if missing:
        names = "、".join(f"{CLOCKS[k].label}（[policy.clocks.{k}]）" for k in missing)
        raise ValueError(f'时限 {names} 没有配置时长：请写 due（如 "4h"）或 days，或 enabled = false 关闭')


_REPORT = "完成后发送“首报 {code} 内容”；已口头汇报的请点“已口头汇报”。"
_WRITTEN = "请点“写书面报告”或发送“书面报告 {code}”；Word/PDF 用报送卡片上的“上传文件”。"
_PUBLISH = "口径定稿并发布后请发送“发布 {code} <渠道> [链接]”登记（尚无口径先发“口径 {code} 口径文字”）。"

for _row in (
    ClockRow(
        ClockKind.first_report,
        "首报",
        Owner.lead_unit,
        started_by=(Act.dispatch,),
        met_by=(Act.first_report, Act.written_report),
        next_step=_REPORT,
        deduction="迟报",
        rebound_restarts=True,
        buttons=(Button("已口头汇报", "oral"), step_button("写首报", Act.first_report)),
        period_limit=True,
    ),
    ClockRow(
        ClockKind.written_report,
        "书面报告",
        Owner.lead_unit,
        started_by=(Act.dispatch,),
        met_by=(Act.written_report,),
        next_step=_WRITTEN,
        deduction="迟报",
        rebound_restarts=True,
        buttons=(Button("写书面报告", "wr"),),
        external_due=True,
    ),
    ClockRow(
        ClockKind.notify_units,
        "通报相关单位",
        Owner.office,
        started_by=(Act.report,),
        met_by=(Act.dispatch,),
        next_step="请尽快交办：交办 {code} <单位> <等级>。",
        deduction=None,
        counts_from=CountsFrom.reported,
        aliases=("交办",),
    ),
    ClockRow(
        ClockKind.handling_report,
        "处置情况报告",
        Owner.lead_unit,
        started_by=(Act.dispatch,),
        met_by=(Act.handling_report,),
        next_step="请发送“处置报告 {code} 处置情况及结果”。",
        deduction="处置未报",
        aliases=("处置报告", "处置情况"),
    ),
    ClockRow(  # 国办发〔2016〕61号: major incidents a first statement within 24 h, others 48 h
        ClockKind.public_response,
        "信息发布",
        Owner.office,
        started_by=(Act.dispatch,),
        met_by=(Act.publish_statement,),
        next_step=_PUBLISH,
        deduction=None,
        aliases=("发布", "登记发布"),
        prepared_by=(Act.draft_statement,),
    ),
    ClockRow(  # rolling updates after each publication: every 发布 meets one and starts the next
        ClockKind.public_update,
        "滚动发布",
        Owner.office,
        started_by=(Act.publish_statement,),
        met_by=(Act.publish_statement,),
        next_step="滚动发布后请发送“发布 {code} <渠道> [链接]”登记。",
        deduction=None,
        counts_from=CountsFrom.action,
    ),
    ClockRow(
        ClockKind.reply_source,
        "留言答复",
        Owner.office,
        started_by=(Act.report,),
        met_by=(Act.reply_source,),
        next_step="答复后请发送“回复来源 {code} 答复内容”。",
        deduction=None,
        counts_from=CountsFrom.reported,
        sources=("message_board", "official_account"),
        # a 公众号 citizen's answer counts once it reached them (客服消息) or the office confirms answering by hand
        met_by_source=(("official_account", (Act.reply_delivered,)),),
        next_step_by_source=(
            (
                "official_account",
                "答复后请发送“回复来源 {code} 答复内容”，瞭望经公众号发给市民；"
                "须人工答复的，答复后发送“已答复市民 {code}”。",
            ),
        ),
        named_in_bulletin=True,
        aliases=("回复来源", "答复来源"),
    ),
):
    CLOCKS[_row.kind] = _row

check_clocks()

EFFECT_NAMES = {
    Effect.waive: "时全部免除（每个记一条“免除时限”）",
    Effect.waive_in_row: "时全部结束（记在这一步的记录里）",
    Effect.reschedule: "后按新等级重算（已发出的提醒不再重发）",
}
OWNER_NAMES = {Owner.lead_unit: "主办单位", Owner.office: "领导小组办公室"}


def clock_doc() -> str:
    """Return the 时限表 section of docs/lifecycle.md, drawn from CLOCKS."""
    rows = []
    for r in CLOCKS.values():
        start = "、".join(ACTIONS[a].label for a in r.started_by) or "—"
        met = "、".join(ACTIONS[a].label for a in r.met_by)
        rebound = "是" if r.rebound_restarts else "—"
        owner, fact = OWNER_NAMES[r.owner], r.deduction or "不扣分"
        rows.append(f"| {r.label} | `{r.kind}` | {owner} | {start} | {met} | {rebound} | {fact} |")
    return (
        "## 时限表（由 models/clocktable.py 生成）\n\n"
        "每个时限只在时限表里声明一次：谁欠、哪个动作开始、哪些动作完成、反弹是否重新起算、超时计为哪项考核扣分；"
        "时长在配置 `[policy.clocks.<kind>]` 里。\n\n"
        "| 时限 | 名称 | 由谁负责 | 开始于 | 完成于 | 反弹重新起算 | 超时扣分 |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "对所有未完成的时限："
        + "；".join(f"{ACTIONS[a].label}{EFFECT_NAMES[e.effect]}" for a, e in ON_ALL.items())
        + "。\n"
    )
