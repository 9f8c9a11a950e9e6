"""Fetch a reported screenshot from WeCom (media ids expire after 3 days), check it, and store it by hash."""

from __future__ import annotations

import logging

from core import clock
from core.runtime import runtime
from core.storage import store
from core.wecom import WecomError, download
from models import Attachment, Item, Person
from workflow.engine.outbox import emit
from workflow.views import render

log = logging.getLogger(__name__)

MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
IMAGE_LIMIT = 10 * 1024 * 1024
PERMANENT = {40007, 40001, 40013}


def sniff_image(data: bytes) -> str | None:
    """Return the image type judged by content (never by name), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((t for magic, t in MAGIC.items() if data.startswith(magic)), None)


def fetch_media(attachment_id: int) -> str:
    """Download and store attachment_id's media once; return "stored", "skip", "refused" or raise to retry."""
    rt = runtime()
    with rt.sessions() as s:
        att = s.get(Attachment, attachment_id)
        if att is None or att.sha256 or not att.media_id or att.fetch_error:
            return "skip"
        media_id = att.media_id
    try:
        data, _ctype = download(rt.api, media_id, IMAGE_LIMIT)
    except WecomError as exc:
        if exc.errcode in PERMANENT:
            return _refuse(attachment_id, f"企业微信拒绝：{exc}")
        raise
    kind = sniff_image(data)
    if kind is None:
        return _refuse(attachment_id, "不是图片（按内容判断）")
    digest, rel = store(rt.config.storage_dir, data)
    with rt.sessions() as s, s.begin():
        att = s.get(Attachment, attachment_id)
        if att is not None:
            att.sha256, att.stored_name, att.content_type, att.size = digest, rel, kind, len(data)
    return "stored"


def _refuse(attachment_id: int, why: str) -> str:
    """Record why the media could not be kept and tell the person who sent it, so they can send it again."""
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        att = s.get(Attachment, attachment_id)
        if att is not None and not att.fetch_error:
            att.fetch_error = why[:200]
            item, who = s.get(Item, att.item_id), s.get(Person, att.uploader_id)
            what = "照片" if att.kind == "photo" else "截图"
            if item is not None and who is not None:
                emit(
                    s,
                    [who.userid],
                    render.text(f"您在 {item.code} 提交的一张{what}未能从企业微信取回（{why[:60]}），请重新发送。"),
                    f"media:{attachment_id}:refused",
                    now,
                    item,
                )
    log.warning("attachment %s not stored: %s", attachment_id, why)
    return "refused"
