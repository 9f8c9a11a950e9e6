"""The three dispatch flows (SPEC §6) end to end: consultation, reply to the source, closing, follow-up, rebound."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import clock as clockmod
from models import Attachment, Clock, ItemUnit, Opinion, Watch
from tests.integration.flowkit import buttons, cards, click, current, dispatched, item_of
from tests.integration.harness import Stack

APPROVAL = "书面报告审核"
POLICY = {"follow_up_period": "3h", "follow_up_every": "1h"}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack on a frozen clock with a three-hour follow-up watch (one check-in an hour)."""
    return make_stack(extra={"policy": POLICY})


def _approved(st: Stack, code: str, lead: str = "wangwu", supervisor: str = "lisi") -> None:
    st.say(lead, f"书面报告 {code} 经核实，已妥善处置，拟答复如下……")
    click(st, supervisor, cards(st, supervisor, APPROVAL)[-1], "批准")
    assert item_of(st, code).state == "approved"


def test_flow_2_bureau_department_to_reply_close_watch_evaluate_and_archive(st: Stack) -> None:
    code = dispatched(st)
    assert item_of(st, code).flow == "bureau"
    st.say("wangwu", f"书面报告 {code} 经核实，已妥善处置")
    st.say("lisi", "我的待办")
    assert "待审核" in st.last("lisi")
    assert code in st.last("lisi")
    click(st, "lisi", cards(st, "lisi", APPROVAL)[-1], "批准")
    st.say("lisi", "我的待办")
    assert "没有待办" in st.last("lisi")
    st.say("zhouba", "我的待办")
    assert "待反馈会商意见" in st.last("zhouba")
    st.say("chenqi", "我的待办")
    assert "待回复来源" in st.last("chenqi")
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    assert "局办公室还没有反馈" in st.last("chenqi")
    assert item_of(st, code).state == "approved"
    opinion = cards(st, "zhouba", "会商")
    assert len(opinion) == 1
    click(st, "zhouba", opinion[0], "无不同意见")
    assert current(st, "zhouba", opinion[0])["replaced_button"].startswith("周八 无不同意见")
    assert any("【会商意见】" in t and "无不同意见" in t for t in st.texts("chenqi"))
    st.say("chenqi", f"回复来源 {code} 经核查，执法人员已停职检查，感谢监督。")
    assert "已记录" in st.last("chenqi")
    assert item_of(st, code).state == "replied"
    assert any("【已回复来源】" in t for t in st.texts("zhangsan")), "the reporter hears the reply"
    st.say("chenqi", f"办结 {code} 处置完毕")
    assert item_of(st, code).state == "follow_up"
    with st.rt.sessions() as s:
        assert not s.scalars(select(Clock).where(Clock.state.in_(("open", "missed")))).all(), "closing waives clocks"
    st.later(3599)
    assert not cards(st, "wangwu", "善后观察")
    st.later(1)
    checkin = cards(st, "wangwu", "善后观察")
    assert len(checkin) == 1
    assert set(buttons(checkin[0])) == {"平稳", "反弹"}
    click(st, "wangwu", checkin[0], "平稳")
    assert "平稳" in st.last("wangwu")
    st.later(3600)
    assert len(cards(st, "wangwu", "善后观察")) == 2
    st.say("chenqi", f"总结评估 {code} 提前评估")
    assert "观察期满后再总结评估" in st.reply("chenqi"), "SPEC §7: 善后 first, then 总结评估"
    assert item_of(st, code).state == "follow_up"
    st.later(3600)
    assert any("善后观察期满" in t for t in st.texts("chenqi"))
    assert len(cards(st, "wangwu", "善后观察")) == 2, "no check-in after the period"
    st.say("chenqi", f"总结评估 {code} 处置及时，舆情平稳。")
    st.say("chenqi", f"归档 {code}")
    assert item_of(st, code).state == "archived"
    for late in (f"续报 {code} 又有人转发", f"反弹 {code} 又有人转发"):  # no dead end after the archive
        st.say("wangwu", late)
        assert "请重新上报" in st.reply("wangwu"), late
    st.say("zhangsan", f"查询 {code}")
    history = st.last("zhangsan")
    for words in (
        "书面报告 第 1 版",
        "批准书面报告",
        "周八 无不同意见",  # the click said no objection: not an opinion
        "回复来源：经核查",
        "办结",
        "回报态势平稳",
        "总结评估：处置及时",
        "立卷归档",
        "流程：本级处置",
    ):
        assert words in history, (words, history)


