"""THE place that decides who is calling and what it may do (litestar guards).

* :func:`authenticated` is an app-level guard: every route needs a principal unless its handler
  has ``opt={"public": True}`` (health, login, static files, the OpenAPI schema). It also
  applies the rate limit and, for cookie sessions, the CSRF check on unsafe methods.
* :func:`require_roles` guards a route, controller or router: ``guards=[require_roles("ops")]``.
* :func:`provide_principal` is the dependency handlers take (``principal: Principal``), and
  :func:`crossdock.gateway.auth.principal.scope_partner` limits their queries to the tenant.

Credentials, in order: ``X-Api-Key`` (or ``Authorization: Bearer``) for partner systems, then
the ``crossdock_session`` cookie for people. A signed request (``X-Crossdock-Signature``) is
verified against the key's signing secret over the raw body, read once here and kept for the
handler. Browsers asking for a page without a session are sent to ``/login``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import anyio
from litestar.connection import ASGIConnection, Request
from litestar.di import Provide
from litestar.exceptions import InternalServerException
from litestar.handlers.base import BaseRouteHandler

from crossdock.adapters.transports import verify_signature
from crossdock.gateway.auth.errors import (
    CsrfInvalid,
    Forbidden,
    LoginRequired,
    NotAuthenticated,
    PartnerSuspended,
    RateLimited,
)
from crossdock.gateway.auth.principal import Principal, roles_for_partner
from crossdock.gateway.auth.service import AuthService
from crossdock.gateway.auth.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE

__all__ = ["authenticate", "authenticated", "require_roles", "provide_principal", "app_dependencies",
           "client_address", "SIGNATURE_HEADER", "TIMESTAMP_HEADER"]

SIGNATURE_HEADER = "x-crossdock-signature"
TIMESTAMP_HEADER = "x-crossdock-timestamp"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STATE = "crossdock_principal"
_RATE_PERIOD_S = 60.0

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


def client_address(connection: ASGIConnection) -> str | None:
    """The peer address (a proxy's ``X-Forwarded-For`` is not trusted)."""
    return connection.client.host if connection.client else None


def _service(connection: ASGIConnection) -> AuthService:
    return connection.app.state.auth


async def authenticate(connection: ASGIConnection) -> Principal | None:
    """The caller, resolved once per request and kept in the request state.

    Returns:
        The principal, or None when the request carries no credentials.

    Raises:
        NotAuthenticated: an unknown or revoked key, a bad signature.
        PartnerSuspended: the key's partner is suspended.
    """
    state = connection.scope.setdefault("state", {})
    if _STATE in state:
        return state[_STATE]
    auth = _service(connection)
    key = connection.headers.get("x-api-key") or _bearer(connection)
    principal: Principal | None = None
    if key:
        principal = await _from_key(connection, auth, key)
    elif token := connection.cookies.get(SESSION_COOKIE):
        principal = await anyio.to_thread.run_sync(auth.session, token)
        if principal is not None and principal.partner is not None and principal.partner.status == "suspended":
            raise PartnerSuspended(f"partner {principal.partner.code} is suspended")
    state[_STATE] = principal
    return principal


def _bearer(connection: ASGIConnection) -> str:
    header = connection.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


async def _from_key(connection: ASGIConnection, auth: AuthService, key: str) -> Principal:
    cached, match = auth.cached_key(key)
    if not cached:
        match = await anyio.to_thread.run_sync(auth.key, key)
    if match is None:
        raise NotAuthenticated("unknown API key", code="API_KEY_UNKNOWN")
    if match.revoked:
        raise NotAuthenticated("this API key was revoked", code="API_KEY_REVOKED")
    if match.partner.status == "suspended":
        raise PartnerSuspended(f"partner {match.partner.code} is suspended")
    if match.require_signature or connection.headers.get(SIGNATURE_HEADER):
        await _check_signature(connection, auth, match.id, match.partner.id, match.signing_secret)
    return Principal("partner_key", roles_for_partner(match.partner), match.id, match.partner,
                     rate_limit_per_minute=match.partner.rate_limit_per_minute)


async def _check_signature(connection: ASGIConnection, auth: AuthService, key_id: str, partner_id: int,
                           secret: str | None) -> None:
    body = await _buffered_body(connection, auth.settings.http.max_body_bytes)
    ok = secret is not None and verify_signature(
        secret, connection.headers.get(TIMESTAMP_HEADER, ""), body, connection.headers.get(SIGNATURE_HEADER, ""),
        now=auth.clock(), tolerance_s=auth.settings.auth.signature_tolerance_s)
    if not ok:
        await anyio.to_thread.run_sync(lambda: auth.audit(
            "signature_invalid", actor=f"key:{key_id}", partner_id=partner_id, subject=key_id,
            client=client_address(connection)))
        raise NotAuthenticated("the request signature is missing, stale or wrong (X-Crossdock-Timestamp, "
                               "X-Crossdock-Signature: v1=HMAC-SHA256(secret, timestamp.body))",
                               code="SIGNATURE_INVALID")


async def _buffered_body(connection: ASGIConnection, limit: int) -> bytes:
    """Read the raw body once, capped, and keep it so the handler's ``stream()`` replays it."""
    from crossdock.gateway.http.errors import BodyTooLarge, UploadIncomplete

    if not isinstance(connection, Request):
        return b""
    declared = connection.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body exceeds {limit} bytes")
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in connection.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"body exceeds {limit} bytes")
            parts.append(chunk)
    except InternalServerException as exc:
        raise UploadIncomplete("the client disconnected before the body was complete") from exc
    body = b"".join(parts)
    # litestar's own cache: later body()/stream() calls return these bytes instead of reading again
    connection._body = connection._connection_state.body = body  # noqa: SLF001
    return body


