"""quality: specifications, inspection lots, results, certificates, signed usage decisions; storage
monitoring (loggers, append-only readings, excursions); the quality_hold stock movement

Revision ID: 0025_quality
Revises: 0024_receivable_snapshots
Create Date: 2026-11-29 21:34:40.584505
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0025_quality'
down_revision: str | Sequence[str] | None = '0024_receivable_snapshots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MOVEMENT_TYPES_BEFORE = ('receipt', 'receipt_reversal', 'quality_release', 'quality_reject', 'return_to_supplier',
                         'issue', 'issue_reversal', 'transfer', 'adjustment', 'scrap', 'shipment',
                         'shipment_reversal', 'revaluation')
MOVEMENT_TYPES_AFTER = MOVEMENT_TYPES_BEFORE + ('quality_hold',)
# (table, column) of the movement_type check
MOVEMENT_TYPE_COLUMNS = (("stock_documents", "doc_type"), ("stock_movements", "movement_type"))
# Quality records that are never changed once written (data integrity, EU GMP Annex 11 s. 9)
APPEND_ONLY = ("storage_readings", "inspection_results", "usage_decisions")


def _type_check(column: str, types: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{t}'" for t in types) + ")"


def _set_movement_types(types: Sequence[str]) -> None:
    """Widen (or narrow back) the movement type checks of the ledger's two tables. On SQLite
    the stored table text is edited (as migrations 0014 and 0023 do): rebuilding the tables
    would drop their immutability triggers."""
    connection = op.get_bind()
    other = MOVEMENT_TYPES_BEFORE if types == MOVEMENT_TYPES_AFTER else MOVEMENT_TYPES_AFTER
    if connection.dialect.name == "postgresql":
        for table, column in MOVEMENT_TYPE_COLUMNS:
            op.drop_constraint(op.f(f"ck_{table}_movement_type"), table, type_="check")
            op.create_check_constraint(op.f(f"ck_{table}_movement_type"), table, _type_check(column, types))
        return
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    for table, column in MOVEMENT_TYPE_COLUMNS:
        table_sql = connection.exec_driver_sql(
            f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'").scalar()
        old, new = _type_check(column, other), _type_check(column, types)
        if old not in table_sql:
            raise RuntimeError(f"{table}'s movement type check is not the expected one: {table_sql}")
        connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                                   (table_sql.replace(old, new), table))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    connection.exec_driver_sql("PRAGMA integrity_check")


def _make_append_only(table: str) -> None:
    """UPDATE and DELETE refused by the database (the function is migration 0003's)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION erp_refuse_change()")
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END")


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def upgrade() -> None:
    _set_movement_types(MOVEMENT_TYPES_AFTER)
    op.create_table('quality_specifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version > 0', name=op.f('ck_quality_specifications_version_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_quality_specifications_created_by_users')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_quality_specifications_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_specifications')),
    sa.UniqueConstraint('material_id', 'effective_from', name=op.f('uq_quality_specifications_material_id_effective_from')),
    sa.UniqueConstraint('material_id', 'version', name=op.f('uq_quality_specifications_material_id_version'))
    )
    op.create_table('quality_characteristics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('specification_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('minimum', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('maximum', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('expected_text', sa.String(length=200), nullable=True),
    sa.CheckConstraint('(minimum IS NULL AND maximum IS NULL) <> (expected_text IS NULL)', name=op.f('ck_quality_characteristics_numeric_or_text')),
    sa.CheckConstraint('minimum IS NULL OR maximum IS NULL OR minimum <= maximum', name=op.f('ck_quality_characteristics_limits_ordered')),
    sa.ForeignKeyConstraint(['specification_id'], ['quality_specifications.id'], name=op.f('fk_quality_characteristics_specification_id_quality_specifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_characteristics')),
    sa.UniqueConstraint('specification_id', 'code', name=op.f('uq_quality_characteristics_specification_id_code'))
    )
    op.create_table('data_loggers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registered_by'], ['users.id'], name=op.f('fk_data_loggers_registered_by_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_data_loggers_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_loggers')),
    sa.UniqueConstraint('code', name=op.f('uq_data_loggers_code')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_data_loggers_token_digest'))
    )
    op.create_table('storage_monitoring',
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('allowance_minutes', sa.Integer(), nullable=False),
    sa.Column('logging_interval_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('allowance_minutes >= 0', name=op.f('ck_storage_monitoring_allowance_not_negative')),
    sa.CheckConstraint('logging_interval_minutes > 0', name=op.f('ck_storage_monitoring_interval_positive')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_storage_monitoring_updated_by_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_storage_monitoring_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('warehouse_id', name=op.f('pk_storage_monitoring'))
    )
    op.create_table('storage_readings',
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('temperature', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('humidity', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('logger_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['logger_id'], ['data_loggers.id'], name=op.f('fk_storage_readings_logger_id_data_loggers')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_storage_readings_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('warehouse_id', 'read_at', name=op.f('pk_storage_readings'))
    )
    op.create_table('storage_excursions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('out_of_range', 'gap', name='excursion_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('min_temperature', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('max_temperature', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('max_humidity', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('held_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['held_document_id'], ['stock_documents.id'], name=op.f('fk_storage_excursions_held_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_storage_excursions_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storage_excursions')),
    sa.UniqueConstraint('warehouse_id', 'kind', 'started_at', name=op.f('uq_storage_excursions_warehouse_id_kind_started_at'))
    )
    with op.batch_alter_table('storage_excursions', schema=None) as batch_op:
        batch_op.create_index('ix_storage_excursions_time', ['warehouse_id', 'started_at'], unique=False)

    op.create_table('inspection_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.Enum('receipt', 'customer_return', 'excursion', name='lot_origin', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'released', 'rejected', 'cancelled', name='lot_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('inspection_date', sa.Date(), nullable=False),
    sa.Column('specification_id', sa.Integer(), nullable=True),
    sa.Column('source_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('excursion_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_inspection_lots_quantity_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_inspection_lots_batch_id_batches')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_inspection_lots_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_inspection_lots_created_by_users')),
    sa.ForeignKeyConstraint(['excursion_id'], ['storage_excursions.id'], name=op.f('fk_inspection_lots_excursion_id_storage_excursions')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_inspection_lots_material_id_materials')),
    sa.ForeignKeyConstraint(['source_document_id'], ['stock_documents.id'], name=op.f('fk_inspection_lots_source_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['specification_id'], ['quality_specifications.id'], name=op.f('fk_inspection_lots_specification_id_quality_specifications')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_inspection_lots_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_lots')),
    sa.UniqueConstraint('source_document_id', 'batch_id', name=op.f('uq_inspection_lots_source_document_id_batch_id'))
    )
    with op.batch_alter_table('inspection_lots', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_lots_batch', ['batch_id', 'warehouse_id'], unique=False)
        batch_op.create_index('ix_inspection_lots_status', ['status', 'company_id'], unique=False)

    op.create_table('certificates_of_analysis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['inspection_lots.id'], name=op.f('fk_certificates_of_analysis_lot_id_inspection_lots')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_certificates_of_analysis_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates_of_analysis')),
    sa.UniqueConstraint('lot_id', name=op.f('uq_certificates_of_analysis_lot_id'))
    )
    op.create_table('inspection_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('characteristic_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('laboratory', 'certificate', name='result_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('text_value', sa.String(length=200), nullable=True),
    sa.Column('conforms', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(value IS NULL) <> (text_value IS NULL)', name=op.f('ck_inspection_results_value_or_text')),
    sa.ForeignKeyConstraint(['characteristic_id'], ['quality_characteristics.id'], name=op.f('fk_inspection_results_characteristic_id_quality_characteristics')),
    sa.ForeignKeyConstraint(['lot_id'], ['inspection_lots.id'], name=op.f('fk_inspection_results_lot_id_inspection_lots')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_inspection_results_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_results'))
    )
    with op.batch_alter_table('inspection_results', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_results_lot', ['lot_id', 'characteristic_id', 'source'], unique=False)

    op.create_table('usage_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('release', 'reject', name='usage_decision_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('meaning', sa.String(length=40), nullable=False),
    sa.Column('signed_by', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('out_of_specification', sa.Boolean(), nullable=False),
    sa.Column('deviation_reference', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("NOT out_of_specification OR decision = 'reject' OR (deviation_reference IS NOT NULL AND reason IS NOT NULL)", name=op.f('ck_usage_decisions_oos_release_deviation')),
    sa.ForeignKeyConstraint(['document_id'], ['stock_documents.id'], name=op.f('fk_usage_decisions_document_id_stock_documents')),
    sa.ForeignKeyConstraint(['lot_id'], ['inspection_lots.id'], name=op.f('fk_usage_decisions_lot_id_inspection_lots')),
    sa.ForeignKeyConstraint(['signed_by'], ['users.id'], name=op.f('fk_usage_decisions_signed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_decisions')),
    sa.UniqueConstraint('lot_id', name=op.f('uq_usage_decisions_lot_id'))
    )

    for table in APPEND_ONLY:
        _make_append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only(table)
    op.drop_table('usage_decisions')
    with op.batch_alter_table('inspection_results', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_results_lot')

    op.drop_table('inspection_results')
    op.drop_table('certificates_of_analysis')
    with op.batch_alter_table('inspection_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_lots_status')
        batch_op.drop_index('ix_inspection_lots_batch')

    op.drop_table('inspection_lots')
    with op.batch_alter_table('storage_excursions', schema=None) as batch_op:
        batch_op.drop_index('ix_storage_excursions_time')

    op.drop_table('storage_excursions')
    op.drop_table('storage_readings')
    op.drop_table('storage_monitoring')
    op.drop_table('data_loggers')
    op.drop_table('quality_characteristics')
    op.drop_table('quality_specifications')
    _set_movement_types(MOVEMENT_TYPES_BEFORE)
