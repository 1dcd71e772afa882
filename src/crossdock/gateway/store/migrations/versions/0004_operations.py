"""Operations: alerts, resolutions, ack tracking indexes.

Search indexes for the ops console (every filter ends in ``received_at`` so a newest-first page
walks one index), the per-message notes (resolutions, comments, ops actions), alert rules and
their firings.

Revision ID: 0004
Revises: 0003

"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_INDEXES = (
    ("ix_messages_partner_id_received_at", "messages", ["partner_id", "received_at"]),
    ("ix_messages_recipient_id_received_at", "messages", ["recipient_id", "received_at"]),
    ("ix_messages_status_received_at", "messages", ["status", "received_at"]),
    ("ix_messages_document_kind_received_at", "messages", ["document_kind", "received_at"]),
    ("ix_document_keys_value", "document_keys", ["value"]),
    ("ix_acks_direction_status_due_at", "acks", ["direction", "status", "due_at"]),
)


def upgrade() -> None:
    """Upgrade schema."""
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)
    op.create_table('message_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_notes_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_notes'))
    )
    op.create_index(op.f('ix_message_notes_message_id'), 'message_notes', ['message_id'])
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('window_s', sa.Float(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=True),
    sa.Column('webhook_secret', sa.String(length=200), nullable=True),
    sa.Column('email_to', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_alert_rules_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_rules_name'))
    )
    op.create_table('alert_firings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('fired_at', sa.DateTime(), nullable=False),
    sa.Column('notified', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_firings_rule_id_alert_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_firings')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_alert_firings_dedupe_key'))
    )
    op.create_index(op.f('ix_alert_firings_fired_at'), 'alert_firings', ['fired_at'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_alert_firings_fired_at'), table_name='alert_firings')
    op.drop_table('alert_firings')
    op.drop_table('alert_rules')
    op.drop_index(op.f('ix_message_notes_message_id'), table_name='message_notes')
    op.drop_table('message_notes')
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
