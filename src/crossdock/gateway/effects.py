"""Business effects of applied documents, behind one interface the inventory issue fills in.

The apply stage calls :meth:`EffectsService.apply` once per message, inside the stage's own
transaction, with every newly mapped production document of that message; the stage commits
once, fenced by its work-item claim, so effects happen exactly once. Test-lane documents never
reach it. :class:`OrderRecords` is the default: it records orders and order lines from purchase
orders and moves their status along with responses, ship notices and invoices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import BULK_ROWS, execute_later, insert_or_skip, insert_returning, insert_statement
from crossdock.schemas.errors import Issue

__all__ = ["AppliedDocument", "EffectsService", "OrderRecords"]

#: a later document about an order moves it to this status
_ORDER_STATUS = {"order_response": "acknowledged", "ship_notice": "shipped", "invoice": "invoiced",
                 "order_change": "changed"}


@dataclass(frozen=True, slots=True)
class AppliedDocument:
    """A stored canonical document handed to the effects service.

    Attributes:
        id: ``documents.id``.
        document_type: canonical type.
        partner_id: the trading partner it came from.
        keys: business keys, name → values.
        body: the canonical document as decoded JSON.
        issues: the issues its row holds as the effects start (JSON, as stored), when the caller
            knows them (the stage that just stored the row); None: read them from the row.
        model: the canonical model ``body`` decodes to, when the caller has it (the stage that
            mapped the document); None: the effects validate ``body``.
    """

    id: int
    document_type: str
    partner_id: int | None
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    issues: Sequence[Mapping[str, Any]] | None = None
    model: Any = field(default=None, compare=False, repr=False)


class EffectsService(Protocol):
    """Applies documents to business state (orders today, inventory later)."""

    def apply(self, conn: Connection, documents: Sequence[AppliedDocument], *, now: datetime) -> list[Issue]:
        """Apply ``documents`` inside the caller's transaction; never commit.

        Args:
            conn: the apply stage's connection.
            documents: newly mapped documents of one message.
            now: the stage's clock.

        Returns:
            Business issues (errors reject the document, the transaction still commits).
        """
        ...


class OrderRecords:
    """Default effects: one ``orders`` row per (partner, PO number) and its lines."""

    def apply(self, conn: Connection, documents: Sequence[AppliedDocument], *, now: datetime) -> list[Issue]:
        orders = [d for d in documents if d.document_type == "purchase_order" and d.partner_id is not None]
        issues = self._record_orders(conn, orders, now)
        for document in documents:
            status = _ORDER_STATUS.get(document.document_type)
            if status and document.partner_id is not None:
                self._advance(conn, document, status, now)
        return issues

    def _record_orders(self, conn: Connection, orders: Sequence[AppliedDocument], now: datetime) -> list[Issue]:
        if not orders:
            return []
        rows = [
            {"partner_id": d.partner_id, "po_number": d.body["po_number"], "document_id": d.id, "status": "open",
             "line_count": len(d.body.get("lines", ())), "created_at": now, "updated_at": now}
            for d in orders
        ]
        ids = _insert_orders_returning(conn, rows)
        inserted = len(ids)
        lines = [
            _line_row(ids[d.id], index, line)
            for d in orders if d.id in ids
            for index, line in enumerate(d.body.get("lines", ()), start=1)
        ]
        # nothing reads order lines back in the transaction: in a batch they go with its other rows
        execute_later(conn, insert_statement(conn.dialect.name, t.order_lines, ("order_id", "line_number")), lines)
        if inserted == len(rows):
            return []
        # A PO number seen before from the same partner is not a second order.
        return [Issue("ORDER_EXISTS", f"purchase order {d.body['po_number']} is already recorded",
                      ("po_number",), "warning", d.body["po_number"]) for d in orders if d.id not in ids]

    def _advance(self, conn: Connection, document: AppliedDocument, status: str, now: datetime) -> None:
        numbers = document.keys.get("po_number", ())
        if numbers:
            conn.execute(
                update(t.orders)
                .where(t.orders.c.partner_id == document.partner_id, t.orders.c.po_number.in_(numbers))
                .values(status=status, updated_at=now)
            )


def _insert_orders_returning(conn: Connection, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert orders, skipping PO numbers already recorded; document id → the order it created.

    A few rows: RETURNING says which were created. Many rows: the driver's executemany, then the
    orders pointing at these documents (only an order a document created points at it); a
    multi-row RETURNING would cost more in placeholder parsing than the inserts themselves.
    """
    if len(rows) < BULK_ROWS:
        return dict(insert_returning(conn, _insert_orders(conn.dialect.name), rows))
    insert_or_skip(conn, t.orders, rows, ("partner_id", "po_number"))
    documents = {row["document_id"] for row in rows}
    found = conn.execute(select(t.orders.c.document_id, t.orders.c.id)
                         .where(t.orders.c.document_id.between(min(documents), max(documents))))
    return {document_id: order_id for document_id, order_id in found if document_id in documents}


@lru_cache(maxsize=2)
def _insert_orders(dialect_name: str):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (dialect.insert(t.orders).on_conflict_do_nothing(index_elements=["partner_id", "po_number"])
            .returning(t.orders.c.document_id, t.orders.c.id))


def _line_row(order_id: int, index: int, line: Mapping[str, Any]) -> dict[str, Any]:
    quantity = line.get("quantity") or {}
    price = line.get("unit_price") or {}
    ids = (line.get("item") or {}).get("ids") or ()
    return {
        "order_id": order_id,
        "line_number": str(line.get("line_number") or index)[:40],
        "item": str(ids[0].get("value"))[:120] if ids else None,
        "quantity": None if quantity.get("value") is None else str(quantity["value"]),
        "unit": quantity.get("unit"),
        "unit_price": None if price.get("amount") is None else str(price["amount"]),
    }
