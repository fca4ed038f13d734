"""Customer returns, credit notes and debit notes: what corrects a receivable after the
invoice.

- A **return** takes goods back against a shipment (into quarantine, through
  ``inventory.take_back_goods``) and raises a credit note for them at the invoice line's
  price.
- A **credit note** without goods corrects a price downwards (折让).
- Either settles the corrected invoice as far as it is still open (or, for a price credit
  note without a named invoice, the customer's open invoices in the company, oldest due
  first); what is left is kept as the customer's credit and may be applied later.
  Journal (source ``credit_note``): Dr 6001 revenue; Cr 1122 receivables (applied) and
  Cr 2203 customer advances (kept), both for the customer.
- A **debit note** corrects a price upwards: a receivable like an invoice (kind
  ``debit_note``), Dr 1122 / Cr 6001, due after the customer's payment terms.

The customer's exposure moves with each: open invoices down by what a credit note
settled, unapplied credit up by what it kept; open invoices up by a debit note.

Locks, in the order every sales posting takes them: the sales order (returns: this
serialises two returns of the same shipment, so together they never exceed it), the
company's period, the customer's exposure row, the invoices, then stock balances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role, visible_or_404
from erp.costing import accounts
from erp.credit.errors import CreditNoteNotApplicable, NoOpenInvoices, NoUnappliedCredit, NotAShipment
from erp.credit.exposure import ZERO, lock_exposure, lock_position, move_exposure
from erp.credit.models import (
    CreditNote,
    CreditNoteApplication,
    CreditNoteKind,
    CreditNoteLine,
    CustomerExposure,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    SalesOrder,
    SalesOrderLine,
)
from erp.credit.services import (
    CREDIT_NOTE_PREFIX,
    PAYMENT_ROLES,
    InvoiceItem,
    _customer,
    _lock_order,
    raise_invoice,
    receivables_number,
)
from erp.errors import NotFound, ValidationFailed
from erp.inventory import services as inventory
from erp.credit.queries import paged
from erp.masterdata.models import Company, Customer, Material, UnitOfMeasure, Warehouse
from erp.masterdata.services import company_for_customer
from erp.masterdata.tax import line_amounts, tax_code_for
from erp.messages import N_, Message, Named
from erp.posting import Line, Posting, lock_open_period, post
from erp.posting.models import Batch, StockDocument
from erp.narration import narrate
from erp.search import contains_text

NOTE_ROLES = (Role.SALES,)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("say why"))
    return reason


def _lock_invoices(session: Session, invoice_ids: Sequence[int]) -> list[Invoice]:
    found = {invoice.id: invoice for invoice in session.scalars(
        select(Invoice).where(Invoice.id.in_(sorted(invoice_ids))).order_by(Invoice.id).with_for_update()
        .execution_options(populate_existing=True))}
    return [found[i] for i in invoice_ids if i in found]


def _open_invoices(session: Session, *, company_id: int, customer_id: int, on: dt.date) -> list[Invoice]:
    """The customer's open invoices in the company dated by ``on``, oldest due first, locked."""
    return list(session.scalars(
        select(Invoice).where(Invoice.company_id == company_id, Invoice.customer_id == customer_id,
                              Invoice.open_amount > 0, Invoice.invoice_date <= on)
        .order_by(Invoice.due_date, Invoice.id).with_for_update().execution_options(populate_existing=True)))


def _settle(session: Session, actor: Actor, note: CreditNote, invoices: Sequence[Invoice], on: dt.date) -> Decimal:
    """Take the note's unapplied amount off ``invoices`` in order; returns what was applied."""
    applied = ZERO
    for invoice in invoices:
        if note.unapplied_amount == 0:
            break
        amount = min(note.unapplied_amount, invoice.open_amount)
        if amount <= 0:
            continue
        invoice.open_amount -= amount
        invoice.status = InvoiceStatus.PAID if invoice.open_amount == 0 else InvoiceStatus.PARTIALLY_PAID
        note.unapplied_amount -= amount
        applied += amount
        note.applications.append(CreditNoteApplication(invoice_id=invoice.id, amount=amount, applied_on=on,
                                                       applied_by=actor.user_id))
    return applied


