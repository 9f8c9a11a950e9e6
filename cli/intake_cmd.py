"""`liaowang intake sample <source>`: a signed example push for a configured source (docs/intake.md), or send it."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import urllib.error
import urllib.request
from typing import Any


def add_parser(sub: Any) -> None:
    """Register `intake sample`."""
    group = sub.add_parser("intake", help="推送接口（舆情监测平台等系统推送舆情）").add_subparsers(
        dest="sub", required=True
    )
    sample = group.add_parser("sample", help="打印一个按配置的密钥签好名的示例推送（curl 命令和请求体）")
    sample.add_argument("source", help="[intake.sources.<key>] 的 key")
    sample.add_argument("--send", action="store_true", help="同时把它发到 [web] public_url（演示和沙箱里用）")
    sample.set_defaults(func=sample_cmd)


def example(key: str, now: float) -> dict[str, Any]:
    """An example push body for source key at unix time now (its id and link differ each second)."""
    stamp = int(now)
    return {
        "id": f"sample-{stamp}",
        "title": "网传某小区电梯多次困人，物业迟迟不修",
        "url": f"https://weibo.com/1234567890/sample{stamp}",
        "text": "网民发帖称小区电梯一周内三次困人，投诉物业无果，帖子已有上百条评论。",
        "platform": "微博",
        "published_at": stamp,
        "suggested_grade": "general",
    }


def signed(url: str, secret: str, body: bytes, stamp: str) -> tuple[dict[str, str], str]:
    """(headers, curl command on one line) of body posted to url, signed with secret at stamp."""
    from core import intake

    headers = {
        "Content-Type": "application/json",
        "X-Liaowang-Timestamp": stamp,
        "X-Liaowang-Signature": intake.signature(secret, stamp, body),
    }
    parts = ["curl", "-sS", "-X", "POST", url]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body.decode()]
    return headers, " ".join(shlex.quote(p) for p in parts)


def sample_cmd(args: argparse.Namespace) -> int:
    """Print the curl command and body of a signed example push for args.source; with --send, post it too."""
    from core import clock, intake
    from core.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    source = intake.sources(config.raw).get(args.source)
    if source is None:
        known = "、".join(intake.sources(config.raw)) or "（还没有配置任何来源）"
        print(f"没有推送来源 {args.source!r}。已配置的来源：{known}（见 [intake.sources.<key>]）", file=sys.stderr)
        return 2
    now = clock.now().timestamp()
    body = json.dumps(example(source.key, now), ensure_ascii=False, separators=(",", ":")).encode()
    url = f"{config.public_url}/api/intake/{source.key}"
    headers, curl = signed(url, source.secret, body, str(int(now)))
    print(f"# 来源：{source.name}（{source.key}）；签名有效期 ±5 分钟，请求体须逐字节原样发送")
    print(f"# 请求体：\n{body.decode()}")
    print(f"# curl：\n{curl}")
    if not args.send:
        return 0
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - our own configured public_url
            print(f"# 回答：HTTP {resp.status} {resp.read().decode()}")
            return 0
    except urllib.error.HTTPError as exc:
        print(f"# 回答：HTTP {exc.code} {exc.read().decode()}", file=sys.stderr)
    except OSError as exc:
        print(f"# 发送失败：{exc}", file=sys.stderr)
    return 1
