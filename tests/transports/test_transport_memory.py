"""MemoryTransport (the test twin) and the OutboundDelivery value object."""

from __future__ import annotations

import threading

import pytest

from crossdock.adapters.transports import DeliveryResult, MemoryTransport, OutboundDelivery, Transport


def _delivery(n: int = 1, key: str | None = None) -> OutboundDelivery:
    return OutboundDelivery(delivery_id=f"out-{n}", partner_id="acme", payload=b"ST*855*0001~",
                            content_type="application/edi-x12", idempotency_key=key or f"k-{n}")


def test_unscripted_sends_are_delivered_and_recorded() -> None:
    transport = MemoryTransport()
    results = [transport.send(_delivery(n)) for n in (1, 2)]

    assert [(r.outcome, r.status_code, r.error_code) for r in results] == [("delivered", 200, None)] * 2
    assert [d.delivery_id for d in transport.received] == ["out-1", "out-2"]
    assert isinstance(transport, Transport)


def test_failing_n_times_then_delivering_once() -> None:
    transport = MemoryTransport.failing(2, status=503)
    delivery = _delivery()
    outcomes = [(r.outcome, r.error_code) for r in (transport.send(delivery) for _ in range(4))]

    assert outcomes == [("retry", "HTTP_STATUS_503"), ("retry", "HTTP_STATUS_503"),
                        ("delivered", None), ("delivered", None)]
    assert len(transport.attempts) == 4
    # A replay after success reaches the partner, which drops it by idempotency key.
    assert transport.received == (delivery,)


def test_scripted_statuses_and_results() -> None:
    throttled = DeliveryResult(outcome="retry", status_code=429, error_code="HTTP_STATUS_429", retry_after_s=30.0)
    transport = MemoryTransport([400, throttled, 202])

    got = [transport.send(_delivery(n)) for n in (1, 2, 3)]

    assert [(r.outcome, r.error_code) for r in got] == [
        ("failed", "HTTP_STATUS_400"), ("retry", "HTTP_STATUS_429"), ("delivered", None)]
    assert got[1] is throttled
    assert [d.delivery_id for d in transport.received] == ["out-3"]


def test_concurrent_sends_are_all_recorded() -> None:
    transport = MemoryTransport.failing(50)

    def worker(base: int) -> None:
        for n in range(base, base + 25):
            transport.send(_delivery(n))

    threads = [threading.Thread(target=worker, args=(i * 25,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(transport.attempts) == 200
    assert len(transport.received) == 150


def test_close_is_recorded() -> None:
    transport = MemoryTransport()
    transport.close()
    assert transport.closed


@pytest.mark.parametrize(
    "bad",
    [
        {"delivery_id": ""},
        {"idempotency_key": ""},
        {"content_type": ""},
        {"payload": "text, not bytes"},
        {"idempotency_key": "k\r\nX-Injected: 1"},
        {"content_type": "application/edi-x12\nX-Injected: 1"},
        {"delivery_id": "out-ä"},
        {"metadata": {"Bad Key": "v"}},
        {"metadata": {"Doc": "line1\nline2"}},
        {"metadata": {"Doc": "x" * 1025}},
    ],
)
def test_outbound_delivery_refuses_values_that_cannot_travel(bad: dict[str, object]) -> None:
    fields: dict[str, object] = {"delivery_id": "out-1", "partner_id": "acme", "payload": b"x",
                                 "content_type": "application/json", "idempotency_key": "k"} | bad
    with pytest.raises(ValueError):
        OutboundDelivery(**fields)  # type: ignore[arg-type]


def test_outbound_delivery_metadata_is_a_frozen_copy() -> None:
    source = {"Document-Type": "855"}
    delivery = OutboundDelivery(delivery_id="out-1", partner_id="acme", payload=b"x",
                                content_type="application/json", idempotency_key="k", metadata=source)
    source["Document-Type"] = "changed"
    assert delivery.metadata == {"Document-Type": "855"}
    with pytest.raises(TypeError):
        delivery.metadata["Document-Type"] = "856"  # type: ignore[index]
