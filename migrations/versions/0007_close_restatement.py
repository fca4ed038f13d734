"""costing: the restatement a close made, so a reopen can undo it

Revision ID: 0007_close_restatement
Revises: 0006_balance_last_posting_date
Create Date: 2026-11-27 01:40:12.287708
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_close_restatement'
down_revision: str | Sequence[str] | None = '0006_balance_last_posting_date'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('period_events') as table:
        table.add_column(sa.Column('stock_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                   nullable=True))
        table.create_foreign_key(op.f('fk_period_events_stock_document_id_stock_documents'), 'stock_documents',
                                 ['stock_document_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('period_events') as table:
        table.drop_constraint(op.f('fk_period_events_stock_document_id_stock_documents'), type_='foreignkey')
        table.drop_column('stock_document_id')
