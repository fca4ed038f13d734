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
    # Earlier code reads a price only for its own period; periods that now inherit a price
    # would need rows of their own, which a downgrade cannot know to create.
    with op.batch_alter_table("standard_prices") as table:
        table.add_column(sa.Column("carried_forward", sa.Boolean(), nullable=False, server_default=sa.false()))
