"""Link normalisation: the same page in another spelling is recognised as the same."""

from __future__ import annotations

import pytest

from workflow.incident.links import find_links, normalize


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://weibo.com/123/Abc?utm_source=x", "http://www.weibo.com/123/Abc/"),
        ("https://example.cn/a?b=2&a=1#frag", "https://EXAMPLE.cn/a?a=1&b=2"),
        ("https://m.toutiao.com/i7?share_token=zz", "https://toutiao.com/i7"),
    ],
)
def test_same_page(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


def test_different_pages_differ() -> None:
    assert normalize("https://weibo.com/123/Abc") != normalize("https://weibo.com/123/Abd")
    assert normalize("https://x.cn/a?id=1") != normalize("https://x.cn/a?id=2")


def test_find_links_in_chinese_text() -> None:
    text = "网上有人发帖https://weibo.com/1/A，说执法粗暴。另见 http://x.cn/p?id=3。"
    assert find_links(text) == ["https://weibo.com/1/A", "http://x.cn/p?id=3"]
