"""Inventory: items, locations, item-locations (policy + materialised position), the movement
ledger, reported periods, forecasts, VMI programs, proposals, replanning requests and runs.

Revision ID: 0003
Revises: 0002

"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('inv_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('buyer_sku', sa.String(length=64), nullable=True),
    sa.Column('vendor_part', sa.String(length=64), nullable=True),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('pack_size', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('unit', sa.String(length=8), nullable=True),
    sa.Column('bullwhip', sa.Float(), nullable=True),
    sa.Column('bullwhip_periods', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['partners.id'], name=op.f('fk_inv_items_supplier_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inv_items')),
    sa.UniqueConstraint('supplier_id', 'code', name=op.f('uq_inv_items_supplier_id_code'))
    )
    op.create_index(op.f('ix_inv_items_buyer_sku'), 'inv_items', ['buyer_sku'], unique=False)
    op.create_index(op.f('ix_inv_items_gtin'), 'inv_items', ['gtin'], unique=False)
    op.create_index(op.f('ix_inv_items_vendor_part'), 'inv_items', ['vendor_part'], unique=False)
    op.create_table('inv_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('gln', sa.String(length=13), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('partner_code', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['partners.id'], name=op.f('fk_inv_locations_customer_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inv_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_inv_locations_code')),
    sa.UniqueConstraint('customer_id', 'partner_code', name=op.f('uq_inv_locations_customer_id_partner_code')),
    sa.UniqueConstraint('gln', name=op.f('uq_inv_locations_gln'))
    )
    op.create_table('inv_programs',
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('order_document', sa.String(length=24), nullable=False),
    sa.Column('po_prefix', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['partners.id'], name=op.f('fk_inv_programs_customer_id_partners')),
    sa.ForeignKeyConstraint(['supplier_id'], ['partners.id'], name=op.f('fk_inv_programs_supplier_id_partners')),
    sa.PrimaryKeyConstraint('supplier_id', 'customer_id', name=op.f('pk_inv_programs'))
    )
    op.create_table('inv_replan_requests',
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.Float(), nullable=False),
    sa.Column('requested_at', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['partners.id'], name=op.f('fk_inv_replan_requests_supplier_id_partners')),
    sa.PrimaryKeyConstraint('supplier_id', name=op.f('pk_inv_replan_requests'))
    )
    op.create_table('inv_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('today', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('item_locations', sa.Integer(), nullable=False),
    sa.Column('proposals', sa.Integer(), nullable=False),
    sa.Column('issues', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['partners.id'], name=op.f('fk_inv_runs_supplier_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inv_runs'))
    )
    op.create_table('inv_item_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('location_code', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('min_qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('max_qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('reorder_point', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('safety_stock_qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('safety_stock_days', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('service_level', sa.Float(), nullable=True),
    sa.Column('min_days_of_supply', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('target_days_of_supply', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('review_period_days', sa.Integer(), nullable=False),
    sa.Column('pack_multiple', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('min_order_qty', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('demand_window_days', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('use_forecast', sa.Boolean(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('in_transit', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('on_order', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('avg_daily', sa.Float(), nullable=False),
    sa.Column('days_of_supply', sa.Float(), nullable=True),
    sa.Column('min_level', sa.Float(), nullable=True),
    sa.Column('max_level', sa.Float(), nullable=True),
    sa.Column('reorder_level', sa.Float(), nullable=True),
    sa.Column('target_level', sa.Float(), nullable=True),
    sa.Column('stockout_date', sa.Date(), nullable=True),
    sa.Column('flags', sa.String(length=80), nullable=False),
    sa.Column('demand_source', sa.String(length=8), nullable=False),
    sa.Column('flag_bits', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['inv_items.id'], name=op.f('fk_inv_item_locations_item_id_inv_items')),
    sa.ForeignKeyConstraint(['location_id'], ['inv_locations.id'], name=op.f('fk_inv_item_locations_location_id_inv_locations')),
    sa.ForeignKeyConstraint(['supplier_id'], ['partners.id'], name=op.f('fk_inv_item_locations_supplier_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inv_item_locations')),
    sa.UniqueConstraint('item_id', 'location_id', name=op.f('uq_inv_item_locations_item_id_location_id'))
    )
    op.create_index(op.f('ix_inv_item_locations_location_id'), 'inv_item_locations', ['location_id'], unique=False)
    op.create_index(op.f('ix_inv_item_locations_supplier_id_days_of_supply_item_code_location_code'), 'inv_item_locations', ['supplier_id', 'days_of_supply', 'item_code', 'location_code'], unique=False)
    op.create_index(op.f('ix_inv_item_locations_supplier_id_on_hand_item_code_location_code'), 'inv_item_locations', ['supplier_id', 'on_hand', 'item_code', 'location_code'], unique=False)
    op.create_index('ix_inv_item_locations_exceptions', 'inv_item_locations', ['supplier_id', 'item_code', 'location_code'], unique=False, postgresql_where=sa.text('flag_bits <> 0'), sqlite_where=sa.text('flag_bits <> 0'))
    for bit in (1, 2, 4, 8):  # one per exception flag (inventory.store.FLAG_BITS)
        op.create_index(f'ix_inv_item_locations_flag_{bit}', 'inv_item_locations', ['supplier_id', 'item_code', 'location_code'], unique=False, postgresql_where=sa.text(f'flag_bits & {bit} <> 0'), sqlite_where=sa.text(f'flag_bits & {bit} <> 0'))
    op.create_index('ix_inv_item_locations_item_prefix', 'inv_item_locations', ['supplier_id', 'item_code'], unique=False, postgresql_ops={'item_code': 'varchar_pattern_ops'})
    op.create_index('ix_inv_item_locations_location_prefix', 'inv_item_locations', ['supplier_id', 'location_code'], unique=False, postgresql_ops={'location_code': 'varchar_pattern_ops'})
    op.create_index(op.f('ix_inv_item_locations_supplier_id_item_code_location_code'), 'inv_item_locations', ['supplier_id', 'item_code', 'location_code'], unique=False)
    op.create_index(op.f('ix_inv_item_locations_supplier_id_location_code_item_code'), 'inv_item_locations', ['supplier_id', 'location_code', 'item_code'], unique=False)
    op.create_table('inv_reported_periods',
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['location_id'], ['inv_locations.id'], name=op.f('fk_inv_reported_periods_location_id_inv_locations')),
    sa.PrimaryKeyConstraint('location_id', 'period_start', 'period_end', name=op.f('pk_inv_reported_periods'))
    )
    op.create_table('inv_forecasts',
    sa.Column('item_location_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('firm', sa.Boolean(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_location_id'], ['inv_item_locations.id'], name=op.f('fk_inv_forecasts_item_location_id_inv_item_locations')),
    sa.PrimaryKeyConstraint('item_location_id', 'period_start', 'period_end', name=op.f('pk_inv_forecasts'))
    )
    op.create_table('inv_movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=32), nullable=False),
    sa.Column('item_location_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('order_ref', sa.String(length=80), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('document_type', sa.String(length=16), nullable=False),
    sa.Column('business_key', sa.String(length=120), nullable=False),
    sa.Column('line', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['item_location_id'], ['inv_item_locations.id'], name=op.f('fk_inv_movements_item_location_id_inv_item_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inv_movements')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_inv_movements_idempotency_key'))
    )
    op.create_index(op.f('ix_inv_movements_item_location_id_effective'), 'inv_movements', ['item_location_id', 'effective'], unique=False)
    op.create_index(op.f('ix_inv_movements_order_ref'), 'inv_movements', ['order_ref'], unique=False)
    op.create_table('inv_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_location_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('approved_quantity', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('needed_by', sa.Date(), nullable=False),
    sa.Column('order_by', sa.Date(), nullable=False),
    sa.Column('expedite', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('flags', sa.String(length=80), nullable=False),
    sa.Column('projected_balance', sa.Float(), nullable=False),
    sa.Column('trigger_level', sa.Float(), nullable=False),
    sa.Column('target_level', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=160), nullable=True),
    sa.Column('po_number', sa.String(length=80), nullable=True),
    sa.Column('message_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['item_location_id'], ['inv_item_locations.id'], name=op.f('fk_inv_proposals_item_location_id_inv_item_locations')),
    sa.ForeignKeyConstraint(['supplier_id'], ['partners.id'], name=op.f('fk_inv_proposals_supplier_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inv_proposals')),
    sa.UniqueConstraint('po_number', name=op.f('uq_inv_proposals_po_number'))
    )
    op.create_index(op.f('ix_inv_proposals_item_location_id_state'), 'inv_proposals', ['item_location_id', 'state'], unique=False)
    op.create_index(op.f('ix_inv_proposals_supplier_id_state_needed_by'), 'inv_proposals', ['supplier_id', 'state', 'needed_by'], unique=False)


def downgrade() -> None:
    """Downgrade schema (indexes go with their tables)."""
    op.drop_table('inv_proposals')
    op.drop_table('inv_movements')
    op.drop_table('inv_forecasts')
    op.drop_table('inv_reported_periods')
    op.drop_table('inv_item_locations')
    op.drop_table('inv_runs')
    op.drop_table('inv_replan_requests')
    op.drop_table('inv_programs')
    op.drop_table('inv_locations')
    op.drop_table('inv_items')
