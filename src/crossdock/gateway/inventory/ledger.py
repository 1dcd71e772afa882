"""The inventory ledger: append-only movements, and the position they add up to.

Every figure of a :class:`Position` is a sum over movements, and each movement names the
document line behind it, so any figure can be explained (:func:`explain`).

Rules of :func:`position` (``D`` = date of the latest on-hand snapshot, ``as_of`` inclusive):

==================  ================  ==================  ==================  ==========  ========
kind                from              on_hand             on_order            in_transit  window
==================  ================  ==================  ==================  ==========  ========
snapshot_on_hand    846 QTY, 852 QA   = qty, as of D
sale                852 QS            − qty if after D                                    sold
received            receipt, 852 QR   + qty if after D    − part not shipped  − qty       received
adjustment          852 QT, counts    ± qty if after D
on_order            850, 860 delta                        ± qty
confirmed           855                                   promised date, qty
shipped             856                                   − qty               + qty
cancelled           860, 855 reject                       − qty
==================  ================  ==================  ==================  ==========  ========

* Only movements dated on or before ``as_of`` count.
* A snapshot is the count at the end of its day: on-hand movements dated on or before it are
  already in it (superseded), later ones adjust from it. Of several snapshots the latest wins;
  same-day snapshots are ordered by ``sequence`` (ledger append order), then idempotency key.
* A movement is counted once per idempotency key. A second row with the same key but different
  content is a conflict: the lower ``sequence`` wins and a ``LEDGER_KEY_CONFLICT`` warning is
  reported. Results never depend on the order the movements are given in.
* Per order (``order_ref``): ``on_order = max(0, ordered − cancelled − max(shipped, received))``;
  ``in_transit = shipped − received``, receipts clearing the earliest-due shipments first.
* Shipments without an order consume open orders, earliest due first, and stay in transit.
  Receipts without an order (852 QR) clear in-transit stock earliest due first, then open
  orders, so goods reported only by the retailer never count twice.
* Window figures (sold, received) cover the ``window_days`` ending on ``as_of``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any, Literal, NamedTuple

from crossdock.gateway.inventory._values import ZERO, coerce_decimal
from crossdock.gateway.inventory.errors import MovementInvalid
from crossdock.schemas.errors import Issue

__all__ = [
    "ItemLocationKey",
    "MovementKind",
    "DocumentRef",
    "Movement",
    "ScheduledReceipt",
    "Position",
    "Figure",
    "idempotency_key",
    "dedupe",
    "position",
    "explain",
]

DEFAULT_WINDOW_DAYS = 28


class ItemLocationKey(NamedTuple):
    """One item at one location (a store or DC); hashable, cheap to compare."""

    item_id: str
    location_id: str


class MovementKind(StrEnum):
    """What a ledger row records (see the module table)."""

    SNAPSHOT_ON_HAND = "snapshot_on_hand"
    SALE = "sale"
    ON_ORDER = "on_order"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    RECEIVED = "received"
    ADJUSTMENT = "adjustment"
    CANCELLED = "cancelled"


# Kinds that must name their order, and kinds whose quantity cannot be negative.
_NEEDS_ORDER = frozenset({MovementKind.ON_ORDER, MovementKind.CONFIRMED, MovementKind.CANCELLED})
_SIGNED = frozenset({MovementKind.SNAPSHOT_ON_HAND, MovementKind.SALE, MovementKind.ON_ORDER,
                     MovementKind.ADJUSTMENT})


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """The document line a movement comes from.

    Attributes:
        document_id: the hub's id of the stored document.
        document_type: ``"852"``, ``"846"``, ``"850"``, ``"860"``, ``"855"``, ``"856"``, ``"receipt"``…
        business_key: the partner's number for it (report id, PO number, ASN number).
        line: the line within the document (LIN/PO1 position, ZA index…).
    """

    document_id: str
    document_type: str
    business_key: str
    line: str

    @classmethod
    def stored(cls, document_id: str, document_type: str, business_key: str, line: str) -> DocumentRef:
        """The same reference as ``DocumentRef(...)``, built through the slot descriptors (a
        planning run builds one per ledger row read; the frozen ``__init__`` costs three times
        as much)."""
        ref = object.__new__(cls)
        _set_document_id(ref, document_id)
        _set_document_type(ref, document_type)
        _set_business_key(ref, business_key)
        _set_line(ref, line)
        return ref


def slot_setters(cls: type, *names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot descriptors' setters of ``names`` on a frozen, slotted dataclass.

    For the constructors of rows the store already checked (``Movement.stored``,
    ``DocumentRef.stored``, ``ItemLocationInput.loaded``): ``object.__new__`` and one setter per
    field skip ``__init__``'s checks and the frozen ``__setattr__``, which a planning run would pay
    once per ledger row. Every field must be set.
    """
    return tuple(cls.__dict__[name].__set__ for name in names)


