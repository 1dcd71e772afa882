"""Canonical documents → ledger movements, reported periods and forecast buckets (pure).

Two steps so the store can resolve identifiers in one batch: :func:`references` lists the item
and location identifiers and order numbers a document names; the store looks them up and passes
the answers back as :class:`Lookups`; :func:`extract` builds the rows.

=================  =========================================  =================================
document           rows                                       location from
=================  =========================================  =================================
852 ZA QA          snapshot_on_hand (ZA date, else XQ end)    N1 loop (RL/ST…) or SDQ
852 ZA QS / QU,Q2  sale / negative sale over XQ02–XQ03        idem; every location in the 852
                                                              also records the reported period
852 ZA QR / QT     received (no order) / adjustment           idem
852 QP QI QO QL…   none: the pipeline comes from the orders   (informational figures)
846 QTY            snapshot_on_hand: ``on_hand``, else        item parties, else header
                   ``available`` (QTY01 17 / 33)              N1 ST/WH/…
850 PO1            on_order, due = requested delivery         SDQ destinations, else ship-to
860 POC            on_order ± delta to the new quantity;      the order's locations
                   delete / cancellation → cancelled
855 ACK            confirmed (promised date); rejected or     the order's locations
                   deleted lines → cancelled
856 SN1            shipped, due = estimated delivery          the order's locations, else ship-to
830 FST            forecast buckets (firm / planning)         SDQ, else ship-to
=================  =========================================  =================================

Business rejection (BAD_INPUT 38), nothing of the document is applied: a negative on-hand, the
same item twice at one location in one 846 or in one 852 location. Per line (the line is skipped,
the rest applied): an unknown or ambiguous item or location. Every problem is an
:class:`~crossdock.schemas.errors.Issue` located by section, index and identifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from crossdock.gateway.inventory.ledger import MovementKind
from crossdock.schemas.canonical import (
    ActivityCode,
    InventoryQuantityKind,
    InventoryReport,
    ItemIdentifiers,
    OrderChange,
    OrderResponse,
    Party,
    PlanningSchedule,
    ProductActivity,
    PurchaseOrder,
    ShipNotice,
    gtin_check_digit,
)
from crossdock.schemas.canonical.values import DateKind, IdScheme, ItemIdKind, LocationQuantity, PartyRole
from crossdock.schemas.errors import Issue

__all__ = [
    "DOCUMENT_CODES",
    "ItemRef",
    "LocationRef",
    "References",
    "Lookups",
    "MovementRow",
    "PeriodRow",
    "ForecastRow",
    "Extraction",
    "item_refs",
    "references",
    "extract",
]

#: canonical type → the short code kept on each movement (what a supplier recognises)
DOCUMENT_CODES = {"product_activity": "852", "inventory_report": "846", "purchase_order": "850",
                  "order_change": "860", "order_response": "855", "ship_notice": "856",
                  "planning_schedule": "830"}
ZERO = Decimal(0)

ItemRef = tuple[str, str]
"""``(scheme, value)``: ``gtin`` (14 digits), ``vendor`` or ``buyer``."""
LocationRef = tuple[str, str]
"""``(scheme, value)``: ``gln`` or ``code`` (the partner's code, or the hub's location code)."""

_VENDOR_KINDS = frozenset({ItemIdKind.VENDOR_PART, ItemIdKind.VENDOR_ITEM, ItemIdKind.VENDOR_CATALOG,
                           ItemIdKind.VENDOR_STYLE})
_BUYER_KINDS = frozenset({ItemIdKind.BUYER_PART, ItemIdKind.BUYER_ITEM, ItemIdKind.SKU, ItemIdKind.BUYER_CATALOG})
_LOCATION_ROLES = (PartyRole.SHIP_TO, PartyRole.STORE, PartyRole.WAREHOUSE, PartyRole.REPORTING_LOCATION,
                   PartyRole.CONSIGNEE)
_DUE_KINDS = (DateKind.REQUESTED_DELIVERY, DateKind.DELIVER_NO_LATER, DateKind.DELIVER_NOT_BEFORE,
              DateKind.SCHEDULED_DELIVERY, DateKind.PROMISED_DELIVERY)
_ARRIVAL_KINDS = (DateKind.ESTIMATED_DELIVERY, DateKind.SCHEDULED_DELIVERY, DateKind.PROMISED_DELIVERY,
                  DateKind.DELIVERED)
_SHIP_KINDS = (DateKind.SHIPPED, DateKind.SCHEDULED_SHIP)
_CANCELLING = frozenset({"rejected", "deleted"})
_SNAPSHOT_QUALIFIERS = {"17": 0, "33": 1}


@dataclass(frozen=True, slots=True)
class References:
    """What a document names, to be resolved by the store in one batch."""

    items: frozenset[ItemRef]
    locations: frozenset[LocationRef]
    orders: frozenset[str]


@dataclass(frozen=True, slots=True)
class Lookups:
    """The store's answers for one document's :class:`References`.

    Attributes:
        items: identifier → ids of the items it names (several: ambiguous).
        locations: identifier → ids of the locations it names.
        order_lines: (order number, item id) → {location id: net quantity ordered} from the ledger.
    """

    items: Mapping[ItemRef, frozenset[int]] = field(default_factory=dict)
    locations: Mapping[LocationRef, frozenset[int]] = field(default_factory=dict)
    order_lines: Mapping[tuple[str, int], Mapping[int, Decimal]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MovementRow:
    """A movement to append (the store adds the document identity and idempotency key)."""

    item_id: int
    location_id: int
    kind: MovementKind
    quantity: Decimal
    effective: date
    line: str
    order_ref: str | None = None
    due: date | None = None
    period_start: date | None = None


@dataclass(frozen=True, slots=True)
class PeriodRow:
    location_id: int
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class ForecastRow:
    item_id: int
    location_id: int
    start: date
    end: date
    quantity: Decimal
    firm: bool


@dataclass(frozen=True, slots=True)
class Extraction:
    """What one document does to the inventory.

    Attributes:
        movements: ledger rows (empty when the document is rejected).
        periods: reported 852 periods per location.
        forecasts: 830 buckets.
        issues: problems, each located; errors on a line skip that line, ``rejected`` the document.
        rejected: the document is refused as a whole (business rejection).
    """

    movements: tuple[MovementRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    forecasts: tuple[ForecastRow, ...] = ()
    issues: tuple[Issue, ...] = ()
    rejected: bool = False


# ----------------------------------------------------------------------------- references


def item_refs(ids: ItemIdentifiers) -> list[ItemRef]:
    """The identifiers of an item the store can look up, strongest first (GTIN, vendor, buyer)."""
    refs: list[ItemRef] = []
    for item_id in ids.ids:
        value = item_id.value.strip()
        if item_id.kind is ItemIdKind.GTIN and value.isdigit():
            refs.append(("gtin", value.zfill(14)))
        elif item_id.kind is ItemIdKind.UPC_SHORT and value.isdigit() and len(value) == 11:
            # UI (1-5-5) carries no check digit: complete it to a UPC-A
            refs.append(("gtin", (value + str(gtin_check_digit(value + "0"))).zfill(14)))
        elif item_id.kind is ItemIdKind.UPC_SHORT and value.isdigit() and len(value) in (12, 13, 14):
            refs.append(("gtin", value.zfill(14)))
        elif item_id.kind in _VENDOR_KINDS:
            refs.append(("vendor", value))
        elif item_id.kind in _BUYER_KINDS:
            refs.append(("buyer", value))
    refs.sort(key=lambda ref: ("gtin", "vendor", "buyer").index(ref[0]))
    return refs


def _party_refs(party: Party) -> list[LocationRef]:
    refs: list[LocationRef] = []
    for identifier in party.identifiers:
        if identifier.scheme is IdScheme.GLN:
            refs.append(("gln", identifier.value.strip()))
        else:
            refs.append(("code", identifier.value.strip()))
    if party.address is not None and party.address.location_id:
        refs.append(("code", party.address.location_id.strip()))
    return refs


def _quantity_ref(place: LocationQuantity) -> LocationRef:
    scheme = "gln" if place.location_qualifier == "UL" else "code"
    return scheme, place.location.strip()


def references(document: object) -> References:
    """Every item identifier, location identifier and order number the document names."""
    items: set[ItemRef] = set()
    locations: set[LocationRef] = set()
    orders: set[str] = set()
    for ids in _all_items(document):
        items.update(item_refs(ids))
    for party in _all_parties(document):
        locations.update(_party_refs(party))
    for place in _all_places(document):
        locations.add(_quantity_ref(place))
    if isinstance(document, (PurchaseOrder, OrderChange, OrderResponse)):
        orders.add(document.po_number)
    elif isinstance(document, ShipNotice):
        orders.update(o.po_number for o in document.shipment.orders if o.po_number)
    return References(frozenset(items), frozenset(locations), frozenset(orders))


def _all_items(document: object) -> Iterator[ItemIdentifiers]:
    if isinstance(document, ProductActivity):
        for location in document.locations:
            yield from (i.item for i in location.items)
        yield from (i.item for i in document.items)
    elif isinstance(document, ShipNotice):
        yield from (item.item for _order, item in _ship_items(document))
    else:
        yield from (line.item for line in getattr(document, "lines", getattr(document, "items", ())))


def _all_parties(document: object) -> Iterator[Party]:
    yield from getattr(document, "parties", ())
    if isinstance(document, ProductActivity):
        yield from (location.party for location in document.locations)
    elif isinstance(document, ShipNotice):
        yield from document.shipment.parties
        for order in document.shipment.orders:
            yield from order.parties
    for line in getattr(document, "lines", getattr(document, "items", ())):
        yield from getattr(line, "parties", ())


def _all_places(document: object) -> Iterator[LocationQuantity]:
    if isinstance(document, ProductActivity):
        for item in [*document.items, *(i for loc in document.locations for i in loc.items)]:
            for activity in item.activities:
                yield from activity.by_location
    elif isinstance(document, PlanningSchedule):
        for item in document.items:
            for bucket in item.forecasts:
                yield from bucket.by_location
    elif isinstance(document, PurchaseOrder):
        for line in document.lines:
            yield from line.destinations


# ------------------------------------------------------------------------------- resolving


class _Resolver:
    """Resolves identifiers against :class:`Lookups`, recording issues with their location."""

    def __init__(self, lookups: Lookups, issues: list[Issue]) -> None:
        self.lookups = lookups
        self.issues = issues

    def item(self, ids: ItemIdentifiers, loc: tuple[str | int, ...]) -> int | None:
        refs = item_refs(ids)
        for ref in refs:
            found = self.lookups.items.get(ref, frozenset())
            if len(found) == 1:
                return next(iter(found))
            if len(found) > 1:
                self.issues.append(Issue("ITEM_AMBIGUOUS", f"{ref[0]} {ref[1]} names several items", loc,
                                         input=ref[1][:40]))
                return None
        shown = refs[0][1] if refs else (ids.ids[0].value if ids.ids else "")
        self.issues.append(Issue("ITEM_UNKNOWN", "no item with these identifiers; the line is not applied",
                                 loc, input=shown[:40] or None))
        return None

    def location(self, refs: Sequence[LocationRef], loc: tuple[str | int, ...], *, report: bool = True) -> int | None:
        for ref in refs:
            found = self.lookups.locations.get(ref, frozenset())
            if len(found) == 1:
                return next(iter(found))
            if len(found) > 1:
                self.issues.append(Issue("LOCATION_AMBIGUOUS", f"{ref[0]} {ref[1]} names several locations", loc,
                                         input=ref[1][:40]))
                return None
        if report:
            shown = refs[0][1] if refs else None
            code = "LOCATION_UNKNOWN" if refs else "LOCATION_MISSING"
            msg = "no location with this identifier" if refs else "the document names no location"
            self.issues.append(Issue(code, f"{msg}; the line is not applied", loc,
                                     input=shown[:40] if shown else None))
        return None

    def party(self, parties: Iterable[Party], loc: tuple[str | int, ...], *, report: bool = True) -> int | None:
        ordered = sorted(parties, key=lambda p: _LOCATION_ROLES.index(p.role) if p.role in _LOCATION_ROLES else 99)
        refs = [ref for p in ordered if p.role in _LOCATION_ROLES for ref in _party_refs(p)]
        return self.location(refs, loc, report=report)


# ------------------------------------------------------------------------------- extract


def extract(document: object, lookups: Lookups, today: date) -> Extraction:
    """The inventory rows of one canonical document (rules in the module docstring).

    Args:
        document: a canonical document (other types give an empty extraction).
        lookups: the store's answers for :func:`references` of this document.
        today: the date used when the document gives none.

    Returns:
        The extraction; ``rejected`` with no rows on a business rejection.
    """
    builder = _EXTRACTORS.get(type(document))
    if builder is None:
        return Extraction()
    issues: list[Issue] = []
    movements, periods, forecasts = builder(document, _Resolver(lookups, issues), today)
    if any(i.code in _REJECTING for i in issues):
        return Extraction(issues=tuple(issues), rejected=True)
    return Extraction(tuple(movements), tuple(periods), tuple(forecasts), tuple(issues))


_REJECTING = frozenset({"NEGATIVE_ON_HAND", "DUPLICATE_ITEM"})
_Rows = tuple[list[MovementRow], list[PeriodRow], list[ForecastRow]]


def _dated(dates: Iterable, kinds: Sequence[DateKind]) -> date | None:
    found = {d.kind: d.value.date for d in dates if d.value is not None and d.value.date is not None}
    return next((found[k] for k in kinds if k in found), None)


def _product_activity(doc: ProductActivity, resolve: _Resolver, today: date) -> _Rows:
    start = doc.period_start or doc.period_end
    end = doc.period_end or doc.period_start
    rows: list[MovementRow] = []
    seen: set[tuple[int, int]] = set()
    reported: set[int] = set()
    for li, location in enumerate(doc.locations):
        # The N1 loop may name the reporting retailer rather than a store: SDQ then gives the stores.
        parties = [location.party]
        here = resolve.party(parties, ("locations", li, "party"), report=False)
        for ii, item in enumerate(location.items):
            loc = ("locations", li, "items", ii)
            rows += _activities(item, (here, parties), loc, start, end, today, resolve, seen, reported)
    header = (resolve.party(doc.parties, ("parties",), report=False), list(doc.parties)) if doc.items else None
    for ii, item in enumerate(doc.items):
        rows += _activities(item, header, ("items", ii), start, end, today, resolve, seen, reported)
    periods = [PeriodRow(location, start, end) for location in sorted(reported)] if start and end else []
    return rows, periods, []


def _activities(item, place: tuple[int | None, list[Party]] | None, loc, start: date | None, end: date | None,
                today: date, resolve: _Resolver, seen: set[tuple[int, int]], reported: set[int]) -> list[MovementRow]:
    item_id = resolve.item(item.item, (*loc, "item"))
    here, parties = place if place is not None else (None, [])
    if here is not None:
        reported.add(here)
    if item_id is None:
        return []
    rows: list[MovementRow] = []
    snapshots: set[int] = set()
    line = item.line_number or str(loc[-1] + 1)
    for ai, activity in enumerate(item.activities):
        aloc = (*loc, "activities", ai)
        for location_id, quantity in _activity_places(activity, here, parties, aloc, resolve):
            reported.add(location_id)
            row = _activity_row(activity.code, item_id, location_id, quantity, f"{line}.{ai + 1}",
                                activity.date.date if activity.date else None, start, end, today, aloc, resolve)
            if row is None:
                continue
            if row.kind is MovementKind.SNAPSHOT_ON_HAND:
                if (item_id, location_id) in seen or location_id in snapshots:
                    resolve.issues.append(Issue("DUPLICATE_ITEM", "the same item is reported twice for one "
                                                "location", aloc))
                snapshots.add(location_id)
            rows.append(row)
    seen.update((item_id, location) for location in snapshots)
    return rows


def _by_location_places(entries, loc, resolve: _Resolver) -> list[tuple[int, Decimal]]:
    """(location id, quantity) of each per-location quantity (SDQ pairs) whose location resolves."""
    places = []
    for pi, place in enumerate(entries):
        location_id = resolve.location([_quantity_ref(place)], (*loc, "by_location", pi))
        if location_id is not None:
            places.append((location_id, place.quantity.value))
    return places


def _activity_places(activity, here: int | None, parties: list[Party], loc,
                     resolve: _Resolver) -> list[tuple[int, Decimal]]:
    if activity.by_location:
        return _by_location_places(activity.by_location, loc, resolve)
    if activity.quantity is None:
        return []
    if here is None:
        resolve.location([ref for p in parties for ref in _party_refs(p)], loc)
        return []
    return [(here, activity.quantity.value)]


def _activity_row(code: ActivityCode, item_id: int, location_id: int, quantity: Decimal, line: str,
                  dated: date | None, start: date | None, end: date | None, today: date, loc,
                  resolve: _Resolver) -> MovementRow | None:
    effective = dated or end or today
    if code is ActivityCode.ON_HAND:
        if quantity < 0:
            resolve.issues.append(Issue("NEGATIVE_ON_HAND", "an on-hand quantity cannot be negative", loc,
                                        input=str(quantity)))
        return MovementRow(item_id, location_id, MovementKind.SNAPSHOT_ON_HAND, quantity, effective, line)
    if code in (ActivityCode.SOLD, ActivityCode.RETURNED):
        signed = quantity if code is ActivityCode.SOLD else -quantity
        last = end or effective
        first = start if start is not None and start <= last else None
        return MovementRow(item_id, location_id, MovementKind.SALE, signed, last, line, period_start=first)
    if code is ActivityCode.RECEIVED:
        return MovementRow(item_id, location_id, MovementKind.RECEIVED, abs(quantity), effective, line)
    if code is ActivityCode.ADJUSTMENT:
        return MovementRow(item_id, location_id, MovementKind.ADJUSTMENT, quantity, effective, line)
    return None


def _inventory_report(doc: InventoryReport, resolve: _Resolver, today: date) -> _Rows:
    report_date = (doc.report_date.date if doc.report_date else None) or _dated(doc.dates, (DateKind.EFFECTIVE,))
    header = resolve.party(doc.parties, ("parties",), report=False)
    rows: list[MovementRow] = []
    seen: set[tuple[int, int]] = set()
    for ii, item in enumerate(doc.items):
        loc = ("items", ii)
        item_id = resolve.item(item.item, (*loc, "item"))
        here = resolve.party(item.parties, (*loc, "parties"), report=False) if item.parties else None
        here = here if here is not None else header
        if here is None:
            resolve.location([], loc)
        quantity = _snapshot_quantity(item.quantities)
        if item_id is None or here is None or quantity is None:
            continue
        qty, dated = quantity
        if qty < 0:
            resolve.issues.append(Issue("NEGATIVE_ON_HAND", "an on-hand quantity cannot be negative", loc,
                                        input=str(qty)))
        if (item_id, here) in seen:
            resolve.issues.append(Issue("DUPLICATE_ITEM", "the same item is reported twice for one location", loc))
        seen.add((item_id, here))
        rows.append(MovementRow(item_id, here, MovementKind.SNAPSHOT_ON_HAND, qty, dated or report_date or today,
                                item.line_number or str(ii + 1)))
    return rows, [], []


def _snapshot_quantity(quantities) -> tuple[Decimal, date | None] | None:
    ranked = []
    for q in quantities:
        if q.kind is InventoryQuantityKind.ON_HAND:
            rank = 0
        elif q.kind is InventoryQuantityKind.AVAILABLE:
            rank = 1
        elif q.qualifier in _SNAPSHOT_QUALIFIERS:
            rank = 2 + _SNAPSHOT_QUALIFIERS[q.qualifier]
        else:
            continue
        dated = next((d.value.date for d in q.dates if d.value is not None and d.value.date), None)
        ranked.append((rank, q.quantity.value, dated))
    if not ranked:
        return None
    _rank, value, dated = min(ranked, key=lambda r: r[0])
    return value, dated


def _purchase_order(doc: PurchaseOrder, resolve: _Resolver, today: date) -> _Rows:
    ordered = (doc.order_date.date if doc.order_date else None) or today
    header_due = _dated(doc.dates, _DUE_KINDS)
    rows: list[MovementRow] = []
    for li, line in enumerate(doc.lines):
        loc = ("lines", li)
        if line.quantity is None:
            continue
        item_id = resolve.item(line.item, (*loc, "item"))
        if item_id is None:
            continue
        due = _dated(line.dates, _DUE_KINDS) or header_due
        number = line.line_number or str(li + 1)
        for location_id, quantity in _order_places(line, doc.parties, loc, resolve):
            rows.append(MovementRow(item_id, location_id, MovementKind.ON_ORDER, quantity, ordered, number,
                                    order_ref=doc.po_number, due=due))
    return rows, [], []


def _order_places(line, header_parties, loc, resolve: _Resolver) -> list[tuple[int, Decimal]]:
    if line.destinations:
        places = []
        for di, place in enumerate(line.destinations):
            location_id = resolve.location([_quantity_ref(place)], (*loc, "destinations", di))
            if location_id is not None:
                places.append((location_id, place.quantity.value))
        return places
    here = resolve.party(line.parties, (*loc, "parties"), report=False) if line.parties else None
    if here is None:
        here = resolve.party(header_parties, (*loc, "ship_to"))
    return [] if here is None else [(here, line.quantity.value)]


def _order_change(doc: OrderChange, resolve: _Resolver, today: date) -> _Rows:
    effective = (doc.change_date.date if doc.change_date else None) or today
    if doc.purpose is not None and doc.purpose.value == "cancellation" and not doc.lines:
        return _cancel_order(doc.po_number, resolve, effective, "cancel"), [], []
    rows: list[MovementRow] = []
    for li, line in enumerate(doc.lines):
        loc = ("lines", li)
        item_id = resolve.item(line.item, (*loc, "item"))
        if item_id is None:
            continue
        current = resolve.lookups.order_lines.get((doc.po_number, item_id), {})
        number = f"{doc.change_sequence or ''}:{line.line_number or li + 1}"
        change = line.change.value if line.change is not None else "change"
        if change == "delete":
            rows += [MovementRow(item_id, loc_id, MovementKind.CANCELLED, qty, effective, number,
                                 order_ref=doc.po_number) for loc_id, qty in current.items() if qty > 0]
            continue
        target = line.quantity_left if line.quantity_left is not None else (
            line.quantity.value if line.quantity is not None else None)
        if target is None:
            continue
        due = _dated(line.dates, _DUE_KINDS)
        rows += _order_delta(doc.po_number, item_id, current, target, effective, number, due, line, loc, resolve)
    return rows, [], []


def _order_delta(po: str, item_id: int, current: Mapping[int, Decimal], target: Decimal, effective: date,
                 number: str, due: date | None, line, loc, resolve: _Resolver) -> list[MovementRow]:
    if len(current) > 1:
        resolve.issues.append(Issue("CHANGE_AMBIGUOUS", "the order ships this item to several locations; "
                                    "change it per location", loc, severity="warning"))
        return []
    if current:
        location_id, before = next(iter(current.items()))
    else:
        location_id, before = resolve.party(line.parties, (*loc, "parties")), ZERO
        if location_id is None:
            return []
    delta = target - before
    if delta == 0:
        return []
    return [MovementRow(item_id, location_id, MovementKind.ON_ORDER, delta, effective, number, order_ref=po,
                        due=due)]


def _cancel_order(po: str, resolve: _Resolver, effective: date, line: str) -> list[MovementRow]:
    return [MovementRow(item_id, location_id, MovementKind.CANCELLED, qty, effective, f"{line}:{item_id}",
                        order_ref=po)
            for (ref, item_id), places in resolve.lookups.order_lines.items() if ref == po
            for location_id, qty in places.items() if qty > 0]


def _order_response(doc: OrderResponse, resolve: _Resolver, today: date) -> _Rows:
    effective = (doc.ack_date.date if doc.ack_date else None) or today
    if doc.ack_type is not None and doc.ack_type.value == "rejected" and not doc.lines:
        return _cancel_order(doc.po_number, resolve, effective, "reject"), [], []
    header_due = _dated(doc.dates, _ARRIVAL_KINDS)
    rows: list[MovementRow] = []
    for li, line in enumerate(doc.lines):
        loc = ("lines", li)
        item_id = resolve.item(line.item, (*loc, "item"))
        if item_id is None:
            continue
        places = resolve.lookups.order_lines.get((doc.po_number, item_id), {})
        if not places:
            resolve.issues.append(Issue("ORDER_UNKNOWN", "no open order line for this item; the confirmation "
                                        "is not applied", loc, severity="warning", input=doc.po_number[:40]))
            continue
        number = line.line_number or str(li + 1)
        for kind, quantity, due in _line_answers(line, header_due):
            for location_id, share in _allocate(places, quantity):
                rows.append(MovementRow(item_id, location_id, kind, share, effective, f"{number}:{kind}",
                                        order_ref=doc.po_number, due=due))
    return rows, [], []


def _line_answers(line, header_due: date | None) -> list[tuple[MovementKind, Decimal, date | None]]:
    """(confirmed or cancelled, quantity, promised date) per ACK of the line, summed by kind."""
    totals: dict[MovementKind, list] = {}
    acks = line.acks or ()
    if not acks and line.quantity is not None:
        return [(MovementKind.CONFIRMED, line.quantity.value, _dated(line.dates, _ARRIVAL_KINDS) or header_due)]
    for ack in acks:
        quantity = ack.quantity.value if ack.quantity is not None else (
            line.quantity.value if line.quantity is not None else None)
        if quantity is None:
            continue
        status = ack.status.value if ack.status is not None else "accepted"
        kind = MovementKind.CANCELLED if status in _CANCELLING else MovementKind.CONFIRMED
        entry = totals.setdefault(kind, [ZERO, None])
        entry[0] += quantity
        due = ack.date or header_due
        if due is not None and (entry[1] is None or due > entry[1]):
            entry[1] = due
    return [(kind, qty, due if kind is MovementKind.CONFIRMED else None) for kind, (qty, due) in totals.items()]


def _allocate(places: Mapping[int, Decimal], quantity: Decimal) -> list[tuple[int, Decimal]]:
    """Spread a quantity over an order's locations in location order, each up to what it ordered;
    the rest goes to the last one."""
    out: list[tuple[int, Decimal]] = []
    remaining = quantity
    ordered = sorted(places.items())
    for index, (location_id, qty) in enumerate(ordered):
        share = remaining if index == len(ordered) - 1 else min(remaining, max(qty, ZERO))
        if share > 0:
            out.append((location_id, share))
        remaining -= share
    return out


def _ship_items(doc: ShipNotice) -> Iterator[tuple[object | None, object]]:
    """(order or None, item) for every item anywhere in the HL hierarchy."""
    def walk(level) -> Iterator[object]:
        yield from getattr(level, "items", ())
        for pack in getattr(level, "packs", ()):
            yield from walk(pack)
        for tare in getattr(level, "tares", ()):
            yield from walk(tare)
        for item in getattr(level, "items", ()):
            for pack in item.packs:
                yield from walk(pack)

    shipment = doc.shipment
    for order in shipment.orders:
        for item in walk(order):
            yield order, item
    for item in walk(shipment):  # items outside any order level
        yield None, item


def _ship_notice(doc: ShipNotice, resolve: _Resolver, today: date) -> _Rows:
    shipment = doc.shipment
    shipped = (_dated([*shipment.dates, *doc.dates], _SHIP_KINDS)
               or (doc.asn_date.date if doc.asn_date else None) or today)
    arrival = _dated([*shipment.dates, *doc.dates], _ARRIVAL_KINDS)
    rows: list[MovementRow] = []
    for index, (order, item) in enumerate(_ship_items(doc)):
        loc = ("shipment", "items", index)
        if item.quantity_shipped is None:
            continue
        item_id = resolve.item(item.item, (*loc, "item"))
        if item_id is None:
            continue
        po = order.po_number if order is not None else None
        due = _dated(order.dates, _ARRIVAL_KINDS) if order is not None else None
        places = resolve.lookups.order_lines.get((po, item_id), {}) if po else {}
        if not places:
            parties = [*(order.parties if order is not None else ()), *shipment.parties]
            here = resolve.party(parties, (*loc, "ship_to"))
            places = {here: item.quantity_shipped.value} if here is not None else {}
        number = f"{po or ''}:{item.line_number or index + 1}"
        for location_id, share in _allocate(places, item.quantity_shipped.value):
            rows.append(MovementRow(item_id, location_id, MovementKind.SHIPPED, share, shipped, number,
                                    order_ref=po, due=due or arrival))
    return rows, [], []


def _planning_schedule(doc: PlanningSchedule, resolve: _Resolver, today: date) -> _Rows:
    header = resolve.party(doc.parties, ("parties",), report=False)
    forecasts: list[ForecastRow] = []
    for ii, item in enumerate(doc.items):
        loc = ("items", ii)
        item_id = resolve.item(item.item, (*loc, "item"))
        if item_id is None:
            continue
        here = resolve.party(item.parties, (*loc, "parties"), report=False) if item.parties else header
        for bi, bucket in enumerate(item.forecasts):
            if bucket.start is None:
                continue
            end = bucket.end or bucket.start
            firm = bucket.forecast_type is not None and bucket.forecast_type.value == "firm"
            for location_id, quantity in _bucket_places(bucket, here, (*loc, "forecasts", bi), resolve):
                if quantity >= 0 and end >= bucket.start:
                    forecasts.append(ForecastRow(item_id, location_id, bucket.start, end, quantity, firm))
    return [], [], forecasts


def _bucket_places(bucket, here: int | None, loc, resolve: _Resolver) -> list[tuple[int, Decimal]]:
    if bucket.by_location:
        return _by_location_places(bucket.by_location, loc, resolve)
    if bucket.quantity is None:
        return []
    if here is None:
        resolve.location([], loc)
        return []
    return [(here, bucket.quantity.value)]


_EXTRACTORS = {
    ProductActivity: _product_activity,
    InventoryReport: _inventory_report,
    PurchaseOrder: _purchase_order,
    OrderChange: _order_change,
    OrderResponse: _order_response,
    ShipNotice: _ship_notice,
    PlanningSchedule: _planning_schedule,
}
