"""Vendor-managed inventory: the pure replenishment engine (no I/O, no clock).

Ledger rows from 846/852/850/860/855/856 and receipts → :func:`position` (on hand, in transit,
on order, with the documents behind each figure) → :func:`demand_stats` and the 830 forecast →
levels and the projected available balance → :func:`run_replenishment` proposals with reasons
and exception flags; :func:`bullwhip` compares order and sales variance.

Modules: :mod:`.policy`, :mod:`.ledger`, :mod:`.demand`, :mod:`.projection`, :mod:`.proposals`,
:mod:`.bullwhip`, :mod:`.errors`. The caller loads rows from the store, passes ``today``, and
stores what comes back.
"""

from __future__ import annotations

from crossdock.gateway.inventory.bullwhip import (
    BullwhipIndicator,
    bullwhip,
    bullwhip_by_item_supplier,
    bullwhip_ratio,
)
from crossdock.gateway.inventory.demand import (
    DemandProfile,
    DemandSource,
    DemandStats,
    ForecastBucket,
    Period,
    demand_profile,
    demand_stats,
)
from crossdock.gateway.inventory.errors import InventoryDataInvalid, MovementInvalid, PolicyInvalid
from crossdock.gateway.inventory.ledger import (
    DocumentRef,
    Figure,
    ItemLocationKey,
    Movement,
    MovementKind,
    Position,
    ScheduledReceipt,
    dedupe,
    explain,
    idempotency_key,
    position,
)
from crossdock.gateway.inventory.policy import PolicyMethod, ReplenishmentPolicy
from crossdock.gateway.inventory.projection import (
    NO_DEMAND_DAYS_OF_SUPPLY,
    Levels,
    Projection,
    days_of_supply,
    levels,
    project,
)
from crossdock.gateway.inventory.proposals import (
    ExceptionFlag,
    ItemLocationInput,
    ItemPlan,
    Proposal,
    Reason,
    ReasonCode,
    plan_all,
    plan_item,
    round_order_quantity,
    run_replenishment,
)

__all__ = [
    # policy
    "PolicyMethod", "ReplenishmentPolicy",
    # ledger
    "ItemLocationKey", "MovementKind", "DocumentRef", "Movement", "ScheduledReceipt", "Position",
    "Figure", "idempotency_key", "dedupe", "position", "explain",
    # demand
    "Period", "ForecastBucket", "DemandSource", "DemandStats", "DemandProfile", "demand_stats",
    "demand_profile",
    # projection
    "NO_DEMAND_DAYS_OF_SUPPLY", "Levels", "Projection", "levels", "days_of_supply", "project",
    # proposals
    "ItemLocationInput", "ReasonCode", "Reason", "ExceptionFlag", "Proposal", "ItemPlan",
    "round_order_quantity", "plan_item", "plan_all", "run_replenishment",
    # bullwhip
    "BullwhipIndicator", "bullwhip_ratio", "bullwhip", "bullwhip_by_item_supplier",
    # errors
    "InventoryDataInvalid", "PolicyInvalid", "MovementInvalid",
]
