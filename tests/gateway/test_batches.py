"""Batches: several work items claimed at once and run in one transaction.

Run on SQLite and on PostgreSQL (a scratch database), with no worker threads: the test calls
``run_work`` itself, so what a batch claims and commits is deterministic.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.exc import IntegrityError

from crossdock.gateway.effects import OrderRecords
from crossdock.gateway.hub import Hub, open_hub
from crossdock.gateway import ingest as ingest_module
from crossdock.gateway.ingest import EmptyBody, GroupCommit, IngestRequest, IngestResult, ingest
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.runtime import OwnWork
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.counters import reserve_many
from crossdock.gateway.store.engine import COPY_ROWS, build_engine, _copy_plan, execute_rows, insert_returning, insert_rows, insert_statement
from crossdock.gateway.store.migrate import upgrade
from crossdock.gateway.workflow.broker import Coalescer
from crossdock.gateway.workflow.dedupe import _insert_keys
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
    """Order records whose backend fails on purchase orders numbered ``PO-BOOM…`` (and counts it)."""

    exploded = 0

    def apply(self, conn, documents, *, now):
        if any(str(d.body.get("po_number", "")).startswith("PO-BOOM") for d in documents):
            self.exploded += 1
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
    # the items the batch took are skipped when their own queue messages arrive: this process
    # knows they are done (no query at all), another process finds them claimed (one commit each)
    commits[0] = 0
    for _, work_id in posted:
        run_work(hub.runtime, work_id)
    assert commits[0] == 0
    for _, work_id in posted:
        run_work(replace(hub.runtime, own=OwnWork()), work_id)
    assert commits[0] == 5
    assert len(stages(hub.runtime.engine, posted[0][0])) == len(CHAIN)


def test_documents_are_stored_with_their_keys_one_or_several_per_message(hub: Hub) -> None:
    """A message's documents and their business keys (one statement on PostgreSQL, for a single
    document and for several), each key on its own document."""
    one = _post(hub, interchange("ACMEBUYER", "000000851", [po_set("0001", "PO-K-1")]))
    several = _post(hub, interchange("ACMEBUYER", "000000852", [po_set(f"{n:04d}", f"PO-K-{n}") for n in (2, 3, 4)]))
    run_work(hub.runtime, [one[1], several[1]])
    with hub.runtime.engine.connect() as conn:
        stored = sorted(conn.execute(
            select(t.documents.c.message_id, t.documents.c.position, t.document_keys.c.value)
            .join(t.document_keys, t.document_keys.c.document_id == t.documents.c.id)
            .where(t.document_keys.c.name == "po_number")).all())
    assert [tuple(row) for row in stored] == sorted(
        [(one[0], 0, "PO-K-1")] + [(several[0], n - 2, f"PO-K-{n}") for n in (2, 3, 4)])


def test_a_failing_chain_rolls_back_alone_and_is_recorded(hub: Hub) -> None:
    good = _post(hub, interchange("ACMEBUYER", "000000801", [po_set("0001", "PO-GOOD-1")]))
    boom = _post(hub, interchange("ACMEBUYER", "000000802", [po_set("0001", "PO-BOOM-1")]))
    after = _post(hub, interchange("ACMEBUYER", "000000803", [po_set("0001", "PO-GOOD-2")]))
    run_work(hub.runtime, [good[1], boom[1], after[1]])
    # the failed stage ran once: its failure is recorded, not found again by a run alone
    assert hub.runtime.effects.exploded == 1
    assert _status(hub, good[0]) == "accepted"
    assert _status(hub, after[0]) == "accepted"
    # what came before apply is kept once, apply will retry
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


def test_a_claim_walks_the_pending_index_in_order_whatever_the_statistics_say(postgres_url: str) -> None:
    """A backlog in a table the planner has no statistics for (new, or grown since its last
    analyze) is still claimed oldest first by walking the pending items' index, never by sorting
    the whole backlog (20 ms per claim at 20,000 items). Fails without ``_INDEX_ORDER``."""
    plans: list[str] = []
    with scratch_database(postgres_url, "crossdock_claim") as url:
        engine = build_engine(url)
        upgrade(engine)
        now = time.time()
        with engine.begin() as conn:
            conn.execute(t.payloads.insert().values(sha256="0" * 64, size=0, data=b""))
            conn.execute(t.messages.insert().values(
                id="m" * 32, direction="inbound", channel="http", format="x12", sha256="0" * 64, size=0,
                received_at=datetime.now(UTC), updated_at=datetime.now(UTC), status="received", test=False))
            conn.execute(t.work_items.insert(), [
                {"message_id": "m" * 32, "stage": "parse", "generation": n, "state": "pending", "attempts": 0,
                 "available_at": now - 1, "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
                for n in range(3000)])
            ids = list(conn.execute(select(t.work_items.c.id).order_by(t.work_items.c.id)).scalars())

        @event.listens_for(engine, "before_cursor_execute")
        def explain(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().startswith("WITH wanted AS"):
                cursor.execute("EXPLAIN " + statement, parameters)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))

        taken = claim_many(engine, [ids[1500]], now=now, lease_s=60, fill_to=8, stages=("parse",))
        engine.dispose()
    assert [w.id for w in taken] == [ids[1500], *ids[:7]]
    assert len(plans) == 1
    assert "ix_work_items_pending_id" in plans[0] and "Sort" not in plans[0] and "Bitmap" not in plans[0], plans[0]


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


def test_coalescer_lets_ids_pile_up_before_sending() -> None:
    sent: list[list[int]] = []
    coalescer = Coalescer(sent.append, batch_size=2, linger_s=5.0)
    coalescer.add(1)
    time.sleep(0.1)  # lingering: nothing sent yet
    assert sent == []
    coalescer.add(2)  # a full batch goes at once
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent == [[1, 2]]


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


def test_an_ingest_on_postgresql_is_one_statement_without_begin_or_commit_round_trips(hub: Hub) -> None:
    engine = hub.runtime.engine
    with engine.connect() as conn:
        sender = partner_by_code(conn, "acme")
    seen, commits = _statements(hub), _commits(hub)
    result = ingest(engine, IngestRequest(body=interchange("ACMEBUYER", "000000700", [po_set("0001", "PO-ONE")]),
                                          channel="http", partner=sender))
    if engine.dialect.name == "postgresql":
        # one statement on the driver connection, which PostgreSQL commits by itself: no
        # BEGIN/COMMIT round trips (and no SQLAlchemy execution around it)
        assert seen == [] and commits[0] == 0
    else:
        assert commits[0] == 1
    assert stages(engine, result.message_id) == [("ingest", "ok")]
    with engine.connect() as conn:
        assert conn.execute(select(t.work_items.c.message_id, t.work_items.c.state)
                            .where(t.work_items.c.id == result.work_id)).one() == (result.message_id, "pending")
    assert _status(hub, result.message_id) == "received"


def test_a_raced_idempotency_key_answers_the_first_message(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = hub.runtime.engine
    with engine.connect() as conn:
        sender = partner_by_code(conn, "acme")
    body = interchange("ACMEBUYER", "000000801", [po_set("0001", "PO-RACE")])
    first = ingest(engine, IngestRequest(body=body, channel="http", partner=sender, idempotency_key="k-1"))
    assert first.rejection is None and first.created
    lookups: list[str] = []

    def by_idempotency(_engine, idem: str) -> IngestResult | None:
        lookups.append(idem)  # the retry's first look misses: it raced the original's commit
        return IngestResult(first.message_id, "received", created=False) if len(lookups) > 1 else None

    monkeypatch.setattr(ingest_module, "_by_idempotency", by_idempotency)
    again = ingest(engine, IngestRequest(body=body, channel="http", partner=sender, idempotency_key="k-1"))
    assert (again.message_id, again.created) == (first.message_id, False)  # the unique index let one through
    assert len(lookups) == 2 and count(engine, t.messages) == 1


def test_a_batch_writes_its_rows_events_statuses_and_fences_once(hub: Hub) -> None:
    posted = [_post(hub, interchange("ACMEBUYER", f"{600 + i:09d}", [po_set("0001", f"PO-W-{i}")]))
              for i in range(5)]
    seen = _statements(hub)
    run_work(hub.runtime, posted[0][1])
    for message_id, _ in posted:
        assert _status(hub, message_id) == "accepted"
        assert [s for s, _ in stages(hub.runtime.engine, message_id)] == CHAIN
    # one statement each for the batch's timeline events, interchanges, sets, sent acks and
    # message statuses, one fence for its five items, one read of its messages (PostgreSQL copies
    # the 25 events, which SQLAlchemy's statement hook does not see; they are all there, above)
    copied = hub.runtime.engine.dialect.name == "postgresql"
    for prefix in ("INSERT INTO events ", "INSERT INTO interchanges ", "INSERT INTO transaction_sets ",
                   "INSERT INTO acks ", "UPDATE messages SET ", "SELECT messages.id, ", "INSERT INTO dedupe_keys "):
        assert sum(s.startswith(prefix) for s in seen) == (0 if copied and "events" in prefix else 1), prefix
    fences = [s for s in seen if s.startswith("UPDATE work_items SET state") and "attempts +" not in s]
    assert len(fences) == 1
    assert count(hub.runtime.engine, t.interchanges) == count(hub.runtime.engine, t.transaction_sets) == 5
    assert count(hub.runtime.engine, t.dedupe_keys) == 5 * 3  # content, (sender, ISA13), (sender, GS06)
    with hub.runtime.engine.connect() as conn:
        assert conn.execute(select(t.work_items.c.state).distinct()
                            .where(t.work_items.c.stage == "parse")).scalars().all() == ["done"]
        assert sorted(conn.execute(select(t.documents.c.status)).scalars()) == ["applied"] * 5


def test_duplicates_within_a_batch_are_judged_as_if_its_messages_ran_in_turn(hub: Hub) -> None:
    """The batch inserts its fresh messages' dedupe keys ahead, in one statement: the earlier
    message keeps a key two ask for, copies of it are duplicates, and a message its parse refuses
    holds no key."""
    first = interchange("ACMEBUYER", "000000500", [po_set("0001", "PO-D-1")])
    posted = [_post(hub, first),
              _post(hub, interchange("ACMEBUYER", "000000500", [po_set("0001", "PO-D-2")])),  # same ISA13
              _post(hub, interchange("STRANGER", "000000501", [po_set("0001", "PO-D-3")])),  # refused
              _post(hub, first),  # the same bytes again
              _post(hub, interchange("ACMEBUYER", "000000502", [po_set("0001", "PO-D-4")]))]
    seen = _statements(hub)
    run_work(hub.runtime, posted[4][1])  # (the last claimed first: the batch runs in claim order)
    assert sum(s.startswith("INSERT INTO dedupe_keys ") for s in seen) == 1
    assert [_status(hub, message_id) for message_id, _ in posted] == [
        "accepted", "duplicate", "failed", "duplicate", "accepted"]
    with hub.runtime.engine.connect() as conn:
        holders = dict(conn.execute(select(t.dedupe_keys.c.key, t.dedupe_keys.c.message_id)
                                    .where(t.dedupe_keys.c.scope == "isa")).all())
        orders = sorted(conn.execute(select(t.orders.c.po_number)).scalars())
    assert holders == {"ZZ:ACMEBUYER:000000500": posted[0][0], "ZZ:ACMEBUYER:000000502": posted[4][0]}
    assert posted[2][0] not in set(_key_holders(hub))
    assert orders == ["PO-D-1", "PO-D-4"]


def test_keys_given_ahead_that_a_parse_does_not_want_are_released(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A look-ahead that got a message's keys wrong leaves nothing behind: a key its parse does not
    want is released by the stage, and the keys of a message its parse refuses by the batch."""
    from crossdock.gateway.workflow import runner

    posted = [_post(hub, interchange("ACMEBUYER", "000000510", [po_set("0001", "PO-K-1")])),
              _post(hub, interchange("STRANGER", "000000511", [po_set("0001", "PO-K-2")])),  # refused
              _post(hub, interchange("ACMEBUYER", "000000512", [po_set("0001", "PO-K-3")]))]
    real = runner.keys_ahead

    def wrong(ctx):
        extra = [("isa", f"BOGUS:{ctx.message.id}")]
        return real(ctx) + extra if ctx.message.id != posted[1][0] else extra

    monkeypatch.setattr(runner, "keys_ahead", wrong)
    run_work(hub.runtime, posted[0][1])
    assert [_status(hub, message_id) for message_id, _ in posted] == ["accepted", "failed", "accepted"]
    holders = _key_holders(hub)
    assert sorted(set(holders)) == sorted([posted[0][0], posted[2][0]]) and len(holders) == 2 * 3
    with hub.runtime.engine.connect() as conn:
        assert not conn.execute(select(t.dedupe_keys.c.key).where(t.dedupe_keys.c.key.like("BOGUS:%"))).all()


