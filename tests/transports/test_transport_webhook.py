"""WebhookTransport against a real local HTTP server: headers, signature, classification, timeouts."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import socket
import time
import uuid
from email.utils import formatdate
from urllib.parse import quote

import httpx
import pytest

from crossdock.adapters.transports import (
    DeliveryResult,
    OutboundDelivery,
    Transport,
    WebhookConfig,
    WebhookTransport,
)
from crossdock.schemas.errors import ConfigurationInvalid

FIXED_NOW = 1_700_000_000
SECRET = "partner-secret-7c1e"
PAYLOAD = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       ~IEA*1*000000001~"


def _delivery(**overrides: object) -> OutboundDelivery:
    delivery_id = f"out-{uuid.uuid4().hex[:12]}"
    fields: dict[str, object] = {
        "delivery_id": delivery_id,
        "partner_id": "acme",
        "payload": PAYLOAD,
        "content_type": "application/edi-x12",
        "idempotency_key": f"idem-{delivery_id}",
        "metadata": {"Document-Type": "855", "Control-Number": "000000042"},
    }
    fields.update(overrides)
    return OutboundDelivery(**fields)  # type: ignore[arg-type]


def _send(url: str, delivery: OutboundDelivery | None = None, *, secret: str = SECRET,
          clock=lambda: FIXED_NOW, **config: object) -> DeliveryResult:  # noqa: ANN001
    transport = WebhookTransport(WebhookConfig(url=url, secret=secret, **config),  # type: ignore[arg-type]
                                 clock=clock)
    with contextlib.closing(transport):
        return transport.send(delivery or _delivery())


def _received_for(receiver, delivery: OutboundDelivery) -> list:  # noqa: ANN001
    return [r for r in receiver.received if r.headers.get("x-crossdock-delivery") == delivery.delivery_id]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_delivered_request_carries_every_header_and_the_exact_body(receiver, base_url: str) -> None:
    delivery = _delivery()
    result = _send(f"{base_url}/status/200", delivery)

    assert (result.outcome, result.status_code, result.error_code, result.retry_after_s) == (
        "delivered", 200, None, None)
    [got] = _received_for(receiver, delivery)
    assert got.body == PAYLOAD
    expected_sig = hmac.new(SECRET.encode(), f"{FIXED_NOW}.".encode() + PAYLOAD,
                            hashlib.sha256).hexdigest()
    names = ("content-type", "idempotency-key", "x-crossdock-delivery", "x-crossdock-timestamp",
             "x-crossdock-signature", "x-crossdock-meta-document-type", "x-crossdock-meta-control-number")
    assert {name: got.headers[name] for name in names} == {
        "content-type": "application/edi-x12",
        "idempotency-key": delivery.idempotency_key,
        "x-crossdock-delivery": delivery.delivery_id,
        "x-crossdock-timestamp": str(FIXED_NOW),
        "x-crossdock-signature": f"v1={expected_sig}",
        "x-crossdock-meta-document-type": "855",
        "x-crossdock-meta-control-number": "000000042",
    }


def test_receiver_accepts_our_signature(base_url: str, receiver_secret: str) -> None:
    result = _send(f"{base_url}/verify", secret=receiver_secret, clock=time.time)
    assert (result.outcome, result.status_code) == ("delivered", 204)


@pytest.mark.parametrize(
    ("wrong_secret", "clock"),
    [
        pytest.param(True, time.time, id="wrong-secret"),
        pytest.param(False, lambda: time.time() - 301, id="stale-timestamp"),
        # well past the 300 s window: the receiver's clock moves on while the request travels
        pytest.param(False, lambda: time.time() + 900, id="future-timestamp"),
    ],
)
def test_receiver_refuses_a_bad_signature_and_we_fail_permanently(
    base_url: str, receiver_secret: str, wrong_secret: bool, clock  # noqa: ANN001
) -> None:
    secret = "not-the-partner-secret" if wrong_secret else receiver_secret
    result = _send(f"{base_url}/verify", secret=secret, clock=clock)
    assert (result.outcome, result.status_code, result.error_code) == ("failed", 401, "HTTP_STATUS_401")


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        (200, "delivered", None),
        (201, "delivered", None),
        (202, "delivered", None),
        (204, "delivered", None),
        (301, "failed", "HTTP_STATUS_301"),
        (400, "failed", "HTTP_STATUS_400"),
        (401, "failed", "HTTP_STATUS_401"),
        (403, "failed", "HTTP_STATUS_403"),
        (404, "failed", "HTTP_STATUS_404"),
        (409, "failed", "HTTP_STATUS_409"),
        (413, "failed", "HTTP_STATUS_413"),
        (422, "failed", "HTTP_STATUS_422"),
        (408, "retry", "HTTP_STATUS_408"),
        (429, "retry", "HTTP_STATUS_429"),
        (500, "retry", "HTTP_STATUS_500"),
        (502, "retry", "HTTP_STATUS_502"),
        (503, "retry", "HTTP_STATUS_503"),
        (504, "retry", "HTTP_STATUS_504"),
    ],
)
def test_status_classification(base_url: str, status: int, outcome: str, code: str | None) -> None:
    result = _send(f"{base_url}/status/{status}")
    assert (result.outcome, result.status_code, result.error_code) == (outcome, status, code)
    assert result.duration_ms > 0


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        pytest.param(429, "7", 7.0, id="429-seconds"),
        pytest.param(503, formatdate(FIXED_NOW + 120, usegmt=True), 120.0, id="503-http-date"),
        pytest.param(503, formatdate(FIXED_NOW - 50, usegmt=True), 0.0, id="date-in-the-past"),
        pytest.param(429, "86400000", 3600.0, id="clamped-to-max"),
        pytest.param(429, "soon", None, id="unreadable"),
        pytest.param(400, "7", None, id="ignored-on-permanent-failure"),
    ],
)
def test_retry_after_is_exposed_on_retries(base_url: str, status: int, header: str, expected: float | None) -> None:
    result = _send(f"{base_url}/status/{status}?retry_after={quote(header)}")
    assert result.retry_after_s == expected


def test_error_body_is_summarised_in_the_detail(base_url: str) -> None:
    reason = "PO number missing in BEG03 " * 30
    result = _send(f"{base_url}/status/422?body={quote(reason)}")
    assert result.detail.startswith("HTTP 422 Unprocessable Entity: PO number missing in BEG03")
    assert len(result.detail) <= 300


def test_read_timeout_is_a_retry(base_url: str) -> None:
    result = _send(f"{base_url}/sleep/2", read_timeout_s=0.2)
    assert (result.outcome, result.status_code, result.error_code) == ("retry", None, "TRANSPORT_TIMEOUT")
    assert result.detail.startswith("ReadTimeout")


def test_refused_connection_is_a_retry() -> None:
    result = _send(f"http://127.0.0.1:{_closed_port()}/hook")
    assert (result.outcome, result.status_code, result.error_code) == ("retry", None, "CONNECTION_FAILED")


def test_connection_dropped_without_answer_is_a_retry(base_url: str) -> None:
    result = _send(f"{base_url}/drop")
    assert (result.outcome, result.error_code) == ("retry", "PROTOCOL_ERROR")


def test_connections_are_pooled_between_sends(receiver, base_url: str) -> None:
    transport = WebhookTransport(WebhookConfig(url=f"{base_url}/status/200", secret=SECRET))
    first, second = _delivery(), _delivery()
    with contextlib.closing(transport):
        assert transport.send(first).outcome == transport.send(second).outcome == "delivered"
    [got_first] = _received_for(receiver, first)
    [got_second] = _received_for(receiver, second)
    assert got_first.client_port == got_second.client_port


def test_shared_client_is_left_open_and_owned_client_is_closed(base_url: str) -> None:
    config = WebhookConfig(url=f"{base_url}/status/200", secret=SECRET)
    with httpx.Client() as shared:
        WebhookTransport(config, client=shared).close()
        assert not shared.is_closed
        assert WebhookTransport(config, client=shared).send(_delivery()).outcome == "delivered"
    owned = WebhookTransport(config)
    owned.close()
    assert owned._client.is_closed


def test_webhook_transport_satisfies_the_protocol(base_url: str) -> None:
    transport = WebhookTransport(WebhookConfig(url=f"{base_url}/status/200", secret=SECRET))
    with contextlib.closing(transport):
        assert isinstance(transport, Transport)


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        pytest.param("ftp://partner.example/in", {}, id="scheme"),
        pytest.param("https:///no-host", {}, id="no-host"),
        pytest.param("http://partner.example/hook", {}, id="plain-http-to-internet"),
        pytest.param("https://user:pw@partner.example/hook", {}, id="credentials-in-url"),
        pytest.param("https://partner.example/hook", {"read_timeout_s": 0}, id="zero-timeout"),
        pytest.param("https://partner.example/hook", {"secret": ""}, id="empty-secret"),
    ],
)
def test_unusable_config_is_refused(url: str, extra: dict[str, object]) -> None:
    fields: dict[str, object] = {"url": url, "secret": "s3cret"} | extra
    with pytest.raises(ConfigurationInvalid) as info:
        WebhookConfig(**fields)  # type: ignore[arg-type]
    assert info.value.code == "CONFIGURATION_INVALID"


def test_plain_http_allowed_for_loopback_or_when_asked() -> None:
    assert WebhookConfig(url="http://localhost:9000/hook", secret="s").url.startswith("http://")
    assert WebhookConfig(url="http://[::1]:9000/hook", secret="s").url.startswith("http://")
    assert WebhookConfig(url="http://partner.internal/hook", secret="s", allow_http=True).allow_http


def test_secret_and_payload_stay_out_of_reprs() -> None:
    assert "topsecret" not in repr(WebhookConfig(url="https://partner.example/h", secret="topsecret"))
    assert "SENDER" not in repr(_delivery())
