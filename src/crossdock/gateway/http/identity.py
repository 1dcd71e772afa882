"""The identity API: partners (registry), API keys, users and the audit log.

=========================================  ==========================  ==============================
route                                      roles                       tenant rule
=========================================  ==========================  ==============================
``GET /api/v1/session``                    anyone authenticated        itself (CSRF token for scripts)
``GET /api/v1/partners``                   admin, ops, partner         a partner sees only itself
``POST /api/v1/partners``                  admin
``GET /api/v1/partners/{code}``            admin, ops, partner         another partner's code: 404
``PUT /api/v1/partners/{code}``            admin
``DELETE /api/v1/partners/{code}``         admin
``GET /api/v1/keys``                       admin, partner              a partner sees its own keys
``POST /api/v1/keys``                      admin, partner              a partner issues its own only
``DELETE /api/v1/keys/{key_id}``           admin, partner              another partner's key: 404
``GET/POST /api/v1/users``                 admin
``DELETE /api/v1/users/{username}``        admin                       (disables)
``GET /api/v1/audit``                      admin
=========================================  ==========================  ==============================

Registry scope (:func:`~crossdock.gateway.auth.registry_scope`): admins and ops see every partner,
everyone else (our host's keys included) only its own. Partner profiles returned to non-admins
have channel secrets removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from crossdock.gateway.audit import AuditFilter, list_audit
from crossdock.gateway.auth import (
    KeyRecord,
    Principal,
    CredentialInvalid,
    client_address,
    create_key,
    create_user,
    disable_user,
    list_keys,
    list_users,
    registry_scope,
    require_roles,
    revoke_key,
)
from crossdock.gateway.auth.service import AuthService
from crossdock.gateway.http.errors import error_responses
from crossdock.gateway.partners import (
    PartnerNotFound,
    PartnerSummary,
    delete_partner,
    get_profile,
    list_partners,
    partner_by_code,
    save_profile,
    validate_profile,
)

__all__ = ["identity_router", "NewKeyBody", "NewUserBody", "IssuedKey", "UserView", "AuditPage", "SessionView"]

API = "/api/v1"
ADMIN = require_roles("admin")


class NewKeyBody(BaseModel):
    """``POST /api/v1/keys``: for a partner (admins name it; partners get their own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partner: str | None = None
    label: str | None = Field(default=None, max_length=120)
    signed: bool = False
    """Issue a signing secret too and require signed requests with this key."""


class NewUserBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str
    password: str = Field(repr=False)
    role: str
    partner: str | None = None
    """Supplier users: the partner code they belong to."""


@dataclass
class IssuedKey:
    """A new key: shown once, never again."""

    id: str
    partner: str
    key: str
    signing_secret: str | None
    require_signature: bool


@dataclass
class UserView:
    username: str
    role: str
    partner: str | None
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool


@dataclass
class AuditPage:
    items: list[dict[str, Any]]
    next_cursor: int | None


def _engine(request: Request) -> Engine:
    return request.app.state.runtime.engine


def _auth(request: Request) -> AuthService:
    return request.app.state.auth


def _redacted(profile: dict[str, Any]) -> dict[str, Any]:
    """Profiles for non-admins: channel secrets removed."""
    for agreement in profile.get("agreements", []):
        for holder in (agreement, agreement.get("forward") or {}):
            if isinstance(holder.get("channel"), dict):
                holder["channel"].pop("secret", None)
    return profile


def _profile_json(request: Request, code: str, scope: int | None, admin: bool) -> dict[str, Any]:
    with _engine(request).connect() as conn:
        profile = get_profile(conn, code, scope=scope).model_dump(mode="json", exclude_none=True)
    return profile if admin else _redacted(profile)


@dataclass
class SessionView:
    """Who the caller is; for people, the CSRF token scripts send as ``X-CSRF-Token``."""

    kind: str
    subject: str
    roles: list[str]
    partner: str | None
    csrf_token: str | None


@get(f"{API}/session", summary="Who am I (and, for a login session, its CSRF token)",
     responses=error_responses(401))
async def session_info(principal: NamedDependency[Principal]) -> SessionView:
    return SessionView(principal.kind, principal.subject, sorted(principal.roles),
                       principal.partner.code if principal.partner else None, principal.csrf_token)


# ------------------------------------------------------------------------------ partners


@get(f"{API}/partners", sync_to_thread=True, guards=[require_roles("admin", "ops", "partner")],
     summary="Partners (a partner sees only itself)", responses=error_responses(401, 403))
def partners_list(request: Request, principal: NamedDependency[Principal]) -> list[PartnerSummary]:
    with _engine(request).connect() as conn:
        return list_partners(conn, scope=registry_scope(principal))


@post(f"{API}/partners", sync_to_thread=True, guards=[ADMIN], status_code=201,
      summary="Register a partner (profile: identities, agreements, contacts)",
      responses=error_responses(401, 403, 409, 422))
def partners_create(request: Request, principal: NamedDependency[Principal],
                    data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    profile = validate_profile(data)
    with _engine(request).begin() as conn:
        save_profile(conn, profile, actor=principal.actor, client=client_address(request), must_exist=False)
    return _profile_json(request, profile.code, None, True)


@get(f"{API}/partners/{{code:str}}", sync_to_thread=True, guards=[require_roles("admin", "ops", "partner")],
     summary="A partner's profile", responses=error_responses(401, 403, 404))
def partners_get(request: Request, principal: NamedDependency[Principal], code: FromPath[str]) -> dict[str, Any]:
    return _profile_json(request, code, registry_scope(principal), principal.has_any("admin"))


@put(f"{API}/partners/{{code:str}}", sync_to_thread=True, guards=[ADMIN],
     summary="Replace a partner's profile (API keys and users are kept)",
     responses=error_responses(401, 403, 404, 409, 422))
def partners_replace(request: Request, principal: NamedDependency[Principal], code: FromPath[str],
                     data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    profile = validate_profile({**data, "code": code})
    with _engine(request).begin() as conn:
        save_profile(conn, profile, actor=principal.actor, client=client_address(request), must_exist=True)
    _auth(request).forget_keys()  # a status change (suspended) takes effect at once
    return _profile_json(request, code, None, True)


@delete(f"{API}/partners/{{code:str}}", sync_to_thread=True, guards=[ADMIN],
        summary="Remove a partner that never exchanged anything (else: suspend it)",
        responses=error_responses(401, 403, 404, 409))
def partners_delete(request: Request, principal: NamedDependency[Principal], code: FromPath[str]) -> None:
    with _engine(request).begin() as conn:
        delete_partner(conn, code, actor=principal.actor, client=client_address(request))
    _auth(request).forget_keys()


# ---------------------------------------------------------------------------------- keys


def _partner_id(request: Request, principal: Principal, code: str | None) -> int | None:
    """The partner a key request is about, within the caller's scope (others' codes: 404)."""
    scope = registry_scope(principal)
    if code is None:
        return scope
    with _engine(request).connect() as conn:
        partner = partner_by_code(conn, code)
    if partner is None or (scope is not None and partner.id != scope):
        raise PartnerNotFound(f"no partner {code}")
    return partner.id


@get(f"{API}/keys", sync_to_thread=True, guards=[require_roles("admin", "partner")],
     summary="API keys (ids, labels, last use; never the keys)", responses=error_responses(401, 403, 404))
def keys_list(request: Request, principal: NamedDependency[Principal],
              partner: str | None = Parameter(default=None, description="partner code")) -> list[KeyRecord]:
    partner_id = _partner_id(request, principal, partner)
    with _engine(request).connect() as conn:
        return list_keys(conn, scope=registry_scope(principal), partner_id=partner_id)


@post(f"{API}/keys", sync_to_thread=True, guards=[require_roles("admin", "partner")], status_code=201,
      summary="Issue an API key (shown once in this answer)", responses=error_responses(401, 403, 404, 422))
def keys_create(request: Request, principal: NamedDependency[Principal], data: JSONBody[NewKeyBody]) -> IssuedKey:
    partner_id = _partner_id(request, principal, data.partner)
    if partner_id is None:
        raise CredentialInvalid("name the partner the key is for", code="KEY_PARTNER_MISSING")
    with _engine(request).begin() as conn:
        new = create_key(conn, partner_id, actor=principal.actor, label=data.label, signed=data.signed,
                         client=client_address(request))
        code = list_keys(conn, scope=None, partner_id=partner_id)[0].partner_code
    return IssuedKey(new.id, code, new.key, new.signing_secret, new.require_signature)


@delete(f"{API}/keys/{{key_id:str}}", sync_to_thread=True, guards=[require_roles("admin", "partner")],
        status_code=200, summary="Revoke an API key", responses=error_responses(401, 403, 404))
def keys_revoke(request: Request, principal: NamedDependency[Principal], key_id: FromPath[str]) -> KeyRecord:
    with _engine(request).begin() as conn:
        record = revoke_key(conn, key_id, actor=principal.actor, scope=registry_scope(principal),
                            client=client_address(request))
    _auth(request).forget_keys()
    return record


# --------------------------------------------------------------------------------- users


def _user_view(user) -> UserView:
    return UserView(user.username, user.role, user.partner_code, user.created_at, user.last_login_at, user.disabled)


@get(f"{API}/users", sync_to_thread=True, guards=[ADMIN], summary="Users", responses=error_responses(401, 403))
def users_list(request: Request) -> list[UserView]:
    with _engine(request).connect() as conn:
        return [_user_view(u) for u in list_users(conn)]


@post(f"{API}/users", sync_to_thread=True, guards=[ADMIN], status_code=201, summary="Create a user",
      responses=error_responses(401, 403, 404, 422))
def users_create(request: Request, principal: NamedDependency[Principal], data: JSONBody[NewUserBody]) -> UserView:
    partner_id = _partner_id(request, principal, data.partner) if data.partner else None
    with _engine(request).begin() as conn:
        user = create_user(conn, _auth(request).hasher, username=data.username, password=data.password,
                           role=data.role, partner_id=partner_id, actor=principal.actor,
                           client=client_address(request))
    return _user_view(user)


@delete(f"{API}/users/{{username:str}}", sync_to_thread=True, guards=[ADMIN], status_code=200,
        summary="Disable a user (ends its sessions)", responses=error_responses(401, 403, 404))
def users_disable(request: Request, principal: NamedDependency[Principal], username: FromPath[str]) -> UserView:
    with _engine(request).begin() as conn:
        return _user_view(disable_user(conn, username, actor=principal.actor, client=client_address(request)))


# --------------------------------------------------------------------------------- audit


@get(f"{API}/audit", sync_to_thread=True, guards=[ADMIN], summary="The audit log, newest first",
     responses=error_responses(400, 401, 403, 404))
def audit_list(request: Request, principal: NamedDependency[Principal], kind: FromQuery[str | None] = None,
               partner: str | None = Parameter(default=None, description="partner code"),
               subject: FromQuery[str | None] = None, since: FromQuery[datetime | None] = None,
               cursor: int | None = Parameter(default=None, description="next_cursor of the previous page"),
               limit: int = Parameter(default=100, ge=1, le=500)) -> AuditPage:
    partner_id = _partner_id(request, principal, partner) if partner else None
    with _engine(request).connect() as conn:
        page = list_audit(conn, AuditFilter(kind, partner_id, subject, since, cursor, limit))
    return AuditPage(page["items"], page["next_cursor"])


def identity_router() -> Router:
    """The identity API's routes (mounted by :func:`crossdock.gateway.http.app.create_app`)."""
    return Router(path="/", route_handlers=[
        session_info, partners_list, partners_create, partners_get, partners_replace, partners_delete,
        keys_list, keys_create, keys_revoke, users_list, users_create, users_disable, audit_list])