_set_document_id, _set_document_type, _set_business_key, _set_line = slot_setters(
    DocumentRef, "document_id", "document_type", "business_key", "line")


def idempotency_key(source: DocumentRef, kind: MovementKind | str, key: ItemLocationKey) -> str:
    """The idempotency key of a movement: a hash of document id, line, kind, item and location.

    Kind, item and location are part of it because one 852 line yields several kinds (QA, QS…)
    and, through SDQ, several locations. Hashed so that no separator inside an id can collide.

    Returns:
        32 hex characters.
    """
    parts = (source.document_id, source.line, str(kind), key.item_id, key.location_id)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Movement:
    """One append-only ledger row (a DB row maps onto it field by field).

    Attributes:
        kind: what happened.
        key: the item-location.
        quantity: exact quantity; signed for ``snapshot_on_hand``, ``sale``, ``on_order`` (860
            deltas) and ``adjustment``; not negative for the others.
        effective: the business date it happened (end of the 852 period, ship date, count date…).
        source: the document line behind it.
        order_ref: the purchase order it belongs to; required for ``on_order``, ``confirmed``,
            ``cancelled``; optional for ``shipped`` and ``received``.
        due: expected arrival: requested (850), promised (855), estimated delivery (856).
        period_start: first day of the period a sale covers (852 XQ02; ``effective`` is XQ03).
        sequence: ledger append order (the DB row id); breaks ties between same-day snapshots.
        idempotency_key: derived, see :func:`idempotency_key`.
        amount: derived, ``quantity`` as a float for statistics (converted once, not per run).
        days: derived, the first and last day covered as ordinals (``period_start`` or
            ``effective``, then ``effective``).
        sort_key: derived, ledger order: (effective as an ordinal, sequence, idempotency key).

    Raises:
        MovementInvalid: with every problem found, as issues.
    """

    kind: MovementKind
    key: ItemLocationKey
    quantity: Decimal
    effective: date
    source: DocumentRef
    order_ref: str | None = None
    due: date | None = None
    period_start: date | None = None
    sequence: int = 0
    idempotency_key: str = field(init=False, default="")
    amount: float = field(init=False, default=0.0, repr=False, compare=False)
    days: tuple[int, int] = field(init=False, default=(0, 0), repr=False, compare=False)
    sort_key: tuple[int, int, str] = field(init=False, default=(0, 0, ""), repr=False, compare=False)

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        try:
            object.__setattr__(self, "kind", MovementKind(self.kind))
        except ValueError:
            issues.append(Issue("UNKNOWN_KIND", "unknown movement kind", ("kind",), input=str(self.kind)[:40]))
        object.__setattr__(self, "quantity", coerce_decimal(self.quantity, "quantity", issues))
        _check_movement(self, issues)
        if issues:
            raise MovementInvalid(f"movement invalid: {len(issues)} issue(s)", issues)
        object.__setattr__(self, "key", ItemLocationKey(*self.key))
        ikey = idempotency_key(self.source, self.kind, self.key)
        object.__setattr__(self, "idempotency_key", ikey)
        last = self.effective.toordinal()
        first = self.period_start.toordinal() if self.period_start is not None else last
        object.__setattr__(self, "sort_key", (last, self.sequence, ikey))
        object.__setattr__(self, "amount", float(self.quantity))
        object.__setattr__(self, "days", (first, last))

    @classmethod
    def stored(cls, kind: MovementKind, key: ItemLocationKey, quantity: Decimal, effective: date,
               source: DocumentRef, order_ref: str | None, due: date | None, period_start: date | None,
               sequence: int, idempotency_key: str) -> Movement:
        """A movement read back from the ledger, which checked it when it was appended.

        Skips the checks and the hashing of ``__init__`` (a planning run reads millions of rows);
        the stored idempotency key is kept as is, so it must be unique per ledger row.

        Returns:
            The movement, equal in every field to one built by ``__init__`` from the same row
            except for the key.
        """
        movement = object.__new__(cls)
        # Slot descriptors directly: a frozen dataclass's __setattr__ refuses, object.__setattr__
        # is twice as slow, and this runs once per ledger row of every planning run.
        last = effective.toordinal()
        _set_kind(movement, kind)
        _set_key(movement, key)
        _set_quantity(movement, quantity)
        _set_effective(movement, effective)
        _set_source(movement, source)
        _set_order_ref(movement, order_ref)
        _set_due(movement, due)
        _set_period_start(movement, period_start)
        _set_sequence(movement, sequence)
        _set_idempotency_key(movement, idempotency_key)
        _set_sort_key(movement, (last, sequence, idempotency_key))
        _set_amount(movement, float(quantity))
        _set_days(movement, (period_start.toordinal() if period_start is not None else last, last))
        return movement


