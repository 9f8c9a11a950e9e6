"""Render the shipped templates with sample data to PNG page images for docs/documents.md, and a sample case file
PDF (the archive's 案卷封面与经过.pdf) for docs/record.md.

`python3 tools/render_document_previews.py` needs LibreOffice (`soffice`, Debian libreoffice-writer-nogui) and
fonts-noto-cjk: LibreOffice has no 方正小标宋简体 / 仿宋_GB2312 / 黑体 / 楷体_GB2312. Left to itself it falls back
on the first face of Noto's .ttc, the Japanese one (centred ，。：); so the copy rendered here names the Simplified
Chinese faces instead (STAND_INS: Noto Serif CJK SC for the Song/Fangsong/Kai faces, Noto Sans CJK SC for 黑体) —
the layout (page, 版心, 版头, rules, page numbers) is what Word shows, the typefaces are the office's own in Word.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT))

SAMPLE_FIG: dict[str, Any] = {
    "month": "2026-11",
    "base": 100,
    "units": [
        {"key": "chengdong", "rank": 1, "name": "城东区局", "score": 100, "deductions": []},
        {"key": "team2", "rank": 1, "name": "执法二队", "score": 100, "deductions": []},
        {
            "key": "team1",
            "rank": 3,
            "name": "执法一队",
            "score": 97,
            "deductions": [
                {"state": "upheld", "points": -2, "fact": "迟报"},
                {"state": "upheld", "points": -1, "fact": "书面报告超时"},
                {"state": "withdrawn", "points": 0, "fact": "漏报"},
            ],
        },
    ],  # fmt: skip
    "items": {
        "total": 12,
        "by_grade": {"重大": 1, "较大": 3, "一般": 8},
        "by_source": {"微博": 7, "抖音": 3, "留言板": 2},
        "by_flow": {},
    },  # fmt: skip
    "times": {
        "a": {"label": "上报→交办", "median": 1500, "p90": 3600, "n": 12},
        "b": {"label": "交办→首报", "median": 2400, "p90": 5400, "n": 12},
    },  # fmt: skip
    "named": [],
}


def brief_fields(kind: str) -> dict[str, Any]:
    """A realistic 快报 / 专报."""
    return {
        "kind": kind, "title": "关于网传某商户被执法人员推搡视频的舆情" + kind, "number": f"{kind}〔2026〕第3期",
        "issue": "第3期", "year": "2026", "sender": "舆情工作领导小组办公室", "date": "2026年12月6日",
        "code": "YQ-20261206-001", "grade": "较大", "grade_line": "舆情等级：较大。",
        "source": ["舆情来源：微博（编号：YQ-20261206-001）。", "链接：https://weibo.com/1234567890/AbCdEf"],
        "content": ["12月6日上午，微博网友发布视频称，某商户在城东路占道经营时被执法人员推搡，视频时长约40秒。",
                    "截至发稿，该视频转发1200余次，评论800余条，部分网民质疑执法方式。"],
        "situation": ["12月6日9时20分，执法一队首报：已核实视频拍摄于12月5日下午，当事人情绪已平稳。"],
        "verification": ["经核查，执法人员在劝导过程中与商户发生肢体接触，未造成人员受伤。"],
        "handling": ["已约谈当事执法人员，暂停其执法资格；已与商户沟通并取得谅解。"],
        "statement": ["我局已关注到相关视频，第一时间成立工作组调查核实，将依法依规处理并及时公布结果。"],
        "next_steps": ["持续关注网上态势，按规定时限续报。"],
        "instructions": [{"by": "刘九", "date": "2026年12月6日", "text": "请尽快核实，依法处理，及时回应社会关切。"}],
        "attachments": ["附件：1. 现场视频截图.png", "　　　2. 执法记录仪情况说明.docx"],
        "send_to": "县委宣传部、县网信办", "copy_to": "局领导小组各成员单位", "printer": "舆情工作领导小组办公室",
    }  # fmt: skip


SERIF, SANS = "Noto Serif CJK SC", "Noto Sans CJK SC"
STAND_INS = {"方正小标宋简体": SERIF, "仿宋_GB2312": SERIF, "楷体_GB2312": SERIF, "宋体": SERIF, "黑体": SANS}


def stand_ins(data: bytes) -> bytes:
    """The .docx with the office's font names replaced by the Simplified Chinese Noto faces (for the preview only)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("word/") and info.filename.endswith(".xml"):
                text = body.decode("utf-8")
                for name, face in STAND_INS.items():
                    text = text.replace(f'"{name}"', f'"{face}"')
                body = text.encode("utf-8")
            dst.writestr(info, body)
    return out.getvalue()


