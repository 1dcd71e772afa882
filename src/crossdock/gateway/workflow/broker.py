"""The dramatiq side: an explicit broker, one thin actor, and the worker host.

Embedded mode uses a ``StubBroker`` consumed by in-process worker threads (the database is the
system of record, so nothing is lost with the process); production uses a ``RedisBroker``. The
broker is built here and set explicitly before the actor is declared (STYLE items 12, 22): there
is no implicit default broker and nothing happens at import.

The actor takes work-item ids and nothing else (one id, or a list that :class:`Coalescer` gathered
from dispatches close together; the worker claims them at once, see :func:`.runner.run_work`);
dramatiq's own retries are off (``max_retries=0``) because retries, backoff and ``dead`` live in
the database (see :mod:`.runner`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from crossdock.gateway.runtime import Runtime
from crossdock.gateway.settings import Settings
from crossdock.gateway.workflow.runner import run_work
from crossdock.gateway.workflow.sweeper import Sweeper

__all__ = ["build_broker", "bind_actor", "Coalescer", "WorkerHost", "broker_probe", "ACTOR_NAME"]

log = structlog.get_logger("crossdock.worker")
ACTOR_NAME = "crossdock.run_work"
#: a stage may legitimately run for minutes on a 100 MB file; the lease, not this, decides takeover
TIME_LIMIT_MS = 30 * 60 * 1000


def build_broker(settings: Settings) -> dramatiq.Broker:
    """The broker for the mode: Redis when ``redis_url`` is set, else an in-process stub."""
    middleware = [AgeLimit(), TimeLimit(time_limit=TIME_LIMIT_MS), ShutdownNotifications(), Callbacks(),
                  Pipelines(), Retries(max_retries=0)]
    if settings.redis_url:
        from dramatiq.brokers.redis import RedisBroker

        broker: dramatiq.Broker = RedisBroker(url=settings.redis_url, namespace=settings.redis_namespace,
                                              middleware=middleware)
    else:
        broker = StubBroker(middleware=middleware)
    dramatiq.set_broker(broker)
    return broker


def bind_actor(runtime: Runtime, broker: dramatiq.Broker) -> dramatiq.Actor:
    """Declare the actor on ``broker`` and point ``runtime.dispatch`` at it."""
    queue = runtime.settings.workflow.queue_name

    def run_work_item(work_id: int | list[int]) -> None:
        run_work(runtime, work_id)

    actor = dramatiq.actor(run_work_item, broker=broker, actor_name=ACTOR_NAME, queue_name=queue)

    def send(work_id: int | list[int], delay_s: float = 0.0) -> None:
        try:
            actor.send_with_options(args=(work_id,), delay=int(delay_s * 1000) or None)
        except Exception:  # noqa: BLE001 - the row is durable; the sweeper redispatches it
            log.warning("enqueue failed; the sweeper will redispatch", work_id=work_id, exc_info=True)

    coalescer = Coalescer(send, runtime.settings.workflow.batch_size)

    def dispatch(work_id: int, delay_s: float = 0.0) -> None:
        if delay_s > 0:
            send(work_id, delay_s)
        else:
            coalescer.add(work_id)

    runtime.dispatch = dispatch
    return actor


#: once ids are waiting, how long more may pile up before they are sent (fewer, fuller queue
#: messages under load: each costs the API an enqueue and a worker a fetch and an ack; work
#: starts at most this much later)
LINGER_S = 0.005


class Coalescer:
    """Enqueues dispatched work ids from a background thread, several per queue message.

    ``add`` only appends to a list, so a request thread never waits for the broker; the thread
    sends whatever piled up meanwhile, after at most :data:`LINGER_S` more, as messages of at most
    ``batch_size`` ids (one id when traffic is light, bigger batches under load) and ends after a
    second without work. An id
    lost with the process before it was sent is redispatched by the sweeper, exactly like a
    failed enqueue (its row is committed before it is dispatched).
    """

    IDLE_S = 1.0

    def __init__(self, send: Callable[[list[int]], None], batch_size: int, linger_s: float = LINGER_S) -> None:
        self._send = send
        self._batch_size = max(1, batch_size)
        self._linger_s = linger_s
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._running = False

    def add(self, work_id: int) -> None:
        with self._cond:
            self._pending.append(work_id)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="crossdock-dispatch", daemon=True).start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._cond.wait(self.IDLE_S)
                if not self._pending:
                    self._running = False
                    return
                self._cond.wait_for(lambda: len(self._pending) >= self._batch_size, self._linger_s)
                ids, self._pending = self._pending, []
            for start in range(0, len(ids), self._batch_size):
                self._send(ids[start:start + self._batch_size])


def broker_probe(broker: dramatiq.Broker):
    """A readiness check for ``/readyz``: ``"ok"`` or the error's name."""

    def probe() -> str:
        client = getattr(broker, "client", None)
        if client is None:
            return "ok"
        try:
            client.ping()
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            return type(exc).__name__
        return "ok"

    return probe


#: queue messages a worker process may hold fetched and unacked, per worker thread
PREFETCH_PER_THREAD = 32


class WorkerHost:
    """dramatiq worker threads plus the sweeper, in this process."""

    def __init__(self, runtime: Runtime, broker: dramatiq.Broker) -> None:
        self._runtime = runtime
        # An in-process stub queue is cheap to poll; Redis is polled less often.
        idle_ms = 1000 if runtime.settings.redis_url else 100
        threads = runtime.settings.workflow.worker_threads
        self._worker = dramatiq.Worker(broker, worker_threads=threads,
                                       queues={runtime.settings.workflow.queue_name}, worker_timeout=idle_ms)
        # dramatiq holds at most ``queue_prefetch`` messages fetched and not yet acked (2 per thread
        # by default), and its consumer sleeps, backing off up to ``idle_ms``, while that many are
        # out. Ours are wake-ups: while each thread runs a long batch, the other messages are
        # mostly for items that batch took (skipped at once), so 2 per thread left threads idle
        # with a backlog (a fifth of their time, sampled). Messages are a few ids each: take more.
        self._worker.queue_prefetch = max(self._worker.queue_prefetch, threads * PREFETCH_PER_THREAD)
        self._sweeper = Sweeper(runtime)

    def start(self) -> None:
        self._worker.start()
        self._sweeper.start()
        log.info("workers started", threads=self._runtime.settings.workflow.worker_threads)

    def stop(self) -> None:
        self._sweeper.stop()
        self._worker.stop(timeout=10_000)
        log.info("workers stopped")
