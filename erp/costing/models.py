"""Costing's own tables: the chart of accounts, the close's audit trail and its results
(the variance allocation and the balances carried into the next period).

The journal, the period totals, the accounting periods and the standard prices are
defined in ``erp.posting.models`` (postings write or lock them) and re-exported here for
readers. Journal amounts are signed: positive is a debit, negative a credit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.period import Period
from erp.db import BigId, Base, Money, Quantity, Rate, UnitPrice, utcnow
from erp.masterdata.models import str_enum
from erp.posting.models import (  # noqa: F401 - re-exported for readers
    AccountingPeriod,
    JournalEntry,
    JournalLine,
    PeriodMovementTotal,
    PeriodStatus,
    StandardPrice,
)


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


class PeriodEvent(Base):
    """Who closed or reopened a period, when and why (the audit trail of the close)."""

    __tablename__ = "period_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    period: Mapped[Period] = mapped_column()
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # A close's restatement of the stock at the next period's standards (undone on reopen).
    stock_document_id: Mapped[int | None] = mapped_column(ForeignKey("stock_documents.id"))


class MaterialPeriodBalance(Base):
    """The close's result per company, period and material that moved in the period (or,
    at a company's first close, carried stock in): the variance allocation (材料成本差异分配)
    and the balances carried into later periods. A material that did not move has no row;
    its balance is its latest row's closing (erp.costing.balances)."""

    __tablename__ = "material_period_balances"
    __table_args__ = (
        # Keyed by what the row describes (company, material, period), with no surrogate id:
        # the close writes tens of thousands of rows at once, and an id would cost each a
        # sequence call and an index entry nothing reads (migration 0037). Material before
        # period, with the closing figures in the key's index: a close writes rows only for
        # the materials that moved, and a material's opening is the closing of its latest row
        # before the period, an index-only lookup along this key (erp.costing.balances). One
        # index serves both, so each of the close's rows costs one index entry, not two
        # (migration 0039; 0038 had the key in (company, period, material) order beside a
        # unique index in this one). Being the key, it is checked on every insert, and the
        # check clears the dead entries a rolled-back close (the preview) left on its key.
        PrimaryKeyConstraint("company_id", "material_id", "period",
                             postgresql_include=["closing_quantity", "closing_value", "closing_variance"]),
    )

    # Derived by the close from the ledger, whose keys are already checked: no foreign keys
    # (they would cost the close a lookup per row and per key).
    company_id: Mapped[int] = mapped_column(autoincrement=False)
    period: Mapped[Period] = mapped_column()
    material_id: Mapped[int] = mapped_column(autoincrement=False)
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


class VarianceAllocation(Base):
    """The variance a consumption account bears for one material in a closed period."""

    __tablename__ = "variance_allocations"

    # Keyed by what the row describes, no surrogate id, and no foreign keys: derived by the
    # close (see MaterialPeriodBalance).
    company_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period: Mapped[Period] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    consumed_value: Mapped[Money]
    allocated_variance: Mapped[Money]
