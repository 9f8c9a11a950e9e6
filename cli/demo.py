"""`liaowang demo`: everything embedded — SQLite, bundled Redis, the WeCom emulator, web and worker."""

from __future__ import annotations

import argparse
import os
import secrets
import string
import sys
from pathlib import Path

import requests

from cli.children import Children, Interrupted
from core.config import Config, load_config
from core.redisconn import start_embedded, stop_embedded

DEMO_ORG = Path(__file__).with_name("demo_org.toml")
DEMO_CONTACTS = Path(__file__).with_name("demo_contacts.toml")

PHONES = "zhangsan,chenqi,wangwu,lisi"
TRY = """
瞭望演示已启动 ✔   （演示时钟加快 {scale:g} 倍：{example}；提醒、督办一分钟内可见）

  ▶ 在浏览器打开手机界面（四部手机并排：网评员、办公室、单位负责人、分管领导）：
      http://127.0.0.1:{sport}/phone?u={phones}
    其他人（局办公室 周八 zhouba、领导 刘九 liujiu、城东区局 孙十 sunshi……）在 http://127.0.0.1:{sport}/phone 选择。
  ▶ 办公室和领导的看板：在“陈七”或“刘九”的手机里点{menu_board}，或打开 http://127.0.0.1:{port}/h5/board

  试试这个流程（五分钟）：
   1. 张三：点{menu_report}，或输入  上报 微博有人发帖称执法一队执法粗暴 https://weibo.com/1/abc
   2. 陈七：收到“新舆情待交办”，输入  交办 <编号> 执法一队 较大
   3. 王五：点卡片上的“签收”；什么也不做，二十秒后会收到首报提醒，三十秒后超时，李四收到督办卡片
   4. 王五：输入  首报 <编号> 已核实  ；再点“报送书面报告”卡片上的“在聊天中填写”，发几段文字和一张图片，回复“提交”
   5. 李四：在审核卡片上点“批准”（或“退回修改”并回复意见）；卡片对所有人变成“李四 已批准”
   6. 周八（局办公室）：会商卡片上点“无不同意见”；陈七：回复来源 <编号> 已核实处理  → 办结 <编号>
   7. 张三：在“日常巡查”卡片上点“无异常”（或输入  巡查 无异常 ）；陈七：输入  巡查情况
   8. 陈七：跟帖 <编号> 张三 说明已依法处理 限10m  → 张三在“组织跟帖”卡片上点“已跟帖”，发一个链接或一张截图
   9. 王五：口径 <编号> 我局已关注到网民反映的情况，正在依法调查处理  → 李四在“统一口径”卡片上点“同意”
      → 陈七：发布 <编号> 官方微博 https://weibo.com/gov/1     （回复来源 <编号> 口径  会引用定稿的口径）
  10. 王五：考核  看本单位的扣分；陈七：{menu_stats}

  命令行也可以：python3 dev.py sandbox say zhangsan 上报 ……   /   python3 dev.py sandbox tap wangwu 签收
  数据目录：{data}（删掉即可从头再来）  配置：{cfg}
  网页/回调：http://127.0.0.1:{port}/wecom/callback   企业微信模拟器：http://127.0.0.1:{sport}
按 Ctrl-C 停止所有进程。
"""


def banner(port: int, sport: int, data: Path, scale: float, example: str) -> str:
    """The text printed once the demo runs; menu buttons are named from their one definition (workflow.people.menu)."""
    from workflow.people.menu import where

    return TRY.format(
        port=port,
        sport=sport,
        data=data,
        cfg=data / "config.toml",
        phones=PHONES,
        scale=scale,
        example=example,
        menu_board=where("舆情看板"),
        menu_report=where("上报舆情"),
        menu_stats=where("考核统计"),
    )


