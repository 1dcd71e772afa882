"""BAD_INPUT 3.1 items 3 and 5 against the real server (uvicorn in a thread), with raw sockets.

* Truncated upload: the client declares a Content-Length, sends half and disconnects → no
  message stored, nothing queued, no acknowledgement; the server keeps serving.
* Slowloris: a client trickling headers (or a body) at 1 byte per 0.1 s falls behind the
  request-rate rule (``read_timeout_s`` grace, then ``min_request_rate``) → 408 and close (or a
  close in the body), within the grace plus a few checks; other clients are served meanwhile.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gwhelpers import EXAMPLES, KEYS, add_partners, count, fast_settings, wait_final

from crossdock.gateway.http.server import build_server
from crossdock.gateway.store import schema as t

GRACE_S = 1.0
#: generous bound for "cut off": the grace, plus the check period, on a busy CI machine
CUT_OFF_WITHIN_S = 15.0


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, object]]:
    """An embedded hub served by uvicorn with the Crossdock protocol on a free port."""
    from crossdock.gateway.hub import open_hub

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = fast_settings(tmp_path, http={"port": port, "read_timeout_s": GRACE_S, "min_request_rate": 1000})
    hub = open_hub(settings, workers=True)
    add_partners(hub, tmp_path / "outbox")
    server = build_server(hub.app(), settings, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", hub
    server.should_exit = True
    thread.join(timeout=30)


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=CUT_OFF_WITHIN_S)
    return sock


def _head(length: int) -> bytes:
    return (f"POST /api/v1/messages HTTP/1.1\r\nHost: test\r\nX-Api-Key: {KEYS['acme']}\r\n"
            f"Content-Type: application/edi-x12\r\nContent-Length: {length}\r\n\r\n").encode()


def _read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def _post_example(base: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/messages", content=(EXAMPLES / "850.x12").read_bytes(),
                      headers={"X-Api-Key": KEYS["acme"]}, timeout=30)


def test_truncated_upload_stores_nothing(live) -> None:
    base, hub = live
    body = (EXAMPLES / "850.x12").read_bytes()
    sock = _connect(base)
    sock.sendall(_head(len(body)) + body[: len(body) // 2])
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    engine = hub.runtime.engine
    answered = _post_example(base)  # the server is still serving, and the abandoned request is over
    assert answered.status_code == 202
    assert wait_final(engine, answered.json()["id"]) == "accepted"
    assert count(engine, t.messages, t.messages.c.direction == "inbound") == 1
    assert count(engine, t.acks) == 1
    assert count(engine, t.work_items, t.work_items.c.message_id != answered.json()["id"],
                 t.work_items.c.stage == "parse") == 0


def test_slow_headers_get_408_while_others_are_served(live) -> None:
    base, hub = live
    slow = _connect(base)
    started = time.monotonic()
    stop = threading.Event()

    def trickle() -> None:
        for byte in _head(10):
            if stop.is_set():
                return
            try:
                slow.send(bytes([byte]))
            except OSError:
                return
            time.sleep(0.1)

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    served = _post_example(base)
    try:
        answer = _read_until_closed(slow)
    finally:
        stop.set()
        sender.join()
        slow.close()
    assert served.status_code == 202
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < CUT_OFF_WITHIN_S
    assert count(hub.runtime.engine, t.messages, t.messages.c.direction == "inbound") == 1


def test_slow_body_is_cut_off_and_nothing_stored(live) -> None:
    base, hub = live
    body = (EXAMPLES / "850.x12").read_bytes()
    slow = _connect(base)
    slow.sendall(_head(len(body)))
    started = time.monotonic()
    answer = b""
    try:
        for byte in body:
            slow.send(bytes([byte]))
            time.sleep(0.1)
            if time.monotonic() - started > CUT_OFF_WITHIN_S:
                break
    except OSError:
        pass  # the server closed the connection: what we wait for
    else:
        answer = _read_until_closed(slow)
    finally:
        slow.close()
    assert time.monotonic() - started < CUT_OFF_WITHIN_S
    assert not answer.startswith(b"HTTP/1.1 202")
    assert count(hub.runtime.engine, t.messages) == 0
