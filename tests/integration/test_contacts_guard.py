"""The office is never cut off silently: a contact change that would empty a post the procedure needs keeps the last
holder and tells the leaders and the office; a WeCom userid change moves the person with their roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cli.demo import DEMO_CONTACTS
from core import clock
from models import Person, Unit
from tests.integration.harness import Stack
from workflow.people.contacts import apply_directory, fetch_directory, load_mapping

WARNING = "【通讯录变更：岗位不能空缺】"


@pytest.fixture()
def synced(make_stack: Any, tmp_path: Path) -> Stack:
    """A stack whose [contacts] mapping is the demo's."""
    mapping = tmp_path / "contacts.toml"
    mapping.write_text(DEMO_CONTACTS.read_text(encoding="utf-8"), encoding="utf-8")
    stack: Stack = make_stack(extra={"contacts": {"mapping": str(mapping)}})
    return stack


def person(stack: Stack, userid: str) -> tuple[bool, list[str]] | None:
    """(active, roles) of the person, or None."""
    with stack.rt.sessions() as s:
        p = s.scalar(select(Person).where(Person.userid == userid))
        return (p.active, list(p.roles)) if p else None


def warnings(stack: Stack, userid: str, since: int) -> list[str]:
    return [t for t in stack.texts(userid, since) if WARNING in t]


def _code(stack: Stack, reporter: str, title: str) -> str:
    stack.say(reporter, f"上报 {title}")
    return stack.last(reporter).split("编号 ")[1].split("。")[0]


def test_deleting_both_office_members_keeps_the_last_and_tells_leaders_and_office_once(synced: Stack) -> None:
    since = synced.emu.cursor()
    synced.emu.contact("delete_user", userid="chenqi")
    synced.drain()
    assert person(synced, "chenqi") == (False, ["office"]), "何敏 is still the office: 陈七 simply leaves"
    assert not warnings(synced, "liujiu", since)
    synced.emu.contact("delete_user", userid="hemin")
    synced.drain()
    assert person(synced, "hemin") == (True, ["office", "commentator"]), "the last office member is kept"
    for userid in ("liujiu", "yangguang"):  # 何敏 is gone from WeCom: the message cannot reach her
        told = warnings(synced, userid, since)
        assert len(told) == 1, userid
        assert "领导小组办公室：何敏（hemin）已从企业微信通讯录删除或停用" in told[0]
        assert "liaowang contacts sync" in told[0]
    assert not warnings(synced, "zhangsan", since), "only the leaders and the office are told"
    since = synced.emu.cursor()
    code = _code(synced, "zhangsan", "办公室被删之后的上报")
    for leader in ("liujiu", "yangguang"):
        assert any(code in t for t in synced.texts(leader, since)), "the office is unreachable: the leaders are told"


def test_removing_a_units_only_lead_or_its_supervisor_keeps_them(synced: Stack) -> None:
    since = synced.emu.cursor()
    synced.emu.contact("update_user", userid="sunshi", department=[8])  # 城东区局's only lead moves to 西山县局
    synced.drain()
    assert person(synced, "sunshi") == (True, ["unit_lead"])
    with synced.rt.sessions() as s:
        chengdong = s.scalar(select(Unit).where(Unit.key == "chengdong"))
        assert chengdong is not None
        sunshi = s.scalar(select(Person).where(Person.userid == "sunshi"))
        assert sunshi is not None
        assert sunshi.unit_id == chengdong.id, "kept as 城东区局's lead until someone else is"
    told = warnings(synced, "liujiu", since)
    assert len(told) == 1
    assert "城东区局的负责人：孙十（sunshi）已不再担任这个岗位" in told[0]
    synced.emu.contact("delete_user", userid="qianhong")  # 宣传处's 分管领导
    synced.drain()
    assert person(synced, "qianhong") == (True, ["supervisor"])
    assert any("宣传处的分管领导：钱红（qianhong）" in t for t in warnings(synced, "chenqi", since))


def test_a_supervisor_whose_userid_changes_keeps_roles_units_and_escalations(synced: Stack) -> None:
    code = _code(synced, "zhangsan", "账号改名后的督办")
    synced.say("chenqi", f"交办 {code} 执法一队 较大")
    synced.say("wangwu", f"签收 {code}")
    synced.emu.contact("update_user", userid="lisi", new_userid="lisi2")
    synced.drain()
    assert person(synced, "lisi") is None, "moved, not duplicated"
    assert person(synced, "lisi2") == (True, ["supervisor"])
    with synced.rt.sessions() as s:
        sups = set(s.scalars(select(Unit.supervisor_userid).where(Unit.key.in_(["team1", "legal"]))))
    assert sups == {"lisi2"}
    since = synced.emu.cursor()
    synced.later(35 * 60)  # the 首报 clock (30 minutes) runs out: 执法一队's 分管领导 is told
    assert any("【超时】首报" in t for t in synced.texts("lisi2", since)), "the supervisor is reached under the new id"
    mapping = load_mapping(synced.rt.config.contacts_mapping)  # type: ignore[arg-type]
    with synced.rt.sessions() as s, s.begin():  # the mapping still says "lisi": a full sync follows the rename
        report = apply_directory(s, mapping, fetch_directory(synced.rt.api, mapping), clock.now())
    assert report.kept == []
    assert person(synced, "lisi2") == (True, ["supervisor"])
    with synced.rt.sessions() as s:
        assert set(s.scalars(select(Unit.supervisor_userid).where(Unit.key == "team1"))) == {"lisi2"}


def test_a_report_while_the_office_is_empty_goes_to_the_leaders(stack: Stack) -> None:
    with stack.rt.sessions() as s, s.begin():  # an organisation file without any office member
        for p in s.scalars(select(Person)):
            p.roles = [r for r in p.roles if r != "office"]
    since = stack.emu.cursor()
    code = _code(stack, "zhangsan", "办公室空缺时的上报")
    for leader in ("liujiu", "yangguang"):
        assert any(code in t for t in stack.texts(leader, since)), leader
