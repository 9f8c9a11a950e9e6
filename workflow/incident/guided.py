"""Guided-reply tasks (组织跟帖), SPEC §11: the office asks named commentators to reply under a post along a line,
by a deadline, and each proves it (a link and/or a screenshot) or declines with a reason; a miss counts."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core import args
from core.clock import show
from core.config import Config
from core.durations import format_duration
from models import Attachment, GuidedAssignment, GuidedState, GuidedTask, Item, ItemState, Person, Role, Unit
from models.codes import card_key
from models.events import Event
from models.procedure import Act
from workflow.engine import periodic, procedure
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.outbox import Job, defer, emit
from workflow.incident import statement
from workflow.incident.dispatch import explicit_due, typed_scale
from workflow.incident.links import find_links
from workflow.people import org
from workflow.views import render

USAGE = (
    "格式：跟帖 <编号> <人员或单位…> <要点> [限2小时]\n"
    "例如：跟帖 YQ-20261127-001 张三 执法一队 说明执法过程合法、已依法处理 限2小时\n"
    "单位表示该单位的全部网评员；要点里可以附上要跟帖的帖子链接，缺省用条目的第一个链接。"
)
DEFAULT_DUE = "2h"


LEADING_WORD = re.compile(r"[\s,，、;；:：]*([^\s,，、;；:：]+)")


def assignees(session: Session, text: str) -> tuple[list[Person], str]:
    """Resolve the leading words naming people (name or userid) or units (their commentators); return (people,
    the rest of the text, verbatim). The first word must name someone."""
    people: list[Person] = []
    active = list(session.scalars(select(Person).where(Person.active.is_(True))))
    pos = 0
    while m := LEADING_WORD.match(text, pos):
        word = m.group(1)
        person = next((p for p in active if word in (p.userid, p.name)), None)
        unit = None if person else org.find_unit(session, word)
        if person is None and unit is None:
            break
        pos = m.end()
        if person is not None:
            if not person.has(Role.commentator):
                raise Refusal(f"{person.name}不是网评员，组织跟帖只能派给网评员。")
            people.append(person)
        else:
            assert unit is not None
            found = [p for p in active if p.unit_id == unit.id and p.has(Role.commentator)]
            if not found:
                raise Refusal(f"{unit.name}没有网评员，无法派给这个单位。")
            people += found
    if not people:
        first = args.words(text)[0] if args.words(text) else ""
        raise Refusal(f"没有找到人员或单位“{first}”（须是组织里的网评员或单位）。\n{USAGE}")
    return list({p.userid: p for p in people}.values()), text[pos:].strip(args.TRIM)


def assign(
    session: Session, config: Config, actor: Person, code: str, typed: str, at: datetime
) -> tuple[GuidedTask, list[Person]]:
    """Create a guided-reply task on item code for the people and units named in typed (then the 要点, kept as
    typed, and an optional 限<时长或时刻>); send each a card; office only."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.guide_replies, actor)
    try:
        typed, limit = args.take_limit(typed, at)
    except ValueError as e:
        raise Refusal(f"{e}\n{USAGE}") from None
    people, text = assignees(session, typed)
    if text in ("", "口径"):  # the agreed line: only an approved (frozen) version is quoted
        line = statement.approved(session, item)
        if line is None and text:
            raise Refusal(f"{item.code} 还没有定稿的口径。先发送“口径 {item.code} 文字”送审，或直接写跟帖要点。")
        text = line.text if line is not None else ""
    if not text:
        raise Refusal(f"请写上跟帖要点（统一口径），例如：说明执法过程合法、已依法处理。\n{USAGE}")
    links = find_links(text)
    url = links[0] if links else next((x.url for x in item.links), None)
    default = str(config.raw.get("guided", {}).get("due", DEFAULT_DUE))
    due = explicit_due(limit or default, at, typed_scale(config))
    task = GuidedTask(item_id=item.id, line=text[:2000], url=url, due_at=due, created_by=actor.userid, created_at=at)
    session.add(task)
    session.flush()
    warn = at + (due - at) * 0.8
    for p in people:
        a = GuidedAssignment(
            task_id=task.id, userid=p.userid, unit_id=p.unit_id, due_at=due, warn_at=warn,
            state=GuidedState.open, warned=False,
        )  # fmt: skip
        session.add(a)
        session.flush()
        _card(session, item, task, a, at)
    procedure.apply(session, item, Act.guide_replies, actor, at, task=task.id, to=[p.userid for p in people], line=text)
    return task, people


