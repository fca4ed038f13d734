"""The tables the posting module alone writes, and the two it reads to post.

Written only through ``erp.posting`` (a test holds every other module to that):

- ``stock_documents``: the header of a stock posting (receipt, issue, transfer, ...);
- ``stock_movements``: the immutable stock ledger, one row per movement of one batch in
  one warehouse and status, signed quantity and value at standard (database triggers
  refuse UPDATE and DELETE; corrections are reversals);
- ``stock_balances``: current quantity and value per (warehouse, material, batch, status),
  changed in the same transaction as each movement, never below zero (CHECK);
- ``period_movement_totals``: each period's totals per material, close class and account,
  kept current like the balances so that the month-end close never scans the ledger;
- ``journal_entries`` and ``journal_lines``: the double-entry journal (amounts signed,
  positive debit, negative credit; every entry's lines sum to zero).

Read by every posting, written by the use cases that own them (costing): the accounting
periods (a posting holds its period open) and the standard prices (stock is valued at
the price in force). ``batches`` are the keys of the ledger; inventory creates them
through ``erp.posting.stock.find_or_create_batch``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from erp.period import Period
from erp.db import BigId, Base, Money, Quantity, UnitPrice, utcnow
from erp.masterdata.models import str_enum

# The batch every movement of a material without batch management is booked to.
NO_BATCH = "-"


class StockStatus(StrEnum):
    QUARANTINE = "quarantine"
    UNRESTRICTED = "unrestricted"
    BLOCKED = "blocked"


class MovementType(StrEnum):
    RECEIPT = "receipt"
    RECEIPT_REVERSAL = "receipt_reversal"
    QUALITY_RELEASE = "quality_release"
    QUALITY_REJECT = "quality_reject"
    # Stock put back into quarantine pending a quality decision (a storage excursion).
    QUALITY_HOLD = "quality_hold"
    RETURN_TO_SUPPLIER = "return_to_supplier"
    ISSUE = "issue"
    ISSUE_REVERSAL = "issue_reversal"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"
    SHIPMENT = "shipment"
    SHIPMENT_REVERSAL = "shipment_reversal"
    REVALUATION = "revaluation"
    # Output of a production order entering stock at standard (erp.production).
    PRODUCTION_RECEIPT = "production_receipt"
    PRODUCTION_RECEIPT_REVERSAL = "production_receipt_reversal"
    # The part of a supplier invoice's (or credit memo's) price difference booked to 1404
    # material cost variance, as value-only rows (quantity 0, value 0, the difference on
    # ``variance``, close class receipt): it is variance of the period's receipts, which the
    # close spreads by that period's rate (erp.payables.services, docs/payables.md).
    PRICE_DIFFERENCE = "price_difference"


# Stock document numbers: a prefix per kind of document and the document's key, from one
# number range for the whole group (unique, never reused; a rolled-back posting leaves a
# gap, as any database sequence does). Taken from the key rather than a per-company series
# so that concurrent postings never queue for a number.
DOCUMENT_PREFIXES = {
    MovementType.RECEIPT: "GR", MovementType.RECEIPT_REVERSAL: "GRR", MovementType.QUALITY_RELEASE: "QR",
    MovementType.QUALITY_REJECT: "QB",
    MovementType.QUALITY_HOLD: "QH", MovementType.RETURN_TO_SUPPLIER: "RTS", MovementType.ISSUE: "GI",
    MovementType.ISSUE_REVERSAL: "GIR", MovementType.TRANSFER: "TR", MovementType.ADJUSTMENT: "ADJ",
    MovementType.SCRAP: "SCR", MovementType.SHIPMENT: "SHP", MovementType.SHIPMENT_REVERSAL: "SHR",
    MovementType.REVALUATION: "RV", MovementType.PRODUCTION_RECEIPT: "PGR",
    MovementType.PRODUCTION_RECEIPT_REVERSAL: "PGRR", MovementType.PRICE_DIFFERENCE: "PD",
}
NUMBER_DIGITS = 8


def document_number(doc_type: MovementType, document_id: int) -> str:
    """``GR-00000123``: the kind's prefix and the key, zero-padded to eight digits."""
    return f"{DOCUMENT_PREFIXES[MovementType(doc_type)]}-{document_id:0{NUMBER_DIGITS}d}"