def _key_holders(hub: Hub) -> list[str]:
    with hub.runtime.engine.connect() as conn:
        return list(conn.execute(select(t.dedupe_keys.c.message_id)).scalars())


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


def test_insert_rows_stores_what_an_insert_stores(hub: Hub) -> None:
    """``insert_rows`` (COPY on PostgreSQL from COPY_ROWS rows on) writes exactly what the INSERT
    writes: UTC from any offset, NULLs, floats; with a defaulted column left out it inserts."""
    message_id, _ = _post(hub, interchange("ACMEBUYER", "000000901", [po_set("0001", "PO-COPY-1")]))
    at = datetime(2026, 11, 22, 20, 15, 30, 123456, tzinfo=timezone(timedelta(hours=2)))
    rows = [{"message_id": message_id, "stage": f"s{n % 3}", "outcome": "ok", "duration_ms": n / 7,
             "detail": None if n % 2 else f"detail {n} \\ tab\there", "at": at + timedelta(seconds=n)}
            for n in range(COPY_ROWS + 4)]
    engine = hub.runtime.engine
    with engine.begin() as conn:
        conn.execute(t.events.insert(), [{**row, "stage": "insert"} for row in rows])
        insert_rows(conn, t.events, [{**row, "stage": "copied"} for row in rows])
        insert_rows(conn, t.events, [{**row, "stage": "few"} for row in rows[:2]])
    with engine.connect() as conn:
        stored = conn.execute(select(t.events.c.stage, t.events.c.outcome, t.events.c.duration_ms, t.events.c.detail,
                                     t.events.c.at).where(t.events.c.stage.in_(("insert", "copied", "few")))
                              .order_by(t.events.c.id)).all()
    by_stage = {name: [tuple(row[1:]) for row in stored if row[0] == name] for name in ("insert", "copied", "few")}
    assert by_stage["copied"] == by_stage["insert"]
    assert by_stage["few"] == by_stage["insert"][:2]
    assert by_stage["insert"][0][3] == datetime(2026, 11, 22, 18, 15, 30, 123456, tzinfo=UTC)
    # a defaulted column left out (work_items.generation): an INSERT, which applies the default
    with engine.begin() as conn:
        assert _copy_plan(conn.dialect, t.work_items, ("message_id", "stage")) is None


