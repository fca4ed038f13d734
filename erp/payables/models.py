"""Payables' own tables: supplier invoices and credit memos with their matched lines, the
per-company match tolerances, supplier payments and how they were applied.

The books themselves (journal entries on GR/IR, input VAT, accounts payable, material cost
variance) are written by ``erp.posting``; these rows are the subledger that says which
supplier, invoice and order line each amount belongs to.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Base, BigId, Money, Quantity, UnitPrice, utcnow
from erp.masterdata.models import PERCENT, str_enum
from erp.messages import Message
from erp.posting.models import StockDocument


class DocumentKind(StrEnum):
    INVOICE = "invoice"  # 发票
    CREDIT_MEMO = "credit_memo"  # 红字发票 / 贷项通知单


class InvoiceKind(StrEnum):
    """What the supplier issued: a special VAT invoice (增值税专用发票), whose input VAT is
    deductible, or an ordinary invoice (普通发票), whose VAT is part of the goods' cost."""

    SPECIAL = "special"
    ORDINARY = "ordinary"


class PayablesTolerance(Base):
    """A company's three-way match tolerances (SAP's tolerance keys, in two numbers each).

    Quantity: a line may invoice up to ``quantity_pct`` percent more than was received and
    not yet invoiced. Price: the invoice price may differ from the order line's contract
    price by at most ``price_pct`` percent AND the line's difference by at most
    ``price_amount`` CNY. Outside either, the invoice posts blocked for payment.
    """

    __tablename__ = "payables_tolerances"
    __table_args__ = (
        CheckConstraint("quantity_pct >= 0 AND quantity_pct <= 100", name="quantity_pct_range"),
        CheckConstraint("price_pct >= 0 AND price_pct <= 100", name="price_pct_range"),
        CheckConstraint("price_amount >= 0", name="price_amount_not_negative"),
    )

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    quantity_pct: Mapped[Decimal] = mapped_column(PERCENT)
    price_pct: Mapped[Decimal] = mapped_column(PERCENT)
    price_amount: Mapped[Money]
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SupplierInvoice(Base):
    """A supplier's invoice or credit memo as entered and posted: the header totals as
    printed, the open amount still to pay (to offset, for a credit memo), and the payment
    block the three-way match set, with who released it and why."""

    __tablename__ = "supplier_invoices"
    __table_args__ = (
        UniqueConstraint("supplier_id", "document_kind", "number"),
        CheckConstraint("net_total >= 0 AND tax_total >= 0", name="totals_not_negative"),
        CheckConstraint("gross_total = net_total + tax_total", name="gross_is_net_plus_tax"),
        CheckConstraint("open_amount >= 0 AND open_amount <= gross_total", name="open_amount_range"),
        CheckConstraint("blocked = false OR released_at IS NULL", name="released_is_not_blocked"),
        CheckConstraint("reversed_at IS NULL OR (reversed_by IS NOT NULL AND reversal_date IS NOT NULL AND "
                        "reversal_reason IS NOT NULL AND open_amount = 0)",
                        name="reversal_recorded"),
        # An invoice whose amounts are all zero posted no entry (erp.posting.post): its reversal posts none.
        CheckConstraint("reversed_at IS NULL OR entry_id IS NULL OR reversal_entry_id IS NOT NULL",
                        name="reversal_entry_recorded"),
        # migration 0045: only a credit memo naming an invoice applies anything, at most its
        # total; a standing memo's open part is what it did not apply
        CheckConstraint("applied_amount >= 0 AND applied_amount <= gross_total AND "
                        "(applied_amount = 0 OR credits_invoice_id IS NOT NULL)", name="applied_amount_range"),
        CheckConstraint("document_kind = 'invoice' OR reversed_at IS NOT NULL OR "
                        "open_amount = gross_total - applied_amount", name="memo_open_is_unapplied"),
        Index("ix_supplier_invoices_company_supplier", "company_id", "supplier_id", "due_date"),
        # migration 0046: the document's own number, unique across the group
        Index("uq_supplier_invoices_document_number", "document_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    invoice_kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind, "invoice_kind"))
    # The number printed on the invoice (发票号码; 20 digits on a fully digital invoice).
    number: Mapped[str] = mapped_column(String(40))
    # Our own number of the posted document (凭单号), AP-<company code>-<year>-000001 for an
    # invoice and CM-... for a credit memo, from the company's series of the posting date's
    # year (services.document_number_for; migration 0046). The supplier's number above is
    # unique only per supplier; this one is what the books and auditors quote.
    document_number: Mapped[str] = mapped_column(String(50))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    posting_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    # As printed on the invoice; both kinds carry positive amounts.
    net_total: Mapped[Money]
    tax_total: Mapped[Money]
    gross_total: Mapped[Money]
    open_amount: Mapped[Money]
    # A credit memo may name the invoice it reduces (its amount then comes off that invoice).
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_invoices.id"))
    # What such a memo took off that invoice's open amount when posted (at most what was open
    # then; 0 on invoices and on memos naming none). Kept once the memo is reversed, when its
    # open amount is 0: the AP ageing of a day before the reversal needs it (migration 0045).
    applied_amount: Mapped[Money] = mapped_column(default=Decimal(0), server_default="0")
    blocked: Mapped[bool] = mapped_column(default=False)
    block_reason: Mapped[str | None] = mapped_column(String(1000))
    # The same reasons as translatable messages ({"template", "params"}), for pages.
    block_messages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[dt.datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[BigId | None] = mapped_column(ForeignKey("journal_entries.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Reversed (cancelled, 冲销) by a mirror journal entry dated ``reversal_date``
    # (``services.reverse_invoice``, migration 0042): who, when, why. Its open amount is then
    # 0; the ageing of a day before the reversal date still counts its gross total open.
    reversed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[dt.datetime | None]
    reversal_date: Mapped[dt.date | None] = mapped_column(Date)
    reversal_reason: Mapped[str | None] = mapped_column(String(500))
    reversal_entry_id: Mapped[BigId | None] = mapped_column(ForeignKey("journal_entries.id"))

    lines: Mapped[list[SupplierInvoiceLine]] = relationship(
        back_populates="invoice", order_by="SupplierInvoiceLine.line_no", cascade="all, delete-orphan"
    )
    # The stock documents (PD-...) that put the part of its price difference booked to 1404
    # into the stock ledger (docs/payables.md); none when all of it went to consumption.
    price_difference_documents: Mapped[list[StockDocument]] = relationship(
        StockDocument, primaryjoin=lambda: StockDocument.supplier_invoice_id == SupplierInvoice.id,
        foreign_keys=lambda: [StockDocument.supplier_invoice_id], order_by=lambda: StockDocument.id, viewonly=True,
    )

    @property
    def reasons(self) -> list[Message]:
        """Why the invoice is blocked, as messages a page can translate."""
        return [Message(item["template"], **item["params"]) for item in self.block_messages or []]

    @property
    def reversed(self) -> bool:
        """Whether a reversal cancelled it (it is then neither paid, released nor matched against)."""
        return self.reversed_at is not None

    @property
    def price_reduction(self) -> bool:
        """Whether it is a price-reduction credit memo: its lines reduce invoice lines' prices
        and credit no quantity."""
        return any(line.reduces_line_id is not None for line in self.lines)

    @property
    def sign(self) -> int:
        """+1 for an invoice, -1 for a credit memo: what the document does to the payable."""
        return 1 if self.document_kind == DocumentKind.INVOICE else -1


class SupplierInvoiceLine(Base):
    """One line matched to a purchase order line: quantity, the invoice's unit price
    excluding tax, the tax code; what the match found and the amounts posted."""

    __tablename__ = "supplier_invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "line_no"),
        # a line credits or invoices a quantity; a price reduction's line (migration 0049)
        # names the invoice line it reduces and moves no quantity and no GR/IR
        CheckConstraint("(reduces_line_id IS NULL AND quantity > 0) OR "
                        "(reduces_line_id IS NOT NULL AND quantity = 0 AND grir_amount = 0)",
                        name="quantity_or_price_reduction"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        Index("ix_supplier_invoice_lines_po_line", "po_line_id"),
        Index("ix_supplier_invoice_lines_reduces_line", "reduces_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("supplier_invoices.id"))
    line_no: Mapped[int]
    po_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_lines.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Quantity]
    unit_price: Mapped[UnitPrice]
    tax_code_id: Mapped[int] = mapped_column(ForeignKey("tax_codes.id"))
    tax_rate: Mapped[Decimal] = mapped_column(PERCENT)
    net_amount: Mapped[Money]
    tax_amount: Mapped[Money]
    # The order line's contract price and the quantity at it: what clears GR/IR.
    contract_price: Mapped[UnitPrice]
    grir_amount: Mapped[Money]
    # net - GR/IR value (and, on an ordinary invoice, its non-deductible VAT): to 1404 or consumption.
    price_difference: Mapped[Money]
    # What the order line had received and not yet invoiced when this line was matched.
    open_received_quantity: Mapped[Quantity]
    quantity_blocked: Mapped[bool] = mapped_column(default=False)
    price_blocked: Mapped[bool] = mapped_column(default=False)
    # A credit memo for goods sent back: the return-to-supplier stock document it credits.
    return_document_id: Mapped[BigId | None] = mapped_column(ForeignKey("stock_documents.id"))
    # A price-reduction credit memo's line (降价红字发票, erp.payables.price_reductions): the
    # invoice line whose price it reduces. Its quantity and GR/IR amount are then 0 (the goods
    # and GR/IR are untouched), its net amount is the reduction excluding tax and its unit
    # price the reduction per unit of the reduced line's quantity (migration 0049).
    reduces_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_invoice_lines.id", name="fk_supplier_invoice_lines_reduces_line"))

    invoice: Mapped[SupplierInvoice] = relationship(back_populates="lines")


class SupplierPayment(Base):
    """Money paid to a supplier by a company (Dr 2202 accounts payable, Cr 1002 bank)."""

    __tablename__ = "supplier_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # whole or nothing (migration 0043)
        CheckConstraint("(reversed_at IS NULL AND reversed_by IS NULL AND reversal_date IS NULL AND "
                        "reversal_reason IS NULL AND reversal_entry_id IS NULL) OR (reversed_at IS NOT NULL AND "
                        "reversed_by IS NOT NULL AND reversal_date IS NOT NULL AND reversal_reason IS NOT NULL AND "
                        "reversal_entry_id IS NOT NULL)", name="reversal_recorded"),
        Index("ix_supplier_payments_company_supplier", "company_id", "supplier_id"),
        # migration 0047: the payment's own number, unique across the group
        Index("uq_supplier_payments_document_number", "document_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    payment_date: Mapped[dt.date] = mapped_column(Date)
    # Our own number of the payment (付款凭单号), PV-<company code>-<year>-000001, from the
    # company's series of the payment date's year (services.pay_supplier; migration 0047),
    # as supplier invoices have AP- (0046). The reference below is the bank's or the clerk's.
    document_number: Mapped[str] = mapped_column(String(50))
    amount: Mapped[Money]
    reference: Mapped[str | None] = mapped_column(String(64))
    entry_id: Mapped[BigId | None] = mapped_column(ForeignKey("journal_entries.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Reversed (冲销: a bank return, a payment of the wrong invoice) by a mirror journal entry
    # dated ``reversal_date`` (``services.reverse_payment``, migration 0043): who, when, why.
    # Its allocations stay as they were; they settle nothing from the reversal date on.
    reversed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[dt.datetime | None]
    reversal_date: Mapped[dt.date | None] = mapped_column(Date)
    reversal_reason: Mapped[str | None] = mapped_column(String(500))
    reversal_entry_id: Mapped[BigId | None] = mapped_column(ForeignKey("journal_entries.id"))

    allocations: Mapped[list[PaymentAllocation]] = relationship(back_populates="payment", cascade="all, delete-orphan",
                                                                order_by="PaymentAllocation.id")

    @property
    def reversed(self) -> bool:
        """Whether a reversal cancelled it (its allocations then settle nothing)."""
        return self.reversed_at is not None


class PaymentAllocation(Base):
    """The part of a payment that settled one invoice."""

    __tablename__ = "supplier_payment_allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_supplier_payment_allocations_invoice", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("supplier_payments.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("supplier_invoices.id"))
    amount: Mapped[Money]

    payment: Mapped[SupplierPayment] = relationship(back_populates="allocations")
    # read-only: the invoice settled, for its number in GET /payables/payments
    invoice: Mapped[SupplierInvoice] = relationship(viewonly=True)

