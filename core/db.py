"""Database engine and sessions: SQLite (WAL, immediate write locks) or PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.writelock import WriteLock

_WRITE_LOCKS: WeakKeyDictionary[Engine, WriteLock] = WeakKeyDictionary()


def write_lock(engine: Engine) -> WriteLock:
    """Return the write lock every transaction on this SQLite engine takes (KeyError for other databases)."""
    return _WRITE_LOCKS[engine]


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE so writers queue, not fail."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        lock = WriteLock(path if path and path != ":memory:" else "/tmp/liaowang-memory")
        _WRITE_LOCKS[engine] = lock  # the callback's raw insert takes it too (write_lock)

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            lock.acquire()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                lock.release()
                raise

        def _finish(conn: Connection, verb: str) -> None:
            # finish the transaction here (the driver's own commit/rollback is then a no-op in autocommit
            # mode) so the lock is released only after SQLite has really committed
            try:
                dbapi = conn.connection.dbapi_connection
                if dbapi is not None and dbapi.in_transaction:
                    dbapi.execute(verb)
            finally:
                lock.release()

        @event.listens_for(engine, "commit")
        def _commit(conn: Connection) -> None:
            _finish(conn, "COMMIT")

        @event.listens_for(engine, "rollback")
        def _rollback(conn: Connection) -> None:
            _finish(conn, "ROLLBACK")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
