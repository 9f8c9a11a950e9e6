"""The same event recognised (issue 25 item 4): similar items suggested to the office on a card, merged with 合并
(the earlier survives, the later becomes a pointer, its clocks end as merged), or dismissed for good."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from migrations import downgrade, upgrade
from models import AuditEvent, Clock, Item, ItemLink, SameEvent, Signature
from models.events import Event
from models.procedure import Act
from models.state import ClockState
from tests.integration.flowkit import buttons, cards, click, code_in, current, forged_click, item_of
from tests.integration.harness import Stack
from tests.integration.test_intake import SOURCES, body_of, push
from workflow.incident import similar

LIFT = "锦绣花园小区电梯突然下坠卡在12楼，4名居民被困近四十分钟，物业迟迟不到场 https://weibo.com/1/111"
LIFT_AGAIN = (
    "抖音视频：锦绣花园小区电梯故障困住4名居民，被困四十分钟，业主质疑物业维保走过场 https://douyin.com/video/222"
)
WATER = "锦绣花园小区停水三天了，物业没有任何通知，居民只能下楼提水"
PARKING = "人民路菜市场停车乱收费，停20分钟收10元，没有公示收费标准"
SOURCE = "同一事件"


def _report(st: Stack, who: str, text: str) -> str:
    st.say(who, f"上报 {text}")
    return code_in(st.last(who))


def _pair(st: Stack) -> tuple[str, str, dict[str, Any]]:
    """zhangsan reports the lift, wuyi reports it again in other words: (first, second, the office's card)."""
    first = _report(st, "zhangsan", LIFT)
    second = _report(st, "wuyi", LIFT_AGAIN)
    (card,) = cards(st, "chenqi", SOURCE)
    return first, second, card


def _events(st: Stack, code: str, action: str) -> list[AuditEvent]:
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        rows = s.scalars(select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action == action))
        return list(rows)


def test_an_item_told_in_other_words_is_suggested_to_the_office_with_both_titles(stack: Stack) -> None:
    first, second, card = _pair(stack)
    body = card["body"]["template_card"]
    assert body["main_title"]["title"] == f"可能与 {first} 为同一事件"
    assert body["sub_title_text"].startswith(f"是同一事件请点“合并”（保留较早上报的 {first}）")
    rows = [(r["keyname"], r["value"][:15]) for r in body["horizontal_content_list"]]
    assert rows == [
        ("新条目", second),
        ("标题", "抖音视频：锦绣花园小区电梯故障"),
        ("在办条目", first),
        ("标题", "锦绣花园小区电梯突然下坠卡在1"),
    ]
    assert set(buttons(card)) == {"合并", "不是同一事件"}
    assert {r["msgtype"] for r in stack.inbox("zhangsan") + stack.inbox("wuyi")} == {"text"}, "the office decides"
    (row,) = _events(stack, second, Event.same_event_suggested)
    assert row.detail["other"] == first
    _report(stack, "zhangsan", WATER)  # the same estate, another incident
    _report(stack, "wuyi", PARKING)  # nothing alike
    assert len(cards(stack, "chenqi", SOURCE)) == 1, "different events are not suggested"