def test_writes_over_arrays_store_what_executemany_stores(hub: Hub) -> None:
    """``execute_rows`` and ``insert_returning`` (on PostgreSQL one statement over arrays, on the
    driver) store exactly what SQLAlchemy's executemany stores: UTC from another offset, NULLs,
    JSON, skipped conflicts; two rows updating one row fall back to executemany (the last wins)."""
    engine = hub.runtime.engine
    posted = [_post(hub, interchange("ACMEBUYER", f"{920 + i:09d}", [po_set("0001", f"PO-ARR-{i}")]))[0]
              for i in range(4)]
    at = datetime(2026, 11, 22, 20, 15, 30, 123456, tzinfo=timezone(timedelta(hours=-5)))
    status = (update(t.messages).where(t.messages.c.id == bindparam("m_id"))
              .values(status=bindparam("v_status"), error_code=bindparam("v_code"), updated_at=bindparam("v_at")))
    rows = [{"m_id": message_id, "v_status": "failed", "v_code": None if n % 2 else "X12_BAD", "v_at": at}
            for n, message_id in enumerate(posted)]
    issues = (update(t.documents).where(t.documents.c.id == bindparam("d_id")).values(issues=bindparam("d_issues")))
    seen = _statements(hub)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # an aware datetime sent as such would read as Tokyo's
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Tokyo'")
        execute_rows(conn, status, rows[:2])
        conn.execute(status, rows[2:])  # SQLAlchemy's executemany, for comparison
        documents = [{"message_id": message_id, "position": position, "document_type": "purchase_order",
                      "partner_id": None, "test": False, "status": "mapped", "issues": [], "body": None,
                      "created_at": at} for position in range(5) for message_id in posted]
        # 20 rows: over arrays; the first of each message's is the one the test reads
        returned = insert_returning(conn, t.documents.insert().returning(
            t.documents.c.message_id, t.documents.c.position, t.documents.c.id), documents)
        ids = {message_id: id_ for message_id, position, id_ in returned if position == 0}
        assert len(returned) == 20
        noted = [{"code": "GTIN_CHECK_DIGIT", "path": ["lines", 0], "message": 'quote " and \\ backslash'}]
        execute_rows(conn, issues, [{"d_id": ids[posted[0]], "d_issues": noted}, {"d_id": ids[posted[1]], "d_issues": []}])
        conn.execute(issues, [{"d_id": ids[posted[2]], "d_issues": noted}, {"d_id": ids[posted[3]], "d_issues": []}])
        # a conflict is skipped, the rest inserted
        keys = insert_statement(conn.dialect.name, t.dedupe_keys, ("scope", "key"))
        execute_rows(conn, keys, [{"scope": "st", "key": f"K{n % 3}", "message_id": posted[0], "seen_at": 1.5}
                                  for n in range(4)])
        # a few rows: one multi-row VALUES; RETURNING says which were new
        assert sorted(insert_returning(conn, _insert_keys(conn.dialect.name), [
            {"scope": "st", "key": key, "message_id": posted[1], "seen_at": 2.5} for key in ("K1", "K3", "K4")])) == [
            ("st", "K3"), ("st", "K4")]
        # the same row twice: executemany, in order
        execute_rows(conn, status, [{**rows[3], "v_code": "FIRST"}, {**rows[3], "v_code": "LAST"}])
    with engine.connect() as conn:
        stored = {row.id: row[1:] for row in conn.execute(select(
            t.messages.c.id, t.messages.c.status, t.messages.c.error_code, t.messages.c.updated_at)
            .where(t.messages.c.id.in_(posted)))}
        notes = dict(conn.execute(select(t.documents.c.message_id, t.documents.c.issues)
                                  .where(t.documents.c.position == 0)).all())
        stored_keys = sorted(conn.execute(select(t.dedupe_keys.c.key).where(t.dedupe_keys.c.scope == "st")).scalars())
    assert stored[posted[0]] == stored[posted[2]] == ("failed", "X12_BAD", datetime(2026, 11, 23, 1, 15, 30, 123456, tzinfo=UTC))
    assert stored[posted[1]] == ("failed", None, stored[posted[0]][2])
    assert stored[posted[3]][1] == "LAST"
    assert notes[posted[0]] == notes[posted[2]] == noted
    assert notes[posted[1]] == notes[posted[3]] == []
    assert sorted(ids) == sorted(posted)
    assert stored_keys == ["K0", "K1", "K2", "K3", "K4"]
    if engine.dialect.name == "postgresql":
        arrayed = [s for s in seen if "unnest(" in s]
        # statuses, documents, issues, keys; each UPDATE also finds its rows by index (= ANY)
        assert len(arrayed) == 4
        assert sum(s.startswith("INSERT INTO dedupe_keys") and s.count("), (") == 2 for s in seen) == 1
        assert all("= ANY (" in s for s in arrayed if s.startswith("UPDATE"))
        # a driver error is SQLAlchemy's, as from Connection.execute
        with pytest.raises(IntegrityError), engine.begin() as conn:
            insert_returning(conn, t.documents.insert().returning(t.documents.c.id), documents[:2])


