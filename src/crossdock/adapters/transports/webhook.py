"""HTTPS webhook delivery: a signed POST per delivery, classified into delivered/retry/failed.

Request headers: ``Content-Type``, ``Idempotency-Key``, ``X-Crossdock-Delivery``,
``X-Crossdock-Timestamp`` (unix seconds), ``X-Crossdock-Signature`` (``v1=<hex HMAC-SHA256 over
"{timestamp}.{body}">``, see :mod:`.signing`) and one ``X-Crossdock-Meta-<key>`` per metadata entry.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from crossdock.schemas.errors import ConfigurationInvalid

from .backoff import parse_retry_after
from .base import DeliveryErrorCode, DeliveryResult, OutboundDelivery, Outcome, classify_http_status
from .signing import sign

__all__ = [
    "HEADER_DELIVERY",
    "HEADER_TIMESTAMP",
    "HEADER_SIGNATURE",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_META_PREFIX",
    "WebhookConfig",
    "WebhookTransport",
    "build_client",
    "classify_exception",
    "request_headers",
]

HEADER_DELIVERY = "X-Crossdock-Delivery"
HEADER_TIMESTAMP = "X-Crossdock-Timestamp"
HEADER_SIGNATURE = "X-Crossdock-Signature"
HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"
HEADER_META_PREFIX = "X-Crossdock-Meta-"

# Enough of an error body to tell the operator why the partner refused, never more.
_RESPONSE_READ_CAP = 64 * 1024
_DETAIL_SNIPPET_CHARS = 200
_DETAIL_MAX_CHARS = 300

# Foreign exceptions translated once, most specific first (STYLE item 18).
_EXCEPTION_TABLE: tuple[tuple[type[Exception], Outcome, str], ...] = (
    (httpx.TimeoutException, "retry", DeliveryErrorCode.TRANSPORT_TIMEOUT),
    (httpx.UnsupportedProtocol, "failed", DeliveryErrorCode.URL_INVALID),
    (httpx.InvalidURL, "failed", DeliveryErrorCode.URL_INVALID),
    (httpx.LocalProtocolError, "failed", DeliveryErrorCode.PROTOCOL_ERROR),
    (httpx.RemoteProtocolError, "retry", DeliveryErrorCode.PROTOCOL_ERROR),
    (httpx.ProxyError, "retry", DeliveryErrorCode.CONNECTION_FAILED),
    (httpx.NetworkError, "retry", DeliveryErrorCode.CONNECTION_FAILED),
    (httpx.HTTPError, "retry", DeliveryErrorCode.CONNECTION_FAILED),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookConfig:
    """One partner endpoint and how to talk to it.

    Attributes:
        url: the endpoint; ``https://`` unless ``allow_http`` (plain ``http://`` to a loopback
            address is always allowed, for local receivers and tests).
        secret: the HMAC secret shared with the partner; kept out of ``repr``.
        connect_timeout_s: time to establish the TCP/TLS connection.
        read_timeout_s: longest wait for the next bytes of the response.
        write_timeout_s: longest wait to send the next bytes of the request.
        pool_timeout_s: longest wait for a free pooled connection.
        max_connections: pool size of a client this transport builds itself.
        max_keepalive_connections: idle connections kept open for reuse.
        max_retry_after_s: a partner's ``Retry-After`` is clamped to this.
        allow_http: permit plain ``http://`` to non-loopback hosts (e.g. a private network).
        verify_tls: check the server certificate; switch off only for a test receiver.
        proxy: an explicit proxy URL; the environment's proxy variables are never read.
        user_agent: the ``User-Agent`` header.

    Raises:
        ConfigurationInvalid: for an unusable URL, an empty secret or a non-positive limit.
    """

    url: str
    secret: str | bytes = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    write_timeout_s: float = 30.0
    pool_timeout_s: float = 5.0
    max_connections: int = 10
    max_keepalive_connections: int = 5
    max_retry_after_s: float = 3600.0
    allow_http: bool = False
    verify_tls: bool = True
    proxy: str | None = None
    user_agent: str = "crossdock-webhook"

    def __post_init__(self) -> None:
        _check_url(self.url, self.allow_http)
        if not self.secret:
            raise ConfigurationInvalid("webhook secret must not be empty")
        limits = (self.connect_timeout_s, self.read_timeout_s, self.write_timeout_s,
                  self.pool_timeout_s, self.max_connections, self.max_retry_after_s)
        if min(limits) <= 0 or self.max_keepalive_connections < 0:
            raise ConfigurationInvalid("webhook timeouts and pool sizes must be positive")

    def timeout(self) -> httpx.Timeout:
        """This endpoint's timeouts, applied per request (also on a shared client)."""
        return httpx.Timeout(connect=self.connect_timeout_s, read=self.read_timeout_s,
                             write=self.write_timeout_s, pool=self.pool_timeout_s)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationInvalid(f"webhook URL must be http(s)://host/…, got scheme {parts.scheme!r}")
    if parts.username or parts.password:
        raise ConfigurationInvalid("webhook URL must not carry credentials; use the signing secret")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ConfigurationInvalid("webhook URL must use https (set allow_http for a private network)")


