"""The registry of commands, menu clicks, card keys and conversations: every key has one owner."""

from __future__ import annotations

import pytest

import handlers.router  # noqa: F401 - registers everything
from handlers import flows
from handlers.registry import command, split_command


def test_a_command_word_registered_twice_fails_when_the_module_loads() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        command("签收")(lambda ctx: "another owner")


def test_a_conversation_declared_twice_fails_when_the_module_loads() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        flows.declare(flows.Flow("written", "填写书面报告", lambda ctx, state: ""))


@pytest.mark.parametrize(
    ("text", "word", "rest"),
    [
        ("签收 YQ-20261127-001", "签收", "YQ-20261127-001"),
        ("签收：YQ-20261127-001", "签收", "YQ-20261127-001"),
        ("签收:YQ-20261127-001", "签收", "YQ-20261127-001"),
        ("签收　YQ-20261127-001", "签收", "YQ-20261127-001"),
        ("签收YQ-20261127-001", "签收", "YQ-20261127-001"),
        ("书面报告 YQ-20261127-001，内容", "书面报告", "YQ-20261127-001，内容"),
        ("随便说一句", "", "随便说一句"),
    ],
)
def test_command_words_take_full_width_colons_and_spaces(text: str, word: str, rest: str) -> None:
    assert split_command(text) == (word, rest)


@pytest.mark.parametrize("prose", ["上报情况如下：已处理", "查询结果显示无异常", "签收时间为上午"])
def test_during_a_conversation_prose_that_begins_with_a_command_word_stays_prose(prose: str) -> None:
    assert split_command(prose, strict=True)[0] == ""


def test_every_conversation_has_a_way_out_in_its_own_words() -> None:
    assert set(flows.FLOWS) == {
        "report",
        "written",
        "return_reason",
        "opinion",
        "extension",
        "guided_proof",
        "guided_reason",
        "statement_opinion",
        "statement_return",
        "evaluation",
        "step",  # a next-step button's conversation bound to one item (handlers/steps.py)
        "pick",  # which item, when a step without 编号 is owed on several
    }
    for flow in flows.FLOWS.values():
        assert "取消" in flow.words or "跳过" in flow.words, flow.key
        assert flow.way_out, flow.key
