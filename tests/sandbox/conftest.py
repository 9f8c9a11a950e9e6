"""Fixtures: a running emulator per module, a control client, a WeCom API caller and a real callback receiver."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from defusedxml import ElementTree
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from core import clock
from sandbox import EmulatorServer, EmulatorSettings, serve
from sandbox.client import SandboxClient

CORP_ID = "ww5a1d0c0ffee0sbx"
AGENT_ID = 1000002
SECRET = "sandbox-corp-secret"
TOKEN = "SbxT0ken"
AES_KEY = base64.b64encode(bytes(range(7, 39))).decode().rstrip("=")
PEOPLE = [{"userid": "alice", "name": "Alice"}, {"userid": "bob", "name": "Bob"}, {"userid": "carol", "name": "Carol"}]


def frozen_clock() -> float:
    """Return the tests' clock (frozen at the test instant, moved only by the tests) as the emulator's time."""
    return clock.now().timestamp()


def settings() -> EmulatorSettings:
    """Return the emulator settings shared by the sandbox tests."""
    return EmulatorSettings(
        CORP_ID,
        AGENT_ID,
        SECRET,
        TOKEN,
        AES_KEY,
        None,
        callback_timeout=2.0,
        time_source=frozen_clock,
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """Run the emulator on a free port for the test module."""
    server = serve("127.0.0.1", 0, settings())
    yield server
    server.shutdown()


@pytest.fixture()
def sb(emulator: EmulatorServer) -> SandboxClient:
    """A control client on a freshly reset emulator with alice, bob and carol in the directory."""
    client = SandboxClient(emulator.url)
    client.reset()
    client.config(callback_url=None, callback_timeout=2.0, callback_tries=3)
    client.people(PEOPLE)
    return client


class WeComApi:
    """A plain HTTP caller of the emulator's /cgi-bin API, as the app would call WeCom."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url + "/cgi-bin/"
        self.http = requests.Session()
        self.http.trust_env = False
        self._token: str | None = None

    def token(self) -> str:
        """Fetch (once) a valid access token."""
        if self._token is None:
            answer = self.get("gettoken", corpid=CORP_ID, corpsecret=SECRET, token=False)
            self._token = answer["access_token"]
        return self._token

    def forget_token(self) -> None:
        """Drop the cached access token so that the next call fetches a new one."""
        self._token = None

    def get(self, api: str, token: bool = True, **params: Any) -> Any:
        """GET an API and return its JSON."""
        if token:
            params.setdefault("access_token", self.token())
        return self.http.get(self.base + api, params=params, timeout=10).json()

    def post(self, api: str, body: Any, token: bool = True, **params: Any) -> Any:
        """POST a JSON body to an API and return its JSON."""
        if token:
            params.setdefault("access_token", self.token())
        return self.http.post(self.base + api, json=body, params=params, timeout=10).json()

    def send(self, touser: str, msgtype: str, part: dict[str, Any], **extra: Any) -> Any:
        """Call message/send."""
        return self.post(
            "message/send", {"touser": touser, "msgtype": msgtype, "agentid": AGENT_ID, msgtype: part, **extra}
        )


@pytest.fixture()
def api(sb: SandboxClient) -> WeComApi:
    """A WeCom API caller against the freshly reset emulator."""
    return WeComApi(sb.base_url)


@dataclass
class Received:
    """One callback POST as the app saw it."""

    query: dict[str, str]
    body: bytes
    xml: str
    fields: dict[str, str]


class Receiver:
    """A real HTTP callback endpoint that verifies and decrypts with wechatpy, like the app must."""

    def __init__(self, token: str = TOKEN) -> None:
        self.crypto = WeChatCrypto(token, AES_KEY, CORP_ID)
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.delay = 0.0
        self.reply: Callable[[dict[str, str]], str | None] | None = None
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @Request.application  # type: ignore[arg-type]
    def wsgi(self, request: Request) -> Response:
        q = request.args
        try:
            if request.method == "GET":
                echo = self.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
                return Response(echo)
            xml = self.crypto.decrypt_message(request.get_data(), q["msg_signature"], q["timestamp"], q["nonce"])
        except (WeChatException, KeyError) as exc:
            with self.lock:
                self.rejected.append(repr(exc))
            return Response("bad signature", status=403)
        fields = {c.tag: c.text or "" for c in ElementTree.fromstring(xml)}
        with self.lock:
            self.received.append(Received(dict(q), request.get_data(), xml, fields))
        if self.delay:
            time.sleep(self.delay)  # deliberately slower than the emulator's callback timeout
        reply = self.reply(fields) if self.reply else None
        if reply is None:
            return Response("")
        return Response(self.crypto.encrypt_message(reply, q["nonce"], q["timestamp"]), content_type="text/xml")

    def shutdown(self) -> None:
        """Stop the receiver."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver(sb: SandboxClient) -> Iterator[Receiver]:
    """A callback receiver registered as the app's callback URL."""
    rcv = Receiver()
    sb.set_callback(rcv.url)
    yield rcv
    rcv.shutdown()


def card(task_id: str, keys: tuple[str, ...] = ("approve", "reject"), **extra: Any) -> dict[str, Any]:
    """Return a button_interaction template card with one button per key."""
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "审批", "desc": "d"},
        "task_id": task_id,
        "button_list": [{"text": k, "style": 1, "key": k} for k in keys],
        **extra,
    }
