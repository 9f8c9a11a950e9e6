"""WeCom callback crypto (AES-256-CBC + SHA1 signature) built on wechatpy's WeChatCrypto."""

from __future__ import annotations

from defusedxml import ElementTree
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException

OFFICIAL_TOKEN = "QDG6eK"
OFFICIAL_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OFFICIAL_CORP_ID = "wx5823bf96d3bd56c7"
OFFICIAL_URL_CHECK = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
OFFICIAL_MESSAGE = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
    "encrypt": (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
        "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd"
        "4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r"
        "+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4"
        "XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIG"
        "HBZZIs2pDBS8R07+qN+E7Q=="
    ),
}


class CryptoError(Exception):
    """Signature mismatch, wrong corp id or undecryptable payload."""


class Envelope:
    """Seals and opens WeCom encrypted payloads for one (token, EncodingAESKey, corp id)."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)

    def seal(self, plaintext: str, nonce: str, timestamp: str) -> tuple[str, str]:
        """Encrypt plaintext and sign it; return (encrypt, msg_signature)."""
        sealed = self._crypto.encrypt_message(plaintext, nonce, timestamp)
        root = ElementTree.fromstring(sealed)
        return root.findtext("Encrypt") or "", root.findtext("MsgSignature") or ""

    def open(self, encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
        """Verify the signature over encrypt and decrypt it; raise CryptoError on any failure."""
        try:
            return str(self._crypto.decrypt_message({"Encrypt": encrypt}, signature, timestamp, nonce))
        except (WeChatException, ValueError, UnicodeDecodeError, IndexError) as exc:
            raise CryptoError(f"cannot open payload: {exc.__class__.__name__}") from exc


def xml_fields(xml_text: str) -> dict[str, str]:
    """Parse a flat WeCom XML document into {tag: text} of the root's children."""
    root = ElementTree.fromstring(xml_text)
    return {child.tag: (child.text or "") for child in root}


def crypto_vector_check() -> dict[str, str]:
    """Open the official WeCom test vector via Envelope.open; return the plaintexts or raise CryptoError."""
    env = Envelope(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    url = OFFICIAL_URL_CHECK
    echo = env.open(url["echostr"], url["msg_signature"], url["timestamp"], url["nonce"])
    msg = OFFICIAL_MESSAGE
    xml = env.open(msg["encrypt"], msg["msg_signature"], msg["timestamp"], msg["nonce"])
    fields = xml_fields(xml)
    if echo != "1616140317555161061" or fields.get("FromUserName") != "mycreate":
        raise CryptoError("official vector decrypted to unexpected plaintext")
    if fields.get("Content") != "hello" or fields.get("MsgType") != "text":
        raise CryptoError("official vector message content mismatch")
    return {"echostr": echo, "xml": xml}
