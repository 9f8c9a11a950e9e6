"""Contact-book sync: a full sync (workflow and `liaowang contacts sync`), change_contact events through the real
callback path, idempotency, and refusals that change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cli.demo import DEMO_CONTACTS
from cli.sandbox_cmd import department_tree, directory
from core import clock
from core.db import make_engine
from models import AuditEvent, Person, ProcessedCallback, Unit
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG, Stack
from tests.integration.test_processes import liaowang, write_config
from workflow.people.contacts import apply_directory, fetch_directory, load_mapping
from workflow.people.org import load_org_file

TEAM2 = '\n[[departments]]\nid = 10\nunit = "team2"\nroles = ["commentator"]\n'


def people(stack: Stack) -> dict[str, tuple[str, str | None, list[str], bool]]:
    """Return userid → (name, unit key, roles, active)."""
    with stack.rt.sessions() as s:
        units = {u.id: u.key for u in s.scalars(select(Unit))}
        return {
            p.userid: (p.name, units.get(p.unit_id or 0), list(p.roles), p.active) for p in s.scalars(select(Person))
        }


def unit(stack: Stack, key: str) -> tuple[str, bool] | None:
    """Return the unit's (name, active), or None."""
    with stack.rt.sessions() as s:
        found = s.scalar(select(Unit).where(Unit.key == key))
        return (found.name, found.active) if found else None


@pytest.fixture()
def synced(make_stack: Any, tmp_path: Path) -> Stack:
    """A stack whose [contacts] mapping is the demo's plus 执法二队 (department 10 → team2)."""
    mapping = tmp_path / "contacts.toml"
    mapping.write_text(DEMO_CONTACTS.read_text(encoding="utf-8") + TEAM2, encoding="utf-8")
    stack: Stack = make_stack(extra={"contacts": {"mapping": str(mapping)}})
    return stack


def test_the_demo_mapping_matches_the_demo_organisation(synced: Stack) -> None:
    mapping = load_mapping(synced.rt.config.contacts_mapping)  # type: ignore[arg-type]
    before = people(synced)
    with synced.rt.sessions() as s, s.begin():
        report = apply_directory(s, mapping, fetch_directory(synced.rt.api, mapping), clock.now())
    assert report.unchanged == 16, "the TOML import and the contact book agree on everyone"
    assert (report.created, report.updated, report.deactivated, report.units) == (1, 0, 0, 7)  # outsider: in root
    assert report.unmapped == {1: "市城市管理综合执法局"}
    assert report.missing == [10]
    after = people(synced)
    assert {k: v for k, v in after.items() if k != "outsider"} == before
    assert after["outsider"] == ("局外人", None, [], True)


def test_a_new_member_can_report_at_once(synced: Stack) -> None:
    out = synced.emu.contact("create_user", userid="xiaoming", name="小明", department=[4])
    assert out["statuses"] == [200]
    synced.drain()
    assert people(synced)["xiaoming"] == ("小明", "team1", ["commentator"], True)
    synced.say("xiaoming", "上报 微博有人称执法一队乱停车 https://weibo.com/2/x")
    assert "编号 YQ-" in synced.last("xiaoming")


def test_a_deleted_member_is_deactivated_and_no_longer_reminded(synced: Stack) -> None:
    synced.say("zhangsan", "上报 测试停用")
    code = synced.last("zhangsan").split("编号 ")[1].split("。")[0]
    synced.say("chenqi", f"交办 {code} 执法一队 较大")
    assert synced.inbox("wangwu"), "王五 got the 签收 card"
    mapping = synced.rt.config.contacts_mapping
    assert mapping is not None
    with mapping.open("a", encoding="utf-8") as f:  # a second lead: the last one is kept (test_contacts_guard.py)
        f.write('\n[[people]]\nuserid = "xiaowang"\nroles = ["unit_lead"]\n')
    synced.emu.contact("create_user", userid="xiaowang", name="小王", department=[4])
    synced.drain()
    changes = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "contact_person")
    with synced.rt.sessions() as s:
        before = s.scalar(changes)
    synced.emu.contact("delete_user", userid="wangwu")
    synced.drain()
    assert people(synced)["wangwu"][3] is False
    with synced.rt.sessions() as s:
        assert s.scalar(changes) == (before or 0) + 1
    since = synced.emu.cursor()
    synced.later(6 * 3600)  # far past the 签收 clock: reminders and escalation are due
    told = {r["userid"] for r in synced.emu.inbox(None, since)}
    assert "wangwu" not in told, "a deactivated person is sent nothing"
    assert told, "the clock did fire (others were told)"
    since = synced.emu.cursor()
    synced.say("wangwu", "我的待办")  # refused as an outsider, or (members cached for 5 s) stored and ignored
    answered = synced.texts("wangwu", since)
    if answered:  # refused at the door
        assert len(answered) == 1
        assert "不在瞭望系统的组织名单中" in answered[0]
    else:  # let in by the cached member list: stored, and handled without acting or answering
        with synced.rt.sessions() as s:
            mine = select(ProcessedCallback).where(ProcessedCallback.userid == "wangwu")
            latest = s.scalars(mine.order_by(ProcessedCallback.id.desc())).first()
        assert latest is not None
        assert latest.state == "done"
        assert latest.payload["content"] == "我的待办"
    synced.emu.contact("create_user", userid="wangwu", name="王五", department=[4])
    synced.drain()
    assert people(synced)["wangwu"] == ("王五", "team1", ["unit_lead"], True), "re-created: reactivated"


