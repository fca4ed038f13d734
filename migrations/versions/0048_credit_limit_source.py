"""credit: a credit limit version says where its value came from (source: ``model``, the
suggestion approved as it was; ``manual``, a value the controller set, beside a suggestion
or not): the limit history tagged every override that named the suggestion it overrode as
the model's (trial finding 30). Existing versions: ``model`` where the version names a
suggestion and its value is that suggestion's, else ``manual``

Revision ID: 0048_credit_limit_source
Revises: 0047_supplier_payment_numbers
Create Date: 2026-12-01 18:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0048_credit_limit_source'
down_revision: str | Sequence[str] | None = '0047_supplier_payment_numbers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'credit_limits'


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as table:
        table.add_column(sa.Column('source', sa.Enum('model', 'manual', name='credit_limit_source', native_enum=False,
                                                     create_constraint=True, length=32),
                                   nullable=False, server_default='manual'))
    # An approval stored the suggestion's value; an override stored its own (a value equal to
    # the suggestion's is the model's value whichever way it was entered).
    op.execute(f"UPDATE {TABLE} SET source = 'model' WHERE suggestion_id IS NOT NULL AND credit_limit = "
               f"(SELECT s.suggested_limit FROM credit_limit_suggestions s WHERE s.id = {TABLE}.suggestion_id)")


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as table:
        table.drop_constraint(op.f('ck_credit_limits_credit_limit_source'), type_='check')
        table.drop_column('source')
