"""The one exception → HTTP table, applied at the edge (STYLE item 18). Bad input never gives 500.

==================================================  =====  =============================
exception                                           HTTP   code (body ``{"code","message"}``)
==================================================  =====  =============================
``EmptyBody``                                       400    ``EMPTY_BODY``
``UploadIncomplete`` (client went away)             400    ``UPLOAD_INCOMPLETE``
``CursorInvalid``, request validation               400    ``CURSOR_INVALID`` / ``REQUEST_INVALID``
``NotAuthenticated``                                401    ``API_KEY_MISSING`` / ``API_KEY_UNKNOWN``
``RecipientForbidden``                              403    ``RECIPIENT_FORBIDDEN``
``MessageNotFound``                                 404    ``MESSAGE_NOT_FOUND``
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

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from sqlalchemy.exc import SQLAlchemyError

from crossdock.gateway.ingest import EmptyBody
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


class BodyTooLarge(InputRejected):
    code = "BODY_TOO_LARGE"


class UploadIncomplete(InputRejected):
    code = "UPLOAD_INCOMPLETE"


class NotAuthenticated(CrossdockError):
    code = "API_KEY_MISSING"


class RecipientForbidden(CrossdockError):
    code = "RECIPIENT_FORBIDDEN"


_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (EmptyBody, 400),
    (UploadIncomplete, 400),
    (CursorInvalid, 400),
    (NotAuthenticated, 401),
    (RecipientForbidden, 403),
    (MessageNotFound, 404),
    (BodyTooLarge, 413),
    (InputRejected, 415),
    (PartnerUnknown, 422),
)


def status_for(exc: CrossdockError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 422


def _body(status: int, code: str, message: str, message_id: str | None = None) -> Response[ErrorBody]:
    return Response(ErrorBody(code, message, message_id), status_code=status, media_type=MediaType.JSON)


def _crossdock(request: Request, exc: CrossdockError) -> Response[ErrorBody]:
    return _body(status_for(exc), exc.code, exc.message, getattr(exc, "message_id", None))


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
    CrossdockError: _crossdock,
    HTTPException: _http,
    SQLAlchemyError: _store,
    Exception: _unexpected,
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the error responses an endpoint can give."""
    descriptions = {
        400: "Empty body, incomplete upload or invalid parameters",
        401: "Missing or unknown API key (header X-Api-Key)",
        403: "Not allowed for this API key",
        404: "No such message (or not visible to this API key)",
        413: "Body over the size cap, or gzip over its decompressed size or ratio limit",
        415: "Content-Type contradicts the content, or the format/encoding is not supported",
        503: "Store or broker unavailable; retry later",
    }
    return {s: ResponseSpec(data_container=ErrorBody, description=descriptions[s]) for s in statuses}
