"""Property-based fuzzing (hypothesis) of the callback parser and the chat command parser (issue 10, item 7).

The property everywhere: no input causes an HTTP 5xx or an unhandled exception. The pure parsers return a value or
raise BadXml; the callback answers garbage and forgeries with a 4xx and a correctly signed message below 500; every
callback a member's message is stored as ends "done" (not pending behind a crash, not "failed"), and a text gets a
reply. Examples are derandomized, so every run tries the same inputs; the examples of one test share one stack.

Inputs that once crashed something are pinned by @example in the test that found them.
"""

from __future__ import annotations

import base64
import itertools
import os
from xml.sax.saxutils import escape, quoteattr

import requests
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto

import handlers.router  # noqa: F401 - registers every command word, menu click and card prefix
from bot.crypto import signature
from bot.incoming import BadXml, Incoming, parse_incoming, safe_fields
from core import clock
from handlers.registry import CARD_PREFIXES, CLICKS, COMMANDS, split_command
from models import ProcessedCallback
from tests.integration.flowkit import code_in, dispatched
from tests.integration.harness import CREDS, Stack

URL_PATH = "/wecom/callback"
PG = bool(os.environ.get("LIAOWANG_TEST_DATABASE_URL"))

PURE = settings(max_examples=300, deadline=None, derandomize=True, database=None)
STACK = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# a test of a known bug: the pinned example fails first; no shrinking, no hunting for a second bug
KNOWN_BUG = {"phases": (Phase.explicit, Phase.generate), "report_multiple_bugs": False}

# ---------------------------------------------------------------------------------------------------------------
# strategies: text, XML, WeCom messages
# ---------------------------------------------------------------------------------------------------------------

XML_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r")
ANY_CHARS = st.characters(exclude_categories=("Cs",))  # with the control characters XML 1.0 forbids
TRICKY = [
    "]]>",
    "<![CDATA[",
    "]]]]><![CDATA[>",
    "&amp;",
    "&lt;xml&gt;",
    "&#0;",
    "&#x1F600;",
    "</xml>",
    "<xml>",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "\u200b",
    "\u3000",
    "😀",
    "👨\u200d👩\u200d👧",
    "🇨🇳",
    "\r\n",
    "\\",
    "%s%n",
    "{0}",
    "'; DROP TABLE items; --",
    "None",
    "0",
    "-1",
    "YQ-20261127-001",
]
# numerals other than 0-9 that str.isdigit() accepts and int() refuses, or that int() reads: a class of their own
NUMERALS = ["²", "①", "١", "１", "٣", "𝟙", "¹²", "1²", "०", "12", "3", "0", "-1", "+2", " 1 ", "1.0", "9" * 25]
SHORT_TEXT = st.text(XML_CHARS, max_size=40)
HOSTILE = st.one_of(
    SHORT_TEXT,
    st.text(ANY_CHARS, max_size=20),
    st.sampled_from(TRICKY),
    st.lists(st.one_of(st.sampled_from(TRICKY), st.text(XML_CHARS, max_size=5)), max_size=8).map("".join),
)
ID_TEXT = HOSTILE.map(lambda s: s[:40])  # identifiers short enough for the dedupe key column (see the long-ids test)
# a blank or padded MsgType or Event: test_parse_incoming_of_xml_shaped_text_raises_only_bad_xml
TRIMMED = ID_TEXT.filter(lambda s: s != "" and s == s.strip())
LONG = st.builds(lambda c, n: c * n, st.sampled_from(["长", "a", "😀", " ", "\n", "。\n"]), st.integers(1000, 5000))
XML_NAME = st.one_of(
    st.builds(str.__add__, st.sampled_from("AMZamz_舆"), st.text("aqzAQZ09_.-情", max_size=10)),
    st.sampled_from(["ns:Tag", "_", "a.b", "Xml", "xmlns"]),
)
ATTR_NAME = st.sampled_from(["a", "id", "type", "lang", "舆"])
KNOWN_TAGS = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Content",
    "MsgId",
    "AgentID",
    "Event",
    "EventKey",
    "TaskId",
    "CardType",
    "ResponseCode",
    "MediaId",
    "PicUrl",
    "Url",
    "Title",
    "Description",
]
MSG_TYPES = ["text", "image", "voice", "video", "location", "link", "file", "event", "TEXT", "Event", "update_button"]
EVENTS = [
    "template_card_event",
    "TEMPLATE_CARD_EVENT",
    "click",
    "view",
    "enter_agent",
    "subscribe",
    "unsubscribe",
    "location",
    "change_contact",
    "batch_job_result",
    "scancode_push",
    "pic_photo_or_album",
    "template_card_menu_event",
]
MEMBERS = ["zhangsan", "wangwu", "lisi", "chenqi", "hemin", "zhouba", "liujiu", "sunshi", "gaojing", "mali"]
_MSG_IDS = itertools.count(8_000_000_000_000)  # fresh MsgIds, so a stored message is never a "retry" of another


