"""Parsing a change_contact event: the fields used, WeCom's nested ExtAttr tolerated, one dedupe key per event."""

from __future__ import annotations

import pytest

from bot.incoming import BadXml, parse_incoming

FULL = """<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>
<CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>
<ChangeType>create_user</ChangeType><UserID><![CDATA[zhangsan]]></UserID><Name><![CDATA[张三]]></Name>
<Department><![CDATA[1,2,3]]></Department><MainDepartment>1</MainDepartment><Status>1</Status>
<ExtAttr><Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[旅游]]></Value></Text></Item></ExtAttr>
</xml>"""


def test_a_full_member_event_is_read_and_its_ext_attr_skipped() -> None:
    msg = parse_incoming(FULL)
    assert (msg.userid, msg.event, msg.change_type, msg.contact_userid) == (
        "sys",
        "change_contact",
        "create_user",
        "zhangsan",
    )
    assert msg.party_id == 0
    assert msg.dedupe_key.startswith("ev:sys:1403610513:change_contact:")


def test_two_events_in_one_second_have_two_keys_and_a_retry_has_one() -> None:
    other = FULL.replace("zhangsan", "lisi")
    assert parse_incoming(FULL).dedupe_key == parse_incoming(FULL).dedupe_key
    assert parse_incoming(FULL).dedupe_key != parse_incoming(other).dedupe_key


def test_a_party_event() -> None:
    xml = FULL.split("<ChangeType>")[0] + "<ChangeType>create_party</ChangeType><Id>7</Id><Name>宣传处</Name>"
    msg = parse_incoming(xml + "<ParentId><![CDATA[1]]></ParentId><Order>1</Order></xml>")
    assert (msg.change_type, msg.party_id, msg.party_name) == ("create_party", 7, "宣传处")


def test_nested_fields_elsewhere_are_still_refused() -> None:
    with pytest.raises(BadXml):
        parse_incoming(FULL.replace("<Status>1</Status>", "<Status><x>1</x></Status>"))
    with pytest.raises(BadXml):
        parse_incoming(FULL.replace("</xml>", "<ExtAttr></ExtAttr></xml>"))
