"""Pure message and card builders (WeCom JSON bodies without touser/agentid)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from core.clock import show
from core.durations import format_duration
from models import GRADE_NAMES, Grade, Item, Unit
from models.codes import card_key
from models.item import PART_NAMES, SOURCES
from models.procedure import Act
from workflow.views import pages

TEXT_LIMIT = 2000  # WeCom refuses text messages over 2048 bytes; keep a margin
CUT = "……（内容较长，全文请发送“查询 编号”或打开查看页面）"


def text(content: str) -> dict[str, Any]:
    """Return a text message body, cut (with a note) to what WeCom accepts: 2048 bytes."""
    if len(content.encode()) > TEXT_LIMIT:
        room = TEXT_LIMIT - len(CUT.encode())
        content = content.encode()[:room].decode("utf-8", "ignore") + CUT
    return {"msgtype": "text", "text": {"content": content}}


def chunks(content: str, limit: int = 2000) -> list[str]:
    """Split content at line ends into pieces of at most limit UTF-8 bytes (WeCom refuses text over 2048 bytes)."""
    pieces: list[str] = []
    current = ""
    for line in content.split("\n"):
        while len(line.encode()) > limit:  # one very long line: cut it by characters
            cut = len(line.encode()[:limit].decode("utf-8", "ignore"))
            pieces, current = pieces + ([current] if current else []) + [line[:cut]], ""
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    return [*pieces, current] if current or not pieces else pieces


def grade_name(grade: str | None) -> str:
    """Return the Chinese grade name, or 未定级."""
    return GRADE_NAMES.get(Grade(grade), grade) if grade else "未定级"


def item_line(item: Item) -> str:
    """Return "YQ-… 《标题》" for lists."""
    return f"{item.code}《{item.title}》"


def new_item_notice(item: Item, reporter_name: str, origin: str = "") -> str:
    """Text for the office when an item is reported (origin: the system that pushed it, named as the source)."""
    links = "\n".join(link.url for link in item.links[:3])
    suggested = f"\n建议等级：{grade_name(item.suggested_grade)}" if item.suggested_grade else ""
    source = SOURCES.get(item.source, item.source)
    came = f"{origin}推送（{source}）" if origin else source
    when = show(item.reported_at, True)
    who = f"推送时间：{when}" if origin else f"上报人：{reporter_name}（{when}）"
    return (
        f"【新舆情待交办】{item.code}\n{item.title}\n来源：{came}"
        f"\n{who}{suggested}"
        + (f"\n链接：{links}" if links else "")
        + f"\n\n请定级交办：交办 {item.code} <单位> [一般|较大|重大]"
    )


# What a phone shows of a template card (WeCom's docs: "建议不超过N个字"; longer texts are cut on the phone).
CARD_LIMITS = {
    "source": 13,
    "title": 26,
    "desc": 30,
    "sub": 112,
    "keyname": 5,
    "value": 26,
    "jump": 13,
    "button": 10,
}
CARD_ROWS = 6
MORE = "……"  # ends a card text we cut ourselves; the whole text is on the 查看详情 page
DETAIL_LINK = "查看详情"
SENTENCE_ENDS = "。；！？\n"


def fit(value: str, limit: int) -> str:
    """Return value within limit characters: whole, or cut and ended with "……"."""
    return value if len(value) <= limit else value[: limit - len(MORE)] + MORE


def fit_sentences(value: str, limit: int) -> str:
    """Return value within limit characters, cut after its last whole sentence that fits (then "……")."""
    value = value.strip()
    if len(value) <= limit:
        return value
    room = value[: limit - len(MORE)]
    end = max(room.rfind(c) for c in SENTENCE_ENDS)
    return (room[: end + 1].rstrip() if end > 0 else room) + MORE


def fit_content(value: str, limit: int) -> str:
    """Return value within limit characters, cut anywhere but never inside a “quoted” instruction (then "……")."""
    shown = fit(value, limit)
    if shown.count("“") > shown.count("”"):
        shown = shown[: shown.rfind("“")].rstrip("，、：；（ ") + MORE
    return shown


def with_content(shown: str, content: str) -> str:
    """Return the shown instruction followed by as much of content as the card's text has room for."""
    room = CARD_LIMITS["sub"] - len(shown) - 1
    if not content or shown.endswith(MORE) or room < 10:  # no room: the 查看详情 link leads to the rest
        return shown
    return f"{shown}\n{fit_content(content, room)}" if shown else fit_content(content, CARD_LIMITS["sub"])


