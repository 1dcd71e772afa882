"""Engines for SQLite (embedded) and PostgreSQL (production), with durable commits on both.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is fsync'd before it returns, so a
202 follows durable bytes) and every transaction starts ``BEGIN IMMEDIATE``: writers queue on
the busy timeout instead of failing with "database is locked" when a read upgrades to a write.
PostgreSQL keeps its default ``synchronous_commit=on``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url

__all__ = ["build_engine", "insert_ignore", "insert_or_skip", "insert_statement", "is_postgres", "shared_reads",
           "sharing_reads", "BULK_ROWS"]

SQLITE_BUSY_TIMEOUT_S = 60
#: ``Connection.info`` key of the reads shared by the units of work of one transaction
_SHARED_READS = "crossdock.shared_reads"
#: from this many rows on, an insert that needs the new ids runs as executemany plus one SELECT
#: rather than with RETURNING (see :func:`insert_or_skip`)
BULK_ROWS = 64


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine for ``url`` with Crossdock's durability settings.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
        pool_size: connections kept per process (PostgreSQL).

    Returns:
        A configured engine; no connection is opened yet.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # pysqlite's own transaction handling would BEGIN DEFERRED lazily; take it over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=64)
def _insert_ignore_statement(dialect_name: str, table: Table, conflict: tuple[str, ...]):
    # Built once per table: constructing the statement costs more than executing it.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # Count inserted rows by RETURNING: drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    return (dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
            .returning(table.c[conflict[0]]))


@lru_cache(maxsize=64)
def _insert_or_skip_statement(dialect_name: str, table: Table, conflict: tuple[str, ...]):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))


@lru_cache(maxsize=64)
def insert_statement(dialect_name: str, table: Table, conflict: tuple[str, ...] | None = None):
    """The (cached) INSERT of ``table``, skipping rows that collide on ``conflict`` when given."""
    if conflict is None:
        return table.insert()
    return _insert_or_skip_statement(dialect_name, table, conflict)


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


def insert_ignore(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    conflict: Iterable[str],
) -> int:
    """Insert rows, skipping those that collide on the ``conflict`` columns.

    Args:
        conn: a connection inside the caller's transaction.
        table: target table.
        rows: one row or many (many go through ``executemany``).
        conflict: the unique columns that may collide.

    Returns:
        Number of rows actually inserted.
    """
    statement = _insert_ignore_statement(conn.dialect.name, table, tuple(conflict))
    if isinstance(rows, Mapping):
        return len(conn.execute(statement, dict(rows)).all())
    if not rows:
        return 0
    return len(conn.execute(statement, list(rows)).all())


def insert_or_skip(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Iterable[str]) -> None:
    """:func:`insert_ignore` for many rows when nobody needs the count.

    Without RETURNING the rows go through the driver's own executemany (one prepared statement,
    pipelined) instead of multi-row VALUES pages, whose placeholders psycopg re-parses in Python
    page by page: for thousands of rows that parsing cost more than the database.
    """
    if rows:
        conn.execute(_insert_or_skip_statement(conn.dialect.name, table, tuple(conflict)), list(rows))


@contextmanager
def sharing_reads(conn: Connection, reads: dict[Any, Any]) -> Iterator[dict[Any, Any]]:
    """Offer ``reads`` to code running on ``conn`` until the block ends (one transaction).

    A worker batch runs many chains in one transaction; reads of data none of them writes
    (registry rows, inventory master data) are answered once for all of them. The dict lives on
    the connection only while the block runs, so nothing outlives the transaction.
    """
    conn.info[_SHARED_READS] = reads
    try:
        yield reads
    finally:
        conn.info.pop(_SHARED_READS, None)


def shared_reads(conn: Connection) -> dict[Any, Any] | None:
    """The reads shared on ``conn`` by :func:`sharing_reads`, or None outside such a block."""
    return conn.info.get(_SHARED_READS)
