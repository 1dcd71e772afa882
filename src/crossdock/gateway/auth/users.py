"""People: users with argon2id password hashes, one role each, login with throttling.

A ``supplier`` user is linked to exactly one partner; ``ops`` and ``admin`` users to none.
Login throttling counts ``login_failed`` rows of the audit log for (user name, client address)
inside ``login_window_s``: the database is shared by every API process, so the limit holds
across processes without Redis. Unknown users cost the same argon2 work as known ones, and all
failures answer alike (``LOGIN_FAILED``), so neither timing nor messages reveal which names exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from crossdock.gateway.audit import record_audit
from crossdock.gateway.auth.errors import CredentialInvalid, LoginFailed, LoginThrottled, NotVisible
from crossdock.gateway.auth.principal import USER_ROLES
from crossdock.gateway.auth.sessions import open_session, revoke_sessions
from crossdock.gateway.settings import AuthSettings
from crossdock.gateway.store import schema as t

__all__ = ["User", "LoginResult", "MIN_PASSWORD_LENGTH", "password_hasher", "create_user", "list_users",
           "disable_user", "login"]

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,119}$")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    partner_id: int | None
    partner_code: str | None
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_token: str
    csrf_token: str


def password_hasher(settings: AuthSettings) -> PasswordHasher:
    """argon2id with the configured cost (tests lower it; production keeps the defaults)."""
    return PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                          parallelism=1)


def _users(conn: Connection, *conditions) -> list[User]:
    u = t.users
    rows = conn.execute(select(u, t.partners.c.code).outerjoin(t.partners, t.partners.c.id == u.c.partner_id)
                        .where(*conditions).order_by(u.c.username)).all()
    return [User(r.id, r.username, r.role, r.partner_id, r.code, r.created_at, r.last_login_at,
                 r.disabled_at is not None) for r in rows]


def _check_new_user(username: str, password: str, role: str, partner_id: int | None) -> None:
    if not _USERNAME.match(username):
        raise CredentialInvalid("user names are 2-120 letters, digits and . _ @ -", code="USERNAME_INVALID")
    if role not in USER_ROLES:
        raise CredentialInvalid(f"role must be one of {', '.join(USER_ROLES)}", code="ROLE_INVALID")
    if (role == "supplier") != (partner_id is not None):
        raise CredentialInvalid("supplier users need a partner; ops and admin users have none",
                                code="USER_PARTNER_INVALID")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CredentialInvalid(f"passwords have at least {MIN_PASSWORD_LENGTH} characters",
                                code="PASSWORD_TOO_SHORT")


def create_user(conn: Connection, hasher: PasswordHasher, *, username: str, password: str, role: str,
                partner_id: int | None = None, actor: str, client: str | None = None,
                now: datetime | None = None) -> User:
    """Create a user (audited; caller commits).

    Raises:
        CredentialInvalid: bad name, role, partner link or a short password.
        CredentialInvalid: ``USER_EXISTS`` when the name is taken.
    """
    _check_new_user(username, password, role, partner_id)
    now = now or datetime.now(UTC)
    if _users(conn, t.users.c.username == username):
        raise CredentialInvalid(f"user {username} exists", code="USER_EXISTS")
    try:
        with conn.begin_nested():
            user_id = conn.execute(t.users.insert().values(
                username=username, password_hash=hasher.hash(password), role=role, partner_id=partner_id,
                created_at=now)).inserted_primary_key[0]
    except IntegrityError as exc:
        raise CredentialInvalid(f"user {username} exists", code="USER_EXISTS") from exc
    record_audit(conn, "user_created", actor=actor, partner_id=partner_id, subject=username, client=client,
                 at=now, detail={"role": role})
    return _users(conn, t.users.c.id == user_id)[0]


def list_users(conn: Connection) -> list[User]:
    return _users(conn)


def disable_user(conn: Connection, username: str, *, actor: str, client: str | None = None,
                 now: datetime | None = None) -> User:
    """Disable a user and end its sessions (audited).

    Raises:
        NotVisible: no such user.
    """
    now = now or datetime.now(UTC)
    found = _users(conn, t.users.c.username == username)
    if not found:
        raise NotVisible(f"no user {username}", code="USER_NOT_FOUND")
    user = found[0]
    if not user.disabled:
        conn.execute(update(t.users).where(t.users.c.id == user.id).values(disabled_at=now))
        revoke_sessions(conn, user.id, now)
        record_audit(conn, "user_disabled", actor=actor, partner_id=user.partner_id, subject=username,
                     client=client, at=now)
    return _users(conn, t.users.c.id == user.id)[0]


def _recent_failures(conn: Connection, username: str, client: str | None,
                     since: datetime) -> tuple[int, datetime | None]:
    a = t.audit_log
    row = conn.execute(select(func.count(), func.min(a.c.at)).where(
        a.c.subject == username[:160], a.c.kind == "login_failed", a.c.at >= since,
        a.c.client == client if client else a.c.client.is_(None))).one()
    return row[0], row[1]


def login(engine: Engine, hasher: PasswordHasher, settings: AuthSettings, *, username: str, password: str,
          client: str | None, now: datetime | None = None) -> LoginResult:
    """Check a password and open a session; every outcome is audited and committed.

    Args:
        engine: database (login owns its short transactions; argon2 runs outside them).
        hasher: the password hasher.
        settings: session lifetime and throttling.
        username: as typed.
        password: as typed.
        client: the client address (throttling is per user name and address).
        now: the time.

    Returns:
        The user and the new session's cookie value and CSRF token.

    Raises:
        LoginThrottled: too many recent failures; ``retry_after_s`` says when to try again.
        LoginFailed: unknown user, wrong password or disabled user.
    """
    now = now or datetime.now(UTC)
    username = username.strip()[:120]
    window = timedelta(seconds=settings.login_window_s)
    with engine.connect() as conn:
        failures, oldest = _recent_failures(conn, username, client, now - window)
        row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    if failures >= settings.login_max_failures:
        with engine.begin() as conn:
            record_audit(conn, "login_throttled", actor=f"user:{username}", subject=username, client=client, at=now)
        retry = (oldest + window - now).total_seconds() if oldest else settings.login_window_s
        raise LoginThrottled("too many failed logins; try again later", retry)
    if not _password_ok(hasher, row.password_hash if row else None, password) or row.disabled_at is not None:
        with engine.begin() as conn:
            record_audit(conn, "login_failed", actor=f"user:{username}", subject=username, client=client, at=now,
                         partner_id=row.partner_id if row else None)
        raise LoginFailed("unknown user or wrong password")
    rehash = hasher.check_needs_rehash(row.password_hash)
    new_hash = hasher.hash(password) if rehash else None
    with engine.begin() as conn:
        values = {"last_login_at": now, **({"password_hash": new_hash} if new_hash else {})}
        conn.execute(update(t.users).where(t.users.c.id == row.id).values(**values))
        token, csrf = open_session(conn, row.id, settings.session_ttl_s, now)
        record_audit(conn, "login_ok", actor=f"user:{username}", partner_id=row.partner_id, subject=username,
                     client=client, at=now)
        user = _users(conn, t.users.c.id == row.id)[0]
    return LoginResult(user, token, csrf)


def _password_ok(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    if stored is None:
        hasher.hash(password)  # unknown names cost the same argon2 work as known ones
        return False
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
