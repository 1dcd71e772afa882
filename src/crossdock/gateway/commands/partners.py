"""``crossdock partners import FILE | export [CODE…] | list``: the registry as YAML/JSON files.

``import`` validates the whole file first (every problem listed, nothing written on error),
then creates or replaces each partner in one transaction; API keys and users are untouched.
``export`` writes a file that ``import`` reads back to the same registry (it contains channel
secrets: keep it safe). Embedded mode applies the migrations first, like ``serve``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

__all__ = ["register", "open_store", "cli_actor"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("partners", help="partner registry: import/export YAML or JSON files")
    commands = parser.add_subparsers(dest="partners_command", metavar="ACTION", required=True)
    load = commands.add_parser("import", help="create or replace the partners of FILE (YAML or JSON)")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="validate only")
    load.set_defaults(handler=_import)
    dump = commands.add_parser("export", help="print the registry as a partner file")
    dump.add_argument("codes", nargs="*", metavar="CODE", help="only these partners")
    dump.add_argument("--format", choices=("yaml", "json"), default="yaml")
    dump.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    dump.set_defaults(handler=_export)
    listing = commands.add_parser("list", help="one line per partner")
    listing.set_defaults(handler=_list)


def cli_actor() -> str:
    """How the audit log names a command-line user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def open_store():
    """The database of the configured hub (migrated first when embedded)."""
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.store.engine import build_engine
    from crossdock.gateway.store.migrate import upgrade

    settings = load_settings()
    engine = build_engine(settings.resolved_database_url, pool_size=1)
    if settings.mode == "embedded":
        upgrade(engine)
    return settings, engine


def _fail(exc) -> int:
    print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
    for issue in getattr(exc, "issues", ()):
        print(f"  {'.'.join(str(p) for p in issue.loc)}: {issue.msg}", file=sys.stderr)
    return 1


def _import(args: argparse.Namespace) -> int:
    from crossdock.gateway.partners import import_partners, parse_partner_file
    from crossdock.schemas.errors import CrossdockError

    try:
        partner_file = parse_partner_file(args.file.read_bytes())
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except CrossdockError as exc:
        return _fail(exc)
    if args.dry_run:
        print(f"{len(partner_file.partners)} partner(s) valid")
        return 0
    _, engine = open_store()
    try:
        with engine.begin() as conn:
            report = import_partners(conn, partner_file, actor=cli_actor())
    except CrossdockError as exc:
        return _fail(exc)
    finally:
        engine.dispose()
    print(f"created: {', '.join(report.created) or '-'}; updated: {', '.join(report.updated) or '-'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from crossdock.gateway.partners import dump_partner_file, export_partners
    from crossdock.schemas.errors import CrossdockError

    _, engine = open_store()
    try:
        with engine.connect() as conn:
            text = dump_partner_file(export_partners(conn, args.codes), args.format)
    except CrossdockError as exc:
        return _fail(exc)
    finally:
        engine.dispose()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _list(args: argparse.Namespace) -> int:
    from crossdock.gateway.partners import list_partners

    _, engine = open_store()
    try:
        with engine.connect() as conn:
            partners = list_partners(conn)
    finally:
        engine.dispose()
    for p in partners:
        print(f"{p.code:<16} {p.status:<10} {p.kind:<8} keys={p.active_keys:<3} {p.name}  [{', '.join(p.identities)}]")
    return 0
