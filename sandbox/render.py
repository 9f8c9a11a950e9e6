"""Render an inbox record as the lines a person would read on the phone."""

from __future__ import annotations

from typing import Any

from sandbox.validate import DISPLAY_LIMITS, clip


def describe(record: dict[str, Any]) -> str:
    """Return what the person reads: text, markdown, a passive reply, or a card's title, text and buttons (a card's
    title and text cut to what WeCom shows, ending in …)."""
    body, kind = record["body"], record["msgtype"]
    if record.get("passive"):
        return str(body.get("Content") or body)
    if kind in ("text", "markdown"):
        return str(body[kind]["content"])
    if kind == "template_card":
        card = record.get("card") or body["template_card"]
        buttons = " / ".join(
            clip(b.get("text", ""), DISPLAY_LIMITS["button_list[].text"]) for b in card.get("button_list", [])
        )
        done = record.get("replaced_button")
        state = f"［{done}］" if done else (f"按钮：{buttons}" if buttons else "")
        title = clip(card.get("main_title", {}).get("title", ""), DISPLAY_LIMITS["main_title.title"])
        sub = clip(card.get("sub_title_text", ""), DISPLAY_LIMITS["sub_title_text"])
        return f"[卡片] {title}\n{sub}\n{state}"
    if kind == "textcard":
        return f"[卡片] {body['textcard'].get('title')}\n{body['textcard'].get('description')}"
    return f"[{kind}]"
