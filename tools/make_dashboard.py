"""Write deploy/grafana/liaowang.json, the Grafana dashboard for the metrics in core/metrics.py.

    python3 tools/make_dashboard.py          # rewrites the file; tests/unit/test_ops_kit.py checks it is current

Import it in Grafana (Dashboards → New → Import → upload) and pick the Prometheus data source when asked (the
`datasource` variable). Gauges read from the database and Redis are the same on every target, so they are shown
with max(); counters are summed over targets (one target per host, see deploy/prometheus/alerts.yml).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "liaowang.json"
DS = {"type": "prometheus", "uid": "${datasource}"}

STATS = (  # title, expression, unit, thresholds (value → colour from that value up)
    ("后台任务在线", "max(liaowang_worker_up)", "none", [(None, "red"), (1, "orange"), (2, "green")]),
    ("未处理消息", "max(liaowang_inbox_pending)", "none", [(None, "green"), (10, "orange"), (100, "red")]),
    ("最老未处理消息", "max(liaowang_inbox_lag_seconds)", "s", [(None, "green"), (30, "orange"), (300, "red")]),
    ("待发消息", "max(liaowang_outbox_pending)", "none", [(None, "green"), (50, "orange"), (200, "red")]),
    ("正在计时的时限", "max(liaowang_clocks_open)", "none", [(None, "blue")]),
    ("官方节假日安排还剩", "(max(liaowang_calendar_official_until_seconds) - time()) / 86400", "d",
     [(None, "red"), (30, "orange"), (60, "green")]),
)  # fmt: skip

SERIES = (  # title, [(expression, legend)], unit
    ("回调（每秒，按结果）", [("sum by (result) (rate(liaowang_callbacks_total[5m]))", "{{result}}")], "reqps"),
    ("收件箱：未处理与最老等待",
     [("max(liaowang_inbox_pending)", "未处理"), ("max(liaowang_inbox_lag_seconds)", "最老等待（秒）")], "short"),
    ("发件箱：待发与放弃",
     [("max(liaowang_outbox_pending)", "待发"), ("sum(increase(liaowang_outbox_failed_total[15m]))", "15 分钟内放弃")],
     "short"),
    ("企业微信接口错误（每分钟，按错误码）",
     [("sum by (errcode) (rate(liaowang_wecom_errors_total[5m])) * 60", "{{errcode}}")], "short"),
    ("时限节点触发延迟",
     [("histogram_quantile(0.5, sum by (le) (rate(liaowang_clock_lateness_seconds_bucket[10m])))", "p50"),
      ("histogram_quantile(0.99, sum by (le) (rate(liaowang_clock_lateness_seconds_bucket[10m])))", "p99")], "s"),
    ("后台任务在线与时限",
     [("max(liaowang_worker_up)", "在线 worker"), ("max(liaowang_clocks_open)", "计时中")], "short"),
    ("运行的版本（进程所在目标数）", [("count by (version) (liaowang_build_info)", "{{version}}")], "short"),
    ("数据库与 Redis 可读（1 可读，0 读不了）",
     [("min(liaowang_database_up)", "数据库"), ("min(liaowang_redis_up)", "Redis")], "short"),
)  # fmt: skip


def _thresholds(steps: list[tuple[float | None, str]]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"value": v, "color": c} for v, c in steps]}


def _stat(i: int, title: str, expr: str, unit: str, steps: list[tuple[float | None, str]]) -> dict[str, Any]:
    return {
        "id": i + 1, "type": "stat", "title": title, "datasource": DS,
        "gridPos": {"h": 4, "w": 4, "x": (i % 6) * 4, "y": 0},
        "targets": [{"refId": "A", "datasource": DS, "expr": expr, "instant": True}],
        "fieldConfig": {"defaults": {"unit": unit, "decimals": 0, "thresholds": _thresholds(steps)}, "overrides": []},
        "options": {"colorMode": "background", "graphMode": "none", "reduceOptions": {"calcs": ["lastNotNull"]}},
    }  # fmt: skip


def _series(i: int, title: str, exprs: list[tuple[str, str]], unit: str) -> dict[str, Any]:
    return {
        "id": 100 + i, "type": "timeseries", "title": title, "datasource": DS,
        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": 4 + (i // 2) * 8},
        "targets": [{"refId": chr(65 + n), "datasource": DS, "expr": e, "legendFormat": legend}
                    for n, (e, legend) in enumerate(exprs)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    }  # fmt: skip


def dashboard() -> dict[str, Any]:
    """The dashboard's JSON model."""
    return {
        "title": "瞭望 Liaowang", "uid": "liaowang", "tags": ["liaowang"], "timezone": "Asia/Shanghai",
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "description": "瞭望的收件箱、发件箱、企业微信错误、时限延迟、后台任务与节假日安排（docs/operations.md）",
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}]},
        "annotations": {"list": []},
        "panels": [*(_stat(i, *s) for i, s in enumerate(STATS)), *(_series(i, *s) for i, s in enumerate(SERIES))],
    }  # fmt: skip


def render() -> str:
    """The file's exact text."""
    return json.dumps(dashboard(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"已写入 {OUT}")
    sys.exit(0)
