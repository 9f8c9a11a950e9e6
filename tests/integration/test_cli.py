"""The command line: one clear line for a bad configuration, idempotent organisation import."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import make_engine
from models import Person, Unit
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG
from tests.integration.test_processes import liaowang, write_config


@pytest.mark.parametrize(
    ("pattern", "replacement", "words"),
    [
        (r'encoding_aes_key = "\w+"', 'encoding_aes_key = "short"', "encoding_aes_key 必须是 43 个字符"),
        (r"\nsecret = ", "\nsecretx = ", "配置缺少 [wecom] secret"),
        (r'url = "unix://[^"]+"', 'url = "redis://127.0.0.1:1/0"', "[redis] url 无法连接"),
        (r'url = "sqlite:///x.db"', 'url = "postgresql://nobody@127.0.0.1:1/none"', "[database] url 无法连接"),
    ],
)
def test_bad_config_stops_with_one_line(
    tmp_path: Path, redis_url: str, pattern: str, replacement: str, words: str
) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", "sqlite:///x.db", redis_url)
    cfg.write_text(re.sub(pattern, replacement, cfg.read_text(encoding="utf-8")), encoding="utf-8")
    out = liaowang(cfg, "config")
    assert out.returncode == 2
    assert words in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_config_file(tmp_path: Path) -> None:
    out = liaowang(tmp_path / "absent.toml", "worker")
    assert out.returncode == 2
    assert "找不到配置文件" in out.stderr
    assert "Traceback" not in out.stderr


def test_db_upgrade_and_org_import_are_idempotent(tmp_path: Path, redis_url: str) -> None:
    db = tmp_path / "fresh.db"
    cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{db}", redis_url)
    assert liaowang(cfg, "db", "upgrade").returncode == 0
    assert liaowang(cfg, "db", "upgrade").returncode == 0
    first = liaowang(cfg, "org", "import", str(ORG))
    assert first.returncode == 0
    assert "16 名人员" in first.stdout
    smaller = tmp_path / "org.toml"
    smaller.write_text(ORG.read_text(encoding="utf-8").split('[[people]]\nuserid = "wuyi"')[0], encoding="utf-8")
    second = liaowang(cfg, "org", "import", str(smaller))
    assert second.returncode == 0, "wuyi and the two people after them"
    assert "停用 3 名" in second.stdout, "wuyi and the two people after them"
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        people = {p.userid: p.active for p in s.scalars(select(Person))}
        assert len(people) == 16
        assert people["wuyi"] is False
        assert people["linfang"] is False
        assert people["zhangsan"] is True
        assert s.scalar(select(Unit.name).where(Unit.key == "team1")) == "执法一队"
    engine.dispose()
    bad = tmp_path / "bad.toml"
    bad.write_text('[[people]]\nuserid = "x"\nname = "X"\nunit = "nowhere"\n', encoding="utf-8")
    out = liaowang(cfg, "org", "import", str(bad))
    assert out.returncode == 1
    assert "单位 nowhere 不在 [[units]] 中" in out.stderr


def test_calendar_check_warns_of_a_year_without_official_data_and_accepts_a_configured_one(
    tmp_path: Path, redis_url: str
) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'c.db'}", redis_url)
    late_2100 = "2100-11-20T10:00:00+08:00"  # a year no holiday package will know
    out = liaowang(cfg, "calendar", "check", "--days", "30", now=late_2100)
    assert out.returncode == 0, "the statutory holidays cover it: a warning, not a failure"
    assert "2100 年：已知 △（按《全国年节及纪念日放假办法》推算" in out.stdout
    assert "⚠ 官方节假日安排只到 20" in out.stdout, "the last official year, whichever chinese-calendar knows"
    assert "请补充 2100 年的安排" in out.stdout
    assert "[calendar.years.2100]" in out.stdout
    with cfg.open("a", encoding="utf-8") as f:
        f.write('[calendar.years.2100]\nholidays = ["2100-01-01"]\nworkdays = []\n')
    out = liaowang(cfg, "calendar", "check", "--days", "30", now=late_2100)
    assert out.returncode == 0, out.stdout
    assert "2100 年：已知 ✓（配置）" in out.stdout
    assert "到 2100-12-20" in out.stdout
    assert "⚠" not in out.stdout
    out = liaowang(cfg, "calendar", "check", "--days", "60", now=late_2100)
    assert out.returncode == 0, "the next 60 days reach into 2101, which the statute covers"
    assert "2101 年：已知 △" in out.stdout
    assert "官方节假日安排只到 2100-12-31" in out.stdout
    assert "[calendar.years.2101]" in out.stdout
    assert "[calendar.years.2100]" not in out.stdout


def test_calendar_check_reports_about_the_year_liaowang_now_names(tmp_path: Path, redis_url: str) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'c.db'}", redis_url)
    out = liaowang(cfg, "calendar", "check", "--days", "10", now="2031-02-10T09:00:00+08:00")
    assert out.stdout.splitlines()[0].startswith("2031 年："), out.stdout
    assert "到 2031-02-20" in out.stdout or "2031-02-10" in out.stdout


def test_a_malformed_liaowang_now_stops_with_one_line(tmp_path: Path, redis_url: str) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'c.db'}", redis_url)
    out = liaowang(cfg, "calendar", "check", now="2031-02-10 09:00")  # no offset: ambiguous
    assert out.returncode == 2
    assert "LIAOWANG_NOW 格式不对" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_every_migration_goes_down_and_up_again(tmp_path: Path, redis_url: str, database_url: str) -> None:
    """On the suite's database (SQLite, or PostgreSQL in the PostgreSQL suite): head → base → head, each step."""
    from sqlalchemy import inspect

    cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url)
    refused = liaowang(cfg, "db", "downgrade", "--to", "0009")
    assert refused.returncode == 1
    assert "--yes" in refused.stdout, "it says what it would drop first"
    for rev in ("0009", "0005", "0001", "base"):
        out = liaowang(cfg, "db", "downgrade", "--to", rev, "--yes")
        assert out.returncode == 0, out.stderr
    engine = make_engine(database_url)
    assert "items" not in inspect(engine).get_table_names()
    engine.dispose()
    assert liaowang(cfg, "db", "upgrade").returncode == 0
    engine = make_engine(database_url)
    assert {"items", "briefs", "statements", "patrols"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_backup_and_restore_bring_back_the_database_and_the_files(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    """On the suite's database (SQLite, or PostgreSQL through pg_dump / pg_restore in the PostgreSQL suite)."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    stored = tmp_path / "var" / "files" / "ab" / "abcdef"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"an attachment")
    out = liaowang(cfg, "backup", "--out", str(tmp_path / "b.tar.gz"))
    assert out.returncode == 0, out.stderr
    engine = make_engine(database_url)
    with Session(engine) as s, s.begin():
        s.query(Person).update({Person.name: "改过的名字"})
    stored.unlink()
    asked = liaowang(cfg, "restore", str(tmp_path / "b.tar.gz"))
    assert asked.returncode == 1
    assert "--yes" in asked.stdout, "it says what it will replace first"
    with Session(engine) as s:
        assert s.scalar(select(Person.name).where(Person.userid == "zhangsan")) == "改过的名字", "nothing changed"
    done = liaowang(cfg, "restore", str(tmp_path / "b.tar.gz"), "--yes")
    assert done.returncode == 0, done.stderr
    with Session(engine) as s:
        assert s.scalar(select(Person.name).where(Person.userid == "zhangsan")) == "张三"
    engine.dispose()
    assert stored.read_bytes() == b"an attachment"
    bad = tmp_path / "not-a-backup.tar.gz"
    bad.write_bytes(b"nonsense")
    refused = liaowang(cfg, "restore", str(bad), "--yes")
    assert refused.returncode == 2
    assert "不是瞭望的备份文件" in refused.stderr


def test_wecom_doctor_names_what_to_fix_in_the_admin_console(
    tmp_path: Path, redis_url: str, database_url: str, emulator: EmulatorServer
) -> None:
    emu = SandboxClient(emulator.url)
    emu.reset()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    first = liaowang(cfg, "wecom", "doctor")
    assert first.returncode == 1
    assert "✓ access_token" in first.stdout
    assert "✓ 应用可见范围" in first.stdout
    assert "✗ 应用菜单" in first.stdout
    assert "liaowang wecom menu" in first.stdout
    assert liaowang(cfg, "wecom", "menu").returncode == 0
    assert liaowang(cfg, "wecom", "doctor").returncode == 0
    emu.config(visibility_root=False, redirect_domain="yq.example.gov.cn")
    last = liaowang(cfg, "wecom", "doctor")
    assert last.returncode == 1
    assert "✗ 应用可见范围" in last.stdout
    assert "60011" in last.stdout
    assert "✗ 网页授权可信域名" in last.stdout
    emu.reset()
