"""HTTP edge: BAD_INPUT.md 3.1 (transport) and 3.4 (duplicates) at the API, OpenAPI, health.

Every case asserts the documented status and code, and whether raw bytes were kept (only when
the sender is authenticated), and that nothing answers 500.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
from gwhelpers import EXAMPLES, KEYS, add_partners, count, fast_settings, interchange, po_set, post, wait_final
from litestar.testing import TestClient

from crossdock.gateway.hub import open_hub
from crossdock.gateway.store import schema as t

SMALL_CAP = 64 * 1024


@pytest.fixture
def small_client(tmp_path: Path):
    """An embedded API with a 64 KiB body cap and a 1 MiB decompressed cap."""
    settings = fast_settings(tmp_path, http={"max_body_bytes": SMALL_CAP, "max_decompressed_bytes": 1024 * 1024,
                                             "max_compression_ratio": 50})
    hub = open_hub(settings, workers=True)
    add_partners(hub, tmp_path / "outbox")
    with TestClient(app=hub.app()) as client:
        client.hub = hub  # type: ignore[attr-defined]
        yield client


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_empty_body_is_400_and_nothing_stored(small_client) -> None:
    assert _error(post(small_client, b"")) == (400, "EMPTY_BODY")
    assert count(small_client.hub.runtime.engine, t.messages) == 0


def test_oversized_body_is_413_while_streaming(small_client) -> None:
    def chunks():
        for _ in range(64):
            yield b"ISA" + b"x" * 4093  # 256 KiB in total, no Content-Length

    response = small_client.post("/api/v1/messages", content=chunks(), headers={"X-Api-Key": KEYS["acme"]})
    assert _error(response) == (413, "BODY_TOO_LARGE")
    declared = post(small_client, b"x" * (SMALL_CAP + 1))
    assert _error(declared) == (413, "BODY_TOO_LARGE")
    assert count(small_client.hub.runtime.engine, t.messages) == 0


def test_gzip_bomb_is_413(small_client) -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))  # 8 MiB of zeros → ~8 KiB compressed
    response = post(small_client, bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413 and response.json()["code"] in ("GZIP_RATIO", "GZIP_TOO_LARGE")
    ratio = zlib.compressobj(9, zlib.DEFLATED, 31)
    high_ratio = ratio.compress(b"ISA" + b"A" * (2 * 1024 * 1024)) + ratio.flush()
    assert _error(post(small_client, high_ratio, **{"Content-Encoding": "gzip"}))[0] == 413
    assert count(small_client.hub.runtime.engine, t.messages) == 0


def test_gzip_body_is_accepted(small_client) -> None:
    body = (EXAMPLES / "850.x12").read_bytes()
    response = post(small_client, gzip.compress(body), **{"Content-Encoding": "gzip"})
    assert response.status_code == 202
    raw = small_client.get(response.json()["links"]["raw"], headers={"X-Api-Key": KEYS["acme"]})
    assert raw.content == body


def test_unsupported_content_encoding_is_415(small_client) -> None:
    assert _error(post(small_client, b"ISA*", **{"Content-Encoding": "br"})) == (415, "CONTENT_ENCODING_UNSUPPORTED")


def test_content_type_contradiction_is_415_with_raw_kept(small_client) -> None:
    body = (EXAMPLES / "850.x12").read_bytes()
    response = post(small_client, body, **{"Content-Type": "application/json"})
    assert _error(response) == (415, "CONTENT_TYPE_MISMATCH")
    message_id = response.json()["message_id"]
    detail = small_client.get(f"/api/v1/messages/{message_id}", headers={"X-Api-Key": KEYS["acme"]}).json()
    assert (detail["status"], detail["error_code"]) == ("rejected", "CONTENT_TYPE_MISMATCH")
    raw = small_client.get(f"/api/v1/messages/{message_id}/raw", headers={"X-Api-Key": KEYS["acme"]})
    assert raw.content == body
    assert count(small_client.hub.runtime.engine, t.work_items) == 0
    # a neutral declared type is sniffed deterministically
    assert post(small_client, body, **{"Content-Type": "text/plain"}).status_code == 202


@pytest.mark.parametrize(("body", "code"), [
    (b"\xff\xfeI\x00S\x00A\x00", "ENCODING_UNSUPPORTED"),
    (b"\xc9\xe2\xc1\\", "ENCODING_UNSUPPORTED"),
    (b"hello, not EDI", "FORMAT_UNKNOWN"),
])
def test_unreadable_formats_are_415(small_client, body: bytes, code: str) -> None:
    assert _error(post(small_client, body)) == (415, code)


def test_unknown_sender_keeps_nothing(small_client) -> None:
    assert _error(post(small_client, b"hello", key="wrong")) == (401, "API_KEY_UNKNOWN")
    assert _error(small_client.post("/api/v1/messages", content=b"ISA")) == (401, "API_KEY_MISSING")
    assert count(small_client.hub.runtime.engine, t.messages) == 0


def test_recipient_header_is_for_the_host_only(small_client) -> None:
    response = post(small_client, b"{}", **{"X-Crossdock-Recipient": "globex"})
    assert _error(response) == (403, "RECIPIENT_FORBIDDEN")


def test_bad_cursor_and_unknown_message(small_client) -> None:
    host = {"X-Api-Key": KEYS["host"]}
    assert _error(small_client.get("/api/v1/messages", params={"cursor": "%%%"}, headers=host)) == (
        400, "CURSOR_INVALID")
    assert _error(small_client.get("/api/v1/messages/nope", headers=host)) == (404, "MESSAGE_NOT_FOUND")
    assert _error(small_client.post("/api/v1/messages/nope/replay", headers=host)) == (404, "MESSAGE_NOT_FOUND")


def test_cursor_pagination_walks_every_message(small_client) -> None:
    ids = {post(small_client, interchange("ACMEBUYER", f"0000009{i:02d}", [po_set("0001", f"PO-P{i}")])).json()["id"]
           for i in range(5)}
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "direction": "inbound", **({"cursor": cursor} if cursor else {})}
        page = small_client.get("/api/v1/messages", params=params, headers={"X-Api-Key": KEYS["host"]}).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and set(seen) == ids


def test_exact_resend_is_duplicate_with_ta1_025(small_client) -> None:
    engine = small_client.hub.runtime.engine
    body = interchange("ACMEBUYER", "000000950", [po_set("0001", "PO-RESEND")], ack_requested="1")
    first = post(small_client, body).json()["id"]
    second = post(small_client, body).json()["id"]
    statuses = sorted([wait_final(engine, first), wait_final(engine, second)])
    assert statuses == ["accepted", "duplicate"]
    assert count(engine, t.messages, t.messages.c.document_kind == "TA1") == 2  # A/000 for one, R/025 for the other


def test_health_ready_and_openapi(small_client) -> None:
    assert small_client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = small_client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    schema = small_client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/messages", "/api/v1/messages/{message_id}", "/api/v1/messages/{message_id}/raw",
                 "/api/v1/messages/{message_id}/events", "/api/v1/messages/{message_id}/replay", "/healthz",
                 "/readyz"):
        assert path in paths, path
    submit = paths["/api/v1/messages"]["post"]["responses"]
    assert {"200", "202", "400", "401", "403", "413", "415", "503"} <= set(submit)
