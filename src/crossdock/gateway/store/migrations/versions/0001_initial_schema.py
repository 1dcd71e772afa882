"""Initial schema: registry, messages and envelopes, documents, timeline, acks, outbox.

Revision ID: 0001
Revises: (none)

"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table('dedupe_keys',
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('seen_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_dedupe_keys'))
    )
    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('code', name=op.f('uq_partners_code'))
    )
    op.create_table('payloads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_payloads'))
    )
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_agreements_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('partner_id', 'document_type', 'direction', name=op.f('uq_agreements_partner_id_document_type_direction'))
    )
    op.create_table('control_counters',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_control_counters_partner_id_partners')),
    sa.PrimaryKeyConstraint('partner_id', 'kind', name=op.f('pk_control_counters'))
    )
    op.create_table('messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.String(length=32), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('document_kind', sa.String(length=40), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=300), nullable=True),
    sa.Column('source_key', sa.String(length=200), nullable=True),
    sa.Column('channel_config', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_reason', sa.Text(), nullable=True),
    sa.Column('test', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['messages.id'], name=op.f('fk_messages_parent_id_messages')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_messages_partner_id_partners')),
    sa.ForeignKeyConstraint(['recipient_id'], ['partners.id'], name=op.f('fk_messages_recipient_id_partners')),
    sa.ForeignKeyConstraint(['sha256'], ['payloads.sha256'], name=op.f('fk_messages_sha256_payloads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_messages_idempotency_key')),
    sa.UniqueConstraint('source_key', name=op.f('uq_messages_source_key'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_status'), ['status'], unique=False)

    op.create_table('partner_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_identities_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_identities')),
    sa.UniqueConstraint('kind', 'value', name=op.f('uq_partner_identities_kind_value'))
    )
    with op.batch_alter_table('partner_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_identities_partner_id'), ['partner_id'], unique=False)

    op.create_table('acks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('ack_message_id', sa.String(length=32), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('interchange_control', sa.String(length=16), nullable=True),
    sa.Column('group_control', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ack_message_id'], ['messages.id'], name=op.f('fk_acks_ack_message_id_messages')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_acks_message_id_messages')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_acks_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acks'))
    )
    with op.batch_alter_table('acks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acks_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acks_partner_id_group_control'), ['partner_id', 'group_control'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_delivery_attempts_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_message_id'), ['message_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('test', sa.Boolean(), nullable=False),
    sa.Column('issues', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_documents_message_id_messages')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_documents_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_documents_message_id_position'))
    )
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_events_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_message_id'), ['message_id'], unique=False)

    op.create_table('groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('interchange_position', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('functional_id', sa.String(length=4), nullable=False),
    sa.Column('control_number', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=2), nullable=False),
    sa.Column('ak9_codes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_groups_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('message_id', 'interchange_position', 'position', name=op.f('uq_groups_message_id_interchange_position_position'))
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groups_control_number'), ['control_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_groups_message_id'), ['message_id'], unique=False)

    op.create_table('interchanges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('receiver', sa.String(length=40), nullable=False),
    sa.Column('control_number', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=8), nullable=False),
    sa.Column('usage', sa.String(length=1), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ta1_code', sa.String(length=4), nullable=True),
    sa.Column('test', sa.Boolean(), nullable=False),
    sa.Column('duplicate_of', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_interchanges_message_id_messages')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_interchanges_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interchanges')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_interchanges_message_id_position'))
    )
    with op.batch_alter_table('interchanges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interchanges_control_number'), ['control_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_interchanges_message_id'), ['message_id'], unique=False)

    op.create_table('transaction_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('interchange_position', sa.Integer(), nullable=False),
    sa.Column('group_position', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=8), nullable=False),
    sa.Column('control_number', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=2), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_transaction_sets_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_sets')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_transaction_sets_message_id_position'))
    )
    with op.batch_alter_table('transaction_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transaction_sets_control_number'), ['control_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_transaction_sets_message_id'), ['message_id'], unique=False)

    op.create_table('work_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.Float(), nullable=False),
    sa.Column('lease_until', sa.Float(), nullable=True),
    sa.Column('dispatched_at', sa.Float(), nullable=True),
    sa.Column('last_error_code', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_work_items_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items')),
    sa.UniqueConstraint('message_id', 'stage', 'generation', name=op.f('uq_work_items_message_id_stage_generation'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_items_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_state_available_at'), ['state', 'available_at'], unique=False)

    op.create_table('document_keys',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_keys_document_id_documents')),
    sa.PrimaryKeyConstraint('document_id', 'name', 'value', name=op.f('pk_document_keys'))
    )
    with op.batch_alter_table('document_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_keys_name_value'), ['name', 'value'], unique=False)

    op.create_table('document_links',
    sa.Column('from_document_id', sa.Integer(), nullable=False),
    sa.Column('to_document_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['from_document_id'], ['documents.id'], name=op.f('fk_document_links_from_document_id_documents')),
    sa.ForeignKeyConstraint(['to_document_id'], ['documents.id'], name=op.f('fk_document_links_to_document_id_documents')),
    sa.PrimaryKeyConstraint('from_document_id', 'to_document_id', name=op.f('pk_document_links'))
    )
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('po_number', sa.String(length=80), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_orders_document_id_documents')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_orders_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('partner_id', 'po_number', name=op.f('uq_orders_partner_id_po_number'))
    )
    op.create_table('order_lines',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_number', sa.String(length=40), nullable=False),
    sa.Column('item', sa.String(length=120), nullable=True),
    sa.Column('quantity', sa.String(length=40), nullable=True),
    sa.Column('unit', sa.String(length=8), nullable=True),
    sa.Column('unit_price', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', 'line_number', name=op.f('pk_order_lines'))
    )



def downgrade() -> None:
    """Downgrade schema."""

    op.drop_table('order_lines')
    op.drop_table('orders')
    op.drop_table('document_links')
    with op.batch_alter_table('document_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_keys_name_value'))

    op.drop_table('document_keys')
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_items_state_available_at'))
        batch_op.drop_index(batch_op.f('ix_work_items_message_id'))

    op.drop_table('work_items')
    with op.batch_alter_table('transaction_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transaction_sets_message_id'))
        batch_op.drop_index(batch_op.f('ix_transaction_sets_control_number'))

    op.drop_table('transaction_sets')
    with op.batch_alter_table('interchanges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interchanges_message_id'))
        batch_op.drop_index(batch_op.f('ix_interchanges_control_number'))

    op.drop_table('interchanges')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groups_message_id'))
        batch_op.drop_index(batch_op.f('ix_groups_control_number'))

    op.drop_table('groups')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_message_id'))

    op.drop_table('events')
    op.drop_table('documents')
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_message_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('acks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acks_partner_id_group_control'))
        batch_op.drop_index(batch_op.f('ix_acks_message_id'))

    op.drop_table('acks')
    with op.batch_alter_table('partner_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_identities_partner_id'))

    op.drop_table('partner_identities')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_status'))
        batch_op.drop_index(batch_op.f('ix_messages_sha256'))
        batch_op.drop_index(batch_op.f('ix_messages_received_at'))
        batch_op.drop_index(batch_op.f('ix_messages_partner_id'))
        batch_op.drop_index(batch_op.f('ix_messages_parent_id'))

    op.drop_table('messages')
    op.drop_table('control_counters')
    op.drop_table('agreements')
    op.drop_table('payloads')
    op.drop_table('partners')
    op.drop_table('dedupe_keys')

