"""`liaowang bulletin` (the monthly bulletin in any form, or sent) and `liaowang export items`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core import clock


def add_parsers(sub: Any) -> None:
    """Register the bulletin and export sub-commands."""
    b = sub.add_parser("bulletin", help="月考核通报：打印、导出或发送任一月份的通报")
    b.add_argument("--month", required=True, help="月份，如 2026-11")
    b.add_argument("--format", choices=("text", "json", "xlsx", "png"), default="text")
    b.add_argument("--out", metavar="FILE", help="写入文件（xlsx、png 必须指定）")
    b.add_argument("--send", action="store_true", help="发送给领导和办公室（每月只发一次，重复执行不会重发）")
    b.set_defaults(func=bulletin)
    e = sub.add_parser("export", help="导出").add_subparsers(dest="sub", required=True)
    items = e.add_parser("items", help="导出条目及其时限、扣分事项")
    items.add_argument("--from", dest="start", required=True, help="开始日期，如 2026-11-01")
    items.add_argument("--to", dest="end", required=True, help="结束日期（含），如 2026-11-30")
    items.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    items.add_argument("--out", metavar="FILE", required=True)
    items.set_defaults(func=export_items)


def _rt() -> Any:
    from cli.commands import _rt as make

    return make()


def bulletin(args: argparse.Namespace) -> int:
    """Print or write the bulletin of --month in --format; --send sends it once (idempotent per month)."""
    from workflow import bulletin as b
    from workflow import bulletin_files
    from workflow.errors import Refusal

    rt, now = _rt(), clock.now()
    if args.format in ("xlsx", "png") and not args.out:
        print(f"--format {args.format} 需要 --out 文件名", file=sys.stderr)
        return 2
    try:
        with rt.sessions() as s, s.begin():
            fig = b.figures(s, rt.config, args.month, now)
            sent = b.send(s, rt.config, args.month, now, actor="cli") if args.send else None
    except Refusal as exc:
        print(str(exc), file=sys.stderr)
        return 2
    forms = {
        "text": lambda: bulletin_files.text(fig).encode(),
        "json": lambda: (json.dumps(fig, ensure_ascii=False, indent=2) + "\n").encode(),
        "xlsx": lambda: bulletin_files.xlsx(fig),
        "png": lambda: bulletin_files.png(fig),
    }
    data = forms[args.format]()
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"已写入 {args.out}（{len(data)} 字节）", file=sys.stderr)
    else:
        sys.stdout.write(data.decode())
    if args.send:
        word = "已发送给领导和办公室" if sent else "这个月的通报以前已经发送过，没有重复发送"
        print(f"{fig['month']} 考核通报{word}。", file=sys.stderr)
    return 0


def export_items(args: argparse.Namespace) -> int:
    """Write every item reported from --from to --to (inclusive) with its clocks and facts."""
    from workflow import export
    from workflow.errors import Refusal

    rt, now = _rt(), clock.now()
    try:
        lo, hi = export.period(args.start, args.end)
        with rt.sessions() as s:
            table = export.rows(s, rt.config, lo, hi, now)
    except Refusal as exc:
        print(str(exc), file=sys.stderr)
        return 2
    data = export.to_csv(table) if args.format == "csv" else export.to_xlsx(table)
    Path(args.out).write_bytes(data)
    items = len({r["编号"] for r in table})
    print(f"已导出 {items} 条条目（{len(table)} 行）到 {args.out}", file=sys.stderr)
    return 0
