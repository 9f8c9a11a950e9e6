"""The bulletin's forms: plain text, WeCom markdown (≤ 2048 bytes), an .xlsx workbook and a PNG chart.

Each takes the object `workflow.appraisal.bulletin.figures` returns. Charts use matplotlib's Agg backend with the
shipped Noto Sans CJK SC subset (core.fonts, SIL OFL), so Chinese renders on a machine without CJK fonts.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from core import fonts
from core.cells import xlsx_bytes
from core.text import clean_name
from models.assessment import ROLES

STATE_WORDS = {"upheld": "", "disputed": "（申诉中）", "withdrawn": "（已撤销）"}
MARKDOWN_LIMIT = 2048  # bytes WeCom accepts in markdown.content
DPI = 200  # the chart is printed and read on phones: 2200 × 1100 pixels


def span(seconds: float | None) -> str:
    """Seconds as people read a step's time: 45分钟, 3.5小时, 2.1天, or — when no item took the step."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))}分钟"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}小时"
    return f"{seconds / 86400:.1f}天"


def points(value: float) -> str:
    """A deduction as written in a bulletin: -2, -0.5."""
    return f"{value:g}"


def counted(unit: dict[str, Any]) -> list[dict[str, Any]]:
    """A unit's deductions that count (upheld or disputed; withdrawn ones are listed but never counted) — the one
    rule the markdown, the xlsx and the 通报 share."""
    return [d for d in unit["deductions"] if d["state"] != "withdrawn"]


def period_title(fig: dict[str, Any]) -> str:
    """ "2026年11月" for a month, else the period as given ("2026-11-01至2026-11-15")."""
    label, upto = str(fig["month"]), (f"（截至 {fig['as_of']}）" if fig.get("as_of") else "")
    if re.fullmatch(r"\d{4}-\d{2}", label):
        return f"{label[:4]}年{int(label[5:])}月{upto}"
    return label + upto


def text(fig: dict[str, Any]) -> str:
    """The whole bulletin as plain text (CLI `--format text`)."""
    lines = [f"{period_title(fig)} 舆情处置考核通报", "", f"一、单位得分（满分 {points(fig['base'])}）"]
    for u in fig["units"]:
        lines.append(f"{u['rank']}. {u['name']} {points(u['score'])} 分")
        for d in u["deductions"]:
            role, state = ROLES[d["role"]], STATE_WORDS[d["state"]]
            lines.append(f"   {d['key']} {d['item']} {d['fact']}（{role}）{points(d['points'])}{state}：{d['detail']}")
    items = fig["items"]
    lines += ["", f"二、条目 {items['total']} 条"]
    for title, key in (("等级", "by_grade"), ("来源", "by_source"), ("流程", "by_flow")):
        parts = "，".join(f"{k} {v}" for k, v in items[key].items()) or "无"
        lines.append(f"   按{title}：{parts}")
    lines += ["", "三、各环节用时（中位数 / 90%）"]
    for t in fig["times"].values():
        lines.append(f"   {t['label']}：{span(t['median'])} / {span(t['p90'])}（{t['n']} 条）")
    lines += ["", "四、留言答复超时未说明（通报）"]
    lines += [f"   {n['name']}：{n['item']}" for n in fig["named"]] or ["   无"]
    lines += ["", "五、网评员日常任务（巡查、组织跟帖）"]
    for u in fig["units"]:
        d = u.get("duty") or {}
        if d.get("patrols") or d.get("guided"):
            lines.append(
                f"   {u['name']}：巡查 {d['patrols']} 次、未报 {d['patrols_missed']} 次；"
                f"跟帖 {d['guided']} 项、未完成 {d['guided_missed']} 项"
            )
    return "\n".join(lines) + "\n"


def markdown(fig: dict[str, Any], link: str = "") -> str:
    """The chat summary in WeCom markdown, kept within 2048 bytes (details are in the xlsx)."""
    head = [f"### {period_title(fig)} 舆情处置考核通报", f"条目 **{fig['items']['total']}** 条"]
    ranked = []
    for u in fig["units"]:
        n = len(counted(u))
        color = "warning" if u["score"] < fig["base"] else "info"
        ranked.append(
            f'{u["rank"]}. {u["name"]} <font color="{color}">{points(u["score"])}</font>'
            + (f"（扣分 {n} 项）" if n else "")
        )
    steps = [f"> {t['label']}：中位 {span(t['median'])}，90% {span(t['p90'])}" for t in fig["times"].values() if t["n"]]
    named = "、".join(f"{n['name']}（{n['item']}）" for n in fig["named"])
    tail = [f"**通报**：{named} 留言答复超时未说明" if named else "", "明细见随后的 Excel 文件。", link]
    body = head + ["", "**单位得分**"] + ranked + ["", "**环节用时**"] + steps + [""] + [t for t in tail if t]
    out = "\n".join(body)
    while len(out.encode()) > MARKDOWN_LIMIT and ranked:
        ranked.pop()
        body = (
            head
            + ["", "**单位得分**"]
            + ranked
            + ["……（其余见 Excel）", "", "**环节用时**"]
            + steps
            + [""]
            + [t for t in tail if t]
        )
        out = "\n".join(body)
    return out


