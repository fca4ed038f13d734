"""payables: a supplier invoice or credit memo can be reversed (cancelled): who reversed it,
when, on which date, why, and the journal entry of the reversal. Its downgrade refuses while
any invoice is reversed (the older code would count it live).

Revision ID: 0042_supplier_invoice_reversal
Revises: 0041_price_difference_invoice
Create Date: 2026-11-30 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0042_supplier_invoice_reversal'
down_revision: str | Sequence[str] | None = '0041_price_difference_invoice'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'supplier_invoices'
CHECK_NAME = 'ck_supplier_invoices_reversal_recorded'
CHECK = ("reversed_at IS NULL OR (reversed_by IS NOT NULL AND reversal_date IS NOT NULL AND "
         "reversal_reason IS NOT NULL AND open_amount = 0)")
SQLITE_CHECK = f", CONSTRAINT {CHECK_NAME} CHECK ({CHECK})"
BY_FK = 'fk_supplier_invoices_reversed_by_users'
ENTRY_FK = 'fk_supplier_invoices_reversal_entry_id_journal_entries'
# name, type, the table it references (SQLite adds a reference with the column or never)
COLUMNS = (
    ('reversed_by', 'INTEGER', sa.Integer(), ('users', BY_FK)),
    ('reversed_at', 'DATETIME', sa.DateTime(timezone=True), None),
    ('reversal_date', 'DATE', sa.Date(), None),
    ('reversal_reason', 'VARCHAR(500)', sa.String(length=500), None),
    ('reversal_entry_id', 'INTEGER', sa.BigInteger(), ('journal_entries', ENTRY_FK)),
)


def _sqlite_table_sql(connection: sa.Connection, old: str, new: str) -> None:
    """Edit supplier_invoices' stored table text (SQLite adds no constraint to a table, and
    rebuilding it would trip over the foreign keys pointing at it), as 0040 and 0041 do."""
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
        present = {c['name'] for c in sa.inspect(connection).get_columns(TABLE)}
        for name, sql_type, _, reference in COLUMNS:
            if name in present:  # left by a downgrade, emptied
                continue
            references = f" CONSTRAINT {reference[1]} REFERENCES {reference[0]} (id)" if reference else ""
            op.execute(f"ALTER TABLE {TABLE} ADD COLUMN {name} {sql_type}{references}")
        _sqlite_table_sql(connection, ")", SQLITE_CHECK + ")")
        return
    for name, _, column_type, reference in COLUMNS:
        op.add_column(TABLE, sa.Column(name, column_type, nullable=True))
        if reference:
            op.create_foreign_key(reference[1], TABLE, reference[0], [name], ['id'])
    op.create_check_constraint(op.f(CHECK_NAME), TABLE, CHECK)


def downgrade() -> None:
    connection = op.get_bind()
    reversed_ = connection.exec_driver_sql(
        "SELECT count(*), min(number) FROM supplier_invoices WHERE reversed_at IS NOT NULL").one()
    if reversed_[0]:
        # Dropping the columns would make a reversed invoice look live again (its open amount
        # is 0: paid, to the code of 0041), while its reversal entry stays in the books and the
        # GR/IR report would disagree with 2202.01. The ledger keeps its reversals.
        raise RuntimeError(f"{reversed_[0]} supplier invoices or credit memos are reversed (the first: "
                           f"{reversed_[1]}); the code before 0042 would count them as live, so this migration "
                           "cannot be downgraded")
    if connection.dialect.name == 'sqlite':
        # A column with a reference cannot be dropped in SQLite: the columns stay, emptied (no
        # invoice is reversed), unused by the code of 0041 (0042 takes them up again).
        _sqlite_table_sql(connection, SQLITE_CHECK + ")", ")")
        op.execute(f"UPDATE {TABLE} SET " + ", ".join(f"{name} = NULL" for name, *_ in COLUMNS))
        return
    op.drop_constraint(op.f(CHECK_NAME), TABLE, type_='check')
    for name, _, _, reference in reversed(COLUMNS):
        if reference:
            op.drop_constraint(reference[1], TABLE, type_='foreignkey')
        op.drop_column(TABLE, name)
