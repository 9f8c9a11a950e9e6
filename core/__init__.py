"""Shared plumbing: configuration, the one clock, database engine and Redis connection."""
