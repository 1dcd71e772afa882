"""A scratch PostgreSQL database per test module or fixture (tests that need their own schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

__all__ = ["scratch_database"]


@contextmanager
def scratch_database(postgres_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database on the server of ``postgres_url``; yield its URL; drop it (FORCE).

    Args:
        postgres_url: any database on the server (the ``postgres_url`` fixture).
        prefix: start of the database name (a random suffix makes it unique), e.g. ``crossdock_vmi``.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
