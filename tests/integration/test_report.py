"""Reporting: one-message form, guided conversation, links and screenshots, repeats merged."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from models import Attachment, AuditEvent, Item, ItemLink
from tests.integration.harness import Stack


def _items(stack: Stack) -> list[Item]:
    with stack.rt.sessions() as s:
        return list(s.scalars(select(Item).order_by(Item.id)))


def test_codes_count_up_per_day(stack: Stack) -> None:
    for i in range(3):
        stack.say("zhangsan", f"上报 第{i}条")
    codes = [i.code for i in _items(stack)]
    assert [c[-3:] for c in codes] == ["001", "002", "003"]
    assert len({c[:11] for c in codes}) == 1


def test_guided_report_with_source_grade_link_and_screenshot(stack: Stack) -> None:
    stack.emu.click("zhangsan", "REPORT")
    stack.drain()
    assert "请发送舆情描述" in stack.last("zhangsan")
    stack.say("zhangsan", "抖音有视频称执法人员态度粗暴")
    assert "来源是哪里" in stack.last("zhangsan")
    stack.say("zhangsan", "9")
    assert "没看懂" in stack.last("zhangsan")
    stack.say("zhangsan", "5")
    assert "建议等级" in stack.last("zhangsan")
    stack.say("zhangsan", "3")
    assert "截图" in stack.last("zhangsan")
    stack.emu.link("zhangsan", "https://www.douyin.com/video/1234?share_token=abc", title="执法视频")
    stack.emu.image("zhangsan")
    stack.drain()
    assert "已收到截图（共 1 张）" in stack.last("zhangsan")
    assert _items(stack) == []
    stack.say("zhangsan", "提交")
    assert "含截图 1 张" in stack.last("zhangsan")
    (item,) = _items(stack)
    assert (item.source, item.suggested_grade, item.title) == ("message_board", "major", "抖音有视频称执法人员态度粗暴")
    with stack.rt.sessions() as s:
        att = s.scalar(select(Attachment))
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1
        assert s.scalar(select(ItemLink.url)) == "https://www.douyin.com/video/1234?share_token=abc"
    assert att is not None, "the screenshot was fetched from media/get"
    assert att.content_type == "image/png", "the screenshot was fetched from media/get"
    stored = stack.rt.config.storage_dir / str(att.stored_name)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == att.sha256
    office = stack.last("chenqi")
    assert item.code in office
    assert "建议等级：重大" in office
    assert "留言板" in office


def test_cancel_aborts_and_records_nothing(stack: Stack) -> None:
    stack.say("zhangsan", "上报")
    stack.say("zhangsan", "一条不想报了的")
    stack.say("zhangsan", "取消")
    assert "已取消" in stack.last("zhangsan")
    stack.say("zhangsan", "提交")
    assert "当前没有进行中的上报" in stack.last("zhangsan")
    assert _items(stack) == []
    assert stack.inbox("chenqi") == []


def test_conversation_times_out(stack: Stack) -> None:
    stack.say("zhangsan", "上报")
    assert stack.rt.config.conversation_timeout == 600
    clock.advance(timedelta(seconds=599))
    stack.say("zhangsan", "一句描述")
    assert "来源是哪里" in stack.last("zhangsan"), "still within ten minutes of silence"
    clock.advance(timedelta(seconds=601))
    stack.say("zhangsan", "随便说一句")
    assert "没看懂" in stack.last("zhangsan")


def test_help_is_always_available_mid_conversation(stack: Stack) -> None:
    stack.say("zhangsan", "上报")
    stack.say("zhangsan", "帮助")
    assert "瞭望 · 舆情处置助手" in stack.last("zhangsan")
    stack.say("zhangsan", "描述继续")
    assert "来源是哪里" in stack.last("zhangsan")


def test_same_link_joins_the_first_item_and_credits_the_first_reporter(stack: Stack) -> None:
    stack.say("zhangsan", "上报 微博热帖 https://weibo.com/77/XyZ?utm_source=share")
    first = _items(stack)[0]
    stack.say("wuyi", "上报 这个帖子在发酵 http://www.weibo.com/77/XyZ/")
    assert len(_items(stack)) == 1
    reply = stack.last("wuyi")
    assert first.code in reply
    assert "已由张三上报" in reply
    assert "首次发现人记为张三" in reply
    assert "重复上报已合并" in stack.last("chenqi")
    stack.say("wuyi", f"查询 {first.code}")  # the reply tells them to: it must work
    assert "状态：" in stack.reply("wuyi")
    assert "无权查看" not in stack.reply("wuyi")
    with stack.rt.sessions() as s:
        assert s.scalar(select(Item.reporter_id)) == first.reporter_id
        assert "report_merged" in list(s.scalars(select(AuditEvent.action)))


def test_unrecognised_input_and_unsupported_messages_get_a_clear_answer(stack: Stack) -> None:
    stack.say("zhangsan", "你好")
    assert "发送“帮助”" in stack.last("zhangsan")
    stack.emu.click("zhangsan", "HELP")
    stack.drain()
    assert "上报 <描述或链接>" in stack.last("zhangsan")
    assert "交办" not in stack.last("zhangsan"), "commentators are not shown office commands"
    stack.say("zhangsan", "上报 ")
    assert "请发送舆情描述" in stack.last("zhangsan")


def test_screenshot_fetch_survives_a_wecom_outage_and_expired_media_is_recorded(stack: Stack) -> None:
    stack.emu.fault("media/get", http_status=502, times=1)
    stack.say("zhangsan", "上报")
    stack.emu.image("zhangsan")
    stack.say("zhangsan", "截图说明")
    for answer in ("跳过", "跳过", "提交"):
        stack.say("zhangsan", answer)
    with stack.rt.sessions() as s:
        assert s.scalar(select(Attachment.sha256)) is None
    stack.later(10)
    with stack.rt.sessions() as s:
        assert s.scalar(select(Attachment.sha256)) is not None
    stack.say("zhangsan", "上报")
    stack.emu.image("zhangsan")
    stack.emu.expire_media()  # three days have passed for WeCom's copy
    for answer in ("过期的截图", "跳过", "跳过", "提交"):
        stack.say("zhangsan", answer)
    with stack.rt.sessions() as s:
        last = s.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
        assert last is not None
        assert last.sha256 is None
        assert "40007" in str(last.fetch_error)