def _random(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


DEMO_INTAKE = """
[intake.sources.demo]
# 推送接口的演示来源：liaowang intake sample demo --send 推送一条示例舆情（docs/intake.md）
name = "演示舆情监测平台"
secret = "{secret}"
"""

DEMO_MP = """
[mp]
# 局微信公众号的演示：市民的手机在模拟器的 /phone/mp，留言成为“公众号”来源的条目（docs/intake.md）
app_id = "wxdemo{app}"
app_secret = "{secret}"
token = "{token}"
encoding_aes_key = "{key}"
api_base = "http://127.0.0.1:{sport}"
"""


def _demo_mp(sport: int) -> str:
    """The demo's [mp] section: random credentials the emulator learns from the same file."""
    return DEMO_MP.format(app=_random(10).lower(), secret=_random(32), token=_random(16), key=_random(43), sport=sport)


def write_config(data: Path, port: int, sport: int, scale: float = 60) -> Path:
    """Write the demo configuration (random secrets, emulator as api_base) unless it exists; return its path."""
    path = data / "config.toml"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if "[contacts]" not in text:  # written by an earlier version: the contact-book demo needs its mapping
            path.write_text(f'{text}\n[contacts]\nmapping = "{DEMO_CONTACTS}"\n', encoding="utf-8")
        if "[intake.sources.demo]" not in text:  # written before the intake API: the sandbox's push source
            with path.open("a", encoding="utf-8") as f:
                f.write(DEMO_INTAKE.format(secret=_random(32)))
        if "\n[mp]" not in text:  # written before the 公众号 channel
            with path.open("a", encoding="utf-8") as f:
                f.write(_demo_mp(sport))
        return path
    data.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""# 演示配置（liaowang demo 自动生成）
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
url = "sqlite:///{data / "liaowang.db"}"

[redis]
url = "embedded"

[org]
file = "{DEMO_ORG}"

[contacts]
# 通讯录同步：模拟器的部门树与 demo_org.toml 一致（liaowang contacts sync；模拟器里改通讯录会推送变更事件）
mapping = "{DEMO_CONTACTS}"

[web]
public_url = "http://127.0.0.1:{port}"
frame_ancestors = "http://127.0.0.1:{sport}"

[policy]
# 演示时钟加快的倍数（生产为 1）
scale = {scale:g}
# 办结后的善后观察：3 天、每天一次 → 演示里 72 分钟、每 24 分钟一次
follow_up_period = "3d"
follow_up_every = "1d"

[patrol]
# 演示里每天都巡查，打卡卡片一启动就发（生产缺省：工作日 15:30 发卡片、17:00 提醒、17:30 截止）
days = "every_day"
rounds = [{{ card = "00:00", remind = "23:00", due = "23:50" }}]

[sandbox]
url = "http://127.0.0.1:{sport}"
"""
        + DEMO_INTAKE.format(secret=_random(32))
        + _demo_mp(sport),
        encoding="utf-8",
    )
    return path


def _wait_http(url: str, what: str, children: Children, timeout: float = 30) -> None:
    """Wait until url answers; a child that exits meanwhile, or a silent timeout, stops the demo with one line."""

    def answers() -> bool:
        if children.any_exited():
            raise SystemExit(f"{what} 启动失败，请看上面的输出。")
        try:
            requests.get(url, timeout=1)
        except requests.RequestException:
            return False
        return True

    children.wait(timeout, until=answers)
    if not answers():
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


def _check_ports(args: argparse.Namespace) -> None:
    """Stop at once with one line if a port the demo needs is taken (the last demo may still be running)."""
    from bot.server import PortInUse, check_port

    try:
        check_port("127.0.0.1", args.port, "--port")
        check_port("127.0.0.1", args.sandbox_port, "--sandbox-port")
    except PortInUse as exc:
        raise SystemExit(str(exc)) from None


def demo(args: argparse.Namespace) -> int:
    """Start the whole demo and keep it running until Ctrl-C, then stop every process it started."""
    children = Children()
    children.install()
    _check_ports(args)
    data = Path(args.data_dir).resolve()
    cfg_path = write_config(data, args.port, args.sandbox_port, args.scale)
    os.environ["LIAOWANG_CONFIG"] = str(cfg_path)
    cfg = load_config(cfg_path)
    try:
        return _run(args, data, cfg, children)
    except Interrupted:
        print("\n正在停止 …（再按一次 Ctrl-C 立即结束）", flush=True)
        return 0
    finally:
        children.stop(on_force=lambda: print("强制结束仍在运行的进程 …", flush=True))
        stop_embedded(cfg.data_dir)
        print("演示已停止。", flush=True)


def _run(args: argparse.Namespace, data: Path, cfg: Config, children: Children) -> int:
    """Start Redis, the database, the emulator, web and worker; return when a child exits (Interrupted on Ctrl-C)."""
    from cli.commands import db_upgrade, org_import, wecom_menu
    from cli.sandbox_cmd import fast_example

    print("· 启动内置 Redis …", flush=True)
    start_embedded(cfg.data_dir)
    children.check()
    print("· 准备数据库 …", flush=True)
    db_upgrade(args)
    org_import(argparse.Namespace(file=str(DEMO_ORG)))
    py = [sys.executable, "-m", "cli"]
    children.start([*py, "sandbox", "serve", "--port", str(args.sandbox_port)])
    _wait_http(f"http://127.0.0.1:{args.sandbox_port}/", "企业微信模拟器", children)
    children.start([*py, "web", "--port", str(args.port)])
    _wait_http(f"http://127.0.0.1:{args.port}/healthz", "网页服务", children)
    children.start([*py, "worker"])
    wecom_menu(args)
    children.check()
    print(banner(args.port, args.sandbox_port, data, cfg.policy.scale, fast_example(cfg)), flush=True)
    if not args.no_browser:
        open_browser(f"http://127.0.0.1:{args.sandbox_port}/phone?u={PHONES}")
    while not children.any_exited():
        children.wait(1.0)
    print("有进程意外退出，正在停止演示 …", file=sys.stderr)
    return 1
