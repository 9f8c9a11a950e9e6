"""What every handler receives: the session, the person, the message, the time and the conversation store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.config import Config
from core.incoming import Incoming
from models import Person
from workflow.engine.conversation import Conversations


@dataclass
class Ctx:
    """A handler's world for one incoming message; `args` is the text after the command word."""

    session: Session
    person: Person
    msg: Incoming
    now: datetime
    conv: Conversations
    config: Config
    args: str = ""
    verbatim: bool = False  # the text came after “正文：”: content only, never a flow word (取消, 提交 …)
