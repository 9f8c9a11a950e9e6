"""The office maintains its working calendar and 重要节点 on the H5 page (issue 23 item 6): paste the State Council's
notice, preview, save (audited); the clocks use it at once, without a restart; `calendar check` sees it; a bad paste
is refused in Chinese and changes nothing; a sensitive period is added with the date pickers."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core import clock
from core.clock import LOCAL_TZ, local
from models import AuditEvent, Item, SensitivePeriod
from models.calendar import DeclaredYear
from models.clock import Clock
from tests.integration.flowkit import code_in
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from workflow.duty.workdays import parse_notice

YEAR = 2099  # far from chinese-calendar's years, within the dates Liaowang accepts; the clock is frozen before it
WEEK = "一二三四五六日"
POLICY = {"days": "working", "clocks": {"handling_report": {"all": {"days": 1}}}}
REAL_2026 = """国务院办公厅关于2026年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
　　经国务院批准，现将2026年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
　　一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
　　二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
　　三、清明节：4月4日（周六）至6日（周一）放假，共3天。
　　四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
　　五、端午节：6月19日（周五）至21日（周日）放假，共3天。
　　六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
　　七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
　　鼓励单位和个人结合落实带薪年休假等制度，实际形成较长假期，推动错峰出行。
国务院办公厅
2025年11月4日"""


def _wd(d: date) -> str:
    return f"{d.month}月{d.day}日（周{WEEK[d.weekday()]}）"


def _worked() -> date:
    """The weekend day worked after 元旦 in YEAR's made-up notice."""
    return next(d for d in (date(YEAR, 1, 4) + timedelta(days=i) for i in range(7)) if d.weekday() >= 5)


def notice() -> str:
    """A notice for YEAR in the State Council's format (元旦 1–3 January, one 调休 weekend day after it)."""
    first, third = date(YEAR, 1, 1), date(YEAR, 1, 3)
    return (
        f"国务院办公厅关于{YEAR}年部分节假日安排的通知\n"
        f"　　一、元旦：{_wd(first)}至3日（周{WEEK[third.weekday()]}）放假调休，共3天。{_wd(_worked())}上班。\n"
        f"　　二、劳动节：{_wd(date(YEAR, 5, 1))}至5日（周{WEEK[date(YEAR, 5, 5).weekday()]}）放假调休，共5天。\n"
    )


def _next_working_day(start: date, off: set[date], worked: set[date]) -> date:
    """The working day after start: weekdays not off, plus the weekend days worked (computed here, apart)."""
    day, n = start, 0
    while n < 1:
        day += timedelta(days=1)
        if (day.weekday() < 5 and day not in off) or day in worked:
            n += 1
    return day


def _handling_due(st: Stack, code: str) -> datetime:
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        due = s.scalar(select(Clock.due_at).where(Clock.kind == "handling_report", Clock.item_id == item.id))
        assert due is not None
        return local(due)


def _dispatch(st: Stack) -> str:
    st.say("zhangsan", f"上报 年底的舆情 https://weibo.com/cal/{time.monotonic_ns()}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    assert "已交办" in st.last("chenqi"), st.last("chenqi")
    return code


def _form(page: str, marker: str) -> dict[str, str]:
    """The hidden fields of the form containing marker (the 保存 form after a preview)."""
    block = page[page.index(marker) :]
    block = block[: block.index("</form>")]
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', block))
    text = re.search(r"<textarea name=\"notice\" hidden>(.*?)</textarea>", block, re.S)
    if text:
        import html

        fields["notice"] = html.unescape(text.group(1))
    return fields


def test_the_real_2026_notice_is_read_as_published() -> None:
    schedule = parse_notice(REAL_2026, 2026)
    assert len(schedule.holidays) == 33, "元旦 3 + 春节 9 + 清明 3 + 劳动节 5 + 端午 3 + 中秋 3 + 国庆 7"
    assert [d.isoformat() for d in schedule.workdays] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]  # fmt: skip
    assert schedule.holidays[date(2026, 2, 15)] == "春节"
    assert (
        schedule.lines[1] == "春节：2月15日（周日）至2月23日（周一）放假，共 9 天；2月14日（周六）、2月28日（周六）上班"
    )


