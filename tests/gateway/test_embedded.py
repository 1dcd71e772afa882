"""End to end in embedded mode: HTTP in, stages through the in-process workers, acks out."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from crossdock.gateway.hub import open_hub
from crossdock.gateway.inbox import PROCESSED, scan_inbox
from crossdock.gateway.partners import ChannelConfig
from crossdock.gateway.store import schema as t

from gwhelpers import (
    EXAMPLES,
    KEYS,
    add_partners,
    count,
    fast_settings,
    interchange,
    po_set,
    post,
    stages,
    wait_final,
    wait_outbound,
)

CHAIN = ["ingest", "parse", "acknowledge", "map", "apply", "route"]


def test_example_850_end_to_end(client) -> None:
    engine = client.hub.runtime.engine
    body = (EXAMPLES / "850.x12").read_bytes()
    response = post(client, body, **{"Content-Type": "application/edi-x12"})
    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == "received"
    assert answer["links"] == {"self": f"/api/v1/messages/{answer['id']}",
                               "raw": f"/api/v1/messages/{answer['id']}/raw",
                               "events": f"/api/v1/messages/{answer['id']}/events"}
    assert wait_final(engine, answer["id"]) == "accepted"
    assert [s for s, _ in stages(engine, answer["id"])] == CHAIN
    acks = wait_outbound(engine, answer["id"])
    assert [(a.document_kind, a.status) for a in acks] == [("997", "delivered")]
    detail = client.get(answer["links"]["self"], headers={"X-Api-Key": KEYS["acme"]}).json()
    assert detail["status"] == "accepted"
    assert [(s["set_id"], s["status"]) for s in detail["sets"]] == [("850", "A")]
    assert [(d["document_type"], d["status"], d["keys"]["po_number"]) for d in detail["documents"]] == [
        ("purchase_order", "applied", "PO-10001")]
    assert [(a["direction"], a["kind"], a["status"]) for a in detail["acks"]] == [("sent", "997", "accepted")]
    raw = client.get(answer["links"]["raw"], headers={"X-Api-Key": KEYS["acme"]})
    assert raw.content == body
    with engine.connect() as conn:
        order = conn.execute(select(t.orders)).one()
        lines = conn.execute(select(t.order_lines.c.quantity, t.order_lines.c.unit)).all()
    assert (order.po_number, order.line_count) == ("PO-10001", 2)
    assert sorted(lines) == [("12", "CA"), ("24", "EA")]
    found = client.get("/api/v1/messages", params={"key": "PO-10001"}, headers={"X-Api-Key": KEYS["host"]}).json()
    assert [m["id"] for m in found["items"]] == [answer["id"]]
    by_control = client.get("/api/v1/messages", params={"control_number": "000000101"},
                            headers={"X-Api-Key": KEYS["host"]}).json()
    assert [m["id"] for m in by_control["items"]] == [answer["id"]]
    # another partner's key does not see acme's message
    other = client.get(answer["links"]["self"], headers={"X-Api-Key": KEYS["globex"]})
    assert other.status_code == 404


def test_duplicate_interchange_recorded_not_processed(client) -> None:
    engine = client.hub.runtime.engine
    body = interchange("ACMEBUYER", "000000777", [po_set("0001", "PO-DUP")], ack_requested="1")
    first = post(client, body).json()["id"]
    assert wait_final(engine, first) == "accepted"
    second = post(client, body).json()["id"]
    assert wait_final(engine, second) == "duplicate"
    # same ISA13 with other content is a duplicate too
    third = post(client, interchange("ACMEBUYER", "000000777", [po_set("0002", "PO-OTHER")], ack_requested="1"))
    assert wait_final(engine, third.json()["id"]) == "duplicate"
    # a duplicate ISA13 claims none of its GS06s (they are claimed with it, then released), so
    # a fresh interchange may use the same GS06 later
    fourth = post(client, interchange("ACMEBUYER", "000000777", [po_set("0001", "PO-FOURTH")], group_control="9001"))
    assert wait_final(engine, fourth.json()["id"]) == "duplicate"
    assert count(engine, t.dedupe_keys, t.dedupe_keys.c.key.endswith(":9001")) == 0
    fifth = post(client, interchange("ACMEBUYER", "000000778", [po_set("0001", "PO-FIFTH")], group_control="9001"))
    assert wait_final(engine, fifth.json()["id"]) == "accepted"
    assert count(engine, t.dedupe_keys, t.dedupe_keys.c.key.endswith(":9001")) == 1
    assert count(engine, t.orders) == 2
    assert count(engine, t.documents) == 2
    kinds = [c.document_kind for c in wait_outbound(engine, second)]
    assert kinds == ["TA1"]
    with engine.connect() as conn:
        payload = conn.execute(select(t.payloads.c.data).join(t.messages, t.messages.c.sha256 == t.payloads.c.sha256)
                               .where(t.messages.c.parent_id == second)).scalar_one()
    assert b"TA1*000000777*" in payload and b"*R*025~" in payload


def test_idempotency_key_returns_original(client) -> None:
    body = interchange("ACMEBUYER", "000000801", [po_set("0001", "PO-IDEM")])
    first = post(client, body, **{"Idempotency-Key": "abc-1"})
    again = post(client, body, **{"Idempotency-Key": "abc-1"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert count(client.hub.runtime.engine, t.messages, t.messages.c.direction == "inbound") == 1


def test_valid_sets_accepted_invalid_rejected(client) -> None:
    engine = client.hub.runtime.engine
    body = interchange("ACMEBUYER", "000000802", [po_set("0001", "PO-GOOD"), po_set("0002", "PO-BAD", broken=True)])
    message_id = post(client, body).json()["id"]
    assert wait_final(engine, message_id) == "partially_accepted"
    with engine.connect() as conn:
        sets = conn.execute(select(t.transaction_sets.c.control_number, t.transaction_sets.c.status)
                            .order_by(t.transaction_sets.c.position)).all()
        docs = conn.execute(select(t.documents.c.position, t.documents.c.status)).all()
        ack = conn.execute(select(t.acks.c.status).where(t.acks.c.direction == "sent")).scalar_one()
    assert sets == [("0001", "A"), ("0002", "R")]
    assert docs == [(0, "applied")]
    assert ack == "partially_accepted"
    ack_bytes = b"".join(_payload(engine, c.sha256) for c in wait_outbound(engine, message_id))
    assert b"AK5*A~" in ack_bytes and b"AK5*R*4~" in ack_bytes and b"AK9*P*2*2*1~" in ack_bytes


def test_test_lane_never_touches_production(client) -> None:
    engine = client.hub.runtime.engine
    usage_t = post(client, interchange("ACMEBUYER", "000000803", [po_set("0001", "PO-T")], usage="T")).json()["id"]
    test_partner = post(client, interchange("TESTER", "000000804", [po_set("0001", "PO-TP")]),
                        key=KEYS["tester"]).json()["id"]
    assert wait_final(engine, usage_t) == "accepted"
    assert wait_final(engine, test_partner) == "accepted"
    with engine.connect() as conn:
        docs = conn.execute(select(t.documents.c.status, t.documents.c.test)).all()
    assert docs == [("test", True), ("test", True)]
    assert count(engine, t.orders) == 0


def test_unknown_and_spoofed_senders_fail_with_codes(client) -> None:
    engine = client.hub.runtime.engine
    unknown = post(client, interchange("NOBODY", "000000805", [po_set("0001", "PO-U")])).json()["id"]
    spoofed = post(client, interchange("GLOBEXSUP", "000000806", [po_set("0001", "PO-S")])).json()["id"]
    assert wait_final(engine, unknown) == "failed"
    assert wait_final(engine, spoofed) == "failed"
    with engine.connect() as conn:
        rows = dict(conn.execute(select(t.messages.c.id, t.messages.c.error_code)).all())
    assert (rows[unknown], rows[spoofed]) == ("PARTNER_UNKNOWN", "SENDER_MISMATCH")
    assert count(engine, t.documents) == 0


def test_replay_of_finished_message_is_exactly_once(client) -> None:
    engine = client.hub.runtime.engine
    message_id = post(client, (EXAMPLES / "850.x12").read_bytes()).json()["id"]
    assert wait_final(engine, message_id) == "accepted"
    replayed = client.post(f"/api/v1/messages/{message_id}/replay", headers={"X-Api-Key": KEYS["acme"]})
    assert replayed.status_code == 202 and replayed.json()["status"] == "replaying"
    assert wait_final(engine, message_id) == "accepted"
    assert count(engine, t.orders) == 1
    assert count(engine, t.acks) == 1
    assert count(engine, t.messages, t.messages.c.parent_id == message_id) == 1
    assert [s for s, _ in stages(engine, message_id)] == CHAIN + ["replay"] + CHAIN[1:]


class _Flaky:
    """Effects that fail while ``broken`` (a poison message until the operator fixes it)."""

    def __init__(self, inner) -> None:
        self.inner, self.broken, self.calls = inner, True, 0

    def apply(self, conn, documents, *, now):
        self.calls += 1
        if self.broken:
            raise RuntimeError("effects backend exploded")
        return self.inner.apply(conn, documents, now=now)


def test_poison_message_goes_dead_then_replays_once(tmp_path: Path) -> None:
    from crossdock.gateway.effects import OrderRecords

    effects = _Flaky(OrderRecords())
    hub = open_hub(fast_settings(tmp_path), workers=True, effects=effects)
    add_partners(hub, tmp_path / "outbox")
    hub.start()
    try:
        from crossdock.gateway.ingest import IngestRequest, ingest
        from crossdock.gateway.partners import partner_by_code
        from crossdock.gateway.replay import replay

        with hub.runtime.engine.connect() as conn:
            acme = partner_by_code(conn, "acme")
        result = ingest(hub.runtime.engine, IngestRequest((EXAMPLES / "850.x12").read_bytes(), "http", acme))
        hub.runtime.dispatch(result.work_id)
        assert wait_final(hub.runtime.engine, result.message_id) == "dead"
        with hub.runtime.engine.connect() as conn:
            row = conn.execute(select(t.messages).where(t.messages.c.id == result.message_id)).one()
        assert (row.error_code, row.error_reason) == ("RuntimeError", "effects backend exploded")
        assert effects.calls == 3
        assert [o for s, o in stages(hub.runtime.engine, result.message_id) if s == "apply"] == [
            "retry", "retry", "dead"]
        effects.broken = False
        assert replay(hub.runtime, result.message_id, None) == "replaying"
        assert wait_final(hub.runtime.engine, result.message_id) == "accepted"
        assert count(hub.runtime.engine, t.orders) == 1
    finally:
        hub.stop()


class _Receiver(BaseHTTPRequestHandler):
    status = 500
    received: list[tuple[int, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        type(self).received.append((type(self).status, self.headers.get("Idempotency-Key", "")))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        return


def test_webhook_down_then_replay_delivers_once(tmp_path: Path) -> None:
    _Receiver.received = []
    _Receiver.status = 500
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    channel = ChannelConfig(kind="webhook", url=f"http://127.0.0.1:{server.server_address[1]}/edi",
                            secret="s3cret")
    hub = open_hub(fast_settings(tmp_path), workers=True)
    add_partners(hub, tmp_path / "outbox", acme_channel=channel)
    hub.start()
    try:
        from crossdock.gateway.ingest import IngestRequest, ingest
        from crossdock.gateway.partners import partner_by_code
        from crossdock.gateway.replay import replay

        engine = hub.runtime.engine
        with engine.connect() as conn:
            acme = partner_by_code(conn, "acme")
        result = ingest(engine, IngestRequest((EXAMPLES / "850.x12").read_bytes(), "http", acme))
        hub.runtime.dispatch(result.work_id)
        assert wait_final(engine, result.message_id) == "accepted"
        (ack,) = wait_outbound(engine, result.message_id)
        assert ack.status == "dead"
        with engine.connect() as conn:
            attempts = conn.execute(select(t.delivery_attempts.c.outcome, t.delivery_attempts.c.error_code)
                                    .where(t.delivery_attempts.c.message_id == ack.id)).all()
        assert attempts == [("retry", "HTTP_STATUS_500")] * 3
        _Receiver.status = 200
        assert replay(hub.runtime, ack.id, None) == "replaying"
        assert wait_final(engine, ack.id) == "delivered"
        replay(hub.runtime, ack.id, None)  # a second replay finds it delivered and sends nothing
        assert wait_final(engine, ack.id) == "delivered"
        assert [s for s, _ in _Receiver.received] == [500, 500, 500, 200]
        assert {key for _, key in _Receiver.received} == {ack.id}
    finally:
        hub.stop()
        server.shutdown()


def test_directory_inbox_ingests_and_moves(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    (root / "acme").mkdir(parents=True)
    hub = open_hub(fast_settings(tmp_path, inbox={"root": root, "settle_s": 0.0}), workers=True, inbox=False)
    add_partners(hub, tmp_path / "outbox")
    hub.start()
    try:
        (root / "acme" / "evil name.x12").write_bytes((EXAMPLES / "850.x12").read_bytes())
        (root / "acme" / "empty.x12").write_bytes(b"")
        assert scan_inbox(hub.runtime, root) == 2
        processed = list((root / "acme" / PROCESSED).iterdir())
        assert len(processed) == 1 and processed[0].name != "evil name.x12"
        assert len(list((root / "acme" / "rejected").iterdir())) == 1
        message_id = processed[0].name
        assert wait_final(hub.runtime.engine, message_id) == "accepted"
        with hub.runtime.engine.connect() as conn:
            row = conn.execute(select(t.messages.c.channel, t.messages.c.filename)
                               .where(t.messages.c.id == message_id)).one()
        assert tuple(row) == ("inbox", "evil name.x12")
    finally:
        hub.stop()


def _payload(engine, sha: str) -> bytes:
    with engine.connect() as conn:
        return conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == sha)).scalar_one()


def test_canonical_json_from_host_is_rendered_for_recipient(client) -> None:
    engine = client.hub.runtime.engine
    document = {"document_type": "purchase_order", "po_number": "PO-OUT-1",
                "lines": [{"line_number": "1", "quantity": {"value": "5", "unit": "EA"}}]}
    response = post(client, json.dumps(document).encode(), key=KEYS["host"],
                    **{"Content-Type": "application/json", "X-Crossdock-Recipient": "globex"})
    assert response.status_code == 202
    message_id = response.json()["id"]
    assert wait_final(engine, message_id) == "accepted"
    (rendered,) = wait_outbound(engine, message_id)
    assert (rendered.document_kind, rendered.status) == ("850", "delivered")
    assert b"~ST*850*" in _payload(engine, rendered.sha256) and b"*PO-OUT-1" in _payload(engine, rendered.sha256)
    with engine.connect() as conn:
        expected = conn.execute(select(t.acks.c.status).where(t.acks.c.direction == "expected")).all()
    assert expected == [("pending",)]
