"""costing: the close's derived tables are keyed by what they describe: variance_allocations
by (company, period, material, account), material_period_balances by (company, period,
material); their surrogate ids go

Revision ID: 0037_close_tables_natural_keys
Revises: 0036_created_by_import
Create Date: 2026-11-30 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0037_close_tables_natural_keys'
down_revision: str | Sequence[str] | None = '0036_created_by_import'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Each table and its natural key (unique since the tables were made).
KEYS = {
    'variance_allocations': ['company_id', 'period', 'material_id', 'account_code'],
    'material_period_balances': ['company_id', 'period', 'material_id'],
}
# The unique constraint that held the key, as the naming convention named it: PostgreSQL
# truncates names to 63 characters (with a hash), SQLite keeps them whole.
UNIQUE = {
    'variance_allocations': {'postgresql': 'uq_variance_allocations_company_id_period_material_id_a_1092',
                             'sqlite': 'uq_variance_allocations_company_id_period_material_id_account_code'},
    'material_period_balances': {'postgresql': 'uq_material_period_balances_company_id_period_material_id',
                                 'sqlite': 'uq_material_period_balances_company_id_period_material_id'},
}


def _unique(table: str) -> str:
    return UNIQUE[table][op.get_bind().dialect.name]


def upgrade() -> None:
    # The month-end close writes tens of thousands of rows into each (34,078 and 19,190 on
    # the generated group's month); a surrogate key costs each row a sequence call and an
    # index entry nothing reads (docs/performance.md). The natural key becomes the primary
    # key: its index replaces the unique constraint's (batch mode: SQLite rebuilds the table).
    for table, columns in KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'pk_{table}', type_='primary')
            batch.drop_column('id')
            batch.drop_constraint(_unique(table), type_='unique')
            batch.create_primary_key(f'pk_{table}', columns)


def downgrade() -> None:
    for table, columns in KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'pk_{table}', type_='primary')
            batch.create_unique_constraint(_unique(table), columns)
        # A new key for every existing row (PostgreSQL numbers them from the sequence the
        # column creates; SQLite's INTEGER PRIMARY KEY is the rowid, numbered as it fills).
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f'ALTER TABLE {table} ADD COLUMN id SERIAL')
            op.create_primary_key(f'pk_{table}', table, ['id'])
        else:
            with op.batch_alter_table(table) as batch:
                batch.add_column(sa.Column('id', sa.Integer(), nullable=False))
                batch.create_primary_key(f'pk_{table}', ['id'])
