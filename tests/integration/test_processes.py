"""The real processes: `liaowang web` (gunicorn) and `liaowang worker` (RQ) run the loop end to end."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.db import make_engine
from models import Item, Person
from sandbox.client import SandboxClient
from sandbox.render import describe
from sandbox.server import EmulatorServer
from tests.integration.harness import CREDS, ORG

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PATROL_OFF = "[patrol]\nenabled = false  # its cards would interleave with what these tests read"
CALENDAR_QUIET = "[calendar]\nweekly_notice = false  # likewise the office's notice while next year is unknown"


def write_config(
    tmp: Path, emulator_url: str, database_url: str, redis_url: str, port: int = 5000, extra: str = ""
) -> Path:
    """Write a config.toml for subprocesses (plus extra TOML) and return its path."""
    path = tmp / "config.toml"
    w = CREDS
    path.write_text(
        f"""
[wecom]
corp_id = "{w["corp_id"]}"
agent_id = {w["agent_id"]}
secret = "{w["secret"]}"
token = "{w["token"]}"
encoding_aes_key = "{w["encoding_aes_key"]}"
api_base = "{emulator_url}"
[database]
url = "{database_url}"
[redis]
url = "{redis_url}"
[app]
data_dir = "{tmp / "var"}"
[org]
file = "{ORG}"
[web]
public_url = "http://127.0.0.1:{port}"
[sandbox]
url = "{emulator_url}"
[worker]
sweep_interval = "1s"
{"" if "[patrol]" in extra else PATROL_OFF}
{"" if "[calendar]" in extra else CALENDAR_QUIET}
{extra}
""",
        encoding="utf-8",
    )
    return path


def child_env(cfg: Path | None = None, now: str = "", **extra: str) -> dict[str, str]:
    """Return the environment of a process a test starts: its clock starts at the test's clock (or at now)."""
    env = {**os.environ, **extra}
    env.pop("LIAOWANG_NOW_SINCE", None)
    env["LIAOWANG_NOW"] = now or clock.now().isoformat()
    if cfg is not None:
        env["LIAOWANG_CONFIG"] = str(cfg)
    return env


def liaowang(cfg: Path, *args: str, timeout: float = 60, now: str = "") -> subprocess.CompletedProcess[str]:
    """Run the liaowang command line with this config (at LIAOWANG_NOW = now if given) and return its result."""
    env = child_env(cfg, now)
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def wait_healthz(port: int, web: subprocess.Popen[bytes]) -> None:
    """Wait until `liaowang web` answers /healthz (it is starting gunicorn), or fail if it died."""
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return
        except requests.RequestException:
            assert web.poll() is None, "liaowang web exited"
            time.sleep(0.1)  # waiting for gunicorn to bind, not timing anything
    raise AssertionError("liaowang web did not start")


