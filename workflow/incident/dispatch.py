"""Grade and dispatch an item (定级交办): the lead unit's leads get a 签收 card, the general office a copy."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core import args
from core import clock as clockmod
from core.config import Config
from core.durations import parse_deadline
from models import Grade, Item, ItemUnit, Person, Role, Unit
from models.item import GRADE_WORDS, PART_NAMES
from models.procedure import Act
from models.state import CardPurpose
from workflow.engine import clocks, procedure, wording
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.people import appchat, org
from workflow.views import render


@dataclass
class DispatchOrder:
    """A parsed 交办 command: item code, units (first one leads) and an optional grade."""

    code: str
    unit_words: list[str]
    grade: Grade | None
    limit: str | None = None
    cc_words: list[str] = field(default_factory=list)
    grade_word: str = ""  # the grade as typed (特别重大 is graded 重大: the reply says so)


USAGE = (
    "交办格式：交办 <编号> <主办单位> [协办单位…] [抄送 <业务处室>…] [一般|较大|重大] [限<时长或时刻>]"
    "\n例如：交办 YQ-20261126-003 执法一队 较大"
    "\n主办单位后面的单位为协办单位（也可写“协办 <单位>”）；"
    "县区局主办时，后面写的处室视为抄送的业务处室（会商时征求意见）。"
    "\n词语之间可用空格或逗号、顿号等标点分隔。"
    "\n上级机关明确了期限时加上，如“限2小时”“限16:30”或“限2月5日 8:00”。"
)


ORDER_KEYWORDS = ("主办", "协办", "抄送")


def _order_words(text: str) -> list[str]:
    """The words of a 交办, with a keyword glued to its unit (“抄送宣传处”) taken apart."""
    out: list[str] = []
    for word in args.words(text):
        key = next((k for k in ORDER_KEYWORDS if word.startswith(k) and word != k), None)
        out += [key, word[len(key) :]] if key else [word]
    return out


def parse_order(text: str, now: datetime | None = None) -> DispatchOrder:
    """Parse "<编号> [主办] <单位> [协办 <单位…>] [抄送 <单位…>] [等级] [限<时长或时刻>]" (words separated by spaces or
    any punctuation) or refuse with the usage line."""
    try:
        text, limit = args.take_limit(text, now or clockmod.now())
    except ValueError as e:
        raise Refusal(f"{e}\n{USAGE}") from None
    code, rest = args.split_code(text)
    words = _order_words(rest)
    typed = [w for w in words if w in GRADE_WORDS]
    grades = [GRADE_WORDS[w] for w in typed]
    words = [w for w in words if w not in GRADE_WORDS]
    if len(grades) > 1 or not code or not words:
        raise Refusal(USAGE)
    parts = {k: list[str]() for k in ("", *ORDER_KEYWORDS)}
    part = ""
    for word in words:
        if word in ORDER_KEYWORDS:
            part = word
        else:
            parts[part].append(word)
    leads = parts["主办"] + parts[""]
    if not leads:
        raise Refusal(USAGE)
    return DispatchOrder(
        code=code,
        unit_words=[leads[0], *leads[1:], *parts["协办"]],
        grade=grades[0] if grades else None,
        limit=limit,
        cc_words=parts["抄送"],
        grade_word=typed[0] if typed else "",
    )


def typed_scale(config: Config) -> float:
    """How much faster than real time the clocks run ([policy] scale, 60 in the demo): typed durations follow it."""
    return float(getattr(config.policy, "scale", 1.0) or 1.0)


def explicit_due(limit: str, at: datetime, scale: float = 1.0) -> datetime:
    """Turn a typed deadline (“2小时”, “16:30”, “2月5日 8:00”; a duration divided by scale) into a time, or refuse."""
    try:
        return parse_deadline(limit, at, scale)
    except ValueError as e:
        raise Refusal(str(e)) from None


def dispatch(session: Session, actor: Person, order: DispatchOrder, at: datetime, config: Config) -> Item:
    """Grade the item, assign units, send 签收 cards and copies; refuse (changing nothing) if not allowed."""
    item = find_item(session, order.code)
    procedure.allowed(session, item, Act.dispatch, actor)
    units = [_unit(session, w) for w in order.unit_words]
    cc = [_unit(session, w) for w in order.cc_words]
    if units[0].kind == "county":  # 属地: departments named after a county bureau are copied (the business
        # departments to consult); other county bureaus named after it co-handle, as with any lead
        cc = [u for u in units[1:] if u.kind == "department"] + cc
        units = [units[0], *(u for u in units[1:] if u.kind != "department")]
    if len({u.id for u in units + cc}) != len(units + cc):
        raise Refusal("同一个单位写了两次，请检查交办单位。")
    leads = {u.id: org.unit_leads(session, u) for u in units}
    if not leads[units[0].id]:
        raise Refusal(f"{units[0].name} 还没有配置单位负责人，无法签收。请先在组织名单中补充。")
    grade = order.grade or Grade(item.grade or item.suggested_grade or Grade.general)
    if order.limit:
        item.external_due_at = explicit_due(order.limit, at, typed_scale(config))
    before_grade = item.grade
    item.grade, item.dispatched_at = grade, at
    item.flow = "local" if units[0].kind == "county" else ("joint" if len(units) > 1 else "bureau")
    for i, unit in enumerate(units):
        session.add(ItemUnit(item_id=item.id, unit_id=unit.id, part="lead" if i == 0 else "co", assigned_at=at))
    for unit in cc:
        session.add(ItemUnit(item_id=item.id, unit_id=unit.id, part="cc", assigned_at=at))
    session.flush()
    session.refresh(item)
    procedure.apply(
        session,
        item,
        Act.dispatch,
        actor,
        at,
        grade=grade,
        grade_before=before_grade,
        units=[u.key for u in units],
        cc=[u.key for u in cc],
        flow=item.flow,
        config=config,  # the step starts the lead unit's clocks (models/clocktable.py)
    )
    late = "、".join(wording.at_dispatch(c, item) for c in clocks.overdue_at_dispatch(session, item))
    appchat.ensure(session, item, at)  # first: who follows in the group hears of the dispatch there
    for unit in units:
        lead = unit is units[0]
        _send_card(session, item, unit, leads[unit.id], actor, at, late if lead else "", "lead" if lead else "co")
    _copy_general_office(session, item, units, actor, at)
    _copy_departments(session, item, units[0], cc, at)
    return item


def _unit(session: Session, word: str) -> Unit:
    unit = org.find_unit(session, word)
    if unit is None:
        raise Refusal(f"找不到单位“{word}”。请写单位全称或简称（key），发送“帮助”可查看说明。")
    return unit


def _send_card(
    session: Session,
    item: Item,
    unit: Unit,
    leads: list[Person],
    actor: Person,
    at: datetime,
    late: str = "",
    part: str = "lead",
) -> None:
    if not leads:
        return
    task_id = f"ack-{item.id}-{unit.id}-{secrets.token_hex(4)}"
    recipients = org.userids(leads)
    new_card(session, CardPurpose.ack, task_id, item.id, recipients, at, unit_id=unit.id)
    tell(
        session,
        item,
        f"card:{task_id}",
        at,
        render.ack_card(item, unit, task_id, actor.name, late, part),
        actors=recipients,
        step=Act.dispatch,
        task_id=task_id,
    )


def _copy_general_office(session: Session, item: Item, units: list[Unit], actor: Person, at: datetime) -> None:
    cc = org.userids(org.with_role(session, Role.general_office))
    names = "、".join(f"{u.name}（{PART_NAMES['lead' if i == 0 else 'co']}）" for i, u in enumerate(units))
    msg = (
        f"【抄送】{item.code}《{item.title}》\n等级：{render.grade_name(item.grade)}\n"
        f"承办：{names}\n交办人：{actor.name}"
    )
    tell(session, item, f"cc:{item.code}:dispatch", at, render.text(msg), followers=cc, step=Act.dispatch)


def _copy_departments(session: Session, item: Item, lead: Unit, cc: list[Unit], at: datetime) -> None:
    """属地 flow: the business departments get a copy and will be consulted before the reply."""
    for unit in cc:
        role = "（业务处室）；办公室会商时将征求贵单位意见" if unit.kind == "department" else "，供知悉"
        msg = (
            f"【抄送】{item.code}《{item.title}》\n等级：{render.grade_name(item.grade)}\n由{lead.name}主办，"
            f"抄送贵单位{role}。\n{item.text[:300]}"
        )
        to = org.userids(org.unit_leads(session, unit))
        tell(session, item, f"cc:{item.code}:{unit.key}", at, render.text(msg), followers=to, step=Act.dispatch)


def regrade(session: Session, actor: Person, code: str, word: str, config: Config, at: datetime) -> Item:
    """定级: change an open item's grade (whom the table lets: the office, the lead unit's supervisor)."""
    grade = GRADE_WORDS.get(word)
    if grade is None:
        raise Refusal("等级只能是 一般、较大 或 重大。例如：定级 YQ-20261126-003 重大")
    item = find_item(session, code)
    set_grade(session, item, actor, grade, config, at)
    return item


def set_grade(
    session: Session, item: Item, actor: Person, grade: Grade, config: Config, at: datetime, **card: Any
) -> bool:
    """The one 定级 step (the 定级 command, 升级为重大 on an approval card): apply the regrade action (which
    reschedules the open clocks for the new grade: the clock table's ON_ALL), make sure the item's group exists;
    False if the grade is already that.

    card: what apply needs to close the approval card it was decided on (about, closing, clicked, to, via).
    """
    procedure.allowed(session, item, Act.regrade, actor)
    if item.grade == grade:
        return False
    before = item.grade
    item.grade, item.updated_at = grade, at
    procedure.apply(session, item, Act.regrade, actor, at, change=(before, grade), config=config, **card)
    appchat.ensure(session, item, at)
    return True