def _post_note(session: Session, actor: Actor, note: CreditNote, position: CustomerExposure,
               invoices: Sequence[Invoice], revenue: Sequence[Line]) -> CreditNote:
    """Settle, post and move the exposure: the financial half of every credit note."""
    note.unapplied_amount = note.amount
    # numbered once every check has passed (the series row stays locked until commit)
    note.document_number = receivables_number(session, CREDIT_NOTE_PREFIX, note.company_id, note.note_date)
    session.add(note)
    session.flush()
    applied = _settle(session, actor, note, invoices, note.note_date)
    kept = note.amount - applied
    post(session, Posting(
        company_id=note.company_id, posting_date=note.note_date, source_type="credit_note", source_id=note.id,
        memo=(narrate("credit-note-invoice", note=note.document_number, reason=note.reason,
                      invoice=session.scalar(select(Invoice.document_number).where(Invoice.id == note.invoice_id)))
              if note.invoice_id else narrate("credit-note", note=note.document_number, reason=note.reason)),
        user_id=actor.user_id,
        journal=[*revenue, Line(accounts.RECEIVABLES, -applied, customer_id=note.customer_id),
                 Line(accounts.CUSTOMER_ADVANCES, -kept, customer_id=note.customer_id)],
    ))
    move_exposure(position, invoices=-applied, unapplied=kept)
    session.flush()
    return note


def return_goods(
    session: Session,
    actor: Actor,
    *,
    shipment_document_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    reason: str,
    batch_id: int | None = None,
) -> CreditNote:
    """A customer returns goods of a shipment: they come back into quarantine at the value
    they left with (cost of goods sold credited), and a credit note for quantity x the
    invoice line's price (half-up to the cent) settles the shipment's invoice as far as it
    is open, the rest kept as the customer's credit.

    Refuses: not-a-shipment (no invoiced shipment of the caller's companies),
    return-exceeds-shipment (more than was shipped of the batch less what came back
    already), period-closed, validation-error (no reason; batch not shipped).
    """
    actor.require_role(*NOTE_ROLES, action="booking customer returns")
    _reason(reason)
    line = session.scalar(select(InvoiceLine).where(InvoiceLine.stock_document_id == shipment_document_id))
    invoice = session.get(Invoice, line.invoice_id) if line is not None else None
    if line is None or invoice is None or line.order_line_id is None or line.unit_price is None:
        raise NotAShipment(Message("stock document {key} is not an invoiced shipment to a customer",
                                   key=shipment_document_id))
    visible_or_404(actor, invoice.company_id, N_("stock document"), shipment_document_id)
    order_line = session.get(SalesOrderLine, line.order_line_id)
    assert order_line is not None
    _lock_order(session, actor, order_line.order_id)
    lock_open_period(session, invoice.company_id, posting_date)
    position = lock_exposure(session, invoice.customer_id)
    (invoice,) = _lock_invoices(session, [invoice.id])
    document_id, shipped, _ = inventory.take_back_goods(
        session, actor, shipment_document_id=shipment_document_id, quantity=quantity, posting_date=posting_date,
        reason=reason, batch_id=batch_id)
    # the invoice line's own rule: net to the cent, VAT on it at the line's rate, per line
    amounts = line_amounts(quantity, line.unit_price, line.tax_rate)
    note = CreditNote(company_id=invoice.company_id, customer_id=invoice.customer_id, kind=CreditNoteKind.RETURN,
                      invoice_id=invoice.id, note_date=posting_date, amount=amounts.gross, net_amount=amounts.net,
                      tax_amount=amounts.tax, reason=reason, created_by=actor.user_id)
    note.lines.append(CreditNoteLine(invoice_line_id=line.id, stock_document_id=document_id,
                                     material_id=line.material_id, batch_id=shipped.batch_id, quantity=quantity,
                                     unit_price=line.unit_price, tax_code_id=line.tax_code_id, tax_rate=line.tax_rate,
                                     net_amount=amounts.net, tax_amount=amounts.tax, amount=amounts.gross))
    return _post_note(session, actor, note, position, [invoice],
                      [Line(accounts.REVENUE, amounts.net, material_id=line.material_id),
                       Line(accounts.OUTPUT_VAT, amounts.tax)])


