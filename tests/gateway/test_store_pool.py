"""The PostgreSQL pool pings a connection only after it sat idle, and replaces one the server dropped;
the ingest statement's driver errors come out as SQLAlchemy's."""

from __future__ import annotations

import time

import pytest
from gwhelpers import interchange, po_set
from pgscratch import scratch_database
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.store import engine as store_engine
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade


@pytest.mark.services
def test_an_idle_connection_is_pinged_and_replaced_when_dropped_a_busy_one_is_not_pinged(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "PING_AFTER_IDLE_S", 0.2)
    engine = build_engine(postgres_url, pool_size=1)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or ping(dbapi_connection))
    backend = "SELECT pg_backend_pid()"
    try:
        with engine.connect() as conn:
            first = conn.execute(text(backend)).scalar_one()
        with engine.connect() as conn:  # back in the pool a moment ago: handed out without a round trip
            assert conn.execute(text(backend)).scalar_one() == first
        assert pings == []
        admin = create_engine(postgres_url)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        time.sleep(0.3)
        with engine.connect() as conn:  # idle: pinged, found dead, replaced before use
            assert conn.execute(text(backend)).scalar_one() != first
        assert len(pings) == 1
    finally:
        engine.dispose()


@pytest.mark.services
def test_a_driver_error_of_the_ingest_statement_is_sqlalchemys_and_drops_the_dead_connection(
        postgres_url: str) -> None:
    with scratch_database(postgres_url, "crossdock_engine") as url:
        engine = build_engine(url, pool_size=1)
        upgrade(engine)
        body = interchange("ACMEBUYER", "000000901", [po_set("0001", "PO-GONE")])
        try:
            ingest(engine, IngestRequest(body=body, channel="http"))
            with engine.connect() as conn:  # the pool's one connection, returned a moment ago
                backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with create_engine(postgres_url).connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            with pytest.raises(OperationalError) as raised:  # the HTTP error table answers it with 503
                ingest(engine, IngestRequest(body=body + b"\n", channel="http"))
            assert raised.value.connection_invalidated
            assert ingest(engine, IngestRequest(body=body + b"\n\n", channel="http")).created  # a new connection
        finally:
            engine.dispose()
