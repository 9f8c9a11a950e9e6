"""帮助, the fallback for anything unrecognised, and the words that only mean something mid-conversation."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.registry import click, command
from models import Role

BASE = (
    "瞭望 · 舆情处置助手\n"
    "· 上报 <描述或链接>：一句话上报；只发“上报”按步骤填写（可附截图、链接）\n"
    "· 我的待办：查看需要我办理的事项\n"
    "· 查询 <编号>：查看条目进展\n"
    "· 取消：放弃正在进行的上报"
)
COMMENTATOR = (
    "\n· 巡查 无异常（或 零报告）：报告当天的巡查结果；当天上报过舆情自动算已巡查"
    "\n· 组织跟帖：按卡片要求跟帖后点“已跟帖”发来链接或截图，或发送 已跟帖 <编号> <链接>；做不到点“无法完成”说明原因"
)
LEAD = (
    "\n· 签收 <编号>：签收交办（也可点卡片上的“签收”按钮）"
    "\n· 首报 <编号> <内容>：首报（口头汇报过可点提醒卡片上的“已口头汇报”）"
    "\n· 书面报告 <编号>：逐条发送文字和照片，回复“提交”报送；或 书面报告 <编号> <内容> 一次报送；"
    "Word/PDF 用卡片上的“上传文件”"
    "\n· 续报 <编号> <内容>：报送最新进展，直到办结"
    "\n· 处置报告 <编号> <内容>：报送处置情况与结果（24 小时内）"
    "\n· 反弹 <编号> [情况]：善后观察期内舆情反弹（也可点回访卡片上的“反弹”）"
    "\n· 申请延期 <编号> [时限名] <时长> <原因>：到期前申请延期，如 申请延期 YQ-… 书面报告 2小时 需补充材料"
    "\n· 考核 [月份]：本单位的扣分事项；有异议发送 申诉 <事项编号> <理由>"
    "\n· 口径 <编号> <对外发布的文字> [会同 <单位…>]：拟定统一口径（主办单位），审核定稿后 发布 <编号> <渠道> <链接>"
)
OFFICE = (
    "\n· 交办 <编号> <单位> [一般|较大|重大]：定级并交办，多个单位用逗号分隔，第一个为主办"
    "\n· 定级 <编号> <一般|较大|重大>：调整等级，时限随之重算"
    "\n· 免除时限 <编号> <时限名> <原因>：免除某项时限，不再提醒或督办"
    "\n· 会商 <编号> [说明]：征求局办公室（及相关处室）意见；书面报告批准后会自动征求一次"
    "\n· 回复来源 <编号> <答复内容>：局办公室反馈意见后回复来源"
    "\n· 办结 <编号> [说明]：办结并进入善后观察"
    "\n· 总结评估 <编号>（按步骤填写经验、问题、改进措施、态势）、归档 <编号>（生成案卷，条目页面下载）"
    "\n· 快报 <编号> / 专报 <编号>：领导审批后得到 Word 文件；报送 <编号> <对象>：登记报送"
    "\n· 扣分 <编号> <单位> <漏报|瞒报|处置不当> <主要|间接> <理由>；申诉由 维持/撤销 <事项编号> 审定"
    "\n· 考核 [月份]：各单位得分；完整通报、图表和导出在“更多 → 考核统计”"
    "\n· 巡查情况：今天网评员的巡查报告情况；重要节点 [<名称> <开始> <结束>]：查看或设定重要节点"
    "\n· 跟帖 <编号> <人员或单位…> <要点|口径> [限2小时]：组织跟帖；跟帖情况 <编号> 查看进度"
    "\n· 口径 <编号> [文字 [会同 <单位…>]]：查看或拟定统一口径；发布 <编号> <渠道> [链接]：登记发布"
)
APPROVER = (
    "\n· 书面报告送审时会收到审批卡片：批准 / 退回修改（随后回复修改意见）/ 升级为重大；"
    "“查看报告”可看全文和附件；也可发送“批准 <编号>”或“退回修改 <编号> <修改意见>”"
)
LEADER = "\n· 考核 [月份]：各单位得分；每月 1 日收到上月考核通报\n· 批示 <编号> <内容>：批示转给承办单位和办公室"
CONSULTED = "\n· 会商意见 <编号> <意见>：对办公室征求的事项反馈意见（也可点卡片按钮）"


def help_text(ctx: Ctx) -> str:
    """Return the help text for this person's roles."""
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
    """Show the help text."""
    return help_text(ctx)


@command("取消", "提交", alone=True)
def nothing_in_progress(ctx: Ctx) -> str:
    """取消/提交 with no conversation in progress."""
    return "当前没有进行中的上报或书面报告。发送“上报”开始，或发送“帮助”查看用法。"


def fallback(ctx: Ctx) -> str:
    """The reply to anything unrecognised."""
    return "没看懂这条消息。发送“帮助”查看可用指令；要上报舆情，请发送“上报 描述”。"


UNSUPPORTED = "暂不支持这种消息。请发送文字、链接或截图；书面材料请通过卡片上的上传页面提交。"