def _cdata(value: str) -> str:
    """Wrap value in CDATA the way WeCom does, splitting any "]]>" inside it."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _field(tag: str, value: str, how: str = "cdata") -> str:
    """Render one flat field with its value as CDATA or XML-escaped."""
    return f"<{tag}>{_cdata(value) if how == 'cdata' else escape(value)}</{tag}>"


def _stamp() -> str:
    """Return the callback timestamp WeCom would send now (the test instant)."""
    return str(int(clock.now().timestamp()))


@st.composite
def hostile_xml(draw: st.DrawFn) -> str:
    """XML-shaped text: known and random tags, attributes, nesting, repeats, comments, entities, DTDs, junk."""

    def element(depth: int) -> str:
        """Return one random element, nested at most two deeper than depth."""
        tag = draw(st.one_of(st.sampled_from(KNOWN_TAGS), XML_NAME))
        attrs = "" if draw(st.integers(0, 3)) else f" {draw(XML_NAME)}={quoteattr(draw(SHORT_TEXT))}"
        kind = draw(st.sampled_from(["text", "cdata", "children", "empty", "raw", "mixed"]))
        if kind == "empty":
            return f"<{tag}{attrs}/>"
        if kind == "children" and depth < 2:
            body = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        elif kind == "mixed" and depth < 2:
            body = escape(draw(SHORT_TEXT)) + element(depth + 1) + draw(st.sampled_from(["<!-- c -->", "<?pi x?>", ""]))
        elif kind == "cdata":
            body = _cdata(draw(HOSTILE))
        elif kind == "raw":
            body = draw(HOSTILE)
        else:
            body = escape(draw(HOSTILE))
        return f"<{tag}{attrs}>{body}</{tag}>"

    root = draw(st.sampled_from(["xml", "xml", "xml", "XML", "root", "x:xml"]))
    prolog = draw(
        st.sampled_from(
            [
                "",
                "",
                '<?xml version="1.0"?>',
                '<?xml version="1.0" encoding="utf-8"?>',
                '<?xml version="1.1"?>',
                '<?xml version="1.0" encoding="latin-1"?>',
                '<!DOCTYPE xml [<!ENTITY a "aaaa">]>',
                '<!DOCTYPE xml SYSTEM "file:///etc/passwd">',
                "\ufeff",
                " \n",
            ]
        )
    )
    children = [element(0) for _ in range(draw(st.integers(0, 6)))]
    if draw(st.booleans()):  # the fields a message needs, so the parse gets past the first checks
        children.insert(0, _field("FromUserName", draw(st.sampled_from(MEMBERS))))
        children.insert(1, _field("MsgType", draw(st.sampled_from(MSG_TYPES))))
    doc = f"{prolog}<{root}>{''.join(children)}</{root}>"
    if draw(st.integers(0, 9)) == 0:  # truncated, with trailing junk
        doc = doc[: draw(st.integers(0, len(doc)))] + draw(HOSTILE)
    return doc


def card_keys() -> st.SearchStrategy[str]:
    """A template-card button key: a real prefix (or none) with random parts (small numbers, words, text)."""
    part = st.one_of(
        st.sampled_from(["1", "0", "yes", "no", "ok", "back", "up", "team1", "YQ-20261127-001", ""]),
        st.integers(0, 10**6).map(str),
        SHORT_TEXT,
    )
    prefix = st.one_of(st.sampled_from(sorted(CARD_PREFIXES)), SHORT_TEXT)
    return st.builds(lambda p, parts: ":".join([p, *parts])[:40], prefix, st.lists(part, max_size=4))


@st.composite
def wecom_message(draw: st.DrawFn, userid: st.SearchStrategy[str], accepted: bool) -> tuple[str, dict[str, str]]:
    """Flat, well-formed callback XML with random values and extra tags; accepted: our corp, AgentID and time."""
    msg_type = draw(st.one_of(st.sampled_from(MSG_TYPES), TRIMMED))
    ours = {"ToUserName": CREDS["corp_id"], "AgentID": str(CREDS["agent_id"]), "CreateTime": _stamp()}
    fields = {
        tag: value if accepted else draw(st.one_of(st.just(value), HOSTILE, st.integers(-(2**63), 2**64).map(str)))
        for tag, value in ours.items()
    }
    fields["FromUserName"] = draw(userid)
    fields["MsgType"] = msg_type
    if msg_type.lower() == "event":
        event = draw(st.one_of(st.sampled_from(EVENTS), TRIMMED))
        fields["Event"] = event
        keys = st.sampled_from(sorted(CLICKS)) if event.lower() == "click" else card_keys()
        fields["EventKey"] = draw(st.one_of(keys, ID_TEXT))
        fields["TaskId"] = draw(st.one_of(st.sampled_from(["ack-1-1-abcd", "ext-1-abcd", ""]), ID_TEXT))
        fields["CardType"] = draw(st.sampled_from(["button_interaction", "vote_interaction", ""]))
        fields["ResponseCode"] = draw(st.one_of(st.just(""), SHORT_TEXT))
    else:
        fields["MsgId"] = draw(st.one_of(st.integers(0, 2**64).map(str), ID_TEXT))
        fields["Content"] = draw(st.one_of(HOSTILE, LONG))
        for tag in draw(st.lists(st.sampled_from(["MediaId", "PicUrl", "Url", "Title", "Description"]), max_size=3)):
            fields[tag] = draw(HOSTILE)
    extra = draw(st.dictionaries(XML_NAME.filter(lambda n: n not in KNOWN_TAGS and ":" not in n), HOSTILE, max_size=3))
    values = {**fields, **extra}
    order = draw(st.permutations(list(values)))
    body = "".join(_field(tag, values[tag], draw(st.sampled_from(["cdata", "escaped"]))) for tag in order)
    return f"<xml>{body}</xml>", values


@st.composite
def twisted_message(draw: st.DrawFn, tags: list[str]) -> str:
    """A member's well-formed text message in which one of tags has an attribute, a child element or a twin."""
    values = {
        "ToUserName": CREDS["corp_id"],
        "FromUserName": draw(st.sampled_from(MEMBERS)),
        "CreateTime": _stamp(),
        "MsgType": "text",
        "Content": draw(st.one_of(st.sampled_from(sorted(COMMANDS)), SHORT_TEXT)),
        "MsgId": str(next(_MSG_IDS)),
        "AgentID": str(CREDS["agent_id"]),
    }
    twisted, how = draw(st.sampled_from(tags)), draw(st.sampled_from(["attribute", "child", "twin"]))
    parts = []
    for tag, value in values.items():
        if tag != twisted:
            parts.append(_field(tag, value))
        elif how == "attribute":
            parts.append(f"<{tag} {draw(ATTR_NAME)}={quoteattr(draw(SHORT_TEXT))}>{_cdata(value)}</{tag}>")
        elif how == "child":
            child = draw(st.sampled_from(["a", "b", "Item", tag]))
            parts.append(f"<{tag}>{_cdata(value)}<{child}>{escape(draw(SHORT_TEXT))}</{child}></{tag}>")
        else:
            parts.append(_field(tag, value) + _field(tag, draw(st.one_of(st.just(value), SHORT_TEXT))))
    return "<xml>" + "".join(parts) + "</xml>"


