"""The everyday sub-commands: db upgrade, org import, web, worker, wecom menu, config check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import clock
from core.config import Config, ConfigError, load_config
from core.runtime import Runtime
from wiring import wire

if TYPE_CHECKING:
    from core.backup import Plan


def menu(config: Config) -> dict[str, Any]:
    """Return the app menu/create body, from its one definition (workflow.people.menu.MENU)."""
    from workflow.people.menu import menu_json

    return menu_json(config)


def _rt() -> Runtime:
    return wire(Runtime(load_config()), queue=False)


def db_upgrade(_args: argparse.Namespace) -> int:
    """Apply every migration to [database] url."""
    from migrations import upgrade

    cfg = load_config()
    upgrade(cfg.database_url)
    print(f"数据库已是最新结构：{cfg.database_url.split('@')[-1]}")
    return 0


def db_downgrade(args: argparse.Namespace) -> int:
    """Take [database] url back to --to (a revision such as 0009), after saying what it will drop."""
    from migrations import downgrade

    cfg = load_config()
    if not args.yes:
        print(f"将把数据库退回到 {args.to}：之后版本建的表和数据会被删除（先备份）。确认请加 --yes。")
        return 1
    downgrade(cfg.database_url, args.to)
    print(f"数据库已退回到 {args.to}：{cfg.database_url.split('@')[-1]}")
    return 0


def org_import(args: argparse.Namespace) -> int:
    """Import the organisation TOML file (idempotent; people no longer listed are deactivated)."""
    from workflow.people.org import OrgFileError, import_org, load_org_file

    rt = _rt()
    path = Path(args.file) if args.file else rt.config.org_file
    if path is None:
        print("请给出组织名单文件，或在配置 [org] file 中指定。", file=sys.stderr)
        return 1
    try:
        data = load_org_file(path)
    except OrgFileError as exc:
        print(f"导入失败：{exc}", file=sys.stderr)
        return 1
    with rt.sessions() as s, s.begin():
        counts = import_org(s, data, clock.now())
    print(
        f"已导入 {counts['units']} 个单位、{counts['people']} 名人员；停用 {counts['deactivated']} 名不在名单中的人员。"
    )
    return 0


def web(args: argparse.Namespace) -> int:
    """Serve the app with gunicorn (gthread workers)."""
    from bot.server import PortInUse, check_port, serve_gunicorn
    from wiring import web_app

    cfg = load_config()
    try:
        check_port(args.host, args.port)
    except PortInUse as exc:
        print(exc, file=sys.stderr)
        return 1
    Runtime(cfg).check()
    print(f"瞭望网页服务：http://{args.host}:{args.port}/wecom/callback")
    serve_gunicorn(lambda: web_app(Runtime(cfg)), args.host, args.port, args.workers, args.threads)
    return 0


def worker(args: argparse.Namespace) -> int:
    """Run the RQ worker with its scheduler and the periodic sweep."""
    from wiring import run_worker

    rt = Runtime(load_config())
    rt.check()
    print("瞭望后台任务已启动（Ctrl-C 停止）")
    run_worker(rt, burst=args.burst)
    return 0


def wecom_menu(_args: argparse.Namespace) -> int:
    """Create the app menu (workflow.people.menu.MENU) through the WeCom API."""
    from core.wecom import WecomError
    from workflow.people.menu import summary

    rt = _rt()
    try:
        rt.api.create_menu(menu(rt.config))
    except WecomError as exc:
        print(f"创建菜单失败：{exc}", file=sys.stderr)
        return 1
    print(f"应用菜单已创建：{summary()}")
    return 0


def config_check(_args: argparse.Namespace) -> int:
    """Print the effective configuration (secrets masked, each value's source), then check Redis and the database."""
    from core import envconfig

    cfg = load_config()
    rows = envconfig.effective(cfg.raw, cfg.sources)
    width = max(len(k) for k, _v, _s in rows)
    for key, value, source in rows:
        print(f"{key:<{width}}  {value}  ← {source}")
    Runtime(cfg).check()
    print(f"配置有效：corp_id={cfg.wecom.corp_id} agent_id={cfg.wecom.agent_id} api_base={cfg.wecom.api_base}")
    return 0


def config_keys(args: argparse.Namespace) -> int:
    """Print (or write) core/config_keys.py from config.example.toml."""
    from core.envconfig import keys_module

    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    return _print_or_write(keys_module(example.read_text(encoding="utf-8")), args.write)


def lifecycle(args: argparse.Namespace) -> int:
    """Print (or write) the item lifecycle drawn from the declared procedure."""
    from models.procedure import lifecycle_doc

    return _print_or_write(lifecycle_doc(), args.write)


def _print_or_write(text: str, path: str | None) -> int:
    """Write a generated file to path, or print it."""
    if path:
        Path(path).write_text(text, encoding="utf-8")
        print(f"已写入 {path}")
    else:
        print(text, end="")
    return 0


def backup(args: argparse.Namespace) -> int:
    """Write the database and the files to --out, or to a dated file in --dir (pruning it with --keep-days)."""
    if args.keep_days and not args.dir:
        raise ConfigError("--keep-days 只能和 --dir 一起用（只删除该目录里按时间命名的定时备份）")
    from core import backup as b
    from migrations import current

    cfg = load_config()
    from core.db import make_engine

    engine = make_engine(cfg.database_url)
    with engine.connect() as c:
        revision = current(c)
    engine.dispose()
    key = b.encryption_key(cfg, args.key_file)
    now = clock.now()
    out = Path(args.out) if args.out else Path(args.dir) / b.dated_name(now, key is not None)
    manifest = b.backup(cfg, out, revision, now, key=key)
    sealed = "，已加密（AES-256-GCM）" if key is not None else ""
    print(f"已备份到 {out}：{manifest['database']} 数据库（结构版本 {revision}）和文件目录{sealed}")
    if args.dir:
        for gone in b.prune(Path(args.dir), now, args.keep_days, out):
            print(f"已删除超过 {args.keep_days} 天的备份 {gone.name}")
    return 0


def backup_key(args: argparse.Namespace) -> int:
    """Write a new random backup encryption key file (never overwriting one)."""
    from core import backup as b

    b.make_key_file(Path(args.out))
    print(f"已生成备份密钥 {args.out}（仅属主可读）。在 [backup] key_file 写上它的绝对路径；另存一份在安全的地方：")
    print("没有它，加密的备份无法恢复。")
    return 0


def restore(args: argparse.Namespace) -> int:
    """Verify a backup, say what it would change, and put it back only with --yes (never with --dry-run)."""
    from core import backup as b

    cfg = load_config()
    try:
        key = b.encryption_key(cfg, args.key_file)
        plan = b.check(cfg, Path(args.file), trust_unsigned=args.trust_unsigned, key=key)
    except ConfigError as exc:
        print(f"没有恢复：{exc}", file=sys.stderr)
        return 2
    if plan.warning:
        print(f"警告：{plan.warning}。因为加了 --trust-unsigned，仍按可信处理。", file=sys.stderr)
    _show_plan(args.file, cfg.database_url, plan)
    if args.dry_run:
        print("（--dry-run：只检查，没有做任何改动）")
        return 0
    if not args.yes:
        print("确认请加 --yes。")
        return 1
    b.restore(cfg, Path(args.file), trust_unsigned=args.trust_unsigned, key=key)
    print("已恢复。请运行 liaowang db upgrade 把结构升到当前版本，再启动网页和后台任务。")
    return 0


def _show_plan(file: str, database_url: str, plan: Plan) -> None:
    """Print what a verified backup would replace and add."""
    m = plan.manifest
    print(
        f"备份 {file} 已核对（{m['made_at']}，{m['database']}，结构版本 {m['revision']}）。"
        f"恢复将替换当前数据库 {database_url.split('@')[-1]}；"
        f"文件目录：新增 {len(plan.new)} 个、覆盖 {len(plan.changed)} 个、相同 {plan.same} 个（现有的其他文件不删）。"
    )
    for name in plan.changed[:50]:
        print(f"  覆盖 {name}")
    for name in plan.new[:50]:
        print(f"  新增 {name}")
    hidden = max(0, len(plan.changed) - 50) + max(0, len(plan.new) - 50)
    if hidden:
        print(f"  ……另有 {hidden} 个")
