"""Reversing (冲销) a customer payment: a bank draft that bounced (退票), money booked to the
wrong customer. Postings are immutable: the reversal is one new entry balancing everything the
payment posted (its receipt and every later application of its unapplied credit), the
invoices it settled are open again by what it settled, and the customer's exposure grows by
as much (its unapplied credit shrinks by what was left of it)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp import narration
from erp.audit import services as audit
from erp.auth.roles import Actor
from erp.clock import refuse_after_business_day
from erp.costing import accounts
from erp.credit.errors import CustomerPaymentReversed
from erp.credit.exposure import ZERO, lock_exposure, move_exposure
from erp.credit.models import Invoice, InvoiceStatus, Payment, PaymentApplication
from erp.credit.services import PAYMENT_ROLES
from erp.db import utcnow
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Customer
from erp.messages import N_, Amount, Message, Named
from erp.posting import Line, Posting, lock_open_period, post
from erp.posting.models import JournalEntry

# What a customer payment posts: on receipt, and each time its unapplied credit is applied.
PAYMENT_SOURCES = ("payment", "credit_application")
SOURCE_REVERSAL = "payment_reversal"


def _refuse_reversed(payment: Payment) -> None:
    if payment.reversed:
        raise CustomerPaymentReversed(Message(
            "customer payment {payment} of {amount} was reversed on {day}: {reason}", payment=payment.document_number,
            amount=Amount(payment.amount), day=payment.reversal_date, reason=payment.reversal_reason or ""))


def invoice_status(invoice: Invoice) -> InvoiceStatus:
    return (InvoiceStatus.PAID if invoice.open_amount == 0 else
            InvoiceStatus.OPEN if invoice.open_amount == invoice.amount else InvoiceStatus.PARTIALLY_PAID)


def reverse_customer_payment(session: Session, actor: Actor, payment_id: int, *, reason: str,
                             reversal_date: dt.date) -> Payment:
    """Reverse a customer payment on ``reversal_date``, with a reason.

    Journal (``payment_reversal``, the payment's id, ``reverses_entry_id`` its receipt's
    entry): the negation of every entry the payment posted, netted per account and customer:
    Cr 1002 bank the amount, Dr 1122 receivables what its applications settled, Dr 2203
    customer advances what was still unapplied. Each invoice it settled gets back what the
    payment's applications took from it (open amount up, status again 未收款/部分收款); the
    customer's exposure row: open invoices up by the same, unapplied credit down by what was
    left. The payment keeps its applications and records who reversed it, when, why and the
    entry; its unapplied amount becomes 0 (nothing is left to apply). Audited: the payment
    (``customer_payment``, ``reverse``: open amounts and exposure before and after) and each invoice
    reopened (``customer_invoice``, ``payment-reversed``).

    Refuses: 403 (sales or cost accountant); 404 unknown or another company's; 409
    ``customer-payment-reversed`` (already: said first, so a reversal sent twice is answered by
    that), ``period-closed``; 422 no reason, a date before the payment's (or a later
    application's) or after the business day. Locks: period, payment row, the customer's
    exposure, then the invoices (due date, id), as ``record_payment``."""
    actor.require_role(*PAYMENT_ROLES, action="reversing customer payments")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
    payment = session.get(Payment, payment_id)
    if payment is None or not actor.acts_for_company(payment.company_id):
        raise NotFound(Message("payment {key} not found", key=payment_id))
    _refuse_reversed(payment)
    refuse_after_business_day(reversal_date, field="reversal_date", what=N_("a reversal"))
    applications = list(session.scalars(select(PaymentApplication).where(PaymentApplication.payment_id == payment.id)
                                        .order_by(PaymentApplication.id)))
    latest = max([payment.payment_date, *(a.applied_on for a in applications)])
    if reversal_date < latest:
        raise ValidationFailed.for_field("reversal_date", Message(
            "the payment was received or applied on {day}; its reversal cannot be dated {reversal}", day=latest,
            reversal=reversal_date))
    lock_open_period(session, payment.company_id, reversal_date)
    payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    assert payment is not None
    _refuse_reversed(payment)  # by a reversal that committed while this one waited
    position = lock_exposure(session, payment.customer_id)
    settled: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for application in applications:
        settled[application.invoice_id] += application.amount
    invoices = list(session.scalars(
        select(Invoice).where(Invoice.id.in_(sorted(settled))).order_by(Invoice.due_date, Invoice.id)
        .with_for_update().execution_options(populate_existing=True)))
    applied = sum(settled.values(), ZERO)
    unapplied = payment.unapplied_amount
    assert applied + unapplied == payment.amount
    entries = list(session.scalars(select(JournalEntry.id).where(
        JournalEntry.source_type.in_(PAYMENT_SOURCES), JournalEntry.source_id == payment.id,
        JournalEntry.company_id == payment.company_id).order_by(JournalEntry.id)))
    before = {"reversed": False, "unapplied_amount": str(unapplied),
              "open_amounts": {str(i.id): str(i.open_amount) for i in invoices},
              "exposure": str(position.exposure), "open_invoices": str(position.open_invoices),
              "unapplied_credit": str(position.unapplied_credit)}
    for invoice in invoices:
        invoice.open_amount += settled[invoice.id]
        invoice.status = invoice_status(invoice)
    customer = session.get(Customer, payment.customer_id)
    assert customer is not None
    entry_id = post(session, Posting(
        company_id=payment.company_id, posting_date=reversal_date, user_id=actor.user_id,
        source_type=SOURCE_REVERSAL, source_id=payment.id, reverses_entry_id=entries[0] if entries else None,
        memo=narration.narrate("customer-payment-reversal", payment=payment.document_number,
                               customer=Named.of(customer), reason=reason),
        journal=[Line(accounts.BANK, -payment.amount),
                 Line(accounts.RECEIVABLES, applied, customer_id=payment.customer_id),
                 Line(accounts.CUSTOMER_ADVANCES, unapplied, customer_id=payment.customer_id)],
    )).entry_id
    move_exposure(position, invoices=applied, unapplied=-unapplied)
    payment.unapplied_amount = ZERO
    payment.reversed_by, payment.reversed_at = actor.user_id, utcnow()
    payment.reversal_date, payment.reversal_reason = reversal_date, reason[:500]
    payment.reversal_entry_id = entry_id
    session.flush()
    why = f"reversal of customer payment {payment.document_number}: {reason}"[:500]
    for invoice in invoices:
        audit.record_change(session, actor, entity="customer_invoice", entity_id=invoice.id, action="payment-reversed",
                            before={"open_amount": before["open_amounts"][str(invoice.id)]},  # type: ignore[index]
                            after={"open_amount": str(invoice.open_amount)}, reason=why,
                            company_id=invoice.company_id)
    audit.record_change(session, actor, entity="customer_payment", entity_id=payment.id, action="reverse", before=before,
                        after={"reversed": True, "reversal_date": reversal_date.isoformat(),
                               "reversal_entry_id": entry_id, "unapplied_amount": "0.00",
                               "open_amounts": {str(i.id): str(i.open_amount) for i in invoices},
                               "exposure": str(position.exposure), "open_invoices": str(position.open_invoices),
                               "unapplied_credit": str(position.unapplied_credit)},
                        reason=reason, company_id=payment.company_id)
    return payment
