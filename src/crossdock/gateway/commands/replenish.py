"""``crossdock replenish [--supplier CODE] [--date YYYY-MM-DD] [--processes N]``: plan now.

Runs the planning of one supplier (or of every supplier) against the configured database:
positions, proposals and the bullwhip indicator are stored; prints counts and timings. The
workers also plan after documents are applied (debounced) and once a day.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replenish", help="run the replenishment planning now")
    parser.add_argument("--supplier", help="partner code of the supplier (default: every supplier)")
    parser.add_argument("--date", type=date.fromisoformat, help="planning date (default: today, UTC)")
    parser.add_argument("--processes", type=_positive, help="split each supplier's run over this many processes "
                        "(PostgreSQL; default: CROSSDOCK_INVENTORY__RUN_PROCESSES, 1)")
    parser.set_defaults(handler=_replenish)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _replenish(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from crossdock.gateway.inventory.planning import run_planning
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.store import schema as t
    from crossdock.gateway.store.engine import build_engine

    settings = load_settings()
    engine = build_engine(settings.resolved_database_url, pool_size=2)
    try:
        supplier_id = None
        if args.supplier:
            with engine.connect() as conn:
                supplier_id = conn.execute(select(t.partners.c.id).where(t.partners.c.code == args.supplier)).scalar()
            if supplier_id is None:
                print(f"no partner {args.supplier}", file=sys.stderr)
                return 1
        today = args.date or datetime.now(UTC).date()
        report = run_planning(engine, today, supplier_id=supplier_id, reason="manual",
                              chunk_size=settings.inventory.chunk_size,
                              processes=args.processes or settings.inventory.run_processes)
    finally:
        engine.dispose()
    print(f"planned {report.item_locations} item-location(s) for {today}: {report.proposals} proposal(s) "
          f"({report.proposals_new} new, {report.superseded} superseded), {report.positions_written} position(s) "
          f"written in {report.duration_s:.2f} s")
    return 0
