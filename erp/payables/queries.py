"""Payables reports: invoices and the blocked queue, AP open items and ageing, the GR/IR
clearing report and its month-end check against the account's balance.

Read-only, set-based: one statement per report, computed in the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.db import MONEY, QUANTITY, page
from erp.errors import NotFound
from erp.inventory.opening_receipts import OPENING_RECEIVED
from erp.masterdata.models import Company, Material, Supplier, UnitOfMeasure
from erp.masterdata.services import SUPPLIERS, text_match
from erp.messages import Message
from erp.payables.models import DocumentKind, PaymentAllocation, SupplierInvoice, SupplierInvoiceLine, SupplierPayment
from erp.posting import STOCK_DOCUMENT
from erp.posting.models import JournalEntry, JournalLine, StockDocument, StockMovement
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine
from erp.search import contains_text

ZERO = Decimal(0)
AGEING_BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
READERS = (Role.ACCOUNTS_PAYABLE, Role.PURCHASING_MANAGER, Role.COST_ACCOUNTANT, Role.CIO, Role.AUDITOR)
ORDER_READERS = (Role.BUYER, Role.GROUP_BUYER, Role.PURCHASING_MANAGER, Role.ACCOUNTS_PAYABLE, Role.COST_ACCOUNTANT)
RECEIVED_DOCUMENTS = ("receipt", "receipt_reversal", "return_to_supplier")


def require_reader(actor: Actor) -> None:
    actor.require_role(*READERS, action="reading payables")


def get_invoice(session: Session, actor: Actor, invoice_id: int) -> SupplierInvoice:
    """One invoice or credit memo with its lines (404 outside the caller's companies)."""
    require_reader(actor)
    invoice = session.get(SupplierInvoice, invoice_id)
    if invoice is None or not actor.acts_for_company(invoice.company_id):
        raise NotFound(Message("supplier invoice {key} not found", key=invoice_id))
    return invoice


def list_invoices(session: Session, actor: Actor, filters: dict[str, Any], *, offset: int,
                  limit: int) -> tuple[list[SupplierInvoice], int]:
    """Invoices and credit memos the caller may see, newest first; filters: company_id,
    supplier_id, blocked (a reversed invoice is in no blocked queue), open (open amount above
    zero), document_kind, reversed, number (as printed, exactly), document_number (ours, exactly),
    q (the search box: part of our number, of the supplier's number, or of the supplier's code
    or name, upper or lower case alike)."""
    require_reader(actor)
    return page(session, _invoices(actor, filters).order_by(SupplierInvoice.posting_date.desc(),
                                                            SupplierInvoice.id.desc()),
                offset=offset, limit=limit, entities=True)


def invoice_totals(session: Session, actor: Actor, filters: dict[str, Any]) -> dict[str, Decimal]:
    """The totals row of ``list_invoices`` with the same filters, over every page: the gross
    total and the open amount of the documents not reversed, a credit memo's negative (what
    the supplier is owed; a reversed document owes nothing)."""
    require_reader(actor)
    listed = _invoices(actor, filters).where(SupplierInvoice.reversed_at.is_(None)).subquery()
    sign = case((listed.c.document_kind == DocumentKind.CREDIT_MEMO, -1), else_=1)
    gross, open_amount = session.execute(select(func.coalesce(func.sum(sign * listed.c.gross_total), 0),
                                                func.coalesce(func.sum(sign * listed.c.open_amount), 0))).one()
    return {"gross_total": Decimal(gross), "open_amount": Decimal(open_amount)}


def _invoices(actor: Actor, filters: dict[str, Any]) -> Any:
    """The invoices and credit memos of ``list_invoices``' filters, unordered."""
    query = select(SupplierInvoice).where(actor.company_scope(SupplierInvoice.company_id))
    if filters.get("q"):
        query = query.where(or_(contains_text(filters["q"], SupplierInvoice.document_number, SupplierInvoice.number),
                                SupplierInvoice.supplier_id.in_(select(Supplier.id).where(
                                    text_match(SUPPLIERS, filters["q"])))))
    for name in ("company_id", "supplier_id", "blocked", "document_kind", "number", "document_number"):
        if filters.get(name) is not None:
            query = query.where(getattr(SupplierInvoice, name) == filters[name])
    if filters.get("blocked"):
        query = query.where(SupplierInvoice.reversed_at.is_(None))
    if filters.get("reversed") is not None:
        query = query.where(SupplierInvoice.reversed_at.is_not(None) == filters["reversed"])
    if filters.get("open") is not None:
        query = query.where((SupplierInvoice.open_amount > 0) == filters["open"])
    return query


def get_payment(session: Session, actor: Actor, payment_id: int) -> SupplierPayment:
    """One supplier payment with its allocations (404 outside the caller's companies)."""
    require_reader(actor)
    payment = session.get(SupplierPayment, payment_id)
    if payment is None or not actor.acts_for_company(payment.company_id):
        raise NotFound(Message("supplier payment {key} not found", key=payment_id))
    return payment


def standing_payments(session: Session, invoice_id: int) -> list[SupplierPayment]:
    """The payments not reversed that settle part of the invoice, oldest first."""
    return list(session.scalars(select(SupplierPayment).join(
        PaymentAllocation, PaymentAllocation.payment_id == SupplierPayment.id).where(
        PaymentAllocation.invoice_id == invoice_id, SupplierPayment.reversed_at.is_(None))
        .order_by(SupplierPayment.id).distinct()))


def list_payments(session: Session, actor: Actor, filters: dict[str, Any], *, offset: int,
                  limit: int) -> tuple[list[SupplierPayment], int]:
    """Supplier payments the caller may see, newest first; filters: company_id (one of the
    caller's: another is refused 403 ``company-out-of-scope``), supplier_id, invoice_id (the
    payments that settled part of it), reversed (true: reversed ones only, false: standing
    ones only), date_from and date_to (payment dates, inclusive), q (the search box: part of
    our number, of the reference, or of the supplier's code or name, upper or lower case alike)."""
    require_reader(actor)
    if filters.get("company_id") is not None:
        actor.require_company(filters["company_id"])
    query = select(SupplierPayment).where(actor.company_scope(SupplierPayment.company_id))
    if filters.get("q"):
        query = query.where(or_(contains_text(filters["q"], SupplierPayment.document_number,
                                              SupplierPayment.reference),
                                SupplierPayment.supplier_id.in_(select(Supplier.id).where(
                                    text_match(SUPPLIERS, filters["q"])))))
    for name in ("company_id", "supplier_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(SupplierPayment, name) == filters[name])
    if filters.get("invoice_id") is not None:
        query = query.where(SupplierPayment.id.in_(select(PaymentAllocation.payment_id).where(
            PaymentAllocation.invoice_id == filters["invoice_id"])))
    if filters.get("reversed") is not None:
        query = query.where(SupplierPayment.reversed_at.is_not(None) == filters["reversed"])
    if filters.get("date_from") is not None:
        query = query.where(SupplierPayment.payment_date >= filters["date_from"])
    if filters.get("date_to") is not None:
        query = query.where(SupplierPayment.payment_date <= filters["date_to"])
    return page(session, query.order_by(SupplierPayment.payment_date.desc(), SupplierPayment.id.desc()),
                offset=offset, limit=limit, entities=True)


def _not_reversed_on(as_of: dt.date) -> Any:
    """Invoices and credit memos not reversed on ``as_of`` (a reversal dated later did not
    happen yet on that day)."""
    return or_(SupplierInvoice.reversal_date.is_(None), SupplierInvoice.reversal_date > as_of)


# --- AP open items and ageing --------------------------------------------------------------

def ageing(session: Session, actor: Actor, as_of: dt.date, *, by: str = "supplier",
           company_id: int | None = None, supplier_id: int | None = None) -> list[dict[str, Any]]:
    """Open payables on ``as_of`` in the receivables' buckets (not due; 1-30, 31-60, 61-90,
    over 90 days past due), per ``by``: ``supplier`` (per company and supplier),
    ``company``, or ``group`` (one row). Credit memos count negative. What was paid after
    ``as_of`` is still open on it, and what a credit memo posted after it took off its
    invoice; what a payment reversed after ``as_of`` settled is paid on it, and what a credit
    memo reversed after ``as_of`` took off its invoice is off that invoice (and in no bucket
    of the memo's); a document reversed after ``as_of`` is open as it was then, and one
    reversed on or before ``as_of`` is in no bucket. Rows: keys, open_amount,
    overdue, blocked and buckets."""
    require_reader(actor)
    # The open amount now, corrected to as_of by the allocations that settle now and did not
    # then (a payment after as_of: + its amount), or settled then and do not now (a payment
    # on or before as_of reversed after it: - its amount; its reversal gave the amount back).
    # A payment made and reversed on either side of as_of counts neither way.
    not_reversed_now = SupplierPayment.reversal_date.is_(None)
    change = case(
        (and_(not_reversed_now, SupplierPayment.payment_date > as_of), PaymentAllocation.amount),
        (and_(SupplierPayment.payment_date <= as_of, SupplierPayment.reversal_date > as_of), -PaymentAllocation.amount),
        else_=ZERO)
    paid_since = (select(PaymentAllocation.invoice_id, func.sum(change).label("amount"))
                  .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
                  .where(or_(SupplierPayment.payment_date > as_of, SupplierPayment.reversal_date > as_of))
                  .group_by(PaymentAllocation.invoice_id)
                  .subquery("paid_since"))
    # What a credit memo took off the invoice it reduces (its ``applied_amount``, 0045),
    # corrected to ``as_of`` like the payments: posted after it and standing, still owed then
    # (+); posted on or before it and reversed after it, not owed then though its reversal
    # gave it back since (-). Posted and reversed after it: neither.
    memo = aliased(SupplierInvoice)
    memo_change = case((memo.posting_date > as_of, memo.applied_amount), else_=-memo.applied_amount)
    credited_since = (select(memo.credits_invoice_id.label("invoice_id"), func.sum(memo_change).label("amount"))
                      .where(memo.document_kind == DocumentKind.CREDIT_MEMO, memo.credits_invoice_id.is_not(None),
                             or_(and_(memo.posting_date > as_of, memo.reversed_at.is_(None)),
                                 and_(memo.posting_date <= as_of, memo.reversal_date > as_of)))
                      .group_by(memo.credits_invoice_id).subquery("credited_since"))
    sign = case((SupplierInvoice.document_kind == DocumentKind.INVOICE, 1), else_=-1)
    # A reversal dated after ``as_of`` clears what was open of a document then: an invoice's
    # whole total (it is refused once any of it is paid or credited), a credit memo's open
    # part, its total less what it applied (that amount counts on the invoice, above, until
    # the reversal date; before 0045 it counted on the memo, in the memo's bucket).
    reversed_since = case((SupplierInvoice.reversal_date > as_of,
                           SupplierInvoice.gross_total - SupplierInvoice.applied_amount), else_=ZERO)
    amount = (sign * (SupplierInvoice.open_amount + func.coalesce(paid_since.c.amount, ZERO)
                      + func.coalesce(credited_since.c.amount, ZERO) + reversed_since)).label("amount")
    items = (select(SupplierInvoice.company_id, SupplierInvoice.supplier_id, SupplierInvoice.due_date,
                    SupplierInvoice.blocked, amount)
             .outerjoin(paid_since, paid_since.c.invoice_id == SupplierInvoice.id)
             .outerjoin(credited_since, credited_since.c.invoice_id == SupplierInvoice.id)
             .where(SupplierInvoice.posting_date <= as_of, actor.company_scope(SupplierInvoice.company_id),
                    _not_reversed_on(as_of)))
    if company_id is not None:
        items = items.where(SupplierInvoice.company_id == company_id)
    if supplier_id is not None:
        items = items.where(SupplierInvoice.supplier_id == supplier_id)
    sub = items.subquery("items")
    due, value = sub.c.due_date, sub.c.amount

    def total(condition: Any, label: str) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=ZERO)), ZERO).label(label)

    def days_ago(days: int) -> dt.date:
        return as_of - dt.timedelta(days=days)

    columns = [
        func.coalesce(func.sum(value), ZERO).label("open_amount"),
        total(due < as_of, "overdue"),
        total(sub.c.blocked, "blocked"),
        total(due >= as_of, "not_due"),
        total(and_(due < as_of, due >= days_ago(30)), "days_1_30"),
        total(and_(due < days_ago(30), due >= days_ago(60)), "days_31_60"),
        total(and_(due < days_ago(60), due >= days_ago(90)), "days_61_90"),
        total(due < days_ago(90), "over_90"),
    ]
    if by == "group":
        keys: list[Any] = []
    elif by == "company":
        keys = [sub.c.company_id, Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
                Company.name_en.label("company_name_en")]
    else:
        keys = [sub.c.company_id, Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
                Company.name_en.label("company_name_en"), sub.c.supplier_id,
                Supplier.code.label("supplier_code"), Supplier.name_zh.label("supplier_name_zh"),
                Supplier.name_en.label("supplier_name_en")]
    query = select(*keys, *columns).select_from(sub)
    if by != "group":
        query = query.join(Company, Company.id == sub.c.company_id)
    if by == "supplier":
        query = query.join(Supplier, Supplier.id == sub.c.supplier_id)
    query = query.where(value != 0) if by != "group" else query
    if keys:
        query = query.group_by(*keys).order_by(sub.c.company_id, Company.code) if by == "company" \
            else query.group_by(*keys).order_by(Company.code, Supplier.code)
    return [dict(row._mapping) for row in session.execute(query).all()
            if by == "group" or row._mapping["open_amount"] != 0]


