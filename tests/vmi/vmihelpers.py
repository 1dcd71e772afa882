"""Helpers for the VMI tests: partners, master data, X12 builders, waiting for the pipeline.

Partners: ``host`` (our ERP, posts outbound documents), ``acme`` (a retailer, ISA ZZ:ACMEBUYER,
sends 852/846/850), ``globex`` and ``initech`` (suppliers, ISA ZZ:GLOBEXSUP / ZZ:INITECH).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crossdock.gateway.inventory.importer import parse_master_data
from crossdock.gateway.inventory.store import save_master_data
from crossdock.gateway.partners import AgreementConfig, ChannelConfig, IdentitySpec, create_partner
from crossdock.gateway.settings import Settings, load_settings
from crossdock.gateway.store import schema as t

KEYS = {"host": "host-key-0123456789", "acme": "acme-key-0123456789", "globex": "globex-key-0123456789",
        "initech": "initech-key-0123456789"}
FINAL = {"accepted", "partially_accepted", "rejected", "duplicate", "failed", "dead", "delivered", "stored"}

MASTER = """
programs:
  - {supplier: globex, customer: acme, order_document: order_response, po_prefix: VMI}
  - {supplier: initech, customer: acme, order_document: purchase_order, po_prefix: INI}
locations:
  - {code: ACME-S042, name: Acme Store 42, kind: store, customer: acme, partner_code: "0042"}
  - {code: ACME-S043, name: Acme Store 43, kind: store, customer: acme, partner_code: "0043", gln: "0614141000012"}
  - {code: ACME-DC1, name: Acme DC, kind: dc, customer: acme, partner_code: "DC1"}
items:
  - {supplier: globex, code: GLX-100, description: Widget, buyer_sku: "100-1", vendor_part: "W-100", gtin: "012345678905", pack_size: 12, unit: EA}
  - {supplier: globex, code: GLX-200, description: Gadget, buyer_sku: "200-1", vendor_part: "G-200", unit: EA}
  - {supplier: initech, code: INI-300, description: "=HYPERLINK(\\"http://evil/?\\",\\"x\\")", buyer_sku: "300-1", vendor_part: "T-300", unit: EA}
policies:
  - {supplier: globex, item: GLX-100, location: ACME-S042, method: min_max, min_qty: 40, max_qty: 120, lead_time_days: 3, pack_multiple: 12}
  - {supplier: globex, item: GLX-100, location: ACME-S043, method: min_max, min_qty: 40, max_qty: 120, lead_time_days: 3, pack_multiple: 12}
  - {supplier: globex, item: GLX-200, location: ACME-S042, method: reorder_point, service_level: 0.95, lead_time_days: 5}
  - {supplier: initech, item: INI-300, location: ACME-S042, method: min_max, min_qty: 10, max_qty: 50, lead_time_days: 2}
"""

FAST_WORKFLOW = {"worker_threads": 2, "lease_s": 3.0, "redispatch_after_s": 3.0, "sweep_interval_s": 0.2,
                 "max_attempts": 3, "backoff_base_s": 0.05, "backoff_cap_s": 0.2}


def fast_settings(tmp_path: Path, **overrides) -> Settings:
    inventory = {"replan_debounce_s": 0.2, "planner_poll_s": 0.2, **overrides.pop("inventory", {})}
    return load_settings(var_dir=tmp_path / "var", workflow=FAST_WORKFLOW, inventory=inventory,
                         auth={"argon2_time_cost": 1, "argon2_memory_kib": 8192}, **overrides)


def add_partners(engine, outbox: Path) -> dict[str, int]:
    outbox.mkdir(parents=True, exist_ok=True)
    channel = ChannelConfig(kind="directory", directory=outbox)
    ids = {}
    with engine.begin() as conn:
        ids["host"] = create_partner(conn, code="host", name="ERP", kind="host",
                                     identities=[IdentitySpec(kind="api_key", value=KEYS["host"])]).id
        for code, isa in (("acme", "ZZ:ACMEBUYER"), ("globex", "ZZ:GLOBEXSUP"), ("initech", "ZZ:INITECH")):
            ids[code] = create_partner(conn, code=code, name=code.title(), identities=[
                IdentitySpec(kind="isa", value=isa), IdentitySpec(kind="api_key", value=KEYS[code])],
                agreements=[("*", "inbound", AgreementConfig()),
                            ("*", "outbound", AgreementConfig(channel=channel, expect_ack=False))]).id
        save_master_data(conn, parse_master_data(MASTER, "yaml"), now=_now())
    return ids


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def interchange(sender: str, control: str, sets: list[str], functional_id: str) -> bytes:
    isa = (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{'CROSSDOCK':<15}*240301*0930*U*00401*"
           f"{control}*0*P*>~")
    gs = str(int(control))
    return (f"{isa}GS*{functional_id}*{sender}*CROSSDOCK*20240301*0930*{gs}*X*004010~{''.join(sets)}"
            f"GE*{len(sets)}*{gs}~IEA*1*{control}~").encode()


def x12_set(set_id: str, control: str, segments: list[str]) -> str:
    body = [f"ST*{set_id}*{control}", *segments]
    return "".join(s + "~" for s in body) + f"SE*{len(body) + 1}*{control}~"


def activity_852(control: str, start: str, end: str, stores: dict[str, list[tuple[str, int, int]]],
                 report: str = "R1", received: dict[tuple[str, str], int] | None = None) -> bytes:
    """An 852 from acme: per store code, (buyer SKU, on hand, sold) per item, as SDQ per store.

    ``received`` adds ZA*QR per (store, SKU).
    """
    by_item: dict[str, dict[str, tuple[int, int]]] = {}
    for store, lines in stores.items():
        for sku, on_hand, sold in lines:
            by_item.setdefault(sku, {})[store] = (on_hand, sold)
    segments = [f"XQ*H*{start}*{end}", f"XPO*{report}", "N1*RL*ACME RETAIL*92*ACME"]
    for n, (sku, places) in enumerate(by_item.items(), start=1):
        segments.append(f"LIN*{n}*BP*{sku}")
        for code, index in (("QA", 0), ("QS", 1)):
            total = sum(v[index] for v in places.values())
            pairs = "*".join(f"{store}*{v[index]}" for store, v in places.items())
            segments += [f"ZA*{code}*{total}*EA", f"SDQ*EA*92*{pairs}"]
        got = {store: qty for (store, item), qty in (received or {}).items() if item == sku}
        if got:
            pairs = "*".join(f"{store}*{qty}" for store, qty in got.items())
            segments += [f"ZA*QR*{sum(got.values())}*EA", f"SDQ*EA*92*{pairs}"]
    segments.append(f"CTT*{len(by_item)}")
    return interchange("ACMEBUYER", control, [x12_set("852", "0001", segments)], "PD")


def wait_final(engine, message_id: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            status = conn.execute(select(t.messages.c.status).where(t.messages.c.id == message_id)).scalar()
            busy = conn.execute(select(t.work_items.c.id).where(
                t.work_items.c.message_id == message_id, t.work_items.c.state.in_(("pending", "running")))).first()
        if status in FINAL and busy is None:
            return status
        time.sleep(0.05)
    pytest.fail(f"message {message_id} stuck in {status!r}")


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")
