"""`liaowang contacts sync`: import departments and people from WeCom's contact book (docs/contacts.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core import clock
from core.config import load_config
from core.runtime import Runtime
from core.wecom import WecomError
from wiring import wire
from workflow.people.contacts import Report

NO_MAPPING = "请在配置 [contacts] mapping 中指定通讯录映射文件，或用 --mapping 给出（格式见 docs/contacts.md）。"
EXPLAIN = {
    60011: "瞭望的可见范围不包含要同步的部门：在管理后台 → 应用管理 → 瞭望 → 可见范围 里加入这些部门（建议选根部门）",
    60003: "企业微信里没有这个部门：检查映射文件 [sync] departments 里的部门 id",
    60020: "本机 IP 不在应用的企业可信 IP 里：在管理后台 → 应用管理 → 瞭望 → 企业可信IP 里加入",
    40001: "Secret 不对：检查配置 [wecom] secret",
    40013: "企业ID 不对：检查配置 [wecom] corp_id",
}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `contacts sync`."""
    contacts = sub.add_parser("contacts", help="通讯录同步").add_subparsers(dest="sub", required=True)
    sync = contacts.add_parser("sync", help="从企业微信通讯录导入部门和人员（按 [contacts] mapping 映射单位和角色）")
    sync.add_argument("--dry-run", action="store_true", help="只显示会有哪些变化，不写数据库")
    sync.add_argument("--json", action="store_true", help="以 JSON 打印结果")
    sync.add_argument("--mapping", metavar="FILE", help="映射文件（缺省用配置 [contacts] mapping）")
    sync.add_argument("--force", action="store_true", help="即使会停用过半的人也照做（确认通讯录确实如此时）")
    sync.set_defaults(func=sync_cmd)


def wecom_sentence(exc: WecomError) -> str:
    """Return a Chinese sentence for a failed WeCom call: what happened and what to do."""
    if exc.errcode is None:
        return f"连不上企业微信（{exc.errmsg}）：检查网络和配置 [wecom] api_base，稍后再试。"
    hint = EXPLAIN.get(exc.errcode, "请对照企业微信的错误码说明检查管理后台的设置")
    return f"企业微信拒绝了通讯录读取（错误码 {exc.errcode}：{exc.errmsg}）。{hint}。"


def sync_cmd(args: argparse.Namespace) -> int:
    """Read the contact book and apply it; exit 0, 1 on a WeCom error, 2 on a bad or missing mapping file."""
    from workflow.people.contacts import (
        DirectoryError,
        MappingError,
        apply_directory,
        fetch_directory,
        load_mapping,
        mass_deactivation,
    )

    rt = wire(Runtime(load_config()), queue=False)
    path = Path(args.mapping) if args.mapping else rt.config.contacts_mapping
    say = (lambda _t: None) if args.json else (lambda t: print(t, flush=True))
    if path is None:
        print(
            "请在配置 [contacts] mapping 中指定通讯录映射文件，或用 --mapping 给出（格式见 docs/contacts.md）。",
            file=sys.stderr,
        )
        return 2
    try:
        mapping = load_mapping(path)
    except MappingError as exc:
        print(f"映射文件有误，什么也没有改：{exc}", file=sys.stderr)
        return 2
    say(f"· 映射文件 {path}：{len(mapping.departments)} 个部门、{len(mapping.people)} 人的角色")
    try:
        directory = fetch_directory(rt.api, mapping)
    except (WecomError, DirectoryError) as exc:
        text = wecom_sentence(exc) if isinstance(exc, WecomError) else f"{exc}，什么也没有改。"
        print(text, file=sys.stderr)
        return 1
    say(f"· 企业微信通讯录：{len(directory.departments)} 个部门、{len(directory.members)} 名成员")
    with rt.sessions() as s, s.begin():
        if (why := mass_deactivation(s, directory)) and not args.force:
            if not args.dry_run:
                print(f"{why}。什么也没有改；确认无误请加 --force。", file=sys.stderr)
                return 1
            print(f"注意：{why}（试运行，照常列出）。", file=sys.stderr)
        report = apply_directory(s, mapping, directory, clock.now())
        if args.dry_run:
            s.rollback()
    if args.json:
        print(json.dumps({**report.as_json(), "dry_run": bool(args.dry_run)}, ensure_ascii=False))
        return 0
    for line in summary(report, args.dry_run):
        print(line)
    return 0


def summary(report: Report, dry_run: bool) -> list[str]:
    """Return the Chinese summary of a sync report."""
    r = report.as_json()
    lines = [
        ("（试运行，未写入）" if dry_run else "")
        + f"同步完成：部门 {r['departments']} 个，对应单位 {r['units']} 个；"
        + f"人员新增 {r['created']}、更新 {r['updated']}、恢复 {r['reactivated']}、停用 {r['deactivated']}、"
        + f"未变 {r['unchanged']}。"
    ]
    if r["unmapped"]:
        names = "、".join(f"{name}（{dep}）" for dep, name in r["unmapped"].items())
        lines.append(f"未映射的部门（其成员没有所属单位）：{names}。需要时在映射文件里加 [[departments]]。")
    if r["renamed"]:
        lines.append(f"改了企业微信账号（userid）的人 {r['renamed']} 个：角色、单位和记录已随人转到新账号。")
    if r["kept"]:
        lines.append(
            "这些岗位按通讯录将没有在用的人，已暂时保留原来的人并通知领导和办公室：" + "；".join(r["kept"]) + "。"
        )
    if r["missing"]:
        lines.append(f"映射文件里的这些部门企业微信没有（或不在可见范围内）：{'、'.join(map(str, r['missing']))}。")
    return lines
