"""The HTTP API (litestar): ingest, search, detail, raw bytes, replay, health.

Controllers are thin: parse the request, call one service (:mod:`..ingest`, :mod:`..queries`,
:mod:`..replay`), shape the answer. Who is calling is decided in ONE place, :func:`caller`.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import anyio
import structlog
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import InternalServerException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.params import Parameter
from sqlalchemy import text

from crossdock import __version__
from crossdock.gateway.http.errors import (
    BodyTooLarge,
    NotAuthenticated,
    RecipientForbidden,
    UploadIncomplete,
    error_responses,
    exception_handlers,
)
from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.partners import Partner, partner_by_api_key, partner_by_code
from crossdock.gateway.queries import MessageFilter, list_messages, message_detail, message_events, message_raw
from crossdock.gateway.replay import replay
from crossdock.gateway.runtime import Runtime
from crossdock.schemas.errors import EncodingUnsupported

__all__ = ["create_app", "Accepted", "MessagePage"]

log = structlog.get_logger("crossdock.http")
API = "/api/v1"
CHUNK_LIMIT_FLOOR = 1024 * 1024
KEY_CACHE_S = 30.0


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


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: a partner, or our host (sees everything)."""

    partner: Partner

    @property
    def scope(self) -> int | None:
        return None if self.partner.kind == "host" else self.partner.id


