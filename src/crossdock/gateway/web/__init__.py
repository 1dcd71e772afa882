"""Server-rendered pages: the shared layout, the stylesheet and the login/logout pages.

Templates live in ``web/templates/`` (``base.html`` is the layout; the ops console puts its
pages under ``templates/ops/``, the supplier portal under ``templates/portal/``) and extend it::

    {% extends "base.html" %}
    {% block title %}Messages{% endblock %}
    {% block content %}…{% endblock %}

Render them with :func:`page`, which adds ``principal`` (the caller), ``csrf_token`` (put it
in every form as ``<input type="hidden" name="_csrf" value="{{ csrf_token }}">``, or send it as
``X-CSRF-Token`` from scripts) and ``nav`` (links for the caller's roles). Assets are ours only
(``/static/crossdock.css``), never a CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from crossdock.gateway.auth.principal import Principal

__all__ = ["TEMPLATES", "STATIC", "template_config", "static_router", "page", "current_principal", "nav_for",
           "PAGE_HEADERS"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
#: sent with every page: no framing (clickjacking), no type sniffing, no referrer to other sites
PAGE_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin"}
_NAV = (("ops", "/ops", "Operations"), ("supplier", "/portal", "Portal"))


def template_config() -> TemplateConfig:
    """Jinja2 over ``web/templates`` with autoescaping on (partner data is never trusted HTML)."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                              trim_blocks=True, lstrip_blocks=True)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def static_router() -> Router:
    """``/static/…`` from ``web/static`` (public: the login page needs its stylesheet)."""
    return create_static_files_router(path="/static", directories=[STATIC], opt={"public": True},
                                      include_in_schema=False)


def current_principal(request: Request) -> Principal | None:
    """The caller the guards resolved for this request (None on public pages without a session)."""
    return request.scope.get("state", {}).get("crossdock_principal")


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    """(href, label) links for the caller's roles."""
    if principal is None:
        return []
    return [(href, label) for role, href, label in _NAV if role in principal.roles]


def page(template: str, request: Request, *, status_code: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> Template:
    """A page in the shared layout, with the caller, its CSRF token and navigation.

    Args:
        template: name under ``web/templates`` (e.g. ``"ops/overview.html"``).
        request: the request.
        status_code: HTTP status.
        headers: extra response headers.
        context: the template's own variables.

    Returns:
        The template response.
    """
    principal = current_principal(request)
    base = {"principal": principal, "csrf_token": principal.csrf_token if principal else None,
            "nav": nav_for(principal), "path": request.url.path}
    return Template(template, context={**base, **context}, status_code=status_code,
                    headers={**PAGE_HEADERS, **(headers or {})})
