"""Replenishment policies: validation as data, and the service-level factor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossdock.gateway.inventory import PolicyInvalid, PolicyMethod, ReplenishmentPolicy


def test_a_valid_policy_coerces_quantities_and_derives_z() -> None:
    policy = ReplenishmentPolicy("reorder_point", service_level=0.95, lead_time_days=9, pack_multiple=6,
                                 min_order_qty="12")
    assert policy.method is PolicyMethod.REORDER_POINT
    assert (policy.pack_multiple, policy.min_order_qty) == (Decimal(6), Decimal(12))
    assert policy.z == pytest.approx(1.6448536269514722)
    assert policy.floats.reorder_point is None


INVALID = [
    ({"method": "min_max"}, [("REQUIRED", ("min_qty",)), ("REQUIRED", ("max_qty",))]),
    ({"method": "min_max", "min_qty": 10, "max_qty": 5}, [("LEVELS_INVERTED", ("max_qty",))]),
    ({"method": "days_of_supply"}, [("REQUIRED", ("target_days_of_supply",))]),
    ({"method": "days_of_supply", "target_days_of_supply": 10, "min_days_of_supply": 12},
     [("LEVELS_INVERTED", ("target_days_of_supply",))]),
    ({"method": "reorder_point", "pack_multiple": 0}, [("NOT_POSITIVE", ("pack_multiple",))]),
    ({"method": "reorder_point", "min_order_qty": -1}, [("NEGATIVE", ("min_order_qty",))]),
    ({"method": "reorder_point", "safety_stock_qty": 5, "service_level": 0.9},
     [("AMBIGUOUS_SAFETY_STOCK", ("service_level",))]),
    ({"method": "reorder_point", "service_level": 1.0}, [("OUT_OF_RANGE", ("service_level",))]),
    ({"method": "reorder_point", "lead_time_days": -2, "horizon_days": 0},
     [("OUT_OF_RANGE", ("lead_time_days",)), ("OUT_OF_RANGE", ("horizon_days",))]),
    ({"method": "reorder_point", "max_qty": 2.5}, [("NOT_A_NUMBER", ("max_qty",))]),
    ({"method": "eoq"}, [("UNKNOWN_METHOD", ("method",))]),
]


@pytest.mark.parametrize(("fields", "expected"), INVALID)
def test_invalid_policies_report_every_issue(fields, expected) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        ReplenishmentPolicy(**fields)
    assert caught.value.code == "POLICY_INVALID"
    assert [(i.code, i.loc) for i in caught.value.issues] == expected