# ---------------------------------------------------------------------------------------------------------------
# strategies: what people type
# ---------------------------------------------------------------------------------------------------------------

WORDS = sorted(COMMANDS)
UNITS = [
    "执法一队",
    "法制处",
    "宣传处",
    "城东区局",
    "西山县局",
    "局办公室",
    "舆情指挥中心",
    "team1",
    "xishan",
    "无此单位",
]
GRADES = ["一般", "较大", "重大", "特大", "general", "major"]
CLOCK_NAMES = ["首报", "书面报告", "处置情况报告", "留言答复", "通报相关单位", "不存在的时限"]
SEPARATORS = [" ", "  ", "\n", "\u3000", ",", "，", "、", "\t", ""]
PUNCT = ["，", "。", "：", "；", "！", "？", "（", "）", "【", "】", "“", "”", "……", "——", "～", "·"]
EXTRA_WORDS = ["抄送", "跳过", "取消", "提交", "https://weibo.com/1/abc", "http://", "😀", "🇨🇳", "👍🏽"]


def _today() -> str:
    """Return the local date of the (test) clock as in an 编号, e.g. 20261127."""
    return clock.local(clock.now()).strftime("%Y%m%d")


def codes(pool: list[str]) -> st.SearchStrategy[str]:
    """An item number: one that exists, a well-formed one that does not, or garbage."""
    made_up = st.builds(
        lambda d, n: f"YQ-{d or _today()}-{n:03d}",
        st.sampled_from(["", "20261126", "99999999", "00000000"]),
        st.integers(0, 999),
    )
    shapes = st.sampled_from(["YQ-", "yq-{}-001", "ＹＱ－{}－００１", "YQ-{}", "#1", "编号"])
    garbage = st.builds(lambda shape: shape.format(_today()), shapes)
    return st.one_of(st.sampled_from(pool) if pool else made_up, made_up, garbage, SHORT_TEXT)


