"""The signed intake API (issue 25 item 1) through real HTTP to the running web app: every answer, the office's
message, the merge with a commentator's later report, nothing stored on refusal, the CLI's signed sample."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from cli import main as cli_main
from core import clock, intake
from models import IntakeReceipt, Item, OutboxMessage, Person
from tests.integration.harness import CREDS, Stack

SECRET = "monitor-secret-0123456789abcdef"
NAME = "某舆情监测平台"
SOURCES = {"jiance": {"name": NAME, "secret": SECRET, "category": "media"}}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with one configured source, a 1 KB body limit and three pushes a minute."""
    return make_stack(extra={"intake": {"max_kb": 1, "per_minute": 3, "sources": SOURCES}})


@pytest.fixture()
def roomy(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """The same source, a 1 KB body limit and a hundred pushes a minute."""
    return make_stack(extra={"intake": {"max_kb": 1, "per_minute": 100, "sources": SOURCES}})


def body_of(ident: str = "A-1", url: str = "https://weibo.com/123/abc", **more: Any) -> dict[str, Any]:
    """A push as a monitoring vendor sends it."""
    return {"id": ident, "title": "网传某小区电梯多次困人", "url": url, "text": "网民称一周三次困人，物业不修。",
            "platform": "微博", "published_at": "2026-12-06T09:30:00+08:00", **more}  # fmt: skip


def push(
    st: Stack,
    body: dict[str, Any] | bytes,
    key: str = "jiance",
    secret: str = SECRET,
    stamp: int | None = None,
    signed: bool = True,
) -> requests.Response:
    """POST body to /api/intake/<key>, signed with secret at stamp (default now) unless signed is False."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(clock.now().timestamp()) if stamp is None else stamp)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers |= {"X-Liaowang-Timestamp": ts, "X-Liaowang-Signature": intake.signature(secret, ts, raw)}
    resp = requests.post(f"{st.app_url}/api/intake/{key}", data=raw, headers=headers, timeout=10)
    st.drain()
    return resp


def counts(st: Stack) -> tuple[int, int, int, int]:
    """(items, receipts, outbox rows, system people) in the database."""
    with st.rt.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Item)) or 0,
            s.scalar(select(func.count()).select_from(IntakeReceipt)) or 0,
            s.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            s.scalar(select(func.count()).select_from(Person).where(Person.userid.like("intake:%"))) or 0,
        )


def test_a_new_push_becomes_an_item_the_office_is_told_naming_the_source(st: Stack) -> None:
    resp = push(st, body_of(suggested_grade="较大"))
    assert resp.status_code == 201
    code = resp.json()["code"]
    assert code.startswith("YQ-")
    assert resp.json()["created"] is True
    with st.rt.sessions() as s:
        item = s.scalars(select(Item)).one()
        assert (item.code, item.state, item.source, item.suggested_grade) == (code, "reported", "media", "significant")
        assert item.title == "网传某小区电梯多次困人"
        assert "微博" in item.text
        assert "物业不修" in item.text
        assert (item.reporter.name, item.reporter.active, item.reporter.roles) == (NAME, False, [])
        assert [link.url for link in item.links] == ["https://weibo.com/123/abc"]
        rows = s.scalars(select(OutboxMessage.touser)).all()
        assert rows
        assert not any("intake:" in row for row in rows), "the source is never a WeCom recipient"
    for office in ("chenqi", "hemin"):
        told = [t for t in st.texts(office) if "【新舆情待交办】" in t]
        assert len(told) == 1
        assert code in told[0]
        assert f"来源：{NAME}推送（媒体报道）" in told[0]
        assert "https://weibo.com/123/abc" in told[0]
        assert "建议等级：较大" in told[0]
    st.say("chenqi", f"查询 {code}")
    assert NAME in st.last("chenqi")


def test_a_repeat_of_the_same_id_answers_the_same_item_and_changes_nothing(st: Stack) -> None:
    first = push(st, body_of())
    before = counts(st)
    again = push(st, body_of(title="同一条的更新标题"))
    assert again.status_code == 200
    assert again.json() == {"code": first.json()["code"], "created": False}
    assert counts(st) == before
    assert len([t for t in st.texts("chenqi") if "【新舆情待交办】" in t]) == 1


def test_a_push_of_a_link_already_open_joins_it_and_the_first_finder_is_kept(st: Stack) -> None:
    st.say("zhangsan", "上报 电梯困人的帖子 https://weibo.com/123/abc")
    with st.rt.sessions() as s:
        code = s.scalars(select(Item.code)).one()
    resp = push(st, body_of(ident="B-7", url="http://www.weibo.com/123/abc?utm_source=x#top"))
    assert resp.status_code == 200
    assert resp.json() == {"code": code, "created": False}
    with st.rt.sessions() as s:
        item = s.scalars(select(Item)).one()
        assert item.reporter.userid == "zhangsan"
        assert s.scalars(select(IntakeReceipt.created)).all() == [False]
    assert any("【重复上报已合并】" in t and "首报仍记 张三" in t for t in st.texts("chenqi"))
    assert push(st, body_of(ident="B-7")).json() == {"code": code, "created": False}


def test_a_commentator_who_later_reports_the_pushed_link_is_merged_into_it(st: Stack) -> None:
    code = push(st, body_of()).json()["code"]
    st.say("zhangsan", "上报 小区电梯困人 https://m.weibo.com/123/abc")
    assert f"此前已由{NAME}上报（编号 {code}）" in st.reply("zhangsan")
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
    merged = [t for t in st.texts("chenqi") if "【重复上报已合并】" in t]
    assert len(merged) == 1
    assert code in merged[0]
    assert "张三" in merged[0]
    assert f"首报仍记 {NAME}" in merged[0]


def test_every_refusal_answers_its_status_in_chinese_and_stores_nothing(roomy: Stack) -> None:
    st = roomy
    now = int(clock.now().timestamp())
    cases: list[tuple[int, requests.Response]] = [
        (404, push(st, body_of(), key="nobody")),
        (401, push(st, body_of(), signed=False)),
        (401, push(st, body_of(), secret="another-secret-0123456789")),
        (401, push(st, body_of(), stamp=now - 301)),
        (401, push(st, body_of(), stamp=now + 301)),
        (413, push(st, body_of(text="长" * 2000))),
        (400, push(st, b'{"id": "A-1", "title": ')),
        (400, push(st, b"\xff\xfe not utf-8")),
        (400, push(st, b'["a list"]')),
        (422, push(st, {"id": "A-1", "text": "只有正文"})),
        (422, push(st, body_of(ident=""))),
        (422, push(st, body_of(url="javascript:alert(1)"))),
        (422, push(st, body_of(suggested_grade="很大"))),
        (422, push(st, body_of(published_at="昨天"))),
    ]
    for want, resp in cases:
        assert resp.status_code == want, (want, resp.text)
        error = resp.json()["error"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error), error
    assert "签名不对" in cases[2][1].json()["error"]
    assert "5 分钟" in cases[3][1].json()["error"]
    assert "title 和 url 至少要有一个" in cases[9][1].json()["error"]
    assert counts(st) == (0, 0, 0, 0)
    assert st.texts("chenqi") == []
    assert push(st, body_of(), stamp=now - 299).status_code == 201, "inside ±5 minutes is accepted"


def test_each_source_may_push_so_many_a_minute_then_429_with_retry_after(st: Stack) -> None:
    for n in range(3):
        assert push(st, body_of(ident=f"R-{n}", url=f"https://weibo.com/r/{n}")).status_code == 201
    before = counts(st)
    over = push(st, body_of(ident="R-3", url="https://weibo.com/r/3"))
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert "推送太频繁" in over.json()["error"]
    assert counts(st) == before
    st.later(int(over.headers["Retry-After"]))
    assert push(st, body_of(ident="R-3", url="https://weibo.com/r/3")).status_code == 201


def test_the_cli_sample_is_signed_with_the_configured_secret_and_accepted(
    make_stack,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LIAOWANG_INTAKE_SOURCES_SHENGTAI_NAME", "省级舆情平台")
    monkeypatch.setenv("LIAOWANG_INTAKE_SOURCES_SHENGTAI_SECRET", "from-the-environment-0123456789")
    st = make_stack()
    config = tmp_path / "cli.toml"
    config.write_text(
        "[wecom]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in CREDS.items())
        + f'[database]\nurl = "{st.rt.config.database_url}"\n[web]\npublic_url = "{st.app_url}"\n',
        encoding="utf-8",
    )  # fmt: skip
    monkeypatch.setenv("LIAOWANG_CONFIG", str(config))
    assert cli_main(["intake", "sample", "shengtai"]) == 0
    out = capsys.readouterr().out
    curl = shlex.split(out.split("# curl：\n")[1].strip())
    headers = dict(curl[i + 1].split(": ", 1) for i, part in enumerate(curl) if part == "-H")
    body = curl[curl.index("--data-binary") + 1].encode()
    stamp, signature = headers["X-Liaowang-Timestamp"], headers["X-Liaowang-Signature"]
    assert intake.verify("from-the-environment-0123456789", stamp, body, signature)
    assert body.decode() in out
    assert curl[curl.index("POST") + 1] == f"{st.app_url}/api/intake/shengtai"
    resp = requests.post(curl[curl.index("POST") + 1], data=body, headers=headers, timeout=10)
    assert resp.status_code == 201, resp.text
    st.drain()
    assert any("来源：省级舆情平台推送（主动发现）" in t for t in st.texts("chenqi"))
    assert cli_main(["intake", "sample", "shengtai", "--send"]) == 0
    assert f'HTTP 200 {{"code":"{resp.json()["code"]}","created":false}}' in capsys.readouterr().out
    assert cli_main(["intake", "sample", "nobody"]) == 2
    assert "没有推送来源" in capsys.readouterr().err
