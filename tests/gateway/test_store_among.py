"""``among``: ``column IN values`` that PostgreSQL receives as one array parameter."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Engine, event, insert

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.migrate import upgrade
from crossdock.gateway.workflow.stages import load_messages, load_payloads


def _store(engine: Engine, count: int) -> list[tuple[str, str]]:
    """``count`` payloads and inbound messages; (message id, sha256) of each."""
    now = datetime.now(UTC)
    stored = []
    with engine.begin() as conn:
        for i in range(count):
            data = f"payload {i}".encode()
            digest = hashlib.sha256(data).hexdigest()
            conn.execute(insert(t.payloads).values(sha256=digest, size=len(data), data=data))
            conn.execute(insert(t.messages).values(
                id=f"{i:032x}", direction="inbound", channel="http", format="x12", sha256=digest, size=len(data),
                received_at=now, updated_at=now, status="received"))
            stored.append((f"{i:032x}", digest))
    return stored


def test_a_long_list_is_one_parameter_on_postgresql_and_finds_the_same_rows(bare_engine: Engine) -> None:
    upgrade(bare_engine)
    stored = _store(bare_engine, 70)  # more than psycopg's 50 parameters of a cached conversion
    wanted = stored[5:65]
    statements: list[tuple[str, object]] = []
    event.listen(bare_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
    with bare_engine.connect() as conn:
        messages = load_messages(conn, [m for m, _ in wanted] + ["absent".ljust(32, "0")])
        payloads = load_payloads(conn, [d for _, d in wanted])
    assert sorted(messages) == sorted(m for m, _ in wanted)
    assert payloads == {d: f"payload {int(m, 16)}".encode() for m, d in wanted}
    selects = [(sql, params) for sql, params in statements if sql.startswith("SELECT")]
    assert len(selects) == 2
    for sql, params in selects:
        if bare_engine.dialect.name == "postgresql":
            assert "= ANY (" in sql and len(params) == 1
        else:
            assert " IN (" in sql
