"""The stored inventory on real PostgreSQL: apply → positions, planner runs (row locks, SKIP
LOCKED claims, driver-level ledger reads), approval, and the COPY path for many positions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from vmihelpers import KEYS, activity_852, add_partners, fast_settings, wait_final, wait_for

from crossdock.gateway.hub import open_hub
from crossdock.gateway.inventory.planning import run_planning
from crossdock.gateway.inventory.store import write_positions
from crossdock.gateway.store import schema as t
from pgscratch import scratch_database

pytestmark = pytest.mark.services


@pytest.fixture
def pg_client(postgres_url: str, tmp_path):
    with scratch_database(postgres_url, "crossdock_vmi") as url:
        hub = open_hub(fast_settings(tmp_path, database_url=url), workers=True, migrate=True)
        try:
            add_partners(hub.runtime.engine, tmp_path / "outbox")
            with TestClient(app=hub.app()) as client:
                client.hub = hub  # type: ignore[attr-defined]
                yield client
        finally:
            hub.runtime.engine.dispose()


def _d(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).strftime("%Y%m%d")


def test_apply_plan_approve_on_postgres(pg_client) -> None:
    engine = pg_client.hub.runtime.engine
    body = activity_852("000000601", _d(-7), _d(-1), {"0042": [("100-1", 30, 21), ("300-1", 8, 7)]})
    posted = pg_client.post("/api/v1/messages", content=body, headers={"X-Api-Key": KEYS["acme"]})
    assert wait_final(engine, posted.json()["id"]) == "accepted"
    proposals = wait_for(lambda: pg_client.get("/api/v1/proposals", headers={"X-Api-Key": KEYS["globex"]})
                         .json()["items"], what="proposals")
    approved = pg_client.post(f"/api/v1/proposals/{proposals[0]['id']}/approve",
                              headers={"X-Api-Key": KEYS["globex"]}).json()
    assert wait_final(engine, approved["message_id"]) == "accepted"
    row = pg_client.get("/api/v1/inventory", params={"item": "GLX-100", "location": "ACME-S042"},
                        headers={"X-Api-Key": KEYS["globex"]}).json()["items"][0]
    assert row["on_order"] == proposals[0]["quantity"]
    report = run_planning(engine, datetime.now(UTC).date(), chunk_size=1)  # every supplier, one row per chunk
    assert report.item_locations == 4 and report.proposals_new == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.inv_runs)).scalar_one() >= 2


def test_many_positions_go_through_copy(pg_client) -> None:
    engine = pg_client.hub.runtime.engine
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        item = conn.execute(select(t.inv_items).where(t.inv_items.c.code == "GLX-200")).one()
        conn.execute(t.inv_locations.insert(), [{"code": f"X{n:03d}", "kind": "store", "created_at": now}
                                                for n in range(300)])
        places = conn.execute(select(t.inv_locations.c.id, t.inv_locations.c.code)
                              .where(t.inv_locations.c.code.like("X%"))).all()
        conn.execute(t.inv_item_locations.insert(), [
            {"item_id": item.id, "location_id": p.id, "supplier_id": item.supplier_id, "item_code": item.code,
             "location_code": p.code} for p in places])
        ids = conn.execute(select(t.inv_item_locations.c.id).where(
            t.inv_item_locations.c.location_code.like("X%"))).scalars().all()
        rows = [{"id": il_id, "planned_on": today, "on_hand": n, "in_transit": 0, "on_order": 0, "avg_daily": 1.5,
                 "days_of_supply": float(n), "min_level": None, "max_level": None, "reorder_level": None,
                 "target_level": None, "stockout_date": None, "flags": "below_min" if n % 2 else "",
                 "demand_source": "history"} for n, il_id in enumerate(ids)]
        write_positions(conn, rows)  # more than 200 rows: COPY into a staging table, one UPDATE … FROM
    with engine.connect() as conn:
        got = dict(conn.execute(select(t.inv_item_locations.c.id, t.inv_item_locations.c.on_hand)
                                .where(t.inv_item_locations.c.id.in_(ids))).all())
    assert {il_id: int(v) for il_id, v in got.items()} == {r["id"]: r["on_hand"] for r in rows}
    page = pg_client.get("/api/v1/inventory", params={"supplier": "globex", "exception": "below_min",
                                                      "location": "X", "sort": "on_hand", "desc": "1",
                                                      "page_size": 10}, headers={"X-Api-Key": KEYS["host"]}).json()
    assert page["total"] == 150 and [r["on_hand"] for r in page["items"]][:3] == [299, 297, 295]
