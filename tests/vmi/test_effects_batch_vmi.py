"""The apply stage's inventory effects work a message at a time: the documents of one message are
looked up and stored together, with the same result as one by one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import event, func, select

from crossdock.gateway.effects import AppliedDocument
from crossdock.gateway.inventory.service import InventoryEffects
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import sharing_reads

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _ship_to(code: str) -> dict:
    return {"role": "ship_to", "identifiers": [{"scheme": "assigned_by_buyer", "qualifier": "92", "value": code}]}


def _order(po: str, sku: str, qty: int, store: str = "0042") -> dict:
    return {"document_type": "purchase_order", "po_number": po, "order_date": {"date": "2026-03-01"},
            "parties": [_ship_to(store)], "lines": [{"line_number": "1", "item": {"ids": [
                {"kind": "buyer_part", "value": sku}]}, "quantity": {"value": str(qty), "unit": "EA"}}]}


def _change(po: str, sku: str, left: int) -> dict:
    return {"document_type": "order_change", "po_number": po, "change_sequence": "1", "lines": [{
        "item": {"ids": [{"kind": "buyer_part", "value": sku}]}, "change": "quantity_increase",
        "quantity": {"value": "10"}, "quantity_left": str(left)}]}


def _docs(client, *bodies: dict) -> list[AppliedDocument]:
    acme = client.partners["acme"]
    return [AppliedDocument(900 + n, body["document_type"], acme, {}, body) for n, body in enumerate(bodies)]


def _on_order(conn, po: str) -> dict[str, Decimal]:
    m, il = t.inv_movements, t.inv_item_locations
    rows = conn.execute(select(il.c.item_code, func.sum(m.c.quantity)).join(il, il.c.id == m.c.item_location_id)
                        .where(m.c.order_ref == po, m.c.kind == "on_order").group_by(il.c.item_code)).all()
    return {code: Decimal(total) for code, total in rows}


def test_one_message_of_many_documents_matches_one_by_one(client) -> None:
    engine = client.hub.runtime.engine
    effects = InventoryEffects()
    batch = _docs(client, _order("B-1", "100-1", 10), _order("B-2", "200-1", 4),
                  _order("B-1", "100-1", 10),  # the same order again in the message: counted once
                  _change("B-1", "100-1", 15),  # reads the order the first document placed
                  _order("B-3", "999-9", 1))  # unknown item: an issue on that document only
    with engine.begin() as conn:
        issues = effects.apply(conn, batch, now=NOW)
    one_by_one = _docs(client, _order("C-1", "100-1", 10), _order("C-2", "200-1", 4), _order("C-1", "100-1", 10),
                       _change("C-1", "100-1", 15), _order("C-3", "999-9", 1))
    for document in one_by_one:
        with engine.begin() as conn:
            effects.apply(conn, [document], now=NOW)
    with engine.connect() as conn:
        assert _on_order(conn, "B-1") == _on_order(conn, "C-1") == {"GLX-100": Decimal(15)}
        assert _on_order(conn, "B-2") == _on_order(conn, "C-2") == {"GLX-200": Decimal(4)}
        position = conn.execute(select(t.inv_item_locations.c.on_order).where(
            t.inv_item_locations.c.item_code == "GLX-100", t.inv_item_locations.c.location_code == "ACME-S042")).scalar()
        replans = conn.execute(select(t.inv_replan_requests.c.supplier_id)).scalars().all()
    assert [(i.code, i.loc) for i in issues] == [("ITEM_UNKNOWN", ("inventory", "lines", 0, "item"))]
    assert position == 30  # B-1 and C-1, 15 each: the positions were refreshed
    assert replans == [client.partners["globex"]]


def test_a_message_without_inventory_documents_costs_nothing(client) -> None:
    engine = client.hub.runtime.engine
    invoice = AppliedDocument(1, "invoice", client.partners["acme"], {}, {"document_type": "invoice"})
    with engine.begin() as conn:
        assert InventoryEffects().apply(conn, [invoice], now=NOW) == []
        assert conn.execute(select(func.count()).select_from(t.inv_movements)).scalar_one() == 0


def test_messages_of_one_worker_batch_share_the_item_and_location_lookups(client) -> None:
    engine = client.hub.runtime.engine
    effects = InventoryEffects()
    reads: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *_: reads.append(statement) if "FROM inv_items" in statement
                 or "FROM inv_locations" in statement else None)
    shared = _docs(client, _order("S-1", "100-1", 10), _order("S-2", "100-1", 3), _order("S-3", "999-9", 1))
    alone = _docs(client, _order("A-1", "100-1", 10), _order("A-2", "100-1", 3), _order("A-3", "999-9", 1))
    with engine.begin() as conn, sharing_reads(conn, {}):
        shared_issues = [effects.apply(conn, [document], now=NOW) for document in shared]
    batch_reads = len(reads)
    for document in alone:
        with engine.begin() as conn:
            assert effects.apply(conn, [document], now=NOW) == shared_issues.pop(0)
    assert batch_reads < len(reads) - batch_reads  # the batch asked once what each message asked again
    with engine.connect() as conn:
        assert _on_order(conn, "S-1") == _on_order(conn, "A-1") == {"GLX-100": Decimal(10)}
        assert _on_order(conn, "S-2") == _on_order(conn, "A-2") == {"GLX-100": Decimal(3)}
