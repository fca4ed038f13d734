"""Reading sales documents: orders, invoices and payments, scoped to the caller's companies
(records of other companies answer 404)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Subquery

from erp.messages import N_, Message, Term
from erp.auth.roles import Actor, Role, visible_or_404
from erp.db import page
from erp.credit.models import (
    CreditNote,
    CreditNoteApplication,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentApplication,
    SalesOrder,
    SalesOrderStatus,
)
from erp.errors import NotFound
from erp.masterdata.models import Customer
from erp.masterdata.services import CUSTOMERS, text_match
from erp.search import contains_text

READ_ROLES = (Role.SALES, Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER, Role.CIO)


def paged(session: Session, query: Select[Any], *, offset: int, limit: int | None) -> tuple[list[Any], int]:
    """One page of ``query`` and the total number of rows, counted in the same statement
    (every row from ``offset`` on when ``limit`` is None)."""
    if limit is None:
        rows = list(session.execute(query.offset(offset)).all())
        return rows, offset + len(rows)
    return page(session, query, offset=offset, limit=limit)


def settled_since(session: Session, as_of: dt.date) -> Subquery | None:
    """(invoice_id, amount): what payments and credit notes took off each invoice after
    ``as_of``, to add back for figures as of that day, less what the reversal of a payment
    after ``as_of`` gave back (erp.credit.payment_reversals: the invoice was settled by it on
    that day); None when nothing was (the usual case, the key date being today), so that
    callers read the open amounts alone."""
    later = [select(model.id).where(model.applied_on > as_of).limit(1)
             for model in (PaymentApplication, CreditNoteApplication)]
    later.append(select(Payment.id).where(Payment.reversal_date > as_of).limit(1))
    if all(session.scalar(probe) is None for probe in later):
        return None
    given_back = (select(PaymentApplication.invoice_id, (-PaymentApplication.amount).label("amount"))
                  .join(Payment, Payment.id == PaymentApplication.payment_id)
                  .where(Payment.reversal_date > as_of))
    both = union_all(*(select(model.invoice_id, model.amount).where(model.applied_on > as_of)
                       for model in (PaymentApplication, CreditNoteApplication)), given_back).subquery("settlements")
    return (select(both.c.invoice_id, func.sum(both.c.amount).label("amount"))
            .group_by(both.c.invoice_id).subquery("settled_since"))


def _visible(session: Session, actor: Actor, model: type[Any], key: int, label: str) -> Any:
    """One record of the caller's companies; 404 when missing or not theirs."""
    actor.require_role(*READ_ROLES, action="reading sales documents")
    record = session.get(model, key)
    if record is None:
        raise NotFound(Message("{what} {key} not found", what=Term(label), key=key))
    visible_or_404(actor, record.company_id, label, key)
    return record


def _listed(
    session: Session, actor: Actor, model: type[Any], filters: dict[str, Any], *order: Any, offset: int,
    limit: int, where: Sequence[Any] = (), options: Sequence[Any] = (),
) -> tuple[list[Any], int]:
    """Records of the caller's companies matching the filters that were given, in ``order``."""
    actor.require_role(*READ_ROLES, action="reading sales documents")
    query = select(model).where(actor.company_scope(model.company_id), *where).options(*options)
    for name, wanted in filters.items():
        if wanted is not None:
            query = query.where(getattr(model, name) == wanted)
    rows, total = paged(session, query.order_by(*order), offset=offset, limit=limit)
    return [row[0] for row in rows], total


def get_order(session: Session, actor: Actor, order_id: int) -> SalesOrder:
    """A sales order with its lines."""
    return _visible(session, actor, SalesOrder, order_id, N_("sales order"))  # type: ignore[no-any-return]


def list_orders(
    session: Session, actor: Actor, *, company_id: int | None = None, customer_id: int | None = None,
    status: SalesOrderStatus | None = None, number: str | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[SalesOrder], int]:
    """Sales orders, newest first, with filters; ``number`` finds the order with that
    document number (as people type it: case and surrounding spaces do not matter)."""
    return _listed(session, actor, SalesOrder, {"company_id": company_id, "customer_id": customer_id,
                                                "status": status, "number": normal_number(number)},
                   SalesOrder.id.desc(), offset=offset, limit=limit)


def normal_number(number: str | None) -> str | None:
    """A document number as stored (``SO-CA-2026-000001``), from what a user typed."""
    return None if number is None else number.strip().upper()


def get_invoice(session: Session, actor: Actor, invoice_id: int) -> Invoice:
    """An invoice with its lines and the payments applied to it."""
    return _visible(session, actor, Invoice, invoice_id, N_("invoice"))  # type: ignore[no-any-return]


def _searched(model: Any, q: str | None, *columns: Any) -> list[Any]:
    """The condition of a list's search box (``q``): part of one of ``columns`` (the document's
    numbers), or of its customer's code or name, upper or lower case alike (as master data's
    lists and the contracts' match, ``text_match``); none without ``q``."""
    if not q:
        return []
    return [or_(contains_text(q, *columns),
                model.customer_id.in_(select(Customer.id).where(text_match(CUSTOMERS, q))))]


