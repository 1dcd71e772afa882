"""The stored inventory: master data, the ledger, positions and proposals (repository functions).

Tables (``store/schema.py``, migration 0003)::

    partners ◄── inv_items ◄──┐                 inv_programs (supplier, customer → 855 | 850)
    partners ◄── inv_locations ◄── inv_item_locations ◄── inv_movements (append-only ledger)
                      ▲             (policy + position)  ◄── inv_forecasts (830 buckets)
                      └── inv_reported_periods           ◄── inv_proposals (open → approved | …)
    inv_replan_requests (one per supplier, debounced)     inv_runs (what each planning run did)

* A movement's idempotency key hashes the *business* identity of its document (partner, type,
  PO / ASN / report number) with the line, kind, item and location, so a document applied twice
  — replayed, or re-sent in a new envelope — adds nothing (``insert … on conflict do nothing``).
* Each item-location row carries its position as of the last planning (``planned_on``), written
  by the apply stage for the item-locations a document touched and by every planning run, so the
  portal grid reads one indexed row per item-location and never sums the ledger.
* Functions take the caller's connection and never commit (the stage or the service does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.engine import Connection, Row

from crossdock.gateway.auth.errors import NotVisible
from crossdock.gateway.inventory.errors import MasterDataInvalid
from crossdock.gateway.inventory.importer import MasterData
from crossdock.gateway.inventory.ledger import DocumentRef, ItemLocationKey, MovementKind, idempotency_key
from crossdock.gateway.inventory.movements import Extraction, Lookups, References
from crossdock.gateway.inventory.proposals import ExceptionFlag
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import insert_ignore, is_postgres
from crossdock.schemas.errors import Issue

__all__ = [
    "InventoryNotFound",
    "POLICY_COLUMNS",
    "POSITION_COLUMNS",
    "FLAG_BITS",
    "flag_bits",
    "save_master_data",
    "PartyRoles",
    "party_roles",
    "party_roles_of",
    "merge_references",
    "lookups",
    "movement_key",
    "append_extraction",
    "AppendRequest",
    "append_extractions",
    "append_movements",
    "item_location_ids",
    "write_positions",
]

POLICY_COLUMNS = ("method", "min_qty", "max_qty", "reorder_point", "safety_stock_qty", "safety_stock_days",
                  "service_level", "min_days_of_supply", "target_days_of_supply", "lead_time_days",
                  "review_period_days", "pack_multiple", "min_order_qty", "demand_window_days", "horizon_days",
                  "use_forecast")
POSITION_COLUMNS = ("planned_on", "on_hand", "in_transit", "on_order", "avg_daily", "days_of_supply",
                    "min_level", "max_level", "reorder_level", "target_level", "stockout_date", "flags",
                    "demand_source")
_BATCH = 500  # rows per IN (...) list
#: exception flag → its bit in ``inv_item_locations.flag_bits`` (stable: stored values use it)
FLAG_BITS = {ExceptionFlag.OUT_OF_STOCK.value: 1, ExceptionFlag.BELOW_MIN.value: 2, ExceptionFlag.ABOVE_MAX.value: 4,
             ExceptionFlag.PROJECTED_STOCKOUT.value: 8}


class InventoryNotFound(NotVisible):
    """No such item, location, item-location, proposal or document for this caller (404)."""

    code = "NOT_FOUND"


# ----------------------------------------------------------------------------- master data


def save_master_data(conn: Connection, master: MasterData, *, now: datetime) -> dict[str, int]:
    """Insert or update programs, locations, items and policies (keys: see :mod:`.importer`).

    Args:
        conn: inside the caller's transaction.
        master: validated records.
        now: timestamps.

    Returns:
        Rows written per section.

    Raises:
        MasterDataInvalid: unknown partner codes or items/locations, or an identifier already used
            by another row (every problem listed; nothing should be committed then).
    """
    partners = _partner_ids(conn, master)
    issues: list[Issue] = []
    for section, index, field, code in _partner_refs(master):
        if code not in partners:
            issues.append(Issue("PARTNER_UNKNOWN", "no partner with this code", (section, index, field), input=code))
    if issues:
        raise MasterDataInvalid(f"master data invalid: {len(issues)} issue(s)", issues)
    _save_programs(conn, master, partners)
    locations = _save_locations(conn, master, partners, now, issues)
    items = _save_items(conn, master, partners, now, issues)
    _save_policies(conn, master, partners, items, locations, issues)
    if issues:
        raise MasterDataInvalid(f"master data invalid: {len(issues)} issue(s)", issues)
    return master.counts


def _partner_refs(master: MasterData) -> Iterable[tuple[str, int, str, str]]:
    for i, r in enumerate(master.programs):
        yield "programs", i, "supplier", r.supplier
        yield "programs", i, "customer", r.customer
    for i, r in enumerate(master.locations):
        if r.customer:
            yield "locations", i, "customer", r.customer
    for i, r in enumerate(master.items):
        yield "items", i, "supplier", r.supplier
    for i, r in enumerate(master.policies):
        yield "policies", i, "supplier", r.supplier


def _partner_ids(conn: Connection, master: MasterData) -> dict[str, int]:
    codes = {code for *_rest, code in _partner_refs(master)}
    if not codes:
        return {}
    return dict(conn.execute(select(t.partners.c.code, t.partners.c.id).where(t.partners.c.code.in_(codes))).all())


def _upsert(conn: Connection, table, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
    """Update the row with ``key`` or insert it; returns its id (or 0 for tables without one)."""
    where = and_(*(table.c[k] == v for k, v in key.items()))
    found = conn.execute(select(*(table.c[k] for k in key)).where(where)).first()
    if found is not None:
        if values:
            conn.execute(update(table).where(where).values(**values))
    else:
        conn.execute(table.insert().values(**key, **values))
    return conn.execute(select(table.c.id).where(where)).scalar_one() if "id" in table.c else 0


def _save_programs(conn: Connection, master: MasterData, partners: Mapping[str, int]) -> None:
    for r in master.programs:
        _upsert(conn, t.inv_programs, {"supplier_id": partners[r.supplier], "customer_id": partners[r.customer]},
                {"order_document": r.order_document, "po_prefix": r.po_prefix})


def _save_locations(conn: Connection, master: MasterData, partners: Mapping[str, int], now: datetime,
                    issues: list[Issue]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for index, r in enumerate(master.locations):
        if r.gln and conn.execute(select(t.inv_locations.c.id).where(
                t.inv_locations.c.gln == r.gln, t.inv_locations.c.code != r.code)).first():
            issues.append(Issue("GLN_TAKEN", "another location has this GLN", ("locations", index, "gln"), input=r.gln))
            continue
        customer = partners.get(r.customer) if r.customer else None
        taken = r.partner_code and conn.execute(select(t.inv_locations.c.id).where(
            t.inv_locations.c.customer_id == customer, t.inv_locations.c.partner_code == r.partner_code,
            t.inv_locations.c.code != r.code)).first()
        if taken:
            issues.append(Issue("PARTNER_CODE_TAKEN", "the customer uses this code for another location",
                                ("locations", index, "partner_code"), input=r.partner_code))
            continue
        values = {"name": r.name, "kind": r.kind, "gln": r.gln, "customer_id": customer,
                  "partner_code": r.partner_code}
        exists = conn.execute(select(t.inv_locations.c.id).where(t.inv_locations.c.code == r.code)).scalar()
        ids[r.code] = _upsert(conn, t.inv_locations, {"code": r.code},
                              values if exists else {**values, "created_at": now})
    return ids


def _save_items(conn: Connection, master: MasterData, partners: Mapping[str, int], now: datetime,
                issues: list[Issue]) -> dict[tuple[int, str], int]:
    ids: dict[tuple[int, str], int] = {}
    for index, r in enumerate(master.items):
        supplier = partners[r.supplier]
        key = {"supplier_id": supplier, "code": r.code}
        if r.gtin and conn.execute(select(t.inv_items.c.id).where(
                t.inv_items.c.gtin == r.gtin, or_(t.inv_items.c.supplier_id != supplier,
                                                 t.inv_items.c.code != r.code))).first():
            issues.append(Issue("GTIN_TAKEN", "another item has this GTIN", ("items", index, "gtin"), input=r.gtin))
            continue
        values = {"description": r.description, "buyer_sku": r.buyer_sku, "vendor_part": r.vendor_part,
                  "gtin": r.gtin, "pack_size": r.pack_size, "unit": r.unit, "updated_at": now}
        exists = conn.execute(select(t.inv_items.c.id).where(*(t.inv_items.c[k] == v for k, v in key.items()))).scalar()
        ids[(supplier, r.code)] = _upsert(conn, t.inv_items, key, values if exists else {**values, "created_at": now})
    return ids


def _save_policies(conn: Connection, master: MasterData, partners: Mapping[str, int],
                   items: dict[tuple[int, str], int], locations: dict[str, int], issues: list[Issue]) -> None:
    for index, r in enumerate(master.policies):
        supplier = partners[r.supplier]
        item_id = items.get((supplier, r.item)) or conn.execute(select(t.inv_items.c.id).where(
            t.inv_items.c.supplier_id == supplier, t.inv_items.c.code == r.item)).scalar()
        location_id = locations.get(r.location) or conn.execute(select(t.inv_locations.c.id).where(
            t.inv_locations.c.code == r.location)).scalar()
        if item_id is None:
            issues.append(Issue("ITEM_UNKNOWN", "no item with this code for the supplier", ("policies", index, "item"),
                                input=r.item))
        if location_id is None:
            issues.append(Issue("LOCATION_UNKNOWN", "no location with this code", ("policies", index, "location"),
                                input=r.location))
        if item_id is None or location_id is None:
            continue
        policy = {name: getattr(r, name) for name in POLICY_COLUMNS}
        _upsert(conn, t.inv_item_locations, {"item_id": item_id, "location_id": location_id},
                {**policy, "supplier_id": supplier, "item_code": r.item, "location_code": r.location})


# --------------------------------------------------------------------------------- lookups


@dataclass(frozen=True, slots=True)
class PartyRoles:
    """What the sending partner is to the inventory: a supplier (has items), a customer (has
    locations), both or neither. Lookups are narrowed to its own items or locations."""

    partner_id: int | None
    supplier: bool
    customer: bool


def party_roles(conn: Connection, partner_id: int | None) -> PartyRoles:
    if partner_id is None:
        return PartyRoles(None, False, False)
    supplier = conn.execute(select(t.inv_items.c.id).where(t.inv_items.c.supplier_id == partner_id).limit(1)).first()
    customer = conn.execute(select(t.inv_locations.c.id).where(
        t.inv_locations.c.customer_id == partner_id).limit(1)).first()
    return PartyRoles(partner_id, supplier is not None, customer is not None)


def party_roles_of(conn: Connection, partner_ids: Iterable[int | None]) -> dict[int | None, PartyRoles]:
    """:func:`party_roles` of several partners in one query (the apply stage's batch)."""
    ids = sorted({p for p in partner_ids if p is not None})
    roles: dict[int | None, PartyRoles] = {None: PartyRoles(None, False, False)}
    roles.update({p: PartyRoles(p, False, False) for p in ids})
    if not ids:
        return roles
    has_items = select(t.inv_items.c.id).where(t.inv_items.c.supplier_id == t.partners.c.id).exists()
    has_locations = select(t.inv_locations.c.id).where(t.inv_locations.c.customer_id == t.partners.c.id).exists()
    for partner_id, supplier, customer in conn.execute(
            select(t.partners.c.id, has_items, has_locations).where(t.partners.c.id.in_(ids))):
        roles[partner_id] = PartyRoles(partner_id, bool(supplier), bool(customer))
    return roles


def merge_references(refs: Iterable[References]) -> References:
    """The union of several documents' references, to look them up in one batch."""
    items: set[tuple[str, str]] = set()
    places: set[tuple[str, str]] = set()
    orders: set[str] = set()
    for ref in refs:
        items |= ref.items
        places |= ref.locations
        orders |= ref.orders
    return References(frozenset(items), frozenset(places), frozenset(orders))


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _BATCH):
        yield values[start:start + _BATCH]


