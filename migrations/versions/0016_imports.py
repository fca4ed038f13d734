"""imports: committed import batches (content checksum) and the records each wrote

Revision ID: 0016_imports
Revises: 0015_credit_model
Create Date: 2026-11-29 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016_imports'
down_revision: str | Sequence[str] | None = '0015_credit_model'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('company_key', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'committed', 'undone', name='import_status', native_enum=False,
                                create_constraint=True, length=32), nullable=False),
    sa.Column('summary', JSON_DOCUMENT, nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_import_batches_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_import_batches_created_by_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_import_batches_job_id_jobs')),
    sa.ForeignKeyConstraint(['undone_by'], ['users.id'], name=op.f('fk_import_batches_undone_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    op.create_index('ux_import_batches_checksum', 'import_batches', ['kind', 'company_key', 'checksum'], unique=True,
                    postgresql_where=sa.text("status = 'committed'"), sqlite_where=sa.text("status = 'committed'"))
    op.create_table('import_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_records_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_records'))
    )
    op.create_index('ix_import_records_batch', 'import_records', ['batch_id', 'entity', 'record_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_import_records_batch', table_name='import_records')
    op.drop_table('import_records')
    op.drop_index('ux_import_batches_checksum', table_name='import_batches')
    op.drop_table('import_batches')
