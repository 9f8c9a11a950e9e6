"""The operations kit in deploy/: alert rules and dashboard name only metrics that exist; the backup timer, the
compose backup service and the nginx upstream say what the docs say; scheduled backups are pruned by age."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from cli import build_parser
from core import backup
from core.clock import LOCAL_TZ
from core.metrics import BUILD_INFO, GAUGE_HELP
from tools import make_dashboard

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
METRIC = re.compile(r"\b(liaowang_[a-z_]+)\b")


def exposed() -> set[str]:
    """Every series name /metrics can show: the counters (_total), the histogram's parts, the gauges, build info."""
    source = (ROOT / "core/metrics.py").read_text(encoding="utf-8")
    counters = re.findall(r'Counter\(\s*"(liaowang_\w+)"', source)
    histograms = re.findall(r'Histogram\(\s*"(liaowang_\w+)"', source)
    assert counters, "core/metrics.py defines counters"
    assert histograms, "core/metrics.py defines the lateness histogram"
    names = {f"{c}_total" for c in counters} | set(GAUGE_HELP) | {BUILD_INFO}
    return names | {f"{h}_{part}" for h in histograms for part in ("bucket", "sum", "count")}


def _rules() -> list[dict]:  # type: ignore[type-arg]
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [r for g in doc["groups"] for r in g["rules"]]


def test_every_alert_names_existing_metrics_and_says_what_to_do_in_chinese() -> None:
    names = exposed()
    rules = _rules()
    assert len(rules) >= 10
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used or "up{" in rule["expr"], rule["alert"]
        assert used <= names, f"{rule['alert']} uses {used - names}, which core/metrics.py does not expose"
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert re.search(r"[\u4e00-\u9fff]", rule["annotations"]["summary"]), f"{rule['alert']}: Chinese summary"
        assert rule["annotations"]["description"]
    covered = set().union(*(METRIC.findall(r["expr"]) for r in rules))
    wanted = {"liaowang_inbox_lag_seconds", "liaowang_outbox_pending", "liaowang_outbox_failed_total",
              "liaowang_wecom_errors_total", "liaowang_clock_lateness_seconds_bucket", "liaowang_worker_up",
              "liaowang_calendar_official_until_seconds", "liaowang_database_up", "liaowang_redis_up"}  # fmt: skip
    assert wanted <= covered, f"no alert on {wanted - covered}"


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (Debian: apt-get install prometheus)"
)
def test_promtool_accepts_the_rules_and_their_unit_tests() -> None:
    checked = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        ["promtool", "test", "rules", "alerts_test.yml"], cwd=ALERTS.parent, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_dashboard_is_current_and_queries_existing_metrics() -> None:
    text = (ROOT / "deploy/grafana/liaowang.json").read_text(encoding="utf-8")
    assert text == make_dashboard.render(), "run python3 tools/make_dashboard.py"
    board = json.loads(text)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = set().union(*(METRIC.findall(e) for e in exprs))
    assert used <= exposed(), f"the dashboard uses {used - exposed()}"
    assert {"liaowang_inbox_lag_seconds", "liaowang_outbox_pending", "liaowang_wecom_errors_total",
            "liaowang_worker_up", "liaowang_calendar_official_until_seconds", BUILD_INFO} <= used  # fmt: skip
    assert all(p["datasource"]["uid"] == "${datasource}" for p in board["panels"]), (
        "the data source is chosen on import"
    )


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, inline_comment_prefixes=("#",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((ROOT / "deploy/systemd" / name).read_text(encoding="utf-8"))
    return unit


def _liaowang_args(command: str) -> list[str]:
    """The arguments after `liaowang` in a shell command line, with ${KEEP_DAYS}-style variables given a value."""
    words = shlex.split(re.sub(r'"?\$+\{?\w+\}?"?', "30", command))
    start = next(i for i, w in enumerate(words) if w.endswith("liaowang") and not w.startswith("/var"))
    end = next((i for i, w in enumerate(words[start:], start) if w in ("||", "&&", ";") or w.endswith(";")), len(words))
    return words[start + 1 : end]


def test_the_backup_timer_runs_a_command_the_cli_accepts() -> None:
    service, timer = _unit("liaowang-backup.service"), _unit("liaowang-backup.timer")
    assert service["Service"]["Type"] == "oneshot"
    args = build_parser().parse_args(_liaowang_args(service["Service"]["ExecStart"]))
    assert args.dir == "/var/backups/liaowang"
    assert args.keep_days == 30
    assert service["Service"]["UMask"] == "0077", "backups readable by the service user only"
    assert timer["Timer"]["OnCalendar"]
    assert timer["Timer"]["Persistent"] == "true", "a backup missed while the machine was off runs at boot"


def test_the_compose_backup_service_keeps_backups_on_their_own_volume_with_retention() -> None:
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text(encoding="utf-8"))
    svc = compose["services"]["backup"]
    assert "backups:/var/backups/liaowang" in svc["volumes"]
    assert "backups" in compose["volumes"]
    args = build_parser().parse_args(_liaowang_args(svc["command"][-1]))
    assert args.dir == "/var/backups/liaowang"
    assert args.keep_days == 30
    assert svc["environment"]["BACKUP_KEEP_DAYS"] == "30"


