"""Find an item by its 编号 for a step or a page: the one look-up every step uses, refusing in Chinese."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item
from workflow.engine.errors import Refusal


def find_item(session: Session, code: str) -> Item:
    """Return the item with this 编号 (case-insensitive), or refuse in Chinese."""
    code = code.strip().upper()
    item = session.scalar(select(Item).where(Item.code == code))
    if item is None:
        shown = code if len(code) <= 40 else code[:40] + "…"
        raise Refusal(f"没有找到编号为 {shown} 的舆情。请核对编号，例如 YQ-20261126-003。")
    return item
