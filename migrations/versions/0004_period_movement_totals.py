"""costing: the close's per-period movement totals

Revision ID: 0004_period_movement_totals
Revises: 0003_inventory_costing
Create Date: 2026-11-27 00:43:07.891800
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_period_movement_totals'
down_revision: str | Sequence[str] | None = '0003_inventory_costing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('period_movement_totals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('close_class', sa.String(length=16), nullable=False),
    sa.Column('offset_account', sa.String(length=16), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_movement_totals'))
    )
    op.create_index('ix_period_movement_totals_lookup', 'period_movement_totals', ['company_id', 'period', 'material_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_period_movement_totals_lookup', table_name='period_movement_totals')
    op.drop_table('period_movement_totals')
