"""Load and validate the TOML configuration; every problem is one ConfigError line naming the key."""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.policy import Policy, parse_policy
from core.scoring import parse_scoring

REAL_API_BASE = "https://qyapi.weixin.qq.com"
REAL_OAUTH_BASE = "https://open.weixin.qq.com"


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the offending key."""


@dataclass(frozen=True)
class WecomConfig:
    """[wecom]: the app's identity and where the WeCom API lives."""

    corp_id: str
    agent_id: int
    secret: str
    token: str
    encoding_aes_key: str
    api_base: str = REAL_API_BASE
    oauth_base: str = REAL_OAUTH_BASE
    timeout: float = 5.0


REAL_MP_API_BASE = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class MpConfig:
    """[mp]: the bureau's 公众号 (WeChat official account) in safe mode, and where its API lives."""

    app_id: str
    app_secret: str
    token: str
    encoding_aes_key: str
    api_base: str = REAL_MP_API_BASE
    timeout: float = 5.0


MAX_REQUEST_MB = 110  # one H5 upload request (several written-report files of up to 20 MB each), in MB


@dataclass(frozen=True)
class Config:
    """The whole configuration, with defaults for everything but [wecom]."""

    wecom: WecomConfig
    database_url: str
    redis_url: str
    data_dir: Path
    org_file: Path | None = None
    contacts_mapping: Path | None = None  # [contacts] mapping: contact-book sync is on when set (docs/contacts.md)
    public_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""
    frame_ancestors: str = ""
    max_body: int = 64 * 1024
    max_request_mb: int = MAX_REQUEST_MB  # [web] max_request_mb: a whole H5 upload request; nginx must allow as much
    callback_window: float = 600.0
    code_prefix: str = "YQ"
    conversation_timeout: int = 600
    outbox: dict[str, Any] = field(default_factory=dict)
    sweep_interval: float = 5.0
    storage_dir: Path = Path("var/files")
    policy: Policy = field(default_factory=Policy)
    calendar_years: dict[int, dict[str, list[date]]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # where each key's value came from (liaowang config)
    mp: MpConfig | None = None  # [mp]: the 公众号 channel, off unless configured (docs/intake.md)


_SECRET_KEYS = ("corp_id", "agent_id", "secret", "token", "encoding_aes_key", "api_base", "oauth_base")


def _env_override(section: str, key: str, value: Any) -> Any:
    """Return LIAOWANG_<SECTION>_<KEY> from the environment if set, else value."""
    env = os.environ.get(f"LIAOWANG_{section}_{key}".upper())
    if env is None:
        return value
    from core.envconfig import parse

    return parse(env)  # 2h and "2h" alike: a TOML value when it is one, else the text


def _need(section: dict[str, Any], name: str, key: str) -> Any:
    value = _env_override(name, key, section.get(key))
    if value is None or value == "":
        raise ConfigError(f"配置缺少 [{name}] {key}（或环境变量 LIAOWANG_{name.upper()}_{key.upper()}）")
    return value


def _valid_aes_key(key: str) -> bool:
    """Return True if key decodes (with "=") to the 32-byte AES key WeCom uses."""
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _wecom(raw: dict[str, Any]) -> WecomConfig:
    sec = raw.get("wecom")
    if not isinstance(sec, dict):
        raise ConfigError("配置缺少 [wecom] 一节（corp_id agent_id secret token encoding_aes_key）")
    vals = {k: _need(sec, "wecom", k) for k in ("corp_id", "agent_id", "secret", "token", "encoding_aes_key")}
    try:
        vals["agent_id"] = int(vals["agent_id"])
    except (TypeError, ValueError):
        raise ConfigError(f"[wecom] agent_id 必须是整数，现在是 {vals['agent_id']!r}") from None
    if len(str(vals["encoding_aes_key"])) != 43:
        raise ConfigError(f"[wecom] encoding_aes_key 必须是 43 个字符，现在是 {len(str(vals['encoding_aes_key']))} 个")
    if not _valid_aes_key(str(vals["encoding_aes_key"])):
        raise ConfigError("[wecom] encoding_aes_key 只能由字母和数字组成（企业微信后台“随机获取”的 43 位字符）")
    for k in ("api_base", "oauth_base"):
        default = REAL_API_BASE if k == "api_base" else REAL_OAUTH_BASE
        v = str(_env_override("wecom", k, sec.get(k, default))).rstrip("/")
        if not v.startswith(("http://", "https://")):
            raise ConfigError(f"[wecom] {k} 必须以 http:// 或 https:// 开头，现在是 {v!r}")
        vals[k] = v
    vals["timeout"] = float(sec.get("timeout", 5.0))
    return WecomConfig(
        corp_id=str(vals["corp_id"]),
        agent_id=int(vals["agent_id"]),
        secret=str(vals["secret"]),
        token=str(vals["token"]),
        encoding_aes_key=str(vals["encoding_aes_key"]),
        api_base=str(vals["api_base"]),
        oauth_base=str(vals["oauth_base"]),
        timeout=float(vals["timeout"]),
    )


def _mp(raw: dict[str, Any]) -> MpConfig | None:
    """[mp] (after environment overrides), or None when no app_id is set: the 公众号 channel is off."""
    sec = raw.get("mp")
    if not isinstance(sec, dict) or not sec.get("app_id"):
        return None
    vals = {k: str(_need(sec, "mp", k)) for k in ("app_id", "app_secret", "token", "encoding_aes_key")}
    if len(vals["encoding_aes_key"]) != 43 or not _valid_aes_key(vals["encoding_aes_key"]):
        raise ConfigError("[mp] encoding_aes_key 须是公众号后台“服务器配置”里随机生成的 43 位字母和数字")
    base = str(sec.get("api_base", REAL_MP_API_BASE)).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"[mp] api_base 必须以 http:// 或 https:// 开头，现在是 {base!r}")
    try:
        timeout = float(sec.get("timeout", 5.0))
    except (TypeError, ValueError):
        raise ConfigError(f"[mp] timeout 须是秒数，现在是 {sec.get('timeout')!r}") from None
    return MpConfig(**vals, api_base=base, timeout=timeout)


