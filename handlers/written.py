"""书面报告 in the chat: one message, or a conversation of texts and photos ended by 提交; the 在聊天中填写 button."""

from __future__ import annotations

from typing import Any

from handlers import flows
from handlers.cards import key_parts
from handlers.context import Ctx
from handlers.registry import card, command
from handlers.steps import code_or_pick, runs, starts
from models.procedure import Act
from workflow.engine import procedure
from workflow.engine.lookup import find_item
from workflow.incident.submission import assignment, submit

USAGE = (
    "格式：书面报告 <编号>（然后逐条发送内容和照片，最后回复“提交”），或 书面报告 <编号> <内容>"
    "（只欠一条舆情的书面报告时可以不写编号）"
)
MAX_PARTS = 50
WRITING_SECONDS = 2 * 3600  # a written report takes longer to type than a guided report: keep the draft 2 h


def _keep(ctx: Ctx, state: dict[str, Any]) -> None:
    flows.begin(ctx, "written", state)


def _done(ctx: Ctx, code: str, text: str, images: list[str], via: str) -> str:
    sub = submit(ctx.session, ctx.person, code, text, ctx.now, ctx.config, images=images, via=via)
    flows.end(ctx, "written")
    photos = f"，照片 {len(images)} 张" if images else ""
    if sub.part != "lead":
        return f"已收到 {code} 的协办材料（第 {sub.version} 版{photos}），已转主办单位和办公室。"
    return f"已收到 {code} 的书面报告（第 {sub.version} 版{photos}），已送分管领导审核，审核结果会通知您。"


@command("书面报告")
def written_command(ctx: Ctx) -> str:
    """`书面报告 <编号> <内容>` sends at once; `书面报告 <编号>` starts a conversation (texts, photos, 提交);
    the 编号 may be left out when the person owes a written report on one item."""
    got = code_or_pick(ctx, Act.written_report, USAGE)
    if isinstance(got, str):
        return got
    code, text = got
    opened = flows.current(ctx)
    if opened is not None and opened[0].key == "written" and opened[1]["code"] == code.strip().upper():
        return _same_draft(ctx, opened[1], text)
    if text.strip():
        return written_step(ctx, code, text)
    return start(ctx, code)


@runs(Act.written_report)
def written_step(ctx: Ctx, code: str, text: str) -> str:
    """Send text at once as item code's written report (the command and a pick share it)."""
    return _done(ctx, find_item(ctx.session, code).code, text, [], "chat")


def _same_draft(ctx: Ctx, state: dict[str, Any], text: str) -> str:
    """`书面报告 <编号> …` typed while that report is being written: the text joins it; nothing is thrown away."""
    if not text.strip():
        n = len(state["parts"])
        return f"您正在填写 {state['code']} 的书面报告（已记下 {n} 段），请继续发送内容，或回复“提交”。"
    return _add(ctx, state, text.strip())


@starts(Act.written_report)
def start(ctx: Ctx, code: str) -> str:
    """Start collecting a written report for item code in the chat."""
    item = find_item(ctx.session, code)
    procedure.check(item, Act.written_report)  # refuse before anything is typed, not at 提交
    assignment(ctx.session, item, ctx.person)
    opened = flows.current(ctx)
    if opened is not None and opened[0].key == "written" and opened[1]["code"] == item.code:
        return _same_draft(ctx, opened[1], "")  # the button pressed again keeps what was typed
    _keep(ctx, {"flow": "written", "code": item.code, "parts": [], "images": []})
    return (
        f"开始填写 {item.code} 的书面报告。请直接发送文字（可分多条）和现场照片，"
        "发送完毕回复“提交”，回复“取消”放弃。"
        "\nWord/PDF 文件请点“报送书面报告”卡片上的“上传文件”。"
    )


@card("wr")
def write_button(ctx: Ctx) -> str:
    """The 在聊天中填写 button on the written-report card: key `wr:<编号>`."""
    return start(ctx, key_parts(ctx, 1)[0])


def continue_written(ctx: Ctx, state: dict[str, Any]) -> str:
    """Take one more text of a written report, or 提交 / 取消."""
    text, word = ctx.msg.content.strip(), flows.flow_word(ctx)
    if word == "取消":
        flows.end(ctx, "written")
        return "已放弃本次书面报告，没有提交任何内容。"
    if word == "提交":
        if not state["parts"] and not state["images"]:
            return "还没有内容。请先发送报告文字或照片，再回复“提交”（“取消”放弃）。"
        return _done(ctx, state["code"], "\n".join(state["parts"]), state["images"], "chat")
    return _add(ctx, state, text)


def _add(ctx: Ctx, state: dict[str, Any], text: str) -> str:
    """Keep one more paragraph of the draft, verbatim."""
    if len(state["parts"]) >= MAX_PARTS:
        return "这份报告的段落太多了，请回复“提交”，较长的材料请作为文件上传。"
    state["parts"].append(text)
    _keep(ctx, state)
    return f"已记下第 {len(state['parts'])} 段（{len(text)} 字）。继续发送，或回复“提交”。"


def add_photo(ctx: Ctx, state: dict[str, Any]) -> str:
    """A photo sent during a written-report conversation joins it (fetched by a job before the media id expires)."""
    if len(state["images"]) >= 20:
        return "照片最多 20 张。请回复“提交”。"
    state["images"].append(ctx.msg.media_id)
    _keep(ctx, state)
    return f"已收到照片（共 {len(state['images'])} 张）。继续发送，或回复“提交”。"


flows.declare(
    flows.Flow(
        "written",
        "填写书面报告",
        continue_written,
        on_image=add_photo,
        words=frozenset({"取消", "提交"}),
        way_out="回复“提交”报送，或“取消”放弃",
        ttl=WRITING_SECONDS,
        drafts=True,
    )
)