def _card(session: Session, item: Item, task: GuidedTask, a: GuidedAssignment, at: datetime) -> None:
    a.card_task_id = f"gr-{a.id}-{secrets.token_hex(4)}"
    body = render.button_card(
        "瞭望 · 组织跟帖",
        f"【跟帖】{item.title}",
        f"跟帖要点：{task.line[:200]}",
        f"请在 {show(task.due_at, True)} 前到帖子下跟帖，完成后点“已跟帖”并发来链接或截图。",
        [("编号", item.code), ("截止", show(task.due_at, True))],
        a.card_task_id,
        [("已跟帖", card_key("gr", a.id, "done"), 1), ("无法完成", card_key("gr", a.id, "decline"), 2)],
        [("打开帖子", task.url)] if task.url else None,
    )
    emit(session, [a.userid], body, f"guided:{a.id}:card", at, item, task_id=a.card_task_id, fresh=True)


def mine(session: Session, actor: Person, assignment_id: int) -> tuple[GuidedAssignment, GuidedTask, Item]:
    """The actor's own assignment, or refuse."""
    a = session.get(GuidedAssignment, assignment_id)
    if a is None or a.userid != actor.userid:
        raise Refusal("这项跟帖任务不是派给您的。")
    task = session.get_one(GuidedTask, a.task_id)
    item = session.get_one(Item, task.item_id)
    procedure.allowed(session, item, Act.guided_reply, actor)
    return a, task, item


def open_for(session: Session, actor: Person, code: str) -> GuidedAssignment:
    """The actor's open (or missed) assignment on item code, for the text form `已跟帖 <编号> <链接>`."""
    item = find_item(session, code)
    rows = session.scalars(
        select(GuidedAssignment)
        .join(GuidedTask, GuidedTask.id == GuidedAssignment.task_id)
        .where(GuidedTask.item_id == item.id, GuidedAssignment.userid == actor.userid)
        .order_by(GuidedAssignment.id.desc())
    ).all()
    if not rows:
        raise Refusal(f"{item.code} 没有派给您的跟帖任务。")
    return next((r for r in rows if r.state in (GuidedState.open, GuidedState.missed)), rows[0])


def prove(
    session: Session,
    actor: Person,
    assignment_id: int,
    at: datetime,
    url: str | None = None,
    media_id: str | None = None,
) -> tuple[GuidedAssignment, Item, bool]:
    """Record the proof (a link and/or a screenshot); return (assignment, item, in time). Refuse anything else."""
    a, task, item = mine(session, actor, assignment_id)
    if a.state == GuidedState.done:
        raise Refusal(f"{item.code} 的跟帖已经报过完成了（{show(a.done_at, True) if a.done_at else ''}）。")
    if a.state == GuidedState.declined:
        raise Refusal(f"您已说明无法完成 {item.code} 的跟帖；如已完成，请联系办公室。")
    if not url and not media_id:
        raise Refusal("请发来跟帖的链接或截图作为凭证（文字说明不能作为凭证）。")
    in_time = a.state == GuidedState.open and at <= a.due_at
    a.proof_url = url or a.proof_url
    if media_id:
        att = Attachment(item_id=item.id, kind="proof", media_id=media_id, uploader_id=actor.id, created_at=at)
        session.add(att)
        session.flush()
        defer(session, Job.fetch_media, att.id)
        a.proof_media = media_id
    if a.state == GuidedState.open:
        a.state, a.done_at = GuidedState.done, at
    procedure.apply(
        session, item, Act.guided_reply, actor, at, event=Event.guided_reply_proved, assignment=a.id, url=url,
        image=bool(media_id),
    )  # fmt: skip
    office = org.userids(org.with_role(session, Role.office))
    what = f"链接 {url}" if url else "截图"
    late = "" if in_time else "（已过截止时间）"
    emit(session, office, render.text(f"【跟帖完成】{item.code} {actor.name} 已跟帖{late}：{what}"),
         f"guided:{a.id}:proved:{at.timestamp()}", at, item)  # fmt: skip
    return a, item, in_time


def decline(
    session: Session, actor: Person, assignment_id: int, reason: str, at: datetime
) -> tuple[GuidedAssignment, Item]:
    """Decline one's part with a reason; the office is told. Refuse an empty reason or a settled part."""
    a, task, item = mine(session, actor, assignment_id)
    if a.state != GuidedState.open:
        raise Refusal(f"{item.code} 的这项跟帖任务已经结束了，不能再说明无法完成。")
    if not reason.strip():
        raise Refusal("请写明无法完成的原因。")
    a.state, a.reason, a.done_at = GuidedState.declined, reason.strip()[:1000], at
    procedure.apply(
        session, item, Act.guided_reply, actor, at, event=Event.guided_reply_declined, assignment=a.id, reason=a.reason
    )
    office = org.userids(org.with_role(session, Role.office))
    emit(session, office, render.text(f"【跟帖无法完成】{item.code} {actor.name}：{a.reason}"),
         f"guided:{a.id}:declined", at, item)  # fmt: skip
    return a, item


def _archived_tasks() -> Select[int]:
    """The guided tasks of archived items: nothing fires for them (their record is closed)."""
    return select(GuidedTask.id).join(Item, Item.id == GuidedTask.item_id).where(Item.state == ItemState.archived)