def test_paste_preview_save_and_the_clocks_use_it_at_once(make_stack, tmp_path: Path, emulator, database_url: str,
                                                          redis_url: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    st = make_stack(pages=True, extra={"policy": POLICY})
    clock.freeze(datetime(YEAR - 1, 12, 31, 10, 0, tzinfo=LOCAL_TZ))
    before = _dispatch(st)
    statutory = _next_working_day(date(YEAR - 1, 12, 31), {date(YEAR, 1, 1)}, set())
    assert _handling_due(st, before).date() == statutory, "the statute: only 1 January off, no 调休"

    office = Browser(st)
    page = office.login("chenqi", "/h5/calendar")
    assert page.status_code == 200
    assert f"{YEAR} 年" in page.text
    csrf = office.csrf(page)
    shown = office.post("/h5/calendar/preview", {"csrf": csrf, "year": str(YEAR), "notice": notice()})
    assert shown.status_code == 200, shown.text
    assert f"元旦：1月1日（周{WEEK[date(YEAR, 1, 1).weekday()]}）至1月3日" in shown.text
    assert f"{_wd(_worked())}上班" in shown.text
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DeclaredYear)) == 0, "a preview saves nothing"
    saved = office.post("/h5/calendar/save", _form(shown.text, 'id="preview"'))
    assert saved.status_code == 200, saved.text
    assert f"已保存 {YEAR} 年的节假日安排：放假 8 天，调休上班 1 天" in saved.text
    with st.rt.sessions() as s:
        row = s.get(DeclaredYear, YEAR)
        assert row is not None
        assert row.holidays[f"{YEAR}-01-02"] == "元旦"
        assert row.saved_by == "chenqi"
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "calendar_saved"))
        assert audit is not None
        assert audit.actor == "chenqi"
        assert audit.detail["year"] == YEAR

    after = _dispatch(st)  # the same processes, no restart
    off = {date(YEAR, 1, d) for d in (1, 2, 3)}
    expected = _next_working_day(date(YEAR - 1, 12, 31), off, {_worked()})
    assert _handling_due(st, after).date() == expected
    assert expected != statutory

    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    check = liaowang(cfg, "calendar", "check", "--days", "400", now=f"{YEAR - 1}-12-31T10:00:00+08:00")
    assert f"{YEAR} 年：已知 ✓（办公室在工作日历页面录入）" in check.stdout, check.stdout + check.stderr
    day = liaowang(cfg, "calendar", "day", _worked().isoformat(), "--json", now=f"{YEAR - 1}-12-31T10:00:00+08:00")
    assert '"workday": true' in day.stdout
    assert '"source": "office"' in day.stdout


def test_a_bad_paste_is_refused_and_changes_nothing(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(pages=True)
    clock.freeze(datetime(YEAR - 1, 12, 1, 10, 0, tzinfo=LOCAL_TZ))
    office = Browser(st)
    csrf = office.csrf(office.login("chenqi", "/h5/calendar"))
    wrong_year = office.post("/h5/calendar/save", {"csrf": csrf, "year": str(YEAR - 1), "notice": notice()})
    assert wrong_year.status_code == 400
    assert "年份选对了吗" in wrong_year.text
    miscounted = notice().replace("共3天", "共4天")
    bad_count = office.post("/h5/calendar/preview", {"csrf": csrf, "year": str(YEAR), "notice": miscounted})
    assert bad_count.status_code == 400
    assert "写着共4天" in bad_count.text
    assert "共4天" in bad_count.text, "the text stays in the box to be corrected"
    nonsense = office.post("/h5/calendar/save", {"csrf": csrf, "year": str(YEAR), "notice": "明年照旧"})
    assert "没有读到任何放假安排" in nonsense.text
    forged = office.post("/h5/calendar/save", {"csrf": "x", "year": str(YEAR), "notice": notice()})
    assert forged.status_code == 400
    assert "校验码不对" in forged.text
    builtin = office.post("/h5/calendar/save", {"csrf": csrf, "year": "2026", "notice": REAL_2026})
    assert "已内置" in builtin.text
    lead = Browser(st)
    refused = lead.login("wangwu", "/h5/calendar")
    assert refused.status_code == 403
    assert "由领导小组办公室维护" in refused.text
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DeclaredYear)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "calendar_saved")) == 0


def test_a_sensitive_period_is_added_with_the_date_pickers(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(pages=True)
    clock.freeze(datetime(YEAR - 1, 12, 1, 10, 0, tzinfo=LOCAL_TZ))
    office = Browser(st)
    page = office.login("chenqi", "/h5/calendar")
    csrf = office.csrf(page)
    assert 'type="date"' in page.text
    start, end = f"{YEAR - 1}-12-10", f"{YEAR - 1}-12-12"
    added = office.post("/h5/calendar/period", {"csrf": csrf, "name": "年终会议", "start": start, "end": end})
    assert added.status_code == 200, added.text
    assert "已设定重要节点“年终会议”" in added.text
    assert "12月12日 23:59" in added.text, "the end day is included"
    backwards = office.post("/h5/calendar/period", {"csrf": csrf, "name": "倒序", "start": end, "end": start})
    assert backwards.status_code == 400
    assert "早于开始" in backwards.text
    nameless = office.post("/h5/calendar/period", {"csrf": csrf, "name": " ", "start": start, "end": end})
    assert "请写上重要节点的名称" in nameless.text
    with st.rt.sessions() as s:
        names = s.scalars(select(SensitivePeriod.name)).all()
        assert names == ["年终会议"]
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "period_declared")) == 1
    st.say("chenqi", "重要节点")
    assert "年终会议" in st.reply("chenqi"), "the chat lists it too"
