"""The audit event names that are not actions (the actions' own names are models.procedure.Act): spelled only here.

An event an action writes (a step's sub-event such as `statement_confirmed`) is declared on that action's row in
models/procedure.py (`events=`) and written by workflow.engine.procedure.apply only; the rest are the clock engine's,
the timers', the organisation's and the record's own.
"""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    """Audit event names other than the actions'."""

    # written by actions (declared on their rows in models/procedure.py)
    statement_drafted = "statement_drafted"
    statement_decided = "statement_decided"
    statement_confirmed = "statement_confirmed"
    statement_approved = "statement_approved"
    statement_published = "statement_published"
    statement_return_reason = "statement_return_reason"
    return_reason = "return_reason"
    brief_requested = "brief_requested"
    brief_decided = "brief_decided"
    brief_sent = "brief_sent"
    fact_recorded = "fact_recorded"
    dispute_decided = "dispute_decided"
    guided_reply_proved = "guided_reply_proved"
    guided_reply_declined = "guided_reply_declined"
    extension_request = "extension_request"
    extension_decision = "extension_decision"
    archive_packaged = "archive_packaged"
    # the clock engine's
    clock_start = "clock_start"
    clock_met = "clock_met"
    clock_missed = "clock_missed"
    clock_escalated = "clock_escalated"
    clock_waived = "clock_waived"
    clock_regrade = "clock_regrade"
    clock_miss_withdrawn = "clock_miss_withdrawn"
    # the timers' and the system's
    same_event_suggested = "same_event_suggested"
    follow_up_end = "follow_up_end"
    guided_reply_missed = "guided_reply_missed"
    period_grade = "period_grade"
    period_declared = "period_declared"
    patrol_checked = "patrol_checked"
    patrol_missed = "patrol_missed"
    chat_refused = "chat_refused"
    bulletin_sent = "bulletin_sent"
    bulletin_failed = "bulletin_failed"
    attachments_pruned = "attachments_pruned"
    # the organisation's
    org_import = "org_import"
    contact_unit = "contact_unit"
    contact_person = "contact_person"
    contacts_sync = "contacts_sync"
    contact_guard = "contact_guard"
