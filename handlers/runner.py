"""Handle one stored callback: look up the person, run the routed handler in a savepoint, queue the reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.incoming import Incoming, is_contact_event
from core.runtime import Runtime
from handlers import contacts
from handlers.context import Ctx
from handlers.router import route
from models import ProcessedCallback
from workflow.engine.conversation import Conversations
from workflow.engine.errors import Refusal
from workflow.engine.outbox import cap_per_person, emit, room_for
from workflow.people import org
from workflow.people.contacts import Snapshot
from workflow.views import render


def prefetch(rt: Runtime, payload: dict[str, Any]) -> Snapshot | None:
    """Read from WeCom, before the handling transaction, what a stored callback needs (a change_contact event)."""
    return contacts.prefetch(rt, Incoming(**payload))


def handle(session: Session, row: ProcessedCallback, rt: Runtime, now: datetime, seen: Snapshot | None = None) -> None:
    """Run the handler for row inside session; a Refusal undoes the handler's changes and becomes the reply."""
    msg = Incoming(**row.payload)
    if is_contact_event(msg):
        contacts.handle(session, msg, rt, now, seen)
        return
    person = org.person(session, msg.userid)
    if person is None:  # deactivated between the callback and now: nothing to do for them
        return
    ctx = Ctx(
        session=session,
        person=person,
        msg=msg,
        now=now,
        conv=Conversations(session, rt.config.conversation_timeout, now),
        config=rt.config,
    )
    cap_per_person(session, int(rt.config.outbox.get("max_per_message", 3)), person.userid)
    try:
        with session.begin_nested():
            reply = route(ctx)
    except Refusal as exc:
        reply = exc.message
    room = room_for(session, person.userid)
    session.info.pop("per_person_cap", None)
    if reply:
        pieces = render.chunks(reply)
        if len(pieces) > room:  # one message never floods its sender: the rest is cut, with a note
            pieces = [*pieces[: room - 1], "\n".join(pieces[room - 1 :])]
        for i, piece in enumerate(pieces):
            emit(session, [person.userid], render.text(piece), f"reply:{row.key}" + (f":{i}" if i else ""), now)