def test_merge_keeps_the_earlier_item_moves_links_and_reporters_and_everyone_is_told(stack: Stack) -> None:
    first, second, card = _pair(stack)
    click(stack, "chenqi", card, "合并")
    reply = stack.last("chenqi")
    assert f"已合并：{second} 并入 {first}" in reply
    assert f"保留较早上报的 {first}" in reply
    assert "按合并结束，不计超时" in reply
    assert current(stack, "chenqi", card)["replaced_button"].startswith(f"陈七 已合并入 {first}")
    kept, gone = item_of(stack, first), item_of(stack, second)
    assert (kept.state, gone.state) == ("reported", "merged")
    with stack.rt.sessions() as s:
        links = s.scalars(select(ItemLink.url).where(ItemLink.item_id == kept.id)).all()
        assert sorted(links) == ["https://douyin.com/video/222", "https://weibo.com/1/111"]
        assert kept.reporter_id == s.scalar(select(Item.reporter_id).where(Item.code == first)), "first finder kept"
    (credit,) = _events(stack, first, Act.report_merged)
    assert credit.actor == "wuyi", "the later reporter is recorded on the survivor as a repeat report"
    assert _events(stack, second, Act.merge)[0].detail["into"] == first
    assert _events(stack, first, Act.absorb)[0].detail["merged"] == second
    for who in ("zhangsan", "wuyi"):
        told = stack.last(who)
        assert f"【同一事件已合并】{second}" in told, who
        assert f"已并入 {first}" in told, who
    stack.say("wuyi", f"查询 {second}")
    answer = stack.last("wuyi")
    assert f"{second} 已并入同一事件的 {first}" in answer
    assert f"请查询 {first}" in answer
    stack.say("wuyi", f"查询 {first}")
    history = stack.last("wuyi")
    assert "重复上报" in history, "the merged reporter may follow the survivor"
    assert f"合并同一事件的条目：{second}" in history


def test_the_merged_items_clocks_end_as_merged_never_missed(stack: Stack) -> None:
    first, second, _card = _pair(stack)
    stack.say("chenqi", f"交办 {first} 执法一队 一般")
    stack.say("chenqi", f"交办 {second} 执法一队 一般")
    ack = next(c for c in cards(stack, "wangwu", "舆情交办") if second in str(c["body"]))
    stack.say("chenqi", f"合并 {first} {second}")
    assert f"已合并：{second} 并入 {first}" in stack.last("chenqi")
    assert f"【同一事件已合并】{second}" in stack.last("wangwu"), "the unit lead of the merged item is told"
    assert current(stack, "wangwu", ack)["replaced_button"].startswith(f"陈七 已合并入 {first}"), "签收 card closed"
    first_ack = next(c for c in cards(stack, "wangwu", "舆情交办") if first in str(c["body"]))
    assert current(stack, "wangwu", first_ack).get("replaced_button") is None, "the survivor's 签收 card stays open"
    stack.later(6 * 3600)
    with stack.rt.sessions() as s:
        gone = s.scalar(select(Item).where(Item.code == second))
        assert gone is not None
        states = set(s.scalars(select(Clock.state).where(Clock.item_id == gone.id)))
        waived = s.scalars(
            select(AuditEvent).where(AuditEvent.item_id == gone.id, AuditEvent.action == Event.clock_waived)
        ).all()
    assert ClockState.waived in states
    assert states <= {ClockState.met, ClockState.waived}, states
    assert waived
    assert all(w.detail["reason"] == "已并入同一事件" for w in waived)
    assert not _events(stack, second, Event.clock_missed), "no miss, no deduction"
    assert _events(stack, first, Event.clock_missed), "the survivor's own clocks run on"
    assert "还没有交办" not in stack.last("chenqi"), "both were dispatched"
    stack.say("wangwu", f"签收 {second}")
    assert f"{second} 已并入同一事件的另一条目，不能再签收" in stack.last("wangwu")


def test_not_the_same_event_is_remembered_and_never_suggested_again(stack: Stack) -> None:
    first, second, card = _pair(stack)
    click(stack, "chenqi", card, "不是同一事件")
    assert "以后不再提示" in stack.last("chenqi")
    assert current(stack, "chenqi", card)["replaced_button"].startswith("陈七 已确认不是同一事件")
    with stack.rt.sessions() as s:
        later = s.scalar(select(Item).where(Item.code == second))
        assert later is not None
        assert similar.similar(s, later) == [], "the dismissed pair is not suggested again"
        (pair,) = s.scalars(select(SameEvent)).all()
        assert pair.state == "dismissed"
    assert (item_of(stack, first).state, item_of(stack, second).state) == ("reported", "reported")
    stack.say("chenqi", f"交办 {second} 执法一队 一般")
    stack.say("chenqi", f"合并 {first} {second}")
    reply = stack.last("chenqi")
    assert f"已合并：{second} 并入 {first}" in reply, "the office may still merge them by command"
    assert f"{first} 还没有交办，请发送“交办 {first} <单位>”" in reply, "the merged item's dispatch is not lost"


