"""posting: a partial index of the stock balances with value on no quantity, which the
month-end close's restatement search reads instead of every balance

Revision ID: 0035_value_without_quantity
Revises: 0034_material_balances_latest
Create Date: 2026-11-30 04:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0035_value_without_quantity'
down_revision: str | Sequence[str] | None = '0034_material_balances_latest'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_stock_balances_value_without_quantity', 'stock_balances', ['company_id'],
                    postgresql_where=sa.text('quantity = 0 AND value <> 0'),
                    sqlite_where=sa.text('quantity = 0 AND value <> 0'))


def downgrade() -> None:
    op.drop_index('ix_stock_balances_value_without_quantity', table_name='stock_balances')
