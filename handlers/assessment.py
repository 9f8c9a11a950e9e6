"""考核: a unit's deductions, 申诉 (dispute) and the office's 维持 / 撤销, and 扣分 (the office records a fact)."""

from __future__ import annotations

import re

from sqlalchemy import select

from core import args
from handlers.cards import clicked, key_parts, mark_pressed
from handlers.context import Ctx
from handlers.registry import card, command
from models import Dispute, Role
from models.assessment import RECORDED_KINDS, ROLES
from models.state import CardPurpose
from workflow.appraisal import assessment, bulletin, bulletin_files
from workflow.engine.errors import Refusal
from workflow.people import org

USAGE_RECORD = (
    "格式：扣分 <编号> <单位> <漏报|瞒报|处置不当> <主要|间接> <理由> [证据链接]\n"
    "例如：扣分 YQ-20261127-001 执法一队 漏报 主要 群众先于本单位发现并在网上扩散 https://…"
)
ROLE_WORDS = {"主要": "main", "主要责任": "main", "间接": "indirect", "间接责任": "indirect"}
URL = re.compile(r"https?://\S+")
KEY_TRY = re.compile(r"[A-Za-z]{1,3}\d{1,9}")  # a fact key, or a mistyped one that deserves its own refusal (X9)
USAGE_DISPUTE = "格式：申诉 <事项编号> <理由>，事项编号见“考核”；只有一项可申诉时可以不写编号。"


def _month(ctx: Ctx) -> str:
    """The month asked for (this month when none), normalised; a malformed one is refused by month_range."""
    word = ctx.args.strip()
    if not word:
        return _this_month(ctx)
    return assessment.month_name(word) if assessment.MONTH.match(word) else word


def _this_month(ctx: Ctx) -> str:
    from core.clock import show

    return show(ctx.now, form="month")


@command("考核", "考核情况", "扣分情况", alone=True)
def assessment_command(ctx: Ctx) -> str:
    """`考核 [YYYY-MM]`: a unit lead sees their unit's deductions; the office and leaders see every unit's score."""
    month = _month(ctx)
    assessment.month_range(month, ctx.now)  # refuses a malformed or future month
    person = ctx.person
    if person.has(Role.office) or person.has(Role.leader):
        fig = bulletin.figures(ctx.session, ctx.config, month, ctx.now)
        lines = [f"{month} 各单位得分（满分 {bulletin_files.points(fig['base'])}）："]
        for u in fig["units"]:
            n = len([d for d in u["deductions"] if d["state"] != "withdrawn"])
            lines.append(f"{u['rank']}. {u['name']} {bulletin_files.points(u['score'])}" + (f"（{n} 项）" if n else ""))
        lines.append(f"完整通报：{ctx.config.public_url}/h5/stats?month={month}")
        return "\n".join(lines)
    unit = person.unit
    if not person.has(Role.unit_lead) or unit is None:
        raise Refusal("考核情况由单位负责人查看；领导和办公室可以看到全部单位。")
    fig = bulletin.figures(ctx.session, ctx.config, month, ctx.now, unit_key=unit.key)
    row = fig["units"][0]
    if not row["deductions"]:
        return f"{month} {unit.name}没有扣分，得分 {bulletin_files.points(row['score'])}。"
    lines = [f"{month} {unit.name}得分 {bulletin_files.points(row['score'])}，扣分事项："]
    for d in row["deductions"]:
        state = bulletin_files.STATE_WORDS[d["state"]]
        lines.append(f"· {d['key']} {d['item']} {d['fact']} {bulletin_files.points(d['points'])}{state}：{d['detail']}")
    keys = [d["key"] for d in row["deductions"] if d["key"][0] in "CF"]  # 未巡查/未跟帖 (P, G) are duty records
    if keys:
        lines.append(f"如有异议，发送“申诉 <事项编号> <理由>”，例如：申诉 {keys[0]} 已于到期前电话报告。")
    return "\n".join(lines)


