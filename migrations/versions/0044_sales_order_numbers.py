"""credit: every sales order has a document number, SO-<company code>-<year>-000001, from the
company's series of the order date's year in document_sequences (the purchase orders'
numbering); existing orders are numbered in the order they were created

Revision ID: 0044_sales_order_numbers
Revises: 0043_supplier_payment_reversal
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0044_sales_order_numbers'
down_revision: str | Sequence[str] | None = '0043_supplier_payment_reversal'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'sales_orders'
INDEX_NAME = 'uq_sales_orders_number'
# The series of erp.credit.services.order_number: one per company and year of the order date.
SERIES_PREFIX = 'SO-'


def _year(dialect: str, column: str) -> str:
    """The year of a date column as four characters."""
    return f"to_char({column}, 'YYYY')" if dialect == 'postgresql' else f"strftime('%Y', {column})"


def _six_digits(dialect: str, column: str) -> str:
    """A count padded to six digits and never cut (Python's ``:06d``)."""
    if dialect == 'postgresql':
        return f"CASE WHEN {column} < 1000000 THEN lpad(CAST({column} AS TEXT), 6, '0') ELSE CAST({column} AS TEXT) END"
    return f"printf('%06d', {column})"


def numbered(dialect: str) -> str:
    """(id, series, n): every order, its company's series of its order date's year, and its
    place in that series. Deterministic: within a series the orders count from 1 in the
    order they were created (their ids), as the service numbers them (it takes the number
    under the series' row lock and the id right after, so numbers and ids rise together),
    whatever their order dates."""
    year = _year(dialect, 'o.order_date')
    return (
        f"SELECT o.id, '{SERIES_PREFIX}' || c.code || '-' || {year} AS series,"
        f" row_number() OVER (PARTITION BY o.company_id, {year} ORDER BY o.id) AS n"
        f" FROM {TABLE} o JOIN companies c ON c.id = o.company_id")


def backfill(connection: sa.Connection) -> None:
    """Number every order (the column is new: none has a number) and set each series to
    continue after its last."""
    dialect = connection.dialect.name
    connection.exec_driver_sql(
        f"UPDATE {TABLE} SET number = numbered.series || '-' || {_six_digits(dialect, 'numbered.n')}"
        f" FROM ({numbered(dialect)}) AS numbered WHERE {TABLE}.id = numbered.id")
    connection.exec_driver_sql(
        "INSERT INTO document_sequences (series, next_value)"
        f" SELECT series, max(n) + 1 FROM ({numbered(dialect)}) AS taken GROUP BY series")


def _sqlite_table_sql(connection: sa.Connection, table: str, old: str, new: str) -> None:
    """Edit a table's stored text, its last ``old`` into ``new`` (SQLite cannot make a column
    NOT NULL, and rebuilding the table would trip over the foreign keys pointing at it), as
    0040 to 0043 do."""
    table_sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if old not in table_sql:
        raise RuntimeError(f"{table}'s table text is not the expected one: {table_sql}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                               (table_sql[::-1].replace(old[::-1], new[::-1], 1)[::-1], table))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    connection.exec_driver_sql("PRAGMA integrity_check")


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == 'sqlite':
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN number VARCHAR(50)")
        backfill(connection)
        _sqlite_table_sql(connection, TABLE, "number VARCHAR(50)", "number VARCHAR(50) NOT NULL")
    else:
        op.add_column(TABLE, sa.Column('number', sa.String(length=50), nullable=True))
        backfill(connection)
        op.alter_column(TABLE, 'number', existing_type=sa.String(length=50), nullable=False)
    op.create_index(INDEX_NAME, TABLE, ['number'], unique=True)


def downgrade() -> None:
    # 0043's code numbers no sales order: the numbers and their series go (an upgrade numbers
    # the orders again, the same way).
    op.drop_index(INDEX_NAME, table_name=TABLE)
    op.drop_column(TABLE, 'number')  # SQLite 3.35 and later drop a column without an index
    op.execute(sa.text("DELETE FROM document_sequences WHERE series LIKE :prefix").bindparams(
        prefix=f"{SERIES_PREFIX}%"))
