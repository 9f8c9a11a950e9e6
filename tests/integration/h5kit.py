"""An emulated WeCom in-app browser for H5 tests: OAuth2 through the emulator, cookies, no automatic redirects."""

from __future__ import annotations

import re
from collections.abc import Sequence

import requests

from tests.integration.harness import Stack


def authorize(location: str, userid: str) -> str:
    """Open an OAuth2 authorize URL in the emulated WeCom client as userid; return where WeCom redirects."""
    resp = requests.get(location.split("#")[0] + f"&as_user={userid}", allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    return str(resp.headers["Location"])


class Browser:
    """WeCom's in-app browser: keeps cookies, never follows redirects by itself."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.http.trust_env = False

    def get(self, path: str) -> requests.Response:
        """GET an app path or an absolute URL."""
        url = path if path.startswith("http") else self.stack.app_url + path
        return self.http.get(url, allow_redirects=False, timeout=30)

    def post(self, path: str, data: dict[str, str], files: Sequence[tuple[str, bytes]] = ()) -> requests.Response:
        """POST the upload form with files given as (name, bytes)."""
        parts = [("files", (name, body, "application/octet-stream")) for name, body in files]
        return self.http.post(
            self.stack.app_url + path, data=data, files=parts or None, allow_redirects=False, timeout=60
        )

    def login(self, userid: str, path: str) -> requests.Response:
        """Open path as userid through the whole OAuth2 round trip; return the final page."""
        first = self.get(path)
        assert first.status_code == 302
        back = self.get(authorize(first.headers["Location"], userid))
        assert back.status_code == 302
        assert back.headers["Location"].endswith(path)
        return self.get(path)

    def csrf(self, page: requests.Response) -> str:
        """Return the form's hidden CSRF token."""
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)
