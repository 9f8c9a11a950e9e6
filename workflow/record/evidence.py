"""Evidence captured on arrival (网页取证): which links wait for a capture, claiming one, recording what came back,
and the captures as the case file and the archive package show them.

A capture is asked for when a link is recorded on an item (workflow.incident.links.record, the one place for reports,
the intake API and the 公众号 alike) if [evidence] enabled. jobs.evidence does the capture outside any transaction
(core.capture, a separate limited browser process). A failure is recorded on the capture with its Chinese reason
(取证失败：…) and never touches the item's procedure; a failure worth retrying is tried again after a backoff until
[evidence] attempts are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.capture import CONTENT_TYPES, Result, Settings, settings
from core.clock import show
from core.config import Config
from models import Item, ItemLink
from models.evidence import KIND_NAMES, Capture, CaptureFile, CaptureState, EvidenceKind
from workflow.incident.files import size_text

BACKOFF = (60, 300, 1800)  # seconds before the 2nd, 3rd, later attempts
EXTENSIONS = {EvidenceKind.png: ".png", EvidenceKind.html: ".html", EvidenceKind.pdf: ".pdf"}


def settings_of(config: Config) -> Settings:
    """[evidence] of config (checked when the configuration was loaded)."""
    return settings(config.raw)


def request(session: Session, settings: Settings, item: Item, links: list[ItemLink], at: datetime) -> list[Capture]:
    """Ask for a capture of each new link of item (nothing when [evidence] is off or it was asked already)."""
    if not settings.enabled or not links:
        return []
    session.flush()
    asked = set(session.scalars(select(Capture.link_id).where(Capture.item_id == item.id)))
    rows = [
        Capture(
            item_id=item.id,
            link_id=link.id,
            url=link.url,
            state=CaptureState.pending,
            attempts=0,
            requested_at=at,
            next_attempt_at=at,
        )
        for link in links
        if link.id not in asked
    ]
    session.add_all(rows)
    return rows


def stale_after(settings: Settings) -> timedelta:
    """How long a claimed capture may run before another worker may take it (its process was killed with it)."""
    return timedelta(seconds=2 * settings.timeout + 30)


def due(session: Session, settings: Settings, now: datetime, limit: int = 20) -> list[int]:
    """Ids of captures waiting whose time has come and that no live worker holds, oldest first."""
    free = or_(Capture.claimed_at.is_(None), Capture.claimed_at < now - stale_after(settings))
    q = select(Capture.id).where(Capture.state == CaptureState.pending, Capture.next_attempt_at <= now, free)
    return list(session.scalars(q.order_by(Capture.next_attempt_at, Capture.id).limit(limit)))


def claim(session: Session, settings: Settings, capture_id: int, now: datetime) -> str | None:
    """Take capture_id for this worker (one attempt more); return its link, or None if another worker has it."""
    free = or_(Capture.claimed_at.is_(None), Capture.claimed_at < now - stale_after(settings))
    taken = session.execute(
        update(Capture)
        .where(Capture.id == capture_id, Capture.state == CaptureState.pending, free)
        .values(claimed_at=now, attempts=Capture.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    return session.scalar(select(Capture.url).where(Capture.id == capture_id))


@dataclass(frozen=True)
class Kept:
    """One file of a capture as stored: its kind, sha256, stored name and size."""

    kind: EvidenceKind
    sha256: str
    stored_name: str
    size: int


def stored(session: Session, capture_id: int, result: Result, kept: list[Kept], at: datetime) -> None:
    """Record a successful capture: its files with their hashes, the fetch time, the page's address and title."""
    cap = session.get(Capture, capture_id)
    if cap is None:
        return
    for k in kept:
        session.add(
            CaptureFile(
                capture_id=cap.id,
                kind=k.kind,
                sha256=k.sha256,
                stored_name=k.stored_name,
                content_type=CONTENT_TYPES[k.kind],
                size=k.size,
                fetched_at=at,
            )
        )
    cap.state, cap.fetched_at, cap.claimed_at, cap.error = CaptureState.stored, at, None, None
    cap.final_url, cap.http_status = result.final_url or None, result.status or None
    cap.page_title, cap.notes = result.title or None, "；".join(result.notes) or None


