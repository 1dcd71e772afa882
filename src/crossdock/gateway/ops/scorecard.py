"""Partner health: volumes, error rate, ack timeliness, ASN timeliness and accuracy, invoice match.

Definitions (per partner, documents and messages received in ``[since, until)``):

=====================  ==========================================================================
figure                 definition
=====================  ==========================================================================
inbound / outbound     messages the partner sent / we sent it (acks included)
error rate             inbound messages ending ``failed``, ``dead``, ``rejected`` or
                       ``partially_accepted`` ÷ inbound messages
ack on time            expected 997/999 settled before their due time ÷ those settled or due
ack latency            mean time from our send to the partner's 997/999, settled ones
ASN on time            ASNs whose ship date (``shipped`` date, else ASN date) is not after the PO's
                       latest ship date (``ship_no_later``, ``requested_ship``, ``scheduled_ship``,
                       else ``requested_delivery``) ÷ ASNs matched to a PO that states one
ASN accuracy           ASNs whose shipped quantity per item equals the PO's ordered quantity ÷ ASNs
                       matched to a PO; ``fill rate`` is Σ shipped ÷ Σ ordered over those POs
invoice match          invoices whose quantity per item equals the shipped quantity of the ASNs
                       for the same PO ÷ invoices for a PO with ASNs
=====================  ==========================================================================

ASNs, invoices and POs are matched by PO number within the partner (document keys ``po_number`` /
``po_numbers``), so the figures do not depend on links being present. Items are matched by their
first identifier (GTIN, UPC, vendor part, buyer part …), else by line number.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t

__all__ = ["Scorecard", "scorecards", "PROBLEM_STATUSES"]

PROBLEM_STATUSES = ("failed", "dead", "rejected", "partially_accepted")
_PO_SHIP_DATES = ("ship_no_later", "requested_ship", "scheduled_ship", "requested_delivery")
_ITEM_KINDS = ("gtin", "upc_short", "vendor_part", "buyer_part", "sku", "vendor_item", "buyer_item")


@dataclass(frozen=True, slots=True)
class Scorecard:
    partner_id: int
    partner: str
    inbound: int
    outbound: int
    problems: int
    acks_due: int
    acks_on_time: int
    ack_latency_s: float | None
    asns_dated: int
    asns_on_time: int
    asns_compared: int
    asns_accurate: int
    quantity_ordered: float
    quantity_shipped: float
    invoices_compared: int
    invoices_matched: int

    @staticmethod
    def _ratio(part: int | float, whole: int | float) -> float | None:
        return None if not whole else part / whole

    @property
    def error_rate(self) -> float | None:
        return self._ratio(self.problems, self.inbound)

    @property
    def ack_timeliness(self) -> float | None:
        return self._ratio(self.acks_on_time, self.acks_due)

    @property
    def asn_timeliness(self) -> float | None:
        return self._ratio(self.asns_on_time, self.asns_dated)

    @property
    def asn_accuracy(self) -> float | None:
        return self._ratio(self.asns_accurate, self.asns_compared)

    @property
    def fill_rate(self) -> float | None:
        return self._ratio(self.quantity_shipped, self.quantity_ordered)

    @property
    def invoice_match_rate(self) -> float | None:
        return self._ratio(self.invoices_matched, self.invoices_compared)


# ------------------------------------------------------------------------- canonical bodies


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _item_key(line: dict[str, Any]) -> str:
    ids = {i.get("kind"): i.get("value") for i in (line.get("item") or {}).get("ids") or [] if i.get("value")}
    for kind in _ITEM_KINDS:
        if ids.get(kind):
            # GTIN-12/13 and their zero-padded GTIN-14 form name the same item
            return f"{kind}:{ids[kind].lstrip('0') if kind == 'gtin' else ids[kind]}"
    return f"line:{line.get('line_number')}"


def _ship_items(level: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every ShipItem under a shipment level (orders, tares, packs nest)."""
    yield from level.get("items") or []
    for child in ("orders", "tares", "packs"):
        for sub in level.get(child) or []:
            yield from _ship_items(sub)


