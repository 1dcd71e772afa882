"""Directory inbox: files dropped into ``<inbox root>/<partner code>/`` are ingested like a POST.

Each file is read once it has been unchanged for ``settle_s`` (a sender may still be writing),
ingested (raw bytes and first work item committed together), dispatched, then moved to
``processed/`` or ``rejected/`` under a generated name: ``<message id>`` or
``<timestamp>-<random>``. The partner's file name is stored as metadata only, never used as a
path. A crash between commit and move re-ingests the file on restart; the duplicate check on
content makes that harmless.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import structlog

from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.runtime import Runtime
from crossdock.schemas.errors import InputRejected

__all__ = ["scan_inbox", "InboxPoller", "PROCESSED", "REJECTED"]

log = structlog.get_logger("crossdock.inbox")
PROCESSED = "processed"
REJECTED = "rejected"


def scan_inbox(runtime: Runtime, root: Path) -> int:
    """Ingest every settled file under ``root``; returns how many files were handled."""
    handled = 0
    if not root.is_dir():
        return 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        with runtime.engine.connect() as conn:
            partner = partner_by_code(conn, folder.name)
        if partner is None:
            log.warning("inbox folder without partner", folder=folder.name)
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            if _settled(path, runtime.settings.inbox.settle_s, runtime.clock()):
                _ingest_file(runtime, partner, path)
                handled += 1
    return handled


def _settled(path: Path, settle_s: float, now: float) -> bool:
    try:
        return now - path.stat().st_mtime >= settle_s
    except FileNotFoundError:
        return False


def _ingest_file(runtime: Runtime, partner, path: Path) -> None:
    limit = runtime.settings.http.max_body_bytes
    name = f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
    if path.stat().st_size > limit:
        _move(path, REJECTED, name)
        log.warning("inbox file over the size cap", partner=partner.code, size=path.stat().st_size)
        return
    request = IngestRequest(body=path.read_bytes(), channel="inbox", partner=partner, filename=path.name[:255])
    try:
        result = ingest(runtime.engine, request)
    except InputRejected as exc:
        _move(path, REJECTED, name)
        log.info("inbox file rejected", partner=partner.code, code=exc.code)
        return
    if result.work_id is not None:
        runtime.dispatch(result.work_id)
    _move(path, REJECTED if result.rejection else PROCESSED, result.message_id)
    log.info("inbox file ingested", partner=partner.code, message_id=result.message_id)


def _move(path: Path, where: str, name: str) -> None:
    target = path.parent / where
    target.mkdir(exist_ok=True)
    os.replace(path, target / name)


class InboxPoller:
    """Scans the inbox periodically on a daemon thread."""

    def __init__(self, runtime: Runtime, root: Path) -> None:
        self._runtime = runtime
        self._root = root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crossdock-inbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._runtime.settings.inbox.poll_interval_s):
            try:
                scan_inbox(self._runtime, self._root)
            except Exception:  # noqa: BLE001 - next scan retries; files stay where they are
                log.exception("inbox scan failed")
