"""The one exception → HTTP table, applied at the edge (STYLE item 18). Bad input never gives 500.

==================================================  =====  =============================
exception                                           HTTP   code (body ``{"code","message"}``)
==================================================  =====  =============================
``EmptyBody``                                       400    ``EMPTY_BODY``
``UploadIncomplete`` (client went away)             400    ``UPLOAD_INCOMPLETE``
``CursorInvalid``, request validation               400    ``CURSOR_INVALID`` / ``REQUEST_INVALID``
``NotAuthenticated``                                401    ``API_KEY_MISSING`` / ``API_KEY_UNKNOWN`` …
``LoginRequired`` (a browser asking for a page)     303    redirect to ``/login?next=…``
``RecipientForbidden``, ``Forbidden``               403    ``RECIPIENT_FORBIDDEN`` / ``FORBIDDEN`` …
``MessageNotFound``, ``NotVisible``,                404    ``MESSAGE_NOT_FOUND`` / ``NOT_FOUND`` /
``PartnerNotFound``                                        ``PARTNER_NOT_FOUND`` (other tenants too)
``RegistryConflict``                                409    ``IDENTITY_TAKEN`` / ``PARTNER_IN_USE`` …
``ProposalDecided`` (inventory)                      409    ``PROPOSAL_DECIDED``
``RateLimited``                                     429    ``RATE_LIMITED`` / ``LOGIN_THROTTLED``, Retry-After
``BodyTooLarge`` / litestar's 413                   413    ``BODY_TOO_LARGE`` / ``GZIP_*``
``ContentTypeMismatch``, ``FormatUnknown``,         415    the error's code
``EncodingUnsupported``, other ``InputRejected``
``PartnerUnknown``                                  422    ``PARTNER_UNKNOWN`` …
``SQLAlchemyError`` (database unreachable)          503    ``STORE_UNAVAILABLE``
anything else                                       500    ``INTERNAL`` (logged once, with the trace)
==================================================  =====  =============================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import structlog
from litestar import MediaType, Request, Response
from litestar.response import Redirect
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from sqlalchemy.exc import SQLAlchemyError

from crossdock.gateway.auth.errors import Forbidden, LoginRequired, NotAuthenticated, NotVisible, RateLimited
from crossdock.gateway.ingest import EmptyBody
from crossdock.gateway.inventory.errors import ProposalDecided
from crossdock.gateway.partners import PartnerNotFound, RegistryConflict
from crossdock.gateway.queries import CursorInvalid, MessageNotFound
from crossdock.schemas.errors import CrossdockError, InputRejected, PartnerUnknown

__all__ = [
    "ErrorBody",
    "BodyTooLarge",
    "UploadIncomplete",
    "NotAuthenticated",
    "RecipientForbidden",
    "exception_handlers",
    "error_responses",
]

log = structlog.get_logger("crossdock.http")


@dataclass
class ErrorBody:
    """Every error response."""

    code: str
    message: str
    message_id: str | None = None
    issues: list[dict[str, Any]] | None = None


class BodyTooLarge(InputRejected):
    code = "BODY_TOO_LARGE"


class UploadIncomplete(InputRejected):
    code = "UPLOAD_INCOMPLETE"


class RecipientForbidden(CrossdockError):
    code = "RECIPIENT_FORBIDDEN"


_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (EmptyBody, 400),
    (UploadIncomplete, 400),
    (CursorInvalid, 400),
    (NotAuthenticated, 401),
    (RecipientForbidden, 403),
    (Forbidden, 403),
    (MessageNotFound, 404),
    (NotVisible, 404),
    (PartnerNotFound, 404),
    (RegistryConflict, 409),
    (ProposalDecided, 409),
    (RateLimited, 429),
    (BodyTooLarge, 413),
    (InputRejected, 415),
    (PartnerUnknown, 422),
)


def status_for(exc: CrossdockError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 422


def _body(status: int, code: str, message: str, message_id: str | None = None, *,
          issues: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(ErrorBody(code, message, message_id, issues), status_code=status, media_type=MediaType.JSON,
                    headers=headers)


def _crossdock(request: Request, exc: CrossdockError) -> Response[ErrorBody]:
    retry_after = getattr(exc, "retry_after_s", None)
    issues = [{"code": i.code, "msg": i.msg, "loc": list(i.loc)} for i in getattr(exc, "issues", ())] or None
    return _body(status_for(exc), exc.code, exc.message, getattr(exc, "message_id", None), issues=issues,
                 headers={"Retry-After": str(retry_after)} if retry_after is not None else None)


def _login(request: Request, exc: LoginRequired) -> Response:
    """Browsers asking for a page without a session go to the login page, then come back."""
    return Redirect(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)


def _http(request: Request, exc: HTTPException) -> Response[ErrorBody]:
    if exc.status_code == 413:
        return _body(413, BodyTooLarge.code, "the request body exceeds the configured limit")
    code = "REQUEST_INVALID" if exc.status_code == 400 else f"HTTP_{exc.status_code}"
    return _body(exc.status_code, code, str(exc.detail))


def _store(request: Request, exc: SQLAlchemyError) -> Response[ErrorBody]:
    log.error("database unavailable", path=request.url.path, error=type(exc).__name__)
    return _body(503, "STORE_UNAVAILABLE", "the message store is unavailable; retry later")


def _unexpected(request: Request, exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error", path=request.url.path)
    return _body(500, "INTERNAL", "internal error")


exception_handlers = {
    LoginRequired: _login,
    CrossdockError: _crossdock,
    HTTPException: _http,
    SQLAlchemyError: _store,
    Exception: _unexpected,
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the error responses an endpoint can give."""
    descriptions = {
        400: "Empty body, incomplete upload or invalid parameters",
        401: "Missing, unknown or revoked API key (header X-Api-Key), bad signature, or no session",
        403: "Not allowed for this role (or a suspended partner, or a missing CSRF token)",
        404: "No such object (or not visible to this caller: other tenants' ids look missing)",
        409: "Conflicts with the registry (identity taken, partner in use, exists)",
        422: "Invalid configuration or credentials (every problem listed in issues)",
        429: "Over the request rate or login throttled; retry after Retry-After seconds",
        413: "Body over the size cap, or gzip over its decompressed size or ratio limit",
        415: "Content-Type contradicts the content, or the format/encoding is not supported",
        503: "Store or broker unavailable; retry later",
    }
    return {s: ResponseSpec(data_container=ErrorBody, description=descriptions[s]) for s in statuses}
