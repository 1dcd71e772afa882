"""Engines for SQLite (embedded) and PostgreSQL (production), with durable commits on both.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is fsync'd before it returns, so a
202 follows durable bytes) and every transaction starts ``BEGIN IMMEDIATE``: writers queue on
the busy timeout instead of failing with "database is locked" when a read upgrades to a write.
PostgreSQL keeps its default ``synchronous_commit=on``. A pooled PostgreSQL connection is
pinged before use only when it sat idle for more than :data:`PING_AFTER_IDLE_S` (SQLAlchemy's
``pool_pre_ping`` would add a round trip to every checkout, i.e. to every API request).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, ColumnElement, Engine, Table, Text, any_, bindparam, cast, create_engine, event, func,
                        select)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import NullType

__all__ = ["among", "array_parameters", "build_engine", "deferring_writes", "driver_error", "driver_rows",
           "execute_later", "execute_rows", "insert_ignore", "insert_or_skip", "insert_returning", "insert_rows",
           "insert_statement", "is_postgres", "parameters", "shared_reads", "sharing_reads", "unnested", "BULK_ROWS",
           "COPY_ROWS"]

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
        statement = insert_statement(conn.dialect.name, table)
        if not (is_postgres(conn) and len(rows) > 1 and _run_over_arrays(conn, statement, list(rows))):
            conn.execute(statement, list(rows))
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
    if _defaults_left_out(table, columns) or any(table.c[name].type._type_affinity is JSON for name in columns):
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


def among(conn: Connection, column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(:array)``, one parameter whatever the
    number of values. An IN list is compiled again by SQLAlchemy for each length, and psycopg
    caches the conversion of a statement only up to 50 parameters; building and parsing a long
    IN list costs more CPU than running the query."""
    if is_postgres(conn):
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


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
    """``executemany`` of a cached statement for ``rows`` (dicts of the same keys), except:

    * a plain INSERT of :func:`insert_statement` goes through :func:`insert_rows` (one ``COPY``
      on PostgreSQL from :data:`COPY_ROWS` rows on);
    * on PostgreSQL, other INSERTs and UPDATEs whose values and conditions are bind parameters
      run as ONE statement over arrays (:func:`_over_arrays`): the driver's executemany costs
      ~15-20 µs of Python per row and the server one execution per row, arrays a few µs per row
      and one execution in all.
    """
    if isinstance(statement, Insert) and statement is insert_statement(conn.dialect.name, statement.table):
        insert_rows(conn, statement.table, rows)
        return
    if is_postgres(conn) and len(rows) > 1 and _run_over_arrays(conn, statement, rows):
        return
    conn.execute(statement, rows)


