"""Liaowang's tables and the rules that need no I/O (state machine, grades)."""

from models import search  # noqa: F401  (the search index follows every write; see models/search.py)
from models.assessment import Bulletin, Dispute, DisputeState, Fact
from models.base import Base
from models.citizen import CitizenMessage
from models.clock import Clock, ClockFiring, Extension
from models.duty import (
    Brief,
    GuidedAssignment,
    GuidedState,
    GuidedTask,
    Patrol,
    PatrolState,
    SensitivePeriod,
    Statement,
    StatementState,
)
from models.evidence import Capture, CaptureFile
from models.intake import IntakeReceipt
from models.item import GRADE_NAMES, Attachment, DayCounter, Grade, Item, ItemLink, ItemUnit
from models.org import ROLE_NAMES, Person, Role, Unit
from models.records import (
    AuditEvent,
    AuditIsAppendOnly,
    Card,
    Conversation,
    HeldMessage,
    InboxLease,
    OutboxMessage,
    ProcessedCallback,
)
from models.similar import GramCount, PairState, Posting, SameEvent, Signature
from models.state import (
    STATE_NAMES,
    SUBMISSION_STATE_NAMES,
    CardState,
    ClockState,
    ExtensionState,
    IllegalTransition,
    InboxState,
    ItemState,
    OutboxState,
    SubmissionState,
    WatchState,
    check_transition,
)
from models.submission import Opinion, Submission, Watch

__all__ = [
    "Base",
    "Brief",
    "CitizenMessage",
    "IntakeReceipt",
    "Capture",
    "CaptureFile",
    "GramCount",
    "PairState",
    "Posting",
    "SameEvent",
    "Signature",
    "GuidedAssignment",
    "GuidedState",
    "GuidedTask",
    "Patrol",
    "PatrolState",
    "SensitivePeriod",
    "Statement",
    "StatementState",
    "Bulletin",
    "Dispute",
    "DisputeState",
    "Fact",
    "Attachment",
    "Clock",
    "ClockFiring",
    "Extension",
    "AuditEvent",
    "AuditIsAppendOnly",
    "Card",
    "Conversation",
    "DayCounter",
    "GRADE_NAMES",
    "Grade",
    "HeldMessage",
    "IllegalTransition",
    "Item",
    "ItemLink",
    "ItemState",
    "ItemUnit",
    "InboxLease",
    "OutboxMessage",
    "Person",
    "Opinion",
    "ProcessedCallback",
    "SUBMISSION_STATE_NAMES",
    "CardState",
    "ClockState",
    "ExtensionState",
    "InboxState",
    "OutboxState",
    "SubmissionState",
    "WatchState",
    "Submission",
    "Watch",
    "ROLE_NAMES",
    "Role",
    "STATE_NAMES",
    "Unit",
    "check_transition",
]
