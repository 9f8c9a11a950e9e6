"""The contact book: department/list, user/list, user/get shapes and refusals, visibility, change_contact callbacks."""

from __future__ import annotations

import pytest

from sandbox.client import SandboxClient, SandboxError

from .conftest import CORP_ID, Receiver, WeComApi

TREE = [
    {"id": 2, "name": "执法一队", "parentid": 1, "order": 20},
    {"id": 3, "name": "法制处", "parentid": 1, "order": 10},
    {"id": 4, "name": "一中队", "parentid": 2, "order": 5},
]


@pytest.fixture()
def tree(sb: SandboxClient) -> SandboxClient:
    """The emulator with a small department tree and alice in 执法一队, bob in 一中队 and 法制处."""
    sb.departments(TREE)
    sb.people(
        [
            {"userid": "alice", "name": "Alice", "department": [2], "position": "队长"},
            {"userid": "bob", "name": "Bob", "department": [4, 3], "main_department": 3},
            {"userid": "carol", "name": "Carol"},
        ]
    )
    return sb


def test_department_list_has_wecoms_shape_and_order(tree: SandboxClient, api: WeComApi) -> None:
    got = api.get("department/list")
    assert got["errcode"] == 0
    assert [d["id"] for d in got["department"]] == [1, 2, 4, 3]  # parents first, larger order first
    assert got["department"][1] == {
        "id": 2,
        "name": "执法一队",
        "name_en": "",
        "department_leader": [],
        "parentid": 1,
        "order": 20,
    }
    assert [d["id"] for d in api.get("department/list", id=2)["department"]] == [2, 4]
    assert api.get("department/simplelist", id=2)["department_id"] == [
        {"id": 2, "parentid": 1, "order": 20},
        {"id": 4, "parentid": 2, "order": 5},
    ]
    assert api.get("department/get", id=4)["department"]["name"] == "一中队"
    assert api.get("department/list", id=99)["errcode"] == 60003
    assert api.get("department/list", id="x")["errcode"] == 60003


def test_user_list_and_get_answer_only_what_a_self_built_app_gets(tree: SandboxClient, api: WeComApi) -> None:
    got = api.get("user/list", department_id=2)
    assert got["errcode"] == 0
    assert got["userlist"] == [
        {
            "userid": "alice",
            "name": "Alice",
            "department": [2],
            "order": [0],
            "position": "队长",
            "is_leader_in_dept": [0],
            "direct_leader": [],
            "status": 1,
            "main_department": 2,
        }
    ]
    assert [u["userid"] for u in api.get("user/list", department_id=2, fetch_child=1)["userlist"]] == ["alice", "bob"]
    assert api.get("user/simplelist", department_id=3)["userlist"] == [
        {"userid": "bob", "name": "Bob", "department": [4, 3]}
    ]
    bob = api.get("user/get", userid="bob")
    assert (bob["errcode"], bob["main_department"], bob["department"]) == (0, 3, [4, 3])
    assert not {"mobile", "email", "avatar", "gender", "unit", "roles"} & set(bob)  # not for apps made after 2022
    assert api.get("user/get", userid="carol")["department"] == [1]  # nobody is outside a department
    assert api.get("user/list", department_id=42)["errcode"] == 60003
    assert api.get("user/list")["errcode"] == 60003
    assert api.get("user/get", userid="mallory")["errcode"] == 60111


def test_outside_the_apps_visibility_wecom_answers_60011(tree: SandboxClient, api: WeComApi) -> None:
    tree.config(visibility_root=False, visible_parties=[2])
    assert [d["id"] for d in api.get("department/list")["department"]] == [2, 4]
    assert api.get("department/list", id=1)["errcode"] == 60011
    assert api.get("user/list", department_id=3)["errcode"] == 60011
    assert api.get("user/get", userid="carol")["errcode"] == 60011
    assert api.get("user/get", userid="bob")["errcode"] == 0  # in 一中队, under 执法一队
    assert api.get("agent/get", agentid=1000002)["allow_partys"] == {"partyid": [2]}