def test_bad_requests_are_refused_in_chinese_and_change_nothing(stack: Stack) -> None:
    first, second, card = _pair(stack)
    stack.say("zhangsan", f"合并 {first} {second}")
    assert "只有领导小组办公室" in stack.last("zhangsan")
    stack.say("chenqi", f"合并 {first}")
    assert "格式：合并 <编号> <编号>" in stack.last("chenqi")
    stack.say("chenqi", f"合并 {first} {first}")
    assert "两个编号相同" in stack.last("chenqi")
    stack.say("chenqi", f"合并 {first} YQ-20000101-999")
    assert "没有找到编号为 YQ-20000101-999 的舆情" in stack.last("chenqi")
    tpl = card["body"]["template_card"]
    forged_click(stack, "wangwu", tpl["task_id"], buttons(card)["合并"]["key"])  # the table says who, not the card
    assert "只有领导小组办公室可以合并" in stack.last("wangwu")
    assert (item_of(stack, first).state, item_of(stack, second).state) == ("reported", "reported")
    stack.say("chenqi", f"合并 {second} {first}")
    third = _report(stack, "zhangsan", PARKING)
    stack.say("chenqi", f"合并 {second} {third}")
    assert f"{second} 已并入同一事件的另一条目，不能再合并其他条目；请对保留的条目办理" in stack.last("chenqi")
    assert item_of(stack, third).state == "reported"


@pytest.fixture()
def pushed(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with the intake API's monitoring source."""
    return make_stack(extra={"intake": {"per_minute": 100, "sources": SOURCES}})


def test_an_item_pushed_by_a_monitoring_system_is_suggested_too(pushed: Stack) -> None:
    first = _report(pushed, "zhangsan", LIFT)
    body = body_of("M-7", "https://kuaishou.com/short-video/777", title="锦绣花园小区电梯困人四十分钟",
                   text="锦绣花园小区电梯下坠卡在12楼，4名居民被困四十分钟，物业迟迟不到场。")  # fmt: skip
    resp = push(pushed, body)
    assert resp.status_code == 201
    (card,) = cards(pushed, "chenqi", SOURCE)
    assert card["body"]["template_card"]["main_title"]["title"] == f"可能与 {first} 为同一事件"
    click(pushed, "chenqi", card, "合并")
    assert f"并入 {first}" in pushed.last("chenqi")
    assert "【同一事件已合并】" in pushed.last("zhangsan")


def test_items_open_when_the_migration_runs_are_indexed_and_suggested_against(stack: Stack) -> None:
    first = _report(stack, "zhangsan", LIFT)
    url = stack.rt.config.database_url
    stack.rt.engine.dispose()
    downgrade(url, "0016")  # as before the same event was recognised: no signatures
    upgrade(url)  # 0020 indexes the items open now
    kept = item_of(stack, first)
    with stack.rt.sessions() as s:
        assert s.scalars(select(Signature.item_id)).all() == [kept.id]
    second = _report(stack, "wuyi", LIFT_AGAIN)
    (card,) = cards(stack, "chenqi", SOURCE)
    assert card["body"]["template_card"]["main_title"]["title"] == f"可能与 {first} 为同一事件"
    assert second in card["body"]["template_card"]["horizontal_content_list"][0]["value"]


def test_the_offices_help_names_the_two_commands(stack: Stack) -> None:
    stack.say("chenqi", "帮助 全部")
    assert "【同一事件】合并 <编号> <编号>（保留较早上报的）；不是同一事件 <编号> <编号>" in stack.last("chenqi")
