"""帮助, the fallback for anything unrecognised, and the words that only mean something mid-conversation."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.registry import click, command
from models import Role
from workflow.people.menu import summary, where
from workflow.views import owed, pages

BASE = (
    "瞭望 · 舆情处置助手（<编号> 形如 YQ-20261126-003）\n"
    "· 上报 <描述或链接>：一句话上报；只发“上报”按步骤填写（可附截图、链接），“提交”报送、“取消”放弃\n"
    "· 我的待办：我该办的事；查询 <编号>：进展和经过\n"
    f"· 菜单：{summary()}"
)
COMMENTATOR = (
    "\n【巡查】巡查 无异常（或 零报告）；当天上报过舆情自动算已巡查"
    "\n【跟帖】按卡片要求跟帖后点“已跟帖”发来链接或截图（或 已跟帖 <编号> <链接>）；做不到点“无法完成”"
)
LEAD = (
    "\n【承办】签收 <编号>｜首报 <编号> <内容>｜续报 <编号> <内容>｜处置报告 <编号> <内容>；卡片上的按钮同样有效"
    "\n【书面报告】书面报告 <编号> 后逐条发文字和照片，回复“提交”；Word/PDF 点卡片上的“上传文件”"
    "\n【延期】到期前 申请延期 <编号> [时限名] <时长> <原因>，如 申请延期 YQ-… 书面报告 2小时 需补充材料"
    "\n【善后】反弹 <编号> [情况]，或点回访卡片上的“反弹”"
    "\n【口径】口径 <编号> <文字> [会同 <单位…>]；定稿后 发布 <编号> <渠道> [链接]"
    "\n【会商】被征求意见时点卡片，或 会商意见 <编号> <意见>"
    "\n【考核】考核 [月份]；有异议 申诉 [事项编号] <理由>（只有一项时不必写编号）"
)
OFFICE = (
    "\n【交办】交办 <编号> <主办单位> [协办单位…] [抄送 <单位>…] [一般|较大|重大] [限2小时|限16:30]"
    "\n　定级 <编号> <一般|较大|重大>（时限重算）；免除时限 <编号> <时限名> <原因>；"
    "申请延期 <编号> [时限名] <时长> <原因>（办公室自己的时限，由领导审批）"
    "\n【同一事件】合并 <编号> <编号>（保留较早上报的）；不是同一事件 <编号> <编号>"
    "\n【会商与办结】会商 <编号> [处室…] [说明]（书面报告批准后自动征求局办公室一次）；回复来源 <编号> <答复>；"
    "已答复市民 <编号>（公众号答复须人工发送时）；办结 <编号> [说明]"
    "\n【善后与归档】总结评估 <编号>（按步骤填写）；归档 <编号>（生成案卷）"
    "\n　交办、回复来源、办结、总结评估、归档：只有一条等着这一步时可以不写编号（几条时给选择卡片，我的待办里也有按钮）"
    "\n【口径与跟帖】口径 <编号> [文字 [会同 <单位…>]]；发布 <编号> <渠道> [链接]；"
    "跟帖 <编号> <人员或单位…> <要点|口径> [限2小时]；跟帖情况 <编号>"
    "\n【报送】快报 <编号>｜专报 <编号>（领导审批后得到 Word 文件）；报送 <编号> <对象>；批示由领导发出"
    "\n【巡查】巡查情况；重要节点 [<名称> <开始> <结束>]"
    f"\n【考核】考核 [月份]（通报、图表和导出在{where('考核统计')}）；扣分 <编号> <单位> <漏报|瞒报|处置不当> "
    "<主要|间接> <理由> [证据链接]；维持|撤销 <事项编号> [说明]"
)
APPROVER = (
    "\n【审批】书面报告送审时收到卡片：批准 / 退回修改（随后回复修改意见）/ 升级为重大，“查看报告”看全文；"
    "也可发 批准 <编号>、退回修改 <编号> <意见>；延期申请在卡片上同意或不同意"
)
LEADER = (
    "\n【领导】批示 <编号> <内容>；考核 [月份]（每月 1 日收到上月通报）；巡查情况；跟帖情况 <编号>"
    f"；看板在{where('舆情看板')}"
)
CONSULTED = "\n【会商】点会商卡片“无不同意见 / 提出意见”，或 会商意见 <编号> <意见>"


SHORT_HEAD = "瞭望 · 舆情处置助手（点卡片上的按钮最快，不用输入编号）"
SHORT_BASE = ("· 我的待办：要办的每一步都有按钮", "· 上报 <描述或链接>：上报舆情；只发“上报”按步骤填写")
SHORT_LEAD = (
    "· 首报 <内容>｜续报 <内容>｜书面报告：只欠一条舆情时不用写编号",
    "· 申请延期 <时长> <原因>：到期前申请，如 申请延期 2小时 需补充材料",
)
SHORT_COMMENTATOR = "· 巡查 无异常：每天报告巡查；跟帖按卡片办理"
SHORT_APPROVER = "· 审核：点审核卡片上的“批准”或“退回修改”"
SHORT_LEADER = "· 批示 <编号> <内容>；看板在" + where("舆情看板")
SHORT_CONSULTED = "· 会商：点会商卡片“无不同意见 / 提出意见”"
SHORT_OFFICE = "· 交办 <单位> [一般|较大|重大]｜回复来源 <答复>｜办结｜总结评估｜归档：只有一条时不用写编号"
SHORT_TAIL = "全部指令写法：发送“帮助 全部”"
ALL_WORDS = ("全部", "所有", "all", "完整", "详细")


def short_help(ctx: Ctx) -> str:
    """The few lines that say what this person's roles can do now (the whole syntax is `帮助 全部`)."""
    p = ctx.person
    lines = [SHORT_HEAD, *SHORT_BASE]
    if p.has(Role.unit_lead):
        lines += SHORT_LEAD
    if p.has(Role.office):
        calendar = pages.oauth_url(ctx.config, "/h5/calendar")
        lines += [SHORT_OFFICE, f"· 工作日历与重要节点：{calendar}"]
    if p.has(Role.commentator):
        lines.append(SHORT_COMMENTATOR)
    if p.has(Role.supervisor) or p.has(Role.leader):
        lines.append(SHORT_APPROVER)
    if p.has(Role.leader):
        lines.append(SHORT_LEADER)
    if p.has(Role.general_office) and not p.has(Role.office):
        lines.append(SHORT_CONSULTED)
    steps = owed.owed_steps(ctx.session, p)
    if steps:
        lines.insert(1, f"· 现在有 {len(steps)} 步待办：发送“我的待办”，点按钮办理")
    return "\n".join([*lines[:8], SHORT_TAIL])


