"""Replenishment proposals: when the projected balance will cross the trigger, order up to target.

For one item-location (:func:`plan_item`):

1. position from the ledger, sales statistics, planned daily demand (:mod:`.ledger`, :mod:`.demand`);
2. levels and the projected balance as segments (:mod:`.projection`);
3. the *review horizon* is ``lead_time + review_period`` days (at least 1, at most the projection
   horizon): a crossing later than that is left to a later run, which will see fresher data;
4. if the balance falls below the trigger on day ``n`` of the review horizon:

   * needed-by = ``today + n``; order-by = needed-by − lead time, not before today
     (``expedite`` when it would have been);
   * quantity = target − projected balance on day ``n``, at least the minimum order quantity,
     rounded **up** to the pack/lot multiple.

Reasons are data: the trigger crossed (``BELOW_MIN`` or ``BELOW_REORDER_POINT``, with the
needed-by date), ``PROJECTED_STOCKOUT`` (with its date) and ``OUT_OF_STOCK`` (today).
Exception flags describe today and the projection whether or not an order is proposed.

:func:`run_replenishment` plans many item-locations; it walks no day-by-day loop, so 100,000
item-locations take seconds (``benchmarks/replenishment_engine.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from crossdock.gateway.inventory.demand import (
    DemandSource,
    DemandStats,
    ForecastBucket,
    Period,
    demand_profile,
    stats_of_distinct,
)
from crossdock.gateway.inventory.errors import MovementInvalid
from crossdock.gateway.inventory.ledger import (
    ItemLocationKey,
    Movement,
    Position,
    dedupe,
    position_of_distinct,
    slot_setters,
)
from crossdock.gateway.inventory.policy import ReplenishmentPolicy
from crossdock.gateway.inventory.projection import (
    EPSILON,
    Levels,
    Projection,
    balance_on,
    first_day_below,
    levels,
    project,
    receipt_days,
    segments,
)
from crossdock.schemas.errors import Issue

__all__ = [
    "ItemLocationInput",
    "ReasonCode",
    "Reason",
    "ExceptionFlag",
    "Proposal",
    "ItemPlan",
    "round_order_quantity",
    "plan_item",
    "plan_all",
    "run_replenishment",
]


@dataclass(frozen=True, slots=True)
class ItemLocationInput:
    """Everything the engine needs for one item-location (loaded from the store by the caller).

    Attributes:
        key: the item-location.
        policy: its replenishment policy.
        movements: its ledger rows (any order; replays are harmless).
        forecast: 830 buckets for it (used when ``policy.use_forecast``).
        reported_periods: periods its location reported sales for, with or without this item.
        supplier_id: the supplier that replenishes it (for proposals and the bullwhip indicator).

    Raises:
        MovementInvalid: a movement belongs to another item-location.
    """

    key: ItemLocationKey
    policy: ReplenishmentPolicy
    movements: tuple[Movement, ...] = ()
    forecast: tuple[ForecastBucket, ...] = ()
    reported_periods: tuple[Period, ...] = ()
    supplier_id: str | None = None

    def __post_init__(self) -> None:
        key = ItemLocationKey(*self.key)
        object.__setattr__(self, "key", key)
        for name in ("movements", "forecast", "reported_periods"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        foreign = [Issue("FOREIGN_MOVEMENT", "movement of another item-location", ("movements", i))
                   for i, m in enumerate(self.movements) if m.key != key]
        if foreign:
            raise MovementInvalid(f"{len(foreign)} movement(s) of another item-location", foreign)

    @classmethod
    def loaded(cls, key: ItemLocationKey, policy: ReplenishmentPolicy, movements: tuple[Movement, ...],
               forecast: tuple[ForecastBucket, ...], reported_periods: tuple[Period, ...],
               supplier_id: str | None) -> ItemLocationInput:
        """An input assembled by the store from rows it selected by item-location.

        Skips ``__post_init__``: the caller passes an :class:`ItemLocationKey` and tuples, and every
        movement was built with that same key, so there is nothing to convert or check (a planning
        run builds one input per item-location).

        Returns:
            The input, equal to one built by ``__init__`` from the same values.
        """
        item = object.__new__(cls)
        _set_input_key(item, key)
        _set_input_policy(item, policy)
        _set_input_movements(item, movements)
        _set_input_forecast(item, forecast)
        _set_input_periods(item, reported_periods)
        _set_input_supplier(item, supplier_id)
        return item


(_set_input_key, _set_input_policy, _set_input_movements, _set_input_forecast, _set_input_periods,
 _set_input_supplier) = slot_setters(ItemLocationInput, "key", "policy", "movements", "forecast", "reported_periods",
                                     "supplier_id")


class ReasonCode(StrEnum):
    BELOW_MIN = "BELOW_MIN"
    BELOW_REORDER_POINT = "BELOW_REORDER_POINT"
    PROJECTED_STOCKOUT = "PROJECTED_STOCKOUT"
    OUT_OF_STOCK = "OUT_OF_STOCK"


class Reason(NamedTuple):
    """Why an order is proposed, with the date it applies to.

    A NamedTuple: immutable and cheap to build (one per item-location per run).
    """

    code: ReasonCode
    date: date


class ExceptionFlag(StrEnum):
    """What a supplier portal highlights for an item-location."""

    OUT_OF_STOCK = "out_of_stock"              # on hand <= 0 today
    BELOW_MIN = "below_min"                    # on hand < minimum today
    ABOVE_MAX = "above_max"                    # on hand > maximum today
    PROJECTED_STOCKOUT = "projected_stockout"  # balance <= 0 on some day of the horizon


@dataclass(frozen=True, slots=True)
class Proposal:
    """A suggested order for one item-location, awaiting the supplier's review.

    Attributes:
        key: the item-location.
        supplier_id: who would ship it.
        quantity: to order: a multiple of the pack, at least the minimum order quantity.
        needed_by: the day the projected balance falls below the trigger.
        order_by: needed-by − lead time, not before today.
        expedite: order-by would have been before today (the order arrives after it is needed).
        reasons: why, as data.
        flags: the item-location's exception flags.
        projected_balance: the projected balance on the needed-by day.
        trigger: the level crossed.
        target: the level ordered up to.
    """

    key: ItemLocationKey
    supplier_id: str | None
    quantity: Decimal
    needed_by: date
    order_by: date
    expedite: bool
    reasons: tuple[Reason, ...]
    flags: frozenset[ExceptionFlag]
    projected_balance: float
    trigger: float
    target: float


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """The full picture of one item-location, as a supplier portal shows it.

    Attributes:
        key: the item-location.
        supplier_id: who replenishes it.
        position: stock, pipeline and the movements behind them.
        demand: sales statistics.
        demand_source: where planned demand came from (forecast, history or none).
        levels: safety stock, reorder point, trigger, target, min/max, days of supply.
        trigger_date: first day within the review horizon below the trigger, if any.
        stockout_date: first day within the projection horizon at or below zero, if any.
        flags: exception flags.
        proposal: the suggested order, if any.
        projection: day-by-day balances (only when asked for with ``detail=True``).
        issues: warnings (ledger conflicts, unknown demand).
    """

    key: ItemLocationKey
    supplier_id: str | None
    position: Position
    demand: DemandStats
    demand_source: DemandSource
    levels: Levels
    trigger_date: date | None
    stockout_date: date | None
    flags: frozenset[ExceptionFlag]
    proposal: Proposal | None
    projection: Projection | None
    issues: tuple[Issue, ...]


def round_order_quantity(need: float, pack: Decimal, minimum: Decimal) -> Decimal:
    """Round a net requirement up to whole packs, at least ``minimum`` and at least one pack.

    Args:
        need: net requirement (target − projected balance), may be fractional.
        pack: pack or lot multiple (> 0).
        minimum: minimum order quantity (>= 0).

    Returns:
        ``pack × n`` for the smallest ``n >= 1`` covering both ``need`` and ``minimum``.
    """
    ratio = need / float(pack)
    # Float slack: 29.999999999 packs must not become 30 + 1.
    packs = math.ceil(ratio - EPSILON * max(1.0, abs(ratio)))
    return pack * max(1, packs, math.ceil(minimum / pack))


def plan_item(item: ItemLocationInput, today: date, *, detail: bool = False) -> ItemPlan:
    """Plan one item-location (steps in the module docstring).

    Args:
        item: the item-location's data.
        today: the planning date (nothing here reads a clock).
        detail: also build the day-by-day projection.

    Returns:
        The plan, with a proposal when an order is due within the review horizon.
    """
    policy = item.policy
    ledger, issues = dedupe(item.movements)
    pos = position_of_distinct(ledger, today, policy.demand_window_days, issues)
    stats = stats_of_distinct(ledger, today, policy.demand_window_days, item.reported_periods)
    profile = demand_profile(stats, item.forecast, today, policy.horizon_days, policy.use_forecast)
    on_hand = float(pos.on_hand)
    lv = levels(policy, on_hand, stats, profile)
    receipts = receipt_days(pos, policy, today)
    segs = segments(on_hand, receipts, profile, policy.horizon_days)
    review = max(1, min(policy.horizon_days, policy.lead_time_days + policy.review_period_days))
    trigger_day = first_day_below(segs, lv.trigger - EPSILON, review)
    stockout_day = first_day_below(segs, EPSILON, policy.horizon_days)
    stockout_date = today + timedelta(days=stockout_day) if stockout_day is not None else None
    flags = _flags(on_hand, lv, stockout_date)
    trigger_date = proposal = None
    if trigger_day is not None:
        trigger_date = today + timedelta(days=trigger_day)
        proposal = _propose(item, today, lv, flags, trigger_date, balance_on(segs, trigger_day), stockout_date)
    if profile.source is DemandSource.NONE:
        issues = [*issues, Issue("DEMAND_UNKNOWN", "no sales reported in the window and no forecast: "
                                 "planned demand is zero", ("demand",), severity="warning")]
    return ItemPlan(
        key=item.key, supplier_id=item.supplier_id, position=pos, demand=stats,
        demand_source=profile.source, levels=lv, trigger_date=trigger_date, stockout_date=stockout_date,
        flags=flags, proposal=proposal,
        projection=project(segs, receipts, profile, today, policy.horizon_days) if detail else None,
        issues=tuple(issues),
    )


def _flags(on_hand: float, lv: Levels, stockout_date: date | None) -> frozenset[ExceptionFlag]:
    flags = []
    if on_hand <= 0:
        flags.append(ExceptionFlag.OUT_OF_STOCK)
    if lv.min_level is not None and on_hand < lv.min_level:
        flags.append(ExceptionFlag.BELOW_MIN)
    if lv.max_level is not None and on_hand > lv.max_level:
        flags.append(ExceptionFlag.ABOVE_MAX)
    if stockout_date is not None:
        flags.append(ExceptionFlag.PROJECTED_STOCKOUT)
    return frozenset(flags)


def _propose(item: ItemLocationInput, today: date, lv: Levels, flags: frozenset[ExceptionFlag],
             needed_by: date, balance: float, stockout_date: date | None) -> Proposal:
    policy = item.policy
    quantity = round_order_quantity(lv.target - balance, policy.pack_multiple, policy.min_order_qty)
    order_by = needed_by - timedelta(days=policy.lead_time_days)
    reasons = [Reason(ReasonCode.BELOW_MIN if lv.trigger_is_min else ReasonCode.BELOW_REORDER_POINT, needed_by)]
    if stockout_date is not None:
        reasons.append(Reason(ReasonCode.PROJECTED_STOCKOUT, stockout_date))
    if ExceptionFlag.OUT_OF_STOCK in flags:
        reasons.append(Reason(ReasonCode.OUT_OF_STOCK, today))
    return Proposal(
        key=item.key, supplier_id=item.supplier_id, quantity=quantity, needed_by=needed_by,
        order_by=max(order_by, today), expedite=order_by < today, reasons=tuple(reasons), flags=flags,
        projected_balance=balance, trigger=lv.trigger, target=lv.target,
    )


def plan_all(items: Iterable[ItemLocationInput], today: date) -> Iterator[ItemPlan]:
    """Plan many item-locations lazily (for a portal refresh or exception report)."""
    for item in items:
        yield plan_item(item, today)


def run_replenishment(inputs: Iterable[ItemLocationInput], today: date) -> list[Proposal]:
    """The proposals of a planning run.

    Args:
        inputs: the item-locations to plan.
        today: the planning date.

    Returns:
        One proposal per item-location that needs an order within its review horizon, in input order.
    """
    return [plan.proposal for plan in plan_all(inputs, today) if plan.proposal is not None]