def durations(amount: st.SearchStrategy[int], minutes: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """Durations and deadlines as people type them (2h, 90m, 1h30m, 16:30, with or without 限)."""
    typed = st.sampled_from(["2h", "90m", "1d", "1h30m", "0", "0m", "1.5h", "90s", "-1h", "2x", "", "２h", "16：30"])
    number = st.builds(lambda n, u: f"{n}{u}", amount, st.sampled_from(["s", "m", "h", "d", "", "分钟", ".5h"]))
    hhmm = st.builds(lambda h, sep, m: f"{h}{sep}{m:02d}", st.integers(0, 99), st.sampled_from(":："), minutes)
    return st.builds(lambda limit, d: ("限" if limit else "") + d, st.booleans(), st.one_of(typed, number, hhmm))


# the durations a person plausibly types; minutes past 59 and amounts past a lifetime have tests of their own
PLAUSIBLE_DURATIONS = durations(st.integers(0, 10**5), st.integers(0, 59))


def arguments(pool: list[str]) -> st.SearchStrategy[str]:
    """Random command arguments: numbers, durations, units, grades, punctuation, emoji, prose, randomly joined."""
    piece = st.one_of(
        codes(pool),
        PLAUSIBLE_DURATIONS,
        st.sampled_from(UNITS),
        st.sampled_from(GRADES),
        st.sampled_from(CLOCK_NAMES),
        st.sampled_from(PUNCT),
        st.sampled_from(EXTRA_WORDS),
        st.integers(-(10**6), 10**6).map(str),
        SHORT_TEXT,
    )
    return st.builds(
        lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)),
        st.lists(piece, max_size=6),
        st.lists(st.sampled_from(SEPARATORS), min_size=6, max_size=6),
    )


def chat_texts(pool: list[str]) -> st.SearchStrategy[str]:
    """What a person may type: a command word with random arguments, a bare word, prose, or something huge."""
    command = st.builds(
        lambda lead, w, sep, args: lead + w + sep + args,
        st.sampled_from(["", "", " ", "\n", "\u3000"]),
        st.sampled_from(WORDS),
        st.sampled_from(SEPARATORS),
        arguments(pool),
    )
    huge = st.builds(lambda w, body: w + " " + body, st.sampled_from(WORDS), LONG)
    text = st.one_of(command, st.sampled_from(WORDS), SHORT_TEXT, st.sampled_from(TRICKY), huge)
    return text.filter(_deliverable)


def _deliverable(text: str) -> bool:
    """True if the emulator can carry text in a callback at all (not empty, only XML 1.0 characters)."""
    return bool(text) and all(c in "\t\n\r" or (ord(c) >= 0x20 and c not in "\ufffe\uffff") for c in text)


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------


def _mistyped(inc: Incoming) -> list[str]:
    """Return the names of Incoming fields whose value is not of the declared type (int for numbers, else str)."""
    return [
        k
        for k, v in inc.__dict__.items()
        if not isinstance(v, int if k in ("create_time", "agent_id", "party_id") else str)
    ]


def _envelope(inner: str, nonce: str = "12345") -> tuple[bytes, dict[str, str]]:
    """Encrypt and sign inner XML as WeCom would now, returning the POST body and query parameters."""
    stamp = _stamp()
    out = WeChatCrypto(CREDS["token"], CREDS["encoding_aes_key"], CREDS["corp_id"]).encrypt_message(inner, nonce, stamp)
    return _signed_body(out.split("<Encrypt><![CDATA[")[1].split("]]>")[0], stamp, nonce)


