"""What the CIO's dashboard adds to the consolidated receivables (erp.credit.receivables):
the trend of total and overdue receivables at the last twelve month ends, unapplied
payments as of the key date, and the drill-down from a customer to its invoices per
company and to one invoice. Read-only, for group-wide roles (credit controllers, the CIO).

Every figure is as of the key date, rebuilt from the documents: an invoice counts from its
invoice date, a payment application from the day it was applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, cast, func, select, union_all
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import receivables
from erp.credit.intercompany import group_customer_ids
from erp.credit.models import CreditNoteApplication, Invoice, InvoiceLine, Payment, PaymentApplication
from erp.db import is_postgres
from erp.errors import NotFound
from erp.masterdata.models import Company, Customer, Material
from erp.messages import Message

ZERO = Decimal("0")
CENT = Decimal("0.01")
CIO_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)


def month_ends(as_of: dt.date, count: int = 12) -> list[dt.date]:
    """The last ``count`` month ends up to ``as_of``, oldest first; the last is ``as_of``
    itself (the month in progress, as far as it has gone)."""
    ends = [as_of]
    first = as_of.replace(day=1)
    while len(ends) < count:
        ends.insert(0, first - dt.timedelta(days=1))
        first = ends[0].replace(day=1)
    return ends


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    open_amount: Decimal
    overdue: Decimal


def receivables_trend(session: Session, actor: Actor, *, as_of: dt.date, months: int = 12) -> list[TrendPoint]:
    """Total and overdue receivables of the caller's companies at each of the last month
    ends (``month_ends``), rebuilt from the documents.

    open(d)    = invoices dated <= d, less what payments and credit notes took off them by d;
    overdue(d) = the same over invoices due before d.
    Receivables from companies of the group are left out, as in every group figure.
    Two aggregate scans (invoices; settlements with their invoices) grouped by the day
    each amount starts to count and the day it becomes overdue, then summed per month end:
    a few hundred groups, not a scan per month."""
    actor.require_role(*CIO_ROLES, action="reading the receivables trend")
    ends = month_ends(as_of, months)
    scope = actor.company_scope(Invoice.company_id)
    # The day after the due date is the first day the amount is overdue.
    overdue_from = cast(Invoice.due_date + 1, Date) if is_postgres(session) else func.date(Invoice.due_date, "+1 day")
    # Receivables from companies of the group are not the group's (erp.credit.receivables).
    outside = ~Invoice.customer_id.in_(group_customer_ids())
    invoiced = session.execute(
        select(Invoice.invoice_date, overdue_from.label("overdue_from"), func.sum(Invoice.amount))
        .where(scope, outside, Invoice.invoice_date <= as_of)
        .group_by(Invoice.invoice_date, overdue_from)
    ).all()
    # What took amounts off invoices: payments applied to them and credit notes set against them.
    settlements = union_all(*(select(model.invoice_id, model.amount, model.applied_on)
                              .where(model.applied_on <= as_of)
                              for model in (PaymentApplication, CreditNoteApplication))).subquery("settlements")
    applied = session.execute(
        select(settlements.c.applied_on, Invoice.invoice_date, overdue_from.label("overdue_from"),
               func.sum(settlements.c.amount))
        .join(Invoice, Invoice.id == settlements.c.invoice_id)
        .where(scope, outside)
        .group_by(settlements.c.applied_on, Invoice.invoice_date, overdue_from)
    ).all()
    points = []
    for day in ends:
        open_amount = overdue = ZERO
        for invoice_date, late_from, amount in invoiced:
            if invoice_date <= day:
                open_amount += amount
                if _day(late_from) <= day:
                    overdue += amount
        for applied_on, invoice_date, late_from, amount in applied:
            if applied_on <= day and invoice_date <= day:
                open_amount -= amount
                if _day(late_from) <= day:
                    overdue -= amount
        points.append(TrendPoint(day, Decimal(open_amount).quantize(CENT), Decimal(overdue).quantize(CENT)))
    return points


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def unapplied_payments(session: Session, actor: Actor, *, as_of: dt.date, customer_id: int | None = None
                       ) -> Decimal:
    """Payments received by the key date and not applied to invoices by then (CNY); for
    the group, payments from companies of the group left out."""
    actor.require_role(*CIO_ROLES, action="reading unapplied payments")
    applied_by = (select(PaymentApplication.payment_id, func.sum(PaymentApplication.amount).label("amount"))
                  .where(PaymentApplication.applied_on <= as_of)
                  .group_by(PaymentApplication.payment_id).subquery())
    query = (select(func.sum(Payment.amount - func.coalesce(applied_by.c.amount, ZERO)))
             .outerjoin(applied_by, applied_by.c.payment_id == Payment.id)
             .where(actor.company_scope(Payment.company_id), Payment.payment_date <= as_of))
    if customer_id is not None:
        query = query.where(Payment.customer_id == customer_id)
    else:  # money from companies of the group is not the group's
        query = query.where(~Payment.customer_id.in_(group_customer_ids()))
    return Decimal(session.scalar(query) or 0).quantize(CENT)


def customer_invoices(session: Session, actor: Actor, *, customer_id: int, as_of: dt.date) -> list[Any]:
    """The customer's invoices open on the key date in every company, by company and due
    date, each with its open amount then and days past due."""
    actor.require_role(*CIO_ROLES, action="reading a customer's invoices")
    items = receivables.open_items(session, actor, as_of, customer_ids=[customer_id], detail=True)
    return list(session.execute(
        select(items.c.invoice_id, items.c.invoice_date, items.c.due_date, items.c.amount.label("open_amount"),
               Invoice.amount, Invoice.reference, Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
               Company.name_en.label("company_name_en"))
        .join(Invoice, Invoice.id == items.c.invoice_id)
        .join(Company, Company.id == items.c.company_id)
        .where(items.c.amount > 0)
        .order_by(Company.code, items.c.due_date, items.c.invoice_id)
    ).all())


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    company: Company
    customer: Customer
    lines: list[Any]
    applications: list[Any]
    open_on: Decimal


def invoice_view(session: Session, actor: Actor, invoice_id: int, *, as_of: dt.date) -> InvoiceView:
    """One invoice: header, lines, the payments applied to it, and what was open of it on
    the key date (less the payments and credit notes applied by then)."""
    actor.require_role(*CIO_ROLES, action="reading invoices")
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or not actor.acts_for_company(invoice.company_id):
        raise NotFound(Message("invoice {key} not found", key=invoice_id))
    lines = session.execute(
        select(InvoiceLine.id, InvoiceLine.quantity, InvoiceLine.unit_price, InvoiceLine.amount,
               Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
               Material.name_en.label("material_name_en"))
        .outerjoin(Material, Material.id == InvoiceLine.material_id)
        .where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.id)).all()
    applications = session.execute(
        select(PaymentApplication.id, PaymentApplication.amount, PaymentApplication.applied_on,
               PaymentApplication.days_late, Payment.id.label("payment_id"), Payment.payment_date,
               Payment.bank_reference)
        .join(Payment, Payment.id == PaymentApplication.payment_id)
        .where(PaymentApplication.invoice_id == invoice_id).order_by(PaymentApplication.applied_on,
                                                                     PaymentApplication.id)).all()
    credited = session.execute(
        select(CreditNoteApplication.amount, CreditNoteApplication.applied_on)
        .where(CreditNoteApplication.invoice_id == invoice_id)).all()
    paid_by = sum((a.amount for a in [*applications, *credited] if a.applied_on <= as_of), ZERO)
    open_on = invoice.amount - paid_by if invoice.invoice_date <= as_of else ZERO
    return InvoiceView(invoice, session.get(Company, invoice.company_id),  # type: ignore[arg-type]
                       session.get(Customer, invoice.customer_id), list(lines), list(applications),  # type: ignore[arg-type]
                       Decimal(open_on).quantize(CENT))
