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

PHONES = "zhangsan,chenqi,wangwu,lisi"
TRY = """
瞭望演示已启动 ✔   （演示时钟加快 {scale:g} 倍：{example}；提醒、督办一分钟内可见）

  ▶ 在浏览器打开手机界面（四部手机并排：网评员、办公室、单位负责人、分管领导）：
      http://127.0.0.1:{sport}/phone?u={phones}
    其他人（局办公室 周八 zhouba、领导 刘九 liujiu、城东区局 孙十 sunshi……）在 http://127.0.0.1:{sport}/phone 选择。
  ▶ 办公室和领导的看板：在“陈七”或“刘九”的手机里点菜单“更多 → 舆情看板”，或打开 http://127.0.0.1:{port}/h5/board

  试试这个流程（五分钟）：
   1. 张三：点菜单“上报舆情”，或输入  上报 微博有人发帖称执法一队执法粗暴 https://weibo.com/1/abc
   2. 陈七：收到“新舆情待交办”，输入  交办 <编号> 执法一队 较大
   3. 王五：点卡片上的“签收”；什么也不做，二十秒后会收到首报提醒，三十秒后超时，李四收到督办卡片
   4. 王五：输入  首报 <编号> 已核实  ；再点“报送书面报告”卡片上的“在聊天中填写”，发几段文字和一张图片，回复“提交”
   5. 李四：在审核卡片上点“批准”（或“退回修改”并回复意见）；卡片对所有人变成“李四 已批准”
   6. 周八（局办公室）：会商卡片上点“无不同意见”；陈七：回复来源 <编号> 已核实处理  → 办结 <编号>

  命令行也可以：python3 dev.py sandbox say zhangsan 上报 ……   /   python3 dev.py sandbox tap wangwu 签收
  数据目录：{data}（删掉即可从头再来）  配置：{cfg}
  网页/回调：http://127.0.0.1:{port}/wecom/callback   企业微信模拟器：http://127.0.0.1:{sport}
按 Ctrl-C 停止所有进程。
"""


def _random(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def write_config(data: Path, port: int, sport: int, scale: float = 60) -> Path:
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
frame_ancestors = "http://127.0.0.1:{sport}"

[policy]
# 演示时钟加快的倍数（生产为 1）
scale = {scale:g}
# 办结后的善后观察：3 天、每天一次 → 演示里 72 分钟、每 24 分钟一次
follow_up_period = "3d"
follow_up_every = "1d"

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


def open_browser(url: str) -> bool:
    """Open url in the desktop's browser when there is a desktop (never a text browser in this terminal)."""
    import webbrowser

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("darwin", "win32")):
        return False
    try:
        return webbrowser.open(url, new=1)
    except webbrowser.Error:
        return False


def demo(args: argparse.Namespace) -> int:
    """Start the whole demo and keep it running until Ctrl-C, then stop every process it started."""
    from core.config import load_config
    from core.redisconn import start_embedded, stop_embedded

    data = Path(args.data_dir).resolve()
    cfg_path = write_config(data, args.port, args.sandbox_port, args.scale)
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
        from cli.commands import wecom_menu

        wecom_menu(args)
        from cli.sandbox_cmd import fast_example

        print(TRY.format(port=args.port, sport=args.sandbox_port, data=data, cfg=cfg_path, phones=PHONES,
                         scale=cfg.policy.scale, example=fast_example(cfg)), flush=True)
        if not args.no_browser:
            open_browser(f"http://127.0.0.1:{args.sandbox_port}/phone?u={PHONES}")
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
