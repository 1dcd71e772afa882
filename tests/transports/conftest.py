"""A real local HTTP receiver (threaded ``http.server`` on 127.0.0.1, random port) for webhook tests.

Routes (POST only):

- ``/status/<n>[?retry_after=<value>&body=<text>]``: answer status ``n``.
- ``/sleep/<seconds>``: wait, then 200 (the client's read timeout fires first).
- ``/drop``: close the connection without an answer.
- ``/verify``: check the Crossdock signature with :data:`RECEIVER_SECRET`; 204 when valid, 401 when not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from crossdock.adapters.transports import HEADER_SIGNATURE, HEADER_TIMESTAMP, verify_signature

RECEIVER_SECRET = "whsec-test-3f9a"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.lock = threading.Lock()

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        # The timeout tests hang up on purpose; the late write's BrokenPipe is expected noise.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Receiver

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.received.append(
                Received(parts.path, {k.lower(): v for k, v in self.headers.items()}, body,
                         self.client_address[1]))
        route, _, arg = parts.path.strip("/").partition("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if route == "status":
            self._answer(int(arg), query.get("body", "").encode(), query.get("retry_after"))
        elif route == "sleep":
            time.sleep(float(arg))
            self._answer(200, b"")
        elif route == "drop":
            self.close_connection = True
        elif route == "verify":
            ok = verify_signature(RECEIVER_SECRET, self.headers.get(HEADER_TIMESTAMP, ""), body,
                                  self.headers.get(HEADER_SIGNATURE, ""), now=time.time())
            self._answer(204 if ok else 401, b"")
        else:
            self._answer(404, b"no such route")

    def _answer(self, status: int, body: bytes, retry_after: str | None = None) -> None:
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def base_url(receiver: _Receiver) -> str:
    host, port = receiver.server_address[:2]
    return f"http://{host}:{port}"


@pytest.fixture(scope="session")
def receiver_secret() -> str:
    """The secret the ``/verify`` route checks signatures with."""
    return RECEIVER_SECRET
