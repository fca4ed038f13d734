"""purchasing: an order line taken over at go-live keeps the quantity the old system had
received and not invoiced (opening_received_quantity), which the go-live import credits to
GR/IR (2202.01) against the opening balances (4199) so that the invoice's GR/IR debit clears
it as it clears a receipt's credit (finding 131). Lines taken over before keep 0: no entry
was posted for them

Revision ID: 0051_opening_received_quantity
Revises: 0050_company_go_live_date
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0051_opening_received_quantity'
down_revision: str | Sequence[str] | None = '0050_company_go_live_date'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'purchase_order_lines'


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as table:
        table.add_column(sa.Column('opening_received_quantity', sa.Numeric(18, 4), nullable=False,
                                   server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as table:
        table.drop_column('opening_received_quantity')
