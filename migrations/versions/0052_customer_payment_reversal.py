"""credit: a customer payment can be reversed (a bounced bank draft, 退票; money booked to the
wrong customer): who reversed it, when, on which date, why, and the journal entry of the
reversal, recorded whole or not at all (as 0043 for supplier payments)

Revision ID: 0052_customer_payment_reversal
Revises: 0051_opening_received_quantity
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0052_customer_payment_reversal'
down_revision: str | Sequence[str] | None = '0051_opening_received_quantity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENTS = 'payments'
CHECK_NAME = 'ck_payments_reversal_recorded'
CHECK = ("(reversed_at IS NULL AND reversed_by IS NULL AND reversal_date IS NULL AND "
         "reversal_reason IS NULL AND reversal_entry_id IS NULL) OR (reversed_at IS NOT NULL AND "
         "reversed_by IS NOT NULL AND reversal_date IS NOT NULL AND reversal_reason IS NOT NULL AND "
         "reversal_entry_id IS NOT NULL)")
BY_FK = 'fk_payments_reversed_by_users'
ENTRY_FK = 'fk_payments_reversal_entry_id_journal_entries'
COLUMNS = (
    ('reversed_by', 'INTEGER', sa.Integer(), ('users', BY_FK)),
    ('reversed_at', 'DATETIME', sa.DateTime(timezone=True), None),
    ('reversal_date', 'DATE', sa.Date(), None),
    ('reversal_reason', 'VARCHAR(500)', sa.String(length=500), None),
    ('reversal_entry_id', 'INTEGER', sa.BigInteger(), ('journal_entries', ENTRY_FK)),
)


def _check_sql() -> str:
    return f", CONSTRAINT {CHECK_NAME} CHECK ({CHECK})"


def _sqlite_table_sql(connection: sa.Connection, table: str, old: str, new: str) -> None:
    """Edit a table's stored text, its last ``old`` into ``new`` (as 0043)."""
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
        present = {c['name'] for c in sa.inspect(connection).get_columns(PAYMENTS)}
        for name, sql_type, _, reference in COLUMNS:
            if name in present:  # left by a downgrade, emptied
                continue
            references = f" CONSTRAINT {reference[1]} REFERENCES {reference[0]} (id)" if reference else ""
            op.execute(f"ALTER TABLE {PAYMENTS} ADD COLUMN {name} {sql_type}{references}")
        _sqlite_table_sql(connection, PAYMENTS, ")", _check_sql() + ")")
        return
    for name, _, column_type, reference in COLUMNS:
        op.add_column(PAYMENTS, sa.Column(name, column_type, nullable=True))
        if reference:
            op.create_foreign_key(reference[1], PAYMENTS, reference[0], [name], ['id'])
    op.create_check_constraint(op.f(CHECK_NAME), PAYMENTS, CHECK)


def downgrade() -> None:
    connection = op.get_bind()
    reversed_payments = connection.exec_driver_sql(
        f"SELECT count(*) FROM {PAYMENTS} WHERE reversed_at IS NOT NULL").scalar()
    if reversed_payments:
        # 0051's code knows no reversal: it would read a reversed payment's applications as paid.
        raise RuntimeError(f"{reversed_payments} customer payment(s) have been reversed; 0051 cannot represent a "
                           "payment reversal, so the downgrade is refused")
    if connection.dialect.name == 'sqlite':
        # A column with a reference cannot be dropped in SQLite: the columns stay, empty.
        _sqlite_table_sql(connection, PAYMENTS, _check_sql() + ")", ")")
        return
    op.drop_constraint(op.f(CHECK_NAME), PAYMENTS, type_='check')
    for name, _, _, reference in reversed(COLUMNS):
        if reference:
            op.drop_constraint(reference[1], PAYMENTS, type_='foreignkey')
        op.drop_column(PAYMENTS, name)
