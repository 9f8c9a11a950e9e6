"""One Runtime per process: config, database sessions, Redis, the RQ queue and the WeCom client."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config, load_config
from core.db import make_engine, make_session_factory
from core.redisconn import resolve_redis_url

if TYPE_CHECKING:  # wechatpy is imported only by processes that talk to WeCom
    from core.wecom import WecomApi


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
    def api(self) -> WecomApi:
        """The WeCom API client."""
        from core.wecom import WecomApi

        return WecomApi(self.config.wecom, self.redis)

    def check(self) -> None:
        """Raise ConfigError (one line) unless Redis and the database answer."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        from core.config import ConfigError

        self.redis_url  # noqa: B018 - resolves and pings Redis
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise ConfigError(f"[database] url 无法连接：{type(getattr(exc, 'orig', None) or exc).__name__}") from None


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
