"""costing: period totals kept current by postings

Revision ID: 0009_period_totals_kept
Revises: 0008_close_tables_no_fks
Create Date: 2026-11-27 02:26:13.857610
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_period_totals_kept'
down_revision: str | Sequence[str] | None = '0008_close_tables_no_fks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Until now the close rebuilt these rows from the ledger; from now on every posting keeps
    # them current. Rebuild them once from the ledger (internal moves are not totalled).
    op.execute("DELETE FROM period_movement_totals")
    with op.batch_alter_table("period_movement_totals") as table:
        table.alter_column("offset_account", existing_type=sa.String(length=16), nullable=False,
                           server_default="")
        table.drop_index("ix_period_movement_totals_lookup")
        table.create_unique_constraint(
            "uq_period_movement_totals_key",
            ["company_id", "period", "material_id", "close_class", "offset_account"],
        )
    op.execute(
        """
        INSERT INTO period_movement_totals (company_id, period, material_id, close_class, offset_account,
                                            quantity, value, variance)
        SELECT company_id, period, material_id, close_class, coalesce(offset_account, ''),
               sum(quantity), sum(value), sum(variance)
        FROM stock_movements WHERE close_class <> 'internal'
        GROUP BY company_id, period, material_id, close_class, coalesce(offset_account, '')
        """
    )
    with op.batch_alter_table("period_movement_totals") as table:
        table.alter_column("offset_account", existing_type=sa.String(length=16), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("period_movement_totals") as table:
        table.drop_constraint("uq_period_movement_totals_key", type_="unique")
        table.create_index("ix_period_movement_totals_lookup", ["company_id", "period", "material_id"])
        table.alter_column("offset_account", existing_type=sa.String(length=16), nullable=True)
