"""The planning run reads only the ledger rows that can still matter; the plans must not change.

Random ledgers (seeded) on SQLite and PostgreSQL: snapshots before, on and after the planning
date (or none), sales inside and outside the demand window and straddling its start, adjustments
before and after the latest count, orders with confirmations, shipments, receipts and
cancellations. Every item-location is planned from the whole ledger and from the rows
:func:`load_inputs` keeps with ``relevant_only``; the plans are compared field by field (only
the position's ``explanation`` — the rows behind it — may be shorter).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crossdock.gateway.inventory.planning import load_inputs, position_row, run_planning
from crossdock.gateway.inventory.store import POSITION_COLUMNS
from crossdock.gateway.inventory.proposals import plan_item
from crossdock.gateway.partners import create_partner
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade
from pgscratch import scratch_database

TODAY = date(2026, 3, 15)
POLICIES = (
    {"method": "min_max", "min_qty": 40, "max_qty": 160, "lead_time_days": 5, "pack_multiple": 12},
    {"method": "reorder_point", "service_level": 0.95, "lead_time_days": 7, "pack_multiple": 6,
     "demand_window_days": 28},
    {"method": "days_of_supply", "min_days_of_supply": 10, "target_days_of_supply": 21, "lead_time_days": 4},
    {"method": None},
)


def _ledger(rng: random.Random, il_id: int) -> list[dict]:
    rows: list[dict] = []

    def add(kind: str, qty: int, effective: date, **more) -> None:
        rows.append({"kind": kind, "quantity": Decimal(qty), "effective": effective, **more})

    for _ in range(rng.randint(0, 4)):  # counts: old, recent, on the day, after it
        add("snapshot_on_hand", rng.randint(0, 200), TODAY + timedelta(days=rng.randint(-120, 3)))
    for week in range(rng.randint(0, 16)):  # weekly sales reaching back past every window
        end = TODAY - timedelta(days=7 * week + rng.randint(-2, 1))
        add("sale", rng.randint(-2, 40), end, period_start=end - timedelta(days=6))
    for _ in range(rng.randint(0, 3)):
        add("adjustment", rng.randint(-10, 10), TODAY + timedelta(days=rng.randint(-90, 2)))
    for n in range(rng.randint(0, 3)):
        po, placed = f"PO{il_id}-{n}", TODAY - timedelta(days=rng.randint(1, 150))
        add("on_order", 48, placed, order_ref=po, due=placed + timedelta(days=7))
        if rng.random() < 0.6:
            add("confirmed", rng.choice((36, 48)), placed + timedelta(days=1), order_ref=po,
                due=placed + timedelta(days=rng.randint(5, 12)))
        if rng.random() < 0.5:
            add("shipped", 24, placed + timedelta(days=2), order_ref=po, due=placed + timedelta(days=5))
        if rng.random() < 0.3:
            add("received", 24, placed + timedelta(days=rng.randint(3, 8)), order_ref=po)
        if rng.random() < 0.2:
            add("cancelled", 12, placed + timedelta(days=3), order_ref=po)
    if rng.random() < 0.2:
        add("received", 6, TODAY - timedelta(days=rng.randint(0, 60)))  # reported by the store only
    rng.shuffle(rows)  # append order differs from business dates
    return rows


def _seed(engine, count: int) -> None:
    rng = random.Random(20260315)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        supplier = create_partner(conn, code="sup", name="Supplier").id
        conn.execute(t.inv_locations.insert(), [{"id": n, "code": f"S{n:02d}", "kind": "store", "created_at": now}
                                                for n in range(1, 5)])
        conn.execute(t.inv_items.insert(), [{"id": n, "supplier_id": supplier, "code": f"IT{n:03d}",
                                             "created_at": now, "updated_at": now} for n in range(1, count // 4 + 1)])
        conn.execute(t.inv_item_locations.insert(), [
            {"id": n, "item_id": (n - 1) // 4 + 1, "location_id": (n - 1) % 4 + 1, "supplier_id": supplier,
             "item_code": f"IT{(n - 1) // 4 + 1:03d}", "location_code": f"S{(n - 1) % 4 + 1:02d}",
             **{"min_qty": None, "max_qty": None, "service_level": None, "min_days_of_supply": None,
                "target_days_of_supply": None, "lead_time_days": 0, "pack_multiple": 1,
                "demand_window_days": 56}, **POLICIES[n % len(POLICIES)]}
            for n in range(1, count + 1)])
        movements = [{"idempotency_key": uuid.uuid4().hex, "item_location_id": n, "document_type": "852",
                      "business_key": f"R{n}", "line": str(k), **row}
                     for n in range(1, count + 1) for k, row in enumerate(_ledger(rng, n))]
        conn.execute(t.inv_movements.insert(), movements)
        conn.execute(t.inv_reported_periods.insert(), [
            {"location_id": loc, "period_start": TODAY - timedelta(days=7 * w + 6), "period_end": TODAY - timedelta(days=7 * w)}
            for loc in range(1, 5) for w in range(10)])


def _comparable(plan):
    return replace(plan, position=replace(plan.position, explanation=()))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def engine(request, tmp_path):
    yield from _engine_for(request, request.param, tmp_path)


def _engine_for(request, kind: str, tmp_path=None):
    if kind == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'plan.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    with scratch_database(request.getfixturevalue("postgres_url"), "crossdock_vmi_load") as url:
        engine = build_engine(url, pool_size=2)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.mark.parametrize("lookback_days", [0, 400])
def test_relevant_rows_give_the_same_plans(engine, lookback_days: int) -> None:
    _seed(engine, 160)
    with engine.connect() as conn:
        rows = conn.execute(select(t.inv_item_locations).order_by(t.inv_item_locations.c.id)).all()
        everything = load_inputs(conn, rows, TODAY)
        relevant = load_inputs(conn, rows, TODAY, relevant_only=True, lookback_days=lookback_days)
    assert [i.key for i in relevant] == [i.key for i in everything]
    for full, kept in zip(everything, relevant):
        assert set(kept.movements) <= set(full.movements)
        assert _comparable(plan_item(kept, TODAY)) == _comparable(plan_item(full, TODAY)), full.key
    kept_rows = sum(len(i.movements) for i in relevant)
    all_rows = sum(len(i.movements) for i in everything)
    assert kept_rows < all_rows * (0.99 if lookback_days else 0.85)  # the filter does drop rows
    if lookback_days:  # the bullwhip's sales all stay
        for full, kept in zip(everything, relevant):
            assert [m for m in full.movements if m.kind == "sale" and m.effective >= TODAY - timedelta(days=399)] == \
                   [m for m in kept.movements if m.kind == "sale" and m.effective >= TODAY - timedelta(days=399)]


@pytest.mark.services
def test_a_run_split_over_processes_plans_every_row(request) -> None:
    database = _engine_for(request, "postgres")
    engine = next(database)
    try:
        _seed(engine, 120)
        report = run_planning(engine, TODAY, reason="manual", chunk_size=25, bullwhip=True, processes=2)
        il = t.inv_item_locations
        with engine.connect() as conn:
            rows = conn.execute(select(il).order_by(il.c.id)).all()
            expected = [position_row(r.id, plan_item(i, TODAY), r.method is not None, TODAY)
                        for r, i in zip(rows, load_inputs(conn, rows, TODAY))]
            open_proposals = conn.execute(select(func.count()).select_from(t.inv_proposals)
                                          .where(t.inv_proposals.c.state == "open")).scalar_one()
            whipped = conn.execute(select(func.count()).select_from(t.inv_items)
                                   .where(t.inv_items.c.bullwhip_periods.is_not(None))).scalar_one()
        assert report.item_locations == len(rows) == 120 and report.positions_written == 120
        for row, want in zip(rows, expected):
            assert {c: getattr(row, c) for c in POSITION_COLUMNS} == {c: want[c] for c in POSITION_COLUMNS}, row.id
        assert open_proposals == report.proposals_new == report.proposals > 0
        assert whipped > 0  # every item's locations were in one process
    finally:
        database.close()  # drops the database


def _stored(engine) -> tuple[list, dict[int, dict]]:
    pr = t.inv_proposals
    with engine.connect() as conn:
        rows = conn.execute(select(t.inv_item_locations).order_by(t.inv_item_locations.c.id)).all()
        proposals = {p.item_location_id: p._asdict() for p in conn.execute(select(pr).where(pr.c.state == "open"))}
    return rows, proposals


@pytest.mark.parametrize("chunk_size", [7, 1000])
def test_a_run_stores_what_the_engine_plans(engine, chunk_size: int) -> None:
    """Positions and proposals as written (many chunks in flight, or one chunk whose proposals go
    through COPY on PostgreSQL) equal the engine's plans; a second run on the same day adds nothing."""
    _seed(engine, 800)
    now = datetime(2026, 3, 15, 6, 30, tzinfo=UTC)
    report = run_planning(engine, TODAY, reason="manual", chunk_size=chunk_size, now=now, bullwhip=True)
    rows, proposals = _stored(engine)
    with engine.connect() as conn:
        plans = [plan_item(i, TODAY) for i in load_inputs(conn, rows, TODAY)]
    expected = {r.id: p.proposal for r, p in zip(rows, plans) if p.proposal is not None and r.method is not None}
    assert report.item_locations == 800 and report.positions_written == 800
    assert report.proposals == report.proposals_new == len(proposals) == len(expected) > 200
    for row, plan in zip(rows, plans):
        want = position_row(row.id, plan, row.method is not None, TODAY)
        assert {c: getattr(row, c) for c in POSITION_COLUMNS} == {c: want[c] for c in POSITION_COLUMNS}, row.id
    for il_id, p in expected.items():
        got = proposals[il_id]
        assert (got["quantity"], got["needed_by"], got["order_by"], got["expedite"], got["flags"]) == (
            p.quantity, p.needed_by, p.order_by, p.expedite, ",".join(sorted(f.value for f in p.flags))), il_id
        assert got["reasons"] == [{"code": r.code.value, "date": r.date.isoformat()} for r in p.reasons]
        assert (got["projected_balance"], got["trigger_level"], got["target_level"]) == (
            round(p.projected_balance, 4), round(p.trigger, 4), round(p.target, 4))
        assert got["created_at"] == now and got["supplier_id"] == rows[0].supplier_id
    again = run_planning(engine, TODAY, reason="manual", chunk_size=chunk_size, now=now)
    assert again.positions_written == again.proposals_new == again.superseded == 0
    assert _stored(engine)[1] == proposals


def test_a_failed_write_stops_the_run_and_keeps_earlier_chunks(engine, monkeypatch) -> None:
    """A chunk whose writes fail is rolled back, the run raises, and no later chunk is committed
    (on PostgreSQL the next chunk is already read and planned while the failing one is written)."""
    from crossdock.gateway.inventory import planning

    _seed(engine, 40)
    calls = []
    real = planning._reconcile_proposals

    def failing(conn, rows, *args):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(conn, rows, *args)

    monkeypatch.setattr(planning, "_reconcile_proposals", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        run_planning(engine, TODAY, reason="manual", chunk_size=10)
    rows, _proposals = _stored(engine)
    planned = [r.id for r in rows if r.planned_on == TODAY]
    assert len(calls) == 2 and len(planned) == 10  # the first chunk only
