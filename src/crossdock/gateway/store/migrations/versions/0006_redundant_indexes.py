"""Drop indexes that a wider index with the same leading column already serves.

Every inbound document writes a row to each of these tables (two to ``messages``: the message
and its 997), so each index here was one more B-tree insert per row, for lookups that the
unique constraint or composite index beside it answers as well:

- ``messages (partner_id)`` and ``messages (status)``: ``(partner_id, received_at)`` and
  ``(status, received_at)``;
- ``interchanges``, ``groups``, ``transaction_sets`` and ``work_items (message_id)``: their
  unique constraints, which begin with ``message_id``.

Revision ID: 0006
Revises: 0005

"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_REDUNDANT = (
    ("ix_messages_partner_id", "messages", ["partner_id"]),
    ("ix_messages_status", "messages", ["status"]),
    ("ix_interchanges_message_id", "interchanges", ["message_id"]),
    ("ix_groups_message_id", "groups", ["message_id"]),
    ("ix_transaction_sets_message_id", "transaction_sets", ["message_id"]),
    ("ix_work_items_message_id", "work_items", ["message_id"]),
)


def upgrade() -> None:
    """Upgrade schema."""
    for name, table, _ in _REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    """Downgrade schema."""
    for name, table, columns in _REDUNDANT:
        op.create_index(name, table, columns)
