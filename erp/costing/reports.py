"""Costing reports: variance allocation, inventory valuation, journal listing, trial balance.

Each report is one or two set-based queries. Group-wide figures here are plain sums over
every company's own books; the group trial balance with intercompany eliminations is
``erp.consolidation.eliminations.consolidated_trial_balance`` (docs/intercompany.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, case, cast, column, func, select, table
from sqlalchemy.orm import Session, aliased

from erp.messages import Message
from erp.auth.errors import CompanyOutOfScope
from erp.auth.roles import Actor, Role
from erp.costing.balances import period_balances, variance_by_material
from erp.costing.models import Account, JournalEntry, JournalLine, VarianceAllocation
from erp.db import page
from erp.errors import NotFound
from erp.posting.models import StockBalance, StockDocument
from erp.masterdata.models import Company, Material

CENT = Decimal("0.01")
READERS = (Role.COST_ACCOUNTANT, Role.CIO, Role.ADMIN)


def variance_allocation(session: Session, actor: Actor, *, company_id: int, period: str) -> list[Any]:
    """Per material of a closed period: opening, receipts, rate, consumed share, closing."""
    return list(session.execute(variance_allocation_query(session, actor, company_id=company_id, period=period)).all())


def variance_allocation_query(session: Session, actor: Actor, *, company_id: int, period: str) -> Select[Any]:
    """The query behind ``variance_allocation`` (exports stream it)."""
    _require_scope(session, actor, company_id)
    # Every material with a balance, those that did not move in the period carried from
    # their latest close (erp.costing.balances).
    b = period_balances(session, [company_id], period).subquery()
    return (
        select(b.c.material_id, Material.code.label("material_code"), Material.name_zh, b.c.opening_quantity,
               b.c.opening_value, b.c.opening_variance, b.c.receipts_quantity, b.c.receipts_value,
               b.c.receipts_variance, b.c.other_inflow_quantity, b.c.other_inflow_value, b.c.variance_rate,
               b.c.consumption_quantity, b.c.consumption_value, b.c.consumption_variance, b.c.closing_quantity,
               b.c.closing_value, b.c.closing_variance)
        .join(Material, Material.id == b.c.material_id)
        .order_by(Material.code)
    )


def allocation_lines(session: Session, actor: Actor, *, company_id: int, period: str) -> list[Any]:
    """Which consumption account bore how much variance, per material."""
    _require_scope(session, actor, company_id)
    va = VarianceAllocation
    return list(session.execute(
        select(va.material_id, Material.code.label("material_code"), va.account_code, va.consumed_value,
               va.allocated_variance)
        .join(Material, Material.id == va.material_id)
        .where(va.company_id == company_id, va.period == period)
        .order_by(Material.code, va.account_code)
    ).all())


def inventory_valuation(session: Session, actor: Actor, *, company_id: int | None) -> list[Any]:
    """Current stock per company and material at standard, the variance it carries, and its
    actual cost (standard plus variance)."""
    return list(session.execute(valuation_query(session, actor, company_id=company_id)).all())


def valuation_query(session: Session, actor: Actor, *, company_id: int | None) -> Select[Any]:
    """The query behind ``inventory_valuation`` (exports stream it)."""
    _require_scope(session, actor, company_id)
    stock = (
        select(StockBalance.company_id, StockBalance.material_id,
               func.sum(StockBalance.quantity).label("quantity"), func.sum(StockBalance.value).label("value"))
        .where(actor.company_scope(StockBalance.company_id))
        .group_by(StockBalance.company_id, StockBalance.material_id)
    )
    # The variance the stock carries: 1404's material ledger (the close posts 1404 in one
    # line per company; the detail per material is its allocation rows, erp.costing.balances).
    def in_scope(column: Any) -> Any:
        scope = actor.company_scope(column)
        return scope if company_id is None else scope & (column == company_id)

    if company_id is not None:
        stock = stock.where(StockBalance.company_id == company_id)
    s, v = stock.subquery(), variance_by_material(in_scope)
    carried = func.coalesce(v.c.variance, 0)
    return (
        select(s.c.company_id, Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
               Company.name_en.label("company_name_en"), s.c.material_id, Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
               Material.name_en.label("material_name_en"), s.c.quantity, s.c.value.label("standard_value"),
               carried.label("variance"), (s.c.value + carried).label("actual_value"))
        .outerjoin(v, (v.c.company_id == s.c.company_id) & (v.c.material_id == s.c.material_id))
        .join(Company, Company.id == s.c.company_id)
        .join(Material, Material.id == s.c.material_id)
        .where((s.c.quantity != 0) | (s.c.value != 0) | (carried != 0))
        .order_by(Company.code, Material.code)
    )


def journal(
    session: Session,
    actor: Actor,
    *,
    company_id: int | None,
    period: str | None = None,
    account_code: str | None = None,
    source_type: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Any], int]:
    """Journal lines with their entries, in posting order, for a company or (group-wide
    readers, ``company_id`` None) every company they act for. Each row also carries the
    entry's voucher number in its company's period (``voucher``: the entry's place among
    the company's entries of the period, 1, 2, ...; entries are immutable and numbered in
    posting order, so the number never changes), the number of the stock document it posted
    (``document_number``), and the debit and credit totals of every line the filters match
    (``total_debit``, ``total_credit``: the same statement, over all pages)."""
    query = journal_query(session, actor, company_id=company_id, period=period, account_code=account_code,
                          source_type=source_type)
    earlier = aliased(JournalEntry)
    voucher = (select(func.count()).select_from(earlier)
               .where(earlier.company_id == JournalEntry.company_id, earlier.period == JournalEntry.period,
                      earlier.id <= JournalEntry.id)
               .scalar_subquery())
    zero = Decimal("0")
    query = (
        query.add_columns(voucher.label("voucher"), StockDocument.number.label("document_number"),
                     Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
                     Company.name_en.label("company_name_en"),
                     func.sum(case((JournalLine.amount > 0, JournalLine.amount), else_=zero)).over()
                     .label("total_debit"),
                     func.sum(case((JournalLine.amount < 0, -JournalLine.amount), else_=zero)).over()
                     .label("total_credit"))
        .join(Company, Company.id == JournalLine.company_id)
    )
    return page(session, query, offset=offset, limit=limit)


def journal_query(
    session: Session, actor: Actor, *, company_id: int | None, period: str | None = None,
    account_code: str | None = None, source_type: str | None = None,
) -> Select[Any]:
    """The query behind ``journal``, in posting order (exports stream it), with the kind of
    the document each entry posted (``document_kind``, for ``erp.ui.labels.journal_source``)."""
    _require_scope(session, actor, company_id)
    query = (
        select(JournalLine.id, JournalLine.entry_id, JournalEntry.entry_date, JournalEntry.period,
               JournalEntry.source_type, JournalEntry.source_id, JournalEntry.memo, JournalLine.account_code,
               JournalLine.amount, JournalLine.material_id, JournalLine.customer_id, JournalEntry.reverses_entry_id,
               Account.name_zh.label("account_name_zh"), Account.name_en.label("account_name_en"))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.code == JournalLine.account_code)
    )
    if company_id is not None:
        query = query.where(JournalLine.company_id == company_id)
    else:
        query = query.where(actor.company_scope(JournalLine.company_id))
    if period is not None:
        query = query.where(JournalLine.period == period)
    if account_code is not None:
        query = query.where(JournalLine.account_code == account_code)
    # The kind of the document an entry posted, for the page to name it (a goods receipt, a
    # supplier's credit memo), not the source's code: a stock document's type, or a supplier
    # document's kind (payables' table, read by name: costing does not import payables).
    supplier_documents = table("supplier_invoices", column("id"), column("document_kind"))
    supplier_kind = (select(supplier_documents.c.document_kind)
                     .where(supplier_documents.c.id == JournalEntry.source_id,
                            JournalEntry.source_type.in_(("supplier_invoice", "supplier_invoice_reversal")))
                     .scalar_subquery())
    query = (query.outerjoin(StockDocument, (JournalEntry.source_type == "stock_document")
                             & (StockDocument.id == JournalEntry.source_id))
             .add_columns(func.coalesce(cast(StockDocument.doc_type, String), supplier_kind).label("document_kind")))
    if source_type is not None:
        query = query.where(JournalEntry.source_type == source_type)
    return query.order_by(JournalLine.entry_id, JournalLine.id)


@dataclass
class TrialBalance:
    company_id: int | None
    period: str
    # Accounts with a balance at the end of the period (debit or credit side), as the API gives them.
    lines: list[Any] = field(default_factory=list)
    total_debit: Decimal = Decimal("0")
    total_credit: Decimal = Decimal("0")
    # Every account with a balance or a movement, as 科目余额表 reads: opening balance (debit
    # or credit side), the period's debits and credits, closing balance; ``totals`` sums each.
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


BALANCE_COLUMNS = ("opening_debit", "opening_credit", "period_debit", "period_credit", "closing_debit",
                   "closing_credit")


def trial_balance(session: Session, actor: Actor, *, company_id: int | None, period: str) -> TrialBalance:
    """Balances of every account at the end of ``period``, for one company or the whole
    group, with each account's opening balance and the period's debits and credits (one
    GROUP BY over the journal lines up to the period)."""
    _require_scope(session, actor, company_id)
    zero = Decimal("0")
    in_period = JournalLine.period == period
    query = (
        select(JournalLine.account_code, Account.name_zh, Account.name_en, Account.kind,
               func.sum(JournalLine.amount).label("balance"),
               func.sum(case((JournalLine.period < period, JournalLine.amount), else_=zero)).label("opening"),
               func.sum(case((in_period & (JournalLine.amount > 0), JournalLine.amount), else_=zero))
               .label("period_debit"),
               func.sum(case((in_period & (JournalLine.amount < 0), -JournalLine.amount), else_=zero))
               .label("period_credit"))
        .join(Account, Account.code == JournalLine.account_code)
        .where(JournalLine.period <= period)
        .group_by(JournalLine.account_code, Account.name_zh, Account.name_en, Account.kind)
        .order_by(JournalLine.account_code)
    )
    if company_id is not None:
        query = query.where(JournalLine.company_id == company_id)
    report = TrialBalance(company_id, period)
    report.totals = {name: Decimal("0") for name in BALANCE_COLUMNS}
    for row in session.execute(query):
        balance = Decimal(row.balance).quantize(CENT)
        opening = Decimal(row.opening).quantize(CENT)
        moved_debit, moved_credit = Decimal(row.period_debit).quantize(CENT), Decimal(row.period_credit).quantize(CENT)
        debit, credit = (balance, Decimal("0")) if balance > 0 else (Decimal("0"), -balance)
        if balance != 0:
            report.lines.append({"account_code": row.account_code, "name_zh": row.name_zh, "name_en": row.name_en,
                                 "kind": row.kind, "debit": debit, "credit": credit})
            report.total_debit += debit
            report.total_credit += credit
        if balance == 0 and opening == 0 and moved_debit == 0 and moved_credit == 0:
            continue
        figures = {"opening_debit": max(opening, zero), "opening_credit": max(-opening, zero),
                   "period_debit": moved_debit, "period_credit": moved_credit,
                   "closing_debit": debit, "closing_credit": credit}
        report.rows.append({"account_code": row.account_code, "name_zh": row.name_zh, "name_en": row.name_en,
                            **figures})
        for name, value in figures.items():
            report.totals[name] += value
    return report


def _require_scope(session: Session, actor: Actor, company_id: int | None) -> None:
    actor.require_role(*READERS, action="reading costing reports")
    if company_id is not None and session.get(Company, company_id) is None:
        raise NotFound(Message("company {key} not found", key=company_id))
    if company_id is None:
        if not actor.group_wide:
            raise CompanyOutOfScope(Message("group-wide figures need a group-wide role; name a company"))
        return
    actor.require_company(company_id)