@pytest.fixture()
def processes(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[SandboxClient, Path]]:
    """Start `liaowang web` and `liaowang worker` as processes against a fresh database."""
    port = _free_port()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, port)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    env = child_env(cfg)
    web = subprocess.Popen(
        [sys.executable, "-m", "cli", "web", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people([{"userid": u, "name": u} for u in ("zhangsan", "chenqi", "wangwu", "zhouba", "lisi")])
    emu.set_callback(f"http://127.0.0.1:{port}/wecom/callback")
    try:
        wait_healthz(port, web)
        yield emu, cfg
    finally:
        for p in (web, worker):
            p.terminate()
        for p in (web, worker):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait_text(emu: SandboxClient, userid: str, since: int, words: str) -> str:
    recs = emu.wait_for(userid, since=since, timeout=15, predicate=lambda r: words in describe(r))
    return describe(recs[-1])


def test_loop_through_real_web_and_worker_processes(processes: tuple[SandboxClient, Path]) -> None:
    emu, _cfg = processes
    since = emu.cursor()
    emu.say("zhangsan", "上报 进程级端到端测试 https://example.cn/post/1")
    reply = _wait_text(emu, "zhangsan", since, "编号")
    code = reply.split("编号 ")[1].split("。")[0]
    _wait_text(emu, "chenqi", since, code)
    since = emu.cursor()
    emu.say("chenqi", f"交办 {code} 执法一队 重大")
    card_rec = emu.wait_for("wangwu", since=since, timeout=15, predicate=lambda r: r["msgtype"] == "template_card")[-1]
    card = card_rec["body"]["template_card"]
    since = emu.cursor()
    emu.card_click("wangwu", card["task_id"], card["button_list"][0]["key"])
    _wait_text(emu, "wangwu", since, "王五 已签收")
    _wait_text(emu, "zhangsan", since, "已由执法一队签收")


def test_menu_command_creates_the_menu(processes: tuple[SandboxClient, Path], emulator: EmulatorServer) -> None:
    _emu, cfg = processes
    out = liaowang(cfg, "wecom", "menu")
    assert out.returncode == 0, out.stderr
    assert "应用菜单已创建" in out.stdout
    token = requests.get(
        f"{emulator.url}/cgi-bin/gettoken",
        timeout=5,
        params={"corpid": CREDS["corp_id"], "corpsecret": CREDS["secret"]},
    ).json()["access_token"]
    menu = requests.get(
        f"{emulator.url}/cgi-bin/menu/get", timeout=5, params={"access_token": token, "agentid": CREDS["agent_id"]}
    ).json()
    keys = [b.get("key") for b in menu["button"]]
    assert keys == ["REPORT", "TODO", None]
    more = {b["name"]: b for b in menu["button"][2]["sub_button"]}
    assert more["帮助"]["key"] == "HELP"
    assert "/connect/oauth2/authorize" in more["舆情看板"]["url"]


def test_sandbox_say_and_tap_act_as_people_and_print_what_everyone_received(
    processes: tuple[SandboxClient, Path],
) -> None:
    _emu, cfg = processes
    out = liaowang(cfg, "sandbox", "say", "zhangsan", "上报", "命令行上报测试")
    assert out.returncode == 0, out.stderr
    code = re.search(r"YQ-\d{8}-\d{3}", out.stdout).group(0)  # type: ignore[union-attr]
    out = liaowang(cfg, "sandbox", "say", "chenqi", "交办", code, "执法一队")
    assert "按钮：签收" in out.stdout
    out = liaowang(cfg, "sandbox", "tap", "wangwu", "签收")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "已签收" in out.stdout, out.stdout + out.stderr
    again = liaowang(cfg, "sandbox", "tap", "wangwu", "签收")
    assert again.returncode != 0
    assert "没有带“签收”按钮的卡片" in again.stderr


def _reply_to(record: dict[str, object]) -> bool:
    return "已收到您的上报" in describe(record)  # type: ignore[arg-type]


def test_two_web_and_two_worker_processes_share_one_database_and_one_redis(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Scale-out: callbacks reach either web process; either worker handles them; each exactly once, in order."""
    ports = [_free_port(), _free_port()]
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, ports[0])
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    env = child_env(cfg)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "web", "--port", str(p), "--workers", "2"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for p in ports
    ] + [
        subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]  # fmt: skip
    people = ["zhangsan", "hemin", "linfang", "mali", "wuyi", "zhouba", "sunshi", "lisi"]
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people([{"userid": u, "name": u} for u in people])
    try:
        for p, proc in zip(ports, procs, strict=False):
            wait_healthz(p, proc)
        since = emu.cursor()
        sent = 0
        for round_ in range(3):
            for i, userid in enumerate(people):
                emu.set_callback(f"http://127.0.0.1:{ports[(i + round_) % 2]}/wecom/callback")
                emu.say(userid, f"上报 多进程第{round_ + 1}轮 {userid} https://example.cn/scale/{round_}/{userid}")
                sent += 1
        codes: list[str] = []
        for userid in people:
            deadline = time.monotonic() + 30
            replies: list[str] = []
            while len(replies) < 3 and time.monotonic() < deadline:
                replies = [describe(r) for r in emu.inbox(userid, since) if _reply_to(r)]
                time.sleep(0.2)  # polling the emulator for the replies of other processes, not timing anything
            mine = [re.search(r"YQ-\d{8}-\d{3}", t).group(0) for t in replies]  # type: ignore[union-attr]
            assert len(mine) == 3, f"{userid}: each of 3 reports answered once: {replies}"
            codes += mine
        assert len(set(codes)) == sent, "every report is its own item"
        engine = make_engine(database_url)
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Item)) == sent, "no report lost or doubled"
            for userid in people:  # each person's messages were handled in the order sent (codes count up)
                rows = s.execute(
                    select(Item.text).join(Person, Person.id == Item.reporter_id).where(Person.userid == userid)
                    .order_by(Item.code)
                ).scalars().all()  # fmt: skip
                assert [int(re.search(r"第(\d)轮", t).group(1)) for t in rows] == [1, 2, 3], userid  # type: ignore[union-attr]
        engine.dispose()
        assert all(p.poll() is None for p in procs), "every process is still up"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_json_logs_carry_the_request_id_and_ids_but_never_what_people_wrote(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    cfg = write_config(
        tmp_path, emulator.url, database_url, redis_url, port, extra='[log]\nformat = "json"\nlevel = "debug"'
    )
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    web = subprocess.Popen(
        [sys.executable, "-m", "cli", "web", "--port", str(port), "--workers", "1"],
        env=child_env(cfg), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people([{"userid": "zhangsan", "name": "张三"}])
    emu.set_callback(f"http://127.0.0.1:{port}/wecom/callback")
    try:
        wait_healthz(port, web)
        answer = requests.get(f"http://127.0.0.1:{port}/readyz", headers={"X-Request-Id": "req-42"}, timeout=5)
        assert answer.headers["X-Request-Id"] == "req-42"
        emu.say("zhangsan", "上报 一段不应出现在日志里的私密文字")
    finally:
        web.terminate()
        _out, err = web.communicate(timeout=15)
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    stored = [x for x in lines if x["msg"] == "callback stored"]
    assert len(stored) == 1, err.decode()[-2000:]
    assert stored[0]["userid"] == "zhangsan"
    assert stored[0]["key"].startswith("msg:")
    assert len(stored[0]["request_id"]) >= 8, "each request has an id"
    assert "私密文字" not in err.decode(), "what people write is never logged"
