"""`liaowang demo`: everything embedded — SQLite, bundled Redis, the WeCom emulator, web and worker."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import string
import subprocess
import sys
import time
from pathlib import Path

import requests

DEMO_ORG = Path(__file__).with_name("demo_org.toml")

TRY = """
瞭望演示已启动 ✔
  网页/回调：http://127.0.0.1:{port}/wecom/callback
  企业微信模拟器：http://127.0.0.1:{sport}
  数据目录：{data}

另开一个终端试试（张三=网评员，陈七=办公室，王五=执法一队负责人，周八=局办公室）：
  python3 dev.py sandbox say zhangsan 上报 微博有人发帖称执法一队执法粗暴 https://weibo.com/1/abc
  python3 dev.py sandbox say chenqi 交办 <编号> 执法一队 较大
  python3 dev.py sandbox tap wangwu 签收
  python3 dev.py sandbox say wangwu 我的待办
  python3 dev.py sandbox say zhangsan 查询 <编号>
（配置文件：{cfg}；在本目录下没有 config.toml 时，各命令会自动使用它）
按 Ctrl-C 停止所有进程。
"""


def _random(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def write_config(data: Path, port: int, sport: int) -> Path:
    """Write the demo configuration (random secrets, emulator as api_base) unless it exists; return its path."""
    path = data / "config.toml"
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""# 演示配置（liaowang demo 自动生成）
[wecom]
corp_id = "wwdemo{_random(10).lower()}"
agent_id = 1000002
secret = "{_random(43)}"
token = "{_random(16)}"
encoding_aes_key = "{_random(43)}"
api_base = "http://127.0.0.1:{sport}"
oauth_base = "http://127.0.0.1:{sport}"

[app]
data_dir = "{data}"

[database]
url = "sqlite:///{data / 'liaowang.db'}"

[redis]
url = "embedded"

[org]
file = "{DEMO_ORG}"

[web]
public_url = "http://127.0.0.1:{port}"

[sandbox]
url = "http://127.0.0.1:{sport}"
""", encoding="utf-8")
    return path


def _wait_http(url: str, what: str, procs: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise SystemExit(f"{what} 启动失败，请看上面的输出。")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{what} 在 {timeout:.0f} 秒内没有启动。")


def demo(args: argparse.Namespace) -> int:
    """Start the whole demo and keep it running until Ctrl-C, then stop every process it started."""
    from core.config import load_config
    from core.redisconn import start_embedded, stop_embedded

    data = Path(args.data_dir).resolve()
    cfg_path = write_config(data, args.port, args.sandbox_port)
    os.environ["LIAOWANG_CONFIG"] = str(cfg_path)
    cfg = load_config(cfg_path)
    print("· 启动内置 Redis …", flush=True)
    start_embedded(cfg.data_dir)
    from cli.commands import db_upgrade, org_import

    print("· 准备数据库 …", flush=True)
    db_upgrade(args)
    org_import(argparse.Namespace(file=str(DEMO_ORG)))
    py = [sys.executable, "-m", "cli"]
    procs: list[subprocess.Popen[bytes]] = []
    stopping: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: stopping.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    try:
        procs.append(subprocess.Popen([*py, "sandbox", "serve", "--port", str(args.sandbox_port)]))
        _wait_http(f"http://127.0.0.1:{args.sandbox_port}/", "企业微信模拟器", procs)
        procs.append(subprocess.Popen([*py, "web", "--port", str(args.port)]))
        _wait_http(f"http://127.0.0.1:{args.port}/healthz", "网页服务", procs)
        procs.append(subprocess.Popen([*py, "worker"]))
        print(TRY.format(port=args.port, sport=args.sandbox_port, data=data, cfg=cfg_path), flush=True)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.3)
        time.sleep(0.3)  # a Ctrl-C reaches the children too; let its signal arrive here before judging
        if stopping:
            print("\n正在停止 …", flush=True)
            return 0
        print("有进程意外退出，正在停止演示 …", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        _stop(procs)
        stop_embedded(cfg.data_dir)
        print("演示已停止。", flush=True)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
