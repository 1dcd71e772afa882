"""Who is calling: a :class:`Principal`, its roles, and the partner scope of its queries.

=============  ===============================================  ===============================
role           who                                              sees
=============  ===============================================  ===============================
``partner``    a partner's system, by API key                   its own messages and documents
``host``       our own systems' API key (with ``partner``)       everything; may address partners
``supplier``   a supplier's person, by login, linked to one     its own items and proposals
               partner
``ops``        operations staff (``admin`` implies it)          every message; replay
``admin``      administrators                                   partners, users, keys, audit
=============  ===============================================  ===============================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crossdock.gateway.auth.errors import Forbidden
from crossdock.gateway.partners import Partner

__all__ = ["Principal", "ROLES", "USER_ROLES", "roles_for_user", "roles_for_partner", "scope_partner",
           "registry_scope"]

ROLES = ("partner", "host", "supplier", "ops", "admin")
USER_ROLES = ("supplier", "ops", "admin")
#: roles that see every tenant's messages and documents
_ALL_TENANTS = frozenset({"host", "ops", "admin"})
#: roles that see every partner's registry entry (a host key only sees its own keys and profile)
_ALL_PROFILES = frozenset({"ops", "admin"})


def roles_for_user(role: str) -> frozenset[str]:
    """A user's stored role and the roles it implies (an admin is also ops)."""
    return frozenset({"admin", "ops"}) if role == "admin" else frozenset({role})


def roles_for_partner(partner: Partner) -> frozenset[str]:
    return frozenset({"partner", "host"}) if partner.kind == "host" else frozenset({"partner"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller.

    Attributes:
        kind: ``partner_key`` (a system with an API key) or ``user`` (a person with a session).
        roles: granted roles, implied ones included.
        subject: the key id or the user name.
        partner: the partner the caller belongs to (keys; supplier users), else None.
        user_id: for users.
        csrf_token: for users: the session's token that unsafe requests must echo.
        rate_limit_per_minute: the caller's own request budget, when its profile sets one.
    """

    kind: Literal["partner_key", "user"]
    roles: frozenset[str]
    subject: str
    partner: Partner | None = None
    user_id: int | None = None
    csrf_token: str | None = None
    rate_limit_per_minute: int | None = None

    @property
    def partner_id(self) -> int | None:
        return self.partner.id if self.partner is not None else None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"key:{self.subject}" if self.kind == "partner_key" else f"user:{self.subject}"

    @property
    def scope(self) -> int | None:
        """Shorthand for :func:`scope_partner`."""
        return scope_partner(self)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def scope_partner(principal: Principal) -> int | None:
    """The partner id every query of this caller must be limited to; None means every tenant.

    Args:
        principal: the caller.

    Returns:
        None for host keys, ops and admins; the caller's partner id for partners and suppliers.

    Raises:
        Forbidden: a tenant-bound caller without a partner (never silently widened to all).
    """
    if principal.roles & _ALL_TENANTS:
        return None
    if principal.partner is None:
        raise Forbidden("this account is not linked to a partner")
    return principal.partner.id


def registry_scope(principal: Principal) -> int | None:
    """Like :func:`scope_partner`, for the registry (profiles, keys): only ops and admins see all.

    Our host's keys read every tenant's messages, but administer nothing beyond their own keys.

    Raises:
        Forbidden: a tenant-bound caller without a partner.
    """
    if principal.roles & _ALL_PROFILES:
        return None
    if principal.partner is None:
        raise Forbidden("this account is not linked to a partner")
    return principal.partner.id
