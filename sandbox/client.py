"""SandboxClient: a small requests-based helper around the emulator's /sandbox control API."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import requests

Record = dict[str, Any]


class SandboxError(Exception):
    """A control request the emulator refused (HTTP status ≥ 400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class SandboxClient:
    """Drive a running WeCom emulator: people, acts as a person, inboxes, clock, tokens, faults, stats."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Do one control request and return its JSON, raising SandboxError on HTTP errors."""
        with requests.Session() as http:
            http.trust_env = False
            resp = http.request(method, self.base_url + path, json=json, params=params, timeout=timeout or self.timeout)
        if resp.status_code >= 400:
            try:
                message = resp.json().get("error", resp.text)
            except ValueError:
                message = resp.text
            raise SandboxError(resp.status_code, str(message))
        return resp.json()

    # directory and configuration ---------------------------------------------------------------------
    def people(self, people: list[dict[str, Any]] | None = None, merge: bool = False) -> list[dict[str, Any]]:
        """Replace (or merge into) the directory when people is given; return the directory."""
        if people is None:
            return list(self._call("GET", "/sandbox/people")["people"])
        return list(self._call("POST", "/sandbox/people", {"people": people, "merge": merge})["people"])

    def departments(self, departments: list[dict[str, Any]] | None = None, merge: bool = False) -> list[dict[str, Any]]:
        """Replace (or merge into) the department tree when given, without callbacks; return the tree."""
        if departments is None:
            return list(self._call("GET", "/sandbox/departments")["departments"])
        body = {"departments": departments, "merge": merge}
        return list(self._call("POST", "/sandbox/departments", body)["departments"])

    def contact(self, change: str, replay: int = 1, **fields: Any) -> dict[str, Any]:
        """Edit the directory as the admin would (create_user … delete_party); WeCom's callback follows."""
        body = {"change": change, **fields, "replay": replay, "wait": True}
        return dict(self._call("POST", "/sandbox/contacts", body, timeout=self.timeout * (replay + 1) * 4))

    def set_callback(self, url: str | None) -> dict[str, Any]:
        """Set the app's callback URL."""
        return dict(self._call("POST", "/sandbox/config", {"callback_url": url}))

    def config(self, **changes: Any) -> dict[str, Any]:
        """Return the emulator config, applying changes (callback_url, callback_timeout, ...) first."""
        if changes:
            return dict(self._call("POST", "/sandbox/config", changes))
        return dict(self._call("GET", "/sandbox/config"))

    # acting as a person ------------------------------------------------------------------------------
    def _act(self, act: str, body: dict[str, Any], replay: int, wait: bool) -> dict[str, Any]:
        timeout = self.timeout * (replay + 1) * 4
        return dict(self._call("POST", f"/sandbox/{act}", {**body, "replay": replay, "wait": wait}, timeout=timeout))

    def say(self, userid: str, text: str, replay: int = 1, wait: bool = True) -> dict[str, Any]:
        """Make userid send a text message to the app; return the delivery report."""
        return self._act("say", {"userid": userid, "text": text}, replay, wait)

    def group_say(self, userid: str, chatid: str, text: str) -> dict[str, Any]:
        """Make userid type text in the app group chat chatid (members see it; the app gets no callback)."""
        return self._call("POST", "/sandbox/group_say", json={"userid": userid, "chatid": chatid, "text": text})

    def link(
        self,
        userid: str,
        url: str,
        title: str = "",
        description: str = "",
        pic_url: str = "",
        replay: int = 1,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Make userid send a link message."""
        body = {"userid": userid, "url": url, "title": title, "description": description, "pic_url": pic_url}
        return self._act("link", body, replay, wait)

    def image(self, userid: str, data: bytes | None = None, replay: int = 1, wait: bool = True) -> dict[str, Any]:
        """Make userid send an image (a tiny PNG unless data is given); the report has media_id."""
        body: dict[str, Any] = {"userid": userid}
        if data is not None:
            body["data_b64"] = base64.b64encode(data).decode()
        return self._act("image", body, replay, wait)

    def click(self, userid: str, key: str, replay: int = 1, wait: bool = True) -> dict[str, Any]:
        """Make userid click a menu button."""
        return self._act("click", {"userid": userid, "key": key}, replay, wait)

    def enter(self, userid: str, replay: int = 1, wait: bool = True) -> dict[str, Any]:
        """Make userid open the app (enter_agent event)."""
        return self._act("enter", {"userid": userid}, replay, wait)

    def card_click(
        self,
        userid: str,
        task_id: str,
        key: str,
        replay: int = 1,
        wait: bool = True,
        selected: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """Make userid click a template card button; the report has the event's response_code."""
        body: dict[str, Any] = {"userid": userid, "task_id": task_id, "key": key}
        if selected:
            body["selected"] = selected
        return self._act("card_click", body, replay, wait)

    def verify_url(self, url: str | None = None) -> dict[str, Any]:
        """Run WeCom's URL verification against the callback URL; return {ok, body, expected, ...}."""
        return dict(self._call("GET", "/sandbox/verify_url", params={"url": url} if url else None))

    # inboxes -----------------------------------------------------------------------------------------
    def inbox(self, userid: str | None = None, since: int = 0) -> list[Record]:
        """Return inbox records (one person's or everyone's) with seq greater than since."""
        path = f"/sandbox/inbox/{userid}" if userid else "/sandbox/inbox"
        return list(self._call("GET", path, params={"since": since}))

    def cursor(self) -> int:
        """Return the current global inbox seq (use as since to see only later records)."""
        return int(self.stats()["seq"])

    def wait_for(
        self,
        userid: str | None,
        since: int = 0,
        timeout: float = 10.0,
        predicate: Callable[[Record], bool] | None = None,
    ) -> list[Record]:
        """Long-poll until records newer than since (matching predicate) arrive; raise TimeoutError."""
        deadline = time.monotonic() + timeout
        cursor = since
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching inbox record for {userid!r} after seq {since}")
            params: dict[str, Any] = {"since": cursor, "timeout": min(remaining, 10.0)}
            if userid:
                params["userid"] = userid
            records = list(self._call("GET", "/sandbox/wait", params=params, timeout=remaining + 5))
            if records:
                cursor = max(r["seq"] for r in records)
                matched = [r for r in records if predicate(r)] if predicate else records
                if matched:
                    return matched

    # world control -----------------------------------------------------------------------------------
    def fault(self, path: str, **kw: Any) -> dict[str, Any]:
        """Inject a fault: path ("message/send" or "*") with errcode=, http_status=, delay= (when="after" the call
        took effect, "before" it never reached WeCom: 504) or page= (an HTML page answered with 200 or http_status,
        as a proxy does), times=, rate= (the share of calls hit)."""
        return dict(self._call("POST", "/sandbox/faults", {"path": path, **kw}))

    def clear_faults(self) -> None:
        """Remove all injected faults."""
        self._call("DELETE", "/sandbox/faults")

    def stats(self) -> dict[str, Any]:
        """Return API call counts, gettoken calls, silent drops, suppressed duplicates, seq."""
        return dict(self._call("GET", "/sandbox/stats"))

    def advance(self, seconds: float) -> float:
        """Move the emulator clock forward; return the new emulator time."""
        return float(self._call("POST", "/sandbox/clock", {"advance": seconds})["now"])

    def expire_tokens(self, forget: bool = False) -> int:
        """Expire all access tokens (next call 42001), or forget them (40014)."""
        return int(self._call("POST", "/sandbox/tokens/expire", {"forget": forget})["expired"])

    def expire_media(self) -> int:
        """Age all media past WeCom's 3-day limit (media/get answers 40007 next)."""
        return int(self._call("POST", "/sandbox/media/expire", {})["expired"])

    def reset(self) -> None:
        """Clear all emulator state except the callback URL."""
        self._call("POST", "/sandbox/reset", {})

    def authorize(self, userid: str, redirect_uri: str, state: str = "", scope: str = "snsapi_base") -> str:
        """Open the OAuth2 authorize page as userid in the emulated WeCom client; return the redirect URL."""
        cfg = self.config()
        params = {
            "appid": cfg["corp_id"],
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "agentid": cfg["agent_id"],
            "as_user": userid,
        }
        with requests.Session() as http:
            http.trust_env = False
            resp = http.get(
                self.base_url + "/connect/oauth2/authorize", params=params, allow_redirects=False, timeout=self.timeout
            )
        if resp.status_code != 302:
            raise SandboxError(resp.status_code, resp.text)
        return str(resp.headers["Location"])
