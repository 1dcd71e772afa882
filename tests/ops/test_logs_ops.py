"""Structured JSON logs during an end-to-end run: ids and counts bound, never payload text."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from opshelpers import EXAMPLES, fix_initech, interchange, open_ops_hub, po_set, wait_final

from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.observability.logs import bind_message, configure_logging, redact_payloads
from crossdock.gateway.ops.actions import replay_messages
from crossdock.gateway.partners import partner_by_code

#: text that only occurs inside the documents posted below
PAYLOAD_FRAGMENTS = ("BEG*", "PO1*", "WIDGET", "ACME STORE", "SPRINGFIELD", "012345678905", "PO-LOG-7")


@pytest.fixture
def log_buffer():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", stream=buffer)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


def _submit(hub, body: bytes, sender: str) -> str:
    with hub.runtime.engine.connect() as conn:
        partner = partner_by_code(conn, sender)
    result = ingest(hub.runtime.engine, IngestRequest(body=body, channel="http", partner=partner))
    hub.runtime.dispatch(result.work_id)
    return result.message_id


def test_end_to_end_logs_are_json_with_ids_and_no_payload(tmp_path, log_buffer) -> None:
    hub = open_ops_hub(tmp_path)
    hub.start()
    try:
        good = _submit(hub, (EXAMPLES / "850.x12").read_bytes(), "acme")
        bad = _submit(hub, interchange("INITECH", "000000901", [po_set("0001", "PO-LOG-7")]), "initech")
        assert wait_final(hub.runtime.engine, good) == "accepted"
        assert wait_final(hub.runtime.engine, bad) == "failed"
        fix_initech(hub.runtime.engine)
        replay_messages(hub.runtime, [bad], actor="user:ops1")
        assert wait_final(hub.runtime.engine, bad) == "accepted"
        structlog.get_logger("test").info("attempted leak", body=b"ISA*00*BEG*", payload="BEG*00*SA*PO-LOG-7")
    finally:
        hub.stop()
    lines = [line for line in log_buffer.getvalue().splitlines() if line.strip()]
    assert lines, "the run logged something"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"timestamp", "level", "event"} <= set(r) for r in records)
    replayed = [r for r in records if r["event"] == "replayed by operator"]
    assert [(r["message_id"], r["stage"], r["actor"]) for r in replayed] == [(bad, "replay", "user:ops1")]
    assert any(r.get("message_id") == bad and r.get("level") == "warning" for r in records)  # the failure
    leak = next(r for r in records if r["event"] == "attempted leak")
    assert leak["body"] == "<11 bytes>" and leak["payload"] == "<redacted str>"
    text = log_buffer.getvalue()
    assert [fragment for fragment in PAYLOAD_FRAGMENTS if fragment in text] == []


def test_redaction_and_binding_units() -> None:
    event = redact_payloads(None, "info", {"event": "x", "raw": {"a": 1}, "note": "y" * 1000, "n": 3,
                                            "chunk": memoryview(b"abc")})
    assert event["raw"] == "<redacted dict>" and event["chunk"] == "<3 bytes>" and event["n"] == 3
    assert len(event["note"]) == 301
    with bind_message("m1", stage="map", partner="acme", isa13="000000101", gs06=None):
        bound = structlog.contextvars.get_contextvars()
    assert bound == {"message_id": "m1", "stage": "map", "partner": "acme", "isa13": "000000101"}
    assert structlog.contextvars.get_contextvars() == {}
    # nested: the inner block's values win inside it, the outer ones come back after it
    with bind_message("outer", stage="parse", request="r1"):
        with bind_message("inner", stage="deliver"):
            inner = structlog.contextvars.get_contextvars()
        outer = structlog.contextvars.get_contextvars()
    assert inner == {"message_id": "inner", "stage": "deliver", "request": "r1"}
    assert outer == {"message_id": "outer", "stage": "parse", "request": "r1"}
    assert structlog.contextvars.get_contextvars() == {}
