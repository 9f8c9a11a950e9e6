"""The daily patrol through the WeCom protocol: cards, 无异常, a report as the check-in, reminder, miss, coverage."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from core import clock
from core.clock import local
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config

PATROL = "日常巡查"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack whose one patrol round opens now, reminds in 5 minutes and is due in 10 (every day is a patrol day)."""
    now = local(clock.now())
    if now.hour == 23 and now.minute >= 45:  # keep the round inside one day
        clock.advance(timedelta(minutes=30))
        now = local(clock.now())

    def hhmm(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).strftime("%H:%M")

    rounds = [{"card": hhmm(0), "remind": hhmm(5), "due": hhmm(10)}]
    return make_stack(pages=True, extra={"patrol": {"enabled": True, "days": "every_day", "rounds": rounds}})


def test_commentators_check_in_or_report_and_a_miss_reaches_the_unit_lead(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    month = local(clock.now()).strftime("%Y-%m")  # the round's month
    st.later(1)
    card = cards(st, "zhangsan", PATROL)
    assert len(card) == 1, "each commentator gets one check-in card"
    assert cards(st, "hemin", PATROL), "hemin is a commentator too"
    assert not cards(st, "wangwu", PATROL), "a unit lead owes no check-in"
    st.say("zhangsan", "我的待办")
    assert "今日巡查" in st.last("zhangsan")
    st.say("wangwu", "巡查 无异常")
    assert "网评员" in st.last("wangwu"), "only commentators check in"
    st.say("hemin", "上报 网传某路段占道经营无人管 https://weibo.com/77/1")
    st.say("hemin", "巡查 无异常")
    assert "已经报过了" in st.last("hemin"), "a report that day is the check-in"
    st.say("chenqi", "巡查情况")
    coverage = st.last("chenqi")
    assert "已报告 1 人" in coverage
    assert "张三" in coverage.split("未报告")[1]
    st.later(5 * 60)
    assert any("巡查提醒" in t for t in st.texts("zhangsan")), "the reminder before the due"
    assert not any("巡查提醒" in t for t in st.texts("hemin"))
    st.later(5 * 60)
    assert "巡查未报" in st.last("zhangsan")
    lead = [t for t in st.texts("wangwu") if "巡查未报" in t]
    assert len(lead) == 1
    assert "张三" in lead[0]
    click(st, "zhangsan", card[0], "无异常")
    assert "不能再补报" in st.last("zhangsan"), "a missed round stays missed"
    st.say("chenqi", "巡查情况")
    assert "张三" in st.last("chenqi").split("已超时")[1]
    assert "何敏" not in st.last("chenqi").split("已超时")[1]
    st.later(3600)
    assert len(cards(st, "zhangsan", PATROL)) == 1, "one card per round, however often the sweep runs"
    out = liaowang(
        write_config(tmp_path, emulator.url, database_url, redis_url), "bulletin", "--month", month, "--format", "json"
    )
    team1 = next(u for u in json.loads(out.stdout)["units"] if u["key"] == "team1")
    assert team1["duty"]["patrols"] == 1
    assert team1["duty"]["patrols_missed"] == 1, "the miss is counted for the bulletin"
    assert not team1["deductions"], "no points for a missed check-in unless [scoring] gives some"


def test_the_card_checks_in_once_and_says_so(st: Stack) -> None:
    st.later(1)
    card = cards(st, "zhangsan", PATROL)[0]
    click(st, "zhangsan", card, "无异常")
    assert "已记录今天的巡查" in st.last("zhangsan")
    st.say("zhangsan", "零报告")
    assert "已经报过了" in st.last("zhangsan"), "a second check-in is refused"
    st.say("zhangsan", "巡查 发现一个帖子")
    assert "上报" in st.last("zhangsan"), "what was found is reported, not typed into 巡查"
    st.later(10 * 60)
    assert not any("巡查未报" in t for t in st.texts("wangwu")), "nobody in the unit missed"


def test_the_board_shows_the_office_todays_check_ins(st: Stack) -> None:
    from tests.integration.h5kit import Browser

    st.later(1)
    st.say("zhangsan", "巡查 无异常")
    page = Browser(st).login("chenqi", "/h5/board")
    assert "今日巡查" in page.text
    assert "已报告 1" in page.text
    assert "张三（执法一队） 无异常" in page.text
    lead = Browser(st).login("wangwu", "/h5/board")
    assert "今日巡查" not in lead.text, "the coverage is for the office and the leaders"


def test_a_card_sent_after_the_reminder_time_is_not_followed_by_a_second_reminder(make_stack) -> None:  # type: ignore[no-untyped-def]
    now = local(clock.now())
    if now.hour == 0 and now.minute < 20 or now.hour == 23 and now.minute >= 45:
        clock.advance(timedelta(minutes=40))
        now = local(clock.now())

    def hhmm(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).strftime("%H:%M")

    rounds = [{"card": hhmm(-15), "remind": hhmm(-5), "due": hhmm(10)}]  # installed late in the afternoon
    st = make_stack(extra={"patrol": {"enabled": True, "days": "every_day", "rounds": rounds}})
    st.later(1)
    assert len(cards(st, "zhangsan", PATROL)) == 1
    assert not any("巡查提醒" in t for t in st.texts("zhangsan")), "one message, not a card and a reminder at once"


def test_a_missed_check_in_with_points_is_not_what_a_bare_dispute_means(make_stack) -> None:  # type: ignore[no-untyped-def]
    """A 未巡查 deduction (when [scoring] gives one) is a duty record, not a fact a unit disputes: `申诉 <理由>`
    offers only 迟报 and the office's recorded facts, never the missed check-in."""
    now = local(clock.now())
    if now.hour == 23 and now.minute >= 45:
        clock.advance(timedelta(minutes=30))
        now = local(clock.now())
    rounds = [{"card": now.strftime("%H:%M"), "remind": (now + timedelta(minutes=5)).strftime("%H:%M"),
               "due": (now + timedelta(minutes=10)).strftime("%H:%M")}]  # fmt: skip
    scoring = {"base": 100, "rules": [{"fact": "未巡查", "main": -1}, {"fact": "漏报", "main": -2, "indirect": -1}]}
    st = make_stack(extra={"patrol": {"enabled": True, "days": "every_day", "rounds": rounds}, "scoring": scoring})
    st.later(1)
    st.later(10 * 60 + 1)  # zhangsan of 执法一队 missed the round: 未巡查 −1 for the unit
    st.say("wangwu", "考核")
    assert "未巡查" in st.last("wangwu"), "the unit sees the duty deduction"
    assert "申诉 P" not in st.last("wangwu"), "and is not told to dispute it"
    st.say("wangwu", "申诉 当天系统故障")
    said = st.last("wangwu")
    assert "没有可以申诉的扣分" in said, said
    assert not cards(st, "chenqi", "考核申诉")
    st.say("zhangsan", "上报 网传商户占道经营 https://weibo.com/5/6")
    code = st.last("zhangsan").split("编号 ")[1].split("。")[0]
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    st.say("chenqi", f"扣分 {code} 执法一队 漏报 主要 群众先于本单位发现")
    st.say("wangwu", "申诉 当天已电话报告")
    assert "已提交对 F" in st.last("wangwu"), "the one fact the unit may dispute, beside the missed check-in"
