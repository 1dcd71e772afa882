"""Planning against the store: load item-locations in chunks, run the engine, write what it says.

A run walks a supplier's item-locations in ``(item code, location code)`` order, ``chunk_size`` at
a time, one transaction per chunk (the rows are locked ``FOR UPDATE`` on PostgreSQL so a
concurrent apply stage and the run write positions one after the other, never over each other):

1. the item-location rows (policy and the stored position), their ledger rows — only those that
   can still change a plan: every order row, and on-hand rows from the latest count on, plus the
   sales of the demand window (or of the bullwhip's 13 weeks) — 830 buckets and the reported 852
   periods of their locations, read in a few queries;
2. :class:`~crossdock.gateway.inventory.ItemLocationInput` per row — ledger rows through
   :meth:`Movement.stored` (checked when appended), one policy object per distinct policy;
3. :func:`~crossdock.gateway.inventory.plan_item`;
4. positions that changed are written (``COPY`` + one ``UPDATE`` on PostgreSQL); an open proposal
   that the engine still proposes unchanged is kept, otherwise it is ``superseded`` and the new one
   inserted (``COPY`` on PostgreSQL); the bullwhip indicator is stored per item once all its
   locations are planned.

On PostgreSQL step 4 and the commit run in a writer thread while the next chunk goes through
steps 1–3 on a second connection (at most one chunk in flight; see :func:`_run_supplier`), so
the database's writes overlap the planner's CPU. The cyclic garbage collector is paused while a
chunk is read and planned (see :func:`_collector_paused`).

With ``processes`` > 1 (PostgreSQL), each process plans a range of item codes with its own
connection. An item-location without a policy (method NULL) gets a position and exception flags,
never a proposal. The apply stage uses :func:`refresh_positions` for the item-locations a document touched.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from operator import itemgetter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, tuple_, update
from sqlalchemy.engine import Connection, RootTransaction, Row

from crossdock.gateway.inventory.bullwhip import DEFAULT_PERIOD_DAYS, DEFAULT_PERIODS, bullwhip
from crossdock.gateway.inventory.demand import ForecastBucket, Period
from crossdock.gateway.inventory.ledger import DocumentRef, ItemLocationKey, Movement, MovementKind
from crossdock.gateway.inventory.policy import ReplenishmentPolicy
from crossdock.gateway.inventory.proposals import ItemLocationInput, ItemPlan, plan_item
from crossdock.gateway.inventory.store import POLICY_COLUMNS, POSITION_COLUMNS, write_positions
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import among, build_engine, is_postgres

__all__ = ["RunReport", "run_planning", "refresh_positions", "load_inputs", "policy_of", "position_row"]

_KINDS = {kind.value: kind for kind in MovementKind}
_MOVEMENT_COLUMNS = (t.inv_movements.c.item_location_id, t.inv_movements.c.id, t.inv_movements.c.kind,
                     t.inv_movements.c.quantity, t.inv_movements.c.effective, t.inv_movements.c.period_start,
                     t.inv_movements.c.due, t.inv_movements.c.order_ref, t.inv_movements.c.document_id,
                     t.inv_movements.c.document_type, t.inv_movements.c.business_key, t.inv_movements.c.line,
                     t.inv_movements.c.idempotency_key)
#: reported periods older than this cannot matter (longest demand window, bullwhip window)
_PERIOD_LOOKBACK_DAYS = max(366, DEFAULT_PERIOD_DAYS * DEFAULT_PERIODS)


@dataclass
class RunReport:
    """What a planning run did (also stored in ``inv_runs``)."""

    supplier_id: int | None
    today: date
    item_locations: int = 0
    positions_written: int = 0
    proposals: int = 0
    proposals_new: int = 0
    superseded: int = 0
    issues: int = 0
    duration_s: float = 0.0
    #: seconds reading, planning and writing, summed over chunks; on PostgreSQL a chunk's writes
    #: overlap the next chunk's reading and planning, so these add up to more than the duration
    load_s: float = 0.0
    plan_s: float = 0.0
    write_s: float = 0.0


# ---------------------------------------------------------------------------------- policies


@dataclass
class _Policies:
    """One ReplenishmentPolicy per distinct policy row (most item-locations share a few)."""

    cache: dict[tuple, ReplenishmentPolicy | None] = field(default_factory=dict)
    _values: Any = None

    def get(self, row: Row) -> ReplenishmentPolicy:
        if self._values is None:
            self._values = itemgetter(*(row._fields.index(c) for c in POLICY_COLUMNS))
        values = self._values(row)
        policy = self.cache.get(values)
        if policy is None:
            policy = self.cache[values] = policy_of(row._mapping)
        return policy


def policy_of(values: Mapping[str, Any]) -> ReplenishmentPolicy:
    """The engine's policy for an item-location row; without a method, a tracking policy (the
    position and flags are computed, the proposal is ignored)."""
    if values["method"] is None:
        return ReplenishmentPolicy("reorder_point", reorder_point=Decimal(0),
                                   demand_window_days=values["demand_window_days"] or 56,
                                   horizon_days=values["horizon_days"] or 28)
    return ReplenishmentPolicy(**{c: values[c] for c in POLICY_COLUMNS})


# ----------------------------------------------------------------------------------- loading


def _key(row: Row) -> ItemLocationKey:
    """Engine keys are the item-location id and the location id (the bullwhip pools locations)."""
    return ItemLocationKey(str(row.id), str(row.location_id))


def _movements(conn: Connection, keys: Mapping[int, ItemLocationKey], today: date | None = None,
               since: date | None = None) -> dict[int, list[Movement]]:
    by_il: dict[int, list[Movement]] = {il_id: [] for il_id in keys}
    stored = Movement.stored
    ref = DocumentRef.stored
    kinds = _KINDS
    found = _movement_rows(conn, list(keys), today, since)
    for il_id, seq, kind, qty, effective, period_start, due, order_ref, doc_id, doc_type, business_key, line, ikey in found:
        source = ref("" if doc_id is None else str(doc_id), doc_type, business_key, line)
        by_il[il_id].append(stored(kinds[kind], keys[il_id], qty, effective, source, order_ref, due, period_start,
                                   seq, ikey))
    return by_il


_COLUMN_LIST = ", ".join(f"m.{c.name}" for c in _MOVEMENT_COLUMNS)
_MOVEMENTS_SQL = (f"SELECT {_COLUMN_LIST} FROM inv_movements m "
                  "WHERE m.item_location_id = ANY(%(ids)s) ORDER BY m.item_location_id, m.id")
#: on-hand-only kinds: dated on or before the latest snapshot, they are already in it
_ON_HAND_KINDS = (MovementKind.SNAPSHOT_ON_HAND.value, MovementKind.SALE.value, MovementKind.ADJUSTMENT.value)
#: the latest count per item-location as a window over the same rows: one index scan of the chunk's
#: ledger (a join with a grouped subquery made PostgreSQL scan all of ``inv_movements`` per chunk)
_RELEVANT_SQL = (
    f"SELECT {_COLUMN_LIST} FROM ("
    f"  SELECT {_COLUMN_LIST}, max(m.effective) FILTER (WHERE m.kind = 'snapshot_on_hand'"
    "    AND m.effective <= %(today)s) OVER (PARTITION BY m.item_location_id) AS counted"
    "  FROM inv_movements m WHERE m.item_location_id = ANY(%(ids)s)) m "
    "WHERE m.kind <> ALL(%(on_hand_kinds)s) OR m.counted IS NULL OR m.effective >= m.counted"
    "  OR (m.kind = 'sale' AND m.effective >= %(since)s) "
    "ORDER BY m.item_location_id, m.id")


def _movement_rows(conn: Connection, ids: list[int], today: date | None, since: date | None) -> Iterable[tuple]:
    """The ledger rows of some item-locations as plain tuples, in (item-location, sequence) order.

    With ``today`` and ``since``, only the rows that can still change a plan as of ``today``: every
    order-pipeline row, and of the on-hand rows (snapshots, sales, adjustments) those dated on or
    after the latest snapshot up to ``today`` — earlier ones are already in that count — plus the
    sales dated from ``since`` (the demand window). The engine gives the same plan for these rows
    as for the whole ledger (``tests/vmi/test_planning_load_vmi.py``).

    PostgreSQL: array parameters and ``fetchall`` on the driver's cursor (no per-row result
    objects: a planning run reads millions of rows); elsewhere through SQLAlchemy.
    """
    relevant = today is not None and since is not None
    if is_postgres(conn):
        cursor = conn.connection.driver_connection.cursor()
        try:
            if relevant:
                cursor.execute(_RELEVANT_SQL, {"ids": ids, "today": today, "since": since,
                                               "on_hand_kinds": list(_ON_HAND_KINDS)})
            else:
                cursor.execute(_MOVEMENTS_SQL, {"ids": ids})
            return cursor.fetchall()
        finally:
            cursor.close()
    m = t.inv_movements
    query = select(*_MOVEMENT_COLUMNS).where(m.c.item_location_id.in_(ids))
    if relevant:
        counted = (select(m.c.item_location_id, func.max(m.c.effective).label("counted"))
                   .where(m.c.item_location_id.in_(ids), m.c.kind == MovementKind.SNAPSHOT_ON_HAND.value,
                          m.c.effective <= today).group_by(m.c.item_location_id).subquery())
        query = query.outerjoin(counted, counted.c.item_location_id == m.c.item_location_id).where(or_(
            m.c.kind.not_in(_ON_HAND_KINDS), counted.c.counted.is_(None), m.c.effective >= counted.c.counted,
            and_(m.c.kind == MovementKind.SALE.value, m.c.effective >= since)))
    return conn.execute(query.order_by(m.c.item_location_id, m.c.id)).all()


def _forecasts(conn: Connection, ids: Sequence[int]) -> dict[int, list[ForecastBucket]]:
    if not ids:
        return {}
    f = t.inv_forecasts
    out: dict[int, list[ForecastBucket]] = {}
    for il_id, start, end, qty, firm in conn.execute(
            select(f.c.item_location_id, f.c.period_start, f.c.period_end, f.c.quantity, f.c.firm)
            .where(among(conn, f.c.item_location_id, ids))):
        out.setdefault(il_id, []).append(ForecastBucket(start, end, qty, firm))
    return out


def _periods(conn: Connection, location_ids: Iterable[int], today: date,
             cache: dict[int, tuple[Period, ...]]) -> dict[int, tuple[Period, ...]]:
    wanted = sorted(set(location_ids) - cache.keys())
    if wanted:
        p = t.inv_reported_periods
        found: dict[int, list[Period]] = {location: [] for location in wanted}
        since = today - timedelta(days=_PERIOD_LOOKBACK_DAYS)
        for start in range(0, len(wanted), 1000):
            for location, first, last in conn.execute(
                    select(p.c.location_id, p.c.period_start, p.c.period_end)
                    .where(p.c.location_id.in_(wanted[start:start + 1000]), p.c.period_end >= since)):
                found[location].append(Period(first, last))
        cache.update({location: tuple(periods) for location, periods in found.items()})
    return cache


def load_inputs(conn: Connection, rows: Sequence[Row], today: date, *, policies: _Policies | None = None,
                periods: dict[int, tuple[Period, ...]] | None = None, relevant_only: bool = False,
                lookback_days: int = 0) -> list[ItemLocationInput]:
    """Engine inputs for item-location rows (keys: ``(str(item-location id), str(location id))``).

    Args:
        conn: connection.
        rows: ``inv_item_locations`` rows.
        today: planning date (bounds the reported periods read).
        policies: a policy cache shared across chunks.
        periods: a reported-period cache per location shared across chunks.
        relevant_only: read only the ledger rows that can change the plan as of ``today`` (see
            :func:`_movement_rows`); the plan is the same, the position's ``explanation`` shorter.
        lookback_days: with ``relevant_only``, keep sales of at least this many days (bullwhip).

    Returns:
        One input per row, in row order.
    """
    policies = policies or _Policies()
    periods = periods if periods is not None else {}
    since = None
    if relevant_only and rows:
        window = max(lookback_days, *(r.demand_window_days or 56 for r in rows))
        since = today - timedelta(days=window - 1)
    keys = {r.id: _key(r) for r in rows}
    movements = _movements(conn, keys, today if since else None, since)
    forecasts = _forecasts(conn, [r.id for r in rows if r.use_forecast])
    _periods(conn, (r.location_id for r in rows), today, periods)
    loaded = ItemLocationInput.loaded
    return [loaded(keys[r.id], policies.get(r), tuple(movements[r.id]), tuple(forecasts.get(r.id, ())),
                   periods.get(r.location_id, ()), str(r.supplier_id))
            for r in rows]


# ---------------------------------------------------------------------------------- writing


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def position_row(il_id: int, plan: ItemPlan, planned: bool, today: date) -> dict[str, Any]:
    """The materialised position of a plan (the columns of :data:`POSITION_COLUMNS`)."""
    lv, pos = plan.levels, plan.position
    return {
        "id": il_id, "planned_on": today, "on_hand": pos.on_hand, "in_transit": pos.in_transit,
        "on_order": pos.on_order, "avg_daily": round(lv.avg_daily, 4), "days_of_supply": round(lv.days_of_supply, 2),
        "min_level": _r(lv.min_level) if planned else None, "max_level": _r(lv.max_level) if planned else None,
        "reorder_level": _r(lv.trigger) if planned else None, "target_level": _r(lv.target) if planned else None,
        "stockout_date": plan.stockout_date, "flags": ",".join(sorted(f.value for f in plan.flags)),
        "demand_source": plan.demand_source.value,
    }


def _changed(row: Row, new: Mapping[str, Any]) -> bool:
    return any(getattr(row, c) != new[c] for c in POSITION_COLUMNS)


def _proposal_row(il: Row, plan: ItemPlan, now: datetime) -> dict[str, Any]:
    p = plan.proposal
    assert p is not None
    return {"item_location_id": il.id, "supplier_id": il.supplier_id, "state": "open", "quantity": p.quantity,
            "needed_by": p.needed_by, "order_by": p.order_by, "expedite": p.expedite,
            "reasons": [{"code": r.code.value, "date": r.date.isoformat()} for r in p.reasons],
            "flags": ",".join(sorted(f.value for f in p.flags)), "projected_balance": round(p.projected_balance, 4),
            "trigger_level": round(p.trigger, 4), "target_level": round(p.target, 4), "created_at": now}


def _reconcile_proposals(conn: Connection, rows: Sequence[Row], plans: Sequence[ItemPlan], now: datetime,
                         report: RunReport) -> None:
    pr = t.inv_proposals
    ids = [r.id for r in rows]
    open_rows = {r.item_location_id: r for r in conn.execute(
        select(pr.c.id, pr.c.item_location_id, pr.c.quantity, pr.c.needed_by)
        .where(among(conn, pr.c.item_location_id, ids), pr.c.state == "open"))}
    stale: list[int] = []
    fresh: list[dict[str, Any]] = []
    for il, plan in zip(rows, plans):
        proposal = plan.proposal if il.method is not None else None
        current = open_rows.get(il.id)
        if proposal is not None:
            report.proposals += 1
        if current is not None and proposal is not None and (
                current.quantity == proposal.quantity and current.needed_by == proposal.needed_by):
            continue
        if current is not None:
            stale.append(current.id)
        if proposal is not None:
            fresh.append(_proposal_row(il, plan, now))
    if stale:
        conn.execute(update(pr).where(among(conn, pr.c.id, stale), pr.c.state == "open")
                     .values(state="superseded", decided_at=now, decided_by="planner"))
    _insert_proposals(conn, fresh)
    report.superseded += len(stale)
    report.proposals_new += len(fresh)


def _naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


_PROPOSAL_COLUMNS = ("item_location_id", "supplier_id", "state", "quantity", "needed_by", "order_by", "expedite",
                     "reasons", "flags", "projected_balance", "trigger_level", "target_level", "created_at")


def _insert_proposals(conn: Connection, fresh: Sequence[Mapping[str, Any]]) -> None:
    """Insert new proposals: ``COPY`` on PostgreSQL for many (a cold run inserts tens of
    thousands), else one ``executemany``. Values are bound as the table's types would bind them:
    ``reasons`` as JSON text, ``created_at`` as naive UTC (:class:`~crossdock.gateway.store.schema.UtcDateTime`)."""
    if not fresh:
        return
    if not (is_postgres(conn) and len(fresh) > 200):
        conn.execute(insert(t.inv_proposals), fresh)
        return
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY inv_proposals ({', '.join(_PROPOSAL_COLUMNS)}) FROM STDIN") as copy:
            for row in fresh:
                values = {**row, "reasons": json.dumps(row["reasons"]), "created_at": _naive_utc(row["created_at"])}
                copy.write_row(tuple(values[c] for c in _PROPOSAL_COLUMNS))
    finally:
        cursor.close()


def _plan_rows(rows: Sequence[Row], inputs: Sequence[ItemLocationInput], today: date,
               report: RunReport) -> tuple[list[ItemPlan], list[dict[str, Any]]]:
    plans: list[ItemPlan] = []
    changed: list[dict[str, Any]] = []
    for row, item in zip(rows, inputs):
        plan = plan_item(item, today)
        plans.append(plan)
        report.issues += len(plan.issues)
        new = position_row(row.id, plan, row.method is not None, today)
        if _changed(row, new):
            changed.append(new)
    return plans, changed


def refresh_positions(conn: Connection, il_ids: Iterable[int], today: date) -> int:
    """Recompute and write the positions of some item-locations (no proposals), in the caller's
    transaction: the apply stage calls it for what a document touched.

    Returns:
        Positions written.
    """
    il = t.inv_item_locations
    wanted = sorted(set(il_ids))
    written = 0
    for start in range(0, len(wanted), 2000):
        rows = conn.execute(select(il).where(il.c.id.in_(wanted[start:start + 2000]))
                            .order_by(il.c.item_code, il.c.location_code)).all()
        report = RunReport(None, today)
        _plans, changed = _plan_rows(rows, load_inputs(conn, rows, today, relevant_only=True), today, report)
        write_positions(conn, changed)
        written += len(changed)
    return written


# ------------------------------------------------------------------------------------- runs


def _suppliers(engine: Engine, supplier_id: int | None) -> list[int]:
    if supplier_id is not None:
        return [supplier_id]
    with engine.connect() as conn:
        return list(conn.execute(select(t.inv_item_locations.c.supplier_id).distinct()
                                 .order_by(t.inv_item_locations.c.supplier_id)).scalars())


def _chunk(conn: Connection, supplier_id: int, after: tuple[str, str] | None, size: int,
           items: tuple[str | None, str | None] = (None, None)) -> list[Row]:
    il = t.inv_item_locations
    query = select(il).where(il.c.supplier_id == supplier_id).order_by(il.c.item_code, il.c.location_code).limit(size)
    if after is not None:
        query = query.where(tuple_(il.c.item_code, il.c.location_code) > tuple_(*after))
    if items[0] is not None:
        query = query.where(il.c.item_code >= items[0])
    if items[1] is not None:
        query = query.where(il.c.item_code < items[1])
    if is_postgres(conn):
        query = query.with_for_update(of=il)
    return conn.execute(query).all()


@dataclass
class _Bullwhip:
    """Inputs of the item being planned, carried across chunk boundaries until its last location."""

    item_id: int | None = None
    inputs: list[ItemLocationInput] = field(default_factory=list)
    done: list[tuple[int, float | None, int | None]] = field(default_factory=list)

    def add(self, item_id: int, item: ItemLocationInput, today: date) -> None:
        if item_id != self.item_id:
            self.flush(today)
            self.item_id = item_id
        self.inputs.append(item)

    def flush(self, today: date) -> None:
        if self.item_id is None or not self.inputs:
            return
        rows = [m for i in self.inputs for m in i.movements if m.kind in _BULLWHIP_KINDS]
        reported = {i.key.location_id: i.reported_periods for i in self.inputs}
        indicator = bullwhip(rows, rows, today, reported_periods=reported)
        self.done.append((self.item_id, indicator.ratio if indicator else None,
                          indicator.periods if indicator else None))
        self.inputs = []

    def take(self) -> list[tuple[int, float | None, int | None]]:
        """The indicators finished so far, to be written with the current chunk."""
        done, self.done = self.done, []
        return done


def _write_bullwhip(conn: Connection, indicators: list[tuple[int, float | None, int | None]]) -> None:
    for item_id, ratio, periods in indicators:
        conn.execute(update(t.inv_items).where(t.inv_items.c.id == item_id)
                     .values(bullwhip=None if ratio is None else round(ratio, 4), bullwhip_periods=periods))


_BULLWHIP_KINDS = frozenset({MovementKind.SALE, MovementKind.ON_ORDER, MovementKind.CANCELLED})


def run_planning(engine: Engine, today: date, *, supplier_id: int | None = None, reason: str = "manual",
                 chunk_size: int = 5000, now: datetime | None = None, bullwhip: bool | None = None,
                 processes: int = 1) -> RunReport:
    """Plan every item-location of one supplier (or of all), store positions and proposals.

    Args:
        engine: the database (one transaction per chunk).
        today: planning date.
        supplier_id: the supplier, or None for every supplier.
        reason: ``documents``, ``schedule`` or ``manual`` (recorded in ``inv_runs``).
        chunk_size: item-locations per transaction.
        now: timestamps (default: the clock).
        bullwhip: also compute the bullwhip indicator per item (default: on for the daily and
            manual runs, off for the debounced runs after documents — a 13-week variance ratio
            does not move with one document, and it costs about as much as the planning: it also
            makes the run read 13 weeks of sales instead of the demand window).
        processes: on PostgreSQL, plan each supplier in this many processes, each a range of item
            codes (whole items, so the bullwhip still sees every location of an item); the timings
            are then summed over the processes.

    Returns:
        Counts and timings.
    """
    with_whip = reason != "documents" if bullwhip is None else bullwhip
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    report = RunReport(supplier_id, today)
    policies = _Policies()
    periods: dict[int, tuple[Period, ...]] = {}
    for supplier in _suppliers(engine, supplier_id):
        if processes > 1 and engine.dialect.name == "postgresql":
            _run_parallel(engine, supplier, today, now, chunk_size, report, with_whip, processes)
        else:
            _run_supplier(engine, supplier, today, now, chunk_size, report, policies, periods, with_whip)
    report.duration_s = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(t.inv_runs.insert().values(
            supplier_id=supplier_id, trigger=reason, today=today, started_at=now, duration_s=report.duration_s,
            item_locations=report.item_locations, proposals=report.proposals, issues=report.issues))
    return report


def _item_ranges(engine: Engine, supplier: int, parts: int) -> list[tuple[str | None, str | None]]:
    """``parts`` ranges of item codes ``[first, stop)`` with about as many item-locations each."""
    il = t.inv_item_locations
    with engine.connect() as conn:
        counts = conn.execute(select(il.c.item_code, func.count()).where(il.c.supplier_id == supplier)
                              .group_by(il.c.item_code).order_by(il.c.item_code)).all()
    total = sum(n for _code, n in counts)
    bounds: list[str] = []
    seen = 0
    for code, n in counts:
        if seen >= total * (len(bounds) + 1) / parts and len(bounds) < parts - 1:
            bounds.append(code)
        seen += n
    edges: list[str | None] = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:]))


def _run_parallel(engine: Engine, supplier: int, today: date, now: datetime, chunk_size: int, report: RunReport,
                  with_whip: bool, processes: int) -> None:
    url = engine.url.render_as_string(hide_password=False)
    ranges = _item_ranges(engine, supplier, processes)
    context = multiprocessing.get_context("spawn")  # no fork: the caller may run threads
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
        parts = list(pool.map(_plan_range, *zip(*((url, supplier, today, now, chunk_size, with_whip, r)
                                                   for r in ranges))))
    for part in parts:
        for name in ("item_locations", "positions_written", "proposals", "proposals_new", "superseded", "issues",
                     "load_s", "plan_s", "write_s"):
            setattr(report, name, getattr(report, name) + getattr(part, name))


def _plan_range(url: str, supplier: int, today: date, now: datetime, chunk_size: int, with_whip: bool,
                items: tuple[str | None, str | None]) -> RunReport:
    """One process's share of :func:`_run_parallel` (its own engine, one connection)."""
    engine = build_engine(url, pool_size=1)
    try:
        report = RunReport(supplier, today)
        _run_supplier(engine, supplier, today, now, chunk_size, report, _Policies(), {}, with_whip, items)
        return report
    finally:
        engine.dispose()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk is planned.

    A chunk allocates hundreds of thousands of small objects (rows, movements, plans) with no
    reference cycles, all freed by reference counting when the chunk is done; while they live they
    trigger collections that scan them, and the whole heap, again and again (measured: over half
    the CPU of turning ledger rows into movements). Nothing is leaked: the collector resumes after
    each chunk."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_supplier(engine: Engine, supplier: int, today: date, now: datetime, chunk_size: int, report: RunReport,
                  policies: _Policies, periods: dict[int, tuple[Period, ...]], with_whip: bool,
                  items: tuple[str | None, str | None] = (None, None)) -> None:
    """Plan a supplier's item-locations chunk by chunk, one transaction per chunk.

    On PostgreSQL a chunk's writes and its commit run in a writer thread while the next chunk is
    read and planned on a second connection: the database's work overlaps the planner's (the driver
    releases the GIL while it waits). At most one chunk is in flight; chunks lock disjoint rows;
    each still commits its positions and proposals together, and a failed write stops the run.
    """
    background = engine.dialect.name == "postgresql"
    after: tuple[str, str] | None = None
    whip = _Bullwhip()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="planning-writer") as writer:
        pending: Future[None] | None = None
        try:
            while True:
                conn = engine.connect()
                try:
                    transaction = conn.begin()
                    with _collector_paused():
                        work = _plan_chunk(conn, supplier, after, today, chunk_size, report, policies, periods,
                                           with_whip, items, whip)
                    if pending is not None:
                        pending, previous = None, pending
                        previous.result()  # one chunk in flight: its failure stops the run here
                except BaseException:
                    conn.close()
                    raise
                if work is None:
                    whip.flush(today)
                    _finish_chunk(conn, transaction, None, now, report, whip.take())
                    return
                after = work.after
                if background:
                    pending = writer.submit(_finish_chunk, conn, transaction, work, now, report, whip.take())
                else:
                    _finish_chunk(conn, transaction, work, now, report, whip.take())
        finally:
            if pending is not None:
                pending.result()