def lookups(conn: Connection, refs: References, roles: PartyRoles) -> Lookups:
    """Answer a document's references in a few batched queries (narrowed by the sender's role)."""
    return Lookups(_item_lookups(conn, refs, roles), _location_lookups(conn, refs, roles),
                   _order_lookups(conn, refs, roles))


def _item_lookups(conn: Connection, refs: References, roles: PartyRoles) -> dict[tuple[str, str], frozenset[int]]:
    columns = {"gtin": t.inv_items.c.gtin, "vendor": t.inv_items.c.vendor_part, "buyer": t.inv_items.c.buyer_sku}
    found: dict[tuple[str, str], set[int]] = defaultdict(set)
    for scheme, column in columns.items():
        values = sorted(v for s, v in refs.items if s == scheme)
        for chunk in _chunks(values):
            query = select(t.inv_items.c.id, column).where(column.in_(chunk))
            if roles.supplier:
                query = query.where(t.inv_items.c.supplier_id == roles.partner_id)
            for item_id, value in conn.execute(query):
                found[(scheme, value)].add(item_id)
    return {k: frozenset(v) for k, v in found.items()}


def _location_lookups(conn: Connection, refs: References, roles: PartyRoles) -> dict[tuple[str, str], frozenset[int]]:
    loc = t.inv_locations
    found: dict[tuple[str, str], set[int]] = defaultdict(set)
    glns = sorted(v for s, v in refs.locations if s == "gln")
    for chunk in _chunks(glns):
        for location_id, gln in conn.execute(select(loc.c.id, loc.c.gln).where(loc.c.gln.in_(chunk))):
            found[("gln", gln)].add(location_id)
    codes = sorted(v for s, v in refs.locations if s == "code")
    for chunk in _chunks(codes):
        own: dict[str, set[int]] = defaultdict(set)
        hub: dict[str, set[int]] = defaultdict(set)
        anyone: dict[str, set[int]] = defaultdict(set)
        rows = conn.execute(select(loc.c.id, loc.c.code, loc.c.partner_code, loc.c.customer_id).where(
            or_(loc.c.partner_code.in_(chunk), loc.c.code.in_(chunk)))).all()
        for location_id, code, partner_code, customer in rows:
            if partner_code in chunk:
                (own if customer == roles.partner_id else anyone)[partner_code].add(location_id)
            if code in chunk:
                hub[code].add(location_id)
        # The sender's own code first, then the hub's location code, then another customer's code.
        for value in chunk:
            chosen = own.get(value) or hub.get(value) or anyone.get(value)
            if chosen:
                found[("code", value)] = chosen
    return {k: frozenset(v) for k, v in found.items()}


