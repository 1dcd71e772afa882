"""A replayed message claimed in one worker batch with a fresh message.

A fresh message's chain keeps what its stages wrote in memory, so in a batch those rows are
written at the batch's end. A replay has no such state: its later stages read its interchanges,
sets and documents back with SQL, so it must write them at once even inside a batch. Before
that rule the replay below found "no interchange", stored no document and ended ``rejected``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crossdock.gateway.hub import open_hub
from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.replay import replay
from crossdock.gateway.store import schema as t
from crossdock.gateway.workflow.runner import run_work

from opshelpers import add_ops_partners, fix_initech, interchange, ops_settings, po_set


def test_a_replay_batched_with_a_fresh_message_reads_back_its_own_rows(tmp_path: Path) -> None:
    hub = open_hub(ops_settings(tmp_path), workers=False)
    add_ops_partners(hub.runtime.engine, tmp_path / "outbox")
    engine, queued = hub.runtime.engine, []
    hub.runtime.dispatch = lambda work_id, delay=None: queued.append(work_id)

    def post(body: bytes, sender: str) -> tuple[str, int]:
        with engine.connect() as conn:
            partner = partner_by_code(conn, sender)
        result = ingest(engine, IngestRequest(body=body, channel="http", partner=partner))
        return result.message_id, result.work_id

    def status(message_id: str) -> str:
        with engine.connect() as conn:
            return conn.execute(select(t.messages.c.status).where(t.messages.c.id == message_id)).scalar_one()

    try:
        failed, first = post(interchange("INITECH", "000000901", [po_set("0001", "PO-REPLAYED")]), "initech")
        run_work(hub.runtime, first)
        assert status(failed) == "failed"  # no inbound agreement yet
        fix_initech(engine)
        queued.clear()
        assert replay(hub.runtime, failed, None) == "replaying"
        fresh, fresh_item = post(interchange("ACMEBUYER", "000000777", [po_set("0001", "PO-FRESH")]), "acme")
        run_work(hub.runtime, [queued.pop(0), fresh_item])  # one batch: the replay and a fresh message
        assert (status(failed), status(fresh)) == ("accepted", "accepted")
        with engine.connect() as conn:
            timeline = conn.execute(select(t.events.c.stage, t.events.c.outcome)
                                    .where(t.events.c.message_id == failed).order_by(t.events.c.id)).all()
            orders = sorted(conn.execute(select(t.orders.c.po_number)).scalars())
            acked = conn.execute(select(t.acks.c.message_id).where(t.acks.c.direction == "sent")).scalars().all()
        assert [tuple(row) for row in timeline[-5:]] == [("parse", "ok"), ("acknowledge", "ok"), ("map", "ok"),
                                                         ("apply", "ok"), ("route", "ok")]
        assert orders == ["PO-FRESH", "PO-REPLAYED"]
        assert sorted(acked) == sorted([failed, fresh])
    finally:
        hub.stop()