def issue_credit_note(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    customer_id: int,
    note_date: dt.date,
    amount: Decimal,
    reason: str,
    invoice_id: int | None = None,
    material_id: int | None = None,
    tax_code_id: int | None = None,
) -> CreditNote:
    """A price correction downwards without goods: ``amount`` excluding tax, and the output
    VAT on it at the line's code (given, else the customer's, else the material's); the total
    settles the named invoice as far as it is open (without one: the customer's open invoices
    in the company, oldest due first); the rest is kept as the customer's credit. Refuses:
    credit-note-not-applicable (the named invoice is not the customer's in the company, or
    dated after the note), no-tax-code, tax-code-not-in-force, validation-error."""
    actor.require_role(*NOTE_ROLES, action="issuing credit notes")
    actor.require_company(company_id)
    _reason(reason)
    if session.get(Company, company_id) is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    _customer(session, customer_id, field="customer_id")
    lock_open_period(session, company_id, note_date)
    position = lock_exposure(session, customer_id)
    if invoice_id is not None:
        invoices = _lock_invoices(session, [invoice_id])
        if not invoices or invoices[0].company_id != company_id or invoices[0].customer_id != customer_id:
            raise CreditNoteNotApplicable(Message("invoice {key} is not an invoice of this customer in this company",
                                                  key=invoice_id), errors=[{"pointer": "/invoice_id",
                                                                            "detail": Message("not this customer's")}])
        if invoices[0].invoice_date > note_date:
            raise CreditNoteNotApplicable(Message("invoice {key} is dated {day}, after the credit note",
                                                  key=invoice_id, day=invoices[0].invoice_date))
    else:
        invoices = _open_invoices(session, company_id=company_id, customer_id=customer_id, on=note_date)
    tax = tax_code_for(session, day=note_date, material_id=material_id, customer_id=customer_id,
                       tax_code_id=tax_code_id)
    amounts = line_amounts(Decimal(1), amount, tax.rate)
    note = CreditNote(company_id=company_id, customer_id=customer_id, kind=CreditNoteKind.PRICE, invoice_id=invoice_id,
                      note_date=note_date, amount=amounts.gross, net_amount=amounts.net, tax_amount=amounts.tax,
                      reason=reason, created_by=actor.user_id)
    note.lines.append(CreditNoteLine(material_id=material_id, tax_code_id=tax.tax_code_id, tax_rate=tax.rate,
                                     net_amount=amounts.net, tax_amount=amounts.tax, amount=amounts.gross))
    return _post_note(session, actor, note, position, invoices,
                      [Line(accounts.REVENUE, amounts.net, material_id=material_id),
                       Line(accounts.OUTPUT_VAT, amounts.tax)])


