"""Errors of the replenishment engine, under the one Crossdock root.

Tree (each class a stable ``code``)::

    CrossdockError
    └── InventoryDataInvalid      INVENTORY_DATA_INVALID  engine input that cannot be planned with
        ├── PolicyInvalid         POLICY_INVALID          a replenishment policy contradicts itself
        └── MovementInvalid       MOVEMENT_INVALID        a ledger row, period or forecast bucket is malformed

Both are permanent: the same data fails the same way on every retry. The exception carries every
problem found as :class:`~crossdock.schemas.errors.Issue` records, not only the first.

The stored inventory (master data, proposals) adds, mapped to HTTP by ``gateway/http/errors.py``::

    CrossdockError
    ├── ConfigurationInvalid
    │   └── MasterDataInvalid     MASTER_DATA_INVALID      422  an items/locations/policies file or body
    ├── NotVisible (auth)
    │   └── InventoryNotFound (.store)     ITEM_NOT_FOUND /         404  also: another supplier's
    │                             PROPOSAL_NOT_FOUND …
    ├── ProposalDecided           PROPOSAL_DECIDED         409  approved, rejected or superseded already
    └── ProposalInvalid           PROPOSAL_INVALID         422  an edited quantity that cannot be ordered
"""

from __future__ import annotations

from collections.abc import Iterable

from crossdock.schemas.errors import ConfigurationInvalid, CrossdockError, Issue

__all__ = ["InventoryDataInvalid", "PolicyInvalid", "MovementInvalid", "MasterDataInvalid", "ProposalDecided",
           "ProposalInvalid"]


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


class MasterDataInvalid(ConfigurationInvalid):
    """Items, locations, policies or programs that cannot be saved; ``issues`` lists every problem."""

    code = "MASTER_DATA_INVALID"

    def __init__(self, message: str, issues: Iterable[Issue] = ()) -> None:
        super().__init__(message)
        self.issues: tuple[Issue, ...] = tuple(issues)


class ProposalDecided(CrossdockError):
    """The proposal was approved, rejected or superseded already (HTTP 409)."""

    code = "PROPOSAL_DECIDED"


class ProposalInvalid(CrossdockError):
    """An edited quantity that cannot be ordered (not positive, not a number)."""

    code = "PROPOSAL_INVALID"
