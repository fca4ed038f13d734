"""quality: batches an excursion touched (held or only referenced), lots closed by the expiry block

Revision ID: 0030_quality_excursion_batches
Revises: 0029_production_variances
Create Date: 2026-11-30 00:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0030_quality_excursion_batches'
down_revision: str | Sequence[str] | None = '0029_production_variances'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOT_STATUSES_BEFORE = ('open', 'released', 'rejected', 'cancelled')
LOT_STATUSES_AFTER = LOT_STATUSES_BEFORE + ('expired',)
STOCK_STATUSES = ('unrestricted', 'quarantine', 'blocked')


def _check(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _set_lot_statuses(values: Sequence[str]) -> None:
    """Widen (or narrow back) the lot status check; on SQLite by editing the stored table
    text, as migration 0027 does for movement types."""
    connection = op.get_bind()
    table = 'inspection_lots'
    if connection.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_inspection_lots_lot_status"), table, type_="check")
        op.create_check_constraint(op.f("ck_inspection_lots_lot_status"), table, _check("status", values))
        return
    other = LOT_STATUSES_AFTER if values == LOT_STATUSES_BEFORE else LOT_STATUSES_BEFORE
    old, new = _check("status", other), _check("status", values)
    table_sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if old not in table_sql:
        raise RuntimeError(f"{table}'s status check is not the expected one: {table_sql}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                               (table_sql.replace(old, new), table))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    connection.exec_driver_sql("PRAGMA integrity_check")


def upgrade() -> None:
    op.create_table('excursion_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('excursion_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('stock_status', sa.Enum(*STOCK_STATUSES, name='stock_status', native_enum=False,
                                      create_constraint=True, length=32), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_excursion_batches_batch_id_batches')),
    sa.ForeignKeyConstraint(['excursion_id'], ['storage_excursions.id'], name=op.f('fk_excursion_batches_excursion_id_storage_excursions')),
    sa.ForeignKeyConstraint(['lot_id'], ['inspection_lots.id'], name=op.f('fk_excursion_batches_lot_id_inspection_lots')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_excursion_batches_material_id_materials')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_excursion_batches_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_excursion_batches'))
    )
    with op.batch_alter_table('excursion_batches', schema=None) as batch_op:
        batch_op.create_index('ix_excursion_batches_batch', ['batch_id'], unique=False)
        batch_op.create_index('ix_excursion_batches_excursion', ['excursion_id', 'batch_id'], unique=False)
    _set_lot_statuses(LOT_STATUSES_AFTER)


def downgrade() -> None:
    op.execute("UPDATE inspection_lots SET status = 'cancelled' WHERE status = 'expired'")
    _set_lot_statuses(LOT_STATUSES_BEFORE)
    with op.batch_alter_table('excursion_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_excursion_batches_excursion')
        batch_op.drop_index('ix_excursion_batches_batch')
    op.drop_table('excursion_batches')
