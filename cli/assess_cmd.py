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
    b.add_argument("--format", choices=("text", "json", "xlsx", "png", "docx"), default="text",
                   help="docx：关于某月考核情况的通报（Word，按 [documents] 模板）")  # fmt: skip
    b.add_argument("--out", metavar="FILE", help="写入文件（xlsx、png、docx 必须指定）")
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
    from workflow.appraisal import bulletin as b
    from workflow.appraisal import bulletin_files, notice
    from workflow.engine.errors import Refusal

    rt, now = _rt(), clock.now()
    if args.format in ("xlsx", "png", "docx") and not args.out:
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
        "xlsx": lambda: bulletin_files.xlsx(fig, b.workbook_title(rt.config, fig, now)),
        "png": lambda: bulletin_files.png(fig),
        "docx": lambda: notice.docx(fig, rt.config, now),
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
    from workflow.engine.errors import Refusal
    from workflow.record import export

    rt, now = _rt(), clock.now()
    try:
        lo, hi = export.period(args.start, args.end)
        with rt.sessions() as s:
            table = export.rows(s, rt.config, lo, hi, now)
    except Refusal as exc:
        print(str(exc), file=sys.stderr)
        return 2
    office = str(rt.config.raw.get("brief", {}).get("sender", "舆情工作领导小组办公室"))
    heading = export.title(args.start, args.end, office, now)
    data = export.to_csv(table) if args.format == "csv" else export.to_xlsx(table, heading)
    Path(args.out).write_bytes(data)
    items = len({r["编号"] for r in table})
    print(f"已导出 {items} 条条目（{len(table)} 行）到 {args.out}", file=sys.stderr)
    return 0


def add_record_parsers(sub: Any) -> None:
    """Register `archive` (write an archived item's package) and `archive-prune` (retention, audited)."""
    a = sub.add_parser("archive", help="写出已归档条目的案卷（ZIP：封面与经过 PDF、全部材料、manifest.json）")
    a.add_argument("code", help="编号，如 YQ-20261127-001")
    a.add_argument("--out", metavar="FILE.zip", required=True)
    a.set_defaults(func=archive_item)
    p = sub.add_parser("archive-prune", help="按 [archive] keep_attachments 列出（--yes 时删除）归档已久的附件")
    p.add_argument("--yes", action="store_true", help="确实删除（否则只列出将删除什么）")
    p.set_defaults(func=archive_prune)


def archive_item(args: argparse.Namespace) -> int:
    """Write the package of an archived item to --out and print its manifest hash."""
    from workflow.engine.errors import Refusal
    from workflow.record import archive

    rt, now = _rt(), clock.now()
    try:
        with rt.sessions() as s, s.begin():
            path, digest, pkg = archive.make(s, rt.config, args.code, now, Path(args.out), actor=archive.CLI)
    except Refusal as exc:
        print(str(exc), file=sys.stderr)
        return 2
    missing = f"，缺 {len(pkg.missing)} 个（见 manifest.json）" if pkg.missing else ""
    print(f"已写出 {path}：{len(pkg.entries)} 个文件{missing}；manifest.json 的 sha256 {digest}（已记入审计）")
    return 0


def archive_prune(args: argparse.Namespace) -> int:
    """List (and with --yes delete) stored attachments of items archived longer than [archive] keep_attachments."""
    from workflow.record import archive

    rt, now = _rt(), clock.now()
    with rt.sessions() as s, s.begin():
        plan = archive.prune(s, rt.config, now, apply=args.yes)
    if plan is None:
        print("[archive] keep_attachments 为 forever（缺省）：归档后的附件永久保留，没有可删除的。")
        return 0
    for code, name, size in plan:
        print(f"{'已删除' if args.yes else '将删除'} {code} {name}（{size} 字节）")
    verdict = "已删除并记入审计" if args.yes else "加 --yes 才会删除"
    print(f"共 {len(plan)} 个文件，{verdict}。案卷 ZIP 不受影响。")
    return 0


def add_brief_parser(sub: Any) -> None:
    """Register `brief`: write an item's 快报 / 专报 as a Word document."""
    b = sub.add_parser("brief", help="从条目生成舆情快报或专报（Word）")
    b.add_argument("code", help="编号")
    b.add_argument("--kind", choices=("快报", "专报"), default="快报")
    b.add_argument("--out", metavar="FILE.docx", required=True)
    b.set_defaults(func=brief_doc)


def brief_doc(args: argparse.Namespace) -> int:
    """Write the document (the chat's 快报 / 专报 adds the approval card and the record of sending)."""
    from workflow.engine.errors import Refusal
    from workflow.engine.lookup import find_item
    from workflow.record import brief

    rt, now = _rt(), clock.now()
    try:
        with rt.sessions() as s:
            item = find_item(s, args.code)
            data = brief.docx(s, rt.config, item, args.kind, brief.next_number(s, args.kind, now) + "（草稿）", now)
    except Refusal as exc:
        print(str(exc), file=sys.stderr)
        return 2
    Path(args.out).write_bytes(data)
    print(f"已写出 {args.out}（{len(data)} 字节）")
    return 0
