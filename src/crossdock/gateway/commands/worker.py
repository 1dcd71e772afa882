"""``crossdock worker``: dramatiq worker threads plus the sweeper (production mode, Redis).

Run as many processes as you like; each one also sweeps (safe: ``FOR UPDATE SKIP LOCKED``).
SIGTERM/SIGINT stop it gracefully; a ``kill -9`` loses nothing (leases expire, the sweeper
redispatches).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run workflow workers (production: needs CROSSDOCK_REDIS_URL)")
    parser.add_argument("--threads", type=int, help="worker threads (default from settings)")
    parser.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from crossdock.gateway.hub import open_hub
    from crossdock.gateway.logs import configure_logging
    from crossdock.gateway.settings import load_settings

    settings = load_settings()
    if settings.mode != "production":
        print("crossdock worker needs CROSSDOCK_REDIS_URL (embedded mode runs workers inside serve)",
              file=sys.stderr)
        return 2
    if args.threads:
        settings = settings.model_copy(
            update={"workflow": settings.workflow.model_copy(update={"worker_threads": args.threads})})
    configure_logging(settings.log_level, settings.log_format)
    hub = open_hub(settings, workers=True, inbox=False, migrate=False)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    hub.start()
    stop.wait()
    hub.stop()
    return 0
