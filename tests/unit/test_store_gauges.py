"""/metrics says which store it could not read (liaowang_database_up, liaowang_redis_up), so an outage alerts even
while the gauges read from that store are absent."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import CREDS


def _gauges(tmp_path: Path, database_url: str) -> dict[str, float]:
    from bot.app import create_app
    from core.config import config_from_dict
    from core.runtime import Runtime

    raw = {"wecom": {**CREDS, "api_base": "http://127.0.0.1:9"}, "database": {"url": database_url},
           "app": {"data_dir": str(tmp_path / "var")}}  # fmt: skip
    rt = Runtime(config_from_dict(raw, base_dir=tmp_path), _redis_url=f"unix://{tmp_path / 'no-redis.sock'}")
    text = create_app(rt).test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(True)
    return {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_a_stopped_redis_reads_as_redis_down_and_the_database_still_up(tmp_path: Path) -> None:
    from migrations import upgrade

    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    got = _gauges(tmp_path, url)
    assert got["liaowang_database_up"] == 1
    assert got["liaowang_redis_up"] == 0
    assert "liaowang_worker_up" not in got, "no worker count is made up while Redis cannot be read"
    assert got["liaowang_inbox_pending"] == 0


def test_an_unreadable_database_reads_as_database_down(tmp_path: Path) -> None:
    got = _gauges(tmp_path, f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert got["liaowang_database_up"] == 0
    assert "liaowang_inbox_pending" not in got
