"""Members type in an app group chat (一事一群): like WeCom, the emulator shows it to the group, not to the app."""

from __future__ import annotations

import pytest

from sandbox.client import SandboxClient, SandboxError
from tests.sandbox.conftest import Receiver, WeComApi
from tests.sandbox.phonepage import elements, page


def group(api: WeComApi) -> str:
    """Create a group of alice and bob as the app does; return its chatid."""
    created = api.post("appchat/create", {"name": "YQ-1 处置组", "owner": "alice", "userlist": ["alice", "bob"]})
    assert created["errcode"] == 0
    return str(created["chatid"])


def test_a_member_types_in_the_group_and_the_app_hears_nothing(
    sb: SandboxClient, api: WeComApi, receiver: Receiver
) -> None:
    chatid = group(api)
    sent_before = sb.stats()["callbacks_sent"]
    done = sb.group_say("bob", chatid, "我这边已经在核实了")
    assert done["errcode"] == 0
    assert done["callback"] is False
    for userid in ("alice", "bob"):
        typed = [r for r in sb.inbox(userid) if r.get("sender") == "bob"]
        assert len(typed) == 1, userid
        assert typed[0]["chatid"] == chatid
        assert typed[0]["body"]["text"]["content"] == "我这边已经在核实了"
    assert sb.inbox("carol") == [], "not a member: sees nothing"
    assert sb.stats()["callbacks_sent"] == sent_before, "WeCom pushes nothing of a group chat to the app"
    assert receiver.received == []


def test_the_phone_shows_who_typed_and_lets_members_type(sb: SandboxClient, api: WeComApi) -> None:
    chatid = group(api)
    sb.group_say("bob", chatid, "收到，马上处理")
    html = page(sb, "alice")
    typed = [m for m in elements(html, "msg") if m.get("data-sender") == "bob"]
    assert len(typed) == 1
    assert typed[0]["data-chat"] == chatid
    assert typed[0]["data-dir"] == "in", "alice sees bob's words as someone else's"
    assert "Bob" in typed[0]["text"]
    assert "收到，马上处理" in typed[0]["text"]
    own = [m for m in elements(page(sb, "bob"), "msg") if m.get("data-sender") == "bob"]
    assert own[0]["data-dir"] == "out", "bob sees his own words on his side"
    note = elements(html, "group-note")[0]["text"]
    assert "应用收不到" in note
    assert "应用会话" in note, "the phone says where to act"
    assert "只能查看" not in note, "groups are not read-only"


def test_typing_is_refused_outside_a_group_one_belongs_to(sb: SandboxClient, api: WeComApi) -> None:
    chatid = group(api)
    with pytest.raises(SandboxError, match="invalid chat member"):
        sb.group_say("carol", chatid, "我不是群成员")
    with pytest.raises(SandboxError, match="chat not found"):
        sb.group_say("alice", "nosuchchat", "没有这个群")
    with pytest.raises(SandboxError, match="empty"):
        sb.group_say("alice", chatid, "   ")
    assert all(r.get("sender") is None for r in sb.inbox("alice")), "nothing was stored"
