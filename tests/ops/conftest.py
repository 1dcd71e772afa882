"""A scenario shared by the ops service tests: one embedded hub, a handful of real flows.

Messages go in through :func:`crossdock.gateway.ingest.ingest` (what the HTTP API and the
inbox call) and run through the in-process workers; the tests then read them back through the
ops services.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from opshelpers import (
    EXAMPLES,
    MovableClock,
    asn_set,
    canonical_po,
    interchange,
    open_ops_hub,
    po_set,
    rejecting_997,
    submit,
    wait_children,
    wait_final,
)
from sqlalchemy import select

from crossdock.gateway.hub import Hub
from crossdock.gateway.store import schema as t


@dataclass
class Scenario:
    hub: Hub
    clock: MovableClock
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self):
        return self.hub.runtime.engine


def _outbound_group(engine, parent_id: str) -> tuple[str, str]:
    """(GS06, ST02) of the 850 we rendered for a host message."""
    with engine.connect() as conn:
        child = conn.execute(select(t.messages.c.id).where(t.messages.c.parent_id == parent_id)).scalar_one()
        group = conn.execute(select(t.acks.c.group_control).where(t.acks.c.message_id == child)).scalar_one()
    return group, "0001"


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> Iterator[Scenario]:
    root: Path = tmp_path_factory.mktemp("ops")
    clock = MovableClock()
    hub = open_ops_hub(root, clock)
    hub.start()
    s = Scenario(hub, clock)
    engine = hub.runtime.engine
    s.ids["po"] = submit(hub, (EXAMPLES / "850.x12").read_bytes(), "acme")
    s.ids["broken"] = submit(hub, interchange("ACMEBUYER", "000000555", [po_set("0007", "PO-BAD-1", broken=True)]),
                             "acme")
    s.ids["out1"] = submit(hub, canonical_po("PO-OUT-1", 5), "erp", recipient="globex",
                           content_type="application/json")
    s.ids["out2"] = submit(hub, canonical_po("PO-OUT-2", 3), "erp", recipient="globex",
                           content_type="application/json")
    s.ids["initech"] = submit(hub, interchange("INITECH", "000000901", [po_set("0001", "PO-INI-1")]), "initech")
    for name in ("po", "broken", "out1", "out2", "initech"):
        wait_final(engine, s.ids[name])
    for name in ("po", "out1", "out2"):
        wait_children(engine, s.ids[name])
    s.ids["asn"] = submit(hub, interchange("GLOBEXSUP", "000000701", [asn_set("0001", "ASN-9001", "PO-OUT-1",
                                                                              shipped=4)], functional_id="SH"),
                          "globex")
    group, set_control = _outbound_group(engine, s.ids["out2"])
    s.ids["ack997"] = submit(hub, interchange("GLOBEXSUP", "000000702", [rejecting_997("0001", group, set_control)],
                                              functional_id="FA"), "globex")
    for name in ("asn", "ack997"):
        wait_final(engine, s.ids[name])
    yield s
    hub.stop()