# --- GR/IR ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GrirLine:
    """One order line's goods received not invoiced (positive balance: owed for goods not
    yet invoiced) or invoiced not received (negative)."""

    po_line_id: int
    order_number: str
    line_no: int
    supplier_code: str
    material_code: str
    received_quantity: Decimal
    invoiced_quantity: Decimal
    received_value: Decimal
    invoiced_value: Decimal
    balance: Decimal
    received_not_invoiced: Decimal
    invoiced_not_received: Decimal
    age_days: int | None
    # How people know the records: names (zh, en) and the material's unit (pages show them).
    supplier_name_zh: str = ""
    supplier_name_en: str = ""
    material_name_zh: str = ""
    material_name_en: str = ""
    unit: str | None = None


def grir_lines(session: Session, actor: Actor, company_id: int, as_of: dt.date) -> list[GrirLine]:
    """The GR/IR clearing report of a company on ``as_of``: per order line with anything
    on GR/IR, what was received (receipts less reversals and returns, at the contract
    value they credited to 2202.01) and what was invoiced (invoices less credit memos, at
    the GR/IR value they debited), their difference and its age (days since the first
    receipt when received exceeds invoiced, since the first invoice when the reverse).
    An invoice reversed on or before ``as_of`` invoiced nothing (its reversal's entry took
    its GR/IR amount back off 2202.01 on the reversal date). Lines whose quantities and values both match are left out."""
    require_reader(actor)
    actor.require_company(company_id)
    received = (
        select(StockDocument.po_line_id.label("po_line_id"),
               func.sum(-JournalLine.amount).label("value"),
               func.min(StockDocument.posting_date).label("first_date"))
        .join(JournalEntry, and_(JournalEntry.source_type == STOCK_DOCUMENT, JournalEntry.source_id == StockDocument.id))
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(StockDocument.company_id == company_id, StockDocument.posting_date <= as_of,
               StockDocument.doc_type.in_(RECEIVED_DOCUMENTS), StockDocument.po_line_id.is_not(None),
               JournalLine.account_code == accounts.GOODS_RECEIVED_NOT_INVOICED)
        .group_by(StockDocument.po_line_id).subquery("received"))
    received_quantity = (
        select(StockDocument.po_line_id.label("po_line_id"), func.sum(StockMovement.quantity).label("quantity"))
        .join(StockMovement, StockMovement.document_id == StockDocument.id)
        .where(StockDocument.company_id == company_id, StockDocument.posting_date <= as_of,
               StockDocument.doc_type.in_(RECEIVED_DOCUMENTS), StockDocument.po_line_id.is_not(None))
        .group_by(StockDocument.po_line_id).subquery("received_quantity"))
    # Received and not invoiced in the old system, taken over with the order at go-live
    # (erp.inventory.opening_receipts): its entry credited 2202.01 as a receipt would have, the
    # quantity is on the order line; an undone import's mirror entry takes both back.
    opening = (
        select(JournalEntry.source_id.label("po_line_id"), func.sum(-JournalLine.amount).label("value"),
               func.min(JournalEntry.entry_date).label("first_date"))
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.company_id == company_id, JournalEntry.source_type == OPENING_RECEIVED,
               JournalEntry.entry_date <= as_of, JournalLine.account_code == accounts.GOODS_RECEIVED_NOT_INVOICED)
        .group_by(JournalEntry.source_id).subquery("opening"))
    sign = case((SupplierInvoice.document_kind == DocumentKind.INVOICE, 1), else_=-1)
    invoiced = (
        select(SupplierInvoiceLine.po_line_id.label("po_line_id"),
               func.sum(sign * SupplierInvoiceLine.grir_amount).label("value"),
               func.sum(sign * SupplierInvoiceLine.quantity).label("quantity"),
               func.min(SupplierInvoice.posting_date).label("first_date"))
        .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
        .where(SupplierInvoice.company_id == company_id, SupplierInvoice.posting_date <= as_of,
               _not_reversed_on(as_of))
        .group_by(SupplierInvoiceLine.po_line_id).subquery("invoiced"))
    received_value = func.coalesce(received.c.value, ZERO) + func.coalesce(opening.c.value, ZERO)
    invoiced_value = func.coalesce(invoiced.c.value, ZERO)
    r_qty = (func.coalesce(received_quantity.c.quantity, ZERO)
             + case((opening.c.po_line_id.is_not(None), PurchaseOrderLine.opening_received_quantity), else_=ZERO))
    i_qty = func.coalesce(invoiced.c.quantity, ZERO)
    query = (
        select(PurchaseOrderLine.id, PurchaseOrder.number, PurchaseOrderLine.line_no, Supplier.code, Material.code,
               cast(r_qty, QUANTITY), cast(i_qty, QUANTITY), cast(received_value, MONEY), cast(invoiced_value, MONEY),
               func.coalesce(opening.c.first_date, received.c.first_date), invoiced.c.first_date, Supplier.name_zh, Supplier.name_en, Material.name_zh,
               Material.name_en, UnitOfMeasure.code)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Material, Material.id == PurchaseOrderLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .outerjoin(received, received.c.po_line_id == PurchaseOrderLine.id)
        .outerjoin(received_quantity, received_quantity.c.po_line_id == PurchaseOrderLine.id)
        .outerjoin(invoiced, invoiced.c.po_line_id == PurchaseOrderLine.id)
        .outerjoin(opening, opening.c.po_line_id == PurchaseOrderLine.id)
        .where(PurchaseOrder.receiving_company_id == company_id,
               (received_value != invoiced_value) | (r_qty != i_qty))
        .order_by(PurchaseOrder.number, PurchaseOrderLine.line_no)
    )
    lines = []
    for (line_id, number, line_no, supplier, material, r_q, i_q, r_v, i_v, first_receipt,
         first_invoice, supplier_zh, supplier_en, material_zh, material_en, unit) in session.execute(query).all():
        r_q, i_q, r_v, i_v = Decimal(r_q), Decimal(i_q), Decimal(r_v), Decimal(i_v)
        since = first_receipt if r_q > i_q else first_invoice if i_q > r_q else None
        lines.append(GrirLine(line_id, number, line_no, supplier, material, r_q, i_q, r_v, i_v, r_v - i_v,
                              max(r_q - i_q, ZERO), max(i_q - r_q, ZERO),
                              (as_of - since).days if since is not None else None,
                              supplier_zh, supplier_en, material_zh, material_en, unit))
    return lines


