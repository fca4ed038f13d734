"""quality: inspection lots for opening stock taken over in quarantine

Revision ID: 0033_opening_stock_lots
Revises: 0032_production_receipt_reversal
Create Date: 2026-11-30 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0033_opening_stock_lots'
down_revision: str | Sequence[str] | None = '0032_production_receipt_reversal'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGINS_BEFORE = ('receipt', 'customer_return', 'excursion')
ORIGINS_AFTER = ORIGINS_BEFORE + ('opening_stock',)
# One opening stock document can hold the same batch in quarantine in two warehouses: a
# lot each, so the key of a lot takes in the warehouse.
KEY_BEFORE = ['source_document_id', 'batch_id']
KEY_AFTER = KEY_BEFORE + ['warehouse_id']


def _check(values: Sequence[str]) -> str:
    return "origin IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _change(origins: Sequence[str], old_key: list[str], new_key: list[str]) -> None:
    # Batch mode: ALTERs on PostgreSQL, a copy of the table on SQLite (which alters neither
    # a check nor a unique constraint in place).
    with op.batch_alter_table('inspection_lots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_inspection_lots_lot_origin'), type_='check')
        batch_op.create_check_constraint(op.f('ck_inspection_lots_lot_origin'), _check(origins))
        batch_op.drop_constraint(op.f('uq_inspection_lots_' + '_'.join(old_key)), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_inspection_lots_' + '_'.join(new_key)), new_key)


def upgrade() -> None:
    _change(ORIGINS_AFTER, KEY_BEFORE, KEY_AFTER)


def downgrade() -> None:
    lots = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM inspection_lots WHERE origin = 'opening_stock'").scalar()
    if lots:
        # Lots carry signed usage decisions and results: they are records, not dropped to fit.
        raise RuntimeError(f"{lots} inspection lots of opening stock exist; this migration cannot be downgraded")
    _change(ORIGINS_BEFORE, KEY_AFTER, KEY_BEFORE)
