"""Apply the Alembic migrations (``crossdock db upgrade``; embedded ``serve`` runs it at start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

__all__ = ["upgrade", "alembic_config"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no ``alembic.ini`` needed).

    Args:
        url: database URL, when Alembic should open its own connection.

    Returns:
        The config.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision``.

    Args:
        engine: target database.
        revision: Alembic revision, ``head`` by default.
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