@command("申诉", key=True)
def dispute_command(ctx: Ctx) -> str:
    """`申诉 [<事项编号>|<编号>] <理由>`: a unit lead disputes one of the unit's facts, once; the key may be left
    out when the unit has one undisputed deduction this month and last (or on the 编号 given)."""
    typed = args.narrow(ctx.args.lstrip(args.ARG_SEPARATORS))
    tried = KEY_TRY.match(typed)
    if tried and args.ends_word(typed, tried.end()):  # C12 …, or X9 … (refused as no fact key); G20峰会… is prose
        key, reason = args.split_key(ctx.args)
        d, row = assessment.dispute(ctx.session, ctx.person, key, reason, ctx.now)
        return _filed(row.key, row.item, row.fact)
    code, rest = args.split_code(ctx.args) if args.starts_with_argument(typed, False) else ("", ctx.args.strip())
    unit = ctx.person.unit
    if not ctx.person.has(Role.unit_lead) or unit is None:
        raise Refusal(f"只有单位负责人可以申诉本单位的扣分。{USAGE_DISPUTE}")
    open_ = bulletin.disputable(ctx.session, ctx.config, unit.id, ctx.now, code)
    if len(open_) == 1:
        d, row = assessment.dispute(ctx.session, ctx.person, open_[0].key, rest, ctx.now)
        return _filed(row.key, row.item, row.fact)
    where = f"{code} 上" if code else "本月和上月"
    if not open_:
        return f"{USAGE_DISPUTE}{unit.name}{where}没有可以申诉的扣分（已申诉过的每项只能申诉一次）。"
    lines = [f"{unit.name}{where}有 {len(open_)} 项扣分可以申诉，请写明是哪一项："]
    lines += [f"· {r.key} {r.item} {r.fact} {bulletin_files.points(r.points)}" for r in open_[:9]]
    lines.append(f"例如：申诉 {open_[0].key} 已于到期前电话报告办公室。")
    return "\n".join(lines)


def _filed(key: str, item: str, fact: str) -> str:
    """The reply to a dispute filed."""
    return f"已提交对 {key}（{item} {fact}）的申诉，办公室审定后会告诉您结果。审定前该项暂按“申诉中”列出。"


def _decide(ctx: Ctx, uphold: bool) -> str:
    key, note = args.split_key(ctx.args)
    if not key:
        return "格式：维持 <事项编号> [说明] 或 撤销 <事项编号> [说明]。"
    key = key.upper()
    d = ctx.session.scalar(select(Dispute).where(Dispute.fact_key == key))
    if d is None:
        raise Refusal(f"{key} 没有待审定的申诉。")
    d, changed = assessment.decide(ctx.session, ctx.person, d.id, uphold, ctx.now, note)
    return _said(d, changed)


def _said(d: Dispute, changed: bool) -> str:
    word = "维持" if d.state == "upheld" else "撤销"
    if not changed:
        return f"{d.fact_key} 的申诉已经审定过了（{word}），不再更改。"
    return f"已{word} {d.fact_key}，已告知申诉单位。"


@command("维持", "维持扣分", key=True, roles=(Role.office,), denied="只有领导小组办公室可以审定申诉。")
def uphold_command(ctx: Ctx) -> str:
    """`维持 <事项编号> [说明]`."""
    return _decide(ctx, True)


@command("撤销", "撤销扣分", key=True, roles=(Role.office,), denied="只有领导小组办公室可以审定申诉。")
def withdraw_command(ctx: Ctx) -> str:
    """`撤销 <事项编号> [说明]`."""
    return _decide(ctx, False)


@card("dsp")
def dispute_button(ctx: Ctx) -> str:
    """Key `dsp:<id>:keep|drop` on the office's dispute card."""
    dispute_id, choice = key_parts(ctx, 2, numeric=0)
    if choice not in ("keep", "drop"):
        raise Refusal("这张卡片已失效。")
    d, changed = assessment.decide(
        ctx.session, ctx.person, int(dispute_id), choice == "keep", ctx.now, "", clicked(ctx)
    )
    if not changed:
        mark_pressed(ctx, (CardPurpose.dispute,), d.id, f"已{'维持' if d.state == 'upheld' else '撤销'}")
    return _said(d, changed)


@command("扣分", "记录扣分", roles=(Role.office,), denied="只有领导小组办公室可以记录扣分事项。")
def record_command(ctx: Ctx) -> str:
    """`扣分 <编号> <单位> <漏报|瞒报|处置不当> <主要|间接> <理由> [证据链接]`."""
    code, rest = args.split_code(ctx.args)
    words = [code, *rest.split(maxsplit=3)] if code else []
    if len(words) < 4:
        return USAGE_RECORD
    code, unit_word, kind, role_word = words[:4]
    reason = words[4] if len(words) > 4 else ""
    unit = org.find_unit(ctx.session, unit_word)
    if unit is None:
        raise Refusal(f"没有找到单位“{unit_word}”。{USAGE_RECORD}")
    if kind not in RECORDED_KINDS:
        raise Refusal(f"“{kind}”不是可以记录的事项（{'、'.join(RECORDED_KINDS)}）。迟报和处置未报由时限自动认定。")
    role = ROLE_WORDS.get(role_word)
    if role is None:
        raise Refusal(f"责任写“主要”或“间接”，不是“{role_word}”。")
    links = URL.findall(reason)
    text = URL.sub("", reason).strip()
    fact = assessment.record_fact(ctx.session, ctx.person, code, unit, kind, role, text, " ".join(links), ctx.now)
    return (
        f"已记录 F{fact.id}：{unit.name} {kind}（{ROLES[role]}），计入 {_this_month(ctx)} 考核。"
        f"该单位负责人可在“考核”中看到并申诉。"
    )
