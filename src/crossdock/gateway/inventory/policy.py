"""Replenishment policies: how much stock an item-location should hold and when to reorder.

Three methods, each defining a *trigger* (reorder when the projected balance falls below it) and
a *target* (order up to it):

==============  ===============================  ==================================
method          trigger (reorder below)          target (order up to)
==============  ===============================  ==================================
min_max         min_qty                          max_qty
reorder_point   reorder_point if fixed, else     max_qty if set, else reorder point
                lead-time demand + safety stock  + demand over the review period
days_of_supply  min_days_of_supply × demand if   target_days_of_supply × demand
                set, else as reorder_point
==============  ===============================  ==================================

Safety stock is at most one of: a fixed quantity, fixed days of demand, or computed from a
service level as ``z × σ_daily × √lead_time`` with ``z = NormalDist().inv_cdf(service_level)``;
none of them means zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist
from typing import NamedTuple

from crossdock.gateway.inventory._values import ZERO, check, coerce_decimal
from crossdock.gateway.inventory.errors import PolicyInvalid
from crossdock.schemas.errors import Issue

__all__ = ["PolicyMethod", "PolicyFloats", "ReplenishmentPolicy"]

_DECIMAL_FIELDS = (
    "min_qty", "max_qty", "reorder_point", "safety_stock_qty", "safety_stock_days",
    "min_days_of_supply", "target_days_of_supply", "pack_multiple", "min_order_qty",
)


class PolicyFloats(NamedTuple):
    """The policy's levels as floats, converted once (planning arithmetic is in floats)."""

    min_qty: float | None
    max_qty: float | None
    reorder_point: float | None
    safety_stock_qty: float | None
    safety_stock_days: float | None
    min_days_of_supply: float | None
    target_days_of_supply: float | None


class PolicyMethod(StrEnum):
    """How the trigger and target levels are set."""

    MIN_MAX = "min_max"
    REORDER_POINT = "reorder_point"
    DAYS_OF_SUPPLY = "days_of_supply"


@dataclass(frozen=True, slots=True)
class ReplenishmentPolicy:
    """The agreed replenishment rules for one item-location (a DB row maps onto it field by field).

    Attributes:
        method: see the module table.
        min_qty: minimum stock (``min_max``; optional elsewhere, then only flags ``below_min``).
        max_qty: maximum stock (``min_max``; optional target for ``reorder_point``).
        reorder_point: fixed reorder point; ``None`` computes it from demand.
        safety_stock_qty: fixed safety stock quantity.
        safety_stock_days: safety stock as days of average demand.
        service_level: cycle service level in (0, 1), e.g. 0.95; safety stock from demand variability.
        min_days_of_supply: dynamic minimum (``days_of_supply``).
        target_days_of_supply: dynamic maximum/target (``days_of_supply``).
        lead_time_days: days from order to receipt.
        review_period_days: days between planning runs; with the lead time it bounds how far ahead
            a crossing of the trigger leads to a proposal now.
        pack_multiple: order quantities are rounded up to a multiple of this (pack or lot size).
        min_order_qty: order quantities are at least this.
        demand_window_days: days of sales history behind the average and deviation.
        horizon_days: days projected.
        use_forecast: the shared 830 forecast replaces the sales average where it has buckets (CPFR).
        z: service-level factor, derived (0 without a service level).
        floats: the levels as floats, derived.

    Raises:
        PolicyInvalid: with every contradiction found, as issues.
    """

    method: PolicyMethod
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    reorder_point: Decimal | None = None
    safety_stock_qty: Decimal | None = None
    safety_stock_days: Decimal | None = None
    service_level: float | None = None
    min_days_of_supply: Decimal | None = None
    target_days_of_supply: Decimal | None = None
    lead_time_days: int = 0
    review_period_days: int = 7
    pack_multiple: Decimal = Decimal(1)
    min_order_qty: Decimal = ZERO
    demand_window_days: int = 56
    horizon_days: int = 28
    use_forecast: bool = False
    z: float = field(init=False, default=0.0, compare=False)
    floats: PolicyFloats = field(init=False, default=PolicyFloats(*[None] * 7), repr=False, compare=False)

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        try:
            object.__setattr__(self, "method", PolicyMethod(self.method))
        except ValueError:
            issues.append(Issue("UNKNOWN_METHOD", "method must be min_max, reorder_point or days_of_supply",
                                ("method",), input=str(self.method)[:40]))
        for name in _DECIMAL_FIELDS:
            object.__setattr__(self, name, coerce_decimal(getattr(self, name), name, issues))
        _check_integers(self, issues)
        if not issues:
            _check_levels(self, issues)
            _check_safety_stock(self, issues)
        if issues:
            raise PolicyInvalid(f"replenishment policy invalid: {len(issues)} issue(s)", issues)
        if self.service_level is not None:
            object.__setattr__(self, "z", NormalDist().inv_cdf(self.service_level))
        object.__setattr__(self, "floats", PolicyFloats(*(
            None if getattr(self, name) is None else float(getattr(self, name))
            for name in PolicyFloats._fields)))