def _storage_dir(raw: dict[str, Any], data_dir: Path, base: Path) -> Path:
    """Return [storage] dir (default data_dir/files), relative paths taken from the config file's folder."""
    value = raw.get("storage", {}).get("dir")
    if not value:
        return data_dir / "files"
    p = Path(str(value))
    return p if p.is_absolute() else base / p


def _policy(raw: dict[str, Any]) -> Policy:
    """Return the deadline Policy of [policy] over the shipped defaults, or raise ConfigError."""
    try:
        return parse_policy(raw.get("policy"))
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"[policy] {exc}") from None


def _assessment(raw: dict[str, Any]) -> dict[str, Any]:
    """Return raw with [scoring] and [bulletin] after environment overrides, validated (SPEC §10)."""
    import json

    scoring = dict(raw.get("scoring", {}))
    for key in ("base", "since"):
        if (value := _env_override("scoring", key, scoring.get(key))) is not None:
            scoring[key] = value
    if (rules := os.environ.get("LIAOWANG_SCORING_RULES")) is not None:
        try:
            scoring["rules"] = json.loads(rules)
        except ValueError:
            raise ConfigError('LIAOWANG_SCORING_RULES 须是 JSON 数组，例如 [{"fact": "迟报", "main": -2}]') from None
    try:
        parse_scoring(scoring)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"[scoring] {exc}") from None
    bulletin = {
        k: _env_override("bulletin", k, v) for k, v in {"day": 1, "time": "09:00", **raw.get("bulletin", {})}.items()
    }
    try:
        day, (hh, mm) = int(bulletin["day"]), (int(x) for x in str(bulletin["time"]).split(":"))
    except ValueError:
        raise ConfigError(f"[bulletin] time 写成 09:00，day 写成 1～28，现在是 {bulletin!r}") from None
    if not (1 <= day <= 28 and 0 <= hh < 24 and 0 <= mm < 60):
        raise ConfigError(f"[bulletin] day 须在 1～28 之间，time 须是有效时刻，现在是 {bulletin!r}")
    return {**raw, "scoring": scoring, "bulletin": bulletin}


