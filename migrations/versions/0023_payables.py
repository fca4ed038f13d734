"""payables: supplier invoices and credit memos with matched lines, match tolerances per company,
supplier payments and their allocations; the accounts_payable role

Revision ID: 0023_payables
Revises: 0022_output_vat
Create Date: 2026-11-29 18:38:34.133735
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0023_payables'
down_revision: str | Sequence[str] | None = '0022_output_vat'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = ('steward', 'group_buyer', 'buyer', 'purchasing_manager', 'clerk', 'quality', 'cost_accountant',
                'sales', 'credit_controller', 'cio', 'admin', 'auditor')
ROLES_AFTER = ROLES_BEFORE + ('accounts_payable',)


def _role_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _set_roles(roles: Sequence[str]) -> None:
    """Widen (or narrow back) users' role check; on SQLite by editing the stored table text,
    as migration 0014 does and explains."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", _role_check(roles))
        return
    connection = op.get_bind()
    old, new = _role_check(ROLES_AFTER if roles == ROLES_BEFORE else ROLES_BEFORE), _role_check(roles)
    table_sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").scalar()
    if old not in table_sql:
        raise RuntimeError(f"users' role check is not the expected one: {table_sql}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'",
                               (table_sql.replace(old, new),))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    connection.exec_driver_sql("PRAGMA integrity_check")


def upgrade() -> None:
    _set_roles(ROLES_AFTER)
    op.create_table('payables_tolerances',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('quantity_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('price_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('price_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_amount >= 0', name=op.f('ck_payables_tolerances_price_amount_not_negative')),
    sa.CheckConstraint('price_pct >= 0 AND price_pct <= 100', name=op.f('ck_payables_tolerances_price_pct_range')),
    sa.CheckConstraint('quantity_pct >= 0 AND quantity_pct <= 100', name=op.f('ck_payables_tolerances_quantity_pct_range')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_payables_tolerances_company_id_companies')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_payables_tolerances_updated_by_users')),
    sa.PrimaryKeyConstraint('company_id', name=op.f('pk_payables_tolerances'))
    )
    op.create_table('supplier_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_kind', sa.Enum('invoice', 'credit_memo', name='document_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('invoice_kind', sa.Enum('special', 'ordinary', name='invoice_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('open_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credits_invoice_id', sa.Integer(), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('block_reason', sa.String(length=1000), nullable=True),
    sa.Column('block_messages', sa.JSON(), nullable=True),
    sa.Column('released_by', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.String(length=500), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('blocked = false OR released_at IS NULL', name=op.f('ck_supplier_invoices_released_is_not_blocked')),
    sa.CheckConstraint('gross_total = net_total + tax_total', name=op.f('ck_supplier_invoices_gross_is_net_plus_tax')),
    sa.CheckConstraint('net_total >= 0 AND tax_total >= 0', name=op.f('ck_supplier_invoices_totals_not_negative')),
    sa.CheckConstraint('open_amount >= 0 AND open_amount <= gross_total', name=op.f('ck_supplier_invoices_open_amount_range')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_supplier_invoices_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_supplier_invoices_created_by_users')),
    sa.ForeignKeyConstraint(['credits_invoice_id'], ['supplier_invoices.id'], name=op.f('fk_supplier_invoices_credits_invoice_id_supplier_invoices')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_supplier_invoices_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['released_by'], ['users.id'], name=op.f('fk_supplier_invoices_released_by_users')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_supplier_invoices_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_invoices')),
    sa.UniqueConstraint('supplier_id', 'document_kind', 'number', name=op.f('uq_supplier_invoices_supplier_id_document_kind_number'))
    )
    with op.batch_alter_table('supplier_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_invoices_company_supplier', ['company_id', 'supplier_id', 'due_date'], unique=False)

    op.create_table('supplier_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_supplier_payments_amount_positive')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_supplier_payments_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_supplier_payments_created_by_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_supplier_payments_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_supplier_payments_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_payments'))
    )
    with op.batch_alter_table('supplier_payments', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_payments_company_supplier', ['company_id', 'supplier_id'], unique=False)

    op.create_table('supplier_payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_supplier_payment_allocations_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['supplier_invoices.id'], name=op.f('fk_supplier_payment_allocations_invoice_id_supplier_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['supplier_payments.id'], name=op.f('fk_supplier_payment_allocations_payment_id_supplier_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_payment_allocations'))
    )
    with op.batch_alter_table('supplier_payment_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_payment_allocations_invoice', ['invoice_id'], unique=False)

    op.create_table('supplier_invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('tax_code_id', sa.Integer(), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('contract_price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('grir_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('price_difference', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('open_received_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('quantity_blocked', sa.Boolean(), nullable=False),
    sa.Column('price_blocked', sa.Boolean(), nullable=False),
    sa.Column('return_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_supplier_invoice_lines_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_supplier_invoice_lines_price_not_negative')),
    sa.ForeignKeyConstraint(['invoice_id'], ['supplier_invoices.id'], name=op.f('fk_supplier_invoice_lines_invoice_id_supplier_invoices')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_supplier_invoice_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_lines.id'], name=op.f('fk_supplier_invoice_lines_po_line_id_purchase_order_lines')),
    sa.ForeignKeyConstraint(['return_document_id'], ['stock_documents.id'], name=op.f('fk_supplier_invoice_lines_return_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['tax_code_id'], ['tax_codes.id'], name=op.f('fk_supplier_invoice_lines_tax_code_id_tax_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'line_no', name=op.f('uq_supplier_invoice_lines_invoice_id_line_no'))
    )
    with op.batch_alter_table('supplier_invoice_lines', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_invoice_lines_po_line', ['po_line_id'], unique=False)



def downgrade() -> None:
    _set_roles(ROLES_BEFORE)
    with op.batch_alter_table('supplier_invoice_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_invoice_lines_po_line')

    op.drop_table('supplier_invoice_lines')
    with op.batch_alter_table('supplier_payment_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_payment_allocations_invoice')

    op.drop_table('supplier_payment_allocations')
    with op.batch_alter_table('supplier_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_payments_company_supplier')

    op.drop_table('supplier_payments')
    with op.batch_alter_table('supplier_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_invoices_company_supplier')

    op.drop_table('supplier_invoices')
    op.drop_table('payables_tolerances')
