"""Gateway throughput: documents fully processed per second and ingest latency, printed as figures.

Scenarios (run against PostgreSQL + Redis with one ``crossdock serve`` API process and one
``crossdock worker`` process, and in embedded mode with one ``crossdock serve`` process):

(a) single-PO interchanges posted by 16 concurrent clients for ``--duration`` seconds;
(b) one interchange of ``--orders`` purchase orders (default 20,000).

"Fully processed" = the message reached a final status with its 997 queued and its orders
recorded (ingested → acknowledged → applied). Latency is the client-side POST round trip.

The machine is shared, so every run also prints what it competed with: the load average before
and after, the machine's CPU use, and the CPU seconds our own processes spent (in total and per
process: API, then worker), in production the PostgreSQL backends serving the benchmark's
database, and the load generator itself (``client``).
``docs per CPU-s`` (documents / our processes' CPU seconds) is the CPU-normalized figure, and
``calibration`` (CPU ms for a fixed pure-Python loop, ~100 ms on an idle modern core) says how
fast a core was at that moment. The load generator is 16 threads on stdlib keep-alive
``http.client`` connections (cheap, so it steals little CPU from what it measures).

Usage::

    python benchmarks/gateway_throughput.py [--duration 60] [--orders 20000] [--mode both|production|embedded]
        [--processes 1] [--threads 8] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis redis://127.0.0.1:6379/0]

Targets on 2 cores: (a) >= 300 docs/s with p99 ingest <= 100 ms; (b) >= 1,000 docs/s;
embedded (a) >= 100 docs/s. No assertion: this prints what it measures.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, func, select, text

from crossdock.gateway.partners import AgreementConfig, IdentitySpec, create_partner
from crossdock.gateway.settings import WorkflowSettings
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade

CROSSDOCK = [sys.executable, "-m", "crossdock.gateway.cli"]
KEY = "bench-key"
SENDER = "BENCHBUYER"
FINAL = ("accepted", "partially_accepted", "rejected", "duplicate", "failed", "dead")


def po_set(control: int, number: str) -> str:
    segments = [f"ST*850*{control:04d}", f"BEG*00*SA*{number}**20240301", "N1*ST*STORE*92*0042",
                "PO1*1*10*EA*2.5**UP*012345678905", "PO1*2*4*CA*12**UP*036000291452", "CTT*2"]
    return "".join(s + "~" for s in segments) + f"SE*{len(segments) + 1}*{control:04d}~"


def interchange(control: int, sets: list[str]) -> bytes:
    isa = (f"ISA*00*          *00*          *ZZ*{SENDER:<15}*ZZ*{'CROSSDOCK':<15}*240301*0930*U*00401*"
           f"{control:09d}*0*P*>~")
    return (f"{isa}GS*PO*{SENDER}*CROSSDOCK*20240301*0930*{control}*X*004010~{''.join(sets)}"
            f"GE*{len(sets)}*{control}~IEA*1*{control:09d}~").encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} never became ready")


def seed(url: str) -> None:
    engine = build_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        create_partner(conn, code="bench", name="Bench buyer",
                       identities=[IdentitySpec(kind="isa", value=f"ZZ:{SENDER}"),
                                   IdentitySpec(kind="api_key", value=KEY)],
                       agreements=[("*", "inbound", AgreementConfig())])
    engine.dispose()


def processed_documents(engine) -> tuple[int, int]:
    """(documents applied, inbound messages not yet final)."""
    with engine.connect() as conn:
        docs = conn.execute(select(func.count()).select_from(t.documents)
                            .where(t.documents.c.status == "applied")).scalar_one()
        open_messages = conn.execute(select(func.count()).select_from(t.messages).where(
            t.messages.c.direction == "inbound", t.messages.c.status.not_in(FINAL))).scalar_one()
    return docs, open_messages


def work_open(engine) -> bool:
    """Whether any work item is still pending or running: an index lookup, cheap to poll."""
    items = t.work_items
    with engine.connect() as conn:
        return conn.execute(select(items.c.id).where(items.c.state.in_(("pending", "running"))).limit(1)).first() is not None


def drain(engine, expected_docs: int, started: float, timeout: float) -> float:
    """Wait until ``expected_docs`` are applied and nothing is open; returns the finish time.

    Polls every 0.1 s whether any work item is still pending or running (an index lookup), and
    counts documents and open messages (scans of tables that grow by the run) only once no work
    is left: the observer must not load the database it measures (counting at every poll cost
    the database about a fifth of a core while the worker drained)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not work_open(engine):
            finished = time.monotonic()
            docs, open_messages = processed_documents(engine)
            if docs >= expected_docs and open_messages == 0:
                return finished
        time.sleep(0.1)
    docs, open_messages = processed_documents(engine)
    print(f"  (timeout: {docs}/{expected_docs} documents applied, {open_messages} messages open)")
    return time.monotonic()