class _KeyCache:
    """API key → partner for a few seconds, so ingest does not pay a lookup per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Partner | None]] = {}

    def lookup(self, runtime: Runtime, key: str) -> Partner | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with runtime.engine.connect() as conn:
            partner = partner_by_api_key(conn, key)
        with self._lock:
            self._entries[key] = (now + KEY_CACHE_S, partner)
        return partner


async def caller(request: Request) -> Caller:
    """THE authentication point (the identity issue replaces its inside, not its callers).

    Raises:
        NotAuthenticated: no ``X-Api-Key`` (or ``Authorization: Bearer``) or an unknown one.
    """
    key = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not key:
        raise NotAuthenticated("send the partner's API key in X-Api-Key")
    runtime: Runtime = request.app.state.runtime
    partner = await anyio.to_thread.run_sync(request.app.state.key_cache.lookup, runtime, key)
    if partner is None:
        raise NotAuthenticated("unknown API key", code="API_KEY_UNKNOWN")
    return Caller(partner)


async def _read_body(request: Request, runtime: Runtime) -> bytes:
    """Stream the body, counting while streaming; undo gzip within size and ratio limits."""
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
    size = compressed = 0
    try:
        async for chunk in request.stream():
            if inflater is None:
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise BodyTooLarge(f"body exceeds {limits.max_body_bytes} bytes")
                parts.append(chunk)
                continue
            compressed += len(chunk)
            size = _inflate(inflater, chunk, parts, size, compressed, limits)
    except InternalServerException as exc:
        raise UploadIncomplete("the client disconnected before the body was complete") from exc
    except zlib.error as exc:
        raise UploadIncomplete("the gzip body is corrupt", code="GZIP_CORRUPT") from exc
    if inflater is not None and not inflater.eof and compressed:
        raise UploadIncomplete("the gzip body is truncated", code="GZIP_CORRUPT")
    return b"".join(parts)


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
      request_max_body_size=None)
async def submit(request: Request, who: Caller) -> Response[Accepted]:
    runtime: Runtime = request.app.state.runtime
    body = await _read_body(request, runtime)
    recipient = await _recipient(request, runtime, who)
    ingest_request = IngestRequest(
        body=body, channel="http", partner=who.partner, recipient=recipient,
        content_type=request.headers.get("content-type"), filename=request.headers.get("x-crossdock-filename"),
        idempotency_key=request.headers.get("idempotency-key"))
    result = await anyio.to_thread.run_sync(partial(ingest, runtime.engine, ingest_request))
    if result.rejection is not None:
        result.rejection.message_id = result.message_id  # type: ignore[attr-defined]
        raise result.rejection
    if result.work_id is not None:
        await anyio.to_thread.run_sync(runtime.dispatch, result.work_id)
    return Response(Accepted(result.message_id, result.status, _links(result.message_id)),
                    status_code=202 if result.created else 200)


async def _recipient(request: Request, runtime: Runtime, who: Caller) -> Partner | None:
    code = request.headers.get("x-crossdock-recipient")
    if not code:
        return None
    if who.partner.kind != "host":
        raise RecipientForbidden("only the host may address documents to a partner")

    def find() -> Partner | None:
        with runtime.engine.connect() as conn:
            return partner_by_code(conn, code)

    partner = await anyio.to_thread.run_sync(find)
    if partner is None:
        raise RecipientForbidden(f"no partner {code}", code="RECIPIENT_UNKNOWN")
    return partner


@get(f"{API}/messages", sync_to_thread=True, summary="Search messages (newest first, cursor pagination)",
     responses=error_responses(400, 401))
def search(request: Request, who: Caller,
           partner: int | None = Parameter(default=None, description="sender or recipient partner id"),
           direction: str | None = None, status: str | None = None,
           document_type: str | None = Parameter(default=None, description="canonical type or X12 set id"),
           received_from: datetime | None = None, received_to: datetime | None = None,
           control_number: str | None = Parameter(default=None, description="ISA13, GS06 or ST02"),
           key: str | None = Parameter(default=None, description="business key, e.g. PO number or po_number=X"),
           cursor: str | None = None, limit: int = Parameter(default=50, ge=1, le=200)) -> MessagePage:
    criteria = MessageFilter(who.scope if who.scope is not None else partner, direction, status, document_type,
                             received_from, received_to, control_number, key, cursor, limit)
    with request.app.state.runtime.engine.connect() as conn:
        page = list_messages(conn, criteria)
    return MessagePage([MessageSummary(**item) for item in page["items"]], page["next_cursor"])


@get(f"{API}/messages/{{message_id:str}}", sync_to_thread=True,
     summary="A message: status, envelope, documents, acks, outbound, deliveries, timeline",
     responses=error_responses(401, 404))
def detail(request: Request, who: Caller, message_id: str) -> dict[str, Any]:
    with request.app.state.runtime.engine.connect() as conn:
        return message_detail(conn, message_id, who.scope)


@get(f"{API}/messages/{{message_id:str}}/events", sync_to_thread=True, summary="A message's timeline",
     responses=error_responses(401, 404))
def events(request: Request, who: Caller, message_id: str) -> list[dict[str, Any]]:
    with request.app.state.runtime.engine.connect() as conn:
        message_raw(conn, message_id, who.scope)  # visibility check
        return message_events(conn, message_id)


@get(f"{API}/messages/{{message_id:str}}/raw", sync_to_thread=True, summary="The raw bytes, as received",
     responses=error_responses(401, 404), media_type=MediaType.TEXT)
def raw(request: Request, who: Caller, message_id: str) -> Response[bytes]:
    with request.app.state.runtime.engine.connect() as conn:
        data, media_type = message_raw(conn, message_id, who.scope)
    return Response(data, media_type=media_type)


@post(f"{API}/messages/{{message_id:str}}/replay", status_code=202, sync_to_thread=True,
      summary="Re-run a message from its stored bytes (effects stay exactly-once)",
      responses=error_responses(401, 404))
def replay_message(request: Request, who: Caller, message_id: str) -> Accepted:
    runtime: Runtime = request.app.state.runtime
    status = replay(runtime, message_id, who.scope)
    return Accepted(message_id, status, _links(message_id))


@get("/healthz", summary="Liveness", include_in_schema=True)
async def healthz() -> Health:
    return Health("ok")


@get("/readyz", sync_to_thread=True, summary="Readiness: database and broker reachable",
     responses=error_responses(503))
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
        route_handlers=[submit, search, detail, events, raw, replay_message, healthz, readyz],
        dependencies={"who": Provide(caller)},
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(title="Crossdock", version=__version__, path="/schema"),
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        request_max_body_size=runtime.settings.http.max_body_bytes,
        debug=False,
    )
    app.state.runtime = runtime
    app.state.key_cache = _KeyCache()
    app.state.broker_probe = broker_probe
    return app