def _public(connection: ASGIConnection, handler: BaseRouteHandler) -> bool:
    return bool(handler.opt.get("public")) or connection.url.path.startswith("/schema")


def _wants_page(connection: ASGIConnection) -> bool:
    return connection.scope.get("method") == "GET" and "text/html" in connection.headers.get("accept", "")


async def authenticated(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-level guard: a principal on every non-public route, within its rate, CSRF-checked.

    Raises:
        LoginRequired: a browser asked for a page without a session (answered by a redirect).
        NotAuthenticated: no credentials.
        RateLimited: over the principal's request rate (429, ``Retry-After``).
        CsrfInvalid: a cookie-authenticated unsafe request without the session's token.
    """
    if _public(connection, handler):
        return
    principal = await authenticate(connection)
    if principal is None:
        if _wants_page(connection):
            raise LoginRequired("log in to see this page")
        raise NotAuthenticated("send the partner's API key in X-Api-Key, or log in")
    await _rate_limit(connection, principal)
    if principal.kind == "user" and connection.scope.get("method", "GET") not in _SAFE_METHODS:
        await _check_csrf(connection, principal)


async def _rate_limit(connection: ASGIConnection, principal: Principal) -> None:
    auth = _service(connection)
    default = (auth.settings.auth.key_requests_per_minute if principal.kind == "partner_key"
               else auth.settings.auth.user_requests_per_minute)
    limit = principal.rate_limit_per_minute or default
    bucket = f"{principal.kind}:{principal.subject}"
    now = auth.clock()
    decision = auth.limiter.hit_local(bucket, limit, _RATE_PERIOD_S, now)
    if decision is None:  # Redis must count this one: off the event loop
        decision = await anyio.to_thread.run_sync(auth.limiter.hit, bucket, limit, _RATE_PERIOD_S, now)
    if decision.allowed:
        return
    if decision.first_refusal:
        await anyio.to_thread.run_sync(lambda: auth.audit(
            "rate_limited", actor=principal.actor, partner_id=principal.partner_id, subject=principal.subject,
            client=client_address(connection), detail={"limit_per_minute": limit}))
    raise RateLimited(f"more than {limit} requests per minute", decision.retry_after_s)


async def _check_csrf(connection: ASGIConnection, principal: Principal) -> None:
    sent = connection.headers.get(CSRF_HEADER, "")
    if not sent and isinstance(connection, Request):
        content_type = connection.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await connection.form()).get(CSRF_FIELD, "") or ""
    expected = principal.csrf_token or ""
    if not expected or not hmac.compare_digest(str(sent).encode(), expected.encode()):
        auth = _service(connection)
        await anyio.to_thread.run_sync(lambda: auth.audit(
            "csrf_rejected", actor=principal.actor, partner_id=principal.partner_id, subject=principal.subject,
            client=client_address(connection), detail={"path": connection.url.path[:120]}))
        raise CsrfInvalid("missing or wrong CSRF token (X-CSRF-Token header or _csrf form field)")


def require_roles(*roles: str) -> Guard:
    """A guard admitting principals holding any of ``roles``.

    Args:
        roles: e.g. ``"ops"``, ``"admin"``, ``"partner"``, ``"supplier"``.

    Returns:
        The guard, for ``guards=[...]`` on a handler, controller or router.
    """
    wanted = frozenset(roles)

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if principal is None:
            raise LoginRequired("log in to see this page") if _wants_page(connection) else NotAuthenticated(
                "send the partner's API key in X-Api-Key, or log in")
        if not principal.roles & wanted:
            raise Forbidden(f"this needs the {' or '.join(sorted(wanted))} role")

    guard.__name__ = f"require_roles({', '.join(sorted(wanted))})"
    return guard


async def provide_principal(request: Request) -> Principal:
    """Dependency: the authenticated caller (the guards have already admitted it).

    Raises:
        NotAuthenticated: the route is public and nobody is logged in.
    """
    principal = await authenticate(request)
    if principal is None:
        raise NotAuthenticated("send the partner's API key in X-Api-Key, or log in")
    return principal


async def _app_principal(request: Request) -> Principal:
    return await provide_principal(request)


def app_dependencies() -> dict[str, Provide]:
    """The app-level ``principal`` dependency.

    Registered through a distinct callable: litestar refuses two equal providers, and routers
    that also declare ``Provide(provide_principal)`` must keep working.
    """
    return {"principal": Provide(_app_principal)}