def _rounds(value: Any, where: str) -> list[dict[str, str]]:
    """Check-in rounds: a list of {card, remind, due} times of day in order, or raise ConfigError."""
    import json
    import re

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigError(
                f'{where} 须是 JSON 数组，例如 [{{"card": "15:30", "remind": "17:00", "due": "17:30"}}]'
            ) from None
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} 须是至少一轮的列表")
    out = []
    for r in value:
        times = [str(r.get(k, "")) if isinstance(r, dict) else "" for k in ("card", "remind", "due")]
        if not all(re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", t) for t in times):
            raise ConfigError(f"{where} 每轮写 card、remind、due 三个时刻（如 15:30），现在是 {r!r}")
        minutes = [int(t.split(":")[0]) * 60 + int(t.split(":")[1]) for t in times]
        if not minutes[0] <= minutes[1] <= minutes[2]:
            raise ConfigError(f"{where} 每轮须 card ≤ remind ≤ due，现在是 {r!r}")
        out.append(dict(zip(("card", "remind", "due"), times, strict=True)))
    return out


def _duty(raw: dict[str, Any]) -> dict[str, Any]:
    """Return raw with [patrol], [guided] and [sensitive] after environment overrides, validated (SPEC §11, §13)."""
    from core.durations import parse_duration

    patrol = dict(raw.get("patrol", {}))
    enabled = _env_override("patrol", "enabled", patrol.get("enabled", True))
    patrol["enabled"] = (
        enabled if isinstance(enabled, bool) else str(enabled).lower() not in ("0", "false", "no", "off")
    )
    patrol["days"] = str(_env_override("patrol", "days", patrol.get("days", "workdays")))
    if patrol["days"] not in ("workdays", "every_day"):
        raise ConfigError(f'[patrol] days 须是 "workdays" 或 "every_day"，现在是 {patrol["days"]!r}')
    if (rounds := _env_override("patrol", "rounds", patrol.get("rounds"))) is not None:
        patrol["rounds"] = _rounds(rounds, "[patrol] rounds")
    guided = {**raw.get("guided", {})}
    guided["due"] = str(_env_override("guided", "due", guided.get("due", "2h")))
    sensitive = dict(raw.get("sensitive", {}))
    sensitive["first_report_due"] = str(
        _env_override("sensitive", "first_report_due", sensitive.get("first_report_due", "30m"))
    )
    if (rounds := _env_override("sensitive", "rounds", sensitive.get("rounds"))) is not None:
        sensitive["rounds"] = _rounds(rounds, "[sensitive] rounds")
    try:
        parse_duration(guided["due"])
        parse_duration(sensitive["first_report_due"])
    except ValueError as exc:
        raise ConfigError(f"[guided] due 或 [sensitive] first_report_due：{exc}") from None
    archive = {**raw.get("archive", {})}
    for key in ("dir", "keep_attachments"):
        if (value := _env_override("archive", key, archive.get(key))) is not None:
            archive[key] = str(value)
    keep = archive.get("keep_attachments", "forever")
    if keep != "forever":
        try:
            parse_duration(str(keep))
        except ValueError:
            raise ConfigError(f'[archive] keep_attachments 写成 "forever" 或 "365d"，现在是 {keep!r}') from None
    brief = {**raw.get("brief", {})}
    if (sender := _env_override("brief", "sender", brief.get("sender"))) is not None:
        brief["sender"] = str(sender)
    return {**raw, "patrol": patrol, "guided": guided, "sensitive": sensitive, "archive": archive, "brief": brief}


def _dates(values: Any, where: str) -> list[date]:
    out = []
    for v in values or []:
        try:
            out.append(v if isinstance(v, date) else date.fromisoformat(str(v)))
        except ValueError:
            raise ConfigError(f"[{where}] 不是日期：{v!r}（写成 2027-01-01）") from None
    return out


def _calendar(raw: dict[str, Any], base: Path) -> dict[int, dict[str, list[date]]]:
    """Return the holidays and adjusted working days given in [calendar] (and its optional file)."""
    cal = dict(raw.get("calendar", {}))
    if cal.get("file"):
        path = Path(str(cal["file"]))
        path = path if path.is_absolute() else base / path
        try:
            extra = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"[calendar] file 无法读取：{exc}") from None
        cal["years"] = {**extra.get("years", {}), **cal.get("years", {})}
    years = {}
    for year, spec in (cal.get("years") or {}).items():
        if not str(year).isdigit():
            raise ConfigError(f"[calendar.years] 年份必须是数字：{year!r}")
        years[int(year)] = {k: _dates(spec.get(k), f"calendar.years.{year}.{k}") for k in ("holidays", "workdays")}
    return years


