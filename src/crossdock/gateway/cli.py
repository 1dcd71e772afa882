"""The ``crossdock`` command line: one parser, sub-commands registered by modules.

Exit codes: 0 success, 1 the command ran and found something rejected or failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

# Explicit registry (no discovery): each entry is a module under crossdock.gateway.commands.
COMMAND_MODULES: tuple[str, ...] = (
    "x12",
    "serve",
    "worker",
    "db",
    "translate",
    "schema",
    "partners",
    "keys",
    "users",
    "status",
    "items",
    "replenish",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crossdock", description="Crossdock partner integration hub")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"crossdock.gateway.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