@dataclass
class _ChunkWork:
    """A planned chunk waiting for its writes."""

    rows: list[Row]
    plans: list[ItemPlan]
    changed: list[dict[str, Any]]
    after: tuple[str, str]


def _plan_chunk(conn: Connection, supplier: int, after: tuple[str, str] | None, today: date, chunk_size: int,
                report: RunReport, policies: _Policies, periods: dict[int, tuple[Period, ...]], with_whip: bool,
                items: tuple[str | None, str | None], whip: _Bullwhip) -> _ChunkWork | None:
    """Lock and read the next chunk, plan it (``None`` when there is none left)."""
    mark = time.perf_counter()
    rows = _chunk(conn, supplier, after, chunk_size, items)
    if not rows:
        return None
    inputs = load_inputs(conn, rows, today, policies=policies, periods=periods, relevant_only=True,
                         lookback_days=_PERIOD_LOOKBACK_DAYS if with_whip else 0)
    loaded = time.perf_counter()
    plans, changed = _plan_rows(rows, inputs, today, report)
    if with_whip:
        for row, item in zip(rows, inputs):
            whip.add(row.item_id, item, today)
    report.item_locations += len(rows)
    report.positions_written += len(changed)
    report.load_s += loaded - mark
    report.plan_s += time.perf_counter() - loaded
    return _ChunkWork(rows, plans, changed, (rows[-1].item_code, rows[-1].location_code))


def _finish_chunk(conn: Connection, transaction: RootTransaction, work: _ChunkWork | None, now: datetime,
                  report: RunReport, indicators: list[tuple[int, float | None, int | None]]) -> None:
    """Write a planned chunk's positions, proposals and finished bullwhip indicators; commit;
    close the connection (rolled back when anything failed)."""
    try:
        mark = time.perf_counter()
        if work is not None:
            write_positions(conn, work.changed)
            _reconcile_proposals(conn, work.rows, work.plans, now, report)
        _write_bullwhip(conn, indicators)
        transaction.commit()
        report.write_s += time.perf_counter() - mark
    finally:
        conn.close()
