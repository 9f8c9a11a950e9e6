"""How one emulated WeCom phone shows things: escaped text, WeCom's markdown subset, URLs it opens, times."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from sandbox.validate import DISPLAY_LIMITS
from sandbox.validate import clip as clip_to

CHINA = ZoneInfo("Asia/Shanghai")
AUTHORIZE_PATH = "/connect/oauth2/authorize"
WECOM_OAUTH_HOST = "open.weixin.qq.com"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
URL_RE = re.compile(r"https?://[^\s<>\"'，。；）]+", re.I)
TEXT_RE = re.compile(r"<a\s+href\s*=\s*[\"']([^\"'>]+)[\"']\s*>(.*?)</a>|(https?://[^\s<>\"'，。；）]+)", re.I | re.S)
INLINE_RE = re.compile(
    r"<font\s+color\s*=\s*[\"']?(?P<color>[A-Za-z]+)[\"']?\s*>(?P<colored>.*?)</font>"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|\[(?P<label>[^\]\n]*)\]\((?P<href>[^)\s]+)\)"
    r"|`(?P<code>[^`\n]+)`",
    re.I | re.S,
)
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
TEXTCARD_DIV_RE = re.compile(r"<div\s+class\s*=\s*[\"'](gray|normal|highlight)[\"']\s*>(.*?)</div>", re.I | re.S)
FONT_COLORS = frozenset({"info", "comment", "warning"})
LINK_HTML = Markup('<a class="wx-link" href="{0}" data-open="{0}" target="_blank" rel="noopener noreferrer">{1}</a>')


def media_url(media_id: Any) -> str:
    """Return the emulator URL that serves a stored media file to the browser."""
    return "/sandbox/media/" + quote(str(media_id or ""), safe="")


def articles(part: Any) -> list[dict[str, Any]]:
    """Return news articles from a message's news part or a passive reply's Articles ({"item": one or a list})."""
    if not isinstance(part, dict):
        return []
    found = part.get("articles") if "articles" in part else part.get("item")
    found = [found] if isinstance(found, dict) else found
    return [a for a in found or [] if isinstance(a, dict)]


@dataclass
class PhoneView:
    """Rendering helpers bound to one phone: its person, the emulator base URL it was served from, the names."""

    userid: str
    base_url: str
    app_name: str
    names: dict[str, str] = field(default_factory=dict)

    def name(self, userid: Any) -> str:
        """Return a directory member's name, or the userid itself."""
        return self.names.get(str(userid), str(userid))

    def is_emulator(self, netloc: str, hostname: str | None, port: int | None) -> bool:
        """Tell whether a URL's host is this emulator (or WeCom's own OAuth host, which the phone handles)."""
        own = urlsplit(self.base_url)
        if hostname == WECOM_OAUTH_HOST or netloc == own.netloc:
            return True
        return port == own.port and hostname in LOOPBACK and own.hostname in LOOPBACK

    def url(self, raw: Any) -> str:
        """Return the URL this phone opens for raw ("" unless http/https); OAuth authorize gets as_user=this phone."""
        if not isinstance(raw, str):
            return ""
        try:
            parts = urlsplit(raw.strip())
            port = parts.port
        except ValueError:
            return ""
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return ""
        if parts.path != AUTHORIZE_PATH or not self.is_emulator(parts.netloc, parts.hostname, port):
            return parts.geturl()
        own = urlsplit(self.base_url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "as_user"]
        query.append(("as_user", self.userid))
        return urlunsplit((own.scheme, own.netloc, parts.path, urlencode(query), parts.fragment))

    def link(self, raw: Any, label: Any) -> Markup:
        """Return an anchor the phone opens in its in-app browser, or just the escaped label for a bad URL."""
        url = self.url(raw)
        return LINK_HTML.format(url, label) if url else escape(label)

    def plain(self, content: Any) -> Markup:
        """Return escaped text with bare http(s) URLs made openable (newlines kept; CSS shows them)."""
        text, out, pos = str(content or ""), [], 0
        for m in URL_RE.finditer(text):
            out += [escape(text[pos : m.start()]), self.link(m.group(0), m.group(0))]
            pos = m.end()
        return Markup("").join([*out, escape(text[pos:])])

    def text(self, content: Any) -> Markup:
        """Return a text message as WeCom shows it: escaped, with <a href> tags and bare URLs as links."""
        text, out, pos = str(content or ""), [], 0
        for m in TEXT_RE.finditer(text):
            out.append(escape(text[pos : m.start()]))
            if m.group(1) is not None:
                out.append(self.link(html.unescape(m.group(1)), m.group(2)))
            else:
                out.append(self.link(m.group(3), m.group(3)))
            pos = m.end()
        return Markup("").join([*out, escape(text[pos:])])

    def inline(self, text: str) -> Markup:
        """Return one markdown line's inline markup (bold, links, code, font colour); everything else escaped."""
        out, pos = [], 0
        for m in INLINE_RE.finditer(text):
            out.append(escape(text[pos : m.start()]))
            if m.group("color") is not None:
                color = m.group("color").lower()
                cls = f"md-{color}" if color in FONT_COLORS else "md-font"
                out.append(Markup('<span class="{}">{}</span>').format(cls, self.inline(m.group("colored"))))
            elif m.group("bold") is not None:
                out.append(Markup("<b>{}</b>").format(self.inline(m.group("bold"))))
            elif m.group("href") is not None:
                out.append(self.link(html.unescape(m.group("href")), m.group("label") or m.group("href")))
            else:
                out.append(Markup("<code>{}</code>").format(m.group("code")))
            pos = m.end()
        return Markup("").join([*out, escape(text[pos:])])

    def markdown(self, content: Any) -> Markup:
        """Return WeCom markdown as HTML: headings, > quotes, bold, links, `code`, <font color>; the rest escaped."""
        lines = []
        for line in str(content or "").split("\n"):
            heading = HEADING_RE.match(line)
            if heading:
                level = len(heading.group(1))
                lines.append(Markup('<span class="md-h md-h{}">{}</span>').format(level, self.inline(heading.group(2))))
            elif line.startswith(">"):
                lines.append(Markup('<span class="md-quote">{}</span>').format(self.inline(line[1:].lstrip())))
            else:
                lines.append(self.inline(line))
        return Markup("\n").join(lines)

    def textcard(self, content: Any) -> Markup:
        """Return a textcard description: its <div class="gray|normal|highlight"> blocks kept, the rest escaped."""
        text, out, pos = str(content or ""), [], 0
        for m in TEXTCARD_DIV_RE.finditer(text):
            gap = text[pos : m.start()]
            out.append(escape(gap) if gap.strip() else Markup(""))
            out.append(Markup('<div class="tc-{}">{}</div>').format(m.group(1).lower(), m.group(2)))
            pos = m.end()
        tail = text[pos:]
        return Markup("").join([*out, escape(tail) if tail.strip() or not out else Markup("")])

    def clip(self, value: Any, field: str) -> str:
        """Return a template card's text field as WeCom shows it: cut to its display limit with a trailing …."""
        return clip_to(value, DISPLAY_LIMITS[field])

    def time_label(self, at: Any, now: float) -> str:
        """Return how WeCom labels a message time: "16:21" today, else "11月26日 16:21" (China time)."""
        when, today = datetime.fromtimestamp(float(at), CHINA), datetime.fromtimestamp(now, CHINA)
        clock = when.strftime("%H:%M")
        return clock if when.date() == today.date() else f"{when.month}月{when.day}日 {clock}"
