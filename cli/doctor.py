"""`liaowang wecom doctor`: check the app's set-up in the WeCom admin console against the live API."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core import clock
from core.config import Config
from core.wecom import WecomApi, WecomError
from workflow.duty.calendar_notice import how_to_add, missing_year, official_warning
from workflow.engine.clocks import calendar_for

HINTS = {
    40001: "Secret 不对：管理后台 → 应用管理 → 瞭望 → Secret「查看」，填入 [wecom] secret",
    40013: "企业ID 不对：「我的企业」页底部的企业ID，填入 [wecom] corp_id",
    60020: "服务器 IP 不在企业可信IP 里：应用 → 企业可信IP 加上本机出口 IP",
    40056: "AgentId 不对：应用详情页的 AgentId，填入 [wecom] agent_id",
}


def _hint(exc: WecomError) -> str:
    return HINTS.get(exc.errcode or 0, f"企业微信回答 {exc.errcode}：{exc}")


def checks(api: WecomApi, public_url: str) -> list[tuple[str, bool, str]]:
    """(what, ok, what to do) for each check; later checks need the token, so a failed token ends the list."""
    out: list[tuple[str, bool, str]] = []

    def run(what: str, fn: Callable[[], tuple[bool, str]]) -> bool:
        try:
            ok, said = fn()
        except WecomError as exc:
            ok, said = False, _hint(exc)
        out.append((what, ok, said))
        return ok

    if not run("access_token（企业ID、Secret、可信IP）", lambda: (bool(api.client.access_token), "可以取得")):
        return out
    agent: dict[str, object] = {}

    def visibility() -> tuple[bool, str]:
        agent.update(api.call("get", "agent/get", params={"agentid": api.cfg.agent_id}))
        parties = (agent.get("allow_partys") or {}).get("partyid", [])  # type: ignore[union-attr]
        if 1 in parties:
            return True, "可见范围是企业根部门：可以建“一事一群”"
        return False, "可见范围不是企业根部门：重大舆情的群聊会被拒绝（60011）。应用 → 可见范围 选根部门"

    run("应用可见范围（一事一群）", visibility)
    host = urlsplit(public_url).hostname or ""

    def domain() -> tuple[bool, str]:
        trusted = str(agent.get("redirect_domain") or "")
        if trusted and (host == trusted or host.endswith("." + trusted)):
            return True, f"可信域名 {trusted} 与 [web] public_url 一致"
        return False, f"可信域名是“{trusted or '未设置'}”，而 [web] public_url 的域名是 {host}：网页授权会报 50001"

    if agent:
        run("网页授权可信域名", domain)

    def menu() -> tuple[bool, str]:
        from workflow.people.menu import MENU, summary

        try:
            found = api.call("get", "menu/get", params={"agentid": api.cfg.agent_id})
        except WecomError as exc:
            if exc.errcode == 46003:
                return False, "还没有应用菜单：运行 liaowang wecom menu"
            raise
        names = [str(b.get("name")) for b in found.get("button", [])]
        if names != [b.name for b in MENU]:
            return False, f"应用菜单是“{' / '.join(names)}”，与瞭望的菜单（{summary()}）不同：运行 liaowang wecom menu"
        return True, f"应用菜单已创建：{summary()}"

    run("应用菜单", menu)
    out.append(
        ("接收消息的 URL", True, f"管理后台应填 {public_url.rstrip('/')}/wecom/callback（保存时企业微信会验证）")
    )
    return out


def calendar_warning(config: Config, session: Session | None = None) -> str | None:
    """The working calendar's warning when the official, entered or configured schedule ends within 60 days."""
    cal = calendar_for(config, session)
    today = clock.local(clock.now()).date()
    warning = official_warning(cal, today)
    if warning is None:
        return None
    return f"⚠ 工作日历：{warning}\n{how_to_add(missing_year(cal, today))}"


def doctor(_args: argparse.Namespace) -> int:
    """Print each check with ✓ or ✗ and what to fix, then the calendar's warning if any; exit 1 if a check failed
    (the calendar only warns: the statutory holidays cover the years without an official schedule)."""
    from cli.commands import _rt

    rt = _rt()
    rows = checks(rt.api, rt.config.public_url)
    for what, ok, said in rows:
        print(f"{'✓' if ok else '✗'} {what}：{said}")
    try:
        with rt.sessions() as s:
            warning = calendar_warning(rt.config, s)
    except SQLAlchemyError:  # the database is checked elsewhere: warn from the configuration alone
        warning = calendar_warning(rt.config)
    if warning:
        print(warning)
    bad = [w for w, ok, _s in rows if not ok]
    print("全部通过。" if not bad else f"有 {len(bad)} 项需要在管理后台处理。")
    return 1 if bad else 0