def _signed_body(enc: str, stamp: str, nonce: str = "12345") -> tuple[bytes, dict[str, str]]:
    """Wrap an Encrypt value in the outer XML, with a correct msg_signature."""
    sig = signature(CREDS["token"], stamp, nonce, enc)
    body = f"<xml><ToUserName><![CDATA[{CREDS['corp_id']}]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return body.encode(), {"msg_signature": sig, "timestamp": stamp, "nonce": nonce}


def _post(stack: Stack, body: bytes, params: dict[str, str]) -> requests.Response:
    """POST a callback body to the app."""
    return requests.post(
        stack.app_url + URL_PATH, params=params, data=body, timeout=10, headers={"Content-Type": "text/xml"}
    )


def _last_row(stack: Stack) -> int:
    """Return the id of the newest stored callback (0 if none)."""
    with stack.rt.sessions() as s:
        return int(s.scalar(select(func.max(ProcessedCallback.id))) or 0)


def _unfinished(stack: Stack, after: int) -> list[tuple[str, str, str | None]]:
    """Return (key, state, error) of the callbacks stored after row id `after` that did not end "done"."""
    with stack.rt.sessions() as s:
        rows = s.execute(
            select(ProcessedCallback.key, ProcessedCallback.state, ProcessedCallback.error).where(
                ProcessedCallback.id > after, ProcessedCallback.state != "done"
            )
        ).all()
        return [(key[:80], state, error) for key, state, error in rows]


def _a_minute_passes(stack: Stack) -> None:
    """Move the clock a minute on (due reminders fire), so the per-person send budgets have room again."""
    stack.later(61)


def _deliver_and_check(stack: Stack, inner: str) -> None:
    """POST inner XML signed and encrypted: never a 5xx, and whatever was stored is handled to "done"."""
    before = _last_row(stack)
    r = _post(stack, *_envelope(inner))
    assert r.status_code < 500, (r.status_code, r.text[:200])
    stack.drain()
    assert _unfinished(stack, before) == []


def _handled(stack: Stack, userid: str, text: str) -> None:
    """Send text as userid: no 5xx, every callback stored since ends "done", and userid gets a reply."""
    before, since = _last_row(stack), stack.emu.cursor()
    out = stack.emu.say(userid, text)
    assert out["statuses"] == [200], out["statuses"]
    stack.drain()
    assert _unfinished(stack, before) == []
    assert stack.texts(userid, since), f"{userid} got no reply to {text[:80]!r}"


def _fresh_item(stack: Stack) -> str:
    """Report a new item as zhangsan and return its 编号."""
    stack.say("zhangsan", f"上报 模糊测试用的条目 https://weibo.com/fuzz/{next(_MSG_IDS)}")
    return code_in(stack.last("zhangsan"))


# ---------------------------------------------------------------------------------------------------------------
# 1. the callback parser, pure functions
# ---------------------------------------------------------------------------------------------------------------


@PURE
@given(st.one_of(st.text(ANY_CHARS), st.binary(), hostile_xml(), hostile_xml().map(str.encode)))
def test_safe_fields_returns_text_fields_or_raises_bad_xml(xml: str | bytes) -> None:
    try:
        fields = safe_fields(xml)
    except BadXml:
        return
    assert all(isinstance(k, str) for k in fields)
    assert all(isinstance(v, str) for v in fields.values())


@PURE
@given(st.one_of(st.text(ANY_CHARS), st.binary().map(lambda b: b.decode("latin-1")), st.sampled_from(TRICKY)))
def test_parse_incoming_of_arbitrary_text_raises_only_bad_xml(xml: str) -> None:
    try:
        parse_incoming(xml)
    except BadXml:
        return


