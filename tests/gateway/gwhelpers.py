"""Helpers for the gateway tests: fast settings, partners, X12 builders, waiting for final states.

Settings are built explicitly (never through environment variables) with short sweeper, lease
and backoff periods so fault tests finish in seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from crossdock.gateway.hub import Hub
from crossdock.gateway.partners import AgreementConfig, ChannelConfig, IdentitySpec, create_partner
from crossdock.gateway.settings import Settings, load_settings
from crossdock.gateway.store import schema as t

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FINAL = {"accepted", "partially_accepted", "rejected", "duplicate", "failed", "dead", "delivered"}
KEYS = {"host": "host-key", "acme": "acme-key", "globex": "globex-key", "tester": "tester-key"}

FAST_WORKFLOW = {
    "worker_threads": 3,
    "lease_s": 3.0,
    "redispatch_after_s": 3.0,
    "sweep_interval_s": 0.3,
    "max_attempts": 3,
    "backoff_base_s": 0.05,
    "backoff_cap_s": 0.2,
}


def fast_settings(tmp_path: Path, **overrides) -> Settings:
    workflow = {**FAST_WORKFLOW, **overrides.pop("workflow", {})}
    delivery = {"max_attempts": 3, "connect_timeout_s": 1.0, "read_timeout_s": 2.0, **overrides.pop("delivery", {})}
    return load_settings(var_dir=tmp_path / "var", workflow=workflow, delivery=delivery, **overrides)


def add_partners(hub: Hub | Engine, outbox: Path, *, acme_channel: ChannelConfig | None = None) -> None:
    """host (ERP), acme (ISA ZZ:ACMEBUYER), globex (ZZ:GLOBEXSUP), tester (ZZ:TESTER, test mode)."""
    outbox.mkdir(parents=True, exist_ok=True)
    directory = ChannelConfig(kind="directory", directory=outbox)
    engine = hub.runtime.engine if isinstance(hub, Hub) else hub
    with engine.begin() as conn:
        create_partner(conn, code="host", name="ERP", kind="host",
                       identities=[IdentitySpec(kind="api_key", value=KEYS["host"])])
        for code, isa, mode in (("acme", "ZZ:ACMEBUYER", "production"), ("globex", "ZZ:GLOBEXSUP", "production"),
                                ("tester", "ZZ:TESTER", "test")):
            channel = acme_channel if code == "acme" and acme_channel else directory
            create_partner(conn, code=code, name=code.title(),
                           identities=[IdentitySpec(kind="isa", value=isa),
                                       IdentitySpec(kind="api_key", value=KEYS[code])],
                           agreements=[("*", "inbound", AgreementConfig(mode=mode)),
                                       ("*", "outbound", AgreementConfig(mode=mode, channel=channel))])


def post(client, body: bytes, key: str = KEYS["acme"], **headers: str):
    return client.post("/api/v1/messages", content=body, headers={"X-Api-Key": key, **headers})


def wait_final(engine, message_id: str, timeout: float = 30.0) -> str:
    """Poll until the message reaches a final status; returns it (fails the test on timeout)."""
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


def wait_outbound(engine, parent_id: str, timeout: float = 30.0) -> list:
    """Wait until every outbound child of a message is final; returns the children."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            children = conn.execute(select(t.messages).where(t.messages.c.parent_id == parent_id)).all()
        if all(c.status in FINAL | {"stored"} for c in children):
            return children
        time.sleep(0.05)
    pytest.fail(f"outbound of {parent_id} not final")


def count(engine, table, *where) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def stages(engine, message_id: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.stage, r.outcome) for r in conn.execute(
            select(t.events.c.stage, t.events.c.outcome).where(t.events.c.message_id == message_id)
            .order_by(t.events.c.id))]


def interchange(sender: str, control: str, sets: list[str], *, usage: str = "P", receiver: str = "CROSSDOCK",
                group_control: str | None = None, ack_requested: str = "0", functional_id: str = "PO") -> bytes:
    """An X12 interchange around ready set texts (each ``ST…SE`` with ``~`` terminators)."""
    gs = group_control or str(int(control))
    isa = (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*240301*0930*U*00401*"
           f"{control}*{ack_requested}*{usage}*>~")
    body = "".join(sets)
    return (f"{isa}GS*{functional_id}*{sender}*{receiver}*20240301*0930*{gs}*X*004010~{body}"
            f"GE*{len(sets)}*{gs}~IEA*1*{control}~").encode()


def po_set(control: str, po_number: str, *, broken: bool = False) -> str:
    """A small valid 850 set (``broken``: SE01 off by one, a set-level rejection AK5 code 4)."""
    segments = [f"ST*850*{control}", f"BEG*00*SA*{po_number}**20240301", "N1*ST*STORE*92*0042",
                "PO1*1*10*EA*2.5**UP*012345678905", "CTT*1"]
    count = len(segments) + 1 + (1 if broken else 0)
    return "".join(s + "~" for s in segments) + f"SE*{count}*{control}~"