@dataclass(frozen=True)
class GrirCheck:
    """The month-end check: the report's total against the account's balance."""

    company_id: int
    as_of: dt.date
    report_total: Decimal  # credit balance the report explains
    account_balance: Decimal  # 2202.01's credit balance in the books
    difference: Decimal
    lines: int
    account: str = accounts.GOODS_RECEIVED_NOT_INVOICED
    account_name_zh: str = ""
    account_name_en: str = ""

    @property
    def agrees(self) -> bool:
        return self.difference == 0


def grir_check(session: Session, actor: Actor, company_id: int, as_of: dt.date) -> GrirCheck:
    """Whether 2202.01's balance in the company's books on ``as_of`` equals the sum of the
    GR/IR report (every amount on the account belongs to an order line)."""
    lines = grir_lines(session, actor, company_id, as_of)
    report_total = sum((line.balance for line in lines), ZERO)
    balance = -Decimal(session.scalar(
        select(func.coalesce(func.sum(JournalLine.amount), ZERO))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.company_id == company_id, JournalLine.account_code == accounts.GOODS_RECEIVED_NOT_INVOICED,
               JournalEntry.entry_date <= as_of)) or 0)
    from erp.costing.models import Account

    account = session.get(Account, accounts.GOODS_RECEIVED_NOT_INVOICED)
    return GrirCheck(company_id, as_of, report_total, balance, balance - report_total, len(lines),
                     accounts.GOODS_RECEIVED_NOT_INVOICED, account.name_zh if account else "",
                     account.name_en if account else "")