def test_flow_1_county_bureau_copies_the_department_and_consults_it(st: Stack) -> None:
    code = dispatched(st, units="城东区局 执法一队", grade="一般", reporter="wuyi")
    item = item_of(st, code)
    assert item.flow == "local"
    with st.rt.sessions() as s:
        parts = dict(s.execute(select(ItemUnit.part, ItemUnit.unit_id).where(ItemUnit.item_id == item.id)).all())
    assert set(parts) == {"lead", "cc"}
    assert any("【抄送】" in t and "业务处室" in t for t in st.texts("wangwu"))
    assert not cards(st, "wangwu", "舆情交办"), "a copied department does not acknowledge"
    st.say("wangwu", f"签收 {code}")
    assert "不是交办给您所在单位" in st.last("wangwu")
    st.say("wangwu", f"书面报告 {code} 抄送单位不应报送")
    assert "不是它的承办单位" in st.last("wangwu")
    st.say("sunshi", f"签收 {code}")
    _approved(st, code, lead="sunshi", supervisor="zhaoliu")
    assert any("【书面报告】" in t for t in st.texts("wangwu")), "the copied department sees the county's report"
    assert cards(st, "wangwu", "会商"), "office consults the department too"
    assert cards(st, "zhouba", "会商"), "office consults the department too"
    st.say("wangwu", f"会商意见 {code} 建议答复中补充法规依据")
    assert any("建议答复中补充法规依据" in t for t in st.texts("chenqi"))
    click(st, "zhouba", cards(st, "zhouba", "会商")[0], "提出意见")
    st.say("zhouba", "同意处置意见，答复口径请按局里统一表述")
    with st.rt.sessions() as s:
        opinions = s.execute(select(Opinion.userid, Opinion.agree, Opinion.text)).all()
    assert {(u, a) for u, a, _ in opinions} == {("wangwu", False), ("zhouba", False)}
    st.say("chenqi", f"回复来源 {code} 已答复留言人")
    assert item_of(st, code).state == "replied"


def test_flow_3_lead_and_co_handling_units_contribute_their_parts(st: Stack) -> None:
    code = dispatched(st, units="执法一队，城东区局", grade="较大")
    assert item_of(st, code).flow == "joint"
    assert cards(st, "sunshi", "舆情交办"), "co-handling units acknowledge too"
    st.say("sunshi", f"书面报告 {code} 城东区局协办部分：已核实商户身份。")
    assert "协办材料" in st.last("sunshi")
    assert any("【协办材料】" in t and "商户身份" in t for t in st.texts("wangwu"))
    assert not cards(st, "zhaoliu", APPROVAL), "a contribution is not sent for approval"
    _approved(st, code)
    assert cards(st, "sunshi", "会商"), "co-handling units are consulted before the reply"
    st.say("chenqi", f"查询 {code}")
    assert "城东区局（协办" in st.last("chenqi")
    assert "牵头协办" in st.last("chenqi")


def test_progress_reports_continue_until_closed(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"续报 {code} 已到现场核实")
    assert "首报" in st.last("wangwu"), "the first progress report is the first report"
    st.say("wangwu", f"续报 {code} 当事人已道歉，评论量下降")
    assert "续报" in st.last("wangwu")
    assert any("【续报】" in t and "评论量下降" in t for t in st.texts("chenqi"))
    st.say("zhangsan", f"续报 {code} 冒名")
    assert "不是它的承办单位" in st.last("zhangsan")


