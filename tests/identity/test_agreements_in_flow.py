"""Cross-cutting gaps between gateway, registry and operations, end to end on the embedded hub:
security events that survive a refused message, log context, document links, and the agreement
fields the pipeline honours (ack due time, charset, outbound envelope, mapping overrides)."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
import structlog
from idhelpers import ISA, KEYS, api, children, interchange, login, wait_final
from sqlalchemy import select

from crossdock.gateway.observability.logs import configure_logging
from crossdock.gateway.store import schema as t


def _admin(client) -> dict[str, str]:
    cookie, csrf = login(client, "admin")
    return {**cookie, "X-CSRF-Token": csrf}


def _set_agreement(client, headers: dict[str, str], code: str, direction: str, **policy) -> None:
    profile = client.get(f"/api/v1/partners/{code}", headers=headers).json()
    profile["agreements"] = [a if a["direction"] != direction else {**a, **policy} for a in profile["agreements"]]
    response = client.put(f"/api/v1/partners/{code}", json=profile, headers=headers)
    assert response.status_code == 200, response.text


def _x12(sender: str, control: str, functional_id: str, segments: list[str]) -> bytes:
    body = "".join(s + "~" for s in segments) + f"SE*{len(segments) + 1}*0001~"
    gs = str(int(control))
    return (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{'CROSSDOCK':<15}*240305*1400*U*00401*"
            f"{control}*0*P*>~GS*{functional_id}*{sender}*CROSSDOCK*20240305*1400*{gs}*X*004010~{body}"
            f"GE*1*{gs}~IEA*1*{control}~").encode()


def _host_order(client, po_number: str, recipient: str = "globex", **fields) -> str:
    document = {"document_type": "purchase_order", "po_number": po_number,
                "lines": [{"line_number": "1", "quantity": {"value": "5", "unit": "EA"}}], **fields}
    posted = client.post("/api/v1/messages", content=json.dumps(document).encode(),
                         headers={**api(KEYS["host"]), "Content-Type": "application/json",
                                  "X-Crossdock-Recipient": recipient})
    assert posted.status_code == 202, posted.text
    return posted.json()["id"]


def _outbound_payload(engine, message_id: str) -> bytes:
    (child,) = children(engine, message_id)
    with engine.connect() as conn:
        return conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == child.sha256)).scalar_one()


# ------------------------------------------------------------------------ security events


def test_refused_senders_leave_an_audit_row_with_ids_only(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    spoofed = client.post("/api/v1/messages", content=interchange(ISA["globex"], "000000701", "PO-SPOOF-SECRET"),
                          headers=api(KEYS["acme"])).json()["id"]
    unknown = client.post("/api/v1/messages", content=interchange("NOBODYATALL", "000000702", "PO-NOBODY-SECRET"),
                          headers=api(KEYS["acme"])).json()["id"]
    assert (wait_final(engine, spoofed), wait_final(engine, unknown)) == ("failed", "failed")
    rows = {}
    for kind in ("sender_mismatch", "sender_unknown"):
        (row,) = client.get("/api/v1/audit", params={"kind": kind}, headers=admin).json()["items"]
        rows[kind] = row
    assert rows["sender_mismatch"]["message_id"] == spoofed
    assert rows["sender_mismatch"]["detail"]["sender"] == f"ZZ:{ISA['globex']}"
    assert rows["sender_unknown"]["message_id"] == unknown
    assert "SECRET" not in json.dumps(rows)
    with engine.connect() as conn:  # refused: nothing filed, no effects
        assert conn.execute(select(t.documents.c.id).where(t.documents.c.message_id.in_((spoofed, unknown)))).all() == []
    codes = [client.get(f"/api/v1/messages/{m}", headers=api(KEYS["acme"])).json()["error_code"]
             for m in (spoofed, unknown)]
    assert codes == ["SENDER_MISMATCH", "PARTNER_UNKNOWN"]


# ---------------------------------------------------------------------------- log context


@pytest.fixture
def log_lines():
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


def test_stage_log_lines_carry_partner_and_control_numbers(client, log_lines) -> None:
    engine = client.hub.runtime.engine
    posted = client.post("/api/v1/messages", content=interchange(ISA["acme"], "000000731", "PO-LOGCTX-SECRET"),
                         headers=api(KEYS["acme"])).json()["id"]
    assert wait_final(engine, posted) == "accepted"
    records = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
    staged = {r["stage"]: r for r in records if r.get("message_id") == posted and r.get("event") == "stage done"}
    assert {"parse", "acknowledge", "map", "apply", "route"} <= set(staged)
    for stage in ("parse", "map", "route"):
        assert (staged[stage]["partner"], staged[stage]["isa13"], staged[stage]["gs06"], staged[stage]["st02"]) == \
            ("acme", "000000731", "731", "0001")
    assert "SECRET" not in log_lines.getvalue() and "BEG*" not in log_lines.getvalue()


# -------------------------------------------------------------------------------- links


def test_ship_notice_and_invoice_link_to_the_order_and_each_other(client) -> None:
    engine = client.hub.runtime.engine
    order = _host_order(client, "PO-LINK-1")
    assert wait_final(engine, order) == "accepted"
    asn = client.post("/api/v1/messages", headers=api(KEYS["globex"]), content=_x12(ISA["globex"], "000000741", "SH", [
        "ST*856*0001", "BSN*00*ASN-LINK-1*20240305*1400", "HL*1**S", "REF*BM*BOL-LINK-1", "HL*2*1*O",
        "PRF*PO-LINK-1", "HL*3*2*I", "LIN*1*UP*012345678905", "SN1**5*EA", "CTT*3"])).json()["id"]
    assert wait_final(engine, asn) == "accepted"
    invoice = client.post("/api/v1/messages", headers=api(KEYS["globex"]), content=_x12(ISA["globex"], "000000742", "IN", [
        "ST*810*0001", "BIG*20240306*INV-LINK-1**PO-LINK-1", "REF*BM*BOL-LINK-1", "IT1*1*5*EA*2.5**UP*012345678905",
        "TDS*1250", "CTT*1"])).json()["id"]
    assert wait_final(engine, invoice) == "accepted"

    def document(message_id: str, key: str) -> dict:
        (doc,) = client.get(f"/api/v1/messages/{message_id}", headers=api(KEYS[key])).json()["documents"]
        return doc

    po = document(order, "host")
    ship = document(asn, "globex")
    bill = document(invoice, "globex")
    assert ship["links"] == [{"to": po["id"], "relation": "ships"}]
    assert sorted((lk["to"], lk["relation"]) for lk in bill["links"]) == \
        sorted([(po["id"], "invoices"), (ship["id"], "invoices")])


# ------------------------------------------------------------------- agreement fields


def test_ack_due_time_comes_from_the_outbound_agreement(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    default_s = client.hub.runtime.settings.workflow.ack_overdue_after_s
    due = []
    for number, hours in enumerate((None, 2.5)):
        if hours is not None:
            _set_agreement(client, admin, "globex", "outbound", ack_within_hours=hours)
        message_id = _host_order(client, f"PO-DUE-{number}")
        assert wait_final(engine, message_id) == "accepted"
        (child,) = children(engine, message_id)
        with engine.connect() as conn:
            row = conn.execute(select(t.acks).where(t.acks.c.message_id == child.id)).one()
        due.append(row.due_at - row.created_at)
    assert due == [timedelta(seconds=default_s), timedelta(hours=2.5)]


def test_charset_of_the_inbound_agreement_rejects_characters_outside_it(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    results = []
    for control, charset in (("000000751", "utf8"), ("000000752", "basic")):
        _set_agreement(client, admin, "acme", "inbound", charset=charset)
        body = interchange(ISA["acme"], control, "PO-CHARSET").replace(b"STORE", "STÖRE".encode())
        posted = client.post("/api/v1/messages", content=body, headers=api(KEYS["acme"])).json()["id"]
        results.append(wait_final(engine, posted))
        with engine.connect() as conn:
            (set_row,) = conn.execute(select(t.transaction_sets).where(t.transaction_sets.c.message_id == posted)).all()
        results.append((set_row.status, sorted({str(e.get("code")) for e in set_row.errors})))
    assert results[:2] == ["accepted", ("A", [])]
    assert results[2] == "rejected"
    assert results[3][0] == "R" and "6" in results[3][1]


def test_outbound_envelope_of_the_agreement_is_used(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    _set_agreement(client, admin, "globex", "outbound", envelope={
        "sender_id": "HUBALT", "receiver_qualifier": "01", "receiver_id": "GLOBEXALT",
        "authorization_qualifier": "03", "authorization": "AUTH1", "ta1_requested": True,
        "delimiters": {"element": "|", "segment": "!", "component": "<", "repetition": "^"}})
    message_id = _host_order(client, "PO-ENV-1")
    assert wait_final(engine, message_id) == "accepted"
    payload = _outbound_payload(engine, message_id).decode()
    isa = payload.split("!")[0].split("|")
    assert (isa[1], isa[2], isa[6].strip(), isa[7], isa[8].strip(), isa[12], isa[14], isa[16]) == \
        ("03", "AUTH1     ", "HUBALT", "01", "GLOBEXALT", "00401", "1", "<")
    gs = payload.split("!")[1].split("|")
    assert (gs[0], gs[2], gs[3]) == ("GS", "HUBALT", "GLOBEXALT")


def test_mapping_overrides_of_the_agreements_apply_both_ways(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    variant = {"base": "x12.850", "rules": [{"target": "contract_number", "source": "BEG04"}],
               "remove": [{"table": "", "target": "release_number"}]}
    _set_agreement(client, admin, "globex", "outbound", mapping_overrides=[{"name": "globex.850", **variant}])
    _set_agreement(client, admin, "acme", "inbound", mapping_overrides=[{"name": "acme.850", **variant}])
    out = _host_order(client, "PO-OVR-1", contract_number="CT-9")
    assert wait_final(engine, out) == "accepted"
    beg = next(s for s in _outbound_payload(engine, out).decode().split("~") if s.startswith("BEG*"))
    assert beg.split("*")[3:5] == ["PO-OVR-1", "CT-9"]  # BEG04, where the partner wants it
    body = interchange(ISA["acme"], "000000761", "PO-OVR-2").replace(b"*PO-OVR-2**", b"*PO-OVR-2*CT-7*")
    posted = client.post("/api/v1/messages", content=body, headers=api(KEYS["acme"])).json()["id"]
    assert wait_final(engine, posted) == "accepted"
    with engine.connect() as conn:
        document = json.loads(conn.execute(select(t.documents.c.body).where(t.documents.c.message_id == posted)).scalar_one())
    assert document.get("contract_number") == "CT-7"
