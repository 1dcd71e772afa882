"""Identity and access: who is calling (API keys, sessions), what it may do (roles, guards),
which tenant its queries see, rate limits, login throttling and the audit log.

Other controllers use::

    from crossdock.gateway.auth import Principal, require_roles, scope_partner

    @get("/portal/items", guards=[require_roles("supplier")])
    def items(principal: NamedDependency[Principal]) -> ...:
        partner_id = scope_partner(principal)   # None: every tenant (ops/admin/host)

Cross-tenant ids must answer exactly like missing ones: raise :class:`NotVisible` (404).
"""

from crossdock.gateway.audit import AuditFilter, list_audit, record_audit
from crossdock.gateway.auth.errors import (
    CredentialInvalid,
    CsrfInvalid,
    Forbidden,
    LoginFailed,
    LoginRequired,
    LoginThrottled,
    NotAuthenticated,
    NotVisible,
    PartnerSuspended,
    RateLimited,
)
from crossdock.gateway.auth.guards import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    app_dependencies,
    authenticate,
    authenticated,
    client_address,
    provide_principal,
    require_roles,
)
from crossdock.gateway.auth.keys import KeyRecord, NewKey, create_key, list_keys, revoke_key
from crossdock.gateway.auth.principal import ROLES, USER_ROLES, Principal, registry_scope, scope_partner
from crossdock.gateway.auth.service import AuthService, build_auth
from crossdock.gateway.auth.sessions import CSRF_FIELD, CSRF_HEADER, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from crossdock.gateway.auth.users import User, create_user, disable_user, list_users, login, password_hasher

__all__ = [
    "Principal",
    "ROLES",
    "USER_ROLES",
    "scope_partner",
    "registry_scope",
    "require_roles",
    "authenticated",
    "authenticate",
    "provide_principal",
    "app_dependencies",
    "client_address",
    "AuthService",
    "build_auth",
    "SESSION_COOKIE",
    "LOGIN_CSRF_COOKIE",
    "CSRF_HEADER",
    "CSRF_FIELD",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "NewKey",
    "KeyRecord",
    "create_key",
    "list_keys",
    "revoke_key",
    "User",
    "create_user",
    "disable_user",
    "list_users",
    "login",
    "password_hasher",
    "record_audit",
    "list_audit",
    "AuditFilter",
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
