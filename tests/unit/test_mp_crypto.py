"""The 公众号's safe mode as the emulator seals it and Liaowang opens it (wechatpy's WeChatCrypto on both sides)."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from sandbox.mp import plain_signature, seal
from sandbox.mp_state import MP_CREDS, ORIGINAL_ID, MpSide

XML = (
    f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[o_x]]></FromUserName>"
    "<CreateTime>1796000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[路灯不亮]]></Content>"
    "<MsgId>1234567890123456</MsgId></xml>"
)


def _ours() -> WeChatCrypto:
    return WeChatCrypto(MP_CREDS["token"], MP_CREDS["encoding_aes_key"], MP_CREDS["app_id"])


def test_a_sealed_message_opens_with_the_accounts_token_key_and_app_id() -> None:
    query, body = seal(MpSide(now=lambda: 1796000000.0), XML, "o_x")
    check_signature(MP_CREDS["token"], query["signature"], query["timestamp"], query["nonce"])
    encrypt = ElementTree.fromstring(body).findtext("Encrypt")
    plain = _ours().decrypt_message({"Encrypt": encrypt}, query["msg_signature"], query["timestamp"], query["nonce"])
    msg = parse_message(plain)
    assert (msg.type, msg.content, msg.source, str(msg.id)) == ("text", "路灯不亮", "o_x", "1234567890123456")
    assert query["encrypt_type"] == "aes"


def test_a_wrong_signature_or_token_is_refused() -> None:
    query, body = seal(MpSide(now=lambda: 1796000000.0), XML, "o_x")
    encrypt = ElementTree.fromstring(body).findtext("Encrypt")
    with pytest.raises(InvalidSignatureException):
        _ours().decrypt_message({"Encrypt": encrypt}, "0" * 40, query["timestamp"], query["nonce"])
    other = WeChatCrypto("another-token", MP_CREDS["encoding_aes_key"], MP_CREDS["app_id"])
    with pytest.raises(InvalidSignatureException):
        other.decrypt_message({"Encrypt": encrypt}, query["msg_signature"], query["timestamp"], query["nonce"])
    assert plain_signature("t", "2", "1") == plain_signature("t", "1", "2"), "the three are sorted before hashing"
