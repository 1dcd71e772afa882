"""What the registry commands (``partners``, ``keys``, ``users``) share: the configured store,
the audit actor, and how a refused command reports its error."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["cli_actor", "open_store", "in_store", "fail", "no_partner"]


def cli_actor() -> str:
    """How the audit log names a command-line user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def open_store():
    """The settings and the database of the configured hub (migrated first when embedded)."""
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.store.engine import build_engine
    from crossdock.gateway.store.migrate import upgrade

    settings = load_settings()
    engine = build_engine(settings.resolved_database_url, pool_size=1)
    if settings.mode == "embedded":
        upgrade(engine)
    return settings, engine


@contextmanager
def in_store(*, write: bool = True) -> Iterator[tuple[Any, Any]]:
    """``(settings, connection)`` of the configured hub for one command: a transaction committed
    when the block ends (``write``), else a plain connection; the engine is disposed after."""
    settings, engine = open_store()
    try:
        with engine.begin() if write else engine.connect() as conn:
            yield settings, conn
    finally:
        engine.dispose()


def fail(exc) -> int:
    """Print a refused command's error code, message and issues on stderr; exit status 1."""
    print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
    for issue in getattr(exc, "issues", ()):
        print(f"  {'.'.join(str(p) for p in issue.loc)}: {issue.msg}", file=sys.stderr)
    return 1


def no_partner(code: str) -> int:
    """The error of a command naming a partner that does not exist; exit status 1."""
    print(f"error: PARTNER_NOT_FOUND: no partner {code}", file=sys.stderr)
    return 1
