"""payables: a price-difference stock document names the supplier invoice or credit memo it
comes from (stock_documents.supplier_invoice_id), backfilled for the rows posted since 0040
from their document number, and required of every price difference by a check

Revision ID: 0041_price_difference_invoice
Revises: 0040_price_difference_movements
Create Date: 2026-11-30 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0041_price_difference_invoice'
down_revision: str | Sequence[str] | None = '0040_price_difference_movements'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'stock_documents'
CHECK_NAME = 'ck_stock_documents_price_difference_invoice'
CHECK = "doc_type <> 'price_difference' OR supplier_invoice_id IS NOT NULL"
FK_NAME = 'fk_stock_documents_supplier_invoice_id_supplier_invoices'
INDEX_NAME = 'ix_stock_documents_supplier_invoice_id'
SQLITE_CHECK = f", CONSTRAINT {CHECK_NAME} CHECK ({CHECK})"

# Since 0040 the payables service wrote each price difference as a document with the
# invoice's supplier, company and posting date, its printed number (first 64 characters) as
# reference and the reason "price difference of supplier invoice|credit memo <supplier>
# <number>": an invoice and a credit memo of one supplier may share a number, the reason
# tells them apart (since erp.narration the reason is stored as the narration
# {"n":"supplier-credit-memo-price-difference",...}, and since 0046 as
# {"n":"supplier-credit-memo-price-difference-document",...}: both read here too for a
# downgrade and upgrade again). Only rows still without an invoice are touched: running it
# again changes nothing.
BACKFILL = sa.text(
    "UPDATE stock_documents SET supplier_invoice_id = ("
    " SELECT i.id FROM supplier_invoices i"
    " WHERE i.company_id = stock_documents.company_id AND i.supplier_id = stock_documents.supplier_id"
    "   AND i.posting_date = stock_documents.posting_date AND substr(i.number, 1, 64) = stock_documents.reference"
    "   AND i.document_kind = CASE WHEN stock_documents.reason LIKE 'price difference of supplier credit memo %'"
    "                                OR stock_documents.reason LIKE '{\"n\":\"supplier-credit-memo-price-difference\"%'"
    "                                OR stock_documents.reason LIKE '{\"n\":\"supplier-credit-memo-price-difference-document\"%'"
    "                              THEN 'credit_memo' ELSE 'invoice' END)"
    " WHERE doc_type = 'price_difference' AND supplier_invoice_id IS NULL")


def _sqlite_table_sql(connection: sa.Connection, old: str, new: str) -> None:
    """Edit stock_documents' stored table text (SQLite adds no constraint to a table, and
    rebuilding it would trip over the foreign keys pointing at it), as 0040 does."""
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


def _immutability(dialect: str, on: bool) -> None:
    """Documents are immutable (0003): linking the existing price differences lifts that for
    the duration of this migration only, as 0013 does."""
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE stock_documents {'ENABLE' if on else 'DISABLE'} TRIGGER stock_documents_immutable")
        return
    for action in ("UPDATE", "DELETE"):
        if on:
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS stock_documents_no_{action.lower()} BEFORE {action} ON stock_documents "
                f"BEGIN SELECT RAISE(ABORT, 'stock_documents is immutable: {action} refused; post a reversal "
                "instead'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS stock_documents_no_{action.lower()}")


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == 'sqlite'
    if sqlite:
        if 'supplier_invoice_id' not in {c['name'] for c in sa.inspect(connection).get_columns(TABLE)}:
            op.execute(f"ALTER TABLE {TABLE} ADD COLUMN supplier_invoice_id INTEGER "
                       f"CONSTRAINT {FK_NAME} REFERENCES supplier_invoices (id)")  # else left by a downgrade, empty
    else:
        op.add_column(TABLE, sa.Column('supplier_invoice_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FK_NAME, TABLE, 'supplier_invoices', ['supplier_invoice_id'], ['id'])
    op.create_index(INDEX_NAME, TABLE, ['supplier_invoice_id'], unique=False)
    _immutability(connection.dialect.name, on=False)
    op.execute(BACKFILL)
    _immutability(connection.dialect.name, on=True)
    unmatched = connection.execute(sa.text(
        "SELECT number FROM stock_documents WHERE doc_type = 'price_difference' AND supplier_invoice_id IS NULL "
        "ORDER BY id")).scalars().all()
    if unmatched:
        # Every price difference comes from an invoice: one that names none is not the
        # service's, and guessing its invoice would put a wrong link into the ledger.
        raise RuntimeError(f"price-difference documents {', '.join(unmatched[:20])} match no supplier invoice "
                           "by supplier, company, posting date and number; link them by hand, then upgrade")
    if sqlite:
        _sqlite_table_sql(connection, ")", SQLITE_CHECK + ")")
    else:
        op.create_check_constraint(op.f(CHECK_NAME), TABLE, CHECK)


def downgrade() -> None:
    connection = op.get_bind()
    op.drop_index(INDEX_NAME, table_name=TABLE)
    if connection.dialect.name == 'sqlite':
        # A column with a reference cannot be dropped in SQLite: it stays, emptied, unused by
        # the code of 0040 (0041 takes it up again).
        _sqlite_table_sql(connection, SQLITE_CHECK + ")", ")")
        _immutability('sqlite', on=False)
        op.execute(f"UPDATE {TABLE} SET supplier_invoice_id = NULL")
        _immutability('sqlite', on=True)
        return
    op.drop_constraint(op.f(CHECK_NAME), TABLE, type_='check')
    op.drop_constraint(FK_NAME, TABLE, type_='foreignkey')
    op.drop_column(TABLE, 'supplier_invoice_id')
