"""The emulated 公众号 over HTTP: WeChat's API (/cgi-bin/token, /cgi-bin/message/custom/send), the control API
(/sandbox/mp/…) that makes a citizen send a message the way WeChat delivers it, and the citizen's phone (/phone/mp).

A citizen's message is sealed in safe mode (AES, `msg_signature`, `signature`, `encrypt_type=aes`) and POSTed to
the configured URL; with no answer within 5 s (or a non-200) the very same request is sent again, 3 sends in all,
after which the citizen sees WeChat's "该公众号暂时无法提供服务". A passive reply must be encrypted and addressed to
the citizen; "success" or an empty body shows nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import requests
from defusedxml import ElementTree
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatException
from werkzeug.wrappers import Response as WerkzeugResponse

from sandbox.callbacks import build_xml, random_digits
from sandbox.errors import ControlError
from sandbox.mp_state import ORIGINAL_ID, REPLY_WINDOW, SENDS, UNAVAILABLE, MpSide

XmlField = tuple[str, str | int]


def crypto(mp: MpSide) -> WeChatCrypto:
    """The account's safe-mode crypto."""
    return WeChatCrypto(mp.token, mp.encoding_aes_key, mp.app_id)


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's `signature`: sha1 of token, timestamp and nonce sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def message_xml(mp: MpSide, openid: str, body: dict[str, Any]) -> tuple[str, str]:
    """(the plain message XML WeChat would send for body, the key it can be told apart by: MsgId or openid:time)."""
    now = int(mp.now())
    head: list[XmlField] = [("ToUserName", ORIGINAL_ID), ("FromUserName", openid), ("CreateTime", now)]
    if body.get("event"):
        mp.interacted(openid, str(body["event"]))
        fields: list[XmlField] = [("MsgType", "event"), ("Event", str(body["event"]))]
        return build_xml([*head, *fields]), f"{openid}:{now}:{body['event']}"
    msg_id = mp.said(openid)
    if "image" in body:
        url = str(body["image"])
        fields = [("MsgType", "image"), ("PicUrl", url), ("MediaId", "media_" + secrets.token_hex(8))]
    elif "link" in body:
        link = dict(body["link"])
        fields = [("MsgType", "link"), ("Title", str(link.get("title", "")))]
        fields += [("Description", str(link.get("description", ""))), ("Url", str(link.get("url", "")))]
    else:
        fields = [("MsgType", "text"), ("Content", str(body.get("text", "")))]
    return build_xml([*head, *fields, ("MsgId", int(msg_id))]), msg_id


