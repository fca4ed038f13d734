"""costing: material_period_balances keyed by (company, material, period) with the closing
figures included in the key's index, which replaces both the key in (company, period,
material) order and the unique latest-balance index

Revision ID: 0039_material_balances_one_key
Revises: 0038_latest_balance_unique
Create Date: 2026-11-30 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0039_material_balances_one_key'
down_revision: str | Sequence[str] | None = '0038_latest_balance_unique'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'material_period_balances'
KEY = 'pk_material_period_balances'
LATEST = 'ix_material_period_balances_latest'
INCLUDE = ['closing_quantity', 'closing_value', 'closing_variance']


def upgrade() -> None:
    # The same columns were indexed twice: the key (company, period, material) and the
    # unique index (company, material, period) INCLUDE (closing figures) that a close looks
    # each material's latest balance up along. The month-end close writes 19,190 rows on the
    # generated group's month, each an entry in both; one key in the lookup's order serves
    # every reader (the lookup, erp.costing.balances' DISTINCT ON, the deletes of a reopened
    # period by company and period) and saves the close one index entry a row
    # (docs/performance.md, "Session of 30 November, afternoon").
    op.drop_index(LATEST, table_name=TABLE)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT {KEY}')
        op.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT {KEY} PRIMARY KEY (company_id, material_id, period) '
                   f'INCLUDE ({", ".join(INCLUDE)})')
    else:
        with op.batch_alter_table(TABLE) as batch:
            batch.drop_constraint(KEY, type_='primary')
            batch.create_primary_key(KEY, ['company_id', 'material_id', 'period'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT {KEY}')
        op.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT {KEY} PRIMARY KEY (company_id, period, material_id)')
    else:
        with op.batch_alter_table(TABLE) as batch:
            batch.drop_constraint(KEY, type_='primary')
            batch.create_primary_key(KEY, ['company_id', 'period', 'material_id'])
    op.create_index(LATEST, TABLE, ['company_id', 'material_id', 'period'], unique=True,
                    postgresql_include=INCLUDE)
