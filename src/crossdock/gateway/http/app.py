"""The HTTP API (litestar): ingest, search, detail, raw bytes, replay, health.

Controllers are thin: parse the request, call one service (:mod:`..ingest`, :mod:`..queries`,
:mod:`..replay`), shape the answer. Who is calling, and what it may do, is decided in ONE place:
the guards of :mod:`crossdock.gateway.auth` (app-level :func:`authenticated`, ``require_roles`` per
route) and the ``principal`` dependency; queries are scoped with ``Principal.scope``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import anyio
import structlog
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import InternalServerException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter
from sqlalchemy import text

from crossdock import __version__
from crossdock.gateway.auth import (
    SESSION_COOKIE,
    Principal,
    app_dependencies,
    authenticated,
    build_auth,
    client_address,
    require_roles,
)
from crossdock.gateway.http.errors import (
    BodyTooLarge,
    RecipientForbidden,
    UploadIncomplete,
    error_responses,
    exception_handlers,
)
from crossdock.gateway.ingest import GroupCommit, IngestRequest, IngestResult, ingest
from crossdock.gateway.inventory.plugin import InventoryPlugin
from crossdock.gateway.ops.plugin import OpsPlugin
from crossdock.gateway.http.identity import identity_router
from crossdock.gateway.partners import Partner, partner_by_code
from crossdock.gateway.queries import MessageFilter, list_messages, message_detail, message_events, message_raw
from crossdock.gateway.replay import replay
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store.engine import is_postgres
from crossdock.gateway.web import static_router, template_config
from crossdock.gateway.web.pages import home, login_form, login_submit, logout
from crossdock.schemas.errors import EncodingUnsupported

__all__ = ["create_app", "Accepted", "MessagePage"]

log = structlog.get_logger("crossdock.http")
API = "/api/v1"
CHUNK_LIMIT_FLOOR = 1024 * 1024
#: messages: partners see their own, ops (and admins) every tenant's
MESSAGE_READERS = require_roles("partner", "ops")


@dataclass
class Accepted:
    """Answer to an accepted message (202) or to a retried ``Idempotency-Key`` (200)."""

    id: str
    status: str
    links: dict[str, str] = field(default_factory=dict)


@dataclass
class MessageSummary:
    id: str
    direction: str
    partner_id: int | None
    recipient_id: int | None
    format: str
    document_kind: str | None
    status: str
    error_code: str | None
    size: int
    received_at: datetime
    test: bool


@dataclass
class MessagePage:
    items: list[MessageSummary]
    next_cursor: str | None


@dataclass
class Health:
    status: str
    checks: dict[str, str] = field(default_factory=dict)


async def _read_body(request: Request, runtime: Runtime) -> tuple[bytes, str]:
    """Stream the body, counting and hashing while streaming; undo gzip within size and ratio limits.

    Returns:
        The (decompressed) body and its sha256 hex digest.
    """
    limits = runtime.settings.http
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise EncodingUnsupported(f"Content-Encoding {encoding} is not supported (gzip is)",
                                  code="CONTENT_ENCODING_UNSUPPORTED")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    declared = request.headers.get("content-length", "")
    if inflater is None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise BodyTooLarge(f"body exceeds {limits.max_body_bytes} bytes")
    parts: list[bytes] = []
    digest = hashlib.sha256()
    size = compressed = 0
    try:
        async for chunk in request.stream():
            if inflater is None:
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise BodyTooLarge(f"body exceeds {limits.max_body_bytes} bytes")
                parts.append(chunk)
                digest.update(chunk)
                continue
            compressed += len(chunk)
            start = len(parts)
            size = _inflate(inflater, chunk, parts, size, compressed, limits)
            for part in parts[start:]:
                digest.update(part)
    except InternalServerException as exc:
        raise UploadIncomplete("the client disconnected before the body was complete") from exc
    except zlib.error as exc:
        raise UploadIncomplete("the gzip body is corrupt", code="GZIP_CORRUPT") from exc
    if inflater is not None and not inflater.eof and compressed:
        raise UploadIncomplete("the gzip body is truncated", code="GZIP_CORRUPT")
    return b"".join(parts), digest.hexdigest()


def _inflate(inflater, chunk: bytes, parts: list[bytes], size: int, compressed: int, limits) -> int:
    data = chunk
    while data:
        room = limits.max_decompressed_bytes - size + 1
        out = inflater.decompress(data, max(room, 1))
        size += len(out)
        if size > limits.max_decompressed_bytes:
            raise BodyTooLarge(f"decompressed body exceeds {limits.max_decompressed_bytes} bytes",
                               code="GZIP_TOO_LARGE")
        if size > CHUNK_LIMIT_FLOOR and size > compressed * limits.max_compression_ratio:
            raise BodyTooLarge(f"gzip ratio exceeds {limits.max_compression_ratio}:1", code="GZIP_RATIO")
        parts.append(out)
        data = inflater.unconsumed_tail
    return size


def _links(message_id: str) -> dict[str, str]:
    base = f"{API}/messages/{message_id}"
    return {"self": base, "raw": f"{base}/raw", "events": f"{base}/events"}


@post(f"{API}/messages", status_code=202, summary="Submit a message (X12, XML or JSON)",
      description="Stores the raw bytes durably and queues processing; answers only after commit. "
                  "Headers: X-Api-Key (required), Content-Type (checked against the content), "
                  "Content-Encoding: gzip (optional), Idempotency-Key (a retry returns the original "
                  "with 200), X-Crossdock-Recipient (host only: partner code to send documents to), "
                  "X-Crossdock-Filename (metadata).",
      responses={200: ResponseSpec(data_container=Accepted, description="Idempotency-Key retry: the original"),
                 **error_responses(400, 401, 403, 413, 415, 503)},
      request_max_body_size=None, guards=[require_roles("partner")])
async def submit(request: Request, principal: NamedDependency[Principal]) -> Response[Accepted]:
    runtime: Runtime = request.app.state.runtime
    body, digest = await _read_body(request, runtime)
    recipient = await _recipient(request, runtime, principal)
    ingest_request = IngestRequest(
        body=body, channel="http", partner=principal.partner, recipient=recipient,
        content_type=request.headers.get("content-type"), filename=request.headers.get("x-crossdock-filename"),
        idempotency_key=request.headers.get("idempotency-key"), sha256=digest)
    # One hop to a thread for the commit and the enqueue that follows it.
    result = await _on_ingest_thread(
        request, partial(_ingest_and_dispatch, runtime, ingest_request, request.app.state.group_commit))
    if result.rejection is not None:
        result.rejection.message_id = result.message_id  # type: ignore[attr-defined]
        raise result.rejection
    return Response(Accepted(result.message_id, result.status, _links(result.message_id)),
                    status_code=202 if result.created else 200)


def _on_ingest_thread(request: Request, work: Callable[[], IngestResult]) -> Awaitable[IngestResult]:
    """Run ``work`` on the app's ingest threads, in a copy of the request's context.

    A plain executor rather than ``anyio.to_thread``: its hop costs the event loop a fraction of
    anyio's (limiter, cancel scope, worker hand-off), and every POST makes one.
    """
    threads = _ingest_threads(request.app.state)
    return asyncio.get_running_loop().run_in_executor(threads, contextvars.copy_context().run, work)


def _ingest_threads(state: State) -> ThreadPoolExecutor:
    """Threads ingesting at once: as many as the engine has pooled connections (made on first use)."""
    if "ingest_threads" not in state:
        pool = state.runtime.engine.pool
        state.ingest_threads = ThreadPoolExecutor(pool.size() if hasattr(pool, "size") else 8,
                                                  thread_name_prefix="crossdock-ingest")
    return state.ingest_threads


def _stop_ingest_threads(app: Litestar) -> None:
    """Shutdown hook: let ingests in flight finish (a restarted app makes new threads)."""
    threads = app.state.pop("ingest_threads", None)
    if threads is not None:
        threads.shutdown(wait=True)


def _ingest_and_dispatch(runtime: Runtime, request: IngestRequest, group: GroupCommit | None) -> IngestResult:
    result = group.ingest(request) if group is not None else ingest(runtime.engine, request)
    if result.work_id is not None:
        runtime.dispatch(result.work_id)  # only after the commit (the sweeper covers a lost enqueue)
    return result


async def _recipient(request: Request, runtime: Runtime, principal: Principal) -> Partner | None:
    code = request.headers.get("x-crossdock-recipient")
    if not code:
        return None
    if "host" not in principal.roles:
        raise RecipientForbidden("only the host may address documents to a partner")

    def find() -> Partner | None:
        with runtime.engine.connect() as conn:
            return partner_by_code(conn, code)

    partner = await anyio.to_thread.run_sync(find)
    if partner is None:
        raise RecipientForbidden(f"no partner {code}", code="RECIPIENT_UNKNOWN")
    return partner


@get(f"{API}/messages", sync_to_thread=True, summary="Search messages (newest first, cursor pagination)",
     responses=error_responses(400, 401, 403), guards=[MESSAGE_READERS])
def search(request: Request, principal: NamedDependency[Principal],
           partner: int | None = Parameter(default=None, description="sender or recipient partner id"),
           direction: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
           document_type: str | None = Parameter(default=None, description="canonical type or X12 set id"),
           received_from: FromQuery[datetime | None] = None, received_to: FromQuery[datetime | None] = None,
           control_number: str | None = Parameter(default=None, description="ISA13, GS06 or ST02"),
           key: str | None = Parameter(default=None, description="business key, e.g. PO number or po_number=X"),
           cursor: FromQuery[str | None] = None, limit: int = Parameter(default=50, ge=1, le=200)) -> MessagePage:
    scope = principal.scope
    criteria = MessageFilter(scope if scope is not None else partner, direction, status, document_type,
                             received_from, received_to, control_number, key, cursor, limit)
    with request.app.state.runtime.engine.connect() as conn:
        page = list_messages(conn, criteria)
    return MessagePage([MessageSummary(**item) for item in page["items"]], page["next_cursor"])


@get(f"{API}/messages/{{message_id:str}}", sync_to_thread=True,
     summary="A message: status, envelope, documents, acks, outbound, deliveries, timeline",
     responses=error_responses(401, 403, 404), guards=[MESSAGE_READERS])
def detail(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str]) -> dict[str, Any]:
    with request.app.state.runtime.engine.connect() as conn:
        return message_detail(conn, message_id, principal.scope)


@get(f"{API}/messages/{{message_id:str}}/events", sync_to_thread=True, summary="A message's timeline",
     responses=error_responses(401, 403, 404), guards=[MESSAGE_READERS])
def events(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str]) -> list[dict[str, Any]]:
    with request.app.state.runtime.engine.connect() as conn:
        message_raw(conn, message_id, principal.scope)  # visibility check
        return message_events(conn, message_id)


@get(f"{API}/messages/{{message_id:str}}/raw", sync_to_thread=True, summary="The raw bytes, as received",
     responses=error_responses(401, 403, 404), media_type=MediaType.TEXT, guards=[MESSAGE_READERS])
def raw(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str]) -> Response[bytes]:
    with request.app.state.runtime.engine.connect() as conn:
        data, media_type = message_raw(conn, message_id, principal.scope)
    return Response(data, media_type=media_type)


@post(f"{API}/messages/{{message_id:str}}/replay", status_code=202, sync_to_thread=True,
      summary="Re-run a message from its stored bytes (effects stay exactly-once)",
      responses=error_responses(401, 403, 404), guards=[MESSAGE_READERS])
def replay_message(request: Request, principal: NamedDependency[Principal], message_id: FromPath[str]) -> Accepted:
    runtime: Runtime = request.app.state.runtime
    status = replay(runtime, message_id, principal.scope)
    request.app.state.auth.audit("replay", actor=principal.actor, partner_id=principal.partner_id,
                                 message_id=message_id, client=client_address(request), detail={"status": status})
    return Accepted(message_id, status, _links(message_id))


@get("/healthz", summary="Liveness", include_in_schema=True, opt={"public": True}, security=[{}])
async def healthz() -> Health:
    return Health("ok")


@get("/readyz", sync_to_thread=True, summary="Readiness: database and broker reachable",
     responses=error_responses(503), opt={"public": True}, security=[{}])
def readyz(request: Request) -> Response[Health]:
    runtime: Runtime = request.app.state.runtime
    checks = {"database": "ok", "broker": "ok"}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
        checks["database"] = type(exc).__name__
    probe = request.app.state.broker_probe
    if probe is not None:
        checks["broker"] = probe()
    ready = all(v == "ok" for v in checks.values())
    return Response(Health("ok" if ready else "unavailable", checks), status_code=200 if ready else 503)


def _openapi() -> OpenAPIConfig:
    """OpenAPI at ``/schema`` with both security schemes: partner systems and people."""
    schemes = {
        "ApiKey": SecurityScheme(type="apiKey", name="X-Api-Key", security_scheme_in="header",
                                 description="A partner's API key (optionally with X-Crossdock-Timestamp and "
                                             "X-Crossdock-Signature: v1=HMAC-SHA256(secret, timestamp.body))"),
        "Session": SecurityScheme(type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie",
                                  description="A person's login session (POST /login); unsafe methods also "
                                              "need X-CSRF-Token"),
    }
    return OpenAPIConfig(title="Crossdock", version=__version__, path="/schema",
                         components=Components(security_schemes=schemes),
                         security=[{"ApiKey": []}, {"Session": []}])


def create_app(runtime: Runtime, *, broker_probe=None, on_startup=(), on_shutdown=()) -> Litestar:
    """Build the ASGI app around a runtime.

    Args:
        runtime: the process runtime (engine, settings, dispatch).
        broker_probe: callable returning ``"ok"`` or an error name, for ``/readyz``.
        on_startup: callables run when the server starts (embedded workers, inbox, sweeper).
        on_shutdown: callables run when it stops.

    Returns:
        The litestar app; OpenAPI at ``/schema``.
    """
    app = Litestar(
        route_handlers=[submit, search, detail, events, raw, replay_message, healthz, readyz,
                        identity_router(), login_form, login_submit, logout, home, static_router()],
        guards=[authenticated],
        dependencies=app_dependencies(),
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        plugins=[OpsPlugin(runtime), InventoryPlugin()],  # /ops console, /metrics, alerts; /portal, inventory API
        openapi_config=_openapi(),
        template_config=template_config(),
        on_startup=list(on_startup),
        on_shutdown=[_stop_ingest_threads, *on_shutdown],  # ingests in flight finish before the hub stops
        request_max_body_size=runtime.settings.http.max_body_bytes,
        debug=False,
    )
    app.state.runtime = runtime
    app.state.auth = build_auth(runtime.engine, runtime.settings)
    app.state.broker_probe = broker_probe
    # SQLite fsyncs every commit, one writer at a time: concurrent ingests share a commit there.
    # (PostgreSQL commits concurrently; its ingest is one statement and one commit.)
    app.state.group_commit = None if is_postgres(runtime.engine) else GroupCommit(runtime.engine)
    return app