(_set_kind, _set_key, _set_quantity, _set_effective, _set_source, _set_order_ref, _set_due, _set_period_start,
 _set_sequence, _set_idempotency_key, _set_sort_key, _set_amount, _set_days) = slot_setters(
    Movement, "kind", "key", "quantity", "effective", "source", "order_ref", "due", "period_start", "sequence",
    "idempotency_key", "sort_key", "amount", "days")


def _check_movement(m: Movement, issues: list[Issue]) -> None:
    if not isinstance(m.effective, date):
        issues.append(Issue("NOT_A_DATE", "effective must be a date", ("effective",)))
    if not isinstance(m.source, DocumentRef):
        issues.append(Issue("REQUIRED", "source must be a DocumentRef", ("source",)))
    if not (isinstance(m.key, tuple) and len(m.key) == 2 and all(isinstance(p, str) and p for p in m.key)):
        issues.append(Issue("REQUIRED", "key must be (item_id, location_id), both non-empty", ("key",)))
    if m.kind in _NEEDS_ORDER and not m.order_ref:
        issues.append(Issue("REQUIRED", f"a {m.kind} movement needs order_ref", ("order_ref",)))
    if m.quantity is not None and m.kind not in _SIGNED and m.quantity < 0:
        issues.append(Issue("NEGATIVE", f"a {m.kind} quantity cannot be negative", ("quantity",),
                            input=str(m.quantity)))
    if m.period_start is not None:
        if m.kind is not MovementKind.SALE:
            issues.append(Issue("UNEXPECTED", "only a sale covers a period", ("period_start",)))
        elif isinstance(m.effective, date) and m.period_start > m.effective:
            issues.append(Issue("PERIOD_INVERTED", "period_start is after effective", ("period_start",)))
    if isinstance(m.sequence, bool) or not isinstance(m.sequence, int):
        issues.append(Issue("NOT_AN_INTEGER", "sequence must be an integer", ("sequence",)))


class ScheduledReceipt(NamedTuple):
    """Stock expected to arrive: an in-transit shipment or an open order quantity.

    A NamedTuple: immutable and cheap to build (one per item-location per run).

    Attributes:
        order_ref: the purchase order, ``None`` for a shipment not matched to one.
        status: ``in_transit`` (shipped) or ``on_order`` (ordered, not shipped).
        quantity: still to arrive.
        due: expected arrival; ``None`` when no document gave one.
        order_date: date of the first order movement (to derive ``due`` from a lead time).
        confirmed: an 855 confirmed this order.
    """

    order_ref: str | None
    status: Literal["in_transit", "on_order"]
    quantity: Decimal
    due: date | None
    order_date: date | None = None
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Position:
    """Stock of one item-location as of a date, with the movements that explain it.

    Attributes:
        as_of: the date the figures hold for (end of day).
        on_hand: counted stock, reconciled from the latest snapshot.
        in_transit: shipped, not yet received.
        on_order: ordered, not yet shipped or received.
        confirmed: the part of ``on_order`` confirmed by 855s.
        sold: sales in the window.
        received: receipts in the window.
        window_days: the window's length, ending on ``as_of``.
        last_snapshot_date: date of the snapshot ``on_hand`` starts from.
        receipts: what is still to arrive, per order and shipment, earliest due first.
        explanation: the movements behind the figures, in ledger order.
        issues: ledger problems (key conflicts), as warnings.
    """

    as_of: date
    on_hand: Decimal
    in_transit: Decimal
    on_order: Decimal
    confirmed: Decimal
    sold: Decimal
    received: Decimal
    window_days: int
    last_snapshot_date: date | None
    receipts: tuple[ScheduledReceipt, ...]
    explanation: tuple[Movement, ...]
    issues: tuple[Issue, ...] = ()


