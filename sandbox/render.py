"""Render an inbox record as the lines a person would read on the phone."""

from __future__ import annotations

from typing import Any


def describe(record: dict[str, Any]) -> str:
    """Return what the person reads: text, markdown, a passive reply, or a card's title, text and buttons."""
    body, kind = record["body"], record["msgtype"]
    if record.get("passive"):
        return str(body.get("Content") or body)
    if kind in ("text", "markdown"):
        return str(body[kind]["content"])
    if kind == "template_card":
        card = record.get("card") or body["template_card"]
        buttons = " / ".join(b.get("text", "") for b in card.get("button_list", []))
        done = record.get("replaced_button")
        state = f"［{done}］" if done else (f"按钮：{buttons}" if buttons else "")
        return f"[卡片] {card.get('main_title', {}).get('title', '')}\n{card.get('sub_title_text', '')}\n{state}"
    if kind == "textcard":
        return f"[卡片] {body['textcard'].get('title')}\n{body['textcard'].get('description')}"
    return f"[{kind}]"
