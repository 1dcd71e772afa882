"""Demand: average daily sales and their deviation from the ledger, and the shared forecast.

Which days count (decided here, on purpose):

* The window is the ``window_days`` ending on ``as_of``.
* A day counts only if some *reported period* covers it: the period of a sale movement
  (852 XQ02–XQ03, or its single day) or a period the location is known to have reported
  (``reported_periods``, from 852 headers) even if this item sold nothing in it. Inside a reported
  period, no sale means zero sales; outside every reported period the day is *unknown* and left
  out, so a missing report never reads as zero demand.
* A sale covering several days is spread evenly over them; a period crossing the window's start
  counts pro rata.
* Overlapping periods are merged into one observation (their sales add up).

Estimators, for observations ``k`` of ``n_k`` days with ``q_k`` sold (days assumed independent):
``mean = Σq / Σn`` and ``σ²_daily = Σ (q_k − n_k·mean)² / n_k / (K − 1)``. With daily reports this
is the ordinary sample variance; with weekly reports it recovers the *daily* deviation
(``σ_week / √7``) instead of the far smaller deviation of evenly spread weekly averages. With
fewer than two observations σ is 0.

Forecast (830, CPFR): with ``use_forecast`` a day covered by a forecast bucket uses the bucket's
quantity spread evenly over its days; firm buckets beat planning ones, then the shorter bucket.
Days without a bucket fall back to the sales average. σ always comes from sales history. A
negative average (returns exceeding sales) is kept in the statistics but planned as zero demand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import groupby
from typing import NamedTuple

from crossdock.gateway.inventory._values import coerce_decimal
from crossdock.gateway.inventory.errors import MovementInvalid
from crossdock.gateway.inventory.ledger import Movement, MovementKind, dedupe
from crossdock.schemas.errors import Issue

__all__ = [
    "Period",
    "ForecastBucket",
    "DemandSource",
    "DemandStats",
    "DemandProfile",
    "demand_stats",
    "demand_profile",
]


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period, both ends inclusive (852 XQ02–XQ03)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not (isinstance(self.start, date) and isinstance(self.end, date)) or self.start > self.end:
            raise MovementInvalid("period invalid", [Issue("PERIOD_INVERTED", "a period needs dates with "
                                                           "start <= end", ("period",))])


@dataclass(frozen=True, slots=True)
class ForecastBucket:
    """One 830 forecast bucket (FST): ``quantity`` over ``start``..``end`` inclusive.

    ``days`` and ``daily_rate`` (the quantity spread evenly) are derived.

    Raises:
        MovementInvalid: dates inverted, or the quantity is not a finite non-negative number.
    """

    start: date
    end: date
    quantity: Decimal
    firm: bool = False
    days: int = field(init=False, default=0, compare=False)
    daily_rate: float = field(init=False, default=0.0, repr=False, compare=False)

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        quantity = coerce_decimal(self.quantity, "quantity", issues)
        if quantity is not None and quantity < 0:
            issues.append(Issue("NEGATIVE", "a forecast quantity cannot be negative", ("quantity",)))
        if not (isinstance(self.start, date) and isinstance(self.end, date)) or self.start > self.end:
            issues.append(Issue("PERIOD_INVERTED", "a bucket needs dates with start <= end", ("start",)))
        if issues or quantity is None:
            raise MovementInvalid(f"forecast bucket invalid: {len(issues)} issue(s)", issues)
        days = (self.end - self.start).days + 1
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "daily_rate", float(quantity) / days)


class DemandSource(StrEnum):
    """Where the planning demand came from."""

    HISTORY = "history"
    FORECAST = "forecast"
    NONE = "none"


class DemandStats(NamedTuple):
    """Sales history over a window.

    A NamedTuple: immutable and cheap to build (one per item-location per run).

    Attributes:
        avg_daily: mean units sold per covered day (0.0 when nothing is covered).
        sigma_daily: estimated standard deviation of daily sales.
        covered_days: days of the window inside a reported period.
        observations: reported periods (after merging overlaps) inside the window.
        window_start: first day of the window.
        window_end: last day (``as_of``).
    """

    avg_daily: float
    sigma_daily: float
    covered_days: int
    observations: int
    window_start: date
    window_end: date

    @property
    def known(self) -> bool:
        """True when at least one day of the window was reported."""
        return self.covered_days > 0


def demand_stats(movements: Iterable[Movement], as_of: date, window_days: int,
                 reported_periods: Iterable[Period] = ()) -> DemandStats:
    """Average and deviation of daily sales over the window ending on ``as_of``.

    Args:
        movements: the item-location's ledger (only ``sale`` rows are read; duplicates count once).
        as_of: last day of the window.
        window_days: length of the window.
        reported_periods: periods the location reported, with or without sales of this item.

    Returns:
        The statistics (rules in the module docstring).
    """
    ledger, _ = dedupe(movements)
    return stats_of_distinct(ledger, as_of, window_days, reported_periods)


_SALE = MovementKind.SALE


def stats_of_distinct(ledger: Iterable[Movement], as_of: date, window_days: int,
                      reported_periods: Iterable[Period] = ()) -> DemandStats:
    """:func:`demand_stats` for movements already deduplicated."""
    start = as_of - timedelta(days=window_days - 1)
    lo, hi = start.toordinal(), as_of.toordinal()
    spans: list[tuple[int, int, float]] = []  # (first day, last day, qty) as ordinals, clipped
    for m in ledger:
        if m.kind is _SALE:
            first, last = m.days
            if lo <= first and last <= hi:
                spans.append((first, last, m.amount))  # the common case: wholly inside
            elif lo <= last <= hi:
                _clip(spans, first, last, m.amount, lo, hi)
    for p in reported_periods:
        _clip(spans, p.start.toordinal(), p.end.toordinal(), 0.0, lo, hi)
    return _estimate(_merge(spans), start, as_of)


def _clip(spans: list[tuple[int, int, float]], first: int, last: int, qty: float, lo: int, hi: int) -> None:
    """Append the part of ``first..last`` inside ``lo..hi``, with its pro-rata quantity."""
    if first >= lo and last <= hi:
        spans.append((first, last, qty))
    elif last >= lo and first <= hi:
        inside_lo, inside_hi = max(first, lo), min(last, hi)
        spans.append((inside_lo, inside_hi, qty * (inside_hi - inside_lo + 1) / (last - first + 1)))


def _merge(spans: list[tuple[int, int, float]]) -> list[tuple[int, float]]:
    """Merge overlapping spans; return (days, qty) per merged observation."""
    spans.sort()
    merged: list[tuple[int, float]] = []
    cur_lo = cur_hi = -1
    cur_q = 0.0
    for lo, hi, q in spans:
        if lo > cur_hi:
            if cur_hi >= 0:
                merged.append((cur_hi - cur_lo + 1, cur_q))
            cur_lo, cur_hi, cur_q = lo, hi, q
        else:
            cur_hi, cur_q = max(cur_hi, hi), cur_q + q
    if cur_hi >= 0:
        merged.append((cur_hi - cur_lo + 1, cur_q))
    return merged


def _estimate(observations: list[tuple[int, float]], start: date, end: date) -> DemandStats:
    days = 0
    total = 0.0
    for n, q in observations:
        days += n
        total += q
    if days == 0:
        return DemandStats(0.0, 0.0, 0, 0, start, end)
    mean = total / days
    count = len(observations)
    sigma = 0.0
    if count > 1:
        variance = sum((q - n * mean) ** 2 / n for n, q in observations) / (count - 1)
        sigma = variance ** 0.5
    return DemandStats(mean, sigma, days, count, start, end)


class DemandProfile(NamedTuple):
    """Planned demand per projected day, as runs of a constant daily rate.

    A NamedTuple: immutable and cheap to build (one per item-location per run).

    Day 1 is the day after ``today``; runs cover days 1..horizon without gaps.

    Attributes:
        runs: ``(first_day, last_day, daily_rate)`` in day order.
        average: mean daily rate over the horizon (the rate levels are set from).
        source: ``forecast`` when any day came from a bucket, ``history`` when from sales,
            ``none`` when neither was known (the rate is then 0).
    """

    runs: tuple[tuple[int, int, float], ...]
    average: float
    source: DemandSource

    def total(self, days: int) -> float:
        """Planned demand over days 1..``days``."""
        total = 0.0
        for first, last, rate in self.runs:
            if first > days:
                break
            total += rate * (min(last, days) - first + 1)
        return total


def demand_profile(stats: DemandStats, forecast: Iterable[ForecastBucket], today: date,
                   horizon_days: int, use_forecast: bool) -> DemandProfile:
    """The daily demand to project with: the sales average, or the forecast where it has buckets.

    Args:
        stats: sales history.
        forecast: 830 buckets for the item-location.
        today: day 0; day 1 is tomorrow.
        horizon_days: days to cover.
        use_forecast: the agreement says the shared forecast wins (CPFR).

    Returns:
        The profile.
    """
    history = DemandSource.HISTORY if stats.known else DemandSource.NONE
    # Returns exceeding sales make a negative average: plan that as no demand.
    average = max(stats.avg_daily, 0.0)
    buckets = list(forecast) if use_forecast else []
    if not buckets:
        return DemandProfile(((1, horizon_days, average),), average, history)
    rates = _paint(buckets, today, horizon_days)
    source = DemandSource.FORECAST if any(r is not None for r in rates) else history
    values = [average if r is None else r for r in rates]
    return DemandProfile(_runs(values), sum(values) / horizon_days, source)


def _paint(buckets: list[ForecastBucket], today: date, horizon: int) -> list[float | None]:
    """Per-day forecast rate for days 1..horizon (``None`` where no bucket covers the day)."""
    rates: list[float | None] = [None] * horizon
    # Paint weakest first so that the strongest bucket (firm, then shortest) is painted last.
    for b in sorted(buckets, key=lambda b: (b.firm, -b.days, b.start, b.quantity)):
        first = max((b.start - today).days, 1)
        last = min((b.end - today).days, horizon)
        if first <= last:
            rates[first - 1:last] = [b.daily_rate] * (last - first + 1)
    return rates


def _runs(rates: list[float]) -> tuple[tuple[int, int, float], ...]:
    runs: list[tuple[int, int, float]] = []
    first = 1
    for rate, days in groupby(rates):
        last = first + sum(1 for _ in days) - 1
        runs.append((first, last, rate))
        first = last + 1
    return tuple(runs)
