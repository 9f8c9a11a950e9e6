"""Operations: one upload limit, quiet health checks and commands, one menu, a group that says it is not heard."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import requests

from bot.app import create_app
from core.config import config_from_dict, load_config
from handlers.router import CLICKS
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.flowkit import dispatched, item_of
from tests.integration.h5kit import Browser
from tests.integration.harness import CREDS, Stack
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_record import POLICY, archived

ROOT = Path(__file__).resolve().parents[2]
THIRD_PARTY_INFO = re.compile(r"INFO (alembic|fontTools|matplotlib|PIL|fpdf)[\w.]*:")


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch (as tests/integration/test_record.py)."""
    return make_stack(pages=True, extra={"policy": POLICY})


def read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def test_readyz_logs_no_third_party_lines(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        ready = requests.get(stack.app_url + "/readyz", timeout=5)
        assert ready.status_code == 200
    noisy = [r for r in caplog.records if r.name.split(".")[0] in ("alembic", "fontTools")]
    assert noisy == [], [f"{r.name}: {r.getMessage()}" for r in noisy]


def test_backup_and_archive_print_only_our_own_lines(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = archived(st)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    commands = (
        ("archive", code, "--out", str(tmp_path / "a.zip")),
        ("backup", "--out", str(tmp_path / "b.tar.gz")),
        ("db", "upgrade"),  # what the demo runs first
    )
    for args in commands:
        out = liaowang(cfg, *args)
        assert out.returncode == 0, out.stderr
        assert not THIRD_PARTY_INFO.search(out.stderr), out.stderr
        assert not THIRD_PARTY_INFO.search(out.stdout), out.stdout
    assert "sha256" in liaowang(cfg, "archive", code, "--out", str(tmp_path / "c.zip")).stdout, "ours still speak"


def test_one_upload_limit_in_nginx_the_app_and_the_docs(tmp_path: Path) -> None:
    from core.config import MAX_REQUEST_MB

    nginx = re.findall(r"client_max_body_size\s+(\d+)m;", read("deploy/nginx/liaowang.conf"))
    assert nginx == [str(MAX_REQUEST_MB)], "the nginx example lets through what the app accepts"
    assert f"max_request_mb = {MAX_REQUEST_MB}" in read("config.example.toml")
    for doc in ("docs/h5.md", "docs/deploy.md", "docs/operations.md"):
        text = read(doc)
        sizes = set(re.findall(r"client_max_body_size (\d+)m", text)) | set(re.findall(r"上限是 (\d+) MB", text))
        assert sizes == {str(MAX_REQUEST_MB)}, (doc, sizes)
    raw = {
        "wecom": {"corp_id": "ww1", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "k" * 43},
        "database": {"url": f"sqlite:///{tmp_path / 'x.db'}"},
        "app": {"data_dir": str(tmp_path / "var")},
    }
    assert config_from_dict(raw, base_dir=tmp_path).max_request_mb == MAX_REQUEST_MB
    smaller = config_from_dict({**raw, "web": {"max_request_mb": 30}}, base_dir=tmp_path)
    assert smaller.max_request_mb == 30, "one value to change, in the config"


def test_the_app_takes_its_upload_limit_from_the_config(make_stack) -> None:  # type: ignore[no-untyped-def]
    small = make_stack(pages=True, extra={"web": {"max_request_mb": 1}})
    code = dispatched(small)
    browser = Browser(small)
    form = browser.login("wangwu", f"/h5/upload/{code}")
    answer = browser.post(
        f"/h5/upload/{code}", {"csrf": browser.csrf(form), "text": ""}, [("a.pdf", b"%PDF-" + b"x" * (2 << 20))]
    )
    assert answer.status_code == 413
    assert "超过 1 MB" in answer.text
    assert create_app(small.rt).config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_the_image_has_the_postgresql_client_for_backups() -> None:
    dockerfile = read("deploy/Dockerfile")
    assert re.search(r"apt-get install[^\n]*postgresql-client", dockerfile)
    assert "pg_dump --version" in dockerfile
    assert "pg_restore --version" in dockerfile


def test_the_menu_is_defined_once_and_quoted_from_there(stack: Stack) -> None:
    from cli.demo import banner
    from workflow.people.menu import MENU, click_keys, menu_json, paths, summary

    assert summary() == "上报舆情 / 我的待办 / 更多（舆情看板、舆情台账、考核统计、帮助）"
    assert click_keys() <= set(CLICKS), "every click button has a handler"
    stack.rt.api.create_menu(menu_json(stack.rt.config))
    created = stack.rt.api.call("get", "menu/get", params={"agentid": stack.rt.config.wecom.agent_id})
    names = [b["name"] for b in created["button"]]
    assert names == [b.name for b in MENU], "WeCom holds the defined menu"
    shown = banner(5000, 5050, Path("/tmp/demo"), 60, "首报 30 分钟 = 30 秒")
    texts = {"README.md": read("README.md"), "demo banner": shown}
    for doc in ("docs/h5.md", "docs/assessment.md", "docs/team.md"):
        texts[doc] = read(doc)
    for where, text in texts.items():
        for quoted in re.findall(r"菜单“([^”]+)”", text):
            assert quoted in paths().values(), f"{where} names a menu button that does not exist: {quoted}"
    readme = texts["README.md"]
    assert f"liaowang wecom menu` | 通过 API 创建应用菜单：{summary()}" in readme
    assert "上报舆情 / 我的待办 / 帮助" not in readme, "the old three-button menu is gone"
    for name in ("舆情看板", "上报舆情", "考核统计"):
        assert f"菜单“{paths()[name]}”" in shown, name


def test_wecom_menu_creates_the_defined_menu(
    tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    from core.config import MAX_REQUEST_MB
    from workflow.people.menu import summary

    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    emu = SandboxClient(emulator.url)
    emu.reset()
    old = {"button": [{"type": "click", "name": n, "key": k} for n, k in (("上报舆情", "REPORT"), ("帮助", "HELP"))]}
    token = requests.get(
        emulator.url + "/cgi-bin/gettoken",
        params={"corpid": CREDS["corp_id"], "corpsecret": CREDS["secret"]},
        timeout=5,
    ).json()["access_token"]
    made = requests.post(
        emulator.url + "/cgi-bin/menu/create",
        params={"access_token": token, "agentid": CREDS["agent_id"]},
        json=old,
        timeout=5,
    )
    assert made.json()["errcode"] == 0  # the menu an earlier version (or a hand in the console) made
    stale = liaowang(cfg, "wecom", "doctor")
    assert "✗ 应用菜单" in stale.stdout
    assert summary() in stale.stdout, "the doctor names the menu it expects"
    out = liaowang(cfg, "wecom", "menu")
    assert out.returncode == 0, out.stderr
    assert summary() in out.stdout
    assert f"✓ 应用菜单：应用菜单已创建：{summary()}" in liaowang(cfg, "wecom", "doctor").stdout
    assert load_config(cfg).max_request_mb == MAX_REQUEST_MB


def test_the_group_intro_says_the_app_does_not_hear_the_group(stack: Stack) -> None:
    code = dispatched(stack, grade="重大")
    item = item_of(stack, code)
    intro = next(r["body"]["text"]["content"] for r in stack.inbox("liujiu") if r.get("chatid") == item.chat_id)
    assert "一事一群" in intro
    assert "瞭望收不到" in intro, intro
    assert "“瞭望”应用会话" in intro, "it says where to act"
    stack.emu.group_say("liujiu", str(item.chat_id), f"{code} 首报：已核实")
    stack.drain()
    with stack.rt.sessions() as s:
        from sqlalchemy import func, select

        from models import AuditEvent

        firsts = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "first_report"))
    assert firsts == 0, "words typed in the group reach no one but its members"


def test_help_and_the_readme_name_every_command_and_only_real_ones(stack: Stack) -> None:
    from handlers.router import COMMANDS

    primary: dict[object, str] = {}
    for word, route in COMMANDS.items():
        primary.setdefault(route.handler, word)  # the first word a command is registered under
    helps = {}
    for userid in ("zhangsan", "wangwu", "chenqi", "lisi", "liujiu", "zhouba"):
        stack.say(userid, "帮助 全部")  # the whole syntax; 帮助 alone is short
        helps[userid] = stack.reply(userid)
    everything = "\n".join(helps.values())
    assert [w for w in primary.values() if w not in everything] == [], "every command is in someone's 帮助"
    for userid, text in helps.items():
        for used in re.findall(r"([\u4e00-\u9fff]+) <(?:编号|事项编号)>", text):
            assert used in COMMANDS, f"{userid}'s 帮助 names {used}, which is no command"
    readme = read("README.md")
    assert [w for w in primary.values() if f"`{w}" not in readme] == [], "and in the README's table"
    for used in re.findall(r"`([\u4e00-\u9fff]+) <(?:编号|事项编号)>", readme):
        assert used in COMMANDS, f"README names {used}, which is no command"
    lead = helps["wangwu"]
    assert len(lead) <= 700, f"a unit lead's 帮助 stays short ({len(lead)} characters)"
    assert "【承办】" in lead
    assert "【书面报告】" in lead, "grouped by what they do"