@settings(PURE, max_examples=200)
@given(wecom_message(st.one_of(st.sampled_from(MEMBERS), HOSTILE), accepted=False))
def test_parse_incoming_of_wecom_messages_returns_typed_fields_or_raises_bad_xml(
    message: tuple[str, dict[str, str]],
) -> None:
    xml, values = message
    try:
        inc = parse_incoming(xml)
    except BadXml:
        return
    assert _mistyped(inc) == []
    assert inc.content == values.get("Content", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    assert inc.userid == values["FromUserName"].replace("\r\n", "\n").replace("\r", "\n").strip()


@example("<xml><FromUserName>zhangsan</FromUserName><MsgType> </MsgType></xml>")
@example("<xml><FromUserName>zhangsan</FromUserName><MsgType> event </MsgType></xml>")
@example("<xml><FromUserName>zhangsan</FromUserName><MsgType a=''>text</MsgType></xml>")
@example("<xml><FromUserName>zhangsan</FromUserName><MsgType>event</MsgType><Event><a/></Event></xml>")
@settings(PURE, **KNOWN_BUG)
@given(hostile_xml())
def test_parse_incoming_of_xml_shaped_text_raises_only_bad_xml(xml: str) -> None:
    try:
        parse_incoming(xml)
    except BadXml:
        return


@example("<xml><FromUserName>zhangsan<a/></FromUserName><MsgType>text</MsgType></xml>")
@settings(PURE, **KNOWN_BUG)
@given(twisted_message([t for t in KNOWN_TAGS[:7] if t != "MsgType"]))
def test_parse_incoming_returns_only_text_and_numbers(xml: str) -> None:
    try:
        inc = parse_incoming(xml)
    except BadXml:
        return
    assert _mistyped(inc) == []


# ---------------------------------------------------------------------------------------------------------------
# 2. the whole HTTP callback
# ---------------------------------------------------------------------------------------------------------------


def test_garbage_bodies_and_query_strings_get_4xx(stack: Stack) -> None:
    before = _last_row(stack)
    keys = st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr", "signature", "msg_signature[]"])

    @given(
        body=st.one_of(
            st.binary(max_size=300),
            st.text(ANY_CHARS, max_size=300).map(str.encode),
            hostile_xml().map(str.encode),
            st.builds(
                lambda enc: f"<xml><Encrypt>{_cdata(enc)}</Encrypt></xml>".encode(),
                st.one_of(HOSTILE, st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode())),
            ),
        ),
        query=st.dictionaries(st.one_of(keys, SHORT_TEXT), st.one_of(HOSTILE, st.just(_stamp())), max_size=5),
        method=st.sampled_from(["POST", "GET", "PUT"]),
    )
    @settings(STACK, max_examples=100)
    def run(body: bytes, query: dict[str, str], method: str) -> None:
        r = requests.request(method, stack.app_url + URL_PATH, params=query, data=body, timeout=10)
        if method == "GET" and not query:
            assert r.status_code == 200  # a browser opening the address reads what it is
        else:
            assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])

    run()
    assert _last_row(stack) == before


def _ciphertexts() -> st.SearchStrategy[str]:
    """Base64 of random bytes, often whole AES blocks, to be signed correctly as an Encrypt or echostr value."""
    blocks = st.integers(0, 6).flatmap(lambda n: st.binary(min_size=16 * n, max_size=16 * n))
    return st.one_of(blocks, st.binary(max_size=120)).map(lambda b: base64.b64encode(b).decode())


ONE_ZERO_BLOCK = base64.b64encode(bytes(16)).decode()


def test_signed_undecryptable_payloads_get_4xx(stack: Stack) -> None:
    @example(enc=ONE_ZERO_BLOCK)
    @given(enc=_ciphertexts())
    @settings(STACK, max_examples=60, **KNOWN_BUG)
    def run(enc: str) -> None:
        r = _post(stack, *_signed_body(enc, _stamp()))
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])

    run()


def test_signed_undecryptable_echostr_gets_4xx(stack: Stack) -> None:
    @example(enc=ONE_ZERO_BLOCK)
    @given(enc=_ciphertexts())
    @settings(STACK, max_examples=60, **KNOWN_BUG)
    def run(enc: str) -> None:
        stamp = _stamp()
        query = {"msg_signature": signature(CREDS["token"], stamp, "1", enc), "timestamp": stamp, "nonce": "1"}
        r = requests.get(stack.app_url + URL_PATH, params={**query, "echostr": enc}, timeout=10)
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])

    run()


def test_signed_messages_from_members_never_get_5xx_and_are_handled(stack: Stack) -> None:
    @given(message=wecom_message(st.sampled_from(MEMBERS), accepted=True), replay=st.integers(1, 2))
    @settings(STACK, max_examples=60)
    def run(message: tuple[str, dict[str, str]], replay: int) -> None:
        before = _last_row(stack)
        body, params = _envelope(message[0])
        for _ in range(replay):  # a WeCom retry of the same callback
            r = _post(stack, body, params)
            assert r.status_code < 500, (r.status_code, r.text[:200])
        stack.drain()
        assert _unfinished(stack, before) == []

    run()