def _order_lookups(conn: Connection, refs: References, roles: PartyRoles) -> dict[tuple[str, int], dict[int, Decimal]]:
    if not refs.orders:
        return {}
    m, il = t.inv_movements, t.inv_item_locations
    signed = func.sum(m.c.quantity)
    lines: dict[tuple[str, int], dict[int, Decimal]] = defaultdict(dict)
    for chunk in _chunks(sorted(refs.orders)):
        query = (select(m.c.order_ref, il.c.item_id, il.c.location_id, m.c.kind, signed)
                 .join(il, il.c.id == m.c.item_location_id)
                 .where(m.c.order_ref.in_(chunk), m.c.kind.in_((MovementKind.ON_ORDER, MovementKind.CANCELLED)))
                 .group_by(m.c.order_ref, il.c.item_id, il.c.location_id, m.c.kind))
        if roles.supplier:
            query = query.where(il.c.supplier_id == roles.partner_id)
        elif roles.customer:
            query = query.join(t.inv_locations, t.inv_locations.c.id == il.c.location_id).where(
                t.inv_locations.c.customer_id == roles.partner_id)
        for order_ref, item_id, location_id, kind, total in conn.execute(query):
            sign = -1 if kind == MovementKind.CANCELLED else 1
            place = lines[(order_ref, item_id)]
            place[location_id] = place.get(location_id, Decimal(0)) + sign * Decimal(total)
    return dict(lines)


