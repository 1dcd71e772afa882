"""Errors of identity and access; the HTTP table in :mod:`crossdock.gateway.http.errors` maps them.

Tree::

    CrossdockError
    ├── NotAuthenticated          API_KEY_MISSING / API_KEY_UNKNOWN / API_KEY_REVOKED /
    │   │                         SIGNATURE_INVALID / SESSION_INVALID          401
    │   ├── LoginRequired         LOGIN_REQUIRED (a page: 303 to /login)       401/303
    │   └── LoginFailed           LOGIN_FAILED                                 401
    ├── Forbidden                 FORBIDDEN (role)                             403
    │   ├── PartnerSuspended      PARTNER_SUSPENDED                            403
    │   └── CsrfInvalid           CSRF_INVALID                                 403
    ├── NotVisible                NOT_FOUND (another tenant's object, or none)  404
    ├── RateLimited               RATE_LIMITED (with ``retry_after_s``)         429
    │   └── LoginThrottled        LOGIN_THROTTLED                              429
    └── CredentialInvalid         USER_INVALID / PASSWORD_TOO_SHORT …          422
"""

from __future__ import annotations

import math

from crossdock.schemas.errors import ConfigurationInvalid, CrossdockError

__all__ = [
    "NotAuthenticated",
    "LoginRequired",
    "LoginFailed",
    "Forbidden",
    "PartnerSuspended",
    "CsrfInvalid",
    "NotVisible",
    "RateLimited",
    "LoginThrottled",
    "CredentialInvalid",
]


class NotAuthenticated(CrossdockError):
    code = "API_KEY_MISSING"


class LoginRequired(NotAuthenticated):
    """A page needs a logged-in person; browsers are redirected to ``/login``."""

    code = "LOGIN_REQUIRED"


class LoginFailed(NotAuthenticated):
    """Unknown user, wrong password or disabled user (one answer for all three)."""

    code = "LOGIN_FAILED"


class Forbidden(CrossdockError):
    code = "FORBIDDEN"


class PartnerSuspended(Forbidden):
    code = "PARTNER_SUSPENDED"


class CsrfInvalid(Forbidden):
    code = "CSRF_INVALID"


class NotVisible(CrossdockError):
    """No such object for this caller: another tenant's ids answer exactly like missing ones."""

    code = "NOT_FOUND"


class RateLimited(CrossdockError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_s: float, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = max(1, math.ceil(retry_after_s))


class LoginThrottled(RateLimited):
    code = "LOGIN_THROTTLED"


class CredentialInvalid(ConfigurationInvalid):
    """A user or key request that cannot be honoured as given (bad role, short password …)."""

    code = "CREDENTIAL_INVALID"
