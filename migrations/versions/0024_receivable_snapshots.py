"""receivable snapshots: the consolidated receivables per company at each month end, with
the watermarks that tell whether a snapshot is still fresh; a partial index of payments
with money not yet applied

Revision ID: 0024_receivable_snapshots
Revises: 0023_payables
Create Date: 2026-11-29 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0024_receivable_snapshots'
down_revision: str | Sequence[str] | None = '0023_payables'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ('open_amount', 'overdue', 'not_due', 'days_1_30', 'days_31_60', 'days_61_90', 'over_90',
           'intercompany_open')


def upgrade() -> None:
    op.create_table('receivable_snapshot_runs',
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('invoices_upto', sa.Integer(), nullable=False),
    sa.Column('payment_applications_upto', sa.Integer(), nullable=False),
    sa.Column('credit_note_applications_upto', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month_end', name=op.f('pk_receivable_snapshot_runs'))
    )
    op.create_table('receivable_snapshots',
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    *(sa.Column(name, sa.Numeric(precision=18, scale=2), nullable=False) for name in FIGURES),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'],
                            name=op.f('fk_receivable_snapshots_company_id_companies')),
    sa.ForeignKeyConstraint(['month_end'], ['receivable_snapshot_runs.month_end'],
                            name=op.f('fk_receivable_snapshots_month_end_receivable_snapshot_runs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('month_end', 'company_id', name=op.f('pk_receivable_snapshots'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_unapplied', ['payment_date', 'company_id', 'customer_id',
                                                        'unapplied_amount'], unique=False,
                              postgresql_where=sa.text('unapplied_amount > 0'),
                              sqlite_where=sa.text('unapplied_amount > 0'))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_unapplied', postgresql_where=sa.text('unapplied_amount > 0'),
                            sqlite_where=sa.text('unapplied_amount > 0'))
    op.drop_table('receivable_snapshots')
    op.drop_table('receivable_snapshot_runs')