def test_compose_runs_a_web_container_for_every_server_of_the_nginx_upstream() -> None:
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text(encoding="utf-8"))
    published = sorted(
        int(port.split(":")[1]) for svc in compose["services"].values() for port in svc.get("ports", [])
    )  # "127.0.0.1:5000:5000": the host port nginx reaches
    conf = (ROOT / "deploy/nginx/liaowang.conf").read_text(encoding="utf-8")
    upstream = re.search(r"upstream liaowang \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = sorted(int(p) for p in re.findall(r"server 127\.0\.0\.1:(\d+)", upstream.group(1)))
    assert published == servers == [5000, 5001], "two web containers, restarted one at a time behind nginx"


def test_nginx_passes_a_refused_callback_to_the_other_web_process() -> None:
    conf = (ROOT / "deploy/nginx/liaowang.conf").read_text(encoding="utf-8")
    upstream = re.search(r"upstream liaowang \{(.*?)\}", conf, re.S)
    assert upstream is not None
    assert len(re.findall(r"^\s*server ", upstream.group(1), re.M)) >= 2, "at least two web processes"
    servers = re.findall(r"^\s*server .*;", upstream.group(1), re.M)
    assert all("max_fails=0" in line for line in servers), "one failure must not take a process out (both could go)"
    callback = re.search(r"location = /wecom/callback \{(.*?)\}", conf, re.S)
    assert callback is not None
    assert re.search(r"proxy_next_upstream error timeout http_502 http_503 non_idempotent;", callback.group(1))
    web = _unit("liaowang-web@.service")["Service"]["ExecStart"]
    assert "--port %i" in web, "one unit per port: liaowang-web@5000, liaowang-web@5001"


def test_scheduled_backups_older_than_the_retention_are_deleted_and_nothing_else(tmp_path: Path) -> None:
    now = datetime(2027, 6, 15, 2, 30, tzinfo=LOCAL_TZ)
    made = {days: tmp_path / backup.dated_name(now - timedelta(days=days), sealed=days % 2 == 0) for days in range(40)}
    for p in made.values():
        p.write_bytes(b"x")
    other = tmp_path / "liaowang-manual.tar.gz"
    other.write_bytes(b"kept: not a scheduled name")
    gone = backup.prune(tmp_path, now, 30, keep=made[0])
    assert sorted(gone) == sorted(made[d] for d in range(31, 40))
    assert all(made[d].exists() for d in range(31))
    assert other.exists()
    assert backup.prune(tmp_path, now, 0, keep=made[0]) == [], "0 keeps everything"
    assert backup.dated_name(datetime(2027, 6, 14, 18, 30, tzinfo=UTC), False) == ("liaowang-20270615-023000.tar.gz"), (
        "named in Beijing time"
    )


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key, so nginx can load the TLS server block."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "yq.example.gov.cn")])
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 12, 31, tzinfo=UTC)  # valid on any test date
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(since).not_valid_after(until).sign(key, hashes.SHA256())
    )  # fmt: skip
    crt, pem = folder / "fullchain.pem", folder / "privkey.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return crt, pem


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed (Debian: apt-get install nginx-light)")
def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    crt, pem = _self_signed(tmp_path)
    site = (ROOT / "deploy/nginx/liaowang.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/liaowang/fullchain.pem", str(crt)).replace("/etc/ssl/liaowang/privkey.pem", str(pem))
    (tmp_path / "liaowang.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{k}_temp_path {tmp_path / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ access_log off; {temp} include {tmp_path / 'liaowang.conf'}; }}\n",
        encoding="utf-8",
    )
    tested = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stderr
