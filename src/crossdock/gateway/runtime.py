"""What a process needs to run stages: settings, engine, effects, transports, clock, dispatch.

Built once per process by the entrypoint (``serve``, ``worker``, tests) and passed down.
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from crossdock.adapters.transports import (
    DirectoryConfig,
    DirectoryTransport,
    MemoryTransport,
    Transport,
    WebhookConfig,
    WebhookTransport,
)
from crossdock.gateway.effects import EffectsService
from crossdock.gateway.inventory.service import default_effects
from crossdock.gateway.partners import ChannelConfig
from crossdock.gateway.settings import Settings
from crossdock.gateway.store.engine import build_engine

__all__ = ["Runtime", "build_runtime", "Transports", "ReadingCache", "OwnWork", "settle_heap", "GC_THRESHOLDS"]

#: the cyclic collector's thresholds in a long-running process (Python's default: 700, 10, 10)
GC_THRESHOLDS = (50_000, 20, 20)


def settle_heap() -> None:
    """Set up the cyclic garbage collector for a long-running ``serve`` or ``worker`` process.

    Call it once the process is built, before it serves. What exists then (modules, settings,
    the engine, definitions) lives as long as the process: ``gc.freeze`` keeps full collections
    from traversing it again. The collector runs when its count of tracked objects has grown by
    the first threshold. A worker's batch keeps tens of thousands of objects alive at once
    (readings, mapped data, rows), so at Python's 700 it ran a young collection every few
    documents, moved the batch's objects on to the older generations, and ran a full collection
    (about 125 ms over the heap) every few hundred documents: 13 % of a worker's CPU. At these
    thresholds it took about 2 %, with the same RSS (6,000 single-PO messages,
    ``benchmarks/README.md``).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class ReadingCache:
    """The last few parsed payloads of this process, by content hash.

    Consecutive stages of one message usually run in the same worker (the runner continues with
    the next stage), so parse, acknowledge and map read the bytes once instead of three times.
    Parsing is pure, so a miss (another process, an evicted entry) only costs a re-read.
    """

    def __init__(self, max_entries: int = 4, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, object] = {}
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    def get(self, key: str, size: int, compute: Callable[[], object]) -> object:
        with self._lock:
            if key in self._entries:
                return self._entries[key]
        value = compute()
        if size <= self._max_bytes:
            with self._lock:
                self._entries[key] = value
                while len(self._entries) > self._max_entries:
                    self._entries.pop(next(iter(self._entries)))
        return value


class OwnWork:
    """Work items this process holds now (claimed, running) or finished lately in a batch.

    A batch also claims due items whose own wake-up messages are still queued; when those arrive
    the items are either running here or ``done`` (a state no item leaves: a replay adds new
    items), so the worker skips them without a claim query. An item put back for a retry is
    released first, so its next wake-up claims it. A forgotten or unknown id costs only the
    query. Finished ids are bounded (the oldest forgotten).
    """

    def __init__(self, max_finished: int = 8192) -> None:
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._finished: dict[int, None] = {}
        self._max_finished = max_finished

    def unknown(self, work_ids: Iterable[int]) -> list[int]:
        """``work_ids`` without those running here or finished here."""
        with self._lock:
            return [i for i in work_ids if i not in self._running and i not in self._finished]

    def claimed(self, work_ids: Iterable[int]) -> None:
        with self._lock:
            self._running.update(work_ids)

    def released(self, work_ids: Iterable[int]) -> None:
        """No longer running here (finished, failed, put back or taken over)."""
        with self._lock:
            self._running.difference_update(work_ids)

    def finished(self, work_ids: Iterable[int]) -> None:
        with self._lock:
            for work_id in work_ids:
                self._finished[work_id] = None
            while len(self._finished) > self._max_finished:
                self._finished.pop(next(iter(self._finished)))


class Transports:
    """One transport per configured channel, built on first use and shared by threads."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._built: dict[str, Transport] = {}
        #: named in-memory channels (``ChannelConfig(kind="memory", url=<name>)``), for tests and demos
        self.memory: dict[str, MemoryTransport] = {}

    def for_channel(self, channel: ChannelConfig) -> Transport:
        key = json.dumps(channel.model_dump(mode="json"), sort_keys=True)
        with self._lock:
            if key not in self._built:
                self._built[key] = self._build(channel)
            return self._built[key]

    def _build(self, channel: ChannelConfig) -> Transport:
        if channel.kind == "webhook":
            delivery = self._settings.delivery
            return WebhookTransport(
                WebhookConfig(url=channel.url or "", secret=channel.secret or "",
                              connect_timeout_s=delivery.connect_timeout_s,
                              read_timeout_s=delivery.read_timeout_s),
                clock=self._clock,
            )
        if channel.kind == "directory":
            return DirectoryTransport(DirectoryConfig(directory=channel.directory))
        return self.memory.setdefault(channel.url or "default", MemoryTransport())

    def close(self) -> None:
        with self._lock:
            for transport in self._built.values():
                transport.close()
            self._built.clear()


@dataclass
class Runtime:
    """Per-process context of the workflow.

    Attributes:
        settings: the settings tree.
        engine: the database.
        effects: the business-effects service.
        transports: outbound channels.
        clock: epoch seconds.
        dispatch: ``dispatch(work_id, delay_s=0.0)`` enqueues a work item (set with the broker).
        readings: recently parsed X12 payloads (pure results, safe to share).
        own: work items this process runs now or finished lately (their wake-ups are skipped).
    """

    settings: Settings
    engine: Engine
    effects: EffectsService
    transports: Transports
    clock: Callable[[], float] = time.time
    dispatch: Callable[..., None] = field(default=lambda work_id, delay_s=0.0: None)
    readings: ReadingCache = field(default_factory=ReadingCache)
    own: OwnWork = field(default_factory=OwnWork)

    def close(self) -> None:
        self.transports.close()
        self.engine.dispose()


def build_runtime(settings: Settings, *, effects: EffectsService | None = None,
                  engine: Engine | None = None) -> Runtime:
    """Assemble a runtime from settings (the engine is created unless given)."""
    engine = engine or build_engine(settings.resolved_database_url,
                                    pool_size=max(settings.workflow.worker_threads + 4, 8))
    return Runtime(settings=settings, engine=engine, effects=effects or default_effects(settings.inventory),
                   transports=Transports(settings, time.time))
