"""tax codes: China VAT codes with validity, a default per material, supplier and customer; the
payables and VAT accounts 2202, 2221.01.01 (input VAT), 2221.01.02 (output VAT)

Revision ID: 0019_tax_codes
Revises: 0018_invoice_reference
Create Date: 2026-11-29 18:26:01.400040
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019_tax_codes'
down_revision: str | Sequence[str] | None = '0018_invoice_reference'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULTED = ('materials', 'suppliers', 'customers')
ACCOUNTS = sa.table("accounts", sa.column("code", sa.String), sa.column("name_zh", sa.String),
                    sa.column("name_en", sa.String), sa.column("kind", sa.String))


def upgrade() -> None:
    op.create_table('tax_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('standard', 'zero', 'exempt', name='tax_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind = 'standard' OR rate = 0", name=op.f('ck_tax_codes_zero_rate')),
    sa.CheckConstraint('rate >= 0 AND rate <= 100', name=op.f('ck_tax_codes_rate_range')),
    sa.CheckConstraint('valid_to IS NULL OR valid_from <= valid_to', name=op.f('ck_tax_codes_validity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_tax_codes_code'))
    )
    for table in DEFAULTED:
        if op.get_bind().dialect.name == "sqlite":
            # SQLite cannot add a constraint to a table, and rebuilding materials (batch mode)
            # would trip over every foreign key pointing at it; it does take a new column
            # with its reference (https://sqlite.org/lang_altertable.html).
            op.execute(f"ALTER TABLE {table} ADD COLUMN default_tax_code_id INTEGER "
                       f"CONSTRAINT fk_{table}_default_tax_code_id_tax_codes REFERENCES tax_codes (id)")
            continue
        op.add_column(table, sa.Column('default_tax_code_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(f'fk_{table}_default_tax_code_id_tax_codes'), table, 'tax_codes',
                              ['default_tax_code_id'], ['id'])
    op.bulk_insert(ACCOUNTS, [
        {"code": "2202", "name_zh": "应付账款", "name_en": "Accounts payable", "kind": "liability"},
        {"code": "2221.01.01", "name_zh": "应交税费-应交增值税(进项税额)", "name_en": "Input VAT",
         "kind": "asset"},
        {"code": "2221.01.02", "name_zh": "应交税费-应交增值税(销项税额)", "name_en": "Output VAT",
         "kind": "liability"},
    ])


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE code IN ('2202', '2221.01.01', '2221.01.02')")
    for table in DEFAULTED:
        with op.batch_alter_table(table) as batch_op:
            if op.get_bind().dialect.name != "sqlite":
                batch_op.drop_constraint(op.f(f'fk_{table}_default_tax_code_id_tax_codes'), type_='foreignkey')
            batch_op.drop_column('default_tax_code_id')
    op.drop_table('tax_codes')
