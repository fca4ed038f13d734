"""What the CIO's dashboard adds to the consolidated receivables (erp.credit.receivables):
the trend of total and overdue receivables at the last twelve month ends, unapplied
payments as of the key date, and the drill-down from a customer to its invoices per
company and to one invoice. Read-only, for group-wide roles (credit controllers, the CIO).

Every figure is as of the key date, rebuilt from the documents: an invoice counts from its
invoice date, a payment application from the day it was applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, cast, func, select, union_all
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import receivables, snapshots
from erp.credit.intercompany import group_customer_ids
from erp.credit.models import CreditNote, CreditNoteApplication, Invoice, InvoiceLine, Payment, PaymentApplication
from erp.db import is_postgres
from erp.errors import NotFound
from erp.masterdata.models import Company, Customer, Material, UnitOfMeasure
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


def receivables_trend(
    session: Session, actor: Actor, *, as_of: dt.date, months: int = 12, today: dt.date | None = None,
    key_date_totals: tuple[Decimal, Decimal] | None = None,
) -> list[TrendPoint]:
    """Total and overdue receivables of the caller's companies at each of the last month
    ends (``month_ends``), oldest first:

    open(d)    = invoices dated <= d, less what payments and credit notes took off them by d;
    overdue(d) = the same over invoices due before d.
    Receivables from companies of the group are left out, as in every group figure.

    Month ends before today read their month-end snapshot while it is fresh
    (erp.credit.snapshots: 30 rows a month). The key date itself is ``key_date_totals``
    (open, overdue) when the caller has them already (the dashboard's totals, the same
    figures), else one aggregate over the open items then; so are up to two month ends
    without a fresh snapshot. More than two are rebuilt together from the documents
    (``trend_from_documents``)."""
    actor.require_role(*CIO_ROLES, action="reading the receivables trend")
    today = today or receivables.reports_today()
    ends = month_ends(as_of, months)
    known = {day: (figures["open_amount"], figures["overdue"]) for day, figures in snapshots.snapshot_totals(
        session, actor, [day for day in ends if day < today and day == snapshots.month_end_of(day)]).items()}
    if key_date_totals is not None and as_of not in known:
        known[as_of] = key_date_totals
    missing = [day for day in ends if day not in known]
    if len(missing) > 2:
        known.update((point.day, (point.open_amount, point.overdue))
                     for point in trend_from_documents(session, actor, days=missing))
    else:
        for day in missing:
            figures = receivables.company_ageing(session, day, company_scope=actor.company_scope).subquery()
            open_amount, overdue = session.execute(
                select(func.sum(figures.c.open_amount), func.sum(figures.c.overdue))).one()
            known[day] = (Decimal(open_amount or 0), Decimal(overdue or 0))
    return [TrendPoint(day, Decimal(known[day][0]).quantize(CENT), Decimal(known[day][1]).quantize(CENT))
            for day in ends]


def trend_from_documents(session: Session, actor: Actor, *, days: list[dt.date]) -> list[TrendPoint]:
    """Total and overdue receivables of the caller's companies on each of ``days``, rebuilt
    from the documents (the definition in ``receivables_trend``): two aggregate scans
    (invoices; settlements with their invoices) grouped by the day each amount starts to
    count and the day it becomes overdue, then summed per day: a few hundred groups, not a
    scan per day. What a month end costs without its snapshot."""
    actor.require_role(*CIO_ROLES, action="reading the receivables trend")
    if not days:
        return []
    last = max(days)
    scope = actor.company_scope(Invoice.company_id)
    # The day after the due date is the first day the amount is overdue.
    overdue_from = cast(Invoice.due_date + 1, Date) if is_postgres(session) else func.date(Invoice.due_date, "+1 day")
    # Receivables from companies of the group are not the group's (erp.credit.receivables).
    outside = ~Invoice.customer_id.in_(group_customer_ids())
    invoiced = session.execute(
        select(Invoice.invoice_date, overdue_from.label("overdue_from"), func.sum(Invoice.amount))
        .where(scope, outside, Invoice.invoice_date <= last)
        .group_by(Invoice.invoice_date, overdue_from)
    ).all()
    # What took amounts off invoices: payments applied to them and credit notes set against them.
    settlements = union_all(*(select(model.invoice_id, model.amount, model.applied_on)
                              .where(model.applied_on <= last)
                              for model in (PaymentApplication, CreditNoteApplication))).subquery("settlements")
    applied = session.execute(
        select(settlements.c.applied_on, Invoice.invoice_date, overdue_from.label("overdue_from"),
               func.sum(settlements.c.amount))
        .join(Invoice, Invoice.id == settlements.c.invoice_id)
        .where(scope, outside)
        .group_by(settlements.c.applied_on, Invoice.invoice_date, overdue_from)
    ).all()
    points = []
    for day in sorted(days):
        open_amount = overdue = ZERO
        for invoice_date, late_from, amount in invoiced:
            if _day(invoice_date) <= day:
                open_amount += amount
                if _day(late_from) <= day:
                    overdue += amount
        for applied_on, invoice_date, late_from, amount in applied:
            if _day(applied_on) <= day and _day(invoice_date) <= day:
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
    the group, payments from companies of the group left out.

    unapplied then = unapplied now + what was applied after the key date (payments are
    only ever reduced by applications): the open payments through their partial index,
    plus the applications since the key date (usually none), not every payment."""
    actor.require_role(*CIO_ROLES, action="reading unapplied payments")
    if customer_id is not None:
        whose = Payment.customer_id == customer_id
    else:  # money from companies of the group is not the group's
        whose = ~Payment.customer_id.in_(group_customer_ids())
    kept = (select(func.coalesce(func.sum(Payment.unapplied_amount), ZERO))
            .where(Payment.unapplied_amount > 0, Payment.payment_date <= as_of,
                   actor.company_scope(Payment.company_id), whose))
    applied_since = (select(func.coalesce(func.sum(PaymentApplication.amount), ZERO))
                     .join(Payment, Payment.id == PaymentApplication.payment_id)
                     .where(PaymentApplication.applied_on > as_of, Payment.payment_date <= as_of,
                            actor.company_scope(Payment.company_id), whose))
    total = session.execute(select(kept.scalar_subquery(), applied_since.scalar_subquery())).one()
    return Decimal(total[0] + total[1]).quantize(CENT)


