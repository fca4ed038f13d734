"""production order variances by category and their settlement entries

Revision ID: 0029_production_variances
Revises: 0028_customer_snapshots
Create Date: 2026-11-29 22:12:24.621005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0029_production_variances'
down_revision: str | Sequence[str] | None = '0028_customer_snapshots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('production_settlements',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_production_settlements_company_id_companies')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_production_settlements_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('company_id', 'period', name=op.f('pk_production_settlements'))
    )
    op.create_table('production_order_variances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('input_quantity', 'input_price', 'lot_size', name='variance_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('component_id', sa.Integer(), nullable=True),
    sa.Column('actual_quantity', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('target_quantity', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_production_order_variances_company_id_companies')),
    sa.ForeignKeyConstraint(['component_id'], ['materials.id'], name=op.f('fk_production_order_variances_component_id_materials')),
    sa.ForeignKeyConstraint(['order_id'], ['production_orders.id'], name=op.f('fk_production_order_variances_order_id_production_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_order_variances'))
    )
    op.create_index('ix_production_order_variances_company_period', 'production_order_variances', ['company_id', 'period'], unique=False)
    op.create_index('ix_production_order_variances_order', 'production_order_variances', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_production_order_variances_order', table_name='production_order_variances')
    op.drop_index('ix_production_order_variances_company_period', table_name='production_order_variances')
    op.drop_table('production_order_variances')
    op.drop_table('production_settlements')
