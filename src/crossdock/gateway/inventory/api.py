"""The inventory JSON API (controllers: read the request, call one service, shape the answer).

=============================================  ======  =======================================
path                                           method  what
=============================================  ======  =======================================
``/api/v1/inventory``                          GET     grid: filters, sort, page or keyset cursor (after)
``/api/v1/inventory/export.csv``               GET     the grid as CSV (formula-safe)
``/api/v1/inventory/summary``                  GET     counts, open proposals, bullwhip by item
``/api/v1/inventory/{item}/{location}``        GET     position, projection, movements, proposals
``/api/v1/inventory/documents/{id}``           GET     a document behind movements (own lines)
``/api/v1/inventory/master-data``              POST    items/locations/policies/programs
                                                       (JSON, YAML or CSV body; admin, host)
``/api/v1/inventory/replenish``                POST    plan now (queued for the workers)
``/api/v1/proposals``                          GET     proposals (state, item, location, page)
``/api/v1/proposals/{id}``                     PATCH   ``{"quantity": …}`` on an open proposal
``/api/v1/proposals/{id}/approve``             POST    approve (optional ``{"quantity": …}``)
``/api/v1/proposals/{id}/reject``              POST    reject
=============================================  ======  =======================================

Scope: a supplier user or a supplier's API key sees only its items (others' ids answer 404);
ops, admins and the host see every supplier and may narrow with ``supplier=<partner code>``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from litestar import Request, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter, RawBody
from litestar.response import Stream
from sqlalchemy import select

from crossdock.gateway.auth import Principal, require_roles, scope_partner
from crossdock.gateway.http.errors import error_responses
from crossdock.gateway.inventory import service, views
from crossdock.gateway.inventory.importer import parse_master_data
from crossdock.gateway.inventory.store import InventoryNotFound, save_master_data
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store import schema as t

__all__ = ["inventory_api_router", "READ_ROLES", "grid_query"]

API = "/api/v1"
#: who may read the inventory (suppliers scoped to their own)
READ_ROLES = ("supplier", "partner", "ops", "admin", "host")
_WRITE_ROLES = ("supplier", "partner", "admin", "host")


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(_runtime(request).clock(), UTC)


def supplier_filter(request: Request, scope: int | None, code: str | None) -> int | None:
    """An unscoped caller's ``supplier=<code>`` filter as a partner id (ignored for suppliers)."""
    if scope is not None or not code:
        return None
    with _runtime(request).engine.connect() as conn:
        found = conn.execute(select(t.partners.c.id).where(t.partners.c.code == code)).scalar()
    if found is None:
        raise InventoryNotFound(f"no supplier {code}", code="SUPPLIER_NOT_FOUND")
    return found


def grid_query(request: Request, scope: int | None) -> views.GridQuery:
    """The grid's filters from query parameters (unknown values fall back to defaults)."""
    params = request.query_params
    exception = params.get("exception") or None
    sort = params.get("sort") or "item"
    return views.GridQuery(
        item=(params.get("item") or "").strip()[:64] or None, location=(params.get("location") or "").strip()[:64] or None,
        exception=exception if exception in (*views.EXCEPTIONS, "any") else None,
        sort=sort if sort in views.SORTS else "item", desc=params.get("desc") in ("1", "true", "yes"),
        page=_int(params.get("page"), 1), page_size=_int(params.get("page_size"), 50),
        supplier=supplier_filter(request, scope, params.get("supplier")), after=params.get("after") or None)


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, min(int(value), 1_000_000)) if value else default
    except ValueError:
        return default


@get("/inventory", sync_to_thread=True, summary="Inventory grid (filters: item, location, exception; "
     "sort, desc, page or after (the previous page's next cursor), page_size; supplier for unscoped callers)", responses=error_responses(401, 403, 404))
def inventory_grid(request: Request, principal: NamedDependency[Principal]) -> dict[str, Any]:
    scope = scope_partner(principal)
    query = grid_query(request, scope)
    with _runtime(request).engine.connect() as conn:
        return views.grid(conn, query, scope)


@get("/inventory/export.csv", sync_to_thread=True, summary="The inventory grid as CSV (same filters)",
     responses=error_responses(401, 403))