# --- buyers: their orders' invoice status --------------------------------------------------

def order_invoice_status(session: Session, actor: Actor, order_id: int) -> list[dict[str, Any]]:
    """Per line of an order: ordered, received, invoiced, and the invoices (number, status)
    on it. For buyers of the order's companies, purchasing managers and accountants."""
    actor.require_role(*ORDER_READERS, action="reading orders' invoice status")
    order = session.get(PurchaseOrder, order_id)
    if order is None or not (actor.acts_for_company(order.receiving_company_id)
                             or (order.purchasing_company_id is not None
                                 and actor.acts_for_company(order.purchasing_company_id))
                             or (order.purchasing_company_id is None and actor.has_role(Role.GROUP_BUYER))):
        raise NotFound(Message("purchase order {key} not found", key=order_id))
    sign = case((SupplierInvoice.document_kind == DocumentKind.INVOICE, 1), else_=-1)
    rows = session.execute(
        select(PurchaseOrderLine.id, PurchaseOrderLine.line_no, PurchaseOrderLine.quantity,
               PurchaseOrderLine.received_quantity, SupplierInvoice.id, SupplierInvoice.number,
               SupplierInvoice.document_number, SupplierInvoice.document_kind, SupplierInvoice.blocked, SupplierInvoice.open_amount,
               SupplierInvoice.reversed_at.is_not(None), (sign * SupplierInvoiceLine.quantity).label("quantity"))
        .outerjoin(SupplierInvoiceLine, SupplierInvoiceLine.po_line_id == PurchaseOrderLine.id)
        .outerjoin(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
        .where(PurchaseOrderLine.order_id == order.id)
        .order_by(PurchaseOrderLine.line_no, SupplierInvoice.id)).all()
    lines: dict[int, dict[str, Any]] = {}
    for (line_id, line_no, ordered, received, invoice_id, number, document_number, kind, blocked, open_amount,
         reversed_, quantity) in rows:
        line = lines.setdefault(line_id, {"po_line_id": line_id, "line_no": line_no, "ordered": ordered,
                                          "received": received, "invoiced": ZERO, "invoices": []})
        if invoice_id is not None:
            if not reversed_:  # a reversed invoice invoiced nothing; it is listed, marked
                line["invoiced"] += quantity
            line["invoices"].append({"id": invoice_id, "document_number": document_number, "number": number,
                                     "document_kind": kind,
                                     "quantity": quantity, "blocked": blocked and not reversed_,
                                     "paid": open_amount == 0 and not reversed_, "reversed": reversed_})
    return list(lines.values())



@dataclass(frozen=True)
class InvoiceableLine:
    """An order line as the payables clerk matches an invoice to it."""

    po_line_id: int
    line_no: int
    material_code: str
    material_name_zh: str
    material_name_en: str
    unit_code: str
    ordered: Decimal
    received: Decimal
    invoiced: Decimal
    contract_price: Decimal
    default_tax_code_id: int | None

    @property
    def open_received(self) -> Decimal:
        return max(self.received - self.invoiced, ZERO)


@dataclass(frozen=True)
class InvoiceableOrder:
    order_id: int
    number: str
    company_id: int
    supplier_id: int
    supplier_code: str
    supplier_name_zh: str
    supplier_name_en: str
    lines: list[InvoiceableLine]


def order_for_invoicing(session: Session, actor: Actor, number: str) -> InvoiceableOrder:
    """An order of the caller's companies by its number, with what each line received and
    was invoiced, for entering its supplier's invoice (404 when not the caller's)."""
    from erp.masterdata.models import UnitOfMeasure

    require_reader(actor)
    order = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number.strip())).one_or_none()
    if order is None or not actor.acts_for_company(order.receiving_company_id):
        raise NotFound(Message("purchase order {key} not found", key=number))
    supplier = session.get(Supplier, order.supplier_id)
    assert supplier is not None
    sign = case((SupplierInvoice.document_kind == DocumentKind.INVOICE, 1), else_=-1)
    invoiced = (select(SupplierInvoiceLine.po_line_id, func.sum(sign * SupplierInvoiceLine.quantity).label("quantity"))
                .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
                .where(SupplierInvoice.reversed_at.is_(None))
                .group_by(SupplierInvoiceLine.po_line_id).subquery())
    rows = session.execute(
        select(PurchaseOrderLine.id, PurchaseOrderLine.line_no, Material.code, Material.name_zh, Material.name_en,
               UnitOfMeasure.code, PurchaseOrderLine.quantity, PurchaseOrderLine.received_quantity,
               func.coalesce(invoiced.c.quantity, ZERO), PurchaseOrderLine.unit_price,
               func.coalesce(supplier.default_tax_code_id, Material.default_tax_code_id))
        .join(Material, Material.id == PurchaseOrderLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .outerjoin(invoiced, invoiced.c.po_line_id == PurchaseOrderLine.id)
        .where(PurchaseOrderLine.order_id == order.id).order_by(PurchaseOrderLine.line_no)).all()
    return InvoiceableOrder(order.id, order.number, order.receiving_company_id, supplier.id, supplier.code,
                            supplier.name_zh, supplier.name_en,
                            [InvoiceableLine(*row[:8], Decimal(row[8]), *row[9:]) for row in rows])


# --- a document's journal entry, and credit memos from the invoice they correct ------------

@dataclass(frozen=True)
class JournalRow:
    """One line of a payables document's journal entry, as the accountant reads it."""

    account_code: str
    account_name_zh: str
    account_name_en: str
    material_code: str | None
    debit: Decimal | None
    credit: Decimal | None
    material_name_zh: str | None = None
    material_name_en: str | None = None

    @property
    def amount(self) -> Decimal:
        """Debit positive, credit negative (as ``confirm_posting`` reads a journal's lines)."""
        return (self.debit or ZERO) - (self.credit or ZERO)


def entry_lines(session: Session, entry_id: int | None) -> list[JournalRow]:
    """The lines of journal entry ``entry_id`` (debits first, then by account), each with its
    account's name; [] for none (a document whose amounts all round to 0.00 posted none).
    The caller has read the document the entry belongs to (its company is the caller's)."""
    from erp.costing.models import Account

    if entry_id is None:
        return []
    rows = session.execute(
        select(JournalLine.account_code, Account.name_zh, Account.name_en, Material.code, JournalLine.amount,
               Material.name_zh, Material.name_en)
        .join(Account, Account.code == JournalLine.account_code)
        .outerjoin(Material, Material.id == JournalLine.material_id)
        .where(JournalLine.entry_id == entry_id)
        .order_by((JournalLine.amount < 0), JournalLine.account_code, JournalLine.id)).all()
    return [JournalRow(code, zh, en, material, Decimal(amount) if amount > 0 else None,
                       -Decimal(amount) if amount < 0 else None, material_zh, material_en)
            for code, zh, en, material, amount, material_zh, material_en in rows]


def credit_memos_of(session: Session, invoice_id: int) -> list[SupplierInvoice]:
    """The credit memos that reduce the invoice (``credits_invoice_id``), reversed ones too, oldest first."""
    return list(session.scalars(select(SupplierInvoice).where(
        SupplierInvoice.credits_invoice_id == invoice_id,
        SupplierInvoice.document_kind == DocumentKind.CREDIT_MEMO).order_by(SupplierInvoice.id)))


@dataclass(frozen=True)
class CreditableLine:
    """A line of an invoice as the accountant credits it: what the invoice invoiced at what
    price and tax, and what credit memos reducing the invoice already credited on its order line."""

    line_no: int
    po_line_id: int
    material_code: str
    material_name_zh: str
    material_name_en: str
    unit_code: str
    quantity: Decimal
    unit_price: Decimal
    tax_code_id: int
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    credited: Decimal
    credit_price: Decimal  # what a memo credits a unit at: the invoice's price, less its price reductions


def creditable_lines(session: Session, actor: Actor, invoice_id: int) -> list[CreditableLine]:
    """The invoice's lines for a credit memo against it (404 outside the caller's companies),
    in line order, with the quantity the standing credit memos that reduce it credited on
    each order line."""
    from erp.masterdata.models import UnitOfMeasure

    invoice = get_invoice(session, actor, invoice_id)
    memo = aliased(SupplierInvoice)
    credited: dict[int, Decimal] = dict(session.execute(  # type: ignore[arg-type]
        select(SupplierInvoiceLine.po_line_id, func.sum(SupplierInvoiceLine.quantity))
        .join(memo, memo.id == SupplierInvoiceLine.invoice_id)
        .where(memo.credits_invoice_id == invoice.id, memo.document_kind == DocumentKind.CREDIT_MEMO,
               memo.reversed_at.is_(None))
        .group_by(SupplierInvoiceLine.po_line_id)).all())
    rows = session.execute(
        select(SupplierInvoiceLine, Material.code, Material.name_zh, Material.name_en, UnitOfMeasure.code)
        .join(Material, Material.id == SupplierInvoiceLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(SupplierInvoiceLine.invoice_id == invoice.id).order_by(SupplierInvoiceLine.line_no)).all()
    from erp.payables.services import credit_prices

    reduced = credit_prices(session, invoice)
    return [CreditableLine(line.line_no, line.po_line_id, code, zh, en, unit, line.quantity, line.unit_price,
                           line.tax_code_id, line.tax_rate, line.net_amount, line.tax_amount,
                           Decimal(credited.get(line.po_line_id) or ZERO),
                           reduced.get(line.po_line_id, line.unit_price))
            for line, code, zh, en, unit in rows]
