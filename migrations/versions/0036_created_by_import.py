"""golive: master records an import creates carry the import and their file row
(import_batch_id, import_row) instead of an import_records row and an audit row each

Revision ID: 0036_created_by_import
Revises: 0035_value_without_quantity
Create Date: 2026-11-30 07:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0036_created_by_import'
down_revision: str | Sequence[str] | None = '0035_value_without_quantity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('warehouses', 'materials', 'suppliers', 'customers')


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        if sqlite and 'import_batch_id' in {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}:
            pass  # left by a downgrade on SQLite (below), empty
        elif sqlite:
            # SQLite cannot add a constraint to a table, and rebuilding it (batch mode) would
            # trip over every foreign key pointing at it; it does take a new column with its
            # reference (https://sqlite.org/lang_altertable.html), as in 0019.
            op.execute(f"ALTER TABLE {table} ADD COLUMN import_batch_id INTEGER "
                       f"CONSTRAINT fk_{table}_import_batch_id_import_batches REFERENCES import_batches (id)")
            op.execute(f"ALTER TABLE {table} ADD COLUMN import_row INTEGER")
        else:
            op.add_column(table, sa.Column('import_batch_id', sa.Integer(), nullable=True))
            op.add_column(table, sa.Column('import_row', sa.Integer(), nullable=True))
            op.create_foreign_key(f'fk_{table}_import_batch_id_import_batches', table, 'import_batches',
                                  ['import_batch_id'], ['id'])
        # Records imported before: their row in import_records says which import and row.
        # Only a committed import's (an undone one's rows stay in import_records, and SQLite
        # may have given its deleted records' ids to new ones); the latest if several.
        op.execute(sa.text(
            f"UPDATE {table} SET import_batch_id = r.batch_id, import_row = r.row_number "
            f"FROM (SELECT r.record_id, r.batch_id, r.row_number, "
            f"      row_number() OVER (PARTITION BY r.record_id ORDER BY r.batch_id DESC) AS latest "
            f"      FROM import_records r JOIN import_batches b ON b.id = r.batch_id "
            f"      WHERE r.entity = '{table}' AND b.status = 'committed') AS r "
            f"WHERE r.latest = 1 AND r.record_id = {table}.id"))
        op.execute(sa.text(f"DELETE FROM import_records WHERE entity = '{table}'"))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        op.execute(sa.text(
            f"INSERT INTO import_records (batch_id, entity, record_id, row_number) "
            f"SELECT import_batch_id, '{table}', id, import_row FROM {table} WHERE import_batch_id IS NOT NULL"))
        if sqlite:
            # A column with a reference cannot be dropped in SQLite, only the table rebuilt,
            # which the foreign keys pointing at it refuse while there are rows: the columns
            # stay, emptied, and unused by the code of 0035 (0036 reads them back if present).
            op.execute(f"UPDATE {table} SET import_batch_id = NULL, import_row = NULL")
            continue
        op.drop_constraint(f'fk_{table}_import_batch_id_import_batches', table, type_='foreignkey')
        op.drop_column(table, 'import_row')
        op.drop_column(table, 'import_batch_id')
