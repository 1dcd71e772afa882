"""The bullwhip indicator: how much more orders upstream vary than the sales they serve.

``ratio = variance(units ordered per period) / variance(units sold per period)`` over the same
periods, per item and supplier. Above 1, orders amplify demand (the bullwhip effect that
sharing 852 sell-through with the supplier is meant to damp).

* Periods are ``period_days`` long and end on ``as_of``; ``periods`` of them form the window.
* Orders are ``on_order`` movements (850 quantities, 860 deltas) less ``cancelled`` ones, by the
  date they were placed; a period without orders is a real zero (the hub sees every order).
* Sales are spread evenly over the days each covers (852 XQ02–XQ03). A period counts only when
  reported periods cover all its days at every location that reported in the window; otherwise
  both series leave it out, so a missing 852 never looks like a week of zero sales.
* ``None`` when fewer than ``min_periods`` periods count, or sales do not vary at all.
Variances are sample variances (n − 1); the ratio does not depend on that choice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import variance

from crossdock.gateway.inventory.demand import Period
from crossdock.gateway.inventory.ledger import Movement, MovementKind, dedupe
from crossdock.gateway.inventory.proposals import ItemLocationInput

__all__ = ["BullwhipIndicator", "bullwhip_ratio", "bullwhip", "bullwhip_by_item_supplier"]

DEFAULT_PERIOD_DAYS = 7
DEFAULT_PERIODS = 13
DEFAULT_MIN_PERIODS = 4


@dataclass(frozen=True, slots=True)
class BullwhipIndicator:
    """Order variance over sales variance for one item (and supplier) over a window.

    Attributes:
        ratio: order variance / sales variance.
        order_variance: variance of units ordered per period.
        sales_variance: variance of units sold per period.
        periods: periods that counted.
        period_days: length of a period.
        window_start: first day of the window.
        window_end: last day (``as_of``).
    """

    ratio: float
    order_variance: float
    sales_variance: float
    periods: int
    period_days: int
    window_start: date
    window_end: date


def bullwhip_ratio(orders: Sequence[float], sales: Sequence[float],
                   min_periods: int = DEFAULT_MIN_PERIODS) -> float | None:
    """Variance of ``orders`` over variance of ``sales`` (same periods, same length).

    Returns:
        The ratio, or ``None`` with fewer than ``max(2, min_periods)`` periods or constant sales.
    """
    if len(orders) != len(sales) or len(sales) < max(2, min_periods):
        return None
    sales_var = variance(sales)
    if sales_var <= 0:
        return None
    return variance(orders) / sales_var


def bullwhip(orders: Iterable[Movement], sales: Iterable[Movement], as_of: date, *,
             reported_periods: Mapping[str, Iterable[Period]] | None = None,
             period_days: int = DEFAULT_PERIOD_DAYS,
             periods: int = DEFAULT_PERIODS, min_periods: int = DEFAULT_MIN_PERIODS) -> BullwhipIndicator | None:
    """The bullwhip indicator from ledger rows of one item (any locations of one supplier).

    Args:
        orders: movements; ``on_order`` and ``cancelled`` rows are read.
        sales: movements; ``sale`` rows are read (their periods count as reported).
        as_of: last day of the window.
        reported_periods: per location id, further periods known to be reported (sales of zero).
        period_days: length of one period.
        periods: periods in the window.
        min_periods: fewest covered periods for a verdict.

    Returns:
        The indicator, or ``None`` when there is not enough data.
    """
    days = period_days * periods
    start = as_of - timedelta(days=days - 1)
    ordered = [0.0] * days
    sold = [0.0] * days
    covered: dict[str, list[bool]] = defaultdict(lambda: [False] * days)
    for m in dedupe(orders)[0]:
        if m.kind in (MovementKind.ON_ORDER, MovementKind.CANCELLED) and start <= m.effective <= as_of:
            sign = -1.0 if m.kind is MovementKind.CANCELLED else 1.0
            ordered[(m.effective - start).days] += sign * float(m.quantity)
    for m in dedupe(sales)[0]:
        if m.kind is MovementKind.SALE:
            _spread(sold, covered[m.key.location_id], start, m.period_start or m.effective, m.effective,
                    float(m.quantity))
    for location, location_periods in (reported_periods or {}).items():
        for p in location_periods:
            _spread(sold, covered[location], start, p.start, p.end, 0.0)
    order_series, sales_series = _by_period(ordered, sold, covered, period_days)
    ratio = bullwhip_ratio(order_series, sales_series, min_periods)
    if ratio is None:
        return None
    return BullwhipIndicator(ratio, variance(order_series), variance(sales_series), len(sales_series),
                             period_days, start, as_of)


def _spread(sold: list[float], covered: list[bool], start: date, first: date, last: date, qty: float) -> None:
    per_day = qty / ((last - first).days + 1)
    for offset in range(max((first - start).days, 0), min((last - start).days, len(sold) - 1) + 1):
        sold[offset] += per_day
        covered[offset] = True


def _by_period(ordered: list[float], sold: list[float], covered: dict[str, list[bool]],
               period_days: int) -> tuple[list[float], list[float]]:
    reporting = [days for days in covered.values() if any(days)]
    order_series: list[float] = []
    sales_series: list[float] = []
    for lo in range(0, len(sold), period_days):
        hi = lo + period_days
        if reporting and all(all(days[lo:hi]) for days in reporting):
            order_series.append(sum(ordered[lo:hi]))
            sales_series.append(sum(sold[lo:hi]))
    return order_series, sales_series


def bullwhip_by_item_supplier(inputs: Iterable[ItemLocationInput], as_of: date, **options: int
                              ) -> dict[tuple[str, str | None], BullwhipIndicator | None]:
    """The indicator per (item, supplier), pooling that supplier's locations of the item.

    Args:
        inputs: the item-locations (their movements, reported periods and supplier).
        as_of: last day of the window.
        options: ``period_days``, ``periods``, ``min_periods`` for :func:`bullwhip`.

    Returns:
        ``{(item_id, supplier_id): indicator or None}``.
    """
    movements: dict[tuple[str, str | None], list[Movement]] = defaultdict(list)
    periods: dict[tuple[str, str | None], dict[str, list[Period]]] = defaultdict(lambda: defaultdict(list))
    for item in inputs:
        group = (item.key.item_id, item.supplier_id)
        movements[group].extend(item.movements)
        periods[group][item.key.location_id].extend(item.reported_periods)
    return {group: bullwhip(rows, rows, as_of, reported_periods=periods[group], **options)
            for group, rows in movements.items()}
