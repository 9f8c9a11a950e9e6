"""The procedure, declared once (SPEC §6–7): every action on an item, from which states, to which state, by whom,
which cards it closes, which audit names it writes; and every kind of card (CARDS). The clocks each action starts
and meets are declared in the clock table beside it (models/clocktable.py). Pure data;
`workflow.engine.procedure.apply` applies it and nothing else checks an item's state.

Relations name who may act (see workflow/engine/procedure.py for how each is decided against the organisation):
office, general_office, leader — roles; lead_unit — a lead of the item's lead unit; assigned_unit — a lead of any
unit the item is assigned to (lead or co-handling); supervisor — the lead unit's supervisor (分管领导); decider —
a recipient of one of the item's approval cards; consulted — a person whose opinion was asked; clock_owner — who
owes the clock the action is about; clock_decider — who decides an extension of it (the owing unit's supervisor,
else the office; the leaders for the office's own clocks); member — anyone in the organisation; system — a timer
or the worker. workflow/engine/relations.py decides each relation; workflow.engine.procedure.permit applies `who`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.events import Event
from models.state import NEXT_STEP, STATE_NAMES, TRANSITIONS, CardPurpose, ItemState, Subject

S = ItemState
OPEN = frozenset(
    {S.dispatched, S.acknowledged, S.first_reported, S.written_reported, S.returned, S.approved, S.replied}
)  # assigned and not yet closed
ANY = frozenset(ItemState)
LIVE = ANY - {S.archived, S.merged}  # an archived or merged item is read-only: viewing and downloading only
MERGEABLE = frozenset({S.reported}) | OPEN  # items that may be merged as the same event (not yet closed)


class Act(StrEnum):
    """The actions on an item; their string forms (the audit action names) appear only here."""

    report = "report"
    dispatch = "dispatch"
    regrade = "regrade"
    acknowledge = "acknowledge"
    first_report = "first_report"
    progress_report = "progress_report"
    written_report = "written_report"
    handling_report = "handling_report"
    review = "review"
    approve = "approve"
    return_ = "return"
    consult = "consult"
    opinion = "opinion"
    reply_source = "reply_source"
    reply_delivered = "reply_delivered"
    close = "close"
    follow_up = "follow_up"
    rebound = "rebound"
    evaluate = "evaluate"
    archive = "archive"
    guide_replies = "guide_replies"
    draft_statement = "draft_statement"
    publish_statement = "publish_statement"
    decide_statement = "decide_statement"
    give_reason = "give_reason"
    guided_reply = "guided_reply"
    brief = "brief"
    instruction = "instruction"
    record_fact = "record_fact"
    report_merged = "report_merged"
    fact_disputed = "fact_disputed"
    decide_dispute = "decide_dispute"
    package = "package"
    request_extension = "request_extension"
    decide_extension = "decide_extension"
    follow_up_calm = "follow_up_calm"
    decide_brief = "decide_brief"
    merge = "merge"
    absorb = "absorb"
    not_same = "not_same"


P = CardPurpose


@dataclass(frozen=True)
class Action:
    """One thing a person or a timer does to an item."""

    name: Act  # the audit action it records
    label: str  # what people call it
    states: frozenset[ItemState]  # the item states it may be taken from
    to: ItemState | None  # the state it moves the item to, where the state machine allows (else it stays)
    who: tuple[str, ...]  # relations allowed to take it (see the module docstring)
    closes: tuple[CardPurpose, ...] = ()  # the cards about its subject it closes (CARDS: each purpose's subject)
    events: tuple[Event, ...] = ()  # the audit names it writes, when not its own (one per kind of step it takes)
    refusal: str = "{code} 现在不能{label}（当前：{state}）。"  # said when the item is in another state
    refusals: tuple[tuple[frozenset[ItemState], str], ...] = ()  # a more helpful sentence for some states
    denied: str = ""  # said to a person with none of the relations in `who` ({code}, {lead}: the lead unit's name)

    def writes(self) -> tuple[str, ...]:
        """Return the audit names this action writes: its declared events, else its own name."""
        return tuple(self.events) or (self.name,)

    def deny(self, code: str, lead: str) -> str:
        """Return the Chinese sentence for a person who may not take this action on item code."""
        if self.denied:
            return self.denied.format(code=code, label=self.label, lead=lead or "承办单位")
        who = "或".join(WHO_NAMES[w] for w in self.who if w != "system")
        return f"只有{who}可以{self.label}（{code}）。"

    def refuse(self, code: str, state: ItemState) -> str:
        """Return the Chinese sentence for taking this action from a state it does not allow."""
        text = next((t for states, t in self.refusals if state in states), None)
        if text is None:  # an archived item: one plain sentence, never "还没有办结（当前：已立卷归档）"
            text = {S.archived: ARCHIVED, S.merged: MERGED}.get(state, self.refusal)
        said = text.format(code=code, label=self.label, state=STATE_NAMES[state])
        named = f"（当前：{STATE_NAMES[state]}）"
        if said.count(STATE_NAMES[state]) > 1 and named in said:  # "已办结，…（当前：已办结）": say it once
            said = said.replace(named, "")
        return said


DONE_WATCHING = frozenset({S.evaluated, S.archived})
ARCHIVED = "{code} 已立卷归档，不能再{label}；案卷只能查看和下载。"  # any action refused on an archived item
MERGED = "{code} 已并入同一事件的另一条目，不能再{label}；请对保留的条目办理（发送“查询 {code}”可见其编号）。"
ANEW = "{code} {state}，不再续报或标记反弹。如舆情再次出现，请重新上报（上报 情况与链接），办公室会关联原编号 {code}。"
NOT_YET = "{code} 还没有交办（当前：{state}），交办后由承办单位报送。"
PRESS_REBOUND = "{code} 已办结，不再续报。如舆情反弹，请在善后回访卡片上点“反弹”，或发送“反弹 {code} 情况”。"


def _a(*actions: Action) -> dict[Act, Action]:
    table: dict[Act, Action] = {}
    for a in actions:
        if a.name in table:
            raise ValueError(f"action {a.name!r} declared twice")
        table[a.name] = a
    return table


ACTIONS: dict[Act, Action] = _a(
    Action(Act.report, "上报", frozenset(), S.reported, ("member",)),
    Action(
        Act.dispatch,
        "交办",
        frozenset({S.reported}),
        S.dispatched,
        ("office",),
        refusal="{code} 已经交办过了（当前：{state}），不能重复交办。",
    ),
    Action(
        Act.regrade,
        "调整等级",
        frozenset({S.reported}) | OPEN,
        None,
        ("office", "supervisor"),
        refusal="{code} 已办结，不能再调整等级（当前：{state}）。",
        closes=(P.approval,),  # 升级为重大 on an approval card: the supervisor's decision on it
    ),
    Action(
        Act.acknowledge,
        "签收",
        OPEN,
        S.acknowledged,
        ("assigned_unit",),  # only the lead unit's moves the item
        refusal="{code} 已办结，无需签收（当前：{state}）。",
        refusals=((frozenset({S.reported}), "{code} 还没有交办，无需签收。"),),
        denied="{code} 不是交办给您所在单位的，只有承办单位负责人可以签收。",
        closes=(P.ack,),
    ),
    Action(
        Act.first_report,
        "首报",
        OPEN,
        S.first_reported,
        ("lead_unit",),  # it implies the 签收 first
        refusal="{code} 已办结，不再首报（当前：{state}）。",
        refusals=((frozenset({S.reported}), NOT_YET),),
        denied="{code} 的报告由主办单位负责人报送，您不是{lead}的负责人。",
    ),
    Action(
        Act.progress_report,
        "续报",
        OPEN,
        None,
        ("assigned_unit",),  # the lead's first 续报 is its 首报
        refusal=PRESS_REBOUND,
        refusals=((DONE_WATCHING, ANEW), (frozenset({S.reported}), NOT_YET)),
        denied="{code} 的续报由承办单位负责人报送，您所在单位不是它的承办单位。",
    ),
    Action(
        Act.written_report,
        "报送书面报告",  # it implies the 签收 first
        frozenset({S.dispatched, S.acknowledged, S.first_reported, S.written_reported, S.returned}),
        S.written_reported,
        ("assigned_unit",),
        refusal="{code} 的书面报告已审核通过（当前：{state}）。有新情况请发送“续报 {code} 内容”。",
        denied="{code} 的书面报告由承办单位负责人报送，您所在单位不是它的承办单位。",
        closes=(P.upload,),
    ),
    Action(
        Act.handling_report,
        "报送处置情况",
        OPEN,
        None,
        ("lead_unit",),
        denied="{code} 的报告由主办单位负责人报送，您不是{lead}的负责人。",
    ),
    Action(
        Act.review,
        "审核",
        frozenset({S.written_reported}),
        None,
        ("decider",),
        refusal="这张卡片已过时：{code} 已进入下一步（{state}）。",
        denied="这份书面报告不是送您审批的，只有卡片的接收人可以审批 {code}。",
        closes=(P.approval,),
    ),
    Action(
        Act.approve,
        "批准",
        frozenset({S.written_reported}),
        S.approved,
        ("decider",),
        refusal="这张卡片已过时：{code} 已进入下一步（{state}）。",
        denied="这份书面报告不是送您审批的，只有卡片的接收人可以审批 {code}。",
        closes=(P.approval,),
    ),
    Action(
        Act.return_,
        "退回修改",
        frozenset({S.written_reported}),
        S.returned,
        ("decider",),
        refusal="这张卡片已过时：{code} 已进入下一步（{state}）。",
        denied="这份书面报告不是送您审批的，只有卡片的接收人可以审批 {code}。",
        closes=(P.approval,),
    ),
    Action(
        Act.consult,
        "会商",
        frozenset({S.approved}),
        None,
        ("office", "decider", "system"),
        refusal="{code} 的书面报告还没有审核通过（当前：{state}），审核通过后再会商。",
    ),
    Action(
        Act.opinion,
        "提出会商意见",
        frozenset({S.approved}),
        None,
        ("consulted",),
        refusal="{code} 现在不在会商阶段（当前：{state}）。",
        denied="{code} 的会商没有征求您的意见。",
        closes=(P.opinion,),
    ),
    Action(
        Act.reply_source,
        "回复来源",
        frozenset({S.approved}),
        S.replied,
        ("office",),
        refusal="{code} 还不能回复来源（当前：{state}）：书面报告须先经审核通过。",
        closes=(P.opinion,),
    ),
    Action(  # a 公众号 citizen got the answer: sent by 客服消息 (system) or answered by hand (the office confirms)
        Act.reply_delivered,
        "确认已答复市民",
        frozenset({S.replied, S.closed, S.follow_up}),
        None,
        ("office", "system"),
        refusal="{code} 还没有回复来源（当前：{state}），回复来源后再确认已答复市民。",
    ),
    Action(
        Act.close,
        "办结",
        frozenset({S.replied}),
        S.closed,
        ("office",),
        refusal="{code} 还不能办结（当前：{state}）：须先回复来源。",
    ),
    Action(Act.follow_up, "善后观察", frozenset({S.closed}), S.follow_up, ("system",)),
    Action(
        Act.rebound,
        "标记反弹",
        frozenset({S.follow_up}),
        S.acknowledged,
        ("lead_unit", "office"),
        refusal="{code} 不在善后观察期（当前：{state}），无法标记反弹。",
        refusals=((DONE_WATCHING, ANEW),),
        denied="只有 {code} 主办单位的负责人可以回报善后态势。",
        closes=(P.watch,),
    ),
    Action(
        Act.follow_up_calm,
        "回报态势平稳",
        frozenset({S.follow_up}),
        None,
        ("lead_unit", "office"),
        closes=(P.watch,),
        refusal="{code} 不在善后观察期（当前：{state}），无需回报态势。",
        denied="只有 {code} 主办单位的负责人可以回报善后态势。",
    ),
    Action(
        Act.evaluate,
        "总结评估",
        frozenset({S.closed, S.follow_up}),
        S.evaluated,
        ("office",),
        refusal="{code} 还没有办结（当前：{state}），办结后再总结评估。",
        refusals=((frozenset({S.evaluated}), "{code} 已经总结评估过了，下一步是立卷归档（发送“归档 {code}”）。"),),
    ),
    Action(
        Act.archive,
        "立卷归档",
        frozenset({S.evaluated}),
        S.archived,
        ("office",),
        refusal="{code} 须先总结评估才能归档（当前：{state}）。",
        refusals=((frozenset({S.archived}), "{code} 已立卷归档，无需再归档；案卷可在条目页面查看和下载。"),),
    ),
    Action(
        Act.guide_replies,
        "组织跟帖",
        frozenset({S.reported, S.closed, S.follow_up}) | OPEN,
        None,
        ("office",),
        refusals=((frozenset({S.evaluated}), "{code} {state}，不再组织跟帖。"),),
    ),
    Action(
        Act.draft_statement,
        "拟定对外口径",
        frozenset({S.closed, S.follow_up}) | OPEN,
        None,
        ("office", "lead_unit"),
        refusals=((frozenset({S.evaluated}), "{code} {state}，不再拟定或发布口径。"),),
        denied="{code} 的对外口径由领导小组办公室或主办单位负责人拟定和登记发布。",
        closes=(P.statement, P.statement_confirm),  # a new version overtakes the old one's cards
        events=(Event.statement_drafted,),
    ),
    Action(
        Act.publish_statement,
        "登记口径发布",
        frozenset({S.closed, S.follow_up}) | OPEN,
        None,
        ("office", "lead_unit"),
        refusals=((frozenset({S.evaluated}), "{code} {state}，不再拟定或发布口径。"),),
        denied="{code} 的对外口径由领导小组办公室或主办单位负责人拟定和登记发布。",
        events=(Event.statement_published,),
    ),
    Action(
        Act.decide_statement,
        "审批或确认对外口径",
        LIVE,
        None,
        ("decider", "member"),  # workflow.incident.statement: the version's deciders, the concerned units' leads
        closes=(P.statement, P.statement_confirm),
        events=(Event.statement_decided, Event.statement_confirmed, Event.statement_approved),
    ),
    Action(
        Act.give_reason,
        "填写退回理由",
        LIVE,
        None,
        ("member",),  # the step checks it is the person who returned the report or the public line
        events=(Event.return_reason, Event.statement_return_reason),
    ),
    Action(
        Act.guided_reply,
        "报告跟帖情况",
        LIVE,
        None,
        ("member",),  # workflow.incident.guided.mine: the person the part was assigned to
        events=(Event.guided_reply_proved, Event.guided_reply_declined),
    ),
    Action(
        Act.brief,
        "报送舆情快报或专报",
        LIVE,
        None,
        ("office",),
        denied="只有领导小组办公室可以报送舆情快报或专报（归口报送）。",
        events=(Event.brief_requested, Event.brief_sent),
    ),
    Action(
        Act.decide_brief,
        "审批快报或专报",
        LIVE,
        None,
        ("member",),  # workflow.record.brief.decide: the people the brief was sent to for approval
        closes=(P.brief,),
        events=(Event.brief_decided,),
    ),
    Action(
        Act.instruction,
        "批示",
        LIVE,
        None,
        ("leader",),
        denied="只有领导小组可以批示。",
    ),
    Action(
        Act.record_fact,
        "记录考核扣分",
        LIVE,
        None,
        ("office",),
        denied="只有领导小组办公室可以记录扣分事项。",
        events=(Event.fact_recorded,),
    ),
    Action(
        Act.report_merged,
        "合并重复上报",
        LIVE,
        None,
        ("member",),
        refusal="{code} 已立卷归档，案卷不再改动；同一链接再次上报时另立新条目并关联 {code}。",
    ),
    Action(
        Act.fact_disputed,
        "申诉扣分",
        LIVE,
        None,
        ("assigned_unit", "member"),  # workflow.appraisal.assessment.dispute: a lead of the unit the fact is about
        refusal="{code} 已立卷归档，案卷只能查看和下载，不能再申诉。",
    ),
    Action(
        Act.decide_dispute,
        "审定申诉",
        LIVE,
        None,
        ("office",),
        closes=(P.dispute,),
        events=(Event.dispute_decided,),
    ),
    Action(
        Act.package,
        "生成案卷",
        frozenset({S.archived}),
        None,
        ("office", "system"),
        refusal="{code} 还没有立卷归档（当前：{state}），归档后才能生成案卷。",
        events=(Event.archive_packaged,),
    ),
    Action(
        Act.request_extension,
        "申请延期",
        LIVE,
        None,
        ("clock_owner",),
        denied="您在 {code} 上没有未完成的时限，无需延期。",
        events=(Event.extension_request,),
    ),
    Action(
        Act.decide_extension,
        "审批延期",
        LIVE,
        None,
        ("clock_decider",),
        denied="只有该单位的分管领导可以审批这份延期申请。",
        closes=(P.extension,),
        events=(Event.extension_decision,),
    ),
    Action(
        Act.merge,
        "合并同一事件",  # taken on the later item: it becomes a pointer to the earlier one, which survives
        MERGEABLE,
        S.merged,
        ("office",),
        refusal="{code} 已不在办理中（当前：{state}），不能再合并。",
        denied="只有领导小组办公室可以合并同一事件的条目（{code}）。",
        closes=(P.same_event, P.ack, P.upload, P.approval, P.opinion, P.extension),
    ),
    Action(
        Act.absorb,
        "合并其他条目",  # taken on the earlier item: it receives the later one's reporters, links and files
        MERGEABLE,
        None,
        ("office",),
        refusal="{code} 已不在办理中（当前：{state}），不能把其他条目并入它。",
        denied="只有领导小组办公室可以合并同一事件的条目（{code}）。",
    ),
    Action(
        Act.not_same,
        "确认不是同一事件",
        LIVE,
        None,
        ("office",),
        denied="只有领导小组办公室可以判断是否为同一事件（{code}）。",
        closes=(P.same_event,),
    ),
)


@dataclass(frozen=True)
class CardSpec:
    """One kind of interactive card: what it asks, what it is about, who sends it; the actions that close it are
    the rows of ACTIONS whose `closes` names its purpose (a clock's cards: the actions that meet the clock)."""

    purpose: CardPurpose
    subject: Subject
    label: str  # what the card asks, as people call it
    sent_by: str  # the step or timer that sends it
    quiet: bool = False  # closing it keeps its buttons (its link stays useful, e.g. for a later version)
    standing: bool = False  # no action closes it: each button is checked again when tapped (我的待办, 选择舆情)


CARDS: dict[CardPurpose, CardSpec] = {
    c.purpose: c
    for c in (
        CardSpec(P.reminder, Subject.clock, "时限提醒", "时限引擎（提醒、最后警告）"),
        CardSpec(P.escalation, Subject.clock, "超时督办", "时限引擎（超时后逐级督办）"),
        CardSpec(P.ack, Subject.unit, "签收", "交办"),
        CardSpec(P.upload, Subject.unit, "报送书面报告", "签收、填写退回理由", quiet=True),
        CardSpec(P.approval, Subject.submission, "审核或审定书面报告", "报送书面报告、审核、调整等级"),
        CardSpec(P.opinion, Subject.item, "会商意见", "会商"),
        CardSpec(P.watch, Subject.watch, "善后回访", "善后观察（定期回访）"),
        CardSpec(P.statement, Subject.statement, "审核或审定对外口径", "拟定对外口径、审批对外口径"),
        CardSpec(P.statement_confirm, Subject.statement, "确认对外口径", "审批对外口径（审核通过后）"),
        CardSpec(P.brief, Subject.brief, "审批快报或专报", "报送舆情快报或专报"),
        CardSpec(P.dispute, Subject.dispute, "审定申诉", "申诉扣分"),
        CardSpec(P.extension, Subject.extension, "审批延期", "申请延期"),
        CardSpec(P.todo, Subject.person, "我的待办", "我的待办（查询）", standing=True),
        CardSpec(P.pick, Subject.person, "选择舆情", "不带编号的步骤（可选的不止一条时）", standing=True),
        CardSpec(P.same_event, Subject.suggestion, "是否为同一事件", "上报（发现相似的在办条目时）"),
    )
}
CLOCK_CARDS = frozenset(p for p, c in CARDS.items() if c.subject == Subject.clock)  # closed by the clock engine


def closers(purpose: CardPurpose) -> list[Action]:
    """Return the actions that close cards of purpose (declared on their rows)."""
    return [a for a in ACTIONS.values() if purpose in a.closes]


def moves(action: Action, state: ItemState) -> bool:
    """Return True if taking action from state moves the item (to a different state the machine allows)."""
    return action.to is not None and action.to != state and action.to in TRANSITIONS[state]


def check_table() -> None:
    """Fail (at import) if an action with a target state can never reach it from the states it is taken from, a card
    purpose has no declaration or no action closes it (a clock's cards close when a declared action meets the clock),
    two actions write the same audit name, or a refusal sentence reads badly for some state."""
    for a in ACTIONS.values():
        if a.to is not None and a.states and not any(moves(a, s) for s in a.states):
            raise ValueError(f"action {a.name} never reaches {a.to} from {sorted(a.states)}")
    for purpose in CardPurpose:
        if purpose not in CARDS:
            raise ValueError(f"card purpose {purpose} is not declared in CARDS")
        if purpose not in CLOCK_CARDS and not closers(purpose) and not CARDS[purpose].standing:
            raise ValueError(f"no action closes {purpose} cards")
    written = [n for a in ACTIONS.values() for n in a.writes()]
    if len(written) != len(set(written)):
        raise ValueError(f"an audit name is written by two actions: {sorted(written)}")
    for a in ACTIONS.values():
        for state in ItemState:
            text = a.refuse("YQ-1", state)
            if state not in a.states and (bad := awkward(text) or (text.count(STATE_NAMES[state]) > 1 and "twice")):
                raise ValueError(f"{a.name}: the refusal from {state} reads badly ({bad}: {text})")


def awkward(text: str) -> str:
    """Return what reads badly in a sentence people get (a doubled character such as 已已, an unfilled field)."""
    for doubled in ("已已", "待待", "不不", "，，", "。。", "的的", "了了"):
        if doubled in text:
            return doubled
    return "{" if "{" in text or "}" in text else ""


check_table()


def mermaid() -> str:
    """Return the item lifecycle as a Mermaid state diagram, drawn from ACTIONS (docs/lifecycle.md)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.reported.value}: 上报"]
    for state in ItemState:
        lines.append(f"    {state.value}: {STATE_NAMES[state]}")
    for a in ACTIONS.values():
        if a.to is None:
            continue
        for s in sorted(a.states, key=list(ItemState).index):
            if moves(a, s):
                lines.append(f"    {s.value} --> {a.to.value}: {a.label}")
    lines.append(f"    {S.archived.value} --> [*]")
    return "\n".join(lines) + "\n"


WHO_NAMES = {
    "office": "领导小组办公室",
    "general_office": "局办公室",
    "leader": "领导小组",
    "lead_unit": "主办单位负责人",
    "assigned_unit": "承办单位负责人",
    "supervisor": "分管领导",
    "decider": "审批卡片的接收人",
    "consulted": "被征求意见者",
    "co_unit": "协办单位负责人",
    "cc_unit": "抄送单位负责人",
    "clock_owner": "欠这一时限的单位负责人（办公室自己的时限由办公室）",
    "clock_decider": "该单位的分管领导（办公室的时限由领导小组）",
    "member": "组织内任何人",
    "system": "系统",
}


def lifecycle_doc() -> str:
    """Return docs/lifecycle.md: the diagram, the actions, the next step from each state, the cards and the clock
    table (时限表), all drawn from the declared tables."""
    from models import clocktable  # it imports this module: the clock table is declared beside the action table

    order = list(ItemState)
    rows = []
    for a in ACTIONS.values():
        states = "、".join(STATE_NAMES[s] for s in sorted(a.states, key=order.index)) or "（新条目）"
        to = STATE_NAMES[a.to] if a.to else "不变"
        who = "、".join(WHO_NAMES[w] for w in a.who)
        only = [f"{clocktable.label(k)}（{src}条目）" for src, k in clocktable.met_for_sources(a.name)]
        met = "、".join([clocktable.label(k) for k in clocktable.clocks_met_by(a.name)] + only) or "—"
        starts = "、".join(r.label for r in clocktable.clocks_started_by(a.name)) or "—"
        closes = "、".join(CARDS[p].label for p in a.closes) or "—"
        rows.append(f"| {a.label} | `{a.name}` | {states} | {to} | {who} | {starts} | {met} | {closes} |")
    return (
        "# 条目的生命周期（由 models/procedure.py 生成）\n\n"
        "这一页由 `python3 dev.py lifecycle --write docs/lifecycle.md` 从动作表 `models/procedure.py` 生成；"
        "测试检查它与表一致。每个动作只在表里声明一次：能在哪些状态做、做完到哪个状态、谁能做、开始和满足哪些时限、"
        "关闭哪些卡片；`workflow/engine/procedure.py` 的 `apply` 是唯一检查条目状态和身份、推进状态、记审计、"
        "处理时限、关闭卡片的入口。\n\n"
        f"```mermaid\n{mermaid()}```\n\n"
        "## 动作\n\n"
        "| 动作 | 审计名 | 可以在这些状态做 | 做完的状态 | 谁能做 | 开始的时限 | 满足的时限 | 关闭的卡片 |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n"
        + _next_steps_doc()
        + "\n"
        + _cards_doc()
        + "\n"
        + clocktable.clock_doc()
    )


def _next_steps_doc() -> str:
    rows = [
        f"| {STATE_NAMES[s]} | {n.step} | {WHO_NAMES[n.who]} | {n.command.format(code='<编号>') or '—'} |"
        for s, n in NEXT_STEP.items()
    ]
    return (
        "## 每个状态的下一步\n\n"
        "状态名里的“待……”、看板的“下一步”一栏和“我的待办”都读这一张表（`models/state.py` 的 `NEXT_STEP`）。\n\n"
        "| 状态 | 下一步 | 由谁 | 发送 |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


SUBJECT_NAMES = {
    Subject.item: "条目",
    Subject.unit: "单位在条目中的承办",
    Subject.clock: "时限",
    Subject.submission: "书面报告的一个版本",
    Subject.statement: "口径的一个版本",
    Subject.brief: "快报或专报",
    Subject.dispute: "申诉",
    Subject.extension: "延期申请",
    Subject.watch: "善后观察",
    Subject.person: "收到卡片的人",
    Subject.suggestion: "可能为同一事件的一对条目",
}


def _cards_doc() -> str:
    rows = []
    for c in CARDS.values():
        if c.purpose in CLOCK_CARDS:
            closed = "满足该时限的动作（时限引擎关闭）"
        elif c.standing:
            closed = "不关闭（每个按钮点击时重新判断）"
        else:
            closed = "、".join(a.label for a in closers(c.purpose))
        quiet = "（按钮保留）" if c.quiet else ""
        rows.append(f"| {c.label} | `{c.purpose}` | {SUBJECT_NAMES[c.subject]} | {c.sent_by} | {closed}{quiet} |")
    return (
        "## 卡片\n\n"
        "每张交互卡片记下它的用途和主题（关于哪一条记录），按主题和用途查找，从不按 task_id 匹配；"
        "关闭它的动作在动作表上声明（`closes`）。\n\n"
        "| 卡片 | 用途 | 主题 | 由谁发出 | 由哪些动作关闭 |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
