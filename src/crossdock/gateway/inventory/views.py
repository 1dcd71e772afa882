"""The read side for the API and the portal: inventory grid, item-location detail, proposals,
the documents behind movements, and the CSV export.

Every function takes ``scope``: the caller's supplier partner id (``None`` for ops, admins and
the host). Scoped queries only ever see that supplier's rows; anything else answers exactly like
a missing id (:class:`InventoryNotFound`, 404).

The grid reads the materialised positions (one indexed row per item-location, sorted and paged
in the database); only the detail view runs the engine, for one item-location, to draw the
projection.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.engine import Connection

from crossdock.gateway.inventory.ledger import explain
from crossdock.gateway.inventory.planning import load_inputs
from crossdock.gateway.inventory.proposals import ExceptionFlag, plan_item
from crossdock.gateway.inventory.store import FLAG_BITS, InventoryNotFound
from crossdock.gateway.queries import CursorInvalid
from crossdock.gateway.store import schema as t

__all__ = [
    "GridQuery",
    "SORTS",
    "EXCEPTIONS",
    "PROPOSAL_STATES",
    "grid",
    "grid_rows",
    "encode_cursor",
    "decode_cursor",
    "COUNT_CAP",
    "item_location_detail",
    "list_proposals",
    "document_view",
    "csv_cell",
    "export_csv",
    "supplier_summary",
]

il, items, locations, pr = t.inv_item_locations, t.inv_items, t.inv_locations, t.inv_proposals
#: sort keys the grid accepts → column (ties broken by item, then location)
SORTS = {"item": il.c.item_code, "location": il.c.location_code, "on_hand": il.c.on_hand,
         "in_transit": il.c.in_transit, "on_order": il.c.on_order, "avg_daily": il.c.avg_daily,
         "days_of_supply": il.c.days_of_supply, "stockout_date": il.c.stockout_date}
EXCEPTIONS = tuple(flag.value for flag in ExceptionFlag)
PROPOSAL_STATES = ("open", "approved", "rejected", "superseded")
MAX_PAGE_SIZE = 200
MOVEMENT_LIMIT = 200
#: cells starting with these are formulas to a spreadsheet (BAD_INPUT 60; OWASP ASVS V1.2.10)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


@dataclass(frozen=True, slots=True)
class GridQuery:
    """Filters, sort and page of the inventory grid.

    Attributes:
        item: item code prefix (also matches the buyer SKU exactly).
        location: location code prefix.
        exception: one of :data:`EXCEPTIONS`, or ``any`` for rows with any flag.
        sort: a key of :data:`SORTS`; ``desc`` reverses it.
        page: 1-based page (``OFFSET``: fine for the first pages; deep paging uses ``after``).
        page_size: rows per page (at most 200).
        supplier: for unscoped callers, limit to one supplier partner id.
        after: the ``next`` cursor of the previous page (keyset: the page starts right after that
            row, at index speed however deep; ``page`` is then only echoed).
    """

    item: str | None = None
    location: str | None = None
    exception: str | None = None
    sort: str = "item"
    desc: bool = False
    page: int = 1
    page_size: int = 50
    supplier: int | None = None
    after: str | None = None


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(query: GridQuery, scope: int | None) -> list[Any]:
    clauses: list[Any] = []
    supplier = scope if scope is not None else query.supplier
    if supplier is not None:
        clauses.append(il.c.supplier_id == supplier)
    if query.item:
        clauses.append(il.c.item_code.like(_like_prefix(query.item), escape="\\"))
    if query.location:
        clauses.append(il.c.location_code.like(_like_prefix(query.location), escape="\\"))
    if query.exception == "any":
        clauses.append(il.c.flag_bits != 0)
    elif query.exception in EXCEPTIONS:
        # the same expression as the flag's partial index, so PostgreSQL reads only those rows
        clauses.append(il.c.flag_bits.op("&")(FLAG_BITS[query.exception]) != 0)
    return clauses


def _order(query: GridQuery) -> list[Any]:
    """The sort, ties broken by item and location in the same direction (so a descending page is
    a backward scan of the sort's index, not a sort of every row of the supplier)."""
    column = SORTS.get(query.sort, il.c.item_code)
    tail = [il.c.item_code, il.c.location_code] if query.sort != "location" else [il.c.location_code, il.c.item_code]
    columns = [column, *(c for c in tail if c is not column)]
    ordered = [c.desc() if query.desc else c.asc() for c in columns]
    if query.sort in ("days_of_supply", "stockout_date"):
        ordered[0] = ordered[0].nulls_last()
    return ordered


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _row(row: Mapping[str, Any], extra: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    more = extra.get(row["id"], {})
    return {
        "item": row["item_code"], "location": row["location_code"], "description": more.get("description"),
        "location_name": more.get("location_name"), "on_hand": _number(row["on_hand"]),
        "in_transit": _number(row["in_transit"]), "on_order": _number(row["on_order"]),
        "avg_daily": row["avg_daily"], "days_of_supply": row["days_of_supply"], "min": row["min_level"],
        "max": row["max_level"], "reorder_point": row["reorder_level"], "stockout_date": row["stockout_date"],
        "flags": [f for f in row["flags"].split(",") if f], "planned": row["method"] is not None,
        "proposal": more.get("proposal"), "planned_on": row["planned_on"],
        "links": {"self": f"/api/v1/inventory/{row['item_code']}/{row['location_code']}"},
    }


_GRID_COLUMNS = (il.c.id, il.c.item_code, il.c.location_code, il.c.on_hand, il.c.in_transit, il.c.on_order,
                 il.c.avg_daily, il.c.days_of_supply, il.c.min_level, il.c.max_level, il.c.reorder_level,
                 il.c.stockout_date, il.c.flags, il.c.method, il.c.planned_on, il.c.item_id, il.c.location_id)
#: a filtered count stops here (counting 50,000 rows on every page costs more than the page)
COUNT_CAP = 10_000


def _extras(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    ids = [r["id"] for r in rows]
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {i: {} for i in ids}
    for r in rows:
        out[r["id"]].update(description=r["description"], location_name=r["location_name"])
    for p in conn.execute(select(pr.c.id, pr.c.item_location_id, pr.c.quantity, pr.c.approved_quantity,
                                 pr.c.needed_by).where(pr.c.item_location_id.in_(ids), pr.c.state == "open")):
        out[p.item_location_id]["proposal"] = {"id": p.id, "quantity": _number(p.approved_quantity or p.quantity),
                                               "needed_by": p.needed_by}
    return out


def grid(conn: Connection, query: GridQuery, scope: int | None) -> dict[str, Any]:
    """One page of the inventory grid.

    Returns:
        ``{"items": [...], "total", "total_exact", "page", "page_size", "pages", "sort", "desc",
        "next"}``: ``total`` is exact below :data:`COUNT_CAP` (``total_exact``), ``next`` the
        cursor of the following page (None on the last one).

    Raises:
        CursorInvalid: ``after`` is not a cursor of this sort.
    """
    size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page = max(1, query.page)
    where = _where(query, scope)
    statement = _page_query(where).order_by(*_order(query)).limit(size + 1)
    if query.after:
        statement = statement.where(_after(query, decode_cursor(query, query.after)))
    else:
        statement = statement.offset((page - 1) * size)
    rows = [r._mapping for r in conn.execute(statement)]
    more, rows = len(rows) > size, rows[:size]
    total = _count(conn, where, at_least=0 if query.after else (page - 1) * size + len(rows))
    extra = _extras(conn, rows)
    exact = total < COUNT_CAP
    pages = max(1, -(-total // size), page + 1 if more and not exact else 1)  # past the cap: one more
    return {"items": [_row(r, extra) for r in rows], "total": total, "total_exact": exact,
            "page": page, "page_size": size, "pages": pages,
            "sort": query.sort if query.sort in SORTS else "item", "desc": query.desc,
            "next": encode_cursor(query, rows[-1]) if more else None}


_DECODE = {"on_hand": Decimal, "in_transit": Decimal, "on_order": Decimal, "avg_daily": float,
           "days_of_supply": float, "stockout_date": date.fromisoformat}


def _sort_key(query: GridQuery) -> str:
    return query.sort if query.sort in SORTS else "item"


def encode_cursor(query: GridQuery, row: Mapping[str, Any]) -> str:
    """The keyset cursor after ``row``: the sort, its direction and the row's sort values."""
    column = SORTS[_sort_key(query)]
    value = row[column.name]
    payload = [_sort_key(query), bool(query.desc), None if value is None else str(value), row["item_code"],
               row["location_code"]]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(query: GridQuery, cursor: str) -> tuple[Any, str, str]:
    """``(sort value, item code, location code)`` of a cursor made by :func:`encode_cursor`.

    Raises:
        CursorInvalid: not one of ours, or made for another sort or direction.
    """
    try:
        sort, desc, value, item, location = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (sort, desc) != (_sort_key(query), bool(query.desc)) or not (isinstance(item, str) and
                                                                        isinstance(location, str)):
            raise ValueError("cursor of another sort")
        if value is not None:
            value = _DECODE.get(sort, str)(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise CursorInvalid("the cursor is not valid for this sort; start again from the first page") from exc
    return value, item, location


def _after(query: GridQuery, key: tuple[Any, str, str]) -> Any:
    """Rows after the cursor in :func:`_order`'s order, as a row comparison (an index range);
    NULL sort values come last."""
    value, item, location = key
    sort = _sort_key(query)
    tail = (il.c.item_code, il.c.location_code) if sort != "location" else (il.c.location_code, il.c.item_code)
    ties = (item, location) if sort != "location" else (location, item)
    beyond = (lambda a, b: a < b) if query.desc else (lambda a, b: a > b)
    if sort in ("item", "location"):
        return beyond(tuple_(*tail), tuple_(*ties))
    column = SORTS[sort]
    if value is None:  # among the NULLs at the end
        return and_(column.is_(None), beyond(tuple_(*tail), tuple_(*ties)))
    later = beyond(tuple_(column, *tail), tuple_(value, *ties))
    return or_(later, column.is_(None)) if sort in _NULLABLE_SORTS else later


_NULLABLE_SORTS = frozenset({"days_of_supply", "stockout_date"})


def _page_query(where: Sequence[Any]):
    """The grid's columns plus the item and location names (joined: one round trip per page)."""
    return (select(*_GRID_COLUMNS, items.c.description, locations.c.name.label("location_name"))
            .join(items, items.c.id == il.c.item_id).join(locations, locations.c.id == il.c.location_id)
            .where(*where))


def _count(conn: Connection, where: Sequence[Any], *, at_least: int) -> int:
    """Rows matching the filters, counted up to :data:`COUNT_CAP` (a deeper page counts as many as
    it has seen). In the grid's default order, so PostgreSQL walks the filter's (partial) index
    instead of scanning the table for rows it cannot estimate (``flag_bits & n``)."""
    capped = (select(il.c.id).where(*where).order_by(il.c.item_code, il.c.location_code)
              .limit(COUNT_CAP).subquery())
    return max(conn.execute(select(func.count()).select_from(capped)).scalar_one(), at_least)


def grid_rows(conn: Connection, query: GridQuery, scope: int | None, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every row of the grid for the filters (keyset pages, for the export)."""
    where = _where(query, scope)
    after: tuple[str, str] | None = None
    while True:
        page_where = list(where)
        if after is not None:
            page_where.append(or_(il.c.item_code > after[0], and_(il.c.item_code == after[0],
                                                                   il.c.location_code > after[1])))
        rows = [r._mapping for r in conn.execute(_page_query(page_where)
                                                 .order_by(il.c.item_code, il.c.location_code).limit(batch))]
        if not rows:
            return
        extra = _extras(conn, rows)
        yield from (_row(r, extra) for r in rows)
        after = (rows[-1]["item_code"], rows[-1]["location_code"])


def csv_cell(value: Any) -> str:
    """A value as a CSV cell a spreadsheet will not run: text starting with ``= + - @`` TAB, CR
    or NUL gets a leading ``'`` (numbers we format ourselves are left alone)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


_CSV_COLUMNS = ("item", "description", "location", "location_name", "on_hand", "in_transit", "on_order",
                "avg_daily", "days_of_supply", "min", "max", "reorder_point", "stockout_date", "flags",
                "proposal_quantity", "proposal_needed_by")


def export_csv(conn: Connection, query: GridQuery, scope: int | None) -> Iterator[str]:
    """The grid for the filters as RFC 4180 CSV (CRLF, quotes doubled), formula-injection safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(_CSV_COLUMNS)
    for row in grid_rows(conn, query, scope):
        proposal = row["proposal"] or {}
        values = {**row, "flags": " ".join(row["flags"]), "proposal_quantity": proposal.get("quantity"),
                  "proposal_needed_by": proposal.get("needed_by"),
                  "avg_daily": round(row["avg_daily"], 3), "days_of_supply": row["days_of_supply"]}
        writer.writerow([csv_cell(values[c]) for c in _CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# ------------------------------------------------------------------------------------ detail


def _find(conn: Connection, item: str, location: str, scope: int | None, supplier: int | None):
    query = select(il).where(il.c.item_code == item, il.c.location_code == location)
    wanted = scope if scope is not None else supplier
    if wanted is not None:
        query = query.where(il.c.supplier_id == wanted)
    rows = conn.execute(query.limit(2)).all()
    if len(rows) != 1:
        raise InventoryNotFound(f"no item {item} at location {location}", code="ITEM_LOCATION_NOT_FOUND")
    return rows[0]


def _movement(row: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "quantity": _number(row.quantity), "effective": row.effective,
            "period_start": row.period_start, "due": row.due, "order_ref": row.order_ref,
            "document": {"id": row.document_id, "type": row.document_type, "business_key": row.business_key,
                         "line": row.line, "message_id": row.message_id,
                         "link": f"/api/v1/inventory/documents/{row.document_id}" if row.document_id else None}}


def _movements(conn: Connection, il_id: int) -> list[dict[str, Any]]:
    m, d = t.inv_movements, t.documents
    rows = conn.execute(select(m, d.c.message_id).outerjoin(d, d.c.id == m.c.document_id)
                        .where(m.c.item_location_id == il_id).order_by(m.c.effective.desc(), m.c.id.desc())
                        .limit(MOVEMENT_LIMIT)).all()
    return [_movement(r) for r in rows]


def _proposal(row: Any) -> dict[str, Any]:
    return {"id": row.id, "state": row.state, "quantity": _number(row.quantity),
            "approved_quantity": _number(row.approved_quantity), "needed_by": row.needed_by,
            "order_by": row.order_by, "expedite": row.expedite, "reasons": row.reasons,
            "flags": [f for f in row.flags.split(",") if f], "projected_balance": row.projected_balance,
            "trigger": row.trigger_level, "target": row.target_level, "created_at": row.created_at,
            "decided_at": row.decided_at, "decided_by": row.decided_by, "po_number": row.po_number,
            "message_id": row.message_id}


def item_location_detail(conn: Connection, item: str, location: str, scope: int | None, today: date, *,
                         supplier: int | None = None) -> dict[str, Any]:
    """Position, levels, the day-by-day projection, movements (with their documents) and proposals.

    Raises:
        InventoryNotFound: no such item-location for this caller.
    """
    row = _find(conn, item, location, scope, supplier)
    plan = plan_item(load_inputs(conn, [row], today)[0], today, detail=True)
    item_row = conn.execute(select(items).where(items.c.id == row.item_id)).one()
    location_row = conn.execute(select(locations).where(locations.c.id == row.location_id)).one()
    pos, lv, projection = plan.position, plan.levels, plan.projection
    assert projection is not None
    planned = row.method is not None
    proposals = conn.execute(select(pr).where(pr.c.item_location_id == row.id)
                             .order_by(pr.c.id.desc()).limit(20)).all()
    return {
        "item": {"code": item_row.code, "description": item_row.description, "buyer_sku": item_row.buyer_sku,
                 "vendor_part": item_row.vendor_part, "gtin": item_row.gtin, "pack_size": _number(item_row.pack_size),
                 "unit": item_row.unit, "bullwhip": item_row.bullwhip, "bullwhip_periods": item_row.bullwhip_periods},
        "location": {"code": location_row.code, "name": location_row.name, "kind": location_row.kind,
                     "gln": location_row.gln},
        "policy": {"method": row.method, "lead_time_days": row.lead_time_days,
                   "review_period_days": row.review_period_days, "pack_multiple": _number(row.pack_multiple),
                   "min_qty": _number(row.min_qty), "max_qty": _number(row.max_qty)} if planned else None,
        "position": {"as_of": pos.as_of, "on_hand": _number(pos.on_hand), "in_transit": _number(pos.in_transit),
                     "on_order": _number(pos.on_order), "confirmed": _number(pos.confirmed),
                     "sold": _number(pos.sold), "received": _number(pos.received), "window_days": pos.window_days,
                     "last_snapshot_date": pos.last_snapshot_date},
        "demand": {"avg_daily": round(lv.avg_daily, 4), "sigma_daily": round(lv.sigma_daily, 4),
                   "source": plan.demand_source.value, "covered_days": plan.demand.covered_days},
        "levels": {"safety_stock": round(lv.safety_stock, 4), "reorder_point": round(lv.trigger, 4),
                   "target": round(lv.target, 4), "min": lv.min_level, "max": lv.max_level,
                   "days_of_supply": round(lv.days_of_supply, 2)} if planned else None,
        "stockout_date": plan.stockout_date, "flags": sorted(f.value for f in plan.flags),
        "projection": {"dates": list(projection.dates()), "balance": [round(b, 3) for b in projection.balances],
                       "receipts": list(projection.receipts), "demand": [round(d, 3) for d in projection.demand]},
        "explain": {figure: [{"document_id": ref.document_id or None, "type": ref.document_type,
                              "business_key": ref.business_key, "line": ref.line}
                             for ref in explain(pos, figure)][-50:]
                    for figure in ("on_hand", "in_transit", "on_order", "sold")},
        "movements": _movements(conn, row.id),
        "proposals": [_proposal(p) for p in proposals],
    }


# --------------------------------------------------------------------------------- proposals


def list_proposals(conn: Connection, scope: int | None, *, state: str | None = "open", item: str | None = None,
                   location: str | None = None, page: int = 1, page_size: int = 50,
                   supplier: int | None = None) -> dict[str, Any]:
    """Proposals, most urgent first (needed-by, then id)."""
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    where: list[Any] = []
    wanted = scope if scope is not None else supplier
    if wanted is not None:
        where.append(pr.c.supplier_id == wanted)
    if state in PROPOSAL_STATES:
        where.append(pr.c.state == state)
    if item:
        where.append(il.c.item_code.like(_like_prefix(item), escape="\\"))
    if location:
        where.append(il.c.location_code.like(_like_prefix(location), escape="\\"))
    base = select(pr, il.c.item_code, il.c.location_code).join(il, il.c.id == pr.c.item_location_id).where(*where)
    rows = conn.execute(base.order_by(pr.c.needed_by, pr.c.id).limit(size).offset((page - 1) * size)).all()
    total = conn.execute(select(func.count()).select_from(pr.join(il, il.c.id == pr.c.item_location_id))
                         .where(*where)).scalar_one()
    return {"items": [{**_proposal(r), "item": r.item_code, "location": r.location_code,
                       "links": {"item_location": f"/api/v1/inventory/{r.item_code}/{r.location_code}",
                                 "approve": f"/api/v1/proposals/{r.id}/approve",
                                 "reject": f"/api/v1/proposals/{r.id}/reject"}} for r in rows],
            "total": total, "page": page, "page_size": size, "pages": max(1, -(-total // size))}


def supplier_summary(conn: Connection, scope: int | None) -> dict[str, Any]:
    """Counts for the portal's header: item-locations, exceptions, open proposals, bullwhip."""
    where = [il.c.supplier_id == scope] if scope is not None else []
    total = conn.execute(select(func.count()).select_from(il).where(*where)).scalar_one()
    flagged = conn.execute(select(func.count()).select_from(il).where(*where, il.c.flag_bits != 0)).scalar_one()
    proposals = conn.execute(select(func.count()).select_from(pr).where(
        pr.c.state == "open", *([pr.c.supplier_id == scope] if scope is not None else []))).scalar_one()
    whip_where = [items.c.bullwhip.is_not(None), *([items.c.supplier_id == scope] if scope is not None else [])]
    bullwhip = conn.execute(select(items.c.code, items.c.description, items.c.bullwhip, items.c.bullwhip_periods)
                            .where(*whip_where).order_by(items.c.bullwhip.desc()).limit(10)).all()
    return {"item_locations": total, "with_exceptions": flagged, "open_proposals": proposals,
            "bullwhip": [{"item": b.code, "description": b.description, "ratio": b.bullwhip,
                          "periods": b.bullwhip_periods} for b in bullwhip]}


# --------------------------------------------------------------------------------- documents


def document_view(conn: Connection, document_id: int, scope: int | None) -> dict[str, Any]:
    """A document behind movements: its header and the movements it made for the caller's items.

    A supplier sees a document only through its own item-locations, and only its own lines.

    Raises:
        InventoryNotFound: no such document, or none of its movements is the caller's.
    """
    m = t.inv_movements
    query = (select(m, il.c.item_code, il.c.location_code).join(il, il.c.id == m.c.item_location_id)
             .where(m.c.document_id == document_id).order_by(m.c.id).limit(1000))
    if scope is not None:
        query = query.where(il.c.supplier_id == scope)
    rows = conn.execute(query).all()
    doc = conn.execute(select(t.documents.c.id, t.documents.c.document_type, t.documents.c.message_id,
                              t.documents.c.created_at, t.documents.c.status, t.partners.c.code)
                       .outerjoin(t.partners, t.partners.c.id == t.documents.c.partner_id)
                       .where(t.documents.c.id == document_id)).first()
    if doc is None or not rows:
        raise InventoryNotFound(f"no document {document_id}", code="DOCUMENT_NOT_FOUND")
    return {"id": doc.id, "document_type": doc.document_type, "code": rows[0].document_type,
            "business_key": rows[0].business_key, "partner": doc.code, "message_id": doc.message_id,
            "received_at": doc.created_at, "status": doc.status,
            "movements": [{"item": r.item_code, "location": r.location_code, "kind": r.kind,
                           "quantity": _number(r.quantity), "effective": r.effective, "due": r.due,
                           "order_ref": r.order_ref, "line": r.line} for r in rows]}
