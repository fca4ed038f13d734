"""costing: standard prices stay in force until a later period's price is set

Revision ID: 0010_effective_dated_prices
Revises: 0009_period_totals_kept
Create Date: 2026-11-27 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010_effective_dated_prices'
down_revision: str | Sequence[str] | None = '0009_period_totals_kept'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows the close used to copy forward stay: each still states the price in force for its
    # period, so lookups of "latest period at or before" give the same answers.
    with op.batch_alter_table("standard_prices") as table:
        table.drop_column("carried_forward")


def downgrade() -> None:
    # Earlier code reads a price only for its own period: give every existing period the
    # price it inherits now, marked as carried forward.
    with op.batch_alter_table("standard_prices") as table:
        table.add_column(sa.Column("carried_forward", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        """
        INSERT INTO standard_prices (company_id, material_id, period, price, carried_forward, set_by, set_at)
        SELECT ap.company_id, sp.material_id, ap.period, sp.price, true, sp.set_by, sp.set_at
        FROM accounting_periods ap
        JOIN standard_prices sp ON sp.company_id = ap.company_id AND sp.period < ap.period
        WHERE sp.period = (SELECT max(latest.period) FROM standard_prices latest
                           WHERE latest.company_id = sp.company_id AND latest.material_id = sp.material_id
                             AND latest.period <= ap.period)
        """
    )
