"""/healthz says the process is alive; /readyz checks the database, Redis and the schema, naming what fails."""

from __future__ import annotations

from pathlib import Path

import requests

from bot.app import create_app
from core.config import config_from_dict
from core.runtime import Runtime
from tests.integration.harness import CREDS, Stack


def test_a_running_stack_is_ready(stack: Stack) -> None:
    assert requests.get(stack.app_url + "/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(stack.app_url + "/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["failing"] == []


def test_an_unmigrated_database_and_a_dead_redis_are_named(tmp_path: Path) -> None:
    raw = {
        "wecom": {**CREDS, "api_base": "http://127.0.0.1:9"},
        "database": {"url": f"sqlite:///{tmp_path / 'empty.db'}"},
        "app": {"data_dir": str(tmp_path / "var")},
    }
    rt = Runtime(config_from_dict(raw, base_dir=tmp_path), _redis_url=f"unix://{tmp_path / 'no-redis.sock'}")
    app = create_app(rt)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert set(body["failing"]) == {"migrations", "redis"}
    assert "liaowang db upgrade" in body["checks"]["migrations"]
    assert app.test_client().get("/healthz").status_code == 200, "alive, though not ready"