def test_a_member_edit_posts_change_contact_as_wecom_does(tree: SandboxClient, receiver: Receiver) -> None:
    out = tree.contact("create_user", userid="dave", name="Dave", department=[3, 2])
    assert (out["delivered"], out["statuses"]) == (True, [200])
    got = receiver.received[-1]
    assert b"<AgentID>" in got.body  # the envelope names the app; the event inside carries none
    assert got.fields == {
        "ToUserName": CORP_ID,
        "FromUserName": "sys",
        "CreateTime": str(out["create_time"]),
        "MsgType": "event",
        "Event": "change_contact",
        "ChangeType": "create_user",
        "UserID": "dave",
        "Department": "3,2",  # since 2022-08-15: UserID and Department only; the app reads the rest
    }
    tree.contact("update_user", userid="dave", new_userid="dave2", department=[2])
    assert receiver.received[-1].fields["NewUserID"] == "dave2"
    tree.config(contact_full_fields=True)
    tree.contact("update_user", userid="dave2", name="David", status=2)
    full = receiver.received[-1].fields
    assert (full["Name"], full["Status"], full["MainDepartment"]) == ("David", "2", "2")
    tree.contact("delete_user", userid="dave2")
    assert receiver.received[-1].fields["ChangeType"] == "delete_user"
    assert "dave2" not in [p["userid"] for p in tree.people()]


def test_department_edits_post_party_events(tree: SandboxClient, receiver: Receiver) -> None:
    tree.contact("create_party", id=7, name="宣传处", parentid=1, order=3)
    assert {k: receiver.received[-1].fields[k] for k in ("ChangeType", "Id", "Name", "ParentId", "Order")} == {
        "ChangeType": "create_party",
        "Id": "7",
        "Name": "宣传处",
        "ParentId": "1",
        "Order": "3",
    }
    tree.contact("update_party", id=7, name="新闻宣传处")
    assert receiver.received[-1].fields["Name"] == "新闻宣传处"
    assert "ParentId" not in receiver.received[-1].fields  # only what changed
    tree.contact("delete_party", id=7)
    assert receiver.received[-1].fields["ChangeType"] == "delete_party"
    assert 7 not in [d["id"] for d in tree.departments()]


@pytest.mark.parametrize(
    ("change", "fields", "code"),
    [
        ("create_user", {"userid": "alice", "name": "A", "department": [2]}, "60102"),
        ("create_user", {"userid": "-x", "name": "X", "department": [2]}, "40003"),
        ("create_user", {"userid": "x", "name": "", "department": [2]}, "60112"),
        ("create_user", {"userid": "x", "name": "X", "department": [99]}, "60003"),
        ("create_user", {"userid": "x", "name": "X", "department": [2], "main_department": 3}, "60003"),
        ("update_user", {"userid": "mallory", "name": "M"}, "60111"),
        ("update_user", {"userid": "alice", "new_userid": "bob"}, "60102"),
        ("delete_user", {"userid": "mallory"}, "60111"),
        ("create_party", {"id": 2, "name": "重复", "parentid": 1}, "60008"),
        ("create_party", {"name": "执法一队", "parentid": 1}, "60008"),
        ("create_party", {"name": "无父", "parentid": 77}, "60004"),
        ("create_party", {"name": "坏*名", "parentid": 1}, "60009"),
        ("update_party", {"id": 2, "parentid": 4}, "60010"),
        ("delete_party", {"id": 2}, "60005"),
        ("delete_party", {"id": 1}, "60007"),
        ("delete_party", {"id": 99}, "60003"),
    ],
)
def test_the_emulator_refuses_what_wecom_refuses(
    tree: SandboxClient, receiver: Receiver, change: str, fields: dict[str, object], code: str
) -> None:
    before = (tree.people(), tree.departments())
    with pytest.raises(SandboxError) as err:
        tree.contact(change, **fields)
    assert err.value.status == 400
    assert err.value.message.startswith(code)
    assert (tree.people(), tree.departments()) == before
    assert receiver.received == []


def test_a_department_with_sub_departments_cannot_go(tree: SandboxClient) -> None:
    tree.people([{"userid": "alice", "name": "Alice", "department": [3]}])
    with pytest.raises(SandboxError, match="60006"):
        tree.contact("delete_party", id=2)


def test_no_callback_outside_the_visibility(tree: SandboxClient, receiver: Receiver) -> None:
    tree.config(visibility_root=False, visible_parties=[2])
    out = tree.contact("create_user", userid="erin", name="Erin", department=[3])
    assert out["delivered"] is False
    assert receiver.received == []
    assert tree.contact("create_user", userid="frank", name="Frank", department=[4])["delivered"] is True
