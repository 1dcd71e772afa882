"""``/metrics``: scraped after real flows and parsed; the id tail never loses a late commit."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.testing import TestClient
from opshelpers import EXAMPLES, MovableClock, interchange, open_ops_hub, po_set, wait_children, wait_final
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, insert

from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.observability.metrics import GAP_TTL_S, IdTail
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.store import schema as t


def _samples(text: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def _value(samples: dict[str, list], name: str, **labels: str) -> float:
    return sum(s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items()))


def _ingest(hub, body: bytes, sender: str) -> str:
    with hub.runtime.engine.connect() as conn:
        partner = partner_by_code(conn, sender)
    result = ingest(hub.runtime.engine, IngestRequest(body=body, channel="http", partner=partner))
    hub.runtime.dispatch(result.work_id)
    return result.message_id


def test_metrics_scraped_and_parsed(tmp_path) -> None:
    hub = open_ops_hub(tmp_path, MovableClock())
    with TestClient(app=hub.app()) as client:
        before = _samples(client.get("/metrics").text)
        assert _value(before, "crossdock_messages_received_total") == 0
        good = _ingest(hub, (EXAMPLES / "850.x12").read_bytes(), "acme")
        bad = _ingest(hub, interchange("INITECH", "000000901", [po_set("0001", "PO-X")]), "initech")
        assert wait_final(hub.runtime.engine, good) == "accepted"
        assert wait_final(hub.runtime.engine, bad) == "failed"
        wait_children(hub.runtime.engine, good)
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert _value(samples, "crossdock_messages_received_total", partner="acme", direction="inbound",
                  format="x12") == 1
    assert _value(samples, "crossdock_messages_processed_total", partner="acme", document_kind="850",
                  status="accepted") == 1
    assert _value(samples, "crossdock_messages_failed_total", partner="initech", stage="parse") == 1
    assert _value(samples, "crossdock_stage_duration_seconds_count", stage="parse") == 2
    assert _value(samples, "crossdock_stage_duration_seconds_count", stage="map", outcome="ok") == 1
    assert _value(samples, "crossdock_delivery_attempts_total", partner="acme", outcome="delivered") == 1
    assert _value(samples, "crossdock_delivery_duration_seconds_count") == 1
    assert "crossdock_work_items" in {f.name for f in text_string_to_metric_families(response.text)}
    assert _value(samples, "crossdock_work_items", state="failed") == 1  # the initech parse
    assert "process_cpu_seconds_total" in samples


def test_metrics_token(tmp_path) -> None:
    hub = open_ops_hub(tmp_path, ops={"metrics_token": "s3cret"})
    with TestClient(app=hub.app()) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def _event(row_id: int) -> dict:
    return {"id": row_id, "message_id": "m", "stage": "parse", "outcome": "ok", "duration_ms": 1.0,
            "detail": None, "at": datetime(2024, 1, 1, tzinfo=UTC)}


def test_id_tail_reads_late_commits_once(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'tail.db'}")
    t.events.create(engine)
    tail = IdTail(t.events)
    with engine.begin() as conn:
        tail.start(conn)
        conn.execute(insert(t.events), [_event(1), _event(2), _event(4)])
        assert [r.id for r in tail.read(conn, [t.events.c.stage], now=0.0)] == [1, 2, 4]
        assert tail.gaps == {3: 0.0}
        conn.execute(insert(t.events), [_event(3), _event(5)])  # 3 committed late
        assert [r.id for r in tail.read(conn, [t.events.c.stage], now=1.0)] == [3, 5]
        assert tail.gaps == {} and tail.high == 5
        conn.execute(insert(t.events), [_event(7)])  # 6 rolled back: a hole that never fills
        assert [r.id for r in tail.read(conn, [], now=2.0)] == [7]
        assert [r.id for r in tail.read(conn, [], now=2.0 + GAP_TTL_S)] == []
        assert tail.gaps == {}