def test_a_wecom_outage_while_applying_an_event_is_waited_out(synced: Stack) -> None:
    synced.emu.fault("user/get", errcode=45009, times=8)  # longer than a person's message would be retried
    synced.emu.contact("create_user", userid="xiaohong", name="小红", department=[4])
    synced.drain()
    assert "xiaohong" not in people(synced)
    for _ in range(12):
        synced.later(300)
    assert people(synced)["xiaohong"] == ("小红", "team1", ["commentator"], True), "applied once WeCom answered"


def test_an_update_moves_and_renames_from_what_wecom_shows(synced: Stack) -> None:
    synced.emu.contact("update_user", userid="zhangsan", name="张三丰", department=[5])
    synced.drain()
    assert people(synced)["zhangsan"] == ("张三丰", "legal", [], True), "法制处 gives no default role"
    synced.emu.contact("update_user", userid="wuyi", status=2)  # disabled in WeCom
    synced.drain()
    assert people(synced)["wuyi"][3] is False
    synced.emu.contact("update_user", userid="linfang", new_userid="linfang2")
    synced.drain()
    got = people(synced)
    assert "linfang" not in got, "the person moved to the new account (tests/integration/test_contacts_guard.py)"
    assert got["linfang2"] == ("林芳", "xishan", ["commentator"], True)


def test_party_events_create_rename_and_retire_a_unit(synced: Stack) -> None:
    synced.emu.contact("create_party", id=10, name="执法二队", parentid=1)
    synced.drain()
    assert unit(synced, "team2") == ("执法二队", True)
    synced.emu.contact("update_party", id=10, name="执法二大队")
    synced.drain()
    assert unit(synced, "team2") == ("执法二大队", True)
    synced.emu.contact("create_user", userid="xiaohong", name="小红", department=[10])
    synced.emu.contact("update_user", userid="xiaohong", department=[4])
    synced.drain()
    assert people(synced)["xiaohong"] == ("小红", "team1", ["commentator"], True)
    synced.emu.contact("delete_party", id=10)
    synced.drain()
    assert unit(synced, "team2") == ("执法二大队", False), "kept with its history, no longer offered"
    synced.emu.contact("create_party", id=11, name="无人映射", parentid=1)
    synced.drain()
    assert unit(synced, "team2") == ("执法二大队", False)


def test_a_retried_event_counts_once_and_two_events_in_one_second_count_twice(synced: Stack) -> None:
    out = synced.emu.contact("create_user", userid="xiaoli", name="小李", department=[7], replay=3)
    assert out["statuses"] == [200, 200, 200]
    synced.emu.contact("create_user", userid="xiaozhao", name="小赵", department=[8])  # the same CreateTime
    synced.emu.contact("update_user", userid="xiaozhao", position="网评员")  # same second, same user, new content
    synced.drain()
    with synced.rt.sessions() as s:
        rows = list(s.scalars(select(ProcessedCallback).where(ProcessedCallback.userid == "sys")))
        assert len(rows) == 3
        assert all(r.state == "done" for r in rows)
        created = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact_person", AuditEvent.after == "created")
        )
        assert sorted(e.detail["userid"] for e in created) == ["xiaoli", "xiaozhao"]
    got = people(synced)
    assert got["xiaoli"] == ("小李", "chengdong", ["commentator"], True)
    assert got["xiaozhao"] == ("小赵", "xishan", ["commentator"], True)


def test_events_are_ignored_while_sync_is_off(stack: Stack) -> None:
    stack.emu.contact("delete_user", userid="wangwu")
    stack.drain()
    assert people(stack)["wangwu"][3] is True


# the command line -----------------------------------------------------------------------------------------
def _scene(emulator: EmulatorServer) -> SandboxClient:
    emu = SandboxClient(emulator.url)
    emu.reset()
    org = load_org_file(ORG)
    emu.departments(department_tree(org))
    emu.people(directory(org))
    return emu


