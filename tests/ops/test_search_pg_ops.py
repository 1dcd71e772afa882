"""Search and status on the real PostgreSQL (migrated scratch database): same answers as SQLite,
the partner union, the statement timeout, and the indexes the console relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from crossdock.gateway.ops.overview import overview
from crossdock.gateway.ops.search import SearchCriteria, search_messages
from crossdock.gateway.ops.status import system_status
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade
from pgscratch import scratch_database

pytestmark = [pytest.mark.services]
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg(postgres_url: str):
    with scratch_database(postgres_url, "crossdock_ops") as url:
        engine = build_engine(url)
        try:
            upgrade(engine)
            _load(engine)
            yield engine
        finally:
            engine.dispose()


def _load(engine) -> None:
    """Three partners, 60 messages with envelopes, documents and keys, spread over 60 hours."""
    with engine.begin() as conn:
        conn.execute(t.payloads.insert().values(sha256="0" * 64, size=3, data=b"x12"))
        for pid in (1, 2, 3):
            conn.execute(t.partners.insert().values(id=pid, code=f"p{pid}", name=f"P{pid}", kind="partner",
                                                    created_at=NOW))
        for n in range(60):
            partner, outbound = n % 3 + 1, n % 5 == 0
            at = NOW - timedelta(hours=n)
            message_id = f"m{n:03d}"
            conn.execute(t.messages.insert().values(
                id=message_id, direction="outbound" if outbound else "inbound", channel="http",
                partner_id=None if outbound else partner, recipient_id=partner if outbound else None, format="x12",
                document_kind="856" if n % 4 == 0 else "850", sha256="0" * 64, size=3, received_at=at,
                updated_at=at, status="failed" if n % 7 == 0 else "accepted", test=False))
            conn.execute(t.interchanges.insert().values(
                message_id=message_id, position=0, partner_id=partner, sender="ZZ:S", receiver="ZZ:R",
                control_number=f"{n + 1:09d}", version="00401", usage="P", status="accepted", test=False))
            conn.execute(t.groups.insert().values(message_id=message_id, interchange_position=0, position=0,
                                                  functional_id="PO", control_number=str(n + 1), version="004010",
                                                  status="A", ak9_codes=[]))
            conn.execute(t.transaction_sets.insert().values(message_id=message_id, position=0, interchange_position=0,
                                                            group_position=0, set_id="850", control_number="0001",
                                                            status="A", errors=[]))
            doc = conn.execute(t.documents.insert().values(
                message_id=message_id, position=0, document_type="purchase_order", partner_id=partner,
                status="applied", test=False, issues=[], created_at=at)).inserted_primary_key[0]
            conn.execute(t.document_keys.insert().values(document_id=doc, name="po_number", value=f"PO-{n // 2}"))


def _ids(engine, **criteria) -> list[str]:
    with engine.begin() as conn:
        return [r.id for r in search_messages(conn, SearchCriteria(**criteria), timeout_ms=5000).rows]


def test_search_answers(pg) -> None:
    assert _ids(pg, key="PO-3") == ["m006", "m007"]
    assert _ids(pg, control_number="000000042", control_kind="isa13") == ["m041"]
    assert _ids(pg, control_number="42") == ["m041"]
    assert len(_ids(pg, control_number="0001", control_kind="st02", limit=200)) == 60
    p2 = _ids(pg, partner_id=2, limit=200)
    assert p2 == [f"m{n:03d}" for n in range(60) if n % 3 + 1 == 2]  # sent and received, newest first
    assert _ids(pg, partner_id=2, direction="outbound") == [f"m{n:03d}" for n in range(60)
                                                             if n % 3 + 1 == 2 and n % 5 == 0]
    assert _ids(pg, status="failed", document_type="ship_notice") == ["m000", "m028", "m056"]
    window = _ids(pg, received_from=NOW - timedelta(hours=5), received_to=NOW - timedelta(hours=2))
    assert window == ["m003", "m004", "m005"]  # the upper bound is exclusive


def test_statement_timeout_is_local_to_the_search(pg) -> None:
    with pg.begin() as conn:
        search_messages(conn, SearchCriteria(key="PO-3"), timeout_ms=1234)
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
    with pg.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_indexes_exist(pg) -> None:
    names = {i["name"] for table in ("messages", "document_keys", "acks") for i in inspect(pg).get_indexes(table)}
    assert {"ix_messages_partner_id_received_at", "ix_messages_recipient_id_received_at",
            "ix_messages_status_received_at", "ix_messages_document_kind_received_at", "ix_document_keys_value",
            "ix_acks_direction_status_due_at"} <= names


def test_overview_and_status_on_postgres(pg) -> None:
    with pg.connect() as conn:
        data = overview(conn, NOW, hours=24)
        status = system_status(conn, NOW)
    assert sum(data.volume) == 24 and data.volume[-1] == 1  # one message per hour, the last at NOW
    assert sum(data.failures) == len([n for n in range(24) if n % 7 == 0])
    assert status.failures_last_hour == 1 and status.queue_depth == 0