def customer_invoices(session: Session, actor: Actor, *, customer_id: int, as_of: dt.date) -> list[Any]:
    """The customer's invoices open on the key date in every company, by company and due
    date, each with its open amount then and days past due."""
    actor.require_role(*CIO_ROLES, action="reading a customer's invoices")
    items = receivables.open_items(session, actor, as_of, customer_ids=[customer_id], detail=True)
    return list(session.execute(
        select(items.c.invoice_id, items.c.invoice_date, items.c.due_date, items.c.amount.label("open_amount"),
               Invoice.amount, Invoice.reference, Invoice.document_number, Company.code.label("company_code"),
               Company.name_zh.label("company_name_zh"),
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
    credit_notes: list[Any] = field(default_factory=list)
    paid: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)

    @property
    def settlement(self) -> str:
        """How the invoice stands today, payments and credit notes told apart (T17): ``paid``,
        ``partially_paid`` (a payment took part of it), ``credited`` (credit notes took all of
        it, nothing was paid), ``partially_credited`` (a credit note took part, nothing paid),
        ``open`` (nothing took anything)."""
        if self.invoice.open_amount == 0:
            return "paid" if self.paid > 0 else "credited"
        if self.paid > 0:
            return "partially_paid"
        return "partially_credited" if self.credited > 0 else "open"


def invoice_view(session: Session, actor: Actor, invoice_id: int, *, as_of: dt.date) -> InvoiceView:
    """One invoice: header, lines, the payments applied to it (a reversed payment's marked, it
    settles nothing since its reversal), the credit notes that reduced it, and what was open of
    it on the key date (less the payments and credit notes applied by then)."""
    actor.require_role(*CIO_ROLES, action="reading invoices")
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or not actor.acts_for_company(invoice.company_id):
        raise NotFound(Message("invoice {key} not found", key=invoice_id))
    lines = session.execute(
        select(InvoiceLine.id, InvoiceLine.quantity, InvoiceLine.unit_price, InvoiceLine.amount,
               InvoiceLine.net_amount, InvoiceLine.tax_amount, InvoiceLine.tax_rate,
               Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
               Material.name_en.label("material_name_en"), UnitOfMeasure.code.label("unit_code"))
        .outerjoin(Material, Material.id == InvoiceLine.material_id)
        .outerjoin(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.id)).all()
    applications = session.execute(
        select(PaymentApplication.id, PaymentApplication.amount, PaymentApplication.applied_on,
               PaymentApplication.days_late, Payment.id.label("payment_id"), Payment.payment_date,
               Payment.bank_reference, Payment.document_number, Payment.reversal_date)
        .join(Payment, Payment.id == PaymentApplication.payment_id)
        .where(PaymentApplication.invoice_id == invoice_id).order_by(PaymentApplication.applied_on,
                                                                     PaymentApplication.id)).all()
    credited = session.execute(
        select(CreditNoteApplication.amount, CreditNoteApplication.applied_on, CreditNote.id.label("note_id"),
               CreditNote.document_number, CreditNote.kind, CreditNote.note_date, CreditNote.reason)
        .join(CreditNote, CreditNote.id == CreditNoteApplication.credit_note_id)
        .where(CreditNoteApplication.invoice_id == invoice_id)
        .order_by(CreditNoteApplication.applied_on, CreditNoteApplication.id)).all()

    def standing(a: Any, day: dt.date) -> bool:  # applied by ``day`` and not reversed by then
        return a.applied_on <= day and (a.reversal_date is None or a.reversal_date > day)

    paid_by = sum((a.amount for a in applications if standing(a, as_of)), ZERO)
    paid_by += sum((c.amount for c in credited if c.applied_on <= as_of), ZERO)
    open_on = invoice.amount - paid_by if invoice.invoice_date <= as_of else ZERO
    return InvoiceView(invoice, session.get(Company, invoice.company_id),  # type: ignore[arg-type]
                       session.get(Customer, invoice.customer_id), list(lines), list(applications),  # type: ignore[arg-type]
                       Decimal(open_on).quantize(CENT), credit_notes=list(credited),
                       paid=sum((a.amount for a in applications if a.reversal_date is None), ZERO),
                       credited=sum((c.amount for c in credited), ZERO))
