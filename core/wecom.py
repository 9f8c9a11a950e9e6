"""The WeCom API client: wechatpy's client pointed at [wecom] api_base, a Redis-shared token, bounded retry."""

from __future__ import annotations

import json
from typing import Any

import redis
import requests
from requests.adapters import HTTPAdapter
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from core import metrics
from core.config import WecomConfig

TOKEN_ERRORS = (40014, 42001)
POOL_SIZE = 64  # connections kept open to WeCom: at least the delivery threads of a worker ([outbox] send_threads)


class WecomError(Exception):
    """A WeCom API call failed; errcode is None for HTTP/network failures."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class _Client(WeChatClient):
    """wechatpy's enterprise client with a configurable host, a timeout on every call and no auto_retry."""

    def __init__(self, cfg: WecomConfig, storage: RedisStorage, redis_conn: redis.Redis) -> None:
        super().__init__(cfg.corp_id, cfg.secret, session=storage, timeout=cfg.timeout, auto_retry=False)
        self.API_BASE_URL = cfg.api_base + "/cgi-bin/"
        adapter = HTTPAdapter(pool_maxsize=POOL_SIZE)  # keep-alive connections for every sending thread
        self._http.mount("https://", adapter)
        self._http.mount("http://", adapter)
        self._redis = redis_conn

    @property
    def access_token_key(self) -> str:
        return f"token:{self.corp_id}:{self.secret[:10]}"

    @property
    def access_token(self) -> str:
        """Return the shared token, fetching it (once across processes) when none is cached."""
        token = self.session.get(self.access_token_key)
        return str(token) if token else self.refresh(None)

    def fetch_access_token(self) -> str:
        """Return a token, fetching one when none is cached (wechatpy's name for it)."""
        return self.refresh(None)

    def refresh(self, stale: str | None) -> str:
        """Return a token other than stale: the shared one if another thread or process has already replaced it,
        else a new one from gettoken, fetched under a Redis lock so concurrent callers fetch it once. The shared
        token is replaced, never deleted first, so callers that were not refused keep sending meanwhile."""
        with self._redis.lock(f"wecom:lock:{self.access_token_key}", timeout=15, blocking_timeout=15):
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return str(current)
            res = requests.get(
                self.API_BASE_URL + "gettoken",
                params={"corpid": self.corp_id, "corpsecret": self.secret},
                timeout=self.timeout,
            )
            if res.status_code >= 400:
                raise WecomError(None, f"gettoken HTTP {res.status_code}")
            try:
                data = res.json()
            except ValueError:
                raise WecomError(None, "gettoken answer is not JSON") from None
            if data.get("errcode", 0) != 0:
                raise WecomError(int(data["errcode"]), str(data.get("errmsg", "")))
            ttl = max(60, int(data.get("expires_in", 7200)) - 300)
            self.session.set(self.access_token_key, data["access_token"], ttl)
            return str(data["access_token"])


class WecomApi:
    """Calls the WeCom API; refreshes the token once on 40014/42001 and raises WecomError otherwise."""

    def __init__(self, cfg: WecomConfig, redis_conn: redis.Redis) -> None:
        self.cfg = cfg
        self.client = _Client(cfg, RedisStorage(redis_conn, prefix="wecom"), redis_conn)

    def call(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call path (relative to /cgi-bin/) and return the JSON answer; each failure is counted by errcode."""
        try:
            return self._call(method, path, data, params, files)
        except WecomError as exc:
            metrics.wecom_error(exc.errcode)
            raise

    def _call(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None,
        params: dict[str, Any] | None,
        files: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """One call with at most one token refresh; raise WecomError on any failure."""
        token = ""
        for attempt in (1, 2):
            try:
                token = self.client.access_token if attempt == 1 else self.client.refresh(token)
                kwargs: dict[str, Any] = {"params": {**(params or {}), "access_token": token}}
                if data is not None:
                    kwargs["data"] = data
                if files is not None:
                    kwargs["files"] = files
                return dict(self.client._request(method, path, **kwargs))
            except WeChatClientException as exc:
                code = int(exc.errcode) if exc.errcode is not None else None
                if code in TOKEN_ERRORS and attempt == 1:
                    continue  # the second attempt asks for a token other than the one refused
                raise WecomError(code, str(exc.errmsg or exc)) from None
            except requests.RequestException as exc:
                raise WecomError(None, f"{type(exc).__name__}") from None
            except ValueError:  # a 200 whose body is not JSON (a proxy's page): transient, retried
                raise WecomError(None, "answer is not JSON") from None
        raise WecomError(42001, "token refused twice")

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """message/send with agentid filled in."""
        return self.call("post", "message/send", {**body, "agentid": self.cfg.agent_id})

    def upload(self, kind: str, filename: str, data: bytes, content_type: str) -> str:
        """media/upload a temporary file (image ≤ 10 MB JPG/PNG, file ≤ 20 MB); return its media_id (valid 3 days)."""
        answer = self.call(
            "post", "media/upload", params={"type": kind}, files={"media": (filename, data, content_type)}
        )
        media_id = answer.get("media_id")
        if not media_id:
            raise WecomError(answer.get("errcode"), "media/upload answered without a media_id")
        return str(media_id)

    def update_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """message/update_template_card with agentid filled in."""
        return self.call("post", "message/update_template_card", {**body, "agentid": self.cfg.agent_id})

    def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        """menu/create for this app."""
        return self.call("post", "menu/create", menu, params={"agentid": self.cfg.agent_id})

    def userid_from_code(self, code: str) -> str:
        """Exchange an OAuth2 code for the userid of the person who opened the page."""
        data = self.call("get", "auth/getuserinfo", params={"code": code})
        userid = data.get("userid") or data.get("UserId")
        if not userid:
            raise WecomError(data.get("errcode"), "no userid for this code (not a member)")
        return str(userid)


def download(api: WecomApi, media_id: str, limit: int = 20 * 1024 * 1024) -> tuple[bytes, str]:
    """Fetch media/get bytes and content type (wechatpy's download hard-codes the host and has no timeout)."""
    token = ""
    for attempt in (1, 2):
        token = api.client.access_token if attempt == 1 else api.client.refresh(token)
        try:
            res = requests.get(
                api.cfg.api_base + "/cgi-bin/media/get",
                timeout=api.cfg.timeout * 6,
                stream=True,
                params={"access_token": token, "media_id": media_id},
            )
            ctype = res.headers.get("Content-Type", "")
            if res.status_code >= 400:
                raise WecomError(None, f"media/get HTTP {res.status_code}")
            body = res.raw.read(limit + 1, decode_content=True)
        except requests.RequestException as exc:
            raise WecomError(None, type(exc).__name__) from None
        if len(body) > limit:
            raise WecomError(None, "media larger than the limit")
        if ctype.startswith(("application/json", "text/plain")) and body[:1] == b"{":
            data = json.loads(body)
            code = int(data.get("errcode", -1))
            if code in TOKEN_ERRORS and attempt == 1:
                continue  # the second attempt asks for a token other than the one refused
            raise WecomError(code, str(data.get("errmsg", "")))
        return body, ctype
    raise WecomError(42001, "token refused twice")


def backoff(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Return the delay in seconds before retry number attempt (exponential, capped)."""
    return min(cap, base * (2.0 ** max(0, attempt - 1)))
