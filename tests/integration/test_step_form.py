"""The short H5 form of a step (issue 23 item 5): a step's button reply links /h5/step/<step>/<编号>; the form is
behind WeCom OAuth2, takes the step through the workflow function the chat uses, refuses the wrong person, a step not
owed, an item in the wrong state and an empty text in Chinese changing nothing, and records a refresh or a second
提交 after the back button once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import Item, Submission
from tests.integration.flowkit import cards, click, dispatched, item_of, step_texts
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_h5 import PDF

FIRST = "经核实，系商户占道经营被劝离，未发生肢体冲突。"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with its H5 pages."""
    return make_stack(pages=True)


def _versions(st: Stack, code: str) -> int:
    with st.rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Submission).join(Item).where(Item.code == code)) or 0)


def _token(page_text: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page_text)
    assert found, page_text
    return found.group(1)


def _form(browser: Browser, userid: str, path: str) -> dict[str, str]:
    """Log in as userid on the step form at path; return its hidden fields."""
    page = browser.login(userid, path)
    assert page.status_code == 200, page.text
    return {"csrf": browser.csrf(page), "token": _token(page.text)}


def test_the_first_report_from_the_buttons_link_on_the_form(st: Stack) -> None:
    code = dispatched(st)
    click(st, "wangwu", cards(st, "wangwu", "舆情交办")[-1], "写首报")
    ask = st.reply("wangwu")
    path = f"/h5/step/first_report/{code}"
    assert f"也可以在网页上填写：{st.rt.config.public_url}{path}" in ask, ask
    browser = Browser(st)
    page = browser.login("wangwu", path)
    assert page.status_code == 200
    for shown in (code, "首报内容（核实情况和初步处置意见）", "<textarea", "网传执法人员与商户发生冲突的视频"):
        assert shown in page.text, shown
    assert 'type="file"' not in page.text, "a 首报 takes no files"
    done = browser.post(path, {"csrf": browser.csrf(page), "token": _token(page.text), "text": FIRST})
    assert done.status_code == 200, done.text
    assert f"已记录 {code} 的首报，已报办公室和分管领导。" in done.text
    assert step_texts(st, code, "first_report") == [FIRST]
    assert item_of(st, code).state == "first_reported"
    st.drain()
    assert any(t.startswith(f"【首报】{code}") for t in st.texts("chenqi")), "the office hears it as from the chat"
    st.say("wangwu", "再说一句")  # the form answered the chat's question: this is no 首报
    assert "已记录" not in st.reply("wangwu")
    assert step_texts(st, code, "first_report") == [FIRST]


def test_a_refresh_or_back_and_submit_again_records_once(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"首报 {code} 已核实")
    path = f"/h5/step/progress_report/{code}"
    browser = Browser(st)
    fields = _form(browser, "wangwu", path)
    sent = {**fields, "text": "当事商户已签字确认处理结果"}
    first = browser.post(path, sent)
    assert f"已记录 {code} 的续报" in first.text
    again = browser.post(path, sent)  # the browser's refresh sends the same form again
    assert again.status_code == 200
    assert "这份内容已经提交过了，没有重复记录。" in again.text
    assert f"已记录 {code} 的续报" in again.text, "it says what the first one did"
    back = browser.get(path)  # the back button: the form again, with a new token
    assert back.status_code == 200
    resent = browser.post(path, {"csrf": browser.csrf(back), "token": _token(back.text), "text": sent["text"]})
    assert "这份内容已经提交过了" in resent.text
    assert step_texts(st, code, "progress_report") == ["当事商户已签字确认处理结果"]
    other = browser.post(path, {**fields, "token": _token(back.text), "text": "评论量已明显下降"})
    assert f"已记录 {code} 的续报" in other.text, "a new text is a new 续报"
    assert step_texts(st, code, "progress_report") == ["当事商户已签字确认处理结果", "评论量已明显下降"]


