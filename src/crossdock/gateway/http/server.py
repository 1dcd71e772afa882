"""The HTTP server: uvicorn with httptools and uvloop when installed, and a request-rate deadline.

uvicorn times out idle keep-alive connections but not a request that trickles in: a client
sending one byte per second (slowloris, BAD_INPUT 3.1-5) would hold its connection forever. The
protocol here adds one rule, checked every :data:`CHECK_INTERVAL_S` while a request is arriving
(from the connection, or the end of the previous response, until the body is complete)::

    elapsed <= read_timeout_s + received_bytes / min_request_rate

A request that falls behind is cut off: a ``408`` and close while still in its headers, a close
in its body (the app then sees the disconnect: nothing is stored, nothing acknowledged). The
server is asynchronous, so slow clients never hold a worker thread; the rule bounds how long
they hold a connection.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from crossdock.gateway.runtime import settle_heap
from crossdock.gateway.settings import Settings

__all__ = ["build_server", "run_server", "protocol_class", "CHECK_INTERVAL_S"]

CHECK_INTERVAL_S = 0.25
_REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                    b"content-length: 28\r\nconnection: close\r\n\r\nthe request arrived too slowly")


class _RequestDeadline:
    """Mixin for uvicorn's HTTP protocols (h11 or httptools): the rule in the module docstring."""

    grace_s: float = 30.0
    min_rate: float = 1024.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._arriving_since: float | None = time.monotonic()
        self._arrived = 0
        self._watch = self.loop.call_later(CHECK_INTERVAL_S, self._check)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self._arriving_since is None:
            self._arriving_since, self._arrived = time.monotonic(), 0
        self._arrived += len(data)
        super().data_received(data)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        self._arriving_since = None  # idle now: uvicorn's keep-alive timeout takes over
        super().on_response_complete()  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        self._watch.cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    def _check(self) -> None:
        transport = self.transport  # type: ignore[attr-defined]
        if transport.is_closing():
            return
        if self._arriving() and self._late():
            if self._in_headers():
                transport.write(_REQUEST_TIMEOUT)
            transport.close()
            return
        self._watch = self.loop.call_later(CHECK_INTERVAL_S, self._check)  # type: ignore[attr-defined]

    def _in_headers(self) -> bool:
        cycle = self.cycle  # type: ignore[attr-defined]
        return cycle is None or cycle.response_complete

    def _arriving(self) -> bool:
        if self._arriving_since is None:
            return False
        cycle = self.cycle  # type: ignore[attr-defined]
        return self._in_headers() or cycle.more_body

    def _late(self) -> bool:
        elapsed = time.monotonic() - (self._arriving_since or time.monotonic())
        return elapsed > self.grace_s + self._arrived / self.min_rate


def protocol_class(settings: Settings) -> type:
    """uvicorn's httptools protocol (h11 without it) with the request-rate deadline of ``settings``."""
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    else:
        base = H11Protocol
    http = settings.http
    return type("CrossdockHttpProtocol", (_RequestDeadline, base),
                {"grace_s": http.read_timeout_s, "min_rate": float(http.min_request_rate)})


def build_server(app: Any, settings: Settings, *, log_level: str | None = None) -> uvicorn.Server:
    """A uvicorn server for ``app`` on ``settings.http.host:port`` (not started)."""
    http = settings.http
    config = uvicorn.Config(
        app, host=http.host, port=http.port, log_level=(log_level or settings.log_level).lower(),
        http=protocol_class(settings), loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        timeout_keep_alive=max(1, int(http.read_timeout_s)), access_log=False)
    return uvicorn.Server(config)


def run_server(app: Any, settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM.

    The collector is set up for a long-running process first (:func:`~crossdock.gateway.runtime.settle_heap`).
    """
    server = build_server(app, settings)
    settle_heap()
    server.run()
