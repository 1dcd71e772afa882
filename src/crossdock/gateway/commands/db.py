"""``crossdock db upgrade``: apply the Alembic migrations to ``CROSSDOCK_DATABASE_URL``."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    commands = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = commands.add_parser("upgrade", help="apply migrations up to REVISION (default head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.store.engine import build_engine
    from crossdock.gateway.store.migrate import upgrade

    settings = load_settings()
    engine = build_engine(settings.resolved_database_url, pool_size=1)
    try:
        upgrade(engine, args.revision)
    finally:
        engine.dispose()
    print(f"database at revision {args.revision}")
    return 0
