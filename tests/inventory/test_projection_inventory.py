"""Levels and the projected available balance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossdock.gateway.inventory import (
    NO_DEMAND_DAYS_OF_SUPPLY,
    DemandProfile,
    DemandSource,
    DemandStats,
    ReplenishmentPolicy,
    days_of_supply,
    demand_stats,
    levels,
    position,
)
from crossdock.gateway.inventory.projection import (
    balance_on,
    first_day_below,
    project,
    receipt_days,
    segments,
)

TODAY = date(2025, 5, 10)


def at(n: int) -> date:
    return TODAY + timedelta(days=n)


def flat(avg: float, horizon: int = 28) -> DemandProfile:
    return DemandProfile(((1, horizon, avg),), avg, DemandSource.HISTORY)


def test_safety_stock_from_service_level_matches_the_hand_computed_value(mv) -> None:
    # σ_daily² = 14 (two weeks of 56 and 70), z(0.95) = 1.644854, L = 9: SS = 1.644854 × 3.741657 × 3.
    ledger = [mv("sale", 56, at(-7), "w1", period_start=at(-13)), mv("sale", 70, at(0), "w2", period_start=at(-6))]
    stats = demand_stats(ledger, TODAY, 56)
    policy = ReplenishmentPolicy("reorder_point", service_level=0.95, lead_time_days=9, review_period_days=7)
    lv = levels(policy, 100.0, stats, flat(stats.avg_daily))
    assert lv.safety_stock == pytest.approx(18.4634, abs=1e-4)
    assert lv.reorder_point == pytest.approx(9 * 9 + 18.4634, abs=1e-4)
    assert lv.trigger == lv.reorder_point and not lv.trigger_is_min
    assert lv.target == pytest.approx(lv.reorder_point + 9 * 7)  # order-up-to: one review period more


STATS = DemandStats(8.0, 2.0, 28, 4, at(-27), TODAY)

# (policy fields, expected (safety stock, reorder point, trigger, target, min level, max level))
LEVEL_CASES = [
    ({"method": "min_max", "min_qty": 30, "max_qty": 90, "lead_time_days": 4}, (0, 32, 30, 90, 30, 90)),
    ({"method": "reorder_point", "reorder_point": 50, "max_qty": 120}, (0, 50, 50, 120, None, 120)),
    ({"method": "reorder_point", "safety_stock_qty": 10, "lead_time_days": 5, "review_period_days": 7},
     (10, 50, 50, 106, None, None)),
    ({"method": "reorder_point", "safety_stock_days": 2, "lead_time_days": 5}, (16, 56, 56, 112, None, None)),
    ({"method": "days_of_supply", "target_days_of_supply": 20, "min_days_of_supply": 5},
     (0, 0, 40, 160, 40, 160)),
    ({"method": "days_of_supply", "target_days_of_supply": 20, "lead_time_days": 3, "safety_stock_qty": 6},
     (6, 30, 30, 160, None, 160)),
    ({"method": "days_of_supply", "target_days_of_supply": 2, "lead_time_days": 5}, (0, 40, 40, 40, None, 16)),
]


@pytest.mark.parametrize(("fields", "expected"), LEVEL_CASES)
def test_levels_per_method(fields, expected) -> None:
    lv = levels(ReplenishmentPolicy(**fields), 40.0, STATS, flat(8.0))
    assert (lv.safety_stock, lv.reorder_point, lv.trigger, lv.target, lv.min_level, lv.max_level) == expected
    assert lv.days_of_supply == 5.0


def test_dynamic_levels_are_unknown_without_demand() -> None:
    policy = ReplenishmentPolicy("days_of_supply", target_days_of_supply=20)
    unknown = DemandProfile(((1, 28, 0.0),), 0.0, DemandSource.NONE)
    lv = levels(policy, 40.0, DemandStats(0.0, 0.0, 0, 0, at(-27), TODAY), unknown)
    assert (lv.min_level, lv.max_level, lv.days_of_supply) == (None, None, NO_DEMAND_DAYS_OF_SUPPLY)


@pytest.mark.parametrize(("on_hand", "avg", "expected"),
                         [(40, 8.0, 5.0), (40, 0.0, 9999.0), (0, 8.0, 0.0), (-3, 0.0, 0.0), (10**9, 0.001, 9999.0)])
def test_days_of_supply(on_hand, avg, expected) -> None:
    assert days_of_supply(float(on_hand), avg) == expected


def test_scheduled_receipts_land_on_their_days(mv) -> None:
    ledger = [
        mv("on_order", 10, at(-3), "po1", order_ref="PO1", due=at(5)),
        mv("on_order", 20, at(-2), "po2", order_ref="PO2"),  # no date: ordered + lead time (7) = day 5
        mv("on_order", 40, at(-9), "po3", order_ref="PO3", due=at(-1)),  # overdue: day 1
        mv("on_order", 8, at(0), "po4", order_ref="PO4", due=at(40)),  # beyond the horizon
        mv("shipped", 5, at(0), "asn", order_ref="PO5"),  # in transit without a date: day 1
    ]
    policy = ReplenishmentPolicy("min_max", min_qty=1, max_qty=2, lead_time_days=7)
    assert receipt_days(position(ledger, TODAY), policy, TODAY) == {1: 45.0, 5: 30.0}


def test_balances_follow_receipts_and_demand() -> None:
    segs = segments(20.0, {3: 50.0}, flat(10.0, 6), 6)
    projection = project(segs, {3: 50.0}, flat(10.0, 6), TODAY, 6)
    assert projection.balances == (10.0, 0.0, 40.0, 30.0, 20.0, 10.0)
    assert projection.receipts == (0.0, 0.0, 50.0, 0.0, 0.0, 0.0)
    assert projection.dates()[0] == at(1)
    assert first_day_below(segs, 15.0, 6) == 1
    assert first_day_below(segs, 1e-9, 6) == 2  # stock-out: at or below zero
    assert first_day_below(segs, 5.0, 6) == 2
    assert first_day_below(segs, 5.0, 1) is None


@settings(max_examples=200, deadline=None)
@given(
    on_hand=st.integers(-20, 300),
    receipts=st.dictionaries(st.integers(1, 28), st.integers(1, 200), max_size=4),
    rates=st.lists(st.tuples(st.integers(1, 10), st.sampled_from([0.0, 0.5, 1.0, 3.0, 7.25, 12.0])),
                   min_size=1, max_size=4),
    threshold=st.floats(-10, 250),
    last_day=st.integers(1, 28),
)
def test_property_the_solved_crossing_day_is_the_first_day_below(on_hand, receipts, rates, threshold, last_day) -> None:
    runs, first = [], 1
    for length, rate in rates:
        runs.append((first, min(first + length - 1, 28), rate))
        first += length
        if first > 28:
            break
    runs[-1] = (runs[-1][0], 28, runs[-1][2])
    profile = DemandProfile(tuple(runs), 0.0, DemandSource.FORECAST)
    floats = {d: float(q) for d, q in receipts.items()}
    segs = segments(float(on_hand), floats, profile, 28)
    balances = project(segs, floats, profile, TODAY, 28).balances
    # the definition: on hand + receipts so far − demand so far
    demand = [rate for a, b, rate in runs for _ in range(a, b + 1)]
    for d in range(1, 29):
        assert balances[d - 1] == pytest.approx(on_hand + sum(q for r, q in floats.items() if r <= d)
                                                - sum(demand[:d]))
        assert balance_on(segs, d) == balances[d - 1]
    scanned = next((d for d in range(1, last_day + 1) if balances[d - 1] < threshold), None)
    assert first_day_below(segs, threshold, last_day) == scanned
