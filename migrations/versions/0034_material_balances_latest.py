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


# Per closed period, every material with a balance row in an earlier period but none in this
# one: its latest earlier closing carried (opening = closing, nothing moved), as the code
# before this revision wrote and reads it (erp.costing.balances.period_balances builds the same;
# ``* 1.0``: SQLite divides whole numbers as integers).
CARRIED_FORWARD = """
    INSERT INTO material_period_balances (
        company_id, period, material_id, opening_quantity, opening_value, opening_variance,
        receipts_quantity, receipts_value, receipts_variance, other_inflow_quantity, other_inflow_value,
        consumption_quantity, consumption_value, consumption_variance, variance_rate,
        closing_quantity, closing_value, closing_variance)
    SELECT ap.company_id, ap.period, b.material_id, b.closing_quantity, b.closing_value, b.closing_variance,
           0, 0, 0, 0, 0, 0, 0, 0,
           CASE WHEN b.closing_value <> 0 THEN b.closing_variance * 1.0 / b.closing_value ELSE 0 END,
           b.closing_quantity, b.closing_value, b.closing_variance
    FROM accounting_periods ap
    JOIN material_period_balances b ON b.company_id = ap.company_id AND b.period < ap.period
    WHERE ap.status = 'closed'
      AND b.period = (SELECT max(e.period) FROM material_period_balances e
                      WHERE e.company_id = b.company_id AND e.material_id = b.material_id
                        AND e.period <= ap.period)
"""


def downgrade() -> None:
    # The code before this revision reads a closed period's balances from that period's rows
    # alone: write the months a material did not move back first.
    op.execute(CARRIED_FORWARD)
    with op.batch_alter_table('accounting_periods') as batch:
        batch.drop_column('variance_remaining')
        batch.drop_column('variance_allocated')
        batch.drop_column('close_materials')
    op.drop_index('ix_material_period_balances_latest', table_name='material_period_balances')
