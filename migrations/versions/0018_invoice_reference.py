"""invoices: the old system's number of receivables taken over at go-live, unique per company

Revision ID: 0018_invoice_reference
Revises: 0017_opening_balances_account
Create Date: 2026-11-29 18:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018_invoice_reference'
down_revision: str | Sequence[str] | None = '0017_opening_balances_account'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
    op.create_index("uq_invoices_company_reference", "invoices", ["company_id", "reference"], unique=True,
                    postgresql_where=sa.text("reference IS NOT NULL"), sqlite_where=sa.text("reference IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_invoices_company_reference", table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("reference")
