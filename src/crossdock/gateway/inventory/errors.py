"""Errors of the replenishment engine, under the one Crossdock root.

Tree (each class a stable ``code``)::

    CrossdockError
    └── InventoryDataInvalid      INVENTORY_DATA_INVALID  engine input that cannot be planned with
        ├── PolicyInvalid         POLICY_INVALID          a replenishment policy contradicts itself
        └── MovementInvalid       MOVEMENT_INVALID        a ledger row, period or forecast bucket is malformed

Both are permanent: the same data fails the same way on every retry. The exception carries every
problem found as :class:`~crossdock.schemas.errors.Issue` records, not only the first.
"""

from __future__ import annotations

from collections.abc import Iterable

from crossdock.schemas.errors import CrossdockError, Issue

__all__ = ["InventoryDataInvalid", "PolicyInvalid", "MovementInvalid"]


class InventoryDataInvalid(CrossdockError):
    """Input to the replenishment engine is malformed.

    Attributes:
        issues: every problem found, as data (code, loc, msg; no payload beyond the bad value).
    """

    code = "INVENTORY_DATA_INVALID"

    def __init__(self, message: str, issues: Iterable[Issue] = ()) -> None:
        super().__init__(message)
        self.issues: tuple[Issue, ...] = tuple(issues)


class PolicyInvalid(InventoryDataInvalid):
    code = "POLICY_INVALID"


class MovementInvalid(InventoryDataInvalid):
    code = "MOVEMENT_INVALID"
