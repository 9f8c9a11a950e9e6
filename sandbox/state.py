"""The emulator's in-memory world: people, tokens, inboxes, media, cards, faults, stats and clock."""

from __future__ import annotations

import copy
import dataclasses
import random
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from sandbox import errors
from sandbox.errors import ApiError
from sandbox.settings import EmulatorSettings

TOKEN_TTL = 7200
MEDIA_TTL = 3 * 86400
RESPONSE_CODE_TTL = 86400
OAUTH_CODE_TTL = 300
PER_MINUTE_LIMIT = 30
PER_HOUR_LIMIT = 1000
PHONE_ONLY_FIELDS = ("unit", "roles")  # directory fields shown on /phone, never in WeCom's answers
ROOT_DEPARTMENT = 1

Record = dict[str, Any]


@dataclass
class Fault:
    """An injected failure for a /cgi-bin path ("*" for all), consumed one per affected call."""

    path: str
    times: int = 1
    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    delay: float = 0.0
    when: str = "after"  # a delay "after" the call took effect (the caller may time out, yet it happened) or "before"
    rate: float = 1.0  # the share of matching calls it hits (0 < rate ≤ 1); the others pass untouched
    page: str | None = None  # answered as an HTML page (a proxy's error page), with http_status or 200

    def as_json(self) -> dict[str, Any]:
        """Return the fault as JSON."""
        return dict(self.__dict__)


@dataclass
class Card:
    """An interactive or notice template card sent under a task_id, with each recipient's inbox record."""

    task_id: str
    card_type: str
    msgid: str
    template_card: dict[str, Any]
    recipients: list[str]
    records: dict[str, Record] = field(default_factory=dict)


@dataclass
class ResponseCode:
    """A single-use code that allows one update_template_card call for a card."""

    code: str
    task_id: str
    userids: list[str]
    issued_at: float
    used: bool = False


@dataclass
class Media:
    """A stored media file with its WeCom type."""

    media_id: str
    type: str
    filename: str
    content_type: str
    data: bytes
    created_at: float


@dataclass
class OAuthCode:
    """A single-use OAuth2 code issued by the emulated in-app browser."""

    code: str
    userid: str
    scope: str
    issued_at: float


def root_department() -> dict[str, Any]:
    """Return the corp's root department (id 1), which every directory has."""
    return {"id": ROOT_DEPARTMENT, "name": "本企业", "name_en": "", "department_leader": [], "parentid": 0, "order": 0}


def member(person: dict[str, Any]) -> dict[str, Any]:
    """Return a directory member with WeCom's defaults: in the root department, active (status 1), no position."""
    out = dict(person)
    departments = [int(d) for d in out.get("department") or [ROOT_DEPARTMENT]]
    out["department"] = departments
    out.setdefault("main_department", departments[0])
    out.setdefault("order", [0] * len(departments))
    out.setdefault("is_leader_in_dept", [0] * len(departments))
    out.setdefault("position", "")
    out.setdefault("status", 1)
    return out


