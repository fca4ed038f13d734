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
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
            batch.add_column(sa.Column('import_row', sa.Integer(), nullable=True))
            batch.create_foreign_key(f'fk_{table}_import_batch_id_import_batches', 'import_batches',
                                     ['import_batch_id'], ['id'])
        # Records imported before: their row in import_records says which import and row.
        op.execute(sa.text(
            f"UPDATE {table} SET import_batch_id = (SELECT r.batch_id FROM import_records r "
            f"WHERE r.entity = '{table}' AND r.record_id = {table}.id), "
            f"import_row = (SELECT r.row_number FROM import_records r "
            f"WHERE r.entity = '{table}' AND r.record_id = {table}.id)"
            f" WHERE id IN (SELECT record_id FROM import_records WHERE entity = '{table}')"))
        op.execute(sa.text(f"DELETE FROM import_records WHERE entity = '{table}'"))


def downgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(
            f"INSERT INTO import_records (batch_id, entity, record_id, row_number) "
            f"SELECT import_batch_id, '{table}', id, import_row FROM {table} WHERE import_batch_id IS NOT NULL"))
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_import_batch_id_import_batches', type_='foreignkey')
            batch.drop_column('import_row')
            batch.drop_column('import_batch_id')