@periodic.task(30, "guided-reply tasks raced with another worker; the next sweep continues")
def sweep_tasks(session: Session, config: Config, now: datetime) -> int:
    """The sweep's part: warn and miss the guided-reply parts that are due (fire_due)."""
    return fire_due(session, now)


def fire_due(session: Session, now: datetime, limit: int = 5000) -> int:
    """Warn open parts at 80 % of their span and mark those past their due as missed (the person, the office and
    the unit's leads are told); return how many changed."""
    changed = 0
    warn = session.scalars(
        select(GuidedAssignment)
        .where(
            GuidedAssignment.state == GuidedState.open,
            GuidedAssignment.task_id.not_in(_archived_tasks()),
            GuidedAssignment.warned.is_(False),
            GuidedAssignment.warn_at <= now,
        )
        .limit(limit)
    ).all()
    for a in warn:
        a.warned = True
        if a.due_at > now:
            task = session.get_one(GuidedTask, a.task_id)
            item = session.get_one(Item, task.item_id)
            left = format_duration(max(a.due_at - now, timedelta(minutes=1)))
            emit(session, [a.userid], render.text(
                f"【跟帖提醒】{item.code}《{item.title}》的跟帖将于 {show(a.due_at)} 截止（还剩 {left}）。"
                "完成后在卡片上点“已跟帖”并发来链接或截图；无法完成请点“无法完成”说明原因。"),
                f"guided:{a.id}:warn", now, item, fresh=True)  # fmt: skip
        changed += 1
    missed = session.scalars(
        select(GuidedAssignment)
        .where(
            GuidedAssignment.state == GuidedState.open,
            GuidedAssignment.task_id.not_in(_archived_tasks()),
            GuidedAssignment.due_at <= now,
        )
        .limit(limit)
    ).all()
    for a in missed:
        a.state = GuidedState.missed
        task = session.get_one(GuidedTask, a.task_id)
        item = session.get_one(Item, task.item_id)
        person = org.person(session, a.userid)
        name = person.name if person else a.userid
        record(session, item, "system", Event.guided_reply_missed, now, assignment=a.id, userid=a.userid)
        unit = session.get(Unit, a.unit_id) if a.unit_id else None
        leads = org.userids(org.unit_leads(session, unit)) if unit else []
        office = org.userids(org.with_role(session, Role.office))
        emit(session, [a.userid, *leads, *office], render.text(
            f"【跟帖未完成】{item.code}《{item.title}》第 {task.id} 项跟帖（要点：{task.line[:30]}）派给{name}，"
            f"截止 {show(a.due_at)} 仍未完成。"),
            f"guided:{a.id}:missed", now, item, fresh=True)  # fmt: skip
        changed += 1
    return changed


STATE_WORDS = {GuidedState.open: "进行中", GuidedState.done: "已完成", GuidedState.declined: "无法完成",
               GuidedState.missed: "未完成（已超时）"}  # fmt: skip


def progress(session: Session, code: str) -> str:
    """跟帖情况 <编号>: each task on the item, each person's part."""
    item = find_item(session, code)
    tasks = session.scalars(select(GuidedTask).where(GuidedTask.item_id == item.id).order_by(GuidedTask.id)).all()
    if not tasks:
        return f"{item.code} 还没有组织跟帖。格式：跟帖 {item.code} <人员或单位…> <要点> [限2小时]"
    names = {p.userid: p.name for p in session.scalars(select(Person))}
    lines = [f"{item.code} 组织跟帖情况："]
    for t in tasks:
        parts = session.scalars(select(GuidedAssignment).where(GuidedAssignment.task_id == t.id)).all()
        done = sum(1 for a in parts if a.state == GuidedState.done)
        lines.append(f"· 第 {t.id} 项（截止 {show(t.due_at, True)}，完成 {done}/{len(parts)}）要点：{t.line[:60]}")
        for a in parts:
            proof = a.proof_url or ("截图" if a.proof_media else "") or (a.reason or "")
            lines.append(
                f"  {names.get(a.userid, a.userid)}：{STATE_WORDS[a.state]}" + (f"（{proof[:60]}）" if proof else "")
            )
    return "\n".join(lines)


def counts(session: Session, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per unit, the guided-reply parts due in [start, end): owed and missed (for the bulletin)."""
    out: dict[int, dict[str, Any]] = {}
    rows = session.execute(
        select(GuidedAssignment.unit_id, GuidedAssignment.state).where(
            GuidedAssignment.due_at >= start, GuidedAssignment.due_at < end
        )
    )
    for unit_id, state in rows:
        if unit_id is None:
            continue
        c = out.setdefault(unit_id, {"owed": 0, "missed": 0})
        c["owed"] += 1
        c["missed"] += state == GuidedState.missed
    return out