def calibration_ms() -> float:
    """CPU milliseconds for a fixed pure-Python loop: how fast a core is right now."""
    began = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i & 7
    return (time.process_time() - began) * 1000


class Usage:
    """CPU seconds of our processes and of the whole machine over one scenario, plus the load."""

    def __init__(self, pids: list[int], database: str | None = None) -> None:
        self._processes = [psutil.Process(pid) for pid in pids]
        self._database = database
        self._backends = self._backend_cpu()
        self.load_before = os.getloadavg()[0]
        self.calibration = calibration_ms()
        self._ours = self._cpu()
        self._client = time.process_time()
        self._machine = psutil.cpu_times()
        self._began = time.monotonic()

    def _cpu(self) -> list[float]:
        """CPU seconds of each of our processes (with its children)."""
        per_process = []
        for process in self._processes:
            with process.oneshot():
                times = process.cpu_times()
                total = times.user + times.system
                for child in process.children(recursive=True):
                    child_times = child.cpu_times()
                    total += child_times.user + child_times.system
            per_process.append(total)
        return per_process

    def _backend_cpu(self) -> dict[int, float]:
        """CPU seconds of each PostgreSQL backend serving our database (its process title names it)."""
        found: dict[int, float] = {}
        if self._database is None:
            return found
        for process in psutil.process_iter(["cmdline"]):
            title = " ".join(process.info["cmdline"] or ())
            if title.startswith("postgres:") and f" {self._database} " in title:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                found[process.pid] = times.user + times.system
        return found

    def report(self, docs: int) -> str:
        backends = sum(cpu - self._backends.get(pid, 0.0) for pid, cpu in self._backend_cpu().items())
        spent = [after - before for after, before in zip(self._cpu(), self._ours)]
        ours = sum(spent)
        client = time.process_time() - self._client
        wall = time.monotonic() - self._began
        machine = psutil.cpu_times()
        busy = sum(getattr(machine, f) - getattr(self._machine, f) for f in ("user", "system", "nice", "irq", "softirq"))
        split = " + ".join(f"{s:.1f}" for s in spent)
        return (f"      load {self.load_before:.1f} -> {os.getloadavg()[0]:.1f}, machine CPU {busy / wall:.2f} of "
                f"{psutil.cpu_count()} cores, our processes {ours:.1f} CPU-s ({split}) = "
                f"{docs / ours if ours else 0:.0f} docs per CPU-s, "
                + (f"PostgreSQL backends {backends:.1f} CPU-s, " if self._database else "")
                + f"client {client:.1f} CPU-s, calibration {self.calibration:.0f} ms")


def post_raw(connection: http.client.HTTPConnection, body: bytes) -> int:
    connection.request("POST", "/api/v1/messages", body=body,
                       headers={"X-Api-Key": KEY, "Content-Type": "application/edi-x12"})
    response = connection.getresponse()
    response.read()
    return response.status


def scenario_a(base: str, engine, duration: float, pids: list[int], clients: int = 16,
               database: str | None = None) -> None:
    latencies: list[float] = []
    errors = [0]
    counter = iter(range(1, 10**9))
    lock = threading.Lock()
    host, port = base.removeprefix("http://").split(":")
    usage = Usage(pids, database)
    stop_at = time.monotonic() + duration

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        while time.monotonic() < stop_at:
            with lock:
                control = next(counter)
            body = interchange(control, [po_set(1, f"PO-A-{control}")])
            began = time.perf_counter()
            status = post_raw(connection, body)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                errors[0] += status != 202
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted = len(latencies)
    ingested_at = time.monotonic()
    during, _ = processed_documents(engine)  # (once: what the worker did while the clients posted)
    finished = drain(engine, posted, started, timeout=900)
    docs, _ = processed_documents(engine)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    print(f"  (a) {clients} clients x {duration:.0f}s: {posted} posted ({errors[0]} non-202), ingest "
          f"{posted / duration:.0f}/s, p50 {quantiles[49] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms; "
          f"{docs} docs fully processed in {finished - started:.1f}s = {docs / (finished - started):.0f} docs/s")
    left = docs - during
    print(f"      while posting: {during / (ingested_at - started):.0f} docs/s; after: "
          + (f"{left / max(finished - ingested_at, 1e-9):.0f} docs/s" if left else "nothing was left"))
    print(usage.report(docs))


