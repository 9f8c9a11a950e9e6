"""`liaowang sandbox …`: run the WeCom emulator and act as a person through it, printing what people receive."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from core import clock
from core.config import Config, load_config
from core.policy import ClockKind
from models.clocktable import label
from sandbox.render import describe

QUIET_SECONDS = 1.5
FIRST_SECONDS = 10.0  # the reply to the act itself: a worker under load may take this long


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the sandbox sub-commands."""
    sb = sub.add_parser("sandbox", help="企业微信模拟器").add_subparsers(dest="sub", required=True)
    serve = sb.add_parser("serve", help="启动企业微信模拟器")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5050)
    serve.set_defaults(func=serve_cmd)
    say = sb.add_parser("say", help="以某人身份发一条文字消息，并显示每个人收到的内容")
    say.add_argument("userid")
    say.add_argument("text", nargs="+")
    say.set_defaults(func=say_cmd)
    tap = sb.add_parser("tap", help="以某人身份点击其最新卡片上的按钮（默认第一个）")
    tap.add_argument("userid")
    tap.add_argument("button", nargs="?", default="")
    tap.set_defaults(func=tap_cmd)
    click = sb.add_parser("click", help="以某人身份点击应用菜单（REPORT / TODO / HELP）")
    click.add_argument("userid")
    click.add_argument("key")
    click.set_defaults(func=click_cmd)


def _url(cfg: Config) -> str:
    return str(cfg.raw.get("sandbox", {}).get("url") or cfg.wecom.api_base)


def _client(cfg: Config):  # type: ignore[no-untyped-def]
    from sandbox.client import SandboxClient

    return SandboxClient(_url(cfg))


ROOT_NAME = "市城市管理综合执法局"
LEADERS_NAME = "局领导"


def department_ids(org: dict[str, Any]) -> dict[str, int]:
    """Return the WeCom department id of each unit of an organisation file (2, 3, … in file order; "" = 局领导)."""
    ids = {u["key"]: 2 + i for i, u in enumerate(org.get("units", []))}
    return {**ids, "": 2 + len(ids)}


