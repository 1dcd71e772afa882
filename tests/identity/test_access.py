"""Identity and access over HTTP (embedded hub, SQLite): keys, signatures, logins, sessions,
CSRF, roles, rate limits, throttling, the audit log and the OpenAPI security schemes."""

from __future__ import annotations

import time

import pytest
from idhelpers import KEYS, api, audit_kinds, fast_settings, interchange, login, seed, wait_final
from sqlalchemy import select

from crossdock.adapters.transports import sign
from crossdock.gateway.auth import build_auth, revoke_key
from crossdock.gateway.demo import DEMO_KEYS, DEMO_USERS, demo_banner, load_demo
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade
from crossdock.gateway.store import schema as t


def _post_850(client, key: str, control: str, po: str, sender: str = "ACMEBUYER", **headers):
    return client.post("/api/v1/messages", content=interchange(sender, control, po), headers={**api(key), **headers})


def test_new_key_is_shown_once_rotates_and_revokes(client) -> None:
    issued = client.post("/api/v1/keys", json={"label": "rotation"}, headers=api(KEYS["acme"]))
    assert issued.status_code == 201
    new = issued.json()
    assert new["partner"] == "acme" and new["key"].startswith("cdk_") and new["signing_secret"] is None
    listed = client.get("/api/v1/keys", headers=api(new["key"])).json()
    assert {k["id"] for k in listed} == {client.key_ids["acme"], new["id"]}
    assert new["key"] not in str(listed)
    with client.hub.runtime.engine.connect() as conn:
        stored = conn.execute(select(t.api_keys).where(t.api_keys.c.id == new["id"])).one()
    assert stored.key_hash != new["key"] and new["key"] not in str(tuple(stored))
    assert stored.last_used_at is not None  # the listing above used it
    assert _post_850(client, KEYS["acme"], "000000101", "PO-ROT-1").status_code == 202  # old key still works
    revoked = client.delete(f"/api/v1/keys/{client.key_ids['acme']}", headers=api(new["key"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = _post_850(client, KEYS["acme"], "000000102", "PO-ROT-2")
    assert (refused.status_code, refused.json()["code"]) == (401, "API_KEY_REVOKED")
    assert _post_850(client, new["key"], "000000103", "PO-ROT-3").status_code == 202
    assert audit_kinds(client.hub.runtime.engine).count("key_created") == 1
    assert "key_revoked" in audit_kinds(client.hub.runtime.engine)


def test_signed_key_needs_a_fresh_valid_signature(client) -> None:
    new = client.post("/api/v1/keys", json={"partner": "acme", "signed": True}, headers=api(KEYS["acme"])).json()
    body = interchange("ACMEBUYER", "000000201", "PO-SIG-1")
    now = int(time.time())

    def send(timestamp: int, payload: bytes, signed_body: bytes | None = None):
        headers = {**api(new["key"]), "X-Crossdock-Timestamp": str(timestamp),
                   "X-Crossdock-Signature": sign(new["signing_secret"], timestamp, signed_body or payload)}
        return client.post("/api/v1/messages", content=payload, headers=headers)

    accepted = send(now, body)
    assert accepted.status_code == 202
    raw = client.get(accepted.json()["links"]["raw"], headers=api(KEYS["acme"]))
    assert raw.content == body  # the guard read the body once; the handler got the same bytes
    for response in (send(now - 301, body), send(now, body + b"x", signed_body=body),
                     client.post("/api/v1/messages", content=body, headers=api(new["key"]))):
        assert (response.status_code, response.json()["code"]) == (401, "SIGNATURE_INVALID")
    assert audit_kinds(client.hub.runtime.engine).count("signature_invalid") == 3


def test_login_session_cookie_logout(client) -> None:
    form = client.get("/login")
    assert form.status_code == 200 and "crossdock_login_csrf" in form.cookies
    headers, csrf = login(client, "ops")
    session = headers["Cookie"].split("=", 1)[1]
    cookie = _set_cookie(client, "ops")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # embedded: no TLS
    assert client.get("/api/v1/messages", headers=headers).status_code == 200
    out = client.post("/logout", data={"_csrf": csrf}, headers=headers, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    after = client.get("/api/v1/messages", headers={"Cookie": f"crossdock_session={session}"})
    assert (after.status_code, after.json()["code"]) == (401, "API_KEY_MISSING")
    assert [k for k in audit_kinds(client.hub.runtime.engine) if k.startswith(("login", "logout"))] == [
        "login_ok", "login_ok", "logout"]


def _set_cookie(client, username: str) -> str:
    token = client.get("/login").text.split('name="_csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": username, "password": "ops-password-1", "_csrf": token},
                           follow_redirects=False)
    client.cookies.clear()
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith("crossdock_session="))


def test_login_form_needs_its_csrf_token_and_only_local_next(client) -> None:
    client.get("/login")
    refused = client.post("/login", data={"username": "ops", "password": "ops-password-1", "_csrf": "forged"})
    assert refused.status_code == 403 and "crossdock_session" not in refused.cookies
    token = client.get("/login").text.split('name="_csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "ops", "password": "ops-password-1", "_csrf": token,
                                           "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/ops"
    client.cookies.clear()


def test_login_throttling_after_five_failures(client) -> None:
    for _ in range(5):
        token = client.get("/login").text.split('name="_csrf" value="')[1].split('"')[0]
        failed = client.post("/login", data={"username": "ops", "password": "wrong-password", "_csrf": token})
        assert failed.status_code == 401 and "Unknown user or wrong password." in failed.text
    token = client.get("/login").text.split('name="_csrf" value="')[1].split('"')[0]
    throttled = client.post("/login", data={"username": "ops", "password": "ops-password-1", "_csrf": token})
    assert throttled.status_code == 429 and 0 < int(throttled.headers["retry-after"]) <= 900
    client.cookies.clear()
    login(client, "admin")  # other users are not affected
    kinds = audit_kinds(client.hub.runtime.engine)
    assert kinds.count("login_failed") == 5 and kinds.count("login_throttled") == 1


def test_csrf_is_required_for_session_posts_not_for_keys(client) -> None:
    accepted = _post_850(client, KEYS["acme"], "000000301", "PO-CSRF-1")
    message_id = accepted.json()["id"]
    wait_final(client.hub.runtime.engine, message_id)
    headers, csrf = login(client, "ops")
    refused = client.post(f"/api/v1/messages/{message_id}/replay", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "CSRF_INVALID")
    replayed = client.post(f"/api/v1/messages/{message_id}/replay", headers={**headers, "X-CSRF-Token": csrf})
    assert replayed.status_code == 202
    wait_final(client.hub.runtime.engine, message_id)
    with client.hub.runtime.engine.connect() as conn:
        row = conn.execute(select(t.audit_log).where(t.audit_log.c.kind == "replay")).one()
    assert (row.actor, row.message_id) == ("user:ops", message_id)
    assert "csrf_rejected" in audit_kinds(client.hub.runtime.engine)


@pytest.mark.parametrize(("who", "method", "path", "status"), [
    ("acme-staff", "GET", "/api/v1/messages", 403),
    ("acme-staff", "GET", "/api/v1/partners", 403),
    ("ops", "GET", "/api/v1/partners", 200),
    ("ops", "GET", "/api/v1/audit", 403),
    ("ops", "GET", "/api/v1/keys", 403),
    ("admin", "GET", "/api/v1/audit", 200),
    ("admin", "GET", "/api/v1/users", 200),
    ("acme", "GET", "/api/v1/users", 403),
    ("acme", "GET", "/api/v1/audit", 403),
    ("acme", "DELETE", "/api/v1/partners/acme", 403),
    ("host", "GET", "/api/v1/messages", 200),
    (None, "GET", "/api/v1/partners", 401),
])
def test_roles_are_enforced_by_the_guards(shared_client, who, method, path, status) -> None:
    if who in KEYS:
        headers = api(KEYS[who])
    elif who is None:
        headers = {}
    else:
        headers, csrf = login(shared_client, who)
        headers["X-CSRF-Token"] = csrf
    assert shared_client.request(method, path, headers=headers).status_code == status


def test_browsers_without_session_are_sent_to_login(shared_client) -> None:
    page = shared_client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/")
    assert shared_client.get("/api/v1/messages").json()["code"] == "API_KEY_MISSING"


def test_admin_manages_partners_users_and_reads_the_audit(client) -> None:
    headers, csrf = login(client, "admin")
    headers["X-CSRF-Token"] = csrf
    body = {"code": "initech", "name": "Initech", "roles": ["carrier"], "status": "onboarding",
            "identities": [{"kind": "isa", "qualifier": "ZZ", "id": "INITECH"}],
            "agreements": [{"direction": "inbound", "ack": "999"}]}
    created = client.post("/api/v1/partners", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "onboarding"
    again = client.post("/api/v1/partners", json=body, headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "PARTNER_EXISTS")
    taken = client.put("/api/v1/partners/initech", headers=headers, json={
        **body, "identities": [{"kind": "isa", "qualifier": "ZZ", "id": "ACMEBUYER"}]})
    assert (taken.status_code, taken.json()["code"]) == (409, "IDENTITY_TAKEN")
    invalid = client.put("/api/v1/partners/initech", headers=headers, json={**body, "status": "maybe"})
    assert invalid.status_code == 422 and invalid.json()["issues"][0]["loc"] == ["status"]
    live = client.put("/api/v1/partners/initech", headers=headers, json={**body, "status": "live"})
    assert live.json()["status"] == "live"
    user = client.post("/api/v1/users", headers=headers,
                       json={"username": "initech-staff", "password": "short", "role": "supplier",
                             "partner": "initech"})
    assert (user.status_code, user.json()["code"]) == (422, "PASSWORD_TOO_SHORT")
    assert client.delete("/api/v1/partners/initech", headers=headers).status_code == 204
    page = client.get("/api/v1/audit", params={"subject": "initech"}, headers=headers).json()
    assert [row["kind"] for row in page["items"]] == ["partner_deleted", "partner_updated", "partner_created"]
    assert {row["actor"] for row in page["items"]} == {"user:admin"}


def test_suspended_partner_cannot_authenticate(client) -> None:
    headers, csrf = login(client, "admin")
    profile = client.get("/api/v1/partners/globex", headers=headers).json()
    suspended = client.put("/api/v1/partners/globex", json={**profile, "status": "suspended"},
                           headers={**headers, "X-CSRF-Token": csrf})
    assert suspended.status_code == 200
    refused = client.get("/api/v1/messages", headers=api(KEYS["globex"]))
    assert (refused.status_code, refused.json()["code"]) == (403, "PARTNER_SUSPENDED")


def test_rate_limit_per_key_answers_429_with_retry_after(client) -> None:
    headers, csrf = login(client, "admin")
    profile = client.get("/api/v1/partners/acme", headers=headers).json()
    client.put("/api/v1/partners/acme", json={**profile, "rate_limit_per_minute": 3},
               headers={**headers, "X-CSRF-Token": csrf})
    answers = [client.get("/api/v1/messages", headers=api(KEYS["acme"])) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].json()["code"] == "RATE_LIMITED" and 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert client.get("/api/v1/messages", headers=api(KEYS["globex"])).status_code == 200  # per key
    assert audit_kinds(client.hub.runtime.engine).count("rate_limited") == 1


def test_openapi_documents_both_security_schemes(shared_client) -> None:
    schema = shared_client.get("/schema/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header", "name": "X-Api-Key"}
    assert schemes["Session"] == {**schemes["Session"], "type": "apiKey", "in": "cookie",
                                  "name": "crossdock_session"}
    assert {"ApiKey": []} in schema["security"]
    assert schema["paths"]["/healthz"]["get"]["security"] == [{}]  # OpenAPI: no credentials needed
    assert "/api/v1/partners" in schema["paths"] and "/api/v1/keys/{key_id}" in schema["paths"]


def test_demo_prints_a_key_a_supplier_login_and_an_ops_login(client, tmp_path) -> None:
    load_demo(client.hub.runtime.engine, tmp_path, hasher=client.app.state.auth.hasher)
    banner = "\n".join(demo_banner("http://127.0.0.1:8080"))
    assert DEMO_KEYS["acme"] in banner
    assert f"ops / {DEMO_USERS['ops'][0]}" in banner  # the fixture's own "ops" user already exists
    password = DEMO_USERS["globex-sales"][0]
    assert f"globex-sales / {password}" in banner
    token = client.get("/login").text.split('name="_csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "globex-sales", "password": password, "_csrf": token},
                           follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/portal")
    client.cookies.clear()


def test_host_key_reads_every_tenant_but_administers_only_itself(shared_client) -> None:
    host = api(KEYS["host"])
    assert shared_client.get("/api/v1/messages", headers=host).status_code == 200
    assert [k["partner_code"] for k in shared_client.get("/api/v1/keys", headers=host).json()] == ["host"]
    assert shared_client.get("/api/v1/partners/acme", headers=host).status_code == 404
    assert shared_client.delete(f"/api/v1/keys/{shared_client.key_ids['acme']}", headers=host).status_code == 404
    assert shared_client.post("/api/v1/keys", json={"partner": "acme"}, headers=host).status_code == 404


def test_session_cookie_is_secure_in_production(tmp_path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'x.db'}", pool_size=1)
    production = fast_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")
    assert build_auth(engine, production).cookie_secure
    assert not build_auth(engine, fast_settings(tmp_path)).cookie_secure
    assert build_auth(engine, fast_settings(tmp_path, auth={"cookie_secure": True})).cookie_secure
    engine.dispose()


def test_key_lookups_are_cached_for_key_cache_s_and_forgotten_after_a_local_revocation(tmp_path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'keys.db'}", pool_size=1)
    upgrade(engine)
    settings = fast_settings(tmp_path, auth={"key_cache_s": 0.3})
    key_ids = seed(engine, settings, tmp_path / "outbox")
    auth = build_auth(engine, settings)
    assert auth.cached_key(KEYS["acme"]) == (False, None)  # never looked up: the guard asks a thread
    assert auth.key(KEYS["acme"]).id == key_ids["acme"]
    cached, match = auth.cached_key(KEYS["acme"])
    assert cached and match.id == key_ids["acme"] and not match.revoked  # answered on the event loop
    with engine.begin() as conn:  # revoked by another process: this one learns it within key_cache_s
        revoke_key(conn, key_ids["acme"], actor="test", scope=None)
    assert not auth.key(KEYS["acme"]).revoked
    time.sleep(0.35)
    assert auth.cached_key(KEYS["acme"]) == (False, None)
    assert auth.key(KEYS["acme"]).revoked
    assert auth.key(KEYS["globex"]) is not None
    auth.forget_keys()  # what a revocation through this process's API does
    assert auth.cached_key(KEYS["globex"]) == (False, None)
    engine.dispose()
