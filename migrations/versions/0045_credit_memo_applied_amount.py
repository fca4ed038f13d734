"""payables: a credit memo keeps what it took off the invoice it reduces (applied_amount),
also once reversed (its open amount is then 0), so that the AP ageing of a day between
its posting and its reversal puts that amount in neither the invoice's bucket nor its own

Revision ID: 0045_credit_memo_applied_amount
Revises: 0044_sales_order_numbers
Create Date: 2026-12-01 03:50:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op


revision: str = '0045_credit_memo_applied_amount'
down_revision: str | Sequence[str] | None = '0044_sales_order_numbers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVOICES = 'supplier_invoices'
COLUMN = 'applied_amount'
# Only a credit memo naming an invoice applies anything, and never more than its total.
RANGE_NAME = 'ck_supplier_invoices_applied_amount_range'
RANGE = "applied_amount >= 0 AND applied_amount <= gross_total AND (applied_amount = 0 OR credits_invoice_id IS NOT NULL)"
# A standing credit memo's open part is what it did not apply (nothing else uses a memo).
UNAPPLIED_NAME = 'ck_supplier_invoices_memo_open_is_unapplied'
UNAPPLIED = "document_kind = 'invoice' OR reversed_at IS NOT NULL OR open_amount = gross_total - applied_amount"
CHECKS = ((RANGE_NAME, RANGE), (UNAPPLIED_NAME, UNAPPLIED))
REASON = 'reversal of credit memo {number}: '


def _check_sql(name: str, check: str) -> str:
    return f", CONSTRAINT {name} CHECK ({check})"


def _sqlite_table_sql(connection: sa.Connection, table: str, old: str, new: str) -> None:
    """Edit a table's stored text, its last ``old`` into ``new`` (SQLite adds no constraint
    to a table), as 0040 to 0043 do."""
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


def _backfill(connection: sa.Connection) -> None:
    """A standing memo applied its gross total less its open part. A reversed one has open
    0: what it applied is what its reversal gave back to the invoice, in that invoice's
    audit row (``credit-memo-reversed``, its open amount before and after, the reason
    naming the memo). Without such a row it stays 0: the ageing then counts it as before
    0045 (the total right, the amount in the invoice's and the memo's buckets)."""
    connection.exec_driver_sql(
        f"UPDATE {INVOICES} SET {COLUMN} = gross_total - open_amount WHERE document_kind = 'credit_memo' "
        "AND credits_invoice_id IS NOT NULL AND reversed_at IS NULL")
    memos = connection.exec_driver_sql(
        f"SELECT id, number, credits_invoice_id, gross_total FROM {INVOICES} WHERE document_kind = 'credit_memo' "
        "AND credits_invoice_id IS NOT NULL AND reversed_at IS NOT NULL ORDER BY id").all()
    for memo_id, number, invoice_id, gross in memos:
        rows = connection.execute(sa.text(
            "SELECT changes, reason FROM audit_events WHERE entity = 'supplier_invoice' AND entity_id = :invoice "
            "AND action = 'credit-memo-reversed' ORDER BY id"), {'invoice': invoice_id}).all()
        for changes, reason in rows:
            if not (reason or '').startswith(REASON.format(number=number)):
                continue
            if isinstance(changes, str):
                changes = json.loads(changes)
            amounts = changes.get('open_amount') or {}
            applied = Decimal(str(amounts.get('after'))) - Decimal(str(amounts.get('before')))
            if Decimal(0) <= applied <= Decimal(str(gross)):
                connection.execute(sa.text(f"UPDATE {INVOICES} SET {COLUMN} = :applied WHERE id = :memo"),
                                   {'applied': applied, 'memo': memo_id})
            break


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == 'sqlite':
        present = {c['name'] for c in sa.inspect(connection).get_columns(INVOICES)}
        if COLUMN not in present:  # else left by a downgrade
            op.execute(f"ALTER TABLE {INVOICES} ADD COLUMN {COLUMN} NUMERIC(18, 2) NOT NULL DEFAULT 0")
        connection.exec_driver_sql(f"UPDATE {INVOICES} SET {COLUMN} = 0")
        _backfill(connection)
        for name, check in CHECKS:
            _sqlite_table_sql(connection, INVOICES, ")", _check_sql(name, check) + ")")
        return
    op.add_column(INVOICES, sa.Column(COLUMN, sa.Numeric(precision=18, scale=2), nullable=False,
                                      server_default='0'))
    _backfill(connection)
    for name, check in CHECKS:
        op.create_check_constraint(op.f(name), INVOICES, check)


def downgrade() -> None:
    # Nothing is lost that 0044 needs: its code reads no applied amount (the ageing of a
    # day before a memo's reversal then splits it wrongly again), and upgrading rebuilds it.
    connection = op.get_bind()
    if connection.dialect.name == 'sqlite':
        # the column stays, unused by the code of 0044 (its default fills new rows); 0045
        # takes it up again
        for name, check in reversed(CHECKS):
            _sqlite_table_sql(connection, INVOICES, _check_sql(name, check) + ")", ")")
        return
    for name, _ in reversed(CHECKS):
        op.drop_constraint(op.f(name), INVOICES, type_='check')
    op.drop_column(INVOICES, COLUMN)