def _sheets(fig: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each sheet of the bulletin's workbook: its header and rows."""
    states = {"upheld": "认定", "disputed": "申诉中", "withdrawn": "已撤销"}
    stats = [[title, k, v] for title, key in (("等级", "by_grade"), ("来源", "by_source"), ("流程", "by_flow"))
             for k, v in fig["items"][key].items()]  # fmt: skip

    def minutes(v: float | None) -> float | None:
        return round(v / 60, 1) if v is not None else None

    return {
        "得分排名": (
            ["名次", "单位", "得分", "扣分项"],
            [[u["rank"], u["name"], u["score"], len(counted(u))] for u in fig["units"]],
        ),
        "扣分明细": (
            ["事项编号", "单位", "条目", "事项", "责任", "扣分", "状态", "说明"],
            [
                [
                    d["key"],
                    u["name"],
                    d["item"],
                    d["fact"],
                    ROLES[d["role"]],
                    d["points"],
                    states[d["state"]],
                    d["detail"],
                ]
                for u in fig["units"]
                for d in u["deductions"]
            ],
        ),  # fmt: skip
        "条目统计": (["分类", "项目", "条数"], [*stats, ["合计", "", fig["items"]["total"]]]),
        "环节用时": (
            ["环节", "条数", "中位数（分钟）", "90%（分钟）"],
            [[t["label"], t["n"], minutes(t["median"]), minutes(t["p90"])] for t in fig["times"].values()],
        ),
        "通报": (["单位", "条目", "事由"], [[n["name"], n["item"], "留言答复超时且未说明"] for n in fig["named"]]),
        "日常任务": (
            ["单位", "应巡查（次）", "巡查未报", "跟帖任务（项）", "跟帖未完成"],
            [
                [
                    u["name"],
                    *(u.get("duty", {}).get(k, 0) for k in ("patrols", "patrols_missed", "guided", "guided_missed")),
                ]
                for u in fig["units"]
            ],
        ),  # fmt: skip
    }


def xlsx(fig: dict[str, Any], title: str = "") -> bytes:
    """The bulletin as a print-ready workbook (streamed, so a month of 100,000 items stays quick): 得分排名, 扣分明细,
    条目统计, 环节用时, 通报, 日常任务, each under title (sheet_title); cells are formula-safe (core.cells)."""
    return xlsx_bytes(_sheets(fig), title)


def sheet_title(fig: dict[str, Any], office: str, made: str) -> str:
    """The title row of each sheet: 2026年11月 舆情处置考核通报　舆情工作领导小组办公室　制表：2026年12月1日 09:00."""
    return f"{period_title(fig)} 舆情处置考核通报　{office}　制表：{made}"


def font_path() -> Path:
    """The CJK font charts are drawn with (core.fonts: Noto Sans CJK SC, SIL OFL)."""
    return fonts.cjk_font()


def plain(label: str) -> str:
    """A label as matplotlib must show it literally: no control characters, $ never starts mathtext, and a character
    the font lacks drawn as 〓 (as in the archive PDF: no empty box, no missing-glyph warning)."""
    return fonts.drawable(clean_name(str(label), 200)).replace("$", r"\$")


def png(fig: dict[str, Any]) -> bytes:
    """The chart image at 200 dpi: deductions per unit (left) and the median / 90% time of each step in hours
    (right), each bar labelled with its value."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    path = font_path()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False}):
        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5.5), dpi=DPI)
        names = [plain(u["name"]) for u in fig["units"]]
        lost = [-sum(d["points"] for d in u["deductions"]) for u in fig["units"]]
        bars = left.barh(names[::-1], lost[::-1], color="#d9534f")
        left.bar_label(bars, labels=[points(v) for v in lost[::-1]], padding=3, fontsize=9)
        left.set_xlim(0, max([*lost, 1]) * 1.15)
        left.set_title("各单位扣分")
        left.set_xlabel("扣分")
        labels = [plain(t["label"]) for t in fig["times"].values()]
        med = [(t["median"] or 0) / 3600 for t in fig["times"].values()]
        p90 = [(t["p90"] or 0) / 3600 for t in fig["times"].values()]
        at = range(len(labels))
        for shift, values, name, color in ((-0.2, med, "中位数", "#337ab7"), (0.2, p90, "90%", "#f0ad4e")):
            bars = right.bar([i + shift for i in at], values, width=0.4, label=name, color=color)
            right.bar_label(bars, labels=[f"{v:.1f}" for v in values], padding=2, fontsize=8)
        right.set_ylim(0, max([*med, *p90, 1]) * 1.15)
        right.set_xticks(list(at), labels, rotation=30, ha="right")
        right.set_ylabel("小时")
        right.set_title("各环节用时")
        right.legend()
        figure.suptitle(f"{period_title(fig)} 舆情处置考核通报")
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
        plt.close(figure)
    return out.getvalue()
