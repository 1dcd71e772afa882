"""The supplier portal in a real browser (Playwright + Debian chromium) against an in-process server.

The real app (embedded: SQLite, in-process workers and planner) is served by uvicorn on a free
port; the retailer posts an 852 over HTTP, supplier users log in through ``/login``.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from vmihelpers import KEYS, activity_852, add_partners, fast_settings, wait_final

from crossdock.gateway.auth.users import create_user, password_hasher
from crossdock.gateway.hub import open_hub

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _d(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).strftime("%Y%m%d")


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("portal")
    hub = open_hub(fast_settings(root), workers=True)
    partners = add_partners(hub.runtime.engine, root / "outbox")
    hasher = password_hasher(hub.runtime.settings.auth)
    with hub.runtime.engine.begin() as conn:
        for code in ("globex", "initech"):
            create_user(conn, hasher, username=f"{code}-planner", password=PASSWORD, role="supplier",
                        partner_id=partners[code], actor="test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(hub.app(), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    body = activity_852("000000901", _d(-7), _d(-1), {"0042": [("100-1", 30, 21), ("200-1", 5, 14), ("300-1", 8, 7)],
                                                       "0043": [("100-1", 90, 7)]})
    posted = httpx.post(f"{base}/api/v1/messages", content=body,
                        headers={"X-Api-Key": KEYS["acme"], "Content-Type": "application/edi-x12"})
    assert wait_final(hub.runtime.engine, posted.json()["id"]) == "accepted"
    _wait_proposals(base)
    yield {"base": base, "hub": hub}
    server.should_exit = True
    thread.join(timeout=15)


def _wait_proposals(base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = httpx.get(f"{base}/api/v1/proposals", headers={"X-Api-Key": KEYS["globex"]}).json()["items"]
        if found:
            return
        time.sleep(0.1)
    pytest.fail("no proposals")


def _login(browser, base: str, username: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/portal")
    return context, page


def test_supplier_filters_opens_item_and_approves(site, browser) -> None:
    base = site["base"]
    context, page = _login(browser, base, "globex-planner")
    try:
        grid = page.locator("#inventory tbody tr")
        assert sorted(grid.evaluate_all("rows => rows.map(r => r.dataset.item + '@' + r.dataset.location)")) == [
            "GLX-100@ACME-S042", "GLX-100@ACME-S043", "GLX-200@ACME-S042"]
        assert "INI-300" not in page.content()

        # filter by exception (the select submits on change) and by item
        page.select_option("select[name=exception]", "below_min")
        page.wait_for_url("**exception=below_min**")
        assert grid.evaluate_all("rows => rows.map(r => r.dataset.item)") == ["GLX-100"]
        page.fill("input[name=item]", "GLX-2")
        page.select_option("select[name=exception]", "")
        page.wait_for_url("**item=GLX-2**")
        assert grid.evaluate_all("rows => rows.map(r => r.dataset.item)") == ["GLX-200"]

        # open an item: the chart of projected stock with the reorder line, the movement history
        page.goto(f"{base}/portal?item=GLX-100&location=ACME-S042")
        page.click("#inventory tbody tr a")
        page.wait_for_url("**/portal/items/GLX-100/ACME-S042")
        chart = page.locator("#projection svg.chart")
        assert chart.locator("polyline.balance").count() == 1
        assert chart.locator("line.reorder").count() == 1
        assert page.locator("#on-hand").inner_text() == "30"
        assert page.locator("#movements tbody tr").count() == 2
        page.locator("#movements a").first.click()
        page.wait_for_url("**/portal/documents/**")
        assert "852" in page.locator("h1").inner_text()

        # approve the proposal: the 855 goes out and shows up on the approved list
        page.goto(f"{base}/portal/proposals")
        row = page.locator("#proposals tr", has_text="GLX-100")
        page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button[name=approve]").click()
        page.wait_for_url("**flash=**")
        assert "Approved: order VMI-" in page.locator(".notice").inner_text()
        deadline = time.monotonic() + 20
        while True:
            page.goto(f"{base}/portal/proposals?state=approved")
            text = page.locator("#proposals").inner_text()
            if "855 delivered" in text or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert "855 delivered" in text and "GLX-100" in text
        page.goto(f"{base}/portal?item=GLX-100&location=ACME-S042")
        assert page.locator("#inventory tbody tr td").nth(4).inner_text() == "96"
    finally:
        context.close()


def test_other_supplier_never_sees_them(site, browser) -> None:
    base = site["base"]
    context, page = _login(browser, base, "initech-planner")
    try:
        assert page.locator("#inventory tbody tr").evaluate_all("rows => rows.map(r => r.dataset.item)") == ["INI-300"]
        for path in ("/portal", "/portal/proposals?state=all", "/portal?item=GLX"):
            page.goto(base + path)
            assert "GLX-" not in page.content()
        response = page.goto(f"{base}/portal/items/GLX-100/ACME-S042")
        assert response.status == 404 and "GLX-100 at ACME-S042" in page.content()
        csv = page.request.get(f"{base}/portal/export.csv").text()
        assert "GLX-" not in csv and "INI-300" in csv
        # the retailer's description of INI-300 is a formula: exported as text
        assert "'=HYPERLINK" in csv
    finally:
        context.close()
