"""首报 and 书面报告: the unit's reports that meet its clocks (oral reports count, as the regulations allow)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Item, ItemUnit, Person, Role, Unit
from models.clocktable import clocks_met_by
from models.procedure import Act
from models.state import ClockState
from workflow.engine import clocks, procedure
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.incident.assignment import mark_acknowledged
from workflow.people import org
from workflow.views import render


def _lead_row(session: Session, item: Item, actor: Person, act: Act) -> ItemUnit:
    row = item.lead
    if row is None:
        raise Refusal(f"{item.code} 还没有交办。")
    procedure.permit(session, item, act, actor)
    return row


def _tell(session: Session, item: Item, row: ItemUnit, text: str, key: str, at: datetime) -> None:
    unit = session.get(Unit, row.unit_id)
    to = org.userids(org.with_role(session, Role.office))
    if sup := org.supervisor(session, unit):
        to.append(sup)
    tell(session, item, key, at, render.text(text), followers=to)


def first_report(
    session: Session, actor: Person, code: str, content: str, config: Config, at: datetime, oral: bool = False
) -> Item:
    """Record the lead unit's first report (首报), written or oral; it meets the first-report clock."""
    item = find_item(session, code)
    row = _lead_row(session, item, actor, Act.first_report)
    if not oral and not content.strip():
        raise Refusal(f"请写上首报内容，例如：首报 {item.code} 已核实，系……，初步处置意见……")
    procedure.allowed(session, item, Act.first_report, actor)
    mark_acknowledged(session, item, row, actor, at, implied_by="report")
    met = procedure.apply(session, item, Act.first_report, actor, at, oral=oral, text=content[:2000]).met
    late = any(c.state == ClockState.met_late for c in met)
    how = "口头汇报" if oral else f"首报：{content[:200]}"
    _tell(
        session,
        item,
        row,
        f"【首报】{item.code}《{item.title}》\n{row.unit.name} {actor.name} {show(at)} {how}"
        + ("（已超时）" if late else ""),
        f"first:{item.code}:{at.timestamp()}",
        at,
    )
    return item


def progress_report(
    session: Session, actor: Person, code: str, content: str, config: Config, at: datetime
) -> tuple[Item, bool]:
    """Record a 续报 from a unit involved until the item is closed; return (item, True if it was the 首报)."""
    item = find_item(session, code)
    procedure.permit(session, item, Act.progress_report, actor)
    row = session.scalar(
        select(ItemUnit).where(ItemUnit.item_id == item.id, ItemUnit.unit_id == actor.unit_id, ItemUnit.part != "cc")
    )
    assert row is not None
    if not content.strip():
        raise Refusal(f"请写上续报内容，例如：续报 {item.code} 当事人已道歉，评论量下降……")
    procedure.allowed(session, item, Act.progress_report, actor)
    first = clocks_met_by(Act.first_report)  # the lead's 续报 while its 首报 is owed is the 首报
    if row.part == "lead" and any(c.kind in first for c in clocks.open_clocks(session, item)):
        return first_report(session, actor, code, content, config, at), True
    mark_acknowledged(session, item, row, actor, at, implied_by="report")
    procedure.apply(session, item, Act.progress_report, actor, at, text=content[:4000], unit=row.unit.key)
    _tell(
        session,
        item,
        row,
        f"【续报】{item.code}《{item.title}》\n{row.unit.name} {actor.name} {show(at)}：\n{content[:500]}",
        f"progress:{item.code}:{actor.userid}:{at.timestamp()}",
        at,
    )
    return item, False


def handling_report(session: Session, actor: Person, code: str, content: str, at: datetime) -> Item:
    """Record the lead unit's report on handling and outcome (24 h clock, SPEC §4)."""
    item = find_item(session, code)
    row = _lead_row(session, item, actor, Act.handling_report)
    if not content.strip():
        raise Refusal(f"请写上处置情况，例如：处置报告 {item.code} 已约谈当事人，帖子已删除……")
    met = procedure.apply(session, item, Act.handling_report, actor, at, text=content[:4000]).met
    late = "（已超时）" if any(c.state == ClockState.met_late for c in met) else ""
    _tell(
        session,
        item,
        row,
        f"【处置情况】{item.code}《{item.title}》\n{row.unit.name} {actor.name} {show(at)}：\n{content[:500]}{late}",
        f"handling:{item.code}:{at.timestamp()}",
        at,
    )
    return item