Figure = Literal["on_hand", "in_transit", "on_order", "confirmed", "sold", "received"]

_FIGURE_KINDS: dict[str, frozenset[MovementKind]] = {
    "on_hand": frozenset({MovementKind.SNAPSHOT_ON_HAND, MovementKind.SALE, MovementKind.RECEIVED,
                          MovementKind.ADJUSTMENT}),
    "in_transit": frozenset({MovementKind.SHIPPED, MovementKind.RECEIVED}),
    "on_order": frozenset({MovementKind.ON_ORDER, MovementKind.SHIPPED, MovementKind.RECEIVED,
                           MovementKind.CANCELLED}),
    "confirmed": frozenset({MovementKind.CONFIRMED}),
    "sold": frozenset({MovementKind.SALE}),
    "received": frozenset({MovementKind.RECEIVED}),
}


def dedupe(movements: Iterable[Movement]) -> tuple[list[Movement], list[Issue]]:
    """Keep one movement per idempotency key, in ledger order.

    Args:
        movements: ledger rows, in any order, possibly replayed.

    Returns:
        The distinct movements sorted by (effective, sequence, idempotency key), and a
        ``LEDGER_KEY_CONFLICT`` warning per key seen with different content (the lowest
        ``sequence`` is kept, so the choice does not depend on the input order).
    """
    rows = movements if isinstance(movements, (list, tuple)) else list(movements)
    seen: dict[str, Movement] = {m.idempotency_key: m for m in rows}
    if len(seen) == len(rows):
        return sorted(rows, key=_SORT_KEY), []
    seen = {}
    conflicts: set[str] = set()
    for m in rows:
        ikey = m.idempotency_key
        kept = seen.get(ikey)
        if kept is None:
            seen[ikey] = m
        elif kept is not m and kept != m:
            conflicts.add(ikey)
            if _content(m) < _content(kept):
                seen[ikey] = m
    issues = [Issue("LEDGER_KEY_CONFLICT", "rows share an idempotency key but differ; the first "
                    "recorded is kept", ("movements", k), severity="warning") for k in sorted(conflicts)]
    return sorted(seen.values(), key=_SORT_KEY), issues


_SORT_KEY = attrgetter("sort_key")


def _content(m: Movement) -> tuple[object, ...]:
    return (m.sequence, m.effective, m.quantity, m.order_ref or "", m.due or date.min,
            m.period_start or date.min, m.source.business_key, m.source.document_type)


def position(movements: Iterable[Movement], as_of: date, window_days: int = DEFAULT_WINDOW_DAYS) -> Position:
    """Reduce the ledger of one item-location to its position (rules in the module docstring).

    Args:
        movements: the item-location's ledger rows, in any order, duplicates allowed.
        as_of: the date to compute for; later movements are ignored.
        window_days: length of the window for ``sold`` and ``received``.

    Returns:
        The position.
    """
    ledger, issues = dedupe(movements)
    return position_of_distinct(ledger, as_of, window_days, issues)


@dataclass(slots=True)
class _Order:
    ordered: Decimal = ZERO
    cancelled: Decimal = ZERO
    received: Decimal = ZERO
    order_date: date | None = None
    due: tuple[tuple[int, int, str], date] | None = None
    shipments: list[list] = field(default_factory=list)
    confirmations: list[Movement] = field(default_factory=list)


_SNAPSHOT = MovementKind.SNAPSHOT_ON_HAND
_SALE = MovementKind.SALE
_ADJUSTMENT = MovementKind.ADJUSTMENT
_RECEIVED = MovementKind.RECEIVED


