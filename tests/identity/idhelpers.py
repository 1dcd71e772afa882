"""Helpers for the identity tests: fast settings, a seeded registry, logins, X12 builders, waits.

Passwords use argon2 with a tiny cost (the production cost is the settings default). Settings
are built explicitly, never through environment variables.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from crossdock.gateway.auth.keys import store_key
from crossdock.gateway.inventory.importer import parse_master_data
from crossdock.gateway.inventory.planning import run_planning
from crossdock.gateway.inventory.store import save_master_data
from crossdock.gateway.auth.users import create_user, password_hasher
from crossdock.gateway.partners import PartnerProfile, save_profile
from crossdock.gateway.settings import Settings, load_settings
from crossdock.gateway.store import schema as t

FAST_AUTH = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
FAST_WORKFLOW = {"worker_threads": 2, "lease_s": 3.0, "redispatch_after_s": 3.0, "sweep_interval_s": 0.3,
                 "max_attempts": 3, "backoff_base_s": 0.05, "backoff_cap_s": 0.2}
FINAL = {"accepted", "partially_accepted", "rejected", "duplicate", "failed", "dead", "delivered", "stored"}
KEYS = {"host": "cdk_test_host_key", "acme": "cdk_test_acme_key", "globex": "cdk_test_globex_key"}
ISA = {"acme": "ACMEBUYER", "globex": "GLOBEXSUP"}
NAMES = {"acme": "Acme Retail Group", "globex": "Globex Supply Company"}
#: user name → (password, role, partner code)
USERS = {"admin": ("admin-password-1", "admin", None), "ops": ("ops-password-1", "ops", None),
         "acme-staff": ("acme-password-1", "supplier", "acme"),
         "globex-staff": ("globex-password-1", "supplier", "globex")}


def fast_settings(tmp_path: Path, **overrides) -> Settings:
    auth = {**FAST_AUTH, **overrides.pop("auth", {})}
    workflow = {**FAST_WORKFLOW, **overrides.pop("workflow", {})}
    return load_settings(var_dir=tmp_path / "var", auth=auth, workflow=workflow, **overrides)


def profile(code: str, outbox: Path, **fields) -> PartnerProfile:
    """acme or globex: ISA identity, inbound 997, outbound X12 into ``outbox/<code>``."""
    data = {"code": code, "name": NAMES[code], "roles": ["customer" if code == "acme" else "supplier"],
            "identities": [{"kind": "isa", "qualifier": "ZZ", "id": ISA[code]}],
            "agreements": [{"direction": "inbound", "ack": "997"},
                           {"direction": "outbound",
                            "channel": {"kind": "directory", "directory": str(outbox / code)}}]}
    return PartnerProfile.model_validate({**data, **fields})


def seed(engine: Engine, settings: Settings, outbox: Path) -> dict[str, str]:
    """host, acme and globex with known keys; admin, ops and one supplier user per partner.

    Returns:
        Key ids by partner code.
    """
    hasher = password_hasher(settings.auth)
    key_ids: dict[str, str] = {}
    with engine.begin() as conn:
        host, _ = save_profile(conn, PartnerProfile(code="host", name="Our ERP", kind="host"), actor="test")
        partners = {"host": host}
        for code in ("acme", "globex"):
            partners[code], _ = save_profile(conn, profile(code, outbox), actor="test")
        for code, key in KEYS.items():
            key_ids[code] = store_key(conn, partners[code].id, key, label="test", actor="test",
                                      now=_now())
        for username, (password, role, code) in USERS.items():
            create_user(conn, hasher, username=username, password=password, role=role,
                        partner_id=partners[code].id if code else None, actor="test")
    return key_ids


#: each tenant a VMI supplier of its own secret item at a store of the other tenant; min 10, no
#: stock, so planning opens one proposal per tenant
MASTER = """
programs:
  - {supplier: acme, customer: globex, order_document: purchase_order, po_prefix: VMA}
  - {supplier: globex, customer: acme, order_document: purchase_order, po_prefix: VMG}
locations:
  - {code: GLOBEX-S1, name: Globex Store 1, kind: store, customer: globex, partner_code: "G001"}
  - {code: ACME-S1, name: Acme Store 1, kind: store, customer: acme, partner_code: "A001"}
items:
  - {supplier: acme, code: ITEM-ACME-1, description: Acme secret widget, buyer_sku: "A-1", vendor_part: VP-ACME-SECRET, unit: EA}
  - {supplier: globex, code: ITEM-GLOBEX-1, description: Globex secret gizmo, buyer_sku: "G-1", vendor_part: VP-GLOBEX-SECRET, unit: EA}
