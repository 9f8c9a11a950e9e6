"""上报: the one-message form, the guided conversation, and links/screenshots sent while reporting."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from handlers import flows
from handlers.context import Ctx
from handlers.registry import click, command, message
from models import Grade
from models.item import GRADE_WORDS, SOURCES
from workflow.incident.links import find_links
from workflow.incident.report import Draft, related_line, report

SOURCE_CHOICES = list(SOURCES)
GRADE_CHOICES = [Grade.general, Grade.significant, Grade.major]
ASK_TEXT = "请发送舆情描述（可以包含链接），也可以直接转发链接或发送截图。\n随时回复“取消”放弃本次上报。"
ASK_SOURCE = (
    "来源是哪里？回复数字：\n"
    + "\n".join(f"{i + 1}. {SOURCES[k]}" for i, k in enumerate(SOURCE_CHOICES))
    + "\n回复“跳过”按“主动发现”记录。"
)
ASK_GRADE = "建议等级？回复数字：\n1. 一般\n2. 较大\n3. 重大\n回复“跳过”由办公室定级。"
ASK_FILES = "如有截图请直接发送图片（可以多张）。发送完毕回复“提交”；没有截图直接回复“提交”。"


def _done(ctx: Ctx, draft: Draft) -> str:
    result = report(ctx.session, ctx.person, draft, ctx.now, ctx.config)
    flows.end(ctx, "report")
    item = result.item
    if result.merged:
        first = "您" if item.reporter_id == ctx.person.id else item.reporter.name
        return (
            f"这条舆情此前已由{first}上报（编号 {item.code}），已合并到该条目，"
            f"首次发现人记为{first}，您的上报也已记录。"
            f"\n发送“查询 {item.code}”可查看进展。"
        )
    extra = f"，含截图 {len(draft.images)} 张" if draft.images else ""
    again = f"\n{related_line(result.related)}，原条目已归档，本次作为新条目处理。" if result.related else ""
    return f"已收到您的上报{extra}，编号 {item.code}。{again}\n办公室会尽快定级交办，发送“查询 {item.code}”可查看进展。"


@command("上报", alone=True)
def report_command(ctx: Ctx) -> str | None:
    """`上报 描述` reports at once; a bare `上报` starts the guided conversation."""
    if ctx.args:
        flows.end(ctx, "report")
        return _done(ctx, Draft(text=ctx.args, links=find_links(ctx.args)))
    return start(ctx)


@click("REPORT")
def start(ctx: Ctx) -> str:
    """Start (or restart) a guided report."""
    flows.begin(ctx, "report", {"step": "text", "draft": asdict(Draft(text=""))})
    return "开始上报舆情。\n" + ASK_TEXT


def _draft(state: dict[str, Any]) -> Draft:
    return Draft(**state["draft"])


def _save(ctx: Ctx, state: dict[str, Any], draft: Draft, step: str) -> None:
    state["draft"], state["step"] = asdict(draft), step
    flows.begin(ctx, "report", state)


def _pick(answer: str, choices: list[Any]) -> Any | None:
    if answer.isascii() and answer.isdecimal() and len(answer) <= 2 and 1 <= int(answer) <= len(choices):
        return choices[int(answer) - 1]
    return None


def continue_report(ctx: Ctx, state: dict[str, Any]) -> str:
    """Take the next answer of a guided report."""
    text, draft, step = ctx.msg.content.strip(), _draft(state), state.get("step", "text")
    word = flows.flow_word(ctx)
    if word == "取消":
        flows.end(ctx, "report")
        return "已取消本次上报，没有记录任何内容。"
    if step == "text" and word in ("提交", "跳过"):
        return _no_description(ctx, state, draft, word)
    if step == "text":
        draft.text, draft.links = text, list(dict.fromkeys(draft.links + find_links(text)))
        _save(ctx, state, draft, "source")
        return ASK_SOURCE
    if word == "提交":
        return _done(ctx, draft)
    if step == "source":
        choice = "discovery" if text == "跳过" else _pick(text, SOURCE_CHOICES)
        choice = choice or next((k for k, v in SOURCES.items() if v == text), None)
        if choice is None:
            return "没看懂。请回复 1–6 的数字，或“跳过”。\n" + ASK_SOURCE
        draft.source = choice
        _save(ctx, state, draft, "grade")
        return ASK_GRADE
    if step == "grade":
        grade = None if text == "跳过" else (_pick(text, GRADE_CHOICES) or GRADE_WORDS.get(text))
        if grade is None and text != "跳过":
            return "没看懂。请回复 1、2、3，或“跳过”。\n" + ASK_GRADE
        draft.suggested_grade = str(grade) if grade else None
        _save(ctx, state, draft, "files")
        return ASK_FILES
    return "请发送截图，或回复“提交”完成上报（“取消”放弃）。"


def _no_description(ctx: Ctx, state: dict[str, Any], draft: Draft, word: str) -> str:
    """提交 or 跳过 where the description is asked: the forwarded link's title describes it; the word is never kept."""
    titles = [t for t in draft.link_titles.values() if t]
    if not titles and not draft.links and not draft.images:
        return f"还没有舆情描述。请发送一句描述，或转发链接、发送截图（“{word}”不会作为描述）。随时回复“取消”放弃。"
    draft.text = titles[0] if titles else ""
    if word == "提交":
        return _done(ctx, draft)
    _save(ctx, state, draft, "source")
    return ("已用链接标题作为描述。\n" if titles else "") + ASK_SOURCE


def _new_state() -> dict[str, Any]:
    return {"flow": "report", "step": "text", "draft": asdict(Draft(text=""))}


def add_link(ctx: Ctx, state: dict[str, Any]) -> str:
    """A shared link joins the report being made."""
    draft = _draft(state)
    draft.links = list(dict.fromkeys([*draft.links, ctx.msg.url]))
    draft.link_titles[ctx.msg.url] = ctx.msg.title
    _save(ctx, state, draft, state.get("step", "text"))
    hint = {
        "text": "请再发一句描述（说明涉及什么、为什么要关注）；不写描述就回复“提交”，以链接标题作为描述。",
        "source": ASK_SOURCE,
        "grade": ASK_GRADE,
    }
    return f"已附上链接《{ctx.msg.title or ctx.msg.url}》。\n" + hint.get(state["step"], ASK_FILES)


def add_image(ctx: Ctx, state: dict[str, Any]) -> str:
    """A screenshot joins the report being made."""
    draft = _draft(state)
    draft.images = [*draft.images, ctx.msg.media_id]
    _save(ctx, state, draft, state.get("step", "text"))
    if state["step"] == "text":
        return f"已收到截图（共 {len(draft.images)} 张）。请再发一句描述，说明这条舆情的情况。"
    return f"已收到截图（共 {len(draft.images)} 张）。继续发送，或回复“提交”完成上报。"


@message("link")
def link_message(ctx: Ctx) -> str:
    """A shared link with no conversation open starts a report with the link attached."""
    return add_link(ctx, _new_state())


@message("image")
def image_message(ctx: Ctx) -> str:
    """A screenshot with no conversation open starts a report with the screenshot attached."""
    return add_image(ctx, _new_state())


flows.declare(
    flows.Flow(
        "report",
        "上报舆情",
        continue_report,
        on_image=add_image,
        on_link=add_link,
        words=frozenset({"取消", "提交", "跳过"}),
        way_out="回复“提交”完成上报，或“取消”放弃",
        drafts=True,
    )
)
