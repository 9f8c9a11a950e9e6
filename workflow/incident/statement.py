"""One agreed public line per item (统一口径 / 信息发布), SPEC §12.

The office or the lead unit drafts a version; the lead unit's supervisor (else the office) reviews it (审核); for a
major item the leaders then decide (审定); any other body it concerns confirms it (seed 001 第八条, "谁主管、谁发声").
Only then is the version approved: numbered and frozen. 回复来源 and guided replies quote only an approved version.
发布 records where, when and the link of the publication and meets the public-response clock.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import args
from core.clock import show
from core.config import Config
from models import Grade, Item, Person, Role, Statement, StatementState, Unit
from models.codes import card_key
from models.events import Event
from models.procedure import Act
from models.state import CardPurpose
from workflow.engine import procedure
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render

USAGE = (
    "格式：口径 <编号> <对外发布的文字> [会同 <单位…>]\n"
    "“会同”后写涉及的其他单位，须经它们确认。审核（重大舆情再经领导小组审定）通过后才算定稿。"
)
SOURCE = "瞭望 · 统一口径"
OPEN_STATES = (StatementState.pending, StatementState.reviewed, StatementState.confirming)


def approved(session: Session, item: Item) -> Statement | None:
    """The item's newest approved (frozen) version, if any."""
    return session.scalar(
        select(Statement)
        .where(Statement.item_id == item.id, Statement.state == StatementState.approved)
        .order_by(Statement.version.desc())
        .limit(1)
    )


BEFORE_KEYWORD = " \t\r\n\u3000;；,，、:："  # the separator before 会同 is not part of the public text


def parse_draft(session: Session, typed: str) -> tuple[str, list[Unit]]:
    """Split “<对外发布的文字> 会同 <单位…>” into (the public text as typed, the units to confirm); 会同 counts after a
    space or any punctuation. A 会同 followed directly by words that are not units is part of the text (“会同公安
    部门调查”); after a space or colon every word must be a unit, else refuse naming it."""
    for i in reversed(args.spots(typed, "会同")):
        names = args.words(typed[i + len("会同") :])
        units = [org.find_unit(session, n) for n in names]
        if names and all(units):
            return typed[:i].rstrip(BEFORE_KEYWORD).strip(), [u for u in units if u is not None]
        if args.spaced_after(typed, i, "会同"):
            missing = next((n for n, u in zip(names, units, strict=True) if u is None), "")
            raise Refusal(f"没有找到单位“{missing}”。{USAGE}" if missing else f"“会同”后请写涉及的单位。{USAGE}")
    return typed.strip(), []


def draft(session: Session, actor: Person, code: str, typed: str, at: datetime) -> Statement:
    """A new version drafted by the office or the lead unit; earlier open versions are superseded; sent for 审核."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.draft_statement, actor)
    text, confirm = parse_draft(session, typed)
    if not text:
        raise Refusal(USAGE)
    if len({u.id for u in confirm}) != len(confirm):
        raise Refusal(f"“会同”后同一个单位写了两次，请检查。{USAGE}")
    overtaken = list(
        session.scalars(select(Statement).where(Statement.item_id == item.id, Statement.state.in_(OPEN_STATES)))
    )
    for old in overtaken:
        old.state = StatementState.superseded
    version = (session.scalar(select(func.max(Statement.version)).where(Statement.item_id == item.id)) or 0) + 1
    st = Statement(
        item_id=item.id, version=version, text=text[:2000], drafted_by=actor.userid, state=StatementState.pending,
        deciders=[], confirm_units=[u.id for u in confirm], confirmed_units=[], created_at=at,
    )  # fmt: skip
    session.add(st)
    session.flush()
    procedure.apply(
        session, item, Act.draft_statement, actor, at, about=[old.id for old in overtaken], closing="已被新版本取代",
        version=version, confirm=[u.key for u in confirm],
    )  # fmt: skip
    lead = item.lead
    sup = org.supervisor(session, lead.unit) if lead else None
    _ask(session, item, st, [sup] if sup else org.userids(org.with_role(session, Role.office)), "审核", at)
    return st


def _ask(session: Session, item: Item, st: Statement, to: list[str], stage: str, at: datetime) -> None:
    """Send the current stage's card (审核 / 审定) to its deciders."""
    st.deciders = [u for u in dict.fromkeys(to) if u]
    task_id = f"stmt-{st.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.statement, task_id, item.id, st.deciders, at, about=st.id)
    body = render.button_card(
        SOURCE,
        f"【口径{stage}】{item.title}",
        st.text[:200],
        f"{item.code} 对外发布口径第 {st.version} 版，请{stage}。",
        [("编号", item.code), ("版本", f"第 {st.version} 版"), ("环节", stage)],
        task_id,
        [("同意", card_key("stmt", st.id, "ok"), 1), ("退回修改", card_key("stmt", st.id, "back"), 2)],
    )
    emit(session, st.deciders, body, f"card:{task_id}", at, item, task_id=task_id)