class World:
    """All mutable emulator state; every access goes through self.lock (self.cond notifies inbox changes)."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = dataclasses.replace(settings)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.callback_url: str | None = settings.callback_url
        self.reset()

    def reset(self) -> None:
        """Forget everything except the settings and the configured callback URL (the app is visible to all again)."""
        with self.lock:
            self.settings.visibility_root = True
            self.clock_offset = 0.0
            self.people: dict[str, dict[str, Any]] = {}
            self.departments: dict[int, dict[str, Any]] = {ROOT_DEPARTMENT: root_department()}
            self.contact_full_fields = False  # change_contact with every attribute (pre-2022-08-15 URLs)
            self.visible_parties: list[int] = []  # with visibility_root off: these subtrees (none = people one by one)
            self.tokens: dict[str, float] = {}
            self.current_token: str | None = None
            self.faults: list[Fault] = []
            self.rng = random.Random()
            self.calls: Counter[str] = Counter()
            self.gettoken_calls = 0
            self.dropped: Counter[str] = Counter()
            self.duplicates_suppressed = 0
            self.callbacks_sent = 0
            self.seq = 0
            self.inbox: list[Record] = []
            self.outbox: list[Record] = []  # messages people sent to the app (sandbox/outbox.py)
            self.media: dict[str, Media] = {}
            self.cards: dict[str, Card] = {}
            self.response_codes: dict[str, ResponseCode] = {}
            self.deliveries: dict[str, deque[float]] = {}
            self.dup_keys: dict[str, float] = {}
            self.oauth_codes: dict[str, OAuthCode] = {}
            self.appchats: dict[str, dict[str, Any]] = {}
            self.menu: dict[str, Any] | None = None
            self.next_msg_id = secrets.randbits(62) | (1 << 62)
            self.cond.notify_all()

    # clock -------------------------------------------------------------------------------------------
    def now(self) -> float:
        """Return the emulator clock (unix seconds): real time plus the configured shift, or the tests' time source,
        plus what advance() added."""
        source = self.settings.time_source
        base = source() if source is not None else time.time() + self.settings.clock_shift
        return base + self.clock_offset

    def advance(self, seconds: float) -> float:
        """Move the emulator clock forward and return the new time."""
        with self.lock:
            self.clock_offset += seconds
            return self.now()

    def new_callback_msg_id(self) -> str:
        """Return a fresh unique 63-bit MsgId as a decimal string."""
        with self.lock:
            self.next_msg_id += 1
            return str(self.next_msg_id)

    # tokens ------------------------------------------------------------------------------------------
    def get_token(self) -> tuple[str, int]:
        """Return the valid access token (issuing one if needed) and its remaining lifetime."""
        with self.lock:
            now = self.now()
            token = self.current_token
            if token is None or self.tokens.get(token, 0) <= now:
                token = secrets.token_urlsafe(48)
                self.tokens[token] = now + TOKEN_TTL
                self.current_token = token
            return token, max(1, int(self.tokens[token] - now))

    def check_token(self, token: str | None) -> None:
        """Raise ApiError 41001/40014/42001 unless the token is known and unexpired."""
        if not token:
            raise ApiError(errors.MISSING_TOKEN, "access_token missing")
        with self.lock:
            expires_at = self.tokens.get(token)
            if expires_at is None:
                raise ApiError(errors.INVALID_TOKEN, "invalid access_token")
            if self.now() >= expires_at:
                raise ApiError(errors.TOKEN_EXPIRED, "access_token expired")

    def expire_tokens(self, forget: bool = False) -> int:
        """Expire every token (42001 next), or forget them (40014 next); return how many."""
        with self.lock:
            count = len(self.tokens)
            if forget:
                self.tokens.clear()
            else:
                past = self.now() - 1
                self.tokens = {token: min(exp, past) for token, exp in self.tokens.items()}
            self.current_token = None
            return count

    def expire_media(self) -> int:
        """Age every uploaded media past WeCom's 3 days (40007 next), as if the app fetched it too late."""
        with self.lock:
            past = self.now() - MEDIA_TTL
            for item in self.media.values():
                item.created_at = min(item.created_at, past)
            return len(self.media)

    # faults and stats --------------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        """Register an injected fault."""
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self.lock:
            self.faults.clear()

    def take_fault(self, api: str) -> Fault | None:
        """Consume one use of the first fault matching the API path, if any."""
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path in ("*", api) and (fault.rate >= 1 or self.rng.random() < fault.rate):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return copy.copy(fault)
        return None

    def count_call(self, api: str) -> None:
        """Count one call of a /cgi-bin API."""
        with self.lock:
            self.calls[api] += 1
            if api == "gettoken":
                self.gettoken_calls += 1

    def stats(self) -> dict[str, Any]:
        """Return call counts, gettoken calls, silent drops and suppressed duplicates."""
        with self.lock:
            return {
                "calls": dict(self.calls),
                "gettoken": self.gettoken_calls,
                "dropped": dict(self.dropped),
                "dropped_total": sum(self.dropped.values()),
                "duplicates_suppressed": self.duplicates_suppressed,
                "callbacks_sent": self.callbacks_sent,
                "seq": self.seq,
                "faults_pending": [f.as_json() for f in self.faults],
                "now": self.now(),
            }

    # people ------------------------------------------------------------------------------------------
    def set_people(self, people: list[dict[str, Any]], merge: bool = False) -> None:
        """Replace (or merge into) the directory of members."""
        with self.lock:
            if not merge:
                self.people = {}
            for person in people:
                self.people[str(person["userid"])] = member(person)

    def is_member(self, userid: str) -> bool:
        """Tell whether the userid is in the directory."""
        with self.lock:
            return userid in self.people

    # inbox -------------------------------------------------------------------------------------------
    def add_record(self, record: Record, box: list[Record] | None = None) -> Record:
        """Append a record to the inboxes (or to box) with a fresh global seq and wake waiters."""
        with self.lock:
            self.seq += 1
            record["seq"] = record["created_seq"] = self.seq
            (self.inbox if box is None else box).append(record)
            self.cond.notify_all()
            return record

    def touch_record(self, record: Record) -> None:
        """Give a changed record a fresh seq so that pollers see it again."""
        with self.lock:
            self.seq += 1
            record["seq"] = self.seq
            self.cond.notify_all()

    def records(self, userid: str | None, since: int) -> list[Record]:
        """Return copies of the records (of one user or all) whose seq is greater than since."""
        with self.lock:
            found = [r for r in self.inbox if r["seq"] > since and (userid is None or r["userid"] == userid)]
            return copy.deepcopy(sorted(found, key=lambda r: r["seq"]))

    def wait_records(self, userid: str | None, since: int, timeout: float) -> list[Record]:
        """Block up to timeout seconds until records newer than since exist; return them."""

        def ready() -> bool:
            return any(r["seq"] > since and (userid is None or r["userid"] == userid) for r in self.inbox)

        with self.cond:
            self.cond.wait_for(ready, timeout)
            return self.records(userid, since)

    # media -------------------------------------------------------------------------------------------
    def put_media(self, kind: str, filename: str, content_type: str, data: bytes) -> Media:
        """Store media and return it."""
        with self.lock:
            media_id = "3" + secrets.token_urlsafe(40)
            item = Media(media_id, kind, filename, content_type, data, self.now())
            self.media[media_id] = item
            return item

    def has_media(self, media_id: str) -> bool:
        """Tell whether the media_id exists and has not expired."""
        try:
            self.get_media(media_id)
        except ApiError:
            return False
        return True

    def get_media(self, media_id: str) -> Media:
        """Return unexpired media or raise ApiError 40007."""
        with self.lock:
            item = self.media.get(media_id)
            if item is None or self.now() - item.created_at >= MEDIA_TTL:
                raise ApiError(errors.INVALID_MEDIA_ID, "invalid media_id")
            return item
