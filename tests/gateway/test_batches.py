"""Batches: several work items claimed at once and run in one transaction, each in a savepoint.

Run on SQLite and on PostgreSQL (a scratch database), with no worker threads: the test calls
``run_work`` itself, so what a batch claims and commits is deterministic.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select

from crossdock.gateway.effects import OrderRecords
from crossdock.gateway.hub import Hub, open_hub
from crossdock.gateway.ingest import EmptyBody, GroupCommit, IngestRequest, ingest
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.counters import reserve_many
from crossdock.gateway.store.migrate import upgrade
from crossdock.gateway.workflow.broker import Coalescer
from crossdock.gateway.workflow.outbox import claim_many
from crossdock.gateway.workflow.runner import run_batch, run_claimed, run_work

from gwhelpers import add_partners, count, fast_settings, interchange, po_set, stages
from pgscratch import scratch_database

CHAIN = ["ingest", "parse", "acknowledge", "map", "apply", "route"]


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path: Path) -> Iterator[Hub]:
    """A hub without workers (the test runs the work), with the test partners."""
    if request.param == "sqlite":
        hub = open_hub(fast_settings(tmp_path, workflow={"batch_size": 8}), workers=False, effects=_Exploding())
        add_partners(hub, tmp_path / "outbox")
        yield hub
        hub.stop()
        return
    with scratch_database(request.getfixturevalue("postgres_url"), "crossdock_batch") as url:
        hub = open_hub(fast_settings(tmp_path, database_url=url, workflow={"batch_size": 8}), workers=False,
                       effects=_Exploding())
        upgrade(hub.runtime.engine)
        add_partners(hub, tmp_path / "outbox")
        yield hub
        hub.stop()


class _Exploding(OrderRecords):
    """Order records whose backend fails on purchase orders numbered ``PO-BOOM…``."""

    def apply(self, conn, documents, *, now):
        if any(str(d.body.get("po_number", "")).startswith("PO-BOOM") for d in documents):
            raise RuntimeError("effects backend exploded")
        return super().apply(conn, documents, now=now)


def _post(hub: Hub, body: bytes, partner: str = "acme") -> tuple[str, int]:
    engine = hub.runtime.engine
    with engine.connect() as conn:
        sender = partner_by_code(conn, partner)
    result = ingest(engine, IngestRequest(body=body, channel="http", partner=sender))
    assert result.work_id is not None
    return result.message_id, result.work_id


def _status(hub: Hub, message_id: str) -> str:
    with hub.runtime.engine.connect() as conn:
        return conn.execute(select(t.messages.c.status).where(t.messages.c.id == message_id)).scalar_one()


def _commits(hub: Hub) -> list[int]:
    counter = [0]
    event.listen(hub.runtime.engine, "commit", lambda conn: counter.__setitem__(0, counter[0] + 1))
    return counter


def test_one_message_claims_the_backlog_and_commits_it_once(hub: Hub) -> None:
    posted = [_post(hub, interchange("ACMEBUYER", f"{700 + i:09d}", [po_set("0001", f"PO-B-{i}")]))
              for i in range(5)]
    commits = _commits(hub)
    run_work(hub.runtime, posted[2][1])
    # claim, the batch (on PostgreSQL plus ONE committed reservation of control numbers for the
    # acks of all five, made when the first needs numbers)
    reservations = 1 if hub.runtime.engine.dialect.name == "postgresql" else 0
    assert commits[0] == 2 + reservations
    for message_id, _ in posted:
        assert _status(hub, message_id) == "accepted"
        assert [s for s, _ in stages(hub.runtime.engine, message_id)] == CHAIN
    with hub.runtime.engine.connect() as conn:
        assert conn.execute(select(t.work_items.c.state).distinct()
                            .where(t.work_items.c.stage == "parse")).scalars().all() == ["done"]
        assert sorted(conn.execute(select(t.orders.c.po_number)).scalars()) == [f"PO-B-{i}" for i in range(5)]
        acks = conn.execute(select(t.payloads.c.data).join(t.messages, t.messages.c.sha256 == t.payloads.c.sha256)
                            .where(t.messages.c.direction == "outbound")).scalars().all()
    # the acks' ISA13s: never shared, and consecutive here (one reservation served all five)
    assert sorted(bytes(data).split(b"*")[13] for data in acks) == [b"%09d" % n for n in range(1, 6)]
    # the items the batch took are skipped when their own queue messages arrive
    commits[0] = 0
    for _, work_id in posted:
        run_work(hub.runtime, work_id)
    assert commits[0] == 5
    assert len(stages(hub.runtime.engine, posted[0][0])) == len(CHAIN)


def test_a_failing_chain_rolls_back_alone_and_is_recorded(hub: Hub) -> None:
    good = _post(hub, interchange("ACMEBUYER", "000000801", [po_set("0001", "PO-GOOD-1")]))
    boom = _post(hub, interchange("ACMEBUYER", "000000802", [po_set("0001", "PO-BOOM-1")]))
    after = _post(hub, interchange("ACMEBUYER", "000000803", [po_set("0001", "PO-GOOD-2")]))
    run_work(hub.runtime, [good[1], boom[1], after[1]])
    assert _status(hub, good[0]) == "accepted"
    assert _status(hub, after[0]) == "accepted"
    # the failed chain ran again alone: what came before apply is kept once, apply will retry
    assert _status(hub, boom[0]) == "processing"
    assert stages(hub.runtime.engine, boom[0]) == [("ingest", "ok"), ("parse", "ok"), ("acknowledge", "ok"),
                                                  ("map", "ok"), ("apply", "retry")]
    with hub.runtime.engine.connect() as conn:
        assert sorted(conn.execute(select(t.orders.c.po_number)).scalars()) == ["PO-GOOD-1", "PO-GOOD-2"]
        acks = conn.execute(select(t.acks.c.message_id).where(t.acks.c.direction == "sent")).scalars().all()
        retried = conn.execute(select(t.work_items.c.stage, t.work_items.c.state)
                               .where(t.work_items.c.message_id == boom[0])).all()
    assert sorted(acks) == sorted([good[0], boom[0], after[0]])
    assert sorted(retried) == [("apply", "pending"), ("parse", "done")]


def test_claim_many_claims_or_skips_and_fills_only_chain_stages(hub: Hub) -> None:
    posted = [_post(hub, interchange("ACMEBUYER", f"{900 + i:09d}", [po_set("0001", f"PO-C-{i}")]))
              for i in range(4)]
    engine, now = hub.runtime.engine, hub.runtime.clock()
    ids = [work_id for _, work_id in posted]
    assert [w.id for w in claim_many(engine, [ids[1]], now=now, lease_s=60)] == [ids[1]]
    assert claim_many(engine, [ids[1]], now=now, lease_s=60, fill_to=8, stages=("parse",)) == []
    assert claim_many(engine, [ids[2]], now=now, lease_s=60, fill_to=8, stages=("deliver",))[0].id == ids[2]
    taken = claim_many(engine, [ids[3]], now=now, lease_s=60, fill_to=8, stages=("parse",))
    assert [w.id for w in taken] == [ids[3], ids[0]]
    assert all(w.attempts == 1 and w.stage == "parse" for w in taken)


def test_reserve_many_never_reuses_numbers(hub: Hub) -> None:
    engine = hub.runtime.engine
    with engine.connect() as conn:
        globex = partner_by_code(conn, "globex")
    first = reserve_many(engine, globex.id, {"ISA": 1, "GS": 2, "ST": 3})
    second = reserve_many(engine, globex.id, {"ST": 1, "ISA": 2})
    assert first == {"GS": [1, 2], "ISA": [1], "ST": [1, 2, 3]}
    assert second == {"ISA": [2, 3], "ST": [4]}


def test_coalescer_sends_what_piles_up_as_batches() -> None:
    sent: list[list[int]] = []
    release = threading.Event()

    def send(ids: list[int]) -> None:
        release.wait(5)  # a slow broker: the ids dispatched meanwhile pile up
        sent.append(ids)

    coalescer = Coalescer(send, batch_size=3)
    coalescer.add(1)
    time.sleep(0.05)
    for work_id in range(2, 9):
        coalescer.add(work_id)
    release.set()
    deadline = time.monotonic() + 5
    while sum(len(ids) for ids in sent) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent == [[1], [2, 3, 4], [5, 6, 7], [8]]


def test_group_commit_answers_each_ingest_after_one_shared_commit(tmp_path: Path) -> None:
    hub = open_hub(fast_settings(tmp_path), workers=False)
    add_partners(hub, tmp_path / "outbox")
    engine = hub.runtime.engine
    with engine.connect() as conn:
        acme = partner_by_code(conn, "acme")
    group = GroupCommit(engine)
    commits = _commits(hub)
    bodies = [interchange("ACMEBUYER", f"{500 + i:09d}", [po_set("0001", f"PO-G-{i}")]) for i in range(24)]
    results: dict[int, object] = {}
    start = threading.Barrier(24)

    def post(index: int) -> None:
        start.wait(10)
        try:
            results[index] = group.ingest(IngestRequest(body=bodies[index] if index % 8 else b"", channel="http",
                                                        partner=acme))
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[index] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    empty = [i for i in range(24) if i % 8 == 0]
    assert all(isinstance(results[i], EmptyBody) for i in empty)
    stored = {i: results[i] for i in range(24) if i not in empty}
    with engine.connect() as conn:
        rows = dict(conn.execute(select(t.messages.c.id, t.messages.c.sha256)).all())
        work = dict(conn.execute(select(t.work_items.c.message_id, t.work_items.c.id)).all())
    assert len(rows) == len(stored) == 21
    for index, result in stored.items():
        assert result.created and result.status == "received"
        assert rows[result.message_id] == hashlib.sha256(bodies[index]).hexdigest()
        assert work[result.message_id] == result.work_id
    assert commits[0] < len(stored)  # several ingests shared a commit
    hub.stop()


def _statements(hub: Hub) -> list[str]:
    seen: list[str] = []
    event.listen(hub.runtime.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *_: seen.append(" ".join(statement.split())))
    return seen


def test_a_batch_writes_its_rows_events_statuses_and_fences_once(hub: Hub) -> None:
    posted = [_post(hub, interchange("ACMEBUYER", f"{600 + i:09d}", [po_set("0001", f"PO-W-{i}")]))
              for i in range(5)]
    seen = _statements(hub)
    run_work(hub.runtime, posted[0][1])
    for message_id, _ in posted:
        assert _status(hub, message_id) == "accepted"
        assert [s for s, _ in stages(hub.runtime.engine, message_id)] == CHAIN
    # one statement each for the batch's timeline events, interchanges, sets, sent acks and
    # message statuses, one fence for its five items, one read of its messages
    for prefix in ("INSERT INTO events ", "INSERT INTO interchanges ", "INSERT INTO transaction_sets ",
                   "INSERT INTO acks ", "UPDATE messages SET ", "SELECT messages.id, "):
        assert sum(s.startswith(prefix) for s in seen) == 1, prefix
    fences = [s for s in seen if s.startswith("UPDATE work_items SET state") and "attempts +" not in s]
    assert len(fences) == 1
    assert count(hub.runtime.engine, t.interchanges) == count(hub.runtime.engine, t.transaction_sets) == 5
    with hub.runtime.engine.connect() as conn:
        assert conn.execute(select(t.work_items.c.state).distinct()
                            .where(t.work_items.c.stage == "parse")).scalars().all() == ["done"]
        assert sorted(conn.execute(select(t.documents.c.status)).scalars()) == ["applied"] * 5


def test_a_lost_lease_rolls_the_batch_back_and_its_items_run_alone(hub: Hub) -> None:
    posted = [_post(hub, interchange("ACMEBUYER", f"{650 + i:09d}", [po_set("0001", f"PO-L-{i}")]))
              for i in range(3)]
    engine, runtime = hub.runtime.engine, hub.runtime
    claims = claim_many(engine, [posted[0][1]], now=runtime.clock(), lease_s=60, fill_to=8, stages=("parse",))
    assert sorted(w.id for w in claims) == sorted(work_id for _, work_id in posted)
    taken = posted[1]
    with engine.begin() as conn:  # another worker took the second item over (its lease had expired)
        conn.execute(t.work_items.update().where(t.work_items.c.id == taken[1])
                     .values(attempts=t.work_items.c.attempts + 1))
    alone = run_batch(runtime, claims)
    assert alone == list(claims)  # nothing of the batch was committed
    assert count(engine, t.interchanges) == 0
    for work in alone:
        assert run_claimed(runtime, work) is None
    for message_id, _ in (posted[0], posted[2]):
        assert _status(hub, message_id) == "accepted"
    # the taken-over item is the other worker's: nothing of ours was committed for it
    assert _status(hub, taken[0]) == "received"
    assert stages(engine, taken[0]) == [("ingest", "ok")]
    assert count(engine, t.interchanges) == 2
