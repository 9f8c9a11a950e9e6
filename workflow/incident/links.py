"""Find and normalise links so the same page reported twice is recognised; record an item's new links (and ask for
their evidence capture, 网页取证) in one place for every source."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Config
from models import Item, ItemLink
from workflow.record import evidence

URL_RE = re.compile(r"https?://[^\s<>\"'，。；、）)】]+", re.IGNORECASE)
_TRACKING = re.compile(
    r"^(utm_\w+|spm|from|share_\w+|scene|clicktime|enterid|isappinstalled|timestamp|"
    r"sharer_\w+|wfr|wxshare_count|xsec_source|is_from_webapp|vd_source)$",
    re.IGNORECASE,
)


def find_links(text: str) -> list[str]:
    """Return the http(s) links in text, in order, without duplicates."""
    return list(dict.fromkeys(m.group(0).rstrip(".,!?") for m in URL_RE.finditer(text)))


def strip_links(text: str) -> str:
    """Return text with its links removed and spaces tidied."""
    return re.sub(r"\s+", " ", URL_RE.sub(" ", text)).strip()


def normalize(url: str) -> str:
    """Return a canonical form: https, lower-case host without www., no fragment or tracking parameters."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    path = re.sub(r"/+$", "", parts.path) or ""
    return urlunsplit(("https", host, path, urlencode(query), ""))[:512]


def record(
    session: Session, config: Config, item: Item, urls: dict[str, str], reporter_id: int, at: datetime
) -> list[ItemLink]:
    """Add the links (url → normalised form) item does not have yet; ask for each new one's evidence capture."""
    mine = select(ItemLink.normalized).where(ItemLink.item_id == item.id, ItemLink.normalized.in_(urls.values()))
    known, added = set(session.scalars(mine)), []
    for url, norm in urls.items():
        if norm not in known:
            link = ItemLink(item_id=item.id, url=url, normalized=norm, reporter_id=reporter_id, created_at=at)
            session.add(link)
            added.append(link)
            known.add(norm)
    evidence.request(session, evidence.settings_of(config), item, added, at)
    return added
