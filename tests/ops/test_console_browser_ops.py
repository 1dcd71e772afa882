"""The console in a real browser (Playwright + Debian chromium) against an in-process server.

The server is the real app (embedded mode: SQLite, in-process workers) served by uvicorn on a
free port in a thread; an ops user is created through the identity service and logs in through
the ``/login`` page. Screenshots of the overview, a search and a detail page are taken; they are
written to ``docs/screenshots/`` for the README when ``CROSSDOCK_UPDATE_SCREENSHOTS=1`` (so a
plain test run leaves the tree clean), else to a temporary folder.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from opshelpers import (
    ACK_WINDOW_HOURS,
    EXAMPLES,
    KEYS,
    REPO,
    MovableClock,
    canonical_po,
    fix_initech,
    interchange,
    open_ops_hub,
    po_set,
    wait_children,
    wait_final,
)

from crossdock.gateway.auth.users import create_user, password_hasher

pytestmark = [pytest.mark.browser]

SCREENSHOTS = REPO / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    def __init__(self, app, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    clock = MovableClock()
    hub = open_ops_hub(tmp_path_factory.mktemp("browser"), clock)
    auth = hub.runtime.settings.auth.model_copy(update={"argon2_time_cost": 1, "argon2_memory_kib": 8})
    with hub.runtime.engine.begin() as conn:
        create_user(conn, password_hasher(auth), username="opsuser", password=PASSWORD, role="ops", actor="test")
    port = _free_port()
    with _Server(hub.app(), port):
        base = f"http://127.0.0.1:{port}"
        ids = _traffic(hub, base)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "opsuser")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/ops")
        yield {"page": page, "base": base, "hub": hub, "clock": clock, "ids": ids}
        context.close()


def _traffic(hub, base: str) -> dict[str, str]:
    """Real flows through the HTTP API: an 850, a half-broken interchange, a failing partner, an 850 out."""
    engine = hub.runtime.engine
    with httpx.Client(base_url=base, timeout=30) as api:
        def send(body: bytes, key: str, **headers: str) -> str:
            response = api.post("/api/v1/messages", content=body, headers={"X-Api-Key": key, **headers})
            assert response.status_code == 202, response.text
            return response.json()["id"]

        ids = {"po": send((EXAMPLES / "850.x12").read_bytes(), KEYS["acme"]),
               "mixed": send(interchange("ACMEBUYER", "000000321", [po_set("0001", "PO-20001"),
                                                                    po_set("0002", "PO-20002", broken=True)]),
                             KEYS["acme"]),
               "initech": send(interchange("INITECH", "000000901", [po_set("0001", "PO-INI-1")]), KEYS["initech"]),
               "out": send(canonical_po("PO-OUT-7", 5), KEYS["erp"], **{"Content-Type": "application/json",
                                                                          "X-Crossdock-Recipient": "globex"}),
               "json": send(json.dumps({"document_type": "purchase_order", "po_number": "PO-J-1"}).encode(),
                            KEYS["acme"], **{"Content-Type": "application/json"})}
    for message_id in ids.values():
        wait_final(engine, message_id)
    for name in ("po", "mixed", "out"):
        wait_children(engine, ids[name])
    return ids


def _shot(page, name: str) -> Path:
    folder = SCREENSHOTS if os.environ.get("CROSSDOCK_UPDATE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "crossdock-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_overview(site) -> None:
    page = site["page"]
    page.goto(f"{site['base']}/ops")
    assert page.locator("svg.chart").count() == 3
    assert page.locator("#partners tbody tr").first.locator("td").first.inner_text() in ("initech", "acme")
    assert _shot(page, "ops-overview.png").stat().st_size > 10_000


def test_search_by_po_number_then_detail(site) -> None:
    page, base = site["page"], site["base"]
    page.goto(f"{base}/ops/messages")
    page.fill("input[name=key]", "PO-20001")
    page.click("#search button[type=submit]")
    page.wait_for_url("**/ops/messages?*")
    rows = page.locator("tr.result")
    assert rows.count() == 1
    assert "po_number=PO-20001" in rows.first.inner_text()
    _shot(page, "ops-search.png")
    rows.first.locator("a").first.click()
    page.wait_for_url(f"{base}/ops/messages/{site['ids']['mixed']}")
    assert page.locator("#status").inner_text() == "partially_accepted"
    stages = page.locator("#timeline tbody tr td:nth-child(2)").all_inner_texts()
    assert stages[:3] == ["ingest", "parse", "acknowledge"]
    raw = page.locator("#raw").inner_text()
    assert "BEG*00*SA*PO-20002**2024X301" in raw and "ST*850*0002" in raw
    issues = page.locator("#issues tbody tr")
    assert issues.count() >= 1
    bad_line = page.locator("#raw span.bad")
    assert bad_line.count() >= 1 and "BEG*00*SA*PO-20002" in bad_line.first.inner_text()
    acks = page.locator("#acks tbody").inner_text()
    assert "997" in acks and "partially_accepted" in acks
    _shot(page, "ops-detail.png")
    page.locator("#acks a").first.click()  # the 997 we sent, with its delivery attempts
    assert page.locator("h1").inner_text().startswith("Outbound 997")
    assert "delivered" in page.locator("#attempts").inner_text()


def test_replay_after_fixing_the_partner_turns_green(site) -> None:
    page, base, hub = site["page"], site["base"], site["hub"]
    message_id = site["ids"]["initech"]
    page.goto(f"{base}/ops/messages/{message_id}")
    status = page.locator("#status")
    assert status.inner_text() == "failed" and "failed" in status.get_attribute("class")
    assert "AGREEMENT_MISSING" in page.locator(".panel").first.inner_text()
    fix_initech(hub.runtime.engine)
    page.click("#replay")
    page.wait_for_url(f"**/ops/messages/{message_id}?flash=*")
    assert wait_final(hub.runtime.engine, message_id) == "accepted"
    page.reload()
    assert status.inner_text() == "accepted"
    assert "accepted" in status.get_attribute("class").split()
    assert page.locator("#notes tbody").inner_text().count("replay") == 1
    color = status.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(26, 127, 55)"  # green


def test_overdue_ack_shows_up_after_its_window(site) -> None:
    page, base = site["page"], site["base"]
    page.goto(f"{base}/ops/acks")
    assert "Nothing overdue" in page.locator("#overdue").inner_text()
    site["clock"].advance(ACK_WINDOW_HOURS * 3600 + 60)
    page.reload()
    rows = page.locator("#overdue tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == "globex"
    assert "997" in rows.first.inner_text()
    page.goto(f"{base}/ops")
    assert page.locator("#health").inner_text().count("overdue acks") == 1
    assert datetime.fromtimestamp(site["clock"](), UTC) > datetime.now(UTC)
