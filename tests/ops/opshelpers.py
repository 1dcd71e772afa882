"""Helpers for the ops tests: an embedded hub with partners, a movable clock, X12 builders, waits.

Settings are built explicitly (never from the environment) with short sweeper and backoff
periods; the hub's clock is a :class:`MovableClock` so ack windows pass without waiting.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from crossdock.gateway.hub import Hub, open_hub
from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.partners import AgreementConfig, ChannelConfig, IdentitySpec, create_partner, partner_by_code
from crossdock.gateway.settings import Settings, load_settings
from crossdock.gateway.store import schema as t

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FINAL = {"accepted", "partially_accepted", "rejected", "duplicate", "failed", "dead", "delivered", "stored"}
KEYS = {"erp": "ops-erp-key", "acme": "ops-acme-key", "globex": "ops-globex-key", "initech": "ops-initech-key"}
ACK_WINDOW_HOURS = 2.0


class MovableClock:
    """Wall-clock time plus an offset a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def ops_settings(tmp_path: Path, **overrides) -> Settings:
    workflow = {"worker_threads": 2, "lease_s": 3.0, "redispatch_after_s": 3.0, "sweep_interval_s": 0.3,
                "max_attempts": 3, "backoff_base_s": 0.05, "backoff_cap_s": 0.2}
    return load_settings(var_dir=tmp_path / "var", workflow=workflow,
                         delivery={"max_attempts": 2, "connect_timeout_s": 1.0, "read_timeout_s": 2.0},
                         ops={"alert_interval_s": 0, **overrides.pop("ops", {})}, **overrides)


def add_ops_partners(engine: Engine, outbox: Path) -> None:
    """erp (host), acme (buyer), globex (seller: outbound X12 expecting 997 within 2 h), initech
    (ISA identity and key but no inbound agreement: its messages fail until one is added)."""
    outbox.mkdir(parents=True, exist_ok=True)
    channel = ChannelConfig(kind="directory", directory=outbox)
    with engine.begin() as conn:
        create_partner(conn, code="erp", name="ERP", kind="host",
                       identities=[IdentitySpec(kind="api_key", value=KEYS["erp"])])
        create_partner(conn, code="acme", name="Acme",
                       identities=[IdentitySpec(kind="isa", value="ZZ:ACMEBUYER"),
                                   IdentitySpec(kind="api_key", value=KEYS["acme"])],
                       agreements=[("*", "inbound", AgreementConfig()),
                                   ("*", "outbound", AgreementConfig(channel=channel))])
        create_partner(conn, code="globex", name="Globex",
                       identities=[IdentitySpec(kind="isa", value="ZZ:GLOBEXSUP"),
                                   IdentitySpec(kind="api_key", value=KEYS["globex"])],
                       agreements=[("*", "inbound", AgreementConfig()),
                                   ("*", "outbound", AgreementConfig(channel=channel,
                                                                     ack_within_hours=ACK_WINDOW_HOURS))])
        create_partner(conn, code="initech", name="Initech",
                       identities=[IdentitySpec(kind="isa", value="ZZ:INITECH"),
                                   IdentitySpec(kind="api_key", value=KEYS["initech"])])


def fix_initech(engine: Engine) -> None:
    """The configuration fix an operator makes: give initech an inbound agreement."""
    with engine.begin() as conn:
        partner_id = conn.execute(select(t.partners.c.id).where(t.partners.c.code == "initech")).scalar_one()
        conn.execute(insert(t.agreements).values(partner_id=partner_id, document_type="*", direction="inbound",
                                                 config=AgreementConfig().model_dump(mode="json", exclude_none=True)))


def open_ops_hub(tmp_path: Path, clock: MovableClock | None = None, **overrides) -> Hub:
    hub = open_hub(ops_settings(tmp_path, **overrides), workers=True)
    if clock is not None:
        hub.runtime.clock = clock
    add_ops_partners(hub.runtime.engine, tmp_path / "outbox")
    return hub


