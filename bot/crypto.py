"""Callback crypto: constant-time signature checks, then wechatpy's AES for the payload."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct

from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import WeChatException


class BadSignature(Exception):
    """The msg_signature does not match (forged or mis-configured): answer 403."""


class BadPayload(Exception):
    """The encrypted payload cannot be decrypted: answer 400."""


class WrongCorp(BadPayload):
    """The payload was encrypted for another corp id: answer 403."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """Return WeCom's msg_signature: sha1 of the four values sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class CallbackCrypto:
    """Verify and decrypt what WeCom posts, and encrypt passive replies."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self.token, self.corp_id = token, corp_id
        self._wc = WeChatCrypto(token, encoding_aes_key, corp_id)

    def _check(self, sig: str, timestamp: str, nonce: str, encrypt: str) -> None:
        if not hmac.compare_digest(signature(self.token, timestamp, nonce, encrypt), sig or ""):
            raise BadSignature("msg_signature mismatch")

    def _decrypt(self, encrypt: str) -> str:
        try:
            plain = PrpCrypto(self._wc.key).decrypt(encrypt, self.corp_id)
        except WeChatException as exc:
            raise WrongCorp(f"wrong corp id: {type(exc).__name__}") from None
        except (ValueError, binascii.Error, UnicodeDecodeError, IndexError, TypeError, struct.error) as exc:
            raise BadPayload(f"undecryptable payload: {type(exc).__name__}") from None
        return plain.decode("utf-8") if isinstance(plain, bytes) else str(plain)

    def verify_url(self, sig: str, timestamp: str, nonce: str, echostr: str) -> str:
        """Return the plaintext echostr of a URL-verification GET, or raise BadSignature/BadPayload."""
        self._check(sig, timestamp, nonce, echostr)
        return self._decrypt(echostr)

    def decrypt(self, sig: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Return the decrypted inner XML of a callback, or raise BadSignature/BadPayload."""
        self._check(sig, timestamp, nonce, encrypt)
        return self._decrypt(encrypt)

    def encrypt_reply(self, xml: str, nonce: str, timestamp: str) -> str:
        """Return the encrypted, signed XML envelope of a passive reply."""
        envelope: str = self._wc.encrypt_message(xml, nonce, timestamp)
        return envelope
