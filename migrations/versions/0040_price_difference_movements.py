"""payables: price differences of supplier invoices and credit memos as value-only stock
ledger rows (movement type ``price_difference``), so that the part booked to 1404 material
cost variance enters the period's variance rate (docs/payables.md)

Revision ID: 0040_price_difference_movements
Revises: 0039_material_balances_one_key
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0040_price_difference_movements'
down_revision: str | Sequence[str] | None = '0039_material_balances_one_key'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MOVEMENT_TYPES_BEFORE = ('receipt', 'receipt_reversal', 'quality_release', 'quality_reject', 'return_to_supplier',
                         'issue', 'issue_reversal', 'transfer', 'adjustment', 'scrap', 'shipment', 'shipment_reversal',
                         'revaluation', 'quality_hold', 'production_receipt', 'production_receipt_reversal')
MOVEMENT_TYPES_AFTER = MOVEMENT_TYPES_BEFORE + ('price_difference',)
# (table, column) holding a movement type, and their check constraint's name.
MOVEMENT_TYPE_COLUMNS = (('stock_documents', 'doc_type'), ('stock_movements', 'movement_type'))


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


def downgrade() -> None:
    reversals = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM stock_documents WHERE doc_type = 'price_difference'").scalar()
    if reversals:
        # The ledger is immutable: its rows cannot be dropped to fit the older schema.
        raise RuntimeError(f"{reversals} invoice price differences are posted; the ledger keeps them, so this "
                           "migration cannot be downgraded")
    _set_movement_types(MOVEMENT_TYPES_BEFORE)
