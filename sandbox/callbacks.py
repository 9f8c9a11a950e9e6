"""Building, encrypting, signing and POSTing callbacks to the app, with WeCom's retries."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import requests
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from sandbox.state import World
from sandbox.wxcrypto import CryptoError, Envelope


class RawXml(str):
    """An XML fragment to embed verbatim (not wrapped in CDATA)."""


XmlValue = str | int | RawXml


def cdata(value: str) -> str:
    """Wrap text in CDATA, splitting any "]]>" inside it."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: list[tuple[str, XmlValue]]) -> str:
    """Render WeCom's flat callback XML: ints bare, RawXml verbatim, strings as CDATA."""
    parts = []
    for tag, value in fields:
        inner = str(value) if isinstance(value, RawXml | int) else cdata(value)
        parts.append(f"<{tag}>{inner}</{tag}>")
    return "<xml>" + "".join(parts) + "</xml>"


def envelope(world: World) -> Envelope:
    """Return the crypto envelope of the app's token, EncodingAESKey and corp id."""
    s = world.settings
    return Envelope(s.token, s.encoding_aes_key, s.corp_id)


def random_digits(n: int) -> str:
    """Return n random decimal digits (no leading zero)."""
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(n - 1))


@dataclass
class Sealed:
    """One encrypted callback exactly as it goes on the wire; retries and replays resend it unchanged."""

    query: dict[str, str]
    body: str


def seal_callback(world: World, xml: str) -> Sealed:
    """Encrypt and sign a callback XML into WeCom's POST body and query string."""
    timestamp, nonce = str(int(world.now())), random_digits(10)
    encrypt, signature = envelope(world).seal(xml, nonce, timestamp)
    s = world.settings
    body = build_xml([("ToUserName", s.corp_id), ("AgentID", str(s.agent_id)), ("Encrypt", encrypt)])
    return Sealed({"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, body)


@dataclass
class Delivery:
    """The outcome of delivering one callback (up to callback_tries HTTP attempts)."""

    tries: int = 0
    statuses: list[int | str] = field(default_factory=list)
    elapsed_ms: list[int] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    reply_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the outcome as JSON."""
        return dict(self.__dict__)


def session() -> requests.Session:
    """Return a requests session that ignores proxy settings from the environment."""
    http = requests.Session()
    http.trust_env = False
    return http


def deliver(world: World, sealed: Sealed, url: str) -> Delivery:
    """POST the sealed callback; retry the same payload on timeout, connection failure or non-200."""
    out = Delivery()
    timeout = world.settings.callback_timeout
    for _ in range(max(1, world.settings.callback_tries)):
        start = time.monotonic()
        with world.lock:
            world.callbacks_sent += 1
        status: int | str
        text = b""
        try:
            with session() as http:
                resp = http.post(
                    url,
                    params=sealed.query,
                    data=sealed.body.encode(),
                    headers={"Content-Type": "text/xml"},
                    timeout=(timeout, timeout),
                )
                status, text = resp.status_code, resp.content
        except requests.Timeout:
            status = "timeout"
        except requests.RequestException:
            status = "connection_error"
        out.tries += 1
        out.statuses.append(status)
        out.elapsed_ms.append(int((time.monotonic() - start) * 1000))
        if status == 200:
            out.reply, out.reply_error = open_reply(world, text)
            break
    return out


def element_to_json(elem: Element) -> Any:
    """Convert an XML element to text, or to a dict of children (repeated tags become lists)."""
    children = list(elem)
    if not children:
        return elem.text or ""
    result: dict[str, Any] = {}
    for child in children:
        value = element_to_json(child)
        if child.tag in result:
            prior = result[child.tag]
            result[child.tag] = [*prior, value] if isinstance(prior, list) else [prior, value]
        else:
            result[child.tag] = value
    return result


def open_reply(world: World, raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Decrypt and verify a passive reply; return (reply fields or None, error or None)."""
    text = raw.decode("utf-8", "replace").strip()
    if not text or text == "success":
        return None, None
    try:
        outer = ElementTree.fromstring(text)
        encrypt = outer.findtext("Encrypt")
        if encrypt is None:
            return None, "passive reply is not encrypted"
        sig, ts, nonce = (outer.findtext(t) or "" for t in ("MsgSignature", "TimeStamp", "Nonce"))
        inner = envelope(world).open(encrypt, sig, ts, nonce)
        reply = element_to_json(ElementTree.fromstring(inner))
    except (ElementTree.ParseError, DefusedXmlException, CryptoError) as exc:
        return None, f"bad passive reply: {exc}"
    if not isinstance(reply, dict):
        return None, "bad passive reply: empty xml"
    return reply, None


def verify_url(world: World, url: str) -> dict[str, Any]:
    """Do WeCom's URL verification GET; ok only if HTTP 200 and the body is exactly the echostr."""
    echo = random_digits(19)
    timestamp, nonce = str(int(world.now())), random_digits(10)
    encrypt, signature = envelope(world).seal(echo, nonce, timestamp)
    query = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": encrypt}
    start = time.monotonic()
    try:
        with session() as http:
            resp = http.get(url, params=query, timeout=world.settings.verify_timeout)
    except requests.RequestException as exc:
        return {
            "ok": False,
            "status": None,
            "body": None,
            "expected": echo,
            "error": exc.__class__.__name__,
            "elapsed_ms": int((time.monotonic() - start) * 1000),
        }
    return {
        "ok": resp.status_code == 200 and resp.content == echo.encode(),
        "status": resp.status_code,
        "body": resp.content.decode("utf-8", "replace"),
        "expected": echo,
        "error": None,
        "elapsed_ms": int((time.monotonic() - start) * 1000),
    }