# ------------------------------------------------------------------------------- appending


def movement_key(identity: str, document_type: str, business_key: str, line: str, kind: str,
                 item_id: int, location_id: int) -> str:
    """The ledger's idempotency key: the engine's key over the document's business identity."""
    source = DocumentRef(identity, document_type, business_key, line)
    return idempotency_key(source, kind, ItemLocationKey(str(item_id), str(location_id)))


def item_location_ids(conn: Connection, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Ids of item-locations, creating unplanned rows (no policy) for pairs not seen before."""
    wanted = sorted(set(pairs))
    il = t.inv_item_locations
    found: dict[tuple[int, int], int] = {}
    for chunk in _chunks(wanted):
        rows = conn.execute(select(il.c.item_id, il.c.location_id, il.c.id).where(
            tuple_(il.c.item_id, il.c.location_id).in_(chunk))).all()
        found.update({(r.item_id, r.location_id): r.id for r in rows})
    missing = [p for p in wanted if p not in found]
    if missing:
        items = {r.id: r for r in _rows_by_id(conn, t.inv_items, {i for i, _ in missing})}
        locations = {r.id: r for r in _rows_by_id(conn, t.inv_locations, {loc for _, loc in missing})}
        new = [{"item_id": i, "location_id": loc, "supplier_id": items[i].supplier_id, "item_code": items[i].code,
                "location_code": locations[loc].code} for i, loc in missing]
        insert_ignore(conn, il, new, ("item_id", "location_id"))
        for chunk in _chunks(missing):
            rows = conn.execute(select(il.c.item_id, il.c.location_id, il.c.id).where(
                tuple_(il.c.item_id, il.c.location_id).in_(chunk))).all()
            found.update({(r.item_id, r.location_id): r.id for r in rows})
    return found


def _rows_by_id(conn: Connection, table, ids: set[int]) -> list[Row]:
    rows: list[Row] = []
    for chunk in _chunks(sorted(ids)):
        rows += conn.execute(select(table).where(table.c.id.in_(chunk))).all()
    return rows


def append_movements(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append ledger rows (each with its ``idempotency_key``); rows already there are skipped.

    Returns:
        How many were new.
    """
    return insert_ignore(conn, t.inv_movements, list(rows), ("idempotency_key",)) if rows else 0


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One document's extraction and the identity its ledger keys hash.

    Attributes:
        extraction: from :func:`crossdock.gateway.inventory.movements.extract` (not rejected).
        identity: the document's business identity (``partner:type:number``), hashed into the keys.
        document_type: short code (``852`` …).
        business_key: the partner's number for it.
        document_id: ``documents.id``.
    """

    extraction: Extraction
    identity: str
    document_type: str
    business_key: str
    document_id: int | None


def append_extraction(conn: Connection, extraction: Extraction, *, identity: str, document_type: str,
                      business_key: str, document_id: int | None) -> tuple[int, set[int]]:
    """Store what one document does to the inventory (see :func:`append_extractions`).

    Returns:
        New ledger rows, and the item-location ids the document touched.
    """
    return append_extractions(conn, [AppendRequest(extraction, identity, document_type, business_key,
                                                   document_id)])


def append_extractions(conn: Connection, requests: Sequence[AppendRequest]) -> tuple[int, set[int]]:
    """Store what several documents do to the inventory, in a few statements for all of them.

    Item-locations are resolved (and created) in one batch, ledger rows go in as one multi-row
    ``insert … on conflict do nothing`` on the idempotency key (a key twice in the batch — the same
    document twice in one message — is kept once), reported periods likewise; 830 buckets replace
    older ones document by document, in order.

    Args:
        conn: the apply stage's connection.
        requests: the documents, in the order they were received.

    Returns:
        New ledger rows, and the item-location ids the documents touched.
    """
    pairs = {(m.item_id, m.location_id) for r in requests for m in r.extraction.movements}
    pairs |= {(f.item_id, f.location_id) for r in requests for f in r.extraction.forecasts}
    ids = item_location_ids(conn, pairs) if pairs else {}
    rows: dict[str, dict[str, Any]] = {}
    for r in requests:
        for m in r.extraction.movements:
            key = movement_key(r.identity, r.document_type, r.business_key, m.line, m.kind, m.item_id, m.location_id)
            rows.setdefault(key, {
                "idempotency_key": key, "item_location_id": ids[(m.item_id, m.location_id)], "kind": str(m.kind),
                "quantity": m.quantity, "effective": m.effective, "period_start": m.period_start, "due": m.due,
                "order_ref": m.order_ref, "document_id": r.document_id, "document_type": r.document_type,
                "business_key": r.business_key[:120], "line": m.line[:80]})
    added = append_movements(conn, list(rows.values()))
    periods: dict[tuple[int, Any, Any], int | None] = {}
    for r in requests:
        for p in r.extraction.periods:
            periods.setdefault((p.location_id, p.start, p.end), r.document_id)  # the first report keeps it
    if periods:
        insert_ignore(conn, t.inv_reported_periods, [
            {"location_id": location, "period_start": start, "period_end": end, "document_id": document_id}
            for (location, start, end), document_id in periods.items()], ("location_id", "period_start", "period_end"))
    for r in requests:
        if r.extraction.forecasts:
            _replace_forecasts(conn, r.extraction, ids, r.document_id)
    return added, set(ids.values())


def _replace_forecasts(conn: Connection, extraction: Extraction, ids: Mapping[tuple[int, int], int],
                       document_id: int | None) -> None:
    """A newer 830 replaces the buckets it overlaps, per item-location."""
    f = t.inv_forecasts
    by_il: dict[int, list] = defaultdict(list)
    for row in extraction.forecasts:
        by_il[ids[(row.item_id, row.location_id)]].append(row)
    for il_id, rows in by_il.items():
        first, last = min(r.start for r in rows), max(r.end for r in rows)
        conn.execute(f.delete().where(f.c.item_location_id == il_id, f.c.period_end >= first,
                                      f.c.period_start <= last))
        unique = {(r.start, r.end): r for r in rows}
        conn.execute(f.insert(), [{"item_location_id": il_id, "period_start": r.start, "period_end": r.end,
                                   "quantity": r.quantity, "firm": r.firm, "document_id": document_id}
                                  for r in unique.values()])


# ------------------------------------------------------------------------------- positions


def flag_bits(flags: str) -> int:
    """The bits of a comma-separated flag list (unknown names count as nothing)."""
    return sum(FLAG_BITS.get(name, 0) for name in set(flags.split(",")))


def write_positions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write materialised positions (``id`` plus :data:`POSITION_COLUMNS`; ``flag_bits`` follows
    ``flags``).

    PostgreSQL: ``COPY`` into a temporary table and one ``UPDATE … FROM`` (a planning run writes
    tens of thousands of rows); otherwise one ``executemany``.
    """
    if not rows:
        return
    if is_postgres(conn) and len(rows) > 200:
        _copy_positions(conn, rows)
        return
    il = t.inv_item_locations
    statement = update(il).where(il.c.id == bindparam("_id")).values(
        flag_bits=bindparam("_flag_bits"), **{name: bindparam(f"_{name}") for name in POSITION_COLUMNS})
    conn.execute(statement, [{"_id": r["id"], "_flag_bits": flag_bits(r["flags"]),
                              **{f"_{n}": r[n] for n in POSITION_COLUMNS}} for r in rows])


_STAGE_DDL = """CREATE TEMP TABLE IF NOT EXISTS inv_position_stage (
    id integer PRIMARY KEY, planned_on date, on_hand numeric(18,4), in_transit numeric(18,4),
    on_order numeric(18,4), avg_daily double precision, days_of_supply double precision,
    min_level double precision, max_level double precision, reorder_level double precision,
    target_level double precision, stockout_date date, flags varchar(80), demand_source varchar(8),
    flag_bits integer
) ON COMMIT DELETE ROWS"""


def _copy_positions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.exec_driver_sql(_STAGE_DDL)
    columns = ("id", *POSITION_COLUMNS)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY inv_position_stage ({', '.join(columns)}, flag_bits) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*(row[c] for c in columns), flag_bits(row["flags"])))
    assignments = ", ".join(f"{c} = s.{c}" for c in (*POSITION_COLUMNS, "flag_bits"))
    conn.exec_driver_sql(f"UPDATE inv_item_locations il SET {assignments} FROM inv_position_stage s "
                         "WHERE il.id = s.id")
    conn.exec_driver_sql("DELETE FROM inv_position_stage")
