"""Tenant isolation (BOLA) against PostgreSQL: every endpoint a tenant can reach, in both
directions, answers another tenant's ids exactly like missing ones and never shows its data.

The table is the test: adding an endpoint is one :class:`Case` row. Placeholders in ``path``
and ``body`` are the *victim's* objects: ``{msg}`` (its inbound 850), ``{ack}`` (the 997 we
sent it), ``{key}`` (its API key id), ``{code}``, ``{partner_id}``, ``{po}``, ``{isa13}``, and
its VMI objects: ``{item}`` at ``{location}`` (its item at the attacker's store), ``{proposal}``
(its open proposal), ``{doc}`` (the document of its 850).
The attacker is the other tenant's partner key, or its supplier user (``actor="supplier"``).
Every answer is checked for the victim's markers: PO number, name, ISA id, message ids, key id,
item code, description, vendor part and its proposal's links (except those the attacker itself put
in the request). A write to the victim's proposal must leave it open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from idhelpers import (ISA, KEYS, NAMES, VMI_ITEMS, api, fast_settings, interchange, login, proposal_state, seed,
                       seed_inventory, wait_final)
from litestar.testing import TestClient
from sqlalchemy import select

from crossdock.gateway.hub import open_hub
from crossdock.gateway.store import schema as t
from pgscratch import scratch_database

pytestmark = pytest.mark.services

TENANTS = ("acme", "globex")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    body: dict | None = None
    actor: str = "partner"  # the attacker's partner key, or "supplier": its supplier user


CASES = (
    Case("message detail", "GET", "/api/v1/messages/{msg}", 404),
    Case("message raw bytes", "GET", "/api/v1/messages/{msg}/raw", 404),
    Case("message timeline", "GET", "/api/v1/messages/{msg}/events", 404),
    Case("message replay", "POST", "/api/v1/messages/{msg}/replay", 404),
    Case("outbound ack detail", "GET", "/api/v1/messages/{ack}", 404),
    Case("outbound ack raw", "GET", "/api/v1/messages/{ack}/raw", 404),
    Case("outbound ack replay", "POST", "/api/v1/messages/{ack}/replay", 404),
    Case("search by partner id", "GET", "/api/v1/messages?partner={partner_id}", 200),
    Case("search by business key", "GET", "/api/v1/messages?key={po}", 200),
    Case("search by named business key", "GET", "/api/v1/messages?key=po_number%3D{po}", 200),
    Case("search by control number", "GET", "/api/v1/messages?control_number={isa13}", 200),
    Case("search by document type", "GET", "/api/v1/messages?document_type=purchase_order", 200),
    Case("partner profile", "GET", "/api/v1/partners/{code}", 404),
    Case("partner list", "GET", "/api/v1/partners", 200),
    Case("partner replace", "PUT", "/api/v1/partners/{code}", 403, body={"name": "taken over"}),
    Case("keys of another partner", "GET", "/api/v1/keys?partner={code}", 404),
    Case("own key list", "GET", "/api/v1/keys", 200),
    Case("revoke another partner's key", "DELETE", "/api/v1/keys/{key}", 404),
    Case("issue a key for another partner", "POST", "/api/v1/keys", 404, body={"partner": "{code}"}),
    Case("audit of another partner", "GET", "/api/v1/audit?partner={code}", 403),
    Case("supplier: message detail", "GET", "/api/v1/messages/{msg}", 403, actor="supplier"),
    Case("supplier: message search", "GET", "/api/v1/messages?key={po}", 403, actor="supplier"),
    Case("supplier: partner profile", "GET", "/api/v1/partners/{code}", 403, actor="supplier"),
    Case("supplier: who am I", "GET", "/api/v1/session", 200, actor="supplier"),
    Case("ops console message page", "GET", "/ops/messages/{msg}", 403),
    Case("supplier: ops console message page", "GET", "/ops/messages/{msg}", 403, actor="supplier"),
    Case("supplier: ops console search", "GET", "/ops/messages?q={po}", 403, actor="supplier"),
    Case("inventory item detail", "GET", "/api/v1/inventory/{item}/{location}", 404),
    Case("supplier: inventory item detail", "GET", "/api/v1/inventory/{item}/{location}", 404, actor="supplier"),
    Case("inventory item detail naming the supplier", "GET", "/api/v1/inventory/{item}/{location}?supplier={code}",
         404),
    Case("inventory grid", "GET", "/api/v1/inventory", 200),
    Case("supplier: inventory grid", "GET", "/api/v1/inventory", 200, actor="supplier"),
    Case("inventory grid filtered by item", "GET", "/api/v1/inventory?item={item}", 200),
    Case("inventory grid naming the supplier", "GET", "/api/v1/inventory?supplier={code}&exception=any", 200),
    Case("inventory CSV export", "GET", "/api/v1/inventory/export.csv", 200),
    Case("supplier: inventory CSV export", "GET", "/api/v1/inventory/export.csv?item={item}", 200, actor="supplier"),
    Case("inventory summary", "GET", "/api/v1/inventory/summary", 200),
    Case("inventory document of another tenant's 850", "GET", "/api/v1/inventory/documents/{doc}", 404),
    Case("proposal list", "GET", "/api/v1/proposals?state=all", 200),
    Case("supplier: proposal list", "GET", "/api/v1/proposals?state=all", 200, actor="supplier"),
    Case("proposal list naming the supplier", "GET", "/api/v1/proposals?supplier={code}&item={item}", 200),
    Case("proposal edit", "PATCH", "/api/v1/proposals/{proposal}", 404, body={"quantity": 48}),
    Case("proposal approve", "POST", "/api/v1/proposals/{proposal}/approve", 404),
    Case("proposal reject", "POST", "/api/v1/proposals/{proposal}/reject", 404),
    Case("supplier: proposal edit", "PATCH", "/api/v1/proposals/{proposal}", 404, body={"quantity": 48},
         actor="supplier"),
    Case("supplier: proposal approve", "POST", "/api/v1/proposals/{proposal}/approve", 404, actor="supplier"),
    Case("supplier: proposal reject", "POST", "/api/v1/proposals/{proposal}/reject", 404, actor="supplier"),
    Case("supplier: portal inventory page", "GET", "/portal/?item={item}", 200, actor="supplier"),
    Case("supplier: portal export", "GET", "/portal/export.csv", 200, actor="supplier"),
    Case("supplier: portal item page", "GET", "/portal/items/{item}/{location}", 404, actor="supplier"),
    Case("supplier: portal document page", "GET", "/portal/documents/{doc}", 404, actor="supplier"),
    Case("supplier: portal proposals page", "GET", "/portal/proposals?state=all", 200, actor="supplier"),
)
#: the victim's values that must not appear in any answer (unless the attacker sent them)
MARKERS = ("po", "name", "isa", "msg", "ack", "key", "item", "description", "vendor_part", "proposal_link")


@pytest.fixture(scope="module")
def world(postgres_url: str, tmp_path_factory):
    """One fresh PostgreSQL database; acme and globex each with an 850 processed and acknowledged."""
    with scratch_database(postgres_url, "crossdock_identity") as url:
        root = tmp_path_factory.mktemp("isolation")
        settings = fast_settings(root, database_url=url)
        hub = open_hub(settings, workers=True, migrate=True)
        key_ids = seed(hub.runtime.engine, settings, root / "outbox")
        proposals = seed_inventory(hub.runtime.engine)
        try:
            with TestClient(app=hub.app()) as client:
                yield _exchange(client, hub, key_ids, proposals)
        finally:
            hub.runtime.engine.dispose()


def _exchange(client, hub, key_ids, proposals) -> dict:
    objects: dict[str, dict[str, str]] = {}
    with hub.runtime.engine.connect() as conn:
        partner_ids = dict(conn.execute(select(t.partners.c.code, t.partners.c.id)).all())
    for number, code in enumerate(TENANTS, start=1):
        po, isa13 = f"PO-{code.upper()}-{number}0{number}", f"00000{number}7{number}{number}"
        posted = client.post("/api/v1/messages", content=interchange(ISA[code], isa13, po), headers=api(KEYS[code]))
        assert posted.status_code == 202
        message_id = posted.json()["id"]
        assert wait_final(hub.runtime.engine, message_id) == "accepted"
        with hub.runtime.engine.connect() as conn:
            ack = conn.execute(select(t.messages.c.id).where(t.messages.c.parent_id == message_id)).scalar_one()
            doc = conn.execute(select(t.documents.c.id).where(t.documents.c.message_id == message_id)).scalar_one()
        item, location, description, vendor_part = VMI_ITEMS[code]
        objects[code] = {"msg": message_id, "ack": ack, "key": key_ids[code], "code": code, "po": po,
                         "isa13": isa13, "partner_id": str(partner_ids[code]), "name": NAMES[code],
                         "isa": ISA[code], "doc": str(doc), "item": item, "location": location,
                         "description": description, "vendor_part": vendor_part,
                         "proposal": str(proposals[code]), "proposal_link": f"/proposals/{proposals[code]}/"}
    sessions = {code: login(client, f"{code}-staff") for code in TENANTS}
    return {"client": client, "objects": objects, "sessions": sessions}


def _fill(template: str, victim: dict[str, str]) -> str:
    for name, value in victim.items():
        template = template.replace("{" + name + "}", value)
    return template


def _request(world, case: Case, attacker: str, victim: dict[str, str]):
    client = world["client"]
    if case.actor == "supplier":
        cookie, csrf = world["sessions"][attacker]
        headers = {**cookie, "X-CSRF-Token": csrf}
    else:
        headers = api(KEYS[attacker])
    body = json.loads(_fill(json.dumps(case.body), victim)) if case.body else None
    return client.request(case.method, _fill(case.path, victim), headers=headers, json=body)


@pytest.mark.parametrize("direction", [("acme", "globex"), ("globex", "acme")], ids=lambda d: f"{d[0]}->{d[1]}")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_cross_tenant_request_reveals_nothing(world, case: Case, direction: tuple[str, str]) -> None:
    attacker, victim_code = direction
    victim = world["objects"][victim_code]
    response = _request(world, case, attacker, victim)
    assert response.status_code == case.status, response.text
    sent = _fill(case.path, victim) + (_fill(json.dumps(case.body), victim) if case.body else "")
    markers = {victim[k] for k in MARKERS}
    leaked = {m for m in markers if m not in sent and m in response.text}
    assert not leaked, f"{case.name}: {attacker} saw {victim_code}'s {leaked}"
    if case.method != "GET" and "{proposal}" in case.path:
        engine = world["client"].app.state.runtime.engine
        assert proposal_state(engine, int(victim["proposal"])) == "open", f"{case.name} changed the proposal"


@pytest.mark.parametrize("code", TENANTS)
def test_owners_do_see_their_own_objects(world, code: str) -> None:
    """The positive control: the same requests by the owner find the data (so the 404s mean something)."""
    client, own = world["client"], world["objects"][code]
    detail = client.get(f"/api/v1/messages/{own['msg']}", headers=api(KEYS[code]))
    assert detail.status_code == 200 and own["po"] in detail.text
    found = client.get("/api/v1/messages", params={"key": own["po"]}, headers=api(KEYS[code])).json()
    assert [item["id"] for item in found["items"]] == [own["msg"]]
    assert client.get(f"/api/v1/messages/{own['ack']}/raw", headers=api(KEYS[code])).status_code == 200
    assert client.get(f"/api/v1/partners/{code}", headers=api(KEYS[code])).json()["name"] == own["name"]
    keys = client.get("/api/v1/keys", headers=api(KEYS[code])).json()
    assert [k["id"] for k in keys] == [own["key"]]
    item = client.get(f"/api/v1/inventory/{own['item']}/{own['location']}", headers=api(KEYS[code]))
    assert item.status_code == 200 and own["description"] in item.text
    grid = client.get("/api/v1/inventory", headers=api(KEYS[code]))
    assert grid.status_code == 200 and own["item"] in grid.text
    assert own["item"] in client.get("/api/v1/inventory/export.csv", headers=api(KEYS[code])).text
    listed = client.get("/api/v1/proposals", headers=api(KEYS[code])).json()["items"]
    assert [p["id"] for p in listed] == [int(own["proposal"])]
    cookie, _ = world["sessions"][code]
    page = client.get(f"/portal/items/{own['item']}/{own['location']}", headers=cookie)
    assert page.status_code == 200 and own["description"] in page.text
    assert own["proposal_link"] in client.get("/portal/proposals", headers=cookie).text


def test_ops_sees_every_tenant(world) -> None:
    client = world["client"]
    cookie, _ = login(client, "ops")
    items = client.get("/api/v1/messages", params={"direction": "inbound"}, headers=cookie).json()["items"]
    assert {item["id"] for item in items} >= {world["objects"][c]["msg"] for c in TENANTS}


def test_sender_spoofing_is_rejected_and_filed_under_nobody_else(world) -> None:
    """Authenticated as acme, ISA06 is globex's: the message fails SENDER_MISMATCH, globex never sees it."""
    client = world["client"]
    posted = client.post("/api/v1/messages", content=interchange(ISA["globex"], "000000999", "PO-SPOOF-9"),
                         headers=api(KEYS["acme"]))
    assert posted.status_code == 202
    message_id = posted.json()["id"]
    engine = client.app.state.runtime.engine
    assert wait_final(engine, message_id) == "failed"
    detail = client.get(f"/api/v1/messages/{message_id}", headers=api(KEYS["acme"])).json()
    assert (detail["error_code"], detail["documents"], detail["outbound"]) == ("SENDER_MISMATCH", [], [])
    assert detail["interchanges"] == []  # nothing of the envelope is filed under any partner
    hidden = client.get(f"/api/v1/messages/{message_id}", headers=api(KEYS["globex"]))
    assert hidden.status_code == 404
    found = client.get("/api/v1/messages", params={"key": "PO-SPOOF-9"}, headers=api(KEYS["globex"])).json()
    assert found["items"] == []
    with engine.connect() as conn:
        documents = conn.execute(select(t.documents.c.id).where(t.documents.c.message_id == message_id)).all()
    assert documents == []
