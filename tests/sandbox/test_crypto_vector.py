"""The official WeCom crypto vector goes through the emulator's own crypto path."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree

from sandbox import crypto_vector_check
from sandbox.callbacks import open_reply
from sandbox.state import World
from sandbox.wxcrypto import (
    OFFICIAL_AES_KEY,
    OFFICIAL_CORP_ID,
    OFFICIAL_MESSAGE,
    OFFICIAL_TOKEN,
    OFFICIAL_URL_CHECK,
    CryptoError,
    Envelope,
)

from .conftest import settings


def test_official_vector_url_check_and_message() -> None:
    result = crypto_vector_check()
    assert result["echostr"] == "1616140317555161061"
    fields = {c.tag: c.text for c in ElementTree.fromstring(result["xml"])}
    assert fields["FromUserName"] == "mycreate"
    assert fields["MsgType"] == "text"
    assert fields["Content"] == "hello"
    assert fields["MsgId"] == "4561255354251345929"


def test_official_vector_through_passive_reply_decoder() -> None:
    s = settings()
    s.token, s.encoding_aes_key, s.corp_id = OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID
    m = OFFICIAL_MESSAGE
    body = (
        f"<xml><Encrypt><![CDATA[{m['encrypt']}]]></Encrypt><MsgSignature>{m['msg_signature']}"
        f"</MsgSignature><TimeStamp>{m['timestamp']}</TimeStamp><Nonce>{m['nonce']}</Nonce></xml>"
    )
    reply, error = open_reply(World(s), body.encode())
    assert error is None
    assert reply is not None
    assert reply["Content"] == "hello"
    assert reply["FromUserName"] == "mycreate"


def test_tampered_signature_is_refused() -> None:
    env = Envelope(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    u = OFFICIAL_URL_CHECK
    with pytest.raises(CryptoError):
        env.open(u["echostr"], u["msg_signature"], str(int(u["timestamp"]) + 1), u["nonce"])


def test_wrong_corp_id_is_refused() -> None:
    env = Envelope(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, "ww-other-corp")
    u = OFFICIAL_URL_CHECK
    with pytest.raises(CryptoError):
        env.open(u["echostr"], u["msg_signature"], u["timestamp"], u["nonce"])