def seal(mp: MpSide, xml: str, openid: str) -> tuple[dict[str, str], str]:
    """(query string, body) of the safe-mode POST carrying xml."""
    timestamp, nonce = str(int(mp.now())), random_digits(10)
    sealed = ElementTree.fromstring(crypto(mp).encrypt_message(xml, nonce, timestamp))
    encrypt, msg_signature = sealed.findtext("Encrypt") or "", sealed.findtext("MsgSignature") or ""
    query = {
        "signature": plain_signature(mp.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
    }
    return query, build_xml([("ToUserName", ORIGINAL_ID), ("Encrypt", encrypt)])


def open_reply(mp: MpSide, raw: bytes, openid: str) -> tuple[str | None, str | None]:
    """(the passive reply's text, None), (None, None) for "success"/empty, or (None, why it is not acceptable)."""
    text = raw.decode("utf-8", "replace").strip()
    if not text or text == "success":
        return None, None
    try:
        outer = ElementTree.fromstring(text)
        sig, ts, nonce = (outer.findtext(t) or "" for t in ("MsgSignature", "TimeStamp", "Nonce"))
        inner = ElementTree.fromstring(crypto(mp).decrypt_message(text, sig, ts, nonce))
    except (ElementTree.ParseError, InvalidSignatureException, WeChatException, ValueError, KeyError) as exc:
        return None, f"passive reply not acceptable: {type(exc).__name__}"
    if inner.findtext("ToUserName") != openid or inner.findtext("FromUserName") != ORIGINAL_ID:
        return None, "passive reply addressed to someone else"
    if inner.findtext("MsgType") != "text":
        return None, "passive reply is not text"
    return inner.findtext("Content") or "", None


def _http() -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    return http


def deliver(mp: MpSide, openid: str, body: dict[str, Any], replay: int = 1) -> dict[str, Any]:
    """Send one citizen message as WeChat does (replay: extra sends of the same request, as WeChat's retries)."""
    if not mp.callback_url:
        raise ControlError('公众号的服务器地址（URL）还没有配置：POST /sandbox/mp/callback {"url": …}')
    xml, key = message_xml(mp, openid, body)
    query, payload = seal(mp, xml, openid)
    shown = body.get("text") or body.get("image") or (body.get("link") or {}).get("title") or ""
    if not body.get("event"):
        mp.add(openid, "citizen", str(shown), "image" if "image" in body else "link" if "link" in body else "text")
    out: dict[str, Any] = {"key": key, "tries": 0, "statuses": [], "elapsed_ms": [], "reply": None, "error": None}
    sends = 0
    while sends < SENDS + max(0, replay - 1):
        sends += 1
        status, raw, elapsed = _post(mp, query, payload)
        out["tries"] += 1
        out["statuses"].append(status)
        out["elapsed_ms"].append(elapsed)
        if status == 200 and sends >= replay:
            reply, error = open_reply(mp, raw, openid)
            out["reply"], out["error"] = reply, error
            if error is not None:
                mp.add(openid, "wechat", UNAVAILABLE)
            elif reply:
                mp.add(openid, "passive", reply)
            return out
    mp.add(openid, "wechat", UNAVAILABLE)
    return out


def _post(mp: MpSide, query: dict[str, str], payload: str) -> tuple[int | str, bytes, int]:
    """One POST of the sealed message: (status or "timeout"/"connection_error", body, elapsed ms)."""
    start = time.monotonic()
    try:
        with _http() as http:
            resp = http.post(
                str(mp.callback_url), params=query, data=payload.encode(), headers={"Content-Type": "text/xml"},
                timeout=(mp.reply_window, mp.reply_window),
            )  # fmt: skip
        status: int | str = resp.status_code
        raw = resp.content
    except requests.Timeout:
        status, raw = "timeout", b""
    except requests.RequestException:
        status, raw = "connection_error", b""
    return status, raw, int((time.monotonic() - start) * 1000)


def verify_url(mp: MpSide) -> dict[str, Any]:
    """WeChat's server-URL check (GET with signature, timestamp, nonce, echostr): ok if the body is the echostr."""
    timestamp, nonce, echo = str(int(mp.now())), random_digits(10), random_digits(19)
    query = {"signature": plain_signature(mp.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    with _http() as http:
        resp = http.get(str(mp.callback_url), params={**query, "echostr": echo}, timeout=mp.reply_window)
    return {"ok": resp.status_code == 200 and resp.text == echo, "status": resp.status_code}


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError("请求体须是 JSON 对象")
    return body


def make_mp_api_blueprint(mp: MpSide) -> Blueprint:
    """WeChat's official-account API as the app calls it: access_token and 客服消息."""
    bp = Blueprint("mp_api", __name__)

    def err(code: int, msg: str) -> Response:
        return jsonify({"errcode": code, "errmsg": msg})

    @bp.get("/cgi-bin/token")
    def token() -> Response:
        mp.count("token")
        args = request.args
        if args.get("grant_type") != "client_credential":
            return err(40002, "invalid grant_type")
        if args.get("appid") != mp.app_id:
            return err(40013, "invalid appid")
        if args.get("secret") != mp.app_secret:
            return err(40125, "invalid appsecret")
        return jsonify({"access_token": mp.new_token(), "expires_in": 7200})

    @bp.post("/cgi-bin/message/custom/send")
    def custom_send() -> Response:
        mp.count("custom_send")
        if bad := mp.token_error(request.args.get("access_token")):
            return err(*bad)
        with mp.lock:
            fault = mp.faults.pop(0) if mp.faults else None
        if fault is not None:
            return err(fault, "emulated fault")
        body = request.get_json(silent=True, force=True)
        if not isinstance(body, dict):
            return err(47001, "data format error")
        openid, kind = str(body.get("touser", "")), body.get("msgtype")
        if openid not in mp.last_said:
            return err(40003, "invalid openid")
        if kind != "text":
            return err(40008, "invalid message type")
        content = str((body.get("text") or {}).get("content", ""))
        if not content:
            return err(44003, "empty news data")
        if not mp.may_send(openid):
            return err(45015, "response out of time limit or subscription is canceled")
        mp.add(openid, "custom", content)
        return err(0, "ok")

    return bp


def make_mp_control_blueprint(mp: MpSide) -> Blueprint:
    """/sandbox/mp/…: configure the URL, make a citizen send something, read conversations, inject faults."""
    bp = Blueprint("mp_control", __name__, url_prefix="/sandbox/mp")

    @bp.post("/callback")
    def set_callback() -> Response:
        body = _json_body()
        url = str(body.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise ControlError("url 须是 http:// 或 https:// 地址")
        with mp.lock:
            mp.callback_url = url
            mp.reply_window = float(body.get("reply_window", REPLY_WINDOW))  # shorter only to test a silent server
        if body.get("verify") is False:
            return jsonify({"url": url})
        return jsonify({"url": url, "verify": verify_url(mp)})

    @bp.post("/reset")
    def reset() -> Response:
        mp.reset()
        return jsonify({"ok": True})

    @bp.post("/say")
    def say() -> Response:
        body = _json_body()
        openid = str(body.get("openid", ""))
        if not openid:
            raise ControlError("openid 不能为空")
        return jsonify(deliver(mp, openid, body, int(body.get("replay", 1))))

    @bp.get("/lines/<openid>")
    def lines(openid: str) -> Response:
        since = int(request.args.get("since", 0))
        with mp.lock:
            found = [ln.as_json() for ln in mp.lines.get(openid, []) if ln.seq > since]
        return jsonify({"lines": found, "may_send": mp.may_send(openid)})

    @bp.post("/fault")
    def fault() -> Response:
        body = _json_body()
        with mp.lock:
            mp.faults += [int(body.get("errcode", -1))] * int(body.get("times", 1))
        return jsonify({"faults": list(mp.faults)})

    @bp.post("/expire-tokens")
    def expire_tokens() -> Response:
        with mp.lock:
            mp.tokens = {t: mp.now() - 1 for t in mp.tokens}
        return jsonify({"expired": len(mp.tokens)})

    @bp.get("/stats")
    def stats() -> Response:
        with mp.lock:
            return jsonify({"calls": dict(mp.calls), "callback_url": mp.callback_url})

    return bp


def make_mp_phone_blueprint(mp: MpSide) -> Blueprint:
    """/phone/mp: a citizen's WeChat conversation with the 公众号 (send text or a link, read every answer)."""
    bp = Blueprint("mp_phone", __name__, url_prefix="/phone/mp")

    @bp.get("", strict_slashes=False)
    def page() -> str:
        openid = request.args.get("openid") or "o_citizen_demo"
        with mp.lock:
            lines = [ln.as_json() for ln in mp.lines.get(openid, [])]
        return render_template("mp_phone.html", openid=openid, lines=lines, configured=bool(mp.callback_url))

    @bp.post("/send")
    def send() -> WerkzeugResponse:
        openid = request.form.get("openid") or "o_citizen_demo"
        text, url = (request.form.get(k, "").strip() for k in ("text", "url"))
        if url:
            deliver(mp, openid, {"link": {"title": text or url, "description": "", "url": url}})
        elif text:
            deliver(mp, openid, {"text": text})
        return redirect(url_for("mp_phone.page", openid=openid))

    return bp