def help_text(ctx: Ctx) -> str:
    """Return the whole help text for this person's roles (`帮助 全部`)."""
    text = BASE
    if ctx.person.has(Role.commentator):
        text += COMMENTATOR
    if ctx.person.has(Role.unit_lead):
        text += LEAD
    if ctx.person.has(Role.office):
        text += OFFICE
    if ctx.person.has(Role.supervisor) or ctx.person.has(Role.leader):
        text += APPROVER
    if ctx.person.has(Role.leader):
        text += LEADER
    if ctx.person.has(Role.general_office):
        text += CONSULTED
    return text


@command("帮助", "help", "?", "？", "菜单", alone=True)
@click("HELP")
def help_command(ctx: Ctx) -> str:
    """Show the short help for this person's roles; `帮助 全部` shows every command's syntax."""
    if ctx.args.strip().lower() in ALL_WORDS:
        return help_text(ctx)
    return short_help(ctx)


@command("取消", "提交", alone=True)
def nothing_in_progress(ctx: Ctx) -> str:
    """取消/提交 with no conversation in progress."""
    return "当前没有进行中的上报或书面报告。发送“上报”开始，或发送“帮助”查看用法。"


def fallback(ctx: Ctx) -> str:
    """The reply to anything unrecognised."""
    return "没看懂这条消息。发送“帮助”查看可用指令；要上报舆情，请发送“上报 描述”。"


UNSUPPORTED = "暂不支持这种消息。请发送文字、链接或截图；书面材料请通过卡片上的上传页面提交。"