class CloseClass(StrEnum):
    """How the month-end close treats a movement (材料成本差异 allocation).

    receipt: purchases and their reversals/returns, carrying a purchase price variance;
    consumption: issues, shipments, scrap, negative count differences (they bear variance);
    inflow: other stock coming in at standard (positive count differences);
    internal: moves inside the company (transfers, quality status changes), net zero;
    revaluation: a standard price change restating the opening stock.
    """

    RECEIPT = "receipt"
    CONSUMPTION = "consumption"
    INFLOW = "inflow"
    INTERNAL = "internal"
    REVALUATION = "revaluation"


class Batch(Base):
    """A batch (lot) of a material, with its manufacture and expiry dates."""

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("material_id", "batch_number"),
        CheckConstraint("expiry_date IS NULL OR manufacture_date IS NULL OR expiry_date > manufacture_date",
                        name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    batch_number: Mapped[str] = mapped_column(String(40))
    manufacture_date: Mapped[dt.date | None] = mapped_column(Date)
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    # The supplier of the first receipt (the batch flow query follows every receipt).
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StockDocument(Base):
    """A posted stock document (receipt, issue, transfer, ...): the header of its movements.

    Immutable. A reversal is a new document pointing at the one it reverses; the unique
    constraint on ``reverses_document_id`` makes a second reversal impossible, even when
    two users try at once.
    """

    __tablename__ = "stock_documents"
    __table_args__ = (
        Index("ix_stock_documents_company_date", "company_id", "posting_date"),
        Index("ix_stock_documents_po_line", "po_line_id"),
        # A price difference always names the invoice or credit memo it comes from (0041).
        CheckConstraint("doc_type <> 'price_difference' OR supplier_invoice_id IS NOT NULL",
                        name="price_difference_invoice"),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    # What people quote: GR-00000123 (see document_number).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    doc_type: Mapped[MovementType] = mapped_column(str_enum(MovementType, "movement_type"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    posting_date: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[Period] = mapped_column()
    # Receipts: the order line, its contract price, the delivery note.
    po_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_lines.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    unit_price: Mapped[UnitPrice | None]
    # The standard price the document was valued at (receipts, for exact returns).
    standard_price: Mapped[UnitPrice | None]
    delivery_note: Mapped[str | None] = mapped_column(String(64))
    # Shipments: the customer and the sales document (batch flow to customers).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    reference: Mapped[str | None] = mapped_column(String(64))
    # Issues: production or a cost centre; adjustments: the reason.
    destination: Mapped[str | None] = mapped_column(String(32))
    cost_center: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    reverses_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_documents.id"), unique=True
    )
    # Returns to the supplier: the receipt whose goods go back (several partial returns).
    source_document_id: Mapped[int | None] = mapped_column(ForeignKey("stock_documents.id"), index=True)
    # Price differences: the supplier invoice or credit memo whose difference the document
    # carries into the ledger (``reference`` is its printed number, for people).
    supplier_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_invoices.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StockMovement(Base):
    """One immutable ledger row: a signed quantity and value of one batch, in one warehouse
    and status. ``variance`` is the purchase price variance a receipt (or its reversal)
    carries to the material cost variance account; zero for other movements."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_close", "company_id", "period", "material_id"),
        Index("ix_stock_movements_stock", "warehouse_id", "material_id", "posting_date"),
        Index("ix_stock_movements_batch", "batch_id"),
        Index("ix_stock_movements_document", "document_id"),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    document_id: Mapped[BigId] = mapped_column(ForeignKey("stock_documents.id"))
    movement_type: Mapped[MovementType] = mapped_column(str_enum(MovementType, "movement_type"))
    close_class: Mapped[CloseClass] = mapped_column(str_enum(CloseClass, "close_class"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    status: Mapped[StockStatus] = mapped_column(str_enum(StockStatus, "stock_status"))
    quantity: Mapped[Quantity]
    value: Mapped[Money]
    variance: Mapped[Money] = mapped_column(default=Decimal("0"))
    # Where consumption went (production, COGS, scrap, count differences): the close
    # allocates variance to this account.
    offset_account: Mapped[str | None] = mapped_column(ForeignKey("accounts.code"))
    posting_date: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[Period] = mapped_column()
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StockBalance(Base):
    """Current quantity and value at standard of one batch in one warehouse and status."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "material_id", "batch_id", "status"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_stock_balances_company_material", "company_id", "material_id"),
        # Value left on no quantity (rounding, partial returns), which the month-end close
        # restates to zero: a few rows, found without reading every balance
        # (erp.costing.revaluation).
        Index("ix_stock_balances_value_without_quantity", "company_id",
              postgresql_where=text("quantity = 0 AND value <> 0"), sqlite_where=text("quantity = 0 AND value <> 0")),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    status: Mapped[StockStatus] = mapped_column(str_enum(StockStatus, "stock_status"))
    quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    value: Mapped[Money] = mapped_column(default=Decimal("0"))
    # The latest posting date among the row's movements: an outflow dated before it is
    # backdated and must find the stock available on its own date (erp.inventory.ledger).
    last_posting_date: Mapped[dt.date | None] = mapped_column(Date)