def position_of_distinct(ledger: list[Movement], as_of: date, window_days: int,
                         issues: list[Issue] | tuple[Issue, ...] = ()) -> Position:
    """:func:`position` for the output of :func:`dedupe` (the engine dedupes once per item).

    Args:
        ledger: distinct movements of one item-location, in ledger order.
        as_of: the date to compute for.
        window_days: length of the window for ``sold`` and ``received``.
        issues: ledger issues found while deduplicating, carried into the position.

    Returns:
        The position.
    """
    # Ledger order: the latest snapshot is the last one on or before as_of, usually near the end.
    snapshot = next((m for m in reversed(ledger) if m.kind is _SNAPSHOT and m.effective <= as_of), None)
    window_start = as_of - timedelta(days=window_days - 1)
    snapshot_date = snapshot.effective if snapshot else date.min
    on_hand = snapshot.quantity if snapshot else ZERO
    sold = received = ZERO
    explanation: list[Movement] = []
    pipeline: list[Movement] = []
    # One inline pass: it runs for every movement of every item-location in a planning run.
    for m in ledger:
        effective = m.effective
        if effective > as_of:
            break
        kind = m.kind
        if kind is _SNAPSHOT:
            if m is snapshot:
                explanation.append(m)
            continue
        after = effective > snapshot_date
        in_window = effective >= window_start
        if kind is _SALE:
            if after:
                on_hand -= m.quantity
            if in_window:
                sold += m.quantity
            if after or in_window:
                explanation.append(m)
        elif kind is _ADJUSTMENT:
            if after:
                on_hand += m.quantity
                explanation.append(m)
        else:
            if kind is _RECEIVED:
                if after:
                    on_hand += m.quantity
                if in_window:
                    received += m.quantity
            explanation.append(m)
            pipeline.append(m)
    receipts, confirmed = _pipeline(pipeline) if pipeline else ((), ZERO)
    in_transit = on_order = ZERO
    for r in receipts:
        if r.status == "in_transit":
            in_transit += r.quantity
        else:
            on_order += r.quantity
    return Position(
        as_of=as_of, on_hand=on_hand, in_transit=in_transit, on_order=on_order, confirmed=confirmed,
        sold=sold, received=received, window_days=window_days,
        last_snapshot_date=snapshot.effective if snapshot else None, receipts=receipts,
        explanation=tuple(explanation), issues=tuple(issues),
    )


def _fold_orders(pipeline: list[Movement]) -> tuple[dict[str, _Order], list[list], Decimal]:
    """Per-order sums, shipments without an order, and receipts without an order."""
    orders: dict[str, _Order] = {}
    loose_shipments: list[list] = []
    loose_received = ZERO
    for m in pipeline:
        ref = m.order_ref
        if not ref:
            if m.kind is _RECEIVED:
                loose_received += m.quantity
            else:
                loose_shipments.append([m.due, m.quantity, None])
            continue
        order = orders.get(ref)
        if order is None:
            order = orders[ref] = _Order()
        kind = m.kind
        if kind is _RECEIVED:
            order.received += m.quantity
        elif kind is MovementKind.SHIPPED:
            order.shipments.append([m.due, m.quantity, ref])
        elif kind is MovementKind.CANCELLED:
            order.cancelled += m.quantity
        elif kind is MovementKind.CONFIRMED:
            order.confirmations.append(m)
        else:
            order.ordered += m.quantity
            if order.order_date is None:
                order.order_date = m.effective  # ledger order: the first is the earliest
            if m.due is not None:
                order.due = (m.sort_key, m.due)  # ledger order: the last dated one wins
    return orders, loose_shipments, loose_received


def _lot_key(lot: list) -> tuple[date, str, Decimal]:
    # Unknown due dates sort first: treated as arriving soonest, and consumed first. The quantity
    # only breaks ties, so that the result never depends on the input order.
    return (lot[0] or date.min, lot[2] or "", lot[1])


def _open_key(entry: list) -> tuple[date, str, Decimal]:
    return (entry[0] or entry[3] or date.min, entry[2], entry[1])


