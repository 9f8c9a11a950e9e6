"""Find and normalise links so the same page reported twice is recognised."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
