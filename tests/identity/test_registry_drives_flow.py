"""The registry drives the flow end to end: changing a partner's agreement through the API
changes the acknowledgement type and the outbound format, with no code change."""

from __future__ import annotations

import json

from idhelpers import ISA, KEYS, api, children, interchange, login, wait_final
from sqlalchemy import select

from crossdock.gateway.store import schema as t


def _set_agreement(client, headers: dict[str, str], code: str, direction: str, **policy) -> None:
    profile = client.get(f"/api/v1/partners/{code}", headers=headers).json()
    profile["agreements"] = [a if a["direction"] != direction else {**a, **policy} for a in profile["agreements"]]
    assert client.put(f"/api/v1/partners/{code}", json=profile, headers=headers).status_code == 200


def _admin(client) -> dict[str, str]:
    cookie, csrf = login(client, "admin")
    return {**cookie, "X-CSRF-Token": csrf}


def test_ack_type_follows_the_inbound_agreement(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    kinds = []
    for control, ack in (("000000401", "999"), ("000000402", "997")):
        _set_agreement(client, admin, "acme", "inbound", ack=ack)
        posted = client.post("/api/v1/messages", content=interchange(ISA["acme"], control, f"PO-ACK-{ack}"),
                             headers=api(KEYS["acme"]))
        assert wait_final(engine, posted.json()["id"]) == "accepted"
        kinds.append([c.document_kind for c in children(engine, posted.json()["id"])])
    assert kinds == [["999"], ["997"]]


def test_outbound_format_follows_the_recipients_agreement(client) -> None:
    engine, admin = client.hub.runtime.engine, _admin(client)
    rendered = []
    for number, fmt in enumerate(("x12", "canonical_json")):
        _set_agreement(client, admin, "globex", "outbound", format=fmt)
        document = {"document_type": "purchase_order", "po_number": f"PO-FMT-{number}",
                    "lines": [{"line_number": "1", "quantity": {"value": "5", "unit": "EA"}}]}
        posted = client.post("/api/v1/messages", content=json.dumps(document).encode(),
                             headers={**api(KEYS["host"]), "Content-Type": "application/json",
                                      "X-Crossdock-Recipient": "globex"})
        assert wait_final(engine, posted.json()["id"]) == "accepted"
        (child,) = children(engine, posted.json()["id"])
        with engine.connect() as conn:
            payload = conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == child.sha256)).scalar_one()
        marker = payload[:3] if child.format == "x12" else json.loads(payload)["po_number"]
        rendered.append((child.format, child.content_type, marker))
    assert rendered == [("x12", "application/edi-x12", b"ISA"), ("json", "application/json", "PO-FMT-1")]