ARCHIVE_EVENTS = [
    ("2026年12月6日 08:40", "张三", "上报", "网传某商户被执法人员推搡视频"),
    ("2026年12月6日 08:40", "系统", "首报开始计时", "最迟 2026年12月6日 09:40"),
    ("2026年12月6日 08:55", "陈七", "定级交办", "较大，主办 执法一队；已上报，待定级交办→已交办，待签收"),
    ("2026年12月6日 09:20", "王五", "首报", "已核实视频拍摄于12月5日下午，当事人情绪已平稳。"),
    ("2026年12月6日 09:20", "王五", "首报按时完成", ""),
    ("2026年12月6日 10:05", "陈七", "拟报送快报", ""),
    ("2026年12月6日 10:30", "刘九", "审批快报", "同意：快报〔2026〕第3期"),
    ("2026年12月6日 11:00", "刘九", "领导批示", "请尽快核实，依法处理，及时回应社会关切。"),
    ("2026年12月8日 16:00", "陈七", "立卷归档", "已总结评估→已立卷归档"),
]
ARCHIVE_FILES = [
    ("附件/01-上报截图.png", "上报材料", False),
    ("附件/02-书面报告第1版-核查报告.docx", "书面报告附件", False),
    ("书面报告/第1版-执法一队.txt", "书面报告正文", False),
    ("上报/快报〔2026〕第3期.docx", "舆情快报", False),
    ("记录/审批_口径_报送_扣分.json", "审批、口径、上报与扣分记录", False),
]


def archive_pdf() -> bytes:
    """A sample case file PDF (cover with 档号 and 保管期限, 卷内目录, timeline, 备考表) as `liaowang archive` makes."""
    from models import Item, Person
    from workflow.record import archive

    at = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    item = Item(
        code="YQ-20261206-001",
        title="网传某商户被执法人员推搡视频",
        source="weibo",
        state="archived",
        text="12月6日上午，微博网友发布视频称，某商户在城东路占道经营时被执法人员推搡。",
        grade="significant",
        reported_at=datetime(2026, 12, 6, 0, 40, tzinfo=UTC),
        reporter=Person(userid="zhangsan", name="张三"),
    )
    return archive.pdf(
        item, ARCHIVE_EVENTS, "2026年12月8日 16:00", at, "2026-D30-YQ-20261206-001", "30年", ARCHIVE_FILES
    )


def pages(pdf_path: Path, name: str, count: int) -> None:
    """Write docs/images/<name>-<n>.png for the first count pages of the PDF (100 dpi, 32 colours)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    for i in range(min(len(pdf), count)):
        image = pdf[i].render(scale=100 / 72).to_pil().convert("RGB")  # 100 dpi: 827 × 1169
        image = image.quantize(colors=32).convert("RGB")
        target = OUT / f"{name}-{i + 1}.png"
        image.save(target, optimize=True)
        print(target, len(pdf), "pages")


def main() -> int:
    """Write docs/images/<name>-<page>.png for the 快报, 专报, 通报 (up to three pages each) and the case file PDF."""
    from workflow.appraisal import notice
    from workflow.record import documents

    config: Any = SimpleNamespace(raw={"documents": {"send_to": "县委宣传部、县网信办", "copy_to": "各单位"}})
    docs = {
        "kuaibao": documents.render(config, "快报", brief_fields("快报")),
        "zhuanbao": documents.render(config, "专报", brief_fields("专报")),
        "tongbao": notice.docx(SAMPLE_FIG, config, datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in docs.items():
            src = Path(tmp) / f"{name}.docx"
            src.write_bytes(stand_ins(data))
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp, str(src)],
                           check=True, capture_output=True, timeout=300)  # fmt: skip
            pages(Path(tmp) / f"{name}.pdf", name, 3)
        (Path(tmp) / "anjuan.pdf").write_bytes(archive_pdf())
        pages(Path(tmp) / "anjuan.pdf", "anjuan", 4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