def _intake(raw: dict[str, Any]) -> None:
    """Check [intake] and its sources (core.intake), or raise ConfigError naming the key."""
    from core import intake

    try:
        intake.sources(raw)
        intake.limits(raw)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _evidence(raw: dict[str, Any]) -> None:
    """Check [evidence] (core.capture), or raise ConfigError naming the key."""
    from core import capture

    try:
        capture.settings(raw)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read path, else $LIAOWANG_CONFIG, else ./config.toml, else the demo's var/demo/config.toml; validate it."""
    chosen = path or os.environ.get("LIAOWANG_CONFIG")
    if chosen is None:
        chosen = next((c for c in ("config.toml", "var/demo/config.toml") if Path(c).exists()), "config.toml")
    p = Path(chosen)
    if not p.exists():
        raise ConfigError(f"找不到配置文件 {p}（复制 config.example.toml 为 config.toml，或设置 LIAOWANG_CONFIG）")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {p} 不是有效的 TOML：{exc}") from None
    return config_from_dict(raw, base_dir=p.parent)


def config_from_dict(raw: dict[str, Any], base_dir: Path | None = None) -> Config:
    """Validate a parsed configuration mapping and return a Config, or raise ConfigError."""
    from core import envconfig

    raw, sources = envconfig.apply(raw)  # every key of config.example.toml: LIAOWANG_<PATH>
    base = base_dir or Path.cwd()
    _intake(raw)
    _evidence(raw)
    app = raw.get("app", {})
    data_dir = Path(_env_override("app", "data_dir", app.get("data_dir", "var")))
    data_dir = data_dir if data_dir.is_absolute() else (base / data_dir)
    db = raw.get("database", {})
    db_url = _env_override("database", "url", db.get("url")) or f"sqlite:///{data_dir / 'liaowang.db'}"
    if "://" not in str(db_url):
        raise ConfigError(f"[database] url 不是数据库地址：{db_url!r}（例如 sqlite:///var/liaowang.db）")
    redis_url = str(_env_override("redis", "url", raw.get("redis", {}).get("url", "embedded")))
    if redis_url != "embedded" and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f'[redis] url 必须是 "embedded" 或 redis:// 地址，现在是 {redis_url!r}')
    org_file = raw.get("org", {}).get("file")
    mapping = raw.get("contacts", {}).get("mapping")
    web = raw.get("web", {})
    try:
        from core.durations import parse_duration

        conv_timeout = int(parse_duration(app.get("conversation_timeout", "10m")).total_seconds())
        sweep = parse_duration(raw.get("worker", {}).get("sweep_interval", "5s")).total_seconds()
        window = parse_duration(str(_env_override("web", "callback_window", web.get("callback_window", "10m"))))
    except ValueError as exc:
        keys = "[app] conversation_timeout、[worker] sweep_interval 或 [web] callback_window"
        raise ConfigError(f"{keys}：{exc}") from None
    return Config(
        wecom=_wecom(raw),
        database_url=str(db_url),
        redis_url=redis_url,
        data_dir=data_dir,
        org_file=(base / org_file) if org_file else None,
        contacts_mapping=(base / mapping) if mapping else None,
        public_url=str(_env_override("web", "public_url", web.get("public_url", "http://127.0.0.1:5000"))).rstrip("/"),
        secret_key=str(_env_override("web", "secret_key", web.get("secret_key", ""))),
        frame_ancestors=str(_env_override("web", "frame_ancestors", web.get("frame_ancestors", ""))),
        max_body=int(web.get("max_body", 64 * 1024)),
        max_request_mb=int(_env_override("web", "max_request_mb", web.get("max_request_mb", MAX_REQUEST_MB))),
        callback_window=window.total_seconds(),
        code_prefix=str(app.get("code_prefix", "YQ")),
        conversation_timeout=conv_timeout,
        outbox=dict(raw.get("outbox", {})),
        sweep_interval=sweep,
        storage_dir=_storage_dir(raw, data_dir, base),
        policy=_policy(raw),
        calendar_years=_calendar(raw, base),
        raw=_duty(_assessment(raw)),
        sources=sources,
        mp=_mp(raw),
    )