def interchange(sender: str, control: str, sets: list[str], *, functional_id: str = "PO",
                group_control: str | None = None) -> bytes:
    """An X12 004010 interchange to CROSSDOCK around ready set texts (``~`` terminated)."""
    gs = group_control or str(int(control))
    isa = (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{'CROSSDOCK':<15}*240301*0930*U*00401*"
           f"{control}*0*P*>~")
    return (f"{isa}GS*{functional_id}*{sender}*CROSSDOCK*20240301*0930*{gs}*X*004010~{''.join(sets)}"
            f"GE*{len(sets)}*{gs}~IEA*1*{control}~").encode()


def po_set(control: str, po_number: str, *, quantity: int = 10, broken: bool = False,
           ship_by: str = "20240315") -> str:
    """An 850 set (``broken``: BEG05 is not a date → AK4 element 5 error, AK5 R)."""
    segments = [f"ST*850*{control}", f"BEG*00*SA*{po_number}**{'2024X301' if broken else '20240301'}",
                f"DTM*010*{ship_by}",
                "N1*ST*STORE*92*0042", f"PO1*1*{quantity}*EA*2.5**UP*012345678905", "CTT*1"]
    return "".join(s + "~" for s in segments) + f"SE*{len(segments) + 1}*{control}~"


def asn_set(control: str, asn_number: str, po_number: str, *, shipped: int, ship_date: str = "20240305") -> str:
    segments = [f"ST*856*{control}", f"BSN*00*{asn_number}*{ship_date}*1400", "HL*1**S",
                f"DTM*011*{ship_date}", "HL*2*1*O", f"PRF*{po_number}", "HL*3*2*I",
                "LIN*1*UP*012345678905", f"SN1**{shipped}*EA", "CTT*3"]
    return "".join(s + "~" for s in segments) + f"SE*{len(segments) + 1}*{control}~"


def rejecting_997(control: str, group_control: str, set_control: str) -> str:
    segments = [f"ST*997*{control}", f"AK1*PO*{group_control}", f"AK2*850*{set_control}", "AK3*PO1*3**8",
                "AK4*2*330*1", "AK5*R*5", "AK9*R*1*1*0"]
    return "".join(s + "~" for s in segments) + f"SE*{len(segments) + 1}*{control}~"


def canonical_po(po_number: str, quantity: int = 5) -> bytes:
    return json.dumps({"document_type": "purchase_order", "po_number": po_number,
                       "dates": [{"kind": "ship_no_later", "value": {"date": "2024-03-10"}}],
                       "lines": [{"line_number": "1", "quantity": {"value": str(quantity), "unit": "EA"},
                                  "item": {"ids": [{"kind": "gtin", "value": "00012345678905"}]}}]}).encode()


def post(client, body: bytes, key: str, **headers: str):
    return client.post("/api/v1/messages", content=body, headers={"X-Api-Key": key, **headers})


def wait_final(engine: Engine, message_id: str, timeout: float = 30.0) -> str:
    """Poll until the message reaches a final status with no work left; returns the status."""
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


def wait_children(engine: Engine, parent_id: str, timeout: float = 30.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            children = conn.execute(select(t.messages).where(t.messages.c.parent_id == parent_id)).all()
        if children and all(c.status in FINAL for c in children):
            return children
        time.sleep(0.05)
    pytest.fail(f"outbound of {parent_id} not final")


def submit(hub: Hub, body: bytes, sender: str, *, recipient: str | None = None,
           content_type: str | None = None) -> str:
    """Ingest like the API does (commit, then dispatch) and return the message id."""
    engine = hub.runtime.engine
    with engine.connect() as conn:
        partner = partner_by_code(conn, sender)
        to = partner_by_code(conn, recipient) if recipient else None
    result = ingest(engine, IngestRequest(body=body, channel="http", partner=partner, recipient=to,
                                          content_type=content_type))
    if result.work_id is not None:
        hub.runtime.dispatch(result.work_id)
    return result.message_id
