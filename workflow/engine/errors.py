"""The one exception a workflow step raises to refuse: it carries the Chinese sentence for the person."""

from __future__ import annotations


class Refusal(Exception):
    """A refused request; str(exc) is the polite Chinese reply and nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