def build_client(config: WebhookConfig) -> httpx.Client:
    """A pooled client for ``config``; share one across endpoints by passing it to each transport."""
    return httpx.Client(
        timeout=config.timeout(),
        limits=httpx.Limits(max_connections=config.max_connections,
                            max_keepalive_connections=config.max_keepalive_connections),
        verify=config.verify_tls,
        proxy=config.proxy,
        follow_redirects=False,
        # Settings are passed in, never read from the environment (HTTP(S)_PROXY, SSL_CERT_FILE…).
        trust_env=False,
    )


def request_headers(config: WebhookConfig, delivery: OutboundDelivery, timestamp: int) -> dict[str, str]:
    """The headers of one signed POST.

    Args:
        config: the endpoint (its secret signs the body).
        delivery: what is sent.
        timestamp: unix seconds; signed together with the body.

    Returns:
        Header name → value.
    """
    headers = {
        "Content-Type": delivery.content_type,
        "User-Agent": config.user_agent,
        HEADER_IDEMPOTENCY_KEY: delivery.idempotency_key,
        HEADER_DELIVERY: delivery.delivery_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(config.secret, timestamp, delivery.payload),
    }
    headers.update({f"{HEADER_META_PREFIX}{key}": value for key, value in delivery.metadata.items()})
    return headers


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _read_capped(response: httpx.Response) -> bytes:
    """Up to the cap of the response body; a body that fails mid-read counts as empty."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= _RESPONSE_READ_CAP:
                break
    except httpx.HTTPError:
        return b""
    return b"".join(chunks)[:_RESPONSE_READ_CAP]


def _status_detail(status: int, reason: str, body: bytes, outcome: Outcome) -> str:
    if outcome == "delivered" or not body:
        return f"HTTP {status} {reason}".rstrip()
    snippet = _clip(body.decode("utf-8", "replace"), _DETAIL_SNIPPET_CHARS)
    return f"HTTP {status} {reason}: {snippet}"


def classify_exception(exc: Exception) -> tuple[Outcome, str, str]:
    """Translate an httpx exception into ``(outcome, error_code, detail)`` by table."""
    for kind, outcome, code in _EXCEPTION_TABLE:
        if isinstance(exc, kind):
            return outcome, str(code), _clip(f"{type(exc).__name__}: {exc}", _DETAIL_MAX_CHARS)
    # Unreachable for what send() catches; a foreign failure of unknown kind is worth a retry.
    return "retry", str(DeliveryErrorCode.CONNECTION_FAILED), _clip(repr(exc), _DETAIL_MAX_CHARS)


class WebhookTransport:
    """Delivers by signed HTTPS POST to one endpoint.

    Args:
        config: the endpoint, its secret and timeouts.
        client: a pooled ``httpx.Client`` to share between transports; when None the transport
            builds (and on :meth:`close` closes) its own.
        clock: unix time source for the signed timestamp and ``Retry-After`` dates.
    """

    def __init__(
        self,
        config: WebhookConfig,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._owns_client = client is None
        self._client = client if client is not None else build_client(config)
        self._clock = clock

    def send(self, delivery: OutboundDelivery) -> DeliveryResult:
        """POST the payload once and classify the answer; never raises for remote problems."""
        started = time.perf_counter()
        headers = request_headers(self._config, delivery, int(self._clock()))
        try:
            with self._client.stream("POST", self._config.url, content=delivery.payload,
                                     headers=headers, timeout=self._config.timeout()) as response:
                body = _read_capped(response)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            outcome, code, detail = classify_exception(exc)
            return DeliveryResult(outcome=outcome, detail=detail, error_code=code,
                                  duration_ms=_elapsed_ms(started))
        return self._from_response(response, body, started)

    def _from_response(self, response: httpx.Response, body: bytes, started: float) -> DeliveryResult:
        status = response.status_code
        outcome, code = classify_http_status(status)
        retry_after = None
        if outcome == "retry":
            parsed = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            retry_after = None if parsed is None else min(parsed, self._config.max_retry_after_s)
        return DeliveryResult(
            outcome=outcome,
            status_code=status,
            detail=_status_detail(status, response.reason_phrase, body, outcome),
            duration_ms=_elapsed_ms(started),
            error_code=code,
            retry_after_s=retry_after,
        )

    def close(self) -> None:
        """Close the pooled connections when this transport built its own client."""
        if self._owns_client:
            self._client.close()


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0

