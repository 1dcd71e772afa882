"""Ops console search on a million messages in PostgreSQL: load with COPY, time searches, EXPLAIN them.

Creates a scratch database ``crossdock_opsbench_<random>`` (dropped afterwards unless ``--keep``),
applies the migrations (so the indexes are the real ones), loads ``--messages`` messages with their
interchange, group, set, document and business keys through ``COPY``, runs ``ANALYZE``, then times
each console search (median of ``--repeat`` runs, warm cache) and prints the plan's access paths.

    python benchmarks/ops_search.py                         # 1,000,000 messages
    python benchmarks/ops_search.py --messages 100000 --url postgresql+psycopg://postgres@127.0.0.1/test

Figures are printed, never asserted (the machine is shared). Last run (1,000,000 messages, 2 shared
cores, load average 4–10): COPY load 19 min; every search's median 22–94 ms, worst single run
572 ms (partner + document type while the load average was ~10); lookups by PO number, ISA13,
GS06 and ST02 go through their own indexes and touch a handful of rows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql

from crossdock.gateway.ops.search import SearchCriteria, page_query, search_messages
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade

PARTNERS = 20
KINDS = (("850", "purchase_order", "PO"), ("856", "ship_notice", "SH"), ("810", "invoice", "IN"),
         ("997", "functional_ack", "FA"))
STATUSES = (("accepted", 900), ("failed", 30), ("rejected", 20), ("partially_accepted", 10), ("duplicate", 10),
            ("delivered", 30))
START = datetime(2026, 1, 1, tzinfo=UTC)


def _status(rng: random.Random) -> str:
    return rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES])[0]


def _rows(count: int, seed: int):
    """Yield one message with everything that hangs off it."""
    rng = random.Random(seed)
    step = timedelta(days=90) / count
    for n in range(count):
        set_id, document_type, functional = KINDS[rng.choices(range(4), weights=[40, 25, 20, 15])[0]]
        partner = rng.randint(1, PARTNERS)
        outbound = rng.random() < 0.3
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128)).hex, "n": n, "at": START + step * n, "partner": partner,
            "outbound": outbound, "set_id": set_id, "document_type": document_type, "functional": functional,
            "status": "delivered" if outbound else _status(rng), "isa": f"{n + 1:09d}", "gs": str(n + 1),
            "st": f"{rng.randint(1, 9999):04d}", "po": f"PO-{n // 3:07d}",
        }


def _copy(raw, table: str, columns: tuple[str, ...], rows) -> None:
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(url: str, count: int) -> None:
    engine = build_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO payloads (sha256, size, data) VALUES (:s, 3, 'x12')"), {"s": "0" * 64})
        for p in range(1, PARTNERS + 1):
            conn.execute(text("INSERT INTO partners (id, code, name, kind, created_at) VALUES (:i, :c, :c, "
                              "'partner', now())"), {"i": p, "c": f"partner{p:02d}"})
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        messages = ("id", "direction", "channel", "partner_id", "recipient_id", "format", "document_kind", "sha256",
                    "size", "received_at", "updated_at", "status", "test")
        _copy(raw, "messages", messages, (
            (r["id"], "outbound" if r["outbound"] else "inbound", "http", None if r["outbound"] else r["partner"],
             r["partner"] if r["outbound"] else None, "x12", r["set_id"], "0" * 64, 3, r["at"], r["at"], r["status"],
             False) for r in _rows(count, 1)))
        _copy(raw, "interchanges", ("message_id", "position", "partner_id", "sender", "receiver", "control_number",
                                    "version", "usage", "status", "test"),
              ((r["id"], 0, r["partner"], f"ZZ:P{r['partner']}", "ZZ:CROSSDOCK", r["isa"], "00401", "P", "accepted",
                False) for r in _rows(count, 1)))
        _copy(raw, "groups", ("message_id", "interchange_position", "position", "functional_id", "control_number",
                              "version", "status", "ak9_codes"),
              ((r["id"], 0, 0, r["functional"], r["gs"], "004010", "A", "[]") for r in _rows(count, 1)))
        _copy(raw, "transaction_sets", ("message_id", "position", "interchange_position", "group_position", "set_id",
                                        "control_number", "status", "errors"),
              ((r["id"], 0, 0, 0, r["set_id"], r["st"], "A", "[]") for r in _rows(count, 1)))
        _copy(raw, "documents", ("id", "message_id", "position", "document_type", "partner_id", "status", "test",
                                 "issues", "created_at"),
              ((r["n"] + 1, r["id"], 0, r["document_type"], r["partner"], "applied", False, "[]", r["at"])
               for r in _rows(count, 1)))
        _copy(raw, "document_keys", ("document_id", "name", "value"), _keys(count))
        raw.commit()
        load_s = time.perf_counter() - started
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(f"loaded {count:,} messages (+ interchanges, groups, sets, documents, keys) in {load_s:.0f} s")
    engine.dispose()


def _keys(count: int):
    for r in _rows(count, 1):
        name = {"850": "po_number", "856": "po_numbers", "810": "po_number"}.get(r["set_id"])
        if name:
            yield (r["n"] + 1, name, r["po"])
        if r["set_id"] == "856":
            yield (r["n"] + 1, "asn_number", f"ASN-{r['n']:07d}")
        elif r["set_id"] == "810":
            yield (r["n"] + 1, "invoice_number", f"INV-{r['n']:07d}")


def searches(count: int) -> list[tuple[str, SearchCriteria]]:
    middle = count // 2
    sample = next(r for r in _rows(count, 1) if r["n"] == middle)
    end = START + timedelta(days=90)
    return [
        ("PO number (any key)", SearchCriteria(key=sample["po"])),
        ("PO number, kind po", SearchCriteria(key=sample["po"], key_kind="po")),
        ("ISA13", SearchCriteria(control_number=sample["isa"], control_kind="isa13")),
        ("GS06", SearchCriteria(control_number=sample["gs"], control_kind="gs06")),
        ("ST02 (common value)", SearchCriteria(control_number=sample["st"], control_kind="st02")),
        ("control number, any kind", SearchCriteria(control_number=sample["isa"])),
        ("partner, newest page", SearchCriteria(partner_id=7)),
        ("partner + failed", SearchCriteria(partner_id=7, status="failed")),
        ("status failed", SearchCriteria(status="failed")),
        ("856 in a week", SearchCriteria(document_type="856", received_from=end - timedelta(days=40),
                                         received_to=end - timedelta(days=33))),
        ("partner + 2 days", SearchCriteria(partner_id=3, received_from=end - timedelta(days=10),
                                            received_to=end - timedelta(days=8))),
        ("inbound partner + 810", SearchCriteria(partner_id=11, direction="inbound", document_type="invoice")),
        ("everything, newest page", SearchCriteria()),
    ]


def _plan_nodes(conn, criteria: SearchCriteria) -> str:
    query = page_query(criteria, criteria.limit + 1)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()
    nodes: list[str] = []

    def walk(node: dict) -> None:
        if "Scan" in node["Node Type"]:
            nodes.append(f"{node['Node Type']}:{node.get('Index Name') or node.get('Relation Name')}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return ", ".join(dict.fromkeys(nodes))


def run(url: str, count: int, repeat: int) -> None:
    engine = build_engine(url)
    print(f"{'search':28} {'median ms':>9} {'max ms':>8} {'rows':>5}  access paths")
    for name, criteria in searches(count):
        times, rows = [], 0
        with engine.connect() as conn:
            for _ in range(repeat):
                started = time.perf_counter()
                page = search_messages(conn, criteria, timeout_ms=5000)
                times.append((time.perf_counter() - started) * 1000)
                rows = len(page.rows)
            paths = _plan_nodes(conn, criteria)
        print(f"{name:28} {statistics.median(times):9.1f} {max(times):8.1f} {rows:5d}  {paths}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="an existing database to create the scratch database from")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (prints its URL)")
    args = parser.parse_args()
    name = f"crossdock_opsbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
        load(url, args.messages)
        run(url, args.messages, args.repeat)
        print(f"load average {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
