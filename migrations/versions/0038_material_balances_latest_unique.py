"""costing: the index a close looks up each material's latest balance along
(ix_material_period_balances_latest) becomes unique, so that rows a rolled-back close (the
close preview, a failed close) leaves dead are removed from it by the next close's inserts

Revision ID: 0038_latest_balance_unique
Revises: 0037_close_tables_natural_keys
Create Date: 2026-11-30 11:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0038_latest_balance_unique'
down_revision: str | Sequence[str] | None = '0037_close_tables_natural_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ['company_id', 'material_id', 'period']
INCLUDE = ['closing_quantity', 'closing_value', 'closing_variance']


def upgrade() -> None:
    # (company, material, period) is unique already (the primary key's columns in another
    # order). Declared unique, the index is checked on every insert, and PostgreSQL's check
    # marks the dead entries of the same key it passes (those a rolled-back close wrote), so
    # that a full page drops them instead of splitting: the index stays at its live size
    # without VACUUM, as the primary key does. Not unique, on the generated data set after
    # the benchmarks' rolled-back closes it had grown to 491 MB (12 MB rebuilt) against the
    # primary key's 7 MB, and each of a close's 19,190 opening lookups read a page of its
    # own (docs/performance.md, close run 6). Recreated, which also drops what it held dead.
    op.drop_index('ix_material_period_balances_latest', table_name='material_period_balances')
    op.create_index('ix_material_period_balances_latest', 'material_period_balances', COLUMNS, unique=True,
                    postgresql_include=INCLUDE)


def downgrade() -> None:
    op.drop_index('ix_material_period_balances_latest', table_name='material_period_balances')
    op.create_index('ix_material_period_balances_latest', 'material_period_balances', COLUMNS,
                    postgresql_include=INCLUDE)
