"""The cyclic garbage collector of a long-running process (``settle_heap``): rarely run by
a worker's batches, and set up by both ``crossdock worker`` and ``crossdock serve``."""

from __future__ import annotations

import argparse
import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock.gateway import runtime as runtime_module
from crossdock.gateway.commands import worker as worker_command
from crossdock.gateway.http import server as server_module
from crossdock.gateway.hub import open_hub
from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.runtime import GC_THRESHOLDS, settle_heap
from crossdock.gateway.workflow.runner import run_work

from gwhelpers import add_partners, fast_settings, interchange, po_set

DOCUMENTS = 128


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """Whatever a test does to the collector is undone afterwards."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _young_collections_over_batches(tmp_path: Path, settle: bool) -> int:
    hub = open_hub(fast_settings(tmp_path, workflow={"batch_size": 64}), workers=False)
    try:
        add_partners(hub, tmp_path / "outbox")
        engine = hub.runtime.engine
        with engine.connect() as conn:
            acme = partner_by_code(conn, "acme")
        bodies = [interchange("ACMEBUYER", f"{900 + i:09d}", [po_set("0001", f"PO-H-{i}")]) for i in range(DOCUMENTS)]
        work = [ingest(engine, IngestRequest(body=body, channel="http", partner=acme)).work_id for body in bodies]
        run_work(hub.runtime, work[0])  # warm: specs, mappers and statements built
        if settle:
            settle_heap()
        collections = [0]

        def count(phase: str, info: dict) -> None:
            collections[0] += phase == "start"

        gc.callbacks.append(count)
        try:
            for work_id in work[1:]:
                run_work(hub.runtime, work_id)
        finally:
            gc.callbacks.remove(count)
        return collections[0]
    finally:
        hub.stop()


def test_a_settled_heap_is_rarely_collected_while_batches_run(tmp_path: Path, restored_gc: None) -> None:
    default = _young_collections_over_batches(tmp_path / "default", settle=False)
    gc.set_threshold(700, 10, 10)
    settled = _young_collections_over_batches(tmp_path / "settled", settle=True)
    assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 0
    # Python's 700: 11 collections over these 127 documents; settled: none
    assert default >= 8 and settled <= 2, (default, settled)


def test_the_worker_and_the_server_settle_the_heap_before_they_start(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(runtime_module, "settle_heap", lambda: calls.append("settle"))
    monkeypatch.setattr(server_module, "settle_heap", lambda: calls.append("settle"))

    class FakeHub:
        def start(self) -> None:
            calls.append("start")

        def stop(self) -> None:
            calls.append("stop")

    monkeypatch.setattr("crossdock.gateway.hub.open_hub", lambda *args, **kwargs: FakeHub())
    # the worker configures logging for good ("final"): not in a test process
    monkeypatch.setattr("crossdock.gateway.logs.configure_logging", lambda *args, **kwargs: None)
    settings = fast_settings(Path("/nonexistent"), workflow={"worker_nice": 0})
    stopped = threading.Event()
    stopped.set()
    worker_command._run_one(argparse.Namespace(threads=None), settings, stopped)
    assert calls == ["settle", "start", "stop"]

    calls.clear()
    monkeypatch.setattr(server_module, "build_server",
                        lambda app, settings: type("Server", (), {"run": lambda self: calls.append("run")})())
    server_module.run_server(object(), settings)
    assert calls == ["settle", "run"]