class PeriodMovementTotal(Base):
    """A company's period totals per material, close class and consumption account (the
    period's receipts, inflows, consumption and restatements), kept current by every
    posting like the stock balances, so that the month-end close reads a few rows per
    material instead of scanning the month's ledger. Internal moves (transfers, quality
    status changes) net to zero within a company and are not totalled.

    Its keys come from the ledger rows it totals, whose foreign keys are already checked;
    ``offset_account`` is '' where there is none, so that the unique key can be upserted.
    ``flask --app erp stock check`` compares it with the ledger."""

    __tablename__ = "period_movement_totals"
    __table_args__ = (
        UniqueConstraint("company_id", "period", "material_id", "close_class", "offset_account",
                         name="uq_period_movement_totals_key"),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    company_id: Mapped[int]
    period: Mapped[Period] = mapped_column()
    material_id: Mapped[int]
    close_class: Mapped[str] = mapped_column(String(16))
    offset_account: Mapped[str] = mapped_column(String(16), default="")
    quantity: Mapped[Quantity]
    value: Mapped[Money]
    variance: Mapped[Money]


class JournalEntry(Base):
    """A balanced posting: the header of a set of journal lines. Immutable once written."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_company_period", "company_id", "period"),
        Index("ix_journal_entries_source", "source_type", "source_id"),
        # The target of journal_lines' foreign key: a line's company and period are its entry's.
        Index("ux_journal_entries_key", "id", "company_id", "period", unique=True),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    entry_date: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[Period] = mapped_column()
    # What produced the entry: a stock document, an invoice, a close...
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None]
    memo: Mapped[str] = mapped_column(String(300))
    reverses_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JournalLine(Base):
    """One signed amount on one account (positive: debit; negative: credit)."""

    __tablename__ = "journal_lines"
    __table_args__ = (
        Index("ix_journal_lines_balance", "company_id", "account_code", "period"),
        Index("ix_journal_lines_entry", "entry_id"),
        Index("ix_journal_lines_material", "company_id", "material_id", "account_code"),
        # One key for entry, company and period: the line cannot disagree with its entry,
        # and the close's thousands of lines pay one check for it, not two.
        ForeignKeyConstraint(["entry_id", "company_id", "period"],
                             ["journal_entries.id", "journal_entries.company_id", "journal_entries.period"]),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    entry_id: Mapped[BigId]
    company_id: Mapped[int]
    period: Mapped[Period] = mapped_column()
    account_code: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    amount: Mapped[Money]
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))


class StandardPrice(Base):
    """A company's standard price of a material from a period (YYYY-MM) on, until a later
    period's price is set (see erp.costing.standards)."""

    __tablename__ = "standard_prices"
    __table_args__ = (
        UniqueConstraint("company_id", "material_id", "period"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    period: Mapped[Period] = mapped_column()
    price: Mapped[UnitPrice]
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AccountingPeriod(Base):
    """A company's month. Postings lock the row for key share; the close locks it for update,
    so no posting can slip into a period while it is being closed."""

    __tablename__ = "accounting_periods"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    period: Mapped[Period] = mapped_column(primary_key=True)
    status: Mapped[PeriodStatus] = mapped_column(
        str_enum(PeriodStatus, "period_status"), default=PeriodStatus.OPEN
    )
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # The close's totals (erp.costing.close): the materials with a balance, the variance
    # allocated to consumption and the variance left with the stock. Kept here because a
    # close writes balance rows only for the materials that moved, so the period's own rows
    # no longer add up to them. None while the period is open.
    close_materials: Mapped[int | None]
    variance_allocated: Mapped[Money | None]
    variance_remaining: Mapped[Money | None]
