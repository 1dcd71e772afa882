"""Inventory at scale in PostgreSQL: the portal grid API and a full planning run.

Builds a fresh database (``crossdock_inv_bench_<random>``, dropped at the end unless ``--keep``)
with ``--item-locations`` item-locations (default 1,000,000) and ``--movements`` ledger rows
(default 10,000,000), loaded with ``COPY``: 1,000 stores of one retailer; one supplier with
``--portal-size`` item-locations (default 50,000), one with ``--run-size`` (default 100,000), the
rest spread over further suppliers. Each item-location gets weekly 852 sales and on-hand
snapshots, an older 846 count and, for some, an open PO with an 855 and an 856 — seeded, so
every run generates the same data. Policies mix min/max, reorder point (service level) and days
of supply, as in ``benchmarks/replenishment_engine.py``.

Then it measures, and prints:

1. **full planning run** of the ``--run-size`` supplier (``run_planning``: stream the rows,
   build the engine inputs, plan, write positions with COPY, reconcile proposals, bullwhip per
   item), cold (first run writes every position) and warm (same day again: only changes); the
   phase times are wall seconds summed over chunks, and a chunk's writes overlap the next
   chunk's load and plan, so they add up to more than the run's wall time;
2. **portal inventory API** (``GET /api/v1/inventory`` through the real litestar app with the
   supplier's API key) for the ``--portal-size`` supplier: p50/p95/max over ``--requests``
   requests mixing the default page, sorts (days of supply, on hand desc), an exception filter,
   a location filter and deep pages.

3. **apply-stage inventory effects** (``InventoryEffects.apply``, ``--effects`` documents) on
   850s of the gateway benchmark's shape (2 lines, UPC items, ship-to store ``0042``), once as one
   document per message (the common case: each call is one message) and once as one message of
   them all; also with buyer SKUs this retailer's items carry, so ledger rows are written and
   positions refreshed. CPU and wall per document.
4. ``EXPLAIN ANALYZE`` of the grid's queries (with ``--explain``).

Targets: portal API p95 <= 50 ms; full run for 100,000 item-locations <= 10 s; effects <= 1 ms
per typical 850 document.

Usage::

    python benchmarks/inventory_scale.py                       # 1M item-locations, 10M rows
    python benchmarks/inventory_scale.py --item-locations 200000 --movements 2000000 --run-size 50000
    CROSSDOCK_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python benchmarks/inventory_scale.py
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from crossdock.gateway.inventory.planning import run_planning
from crossdock.gateway.partners import IdentitySpec, create_partner
from crossdock.gateway.settings import load_settings
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade

STORES = 1000
WEEKS = 8
TODAY = datetime.now(UTC).date()
POLICIES = (  # method, min, max, reorder point, service level, min days, target days, lead, pack, use_forecast
    ("min_max", 40, 160, None, None, None, None, 5, 12),
    ("reorder_point", None, None, None, 0.95, None, None, 7, 6),
    ("days_of_supply", None, None, None, None, 10, 21, 4, 24),
    ("reorder_point", None, 300, None, 0.9, None, None, 10, 1),
)


def _database(base_url: str, keep: bool) -> tuple[str, callable]:
    name = f"crossdock_inv_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return base_url.rsplit("/", 1)[0] + f"/{name}", drop


def _suppliers(total: int, portal: int, run: int) -> list[int]:
    """Item-locations per supplier (multiples of the store count)."""
    sizes = [portal, run]
    rest = total - portal - run
    while rest > 0:
        size = min(rest, 200_000)
        sizes.append(size)
        rest -= size
    return [max(STORES, s - s % STORES) for s in sizes]


def _children_cpu() -> float:
    """CPU seconds of finished child processes (a run split over processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _copy(raw, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _master(engine, sizes: list[int]) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Partners, stores, items; returns supplier ids and (item id, supplier id, item index)."""
    with engine.begin() as conn:
        create_partner(conn, code="host", name="ERP", kind="host")
        retailer = create_partner(conn, code="retail", name="Retailer").id
        suppliers = [create_partner(conn, code=f"sup{n}", name=f"Supplier {n}",
                                    identities=[IdentitySpec(kind="api_key", value=f"bench-key-{n}")]).id
                     for n in range(len(sizes))]
    now = datetime.now(UTC)
    raw = engine.raw_connection()
    try:
        _copy(raw.driver_connection, "inv_locations", ("id", "code", "name", "kind", "customer_id", "partner_code",
                                                       "created_at"),
              ((n + 1, f"S{n:04d}", f"Store {n}", "store", retailer, f"{n:04d}", now) for n in range(STORES)))
        items: list[tuple[int, int, int]] = []
        item_id = 0
        for supplier, size in zip(suppliers, sizes):
            for _ in range(size // STORES):
                item_id += 1
                items.append((item_id, supplier, item_id))
        _copy(raw.driver_connection, "inv_items", ("id", "supplier_id", "code", "description", "buyer_sku", "unit",
                                                   "created_at", "updated_at"),
              ((i, s, f"IT{n:06d}", f"Item {n}", f"B{n:06d}", "EA", now, now) for i, s, n in items))
        _copy(raw.driver_connection, "inv_programs", ("supplier_id", "customer_id", "order_document", "po_prefix"),
              ((s, retailer, "order_response", "VMI") for s in suppliers))
        raw.driver_connection.commit()
    finally:
        raw.close()
    return suppliers, items


def _item_locations(items: list[tuple[int, int, int]]):
    """(id, item, location, supplier, item code, location code, policy index) in id order."""
    il_id = 0
    for item_id, supplier, n in items:
        for store in range(STORES):
            il_id += 1
            yield il_id, item_id, store + 1, supplier, f"IT{n:06d}", f"S{store:04d}", il_id % len(POLICIES)


def _load_item_locations(engine, items) -> int:
    columns = ("id", "item_id", "location_id", "supplier_id", "item_code", "location_code", "method", "min_qty",
               "max_qty", "reorder_point", "service_level", "min_days_of_supply", "target_days_of_supply",
               "lead_time_days", "review_period_days", "pack_multiple", "min_order_qty", "demand_window_days",
               "horizon_days", "use_forecast", "on_hand", "in_transit", "on_order", "avg_daily", "days_of_supply",
               "flags", "demand_source")
    rng = random.Random(11)

    def rows():
        for il_id, item_id, location, supplier, code, location_code, p in _item_locations(items):
            method, low, high, rop, level, min_days, days, lead, pack = POLICIES[p]
            on_hand = rng.randint(0, 200)
            yield (il_id, item_id, location, supplier, code, location_code, method, low, high, rop, level, min_days,
                   days, lead, 7, pack, 0, 56, 28, False, on_hand, 0, 0, 0.0, float(on_hand),
                   "below_min" if low and on_hand < low else "", "history")

    raw = engine.raw_connection()
    try:
        count = _copy(raw.driver_connection, "inv_item_locations", columns, rows())
        raw.driver_connection.commit()
    finally:
        raw.close()
    return count


def _ledger(il_id: int, rng: random.Random, budget: int):
    """About ``budget`` rows for one item-location: weekly sales and counts, a count, maybe a PO."""
    rate = rng.choice((0.5, 2.0, 5.0, 12.0))
    rows = []
    week_end = TODAY - timedelta(days=1)
    weeks = max(1, min(WEEKS, (budget - 1) // 2))
    for week in range(weeks):
        end = week_end - timedelta(days=7 * week)
        sold = max(0, round(rng.gauss(rate * 7, rate * 3)))
        rows.append(("sale", sold, end, end - timedelta(days=6), None, None, "852", f"R{week}"))
        rows.append(("snapshot_on_hand", rng.randint(0, 200), end, None, None, None, "852", f"R{week}"))
    rows.append(("snapshot_on_hand", rng.randint(0, 200), TODAY - timedelta(days=70), None, None, None, "846", "INV"))
    while len(rows) < budget:
        po = f"PO{il_id}-{len(rows)}"
        placed = TODAY - timedelta(days=rng.randint(1, 20))
        rows.append(("on_order", 48, placed, None, placed + timedelta(days=7), po, "850", po))
        if len(rows) < budget:
            rows.append(("confirmed", 48, placed + timedelta(days=1), None, placed + timedelta(days=8), po, "855", po))
        if len(rows) < budget:
            rows.append(("shipped", 24, placed + timedelta(days=2), None, placed + timedelta(days=5), po, "856", po))
    return rows[:budget]


def _load_movements(engine, item_locations: int, movements: int) -> int:
    per = movements // item_locations
    extra = movements - per * item_locations
    rng = random.Random(7)
    columns = ("id", "idempotency_key", "item_location_id", "kind", "quantity", "effective", "period_start", "due",
               "order_ref", "document_id", "document_type", "business_key", "line")

    def rows():
        seq = 0
        for il_id in range(1, item_locations + 1):
            for kind, qty, effective, start, due, po, doc_type, key in _ledger(
                    il_id, rng, per + (1 if il_id <= extra else 0)):
                seq += 1
                yield (seq, f"{seq:032x}", il_id, kind, qty, effective, start, due, po, None, doc_type, key, "1")

    raw = engine.raw_connection()
    try:
        count = _copy(raw.driver_connection, "inv_movements", columns, rows())
        _copy(raw.driver_connection, "inv_reported_periods", ("location_id", "period_start", "period_end"),
              ((store + 1, TODAY - timedelta(days=7 * w + 7), TODAY - timedelta(days=7 * w + 1))
               for store in range(STORES) for w in range(WEEKS)))
        raw.driver_connection.commit()
    finally:
        raw.close()
    return count


def _portal_api(url: str, supplier_index: int, requests: int, settings_dir: Path) -> list[float]:
    from litestar.testing import TestClient

    from crossdock.gateway.hub import open_hub

    settings = load_settings(database_url=url, var_dir=settings_dir)
    hub = open_hub(settings, workers=False, migrate=False)
    headers = {"X-Api-Key": f"bench-key-{supplier_index}"}
    queries = [{}, {"sort": "days_of_supply"}, {"sort": "on_hand", "desc": "1"}, {"exception": "below_min"},
               {"location": "S01"}, {"page": "40"}, {"item": "IT0000"}, {"sort": "location", "page": "7"}]
    timings = []
    with TestClient(app=hub.app()) as client:
        for params in queries:  # warm-up: plans, caches, first connections
            assert client.get("/api/v1/inventory", params=params, headers=headers).status_code == 200
        for n in range(requests):
            params = queries[n % len(queries)]
            started = time.perf_counter()
            response = client.get("/api/v1/inventory", params=params, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and response.json()["items"], response.text[:200]
    hub.runtime.close()
    return timings


def _po(number: str, lines: list[tuple[str, str]]) -> bytes:
    """One 850 like ``gateway_throughput.py``'s: lines are (qualifier, item id)."""
    segments = [f"BEG*00*SA*{number}**20240301", "N1*ST*STORE*92*0042",
                *(f"PO1*{n}*10*EA*2.5**{q}*{item}" for n, (q, item) in enumerate(lines, start=1)),
                f"CTT*{len(lines)}"]
    body = "".join(s + "~" for s in ["ST*850*0001", *segments]) + f"SE*{len(segments) + 2}*0001~"
    isa = (f"ISA*00*          *00*          *ZZ*{'BENCHBUYER':<15}*ZZ*{'CROSSDOCK':<15}*240301*0930*U*00401*"
           "000000001*0*P*>~")
    return f"{isa}GS*PO*BENCHBUYER*CROSSDOCK*20240301*0930*1*X*004010~{body}GE*1*1~IEA*1*000000001~".encode()


def _applied(count: int, partner_id: int, lines, first_id: int) -> list:
    import json

    from crossdock.adapters.x12 import iter_sets
    from crossdock.gateway.effects import AppliedDocument
    from crossdock.mappings.api import to_canonical

    documents = []
    for n in range(count):
        model, _issues = to_canonical(next(iter(iter_sets(_po(f"BENCH{first_id + n}", lines(n))))))
        body = json.loads(model.model_dump_json(exclude_none=True))
        documents.append(AppliedDocument(first_id + n, "purchase_order", partner_id, {}, body))
    return documents


def _effects(engine, count: int) -> None:
    """Per-document cost of the apply stage's inventory effects (see the module docstring)."""
    from crossdock.gateway.inventory.service import InventoryEffects

    with engine.connect() as conn:
        retailer = conn.execute(text("SELECT id FROM partners WHERE code = 'retail'")).scalar_one()
    effects = InventoryEffects()
    with engine.connect() as conn:  # the first supplier's items, each stocked at store 0042
        skus = conn.execute(text("SELECT buyer_sku FROM inv_items ORDER BY id LIMIT 50")).scalars().all()
    shapes = {"gateway shape (unknown UPCs)": lambda n: [("UP", "012345678905"), ("UP", "036000291452")],
              "known buyer SKUs": lambda n: [("BP", skus[2 * n % len(skus)]), ("BP", skus[(2 * n + 1) % len(skus)])]}
    first = 10_000_000
    for label, lines in shapes.items():
        for grouping in ("1 per message", f"{count} in one message"):
            documents = _applied(count, retailer, lines, first)
            first += count
            batches = [[d] for d in documents] if grouping.startswith("1 ") else [documents]
            wall, cpu = time.perf_counter(), time.process_time()
            for batch in batches:
                with engine.begin() as conn:
                    effects.apply(conn, batch, now=datetime.now(UTC))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"inventory effects, {label}, {grouping}: {cpu / count * 1000:.2f} ms CPU, "
                  f"{wall / count * 1000:.2f} ms wall per document  [target <= 1 ms]")


def _explain(engine, supplier_id: int) -> None:
    """EXPLAIN ANALYZE of the grid's page and count queries for a few filters."""
    from crossdock.gateway.inventory import views

    cases = {"default": views.GridQuery(), "days of supply": views.GridQuery(sort="days_of_supply"),
             "on hand desc": views.GridQuery(sort="on_hand", desc=True),
             "below_min": views.GridQuery(exception="below_min"), "location S01": views.GridQuery(location="S01"),
             "page 40": views.GridQuery(page=40)}
    recorded: list[str] = []
    with engine.connect() as conn:
        real = conn.execute

        def spy(statement, *args, **kwargs):
            if hasattr(statement, "compile") and "inv_item_locations" in str(statement):
                sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True})).replace("%%", "%")
                plan = real(text(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}")).scalars().all()
                recorded.append("\n".join(f"    {line}" for line in plan))
            return real(statement, *args, **kwargs)

        conn.execute = spy  # type: ignore[method-assign]
        for label, query in cases.items():
            recorded.clear()
            views.grid(conn, query, supplier_id)
            print(f"grid {label}:")
            for plan in recorded:
                print(plan)


def main() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--item-locations", type=int, default=1_000_000)
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--portal-size", type=int, default=50_000)
    parser.add_argument("--run-size", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--effects", type=int, default=2000, help="850s for the effects figures (0: skip)")
    parser.add_argument("--bullwhip", action="store_true", help="also compute the bullwhip indicator in the run")
    parser.add_argument("--processes", type=int, nargs="+", default=[1],
                        help="processes per run; several values: a cold and a warm run for each")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the grid's queries")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    base = os.environ.get("CROSSDOCK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    url, drop = _database(base, args.keep)
    engine = build_engine(url, pool_size=4)
    try:
        upgrade(engine)
        sizes = _suppliers(args.item_locations, args.portal_size, args.run_size)
        started = time.perf_counter()
        suppliers, items = _master(engine, sizes)
        count = _load_item_locations(engine, items)
        rows = _load_movements(engine, count, args.movements)
        with engine.begin() as conn:  # rows were copied with their ids: move the sequences past them
            for table in ("inv_locations", "inv_items", "inv_item_locations", "inv_movements"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        print(f"loaded {count:,} item-locations, {rows:,} ledger rows, {len(suppliers)} suppliers "
              f"(portal supplier {sizes[0]:,}, run supplier {sizes[1]:,}) in {time.perf_counter() - started:.0f} s")
        with engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_database_size(current_database()))").scalar()
        print(f"database size: {size}")

        # positions of the portal supplier as the planner writes them, and the statistics
        # autovacuum would gather after so many updates
        run_planning(engine, TODAY, supplier_id=suppliers[0], reason="manual", chunk_size=args.chunk_size)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE inv_item_locations")
        for index, processes in enumerate(p for p in args.processes if p > 0):  # 0: no run
            day = TODAY + timedelta(days=index)  # a new day: every position changes again (cold)
            for label in ("cold", "warm"):
                wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
                extra = {"processes": processes} if processes > 1 else {}
                report = run_planning(engine, day, supplier_id=suppliers[1], reason="manual",
                                      chunk_size=args.chunk_size, bullwhip=args.bullwhip, **extra)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu + _children_cpu() - children
                print(f"full run ({label}, {processes} process(es)): {report.item_locations:,} item-locations in "
                      f"{wall:.2f} s wall, {cpu:.2f} s CPU in all processes (phases, overlapping: load {report.load_s:.2f} s, plan "
                      f"{report.plan_s:.2f} s, write "
                      f"{report.write_s:.2f} s); {report.positions_written:,} positions written, "
                      f"{report.proposals:,} proposals ({report.proposals_new:,} new, {report.superseded:,} "
                      f"superseded)  [target <= 10 s]")

        if args.explain:
            _explain(engine, suppliers[0])
        with tempfile.TemporaryDirectory() as var:
            timings = _portal_api(url, 0, args.requests, Path(var))
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"portal inventory API, supplier with {sizes[0]:,} item-locations, {len(timings)} requests: "
              f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms  "
              f"[target p95 <= 50 ms]")
        if args.effects:
            _effects(engine, args.effects)
    finally:
        engine.dispose()
        drop()


if __name__ == "__main__":
    main()
