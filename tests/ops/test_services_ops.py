"""The ops services on real flows (embedded hub): search, detail, acks, scorecards, overview, actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opshelpers import ACK_WINDOW_HOURS, fix_initech, wait_final
from sqlalchemy import select

from crossdock.gateway.ops.acks import overdue_acks, rejected_acks
from crossdock.gateway.ops.actions import ActionRefused, replay_messages, resolve, retry_delivery
from crossdock.gateway.ops.detail import message_view
from crossdock.gateway.ops.overview import overview
from crossdock.gateway.ops.scorecard import scorecards
from crossdock.gateway.ops.search import (
    SearchCriteria,
    SearchInvalid,
    criteria_from_query,
    decode_cursor,
    search_messages,
)
from crossdock.gateway.ops.status import system_status
from crossdock.gateway.queries import MessageNotFound
from crossdock.gateway.store import schema as t


def _now(scenario) -> datetime:
    return datetime.fromtimestamp(scenario.clock(), UTC)


def _ids(scenario, **criteria) -> list[str]:
    with scenario.engine.connect() as conn:
        return [r.id for r in search_messages(conn, SearchCriteria(**criteria)).rows]


def _partner_id(scenario, code: str) -> int:
    with scenario.engine.connect() as conn:
        return conn.execute(select(t.partners.c.id).where(t.partners.c.code == code)).scalar_one()


def test_search_by_business_keys(scenario) -> None:
    ids = scenario.ids
    assert _ids(scenario, key="PO-10001") == [ids["po"]]
    assert _ids(scenario, key="PO-10001", key_kind="po") == [ids["po"]]
    assert _ids(scenario, key="PO-10001", key_kind="asn") == []
    # the ASN carries the PO number too (key po_numbers): a PO search finds the PO and its ASN
    assert set(_ids(scenario, key="PO-OUT-1", key_kind="po")) >= {ids["out1"], ids["asn"]}
    assert _ids(scenario, key="ASN-9001", key_kind="asn") == [ids["asn"]]


def test_search_by_control_numbers(scenario) -> None:
    ids = scenario.ids
    assert _ids(scenario, control_number="000000101", control_kind="isa13") == [ids["po"]]
    assert _ids(scenario, control_number="101", control_kind="gs06") == [ids["po"]]
    assert ids["broken"] in _ids(scenario, control_number="0007", control_kind="st02")
    assert _ids(scenario, control_number="0007", control_kind="isa13") == []
    with pytest.raises(SearchInvalid):
        _ids(scenario, control_number="1", control_kind="st03")


def test_search_filters_and_pages(scenario) -> None:
    ids = scenario.ids
    acme = _partner_id(scenario, "acme")
    globex = _partner_id(scenario, "globex")
    acme_messages = _ids(scenario, partner_id=acme)
    assert {ids["po"], ids["broken"]} <= set(acme_messages)
    assert ids["asn"] not in acme_messages
    # a partner is sender or recipient: the 850s we rendered for globex are its messages too
    globex_outbound = _ids(scenario, partner_id=globex, direction="outbound", document_type="850")
    assert len(globex_outbound) == 2
    assert _ids(scenario, status="rejected", partner_id=acme) == [ids["broken"]]
    assert ids["asn"] in _ids(scenario, document_type="ship_notice")
    assert _ids(scenario, received_to=datetime(2000, 1, 1, tzinfo=UTC)) == []
    seen, cursor = [], None
    with scenario.engine.connect() as conn:
        for _ in range(10):
            page = search_messages(conn, SearchCriteria(partner_id=acme, cursor=cursor, limit=1))
            seen += [r.id for r in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == acme_messages


def test_query_string_criteria() -> None:
    criteria = criteria_from_query({"partner": "acme", "key": " PO-1 ", "from": "2024-03-01", "limit": "5",
                                    "status": ""}, {"acme": 7})
    assert (criteria.partner_id, criteria.key, criteria.limit, criteria.status) == (7, "PO-1", 5, None)
    assert criteria.received_from == datetime(2024, 3, 1, tzinfo=UTC)
    with pytest.raises(SearchInvalid) as unknown:
        criteria_from_query({"partner": "nobody"}, {"acme": 7})
    assert unknown.value.code == "SEARCH_INVALID"
    with pytest.raises(SearchInvalid):
        criteria_from_query({"from": "yesterday"}, {})
    with pytest.raises(SearchInvalid):
        decode_cursor("%%%")


def test_detail_of_accepted_850(scenario) -> None:
    with scenario.engine.connect() as conn:
        view = message_view(conn, scenario.ids["po"])
    assert view.partner == "acme" and view.message["status"] == "accepted"
    assert [e["stage"] for e in view.timeline][:2] == ["ingest", "parse"]
    assert all(e["duration_ms"] >= 0 for e in view.timeline)
    assert view.raw.kind == "x12"
    assert [line.text for line in view.raw.lines[:3]] == [
        "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*CROSSDOCK      *240301*0930*U*00401*000000101*0*P*>",
        "GS*PO*ACMEBUYER*CROSSDOCK*20240301*0930*101*X*004010", "ST*850*0001"]
    assert len(view.raw.lines) == 17 and [i for i in view.issues if i.source == "x12"] == []
    sent = [a for a in view.acks if a["direction"] == "sent"]
    assert [(a["kind"], a["status"], a["ack_message"][0]) for a in sent] == [("997", "accepted", "997")]
    assert [(o["document_kind"], o["status"], [x["outcome"] for x in o["attempts"]]) for o in view.outbound] == [
        ("997", "delivered", ["delivered"])]
    assert view.documents[0]["document_type"] == "purchase_order" and '"PO-10001"' in view.documents[0]["body"]


def test_detail_pins_validation_errors_to_lines(scenario) -> None:
    with scenario.engine.connect() as conn:
        view = message_view(conn, scenario.ids["broken"])
    assert view.message["status"] == "rejected"
    element = next(i for i in view.issues if i.element_position is not None)
    assert (element.source, element.set_control, element.segment_id, element.segment_position,
            element.element_position, element.code) == ("x12", "0007", "BEG", 2, 5, "8")
    assert view.raw.lines[element.line - 1].text.startswith("BEG*00*SA*PO-BAD-1")
    assert element.line in view.error_lines
    rejected = [a for a in view.acks if a["direction"] == "sent"]
    assert [a["status"] for a in rejected] == ["rejected"]


def test_detail_related_documents_and_missing(scenario) -> None:
    with scenario.engine.connect() as conn:
        asn = message_view(conn, scenario.ids["asn"])
        with pytest.raises(MessageNotFound):
            message_view(conn, "nope")
    assert asn.documents[0]["document_type"] == "ship_notice"
    # the 850 behind the 856: the PO we sent globex, linked by the apply stage (856 PRF = 850 BEG03)
    assert [(r.relation, r.document_type, r.message_id) for r in asn.related] == [
        ("ships", "purchase_order", scenario.ids["out1"])]
    with scenario.engine.connect() as conn:
        order = message_view(conn, scenario.ids["out1"])
    assert [(r.document_type, r.message_id) for r in order.related] == [("ship_notice", scenario.ids["asn"])]
    with scenario.engine.connect() as conn:
        rendered = conn.execute(select(t.messages.c.id).where(t.messages.c.parent_id == scenario.ids["out2"])).scalar()
        out = message_view(conn, rendered)
    expected = [a for a in out.acks if a["direction"] == "expected"]
    assert [(a["status"], a["ack_message_id"]) for a in expected] == [("rejected", scenario.ids["ack997"])]


def test_overdue_acks_follow_the_partner_window(scenario) -> None:
    now = _now(scenario)
    with scenario.engine.connect() as conn:
        assert overdue_acks(conn, now) == []
        later = overdue_acks(conn, now + timedelta(hours=ACK_WINDOW_HOURS, seconds=5))
    assert [(a.partner, a.kind) for a in later] == [("globex", "997")]
    assert later[0].overdue_s >= 5 and later[0].due_at - later[0].sent_at == timedelta(hours=ACK_WINDOW_HOURS)


def test_rejected_acks_carry_reasons(scenario) -> None:
    with scenario.engine.connect() as conn:
        rejected = rejected_acks(conn)
    assert len(rejected) == 1
    ack = rejected[0]
    assert (ack.partner, ack.kind, ack.status, ack.ack_message_id) == ("globex", "997", "rejected",
                                                                       scenario.ids["ack997"])
    assert ack.answered_message_id is not None
    text = " ".join(ack.reasons)
    assert "850 0001: R" in text and "codes 5" in text and "PO1" in text


def test_scorecards(scenario) -> None:
    now = _now(scenario)
    with scenario.engine.connect() as conn:
        cards = {c.partner: c for c in scorecards(conn, since=now - timedelta(days=1), until=now + timedelta(1),
                                                  now=now)}
    assert {"acme", "globex", "initech"} <= set(cards) and "erp" not in cards  # host systems have none
    acme, globex, initech = cards["acme"], cards["globex"], cards["initech"]
    assert (acme.inbound, acme.problems) == (2, 1) and acme.error_rate == 0.5
    assert initech.error_rate == 1.0
    assert globex.inbound == 2 and globex.outbound == 3  # two 850s rendered for it, our 997 for its ASN
    assert (globex.asns_compared, globex.asns_accurate) == (1, 0)  # shipped 4 of 5 ordered
    assert globex.fill_rate == pytest.approx(0.8)
    assert (globex.asns_dated, globex.asns_on_time) == (1, 1)  # shipped 2024-03-05, ship by 2024-03-10
    assert (globex.acks_due, globex.acks_on_time) == (1, 1)  # one settled (rejected, but in time), one open


def test_overview_and_status(scenario) -> None:
    now = _now(scenario)
    with scenario.engine.connect() as conn:
        data = overview(conn, now, hours=6)
        status = system_status(conn, now)
    assert sum(data.volume) == sum(data.statuses.values()) and sum(data.volume) >= 7
    assert sum(data.failures) >= 2
    assert data.partners[0].partner in ("acme", "initech") and data.partners[0].trouble >= 1
    assert any(f.partner == "globex" and f.direction == "outbound" and f.document_kind == "850" for f in data.flows)
    assert status.failures_last_hour >= 2 and status.overdue_acks == 0 and status.queue_depth >= 0


def test_replay_after_fixing_the_partner_turns_green(scenario) -> None:
    message_id = scenario.ids["initech"]
    with scenario.engine.connect() as conn:
        failed = message_view(conn, message_id).message
    assert (failed["status"], failed["error_code"]) == ("failed", "AGREEMENT_MISSING")
    fix_initech(scenario.engine)
    results = replay_messages(scenario.hub.runtime, [message_id, "missing-id"], actor="user:ops1",
                              comment="agreement added")
    assert [(r.message_id, r.status) for r in results] == [(message_id, "replaying"), ("missing-id", "not_found")]
    assert wait_final(scenario.engine, message_id) == "accepted"
    with scenario.engine.connect() as conn:
        view = message_view(conn, message_id)
        audit = conn.execute(select(t.audit_log.c.kind, t.audit_log.c.actor).where(
            t.audit_log.c.message_id == message_id)).all()
    assert [(n["action"], n["actor"], n["comment"]) for n in view.notes] == [("replay", "user:ops1", "agreement added")]
    assert audit == [("replay", "user:ops1")]
    assert "replay" in [e["stage"] for e in view.timeline]


def test_resolve_and_refusals(scenario) -> None:
    runtime = scenario.hub.runtime
    with pytest.raises(ActionRefused):
        resolve(runtime, scenario.ids["broken"], actor="user:ops1", comment="  ")
    with pytest.raises(MessageNotFound):
        resolve(runtime, "nope", actor="user:ops1", comment="x")
    with pytest.raises(ActionRefused):
        retry_delivery(runtime, scenario.ids["broken"], actor="user:ops1")
    with pytest.raises(ActionRefused):
        replay_messages(runtime, [str(i) for i in range(501)], actor="user:ops1")
    resolve(runtime, scenario.ids["broken"], actor="user:ops1", comment="partner resent as PO-BAD-2")
    with scenario.engine.connect() as conn:
        view = message_view(conn, scenario.ids["broken"])
    assert view.resolved and view.notes[-1]["comment"] == "partner resent as PO-BAD-2"


def test_retry_a_dead_delivery_after_the_partner_endpoint_is_back(scenario) -> None:
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opshelpers import submit
    from opshelpers import interchange, po_set, wait_children

    from crossdock.gateway.partners import AgreementConfig, ChannelConfig, IdentitySpec, create_partner

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = ChannelConfig(kind="webhook", url=f"http://127.0.0.1:{port}/edi", secret="s")
    with scenario.engine.begin() as conn:
        create_partner(conn, code="hooli", name="Hooli", identities=[IdentitySpec(kind="isa", value="ZZ:HOOLI")],
                       agreements=[("*", "inbound", AgreementConfig()),
                                   ("*", "outbound", AgreementConfig(channel=hook))])
    message_id = submit(scenario.hub, interchange("HOOLI", "000000801", [po_set("0001", "PO-HOOLI-1")]), "hooli")
    assert wait_final(scenario.engine, message_id) == "accepted"
    (ack,) = wait_children(scenario.engine, message_id)
    assert ack.status == "dead"  # nobody listening: every attempt refused

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = retry_delivery(scenario.hub.runtime, ack.id, actor="user:ops1", comment="endpoint back")
        assert result.status == "replaying"
        assert wait_final(scenario.engine, ack.id) == "delivered"
    finally:
        server.shutdown()
    with scenario.engine.connect() as conn:
        view = message_view(conn, ack.id)
    outcomes = [a["outcome"] for a in view.deliveries]
    assert outcomes[-1] == "delivered" and set(outcomes[:-1]) == {"retry"} and len(outcomes) >= 3
    assert [(n["action"], n["comment"]) for n in view.notes] == [("retry_delivery", "endpoint back")]
