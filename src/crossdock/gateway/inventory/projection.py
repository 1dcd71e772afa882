"""Projected available balance, stock levels and the days they are crossed.

Day ``i`` (1..horizon) is ``today + i``; the balance is at the end of that day::

    balance(i) = on_hand + scheduled receipts due on or before day i − planned demand of days 1..i

Scheduled receipts come from the position: in-transit shipments at their estimated delivery
(none given: day 1), open orders at the promised (855) or requested (850) date, or the order date
plus the lead time when no date was sent. Anything due today or earlier arrives on day 1.

Between two *breakpoints* (a receipt, or a change of daily demand) the balance falls linearly,
so the balance is kept as a few segments and the first day below a level is solved per segment
(one division each), not found by walking the days. :func:`project` expands the same segments
day by day for display; both use one formula, so they agree exactly.

Levels (see :mod:`.policy` for the trigger and target of each method):

* safety stock: fixed quantity, fixed days × average demand, or ``z × σ_daily × √lead_time``;
* reorder point: planned demand over the lead time + safety stock (unless fixed);
* target: never below the trigger, so a crossing always yields a positive order;
* days of supply: on hand / average daily demand; 9999 when demand is zero (SAP APO), 0 when
  nothing is on hand.

A level is *crossed* on the first day the balance is below it (strictly); a *stock-out* is the
first day the balance is at or below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from crossdock.gateway.inventory.demand import DemandProfile, DemandSource, DemandStats
from crossdock.gateway.inventory.ledger import Position
from crossdock.gateway.inventory.policy import PolicyMethod, ReplenishmentPolicy

__all__ = [
    "NO_DEMAND_DAYS_OF_SUPPLY",
    "Levels",
    "Projection",
    "Segment",
    "levels",
    "days_of_supply",
    "receipt_days",
    "segments",
    "first_day_below",
    "balance_on",
    "project",
]

NO_DEMAND_DAYS_OF_SUPPLY = 9999.0
# Float slack when comparing planned balances (sums of Decimal quantities and float rates).
EPSILON = 1e-9

Segment = tuple[int, int, float, float]
"""``(first_day, end_day_exclusive, balance_on_first_day, daily_rate)``."""


class Levels(NamedTuple):
    """The stock levels an item-location is planned against (quantities; demand is an estimate).

    A NamedTuple: immutable and cheap to build (one per item-location per run).

    Attributes:
        avg_daily: planning demand per day (forecast or sales average).
        sigma_daily: deviation of daily sales.
        safety_stock: buffer for demand variability.
        reorder_point: planned lead-time demand + safety stock, or the fixed value.
        trigger: reorder when the projected balance falls below this.
        trigger_is_min: the trigger is a minimum (``BELOW_MIN``), not a reorder point.
        target: order up to this.
        min_level: the minimum for the ``below_min`` flag, ``None`` when there is none.
        max_level: the maximum for the ``above_max`` flag, ``None`` when there is none.
        days_of_supply: on hand / average daily demand.
    """

    avg_daily: float
    sigma_daily: float
    safety_stock: float
    reorder_point: float
    trigger: float
    trigger_is_min: bool
    target: float
    min_level: float | None
    max_level: float | None
    days_of_supply: float


def levels(policy: ReplenishmentPolicy, on_hand: float, stats: DemandStats, profile: DemandProfile) -> Levels:
    """Safety stock, reorder point, trigger, target and days of supply.

    Args:
        policy: the item-location's policy.
        on_hand: current on hand.
        stats: sales history (σ).
        profile: planned daily demand (average and lead-time total).

    Returns:
        The levels.
    """
    avg = profile.average
    known = profile.source is not DemandSource.NONE
    numbers = policy.floats
    safety = _safety_stock(policy, avg, stats.sigma_daily)
    rop = numbers.reorder_point if numbers.reorder_point is not None else \
        profile.total(policy.lead_time_days) + safety
    min_level, max_level = _min_max(policy, avg, known)
    trigger, trigger_is_min = rop, False
    if policy.method is PolicyMethod.MIN_MAX or (
            policy.method is PolicyMethod.DAYS_OF_SUPPLY and numbers.min_days_of_supply is not None):
        trigger, trigger_is_min = min_level or 0.0, True
    target = _target(policy, rop, avg)
    return Levels(avg, stats.sigma_daily, safety, rop, trigger, trigger_is_min, max(target, trigger),
                  min_level, max_level, days_of_supply(on_hand, avg))


def _safety_stock(policy: ReplenishmentPolicy, avg: float, sigma: float) -> float:
    numbers = policy.floats
    if numbers.safety_stock_qty is not None:
        return numbers.safety_stock_qty
    if numbers.safety_stock_days is not None:
        return numbers.safety_stock_days * avg
    if policy.service_level is not None:
        return max(0.0, policy.z * sigma * policy.lead_time_days ** 0.5)
    return 0.0


def _min_max(policy: ReplenishmentPolicy, avg: float, known: bool) -> tuple[float | None, float | None]:
    """Minimum and maximum stock: days × demand for ``days_of_supply``, else the fixed values."""
    numbers = policy.floats
    if policy.method is not PolicyMethod.DAYS_OF_SUPPLY:
        return numbers.min_qty, numbers.max_qty
    if not known:
        # Unknown demand leaves dynamic levels unknown rather than zero (no false above_max).
        return None, None
    low = numbers.min_days_of_supply * avg if numbers.min_days_of_supply is not None else None
    return low, (numbers.target_days_of_supply or 0.0) * avg


def _target(policy: ReplenishmentPolicy, rop: float, avg: float) -> float:
    numbers = policy.floats
    if policy.method is PolicyMethod.DAYS_OF_SUPPLY:
        return (numbers.target_days_of_supply or 0.0) * avg
    if numbers.max_qty is not None:
        return numbers.max_qty
    # Periodic review order-up-to level: cover lead time and one review period, plus safety stock.
    return rop + avg * policy.review_period_days


def days_of_supply(on_hand: float, avg_daily: float) -> float:
    """On hand / average daily demand; 9999 with no demand, 0 with nothing on hand."""
    if on_hand <= 0:
        return 0.0
    if avg_daily <= 0:
        return NO_DEMAND_DAYS_OF_SUPPLY
    return min(on_hand / avg_daily, NO_DEMAND_DAYS_OF_SUPPLY)


def receipt_days(pos: Position, policy: ReplenishmentPolicy, today: date) -> dict[int, float]:
    """Scheduled receipts by projected day (rules in the module docstring).

    Args:
        pos: the position (its ``receipts``).
        policy: gives the lead time for orders sent without a date.
        today: day 0.

    Returns:
        ``{day: quantity}`` for days 1..horizon.
    """
    horizon = policy.horizon_days
    lead = timedelta(days=policy.lead_time_days)
    by_day: dict[int, float] = {}
    for r in pos.receipts:
        due = r.due
        if due is None and r.status == "on_order":
            due = (r.order_date or today) + lead
        day = max((due - today).days, 1) if due is not None else 1
        if day <= horizon:
            by_day[day] = by_day.get(day, 0.0) + float(r.quantity)
    return by_day


def segments(on_hand: float, receipts: dict[int, float], profile: DemandProfile, horizon: int) -> list[Segment]:
    """The projected balance as linear segments over days 1..horizon.

    Args:
        on_hand: the starting balance (day 0).
        receipts: ``{day: quantity}`` from :func:`receipt_days`.
        profile: planned daily demand.
        horizon: last day.

    Returns:
        Segments ``(first_day, end_day_exclusive, balance_on_first_day, daily_rate)``.
    """
    runs = profile.runs
    if not receipts and len(runs) == 1:
        rate = runs[0][2]
        return [(1, horizon + 1, on_hand - rate, rate)]
    starts = sorted({run[0] for run in runs} | receipts.keys())
    run = 0
    balance = on_hand  # at the end of the day before the segment
    result: list[Segment] = []
    for index, first in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else horizon + 1
        while runs[run][1] < first:
            run += 1
        rate = runs[run][2]
        start_balance = balance + receipts.get(first, 0.0) - rate
        result.append((first, end, start_balance, rate))
        balance = start_balance - rate * (end - 1 - first)
    return result


def first_day_below(segs: list[Segment], threshold: float, last_day: int) -> int | None:
    """The first day in 1..``last_day`` whose balance is below ``threshold``.

    Solved per segment: on a segment starting at ``a`` with balance ``B`` falling ``r`` a day,
    the first ``k`` with ``B − r·k < threshold`` is ``floor((B − threshold) / r) + 1``.

    Returns:
        The day number, or ``None`` when the balance stays at or above ``threshold``.
    """
    for first, end, start_balance, rate in segs:
        if first > last_day:
            return None
        if start_balance < threshold:
            return first
        if rate > 0:
            k = int((start_balance - threshold) / rate) + 1
            # The division is in floats: settle k on the exact same expression the days use.
            while k > 1 and start_balance - rate * (k - 1) < threshold:
                k -= 1
            while start_balance - rate * k >= threshold:
                k += 1
            if first + k < end:
                return first + k if first + k <= last_day else None
    return None


def balance_on(segs: list[Segment], day: int) -> float:
    """The projected balance at the end of ``day`` (1..horizon)."""
    for first, end, start_balance, rate in segs:
        if first <= day < end:
            return start_balance - rate * (day - first)
    raise ValueError(f"day {day} is outside the projection")


@dataclass(frozen=True, slots=True)
class Projection:
    """The projected available balance day by day, for display.

    Attributes:
        start: the date of day 1 (tomorrow).
        balances: end-of-day balance for days 1..horizon.
        receipts: scheduled receipts per day.
        demand: planned demand per day.
    """

    start: date
    balances: tuple[float, ...]
    receipts: tuple[float, ...]
    demand: tuple[float, ...]

    def dates(self) -> tuple[date, ...]:
        """The date of each day."""
        return tuple(self.start + timedelta(days=i) for i in range(len(self.balances)))


def project(segs: list[Segment], receipts: dict[int, float], profile: DemandProfile, today: date,
            horizon: int) -> Projection:
    """Expand segments into per-day figures.

    Args:
        segs: from :func:`segments`.
        receipts: from :func:`receipt_days`.
        profile: planned daily demand.
        today: day 0.
        horizon: days to show.

    Returns:
        The projection.
    """
    balances = [start_balance - rate * (day - first)
                for first, end, start_balance, rate in segs for day in range(first, end)]
    demand = [rate for first, last, rate in profile.runs for _ in range(first, last + 1)]
    return Projection(today + timedelta(days=1), tuple(balances),
                      tuple(receipts.get(day, 0.0) for day in range(1, horizon + 1)), tuple(demand))
