"""Engines for SQLite (embedded) and PostgreSQL (production), with durable commits on both.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is fsync'd before it returns, so a
202 follows durable bytes) and every transaction starts ``BEGIN IMMEDIATE``: writers queue on
the busy timeout instead of failing with "database is locked" when a read upgrades to a write.
PostgreSQL keeps its default ``synchronous_commit=on``. A pooled PostgreSQL connection is
pinged before use only when it sat idle for more than :data:`PING_AFTER_IDLE_S` (SQLAlchemy's
``pool_pre_ping`` would add a round trip to every checkout, i.e. to every API request).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.sql.dml import Insert
from sqlalchemy.exc import DisconnectionError

__all__ = ["build_engine", "deferring_writes", "execute_later", "execute_rows", "insert_ignore", "insert_or_skip", "insert_rows",
           "insert_statement", "is_postgres", "parameters", "shared_reads", "sharing_reads", "BULK_ROWS", "COPY_ROWS"]

SQLITE_BUSY_TIMEOUT_S = 60
#: ``Connection.info`` key of the reads shared by the units of work of one transaction
_SHARED_READS = "crossdock.shared_reads"
#: ``Connection.info`` key of the list collecting :func:`execute_later` writes (a batch's chain)
_DEFERRED_WRITES = "crossdock.deferred_writes"
#: a pooled PostgreSQL connection idle longer than this (seconds) is pinged before it is used
PING_AFTER_IDLE_S = 1.0
#: ``Connection.info`` key: when the connection went back to the pool (``time.monotonic()``)
_IDLE_SINCE = "crossdock.idle_since"
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
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a connection at checkout when it sat in the pool longer than :data:`PING_AFTER_IDLE_S`.

    A connection the server dropped (restart, failover, idle timeout) is then replaced before a
    request uses it, as with ``pool_pre_ping``; one returned less than a second ago is handed
    out without the round trip. A fresh connection has no stamp and is not pinged.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:
        # record.info lives as long as the DBAPI connection: a replaced connection starts unstamped
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # the pool discards this connection and checks out (or opens) another
            raise DisconnectionError("pooled connection is gone") from exc


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


def insert_statement(dialect_name: str, table: Table, conflict: tuple[str, ...] | None = None):
    """The (cached: the same object every time) INSERT of ``table``, skipping rows that collide on
    ``conflict`` when given."""
    if conflict is None:
        return _plain_insert(table)
    return _insert_or_skip_statement(dialect_name, table, conflict)


@lru_cache(maxsize=64)
def _plain_insert(table: Table):
    return table.insert()


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows of one shape (the same keys) that nothing conflicts with: the statement of
    :func:`insert_statement` without ``conflict``, as ``executemany``; on PostgreSQL, from
    :data:`COPY_ROWS` rows on, as one ``COPY`` (per row, a pipelined execute costs ~30 µs of
    Python in the driver, a copied row a few; a batch's timeline events are hundreds of rows)."""
    if not rows:
        return
    columns = tuple(rows[0])
    copy = _copy_plan(conn.dialect, table, columns) if is_postgres(conn) and len(rows) >= COPY_ROWS else None
    if copy is None:
        conn.execute(insert_statement(conn.dialect.name, table), list(rows))
        return
    sql, processors = copy
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(sql) as copying:
        for row in rows:
            copying.write_row([value if process is None or value is None else process(value)
                               for process, value in zip(processors, map(row.__getitem__, columns), strict=True)])


#: from this many rows on, :func:`insert_rows` copies on PostgreSQL
COPY_ROWS = 16


@lru_cache(maxsize=64)
def _copy_plan(dialect: Any, table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[Any, ...]] | None:
    """``COPY`` of ``columns`` into ``table`` and each column's bind processor (what an INSERT would
    send for a value, e.g. naive UTC for :class:`~.schema.UtcDateTime`); None (use ``executemany``)
    when the rows leave out a column with a client-side default, which COPY would not apply, or
    hold a JSON column, whose bind processing is the driver's."""
    missing = [c for c in table.columns if c.name not in columns and (c.default is not None or c.onupdate is not None)]
    if missing or any(table.c[name].type._type_affinity is JSON for name in columns):
        return None
    processors = tuple(table.c[name].type._cached_bind_processor(dialect) for name in columns)
    return f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", processors


def parameters(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | list[Mapping[str, Any]]:
    """``rows`` as the parameters of ``Connection.execute``: one row as a plain execute (a list,
    even of one, takes SQLAlchemy's executemany path, "insertmanyvalues" with RETURNING: about
    twice the Python per statement), several as a list."""
    return rows[0] if len(rows) == 1 else list(rows)


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
        conn.execute(_insert_or_skip_statement(conn.dialect.name, table, tuple(conflict)), parameters(rows))


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


@contextmanager
def deferring_writes(conn: Connection, writes: list[tuple[Any, list[dict[str, Any]]]]) -> Iterator[None]:
    """Collect the :func:`execute_later` writes made on ``conn`` into ``writes`` until the block ends.

    A worker batch runs each chain in such a block and writes what they all collected at its end,
    one ``executemany`` per statement; outside a block :func:`execute_later` writes at once.
    """
    conn.info[_DEFERRED_WRITES] = writes
    try:
        yield
    finally:
        conn.info.pop(_DEFERRED_WRITES, None)


def execute_later(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    """Run a cached statement for ``rows`` whose effect nothing in this transaction reads back in
    SQL: inside :func:`deferring_writes`, at the end of the batch with the other chains' rows."""
    if not rows:
        return
    writes = conn.info.get(_DEFERRED_WRITES)
    if writes is None:
        execute_rows(conn, statement, rows)
    else:
        writes.append((statement, rows))


def execute_rows(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    """``executemany`` of a cached statement, except that a plain INSERT of
    :func:`insert_statement` goes through :func:`insert_rows` (one ``COPY`` on PostgreSQL)."""
    if isinstance(statement, Insert) and statement is insert_statement(conn.dialect.name, statement.table):
        insert_rows(conn, statement.table, rows)
    else:
        conn.execute(statement, rows)
