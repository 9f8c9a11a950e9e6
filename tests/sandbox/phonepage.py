"""Reading the /phone pages and feed in tests: elements by class, a proxy-free session, page and feed fetchers."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import requests

from sandbox.client import SandboxClient

VOID = frozenset({"input", "img", "br", "meta", "link", "hr"})


class Elements(HTMLParser):
    """Collect the attributes (plus their "text") of every element whose class list contains a given class."""

    def __init__(self, cls: str) -> None:
        super().__init__()
        self.cls = cls
        self.found: list[dict[str, Any]] = []
        self.stack: list[tuple[str, dict[str, Any] | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found: dict[str, Any] | None = {k: v or "" for k, v in attrs}
        if self.cls in found.get("class", "").split():
            found["text"] = ""
            self.found.append(found)
        else:
            found = None
        if tag not in VOID:
            self.stack.append((tag, found))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for _, found in self.stack:
            if found is not None:
                found["text"] += data


def elements(html: str, cls: str) -> list[dict[str, Any]]:
    """Return the attributes and text of the elements whose class list contains cls, in document order."""
    parser = Elements(cls)
    parser.feed(html)
    return parser.found


def http() -> requests.Session:
    """Return a browser-like session that ignores proxy settings."""
    session = requests.Session()
    session.trust_env = False
    return session


def page(sb: SandboxClient, *userids: str) -> str:
    """GET /phone?u=…&u=… and return the HTML."""
    resp = http().get(sb.base_url + "/phone", params=[("u", u) for u in userids], timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    return resp.text


def feed(sb: SandboxClient, *userids: str, since: int = 0, **params: Any) -> dict[str, Any]:
    """GET the phone feed (no waiting unless timeout is given) and return its JSON."""
    query = [("u", u) for u in userids] + [("since", since)] + list(params.items())
    resp = http().get(sb.base_url + "/phone/feed", params=query, timeout=15)
    assert resp.status_code == 200
    return dict(resp.json())


def messages_html(answer: dict[str, Any], userid: str) -> str:
    """Return the concatenated HTML of one phone's messages in a feed answer."""
    return "".join(m["html"] for m in answer["phones"][userid]["messages"])