def test_signed_messages_from_anyone_never_get_5xx(stack: Stack) -> None:
    before = _last_row(stack)

    @given(message=wecom_message(st.one_of(st.just("outsider"), HOSTILE), accepted=False))
    @settings(STACK, max_examples=40)
    def run(message: tuple[str, dict[str, str]]) -> None:
        r = _post(stack, *_envelope(message[0]))
        assert r.status_code < 500, (r.status_code, r.text[:200])

    run()
    assert _last_row(stack) == before, "nobody outside the organisation leaves a trace"


def test_signed_xml_shaped_payloads_never_get_5xx(stack: Stack) -> None:
    @example(xml="<xml><FromUserName>zhangsan</FromUserName><MsgType> </MsgType></xml>")
    @example(xml="<xml><FromUserName>zhangsan</FromUserName><MsgType a=''>text</MsgType></xml>")
    @example(xml="<xml><FromUserName>zhangsan<a/></FromUserName><MsgType>text</MsgType></xml>")
    @given(xml=st.one_of(hostile_xml(), twisted_message(KNOWN_TAGS[:7])))
    @settings(STACK, max_examples=60, **KNOWN_BUG)
    def run(xml: str) -> None:
        _deliver_and_check(stack, xml)

    run()


def _event_xml(userid: str, event: str, key: str, task_id: str) -> str:
    """Return a member's event callback XML (our corp, AgentID and timestamp)."""
    fields = [
        ("ToUserName", CREDS["corp_id"]),
        ("FromUserName", userid),
        ("CreateTime", _stamp()),
        ("MsgType", "event"),
        ("Event", event),
        ("EventKey", key),
        ("TaskId", task_id),
        ("CardType", "button_interaction"),
        ("ResponseCode", "fuzz"),
        ("AgentID", str(CREDS["agent_id"])),
    ]
    return "<xml>" + "".join(_field(tag, value) for tag, value in fields) + "</xml>"


def numeric_card_keys() -> st.SearchStrategy[str]:
    """Card keys whose id part is any numeral: ext:<id>:yes, appr:<id>:ok, fu:<id>:1:up, urge/seen/askext:<id>."""
    ids = st.one_of(
        st.sampled_from(NUMERALS),
        st.integers(0, 10**30).map(str),
        st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=3),
    )
    shapes = ["ext:{}:yes", "ext:{}:no", "appr:{}:ok", "appr:{}:back", "fu:{}:1:up", "urge:{}", "seen:{}", "askext:{}"]
    return st.builds(str.format, st.sampled_from(shapes), ids)


def test_card_clicks_with_any_numeric_key_are_handled(stack: Stack) -> None:
    tasks = itertools.count()

    @example(userid="lisi", key="ext:²:yes")
    @example(userid="lisi", key="ext:99999999999999999999:yes")
    @given(userid=st.sampled_from(MEMBERS), key=numeric_card_keys())
    @settings(STACK, max_examples=40, **KNOWN_BUG)
    def run(userid: str, key: str) -> None:
        _deliver_and_check(stack, _event_xml(userid, "template_card_event", key, f"fuzz-{next(tasks)}"))

    run()


def test_signed_messages_with_long_ids_never_get_5xx_and_are_handled(stack: Stack) -> None:
    long_id = st.builds(str.__mul__, st.sampled_from(["7", "x", "键"]), st.integers(150, 1000))

    @example(userid="zhangsan", kind="text", ident="1" * 200)
    @given(userid=st.sampled_from(MEMBERS), kind=st.sampled_from(["text", "click", "card"]), ident=long_id)
    @settings(STACK, max_examples=20, **(KNOWN_BUG if PG else {}))
    def run(userid: str, kind: str, ident: str) -> None:
        if kind == "text":
            fields = [("FromUserName", userid), ("CreateTime", _stamp()), ("MsgType", "text"), ("Content", "帮助")]
            xml = "".join(_field(t, v) for t, v in fields) + f"<MsgId>{ident}</MsgId>"
            xml = f"<xml>{xml}<AgentID>{CREDS['agent_id']}</AgentID></xml>"
        elif kind == "click":
            xml = _event_xml(userid, "click", ident, "")
        else:
            xml = _event_xml(userid, "template_card_event", "wr:YQ-20261127-001", ident)
        _deliver_and_check(stack, xml)

    run()


# ---------------------------------------------------------------------------------------------------------------
# 3. the chat command parser and the handlers behind it
# ---------------------------------------------------------------------------------------------------------------