def button_card(
    source: str,
    title: str,
    desc: str,
    sub: str,
    fields: list[tuple[str, str]],
    task_id: str,
    buttons: list[tuple[str, str, int]],
    links: list[tuple[str, str]] | None = None,
    content: str = "",
) -> dict[str, Any]:
    """Return a button_interaction card: ≤ 6 buttons of (text, key, style) then URL buttons of (text, url).

    Every text fits what a phone shows (CARD_LIMITS): sub is the instruction, shown first and cut only after a whole
    sentence; content (the report, the reason, a long desc) follows it in the room left and may be cut anywhere.
    Whatever is cut is on the 查看详情 page (/h5/card/<task_id>), linked from the card and kept in the body's
    "detail" (dropped before sending).
    The first link also becomes the whole card's click target: a decided card's buttons are replaced by one label
    (update_template_card), and the card must still open the report.
    """
    if len(desc) > CARD_LIMITS["desc"]:  # a long title note is content: it follows the instruction in the text
        content, desc = "\n".join(t for t in (desc, content) if t), ""
    shown_sub = with_content(fit_sentences(sub, CARD_LIMITS["sub"]), content.strip())
    rows = [(fit(str(k), CARD_LIMITS["keyname"]), fit(str(v), CARD_LIMITS["value"])) for k, v in fields[:CARD_ROWS]]
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": fit(source, CARD_LIMITS["source"])},
        "main_title": {"title": fit(title, CARD_LIMITS["title"])} | ({"desc": desc} if desc else {}),
        "sub_title_text": shown_sub,
        "task_id": task_id,
        "button_list": (
            [{"type": 0, "text": fit(t, CARD_LIMITS["button"]), "style": style, "key": k} for t, k, style in buttons]
            + [{"type": 1, "text": fit(t, CARD_LIMITS["button"]), "style": 4, "url": u} for t, u in links or []]
        )[:6],
    }
    if rows:
        card["horizontal_content_list"] = [{"keyname": k, "value": v} for k, v in rows]
    if links:
        card["card_action"] = {"type": 1, "url": links[0][1]}
    whole = "\n".join(t for t in (sub.strip(), content.strip()) if t)
    cut = shown_sub != whole or rows != fields or card["main_title"]["title"] != title
    body: dict[str, Any] = {"msgtype": "template_card", "template_card": card}
    url = pages.card_url(task_id) if cut else ""
    if url:
        card["jump_list"] = [{"type": 1, "title": DETAIL_LINK, "url": url}]
        card.setdefault("card_action", {"type": 1, "url": url})
        body["detail"] = {"source": source, "title": title, "desc": desc, "text": whole,
                          "fields": [list(f) for f in fields]}  # fmt: skip
    return body


ACK_ASK = {  # what the 签收 card asks of each part: only the 主办 has clocks
    "lead": "请点“签收”，并按时限办理；核实后点“写首报”直接发送首报。",
    "co": "请点“签收”；协办不计时限，协办材料随时发送“书面报告 {code} 内容”，转主办单位和办公室。",
    "cc": "请点“签收”知悉；抄送单位无需报送。",
}


