"""One Runtime per process: config, database sessions, Redis, the RQ queue and the WeCom client."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config, load_config
from core.db import make_engine, make_session_factory
from core.redisconn import resolve_redis_url


@dataclass
class Runtime:
    """Lazily built process-wide resources for a Config."""

    config: Config
    _redis_url: str | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine for [database] url."""
        return make_engine(self.config.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory."""
        return make_session_factory(self.engine)

    @cached_property
    def redis_url(self) -> str:
        """The concrete Redis URL (the embedded server is started if configured)."""
        return self._redis_url or resolve_redis_url(self.config.redis_url, self.config.data_dir)

    @cached_property
    def redis(self) -> redis.Redis:
        """A Redis client (bytes responses, as RQ needs)."""
        return redis.Redis.from_url(self.redis_url, health_check_interval=30)

    @cached_property
    def queue(self) -> Queue:
        """The RQ queue every job goes through."""
        return Queue("liaowang", connection=self.redis)

    @cached_property
    def api(self):  # type: ignore[no-untyped-def]
        """The WeCom API client."""
        from bot.wecom import WecomApi

        return WecomApi(self.config.wecom, self.redis)


_current: Runtime | None = None


def runtime() -> Runtime:
    """Return this process's Runtime, loading $LIAOWANG_CONFIG on first use."""
    global _current
    if _current is None:
        _current = Runtime(load_config())
    return _current


def set_runtime(rt: Runtime | None) -> None:
    """Install rt as this process's Runtime (the app factory, the CLI and tests do this)."""
    global _current
    _current = rt