def test_wake_ups_for_items_running_here_are_skipped_until_released(hub: Hub) -> None:
    message_id, work_id = _post(hub, interchange("ACMEBUYER", "000000911", [po_set("0001", "PO-OWN-1")]))
    runtime = hub.runtime
    runtime.own.claimed([work_id])  # as if a batch of this process were running it
    commits = _commits(hub)
    run_work(runtime, work_id)
    assert commits[0] == 0 and _status(hub, message_id) == "received"
    runtime.own.released([work_id])  # e.g. put back for a retry: its wake-up claims it again
    run_work(runtime, work_id)
    assert _status(hub, message_id) == "accepted"
    assert runtime.own.unknown([work_id]) == [work_id]  # ran alone: not remembered, the claim says


def test_a_worker_prefetches_enough_wake_ups_for_its_threads(hub: Hub) -> None:
    """dramatiq's default (2 per thread) left threads idle while their batches held the messages."""
    from dramatiq.brokers.stub import StubBroker

    from crossdock.gateway.workflow.broker import PREFETCH_PER_THREAD, WorkerHost

    host = WorkerHost(hub.runtime, StubBroker())
    assert host._worker.queue_prefetch == hub.runtime.settings.workflow.worker_threads * PREFETCH_PER_THREAD


def test_message_ids_are_32_hex_digits_and_unique() -> None:
    from crossdock.gateway.ingest import new_message_id

    ids = {new_message_id() for _ in range(20_000)}
    assert len(ids) == 20_000
    assert all(len(i) == 32 and int(i, 16) >= 0 and i == i.lower() for i in ids)
