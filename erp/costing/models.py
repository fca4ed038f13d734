"""The valuation ground: chart of accounts, the double-entry journal, standard prices,
accounting periods and the month-end close's results.

Journal amounts are signed: positive is a debit, negative a credit. Every entry's lines
sum to zero. Lines carry the company and period (denormalised from the entry) and, for
inventory and variance accounts, the material, so that balances per company, account and
material are single index scans.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import BigId, Base, Money, Quantity, Rate, UnitPrice, utcnow
from erp.masterdata.models import str_enum


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


class Account(Base):
    """An account of the group's chart (the same chart for every company)."""

    __tablename__ = "accounts"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "account_kind"))


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
    period: Mapped[str] = mapped_column(String(7))
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
    period: Mapped[str] = mapped_column(String(7))
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
    period: Mapped[str] = mapped_column(String(7))
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
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[PeriodStatus] = mapped_column(
        str_enum(PeriodStatus, "period_status"), default=PeriodStatus.OPEN
    )
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class PeriodEvent(Base):
    """Who closed or reopened a period, when and why (the audit trail of the close)."""

    __tablename__ = "period_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    period: Mapped[str] = mapped_column(String(7))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # A close's restatement of the stock at the next period's standards (undone on reopen).
    stock_document_id: Mapped[int | None] = mapped_column(ForeignKey("stock_documents.id"))


class MaterialPeriodBalance(Base):
    """The close's result per company, period and material: the variance allocation
    (材料成本差异分配) and the balances carried into the next period."""

    __tablename__ = "material_period_balances"
    __table_args__ = (UniqueConstraint("company_id", "period", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived by the close from the ledger, whose keys are already checked: no foreign keys
    # (they would cost the close a lookup per row and per key).
    company_id: Mapped[int]
    period: Mapped[str] = mapped_column(String(7))
    material_id: Mapped[int]
    opening_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    opening_value: Mapped[Money] = mapped_column(default=Decimal("0"))
    opening_variance: Mapped[Money] = mapped_column(default=Decimal("0"))
    receipts_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    receipts_value: Mapped[Money] = mapped_column(default=Decimal("0"))
    receipts_variance: Mapped[Money] = mapped_column(default=Decimal("0"))
    other_inflow_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    other_inflow_value: Mapped[Money] = mapped_column(default=Decimal("0"))
    consumption_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    consumption_value: Mapped[Money] = mapped_column(default=Decimal("0"))
    consumption_variance: Mapped[Money] = mapped_column(default=Decimal("0"))
    variance_rate: Mapped[Rate] = mapped_column(default=Decimal("0"))
    closing_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    closing_value: Mapped[Money] = mapped_column(default=Decimal("0"))
    closing_variance: Mapped[Money] = mapped_column(default=Decimal("0"))


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
    period: Mapped[str] = mapped_column(String(7))
    material_id: Mapped[int]
    close_class: Mapped[str] = mapped_column(String(16))
    offset_account: Mapped[str] = mapped_column(String(16), default="")
    quantity: Mapped[Quantity]
    value: Mapped[Money]
    variance: Mapped[Money]


class VarianceAllocation(Base):
    """The variance a consumption account bears for one material in a closed period."""

    __tablename__ = "variance_allocations"
    __table_args__ = (UniqueConstraint("company_id", "period", "material_id", "account_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived by the close (see MaterialPeriodBalance): no foreign keys.
    company_id: Mapped[int]
    period: Mapped[str] = mapped_column(String(7))
    material_id: Mapped[int]
    account_code: Mapped[str] = mapped_column(String(16))
    consumed_value: Mapped[Money]
    allocated_variance: Mapped[Money]
