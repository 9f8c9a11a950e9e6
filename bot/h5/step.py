"""The short H5 form of a step (/h5/step/<step>/<编号>): the item's header, a text box (and files for the written
report), submitted through the same workflow function the chat conversation calls; a refusal changes nothing and a
form sent twice (refresh, back) is recorded once."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass

from flask import request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.h5 import present
from bot.h5.auth import EXPIRED, csrf_ok, csrf_token, current_person, logged_in, rt
from bot.h5.upload import KINDS, Checked, FileRefused, describe, read_files, save
from bot.h5.views import BAD_CSRF, person_and_item
from bot.h5.web import bp, message, page
from core import clock
from core.config import Config
from core.text import clean_text
from models import Item, Person
from models.procedure import Act
from workflow.engine import procedure
from workflow.engine.conversation import Conversations
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.incident import statement
from workflow.incident.progress import first_report, handling_report, progress_report
from workflow.incident.submission import submit
from workflow.people import org
from workflow.views import owed

log = logging.getLogger(__name__)

TOKEN = re.compile(r"(\d{1,12})\.([A-Za-z0-9_-]{16,64})")  # "<issued at, unix seconds>.<random>"
TOKEN_HOURS = 12  # a form older than this is refused as stale (and shown again, with the text kept)
SEEN_SECONDS = 2 * 3600  # how long a sent form is remembered: the same content again within it is not recorded
SEEN_KEY = "liaowang:h5step:"  # liaowang:h5step:<sha256 of who, step, 编号, text, files> → "" while being taken,
# then the answer as JSON: a refresh, or the back button and 提交 again, finds it and records nothing
MAX_TEXT = 20000
NO_FORM = "这一步没有网页表单，请在企业微信聊天中办理（发送“我的待办”查看可以点按钮办理的事项）。"
STALE = "这个页面打开太久了，内容没有提交。请检查下面的内容后再提交一次。"
BUSY = "这份内容正在提交，请不要重复提交；稍后刷新“我的待办”查看结果。"
AGAIN = "这份内容已经提交过了，没有重复记录。"


@dataclass(frozen=True)
class Form:
    """What a step's form asks for, and how the chat names the step."""

    title: str  # "写首报"
    label: str  # the text box's label
    hint: str  # its placeholder
    not_owed: str  # why a person who does not owe it is refused ({code})
    files: bool = False


FORMS: dict[Act, Form] = {
    Act.first_report: Form(
        "首报",
        "首报内容（核实情况和初步处置意见）",
        "经核实，……；初步处置意见：……",
        "{code} 的首报已经报过（或不需要您报送），没有再记录。有新进展请改为续报。",
    ),
    Act.progress_report: Form(
        "续报", "续报内容（最新进展）", "当事人已……，评论量……", "您所在单位没有在承办 {code}，不能续报。"
    ),
    Act.handling_report: Form(
        "处置报告",
        "处置情况与结果",
        "已约谈……，帖子已……，下一步……",
        "{code} 的处置情况已经报过（或不需要您报送），没有再记录。有新情况请续报。",
    ),
    Act.written_report: Form(
        "书面报告",
        "报告内容（可不填，只上传文件）",
        "简要写明核查情况、处置措施和下一步工作",
        "{code} 目前不需要您报送书面报告（已报送的正在审核，或不由您报送）。要补充材料请打开“上传文件”页面。",
        files=True,
    ),
    Act.draft_statement: Form(
        "拟口径",
        "口径文字（需要其他单位确认的，末尾写“会同 单位”）",
        "关于……的情况说明：……",
        "{code} 目前不需要您拟定口径（已经拟定，或不由您拟定）。",
    ),
}


