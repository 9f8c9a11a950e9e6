"""One fault, one line: a lost Redis or a full disk is logged once when it starts and once when it ends per process,
without tracebacks (RQ's scheduler included); metrics files of finished processes are folded together."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from models import Item, ProcessedCallback
from models.clock import ClockFiring
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG
from tests.integration.test_outages import PEOPLE, OwnRedis, Running, _until
from tests.integration.test_processes import ROOT, _free_port, child_env, liaowang, wait_healthz, write_config


def test_a_redis_outage_is_one_line_at_its_start_and_one_at_its_end_per_process(
    running: tuple[Running, OwnRedis],
) -> None:
    st, redis = running
    since = st.emu.cursor()
    st.emu.say("zhangsan", "上报 Redis 停机前的条目")
    code = st.wait_text("zhangsan", since, "编号").split("编号 ")[1].split("。")[0]
    st.emu.say("chenqi", f"交办 {code} 执法一队 一般")
    st.wait_text("wangwu", since, "签收")
    redis.stop()
    since = st.emu.cursor()
    st.emu.say("sunshi", "上报 Redis 停机时的条目")
    _until(lambda: st.count(select(func.count()).select_from(Item)) == 2, 20, "a report made while Redis was down")
    pending = select(func.count()).select_from(ProcessedCallback).where(ProcessedCallback.state != "done")
    _until(lambda: st.count(pending) == 0, 20, "handled while Redis was down")
    fired = select(func.count()).select_from(ClockFiring).where(ClockFiring.name == "due")
    _until(lambda: st.count(fired) == 1, 30, "the clock fired while Redis was down (every loop met the outage)")
    redis.start()
    st.wait_text("sunshi", since, "已收到您的上报")
    st.wait_text("wangwu", since, "超时")
    _until(lambda: "已恢复" in st.log(), 15, "the end of the outage is logged:\n" + st.log()[-4000:])
    time.sleep(1.5)  # let every loop of the worker make one more round after the end line (none may log again)
    log = st.log()
    assert log.count("Redis不可用") == 1, log[-3000:]
    assert log.count("Redis已恢复") == 1, log[-3000:]
    assert "Traceback" not in log, "no traceback at info level, RQ's scheduler included"
    assert "Scheduler [PID" not in log, "RQ's scheduler child is gone: the scheduler is a loop of the worker"
    web = st.log("web")
    assert "Traceback" not in web
    assert web.count("Redis不可用") <= 2, "at most one line per web process (two gunicorn workers)"


def _mount_tiny(where: Path) -> None:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): the full-disk path is tested where it can")


def _fill(where: Path) -> Path:
    """Fill the file system at where; return the filler file."""
    filler = where / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_under_the_web_is_one_line_per_process_without_tracebacks(
    emulator: EmulatorServer, redis_url: str, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    _mount_tiny(disk)
    web: subprocess.Popen[bytes] | None = None
    try:
        port = _free_port()
        cfg = write_config(tmp_path, emulator.url, f"sqlite:///{disk / 'liaowang.db'}", redis_url, port)
        assert liaowang(cfg, "db", "upgrade").returncode == 0
        assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
        emu = SandboxClient(emulator.url)
        emu.reset()
        emu.people([{"userid": u, "name": u} for u in PEOPLE])
        emu.set_callback(f"http://127.0.0.1:{port}/wecom/callback")
        log = tmp_path / "web.log"
        with log.open("ab") as out:
            web = subprocess.Popen([sys.executable, "-m", "cli", "web", "--port", str(port), "--workers", "1"],
                                   env=child_env(cfg), cwd=ROOT, stdout=out, stderr=out)  # fmt: skip
        wait_healthz(port, web)
        filler = _fill(disk)
        answers = [emu.say("zhangsan", f"上报 磁盘满时的第{i}条 https://example.cn/d/{i}") for i in range(20)]
        assert any(500 in a["statuses"] for a in answers), answers[-1]
        text = log.read_text(errors="replace")
        assert text.count("磁盘不可用") == 1, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
        filler.unlink()
        assert emu.say("zhangsan", "上报 磁盘腾出之后 https://example.cn/d/ok")["statuses"][-1] == 200
        text = log.read_text(errors="replace")
        assert text.count("磁盘已恢复") == 1, text[-3000:]
        assert text.count("磁盘不可用") == 1
    finally:
        if web is not None:
            web.terminate()
            web.wait(20)
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _refused(port: int) -> None:
    url = f"http://127.0.0.1:{port}/wecom/callback?msg_signature=x&timestamp=1&nonce=1"
    assert requests.post(url, data=b"<xml/>", timeout=5).status_code >= 400


def _scrape(port: int, name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(
        s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name and s.labels.get("result") == "refused"
    )


def test_metrics_files_of_finished_processes_are_folded_and_totals_kept(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, port)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    folder = (
        next(iter((tmp_path / "var" / "metrics").glob("*")), None) if (tmp_path / "var" / "metrics").exists() else None
    )
    for round_ in range(3):  # three lives of the web, one refused callback each
        args = [sys.executable, "-m", "cli", "web", "--port", str(port), "--workers", "1"]
        web = subprocess.Popen(args, env=child_env(cfg), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthz(port, web)
            _refused(port)
            assert _scrape(port, "liaowang_callbacks_total") == round_ + 1, "the totals of finished processes stay"
        finally:
            web.terminate()
            web.wait(20)
    for _ in range(3):
        assert liaowang(cfg, "worker", "--burst").returncode == 0
    folder = next((tmp_path / "var" / "metrics").iterdir())
    files = sorted(f.name for f in folder.glob("*.db"))
    assert len(files) <= 4, files  # the merged counter and histogram, and the last process's own two
    assert "counter_merged.db" in files
