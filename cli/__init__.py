"""The `liaowang` command line."""

from __future__ import annotations

import argparse
import logging
import sys

from core import clock, logs
from core.config import ConfigError


class _Version(argparse.Action):
    """`liaowang --version`: print the release (core.version) and exit; the version is read only when asked."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        from core.version import version

        print(f"liaowang {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command."""
    from cli import assess_cmd, calendar_cmd, commands, contacts_cmd, demo, doctor, intake_cmd, items_cmd, sandbox_cmd

    p = argparse.ArgumentParser(prog="liaowang", description="瞭望：企业微信舆情处置应用")
    p.add_argument("--version", action=_Version, help="打印版本号并退出")
    sub = p.add_subparsers(dest="cmd", required=True)
    db = sub.add_parser("db", help="数据库").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="升级数据库结构到最新").set_defaults(func=commands.db_upgrade)
    down = db.add_parser("downgrade", help="把数据库结构退回到某个版本（会删除之后版本的表，须 --yes）")
    down.add_argument("--to", required=True, help="版本号，如 0009；base 表示全部删除")
    down.add_argument("--yes", action="store_true", help="确实退回")
    down.set_defaults(func=commands.db_downgrade)
    bk = sub.add_parser("backup", help="备份数据库和文件目录（附件、案卷）到一个 tar.gz")
    where = bk.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE.tar.gz")
    where.add_argument("--dir", help="写到这个目录，文件名带时间（liaowang-YYYYMMDD-HHMMSS.tar.gz，加密时加 .enc）")
    bk.add_argument(
        "--keep-days", type=int, default=0, help="与 --dir 同用：删除该目录里超过这么多天的定时备份（0 不删）"
    )
    bk.add_argument("--key-file", help="用这个密钥文件加密备份（缺省用 [backup] key_file；都没有则不加密）")
    bk.set_defaults(func=commands.backup)
    bkey = sub.add_parser("backup-key", help="生成备份加密密钥文件（256 位随机，仅属主可读；不覆盖已有文件）")
    bkey.add_argument("--out", required=True, metavar="FILE")
    bkey.set_defaults(func=commands.backup_key)
    rs = sub.add_parser("restore", help="从备份恢复数据库和文件目录（须 --yes）")
    rs.add_argument("file", metavar="FILE.tar.gz")
    rs.add_argument("--yes", action="store_true", help="确实恢复（会替换当前数据库）")
    rs.add_argument("--dry-run", action="store_true", help="只核对备份并列出将替换和新增的内容，不做改动")
    rs.add_argument("--trust-unsigned", action="store_true", help="接受未签名或别处签名的备份（会打印警告）")
    rs.add_argument("--key-file", help="加密备份的密钥文件（缺省用 [backup] key_file）")
    rs.set_defaults(func=commands.restore)
    org = sub.add_parser("org", help="组织名单").add_subparsers(dest="sub", required=True)
    imp = org.add_parser("import", help="从 TOML 文件导入组织名单（可重复执行；缺省用 [org] file）")
    imp.add_argument("file", nargs="?")
    imp.set_defaults(func=commands.org_import)
    web = sub.add_parser("web", help="启动网页服务（回调地址 /wecom/callback）")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=5000)
    web.add_argument("--workers", type=int, default=2)
    web.add_argument("--threads", type=int, default=8)
    web.set_defaults(func=commands.web)
    worker = sub.add_parser("worker", help="启动后台任务进程（含定时调度与补偿扫描）")
    worker.add_argument("--burst", action="store_true", help="处理完队列后退出")
    worker.set_defaults(func=commands.worker)
    wecom = sub.add_parser("wecom", help="企业微信").add_subparsers(dest="sub", required=True)
    wecom.add_parser("menu", help="创建应用菜单").set_defaults(func=commands.wecom_menu)
    wecom.add_parser("doctor", help="对照企业微信接口检查管理后台的设置（可见范围、可信域名、菜单……）").set_defaults(
        func=doctor.doctor
    )
    sub.add_parser("config", help="打印生效的配置（密钥遮盖、每项来源）并检查 Redis 和数据库").set_defaults(
        func=commands.config_check
    )
    keys = sub.add_parser("config-keys", help="从 config.example.toml 生成 core/config_keys.py（环境变量覆盖的键表）")
    keys.add_argument("--write", metavar="FILE", help="写入文件（core/config_keys.py），缺省打印")
    keys.set_defaults(func=commands.config_keys)
    d = sub.add_parser("demo", help="一键演示：内置 Redis、SQLite、企业微信模拟器、网页和后台任务")
    d.add_argument("--port", type=int, default=5000)
    d.add_argument("--sandbox-port", type=int, default=5050)
    d.add_argument("--data-dir", default="var/demo")
    d.add_argument("--scale", type=float, default=60, help="演示时钟加快的倍数（第一次生成演示配置时写入）")
    d.add_argument("--no-browser", action="store_true", help="不自动打开浏览器（有桌面时缺省会打开手机界面）")
    d.set_defaults(func=demo.demo)
    sandbox_cmd.add_parser(sub)
    contacts_cmd.add_parser(sub)
    calendar_cmd.add_parser(sub)
    assess_cmd.add_parsers(sub)
    assess_cmd.add_record_parsers(sub)
    assess_cmd.add_brief_parser(sub)
    items_cmd.add_parser(sub)
    intake_cmd.add_parser(sub)
    life = sub.add_parser("lifecycle", help="从动作表生成条目生命周期图（Mermaid）与动作表")
    life.add_argument("--write", metavar="FILE", help="写入文件（如 docs/lifecycle.md），缺省打印")
    life.set_defaults(func=commands.lifecycle)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; configuration problems print one line and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        clock.check_env()
    except clock.ClockSettingError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