def _apply(s: Session, person: Person, act: Act, code: str, text: str, checked: list[Checked]) -> str:
    """Take act on item code with text (and files): the workflow function the chat calls; return what was done."""
    now, config = clock.now(), rt().config
    if act == Act.first_report:
        item = first_report(s, person, code, text, config, now)
        return f"已记录 {item.code} 的首报，已报办公室和分管领导。"
    if act == Act.progress_report:
        item, first = progress_report(s, person, code, text, config, now)
        return (
            f"已记录为 {item.code} 的首报，已报办公室和分管领导。"
            if first
            else f"已记录 {item.code} 的续报，已报办公室和分管领导。"
        )
    if act == Act.handling_report:
        item = handling_report(s, person, code, text, now)
        return f"已记录 {item.code} 的处置情况，已报办公室和分管领导。"
    if act == Act.draft_statement:
        st = statement.draft(s, person, code, text, now)
        return f"已提交口径第 {st.version} 版送审核。定稿后才能用于回复来源和组织跟帖。"
    records = describe(checked)
    sub = submit(s, person, code, text, now, config, files=records, via="h5")
    save(config.storage_dir, checked, records)
    files = f"，文件 {len(checked)} 个" if checked else ""
    if sub.part != "lead":
        return f"已收到 {code} 的协办材料（第 {sub.version} 版{files}），已转主办单位和办公室。"
    return f"已收到 {code} 的书面报告（第 {sub.version} 版{files}），已送分管领导审核，审核结果会通知您。"


def refusal(s: Session, person: Person, item: Item, act: Act) -> tuple[str, int] | None:
    """Why person may not take act on item now (their relation, the item's state, the step not owed), or None."""
    try:
        procedure.permit(s, item, act, person)
    except Refusal as r:
        return r.message, 403
    try:
        procedure.check(item, act)
    except Refusal as r:
        return r.message, 409
    if item.code not in {i.code for i in owed.resolve(s, person, act)}:
        return FORMS[act].not_owed.format(code=item.code), 409
    return None


def _step(step: str) -> Act | None:
    """The step a path names, if it has a form."""
    try:
        act = Act(step)
    except ValueError:
        return None
    return act if act in FORMS else None


def _url(act: Act, code: str) -> str:
    """This form's own path (the page links back to it)."""
    return owed.form_path(act, code)


def _other_way(act: Act, code: str) -> tuple[str, str] | None:
    """Where a refused person may go instead: the 续报 form after a 首报, the upload page for a written report."""
    if act in (Act.first_report, Act.handling_report):
        return ("改为续报", _url(Act.progress_report, code))
    if act == Act.written_report:
        return ("打开上传文件页面", f"/h5/upload/{code}")
    return None


def new_token() -> str:
    """A form token: when it was issued and a random part (a sent token is remembered, so it is recorded once)."""
    return f"{int(clock.now().timestamp())}.{secrets.token_urlsafe(18)}"


def _fresh(token: str) -> bool | None:
    """True if token is well formed and young enough, False if it is stale, None if it is no token of ours."""
    m = TOKEN.fullmatch(token)
    if m is None:
        return None
    age = clock.now().timestamp() - int(m.group(1))
    return -300 <= age <= TOKEN_HOURS * 3600


def _form(person: Person, item: Item, act: Act, text: str = "", notice: str = "", status: int = 200) -> Response:
    """Render the form for act on item (text kept after a refusal that the person can fix)."""
    unit = person.unit.name if person.unit is not None else ""
    return page(
        "step.html",
        status,
        item=present.item_summary(item),
        form=FORMS[act],
        person=person.name,
        unit=unit,
        csrf=csrf_token(),
        token=new_token(),
        text=text,
        notice=notice,
        kinds=KINDS,
        action=_url(act, item.code),
        viewer=f"/h5/item/{item.code}",
    )


@bp.get("/step/<step>/<code>")
def step_form(step: str, code: str) -> Response:
    """The short form of one step on one item, or the clear reason the person may not take it now."""
    act = _step(step)
    if act is None:
        return message(NO_FORM, 404)

    def view(s: Session, person: Person) -> Response:
        try:
            item = find_item(s, code)
        except Refusal as r:
            return message(r.message, 404)
        refused = refusal(s, person, item, act)
        if refused is not None:
            return message(refused[0], refused[1], item=present.item_summary(item), link=_other_way(act, item.code))
        return _form(person, item, act)

    return logged_in(view)


@bp.post("/step/<step>/<code>")
def step_submit(step: str, code: str) -> Response:
    """Check the login, the CSRF token and the form token; take the step once; a refusal changes nothing."""
    act = _step(step)
    if act is None:
        return message(NO_FORM, 404)
    with rt().sessions() as s:
        person = current_person(s)
        userid = person.userid if person is not None else None
    if userid is None:
        return message(EXPIRED, 403)
    if not csrf_ok(request.form.get("csrf")):
        return message(BAD_CSRF, 400)
    token = request.form.get("token", "")
    fresh = _fresh(token)
    if fresh is None:
        return message(BAD_CSRF, 400)
    text = clean_text(request.form.get("text", "")).strip()
    return _take(userid, act, code, text, fresh)


