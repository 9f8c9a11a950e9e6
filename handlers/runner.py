"""Handle one stored callback: look up the person, run the routed handler in a savepoint, queue the reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.conversation import Conversations
from bot.incoming import Incoming
from core.runtime import Runtime
from handlers.context import Ctx
from handlers.router import route
from models import ProcessedCallback
from workflow import org, render
from workflow.errors import Refusal
from workflow.outbox import emit


def handle(session: Session, row: ProcessedCallback, rt: Runtime, now: datetime) -> None:
    """Run the handler for row inside session; a Refusal undoes the handler's changes and becomes the reply."""
    msg = Incoming(**row.payload)
    person = org.person(session, msg.userid)
    if person is None:  # deactivated between the callback and now: nothing to do for them
        return
    ctx = Ctx(
        session=session,
        person=person,
        msg=msg,
        now=now,
        conv=Conversations(rt.redis, rt.config.conversation_timeout),
        config=rt.config,
    )
    try:
        with session.begin_nested():
            reply = route(ctx)
    except Refusal as exc:
        reply = exc.message
    if reply:
        for i, piece in enumerate(render.chunks(reply)):
            emit(session, [person.userid], render.text(piece), f"reply:{row.key}" + (f":{i}" if i else ""), now)
