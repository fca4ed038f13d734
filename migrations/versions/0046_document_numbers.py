"""payables and receivables: every posted supplier invoice (AP-), supplier credit memo (CM-),
sales invoice (AR-), debit note (DN-), customer payment (RC-) and credit note (CN-) has a
document number of its own, <prefix>-<company code>-<year>-000001, from the company's series of
the posting date's year in document_sequences (the purchase and sales orders' numbering);
existing documents are numbered in the order they were posted (their ids)

Revision ID: 0046_document_numbers
Revises: 0045_credit_memo_applied_amount
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0046_document_numbers'
down_revision: str | Sequence[str] | None = '0045_credit_memo_applied_amount'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMN = 'document_number'
# table -> (the prefix as SQL over the row ``d``, the posting date's column, the prefixes it
# owns): the series of erp.payables.services.document_number_for and erp.credit's
# invoice_number, payment_number and credit_note_number.
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    'supplier_invoices': ("CASE WHEN d.document_kind = 'credit_memo' THEN 'CM' ELSE 'AP' END", 'posting_date',
                          ('AP', 'CM')),
    'invoices': ("CASE WHEN d.kind = 'debit_note' THEN 'DN' ELSE 'AR' END", 'invoice_date', ('AR', 'DN')),
    'payments': ("'RC'", 'payment_date', ('RC',)),
    'credit_notes': ("'CN'", 'note_date', ('CN',)),
}


def _year(dialect: str, column: str) -> str:
    """The year of a date column as four characters."""
    return f"to_char({column}, 'YYYY')" if dialect == 'postgresql' else f"strftime('%Y', {column})"


def _six_digits(dialect: str, column: str) -> str:
    """A count padded to six digits and never cut (Python's ``:06d``)."""
    if dialect == 'postgresql':
        return f"CASE WHEN {column} < 1000000 THEN lpad(CAST({column} AS TEXT), 6, '0') ELSE CAST({column} AS TEXT) END"
    return f"printf('%06d', {column})"


def numbered(dialect: str, table: str) -> str:
    """(id, series, n): every document of ``table``, its company's series of its prefix and its
    posting date's year, and its place in that series. Deterministic: within a series the
    documents count from 1 in the order they were posted (their ids), as the services number
    them (under the series' row lock, with the id taken in the same transaction), whatever
    their dates."""
    prefix, day, _ = TABLES[table]
    year = _year(dialect, f'd.{day}')
    series = f"{prefix} || '-' || c.code || '-' || {year}"
    return (
        f"SELECT d.id, {series} AS series,"
        f" row_number() OVER (PARTITION BY {series} ORDER BY d.id) AS n"
        f" FROM {table} d JOIN companies c ON c.id = d.company_id")


def backfill(connection: sa.Connection, table: str) -> None:
    """Number every document of ``table`` (the column is new: none has a number), one UPDATE,
    and set each series to continue after its last (none of these series exists before)."""
    dialect = connection.dialect.name
    connection.exec_driver_sql(
        f"UPDATE {table} SET {COLUMN} = numbered.series || '-' || {_six_digits(dialect, 'numbered.n')}"
        f" FROM ({numbered(dialect, table)}) AS numbered WHERE {table}.id = numbered.id")
    connection.exec_driver_sql(
        "INSERT INTO document_sequences (series, next_value)"
        f" SELECT series, max(n) + 1 FROM ({numbered(dialect, table)}) AS taken GROUP BY series")


def _sqlite_table_sql(connection: sa.Connection, table: str, old: str, new: str) -> None:
    """Edit a table's stored text, its last ``old`` into ``new`` (SQLite cannot make a column
    NOT NULL, and rebuilding the table would trip over the foreign keys pointing at it), as
    0040 to 0044 do."""
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
    for table in TABLES:
        if connection.dialect.name == 'sqlite':
            op.execute(f"ALTER TABLE {table} ADD COLUMN {COLUMN} VARCHAR(50)")
            backfill(connection, table)
            _sqlite_table_sql(connection, table, f"{COLUMN} VARCHAR(50)", f"{COLUMN} VARCHAR(50) NOT NULL")
        else:
            op.add_column(table, sa.Column(COLUMN, sa.String(length=50), nullable=True))
            backfill(connection, table)
            op.alter_column(table, COLUMN, existing_type=sa.String(length=50), nullable=False)
        op.create_index(f'uq_{table}_{COLUMN}', table, [COLUMN], unique=True)


def downgrade() -> None:
    # 0045's code numbers none of these documents: the numbers and their series go (an
    # upgrade numbers the documents again, the same way).
    for table, (_, _, prefixes) in TABLES.items():
        op.drop_index(f'uq_{table}_{COLUMN}', table_name=table)
        op.drop_column(table, COLUMN)  # SQLite 3.35 and later drop a column without an index
        for prefix in prefixes:
            op.execute(sa.text("DELETE FROM document_sequences WHERE series LIKE :prefix").bindparams(
                prefix=f"{prefix}-%"))