def department_tree(org: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the emulator's department tree for an organisation file: the bureau, one department per unit, 局领导."""
    ids = department_ids(org)
    names = {u["key"]: u["name"] for u in org.get("units", [])}
    tree = [{"id": 1, "name": ROOT_NAME, "parentid": 0, "order": 0}]
    for key, dep in ids.items():
        tree.append({"id": dep, "name": names.get(key, LEADERS_NAME), "parentid": 1, "order": 1000 - dep})
    return tree


def directory(org: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the emulator's directory for an organisation file: userid, name, department, unit name, Chinese roles."""
    from models import ROLE_NAMES, Role

    units = {u["key"]: u["name"] for u in org.get("units", [])}
    ids = department_ids(org)
    return [
        {
            "userid": p["userid"],
            "name": p["name"],
            "department": [ids.get(p.get("unit", ""), ids[""])],
            "unit": units.get(p.get("unit", ""), ""),
            "roles": [ROLE_NAMES[Role(r)] for r in p.get("roles", [])],
        }
        for p in org.get("people", [])
    ]


def fast_example(cfg: Config) -> str:
    """Return how the scale shows on one clock, e.g. "重大舆情首报 30分钟 → 30秒" (empty without such a clock)."""
    from core.durations import format_duration

    first = cfg.policy.clocks.get(ClockKind.first_report)
    span = first.span("major") if first else None
    if span is None:
        return ""
    name = first.label or label(ClockKind.first_report)
    return f"重大舆情{name} {format_duration(span.due * cfg.policy.scale)} → {format_duration(span.due)}"


def clock_notice(cfg: Config) -> str:
    """Return the sentence that tells people the demo's clocks run faster (empty at the real speed)."""
    scale = getattr(cfg.policy, "scale", 1)
    if scale == 1:
        return ""
    example = fast_example(cfg)
    return (
        f"演示模式：时限时钟加快 {scale:g} 倍"
        + (f"（{example}）" if example else "")
        + "，提醒、督办在一分钟内就能看到。"
    )


def serve_cmd(args: argparse.Namespace) -> int:
    """Run the emulator for the configured app until Ctrl-C, with the organisation's people as members."""
    import logging

    from sandbox.server import serve
    from sandbox.settings import EmulatorSettings
    from workflow.people.org import load_org_file

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    cfg = load_config()
    w = cfg.wecom
    callback = cfg.raw.get("sandbox", {}).get("callback_url") or f"{cfg.public_url}/wecom/callback"
    srv = serve(
        args.host,
        args.port,
        EmulatorSettings(
            w.corp_id,
            w.agent_id,
            w.secret,
            w.token,
            w.encoding_aes_key,
            callback_url=callback,
            notice=clock_notice(cfg),
            clock_shift=clock.shift_seconds(),
        ),
    )
    if cfg.org_file:
        from sandbox.contacts import set_departments

        org = load_org_file(cfg.org_file)
        set_departments(srv.world, department_tree(org), merge=False)
        srv.world.set_people(directory(org))
    if cfg.mp is not None:  # the bureau's 公众号: the emulator knows its credentials and posts to /mp/callback
        m = cfg.mp
        srv.mp.app_id, srv.mp.app_secret, srv.mp.token, srv.mp.encoding_aes_key = (
            m.app_id, m.app_secret, m.token, m.encoding_aes_key,
        )  # fmt: skip
        srv.mp.callback_url = f"{cfg.public_url}/mp/callback"
        print(f"局微信公众号（模拟）：市民的手机 {srv.url}/phone/mp", flush=True)
    print(f"企业微信模拟器：{srv.url}（回调 {callback}）", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.shutdown()
    return 0


def _show_new(client, since: int, names: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Wait for the first message, then until QUIET_SECONDS pass with nothing new (15 s in all); print each one."""
    deadline, last_change, seen = time.monotonic() + 15, time.monotonic(), since
    while time.monotonic() < deadline and time.monotonic() - last_change < QUIET_SECONDS:
        first = seen == since
        try:
            new = client.wait_for(None, since=seen, timeout=FIRST_SECONDS if first else QUIET_SECONDS)
        except TimeoutError:
            break
        seen = max(r["seq"] for r in new)
        last_change = time.monotonic()
    records = client.inbox(None, since)
    if not records:
        print("（没有人收到消息）")
        return
    for r in records:
        who = names.get(r["userid"], r["userid"])
        print(f"── {who}（{r['userid']}）收到：")
        print("   " + describe(r).replace("\n", "\n   "))


def _names(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p["userid"]: p.get("name", p["userid"]) for p in client.people()}


def _act(act) -> int:  # type: ignore[no-untyped-def]
    import requests

    cfg = load_config()
    client = _client(cfg)
    try:
        since = client.cursor()
        out = act(client)
    except requests.RequestException:
        print(
            f"连不上企业微信模拟器 {_url(cfg)}：请先运行 liaowang demo（或 liaowang sandbox serve）。", file=sys.stderr
        )
        return 1
    if out is None:
        return 1
    statuses = out.get("statuses", [])
    if statuses and statuses[-1] != 200:
        print(f"瞭望的回调答复了 HTTP {statuses[-1]}")
    _show_new(client, since, _names(client))
    return 0


def say_cmd(args: argparse.Namespace) -> int:
    """Send TEXT as USERID and print what everybody received."""
    return _act(lambda c: c.say(args.userid, " ".join(args.text)))


def click_cmd(args: argparse.Namespace) -> int:
    """Click a menu item as USERID."""
    return _act(lambda c: c.click(args.userid, args.key))


def tap_cmd(args: argparse.Namespace) -> int:
    """Tap a button (by its text, else the first) on USERID's newest card that still has such a button."""

    def act(c):  # type: ignore[no-untyped-def]
        for rec in reversed(c.inbox(args.userid)):
            card = rec.get("card") or rec["body"].get("template_card") or {}
            if rec["msgtype"] != "template_card" or rec.get("replaced_button"):
                continue
            buttons = [
                b
                for b in card.get("button_list", [])
                if b.get("type", 0) != 1 and (not args.button or b.get("text") == args.button)
            ]
            if buttons:
                return c.card_click(args.userid, card["task_id"], buttons[0]["key"])
        what = f"带“{args.button}”按钮的" if args.button else "可点击的"
        print(f"{args.userid} 没有{what}卡片（已点过的卡片不能再点）。", file=sys.stderr)
        return None

    return _act(act)