def _check_integers(policy: ReplenishmentPolicy, issues: list[Issue]) -> None:
    bounds = {"lead_time_days": 0, "review_period_days": 0, "demand_window_days": 1, "horizon_days": 1}
    for name, low in bounds.items():
        value = getattr(policy, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            issues.append(Issue("OUT_OF_RANGE", f"{name} must be an integer >= {low}", (name,),
                                input=str(value)[:40]))
    check(isinstance(policy.use_forecast, bool), "NOT_A_BOOLEAN", "use_forecast must be a boolean",
          "use_forecast", issues)


def _check_levels(policy: ReplenishmentPolicy, issues: list[Issue]) -> None:
    for name in _DECIMAL_FIELDS:
        value = getattr(policy, name)
        check(value is None or value >= 0, "NEGATIVE", f"{name} must not be negative", name, issues)
    check(policy.pack_multiple is not None and policy.pack_multiple > 0, "NOT_POSITIVE",
          "pack_multiple must be positive", "pack_multiple", issues)
    check(policy.min_order_qty is not None, "REQUIRED", "min_order_qty is required", "min_order_qty", issues)
    if policy.method is PolicyMethod.MIN_MAX:
        check(policy.min_qty is not None, "REQUIRED", "min_max needs min_qty", "min_qty", issues)
        check(policy.max_qty is not None, "REQUIRED", "min_max needs max_qty", "max_qty", issues)
    if policy.method is PolicyMethod.DAYS_OF_SUPPLY:
        check(policy.target_days_of_supply is not None and policy.target_days_of_supply > 0, "REQUIRED",
              "days_of_supply needs a positive target_days_of_supply", "target_days_of_supply", issues)
    _check_order(policy.min_qty, policy.max_qty, "min_qty must not exceed max_qty", "max_qty", issues)
    _check_order(policy.reorder_point, policy.max_qty, "reorder_point must not exceed max_qty", "max_qty", issues)
    _check_order(policy.min_days_of_supply, policy.target_days_of_supply,
                 "min_days_of_supply must not exceed target_days_of_supply", "target_days_of_supply", issues)


def _check_order(low: Decimal | None, high: Decimal | None, msg: str, loc: str, issues: list[Issue]) -> None:
    if low is not None and high is not None and low > high:
        issues.append(Issue("LEVELS_INVERTED", msg, (loc,)))


def _check_safety_stock(policy: ReplenishmentPolicy, issues: list[Issue]) -> None:
    given = [name for name in ("safety_stock_qty", "safety_stock_days", "service_level")
             if getattr(policy, name) is not None]
    if len(given) > 1:
        issues.append(Issue("AMBIGUOUS_SAFETY_STOCK", "give at most one of safety_stock_qty, "
                            "safety_stock_days, service_level", (given[1],)))
    level = policy.service_level
    if level is not None and (isinstance(level, bool) or not isinstance(level, (int, float))
                              or not 0 < level < 1):
        issues.append(Issue("OUT_OF_RANGE", "service_level must be a number strictly between 0 and 1",
                            ("service_level",), input=str(level)[:40]))
