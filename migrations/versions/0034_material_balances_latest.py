"""costing: a close writes material balances only for the materials that moved; the index
that finds each material's latest balance, and the close's totals kept with the period

Revision ID: 0034_material_balances_latest
Revises: 0033_opening_stock_lots
Create Date: 2026-11-30 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0034_material_balances_latest'
down_revision: str | Sequence[str] | None = '0033_opening_stock_lots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows stay: a material's balance is its latest row's, whether or not the
    # closes before this one also wrote the months it did not move.
    op.create_index('ix_material_period_balances_latest', 'material_period_balances',
                    ['company_id', 'material_id', 'period'],
                    postgresql_include=['closing_quantity', 'closing_value', 'closing_variance'])
    with op.batch_alter_table('accounting_periods') as batch:
        batch.add_column(sa.Column('close_materials', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('variance_allocated', sa.Numeric(18, 2), nullable=True))
        batch.add_column(sa.Column('variance_remaining', sa.Numeric(18, 2), nullable=True))
    # The closes so far wrote a row for every material carrying stock, so their totals are
    # their rows' sums (a closed period without rows: zero).
    op.execute("""
        UPDATE accounting_periods SET
            close_materials = (SELECT count(*) FROM material_period_balances b
                               WHERE b.company_id = accounting_periods.company_id
                                 AND b.period = accounting_periods.period),
            variance_allocated = (SELECT coalesce(sum(b.consumption_variance), 0) FROM material_period_balances b
                                  WHERE b.company_id = accounting_periods.company_id
                                    AND b.period = accounting_periods.period),
            variance_remaining = (SELECT coalesce(sum(b.closing_variance), 0) FROM material_period_balances b
                                  WHERE b.company_id = accounting_periods.company_id
                                    AND b.period = accounting_periods.period)
        WHERE status = 'closed'
    """)


def downgrade() -> None:
    # The balances of the months a material did not move are not written back: the code
    # before this revision would read them as missing (no stock carried).
    with op.batch_alter_table('accounting_periods') as batch:
        batch.drop_column('variance_remaining')
        batch.drop_column('variance_allocated')
        batch.drop_column('close_materials')
    op.drop_index('ix_material_period_balances_latest', table_name='material_period_balances')
