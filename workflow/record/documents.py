"""Word documents from .docx templates the bureau controls (docxtpl: Jinja2 inside Word): 快报, 专报, 月考核通报.

The shipped templates (workflow/record/templates, made by tools/make_document_templates.py) follow GB/T 9704-2012.
`[documents] templates = "<dir>"` names a folder whose kuaibao.docx / zhuanbao.docx / tongbao.docx replace the
shipped ones (a file not there keeps the default). `check` reads every template at start-up and names what is wrong.
The fields each template receives are FIELDS (docs/documents.md lists them in Chinese).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.clock import local
from core.config import Config, ConfigError
from core.text import clean_text

SHIPPED = Path(__file__).resolve().parent / "templates"
FILES = {"快报": "kuaibao.docx", "专报": "zhuanbao.docx", "通报": "tongbao.docx"}

_BRIEF = {
    "kind": "快报 或 专报",
    "title": "标题（条目标题）",
    "number": "期号全称，如 快报〔2026〕第3期",
    "issue": "期号行，如 第3期",
    "year": "年份，如 2026",
    "sender": "编发单位（[brief] sender）",
    "date": "日期，如 2026年12月6日",
    "code": "条目编号",
    "grade": "等级：重大、较大、一般或未定",
    "grade_line": "如 舆情等级：较大。",
    "source": "舆情来源与链接（段落列表）",
    "content": "主要内容（段落列表）",
    "situation": "网上态势：首报、续报（段落列表）",
    "verification": "核查情况：审核通过的书面报告（段落列表）",
    "handling": "处置情况（段落列表）",
    "statement": "对外口径（段落列表）",
    "next_steps": "下一步工作（段落列表）",
    "instructions": "领导批示（列表，每项有 by 姓名、date 日期、text 内容）",
    "attachments": "附件说明（段落列表，如 附件：1. 核查报告.docx；没有附件时为空）",
    "send_to": "版记“报”（[documents] send_to，可为空）",
    "copy_to": "版记“抄送”（[documents] copy_to，可为空）",
    "printer": "印发单位（[documents] printer，缺省为编发单位）",
}
_BULLETIN = {
    "title": "标题，如 关于2026年11月全局网络舆情处置工作考核情况的通报",
    "period": "月份，如 2026年11月",
    "sender": "发文单位（[brief] sender）",
    "date": "成文日期，如 2026年12月1日",
    "intro": "开头一段",
    "overview": "总体情况（段落列表）",
    "problems": "存在问题（段落列表）",
    "requirements": "下一步要求（段落列表）",
    "units": "各单位得分（列表，每项有 rank 名次、name 单位、score 得分、count 扣分项数、lost 扣分）",
    "table_note": "得分表下的说明",
    "send_to": "版记“报”（可为空）",
    "copy_to": "版记“抄送”（可为空）",
    "printer": "印发单位",
}
FIELDS: dict[str, dict[str, str]] = {"快报": _BRIEF, "专报": _BRIEF, "通报": _BULLETIN}
REQUIRED = {"快报": ("title", "issue", "content"), "专报": ("title", "issue", "content"), "通报": ("title", "units")}


def day(at: datetime) -> str:
    """A date as GB/T 9704 writes it, without 虚位: 2026年12月6日 (Beijing time)."""
    t = local(at)
    return f"{t.year}年{t.month}月{t.day}日"


def moment(at: datetime) -> str:
    """A time in a document's text: 12月6日6时5分 (Beijing time, no leading zeros)."""
    t = local(at)
    return f"{t.month}月{t.day}日{t.hour}时{t.minute}分"


def paragraphs(text: str | None) -> list[str]:
    """Text as a list of paragraphs: cleaned (characters Word cannot hold dropped), blank lines left out."""
    return [line.strip() for line in clean_text(text or "", None).split("\n") if line.strip()]


def template(config: Config, kind: str) -> Path:
    """The template file of kind: the configured folder's if it has one, else the shipped default."""
    folder = configured(config)
    if folder is not None and (folder / FILES[kind]).is_file():
        return folder / FILES[kind]
    return SHIPPED / FILES[kind]