def _quantities(lines: Iterable[dict[str, Any]], field: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        quantity = _number((line.get(field) or {}).get("value"))
        if quantity is not None:
            totals[_item_key(line)] += quantity
    return dict(totals)


def _date(value: Any) -> date | None:
    """A canonical date: ``{"date": "2024-03-05", "time": …}`` or an ISO string."""
    if isinstance(value, dict):
        value = value.get("date")
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None


def _dated(document: dict[str, Any], kinds: Iterable[str]) -> date | None:
    by_kind = {d.get("kind"): _date(d.get("value")) for d in document.get("dates") or []}
    return next((by_kind[k] for k in kinds if by_kind.get(k)), None)


def _po_ship_by(order: dict[str, Any]) -> date | None:
    return _dated(order, _PO_SHIP_DATES)


def _asn_ship_date(asn: dict[str, Any]) -> date | None:
    shipment = asn.get("shipment") or {}
    return _dated(shipment, ("shipped",)) or _dated(asn, ("shipped",)) or _date(asn.get("asn_date"))


# ------------------------------------------------------------------------- loading and scoring


def _documents(conn: Connection, since: datetime, until: datetime) -> dict[int, dict[str, list]]:
    """partner → document type → [(po numbers, body)] for POs, ASNs and invoices in the window.

    POs are loaded without the window's lower bound: an ASN this week answers last month's PO.
    """
    d, k = t.documents, t.document_keys
    wanted = ("purchase_order", "ship_notice", "invoice")
    rows = conn.execute(select(d.c.id, d.c.partner_id, d.c.document_type, d.c.body).where(
        d.c.document_type.in_(wanted), d.c.test.is_(False), d.c.status.in_(("mapped", "applied")),
        d.c.created_at < until, (d.c.document_type == "purchase_order") | (d.c.created_at >= since))).all()
    numbers: dict[int, set[str]] = defaultdict(set)
    ids = [r.id for r in rows]
    for chunk in (ids[i:i + 1000] for i in range(0, len(ids), 1000)):
        for doc_id, value in conn.execute(select(k.c.document_id, k.c.value).where(
                k.c.document_id.in_(chunk), k.c.name.in_(("po_number", "po_numbers")))):
            numbers[doc_id].add(value)
    out: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.partner_id is not None and row.body:
            out[row.partner_id][row.document_type].append((numbers[row.id], json.loads(row.body)))
    return out


def _score_documents(docs: dict[str, list]) -> dict[str, Any]:
    orders: dict[str, dict[str, Any]] = {}
    for pos, body in docs.get("purchase_order", []):
        for number in pos:
            orders[number] = body
    shipped_by_po: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    figures = defaultdict(float)
    for pos, asn in docs.get("ship_notice", []):
        shipped = _quantities(_ship_items(asn.get("shipment") or {}), "quantity_shipped")
        for number in pos:
            for key, quantity in shipped.items():
                shipped_by_po[number][key] += quantity
        matched = [orders[n] for n in pos if n in orders]
        if not matched:
            continue
        ordered: dict[str, Decimal] = defaultdict(Decimal)
        for order in matched:
            for key, quantity in _quantities(order.get("lines") or [], "quantity").items():
                ordered[key] += quantity
        figures["asns_compared"] += 1
        figures["asns_accurate"] += int(dict(ordered) == shipped)
        figures["quantity_ordered"] += float(sum(ordered.values()))
        figures["quantity_shipped"] += float(sum(shipped.get(key, Decimal(0)) for key in ordered))
        ship_by = min((d for d in (_po_ship_by(o) for o in matched) if d), default=None)
        shipped_on = _asn_ship_date(asn)
        if ship_by and shipped_on:
            figures["asns_dated"] += 1
            figures["asns_on_time"] += int(shipped_on <= ship_by)
    for pos, invoice in docs.get("invoice", []):
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for number in pos:
            for key, quantity in shipped_by_po.get(number, {}).items():
                expected[key] += quantity
        if not expected:
            continue
        figures["invoices_compared"] += 1
        figures["invoices_matched"] += int(_quantities(invoice.get("lines") or [], "quantity") == dict(expected))
    return figures


def _message_counts(conn: Connection, since: datetime, until: datetime) -> dict[int, dict[str, int]]:
    m = t.messages
    window = (m.c.received_at >= since) & (m.c.received_at < until)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for partner_id, total, problems in conn.execute(
            select(m.c.partner_id, func.count(), func.sum(case((m.c.status.in_(PROBLEM_STATUSES), 1), else_=0)))
            .where(window, m.c.direction == "inbound", m.c.partner_id.is_not(None)).group_by(m.c.partner_id)):
        counts[partner_id]["inbound"] = total
        counts[partner_id]["problems"] = int(problems or 0)
    for partner_id, total in conn.execute(
            select(m.c.recipient_id, func.count()).where(window, m.c.direction == "outbound",
                                                          m.c.recipient_id.is_not(None))
            .group_by(m.c.recipient_id)):
        counts[partner_id]["outbound"] = total
    return counts


def _ack_figures(conn: Connection, since: datetime, until: datetime, now: datetime) -> dict[int, dict[str, Any]]:
    a = t.acks
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"due": 0, "on_time": 0, "latencies": []})
    for row in conn.execute(select(a.c.partner_id, a.c.status, a.c.due_at, a.c.created_at, a.c.updated_at).where(
            a.c.direction == "expected", a.c.created_at >= since, a.c.created_at < until)):
        settled = row.status not in ("pending", "overdue")
        if not settled and (row.status == "pending" and (row.due_at is None or row.due_at >= now)):
            continue  # still within its window: neither on time nor late yet
        figures = out[row.partner_id]
        figures["due"] += 1
        if settled:
            figures["latencies"].append((row.updated_at - row.created_at).total_seconds())
            figures["on_time"] += int(row.due_at is None or row.updated_at <= row.due_at)
    return out


def scorecards(conn: Connection, *, since: datetime, until: datetime, now: datetime) -> list[Scorecard]:
    """Every partner's scorecard for the window, worst error rate first.

    Args:
        conn: a connection.
        since: window start (inclusive).
        until: window end (exclusive).
        now: the current time (acks still inside their window are not counted).

    Returns:
        One scorecard per partner (host systems excluded).
    """
    partners = conn.execute(select(t.partners.c.id, t.partners.c.code).where(t.partners.c.kind != "host")).all()
    counts = _message_counts(conn, since, until)
    acks = _ack_figures(conn, since, until, now)
    documents = _documents(conn, since, until)
    cards = []
    for partner_id, code in partners:
        c, a = counts.get(partner_id, {}), acks.get(partner_id, {"due": 0, "on_time": 0, "latencies": []})
        f = _score_documents(documents.get(partner_id, {}))
        latencies = a["latencies"]
        cards.append(Scorecard(
            partner_id, code, c.get("inbound", 0), c.get("outbound", 0), c.get("problems", 0), a["due"],
            a["on_time"], sum(latencies) / len(latencies) if latencies else None,
            int(f["asns_dated"]), int(f["asns_on_time"]), int(f["asns_compared"]), int(f["asns_accurate"]),
            f["quantity_ordered"], f["quantity_shipped"], int(f["invoices_compared"]), int(f["invoices_matched"])))
    cards.sort(key=lambda card: (-(card.error_rate or 0.0), -(card.inbound + card.outbound), card.partner))
    return cards
