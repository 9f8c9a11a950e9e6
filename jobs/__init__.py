"""Thin RQ jobs taking ids: deliver outbox rows, sweep for lost work."""
