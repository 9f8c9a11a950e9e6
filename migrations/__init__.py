"""Alembic migrations; run them with `liaowang db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig


def alembic_config(url: str) -> AlembicConfig:
    """Return an Alembic config pointing at this folder and the given database URL."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at url up to the given revision."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    command.upgrade(alembic_config(url), revision)