def test_the_wrong_person_an_empty_text_and_a_step_not_owed_are_refused_changing_nothing(st: Stack) -> None:
    code = dispatched(st)
    path = f"/h5/step/first_report/{code}"
    own = dispatched(st, "城东区局")
    sunshi = Browser(st)
    theirs = _form(sunshi, "sunshi", f"/h5/step/first_report/{own}")
    page = sunshi.get(path)
    assert page.status_code == 403
    assert "<textarea" not in page.text
    assert "您不是执法一队的负责人" in page.text
    refused = sunshi.post(path, {**theirs, "text": "越权首报"})
    assert refused.status_code == 403
    assert "您不是执法一队的负责人" in refused.text
    with_file = sunshi.post(f"/h5/step/written_report/{code}", {**theirs, "text": "越权"}, [("a.pdf", b"not a pdf")])
    assert with_file.status_code == 403, "the person is refused before the file is looked at"
    assert "<textarea" not in with_file.text
    assert step_texts(st, code, "first_report") == []
    wangwu = Browser(st)
    fields = _form(wangwu, "wangwu", path)
    empty = wangwu.post(path, {**fields, "text": "  \n "})
    assert empty.status_code == 400
    assert "请填写内容再提交；没有提交任何内容。" in empty.text
    assert "<textarea" in empty.text, "the form is shown again"
    bad = wangwu.post(path, {**fields, "csrf": "forged", "text": FIRST})
    assert bad.status_code == 400
    assert "没有保存任何内容" in bad.text
    assert step_texts(st, code, "first_report") == []
    st.say("wangwu", f"首报 {code} 在聊天里先报了")  # meanwhile, in the chat
    late = wangwu.post(path, {**fields, "text": FIRST})
    assert late.status_code == 409
    assert f"{code} 的首报已经报过" in late.text
    assert f"/h5/step/progress_report/{code}" in late.text, "it offers the 续报 instead"
    assert step_texts(st, code, "first_report") == ["在聊天里先报了"]
    again = wangwu.get(path)
    assert again.status_code == 409
    assert "有新进展请改为续报" in again.text
    assert wangwu.get(f"/h5/step/acknowledge/{code}").status_code == 404
    assert "这一步没有网页表单" in wangwu.get(f"/h5/step/nonsense/{code}").text
    assert wangwu.get("/h5/step/first_report/YQ-20000101-999").status_code == 404


def test_a_form_left_open_too_long_keeps_the_text_and_records_nothing(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"首报 {code} 已核实")
    path = f"/h5/step/progress_report/{code}"
    browser = Browser(st)
    fields = _form(browser, "wangwu", path)
    st.later(13 * 3600)
    stale = browser.post(path, {**fields, "text": "隔夜写好的续报"})
    assert stale.status_code == 409
    assert "这个页面打开太久了，内容没有提交" in stale.text
    assert "隔夜写好的续报</textarea>" in stale.text
    assert step_texts(st, code, "progress_report") == []
    done = browser.post(path, {"csrf": fields["csrf"], "token": _token(stale.text), "text": "隔夜写好的续报"})
    assert f"已记录 {code} 的续报" in done.text


def test_the_written_report_with_a_file_and_an_item_no_longer_taking_one(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    path = f"/h5/step/written_report/{code}"
    browser = Browser(st)
    page = browser.login("wangwu", path)
    assert 'type="file"' in page.text
    fields = {"csrf": browser.csrf(page), "token": _token(page.text), "text": "经核实，已约谈当事执法人员。"}
    bad = browser.post(path, fields, [("note.pdf", b"not a pdf at all")])
    assert bad.status_code == 415
    assert "不是Word" in bad.text
    assert _versions(st, code) == 0
    done = browser.post(path, fields, [("核查报告.pdf", PDF)])
    assert done.status_code == 200, done.text
    assert f"已收到 {code} 的书面报告（第 1 版，文件 1 个），已送分管领导审核" in done.text
    assert "这份内容已经提交过了" in browser.post(path, fields, [("核查报告.pdf", PDF)]).text
    assert _versions(st, code) == 1
    with st.rt.sessions() as s:
        sub = s.scalar(select(Submission).join(Item).where(Item.code == code))
        assert sub is not None
        assert (sub.via, sub.text, len(sub.attachments)) == ("h5", "经核实，已约谈当事执法人员。", 1)
    st.drain()
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    closed = browser.get(path)
    assert closed.status_code == 409
    assert "书面报告已审核通过" in closed.text
    assert "<textarea" not in closed.text
    late = browser.post(path, {**fields, "text": "批准后又写的一版"})
    assert late.status_code == 409
    assert _versions(st, code) == 1


def test_the_reply_to_a_step_button_links_the_form_where_the_step_has_one(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", "我的待办")
    todo = cards(st, "wangwu", "我的待办")[-1]
    click(st, "wangwu", todo, "3 书面报告")
    assert f"（可附文件）：{st.rt.config.public_url}/h5/step/written_report/{code}" in st.reply("wangwu")
    st.say("wangwu", "取消")
    click(st, "wangwu", todo, next(b for b in (t["text"] for t in todo["body"]["template_card"]["button_list"])
                                   if b.endswith("申请延期")))  # fmt: skip
    assert "/h5/step/" not in st.reply("wangwu"), "申请延期 stays in the chat"


def test_the_handling_report_on_the_form_meets_its_clock_like_the_chat(st: Stack) -> None:
    code = dispatched(st)
    path = f"/h5/step/handling_report/{code}"
    browser = Browser(st)
    fields = _form(browser, "wangwu", path)
    done = browser.post(path, {**fields, "text": "已约谈当事人，原帖已删除，评论平稳。"})
    assert f"已记录 {code} 的处置情况，已报办公室和分管领导。" in done.text
    assert step_texts(st, code, "handling_report") == ["已约谈当事人，原帖已删除，评论平稳。"]
    st.say("wangwu", "处置报告 再报一次")
    assert "您目前没有需要报送处置情况的舆情" in st.reply("wangwu"), "the chat sees the clock met"
    again = browser.get(path)
    assert again.status_code == 409
    assert f"{code} 的处置情况已经报过" in again.text
