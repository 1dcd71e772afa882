"""The bullwhip indicator: order variance over sales variance."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crossdock.gateway.inventory import (
    ItemLocationInput,
    ItemLocationKey,
    Period,
    ReplenishmentPolicy,
    bullwhip,
    bullwhip_by_item_supplier,
    bullwhip_ratio,
)

AS_OF = date(2025, 7, 6)
WEEKLY_SALES = [18, 22, 18, 22, 18, 22]   # variance 4.8
WEEKLY_ORDERS = [10, 30, 10, 30, 10, 30]  # variance 120


def week_end(w: int) -> date:
    """End of week ``w`` counting back from AS_OF (week 0 ends on AS_OF)."""
    return AS_OF - timedelta(days=7 * w)


@pytest.mark.parametrize(("orders", "sales", "expected"), [
    ([10, 30, 10, 30], [18, 22, 18, 22], 25.0),
    ([20, 20, 20, 20], [18, 22, 18, 22], 0.0),
    ([10, 30, 10], [18, 22, 18], None),          # fewer than 4 periods
    ([10, 30, 10, 30], [20, 20, 20, 20], None),  # sales do not vary
])
def test_bullwhip_ratio_on_known_series(orders, sales, expected) -> None:
    assert bullwhip_ratio(orders, sales) == (None if expected is None else pytest.approx(expected))


def _history(mv, location: str = "STORE-1", skip_week: int | None = None) -> list:
    key = ItemLocationKey("SKU-1", location)
    rows = []
    for w, (sold, ordered) in enumerate(zip(reversed(WEEKLY_SALES), reversed(WEEKLY_ORDERS), strict=True)):
        if w != skip_week:
            rows.append(mv("sale", sold, week_end(w), f"852-{location}-{w}", period_start=week_end(w) - timedelta(6),
                           key=key))
        rows.append(mv("on_order", ordered, week_end(w) - timedelta(days=3), f"850-{location}-{w}",
                       order_ref=f"PO-{location}-{w}", key=key))
    return rows


def test_bullwhip_from_the_ledger(mv) -> None:
    rows = _history(mv)
    indicator = bullwhip(rows, rows, AS_OF, periods=6)
    assert indicator is not None
    assert (indicator.ratio, indicator.periods) == (pytest.approx(25.0), 6)
    assert (indicator.order_variance, indicator.sales_variance) == (pytest.approx(120.0), pytest.approx(4.8))
    assert indicator.window_start == AS_OF - timedelta(days=41)


def test_cancellations_reduce_orders_and_replays_count_once(mv) -> None:
    rows = _history(mv)
    rows += rows[:4]
    rows.append(mv("cancelled", 20, week_end(0) - timedelta(days=1), "860-x", order_ref="PO-STORE-1-0"))
    indicator = bullwhip(rows, rows, AS_OF, periods=6)
    assert indicator is not None  # week 0 orders 30 − 20 = 10: orders become 10,30,10,30,10,10
    assert indicator.order_variance == pytest.approx(320 / 3)  # mean 50/3; (4·(20/3)² + 2·(40/3)²) / 5


def test_a_week_without_an_852_is_left_out_of_both_series(mv) -> None:
    rows = _history(mv, skip_week=1)
    indicator = bullwhip(rows, rows, AS_OF, periods=6)
    assert indicator is not None and indicator.periods == 5
    assert bullwhip(rows, rows, AS_OF, periods=6, reported_periods={"STORE-1": [
        Period(week_end(1) - timedelta(days=6), week_end(1))]}).periods == 6


def test_not_enough_data_gives_none(mv) -> None:
    rows = _history(mv)[:4]
    assert bullwhip(rows, rows, AS_OF, periods=6) is None
    assert bullwhip([], [], AS_OF) is None


def test_indicator_per_item_and_supplier_pools_locations(mv) -> None:
    policy = ReplenishmentPolicy("min_max", min_qty=Decimal(1), max_qty=Decimal(2))
    inputs = [
        ItemLocationInput(ItemLocationKey("SKU-1", store), policy, tuple(_history(mv, store)), supplier_id="SUP-A")
        for store in ("STORE-1", "STORE-2")
    ]
    result = bullwhip_by_item_supplier(inputs, AS_OF, periods=6)
    assert list(result) == [("SKU-1", "SUP-A")]
    indicator = result[("SKU-1", "SUP-A")]
    assert indicator is not None  # both series double: the ratio stays 25
    assert (indicator.ratio, indicator.sales_variance) == (pytest.approx(25.0), pytest.approx(19.2))
