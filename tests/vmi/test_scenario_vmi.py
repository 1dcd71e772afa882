"""End to end through the embedded hub: a retailer's 852 → positions and demand → proposals →
the supplier approves → an 855 goes to the retailer → the supplier's 856 → in transit → a later
852 shows it received. Also: replays and re-sent documents change nothing, suppliers only see
their own items, bad 846s are refused without touching the inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from vmihelpers import KEYS, activity_852, interchange, wait_final, wait_for, x12_set

from crossdock.gateway.store import schema as t


def _d(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).strftime("%Y%m%d")


def _post(client, body: bytes, who: str = "acme"):
    response = client.post("/api/v1/messages", content=body,
                           headers={"X-Api-Key": KEYS[who], "Content-Type": "application/edi-x12"})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _get(client, path: str, who: str, **params):
    return client.get(path, params=params, headers={"X-Api-Key": KEYS[who]})


def _row(client, who: str, item: str, location: str) -> dict:
    rows = _get(client, "/api/v1/inventory", who, item=item, location=location).json()["items"]
    assert len(rows) == 1, rows
    return rows[0]


def _delivered(engine, parent_id: str):
    with engine.connect() as conn:
        return conn.execute(select(t.messages).where(t.messages.c.parent_id == parent_id,
                                                     t.messages.c.status == "delivered")).first()


def _ship_notice(control: str, po: str, sku: str, qty: int) -> bytes:
    segments = [f"BSN*00*ASN-{control}*{_d(0)}*1200", "HL*1**S", f"DTM*011*{_d(0)}", f"DTM*017*{_d(2)}",
                "HL*2*1*O", f"PRF*{po}", "HL*3*2*I", f"LIN*1*BP*{sku}", f"SN1*1*{qty}*EA", "CTT*1"]
    return interchange("GLOBEXSUP", control, [x12_set("856", "0001", segments)], "SH")


def test_852_to_proposal_to_855_to_856_to_receipt(client) -> None:
    engine = client.hub.runtime.engine
    first = activity_852("000000101", _d(-7), _d(-1), {
        "0042": [("100-1", 30, 21), ("200-1", 5, 14), ("300-1", 8, 7)],
        "0043": [("100-1", 90, 7)],
    })
    assert wait_final(engine, _post(client, first)) == "accepted"

    # positions and demand updated as the 852 was applied
    widget = _row(client, "globex", "GLX-100", "ACME-S042")
    assert (widget["on_hand"], widget["in_transit"], widget["on_order"]) == (30, 0, 0)
    assert widget["avg_daily"] == 3.0 and widget["flags"] == ["below_min", "projected_stockout"]
    assert _row(client, "globex", "GLX-100", "ACME-S043")["flags"] == []

    # proposals appear for the items below their trigger (planner, debounced after the apply)
    def open_proposals():
        found = _get(client, "/api/v1/proposals", "globex").json()["items"]
        return found if any(p["item"] == "GLX-100" and p["location"] == "ACME-S042" for p in found) else None

    proposals = wait_for(open_proposals, what="proposals")
    assert {(p["item"], p["location"]) for p in proposals} == {("GLX-100", "ACME-S042"), ("GLX-200", "ACME-S042")}
    proposal = next(p for p in proposals if p["item"] == "GLX-100")
    assert proposal["reasons"][0]["code"] == "BELOW_MIN" and proposal["quantity"] % 12 == 0

    # the supplier edits and approves: an 855 goes to the retailer through the normal path
    edited = client.patch(f"/api/v1/proposals/{proposal['id']}", json={"quantity": 96},
                          headers={"X-Api-Key": KEYS["globex"]})
    assert edited.status_code == 200, edited.text
    approved = client.post(f"/api/v1/proposals/{proposal['id']}/approve", headers={"X-Api-Key": KEYS["globex"]})
    assert approved.status_code == 200, approved.text
    order = approved.json()
    assert order["po_number"] == f"VMI-{proposal['id']:06d}"
    assert wait_final(engine, order["message_id"]) == "accepted"
    sent = wait_for(lambda: _delivered(engine, order["message_id"]), what="the 855 delivered")
    assert sent.document_kind == "855" and sent.recipient_id == client.partners["acme"]
    payload = (client.outbox / f"{sent.id}.x12").read_bytes()
    assert b"BAK*00*AD*" + order["po_number"].encode() in payload and b"*96*EA" in payload
    again = client.post(f"/api/v1/proposals/{proposal['id']}/approve", headers={"X-Api-Key": KEYS["globex"]})
    assert (again.status_code, again.json()["code"]) == (409, "PROPOSAL_DECIDED")
    assert _row(client, "globex", "GLX-100", "ACME-S042")["on_order"] == 96

    # the supplier's 856 moves it to in transit
    asn = _post(client, _ship_notice("000000201", order["po_number"], "100-1", 96), "globex")
    assert wait_final(engine, asn) == "accepted"
    widget = _row(client, "globex", "GLX-100", "ACME-S042")
    assert (widget["on_order"], widget["in_transit"]) == (0, 96)

    # a later 852 shows it received (and a new on-hand count)
    later = activity_852("000000102", _d(0), _d(0), {"0042": [("100-1", 120, 2)]}, report="R2",
                         received={("0042", "100-1"): 96})
    assert wait_final(engine, _post(client, later)) == "accepted"
    widget = _row(client, "globex", "GLX-100", "ACME-S042")
    assert (widget["on_hand"], widget["in_transit"], widget["on_order"]) == (120, 0, 0)

    detail = _get(client, "/api/v1/inventory/GLX-100/ACME-S042", "globex").json()
    kinds = [m["kind"] for m in detail["movements"]]
    assert {"snapshot_on_hand", "sale", "on_order", "confirmed", "shipped", "received"} <= set(kinds)
    shipped = next(m for m in detail["movements"] if m["kind"] == "shipped")
    assert shipped["document"]["type"] == "856" and shipped["order_ref"] == order["po_number"]
    doc = _get(client, shipped["document"]["link"], "globex").json()
    assert doc["code"] == "856" and [m["item"] for m in doc["movements"]] == ["GLX-100"]
    assert len(detail["projection"]["balance"]) == 28


def test_duplicates_and_replays_change_nothing(client) -> None:
    engine = client.hub.runtime.engine
    body = activity_852("000000301", _d(-7), _d(-1), {"0042": [("100-1", 30, 21)]})
    assert wait_final(engine, _post(client, body)) == "accepted"
    before = _get(client, "/api/v1/inventory/GLX-100/ACME-S042", "globex").json()
    # the same report in a new envelope (new ISA13), and a replay of the first message
    resent = activity_852("000000302", _d(-7), _d(-1), {"0042": [("100-1", 30, 21)]})
    assert wait_final(engine, _post(client, resent)) == "accepted"
    with engine.connect() as conn:
        first_id = conn.execute(select(t.messages.c.id).where(t.messages.c.direction == "inbound")
                                .order_by(t.messages.c.received_at)).scalars().first()
    assert client.post(f"/api/v1/messages/{first_id}/replay", headers={"X-Api-Key": KEYS["host"]}).status_code == 202
    assert wait_final(engine, first_id) == "accepted"
    after = _get(client, "/api/v1/inventory/GLX-100/ACME-S042", "globex").json()
    assert after["position"] == before["position"]
    assert len(after["movements"]) == len(before["movements"]) == 2


def test_suppliers_see_only_their_own_items(client) -> None:
    engine = client.hub.runtime.engine
    body = activity_852("000000401", _d(-7), _d(-1), {"0042": [("100-1", 30, 21), ("300-1", 1, 7)]})
    assert wait_final(engine, _post(client, body)) == "accepted"
    globex = _get(client, "/api/v1/inventory", "globex").json()
    initech = _get(client, "/api/v1/inventory", "initech").json()
    assert {r["item"] for r in globex["items"]} == {"GLX-100", "GLX-200"}
    assert {r["item"] for r in initech["items"]} == {"INI-300"}
    assert _get(client, "/api/v1/inventory/GLX-100/ACME-S042", "initech").status_code == 404
    retailer = _get(client, "/api/v1/inventory", "acme").json()
    assert retailer["total"] == 0
    host = _get(client, "/api/v1/inventory", "host", supplier="initech").json()
    assert [r["item"] for r in host["items"]] == ["INI-300"]
    proposals = wait_for(lambda: _get(client, "/api/v1/proposals", "globex").json()["items"], what="proposals")
    theirs = proposals[0]["id"]
    assert client.post(f"/api/v1/proposals/{theirs}/approve", headers={"X-Api-Key": KEYS["initech"]}).status_code == 404
    assert client.post(f"/api/v1/proposals/{theirs}/reject", headers={"X-Api-Key": KEYS["initech"]}).status_code == 404
    document = _get(client, "/api/v1/inventory/GLX-100/ACME-S042", "globex").json()["movements"][0]["document"]
    assert {m["item"] for m in _get(client, document["link"], "globex").json()["movements"]} == {"GLX-100"}
    initech_view = _get(client, document["link"], "initech").json()
    assert {m["item"] for m in initech_view["movements"]} == {"INI-300"}


def test_bad_846_is_refused_without_touching_inventory(client) -> None:
    engine = client.hub.runtime.engine
    good = activity_852("000000501", _d(-7), _d(-1), {"0042": [("100-1", 30, 21)]})
    assert wait_final(engine, _post(client, good)) == "accepted"
    before = _row(client, "globex", "GLX-100", "ACME-S042")
    segments = [f"BIA*00*MM*INV-9*{_d(0)}", "N1*ST*STORE*92*0042",
                "LIN*1*BP*100-1", "QTY*17*-5*EA",          # negative on-hand
                "LIN*2*BP*200-1", "QTY*17*10*EA", "LIN*3*BP*200-1", "QTY*17*11*EA",  # same SKU twice
                "LIN*4*UP*036000291452", "QTY*17*4*EA", "CTT*4"]  # unknown UPC
    message = _post(client, interchange("ACMEBUYER", "000000502", [x12_set("846", "0001", segments)], "IB"))
    wait_final(engine, message)
    with engine.connect() as conn:
        issues = conn.execute(select(t.documents.c.issues).where(t.documents.c.message_id == message)).scalar_one()
    codes = [i["code"] for i in issues]
    assert codes[0] == "INVENTORY_REJECTED"
    assert {"NEGATIVE_ON_HAND", "DUPLICATE_ITEM", "ITEM_UNKNOWN"} <= set(codes)
    after = _row(client, "globex", "GLX-100", "ACME-S042")
    assert {k: v for k, v in after.items() if k != "proposal"} == {k: v for k, v in before.items() if k != "proposal"}
