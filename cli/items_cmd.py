"""`liaowang items list`: the ledger (台账) at the command line — every item the words and filters select."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Any


def add_parser(sub: Any) -> None:
    """Register `items list`."""
    items = sub.add_parser("items", help="舆情台账：检索与列出条目").add_subparsers(dest="sub", required=True)
    ls = items.add_parser("list", help="按词、状态、单位、等级、日期列出条目（缺省只列在办的）")
    ls.add_argument(
        "--q",
        default="",
        metavar="WORDS",
        help="检索词，空格分开的多个词须都出现（编号、标题、内容、链接、报告、口径、人名、单位名）",
    )
    ls.add_argument(
        "--state", default="open", help="open（在办，缺省）、closed（已办结，含已并入的）、archived（已归档）或 all"
    )
    ls.add_argument("--unit", default="", metavar="KEY", help="单位的 key，如 team1")
    ls.add_argument("--grade", default="", metavar="G", help="general、significant 或 major")
    ls.add_argument("--source", default="", help="来源，如 message_board")
    ls.add_argument("--since", default="", metavar="DATE", help="上报日期自（含），如 2026-11-01")
    ls.add_argument("--until", default="", metavar="DATE", help="上报日期至（含），如 2026-11-30")
    ls.add_argument("--sort", default="new", help="new（缺省）、old、grade 或 code")
    ls.add_argument("--limit", type=int, default=1000, help="最多列出多少条（缺省 1000）")
    ls.add_argument(
        "--json", action="store_true", help="输出 JSON 数组：code, title, state, grade, unit, reported_at, source …"
    )
    ls.set_defaults(func=list_items)


def list_items(args: argparse.Namespace) -> int:
    """Print the items that match (a table, or JSON with --json); a bad filter prints why and exits 2."""
    from cli.commands import _rt
    from workflow.engine.errors import Refusal
    from workflow.views import ledger

    if not 1 <= args.limit <= ledger.EXPORT_MAX:
        print(f"--limit 应在 1 到 {ledger.EXPORT_MAX} 之间（现在是 {args.limit}）。", file=sys.stderr)
        return 2
    given = {k: getattr(args, k) for k in ("q", "unit", "grade", "source", "since", "until", "sort")}
    given["scope"] = args.state
    try:
        query = ledger.parse(given, ledger.Scope.open)
    except Refusal as exc:
        print(exc.message, file=sys.stderr)
        return 2
    rt = _rt()
    with rt.sessions() as s:
        if query.unit and not ledger.unit_exists(s, query.unit):
            print(f"没有 key 为“{query.unit}”的单位。", file=sys.stderr)
            return 2
        found = ledger.rows(s, query, None, limit=args.limit)
        counted = ledger.page(s, query, None, per_page=1) if len(found) == args.limit else None
    if args.json:
        print(json.dumps([r.as_json() for r in found], ensure_ascii=False, indent=2))
    else:
        for r in found:
            print("  ".join([r.code, r.reported_text, _pad(r.state_name, 16), _pad(r.grade_name, 6),
                             _pad(r.unit_name, 10), r.title]))  # fmt: skip
    print(f"共 {_total(found, counted)}（{ledger.SCOPE_NAMES[query.scope]}）。", file=sys.stderr)
    return 0


def _total(found: list[Any], counted: Any) -> str:
    """How many items match, in words: all of them were listed (counted None), or more than --limit (capped: the
    word is so common that only the newest ledger.COUNT_CAP matches were counted)."""
    if counted is None or counted.total <= len(found) and not counted.capped:
        return f"{len(found)} 条"
    if counted.capped:
        return f"{max(counted.total, len(found))}+ 条，列出前 {len(found)} 条（这个词很常见，没有全部数完）"
    return f"{counted.total} 条，列出前 {len(found)} 条"


def _pad(value: str, width: int) -> str:
    """Pad value with spaces to width display columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)
    return value + " " * max(0, width - used)
