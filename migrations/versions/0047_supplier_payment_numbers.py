"""payables: every posted supplier payment has a document number of its own,
PV-<company code>-<year>-000001, from the company's series of the payment date's year in
document_sequences (0046's numbering of the other payables and receivables documents);
existing payments are numbered in the order they were posted (their ids)

Revision ID: 0047_supplier_payment_numbers
Revises: 0046_document_numbers
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0047_supplier_payment_numbers'
down_revision: str | Sequence[str] | None = '0046_document_numbers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'supplier_payments'
COLUMN = 'document_number'
PREFIX = 'PV'  # erp.payables.services.PAYMENT_PREFIX


# The SQL below repeats 0046's (a migration does not import code that may change later).

def _year(dialect: str, column: str) -> str:
    """The year of a date column as four characters."""
    return f"to_char({column}, 'YYYY')" if dialect == 'postgresql' else f"strftime('%Y', {column})"


def _six_digits(dialect: str, column: str) -> str:
    """A count padded to six digits and never cut (Python's ``:06d``)."""
    if dialect == 'postgresql':
        return f"CASE WHEN {column} < 1000000 THEN lpad(CAST({column} AS TEXT), 6, '0') ELSE CAST({column} AS TEXT) END"
    return f"printf('%06d', {column})"


def numbered(dialect: str) -> str:
    """(id, series, n): every supplier payment, its company's PV series of its payment date's
    year, and its place in that series: from 1 in the order they were posted (their ids), as
    ``pay_supplier`` numbers them (under the series' row lock), whatever their dates."""
    series = f"'{PREFIX}' || '-' || c.code || '-' || {_year(dialect, 'd.payment_date')}"
    return (
        f"SELECT d.id, {series} AS series,"
        f" row_number() OVER (PARTITION BY {series} ORDER BY d.id) AS n"
        f" FROM {TABLE} d JOIN companies c ON c.id = d.company_id")


def backfill(connection: sa.Connection) -> None:
    """Number every supplier payment (the column is new: none has a number), one UPDATE, and
    set each series to continue after its last (no PV series exists before)."""
    dialect = connection.dialect.name
    connection.exec_driver_sql(
        f"UPDATE {TABLE} SET {COLUMN} = numbered.series || '-' || {_six_digits(dialect, 'numbered.n')}"
        f" FROM ({numbered(dialect)}) AS numbered WHERE {TABLE}.id = numbered.id")
    connection.exec_driver_sql(
        "INSERT INTO document_sequences (series, next_value)"
        f" SELECT series, max(n) + 1 FROM ({numbered(dialect)}) AS taken GROUP BY series")


def _sqlite_table_sql(connection: sa.Connection, old: str, new: str) -> None:
    """Edit the table's stored text, its last ``old`` into ``new`` (SQLite cannot make a
    column NOT NULL, and rebuilding the table would trip over the foreign keys pointing at
    it), as 0040 to 0046 do."""
    table_sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).scalar()
    if old not in table_sql:
        raise RuntimeError(f"{TABLE}'s table text is not the expected one: {table_sql}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                               (table_sql[::-1].replace(old[::-1], new[::-1], 1)[::-1], TABLE))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    connection.exec_driver_sql("PRAGMA integrity_check")


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == 'sqlite':
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN {COLUMN} VARCHAR(50)")
        backfill(connection)
        _sqlite_table_sql(connection, f"{COLUMN} VARCHAR(50)", f"{COLUMN} VARCHAR(50) NOT NULL")
    else:
        op.add_column(TABLE, sa.Column(COLUMN, sa.String(length=50), nullable=True))
        backfill(connection)
        op.alter_column(TABLE, COLUMN, existing_type=sa.String(length=50), nullable=False)
    op.create_index(f'uq_{TABLE}_{COLUMN}', TABLE, [COLUMN], unique=True)


def downgrade() -> None:
    # 0046's code numbers no supplier payment: the numbers and their series go (an upgrade
    # numbers the payments again, the same way).
    op.drop_index(f'uq_{TABLE}_{COLUMN}', table_name=TABLE)
    op.drop_column(TABLE, COLUMN)  # SQLite 3.35 and later drop a column without an index
    op.execute(sa.text("DELETE FROM document_sequences WHERE series LIKE :prefix").bindparams(prefix=f"{PREFIX}-%"))