def seen_key(userid: str, act: Act, code: str, text: str, checked: list[Checked]) -> str:
    """The key a sent form is remembered under: its sender, step, item, text and files, never the form token."""
    parts = [userid, act.value, code, text, *(hashlib.sha256(c.data).hexdigest() for c in checked)]
    return SEEN_KEY + hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _to_fix(
    act: Act, text: str, checked: list[Checked], fresh: bool, bad: FileRefused | None
) -> tuple[str, int] | None:
    """What the person must fix before the form is taken (said on the form shown again, the text kept), or None."""
    if bad is not None:
        return bad.message, bad.status
    if not fresh:
        return STALE, 409
    if len(text) > MAX_TEXT:
        return f"内容超过 {MAX_TEXT // 10000} 万字，请精简后再提交；没有提交任何内容。", 400
    if not text and not checked:
        return ("请填写内容或选择文件" if FORMS[act].files else "请填写内容") + "再提交；没有提交任何内容。", 400
    return None


def _sent_before(key: str) -> Response | None:
    """The answer to a form already sent (being taken, or taken), or None for a new one."""
    seen = rt().redis.get(key)
    if seen is None:
        return None
    if not seen:
        return message(BUSY, 409)
    was = json.loads(seen)
    return page(
        "step_done.html", 200, said=was["said"], again=AGAIN, code=was["code"], viewer=f"/h5/item/{was['code']}"
    )


def _take(userid: str, act: Act, code: str, text: str, fresh: bool) -> Response:
    """Answer a form sent before from memory; refuse the person or the step; show the form again for what the person
    can fix (a file, a stale form, the length, an empty text); else claim the content and take the step."""
    with rt().sessions() as s:
        found = person_and_item(s, userid, code)
        if isinstance(found, Response):
            return found
        person, item = found
        code = item.code
        checked: list[Checked] = []
        bad: FileRefused | None = None
        try:
            checked = read_files(request.files.getlist("files")) if FORMS[act].files else []
        except FileRefused as r:
            bad = r
        key = seen_key(userid, act, code, text, checked)
        done = None if bad else _sent_before(key)
        if done is not None:
            return done
        refused = refusal(s, person, item, act)
        if refused is not None:
            return message(refused[0], refused[1], item=present.item_summary(item), link=_other_way(act, code))
        fix = _to_fix(act, text, checked, fresh, bad)
        if fix is not None:
            return _form(person, item, act, text, *fix)
    if not rt().redis.set(key, "", nx=True, ex=SEEN_SECONDS):
        done = _sent_before(key)
        return done if done is not None else message(BUSY, 409)
    try:
        said = _record(userid, act, code, text, checked)
    except Refusal as r:
        rt().redis.delete(key)
        return message(r.message, 409, link=("返回填写", _url(act, code)))
    except BaseException:
        rt().redis.delete(key)
        raise
    rt().redis.set(key, json.dumps({"said": said, "code": code}, ensure_ascii=False), ex=SEEN_SECONDS)
    log.info("H5 step %s on %s by %s: %d files", act.value, code, userid, len(checked))
    return page("step_done.html", 200, said=said, again="", code=code, viewer=f"/h5/item/{code}")


def _record(userid: str, act: Act, code: str, text: str, checked: list[Checked]) -> str:
    """In one transaction: check again, take the step, close the chat's conversation bound to the same step."""
    with rt().sessions() as s, s.begin():
        person = org.person(s, userid)
        if person is None:
            raise Refusal(EXPIRED)
        refused = refusal(s, person, find_item(s, code), act)
        if refused is not None:
            raise Refusal(refused[0])
        said = _apply(s, person, act, code, text, checked)
        _close_chat(s, rt().config, userid, act, code)
        return said


def _close_chat(s: Session, config: Config, userid: str, act: Act, code: str) -> None:
    """The chat was asking this person for this very step (a tapped button, a pick): the form answered it."""
    conv = Conversations(s, config.conversation_timeout, clock.now())
    state = conv.get(userid)
    if state is None or state.get("act") != act.value:
        return
    bound = state.get("flow") == owed.STEP_FLOW and state.get("code") == code
    picking = state.get("flow") == owed.PICK_FLOW and code in state.get("codes", [])
    if bound or picking:
        conv.clear(userid)
