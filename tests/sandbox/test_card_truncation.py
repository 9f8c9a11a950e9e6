"""The phone shows a template card the way WeCom does: each text cut to its display limit with "…"; WeCom accepts
longer texts (no error code), so the emulator delivers the card and marks what a phone would cut."""

from __future__ import annotations

from sandbox.client import SandboxClient
from sandbox.render import describe
from sandbox.validate import DISPLAY_LIMITS, clip, over_limit

from .conftest import WeComApi, card
from .phonepage import elements, feed, messages_html

LONG_TITLE = "网传某街道执法人员与流动摊贩发生肢体冲突的短视频在本地论坛持续发酵"  # 33 characters
LONG_SUB = "请在今天 18:00 前完成书面报告。" + "情况说明" * 40  # 19 + 160 characters


def test_clip_cuts_with_an_ellipsis_only_when_longer() -> None:
    assert clip("签收", 10) == "签收"
    assert clip("一二三四五六七八九十", 10) == "一二三四五六七八九十"
    assert clip("一二三四五六七八九十一", 10) == "一二三四五六七八九…"
    assert len(clip(LONG_SUB, DISPLAY_LIMITS["sub_title_text"])) == 112


def test_an_over_long_card_is_delivered_shown_cut_and_marked(api: WeComApi, sb: SandboxClient) -> None:
    rows = [{"keyname": "交办时已过时限", "value": "首报、书面报告，请立即办理（迟延记在交办环节）"}]
    body = card(
        "trunc-1",
        keys=("在聊天中直接填写并报送",),
        main_title={"title": LONG_TITLE, "desc": "YQ-20261127-001"},
        sub_title_text=LONG_SUB,
        horizontal_content_list=rows,
    )
    answer = api.send("alice", "template_card", body)
    assert answer["errcode"] == 0, "WeCom does not refuse long card texts; it cuts them on the phone"
    record = sb.inbox("alice")[0]
    assert record["over_limit"] == [
        "main_title.title: 33 > 26",
        "sub_title_text: 179 > 112",
        "horizontal_content_list[].keyname: 7 > 5",
        "button_list[].text: 11 > 10",
    ]
    shown = describe(record)
    assert LONG_TITLE[:25] + "…" in shown
    assert LONG_TITLE not in shown
    assert LONG_SUB[:111] + "…" in shown
    html = messages_html(feed(sb, "alice"), "alice")
    assert elements(html, "card-title")[0]["text"] == LONG_TITLE[:25] + "…"
    assert elements(html, "card-sub")[0]["text"] == LONG_SUB[:111] + "…"
    assert "<dt>交办时已…</dt>" in html
    assert ">在聊天中直接填写并…</button>" in html
    assert "data-over-limit=" in html


def test_a_card_within_the_limits_is_shown_whole(api: WeComApi, sb: SandboxClient) -> None:
    body = card("trunc-2", keys=("签收",), main_title={"title": "【较大】执法冲突视频"}, sub_title_text="请签收。")
    assert api.send("alice", "template_card", body)["errcode"] == 0
    record = next(r for r in sb.inbox("alice") if r["task_id"] == "trunc-2")
    assert record["over_limit"] == []
    assert over_limit(record["card"]) == []
    assert "…" not in describe(record)
