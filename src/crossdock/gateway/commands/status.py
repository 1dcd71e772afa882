"""``crossdock status [--json]``: queue depth, oldest pending work, failures in the last hour, overdue acks.

Reads the database named by the settings (``CROSSDOCK_DATABASE_URL``, else the embedded SQLite
under ``var/``); it does not migrate. Exit code 0 when all is quiet, 1 when something needs an
operator (failures in the last hour, failed or dead work, overdue acks), 2 when the database
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "format_status"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="queue depth, oldest pending work, recent failures, overdue acks")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_status)


def format_status(status) -> str:
    """The human-readable lines for a :class:`crossdock.gateway.ops.status.SystemStatus`."""
    oldest = "none" if status.oldest_pending_s is None else f"{status.oldest_pending_s:.0f}s"
    return "\n".join([
        f"queue depth          {status.queue_depth} ({status.pending} pending, {status.running} running)",
        f"oldest pending work  {oldest}",
        f"failed/dead work     {status.stuck}",
        f"failures last hour   {status.failures_last_hour}",
        f"overdue acks         {status.overdue_acks}",
    ])


def _status(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from crossdock.gateway.ops.status import system_status
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.store.engine import build_engine

    settings = load_settings()
    engine = build_engine(settings.resolved_database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            status = system_status(conn, datetime.now(UTC))
    except SQLAlchemyError as exc:
        print(f"cannot read the database: {type(exc).__name__} (is it migrated? crossdock db upgrade)",
              file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({"queue_depth": status.queue_depth, "pending": status.pending, "running": status.running,
                          "oldest_pending_s": status.oldest_pending_s, "stuck": status.stuck,
                          "failures_last_hour": status.failures_last_hour, "overdue_acks": status.overdue_acks,
                          "at": status.at.isoformat()}))
    else:
        print(format_status(status))
    return 1 if status.failures_last_hour or status.stuck or status.overdue_acks else 0
