"""The monthly bulletin as a 通报 (Word, from the bureau's tongbao.docx template): "关于2026年11月全局网络舆情处置工作
考核情况的通报" with 总体情况 (the figures in sentences), 存在问题, 下一步要求 and 附件：各单位得分表.

Every number comes from the object `workflow.appraisal.bulletin.figures` returns, so the 通报 says what the xlsx,
the chart and the chat summary say (withdrawn deductions are listed nowhere as counted: bulletin_files.counted).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from core.config import Config
from workflow.appraisal.bulletin_files import counted, period_title, points, span
from workflow.record import documents

ORDINALS = "一二三四五六七八九十"


def title(fig: dict[str, Any]) -> str:
    """关于2026年11月全局网络舆情处置工作考核情况的通报."""
    return f"关于{period_title(fig)}全局网络舆情处置工作考核情况的通报"


def _joined(parts: list[str]) -> str:
    """A、B和C."""
    return parts[0] if len(parts) == 1 else "、".join(parts[:-1]) + "和" + parts[-1]


def overview(fig: dict[str, Any]) -> list[str]:
    """总体情况: the items of the period, the units' scores and the step times, in sentences."""
    items, units, base = fig["items"], fig["units"], fig["base"]
    grades = [f"{k}{v}条" for k, v in items["by_grade"].items()]
    sources = [f"{k}{v}条" for k, v in items["by_source"].items()]
    first = f"{period_title(fig)}，全局共受理网络舆情{items['total']}条"
    first += f"，其中{'、'.join(grades)}" if grades else ""
    first += f"；按来源分，{'、'.join(sources)}。" if sources else "。"
    out = [first]
    if units:
        lost = [u for u in units if counted(u)]
        mean = sum(u["score"] for u in units) / len(units)
        second = (
            f"参加考核的{len(units)}个单位平均得分{points(round(mean, 2))}分（满分{points(base)}分），"
            f"{len(units) - len(lost)}个单位得满分"
        )
        if lost:
            low = min(units, key=lambda u: (u["score"], u["key"]))
            n = sum(len(counted(u)) for u in units)
            total = -sum(d["points"] for u in units for d in counted(u))
            second += (
                f"，{len(lost)}个单位被扣分，共扣分{n}项、{points(total)}分，"
                f"得分最低的是{low['name']}（{points(low['score'])}分）"
            )
        out.append(second + "。")
    steps = [f"{t['label'].replace('→', '到')}{span(t['median'])}" for t in fig["times"].values() if t["n"]]
    if steps:
        out.append(f"各环节用时（中位数）：{'，'.join(steps)}。")
    return out


def problems(fig: dict[str, Any]) -> list[str]:
    """存在问题: the deductions grouped by fact (一是…二是…), the units named for unexplained late replies."""
    by_fact: dict[str, list[str]] = defaultdict(list)
    for u in fig["units"]:
        for d in counted(u):
            by_fact[d["fact"]].append(u["name"])
    lines = []
    for i, (fact, names) in enumerate(sorted(by_fact.items(), key=lambda kv: -len(kv[1]))):
        unique = list(dict.fromkeys(names))
        word = ORDINALS[i] if i < len(ORDINALS) else str(i + 1)
        lines.append(f"{word}是{fact}{len(names)}项，涉及{_joined(unique)}。")
    if fig["named"]:
        named = "、".join(f"{n['name']}（{n['item']}）" for n in fig["named"])
        lines.append(f"留言答复超时且未说明原因、未申请延期的：{named}，予以通报。")
    return lines or ["本月各单位均按规定时限完成处置，未发现扣分事项。"]


def requirements(fig: dict[str, Any]) -> list[str]:
    """下一步要求: the standing ones, and one for the units that lost points."""
    out = [
        "一要严格落实处置时限。各单位要按照首报、书面报告、处置情况报送和答复来源的时限要求办理，"
        "确实无法按时完成的，要在到期前申请延期并说明理由。",
        "二要压实主办责任。主办单位对交办的舆情负总责，协办单位要主动配合，及时提供材料。",
        "三要加强日常巡查。网评员要按时完成巡查和组织跟帖任务，发现苗头性问题及时上报。",
    ]
    lost = [u["name"] for u in fig["units"] if counted(u)]
    if lost:
        out.append(f"四要抓好问题整改。{_joined(lost)}要认真分析扣分原因，举一反三，抓好整改落实。")
    return out


def table(fig: dict[str, Any]) -> list[dict[str, str]]:
    """附件 各单位得分表: rank, name, score, count (deductions counted) and lost (points), as written."""
    return [
        {
            "rank": str(u["rank"]),
            "name": u["name"],
            "score": points(u["score"]),
            "count": str(len(counted(u))),
            "lost": points(-sum(d["points"] for d in counted(u))),
        }
        for u in fig["units"]
    ]


def context(fig: dict[str, Any], config: Config, at: datetime) -> dict[str, Any]:
    """The fields tongbao.docx receives (documents.FIELDS["通报"])."""
    period = period_title(fig)
    return {
        **documents.distribution(config),
        "title": title(fig),
        "period": period,
        "date": documents.day(at),
        "intro": f"根据舆情处置考核规则，现将{period}全局网络舆情处置工作考核情况通报如下。",
        "overview": overview(fig),
        "problems": problems(fig),
        "requirements": requirements(fig),
        "units": table(fig),
        "table_note": f"满分{points(fig['base'])}分；申诉中的扣分暂按扣分计，已撤销的不计。",
    }


def docx(fig: dict[str, Any], config: Config, at: datetime) -> bytes:
    """The 通报 as a Word document."""
    return documents.render(config, "通报", context(fig, config, at))
