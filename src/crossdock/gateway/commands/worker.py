"""``crossdock worker [--processes N] [--threads T]``: workflow workers plus the sweeper (production).

One process runs ``T`` dramatiq worker threads (default ``workflow.worker_threads``) and a
sweeper. Stages are mostly Python (reading, mapping), so one process uses about one core: on a
machine with more cores run ``--processes N`` (N ≈ cores left after the API and the database).
The parent then only supervises: it starts N ``crossdock worker`` children with the same
settings, restarts a child that dies (after :data:`RESTART_DELAY_S`; a ``kill -9`` loses
nothing: leases expire and the sweeper redispatches), and on SIGTERM/SIGINT stops them all
gracefully. Every process also sweeps (safe: ``FOR UPDATE SKIP LOCKED``). A worker runs at a
lower CPU priority (``workflow.worker_nice``, default 5): accepting messages comes first.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

__all__ = ["register", "RESTART_DELAY_S"]

#: a child that exits is started again after this delay (no hot loop on a crash at start-up)
RESTART_DELAY_S = 1.0
STOP_TIMEOUT_S = 30.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run workflow workers (production: needs CROSSDOCK_REDIS_URL)")
    parser.add_argument("--threads", type=int, help="worker threads per process (default from settings)")
    parser.add_argument("--processes", type=int, default=1,
                        help="worker processes; above 1 this process supervises N children (default 1)")
    parser.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from crossdock.gateway.settings import load_settings

    settings = load_settings()
    if settings.mode != "production":
        print("crossdock worker needs CROSSDOCK_REDIS_URL (embedded mode runs workers inside serve)",
              file=sys.stderr)
        return 2
    if args.processes < 1:
        print("--processes must be at least 1", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.processes > 1:
        return _supervise(args, stop)
    return _run_one(args, settings, stop)


def _run_one(args: argparse.Namespace, settings, stop: threading.Event) -> int:
    from crossdock.gateway.hub import open_hub
    from crossdock.gateway.logs import configure_logging
    from crossdock.gateway.runtime import settle_heap

    if args.threads:
        settings = settings.model_copy(
            update={"workflow": settings.workflow.model_copy(update={"worker_threads": args.threads})})
    configure_logging(settings.log_level, settings.log_format, final=True)
    if settings.workflow.worker_nice:
        os.nice(settings.workflow.worker_nice)  # before any thread starts: threads inherit it
    hub = open_hub(settings, workers=True, inbox=False, migrate=False)
    settle_heap()
    hub.start()
    stop.wait()
    hub.stop()
    return 0


def _supervise(args: argparse.Namespace, stop: threading.Event) -> int:
    """Keep ``args.processes`` single-process workers running until told to stop."""
    command = [sys.executable, "-m", "crossdock.gateway.cli", "worker", "--processes", "1"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    children = [subprocess.Popen(command) for _ in range(args.processes)]
    print(f"supervising {len(children)} worker processes: {' '.join(str(c.pid) for c in children)}",
          file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        for index, child in enumerate(children):
            if child.poll() is not None and not stop.wait(RESTART_DELAY_S):
                print(f"worker {child.pid} exited with {child.returncode}; restarting", file=sys.stderr, flush=True)
                children[index] = subprocess.Popen(command)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0
