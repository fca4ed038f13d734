"""production orders: components, documents, batch genealogy; production receipts; WIP, absorption and production variance accounts

Revision ID: 0027_production_orders
Revises: 0026_production_boms
Create Date: 2026-11-29 21:59:38.524720
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0027_production_orders'
down_revision: str | Sequence[str] | None = '0026_production_boms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MOVEMENT_TYPES_BEFORE = ('receipt', 'receipt_reversal', 'quality_release', 'quality_reject', 'return_to_supplier',
                         'issue', 'issue_reversal', 'transfer', 'adjustment', 'scrap', 'shipment', 'shipment_reversal',
                         'revaluation', 'quality_hold')
MOVEMENT_TYPES_AFTER = MOVEMENT_TYPES_BEFORE + ('production_receipt',)
# (table, column) holding a movement type, and their check constraint's name.
MOVEMENT_TYPE_COLUMNS = (('stock_documents', 'doc_type'), ('stock_movements', 'movement_type'))
# The production accounts of erp/costing/accounts.py (PRODUCTION_CHART), frozen here.
ACCOUNTS = [
    ("5001.01", "生产成本-在产品", "Work in process (production orders)", "asset"),
    ("5101.01", "制造费用-直接人工分配", "Labour absorbed by production orders", "expense"),
    ("5101.02", "制造费用-制造费用分配", "Overhead absorbed by production orders", "expense"),
    ("6405.01", "生产成本差异-投入数量差异", "Production variance: input quantity", "expense"),
    ("6405.02", "生产成本差异-投入价格差异", "Production variance: input price", "expense"),
    ("6405.03", "生产成本差异-批量及剩余差异", "Production variance: lot size and remaining", "expense"),
]


def _check(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _set_movement_types(values: Sequence[str]) -> None:
    """Widen (or narrow back) the movement-type checks; on SQLite by editing the stored
    table text, as migrations 0014 and 0023 do."""
    connection = op.get_bind()
    for table, column in MOVEMENT_TYPE_COLUMNS:
        if connection.dialect.name == "postgresql":
            op.drop_constraint(op.f(f"ck_{table}_movement_type"), table, type_="check")
            op.create_check_constraint(op.f(f"ck_{table}_movement_type"), table, _check(column, values))
            continue
        other = MOVEMENT_TYPES_AFTER if values == MOVEMENT_TYPES_BEFORE else MOVEMENT_TYPES_BEFORE
        old, new = _check(column, other), _check(column, values)
        table_sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
        if old not in table_sql:
            raise RuntimeError(f"{table}'s movement type check is not the expected one: {table_sql}")
        version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
        connection.exec_driver_sql("PRAGMA writable_schema = ON")
        connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                                   (table_sql.replace(old, new), table))
        connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
        connection.exec_driver_sql("PRAGMA integrity_check")


def upgrade() -> None:
    _set_movement_types(MOVEMENT_TYPES_AFTER)
    op.bulk_insert(sa.table("accounts", sa.column("code"), sa.column("name_zh"), sa.column("name_en"),
                            sa.column("kind")),
                   [dict(code=c, name_zh=zh, name_en=en, kind=k) for c, zh, en, k in ACCOUNTS])
    op.create_table('production_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('bom_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('created', 'released', 'completed', 'cancelled', name='production_order_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('base_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('hours', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('labour_rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('overhead_rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('delivered_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('settled_period', sa.String(length=7), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('delivered_quantity >= 0', name=op.f('ck_production_orders_delivered_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_production_orders_quantity_positive')),
    sa.ForeignKeyConstraint(['bom_id'], ['boms.id'], name=op.f('fk_production_orders_bom_id_boms')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_production_orders_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_production_orders_created_by_users')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_production_orders_material_id_materials')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_production_orders_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_orders'))
    )
    op.create_index('ix_production_orders_company_status', 'production_orders', ['company_id', 'status'], unique=False)
    op.create_table('production_order_batches',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('input', 'output', name='batch_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_production_order_batches_batch_id_batches')),
    sa.ForeignKeyConstraint(['order_id'], ['production_orders.id'], name=op.f('fk_production_order_batches_order_id_production_orders')),
    sa.PrimaryKeyConstraint('order_id', 'batch_id', 'role', name=op.f('pk_production_order_batches'))
    )
    op.create_index('ix_production_order_batches_batch', 'production_order_batches', ['batch_id', 'role'], unique=False)
    op.create_table('production_order_components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('quantity_per_base', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('scrap_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('planned_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('planned_price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_production_order_components_material_id_materials')),
    sa.ForeignKeyConstraint(['order_id'], ['production_orders.id'], name=op.f('fk_production_order_components_order_id_production_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_order_components')),
    sa.UniqueConstraint('order_id', 'line_no', name=op.f('uq_production_order_components_order_id_line_no')),
    sa.UniqueConstraint('order_id', 'material_id', name=op.f('uq_production_order_components_order_id_material_id'))
    )
    op.create_table('production_order_documents',
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('issue', 'delivery', name='order_document_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('labour', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('overhead', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['stock_documents.id'], name=op.f('fk_production_order_documents_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['order_id'], ['production_orders.id'], name=op.f('fk_production_order_documents_order_id_production_orders')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_production_order_documents'))
    )
    op.create_index('ix_production_order_documents_order', 'production_order_documents', ['order_id', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_production_order_documents_order', table_name='production_order_documents')
    op.drop_table('production_order_documents')
    op.drop_table('production_order_components')
    op.drop_index('ix_production_order_batches_batch', table_name='production_order_batches')
    op.drop_table('production_order_batches')
    op.drop_index('ix_production_orders_company_status', table_name='production_orders')
    op.drop_table('production_orders')
    op.execute("DELETE FROM accounts WHERE code IN (" + ", ".join(f"'{a[0]}'" for a in ACCOUNTS) + ")")
    _set_movement_types(MOVEMENT_TYPES_BEFORE)