def ack_card(
    item: Item, unit: Unit, task_id: str, dispatcher: str, late: str = "", part: str = "lead"
) -> dict[str, Any]:
    """Return the 签收 card for a unit's leads, naming its part (主办/协办) and the clocks the 交办 left short."""
    fields = [
        (f"{PART_NAMES.get(part, '承办')}单位", unit.name),
        ("等级", grade_name(item.grade)),
        ("交办人", dispatcher),
        ("交办时间", show(item.dispatched_at, True)),
    ]
    ask = ACK_ASK.get(part, ACK_ASK["lead"]).format(code=item.code)
    if late and part == "lead":
        fields.append(("时限紧迫", re.sub(r"（[^）]*）", "", late)))  # the clocks' names; the times follow in the text
        ask = f"请立即签收办理：{late}（迟延记在交办环节）。"
    return button_card(
        "瞭望 · 舆情交办",
        f"【{grade_name(item.grade)}】{item.title}",
        item.code,
        ask,
        fields,
        task_id,
        [("签收", card_key("ack", item.code, unit.key), 1), *next_steps(item, part)],
        content=item.text,
    )


def next_steps(item: Item, part: str) -> list[tuple[str, str, int]]:
    """The next-step button a lead unit's 签收 and 书面报告 cards carry: 写首报 opens a conversation bound to the item
    (the 首报 implies the 签收; once it is made, the button offers the 续报 instead: handlers/steps.py)."""
    if part != "lead":
        return []
    return [("写首报", card_key("do", Act.first_report.value, item.code), 2)]


def card_done(response_code: str, userids: list[str], agent_id: int | None, label: str) -> dict[str, Any]:
    """Return an update_template_card body that turns the card's button into label for userids."""
    body: dict[str, Any] = {"userids": userids, "response_code": response_code, "button": {"replace_name": label[:32]}}
    if agent_id is not None:
        body["agentid"] = agent_id
    return body


def escalation_card(
    item: Item,
    label: str,
    unit: str,
    owners: str,
    due: datetime,
    now: datetime,
    level: int,
    task_id: str,
    clock_id: int,
    late: str | None = None,
) -> dict[str, Any]:
    """Return the 督办 card of an escalation level: who owes what since when (late: workflow.engine.wording.overdue)."""
    over = now - due
    late = late or (f"已超时 {format_duration(over)}" if over >= timedelta(minutes=1) else "现已到期")
    fields = [
        ("等级", grade_name(item.grade)),
        ("承办", unit),
        ("应完成", show(due, True)),
        ("督办级别", f"第 {level} 级"),
    ]
    return button_card(
        f"瞭望 · 超时督办{level}级",
        f"【超时】{label}：{item.title}",
        item.code,
        f"{unit}（{owners}）的{label}应于 {show(due, True)} 前完成，{late}，仍未完成。",
        fields,
        task_id,
        [("催办", card_key("urge", clock_id), 1), ("已知悉", card_key("seen", clock_id), 2)],
    )


def extension_card(
    item: Item,
    label: str,
    who: str,
    span: timedelta,
    reason: str,
    due: datetime,
    new_due: datetime,
    ext_id: int,
    task_id: str,
) -> dict[str, Any]:
    """Return the card asking a supervisor to approve or refuse an extension."""
    fields = [("原最迟", show(due, True)), ("延期后", show(new_due, True)), ("等级", grade_name(item.grade))]
    return button_card(
        "瞭望 · 延期申请",
        f"延期申请：{item.title}",
        item.code,
        f"{who}申请{label}延期 {format_duration(span)}，请点“同意”或“不同意”。",
        fields,
        task_id,
        [("同意", card_key("ext", ext_id, "yes"), 1), ("不同意", card_key("ext", ext_id, "no"), 2)],
        content=f"原因：{reason}",
    )


def reminder_card(
    item: Item, title: str, text: str, task_id: str, buttons: list[tuple[str, str, int]]
) -> dict[str, Any]:
    """Return a deadline reminder card with quick actions (已口头汇报, 申请延期); the title already names the item."""
    sub = text.removeprefix(f"{item.code}《{item.title}》的")
    return button_card("瞭望 · 时限提醒", f"{title}：{item.title}", item.code, sub, [], task_id, buttons)