def configured(config: Config) -> Path | None:
    """The folder named by [documents] templates (relative to the working directory), or None."""
    value = str((config.raw.get("documents") or {}).get("templates") or "").strip()
    return Path(value) if value else None


@dataclass(frozen=True)
class Problem:
    """What is wrong with one template, in Chinese and English."""

    path: Path
    words: str

    def __str__(self) -> str:
        return f"文档模板 {self.path}：{self.words}"


def problems(config: Config) -> list[Problem]:
    """Every problem of the templates in use: folder missing, file unreadable, a required field missing or a field
    the template uses that Liaowang does not give."""
    folder = configured(config)
    if folder is not None and not folder.is_dir():
        return [Problem(folder, "[documents] templates 指向的文件夹不存在（templates folder not found）")]
    out = []
    for kind in FILES:
        path = template(config, kind)
        try:
            used = fields_used(path)
        except Exception as exc:  # noqa: BLE001 - any reason a template cannot be read is reported by name
            out.append(Problem(path, f"无法读取（cannot read: {type(exc).__name__}: {str(exc)[:200]}）"))
            continue
        out += [Problem(path, f"缺少字段 {{{{ {f} }}}}（missing field: {f}）") for f in REQUIRED[kind] if f not in used]
        out += [
            Problem(path, f"用了未知字段 {f}（unknown field: {f}; 可用字段见 docs/documents.md）")
            for f in sorted(used - set(FIELDS[kind]))
        ]
    return out


def check(config: Config) -> None:
    """Raise ConfigError naming every problem of the templates in use (called when the web app and worker start)."""
    found = problems(config)
    if found:
        raise ConfigError("；".join(str(p) for p in found))


def fields_used(path: Path) -> set[str]:
    """The names a template reads (Jinja's undeclared variables)."""
    from docxtpl import DocxTemplate

    return set(DocxTemplate(str(path)).get_undeclared_template_variables())


def render(config: Config, kind: str, context: dict[str, Any]) -> bytes:
    """The Word document of kind filled with context (escaped: any text is safe); ConfigError if the template fails."""
    from docxtpl import DocxTemplate

    path = template(config, kind)
    try:
        doc = DocxTemplate(str(path))
        doc.render(context, autoescape=True)
    except Exception as exc:  # noqa: BLE001 - a broken bureau template is named, not a bare traceback
        raise ConfigError(f"文档模板 {path} 无法生成文件（template failed: {type(exc).__name__}: {exc}）") from exc
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def distribution(config: Config) -> dict[str, str]:
    """The 版记 fields: send_to, copy_to, printer (the sender unless [documents] printer names another)."""
    raw = config.raw.get("documents") or {}
    sender = str((config.raw.get("brief") or {}).get("sender", "舆情工作领导小组办公室"))
    return {
        "send_to": clean_text(str(raw.get("send_to") or ""), 300).strip().rstrip("。"),
        "copy_to": clean_text(str(raw.get("copy_to") or ""), 300).strip().rstrip("。"),
        "printer": str(raw.get("printer") or sender),
        "sender": sender,
    }


RED = "FF0000"


def preview(data: bytes) -> list[dict[str, str]]:
    """The rendered document as the H5 preview shows it: each non-empty paragraph with its role (红头, 标题, 一级标题,
    二级标题, 正文, 版记) and text, in order; table rows as 正文 lines joined by spaces."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    out: list[dict[str, str]] = []
    for p in doc.paragraphs:
        text = p.text.strip()
        if not text:
            continue
        red = any(r.font.color is not None and r.font.color.type is not None and str(r.font.color.rgb) == RED
                  for r in p.runs)  # fmt: skip
        role = "红头" if red else (p.style.name if p.style is not None else "正文")
        out.append({"role": role if role in ROLES else "正文", "text": re.sub(r"\t+", "　　", text)})
    for table in doc.tables:
        for row in table.rows:
            out.append({"role": "表格", "text": "　".join(c.text.strip() for c in row.cells)})
    return out


ROLES = ("红头", "公文标题", "一级标题", "二级标题", "正文", "版记", "表格")
