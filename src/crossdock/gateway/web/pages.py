"""``/login``, ``/logout`` and ``/`` (each role's home page).

Login CSRF is a double-submit token (cookie ``crossdock_login_csrf`` = form field ``_csrf``),
because there is no session yet; logout is a POST checked by the guard against the session's
own token. ``next`` only ever leads back into this site (a path, never ``//host`` or a URL).
"""

from __future__ import annotations

import hmac
from functools import partial

import anyio
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from crossdock.gateway.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AuthService,
    LoginFailed,
    LoginThrottled,
    Principal,
    authenticate,
    client_address,
    login,
)
from crossdock.gateway.auth.sessions import close_session, new_token
from crossdock.gateway.web import current_principal, page

__all__ = ["login_form", "login_submit", "logout", "home", "home_for"]

LOGIN_CSRF_MAX_AGE_S = 3600


def home_for(principal: Principal | None) -> str:
    """Where a person lands after login: the console for ops/admin, the portal for suppliers."""
    if principal is None:
        return "/login"
    return "/ops" if principal.has_any("ops") else "/portal"


def _safe_next(value: str | None) -> str | None:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def _cookie(auth: AuthService, name: str, value: str, max_age: int | None, *, strict: bool = False) -> Cookie:
    return Cookie(key=name, value=value, max_age=max_age, path="/", httponly=True, secure=auth.cookie_secure,
                  samesite="strict" if strict else "lax")


def _form(request: Request, *, error: str | None = None, username: str = "", next_path: str = "",
          status_code: int = 200, headers: dict[str, str] | None = None) -> Template:
    token = new_token()
    response = page("login.html", request, status_code=status_code, headers=headers, error=error,
                    username=username, next=next_path, login_csrf=token)
    auth: AuthService = request.app.state.auth
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=LOGIN_CSRF_MAX_AGE_S, path="/", httponly=True,
                        secure=auth.cookie_secure, samesite="strict")
    return response


@get("/login", opt={"public": True}, include_in_schema=False)
async def login_form(request: Request, next: FromQuery[str | None] = None) -> Response:  # noqa: A002 - the query name
    principal = await authenticate(request)
    if principal is not None and principal.kind == "user":
        return Redirect(_safe_next(next) or home_for(principal), status_code=303)
    return _form(request, next_path=_safe_next(next) or "")


@post("/login", opt={"public": True}, include_in_schema=False)
async def login_submit(request: Request) -> Response:
    form = await request.form()
    username, next_path = str(form.get("username", "")), _safe_next(form.get("next")) or ""
    sent, expected = str(form.get("_csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _form(request, error="The form expired; please try again.", username=username,
                     next_path=next_path, status_code=403)
    auth: AuthService = request.app.state.auth
    try:
        result = await anyio.to_thread.run_sync(partial(
            login, auth.engine, auth.hasher, auth.settings.auth, username=username,
            password=str(form.get("password", "")), client=client_address(request), now=auth.now()))
    except LoginThrottled as exc:
        return _form(request, error="Too many failed attempts; try again later.", username=username,
                     next_path=next_path, status_code=429, headers={"Retry-After": str(exc.retry_after_s)})
    except LoginFailed:
        return _form(request, error="Unknown user or wrong password.", username=username, next_path=next_path,
                     status_code=401)
    target = next_path or ("/ops" if result.user.role in ("ops", "admin") else "/portal")
    return Redirect(target, status_code=303, cookies=[
        _cookie(auth, SESSION_COOKIE, result.session_token, int(auth.settings.auth.session_ttl_s)),
        _cookie(auth, LOGIN_CSRF_COOKIE, "", 0, strict=True)])


@post("/logout", include_in_schema=False)
async def logout(request: Request, principal: NamedDependency[Principal]) -> Response:
    auth: AuthService = request.app.state.auth
    token = request.cookies.get(SESSION_COOKIE, "")

    def close() -> None:
        with auth.engine.begin() as conn:
            close_session(conn, token, auth.now())
        auth.audit("logout", actor=principal.actor, partner_id=principal.partner_id, subject=principal.subject,
                   client=client_address(request))

    if principal.kind == "user":
        await anyio.to_thread.run_sync(close)
    return Redirect("/login", status_code=303, cookies=[_cookie(auth, SESSION_COOKIE, "", 0)])


@get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    return Redirect(home_for(current_principal(request)), status_code=303)