def list_invoices(
    session: Session, actor: Actor, *, company_id: int | None = None, customer_id: int | None = None,
    status: InvoiceStatus | None = None, overdue_on: dt.date | None = None, document_number: str | None = None,
    q: str | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[Invoice], int]:
    """Invoices, newest first; ``overdue_on`` keeps those still open and past due on that day,
    ``document_number`` the one with that number (AR-/DN-..., as typed: ``normal_number``),
    ``q`` those with the text in their number, the old system's number or the customer's code
    or name."""
    overdue = [] if overdue_on is None else [Invoice.open_amount > 0, Invoice.due_date < overdue_on]
    overdue += _searched(Invoice, q, Invoice.document_number, Invoice.reference)
    return _listed(session, actor, Invoice, {"company_id": company_id, "customer_id": customer_id,
                                             "status": status, "document_number": normal_number(document_number)}, Invoice.invoice_date.desc(), Invoice.id.desc(),
                   offset=offset, limit=limit, where=overdue, options=[selectinload(Invoice.order)])


def get_payment(session: Session, actor: Actor, payment_id: int) -> Payment:
    """A payment with the invoices it settled."""
    return _visible(session, actor, Payment, payment_id, N_("payment"))  # type: ignore[no-any-return]


def list_payments(
    session: Session, actor: Actor, *, company_id: int | None = None, customer_id: int | None = None,
    document_number: str | None = None, q: str | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[Payment], int]:
    """Payments received, newest first; ``document_number``: the one with that number (RC-...);
    ``q``: those with the text in their number, the bank's reference or the customer's code or name."""
    return _listed(session, actor, Payment, {"company_id": company_id, "customer_id": customer_id,
                                             "document_number": normal_number(document_number)},
                   Payment.payment_date.desc(), Payment.id.desc(), offset=offset, limit=limit,
                   where=_searched(Payment, q, Payment.document_number, Payment.bank_reference))


def get_credit_note(session: Session, actor: Actor, note_id: int) -> CreditNote:
    """A credit note with its lines and the invoices it settled."""
    return _visible(session, actor, CreditNote, note_id, N_("credit note"))  # type: ignore[no-any-return]


def list_credit_notes(
    session: Session, actor: Actor, *, company_id: int | None = None, customer_id: int | None = None,
    invoice_id: int | None = None, document_number: str | None = None, q: str | None = None, offset: int = 0,
    limit: int = 50,
) -> tuple[list[CreditNote], int]:
    """Credit notes (returns and price corrections), newest first; ``document_number``: the one
    with that number (CN-...); ``q``: those with the text in their number or the customer's code
    or name."""
    return _listed(session, actor, CreditNote, {"company_id": company_id, "customer_id": customer_id,
                                                "invoice_id": invoice_id,
                                                "document_number": normal_number(document_number)},
                   CreditNote.note_date.desc(), CreditNote.id.desc(), offset=offset, limit=limit,
                   where=_searched(CreditNote, q, CreditNote.document_number))


@dataclass(frozen=True)
class JournalRow:
    """One line of a journal entry, with its account's names (debit or credit, the other None)."""

    account_code: str
    account_name_zh: str
    account_name_en: str
    debit: Decimal | None
    credit: Decimal | None

    @property
    def amount(self) -> Decimal:
        """Signed, debit positive (as ``confirm_posting`` reads a line)."""
        return self.debit if self.debit is not None else -(self.credit or Decimal(0))


@dataclass(frozen=True)
class PaymentEntry:
    entry_id: int
    entry_date: dt.date
    source_type: str
    memo: str
    rows: list[JournalRow]


def entry_rows(session: Session, entry_id: int | None) -> list[JournalRow]:
    """The lines of journal entry ``entry_id``, debits first, then by account ([] for none).
    The caller has read the document it belongs to."""
    from erp.costing.models import Account
    from erp.posting.models import JournalLine

    if entry_id is None:
        return []
    rows = session.execute(
        select(JournalLine.account_code, Account.name_zh, Account.name_en, JournalLine.amount)
        .join(Account, Account.code == JournalLine.account_code)
        .where(JournalLine.entry_id == entry_id)
        .order_by((JournalLine.amount < 0), JournalLine.account_code, JournalLine.id)).all()
    return [JournalRow(code, zh, en, Decimal(amount) if amount > 0 else None,
                       -Decimal(amount) if amount < 0 else None) for code, zh, en, amount in rows]


def payment_journal(session: Session, payment: Payment) -> list[PaymentEntry]:
    """Every entry a customer payment posted, oldest first: its receipt (``payment``), each later
    application of its credit (``credit_application``) and its reversal (``payment_reversal``)."""
    from erp.posting.models import JournalEntry

    entries = session.scalars(select(JournalEntry).where(
        JournalEntry.company_id == payment.company_id, JournalEntry.source_id == payment.id,
        JournalEntry.source_type.in_(("payment", "credit_application", "payment_reversal")))
        .order_by(JournalEntry.id)).all()
    return [PaymentEntry(e.id, e.entry_date, e.source_type, e.memo, entry_rows(session, e.id)) for e in entries]
