"""Cards know what they are about (subject + purpose), are closed by the actions that declare it, and the supervisor's
定级 is one step whether typed or pressed on the approval card."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from migrations import downgrade, upgrade
from models import AuditEvent, Card, Item, Submission
from tests.integration.flowkit import cards, click, current, dispatched, item_of
from tests.integration.harness import Stack

APPROVAL = "书面报告审核"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack on a frozen clock."""
    return make_stack()


def _subjects(st: Stack) -> list[tuple[str, str, str, int]]:
    with st.rt.sessions() as s:
        return [
            (c.task_id, c.purpose.value, c.subject.value, c.subject_id)
            for c in s.scalars(select(Card).order_by(Card.id))
        ]


def test_every_card_names_its_subject_and_the_migration_fills_in_the_same_for_cards_sent_before(st: Stack) -> None:
    code = dispatched(st)  # 签收 cards: about the unit's part
    st.say("wangwu", f"签收 {code}")  # the upload card: about the unit's part
    st.say("wangwu", f"申请延期 {code} 书面报告 1h 需要补充现场核查材料")  # about the extension
    assert "已提交分管领导审批" in st.last("wangwu")
    st.say("wangwu", f"书面报告 {code} 已核实并处置")  # the approval card: about the submission
    st.say("chenqi", f"口径 {code} 我局已关注到网民反映的情况，正在依法依规调查处理。")  # about the statement
    st.say("chenqi", f"快报 {code}")  # about the brief
    sent = _subjects(st)
    purposes = {p for _t, p, _s, _i in sent}
    assert {"ack", "upload", "approval", "statement", "brief", "extension"} <= purposes, purposes
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        sub = s.scalar(select(Submission).where(Submission.item_id == item.id)) if item else None
        assert item is not None
        assert sub is not None
        approval = [(subj, i) for _t, p, subj, i in sent if p == "approval"]
        assert approval == [("submission", sub.id)], "an approval card is about its version, not its task id"
        ack = {(subj, i) for _t, p, subj, i in sent if p == "ack"}
        assert item.lead is not None
        assert ack == {("unit", item.lead.unit_id)}
    url = st.rt.config.database_url
    st.rt.engine.dispose()
    downgrade(url, "0011")  # as before 0012: the cards have no subject
    upgrade(url)  # 0012 fills it in from purpose, unit, clock and task id
    assert _subjects(st) == sent


def test_pressing_批准_closes_every_card_about_that_version_and_only_that(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 第一版")
    first = cards(st, "lisi", APPROVAL)[0]
    st.say("wangwu", f"书面报告 {code} 第二版")
    assert current(st, "lisi", first)["replaced_button"].startswith("已由第 2 版取代")
    second = cards(st, "lisi", APPROVAL)[1]
    click(st, "lisi", second, "批准")
    assert current(st, "lisi", second)["replaced_button"].startswith("李四 已批准")
    assert item_of(st, code).state == "approved"
    with st.rt.sessions() as s:
        rows = s.scalars(select(Card).where(Card.purpose == "approval").order_by(Card.id)).all()
        assert [(c.state.value, c.decided_by) for c in rows] == [("done", "system"), ("done", "lisi")]


def test_signing_by_text_closes_the_units_签收_card_for_every_lead(st: Stack) -> None:
    code = dispatched(st)
    card = cards(st, "wangwu", "舆情交办")[0]
    st.say("wangwu", f"签收 {code}")
    assert "已签收" in st.reply("wangwu")
    assert current(st, "wangwu", card)["replaced_button"].startswith("王五 已签收")
    with st.rt.sessions() as s:
        ack = s.scalar(select(Card).where(Card.purpose == "ack"))
        assert ack is not None
        assert (ack.state.value, ack.decided_by) == ("done", "wangwu")


def test_the_supervisor_regrades_by_command_or_on_the_card_through_the_same_step(st: Stack) -> None:
    code = dispatched(st, grade="一般")
    st.say("wangwu", f"定级 {code} 重大")
    assert "只有领导小组办公室或分管领导可以调整等级" in st.last("wangwu"), "a unit lead may not regrade"
    assert item_of(st, code).grade == "general"
    st.say("lisi", f"定级 {code} 较大")  # the lead unit's supervisor, as the table says
    assert "已定为较大" in st.last("lisi")
    st.say("wangwu", f"书面报告 {code} 事态扩大")
    click(st, "lisi", cards(st, "lisi", APPROVAL)[0], "升级为重大")
    assert item_of(st, code).grade == "major"
    with st.rt.sessions() as s:
        rows = s.execute(
            select(AuditEvent.actor, AuditEvent.before, AuditEvent.after, AuditEvent.detail)
            .where(AuditEvent.action == "regrade")
            .order_by(AuditEvent.id)
        ).all()
    assert [(a, b, c) for a, b, c, _d in rows] == [("lisi", "general", "significant"), ("lisi", "significant", "major")]
    assert rows[1][3] == {"via": "approval"}
