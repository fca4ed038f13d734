"""Opening receivables: invoices still open in a company's old system, taken over at go-live.

Each is a receivable of a customer of the group master, with the old system's invoice
number, its own invoice and due dates and the amount still owed. Taking them over:

- writes one ``invoices`` row each (no order, no lines: what was sold is in the old books),
  open for the amount owed, so ageing reads its own due date and payments settle it like
  any invoice;
- posts one journal entry per call through erp.posting on the go-live date: Dr 1122
  receivables per customer, Cr 4199 opening balances (期初建账过渡), so every trial balance
  still balances;
- adds the amounts to each customer's group-wide exposure at once (``customer_exposures``,
  one upsert per customer, in key order: the lock order every exposure change keeps).

The amount is the total the customer still owes, VAT included: output VAT on those sales
was declared in the old system, so nothing here books VAT (a payment settles the total).
Partly paid invoices come in for what is still open; their earlier payments stay in the
old books. No credit check runs: the receivables exist, and a customer taken over above
its limit shows up at once in the over-limit alerts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.credit.models import CustomerExposure, Invoice, InvoiceKind, InvoiceStatus
from erp.credit.services import INVOICE_PREFIXES, receivables_numbers
from erp.db import dialect_insert, utcnow
from erp.errors import ValidationFailed
from erp.masterdata.models import Customer
from erp.messages import N_, Message
from erp.money import CENT
from erp.posting import Line, Posting, lock_open_period, post

ZERO = Decimal("0")
# Who takes receivables over: the company's accountant, or group credit control.
OPENING_RECEIVABLE_ROLES = (Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER)

INVOICED_AFTER_GO_LIVE = N_("an opening receivable is invoiced by the go-live date {go_live}, not after it")
DUE_BEFORE_INVOICE = N_("due {due} before it was invoiced ({invoiced})")
NOT_CENTS = N_("{amount} is not an amount in cents")
NOT_POSITIVE = N_("the amount still owed must be above zero")


@dataclass(frozen=True)
class OpeningReceivable:
    """One open invoice of the old system: the customer, its number there, its dates and the
    amount still owed (CNY, VAT included)."""

    customer_id: int
    reference: str
    invoice_date: dt.date
    due_date: dt.date
    open_amount: Decimal


def opening_receivable_problem(item: OpeningReceivable, go_live_date: dt.date) -> tuple[str, Message] | None:
    """The field and the rule an opening receivable breaks, or None: invoiced by the go-live
    date, due on or after its invoice date, an amount above zero in cents."""
    if item.invoice_date > go_live_date:
        return "invoice_date", Message(INVOICED_AFTER_GO_LIVE, go_live=go_live_date)
    if item.due_date < item.invoice_date:
        return "due_date", Message(DUE_BEFORE_INVOICE, due=item.due_date, invoiced=item.invoice_date)
    if item.open_amount <= 0:
        return "open_amount", Message(NOT_POSITIVE)
    if item.open_amount != item.open_amount.quantize(CENT):
        return "open_amount", Message(NOT_CENTS, amount=item.open_amount)
    return None


def take_over_receivables(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    go_live_date: dt.date,
    items: Sequence[OpeningReceivable],
    memo: str,
    source_id: int | None = None,
) -> list[int]:
    """Take over a company's open invoices at go-live; returns the new invoices' ids, in the
    order of ``items``.

    Writes the invoices, one journal entry on ``go_live_date`` (Dr 1122 receivables per
    customer, Cr 4199 opening balances; source ``opening_receivables``, ``source_id``) and
    adds the amounts to the customers' exposure, set-based: a few statements whatever the
    number of items. Refuses: ``role-not-allowed`` / ``company-out-of-scope`` (accountants and
    credit controllers of the company), ``period-closed`` (the go-live period),
    ``validation-error`` naming ``/items/N/<field>`` (``opening_receivable_problem``, or a
    customer that does not exist).
    """
    actor.require_role(*OPENING_RECEIVABLE_ROLES, action="taking over opening receivables")
    actor.require_company(company_id)
    for index, item in enumerate(items):
        problem = opening_receivable_problem(item, go_live_date)
        if problem is not None:
            field, message = problem
            raise ValidationFailed(message, errors=[{"pointer": f"/items/{index}/{field}", "detail": message}])
    if not items:
        return []
    customer_ids = sorted({item.customer_id for item in items})
    known = set(session.scalars(select(Customer.id).where(Customer.id.in_(customer_ids))))
    for index, item in enumerate(items):
        if item.customer_id not in known:
            message = Message("customer {key} not found", key=item.customer_id)
            raise ValidationFailed(message, errors=[{"pointer": f"/items/{index}/customer_id", "detail": message}])
    # The period first: nothing is read or written for a closed one.
    lock_open_period(session, company_id, go_live_date)
    now = utcnow()
    # numbered in the order of the items, per year of their invoice dates (one statement a year)
    numbers = receivables_numbers(session, INVOICE_PREFIXES[InvoiceKind.INVOICE], company_id,
                                  [item.invoice_date for item in items])
    ids = list(session.scalars(
        insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True),
        [{"document_number": number, "company_id": company_id, "customer_id": item.customer_id, "order_id": None,
          "reference": item.reference, "invoice_date": item.invoice_date, "due_date": item.due_date,
          # a total taken over: its VAT is not known apart (net = total, tax 0; docs/credit.md)
          "amount": item.open_amount, "net_amount": item.open_amount, "tax_amount": ZERO,
          "open_amount": item.open_amount, "status": InvoiceStatus.OPEN,
          "created_by": actor.user_id, "created_at": now} for item, number in zip(items, numbers, strict=True)]))
    owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        owed[item.customer_id] += item.open_amount
    total = sum(owed.values(), ZERO)
    post(session, Posting(
        company_id=company_id, posting_date=go_live_date, user_id=actor.user_id,
        source_type="opening_receivables", source_id=source_id, memo=memo,
        journal=[*(Line(accounts.RECEIVABLES, owed[c], customer_id=c) for c in customer_ids),
                 Line(accounts.OPENING_BALANCES, -total)]))
    _add_to_exposures(session, owed, now)
    return ids


def _add_to_exposures(session: Session, owed: dict[int, Decimal], now: dt.datetime) -> None:
    """Each customer's open invoices and exposure up by what it owes, in customer order."""
    table = CustomerExposure.__table__
    upsert = dialect_insert(session, table)
    statement = upsert.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"open_invoices": table.c.open_invoices + upsert.excluded.open_invoices,
              "exposure": table.c.exposure + upsert.excluded.open_invoices,
              "updated_at": upsert.excluded.updated_at})
    session.execute(statement, [
        {"customer_id": customer_id, "open_invoices": owed[customer_id], "open_orders": ZERO,
         "exposure": owed[customer_id], "unapplied_credit": ZERO, "credit_limit": None, "limit_version": 0,
         "on_hold": False, "updated_at": now}
        for customer_id in sorted(owed)])