def failed(session: Session, settings: Settings, capture_id: int, result: Result, at: datetime) -> bool:
    """Record a failed attempt; try again later if it may help and attempts remain. Return whether it is final."""
    cap = session.get(Capture, capture_id)
    if cap is None:
        return True
    cap.error, cap.claimed_at = (result.reason or "原因不明")[:200], None
    if result.transient and cap.attempts < settings.attempts:
        cap.next_attempt_at = at + timedelta(seconds=BACKOFF[min(cap.attempts, len(BACKOFF)) - 1])
        return False
    cap.state = CaptureState.failed
    return True


def captures(session: Session, item: Item) -> list[Capture]:
    """The item's captures in the order its links were recorded."""
    return list(session.scalars(select(Capture).where(Capture.item_id == item.id).order_by(Capture.id)))


def shown(cap: Capture) -> dict[str, Any]:
    """A capture as the case file shows it: link, state in words (取证失败：原因), time, files with sha256."""
    if cap.state == CaptureState.stored:
        state = "已取证"
    elif cap.state == CaptureState.failed:
        state = f"取证失败：{cap.error or '原因不明'}"
    elif cap.error:
        state = f"取证失败：{cap.error}（稍后自动重试，第 {cap.attempts} 次）"
    else:
        state = "正在取证，请稍后刷新"
    order = list(EvidenceKind)
    files = sorted(cap.files, key=lambda f: order.index(EvidenceKind(f.kind)))
    return {
        "id": cap.id,
        "url": cap.url,
        "safe": cap.url.lower().startswith(("http://", "https://")),
        "state": state,
        "ok": cap.state == CaptureState.stored,
        "failed": cap.state == CaptureState.failed or bool(cap.error),
        "fetched_at": show(cap.fetched_at, True) if cap.fetched_at else "",
        "final_url": cap.final_url if cap.final_url and cap.final_url != cap.url else "",
        "title": cap.page_title or "",
        "status": cap.http_status or 0,
        "notes": cap.notes or "",
        "files": [
            {
                "id": f.id,
                "kind": f.kind,
                "label": KIND_NAMES[EvidenceKind(f.kind)],
                "sha256": f.sha256,
                "size": size_text(f.size),
                "image": f.kind == EvidenceKind.png,
            }
            for f in files
        ],
    }


def file_name(item: Item, cap_no: int, kind: str) -> str:
    """A capture file's name (download and package): YQ-…-网页取证1-整页截图.png."""
    return f"{item.code}-网页取证{cap_no}-{KIND_NAMES[EvidenceKind(kind)]}{EXTENSIONS[EvidenceKind(kind)]}"


def find_file(session: Session, item: Item, file_id: int) -> tuple[CaptureFile, int] | None:
    """The capture file file_id of item, with its capture's number on the item (1, 2 …), or None."""
    f = session.get(CaptureFile, file_id)
    if f is None or f.capture.item_id != item.id:
        return None
    ids = [c.id for c in captures(session, item)]
    return f, ids.index(f.capture_id) + 1


@dataclass(frozen=True)
class Packed:
    """A capture file for the archive package (path inside it, stored name, what the manifest says of it)."""

    path: str
    stored_name: str | None
    extra: dict[str, Any]


def for_package(session: Session, item: Item, iso: Any) -> list[Packed]:
    """Every capture of item for the archive package: its files with the recorded sha256 and fetch time (iso formats
    a time), and a failed capture listed with its reason."""
    out: list[Packed] = []
    for n, cap in enumerate(captures(session, item), 1):
        base = {"url": cap.url, "final_url": cap.final_url or cap.url, "fetched_at": iso(cap.fetched_at)}
        if cap.state != CaptureState.stored:
            why = f"取证失败：{cap.error}" if cap.state == CaptureState.failed else "取证未完成"
            out.append(Packed(f"网页取证/{n:02d}-未取证", None, {**base, "evidence": why}))
            continue
        for f in sorted(cap.files, key=lambda f: list(EvidenceKind).index(EvidenceKind(f.kind))):
            out.append(
                Packed(
                    f"网页取证/{file_name(item, n, f.kind)}",
                    f.stored_name,
                    {**base, "captured_sha256": f.sha256, "kind": KIND_NAMES[EvidenceKind(f.kind)]},
                )
            )
    return out
