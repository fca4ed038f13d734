"""payables: a price-reduction credit memo (降价红字发票): its lines name the invoice line
whose price they reduce (reduces_line_id) and move no quantity and no GR/IR (quantity 0,
grir_amount 0); every other line keeps a positive quantity

Revision ID: 0049_price_reduction_lines
Revises: 0048_credit_limit_source
Create Date: 2026-12-01 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0049_price_reduction_lines'
down_revision: str | Sequence[str] | None = '0048_credit_limit_source'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINES = 'supplier_invoice_lines'
COLUMN = 'reduces_line_id'
INDEX = 'ix_supplier_invoice_lines_reduces_line'
FOREIGN_KEY = 'fk_supplier_invoice_lines_reduces_line'
OLD_NAME = 'ck_supplier_invoice_lines_quantity_positive'
OLD = 'quantity > 0'
NEW_NAME = 'ck_supplier_invoice_lines_quantity_or_price_reduction'
NEW = ("(reduces_line_id IS NULL AND quantity > 0) OR "
       "(reduces_line_id IS NOT NULL AND quantity = 0 AND grir_amount = 0)")


def _sqlite_table_sql(connection: sa.Connection, table: str, old: str, new: str) -> None:
    """Edit a table's stored text, ``old`` into ``new`` (SQLite changes no constraint of a
    table), as 0040 to 0045 do."""
    table_sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if old not in table_sql:
        raise RuntimeError(f"{table}'s table text is not the expected one: {table_sql}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                               (table_sql.replace(old, new, 1), table))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    connection.exec_driver_sql("PRAGMA integrity_check")


def _check_sql(name: str, check: str) -> str:
    return f"CONSTRAINT {name} CHECK ({check})"


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == 'sqlite':
        present = {c['name'] for c in sa.inspect(connection).get_columns(LINES)}
        if COLUMN not in present:  # else left by a downgrade
            op.execute(f"ALTER TABLE {LINES} ADD COLUMN {COLUMN} INTEGER REFERENCES {LINES} (id)")
        _sqlite_table_sql(connection, LINES, _check_sql(OLD_NAME, OLD), _check_sql(NEW_NAME, NEW))
        op.create_index(INDEX, LINES, [COLUMN])
        return
    op.add_column(LINES, sa.Column(COLUMN, sa.Integer(), nullable=True))
    op.create_foreign_key(op.f(FOREIGN_KEY), LINES, LINES, [COLUMN], ['id'])
    op.create_index(INDEX, LINES, [COLUMN])
    op.drop_constraint(op.f(OLD_NAME), LINES, type_='check')
    op.create_check_constraint(op.f(NEW_NAME), LINES, NEW)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.execute(sa.text(f"SELECT count(*) FROM {LINES} WHERE {COLUMN} IS NOT NULL")).scalar():
        raise RuntimeError("price-reduction credit memos are posted: reverse and delete them before downgrading "
                           "below 0049 (their lines have no quantity)")
    if connection.dialect.name == 'sqlite':
        op.drop_index(INDEX, LINES)
        _sqlite_table_sql(connection, LINES, _check_sql(NEW_NAME, NEW), _check_sql(OLD_NAME, OLD))
        return  # the column stays (SQLite drops none with a foreign key); upgrade finds it
    op.drop_constraint(op.f(NEW_NAME), LINES, type_='check')
    op.create_check_constraint(op.f(OLD_NAME), LINES, OLD)
    op.drop_index(INDEX, LINES)
    op.drop_constraint(op.f(FOREIGN_KEY), LINES, type_='foreignkey')
    op.drop_column(LINES, COLUMN)