def insert_returning(conn: Connection, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Run a cached ``INSERT … RETURNING`` for ``rows``; the returned rows, in no particular order.

    On PostgreSQL it goes to the driver (:func:`driver_rows`): a few rows as one multi-row VALUES
    (scalar parameters dump fastest), more as one statement over arrays; elsewhere through
    ``Connection.execute``. Returned values are the driver's (no result processing): keep
    RETURNING to ids and plain columns.
    """
    if not rows:
        return []
    if not is_postgres(conn):
        return [tuple(row) for row in conn.execute(statement, parameters(rows))]
    if len(rows) == 1:
        return driver_rows(conn, statement, rows[0])
    keys = tuple(rows[0])
    if len(rows) < ARRAY_ROWS:
        several = _multi_values(statement, keys, len(rows))
        return driver_rows(conn, several, {f"{key}_{n}": row[key] for n, row in enumerate(rows) for key in keys})
    plan = _over_arrays(statement, keys)
    if plan is None:
        return [tuple(row) for row in conn.execute(statement, list(rows))]
    arrayed, names, _, documents = plan
    return driver_rows(conn, arrayed, array_parameters(conn, rows, names, documents))


#: from this many rows on, :func:`insert_returning` sends arrays rather than a multi-row VALUES
ARRAY_ROWS = 16


@lru_cache(maxsize=256)
def _multi_values(statement: Insert, keys: tuple[str, ...], count: int) -> Insert:
    """``statement`` with ``count`` rows of VALUES, row n's parameters named ``<key>_<n>``."""
    table = statement.table
    return statement.values([{key: bindparam(f"{key}_{n}", type_=table.c[key].type) for key in keys}
                             for n in range(count)])


def array_parameters(conn: Connection, rows: Sequence[Mapping[str, Any]], names: Iterable[str],
                     documents: Iterable[str] = ()) -> dict[str, list[Any]]:
    """One list per parameter of ``rows`` for a statement of :func:`unnested` arrays; the values of
    ``documents`` (JSON columns) serialized, as :func:`unnested` casts them from text.

    Raises:
        KeyError: a row lacks one of ``names``.
    """
    columns = {name: [row[name] for row in rows] for name in names}
    if documents:
        dumps = conn.dialect._json_serializer or json.dumps
        for name in documents:  # (a list would read as a nested array)
            columns[name] = [None if value is None else dumps(value) for value in columns[name]]
    return columns


def driver_rows(conn: Connection, statement: Any, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Run a cached statement in ``conn``'s transaction straight on its driver connection.

    SQLAlchemy's per-execution work (execution context, parameter and result processing) costs
    about twice a short statement's own client time (~100 µs against ~45). The statement is
    compiled once per parameter names; the parameters get the bind processing SQLAlchemy would
    apply (naive UTC, JSON); ``before_cursor_execute`` listeners see it; driver errors become
    SQLAlchemy's classes, without the parameters.
    """
    sql, constants, processors = _driver_plan(conn.dialect, statement, tuple(params))
    values = {**constants, **params}
    for name, process in processors:
        value = values.get(name)
        if value is not None:
            values[name] = process(value)
    driver = conn.connection.driver_connection
    try:
        cursor = driver.cursor()
        if conn._has_events or conn.engine._has_events:  # statement hooks (tracing, tests) see it
            conn.dispatch.before_cursor_execute(conn, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        return cursor.fetchall() if cursor.description is not None else []
    except conn.dialect.loaded_dbapi.Error as exc:
        raise driver_error(conn.dialect, sql, exc, driver, conn.invalidate) from exc


def driver_error(dialect: Any, sql: str, exc: Exception, driver: Any, invalidate: Any) -> DBAPIError:
    """A driver error of a statement run straight on the driver, as ``Connection.execute`` would
    raise it: SQLAlchemy's class (``IntegrityError``…), without the parameters (they may hold a
    payload); a connection the error says is gone is invalidated first (``invalidate(exc)``)."""
    gone = dialect.is_disconnect(exc, driver, None)
    if gone:
        invalidate(exc)
    return DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
                               connection_invalidated=gone, dialect=dialect)


@lru_cache(maxsize=256)
def _driver_plan(dialect: Any, statement: Any, keys: tuple[str, ...]) -> tuple[str, dict[str, Any], tuple[Any, ...]]:
    """The SQL of ``statement`` for parameters ``keys``, its constant parameters' values, and the
    bind processors (name, function) of its parameters."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if compiled.positiontup is not None or compiled._post_compile_expanded_state is not None:
        raise ValueError("driver_rows takes named, non-expanding parameters")
    constants = {name: bind.effective_value for bind, name in compiled.bind_names.items() if not bind.required}
    # an array of a type that needs no processing (most) is sent as it is
    plain = {name for bind, name in compiled.bind_names.items() if isinstance(bind.type, postgresql.ARRAY)
             and bind.type.item_type._cached_bind_processor(dialect) is None}
    # parameters in binary (``%(name)b``): arrays of strings and timestamps then go without the
    # text format's per-element quoting, a regex substitution per element in the driver
    sql = _PLACEHOLDER.sub(r"%(\1)b", compiled.string)
    return sql, constants, tuple((name, process) for name, process in compiled._bind_processors.items()
                                 if name not in plain)


_PLACEHOLDER = re.compile(r"(?<!%)%\((\w+)\)s")


def _run_over_arrays(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> bool:
    """Run ``statement`` for ``rows`` as the statement of :func:`_over_arrays`; False when it has none
    or when two rows would update the same row (an executemany applies both, in order)."""
    plan = _over_arrays(statement, tuple(rows[0]))
    if plan is None:
        return False
    arrayed, names, keys, documents = plan
    try:
        columns = array_parameters(conn, rows, names, documents)
    except KeyError:  # rows of different shapes
        return False
    if keys and len(set(zip(*(columns[name] for name in keys), strict=True))) < len(rows):
        return False
    driver_rows(conn, arrayed, columns)
    return True


@lru_cache(maxsize=128)
def _over_arrays(statement: Any, keys: tuple[str, ...],
                 ) -> tuple[Any, tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
    """``statement`` (run once per row with parameters ``keys``) as ONE PostgreSQL statement taking
    one array per parameter, unnested into a row source ``v`` (:func:`unnested`): ``INSERT …
    SELECT … FROM v`` for an INSERT (its ON CONFLICT and RETURNING kept), ``UPDATE … FROM v`` for
    an UPDATE. Arrays carry each column's bind processing (e.g. naive UTC for
    :class:`~.schema.UtcDateTime`), so the stored values are the executemany's.

    Returns:
        (statement, the parameters it takes, those an UPDATE finds its rows by, those of JSON
        columns, which the caller serializes) or None: not such a statement, or one that leaves
        out a column with a client-side default.
    """
    if isinstance(statement, Insert):
        table = statement.table
        if statement._values or statement._multi_values or statement.select is not None:
            return None
        if any(name not in table.c for name in keys) or _defaults_left_out(table, keys):
            return None
        types = {name: table.c[name].type for name in keys}
        source = unnested(types)
        return statement.from_select(list(keys), select(*source.c)), keys, (), _documents(types)
    if not isinstance(statement, Update) or not statement._values:
        return None
    binds = _update_binds(statement, set(keys))
    if binds is None:
        return None
    source = unnested(binds)
    arrayed = visitors.replacement_traverse(
        statement, {}, lambda element, **_: source.c[element.key]
        if isinstance(element, BindParameter) and element.key in binds else None)
    found_by: list[str] = []
    visitors.traverse(statement.whereclause, {}, {
        "bindparam": lambda bind: found_by.append(bind.key) if bind.key in binds else None})
    # ``column = ANY(:key)`` beside each ``column = v.key``: the planner then reads the rows by
    # index whatever it guesses of ``v`` (a join on a guess chose a scan of the whole table)
    for column, key in _equalities(statement):
        if key in binds:
            arrayed = arrayed.where(column == any_(bindparam(key, type_=postgresql.ARRAY(binds[key]))))
    return arrayed, tuple(binds), tuple(dict.fromkeys(found_by)), _documents(binds)


def _equalities(statement: Update) -> list[tuple[Any, str]]:
    """(column of the updated table, parameter name) of each ``column = :name`` in the WHERE."""
    found: list[tuple[Any, str]] = []

    def visit(binary: Any) -> None:
        if binary.operator is not operators.eq:
            return
        for column, bind in ((binary.left, binary.right), (binary.right, binary.left)):
            if isinstance(bind, BindParameter) and getattr(column, "table", None) is statement.table:
                found.append((column, bind.key))

    visitors.traverse(statement.whereclause, {}, {"binary": visit})
    return found


def unnested(types: Mapping[str, Any], name: str = "v") -> Any:
    """``(SELECT unnest(:a) AS a, unnest(:b) AS b, …) AS v``: one row per array position, each
    parameter an array of its type (JSON: text, cast; see :func:`array_parameters`)."""
    return select(*(
        cast(func.unnest(bindparam(key, type_=postgresql.ARRAY(Text))), type_).label(key)
        if type_._type_affinity is JSON else
        func.unnest(bindparam(key, type_=postgresql.ARRAY(type_))).label(key)
        for key, type_ in types.items())).subquery(name)


def _documents(types: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name, type_ in types.items() if type_._type_affinity is JSON)


def _update_binds(statement: Update, keys: set[str]) -> dict[str, Any] | None:
    """The bind parameters of an UPDATE that rows fill (their names in ``keys``), with their types:
    a bare ``bindparam`` in ``values()`` takes its column's. None if some type stays unknown."""
    binds: dict[str, Any] = {}
    visitors.traverse(statement, {}, {
        "bindparam": lambda bind: binds.setdefault(bind.key, bind.type) if bind.key in keys else None})
    for column, value in statement._values.items():
        if isinstance(value, BindParameter) and value.key in binds and isinstance(value.type, NullType):
            binds[value.key] = statement.table.c[getattr(column, "key", column)].type
    if not binds or any(isinstance(type_, NullType) for type_ in binds.values()):
        return None
    return binds


def _defaults_left_out(table: Table, keys: tuple[str, ...]) -> bool:
    return any(c.name not in keys and (c.default is not None or c.onupdate is not None) for c in table.columns)
