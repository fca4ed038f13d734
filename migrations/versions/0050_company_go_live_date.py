"""companies: the go-live date (go_live_date): the day a company's opening balances were
posted; nothing is posted before it (finding 118). NULL for companies not migrated by the
go-live imports.

Revision ID: 0050_company_go_live_date
Revises: 0049_price_reduction_lines
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0050_company_go_live_date'
down_revision: str | Sequence[str] | None = '0049_price_reduction_lines'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place (a batch copy of companies would trip the
    # foreign keys that point at it).
    op.add_column('companies', sa.Column('go_live_date', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column('companies', 'go_live_date')