def inventory_csv(request: Request, principal: NamedDependency[Principal]) -> Stream:
    scope = scope_partner(principal)
    query = grid_query(request, scope)
    engine = _runtime(request).engine

    def chunks():
        with engine.connect() as conn:
            yield from (chunk.encode("utf-8") for chunk in views.export_csv(conn, query, scope))

    return Stream(chunks(), media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": 'attachment; filename="inventory.csv"'})


@get("/inventory/summary", sync_to_thread=True, summary="Counts, open proposals and the bullwhip indicator by item",
     responses=error_responses(401, 403))
def inventory_summary(request: Request, principal: NamedDependency[Principal]) -> dict[str, Any]:
    scope = scope_partner(principal)
    with _runtime(request).engine.connect() as conn:
        return views.supplier_summary(conn, scope)


@get("/inventory/{item:str}/{location:str}", sync_to_thread=True,
     summary="An item at a location: position, projection, movements with their documents, proposals",
     responses=error_responses(401, 403, 404))
def inventory_detail(request: Request, principal: NamedDependency[Principal], item: FromPath[str], location: FromPath[str],
                     supplier: str | None = Parameter(default=None, description="partner code (unscoped callers)")
                     ) -> dict[str, Any]:
    scope = scope_partner(principal)
    wanted = supplier_filter(request, scope, supplier)
    with _runtime(request).engine.connect() as conn:
        return views.item_location_detail(conn, item, location, scope, _now(request).date(), supplier=wanted)


@get("/inventory/documents/{document_id:int}", sync_to_thread=True,
     summary="A document behind ledger movements (a supplier sees its own lines only)",
     responses=error_responses(401, 403, 404))
def inventory_document(request: Request, principal: NamedDependency[Principal], document_id: FromPath[int]) -> dict[str, Any]:
    with _runtime(request).engine.connect() as conn:
        return views.document_view(conn, document_id, scope_partner(principal))


@post("/inventory/master-data", sync_to_thread=True, status_code=200, guards=[require_roles("admin", "host")],
      summary="Import items, locations, policies and VMI programs (JSON, YAML or CSV body)",
      responses=error_responses(400, 401, 403, 422), request_max_body_size=50 * 1024 * 1024)
def import_master_data(request: Request, principal: NamedDependency[Principal], body: RawBody) -> dict[str, Any]:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    fmt = "csv" if content_type == "text/csv" else "json" if content_type == "application/json" else "yaml"
    master = parse_master_data(body, fmt)  # type: ignore[arg-type]
    with _runtime(request).engine.begin() as conn:
        counts = save_master_data(conn, master, now=_now(request))
    return {"saved": counts}


@post("/inventory/replenish", sync_to_thread=True, status_code=202, summary="Plan now (queued for the workers)",
      responses=error_responses(401, 403, 404))
def replenish_now(request: Request, principal: NamedDependency[Principal],
                  supplier: str | None = Parameter(default=None, description="partner code (unscoped callers)")
                  ) -> dict[str, Any]:
    scope = scope_partner(principal)
    wanted = scope if scope is not None else supplier_filter(request, scope, supplier)
    with _runtime(request).engine.begin() as conn:
        suppliers = [wanted] if wanted is not None else conn.execute(
            select(t.inv_item_locations.c.supplier_id).distinct()).scalars().all()
        service.request_replan(conn, suppliers, now=_runtime(request).clock(), delay_s=0.0, reason="manual")
    return {"queued": len(suppliers)}


@get("/proposals", sync_to_thread=True, summary="Replenishment proposals (state: open, approved, rejected, "
     "superseded; item, location, page, page_size)", responses=error_responses(401, 403, 404))
def proposals(request: Request, principal: NamedDependency[Principal],
              proposal_state: Annotated[str, QueryParameter(
                  name="state", description="open, approved, rejected, superseded or all")] = "open",
              item: FromQuery[str | None] = None, location: FromQuery[str | None] = None,
              page: int = Parameter(default=1, ge=1), page_size: int = Parameter(default=50, ge=1, le=200),
              supplier: FromQuery[str | None] = None) -> dict[str, Any]:
    scope = scope_partner(principal)
    wanted = supplier_filter(request, scope, supplier)
    with _runtime(request).engine.connect() as conn:
        return views.list_proposals(conn, scope, state=proposal_state if proposal_state != "all" else None, item=item,
                                    location=location, page=page, page_size=page_size, supplier=wanted)


async def _quantity(request: Request) -> Any:
    if not (await request.body()).strip():
        return None
    data = await request.json()
    return data.get("quantity") if isinstance(data, dict) else None


@patch("/proposals/{proposal_id:int}", status_code=200, guards=[require_roles(*_WRITE_ROLES)],
       summary="Edit an open proposal's quantity: {\"quantity\": 48}", responses=error_responses(401, 403, 404, 409, 422))
async def edit(request: Request, principal: NamedDependency[Principal], proposal_id: FromPath[int]) -> dict[str, Any]:
    quantity = await _quantity(request)
    runtime = _runtime(request)

    def run() -> None:
        with runtime.engine.begin() as conn:
            service.edit_proposal(conn, proposal_id, quantity, scope=scope_partner(principal), actor=principal.actor,
                                  now=_now(request))

    await anyio.to_thread.run_sync(run)
    return {"id": proposal_id, "state": "open", "quantity": quantity}


@post("/proposals/{proposal_id:int}/approve", status_code=200, guards=[require_roles(*_WRITE_ROLES)],
      summary="Approve: the vendor-generated order (855 or 850 per the program) goes to the customer",
      responses=error_responses(401, 403, 404, 409, 422))
async def approve(request: Request, principal: NamedDependency[Principal], proposal_id: FromPath[int]) -> dict[str, Any]:
    quantity = await _quantity(request)
    runtime = _runtime(request)
    return await anyio.to_thread.run_sync(lambda: service.approve_proposal(
        runtime, proposal_id, scope=scope_partner(principal), actor=principal.actor, quantity=quantity,
        now=_now(request)))


@post("/proposals/{proposal_id:int}/reject", status_code=200, sync_to_thread=True,
      guards=[require_roles(*_WRITE_ROLES)], summary="Reject an open proposal",
      responses=error_responses(401, 403, 404, 409))
def reject(request: Request, principal: NamedDependency[Principal], proposal_id: FromPath[int]) -> dict[str, Any]:
    with _runtime(request).engine.begin() as conn:
        service.reject_proposal(conn, proposal_id, scope=scope_partner(principal), actor=principal.actor,
                                now=_now(request))
    return {"id": proposal_id, "state": "rejected"}


def inventory_api_router() -> Router:
    """The JSON API under ``/api/v1``, behind the read roles (writes narrow further)."""
    return Router(path=API, guards=[require_roles(*READ_ROLES)], route_handlers=[
        inventory_grid, inventory_csv, inventory_summary, inventory_detail, inventory_document, import_master_data,
        replenish_now, proposals, edit, approve, reject], tags=["inventory"])
