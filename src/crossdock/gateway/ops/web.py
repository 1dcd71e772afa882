"""The ops console at ``/ops``: server-rendered pages (Jinja, autoescaped), forms for actions.

Controllers are thin: read the request, call one service of :mod:`crossdock.gateway.ops`, render
in the shared layout (:func:`crossdock.gateway.web.page`).
Every handler sits behind the identity guard ``require_roles("ops")``; every form post is an action that leaves
a note and, for replays, an audit row.

=================================  ======  ================================================
path                               method  what
=================================  ======  ================================================
``/ops``                           GET     flow overview (charts, status counts, partners)
``/ops/messages``                  GET     search (partner, direction, status, type, dates,
                                           ISA13/GS06/ST02, PO/ASN/invoice/BOL)
``/ops/messages/{id}``             GET     detail
``/ops/messages/replay``           POST    replay the ticked messages (``ids``)
``/ops/messages/{id}/replay``      POST    replay one
``/ops/messages/{id}/retry``       POST    retry an outbound delivery
``/ops/messages/{id}/resolve``     POST    mark resolved with a comment
``/ops/acks``                      GET     overdue and rejected acknowledgements
``/ops/partners``                  GET     partner scorecards
``/ops/alerts``                    GET     rules and recent firings
``/ops/alerts/rules``              POST    add a rule
=================================  ======  ================================================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from crossdock.gateway.auth.guards import require_roles
from crossdock.gateway.auth.principal import Principal
from crossdock.gateway.ops import actions
from crossdock.gateway.ops.acks import overdue_acks, rejected_acks
from crossdock.gateway.ops.alerts import RULE_KINDS, AlertRuleInvalid, create_rule, list_rules, recent_firings
from crossdock.gateway.ops.charts import bar_chart, sparkline
from crossdock.gateway.ops.detail import message_view, partner_codes
from crossdock.gateway.ops.overview import overview
from crossdock.gateway.ops.scorecard import scorecards
from crossdock.gateway.ops.search import CONTROL_KINDS, KEY_KINDS, criteria_from_query, search_messages
from crossdock.gateway.queries import MessageNotFound
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.web import page
from crossdock.schemas.errors import CrossdockError

__all__ = ["ops_router", "template_helpers"]

STATUSES = ("received", "processing", "replaying", "retrying", "accepted", "partially_accepted", "rejected",
            "duplicate", "failed", "dead", "queued", "delivered", "stored")
DOCUMENT_TYPES = ("850", "855", "856", "810", "846", "852", "830", "860", "997", "999", "TA1")
FormData = URLEncodedBody[dict[str, Any]]
SEARCH_FIELDS = ("key", "key_kind", "control", "control_kind", "partner", "direction", "status", "document_type",
                 "from", "to")


def template_helpers() -> dict[str, Any]:
    """Functions the console templates call (formatting, server-side SVG charts)."""
    return {"bar_chart": bar_chart, "sparkline": sparkline, "urlencode": urlencode, "when": _when,
            "pct": _pct, "secs": _secs}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _secs(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def _when(moment: datetime | None) -> str:
    return "–" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(_runtime(request).clock(), UTC)


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    return page(template, request, status_code=status_code, now=_now(request),
                flash=request.query_params.get("flash"), **request.app.state.ops_helpers, **context)


def _back(path: str, flash: str) -> Redirect:
    joiner = "&" if "?" in path else "?"
    return Redirect(f"{path}{joiner}{urlencode({'flash': flash[:300]})}", status_code=303)


@get("/", sync_to_thread=True, name="ops:overview")
def overview_page(request: Request, hours: FromQuery[int] = 24) -> Template:
    with _runtime(request).engine.connect() as conn:
        data = overview(conn, _now(request), hours=max(1, min(hours, 24 * 14)))
    return _page(request, "ops/overview.html", data=data, hours=hours)


@get("/messages", sync_to_thread=True, name="ops:search")
def search_page(request: Request) -> Template:
    runtime = _runtime(request)
    params = dict(request.query_params)
    with runtime.engine.begin() as conn:
        codes = partner_codes(conn)
        results, error = None, None
        try:
            criteria = criteria_from_query(params, {code: pid for pid, code in codes.items()})
            results = search_messages(conn, criteria, timeout_ms=runtime.settings.ops.search_timeout_ms)
        except CrossdockError as exc:  # SearchInvalid, SearchTimeout: shown above the form
            error = exc
    return _page(request, "ops/search.html", results=results, error=error, params=params,
                 partners=sorted(codes.values()), codes=codes, statuses=STATUSES, document_types=DOCUMENT_TYPES,
                 key_kinds=KEY_KINDS, control_kinds=CONTROL_KINDS, status_code=200 if error is None else 400)


@get("/messages/{message_id:str}", sync_to_thread=True, name="ops:detail")
def detail_page(request: Request, message_id: FromPath[str]) -> Template:
    with _runtime(request).engine.connect() as conn:
        try:
            view = message_view(conn, message_id)
        except MessageNotFound:
            return _page(request, "ops/missing.html", status_code=404, message_id=message_id)
    return _page(request, "ops/detail.html", view=view, m=view.message)


@post("/messages/replay", sync_to_thread=True, name="ops:replay-many")
def replay_many(request: Request, principal: NamedDependency[Principal], data: FormData) -> Redirect:
    ids = data.get("ids") or []
    ids = [ids] if isinstance(ids, str) else list(ids)
    try:
        results = actions.replay_messages(_runtime(request), ids, actor=principal.actor, comment=data.get("comment"))
    except CrossdockError as exc:
        return _back(_search_path(data), exc.message)
    done = sum(1 for r in results if r.error is None)
    return _back(_search_path(data), f"{done} of {len(results)} message(s) queued for replay")


def _detail_path(message_id: str) -> str:
    return f"/ops/messages/{quote(message_id, safe='')}"


def _search_path(data: dict[str, Any]) -> str:
    """Back to the search the operator came from (its filters, never another site)."""
    params = {k: v for k, v in parse_qsl(str(data.get("search") or "")) if k in SEARCH_FIELDS}
    return f"/ops/messages?{urlencode(params)}" if params else "/ops/messages"


@post("/messages/{message_id:str}/replay", sync_to_thread=True, name="ops:replay")
def replay_one(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str],
               data: FormData) -> Redirect:
    results = actions.replay_messages(_runtime(request), [message_id], actor=principal.actor,
                                      comment=data.get("comment"))
    result = results[0] if results else actions.ActionResult(message_id, "not_found", "MESSAGE_NOT_FOUND")
    return _back(_detail_path(message_id), f"replay: {result.error or result.status}")


@post("/messages/{message_id:str}/retry", sync_to_thread=True, name="ops:retry")
def retry_one(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str],
              data: FormData) -> Redirect:
    try:
        result = actions.retry_delivery(_runtime(request), message_id, actor=principal.actor,
                                        comment=data.get("comment"))
    except CrossdockError as exc:
        return _back(_detail_path(message_id), f"{exc.code}: {exc.message}")
    return _back(_detail_path(message_id), f"delivery queued again: {result.status}")


@post("/messages/{message_id:str}/resolve", sync_to_thread=True, name="ops:resolve")
def resolve_one(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str],
                data: FormData) -> Redirect:
    try:
        actions.resolve(_runtime(request), message_id, actor=principal.actor, comment=data.get("comment") or "")
    except CrossdockError as exc:
        return _back(_detail_path(message_id), f"{exc.code}: {exc.message}")
    return _back(_detail_path(message_id), "marked resolved")


@get("/acks", sync_to_thread=True, name="ops:acks")
def acks_page(request: Request) -> Template:
    now = _now(request)
    with _runtime(request).engine.connect() as conn:
        overdue = overdue_acks(conn, now)
        rejected = rejected_acks(conn, since=now - timedelta(days=30))
    return _page(request, "ops/acks.html", overdue=overdue, rejected=rejected)


@get("/partners", sync_to_thread=True, name="ops:partners")
def partners_page(request: Request, days: FromQuery[int] = 30) -> Template:
    now = _now(request)
    days = max(1, min(days, 365))
    with _runtime(request).engine.connect() as conn:
        cards = scorecards(conn, since=now - timedelta(days=days), until=now + timedelta(seconds=1), now=now)
    return _page(request, "ops/partners.html", cards=cards, days=days)


@get("/alerts", sync_to_thread=True, name="ops:alerts")
def alerts_page(request: Request) -> Template:
    with _runtime(request).engine.connect() as conn:
        rules = list_rules(conn)
        firings = recent_firings(conn)
        codes = partner_codes(conn)
    return _page(request, "ops/alerts.html", rules=rules, firings=firings, codes=codes, kinds=RULE_KINDS,
                 partners=sorted(codes.values()))


@post("/alerts/rules", sync_to_thread=True, name="ops:add-rule")
def add_rule(request: Request, data: FormData) -> Redirect:
    fields = {k: v for k, v in data.items() if k in ("name", "kind", "threshold", "window_s", "partner",
                                                     "webhook_url", "webhook_secret") and v not in ("", None)}
    emails = [e.strip() for e in str(data.get("email_to") or "").split(",") if e.strip()]
    runtime = _runtime(request)
    try:
        with runtime.engine.begin() as conn:
            create_rule(conn, {**fields, "email_to": emails}, now=_now(request))
    except AlertRuleInvalid as exc:
        return _back("/ops/alerts", f"{exc.code}: {exc.message}")
    return _back("/ops/alerts", f"rule {fields.get('name')} added")


def ops_router() -> Router:
    """The console's routes under ``/ops``, all behind the ops guard."""
    return Router(path="/ops", guards=[require_roles("ops")], route_handlers=[
        overview_page, search_page, detail_page, replay_many, replay_one, retry_one, resolve_one, acks_page,
        partners_page, alerts_page, add_rule], include_in_schema=False)