def scenario_b(base: str, engine, orders: int, pids: list[int], database: str | None = None) -> None:
    before, _ = processed_documents(engine)
    usage = Usage(pids, database)
    # ST02 must be unique within the group (4-9 digits): a repeat is a duplicate set, rejected,
    # and the run would wait for documents that never come.
    body = interchange(999_000_001, [po_set(i + 1, f"PO-B-{i}") for i in range(orders)])
    started = time.monotonic()
    began = time.perf_counter()
    response = httpx.post(f"{base}/api/v1/messages", content=body, headers={"X-Api-Key": KEY}, timeout=600)
    ingest_ms = (time.perf_counter() - began) * 1000
    finished = drain(engine, before + orders, started, timeout=1800)
    docs, _ = processed_documents(engine)
    done = docs - before
    print(f"  (b) one interchange, {orders} orders, {len(body) / 1e6:.1f} MB: ingest {ingest_ms:.0f} ms "
          f"(HTTP {response.status_code}); {done} docs in {finished - started:.1f}s = "
          f"{done / (finished - started):.0f} docs/s")
    print(usage.report(done))


def run_production(args) -> None:
    name = f"crossdock_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
    namespace = f"crossdock-bench-{uuid.uuid4().hex[:6]}"
    processes: list[subprocess.Popen] = []
    try:
        seed(url)
        env = {**os.environ, "CROSSDOCK_DATABASE_URL": url, "CROSSDOCK_REDIS_URL": args.redis,
               "CROSSDOCK_REDIS_NAMESPACE": namespace, "CROSSDOCK_LOG_LEVEL": "WARNING",
               "CROSSDOCK_WORKFLOW__WORKER_THREADS": str(args.threads)}
        port = free_port()
        processes.append(subprocess.Popen([*CROSSDOCK, "serve", "--port", str(port)], env=env))
        processes.append(subprocess.Popen([*CROSSDOCK, "worker", "--processes", str(args.processes)], env=env))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        engine = build_engine(url)
        pids = [p.pid for p in processes]
        print(f"production (PostgreSQL + Redis, 1 API + {args.processes} worker process(es) x {args.threads} threads):")
        scenario_a(base, engine, args.duration, pids, database=name)
        scenario_b(base, engine, args.orders, pids, database=name)
        engine.dispose()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_embedded(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        url = f"sqlite:///{var / 'crossdock.db'}"
        seed(url)
        env = {**os.environ, "CROSSDOCK_VAR_DIR": str(var), "CROSSDOCK_LOG_LEVEL": "WARNING",
               "CROSSDOCK_WORKFLOW__WORKER_THREADS": str(args.threads)}
        env.pop("CROSSDOCK_REDIS_URL", None)
        env.pop("CROSSDOCK_DATABASE_URL", None)
        port = free_port()
        process = subprocess.Popen([*CROSSDOCK, "serve", "--port", str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base)
            engine = build_engine(url)
            print("embedded (SQLite, in-process workers, 1 process):")
            scenario_a(base, engine, args.duration, [process.pid])
            if args.embedded_b:
                scenario_b(base, engine, args.orders, [process.pid])
            engine.dispose()
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of scenario (a)")
    parser.add_argument("--orders", type=int, default=20_000, help="orders in the scenario (b) interchange")
    parser.add_argument("--mode", choices=("both", "production", "embedded"), default="both")
    parser.add_argument("--threads", type=int, default=WorkflowSettings().worker_threads,
                        help="worker threads per process (default: the setting's default)")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (production)")
    parser.add_argument("--embedded-b", action="store_true", help="also run (b) in embedded mode")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if args.mode in ("both", "production"):
        run_production(args)
    if args.mode in ("both", "embedded"):
        run_embedded(args)


if __name__ == "__main__":
    main()
