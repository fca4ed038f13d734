"""inventory and valuation: chart of accounts, journal, standard prices, periods, batches, stock ledger and balances, idempotency keys

Revision ID: 0003_inventory_costing
Revises: 0002_purchasing
Create Date: 2026-11-27 00:21:44.238976
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003_inventory_costing'
down_revision: str | Sequence[str] | None = '0002_purchasing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The default chart of accounts, frozen here as it was when this migration was written
# (erp/costing/accounts.py holds the same codes for the code that posts).
CHART = [
    ("1002", "银行存款", "Bank", "asset"),
    ("1122", "应收账款", "Accounts receivable", "asset"),
    ("1403", "原材料", "Raw materials", "asset"),
    ("1404", "材料成本差异", "Material cost variance", "asset"),
    ("1405.01", "库存商品-自制半成品", "Intermediates", "asset"),
    ("1405.02", "库存商品-产成品", "Finished goods", "asset"),
    ("1405.03", "库存商品-外购商品", "Trade goods", "asset"),
    ("1411", "周转材料-包装物", "Packaging materials", "asset"),
    ("1901", "待处理财产损溢", "Stock count differences", "asset"),
    ("2202.01", "应付账款-暂估", "Goods received not invoiced", "liability"),
    ("2203", "预收账款", "Customer advances and unapplied payments", "liability"),
    ("6001", "主营业务收入", "Revenue", "revenue"),
    ("5001", "生产成本", "Production (materials consumed)", "expense"),
    ("5101", "制造费用", "Manufacturing overhead (cost centres)", "expense"),
    ("6401", "主营业务成本", "Cost of goods sold", "expense"),
    ("6711", "营业外支出-存货报废", "Scrap and write-offs", "expense"),
]

# Postings are immutable: the database itself refuses to change or remove them.
IMMUTABLE_TABLES = ("stock_movements", "stock_documents", "journal_entries", "journal_lines")


def _make_immutable(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION erp_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is immutable: % refused; post a reversal instead', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'raise_exception';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION erp_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is immutable: {action} refused; post a reversal instead'); END"
            )


def _drop_immutability(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('asset', 'liability', 'equity', 'revenue', 'expense', name='account_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_accounts'))
    )
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('batch_number', sa.String(length=40), nullable=False),
    sa.Column('manufacture_date', sa.Date(), nullable=True),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expiry_date IS NULL OR manufacture_date IS NULL OR expiry_date > manufacture_date', name=op.f('ck_batches_dates')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_batches_material_id_materials')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_batches_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('material_id', 'batch_number', name=op.f('uq_batches_material_id_batch_number'))
    )
    op.create_table('journal_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('reverses_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_journal_entries_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_journal_entries_created_by_users')),
    sa.ForeignKeyConstraint(['reverses_entry_id'], ['journal_entries.id'], name=op.f('fk_journal_entries_reverses_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries'))
    )
    op.create_index('ix_journal_entries_company_period', 'journal_entries', ['company_id', 'period'], unique=False)
    op.create_index('ix_journal_entries_source', 'journal_entries', ['source_type', 'source_id'], unique=False)
    op.create_table('material_period_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('opening_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('opening_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('opening_variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('receipts_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('receipts_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('receipts_variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('other_inflow_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('other_inflow_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('consumption_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('consumption_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('consumption_variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('variance_rate', sa.Numeric(precision=20, scale=10), nullable=False),
    sa.Column('closing_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('closing_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('closing_variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_material_period_balances_company_id_companies')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_material_period_balances_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_period_balances')),
    sa.UniqueConstraint('company_id', 'period', 'material_id', name=op.f('uq_material_period_balances_company_id_period_material_id'))
    )
    op.create_table('standard_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('carried_forward', sa.Boolean(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price > 0', name=op.f('ck_standard_prices_price_positive')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_standard_prices_company_id_companies')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_standard_prices_material_id_materials')),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_standard_prices_set_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_prices')),
    sa.UniqueConstraint('company_id', 'material_id', 'period', name=op.f('uq_standard_prices_company_id_material_id_period'))
    )
    op.create_table('variance_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=16), nullable=False),
    sa.Column('consumed_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('allocated_variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['account_code'], ['accounts.code'], name=op.f('fk_variance_allocations_account_code_accounts')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_variance_allocations_company_id_companies')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_variance_allocations_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variance_allocations')),
    sa.UniqueConstraint('company_id', 'period', 'material_id', 'account_code', name=op.f('uq_variance_allocations_company_id_period_material_id_account_code'))
    )
    op.create_table('accounting_periods',
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='period_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('close_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['close_entry_id'], ['journal_entries.id'], name=op.f('fk_accounting_periods_close_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_accounting_periods_closed_by_users')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_accounting_periods_company_id_companies')),
    sa.PrimaryKeyConstraint('company_id', 'period', name=op.f('pk_accounting_periods'))
    )
    op.create_table('journal_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('account_code', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_code'], ['accounts.code'], name=op.f('fk_journal_lines_account_code_accounts')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_journal_lines_company_id_companies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_journal_lines_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_journal_lines_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_journal_lines_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_lines'))
    )
    op.create_index('ix_journal_lines_balance', 'journal_lines', ['company_id', 'account_code', 'period'], unique=False)
    op.create_index('ix_journal_lines_entry', 'journal_lines', ['entry_id'], unique=False)
    op.create_index('ix_journal_lines_material', 'journal_lines', ['company_id', 'material_id', 'account_code'], unique=False)
    op.create_table('period_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('journal_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_period_events_company_id_companies')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entries.id'], name=op.f('fk_period_events_journal_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_period_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_events'))
    )
    op.create_table('stock_balances',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('quarantine', 'unrestricted', 'blocked', name='stock_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_stock_balances_quantity_not_negative')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_stock_balances_batch_id_batches')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_stock_balances_company_id_companies')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_stock_balances_material_id_materials')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_balances_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_balances')),
    sa.UniqueConstraint('warehouse_id', 'material_id', 'batch_id', 'status', name=op.f('uq_stock_balances_warehouse_id_material_id_batch_id_status'))
    )
    op.create_index('ix_stock_balances_company_material', 'stock_balances', ['company_id', 'material_id'], unique=False)
    op.create_table('stock_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('doc_type', sa.Enum('receipt', 'receipt_reversal', 'quality_release', 'quality_reject', 'return_to_supplier', 'issue', 'issue_reversal', 'transfer', 'adjustment', 'scrap', 'shipment', 'shipment_reversal', 'revaluation', name='movement_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('po_line_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('standard_price', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('delivery_note', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('destination', sa.String(length=32), nullable=True),
    sa.Column('cost_center', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('reverses_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_stock_documents_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_stock_documents_created_by_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_stock_documents_customer_id_customers')),
    sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_lines.id'], name=op.f('fk_stock_documents_po_line_id_purchase_order_lines')),
    sa.ForeignKeyConstraint(['reverses_document_id'], ['stock_documents.id'], name=op.f('fk_stock_documents_reverses_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['source_document_id'], ['stock_documents.id'], name=op.f('fk_stock_documents_source_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_stock_documents_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_documents')),
    sa.UniqueConstraint('reverses_document_id', name=op.f('uq_stock_documents_reverses_document_id'))
    )
    op.create_index('ix_stock_documents_company_date', 'stock_documents', ['company_id', 'posting_date'], unique=False)
    op.create_index('ix_stock_documents_po_line', 'stock_documents', ['po_line_id'], unique=False)
    op.create_index(op.f('ix_stock_documents_source_document_id'), 'stock_documents', ['source_document_id'], unique=False)
    op.create_table('stock_movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('movement_type', sa.Enum('receipt', 'receipt_reversal', 'quality_release', 'quality_reject', 'return_to_supplier', 'issue', 'issue_reversal', 'transfer', 'adjustment', 'scrap', 'shipment', 'shipment_reversal', 'revaluation', name='movement_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('close_class', sa.Enum('receipt', 'consumption', 'inflow', 'internal', 'revaluation', name='close_class', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('quarantine', 'unrestricted', 'blocked', name='stock_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('variance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('offset_account', sa.String(length=16), nullable=True),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_stock_movements_batch_id_batches')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_stock_movements_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_stock_movements_created_by_users')),
    sa.ForeignKeyConstraint(['document_id'], ['stock_documents.id'], name=op.f('fk_stock_movements_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_stock_movements_material_id_materials')),
    sa.ForeignKeyConstraint(['offset_account'], ['accounts.code'], name=op.f('fk_stock_movements_offset_account_accounts')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_movements_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movements'))
    )
    op.create_index('ix_stock_movements_batch', 'stock_movements', ['batch_id'], unique=False)
    op.create_index('ix_stock_movements_close', 'stock_movements', ['company_id', 'period', 'material_id'], unique=False)
    op.create_index('ix_stock_movements_document', 'stock_movements', ['document_id'], unique=False)
    op.create_index('ix_stock_movements_stock', 'stock_movements', ['warehouse_id', 'material_id', 'posting_date'], unique=False)

    op.bulk_insert(sa.table("accounts", sa.column("code"), sa.column("name_zh"), sa.column("name_en"),
                            sa.column("kind")),
                   [dict(code=c, name_zh=zh, name_en=en, kind=k) for c, zh, en, k in CHART])
    for table in IMMUTABLE_TABLES:
        _make_immutable(table)

def downgrade() -> None:
    for table in IMMUTABLE_TABLES:
        _drop_immutability(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS erp_refuse_change()")
    op.drop_index('ix_stock_movements_stock', table_name='stock_movements')
    op.drop_index('ix_stock_movements_document', table_name='stock_movements')
    op.drop_index('ix_stock_movements_close', table_name='stock_movements')
    op.drop_index('ix_stock_movements_batch', table_name='stock_movements')
    op.drop_table('stock_movements')
    op.drop_index(op.f('ix_stock_documents_source_document_id'), table_name='stock_documents')
    op.drop_index('ix_stock_documents_po_line', table_name='stock_documents')
    op.drop_index('ix_stock_documents_company_date', table_name='stock_documents')
    op.drop_table('stock_documents')
    op.drop_index('ix_stock_balances_company_material', table_name='stock_balances')
    op.drop_table('stock_balances')
    op.drop_table('period_events')
    op.drop_index('ix_journal_lines_material', table_name='journal_lines')
    op.drop_index('ix_journal_lines_entry', table_name='journal_lines')
    op.drop_index('ix_journal_lines_balance', table_name='journal_lines')
    op.drop_table('journal_lines')
    op.drop_table('accounting_periods')
    op.drop_table('variance_allocations')
    op.drop_table('standard_prices')
    op.drop_table('material_period_balances')
    op.drop_index('ix_journal_entries_source', table_name='journal_entries')
    op.drop_index('ix_journal_entries_company_period', table_name='journal_entries')
    op.drop_table('journal_entries')
    op.drop_table('batches')
    op.drop_table('idempotency_keys')
    op.drop_table('accounts')
