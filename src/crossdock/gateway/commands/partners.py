"""``crossdock partners import FILE | export [CODE…] | list``: the registry as YAML/JSON files.

``import`` validates the whole file first (every problem listed, nothing written on error),
then creates or replaces each partner in one transaction; API keys and users are untouched.
``export`` writes a file that ``import`` reads back to the same registry (it contains channel
secrets: keep it safe). Embedded mode applies the migrations first, like ``serve``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crossdock.gateway.commands.store import cli_actor, fail, in_store

__all__ = ["register"]


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


def _import(args: argparse.Namespace) -> int:
    from crossdock.gateway.partners import import_partners, parse_partner_file
    from crossdock.schemas.errors import CrossdockError

    try:
        partner_file = parse_partner_file(args.file.read_bytes())
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except CrossdockError as exc:
        return fail(exc)
    if args.dry_run:
        print(f"{len(partner_file.partners)} partner(s) valid")
        return 0
    try:
        with in_store() as (_, conn):
            report = import_partners(conn, partner_file, actor=cli_actor())
    except CrossdockError as exc:
        return fail(exc)
    print(f"created: {', '.join(report.created) or '-'}; updated: {', '.join(report.updated) or '-'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from crossdock.gateway.partners import dump_partner_file, export_partners
    from crossdock.schemas.errors import CrossdockError

    try:
        with in_store(write=False) as (_, conn):
            text = dump_partner_file(export_partners(conn, args.codes), args.format)
    except CrossdockError as exc:
        return fail(exc)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _list(args: argparse.Namespace) -> int:
    from crossdock.gateway.partners import list_partners

    with in_store(write=False) as (_, conn):
        partners = list_partners(conn)
    for p in partners:
        print(f"{p.code:<16} {p.status:<10} {p.kind:<8} keys={p.active_keys:<3} {p.name}  [{', '.join(p.identities)}]")
    return 0