def decide(
    session: Session, actor: Person, statement_id: int, ok: bool, at: datetime, clicked: tuple[str, str] | None = None
) -> tuple[Statement, str, bool]:
    """The current stage's decider agrees or returns the version; a second decision is refused politely. The flag
    says the reason for a return is now asked of the decider (give_reason)."""
    st = session.get(Statement, statement_id)
    if st is None:
        raise Refusal("这张口径卡片已失效。")
    item = session.get_one(Item, st.item_id)
    procedure.allowed(session, item, Act.decide_statement, actor)
    if st.state not in (StatementState.pending, StatementState.reviewed):
        return st, f"{item.code} 口径第 {st.version} 版已经处理过了（{_state_name(st)}）。", False
    if actor.userid not in st.deciders:
        raise Refusal(f"这份口径不是送您审批的，只有卡片的接收人可以审批（{item.code} 第 {st.version} 版）。")
    stage = "审核" if st.state == StatementState.pending else "审定"
    procedure.apply(
        session, item, Act.decide_statement, actor, at, event=Event.statement_decided, about=st.id,
        closing=f"{actor.name} 已{'同意' if ok else '退回'}", clicked=clicked, version=st.version, stage=stage, ok=ok,
    )  # fmt: skip
    if not ok:
        st.state = StatementState.returned
        _tell_drafter(session, item, st, f"被{actor.name}退回修改，请修改后重新发送“口径 {item.code} 新的文字”。", at)
        drafter = session.scalar(select(Person.name).where(Person.userid == st.drafted_by)) or st.drafted_by
        return (
            st,
            f"已退回 {item.code} 口径第 {st.version} 版。请直接回复退回理由（将转给起草人{drafter}）；"
            "回复“跳过”则不附理由。",
            True,
        )
    if st.state == StatementState.pending:
        st.reviewed_by = actor.userid
        if item.grade == Grade.major:
            st.state = StatementState.reviewed
            leaders = org.userids(org.with_role(session, Role.leader))
            if leaders:
                _ask(session, item, st, leaders, "审定", at)
                return st, f"已审核 {item.code} 口径第 {st.version} 版，已送领导小组审定。", False
    return st, _after_decisions(session, item, st, actor, at), False


def give_reason(session: Session, actor: Person, statement_id: int, reason: str, at: datetime) -> str:
    """The decider's reason for returning a version: recorded and sent to its drafter (“跳过”: none is sent)."""
    st = session.get(Statement, statement_id)
    if st is None or st.state != StatementState.returned:
        raise Refusal("没有等待您填写理由的口径退回。")
    item = session.get_one(Item, st.item_id)
    procedure.allowed(session, item, Act.give_reason, actor)
    if st.comment:
        return "退回理由已经发出，无需重复。"
    reason = "" if reason.strip() == "跳过" else reason.strip()[:2000]
    st.comment = reason or "（未附理由）"
    procedure.apply(
        session, item, Act.give_reason, actor, at, event=Event.statement_return_reason, version=st.version,
        reason=st.comment,
    )  # fmt: skip
    if not reason:
        return f"好的，{item.code} 口径第 {st.version} 版退回时不附理由。"
    emit(
        session,
        [st.drafted_by],
        render.text(f"【口径退回理由】{item.code} 第 {st.version} 版，{actor.name}：{reason}"),
        f"statement:{st.id}:reason",
        at,
        item,
    )
    return f"退回理由已转给起草人（{item.code} 口径第 {st.version} 版）。"


def confirmers_line(session: Session, st: Statement) -> str:
    """The line telling the drafter which units will be asked to confirm the version (会同)."""
    if not st.confirm_units:
        return "须确认的单位：无（如涉及其他单位，在文字后写“会同 单位名”）。"
    names = "、".join(session.get_one(Unit, u).name for u in st.confirm_units)
    return f"须确认的单位：{names}（审批通过后请其确认）。"


def _after_decisions(session: Session, item: Item, st: Statement, actor: Person, at: datetime) -> str:
    """Ask the bodies it concerns to confirm, else approve."""
    st.deciders = []
    if st.confirm_units:
        st.state = StatementState.confirming
        for unit_id in st.confirm_units:
            unit = session.get_one(Unit, unit_id)
            leads = org.userids(org.unit_leads(session, unit))
            task_id = f"stmtc-{st.id}-{unit_id}-{secrets.token_hex(4)}"
            new_card(session, CardPurpose.statement_confirm, task_id, item.id, leads, at, unit_id=unit_id, about=st.id)
            body = render.button_card(
                SOURCE,
                f"【口径确认】{item.title}",
                st.text[:200],
                f"{item.code} 对外发布口径涉及贵单位，请确认（“谁主管、谁发声”）。",
                [("编号", item.code), ("版本", f"第 {st.version} 版")],
                task_id,
                [
                    ("确认", card_key("stmtc", st.id, unit_id, "ok"), 1),
                    ("有意见", card_key("stmtc", st.id, unit_id, "say"), 2),
                ],
            )
            emit(session, leads, body, f"card:{task_id}", at, item, task_id=task_id)
        return f"已同意 {item.code} 口径第 {st.version} 版，已请涉及单位确认。"
    _approve(session, item, st, actor, at)
    return f"已同意 {item.code} 口径第 {st.version} 版，口径定稿。"


