"""The service layer: every workflow rule, called by both handlers and jobs."""

from workflow.engine.errors import Refusal

__all__ = ["Refusal"]
