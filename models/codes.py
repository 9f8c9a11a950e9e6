"""The two small grammars the procedure writes and reads back: card button keys and clock threshold names.

Each is encoded and decoded here only: renderers call `card_key`, handlers call `parse_card_key`; clocks name their
thresholds with `Threshold.name` and the firing code reads them with `Threshold.parse`.
"""

from __future__ import annotations

from dataclasses import dataclass

# prefix → the names of the fields after it (the key is "prefix:field:field…", ≤ 1024 bytes as WeCom allows)
CARD_KEYS: dict[str, tuple[str, ...]] = {
    "ack": ("code", "unit"),  # 签收 on the dispatch card
    "appr": ("submission", "choice"),  # 批准 ok / 退回修改 back / 升级为重大 major
    "ext": ("extension", "choice"),  # 同意 yes / 不同意 no
    "fu": ("watch", "n", "choice"),  # 善后回访: 平稳 calm / 反弹 up
    "opin": ("code", "choice"),  # 会商: 无不同意见 ok / 提出意见 say
    "urge": ("clock",),  # 催办 on an escalation card
    "seen": ("clock",),  # 已知悉 on an escalation card
    "oral": ("clock",),  # 已口头汇报 on a first-report reminder
    "askext": ("clock",),  # 申请延期 on a final warning
    "wr": ("code",),  # 在聊天中填写 / 写书面报告
    "dsp": ("dispute", "choice"),  # 申诉: 维持 keep / 撤销 drop
    "pat": ("round", "choice"),  # 日常巡查 "<day>.<round>": 无异常 zero / 有情况上报 report
    "gr": ("assignment", "choice"),  # 组织跟帖: 已跟帖 done / 无法完成 decline
    "brief": ("brief", "choice"),  # 快报/专报审批: 同意 ok / 退回 back
    "stmt": ("statement", "choice"),  # 口径审核/审定: 同意 ok / 退回修改 back
    "stmtc": ("statement", "unit", "choice"),  # 口径确认: 确认 ok / 有意见 say
    "same": ("pair", "choice"),  # 可能为同一事件: 合并 join / 不是同一事件 no
    "do": ("step", "code"),  # the next step on an item (写首报, 续报, 书面报告 …): opens a conversation bound to it
}


def card_key(prefix: str, *fields: object) -> str:
    """Return the button key for prefix with its declared fields (a wrong count is a programming error)."""
    if len(fields) != len(CARD_KEYS[prefix]) or any(":" in str(f) for f in fields):
        raise ValueError(f"card key {prefix!r} takes {CARD_KEYS[prefix]}, got {fields!r}")
    return ":".join([prefix, *(str(f) for f in fields)])


def parse_card_key(key: str) -> tuple[str, list[str]] | None:
    """Return (prefix, fields) of a button key, or None if it is not one of ours or has the wrong shape."""
    prefix, _, rest = key.partition(":")
    fields = rest.split(":") if rest else []
    if prefix not in CARD_KEYS or len(fields) != len(CARD_KEYS[prefix]) or not all(fields):
        return None
    return prefix, fields


THRESHOLD_KINDS = ("nudge", "warn", "due", "level")


@dataclass(frozen=True)
class Threshold:
    """One moment of a clock: nudge, warn, due (escalation level 1) or level N ≥ 2; extension k re-arms warn/due/levels.

    Names: "nudge", "warn", "due", "level2", and after the k-th extension "warn@k", "due@k", "level2@k".
    """

    kind: str
    level: int = 0
    extension: int = 0

    @property
    def name(self) -> str:
        """The threshold's stored name (unique per clock)."""
        base = f"level{self.level}" if self.kind == "level" else self.kind
        return f"{base}@{self.extension}" if self.extension and self.kind != "nudge" else base

    @classmethod
    def parse(cls, name: str) -> Threshold:
        """Read a stored name back; raise ValueError for anything else."""
        base, _, ext = name.partition("@")
        extension = int(ext) if ext else 0
        if base.startswith("level") and base[5:].isdigit():
            return cls("level", int(base[5:]), extension)
        if base not in THRESHOLD_KINDS or base == "level":
            raise ValueError(f"not a threshold name: {name!r}")
        return cls(base, 0, extension)