def test_a_rebound_during_the_watch_reopens_the_item_and_restarts_its_clocks(st: Stack) -> None:
    code = dispatched(st)
    _approved(st, code)
    click(st, "zhouba", cards(st, "zhouba", "会商")[0], "无不同意见")
    st.say("chenqi", f"回复来源 {code} 已答复")
    st.say("chenqi", f"办结 {code}")
    st.later(3600)
    click(st, "wangwu", cards(st, "wangwu", "善后观察")[0], "反弹")
    assert "重新打开" in st.reply("wangwu")
    assert item_of(st, code).state == "acknowledged"
    assert any("【舆情反弹】" in t for t in st.texts("chenqi"))
    assert any("【舆情反弹】" in t for t in st.texts("lisi"))
    with st.rt.sessions() as s:
        watch = s.scalar(select(Watch))
        assert watch is not None
        assert watch.state == "rebound"
        fresh = s.scalars(select(Clock.kind).where(Clock.state == "open")).all()
    assert sorted(fresh) == ["first_report", "written_report"]
    st.later(3600)
    assert len(cards(st, "wangwu", "善后观察")) == 1, "no more check-ins after a rebound"
    st.say("wangwu", f"书面报告 {code} 反弹情况及处置")
    assert len(cards(st, "lisi", APPROVAL)) == 2, "the new report goes for approval again"


def test_a_photo_whose_media_id_expired_is_reported_to_its_sender(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code}")
    st.say("wangwu", "现场照片如下")
    st.emu.image("wangwu")
    st.drain()
    st.emu.expire_media()  # three days have passed for WeCom's copy
    st.say("wangwu", "提交")
    with st.rt.sessions() as s:
        att = s.scalar(select(Attachment).where(Attachment.kind == "photo"))
        assert att is not None
        assert att.sha256 is None
        assert att.fetch_error
    assert any("未能从企业微信取回" in t for t in st.texts("wangwu"))


def test_without_a_general_office_the_approval_stands_and_the_reply_needs_no_opinion(st: Stack) -> None:
    from tests.integration.harness import ORG
    from workflow.people.org import import_org, load_org_file

    data = load_org_file(ORG)
    data["people"] = [p for p in data["people"] if "general_office" not in p.get("roles", [])]
    with st.rt.sessions() as s, s.begin():
        import_org(s, data, clockmod.now())
    code = dispatched(st)
    _approved(st, code)
    assert any("【会商未发出】" in t for t in st.texts("chenqi"))
    st.say("chenqi", f"回复来源 {code} 已答复")
    assert item_of(st, code).state == "replied"


def test_the_office_can_name_the_departments_to_consult(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 经核实，已妥善处置")
    click(st, "lisi", cards(st, "lisi", APPROVAL)[-1], "批准")
    st.say("chenqi", f"会商 {code} 宣传处 请就答复口径提出意见")
    assert "含宣传处" in st.reply("chenqi")
    asked = [r for r in st.inbox("mali") if "会商" in str(r["body"])]
    assert asked, "the publicity department's lead is asked"
    st.say("mali", f"会商意见 {code} 建议统一口径后再答复")
    assert "转给办公室" in st.reply("mali")
    assert any("建议统一口径后再答复" in t for t in st.texts("chenqi")), "their opinion reaches the office"


def test_the_declared_relations_decide_who_takes_each_step(st: Stack) -> None:
    code = dispatched(st, units="执法一队，城东区局", grade="较大")
    st.say("sunshi", f"首报 {code} 城东区局已核实")
    assert "您不是执法一队的负责人" in st.last("sunshi"), "a co-handling unit does not give the lead's 首报"
    st.say("sunshi", f"续报 {code} 城东区局已约谈商户")
    assert "续报" in st.last("sunshi")
    assert "不是" not in st.last("sunshi"), "a co-handling unit may send 续报"
    st.say("lisi", f"签收 {code}")
    assert "只有承办单位负责人可以签收" in st.last("lisi"), "the supervisor is not the unit"
    st.say("zhangsan", f"申请延期 {code} 书面报告 1h 需要补充材料")
    assert "没有未完成的时限" in st.last("zhangsan"), "a commentator owes no clock"
    assert item_of(st, code).state == "dispatched", "no refused step moved the item"
