"""receivable customer snapshots: each customer's position and ageing at a month end, and
the orders credit control held then, beside the company snapshots of 0024

Revision ID: 0028_customer_snapshots
Revises: 0027_production_orders
Create Date: 2026-11-29 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0028_customer_snapshots'
down_revision: str | Sequence[str] | None = '0027_production_orders'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = ('open_amount', 'overdue', 'not_due', 'days_1_30', 'days_31_60', 'days_61_90', 'over_90')


def upgrade() -> None:
    with op.batch_alter_table('receivable_snapshot_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_orders', sa.Integer(), nullable=True))
    op.create_table('receivable_customer_snapshots',
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('open_invoices', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('open_orders', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('exposure', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('approved_limit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('on_hold', sa.Boolean(), nullable=False),
    *(sa.Column(name, sa.Numeric(precision=18, scale=2), nullable=False) for name in AMOUNTS),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_receivable_customer_snapshots_customer_id_customers')),
    sa.ForeignKeyConstraint(['month_end'], ['receivable_snapshot_runs.month_end'],
                            name=op.f('fk_receivable_customer_snapshots_month_end_receivable_snapshot_runs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('month_end', 'customer_id', name=op.f('pk_receivable_customer_snapshots'))
    )
    with op.batch_alter_table('receivable_customer_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_receivable_customer_snapshots_exposure', ['month_end', 'exposure'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('receivable_customer_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_receivable_customer_snapshots_exposure')
    op.drop_table('receivable_customer_snapshots')
    with op.batch_alter_table('receivable_snapshot_runs', schema=None) as batch_op:
        batch_op.drop_column('held_orders')