@settings(PURE, max_examples=400)
@given(
    st.one_of(
        st.text(ANY_CHARS),
        chat_texts([]),
        st.builds(str.__add__, st.sampled_from(WORDS), st.text(ANY_CHARS)),
        st.builds(str.__add__, st.text(" \n\t\u3000", max_size=3), st.sampled_from(WORDS)),
    )
)
def test_split_command_returns_a_registered_word_and_a_stripped_rest(text: str) -> None:
    word, rest = split_command(text)
    assert word == "" or word in COMMANDS
    assert rest == rest.strip()
    if word:
        assert text.strip().startswith(word)
    else:
        assert rest == text.strip()


def test_members_typing_random_commands_always_get_an_answer(stack: Stack) -> None:
    pool = [_fresh_item(stack) for _ in range(2)]
    pool.append(dispatched(stack))
    acked = dispatched(stack, units="执法一队,法制处", grade="重大")
    stack.say("wangwu", f"签收 {acked}")
    pool.append(acked)

    @given(userid=st.sampled_from(MEMBERS), text=chat_texts(pool))
    @settings(STACK, max_examples=50)
    def run(userid: str, text: str) -> None:
        _a_minute_passes(stack)
        _handled(stack, userid, text)

    run()


def test_office_orders_on_a_fresh_item_always_get_an_answer(stack: Stack) -> None:
    words = ["交办", "定级", "调整等级", "免除时限", "会商", "办结", "回复来源", "归档", "总结评估", "查询"]

    @given(word=st.sampled_from(words), sep=st.sampled_from(SEPARATORS[:4]), args=arguments([]))
    @settings(STACK, max_examples=25)
    def run(word: str, sep: str, args: str) -> None:
        _a_minute_passes(stack)
        _handled(stack, "chenqi", f"{word} {_fresh_item(stack)}{sep}{args}")

    run()


def test_random_answers_during_a_guided_report_always_get_an_answer(stack: Stack) -> None:
    @given(answers=st.lists(chat_texts([]), min_size=1, max_size=4))
    @settings(STACK, max_examples=20)
    def run(answers: list[str]) -> None:
        _a_minute_passes(stack)
        _handled(stack, "zhangsan", "上报")
        for text in answers:
            _handled(stack, "zhangsan", text)
        _handled(stack, "zhangsan", "取消")

    run()


def test_random_text_during_a_written_report_always_gets_an_answer(stack: Stack) -> None:
    code = dispatched(stack)
    stack.say("wangwu", f"签收 {code}")

    @given(parts=st.lists(chat_texts([code]), min_size=1, max_size=4))
    @settings(STACK, max_examples=20)
    def run(parts: list[str]) -> None:
        _a_minute_passes(stack)
        _handled(stack, "wangwu", f"书面报告 {code}")
        for text in parts:
            _handled(stack, "wangwu", text)
        _handled(stack, "wangwu", "取消")

    run()


def test_numbered_answers_during_a_guided_report_always_get_an_answer(stack: Stack) -> None:
    answers = st.one_of(st.sampled_from(NUMERALS), st.text(st.characters(categories=("Nd", "No")), min_size=1))

    @example(source="²", grade="1")
    @given(source=answers, grade=answers)
    @settings(STACK, max_examples=20, **KNOWN_BUG)
    def run(source: str, grade: str) -> None:
        _a_minute_passes(stack)
        for text in ("上报", "网传执法人员与商户发生冲突", source, grade, "取消"):
            _handled(stack, "zhangsan", text)

    run()


def test_extension_requests_of_any_duration_get_an_answer(stack: Stack) -> None:
    code = dispatched(stack)
    stack.say("wangwu", f"签收 {code}")

    @example(amount=9999999999, unit="d")
    @given(amount=st.one_of(st.integers(0, 10**5), st.integers(0, 10**40)), unit=st.sampled_from(["s", "m", "h", "d"]))
    @settings(STACK, max_examples=20, **KNOWN_BUG)
    def run(amount: int, unit: str) -> None:
        _a_minute_passes(stack)
        _handled(stack, "wangwu", f"申请延期 {code} {amount}{unit} 需要补充现场核查材料")

    run()


def test_dispatch_deadlines_of_any_time_get_an_answer(stack: Stack) -> None:
    @example(limit="限16:60")
    @given(limit=durations(st.integers(0, 10**40), st.integers(0, 99)))
    @settings(STACK, max_examples=20, **KNOWN_BUG)
    def run(limit: str) -> None:
        _a_minute_passes(stack)
        _handled(stack, "chenqi", f"交办 {_fresh_item(stack)} 执法一队 较大 {limit}")

    run()
