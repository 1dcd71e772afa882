"""Demand: averages and deviations over reported days, and the forecast override."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crossdock.gateway.inventory import (
    DemandSource,
    DemandStats,
    ForecastBucket,
    MovementInvalid,
    Period,
    demand_profile,
    demand_stats,
)

AS_OF = date(2025, 4, 30)


def back(n: int) -> date:
    return AS_OF - timedelta(days=n)


def test_daily_reports_give_the_sample_mean_and_deviation(mv) -> None:
    sales = [4, 8, 6, 2, 10]
    ledger = [mv("sale", q, back(i), f"d{i}") for i, q in enumerate(sales)]
    stats = demand_stats(ledger, AS_OF, window_days=28)
    assert (stats.covered_days, stats.observations) == (5, 5)
    assert stats.avg_daily == pytest.approx(6.0)
    assert stats.sigma_daily == pytest.approx(math.sqrt(10.0))  # Σ(x−6)² = 40, / (5 − 1)


def test_weekly_reports_are_spread_and_give_the_daily_deviation(mv) -> None:
    # Weeks of 56 and 70 units: mean 9/day; Σ (q − 7·9)² / 7 = 7 + 7 → σ² = 14 (daily, not 1/7 of it).
    ledger = [mv("sale", 56, back(7), "w1", period_start=back(13)), mv("sale", 70, back(0), "w2", period_start=back(6))]
    stats = demand_stats(ledger, AS_OF, window_days=56)
    assert (stats.avg_daily, stats.covered_days, stats.observations) == (9.0, 14, 2)
    assert stats.sigma_daily == pytest.approx(math.sqrt(14.0))


def test_days_outside_reported_periods_are_unknown_not_zero(mv) -> None:
    # Only one week reported in a 28-day window: the average is that week's, not a quarter of it.
    ledger = [mv("sale", 70, back(0), "w", period_start=back(6))]
    assert demand_stats(ledger, AS_OF, window_days=28).avg_daily == 10.0


def test_a_reported_period_without_sales_of_the_item_counts_as_zero(mv) -> None:
    ledger = [mv("sale", 70, back(0), "w", period_start=back(6))]
    quiet_week = Period(back(13), back(7))
    stats = demand_stats(ledger, AS_OF, window_days=28, reported_periods=[quiet_week])
    assert (stats.avg_daily, stats.covered_days, stats.observations) == (5.0, 14, 2)


def test_a_period_crossing_the_window_start_counts_pro_rata(mv) -> None:
    ledger = [mv("sale", 70, back(3), "w", period_start=back(9))]  # 7 days, 3 of them before the window
    stats = demand_stats(ledger, AS_OF, window_days=7)
    assert (stats.covered_days, stats.avg_daily) == (4, 10.0)


def test_overlapping_periods_merge_into_one_observation(mv) -> None:
    ledger = [mv("sale", 30, back(0), "a", period_start=back(2)), mv("sale", 12, back(1), "b", period_start=back(4))]
    stats = demand_stats(ledger, AS_OF, window_days=28)
    assert (stats.covered_days, stats.observations, stats.avg_daily) == (5, 1, 42 / 5)


def test_no_reports_means_unknown_demand(mv) -> None:
    stats = demand_stats([mv("sale", 5, back(40), "old")], AS_OF, window_days=28)
    assert (stats.known, stats.avg_daily, stats.sigma_daily) == (False, 0.0, 0.0)


def _stats(avg: float) -> DemandStats:
    return DemandStats(avg, 0.0, 28, 4, back(27), AS_OF)


def test_without_use_forecast_the_forecast_is_ignored() -> None:
    bucket = ForecastBucket(AS_OF + timedelta(days=1), AS_OF + timedelta(days=7), Decimal(700))
    profile = demand_profile(_stats(3.0), [bucket], AS_OF, 28, use_forecast=False)
    assert (profile.runs, profile.average, profile.source) == (((1, 28, 3.0),), 3.0, DemandSource.HISTORY)


def test_net_returns_are_reported_but_planned_as_no_demand(mv) -> None:
    ledger = [mv("sale", 5, back(1), "s"), mv("sale", -19, back(0), "r")]
    stats = demand_stats(ledger, AS_OF, window_days=28)
    assert stats.avg_daily == -7.0
    assert demand_profile(stats, [], AS_OF, 28, use_forecast=False).runs == ((1, 28, 0.0),)


def test_the_forecast_overrides_history_where_it_has_buckets() -> None:
    week1 = ForecastBucket(AS_OF + timedelta(days=1), AS_OF + timedelta(days=7), Decimal(70), firm=True)
    week2 = ForecastBucket(AS_OF + timedelta(days=8), AS_OF + timedelta(days=14), Decimal(140))
    profile = demand_profile(_stats(3.0), [week2, week1], AS_OF, 21, use_forecast=True)
    assert profile.runs == ((1, 7, 10.0), (8, 14, 20.0), (15, 21, 3.0))
    assert profile.source is DemandSource.FORECAST
    assert profile.average == pytest.approx((70 + 140 + 21) / 21)
    assert profile.total(10) == pytest.approx(70 + 60)


def test_firm_buckets_beat_planning_buckets_and_shorter_beats_longer() -> None:
    month = ForecastBucket(AS_OF + timedelta(days=1), AS_OF + timedelta(days=28), Decimal(280))  # 10/day
    week = ForecastBucket(AS_OF + timedelta(days=1), AS_OF + timedelta(days=7), Decimal(140))  # 20/day
    firm = ForecastBucket(AS_OF + timedelta(days=3), AS_OF + timedelta(days=28), Decimal(26), firm=True)  # 1/day
    profile = demand_profile(_stats(0.0), [firm, month, week], AS_OF, 28, use_forecast=True)
    assert profile.runs == ((1, 2, 20.0), (3, 28, 1.0))


def test_forecast_buckets_are_validated() -> None:
    with pytest.raises(MovementInvalid) as caught:
        ForecastBucket(AS_OF, AS_OF - timedelta(days=1), Decimal(-5))
    assert [i.code for i in caught.value.issues] == ["NEGATIVE", "PERIOD_INVERTED"]
