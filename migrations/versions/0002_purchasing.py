"""purchasing: contracts, exceptions, purchase orders

Revision ID: 0002_purchasing
Revises: 0001_foundation
Create Date: 2026-11-27 00:14:51.668416
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_purchasing'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('document_sequences',
    sa.Column('series', sa.String(length=64), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_document_sequences'))
    )
    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('group', 'company', name='contract_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'expired', 'terminated', name='contract_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('terminated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('terminated_by', sa.Integer(), nullable=True),
    sa.Column('termination_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("(scope = 'group' AND company_id IS NULL) OR (scope = 'company' AND company_id IS NOT NULL)", name=op.f('ck_contracts_scope_company')),
    sa.CheckConstraint('valid_from <= valid_to', name=op.f('ck_contracts_validity')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_contracts_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_contracts_created_by_users')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_contracts_supplier_id_suppliers')),
    sa.ForeignKeyConstraint(['terminated_by'], ['users.id'], name=op.f('fk_contracts_terminated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('number', name=op.f('uq_contracts_number'))
    )
    op.create_index(op.f('ix_contracts_company_id'), 'contracts', ['company_id'], unique=False)
    op.create_index('ix_contracts_supplier_validity', 'contracts', ['supplier_id', 'valid_from', 'valid_to'], unique=False)
    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=50), nullable=False),
    sa.Column('purchasing_company_id', sa.Integer(), nullable=True),
    sa.Column('receiving_company_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'pending_approval', 'open', 'partially_received', 'received', 'closed', 'cancelled', name='purchase_order_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_purchase_orders_approved_by_users')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['users.id'], name=op.f('fk_purchase_orders_cancelled_by_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_purchase_orders_created_by_users')),
    sa.ForeignKeyConstraint(['purchasing_company_id'], ['companies.id'], name=op.f('fk_purchase_orders_purchasing_company_id_companies')),
    sa.ForeignKeyConstraint(['receiving_company_id'], ['companies.id'], name=op.f('fk_purchase_orders_receiving_company_id_companies')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    op.create_index('ix_purchase_orders_company_status', 'purchase_orders', ['receiving_company_id', 'status'], unique=False)
    op.create_index(op.f('ix_purchase_orders_supplier_id'), 'purchase_orders', ['supplier_id'], unique=False)
    op.create_table('purchasing_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('valid_from <= valid_to', name=op.f('ck_purchasing_exceptions_validity')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_purchasing_exceptions_company_id_companies')),
    sa.ForeignKeyConstraint(['granted_by'], ['users.id'], name=op.f('fk_purchasing_exceptions_granted_by_users')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_purchasing_exceptions_material_id_materials')),
    sa.ForeignKeyConstraint(['revoked_by'], ['users.id'], name=op.f('fk_purchasing_exceptions_revoked_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_exceptions'))
    )
    op.create_index('ix_purchasing_exceptions_lookup', 'purchasing_exceptions', ['company_id', 'material_id', 'valid_from'], unique=False)
    op.create_table('contract_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('target_quantity', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('ordered_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('ordered_quantity >= 0', name=op.f('ck_contract_lines_ordered_not_negative')),
    sa.CheckConstraint('target_quantity IS NULL OR target_quantity > 0', name=op.f('ck_contract_lines_target_positive')),
    sa.CheckConstraint('unit_price > 0', name=op.f('ck_contract_lines_price_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_lines_contract_id_contracts')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_contract_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_contract_lines_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_lines')),
    sa.UniqueConstraint('contract_id', 'material_id', name=op.f('uq_contract_lines_contract_id_material_id'))
    )
    op.create_index('ix_contract_lines_material', 'contract_lines', ['material_id'], unique=False)
    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('contract_line_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('received_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_order_lines_quantity_positive')),
    sa.CheckConstraint('received_quantity >= 0', name=op.f('ck_purchase_order_lines_received_not_negative')),
    sa.ForeignKeyConstraint(['contract_line_id'], ['contract_lines.id'], name=op.f('fk_purchase_order_lines_contract_line_id_contract_lines')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_purchase_order_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_order_id_purchase_orders')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_purchase_order_lines_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('order_id', 'line_no', name=op.f('uq_purchase_order_lines_order_id_line_no'))
    )
    op.create_index('ix_purchase_order_lines_contract_line', 'purchase_order_lines', ['contract_line_id'], unique=False)
    op.create_index('ix_purchase_order_lines_warehouse', 'purchase_order_lines', ['warehouse_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_purchase_order_lines_warehouse', table_name='purchase_order_lines')
    op.drop_index('ix_purchase_order_lines_contract_line', table_name='purchase_order_lines')
    op.drop_table('purchase_order_lines')
    op.drop_index('ix_contract_lines_material', table_name='contract_lines')
    op.drop_table('contract_lines')
    op.drop_index('ix_purchasing_exceptions_lookup', table_name='purchasing_exceptions')
    op.drop_table('purchasing_exceptions')
    op.drop_index(op.f('ix_purchase_orders_supplier_id'), table_name='purchase_orders')
    op.drop_index('ix_purchase_orders_company_status', table_name='purchase_orders')
    op.drop_table('purchase_orders')
    op.drop_index('ix_contracts_supplier_validity', table_name='contracts')
    op.drop_index(op.f('ix_contracts_company_id'), table_name='contracts')
    op.drop_table('contracts')
    op.drop_table('document_sequences')
