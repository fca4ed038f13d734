"""Sales, receivables and group credit: orders, invoices, payments, the customer's
group-wide exposure, credit limits (versioned) and the limit model's suggestions.

Exposure is kept current, not recomputed: ``customer_exposures`` holds one row per
customer with its open invoices and open (confirmed, unshipped) order value across every
company of the group, updated in the same transaction as each confirmation, shipment,
cancellation and payment. Credit checks lock that row, so two companies selling to one
customer at the same moment are checked one after the other.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.messages import Message
from erp.credit.errors import OrderStatusConflict
from erp.credit.scorecard import Capacity, CustomerType, Factor, HoldRule, RatingGrade
from erp.db import BigId, Base, Money, Quantity, Rate, UnitPrice, utcnow
from erp.masterdata.models import PERCENT, str_enum

DAYS = Numeric(8, 2)
SCORE = Numeric(5, 2)
SHARE = Numeric(5, 4)


def _total_without_tax(context: Any) -> Any:
    """A document written without its net amount is a total without a separate VAT (history,
    opening balances): net = amount, tax 0."""
    return context.get_current_parameters()["amount"]


class SalesOrderStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    # The credit check refused the confirmation; a credit controller may release it, or
    # sales confirm again once the customer's exposure allows.
    BLOCKED = "blocked"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


S = SalesOrderStatus
# The order's life cycle as data: every allowed move, and nothing else.
ORDER_TRANSITIONS = frozenset({
    (S.DRAFT, S.CONFIRMED), (S.DRAFT, S.BLOCKED), (S.BLOCKED, S.CONFIRMED),
    (S.CONFIRMED, S.PARTIALLY_SHIPPED), (S.CONFIRMED, S.SHIPPED),
    (S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED), (S.PARTIALLY_SHIPPED, S.SHIPPED),
    # Cancelling a partially shipped order cancels what is still to ship; shipped goods
    # stay invoiced.
    (S.DRAFT, S.CANCELLED), (S.BLOCKED, S.CANCELLED), (S.CONFIRMED, S.CANCELLED),
    (S.PARTIALLY_SHIPPED, S.CANCELLED),
})
# Orders in these states count in the customer's exposure and may be shipped.
OPEN_ORDER_STATUSES = frozenset({S.CONFIRMED, S.PARTIALLY_SHIPPED})


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    # A price correction upwards without goods (a debit note): a receivable like any other.
    DEBIT_NOTE = "debit_note"


class CreditNoteKind(StrEnum):
    # Goods came back against a shipment (退货).
    RETURN = "return"
    # A price correction downwards without goods (折让).
    PRICE = "price"


class SalesOrder(Base):
    """A company's order from a customer of the group master, quoted by its ``number``."""

    __tablename__ = "sales_orders"
    __table_args__ = (
        # A unique index rather than a constraint: SQLite adds no constraint to a table
        # that rows point at (migration 0044), and the same index serves look-ups by number.
        Index("uq_sales_orders_number", "number", unique=True),
        Index("ix_sales_orders_company_status", "company_id", "status"),
        Index("ix_sales_orders_customer_status", "customer_id", "status"),
        Index("ix_sales_orders_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SO-<company code>-<year of the order date>-000001, from the company's series of that
    # year (erp.credit.services.order_number, the purchase orders' numbering): what people
    # quote. Carrying the company's code, it is unique in the group, never ambiguous.
    number: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_date: Mapped[dt.date] = mapped_column(Date)
    customer_reference: Mapped[str | None] = mapped_column(String(64))
    # Intercompany: the group company the customer record stands for (the buyer).
    partner_company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    status: Mapped[SalesOrderStatus] = mapped_column(
        str_enum(SalesOrderStatus, "sales_order_status"), default=SalesOrderStatus.DRAFT
    )
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # The rule of the last credit block at confirmation, when and at what exposure.
    credit_block_rule: Mapped[str | None] = mapped_column(String(64))
    credit_blocked_at: Mapped[dt.datetime | None]
    credit_block_exposure: Mapped[Money | None]
    # A credit controller released the order (credit_releases holds who, when and why):
    # its shipments are no longer checked against the limit (a credit hold still stops them).
    credit_released: Mapped[bool] = mapped_column(default=False)

    lines: Mapped[list[SalesOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="SalesOrderLine.line_no", lazy="selectin"
    )

    def move_to(self, status: SalesOrderStatus) -> None:
        """Change status along ``ORDER_TRANSITIONS``; any other move is a conflict."""
        if (self.status, status) not in ORDER_TRANSITIONS:
            raise OrderStatusConflict(
                Message("sales order {order} is {status}; it cannot become {target}", order=self.number,
                        status=self.status, target=status),
                order_status=self.status.value,
            )
        self.status = status


class SalesOrderLine(Base):
    """What the customer ordered: a material from a warehouse at an agreed unit price."""

    __tablename__ = "sales_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="price_positive"),
        CheckConstraint("shipped_quantity >= 0 AND shipped_quantity <= quantity", name="shipped_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    line_no: Mapped[int]
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[Quantity]
    unit_price: Mapped[UnitPrice]
    # Output VAT (销项税): the line's code (default from the customer, else the material) and
    # its rate in percent when the order was taken; the unit price excludes tax.
    tax_code_id: Mapped[int | None] = mapped_column(ForeignKey("tax_codes.id"))
    tax_rate: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"), server_default="0")
    shipped_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    # Intercompany: the buying company's purchase order line this line fills (same
    # material, the intercompany contract price); its receipts are the other half.
    partner_po_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_lines.id"), index=True)

    order: Mapped[SalesOrder] = relationship(back_populates="lines")


class Invoice(Base):
    """A receivable: raised by a shipment, due after the customer's payment terms.

    ``open_amount`` is what is still unpaid; payments reduce it through applications. Its
    journal entry is found by source (``invoice``, id).
    """

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("open_amount >= 0 AND open_amount <= amount", name="open_range"),
        CheckConstraint("abs(amount - (net_amount + tax_amount)) < 0.005", name="amount_is_net_plus_tax"),
        CheckConstraint("due_date >= invoice_date", name="due_after_invoice"),
        # Open invoices only (most invoices are paid): payments settle a customer's open
        # invoices in a company oldest due first; ageing reads open amounts by due date.
        Index("ix_invoices_open", "customer_id", "company_id", "due_date", "open_amount",
              postgresql_where=text("open_amount > 0"), sqlite_where=text("open_amount > 0")),
        Index("ix_invoices_customer_date", "customer_id", "invoice_date"),
        Index("ix_invoices_company_date", "company_id", "invoice_date"),
        Index("ix_invoices_order", "order_id"),
        Index("uq_invoices_company_reference", "company_id", "reference", unique=True,
              postgresql_where=text("reference IS NOT NULL"), sqlite_where=text("reference IS NOT NULL")),
        Index("uq_invoices_document_number", "document_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The invoice's own number, AR-<company code>-<year>-000001 (a debit note: DN-...), from
    # the company's series of the invoice date's year (erp.credit.services.invoice_number;
    # migration 0046): what the customer, the books and auditors quote.
    document_number: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # NULL for receivables taken over without an order (opening balances, history).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_orders.id"))
    # The old system's invoice number of a receivable taken over at go-live (what the
    # customer quotes when paying it); unique per company, so none is taken over twice.
    reference: Mapped[str | None] = mapped_column(String(64))
    # Intercompany: the group company that owes it (its customer record is the customer);
    # the group's figures eliminate these, the company's own books keep them.
    partner_company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    # What the customer owes: the total including VAT (价税合计), net + tax; receivables,
    # payments, exposure and ageing all count it.
    amount: Mapped[Money]
    net_amount: Mapped[Money] = mapped_column(default=_total_without_tax, server_default="0")
    tax_amount: Mapped[Money] = mapped_column(default=Decimal("0"), server_default="0")
    open_amount: Mapped[Money]
    status: Mapped[InvoiceStatus] = mapped_column(str_enum(InvoiceStatus, "invoice_status"),
                                                  default=InvoiceStatus.OPEN)
    kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind, "invoice_kind"), default=InvoiceKind.INVOICE,
                                              server_default=InvoiceKind.INVOICE.value)
    # Debit notes: the invoice whose price they correct, and why.
    corrects_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # The order shipped, for its number (loaded when asked for: a payment's invoices never need it).
    order: Mapped[SalesOrder | None] = relationship(viewonly=True)
    lines: Mapped[list[InvoiceLine]] = relationship(cascade="all, delete-orphan", order_by="InvoiceLine.id",
                                                    lazy="selectin")
    applications: Mapped[list[PaymentApplication]] = relationship(
        viewonly=True, order_by="PaymentApplication.id", lazy="selectin",
        primaryjoin="PaymentApplication.invoice_id == Invoice.id", foreign_keys="PaymentApplication.invoice_id",
    )


class InvoiceLine(Base):
    """One shipped order line on an invoice: quantity x the order's unit price, to the cent."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        Index("ix_invoice_lines_invoice", "invoice_id"),
        CheckConstraint("abs(amount - (net_amount + tax_amount)) < 0.005", name="amount_is_net_plus_tax"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order_lines.id"))
    stock_document_id: Mapped[BigId | None] = mapped_column(ForeignKey("stock_documents.id"))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Quantity | None]
    unit_price: Mapped[UnitPrice | None]
    tax_code_id: Mapped[int | None] = mapped_column(ForeignKey("tax_codes.id"))
    tax_rate: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"), server_default="0")
    # net = quantity x unit price, tax = net x rate, each half-up to the cent per line;
    # ``amount`` is their sum, the total including tax.
    net_amount: Mapped[Money] = mapped_column(default=_total_without_tax, server_default="0")
    tax_amount: Mapped[Money] = mapped_column(default=Decimal("0"), server_default="0")
    amount: Mapped[Money]


class Payment(Base):
    """Money received from a customer by one company; what no invoice took stays unapplied.

    Journal entries by source: (``payment``, id) when received, (``credit_application``,
    id) each time unapplied credit is applied later.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unapplied_amount >= 0 AND unapplied_amount <= amount", name="unapplied_range"),
        # Whole or nothing (migration 0052): not reversed, or its reversal recorded with all five.
        CheckConstraint("(reversed_at IS NULL AND reversed_by IS NULL AND reversal_date IS NULL AND "
                        "reversal_reason IS NULL AND reversal_entry_id IS NULL) OR (reversed_at IS NOT NULL AND "
                        "reversed_by IS NOT NULL AND reversal_date IS NOT NULL AND reversal_reason IS NOT NULL AND "
                        "reversal_entry_id IS NOT NULL)", name="reversal_recorded"),
        Index("ix_payments_company_customer", "company_id", "customer_id"),
        # Payments with money not yet applied (most are applied in full): what the CIO's
        # unapplied payments read.
        Index("ix_payments_unapplied", "payment_date", "company_id", "customer_id", "unapplied_amount",
              postgresql_where=text("unapplied_amount > 0"), sqlite_where=text("unapplied_amount > 0")),
        Index("uq_payments_document_number", "document_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # RC-<company code>-<year>-000001 (收款单), the company's series of the payment date's year
    # (migration 0046).
    document_number: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Money]
    unapplied_amount: Mapped[Money]
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Reversed (冲销: a bounced bank draft, money booked to the wrong customer) by one balancing
    # entry dated ``reversal_date`` (``erp.credit.payment_reversals``, migration 0052): who, when,
    # why. Its applications stay as they were; from the reversal date on they settle nothing
    # (the invoices got their amounts back).
    reversed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[dt.datetime | None]
    reversal_date: Mapped[dt.date | None] = mapped_column(Date)
    reversal_reason: Mapped[str | None] = mapped_column(String(500))
    reversal_entry_id: Mapped[BigId | None] = mapped_column(ForeignKey("journal_entries.id"))

    @property
    def reversed(self) -> bool:
        return self.reversed_at is not None

    applications: Mapped[list[PaymentApplication]] = relationship(
        viewonly=True, order_by="PaymentApplication.id", lazy="selectin",
        primaryjoin="PaymentApplication.payment_id == Payment.id", foreign_keys="PaymentApplication.payment_id",
    )


class PaymentApplication(Base):
    """Part of a payment settling part of an invoice.

    ``days_late`` is the application date minus the invoice's due date (negative when
    paid early), kept so that the limit model reads payment behaviour without date
    arithmetic in SQL.
    """

    __tablename__ = "payment_applications"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_applications_invoice", "invoice_id", "applied_on"),
        Index("ix_payment_applications_payment", "payment_id"),
        Index("ix_payment_applications_applied_on", "applied_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Money]
    applied_on: Mapped[dt.date] = mapped_column(Date)
    days_late: Mapped[int]
    applied_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CreditNote(Base):
    """What a company owes back to a customer: goods returned against a shipment, or a
    price correction without goods. It settles the corrected invoice (or the customer's
    open invoices in the company) as far as they are open; the rest is kept as the
    customer's credit (``unapplied_amount``). Journal by source (``credit_note``, id):
    Dr revenue, Cr receivables (applied) and Cr customer advances (kept)."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unapplied_amount >= 0 AND unapplied_amount <= amount", name="unapplied_range"),
        CheckConstraint("abs(amount - (net_amount + tax_amount)) < 0.005", name="amount_is_net_plus_tax"),
        Index("ix_credit_notes_company_customer", "company_id", "customer_id"),
        Index("ix_credit_notes_invoice", "invoice_id"),
        Index("uq_credit_notes_document_number", "document_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # CN-<company code>-<year>-000001 (红字发票 / 贷项通知单), the company's series of the note
    # date's year (migration 0046).
    document_number: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[CreditNoteKind] = mapped_column(str_enum(CreditNoteKind, "credit_note_kind"))
    # The invoice corrected (returns: the shipment's invoice).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    note_date: Mapped[dt.date] = mapped_column(Date)
    # the total including VAT, net + tax
    amount: Mapped[Money]
    net_amount: Mapped[Money] = mapped_column(default=_total_without_tax, server_default="0")
    tax_amount: Mapped[Money] = mapped_column(default=Decimal("0"), server_default="0")
    unapplied_amount: Mapped[Money]
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[CreditNoteLine]] = relationship(cascade="all, delete-orphan", order_by="CreditNoteLine.id",
                                                       lazy="selectin")
    applications: Mapped[list[CreditNoteApplication]] = relationship(
        cascade="all, delete-orphan", order_by="CreditNoteApplication.id", lazy="selectin")


class CreditNoteLine(Base):
    """One line of a credit note: returned goods (quantity x the invoice line's price, with
    the return's stock document and batch) or a price correction (an amount)."""

    __tablename__ = "credit_note_lines"
    __table_args__ = (Index("ix_credit_note_lines_note", "credit_note_id"),
                      Index("ix_credit_note_lines_invoice_line", "invoice_line_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id"))
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))
    # Returns: the stock document that took the goods back (into quarantine).
    stock_document_id: Mapped[BigId | None] = mapped_column(ForeignKey("stock_documents.id"))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[Quantity | None]
    unit_price: Mapped[UnitPrice | None]
    tax_code_id: Mapped[int | None] = mapped_column(ForeignKey("tax_codes.id"))
    tax_rate: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"), server_default="0")
    net_amount: Mapped[Money] = mapped_column(default=_total_without_tax, server_default="0")
    tax_amount: Mapped[Money] = mapped_column(default=Decimal("0"), server_default="0")
    amount: Mapped[Money]


class CreditNoteApplication(Base):
    """Part of a credit note settling part of an invoice. Not a payment: the limit model's
    payment behaviour (days late) reads payment applications only."""

    __tablename__ = "credit_note_applications"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_credit_note_applications_invoice", "invoice_id", "applied_on"),
        Index("ix_credit_note_applications_applied_on", "applied_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Money]
    applied_on: Mapped[dt.date] = mapped_column(Date)
    applied_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CustomerExposure(Base):
    """A customer's group-wide credit position, kept current by every posting that moves it.

    exposure = open invoices + open (confirmed, unshipped) order value, across all
    companies; the CHECK keeps the stored total honest. Unapplied payments are shown
    beside it but not netted (they sit in one company and may be refunded).
    """

    __tablename__ = "customer_exposures"
    __table_args__ = (
        # Within half a cent: SQLite stores these as binary floats.
        CheckConstraint("abs(exposure - (open_invoices + open_orders)) < 0.005", name="exposure_total"),
        CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="limit_not_negative"),
        # The dashboard's top customers by exposure.
        Index("ix_customer_exposures_exposure", "exposure"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    open_invoices: Mapped[Money] = mapped_column(default=Decimal("0"))
    open_orders: Mapped[Money] = mapped_column(default=Decimal("0"))
    exposure: Mapped[Money] = mapped_column(default=Decimal("0"))
    unapplied_credit: Mapped[Money] = mapped_column(default=Decimal("0"))
    # The approved limit in force (copied from the latest credit_limits version); NULL
    # until a controller approves one: the configured starting limit applies meanwhile.
    credit_limit: Mapped[Money | None]
    limit_version: Mapped[int] = mapped_column(default=0)
    on_hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str | None] = mapped_column(String(500))
    hold_changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hold_changed_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LimitSource(StrEnum):
    """Where a credit limit version's value came from."""

    MODEL = "model"  # the limit model's suggestion, approved as it was
    MANUAL = "manual"  # a value the controller set (overriding a suggestion, or without one)


class CreditLimit(Base):
    """One version of a customer's credit limit: value, who, when, why, where the value came
    from, and the suggestion approved or overridden (if any). Versions are never changed,
    only added. ``reason`` is a person's words, or a narration (erp.narration) when the
    system wrote it (an approval without a reason of the controller's)."""

    __tablename__ = "credit_limits"
    __table_args__ = (
        UniqueConstraint("customer_id", "version"),
        CheckConstraint("credit_limit >= 0", name="limit_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    version: Mapped[int]
    credit_limit: Mapped[Money]
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("credit_limit_suggestions.id"))
    source: Mapped[LimitSource] = mapped_column(str_enum(LimitSource, "credit_limit_source"),
                                                default=LimitSource.MANUAL, server_default=LimitSource.MANUAL.value)
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CreditSuggestionRun(Base):
    """One run of the limit model over every active customer (see docs/credit.md): the
    parameters it used, the key date of its data, and what it found."""

    __tablename__ = "credit_suggestion_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    window_start: Mapped[dt.date] = mapped_column(Date)
    # NULL: a run of the earlier history-only model (before migration 0015), kept as it was.
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("credit_model_versions.id"))
    computed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    customers: Mapped[int] = mapped_column(default=0)
    with_history: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))


class CreditLimitSuggestion(Base):
    """The limit model's suggestion for one customer in one run, with every figure it was
    derived from: the inputs, the points per scorecard factor, the score and risk class,
    each capacity, which one bound the result, and the hold rule if one struck
    (``erp.credit.scorecard.Evaluation`` has the same fields; ``explain`` renders them).

    Rows of runs before migration 0015 have only the history columns (the rest NULL)."""

    __tablename__ = "credit_limit_suggestions"
    __table_args__ = (
        UniqueConstraint("run_id", "customer_id"),
        Index("ix_credit_limit_suggestions_customer", "customer_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("credit_suggestion_runs.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    has_history: Mapped[bool]
    invoiced_12m: Mapped[Money]
    average_monthly_sales: Mapped[Money]
    payment_terms_days: Mapped[int]
    average_days_late: Mapped[Decimal | None] = mapped_column(DAYS)
    overdue_share: Mapped[Rate | None]
    suggested_limit: Mapped[Money]
    # the customer's credit data in force on the key date (profile NULL: none on file)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("customer_credit_profiles.id"))
    customer_type: Mapped[CustomerType | None] = mapped_column(str_enum(CustomerType, "customer_type"))
    tangible_net_worth: Mapped[Money | None]
    annual_turnover: Mapped[Money | None]
    registered_capital: Mapped[Money | None]
    statement_date: Mapped[dt.date | None] = mapped_column(Date)
    statement_stale: Mapped[bool | None]
    rating_grade: Mapped[RatingGrade | None] = mapped_column(str_enum(RatingGrade, "rating_grade"))
    rating_score: Mapped[Decimal | None] = mapped_column(SCORE)
    rating_date: Mapped[dt.date | None] = mapped_column(Date)
    rating_stale: Mapped[bool | None]
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    collateral: Mapped[Money | None]
    # the history with the group
    months_traded: Mapped[int | None]
    paid_12m: Mapped[Money | None]
    open_amount: Mapped[Money | None]
    overdue_amount: Mapped[Money | None]
    over_90_amount: Mapped[Money | None]
    disputed_12m: Mapped[Money | None]
    disputed_share: Mapped[Rate | None]
    # the score
    net_worth_points: Mapped[int | None]
    registered_capital_points: Mapped[int | None]
    rating_points: Mapped[int | None]
    years_trading_points: Mapped[int | None]
    sales_volume_points: Mapped[int | None]
    days_late_points: Mapped[int | None]
    overdue_share_points: Mapped[int | None]
    disputed_share_points: Mapped[int | None]
    customer_type_points: Mapped[int | None]
    penalty_points: Mapped[int | None]
    score: Mapped[Decimal | None] = mapped_column(SCORE)
    risk_class: Mapped[str | None] = mapped_column(String(16))
    # the limit
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("credit_limit_rules.id"))
    net_worth_capacity: Mapped[Money | None]
    turnover_capacity: Mapped[Money | None]
    sales_capacity: Mapped[Money | None]
    max_limit: Mapped[Money | None]
    unsecured_limit: Mapped[Money | None]
    bound_by: Mapped[Capacity | None] = mapped_column(str_enum(Capacity, "credit_capacity"))
    hold: Mapped[bool | None]
    hold_rule: Mapped[HoldRule | None] = mapped_column(str_enum(HoldRule, "credit_hold_rule"))


class CreditRelease(Base):
    """A credit controller let a blocked order through: who, when, why, and the figures
    the block was about."""

    __tablename__ = "credit_releases"
    __table_args__ = (Index("ix_credit_releases_order", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    # confirmation: the order was blocked when confirmed; shipment: it is confirmed but
    # its customer is over the limit, so it could not ship.
    stage: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    exposure: Mapped[Money]
    credit_limit: Mapped[Money]
    reason: Mapped[str] = mapped_column(String(500))
    released_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[SalesOrder] = relationship(viewonly=True)


# --- the customer's credit data and the model's parameters ------------------------------------

class CustomerCreditProfile(Base):
    """One version of a customer's credit data, as the credit controller recorded it.

    Versions are never changed, only added (who, when, why): the previous version is the
    "before" of each change. The model reads the version in force on its key date: the
    latest whose ``valid_from`` is on or before it, so a backtest sees only what was known
    then. Amounts are CNY from the latest financial statements (``statement_date``); the
    external rating is a grade A-D or an agency's 0-100 score, never both.
    """

    __tablename__ = "customer_credit_profiles"
    __table_args__ = (
        UniqueConstraint("customer_id", "version"),
        Index("ix_customer_credit_profiles_in_force", "customer_id", "valid_from", "version"),
        CheckConstraint("registered_capital IS NULL OR registered_capital >= 0", name="capital_not_negative"),
        CheckConstraint("annual_turnover IS NULL OR annual_turnover >= 0", name="turnover_not_negative"),
        CheckConstraint("collateral_amount >= 0", name="collateral_not_negative"),
        CheckConstraint("rating_grade IS NULL OR rating_score IS NULL", name="grade_or_score"),
        CheckConstraint("rating_score IS NULL OR (rating_score >= 0 AND rating_score <= 100)", name="score_range"),
        CheckConstraint("(rating_grade IS NULL AND rating_score IS NULL) OR rating_date IS NOT NULL",
                        name="rating_dated"),
        CheckConstraint("(tangible_net_worth IS NULL AND annual_turnover IS NULL) OR statement_date IS NOT NULL",
                        name="statement_dated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    version: Mapped[int]
    valid_from: Mapped[dt.date] = mapped_column(Date)
    customer_type: Mapped[CustomerType] = mapped_column(str_enum(CustomerType, "customer_type"))
    registered_capital: Mapped[Money | None]
    tangible_net_worth: Mapped[Money | None]
    annual_turnover: Mapped[Money | None]
    statement_date: Mapped[dt.date | None] = mapped_column(Date)
    rating_grade: Mapped[RatingGrade | None] = mapped_column(str_enum(RatingGrade, "rating_grade"))
    rating_score: Mapped[Decimal | None] = mapped_column(SCORE)
    rating_agency: Mapped[str | None] = mapped_column(String(100))
    rating_date: Mapped[dt.date | None] = mapped_column(Date)
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    collateral_amount: Mapped[Money] = mapped_column(default=Decimal("0"))
    collateral_note: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(500))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InvoiceDispute(Base):
    """A customer disputes (part of) an invoice: quantity, quality, price. Disputed amounts
    opened in the last 12 months are one of the scorecard's history factors."""

    __tablename__ = "invoice_disputes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("resolved_on IS NULL OR resolved_on >= opened_on", name="resolved_after_opened"),
        Index("ix_invoice_disputes_customer", "customer_id", "opened_on"),
        Index("ix_invoice_disputes_invoice", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Money]
    opened_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None]


class CreditModelVersion(Base):
    """One version of the limit model's parameters: the scalar ones here, the scorecard
    factors, bands, risk classes and limit rules in the tables below. Versions are never
    changed: the group tunes the model by storing a new one (who, when, why, from when)."""

    __tablename__ = "credit_model_versions"
    __table_args__ = (UniqueConstraint("version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]
    valid_from: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    agency_grade_a_from: Mapped[Decimal] = mapped_column(SCORE)
    agency_grade_b_from: Mapped[Decimal] = mapped_column(SCORE)
    agency_grade_c_from: Mapped[Decimal] = mapped_column(SCORE)
    stale_after_months: Mapped[int]
    stale_statement_penalty: Mapped[int]
    stale_rating_penalty: Mapped[int]
    hold_overdue_days: Mapped[int]
    limit_step: Mapped[Money]


class CreditScoreFactor(Base):
    """A scorecard factor's weight (whole percent) and its points when there is nothing to judge."""

    __tablename__ = "credit_score_factors"

    version_id: Mapped[int] = mapped_column(ForeignKey("credit_model_versions.id"), primary_key=True)
    factor: Mapped[Factor] = mapped_column(str_enum(Factor, "credit_factor"), primary_key=True)
    weight: Mapped[int]
    no_data_points: Mapped[int]


class CreditScoreBand(Base):
    """Points of a factor: for values from ``lower_bound`` up (NULL: the band open below),
    or for a category (a rating grade, a customer type)."""

    __tablename__ = "credit_score_bands"
    __table_args__ = (
        Index("ix_credit_score_bands_version", "version_id", "factor"),
        CheckConstraint("points >= 0 AND points <= 100", name="points_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("credit_model_versions.id"))
    factor: Mapped[Factor] = mapped_column(str_enum(Factor, "credit_factor"))
    lower_bound: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    category: Mapped[str | None] = mapped_column(String(32))
    points: Mapped[int]


class CreditRiskClass(Base):
    """A risk class: scores from ``min_score`` up to the next class's bound."""

    __tablename__ = "credit_risk_classes"

    version_id: Mapped[int] = mapped_column(ForeignKey("credit_model_versions.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    min_score: Mapped[Decimal] = mapped_column(SCORE)


class CreditLimitRule(Base):
    """How large a limit a risk class may carry, for one customer type or (NULL) any other."""

    __tablename__ = "credit_limit_rules"
    __table_args__ = (
        UniqueConstraint("version_id", "risk_class", "customer_type"),
        CheckConstraint("net_worth_share >= 0 AND net_worth_share <= 1", name="net_worth_share_range"),
        CheckConstraint("turnover_share >= 0 AND turnover_share <= 1", name="turnover_share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("credit_model_versions.id"))
    risk_class: Mapped[str] = mapped_column(String(16))
    customer_type: Mapped[CustomerType | None] = mapped_column(str_enum(CustomerType, "customer_type"))
    net_worth_share: Mapped[Decimal] = mapped_column(SHARE)
    turnover_share: Mapped[Decimal] = mapped_column(SHARE)
    sales_months: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    starting_limit: Mapped[Money]
    max_limit: Mapped[Money | None]


class ReceivableSnapshotRun(Base):
    """The consolidated receivables of one month end, kept (``receivable_snapshots``) so
    that the CIO's trend and past key dates read 30 rows instead of rebuilding the month
    from every invoice and settlement.

    A snapshot is only as good as the documents it saw: the watermarks are the highest
    invoice, payment application and credit note application ids committed when it was
    taken. A document with a higher id dated on or before the month end (a backdated
    posting, a reopened period, an opening balance imported later) makes it stale, and
    the readers rebuild that month end from the documents instead (erp.credit.snapshots).
    """

    __tablename__ = "receivable_snapshot_runs"

    month_end: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    invoices_upto: Mapped[int]
    payment_applications_upto: Mapped[int]
    credit_note_applications_upto: Mapped[int]
    taken_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Orders credit control held at the end of the month end (NULL: taken without the
    # customers' positions, which ``receivable_customer_snapshots`` then lacks).
    held_orders: Mapped[int | None]


class ReceivableSnapshot(Base):
    """One company's receivables at a month end, as ``receivables_by_company`` reports them
    on that key date: open, overdue and the five ageing buckets of the group's receivables
    (companies of the group left out), and what companies of the group owed it."""

    __tablename__ = "receivable_snapshots"

    month_end: Mapped[dt.date] = mapped_column(ForeignKey("receivable_snapshot_runs.month_end", ondelete="CASCADE"),
                                               primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    open_amount: Mapped[Money]
    overdue: Mapped[Money]
    not_due: Mapped[Money]
    days_1_30: Mapped[Money]
    days_31_60: Mapped[Money]
    days_61_90: Mapped[Money]
    over_90: Mapped[Money]
    intercompany_open: Mapped[Money]


class ReceivableCustomerSnapshot(Base):
    """One customer's group-wide position at a month end, as ``receivables.positions``
    rebuilds it for that day (open invoices, open orders, exposure, the approved limit then
    (NULL: none, the starting limit applies), hold), and the group's ageing of what it owed
    then (companies of the group left out, as ``open_items``), so that a month end as the
    key date reads 50,000 rows instead of rebuilding every customer's position."""

    __tablename__ = "receivable_customer_snapshots"
    __table_args__ = (Index("ix_receivable_customer_snapshots_exposure", "month_end", "exposure"),)

    month_end: Mapped[dt.date] = mapped_column(ForeignKey("receivable_snapshot_runs.month_end", ondelete="CASCADE"),
                                               primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    open_invoices: Mapped[Money]
    open_orders: Mapped[Money]
    exposure: Mapped[Money]
    approved_limit: Mapped[Money | None]
    on_hold: Mapped[bool]
    open_amount: Mapped[Money]
    overdue: Mapped[Money]
    not_due: Mapped[Money]
    days_1_30: Mapped[Money]
    days_31_60: Mapped[Money]
    days_61_90: Mapped[Money]
    over_90: Mapped[Money]
