"""The console over HTTP (no browser): guards, pages, forms with CSRF, escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from litestar.testing import TestClient
from opshelpers import EXAMPLES, KEYS, MovableClock, fix_initech, interchange, open_ops_hub, po_set, post, wait_final
from sqlalchemy import select

from crossdock.gateway.auth.sessions import SESSION_COOKIE, open_session
from crossdock.gateway.auth.users import create_user, password_hasher
from crossdock.gateway.store import schema as t


def _session(hub, username: str, role: str, partner_id: int | None = None) -> tuple[str, str]:
    """A logged-in user's (cookie, CSRF token), opened through the identity service."""
    settings = hub.runtime.settings
    with hub.runtime.engine.begin() as conn:
        user = create_user(conn, password_hasher(settings.auth.model_copy(update={"argon2_time_cost": 1,
                                                                                   "argon2_memory_kib": 8})),
                           username=username, password="correct horse battery", role=role, partner_id=partner_id,
                           actor="test")
        return open_session(conn, user.id, 3600, datetime.now(UTC))


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    hub = open_ops_hub(tmp_path_factory.mktemp("console"), MovableClock())
    with TestClient(app=hub.app()) as client:
        cookie, csrf = _session(hub, "ops1", "ops")
        client.hub = hub  # type: ignore[attr-defined]
        client.ops = ({"Cookie": f"{SESSION_COOKIE}={cookie}"}, csrf)  # type: ignore[attr-defined]
        ids = {"po": post(client, (EXAMPLES / "850.x12").read_bytes(), KEYS["acme"]).json()["id"],
               "initech": post(client, interchange("INITECH", "000000901", [po_set("0001", "PO-INI-1")]),
                               KEYS["initech"]).json()["id"],
               "xss": post(client, json.dumps({"document_type": "purchase_order",
                                               "po_number": "<script>alert(1)</script>"}).encode(),
                           KEYS["acme"], **{"Content-Type": "application/json"}).json()["id"]}
        for message_id in ids.values():
            wait_final(hub.runtime.engine, message_id)
        client.ids = ids  # type: ignore[attr-defined]
        yield client


def _get(console, path: str, **params):
    cookies, _ = console.ops
    return console.get(path, params=params, headers=cookies)


def test_pages_need_the_ops_role(console) -> None:
    assert console.get("/ops", headers={"Accept": "text/html"}, follow_redirects=False).status_code in (302, 303)
    assert console.get("/ops").status_code == 401
    assert console.get("/ops", headers={"X-Api-Key": KEYS["acme"]}).status_code == 403
    with console.hub.runtime.engine.connect() as conn:
        acme = conn.execute(select(t.partners.c.id).where(t.partners.c.code == "acme")).scalar_one()
    supplier, _ = _session(console.hub, "supplier1", "supplier", partner_id=acme)
    assert console.get("/ops/messages", headers={"Cookie": f"{SESSION_COOKIE}={supplier}"}).status_code == 403
    for path in ("/ops", "/ops/messages", "/ops/acks", "/ops/partners", "/ops/alerts",
                 f"/ops/messages/{console.ids['po']}"):
        response = _get(console, path)
        assert response.status_code == 200, path
        assert "text/html" in response.headers["content-type"]
    assert _get(console, "/ops/messages/nope").status_code == 404


def test_overview_page(console) -> None:
    html = _get(console, "/ops").text
    assert html.count("<svg class=\"chart\"") == 3
    assert 'id="partners"' in html and ">initech<" in html and ">acme<" in html


def test_search_page_finds_po_and_rejects_bad_input(console) -> None:
    html = _get(console, "/ops/messages", key="PO-10001").text
    assert html.count('class="result"') == 1 and console.ids["po"] in html
    bad = _get(console, "/ops/messages", partner="nobody")
    assert bad.status_code == 400 and "SEARCH_INVALID" in bad.text
    assert _get(console, "/ops/messages", cursor="%%%").status_code == 400


def test_detail_page_sections(console) -> None:
    html = _get(console, f"/ops/messages/{console.ids['po']}").text
    for section in ('id="timeline"', 'id="raw"', 'id="issues"', 'id="acks"', 'id="outbound"', 'id="related"'):
        assert section in html
    assert "BEG*00*SA*PO-10001**20240301" in html and ">997<" in html


def test_partner_data_is_escaped(console) -> None:
    html = _get(console, f"/ops/messages/{console.ids['xss']}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_forms_need_csrf_and_replay_after_fix(console) -> None:
    cookies, csrf = console.ops
    message_id = console.ids["initech"]
    path = f"/ops/messages/{message_id}/replay"
    assert console.post(path, data={}, headers=cookies).status_code == 403
    fix_initech(console.hub.runtime.engine)
    response = console.post(path, data={"_csrf": csrf, "comment": "agreement added"}, headers=cookies,
                            follow_redirects=False)
    assert response.status_code == 303
    assert parse_qs(urlparse(response.headers["location"]).query)["flash"] == ["replay: replaying"]
    assert wait_final(console.hub.runtime.engine, message_id) == "accepted"
    resolved = console.post(f"/ops/messages/{console.ids['po']}/resolve", data={"_csrf": csrf, "comment": "ok"},
                            headers=cookies, follow_redirects=False)
    assert resolved.status_code == 303
    with console.hub.runtime.engine.connect() as conn:
        notes = conn.execute(select(t.message_notes.c.action, t.message_notes.c.actor)).all()
    assert sorted(notes) == [("replay", "user:ops1"), ("resolved", "user:ops1")]


def test_replay_many_and_add_rule(console) -> None:
    cookies, csrf = console.ops
    response = console.post("/ops/messages/replay", data={"_csrf": csrf, "ids": [console.ids["po"], "missing"],
                                                          "search": "partner=acme&cursor=x&evil=1"},
                            headers=cookies, follow_redirects=False)
    assert response.status_code == 303
    back = urlparse(response.headers["location"])
    assert back.path == "/ops/messages" and parse_qs(back.query)["partner"] == ["acme"]
    assert "evil" not in back.query and "cursor" not in back.query
    assert "1 of 2 message(s) queued" in parse_qs(back.query)["flash"][0]
    wait_final(console.hub.runtime.engine, console.ids["po"])
    added = console.post("/ops/alerts/rules", data={"_csrf": csrf, "name": "acme failures", "kind":
                                                    "failures_per_hour", "threshold": "3", "partner": "acme",
                                                    "email_to": "ops@example.com"},
                         headers=cookies, follow_redirects=False)
    assert "rule acme failures added" in parse_qs(urlparse(added.headers["location"]).query)["flash"][0]
    refused = console.post("/ops/alerts/rules", data={"_csrf": csrf, "name": "x", "kind": "nope", "threshold": "1"},
                           headers=cookies, follow_redirects=False)
    assert "ALERT_RULE_INVALID" in parse_qs(urlparse(refused.headers["location"]).query)["flash"][0]
    assert "acme failures" in _get(console, "/ops/alerts").text