def confirm(
    session: Session, actor: Person, statement_id: int, unit_id: int, ok: bool, note: str, at: datetime
) -> tuple[Statement, str]:
    """A concerned body's lead confirms (or objects: the version returns to the drafter with the note)."""
    st = session.get(Statement, statement_id)
    if st is None:
        raise Refusal("这张口径卡片已失效。")
    item = session.get_one(Item, st.item_id)
    procedure.allowed(session, item, Act.decide_statement, actor)
    if unit_id not in st.confirm_units or actor.unit_id != unit_id or not actor.has(Role.unit_lead):
        raise Refusal(f"只有涉及单位的负责人可以确认 {item.code} 的口径。")
    if st.state != StatementState.confirming or unit_id in st.confirmed_units:
        return st, f"{item.code} 口径第 {st.version} 版已经确认过或已结束（{_state_name(st)}）。"
    unit = session.get_one(Unit, unit_id)
    procedure.apply(  # an objection returns the version: every card still open on it closes
        session, item, Act.decide_statement, actor, at, event=Event.statement_confirmed,
        about=None if ok else st.id, closing=f"{unit.name} 有意见", version=st.version, ok=ok, note=note[:500],
    )  # fmt: skip
    if not ok:
        st.state, st.comment = StatementState.returned, note[:2000]
        _tell_drafter(session, item, st, f"{unit.name}{actor.name}提出意见：{note[:300]}。请修改后重新发送口径。", at)
        return st, f"已把您的意见转给起草人，{item.code} 口径第 {st.version} 版退回修改。"
    st.confirmed_units = [*st.confirmed_units, unit_id]
    if set(st.confirmed_units) >= set(st.confirm_units):
        _approve(session, item, st, actor, at)
        return st, f"已确认。{item.code} 口径第 {st.version} 版各方确认完毕，已定稿。"
    return st, f"已确认 {item.code} 口径第 {st.version} 版，等待其他单位确认。"


def _approve(session: Session, item: Item, st: Statement, actor: Person, at: datetime) -> None:
    st.state, st.approved_by, st.approved_at = StatementState.approved, actor.userid, at
    procedure.apply(session, item, Act.decide_statement, actor, at, event=Event.statement_approved, version=st.version)
    office = org.userids(org.with_role(session, Role.office))
    emit(
        session,
        [*office, st.drafted_by],
        render.text(
            f"【口径定稿】{item.code}《{item.title}》第 {st.version} 版：{st.text[:600]}\n"
            f"发布后请发送“发布 {item.code} <渠道> <链接>”；回复来源、组织跟帖都以此为准。"
        ),
        f"statement:{st.id}:approved",
        at,
        item,
    )


def _tell_drafter(session: Session, item: Item, st: Statement, what: str, at: datetime) -> None:
    emit(
        session,
        [st.drafted_by],
        render.text(f"【口径】{item.code} 第 {st.version} 版{what}"),
        f"statement:{st.id}:{st.state.value}",
        at,
        item,
    )


def publish(
    session: Session, config: Config, actor: Person, code: str, where: str, url: str | None, at: datetime
) -> Statement:
    """Record the publication of the newest approved version (where, when, link); it meets the public-response
    clock. Refuse when nothing is approved yet."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.publish_statement, actor)
    st = approved(session, item)
    if st is None:
        raise Refusal(f"{item.code} 还没有定稿的口径，不能登记发布。先发送“口径 {item.code} 文字”送审。")
    if not where.strip():
        raise Refusal(f"请写明发布渠道，例如：发布 {item.code} 官方微博 https://…")
    st.published_where, st.published_url, st.published_at, st.published_by = where[:128], url, at, actor.userid
    procedure.apply(
        session,
        item,
        Act.publish_statement,
        actor,
        at,
        event=Event.statement_published,
        version=st.version,
        where=where,
        url=url,
        config=config,
    )  # fmt: skip  (the clock table: it meets 信息发布/滚动发布 and starts the rolling update while the item is open)
    return st


STATE_NAMES = {
    StatementState.pending: "待审核",
    StatementState.reviewed: "待领导小组审定",
    StatementState.confirming: "待涉及单位确认",
    StatementState.approved: "已定稿",
    StatementState.returned: "已退回修改",
    StatementState.superseded: "已被新版本取代",
}


def _state_name(st: Statement) -> str:
    return STATE_NAMES[st.state]


def summary(session: Session, code: str) -> str:
    """口径 <编号>: the approved line, the version in progress, the publications."""
    item = find_item(session, code)
    rows = session.scalars(select(Statement).where(Statement.item_id == item.id).order_by(Statement.version)).all()
    if not rows:
        return f"{item.code} 还没有口径。{USAGE}"
    lines = [f"{item.code} 的口径："]
    for st in rows:
        pub = f"；{show(st.published_at, True)} 发布于{st.published_where}" if st.published_at else ""
        lines.append(f"· 第 {st.version} 版（{_state_name(st)}{pub}）：{st.text[:120]}")
    return "\n".join(lines)
