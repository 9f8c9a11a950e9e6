"""Build an archived item's package (案卷) after 归档 commits, and tell the office where to download it."""

from __future__ import annotations

import logging

from core import clock
from core.runtime import runtime
from models import Item, Role
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.record import archive
from workflow.views import pages, render

log = logging.getLogger(__name__)


def build_archive(item_id: int) -> str:
    """Write the item's package under [archive] dir; return the manifest's sha256 (retried by RQ if it raises)."""
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        item = s.get(Item, item_id)
        if item is None:
            return ""
        path, digest, pkg = archive.make(s, rt.config, item.code, now)
        office = org.userids(org.with_role(s, Role.office))
        link = pages.viewer_url(rt.config, item.code)
        emit(
            s,
            office,
            render.text(
                f"【案卷】{item.code}《{item.title}》已立卷归档：案卷 {len(pkg.entries)} 个文件，"
                f"清单校验值 {digest[:16]}…。在条目页面下载：{link}"
            ),
            f"archive:{item.code}:{digest[:12]}:ready",
            now,
            item,
        )
    log.info("archive package %s written (%s)", path, digest)
    return digest
