"""Canonical documents → ledger rows (pure): one test per document kind, plus the corpus 852/846."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crossdock.gateway import pipeline
from crossdock.gateway.inventory.movements import Lookups, extract, item_refs, references
from crossdock.schemas.canonical import parse_document

TODAY = date(2025, 3, 31)
ITEMS = {("buyer", "100-1"): frozenset({1}), ("gtin", "00012345678905"): frozenset({1}),
         ("vendor", "W-100"): frozenset({1}), ("buyer", "200-1"): frozenset({2})}
PLACES = {("code", "0042"): frozenset({10}), ("code", "0043"): frozenset({11}), ("gln", "0614141000012"): frozenset({11})}


def _ship_to(code: str) -> dict:
    return {"role": "ship_to", "identifiers": [{"scheme": "assigned_by_buyer", "qualifier": "92", "value": code}]}


def _line(sku: str, qty: int, **extra) -> dict:
    return {"line_number": "1", "item": {"ids": [{"kind": "buyer_part", "value": sku}]},
            "quantity": {"value": str(qty), "unit": "EA"}, **extra}


def test_850_on_order_per_destination_with_due_date() -> None:
    po = parse_document({"document_type": "purchase_order", "po_number": "PO1", "order_date": {"date": "2025-03-20"},
                         "dates": [{"kind": "requested_delivery", "value": {"date": "2025-04-02"}}],
                         "parties": [_ship_to("0042")],
                         "lines": [_line("100-1", 24), _line("200-1", 6, destinations=[
                             {"location_qualifier": "92", "location": "0042", "quantity": {"value": "2"}},
                             {"location_qualifier": "UL", "location": "0614141000012", "quantity": {"value": "4"}}])]})
    assert references(po).orders == frozenset({"PO1"})
    out = extract(po, Lookups(ITEMS, PLACES), TODAY)
    assert [(m.item_id, m.location_id, m.kind.value, m.quantity, m.due) for m in out.movements] == [
        (1, 10, "on_order", 24, date(2025, 4, 2)), (2, 10, "on_order", 2, date(2025, 4, 2)),
        (2, 11, "on_order", 4, date(2025, 4, 2))]
    assert not out.issues and all(m.effective == date(2025, 3, 20) for m in out.movements)


def test_860_moves_to_the_new_quantity_and_deletes() -> None:
    change = parse_document({"document_type": "order_change", "po_number": "PO1", "change_sequence": "2",
                             "lines": [{"item": {"ids": [{"kind": "buyer_part", "value": "100-1"}]}, "change": "quantity_decrease",
                                        "quantity": {"value": "24"}, "quantity_left": "18"},
                                       {"item": {"ids": [{"kind": "buyer_part", "value": "200-1"}]}, "change": "delete"}]})
    orders = {("PO1", 1): {10: Decimal(24)}, ("PO1", 2): {10: Decimal(2), 11: Decimal(4)}}
    out = extract(change, Lookups(ITEMS, PLACES, orders), TODAY)
    assert [(m.item_id, m.location_id, m.kind.value, m.quantity) for m in out.movements] == [
        (1, 10, "on_order", -6), (2, 10, "cancelled", 2), (2, 11, "cancelled", 4)]


def test_855_confirms_and_cancels_on_the_order_locations() -> None:
    ack = parse_document({"document_type": "order_response", "po_number": "PO1", "ack_date": {"date": "2025-03-21"},
                          "lines": [{**_line("100-1", 24), "acks": [
                              {"status": "accepted", "quantity": {"value": "20"}, "date": "2025-04-04"},
                              {"status": "rejected", "quantity": {"value": "4"}}]},
                                    _line("999-9", 1)]})
    out = extract(ack, Lookups(ITEMS, PLACES, {("PO1", 1): {10: Decimal(24)}}), TODAY)
    assert [(m.kind.value, m.quantity, m.due, m.location_id) for m in out.movements] == [
        ("confirmed", 20, date(2025, 4, 4), 10), ("cancelled", 4, None, 10)]
    assert [(i.code, i.loc) for i in out.issues] == [("ITEM_UNKNOWN", ("lines", 1, "item"))]


def test_856_ships_against_the_order_or_to_the_ship_to() -> None:
    asn = parse_document({"document_type": "ship_notice", "asn_number": "ASN1", "shipment": {
        "dates": [{"kind": "shipped", "value": {"date": "2025-03-25"}},
                  {"kind": "estimated_delivery", "value": {"date": "2025-03-28"}}],
        "parties": [_ship_to("0043")],
        "orders": [{"po_number": "PO1", "items": [{"item": {"ids": [{"kind": "gtin", "value": "012345678905"}]},
                                                   "quantity_shipped": {"value": "12"}}]},
                   {"po_number": "PO9", "packs": [{"items": [{"item": {"ids": [{"kind": "vendor_part", "value": "W-100"}]},
                                                              "quantity_shipped": {"value": "5"}}]}]}]}})
    out = extract(asn, Lookups(ITEMS, PLACES, {("PO1", 1): {10: Decimal(24)}}), TODAY)
    assert [(m.location_id, m.quantity, m.order_ref, m.effective, m.due) for m in out.movements] == [
        (10, 12, "PO1", date(2025, 3, 25), date(2025, 3, 28)), (11, 5, "PO9", date(2025, 3, 25), date(2025, 3, 28))]


def test_830_buckets_per_location() -> None:
    plan = parse_document({"document_type": "planning_schedule", "parties": [_ship_to("0042")], "items": [
        {"item": {"ids": [{"kind": "buyer_part", "value": "100-1"}]}, "forecasts": [
            {"quantity": {"value": "70"}, "forecast_type": "firm", "start": "2025-04-01", "end": "2025-04-07"},
            {"quantity": {"value": "80"}, "forecast_type": "planning", "start": "2025-04-08", "end": "2025-04-14",
             "by_location": [{"location_qualifier": "92", "location": "0043", "quantity": {"value": "80"}}]}]}]})
    out = extract(plan, Lookups(ITEMS, PLACES), TODAY)
    assert [(f.location_id, f.quantity, f.firm, f.start) for f in out.forecasts] == [
        (10, 70, True, date(2025, 4, 1)), (11, 80, False, date(2025, 4, 8))]


def test_upc_without_check_digit_resolves() -> None:
    assert item_refs(parse_document({"document_type": "purchase_order", "po_number": "X", "lines": [
        {"item": {"ids": [{"kind": "upc_short", "value": "01234567890"}, {"kind": "vendor_item", "value": "V"}]}}]}
    ).lines[0].item) == [("gtin", "00012345678905"), ("vendor", "V")]


def test_corpus_852_and_846(corpus_dir) -> None:
    """The Home Depot style 852 (one N1 RL loop, QA/QP/QR/QS) and an 846 with buyer parts."""
    body = (corpus_dir / "x12/852/oopfactory__MAN__852_hdexchange.txt").read_bytes()
    view = pipeline.read_x12(body).sets[0]
    document = parse_document(pipeline.map_set(view).body)
    refs = references(document)
    assert ("vendor", "P-8750") in refs.items and ("gtin", "00099999820104") in refs.items
    items = {("vendor", "P-8750"): frozenset({1}), ("vendor", "R-1224"): frozenset({2})}
    places = {("code", "1234567890001"): frozenset({10})}
    out = extract(document, Lookups(items, places), TODAY)
    got = sorted((m.item_id, m.kind.value, m.quantity, m.effective) for m in out.movements)
    # QA on 2001-12-01 (its ZA date), QR and QS over the one-day XQ period; QP is informational
    assert got == [(1, "snapshot_on_hand", 1000, date(2001, 12, 1)), (2, "received", 5, date(1999, 12, 5)),
                   (2, "sale", 88, date(1999, 12, 5)), (2, "snapshot_on_hand", 415, date(1999, 12, 5))]
    assert [(p.location_id, p.start, p.end) for p in out.periods] == [(10, date(1999, 12, 5), date(1999, 12, 5))]
    inventory = parse_document(pipeline.map_set(pipeline.read_x12(
        (corpus_dir / "x12/846/oopfactory__ORD__846_Example1.txt").read_bytes()).sets[0]).body)
    # QTY 34/QH/QB/87 carry no on-hand or available figure: nothing to count, nothing invented
    out = extract(inventory, Lookups({("buyer", "46L5055"): frozenset({7})}, {("code", "SAN003"): frozenset({10})}), TODAY)
    assert out.movements == () and not out.rejected