def apply_credit_note(
    session: Session, actor: Actor, note_id: int, *, applied_on: dt.date, invoice_ids: Sequence[int] | None = None
) -> CreditNote:
    """Apply what a credit note kept as the customer's credit to open invoices of the same
    company (the named ones in order, else oldest due first). Journal (source
    ``credit_note_application``): Dr 2203 customer advances / Cr 1122 receivables.
    Refuses: no-unapplied-credit, no-open-invoices, credit-note-not-applicable."""
    actor.require_role(*PAYMENT_ROLES, action="applying credit notes")
    note = session.scalars(select(CreditNote).where(CreditNote.id == note_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if note is None:
        raise NotFound(Message("credit note {key} not found", key=note_id))
    visible_or_404(actor, note.company_id, N_("credit note"), note_id)
    if note.unapplied_amount == 0:
        raise NoUnappliedCredit(Message("credit note {key} is fully applied", key=note_id))
    if applied_on < note.note_date:
        raise ValidationFailed.for_field("applied_on", Message("before the credit note's date {day}",
                                                               day=note.note_date))
    lock_open_period(session, note.company_id, applied_on)
    position = lock_exposure(session, note.customer_id)
    if invoice_ids is None:
        invoices = _open_invoices(session, company_id=note.company_id, customer_id=note.customer_id, on=applied_on)
    else:
        invoices = _lock_invoices(session, invoice_ids)
        for index, invoice in enumerate(invoices):
            if invoice.company_id != note.company_id or invoice.customer_id != note.customer_id \
                    or invoice.invoice_date > applied_on:
                raise CreditNoteNotApplicable(
                    Message("invoice {key} is not an open invoice of this customer in this company by {day}",
                            key=invoice.id, day=applied_on),
                    errors=[{"pointer": f"/invoice_ids/{index}", "detail": Message("not applicable")}])
    applied = _settle(session, actor, note, invoices, applied_on)
    if applied == 0:
        raise NoOpenInvoices(Message("customer {customer} has no open invoice in company {company} dated on or "
                                     "before {day}", customer=note.customer_id, company=note.company_id,
                                     day=applied_on))
    post(session, Posting(
        company_id=note.company_id, posting_date=applied_on, source_type="credit_note_application",
        source_id=note.id, memo=narrate("credit-note-kept-applied", note=note.document_number),
        user_id=actor.user_id,
        journal=[Line(accounts.CUSTOMER_ADVANCES, applied, customer_id=note.customer_id),
                 Line(accounts.RECEIVABLES, -applied, customer_id=note.customer_id)],
    ))
    move_exposure(position, invoices=-applied, unapplied=-applied)
    session.flush()
    return note


def issue_debit_note(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    customer_id: int,
    note_date: dt.date,
    amount: Decimal,
    reason: str,
    invoice_id: int | None = None,
    material_id: int | None = None,
    tax_code_id: int | None = None,
) -> Invoice:
    """A price correction upwards without goods: ``amount`` excluding tax plus its output
    VAT, a receivable of kind ``debit_note`` (Dr 1122 / Cr 6001, Cr 2221.01.02), due after
    the customer's payment terms, in the exposure like any invoice. Not credit-checked: the
    customer owes it already. Refuses: credit-note-not-applicable (the corrected invoice is
    not the customer's in the company), no-tax-code, tax-code-not-in-force, validation-error."""
    actor.require_role(*NOTE_ROLES, action="issuing debit notes")
    actor.require_company(company_id)
    _reason(reason)
    if session.get(Company, company_id) is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    _customer(session, customer_id, field="customer_id")
    if invoice_id is not None:
        corrected = session.get(Invoice, invoice_id)
        if corrected is None or corrected.company_id != company_id or corrected.customer_id != customer_id:
            raise CreditNoteNotApplicable(Message("invoice {key} is not an invoice of this customer in this company",
                                                  key=invoice_id))
    lock_open_period(session, company_id, note_date)
    # The customer's terms (payment days, default tax code) as committed once its exposure row
    # is locked, the lock every posting for it takes: read before, a change the steward
    # committed while this waited would be missed (tests/service/test_stale_customer_reads.py).
    position, customer = lock_position(session, customer_id)
    tax = tax_code_for(session, day=note_date, material_id=material_id, customer_id=customer_id,
                       tax_code_id=tax_code_id)
    amounts = line_amounts(Decimal(1), amount, tax.rate)
    return raise_invoice(session, position, company_id=company_id, invoice_date=note_date,
                         payment_terms_days=customer.payment_terms_days,
                         items=[InvoiceItem(amounts.gross, material_id=material_id, tax_amount=amounts.tax,
                                            tax_code_id=tax.tax_code_id, tax_rate=tax.rate)], user_id=actor.user_id,
                         kind=InvoiceKind.DEBIT_NOTE, corrects_invoice_id=invoice_id, reason=reason,
                         partner_company_id=partner.id if (partner := company_for_customer(session, customer_id))
                         else None)


# --- reading: what can be returned, and the notes ------------------------------------------------

RETURN_SORTS = {"date": (StockDocument.posting_date, StockDocument.id), "document": (StockDocument.number,),
                "customer": (Customer.code, StockDocument.id)}


def returnable_shipments(
    session: Session, actor: Actor, *, q: str | None = None, sort: str = "date", descending: bool = True,
    offset: int = 0, limit: int = 20,
) -> tuple[list[Any], int]:
    """Invoiced shipments of the caller's companies with what they shipped, what came back
    and their price, newest first; ``q`` matches the document, sales order number, customer,
    material or invoice."""
    actor.require_role(*NOTE_ROLES, action="reading shipments to return")
    returned = (select(CreditNoteLine.invoice_line_id, func.sum(CreditNoteLine.quantity).label("quantity"))
                .where(CreditNoteLine.stock_document_id.is_not(None))
                .group_by(CreditNoteLine.invoice_line_id).subquery("returned"))
    query = (
        select(StockDocument.id.label("document_id"), StockDocument.number, StockDocument.posting_date,
               Invoice.id.label("invoice_id"), Invoice.document_number.label("invoice_number"),
               SalesOrder.number.label("order_number"), Invoice.company_id,
               Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
               Company.name_en.label("company_name_en"),
               Customer.code.label("customer_code"), Customer.name_zh.label("customer_name_zh"),
               Customer.name_en.label("customer_name_en"), Material.code.label("material_code"),
               Material.name_zh.label("material_name_zh"), Material.name_en.label("material_name_en"),
               UnitOfMeasure.code.label("unit_code"), InvoiceLine.quantity, InvoiceLine.unit_price,
               func.coalesce(returned.c.quantity, 0).label("returned_quantity"))
        .select_from(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(SalesOrder, SalesOrder.id == Invoice.order_id)
        .join(StockDocument, StockDocument.id == InvoiceLine.stock_document_id)
        .join(Company, Company.id == Invoice.company_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .join(Material, Material.id == InvoiceLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .outerjoin(returned, returned.c.invoice_line_id == InvoiceLine.id)
        .where(actor.company_scope(Invoice.company_id))
    )
    if q:
        query = query.where(or_(contains_text(q, StockDocument.number, SalesOrder.number, Customer.code,
                                              Customer.name_zh, Customer.name_en, Material.code, Material.name_zh,
                                              Invoice.document_number),
                                cast(Invoice.id, String) == q))
    columns = RETURN_SORTS.get(sort, RETURN_SORTS["date"])
    query = query.order_by(*(c.desc() if descending else c for c in columns))
    return paged(session, query, offset=offset, limit=limit)


@dataclass
class ReturnPreview:
    """A shipment and, per batch, what can still come back of it (for the return form)."""

    shipment: StockDocument
    invoice: Invoice
    line: InvoiceLine
    customer: Customer
    material: Material
    unit_code: str
    batches: list[tuple[Any, str, Named]]  # (ShippedBatch, batch number, warehouse)


def return_preview(session: Session, actor: Actor, shipment_document_id: int) -> ReturnPreview:
    """What a return against the shipment would find: its invoice line and price, and per
    batch shipped, already returned and returnable. Not found for other companies."""
    actor.require_role(*NOTE_ROLES, action="reading shipments to return")
    line = session.scalar(select(InvoiceLine).where(InvoiceLine.stock_document_id == shipment_document_id))
    invoice = session.get(Invoice, line.invoice_id) if line is not None else None
    if line is None or invoice is None or line.material_id is None:
        raise NotFound(Message("stock document {key} not found", key=shipment_document_id))
    visible_or_404(actor, invoice.company_id, N_("stock document"), shipment_document_id)
    shipment = session.get(StockDocument, shipment_document_id)
    customer = session.get(Customer, invoice.customer_id)
    material = session.get(Material, line.material_id)
    assert shipment is not None and customer is not None and material is not None
    unit = session.get(UnitOfMeasure, material.unit_id)
    batches = []
    for batch in inventory.shipped_batches(session, shipment).values():
        number = session.scalar(select(Batch.batch_number).where(Batch.id == batch.batch_id)) or ""
        warehouse = session.get(Warehouse, batch.warehouse_id)
        assert warehouse is not None
        batches.append((batch, number, Named.of(warehouse)))
    return ReturnPreview(shipment, invoice, line, customer, material, unit.code if unit else "", batches)


def invoice_numbers(session: Session, note: CreditNote) -> dict[int, str]:
    """The document numbers (AR-/DN-...) of the invoice a note corrects and of those it
    settled, by invoice id."""
    keys = {a.invoice_id for a in note.applications} | ({note.invoice_id} if note.invoice_id else set())
    if not keys:
        return {}
    return {key: number for key, number in session.execute(
        select(Invoice.id, Invoice.document_number).where(Invoice.id.in_(sorted(keys))))}


def return_document_numbers(session: Session, note: CreditNote) -> dict[int, str]:
    """The numbers of the stock documents a credit note's returns posted, by id."""
    ids = [line.stock_document_id for line in note.lines if line.stock_document_id is not None]
    if not ids:
        return {}
    return dict(session.execute(select(StockDocument.id, StockDocument.number).where(StockDocument.id.in_(ids))).all())
