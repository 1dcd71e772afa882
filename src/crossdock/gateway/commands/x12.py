"""``crossdock validate`` and ``crossdock ack``: X12 verdicts and replies from the command line.

Exit codes (both commands): 0 every interchange, group and set accepted; 1 something was
rejected (including a file with no readable ISA); 2 usage error, which includes a PATH that does
not exist or cannot be read (checked before any file is validated, so ``--json`` output is never
partial).

Files are streamed by the reader (never loaded whole), one after another.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crossdock.schemas.x12.report import FileReport, InterchangeReport, X12Error

__all__ = ["register"]

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``validate`` and ``ack`` to the ``crossdock`` parser."""
    validate = subparsers.add_parser(
        "validate", help="validate X12 files (envelopes, sets, segments, elements)",
        description="Validate X12 files. Exit 0 when everything is accepted, 1 when anything is "
                    "rejected, 2 on usage errors (including a missing file).",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="X12 file(s)")
    validate.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    validate.set_defaults(handler=_validate)

    ack = subparsers.add_parser(
        "ack", help="print the 997/999/TA1 the hub would send back for an X12 file",
        description="Build the acknowledgements for an X12 file. Exit codes as for validate.",
    )
    ack.add_argument("path", metavar="PATH", help="X12 file")
    ack.add_argument("--out", metavar="FILE", help="write the acknowledgements here instead of stdout")
    ack.add_argument("--type", dest="ack_type", choices=("auto", "997", "999"), default="auto",
                     help="auto: 997 for versions before 005010, 999 from 005010 (default)")
    ack.add_argument("--ta1", choices=("on_request", "always", "never"), default="on_request",
                     help="on_request: when ISA14=1 or the interchange is rejected (default)")
    ack.set_defaults(handler=_ack)


def _unreadable(paths: list[str]) -> list[str]:
    return [p for p in paths if not (Path(p).is_file() and os.access(p, os.R_OK))]


def _usage_error(paths: list[str]) -> int:
    for path in paths:
        print(f"crossdock: error: cannot read {path!r} (not found or not a readable file)", file=sys.stderr)
    return EXIT_USAGE


def _read(path: str) -> FileReport:
    from crossdock.adapters.x12 import validate

    return validate(path, path=path)


def _validate(args: argparse.Namespace) -> int:
    missing = _unreadable(args.paths)
    if missing:
        return _usage_error(missing)
    reports = [_read(path) for path in args.paths]
    if args.json:
        print(json.dumps({"files": [r.as_json() for r in reports]}, ensure_ascii=False))
    else:
        _print_tables(reports)
    return EXIT_ACCEPTED if all(r.accepted for r in reports) else EXIT_REJECTED


def _ack(args: argparse.Namespace) -> int:
    from datetime import datetime

    from crossdock.adapters.x12.acks import ack_bytes
    from crossdock.adapters.x12.writer import CountingAllocator
    from crossdock.schemas.errors import CrossdockError

    missing = _unreadable([args.path])
    if missing:
        return _usage_error(missing)
    report = _read(args.path)
    if report.error is not None:
        print(f"crossdock: {args.path}: {report.error['code']}: {report.error['message']} "
              "(no interchange to acknowledge)", file=sys.stderr)
        return EXIT_REJECTED
    # The gateway supplies a durable per-partner allocator; the CLI numbers its output from 1.
    try:
        reply = ack_bytes(report, allocator=CountingAllocator(), clock=datetime.now,
                          ack_type=args.ack_type, ta1=args.ta1)
    except CrossdockError as exc:  # e.g. an inbound id too long for the reply's ISA
        print(f"crossdock: {args.path}: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_REJECTED
    if args.out:
        Path(args.out).write_bytes(reply)
    else:
        sys.stdout.buffer.write(reply)
        sys.stdout.flush()
    return EXIT_ACCEPTED if report.accepted else EXIT_REJECTED


# --------------------------------------------------------------------------- human output


def _print_tables(reports: list[FileReport]) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped output gets a wide fixed width so rows never wrap mid-identifier.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    for report in reports:
        if report.error is not None:
            console.print(f"[bold]{report.path}[/]: [red]rejected[/] {report.error['code']}: {report.error['message']}")
            continue
        table = Table(title=report.path, title_justify="left")
        for column in ("ISA13", "sender", "receiver", "version", "GS06 FID", "set", "status", "codes"):
            table.add_column(column, no_wrap=True)
        problems: list[str] = []
        for interchange in report.interchanges:
            _add_interchange_rows(table, interchange, problems)
        console.print(table)
        for line in problems:
            console.print(line, markup=False)


def _add_interchange_rows(table: Any, interchange: InterchangeReport, problems: list[str]) -> None:
    where = f"ISA {interchange.control_number}"
    table.add_row(interchange.control_number, interchange.sender[1], interchange.receiver[1], interchange.version, "", "",
                  _status(interchange.status), interchange.ta1_code or "")
    problems.extend(_problem_line(where, e) for e in interchange.errors)
    for group in interchange.groups:
        group_where = f"{where} / GS {group.control_number}"
        table.add_row("", "", "", group.version, f"{group.control_number} {group.functional_id}", "",
                      _status(group.status), " ".join(group.ak9_codes))
        problems.extend(_problem_line(group_where, e) for e in group.errors)
        for transaction in group.transactions:
            codes = [e.code for e in transaction.errors if e.level == "set" and e.severity == "error"]
            table.add_row("", "", "", "", "", f"{transaction.set_id} {transaction.control_number}",
                          _status(transaction.status), " ".join(codes))
            set_where = f"{group_where} / ST {transaction.control_number}"
            problems.extend(_problem_line(set_where, e) for e in transaction.errors)


def _problem_line(where: str, error: X12Error) -> str:
    if error.segment_id:
        where += f" / {error.segment_id}@{error.segment_position}"
        if error.element_position:
            where += f"-{error.element_position:02d}"
            if error.component_position:
                where += f"-{error.component_position}"
    return f"  {where}: {error.severity} {error.level} {error.code}: {error.message}"


_STATUS_STYLE = {"accepted": "green", "A": "green", "E": "yellow", "P": "yellow", "rejected": "red", "R": "red"}


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"