def _count(db: Path) -> tuple[int, int, int]:
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        counts = (
            s.scalar(select(func.count()).select_from(Person).where(Person.active.is_(True))) or 0,
            s.scalar(select(func.count()).select_from(Unit)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )
    engine.dispose()
    return counts


def test_contacts_sync_command(tmp_path: Path, redis_url: str, emulator: EmulatorServer) -> None:
    emu = _scene(emulator)
    db = tmp_path / "sync.db"
    extra = f'[contacts]\nmapping = "{DEMO_CONTACTS}"\n'
    cfg = write_config(tmp_path, emulator.url, f"sqlite:///{db}", redis_url, extra=extra)
    assert liaowang(cfg, "db", "upgrade").returncode == 0
    dry = liaowang(cfg, "contacts", "sync", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["created"] == 16
    assert _count(db) == (0, 0, 0), "a dry run writes nothing"
    first = liaowang(cfg, "contacts", "sync")
    assert first.returncode == 0, first.stderr
    assert "企业微信通讯录：9 个部门、16 名成员" in first.stdout
    assert "对应单位 7 个；人员新增 16" in first.stdout
    assert "未映射的部门" not in first.stdout
    assert _count(db)[:2] == (16, 7)
    again = liaowang(cfg, "contacts", "sync", "--json")
    assert json.loads(again.stdout)["unchanged"] == 16
    emu.people([{"userid": "stranger", "name": "路人"}], merge=True)  # in the root department, unmapped
    emu.contact("delete_user", userid="wuyi")  # no callback URL: only the next sync sees it
    third = liaowang(cfg, "contacts", "sync")
    assert "新增 1" in third.stdout
    assert "停用 1" in third.stdout
    assert "未映射的部门（其成员没有所属单位）：市城市管理综合执法局（1）" in third.stdout
    before = _count(db)
    leaving = sorted(p["userid"] for p in emu.people() if p["userid"] != "stranger")[:10]
    for userid in leaving:  # e.g. the app's visibility narrowed by mistake: most people vanish from the sync
        emu.contact("delete_user", userid=userid)
    refused = liaowang(cfg, "contacts", "sync")
    assert refused.returncode == 1
    assert "同步会停用现有 16 人中的 10 人" in refused.stderr
    assert "--force" in refused.stderr
    assert _count(db) == before, "refused: nothing changed"
    forced = liaowang(cfg, "contacts", "sync", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "停用 10" in forced.stdout


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[departments]]\nid = 2\nunit = 3\n", "部门 2 的 unit 必须是单位 key"),
        ('[[departments]]\nid = 2\nunit = "a"\n[[departments]]\nid = 2\nunit = "b"\n', "出现了两次"),
        ('[[people]]\nuserid = "x"\nroles = ["boss"]\n', "人员 x 的角色无效：boss"),
        ("[sync]\ndepartments = []\n", "[sync] departments 必须是部门 id"),
        ('[[departments]]\nid = 2\nunit = "a"\nkind = "x"\n', "kind 必须是"),
        ('[[departments]]\nid = 2\nunit = "a"\nsupervisor = "p"\n[[departments]]\nid = 3\nunit = "a"\n', "不一致"),
        ("[units]\n", "不认识的表"),
        ("not toml [", "无法读取通讯录映射文件"),
    ],
)
def test_a_bad_mapping_is_refused_with_exit_2_and_changes_nothing(
    tmp_path: Path, redis_url: str, emulator: EmulatorServer, text: str, words: str
) -> None:
    _scene(emulator)
    db = tmp_path / "bad.db"
    cfg = write_config(tmp_path, emulator.url, f"sqlite:///{db}", redis_url)
    assert liaowang(cfg, "db", "upgrade").returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    out = liaowang(cfg, "contacts", "sync", "--mapping", str(bad))
    assert out.returncode == 2
    assert words in out.stderr
    assert "Traceback" not in out.stderr
    assert _count(db) == (0, 0, 0)
    assert liaowang(cfg, "contacts", "sync").returncode == 2, "no [contacts] mapping configured"


def test_a_wecom_refusal_exits_1_with_a_sentence(tmp_path: Path, redis_url: str, emulator: EmulatorServer) -> None:
    emu = _scene(emulator)
    emu.config(visibility_root=False, visible_parties=[4])
    db = tmp_path / "refused.db"
    cfg = write_config(tmp_path, emulator.url, f"sqlite:///{db}", redis_url)
    assert liaowang(cfg, "db", "upgrade").returncode == 0
    out = liaowang(cfg, "contacts", "sync", "--mapping", str(DEMO_CONTACTS))
    assert out.returncode == 1
    assert "错误码 60011" in out.stderr
    assert "可见范围" in out.stderr
    assert _count(db) == (0, 0, 0)
