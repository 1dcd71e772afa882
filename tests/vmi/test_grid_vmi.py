"""The inventory grid's paging: keyset cursors walk exactly the rows OFFSET pages show, for every
sort and direction (ties and NULLs included); exception filters read the flag bits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from vmihelpers import KEYS, add_partners, fast_settings

from crossdock.gateway.hub import open_hub
from crossdock.gateway.inventory import views
from crossdock.gateway.inventory.store import write_positions
from crossdock.gateway.store import schema as t

FLAGS = ("", "below_min", "out_of_stock,projected_stockout", "above_max", "below_min,projected_stockout")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An embedded hub without the planner (it would rewrite the positions written here)."""
    hub = open_hub(fast_settings(tmp_path, inventory={"planner_poll_s": 0}), workers=False)
    add_partners(hub.runtime.engine, tmp_path / "outbox")
    with TestClient(app=hub.app()) as test_client:
        test_client.hub = hub  # type: ignore[attr-defined]
        yield test_client
    hub.runtime.close()


@pytest.fixture
def grid_client(client):
    """Globex with 40 more item-locations: repeated on-hand values, NULL days of supply, mixed flags."""
    engine = client.hub.runtime.engine
    now = datetime.now(UTC)
    with engine.begin() as conn:
        item = conn.execute(select(t.inv_items).where(t.inv_items.c.code == "GLX-200")).one()
        conn.execute(t.inv_locations.insert(), [{"code": f"G{n:02d}", "kind": "store", "created_at": now}
                                                for n in range(40)])
        places = conn.execute(select(t.inv_locations.c.id, t.inv_locations.c.code)
                              .where(t.inv_locations.c.code.like("G%"))).all()
        conn.execute(t.inv_item_locations.insert(), [
            {"item_id": item.id, "location_id": p.id, "supplier_id": item.supplier_id, "item_code": item.code,
             "location_code": p.code} for p in places])
        ids = conn.execute(select(t.inv_item_locations.c.id).where(
            t.inv_item_locations.c.location_code.like("G%")).order_by(t.inv_item_locations.c.id)).scalars().all()
        write_positions(conn, [{
            "id": il_id, "planned_on": date.today(), "on_hand": n % 6, "in_transit": n % 3, "on_order": 0,
            "avg_daily": float(n % 4), "days_of_supply": None if n % 5 == 0 else float(n % 7),
            "min_level": None, "max_level": None, "reorder_level": None, "target_level": None,
            "stockout_date": None if n % 3 else date.today() + timedelta(days=n % 4), "flags": FLAGS[n % len(FLAGS)],
            "demand_source": "history"} for n, il_id in enumerate(ids)])
    return client


def _get(client, **params):
    response = client.get("/api/v1/inventory", params={"page_size": 7, **params},
                          headers={"X-Api-Key": KEYS["globex"]})
    assert response.status_code == 200, response.text
    return response.json()


def _walk_offset(client, **params) -> list[tuple[str, str]]:
    first = _get(client, **params)
    seen = [(r["item"], r["location"]) for r in first["items"]]
    for page in range(2, first["pages"] + 1):
        seen += [(r["item"], r["location"]) for r in _get(client, page=page, **params)["items"]]
    return seen


def _walk_keyset(client, **params) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        page = _get(client, **params, **({"after": cursor} if cursor else {}))
        seen += [(r["item"], r["location"]) for r in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return seen


def test_keyset_pages_walk_the_same_rows_as_offset_pages(grid_client) -> None:
    for sort in sorted(views.SORTS):
        for desc in ("", "1"):
            by_offset = _walk_offset(grid_client, sort=sort, desc=desc)
            by_cursor = _walk_keyset(grid_client, sort=sort, desc=desc)
            assert len(by_offset) == len(set(by_offset)) == 43, (sort, desc)  # 40 added, 3 from the master data
            assert by_cursor == by_offset, (sort, desc)


def test_exception_filters_read_the_flag_bits(grid_client) -> None:
    below = _walk_keyset(grid_client, exception="below_min")
    stockout = _walk_keyset(grid_client, exception="projected_stockout")
    flagged = _walk_keyset(grid_client, exception="any")
    assert len(below) == len(stockout) == 16 and len(set(below) & set(stockout)) == 8
    assert set(below) | set(stockout) < set(flagged)
    page = _get(grid_client, exception="below_min")
    assert page["total"] == 16 and page["total_exact"] is True
    assert all("below_min" in r["flags"] for r in page["items"])


def test_a_cursor_of_another_sort_is_refused(grid_client) -> None:
    cursor = _get(grid_client, sort="on_hand")["next"]
    for bad in (cursor, "not-a-cursor", "W10"):
        response = grid_client.get("/api/v1/inventory", params={"after": bad, "sort": "days_of_supply"},
                                   headers={"X-Api-Key": KEYS["globex"]})
        assert response.status_code == 400 and response.json()["code"] == "CURSOR_INVALID", bad
