"""``crossdock items import FILE``: items, locations, policies and VMI programs from CSV/YAML/JSON.

The format follows the extension (``.csv``, ``.yaml``/``.yml``, ``.json``) unless ``--format``
says otherwise; see :mod:`crossdock.gateway.inventory.importer` for the columns. Every problem
is printed (section, row, field, code) and nothing is saved; exit code 1 then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]

_FORMATS = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("items", help="inventory master data (items, locations, policies)")
    commands = parser.add_subparsers(dest="items_command", metavar="ACTION", required=True)
    load = commands.add_parser("import", help="import a CSV, YAML or JSON master data file")
    load.add_argument("file", type=Path)
    load.add_argument("--format", choices=("csv", "yaml", "json"), help="default: from the file extension")
    load.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from crossdock.gateway.inventory.errors import MasterDataInvalid
    from crossdock.gateway.inventory.importer import MAX_FILE_BYTES, parse_master_data
    from crossdock.gateway.inventory.store import save_master_data
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.store.engine import build_engine

    fmt = args.format or _FORMATS.get(args.file.suffix.lower())
    if fmt is None:
        print(f"cannot tell the format of {args.file.name}; pass --format", file=sys.stderr)
        return 2
    try:
        if args.file.stat().st_size > MAX_FILE_BYTES:
            print(f"{args.file.name} exceeds {MAX_FILE_BYTES} bytes", file=sys.stderr)
            return 1
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    settings = load_settings()
    engine = build_engine(settings.resolved_database_url, pool_size=1)
    try:
        master = parse_master_data(data, fmt)
        with engine.begin() as conn:
            counts = save_master_data(conn, master, now=datetime.now(UTC))
    except MasterDataInvalid as exc:
        print(f"{args.file.name}: {exc.message}", file=sys.stderr)
        for issue in exc.issues:
            where = ".".join(str(part) for part in issue.loc) or "-"
            shown = f" (got {issue.input!r})" if issue.input else ""
            print(f"  {where}: {issue.code}: {issue.msg}{shown}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    saved = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
    print(f"saved {saved}" if saved else "nothing to save")
    return 0