policies:
  - {supplier: acme, item: ITEM-ACME-1, location: GLOBEX-S1, method: min_max, min_qty: 10, max_qty: 50, lead_time_days: 2}
  - {supplier: globex, item: ITEM-GLOBEX-1, location: ACME-S1, method: min_max, min_qty: 10, max_qty: 50, lead_time_days: 2}
"""
#: partner code → (item code, location code, description, vendor part) of its VMI item
VMI_ITEMS = {"acme": ("ITEM-ACME-1", "GLOBEX-S1", "Acme secret widget", "VP-ACME-SECRET"),
             "globex": ("ITEM-GLOBEX-1", "ACME-S1", "Globex secret gizmo", "VP-GLOBEX-SECRET")}


def seed_inventory(engine: Engine) -> dict[str, int]:
    """Save :data:`MASTER` and plan every supplier once.

    Returns:
        The id of each supplier's open proposal, by partner code.
    """
    now = _now()
    with engine.begin() as conn:
        save_master_data(conn, parse_master_data(MASTER, "yaml"), now=now)
    run_planning(engine, now.date(), now=now)
    p, partners = t.inv_proposals, t.partners
    with engine.connect() as conn:
        rows = conn.execute(select(partners.c.code, p.c.id).join(partners, partners.c.id == p.c.supplier_id)
                            .where(p.c.state == "open")).all()
    found = dict(rows)
    assert sorted(found) == ["acme", "globex"] and len(rows) == 2, rows
    return found


def proposal_state(engine: Engine, proposal_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(t.inv_proposals.c.state).where(t.inv_proposals.c.id == proposal_id)).scalar_one()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def api(key: str) -> dict[str, str]:
    return {"X-Api-Key": key}


_CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


def login(client, username: str, password: str | None = None) -> tuple[dict[str, str], str]:
    """Log in through the form; returns (headers carrying the session cookie, the CSRF token).

    The client's cookie jar is emptied afterwards, so each request says who it is explicitly.
    """
    password = password if password is not None else USERS[username][0]
    form = client.get("/login")
    token = _CSRF_FIELD.search(form.text).group(1)
    response = client.post("/login", data={"username": username, "password": password, "_csrf": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    session = response.cookies["crossdock_session"]
    client.cookies.clear()
    headers = {"Cookie": f"crossdock_session={session}"}
    page = client.get("/", headers={**headers, "Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    return headers, _session_csrf(client, headers)


def _session_csrf(client, headers: dict[str, str]) -> str:
    """The session's CSRF token, as scripts read it."""
    return client.get("/api/v1/session", headers=headers).json()["csrf_token"]


def interchange(sender: str, control: str, po_number: str, *, receiver: str = "CROSSDOCK") -> bytes:
    """One interchange with one small valid 850."""
    segments = [f"ST*850*0001", f"BEG*00*SA*{po_number}**20240301", "N1*ST*STORE*92*0042",
                "PO1*1*10*EA*2.5**UP*012345678905", "CTT*1"]
    body = "".join(s + "~" for s in segments) + f"SE*{len(segments) + 1}*0001~"
    gs = str(int(control))
    return (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*240301*0930*U*00401*"
            f"{control}*0*P*>~GS*PO*{sender}*{receiver}*20240301*0930*{gs}*X*004010~{body}"
            f"GE*1*{gs}~IEA*1*{control}~").encode()


def wait_final(engine: Engine, message_id: str, timeout: float = 30.0) -> str:
    """Poll until the message and its outbound children are final; returns its status."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            status = conn.execute(select(t.messages.c.status).where(t.messages.c.id == message_id)).scalar()
            busy = conn.execute(select(t.work_items.c.id).join(t.messages, t.messages.c.id == t.work_items.c.message_id)
                                .where((t.messages.c.id == message_id) | (t.messages.c.parent_id == message_id),
                                       t.work_items.c.state.in_(("pending", "running")))).first()
        if status in FINAL and busy is None:
            return status
        time.sleep(0.05)
    pytest.fail(f"message {message_id} stuck in {status!r}")


def children(engine: Engine, message_id: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(t.messages).where(t.messages.c.parent_id == message_id)
                            .order_by(t.messages.c.received_at)).all()


def audit_kinds(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.audit_log.c.kind).order_by(t.audit_log.c.id)).scalars())
