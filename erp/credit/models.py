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

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.credit.errors import OrderStatusConflict
from erp.db import BigId, Base, Money, Quantity, Rate, UnitPrice, utcnow
from erp.masterdata.models import str_enum

DAYS = Numeric(8, 2)


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


class SalesOrder(Base):
    """A company's order from a customer of the group master."""

    __tablename__ = "sales_orders"
    __table_args__ = (
        Index("ix_sales_orders_company_status", "company_id", "status"),
        Index("ix_sales_orders_customer_status", "customer_id", "status"),
        Index("ix_sales_orders_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_date: Mapped[dt.date] = mapped_column(Date)
    customer_reference: Mapped[str | None] = mapped_column(String(64))
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
                f"sales order {self.id} is {self.status.value}; it cannot become {status.value}",
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
    shipped_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))

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
        CheckConstraint("due_date >= invoice_date", name="due_after_invoice"),
        # Open invoices only (most invoices are paid): payments settle a customer's open
        # invoices in a company oldest due first; ageing reads open amounts by due date.
        Index("ix_invoices_open", "customer_id", "company_id", "due_date", "open_amount",
              postgresql_where=text("open_amount > 0"), sqlite_where=text("open_amount > 0")),
        Index("ix_invoices_customer_date", "customer_id", "invoice_date"),
        Index("ix_invoices_company_date", "company_id", "invoice_date"),
        Index("ix_invoices_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # NULL for receivables taken over without an order (opening balances, history).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_orders.id"))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Money]
    open_amount: Mapped[Money]
    status: Mapped[InvoiceStatus] = mapped_column(str_enum(InvoiceStatus, "invoice_status"),
                                                  default=InvoiceStatus.OPEN)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[InvoiceLine]] = relationship(cascade="all, delete-orphan", order_by="InvoiceLine.id",
                                                    lazy="selectin")
    applications: Mapped[list[PaymentApplication]] = relationship(
        viewonly=True, order_by="PaymentApplication.id", lazy="selectin",
        primaryjoin="PaymentApplication.invoice_id == Invoice.id", foreign_keys="PaymentApplication.invoice_id",
    )


class InvoiceLine(Base):
    """One shipped order line on an invoice: quantity x the order's unit price, to the cent."""

    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_invoice", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order_lines.id"))
    stock_document_id: Mapped[BigId | None] = mapped_column(ForeignKey("stock_documents.id"))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Quantity | None]
    unit_price: Mapped[UnitPrice | None]
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
        Index("ix_payments_company_customer", "company_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Money]
    unapplied_amount: Mapped[Money]
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

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


class CreditLimit(Base):
    """One version of a customer's credit limit: value, who, when, why, and the
    suggestion it came from (if any). Versions are never changed, only added."""

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
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CreditSuggestionRun(Base):
    """One run of the limit model over every customer (see docs/credit.md)."""

    __tablename__ = "credit_suggestion_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    window_start: Mapped[dt.date] = mapped_column(Date)
    computed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    customers: Mapped[int] = mapped_column(default=0)
    with_history: Mapped[int] = mapped_column(default=0)


class CreditLimitSuggestion(Base):
    """The limit model's suggestion for one customer in one run, with its inputs."""

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
    average_days_late: Mapped[Decimal] = mapped_column(DAYS)
    overdue_share: Mapped[Rate]
    behaviour_factor: Mapped[Rate]
    suggested_limit: Mapped[Money]


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
