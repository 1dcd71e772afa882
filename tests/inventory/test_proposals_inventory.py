"""Proposals: crossing day, quantity rounding, lead-time offset, reasons and flags."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossdock.gateway.inventory import (
    DocumentRef,
    ExceptionFlag,
    ForecastBucket,
    ItemLocationInput,
    ItemLocationKey,
    Movement,
    Reason,
    ReasonCode,
    ReplenishmentPolicy,
    plan_item,
    round_order_quantity,
    run_replenishment,
)

TODAY = date(2025, 6, 2)
KEY = ItemLocationKey("SKU-1", "STORE-1")


def at(n: int) -> date:
    return TODAY + timedelta(days=n)


def history(mv, on_hand: int, per_day: int, weeks: int = 4) -> list[Movement]:
    """A snapshot today and ``weeks`` weekly 852s selling ``per_day`` a day."""
    rows = [mv("snapshot_on_hand", on_hand, TODAY, "qa")]
    rows += [mv("sale", per_day * 7, at(-7 * w), f"w{w}", period_start=at(-7 * w - 6)) for w in range(weeks)]
    return rows


def item(rows, supplier: str | None = "SUP", forecast=(), **policy) -> ItemLocationInput:
    return ItemLocationInput(KEY, ReplenishmentPolicy(**policy), tuple(rows), tuple(forecast), supplier_id=supplier)


ROUNDING = [
    (1.0, "12", "0", "12"),
    (12.0, "12", "0", "12"),
    (12.000000001, "12", "0", "12"),  # float noise is not a pack
    (12.5, "12", "0", "24"),
    (5.0, "12", "30", "36"),           # MOQ first, then whole packs
    (100.0, "1", "0", "100"),
    (0.3, "0.25", "0", "0.50"),
    (0.0, "6", "0", "6"),              # at least one pack
    (48.0, "12", "50", "60"),
]


@pytest.mark.parametrize(("need", "pack", "moq", "expected"), ROUNDING)
def test_round_order_quantity(need, pack, moq, expected) -> None:
    assert round_order_quantity(need, Decimal(pack), Decimal(moq)) == Decimal(expected)


def test_min_max_proposal_orders_up_to_max_from_the_balance_on_the_needed_by_day(mv) -> None:
    # 100 on hand, 10/day: below 50 on day 6 (balance 40); order 160 − 40 = 120 → 5 packs of 24 = 120.
    plan = plan_item(item(history(mv, 100, 10), method="min_max", min_qty=50, max_qty=160, lead_time_days=3,
                          review_period_days=7, pack_multiple=24), TODAY)
    p = plan.proposal
    assert p is not None
    assert (p.quantity, p.needed_by, p.order_by, p.expedite) == (Decimal(120), at(6), at(3), False)
    assert (p.projected_balance, p.trigger, p.target) == (40.0, 50.0, 160.0)
    assert p.reasons == (Reason(ReasonCode.BELOW_MIN, at(6)), Reason(ReasonCode.PROJECTED_STOCKOUT, at(10)))
    assert p.flags == frozenset({ExceptionFlag.PROJECTED_STOCKOUT})
    assert plan.stockout_date == at(10)


@pytest.mark.parametrize(("lead", "on_hand", "needed_by", "order_by", "expedite"), [
    (0, 100, 6, 6, False),
    (4, 100, 6, 2, False),
    (6, 100, 6, 0, False),
    (9, 100, 6, 0, True),    # should have been ordered 3 days ago
    (2, 55, 1, 0, True),
])
def test_order_by_is_needed_by_minus_lead_time_not_before_today(mv, lead, on_hand, needed_by, order_by,
                                                                expedite) -> None:
    plan = plan_item(item(history(mv, on_hand, 10), method="min_max", min_qty=50, max_qty=160,
                          lead_time_days=lead, review_period_days=7), TODAY)
    p = plan.proposal
    assert p is not None
    assert (p.needed_by, p.order_by, p.expedite) == (at(needed_by), at(order_by), expedite)


def test_a_crossing_beyond_the_review_horizon_waits_for_a_later_run(mv) -> None:
    # Below 50 on day 6, but lead 1 + review 2 = 3 days: no order yet; still flagged as a stock-out ahead.
    plan = plan_item(item(history(mv, 100, 10), method="min_max", min_qty=50, max_qty=160,
                          lead_time_days=1, review_period_days=2), TODAY)
    assert plan.proposal is None
    assert plan.trigger_date is None
    assert plan.flags == frozenset({ExceptionFlag.PROJECTED_STOCKOUT})


def test_a_scheduled_receipt_prevents_the_crossing(mv) -> None:
    rows = history(mv, 100, 10) + [mv("on_order", 60, at(-1), "po", order_ref="PO1", due=at(5))]
    plan = plan_item(item(rows, method="min_max", min_qty=50, max_qty=160, lead_time_days=3,
                          review_period_days=7), TODAY)
    assert plan.proposal is None  # 100 − 10·10 + 60 = 60 on day 10, never below 50
    assert plan.position.on_order == 60


def test_zero_demand_proposes_only_when_already_below_the_minimum(mv) -> None:
    above = plan_item(item(history(mv, 80, 0), method="min_max", min_qty=50, max_qty=160), TODAY)
    assert above.proposal is None and above.levels.days_of_supply == 9999.0 and above.stockout_date is None
    empty = plan_item(item(history(mv, 0, 0), method="min_max", min_qty=50, max_qty=160, pack_multiple=12), TODAY)
    p = empty.proposal
    assert p is not None and p.quantity == Decimal(168) and p.needed_by == at(1)
    assert p.reasons == (Reason(ReasonCode.BELOW_MIN, at(1)), Reason(ReasonCode.PROJECTED_STOCKOUT, at(1)),
                         Reason(ReasonCode.OUT_OF_STOCK, TODAY))
    assert empty.flags == {ExceptionFlag.OUT_OF_STOCK, ExceptionFlag.BELOW_MIN, ExceptionFlag.PROJECTED_STOCKOUT}


def test_unknown_demand_is_a_warning_and_plans_with_zero(mv) -> None:
    plan = plan_item(item([mv("snapshot_on_hand", 10, TODAY, "qa")], method="days_of_supply",
                          target_days_of_supply=14), TODAY)
    assert [i.code for i in plan.issues] == ["DEMAND_UNKNOWN"]
    assert plan.proposal is None and plan.flags == frozenset()


def test_reorder_point_proposal_reason(mv) -> None:
    plan = plan_item(item(history(mv, 60, 10), method="reorder_point", reorder_point=45, max_qty=200,
                          lead_time_days=2, review_period_days=7), TODAY)
    assert plan.proposal is not None
    assert plan.proposal.reasons[0] == Reason(ReasonCode.BELOW_REORDER_POINT, at(2))
    assert plan.proposal.quantity == Decimal(160)  # 200 − (60 − 20)


def test_above_max_is_flagged_without_a_proposal(mv) -> None:
    plan = plan_item(item(history(mv, 500, 10), method="days_of_supply", target_days_of_supply=21), TODAY)
    assert plan.proposal is None
    assert plan.flags == {ExceptionFlag.ABOVE_MAX} and plan.levels.max_level == 210.0


def test_the_shared_forecast_overrides_sales_history_when_the_agreement_says_so(mv) -> None:
    # History says 2/day (100 on hand lasts); the 830 says 20/day for the next two weeks.
    rows = history(mv, 100, 2)
    forecast = [ForecastBucket(at(1), at(7), Decimal(140), firm=True), ForecastBucket(at(8), at(14), Decimal(140))]
    fields = {"method": "days_of_supply", "min_days_of_supply": 7, "target_days_of_supply": 14,
              "lead_time_days": 2, "review_period_days": 7, "horizon_days": 14}
    assert plan_item(item(rows, forecast=forecast, use_forecast=False, **fields), TODAY).proposal is None
    plan = plan_item(item(rows, forecast=forecast, use_forecast=True, **fields), TODAY)
    assert plan.levels.avg_daily == 20.0 and plan.demand.avg_daily == 2.0
    p = plan.proposal
    assert p is not None
    # min 7 × 20 = 140 is above 100 − 20 = 80 already on day 1: order 280 − 80.
    assert (p.needed_by, p.quantity, p.trigger, p.target) == (at(1), Decimal(200), 140.0, 280.0)


def test_detail_projection_and_run_replenishment(mv) -> None:
    needs = item(history(mv, 100, 10), method="min_max", min_qty=50, max_qty=160, lead_time_days=3)
    fine = item(history(mv, 1000, 10), method="min_max", min_qty=50, max_qty=2000)
    plan = plan_item(needs, TODAY, detail=True)
    assert plan.projection is not None and plan.projection.balances[:3] == (90.0, 80.0, 70.0)
    proposals = run_replenishment([needs, fine, needs], TODAY)
    assert [p.quantity for p in proposals] == [Decimal(120), Decimal(120)]
    assert proposals[0] == plan.proposal


# --------------------------------------------------------------------------- properties

POLICIES = st.one_of(
    st.builds(lambda lo, span: {"method": "min_max", "min_qty": lo, "max_qty": lo + span},
              st.integers(0, 120), st.integers(0, 200)),
    st.builds(lambda sl: {"method": "reorder_point", "service_level": sl}, st.sampled_from([0.5, 0.9, 0.975])),
    st.builds(lambda lo, span: {"method": "days_of_supply", "min_days_of_supply": lo,
                                "target_days_of_supply": lo + span}, st.integers(0, 10), st.integers(1, 20)),
)


@st.composite
def inputs(draw: st.DrawFn) -> ItemLocationInput:
    fields = draw(POLICIES)
    fields |= {"lead_time_days": draw(st.integers(0, 12)), "review_period_days": draw(st.integers(0, 14)),
               "pack_multiple": draw(st.sampled_from(["1", "6", "12", "0.5", "24"])),
               "min_order_qty": draw(st.sampled_from(["0", "10", "25", "100"]))}
    rows = [Movement("snapshot_on_hand", KEY, Decimal(draw(st.integers(-5, 300))), TODAY,
                     DocumentRef("qa", "852", "R", "1"))]
    for week, sold in enumerate(draw(st.lists(st.integers(0, 150), max_size=6))):
        rows.append(Movement("sale", KEY, Decimal(sold), at(-7 * week), DocumentRef(f"w{week}", "852", "R", "1"),
                             period_start=at(-7 * week - 6)))
    for n, (qty, due) in enumerate(draw(st.lists(st.tuples(st.integers(1, 200), st.integers(-3, 35)), max_size=3))):
        rows.append(Movement("on_order", KEY, Decimal(qty), at(-5), DocumentRef(f"po{n}", "850", f"PO{n}", "1"),
                             order_ref=f"PO{n}", due=at(due)))
    return ItemLocationInput(KEY, ReplenishmentPolicy(**fields), tuple(rows))


@settings(max_examples=200, deadline=None)
@given(inputs())
def test_property_quantities_are_whole_packs_and_proposals_follow_the_projection(data: ItemLocationInput) -> None:
    plan = plan_item(data, TODAY, detail=True)
    policy = data.policy
    review = max(1, min(policy.horizon_days, policy.lead_time_days + policy.review_period_days))
    assert plan.projection is not None
    below = [d for d, b in enumerate(plan.projection.balances[:review], start=1) if b < plan.levels.trigger - 1e-9]
    if not below:
        assert plan.proposal is None
        return
    p = plan.proposal
    assert p is not None
    assert p.needed_by == at(below[0])
    assert p.quantity % policy.pack_multiple == 0
    assert p.quantity >= policy.min_order_qty and p.quantity > 0
    assert float(p.quantity) >= p.target - p.projected_balance - 1e-6
    assert p.order_by == max(TODAY, p.needed_by - timedelta(days=policy.lead_time_days))
