"""/metrics: counters summed over every gunicorn and worker process of a host, shared gauges read at scrape time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from sandbox.client import SandboxClient
from sandbox.render import describe
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG, Stack
from tests.integration.test_processes import ROOT, _free_port, child_env, liaowang, wait_healthz, write_config


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of the exposition at url, keyed by (name, sorted labels)."""
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _wait(check, what: str, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)  # polling other processes, not timing anything


def test_counters_are_summed_over_processes_and_gauges_read_the_shared_state(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port, worker_port = _free_port(), _free_port()
    extra = f"[metrics]\nworker_port = {worker_port}"  # the default directory: [app] data_dir/metrics/<host>
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, port, extra=extra)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    env = child_env(cfg)
    web = subprocess.Popen(
        [sys.executable, "-m", "cli", "web", "--port", str(port), "--workers", "2"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    worker, second = (
        subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
        for _ in range(2)
    )  # fmt: skip
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people([{"userid": u, "name": u} for u in ("zhangsan", "lisi", "chenqi")])
    emu.set_callback(f"http://127.0.0.1:{port}/wecom/callback")
    web_metrics, worker_metrics = f"http://127.0.0.1:{port}/metrics", f"http://127.0.0.1:{worker_port}/metrics"
    try:
        wait_healthz(port, web)
        since = emu.cursor()
        emu.fault("message/send", errcode=45009, times=1)  # one reply is refused once (frequency), then retried
        for i in range(4):
            emu.say("zhangsan" if i % 2 else "lisi", f"上报 指标测试第{i + 1}条 https://example.cn/m/{i}")
        emu.say("zhangsan", "帮助", replay=2)  # WeCom sent it twice: one stored, one duplicate
        refused = requests.post(f"http://127.0.0.1:{port}/wecom/callback?msg_signature=x&timestamp=1&nonce=1",
                                data=b"<xml/>", timeout=5)  # fmt: skip
        assert refused.status_code >= 400
        _wait(lambda: sum("舆情处置助手" in describe(r) for r in emu.inbox("zhangsan", since)) == 1, "the help reply")
        _wait(lambda: scrape(web_metrics).get(("liaowang_outbox_pending", ()), 1) == 0, "the outbox to drain")

        seen = [scrape(web_metrics) for _ in range(4)]  # any of the two gunicorn workers answers: all agree
        for samples in seen:
            assert _value(samples, "liaowang_callbacks_total", result="stored") == 5
            assert _value(samples, "liaowang_callbacks_total", result="duplicate") == 1
            assert _value(samples, "liaowang_callbacks_total", result="refused") == 1
            assert _value(samples, "liaowang_wecom_errors_total", errcode="45009") == 1, "counted in the worker"
            assert _value(samples, "liaowang_inbox_pending") == 0
            assert _value(samples, "liaowang_inbox_lag_seconds") == 0
            assert _value(samples, "liaowang_clocks_open") >= 4, "each report's 首报 clock is running"
            assert _value(samples, "liaowang_worker_up") == 2, "the second worker lives although the port was taken"
            assert _value(samples, "liaowang_outbox_failed_total") == 0
        own = scrape(worker_metrics)
        assert _value(own, "liaowang_callbacks_total", result="stored") == 5, "the worker's port sums the host too"
        assert _value(own, "liaowang_worker_up") == 2

        worker.terminate()
        worker.wait(20)
        assert _value(scrape(web_metrics), "liaowang_worker_up") == 1, "a stopped worker is no longer counted"
        assert second.poll() is None
    finally:
        for p in (web, worker, second):
            p.terminate()
        for p in (web, worker, second):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_a_threshold_that_fires_is_observed_with_its_lateness(stack: Stack) -> None:
    before = scrape(stack.app_url + "/metrics")
    stack.say("zhangsan", "上报 时限指标")
    code = stack.last("zhangsan").split("编号 ")[1].split("。")[0]
    stack.say("chenqi", f"交办 {code} 执法一队 一般")
    stack.later(3 * 3600)  # past every threshold of the 签收 and 首报 clocks
    after = scrape(stack.app_url + "/metrics")
    fired = _value(after, "liaowang_clock_lateness_seconds_count") - _value(
        before, "liaowang_clock_lateness_seconds_count"
    )
    assert fired >= 1
    late = _value(after, "liaowang_clock_lateness_seconds_bucket", le="+Inf") - _value(
        after, "liaowang_clock_lateness_seconds_bucket", le="1800.0"
    )
    assert late >= 1, "thresholds passed while nobody swept are observed as hours late, not on time"
