"""The supplier portal at ``/portal``: server-rendered pages over the same services as the API.

=======================================  ======  ================================================
path                                     method  what
=======================================  ======  ================================================
``/portal``                              GET     inventory grid: filters, sort, paging, summary,
                                                 bullwhip by item, CSV export link
``/portal/export.csv``                   GET     the grid as CSV (formula-safe)
``/portal/items/{item}/{location}``      GET     chart of the projected stock (inline SVG: balance,
                                                 receipts, reorder line, target), movements with
                                                 links to their documents, proposals
``/portal/documents/{id}``               GET     a document behind movements (own lines only)
``/portal/proposals``                    GET     proposals by state, with edit/approve/reject
``/portal/proposals/{id}/{action}``      POST    ``edit`` / ``approve`` / ``reject`` (form, CSRF)
=======================================  ======  ================================================

Suppliers see only their own items (scope from the login); ops and admins see every supplier.
Templates are autoescaped; the chart is built here from numbers only (:func:`projection_svg`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Stream, Template
from markupsafe import Markup
from sqlalchemy import select

from crossdock.gateway.auth import Principal, require_roles, scope_partner
from crossdock.gateway.inventory import service, views
from crossdock.gateway.inventory.api import grid_query
from crossdock.gateway.inventory.store import InventoryNotFound
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store import schema as t
from crossdock.gateway.web import page
from crossdock.schemas.errors import CrossdockError

__all__ = ["portal_router", "projection_svg"]

_CHART_W, _CHART_H, _PAD_L, _PAD_R, _PAD_T, _PAD_B = 760, 260, 56, 16, 16, 36


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(_runtime(request).clock(), UTC)


def projection_svg(projection: dict[str, Any], reorder: float | None, target: float | None) -> Markup:
    """The projected balance over the horizon as an inline SVG (only numbers and dates go in).

    Args:
        projection: ``{"dates", "balance", "receipts"}`` from the detail view.
        reorder: the reorder line (trigger), if planned.
        target: the order-up-to level, if planned.

    Returns:
        SVG markup: balance line, receipt bars, dashed reorder line, dotted target line, zero line.
    """
    balances, receipts, dates = projection["balance"], projection["receipts"], projection["dates"]
    if not balances:
        return Markup("")
    levels = [v for v in (reorder, target) if v is not None]
    top = max([*balances, *receipts, *levels, 1.0]) * 1.1
    bottom = min([*balances, 0.0])
    span = (top - bottom) or 1.0
    width, height = _CHART_W - _PAD_L - _PAD_R, _CHART_H - _PAD_T - _PAD_B
    step = width / max(len(balances) - 1, 1)

    def x(i: int) -> float:
        return _PAD_L + i * step

    def y(v: float) -> float:
        return _PAD_T + (top - v) / span * height

    parts = [f'<svg class="chart" viewBox="0 0 {_CHART_W} {_CHART_H}" role="img" '
             f'aria-label="Projected stock over {len(balances)} days">']
    parts.append(f'<line class="axis" x1="{_PAD_L}" y1="{y(0):.1f}" x2="{_CHART_W - _PAD_R}" y2="{y(0):.1f}"/>')
    for value in (bottom, (top + bottom) / 2, top):
        parts.append(f'<text class="tick" x="{_PAD_L - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    bar = max(step * 0.6, 2.0)
    for i, qty in enumerate(receipts):
        if qty > 0:
            parts.append(f'<rect class="receipt" x="{x(i) - bar / 2:.1f}" y="{y(qty):.1f}" width="{bar:.1f}" '
                         f'height="{max(y(0) - y(qty), 1):.1f}"><title>receipt {dates[i]}: {qty:g}</title></rect>')
    for name, level in (("reorder", reorder), ("target", target)):
        if level is not None:
            parts.append(f'<line class="{name}" x1="{_PAD_L}" y1="{y(level):.1f}" x2="{_CHART_W - _PAD_R}" '
                         f'y2="{y(level):.1f}"><title>{name} {level:g}</title></line>')
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(balances))
    parts.append(f'<polyline class="balance" points="{points}"/>')
    for i in range(0, len(dates), max(1, len(dates) // 7)):
        parts.append(f'<text class="tick" x="{x(i):.1f}" y="{_CHART_H - 12}" text-anchor="middle">'
                     f'{dates[i]:%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _page(request: Request, template: str, **context: Any) -> Template:
    return page(template, request, flash=request.query_params.get("flash"), **context)


@get("/", sync_to_thread=True, name="portal:inventory")
def inventory_page(request: Request, principal: NamedDependency[Principal]) -> Template:
    scope = scope_partner(principal)
    query = grid_query(request, scope)
    with _runtime(request).engine.connect() as conn:
        data = views.grid(conn, query, scope)
        summary = views.supplier_summary(conn, scope)
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "sort", "desc")}
    return _page(request, "portal/inventory.html", data=data, summary=summary, query=query, params=params,
                 exceptions=views.EXCEPTIONS, urlencode=urlencode,
                 export=f"/portal/export.csv?{urlencode(params)}")


@get("/export.csv", sync_to_thread=True, name="portal:export")
def export_page(request: Request, principal: NamedDependency[Principal]) -> Stream:
    scope = scope_partner(principal)
    query = grid_query(request, scope)
    engine = _runtime(request).engine

    def chunks():
        with engine.connect() as conn:
            yield from (chunk.encode("utf-8") for chunk in views.export_csv(conn, query, scope))

    return Stream(chunks(), media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": 'attachment; filename="inventory.csv"'})


@get("/items/{item:str}/{location:str}", sync_to_thread=True, name="portal:item")
def item_page(request: Request, principal: NamedDependency[Principal], item: FromPath[str], location: FromPath[str]) -> Template:
    scope = scope_partner(principal)
    with _runtime(request).engine.connect() as conn:
        try:
            detail = views.item_location_detail(conn, item, location, scope, _now(request).date())
        except InventoryNotFound:
            return page("portal/missing.html", request, status_code=404, what=f"{item} at {location}")
    levels = detail["levels"] or {}
    chart = projection_svg(detail["projection"], levels.get("reorder_point"), levels.get("target"))
    return _page(request, "portal/detail.html", d=detail, chart=chart)


@get("/documents/{document_id:int}", sync_to_thread=True, name="portal:document")
def document_page(request: Request, principal: NamedDependency[Principal], document_id: FromPath[int]) -> Template:
    with _runtime(request).engine.connect() as conn:
        try:
            doc = views.document_view(conn, document_id, scope_partner(principal))
        except InventoryNotFound:
            return page("portal/missing.html", request, status_code=404, what=f"document {document_id}")
    return _page(request, "portal/document.html", doc=doc)


def _orders(conn, proposals: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [p["message_id"] for p in proposals if p.get("message_id")]
    if not ids:
        return {}
    m = t.messages
    children = {}
    for row in conn.execute(select(m.c.id, m.c.parent_id, m.c.document_kind, m.c.status)
                            .where((m.c.id.in_(ids)) | (m.c.parent_id.in_(ids)))):
        if row.parent_id in ids and row.document_kind not in ("997", "999", "TA1"):
            children[row.parent_id] = row
    return {i: children.get(i) for i in ids}


@get("/proposals", sync_to_thread=True, name="portal:proposals")
def proposals_page(request: Request, principal: NamedDependency[Principal]) -> Template:
    scope = scope_partner(principal)
    params = request.query_params
    state = params.get("state") or "open"
    with _runtime(request).engine.connect() as conn:
        data = views.list_proposals(conn, scope, state=None if state == "all" else state,
                                    item=params.get("item") or None, location=params.get("location") or None,
                                    page=int(params["page"]) if params.get("page", "").isdigit() else 1)
        orders = _orders(conn, data["items"])
    return _page(request, "portal/proposals.html", data=data, state=state, states=(*views.PROPOSAL_STATES, "all"),
                 orders=orders, urlencode=urlencode)


def _back(request: Request, flash: str) -> Redirect:
    target = request.headers.get("referer") or "/portal/proposals"
    path = target.split("://", 1)[-1]
    path = "/" + path.split("/", 1)[1] if "/" in path else "/portal/proposals"
    if not path.startswith("/portal"):
        path = "/portal/proposals"
    base = path.split("?", 1)[0]
    return Redirect(f"{base}?{urlencode({'flash': flash[:300]})}", status_code=303)


@post("/proposals/{proposal_id:int}/{action:str}", sync_to_thread=True, name="portal:decide",
      guards=[require_roles("supplier", "admin")])
def decide(request: Request, principal: NamedDependency[Principal], proposal_id: FromPath[int], action: FromPath[str],
           data: URLEncodedBody[dict[str, Any]]) -> Redirect:
    scope = scope_partner(principal)
    runtime, now = _runtime(request), _now(request)
    quantity = (data.get("quantity") or "").strip() or None
    try:
        if action == "approve":
            result = service.approve_proposal(runtime, proposal_id, scope=scope, actor=principal.actor,
                                              quantity=quantity, now=now)
            return _back(request, f"Approved: order {result['po_number']} sent to the customer")
        with runtime.engine.begin() as conn:
            if action == "reject":
                service.reject_proposal(conn, proposal_id, scope=scope, actor=principal.actor, now=now)
                return _back(request, f"Proposal {proposal_id} rejected")
            if action == "edit" and quantity is not None:
                service.edit_proposal(conn, proposal_id, quantity, scope=scope, actor=principal.actor, now=now)
                return _back(request, f"Proposal {proposal_id}: quantity {quantity}")
    except InventoryNotFound:
        raise
    except CrossdockError as exc:
        return _back(request, f"{exc.code}: {exc.message}")
    raise InventoryNotFound(f"no action {action}", code="NOT_FOUND")


def portal_router() -> Router:
    """The portal's pages under ``/portal`` (suppliers; ops and admins see every supplier)."""
    return Router(path="/portal", guards=[require_roles("supplier", "ops", "admin")], route_handlers=[
        inventory_page, export_page, item_page, document_page, proposals_page, decide], include_in_schema=False)
