"""Production mode against the real PostgreSQL and Redis, with ``crossdock worker`` processes.

One fresh database (``crossdock_<random>``, dropped afterwards) and one Redis namespace per
session. The API runs as ``crossdock serve`` (API only), workers as separate processes that the
tests ``kill -9`` at injected pause points (``CROSSDOCK_TESTING__PAUSE_AT``). Recovery always
goes through the sweeper; dramatiq's maintenance pass is never relied on.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from gwhelpers import EXAMPLES, KEYS, add_partners, count, interchange, po_set, stages, wait_final, wait_outbound
from sqlalchemy import select

from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.counters import reserve, reserve_many
from crossdock.gateway.store.engine import build_engine
from pgscratch import scratch_database

pytestmark = [pytest.mark.services, pytest.mark.slow]

CROSSDOCK = [sys.executable, "-m", "crossdock.gateway.cli"]


@pytest.fixture(scope="module")
def services(postgres_url: str, redis_url: str, tmp_path_factory):
    """A fresh database (migrated by ``crossdock db upgrade``), a Redis namespace and the env."""
    with scratch_database(postgres_url, "crossdock") as url:
        namespace = f"crossdock-test-{uuid.uuid4().hex[:8]}"
        root = tmp_path_factory.mktemp("production")
        env = {**os.environ, "CROSSDOCK_DATABASE_URL": url, "CROSSDOCK_REDIS_URL": redis_url,
               "CROSSDOCK_REDIS_NAMESPACE": namespace, "CROSSDOCK_VAR_DIR": str(root / "var"),
               "CROSSDOCK_WORKFLOW__LEASE_S": "3", "CROSSDOCK_WORKFLOW__REDISPATCH_AFTER_S": "3",
               "CROSSDOCK_WORKFLOW__SWEEP_INTERVAL_S": "0.3", "CROSSDOCK_WORKFLOW__BACKOFF_BASE_S": "0.05",
               "CROSSDOCK_WORKFLOW__BACKOFF_CAP_S": "0.2", "CROSSDOCK_WORKFLOW__WORKER_THREADS": "4",
               "CROSSDOCK_LOG_LEVEL": "WARNING"}
        subprocess.run([*CROSSDOCK, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
        engine = build_engine(url)
        add_partners(engine, root / "outbox")
        port = _free_port()
        api = subprocess.Popen([*CROSSDOCK, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(root / "api.log", "wb"))
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/readyz")
        state = {"engine": engine, "env": env, "base": base, "root": root, "namespace": namespace,
                 "redis": redis.Redis.from_url(redis_url)}
        yield state
        api.terminate()
        api.wait(timeout=10)
        engine.dispose()
        for key in state["redis"].scan_iter(f"{namespace}*"):
            state["redis"].delete(key)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} never became ready")


class Worker:
    """One ``crossdock worker`` process."""

    def __init__(self, services, **env: str) -> None:
        log = open(services["root"] / f"worker-{uuid.uuid4().hex[:6]}.log", "wb")
        self.process = subprocess.Popen([*CROSSDOCK, "worker"], env={**services["env"], **env},
                                        stdout=subprocess.DEVNULL, stderr=log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def worker(services):
    started = Worker(services)
    yield started
    started.stop()


def _post(services, body: bytes, key: str = KEYS["acme"], **headers: str) -> httpx.Response:
    return httpx.post(f"{services['base']}/api/v1/messages", content=body,
                      headers={"X-Api-Key": key, **headers}, timeout=30)


def _po_number(tag: str) -> tuple[str, bytes]:
    control = f"{uuid.uuid4().int % 10**9:09d}"
    number = f"PO-{tag}-{control}"
    return number, interchange("ACMEBUYER", control, [po_set("0001", number)])


def _orders(engine, number: str) -> int:
    return count(engine, t.orders, t.orders.c.po_number == number)


def _wait_file(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.05)


def test_end_to_end_with_worker_process(services, worker) -> None:
    engine = services["engine"]
    response = _post(services, (EXAMPLES / "850.x12").read_bytes())
    assert response.status_code == 202
    message_id = response.json()["id"]
    assert wait_final(engine, message_id) == "accepted"
    assert [s for s, _ in stages(engine, message_id)] == ["ingest", "parse", "acknowledge", "map", "apply", "route"]
    assert [(c.document_kind, c.status) for c in wait_outbound(engine, message_id)] == [("997", "delivered")]
    assert _orders(engine, "PO-10001") == 1
    # the worker and all its threads run at a lower priority (workflow.worker_nice, default 5)
    # than the API, which keeps the priority it was started with
    base = os.getpriority(os.PRIO_PROCESS, 0)
    tasks = Path(f"/proc/{worker.process.pid}/task")
    nices = {int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]) for task in tasks.iterdir()}
    assert len(list(tasks.iterdir())) > 8 and nices == {base + 5}


@pytest.mark.parametrize("pause_at", ["apply", "apply:after_commit", "parse"])
def test_kill_9_mid_stage_completes_exactly_once(services, pause_at: str) -> None:
    """F1 (before commit), F2 (after commit, before the next stage), F4 (idle: only the sweeper)."""
    engine = services["engine"]
    marker = services["root"] / f"paused-{uuid.uuid4().hex[:6]}"
    doomed = Worker(services, CROSSDOCK_TESTING__PAUSE_AT=pause_at, CROSSDOCK_TESTING__PAUSE_MARKER=str(marker),
                    CROSSDOCK_TESTING__PAUSE_S="60")
    number, body = _po_number("KILL")
    message_id = _post(services, body).json()["id"]
    _wait_file(marker)
    doomed.kill()
    assert _orders(engine, number) == (1 if pause_at == "apply:after_commit" else 0)
    survivor = Worker(services)
    try:
        assert wait_final(engine, message_id, timeout=60) == "accepted"
    finally:
        survivor.stop()
    assert _orders(engine, number) == 1
    ok_stages = [s for s, outcome in stages(engine, message_id) if outcome == "ok"]
    assert ok_stages == ["ingest", "parse", "acknowledge", "map", "apply", "route"]
    assert count(engine, t.acks, t.acks.c.message_id == message_id) == 1


def test_redis_flushed_with_work_in_flight(services) -> None:
    """F8/F9: the queue is lost while work is pending; the sweeper rebuilds it from PostgreSQL."""
    engine, client = services["engine"], services["redis"]
    posted = []
    for _ in range(5):
        number, body = _po_number("FLUSH")
        posted.append((number, _post(services, body).json()["id"]))
    deleted = sum(client.delete(key) for key in client.scan_iter(f"{services['namespace']}*"))
    assert deleted >= 1
    fresh = Worker(services)
    try:
        for number, message_id in posted:
            assert wait_final(engine, message_id, timeout=60) == "accepted"
            assert _orders(engine, number) == 1
    finally:
        fresh.stop()


def test_fifty_concurrent_posts_of_one_interchange(services, worker) -> None:
    """F16: every POST is stored (each got a 202), exactly one is processed."""
    engine = services["engine"]
    number, body = _po_number("STORM")
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: _post(services, body), range(50)))
    assert [r.status_code for r in responses] == [202] * 50
    finals = [wait_final(engine, r.json()["id"], timeout=90) for r in responses]
    assert sorted(set(finals)) == ["accepted", "duplicate"] and finals.count("accepted") == 1
    assert _orders(engine, number) == 1


def test_sixteen_concurrent_allocators_never_reuse(services) -> None:
    """F21: control numbers reserved by 16 threads (own transactions) are all distinct."""
    engine = services["engine"]
    with engine.connect() as conn:
        globex = partner_by_code(conn, "globex")
    barrier = threading.Barrier(16)
    results: list[list[int]] = []

    def allocate() -> None:
        barrier.wait()
        for _ in range(25):
            results.append(reserve(engine, globex.id, "ISA", 3))

    threads = [threading.Thread(target=allocate) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = [n for block in results for n in block]
    assert len(numbers) == 16 * 25 * 3 == len(set(numbers))


def _control_numbers(payload: bytes) -> tuple[str, str, str]:
    """(ISA13, GS06, ST02) of a one-group, one-set interchange (delimiters from the ISA)."""
    element, terminator = payload[3:4], payload[105:106]
    segments = {s.split(element)[0].strip(): s.split(element) for s in payload.split(terminator) if s.strip()}
    return segments[b"ISA"][13].decode(), segments[b"GS"][6].decode(), segments[b"ST"][2].decode()


def test_sixteen_concurrent_renders_never_share_control_numbers(services) -> None:
    """F21 at the render level: 16 threads render X12 for one partner at once; every ISA13, GS06
    and ST02 in the delivered bytes is distinct."""
    from crossdock.gateway.ingest import IngestRequest, ingest
    from crossdock.gateway.runtime import build_runtime
    from crossdock.gateway.settings import load_settings
    from crossdock.gateway.workflow.runner import run_work

    engine = services["engine"]
    url = engine.url.render_as_string(hide_password=False)
    runtime = build_runtime(load_settings(database_url=url, workflow={"worker_threads": 16}))
    with engine.connect() as conn:
        host, globex = partner_by_code(conn, "host"), partner_by_code(conn, "globex")
    reserve_many(engine, globex.id, {"ISA": 1, "GS": 1, "ST": 1})  # the counter rows exist: they get contended
    tag = uuid.uuid4().hex[:8]
    work = []
    for index in range(16):
        document = {"document_type": "purchase_order", "po_number": f"PO-F21-{tag}-{index}",
                    "lines": [{"line_number": "1", "quantity": {"value": "1", "unit": "EA"}}]}
        result = ingest(runtime.engine, IngestRequest(json.dumps(document).encode(), "http", host, globex,
                                                      content_type="application/json"))
        work.append((result.message_id, result.work_id))
    barrier = threading.Barrier(16)

    def render(work_id: int) -> None:
        barrier.wait()
        run_work(runtime, work_id)

    threads = [threading.Thread(target=render, args=(work_id,)) for _, work_id in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        payloads = []
        with engine.connect() as conn:
            for message_id, _ in work:
                payloads += conn.execute(select(t.payloads.c.data).join(
                    t.messages, t.messages.c.sha256 == t.payloads.c.sha256).where(
                    t.messages.c.parent_id == message_id, t.messages.c.document_kind == "850")).scalars().all()
    finally:
        runtime.close()
    numbers = [_control_numbers(payload) for payload in payloads]
    assert len(numbers) == 16
    for kind, values in zip(("ISA13", "GS06", "ST02"), zip(*numbers)):
        assert len(set(values)) == 16, (kind, sorted(values))


def _children(parent_pid: int, want: int, *, without: frozenset[int] = frozenset(), timeout: float = 60.0) -> list[int]:
    psutil = pytest.importorskip("psutil")
    deadline = time.monotonic() + timeout
    pids: list[int] = []
    while time.monotonic() < deadline:
        pids = [c.pid for c in psutil.Process(parent_pid).children() if c.is_running()
                and c.status() != psutil.STATUS_ZOMBIE and c.pid not in without]
        if len(pids) >= want:
            return pids
        time.sleep(0.2)
    pytest.fail(f"worker supervisor has {pids}, wanted {want} children")


def test_worker_processes_are_supervised(services) -> None:
    """``crossdock worker --processes 2``: two consuming children; one killed is replaced; SIGTERM
    stops them all."""
    psutil = pytest.importorskip("psutil")
    engine = services["engine"]
    log = open(services["root"] / f"supervisor-{uuid.uuid4().hex[:6]}.log", "wb")
    parent = subprocess.Popen([*CROSSDOCK, "worker", "--processes", "2", "--threads", "2"], env=services["env"],
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        first = _children(parent.pid, 2)
        number, body = _po_number("PROC")
        assert wait_final(engine, _post(services, body).json()["id"], timeout=60) == "accepted"
        os.kill(first[0], signal.SIGKILL)
        replaced = _children(parent.pid, 1, without=frozenset(first))
        parent.terminate()
        assert parent.wait(timeout=60) == 0
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                       for pid in [first[1], *replaced])
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)