def _pipeline(pipeline: list[Movement]) -> tuple[tuple[ScheduledReceipt, ...], Decimal]:
    """What is still to arrive, and how much of the open orders 855s confirmed."""
    orders, loose_shipments, loose_received = _fold_orders(pipeline)
    lots: list[list] = []   # in transit: [due, qty, order_ref]
    opens: list[list] = []  # on order:   [due, qty, order_ref, order_date, confirmed qty or None]
    for ref, order in orders.items():
        entry = _open(ref, order)  # before _in_transit consumes the shipments
        if entry is not None:
            opens.append(entry)
        lots += _in_transit(order)
    if len(opens) > 1:
        opens.sort(key=_open_key)
    if loose_shipments or loose_received:
        _apply_unmatched(lots, opens, loose_shipments, loose_received)
    if len(lots) > 1:
        lots.sort(key=_lot_key)
    return _receipts(lots, opens)


def _in_transit(order: _Order) -> list[list]:
    """An order's shipments still in transit: its receipts clear the earliest due first."""
    shipments = order.shipments
    if len(shipments) > 1:
        shipments.sort(key=_lot_key)
    _consume(shipments, order.received)
    return shipments


def _open(ref: str, order: _Order) -> list | None:
    """An order's quantity not yet shipped or received, with its due date, or ``None``."""
    shipped = sum((lot[1] for lot in order.shipments), ZERO)
    open_qty = order.ordered - order.cancelled - max(shipped, order.received)
    if open_qty <= 0:
        return None
    requested = order.due[1] if order.due else None
    promised = _promise(order.confirmations) if order.confirmations else None
    if promised is None:
        return [requested, open_qty, ref, order.order_date, None]
    return [promised[1] or requested, open_qty, ref, order.order_date, promised[0]]


def _apply_unmatched(lots: list[list], opens: list[list], shipments: list[list], received: Decimal) -> None:
    """Shipments without an order consume open orders and travel; receipts without one clear
    in-transit stock, then open orders (earliest due first, both)."""
    for lot in sorted(shipments, key=_lot_key):
        _consume(opens, lot[1])
        lots.append(lot)
    lots.sort(key=_lot_key)
    _consume(opens, _consume(lots, received))


def _receipts(lots: list[list], opens: list[list]) -> tuple[tuple[ScheduledReceipt, ...], Decimal]:
    receipts = [ScheduledReceipt(ref, "in_transit", qty, due) for due, qty, ref in lots if qty > 0]
    confirmed = ZERO
    for due, qty, ref, order_date, promised_qty in opens:
        if qty > 0:
            receipts.append(ScheduledReceipt(ref, "on_order", qty, due, order_date, promised_qty is not None))
            if promised_qty is not None:
                confirmed += min(qty, promised_qty)
    return tuple(receipts), confirmed


def _promise(confirmations: list[Movement]) -> tuple[Decimal, date | None]:
    """Quantity and promised date of the latest confirming document (its lines summed)."""
    latest = confirmations[-1].source.document_id  # ledger order: the last is the latest
    lines = [c for c in confirmations if c.source.document_id == latest]
    dues = [c.due for c in lines if c.due is not None]
    # The latest promised line: the whole order is only in by then.
    return sum((c.quantity for c in lines), ZERO), max(dues) if dues else None


def _consume(lots: list[list], amount: Decimal) -> Decimal:
    """Take ``amount`` from the quantities (index 1) of ``lots`` in their order; return the rest."""
    for lot in lots:
        if amount <= 0:
            break
        take = min(lot[1], amount)
        lot[1] -= take
        amount -= take
    return amount


def explain(pos: Position, figure: Figure) -> tuple[DocumentRef, ...]:
    """The document lines behind one figure of a position.

    Args:
        pos: a position from :func:`position`.
        figure: ``on_hand``, ``in_transit``, ``on_order``, ``confirmed``, ``sold`` or ``received``.

    Returns:
        The sources of the movements that the figure is computed from, in ledger order.
    """
    kinds = _FIGURE_KINDS[figure]
    snapshot_date = pos.last_snapshot_date or date.min
    window_start = pos.as_of - timedelta(days=pos.window_days - 1)
    refs = []
    for m in pos.explanation:
        if m.kind not in kinds:
            continue
        if figure == "on_hand" and m.kind is not MovementKind.SNAPSHOT_ON_HAND and m.effective <= snapshot_date:
            continue
        if figure in ("sold", "received") and m.effective < window_start:
            continue
        refs.append(m.source)
    return tuple(refs)
