"""inventory: the latest posting date of each balance (backdated postings)

Revision ID: 0006_balance_last_posting_date
Revises: 0005_credit
Create Date: 2026-11-27 01:35:50.584856
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_balance_last_posting_date'
down_revision: str | Sequence[str] | None = '0005_credit'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('stock_balances', sa.Column('last_posting_date', sa.Date(), nullable=True))
    # Existing balances: the latest posting date of their ledger rows.
    op.execute(
        """
        UPDATE stock_balances SET last_posting_date = (
            SELECT max(m.posting_date) FROM stock_movements m
            WHERE m.warehouse_id = stock_balances.warehouse_id AND m.material_id = stock_balances.material_id
              AND m.batch_id = stock_balances.batch_id AND m.status = stock_balances.status
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table('stock_balances') as table:
        table.drop_column('last_posting_date')
