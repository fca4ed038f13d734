"""Procure to pay: supplier invoices matched three ways, credit memos, payment blocks and
their release, supplier payments.

Rules (docs/payables.md):

- **Totals.** The header totals are entered as printed on the invoice. Each line's amounts
  are computed (``erp.masterdata.tax.line_amounts``: per line, half-up to the cent); the
  printed net and tax must each agree with the lines' sums within 0.01 per line, and the
  printed total must be net + tax, or the invoice is refused with the differences
  (``invoice-totals-disagree``). What is posted is what was printed.
- **Three-way match** per line, against the order line (its contract price) and what was
  received on it (goods receipts less reversals and returns). Quantity: at most what was
  received and not yet invoiced, plus the company's quantity tolerance. Price: the invoice
  price within the company's tolerance of the contract price, in percent AND in CNY for the
  line. Outside either, the invoice still posts (the liability is real) but is **blocked
  for payment** with the reasons; a purchasing manager or an accountant (not the person
  who entered it) releases it with a reason, recorded in the audit trail. Never more may be
  invoiced on a line than could ever be received on it (the order quantity plus the
  material's over-receipt tolerance): that is refused (``over-invoiced``).
- **Posting.** Dr 2202.01 GR/IR at the invoiced quantity x the contract price (what the
  receipt credited), Dr 2221.01.01 input VAT (special VAT invoices; an ordinary invoice's
  VAT is not deductible and becomes part of the price difference), the price difference
  to 1404 material cost variance while the goods are held (or not yet received) or were
  consumed in the open period, and to the accounts that consumed them when that was in a
  closed period (see ``price_difference_lines``), Cr 2202 accounts payable at the printed
  total. An invoice before the receipt debits GR/IR ahead; the receipt's credit clears
  it. What goes to 1404 is also written into the stock ledger as value-only rows
  (``post_variance_carried``), so that the period's close spreads it by the variance rate.
- **Credit memos** (returns, price reductions) post the mirror image and may name the
  return-to-supplier document they credit and the invoice they reduce.
- **Concurrency.** Every order line on an invoice is locked (``FOR NO KEY UPDATE``, the lock
  receipts take) in id order before its invoiced quantity is read: two clerks invoicing the
  same received quantity queue, and the second sees the first's quantity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.db import utcnow
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Company, Material, Supplier, TaxCode
from erp.masterdata.services import documents_found, partner_use_check
from erp.masterdata.tax import line_amounts, tax_code_for
from erp.clock import refuse_after_business_day, refuse_before_source
from erp.messages import N_, Amount, Message, Named, Term, plain_value
from erp.narration import REASON_LENGTH, narrate
from erp.money import CENT, round_money
from erp.payables.errors import (
    CreditMemoUnlikeInvoice,
    DatedBeforeReopening,
    DuplicateInvoice,
    InvoiceBlocked,
    InvoiceNotBlocked,
    InvoiceReversed,
    InvoiceSettled,
    InvoiceTotalsDisagree,
    OrderLineNotOfInvoice,
    OverCredited,
    OverInvoiced,
    PaymentExceedsOpenItems,
    PaymentReversed,
    ReleaseByEnterer,
)
from erp.payables.models import (
    DocumentKind,
    InvoiceKind,
    PayablesTolerance,
    PaymentAllocation,
    SupplierInvoice,
    SupplierInvoiceLine,
    SupplierPayment,
)
from erp.posting import Document, Line, Movement, Posting, lock_open_period, negated_lines, post
from erp.posting.models import (
    CloseClass,
    JournalEntry,
    MovementType,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
)
from erp.posting.periods import latest_closed_period
from erp.posting.stock import find_or_create_batch
from erp.purchasing import receiving
from erp.purchasing.models import PurchaseOrderLine, PurchaseOrderStatus
from erp.purchasing.services import take_yearly_number

HUNDRED = Decimal(100)
ZERO = Decimal(0)
# Without a company row of its own: no quantity beyond what was received, 5 % or 500.00 CNY
# of price difference per line (both must hold), payment 30 days after the invoice date.
DEFAULT_QUANTITY_PCT = Decimal("0")
DEFAULT_PRICE_PCT = Decimal("5")
DEFAULT_PRICE_AMOUNT = Decimal("500.00")
DEFAULT_PAYMENT_DAYS = 30

ENTERERS = (Role.ACCOUNTS_PAYABLE,)
RELEASERS = (Role.PURCHASING_MANAGER, Role.COST_ACCOUNTANT, Role.ACCOUNTS_PAYABLE)
TOLERANCE_SETTERS = (Role.COST_ACCOUNTANT, Role.ADMIN)
INVOICEABLE = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED,
               PurchaseOrderStatus.CLOSED)
SOURCE_INVOICE = "supplier_invoice"
SOURCE_PAYMENT = "supplier_payment"
# The journal entry that reverses an invoice or credit memo (its source_id: the invoice's id).
SOURCE_REVERSAL = "supplier_invoice_reversal"
# The journal entry that reverses a supplier payment (its source_id: the payment's id).
SOURCE_PAYMENT_REVERSAL = "supplier_payment_reversal"
# The correction of a price difference the rule before 1 December 2026 left on 5001.01, and its
# reversal (their source_id: the invoice's id; erp.payables.wip_price_differences).
SOURCE_WIP_CORRECTION = "invoice_wip_correction"
SOURCE_WIP_CORRECTION_REVERSAL = "invoice_wip_correction_reversal"
# Every journal entry source that is a supplier's document, by the table its source_id names:
# what a report needs to tell one supplier's balances apart on 2202 and 2202.01, which have
# no supplier column (supplier_entries; erp.consolidation eliminates the group suppliers').
INVOICE_SOURCES = (SOURCE_INVOICE, SOURCE_REVERSAL, SOURCE_WIP_CORRECTION, SOURCE_WIP_CORRECTION_REVERSAL)
PAYMENT_SOURCES = (SOURCE_PAYMENT, SOURCE_PAYMENT_REVERSAL)


def supplier_entries(suppliers: Any) -> Any:
    """The ids of the journal entries the payables module posted about documents of
    ``suppliers`` (a subquery of supplier ids): invoices and credit memos, their reversals and
    corrections, payments and their reversals (a subquery of ``journal_entries.id``). Receipts
    and returns are stock documents, which carry their supplier themselves."""
    invoices = (select(JournalEntry.id)
                .join(SupplierInvoice, and_(JournalEntry.source_type.in_(INVOICE_SOURCES),
                                            SupplierInvoice.id == JournalEntry.source_id))
                .where(SupplierInvoice.supplier_id.in_(suppliers)))
    payments = (select(JournalEntry.id)
                .join(SupplierPayment, and_(JournalEntry.source_type.in_(PAYMENT_SOURCES),
                                            SupplierPayment.id == JournalEntry.source_id))
                .where(SupplierPayment.supplier_id.in_(suppliers)))
    return invoices.union_all(payments)


# The accounts consumption is posted to (issues, shipments, scrap, count losses).
RECEIVED_DOCUMENTS = (MovementType.RECEIPT, MovementType.RECEIPT_REVERSAL, MovementType.RETURN_TO_SUPPLIER)


# --- tolerances ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Tolerances:
    quantity_pct: Decimal
    price_pct: Decimal
    price_amount: Decimal


def tolerances_for(session: Session, company_id: int) -> Tolerances:
    """The company's match tolerances (the defaults above when it has set none)."""
    row = session.get(PayablesTolerance, company_id)
    if row is None:
        return Tolerances(DEFAULT_QUANTITY_PCT, DEFAULT_PRICE_PCT, DEFAULT_PRICE_AMOUNT)
    return Tolerances(row.quantity_pct, row.price_pct, row.price_amount)


def set_tolerances(session: Session, actor: Actor, company_id: int, *, quantity_pct: Decimal, price_pct: Decimal,
                   price_amount: Decimal, reason: str | None = None) -> Tolerances:
    """Set a company's match tolerances (cost accountants, admins); audited (entity
    ``payables_tolerance``, keyed by the company)."""
    actor.require_role(*TOLERANCE_SETTERS, action="setting invoice match tolerances")
    actor.require_company(company_id)
    row = session.get(PayablesTolerance, company_id, with_for_update=True, populate_existing=True)
    before = audit.snapshot(row, exclude=("updated_by",)) if row else None
    if row is None:
        row = PayablesTolerance(company_id=company_id, quantity_pct=quantity_pct, price_pct=price_pct,
                                price_amount=price_amount, updated_by=actor.user_id)
        session.add(row)
    else:
        row.quantity_pct, row.price_pct, row.price_amount = quantity_pct, price_pct, price_amount
        row.updated_by = actor.user_id
    session.flush()
    audit.record_change(session, actor, entity="payables_tolerance", entity_id=company_id,
                        action=audit.CHANGE if before else audit.CREATE, before=before,
                        after=audit.snapshot(row, exclude=("updated_by",)), reason=reason, company_id=company_id)
    return tolerances_for(session, company_id)


# --- entering invoices and credit memos ---------------------------------------------------

@dataclass(frozen=True)
class LineRequest:
    po_line_id: int
    quantity: Decimal
    unit_price: Decimal  # excluding tax
    tax_code_id: int | None = None
    return_document_id: int | None = None  # credit memos: the return it credits


@dataclass(frozen=True)
class InvoiceRequest:
    company_id: int
    supplier_id: int
    number: str
    invoice_date: dt.date
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    lines: Sequence[LineRequest]
    invoice_kind: InvoiceKind = InvoiceKind.SPECIAL
    posting_date: dt.date | None = None
    due_date: dt.date | None = None
    credits_invoice_id: int | None = None  # credit memos: the invoice it reduces


@dataclass
class _Matched:
    request: LineRequest
    index: int
    material_id: int
    contract_price: Decimal
    tax_code_id: int
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    grir: Decimal
    open_received: Decimal
    reasons: list[Message] = field(default_factory=list)
    quantity_blocked: bool = False
    price_blocked: bool = False


def _pointer(index: int, name: str) -> str:
    return f"/lines/{index}/{name}"


def invoiced_quantities(session: Session, po_line_ids: Sequence[int]) -> dict[int, Decimal]:
    """Net invoiced quantity per order line: invoices less credit memos, reversed ones left out."""
    signed = case((SupplierInvoice.document_kind == DocumentKind.INVOICE, SupplierInvoiceLine.quantity),
                  else_=-SupplierInvoiceLine.quantity)
    rows = session.execute(
        select(SupplierInvoiceLine.po_line_id, func.sum(signed))
        .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
        .where(SupplierInvoiceLine.po_line_id.in_(sorted(set(po_line_ids))), SupplierInvoice.reversed_at.is_(None))
        .group_by(SupplierInvoiceLine.po_line_id)
    ).all()
    return {line_id: Decimal(total or 0) for line_id, total in rows}


def _credited_for_return(session: Session, return_document_id: int) -> Decimal:
    return Decimal(session.scalar(
        select(func.coalesce(func.sum(SupplierInvoiceLine.quantity), 0))
        .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
        .where(SupplierInvoiceLine.return_document_id == return_document_id, SupplierInvoice.reversed_at.is_(None))
    ) or 0)


def _check_totals(request: InvoiceRequest, matched: list[_Matched]) -> None:
    check_printed_totals(request.net_total, request.tax_total, request.gross_total, [m.net for m in matched],
                         [m.tax for m in matched])


def check_printed_totals(net_total: Decimal, tax_total: Decimal, gross_total: Decimal, nets: Sequence[Decimal],
                         taxes: Sequence[Decimal]) -> None:
    """The totals as printed agree with the lines' amounts (``nets``, ``taxes``): net and tax
    each within 0.01 per line, the total including tax net + tax; otherwise 422
    ``invoice-totals-disagree`` pointing at the total that disagrees."""
    request = _Printed(net_total, tax_total, gross_total)
    lines_net = sum(nets, ZERO)
    lines_tax = sum(taxes, ZERO)
    allowed = CENT * len(nets)
    errors = []
    if abs(request.net_total - lines_net) > allowed:
        errors.append({"pointer": "/net_total", "detail": Message(
            "the lines add up to {lines} excluding tax; the invoice says {printed} (difference {difference})",
            lines=Amount(lines_net), printed=Amount(request.net_total),
            difference=Amount(request.net_total - lines_net))})
    if abs(request.tax_total - lines_tax) > allowed:
        errors.append({"pointer": "/tax_total", "detail": Message(
            "the lines' tax adds up to {lines}; the invoice says {printed} (difference {difference})",
            lines=Amount(lines_tax), printed=Amount(request.tax_total),
            difference=Amount(request.tax_total - lines_tax))})
    if request.gross_total != request.net_total + request.tax_total:
        errors.append({"pointer": "/gross_total", "detail": Message(
            "the total including tax must be {net} + {tax} = {total}", net=Amount(request.net_total),
            tax=Amount(request.tax_total), total=Amount(request.net_total + request.tax_total))})
    if errors:
        raise InvoiceTotalsDisagree(
            Message("the invoice's totals disagree with its lines (at most {allowed} allowed): {first}",
                    allowed=Amount(allowed), first=errors[0]["detail"]),
            errors=errors, lines_net_total=str(lines_net), lines_tax_total=str(lines_tax),
            net_difference=str(request.net_total - lines_net), tax_difference=str(request.tax_total - lines_tax))


@dataclass(frozen=True)
class _Printed:
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal


def _match_line(session: Session, request: InvoiceRequest, kind: DocumentKind, index: int, line_request: LineRequest,
                line: receiving.ReceivableLine, invoiced: dict[int, Decimal], tolerances: Tolerances,
                tax_day: dt.date) -> _Matched:
    """Check the (locked) order line belongs to the invoice, compute its amounts and match it;
    its tax code must be in force on ``tax_day`` (the tax point, ``_as_credited_invoice``)."""
    if line.receiving_company_id != request.company_id or line.supplier_id != request.supplier_id:
        raise OrderLineNotOfInvoice(
            Message("order line {line} of order {order} is not an order of this supplier for this company",
                    line=line.line_id, order=line.order_number),
            errors=[{"pointer": _pointer(index, "po_line_id"), "detail": Message("not this supplier's or company's")}])
    if line.order_status not in INVOICEABLE:
        raise OrderLineNotOfInvoice(
            Message("order {order} is {status}; only placed orders are invoiced", order=line.order_number,
                    status=line.order_status),
            errors=[{"pointer": _pointer(index, "po_line_id"), "detail": Message("order not placed")}])
    material = session.get(Material, line.material_id)
    assert material is not None
    quantity = line_request.quantity
    if not material.unit.admits(quantity):
        raise ValidationFailed.for_field(_pointer(index, "quantity")[1:], Message(
            "{quantity} has more decimal places than unit {unit} allows", quantity=quantity, unit=material.unit.code))
    rate = tax_code_for(session, day=tax_day, material_id=material.id, supplier_id=request.supplier_id,
                        tax_code_id=line_request.tax_code_id, field=_pointer(index, "tax_code_id")[1:])
    amounts = line_amounts(quantity, line_request.unit_price, rate.rate)
    already = invoiced.get(line.line_id, ZERO)
    open_received = line.received_quantity - already
    matched = _Matched(line_request, index, material.id, line.unit_price, rate.tax_code_id, rate.rate, amounts.net,
                       amounts.tax, round_money(quantity * line.unit_price), open_received)
    if kind == DocumentKind.CREDIT_MEMO:
        _check_credit(session, line, line_request, index, already)
        invoiced[line.line_id] = already - quantity
        return matched

    ceiling = line.quantity * (1 + material.over_receipt_tolerance_pct / HUNDRED)
    if already + quantity > ceiling:
        message = Message("order line {line} of {order}: ordered {ordered}, already invoiced {invoiced}; invoicing "
                          "{quantity} more is more than can ever be received ({ceiling})", line=line.line_id,
                          order=line.order_number, ordered=line.quantity, invoiced=already, quantity=quantity,
                          ceiling=ceiling)
        raise OverInvoiced(message, errors=[{"pointer": _pointer(index, "quantity"), "detail": message}])
    invoiced[line.line_id] = already + quantity
    allowed = max(open_received, ZERO) * (1 + tolerances.quantity_pct / HUNDRED)
    if quantity > allowed:
        matched.quantity_blocked = True
        matched.reasons.append(Message(
            "line {no}: invoiced {quantity} but received and not yet invoiced {open} (tolerance {tolerance}%)",
            no=index + 1, quantity=quantity, open=max(open_received, ZERO), tolerance=tolerances.quantity_pct))
    difference = amounts.net - matched.grir
    percent = (abs(line_request.unit_price - line.unit_price) / line.unit_price * HUNDRED) if line.unit_price else ZERO
    if percent > tolerances.price_pct or abs(difference) > tolerances.price_amount:
        matched.price_blocked = True
        matched.reasons.append(Message(
            "line {no}: price {price} differs from the contract price {contract} by {percent}% ({difference} CNY); "
            "tolerance {tolerance_pct}% and {tolerance_amount} CNY", no=index + 1, price=line_request.unit_price,
            contract=line.unit_price, percent=percent.quantize(CENT), difference=difference,
            tolerance_pct=tolerances.price_pct, tolerance_amount=tolerances.price_amount))
    return matched


def _check_credit(session: Session, line: receiving.ReceivableLine, request: LineRequest, index: int,
                  invoiced: Decimal) -> None:
    """A credit memo credits at most what was invoiced on the line, and at most what a named
    return sent back (less what earlier credit memos credited for it)."""
    if request.quantity > invoiced:
        message = Message("order line {line} of {order}: only {invoiced} invoiced, cannot credit {quantity}",
                          line=line.line_id, order=line.order_number, invoiced=invoiced, quantity=request.quantity)
        raise OverCredited(message, errors=[{"pointer": _pointer(index, "quantity"), "detail": message}])
    if request.return_document_id is None:
        return
    document = session.get(StockDocument, request.return_document_id)
    if (document is None or document.doc_type != MovementType.RETURN_TO_SUPPLIER
            or document.po_line_id != line.line_id):
        raise ValidationFailed.for_field(_pointer(index, "return_document_id")[1:], Message(
            "not a return to supplier of order line {line}", line=line.line_id))
    returned = -Decimal(session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                       .where(StockMovement.document_id == document.id)) or 0)
    credited = _credited_for_return(session, document.id)
    if credited + request.quantity > returned:
        message = Message("return {document} sent back {returned}, {credited} of it already credited; cannot credit "
                          "{quantity} more", document=document.number, returned=returned, credited=credited,
                          quantity=request.quantity)
        raise OverCredited(message, errors=[{"pointer": _pointer(index, "quantity"), "detail": message}])


# Where the price difference of goods consumed in closed periods goes, by the account that
# consumed them, when not that account itself (price_difference_lines' docstring says why).
_CLOSED_CONSUMPTION_TO = {accounts.WORK_IN_PROCESS: accounts.INPUT_PRICE_VARIANCE}


def price_difference_lines(session: Session, company_id: int, material_id: int, quantity: Decimal,
                           difference: Decimal, not_received: Decimal = ZERO) -> list[Line]:
    """Where an invoice's price difference on ``quantity`` of a material goes (signed, CNY).

    The planned-cost method (材料成本差异) keeps every difference between the actual and
    the standard cost on 1404 and spreads it at month end over what was consumed and what
    remains. So the difference goes to 1404 (with the material, taking part in the month's
    variance rate) for the part of the quantity still held or consumed in the still open
    period. Only the part consumed in periods already closed, whose variance can no longer
    be spread, goes to the accounts that consumed it (production, production orders' work in
    process (booked as input price variance, below), overhead, cost of goods sold, scrap,
    count losses: the offset accounts of its consumption movements), in proportion to what
    each consumed of the material in closed periods:
    held = the company's stock of the material, plus ``not_received``, the part of
    ``quantity`` invoiced ahead of its goods (on their way, not consumed by anyone: its
    difference waits on 1404 for the goods); open-period consumption = what was consumed
    after the latest closed period; consumed in closed periods = quantity - held - that,
    when positive. Worked examples in docs/payables.md.

    Production orders' share (5001.01) goes to 6405.02 input price variance instead, on the
    material: 5001.01 holds each order's work in process, which only the order's own
    postings and the closes' allocations to its issues put there, and which the order's
    settlement clears from exactly those (erp/production/variances.py). A difference put there
    without an order was settled by no close and stayed on 5001.01 for good. Like the
    planned-cost method's correction of a closed month (posted in the open one), it is a
    variance of the period the invoice is booked in: the input price variance the orders
    would have borne had the invoice come before their period closed (the close's share on
    their issues is explained as exactly that when they are settled), whether the orders are
    settled by then or still running (their settlement does not see it: it is not in their
    per-order split). Credit memos and reversals mirror it (tests:
    tests/service/test_invoice_price_difference_on_production.py).
    """
    if difference == 0:
        return []
    in_stock = Decimal(session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
        StockBalance.company_id == company_id, StockBalance.material_id == material_id)) or 0)
    held = in_stock + not_received
    closed = latest_closed_period(session, company_id)
    consumption = (select(StockMovement.offset_account, func.sum(-StockMovement.quantity))
                   .where(StockMovement.company_id == company_id, StockMovement.material_id == material_id,
                          StockMovement.close_class == CloseClass.CONSUMPTION)
                   .group_by(StockMovement.offset_account))
    consumed_open = ZERO
    by_account: dict[str, Decimal] = {}
    if closed is not None:
        consumed_open = sum((Decimal(q or 0) for _, q in session.execute(
            consumption.where(StockMovement.period > closed)).all()), ZERO)
        by_account = {account: Decimal(q) for account, q in session.execute(
            consumption.where(StockMovement.period <= closed)).all() if account and q and q > 0}
    consumed_closed = min(max(quantity - held - consumed_open, ZERO), quantity)
    if consumed_closed == 0 or not by_account:
        return [Line(accounts.MATERIAL_COST_VARIANCE, difference, material_id)]
    to_consumption = round_money(difference * consumed_closed / quantity)
    total = sum(by_account.values(), ZERO)
    lines: list[Line] = []
    given = ZERO
    ordered = sorted(by_account.items())
    for number, (account, consumed) in enumerate(ordered):
        share = to_consumption - given if number == len(ordered) - 1 else round_money(to_consumption * consumed / total)
        given += share
        lines.append(Line(_CLOSED_CONSUMPTION_TO.get(account, account), share, material_id))
    lines.append(Line(accounts.MATERIAL_COST_VARIANCE, difference - to_consumption, material_id))
    return [line for line in lines if line.amount != 0]


def _not_received(matched: _Matched, kind: DocumentKind) -> Decimal:
    """The part of an invoice line's quantity that counts as not received, so held, for its
    price difference (docs/payables.md).

    An invoice: the part invoiced before its goods were received on the order line, beyond
    what was received and not yet invoiced. A credit memo, symmetrically: the part of what
    it credits that was invoiced and never received (invoiced before the credit less
    received, goods returned to the supplier included, which are received no more), taken
    first; its difference waits on 1404 like the invoice's did, and comes off 1404, never
    off the accounts that consumed other goods in closed periods."""
    if kind == DocumentKind.CREDIT_MEMO:
        return min(matched.request.quantity, max(-matched.open_received, ZERO))
    return max(matched.request.quantity - max(matched.open_received, ZERO), ZERO)


def material_cost_variance_of(lines: Sequence[Line]) -> Decimal:
    """What of a line's price difference goes to 1404 material cost variance (signed as on an invoice)."""
    return sum((line.amount for line in lines if line.account == accounts.MATERIAL_COST_VARIANCE), ZERO)


def receipt_place(session: Session, company_id: int, po_line_id: int, material_id: int,
                  supplier_id: int) -> tuple[int, int, StockStatus]:
    """Where a price difference's ledger row goes: the warehouse, batch and status of the
    latest receipt on the order line it matches; with none (an invoice before its receipt),
    the order line's warehouse, the material's no-batch batch, unrestricted. Never another
    receipt's or production's batch: the row would name the supplier on a batch it never
    supplied."""
    m, d = StockMovement, StockDocument
    row = session.execute(
        select(m.warehouse_id, m.batch_id, m.status).join(d, d.id == m.document_id)
        .where(m.company_id == company_id, m.material_id == material_id, d.po_line_id == po_line_id,
               d.doc_type == MovementType.RECEIPT)
        .order_by(m.id.desc()).limit(1)).first()
    if row is not None:
        return row.warehouse_id, row.batch_id, row.status
    warehouse_id = session.scalar(select(PurchaseOrderLine.warehouse_id).where(PurchaseOrderLine.id == po_line_id))
    assert warehouse_id is not None  # the line was locked and matched
    batch_id, _, _ = find_or_create_batch(session, material_id=material_id, batch_number=None,
                                          manufacture_date=None, expiry_date=None, supplier_id=supplier_id)
    return warehouse_id, batch_id, StockStatus.UNRESTRICTED


def post_variance_carried(session: Session, actor: Actor, invoice: SupplierInvoice, supplier: Supplier,
                          posting_date: dt.date, carried: Sequence[tuple[int, int, Decimal]]) -> None:
    """Put the part of an invoice's price differences booked to 1404 into the stock ledger:
    one value-only row per order line (quantity 0, value 0, the amount on ``variance``, close
    class receipt), in a stock document of type ``price_difference`` that writes no journal
    (the invoice's entry already holds the 1404 line). The period's totals then carry it as
    variance of the period's receipts, so the close spreads it by the period's rate, and
    ``stock check --repair`` rebuilds it from the ledger like any other row (docs/payables.md)."""
    movements: list[Movement] = []
    sign = invoice.sign
    by_line: dict[tuple[int, int], Decimal] = {}
    for po_line_id, material_id, amount in carried:  # per order line and material, signed as on an invoice
        key = (po_line_id, material_id)
        by_line[key] = by_line.get(key, ZERO) + amount
    for (po_line_id, material_id), amount in sorted(by_line.items()):
        if amount == 0:
            continue
        place = receipt_place(session, invoice.company_id, po_line_id, material_id, supplier.id)
        warehouse_id, batch_id, status = place
        movements.append(Movement(MovementType.PRICE_DIFFERENCE, CloseClass.RECEIPT, warehouse_id, material_id,
                                  batch_id, status, ZERO, ZERO, sign * amount))
    if not movements:
        return
    what = f"supplier-{invoice.document_kind.value.replace('_', '-')}-price-difference-document"
    post(session, Posting(
        company_id=invoice.company_id, posting_date=posting_date, user_id=actor.user_id,
        document=Document(MovementType.PRICE_DIFFERENCE, supplier_id=supplier.id, reference=invoice.number[:64],
                          supplier_invoice_id=invoice.id,
                          reason=narrate(what, REASON_LENGTH, document=invoice.document_number,
                                         supplier=Named.of(supplier), number=invoice.number)),
        movements=movements, memo=narrate(what, document=invoice.document_number, supplier=Named.of(supplier),
                                          number=invoice.number),
    ))


def _refuse_before_what_freed_it(session: Session, kind: DocumentKind, day: dt.date,
                                 matched: Sequence[_Matched], locked: dict[int, receiving.OrderLineForReceipt]) -> None:
    """An invoice (credit memo) dated ``day`` must fit on its order lines as they stood on that
    day, not only today: counting the documents posted on or before ``day`` and not reversed
    by then, an invoice stays within what the line can ever receive, a credit memo within what
    was invoiced. What made room later (a same-kind document's reversal; for an invoice a
    credit memo, for a credit memo an invoice, posted later) was not there yet: refused 422
    ``dated-before-reopening`` (a reversal) or ``dated-before-source`` (a posting), naming the
    latest such document on the line (docs/payables.md, *Dated before the reversal that made
    it possible*)."""
    line_ids = sorted(locked)
    inv, doc = SupplierInvoiceLine, SupplierInvoice
    signed = case((doc.document_kind == DocumentKind.INVOICE, inv.quantity), else_=-inv.quantity)
    standing = dict(session.execute(
        select(inv.po_line_id, func.sum(signed)).join(doc, doc.id == inv.invoice_id)
        .where(inv.po_line_id.in_(line_ids), doc.posting_date <= day,
               (doc.reversal_date.is_(None)) | (doc.reversal_date > day))
        .group_by(inv.po_line_id)).all())
    requested: dict[int, Decimal] = {}
    for m in matched:
        requested[m.request.po_line_id] = requested.get(m.request.po_line_id, ZERO) + m.request.quantity
    other = DocumentKind.CREDIT_MEMO if kind == DocumentKind.INVOICE else DocumentKind.INVOICE
    for line_id, quantity in sorted(requested.items()):
        then = Decimal(standing.get(line_id) or 0)
        if kind == DocumentKind.INVOICE:
            material = session.get(Material, locked[line_id].material_id)
            assert material is not None
            fits = then + quantity <= locked[line_id].quantity * (1 + material.over_receipt_tolerance_pct / HUNDRED)
        else:
            fits = quantity <= then
        if fits:
            continue
        reversed_ = session.execute(
            select(doc.reversal_date, doc.document_number, doc.number).join(inv, inv.invoice_id == doc.id)
            .where(inv.po_line_id == line_id, doc.document_kind == kind, doc.reversal_date > day)
            .order_by(doc.reversal_date.desc(), doc.id.desc()).limit(1)).first()
        posted = session.execute(
            select(doc.posting_date, doc.document_number, doc.number).join(inv, inv.invoice_id == doc.id)
            .where(inv.po_line_id == line_id, doc.document_kind == other, doc.posting_date > day)
            .order_by(doc.posting_date.desc(), doc.id.desc()).limit(1)).first()
        what = N_("an invoice") if kind == DocumentKind.INVOICE else N_("a credit memo")
        if reversed_ is not None \
                and (posted is None or reversed_.reversal_date >= posted.posting_date):
            # the reversed document once, by our number with the supplier's beside; what it
            # held (not "settled or credited" an invoice: it is the order line's quantity)
            name = f"{reversed_.document_number} ({reversed_.number})"
            problem = Message(
                "{what} dated {day} is before {reopened}, the day {document} {name} was reversed: until that "
                "reversal, that {document} still took up the quantity of {material} on order {order} that this one "
                "needs", what=Term(what), day=day, reopened=reversed_.reversal_date,
                document=Term(N_("invoice") if kind == DocumentKind.INVOICE else N_("credit memo")),
                name=name,
                material=Named.of(session.get(Material, locked[line_id].material_id)),
                order=locked[line_id].order_number)
            raise DatedBeforeReopening(problem, errors=[{"pointer": "/posting_date", "detail": problem}],
                                       earliest_date=reversed_.reversal_date.isoformat())
        if posted is not None:
            refuse_before_source(day, posted.posting_date, field="posting_date", what=what,
                                 source=N_("credit memo") if other == DocumentKind.CREDIT_MEMO else N_("invoice"),
                                 source_name=f"{posted.document_number} ({posted.number})")


def _as_credited_invoice(session: Session, request: InvoiceRequest) -> tuple[InvoiceRequest, dt.date]:
    """A credit memo reducing an invoice (红字发票) reverses what that invoice posted: a line
    given without a tax code takes the code the invoice has on the same order line (not the
    supplier's default, which may have changed since, and which ``_like_credited_invoice``
    would refuse), and the codes are those in force on the invoice's date, its tax point
    (a memo after a rate change still takes back the old rate's VAT). An order line the
    invoice taxes at two codes keeps the usual default: the memo names one. The invoice's
    lines are read without a lock (they never change); the invoice itself is locked, and its
    supplier and company checked, afterwards in ``enter_invoice``. Gives the request and the
    tax point. Another company's or supplier's invoice is read as no invoice at all: its codes
    and date must not shape the answer before ``enter_invoice`` refuses it (404 for another
    company's, as for an unknown id), or the refusal would tell its clerk what it holds."""
    credited = session.get(SupplierInvoice, request.credits_invoice_id)
    if credited is None or credited.document_kind != DocumentKind.INVOICE \
            or credited.company_id != request.company_id or credited.supplier_id != request.supplier_id:
        return request, request.invoice_date
    codes: dict[int, set[int]] = {}
    for line in credited.lines:
        codes.setdefault(line.po_line_id, set()).add(line.tax_code_id)
    lines = [replace(line, tax_code_id=next(iter(codes[line.po_line_id])))
             if line.tax_code_id is None and len(codes.get(line.po_line_id, ())) == 1 else line
             for line in request.lines]
    return replace(request, lines=lines), credited.invoice_date


UNIT_PRICE_PLACES = Decimal("0.000001")  # erp.db UnitPrice: Numeric(18, 6)


def credit_prices(session: Session, invoice: SupplierInvoice) -> dict[int, Decimal]:
    """Per order line of ``invoice`` whose lines a standing price reduction reduced, the
    price a quantity credit memo reducing the invoice credits goods at: the invoiced net price
    after those subsequent credits, as SAP values a return after a subsequent credit, that is
    what the invoice still holds on the order line excluding tax (its lines' net, less the
    standing price reductions of them and the standing quantity credit memos reducing it
    there) over the quantity it still holds there (invoiced less credited), to the unit
    price's 6 places. 240 kg invoiced at 185.00, 2.00/kg off (480.00): 183.00; 40 kg
    credited at 185.00 first and then 400.00 off the 200 kg left: (44,400.00 - 7,400.00 -
    400.00) / 200 = 183.00 the same. Order lines without a standing reduction are not in
    the answer: their memos credit at the invoice's own unit price (``_like_credited_invoice``).
    An order line the invoice no longer holds any quantity of is not in it either (nothing is
    left to credit: ``over-credited``)."""
    memo_line, memo = aliased(SupplierInvoiceLine), aliased(SupplierInvoice)
    line_ids = [line.id for line in invoice.lines]
    reduced_by_line = dict(session.execute(
        select(memo_line.reduces_line_id, func.sum(memo_line.net_amount))
        .join(memo, memo.id == memo_line.invoice_id)
        .where(memo_line.reduces_line_id.in_(line_ids), memo.reversed_at.is_(None))
        .group_by(memo_line.reduces_line_id)).all())
    if not reduced_by_line:
        return {}
    credited = {po_line_id: (Decimal(quantity or 0), Decimal(net or 0)) for po_line_id, quantity, net in session.execute(
        select(memo_line.po_line_id, func.sum(memo_line.quantity), func.sum(memo_line.net_amount))
        .join(memo, memo.id == memo_line.invoice_id)
        .where(memo.credits_invoice_id == invoice.id, memo.reversed_at.is_(None),
               memo_line.reduces_line_id.is_(None))
        .group_by(memo_line.po_line_id)).all()}
    held: dict[int, tuple[Decimal, Decimal, Decimal]] = {}  # po line: quantity, net after reductions, reductions
    for line in invoice.lines:
        quantity, net, reduced = held.get(line.po_line_id, (ZERO, ZERO, ZERO))
        reduction = Decimal(reduced_by_line.get(line.id) or 0)
        held[line.po_line_id] = (quantity + line.quantity, net + line.net_amount - reduction, reduced + reduction)
    prices: dict[int, Decimal] = {}
    for po_line_id, (quantity, net, reduced) in held.items():
        credited_quantity, credited_net = credited.get(po_line_id, (ZERO, ZERO))
        if reduced == 0 or quantity - credited_quantity <= 0:
            continue
        prices[po_line_id] = ((net - credited_net) / (quantity - credited_quantity)).quantize(
            UNIT_PRICE_PLACES, ROUND_HALF_UP)
    return prices


_KIND_TERMS = {InvoiceKind.SPECIAL: N_("special VAT invoice"), InvoiceKind.ORDINARY: N_("ordinary invoice")}


def _like_credited_invoice(session: Session, request: InvoiceRequest, matched: Sequence[_Matched],
                           credited: SupplierInvoice) -> None:
    """A credit memo reducing ``credited`` is of its invoice kind, and each of its lines has the
    tax code ``credited`` has on the same order line: the memo reverses what the invoice
    posted. Otherwise 422 ``credit-memo-unlike-invoice`` naming the invoice, its kind and the
    code, pointing at ``/invoice_kind`` or ``/lines/{i}/tax_code_id``."""
    errors: list[dict[str, object]] = []
    if request.invoice_kind != credited.invoice_kind:
        errors.append({"pointer": "/invoice_kind", "detail": Message(
            "invoice {number} is of kind {kind}: a credit memo reducing it is of the same kind", number=credited.number,
            kind=Term(_KIND_TERMS[credited.invoice_kind]))})
    codes: dict[int, set[int]] = {}
    for line in credited.lines:
        codes.setdefault(line.po_line_id, set()).add(line.tax_code_id)
    names = dict(session.execute(select(TaxCode.id, TaxCode.code).where(
        TaxCode.id.in_({c for found in codes.values() for c in found} | {m.tax_code_id for m in matched}))).all())
    for m in matched:
        wanted = codes.get(m.request.po_line_id, set())
        if m.tax_code_id not in wanted:
            errors.append({"pointer": _pointer(m.index, "tax_code_id"), "detail": Message(
                "invoice {number} taxes order line {line} at {wanted}, not {code}", number=credited.number,
                line=m.request.po_line_id, wanted=", ".join(sorted(names.get(c, str(c)) for c in wanted)) or "-",
                code=names.get(m.tax_code_id, str(m.tax_code_id)))})
    # a credit memo credits quantities at the invoice's price: a memo line at another price (a
    # supplier's price reduction typed as quantity x reduction) would take the whole quantity
    # off GR/IR and the invoiced quantity for a small amount (TRIAL.md finding 18)
    # After a price reduction (a subsequent credit) the goods are worth the reduced price: a
    # memo crediting them (returned goods) at the invoice's price would credit the supplier's
    # reduction a second time on them; it credits at the invoiced net price after the
    # reductions (``credit_prices``)
    prices: dict[int, set[Decimal]] = {}
    for line in credited.lines:
        prices.setdefault(line.po_line_id, set()).add(line.unit_price)
    reduced = credit_prices(session, credited)
    priced: list[dict[str, object]] = []
    for m in matched:
        if m.request.po_line_id in reduced:
            if m.request.unit_price != reduced[m.request.po_line_id]:
                priced.append({"pointer": _pointer(m.index, "unit_price"), "detail": Message(
                    "invoice {number} and its price reductions leave order line {line} at {wanted}, not {price}",
                    number=credited.number, line=m.request.po_line_id,
                    wanted=price_text(reduced[m.request.po_line_id]), price=price_text(m.request.unit_price))})
            continue
        wanted_prices = prices.get(m.request.po_line_id, set())
        if wanted_prices and m.request.unit_price not in wanted_prices:
            priced.append({"pointer": _pointer(m.index, "unit_price"), "detail": Message(
                "invoice {number} prices order line {line} at {wanted}, not {price}", number=credited.number,
                line=m.request.po_line_id, wanted=", ".join(price_text(p) for p in sorted(wanted_prices)),
                price=price_text(m.request.unit_price))})
    if errors:
        raise CreditMemoUnlikeInvoice(Message(
            "a credit memo reducing invoice {number} ({kind}) takes its invoice kind and, line by line, its tax "
            "codes: {first}", number=credited.number, kind=Term(_KIND_TERMS[credited.invoice_kind]),
            first=errors[0]["detail"]), errors=errors + priced)
    if priced and reduced:
        raise CreditMemoUnlikeInvoice(Message(
            "a credit memo reducing invoice {number} credits quantities at the invoice's unit prices less its price "
            "reductions: {first}", number=credited.number, first=priced[0]["detail"]), errors=priced)
    if priced:
        raise CreditMemoUnlikeInvoice(Message(
            "a credit memo reducing invoice {number} credits quantities at the invoice's unit prices: {first}; a "
            "price reduction is not entered as a quantity credit memo", number=credited.number,
            first=priced[0]["detail"]), errors=priced)


def price_text(value: Decimal) -> str:
    """A unit price as typed: its real precision, at least two decimals (187.000000 -> 187.00)."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:.{places}f}"


DOCUMENT_PREFIXES = {DocumentKind.INVOICE: "AP", DocumentKind.CREDIT_MEMO: "CM"}


def document_number_for(session: Session, company_id: int, kind: DocumentKind, posting_date: dt.date) -> str:
    """``AP-CA-2026-000001`` (an invoice) or ``CM-CA-2026-000001`` (a credit memo): the next
    number of the company's series of the kind and the posting date's year, by the purchase
    orders' numbering (``erp.purchasing.orders.next_in_series``: one locked row per series,
    unique and without gaps, as a rolled-back posting gives its number back; concurrent
    postings of one company and kind wait for each other from here to their commit)."""
    company = session.get(Company, company_id)
    if company is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    return take_yearly_number(session, DOCUMENT_PREFIXES[kind], company.code, posting_date)


PAYMENT_PREFIX = "PV"


def payment_number_for(session: Session, company_id: int, payment_date: dt.date) -> str:
    """``PV-CA-2026-000001``: the next number of the company's supplier payments' series of
    the payment date's year, as ``document_number_for`` numbers invoices (one locked row per
    series: unique and gap-free; concurrent payments of one company wait for each other from
    here to their commit). Migration 0047 numbered the payments before it the same way."""
    company = session.get(Company, company_id)
    if company is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    return take_yearly_number(session, PAYMENT_PREFIX, company.code, payment_date)


def refuse_entered_twice(session: Session, supplier: Supplier, kind: DocumentKind, number: str) -> None:
    """409 ``duplicate-invoice``: the supplier's invoice (or credit memo, by ``kind``) with this
    printed number is entered already; pointer at the number."""
    if session.scalar(select(SupplierInvoice.id).where(
            SupplierInvoice.supplier_id == supplier.id, SupplierInvoice.document_kind == kind,
            SupplierInvoice.number == number)) is not None:
        raise DuplicateInvoice(Message("{supplier}'s invoice {number} is already entered", supplier=Named.of(supplier),
                                       number=number), errors=[{"pointer": "/number", "detail": Message("already entered")}])


def posting_date_of(posting_date: dt.date | None, invoice_date: dt.date) -> dt.date:
    """The day a supplier's invoice or credit memo is booked: the posting date asked for, else
    its own date; refused (422, pointer /posting_date) before its date: the supplier had not
    issued it yet, so there was no liability and no input VAT."""
    posting_date = posting_date or invoice_date
    if posting_date < invoice_date:
        raise ValidationFailed.for_field("posting_date", Message(
            "posted on {posting_date}, before the document's date {invoice_date}: it is booked on or after the day "
            "the supplier issued it", posting_date=posting_date, invoice_date=invoice_date))
    return posting_date


def add_supplier_document(session: Session, document: SupplierInvoice, supplier: Supplier) -> None:
    """Write a new invoice or credit memo with its lines (its id for the posting): the same
    printed number entered at the same moment by someone else, past ``refuse_entered_twice``,
    is caught by the unique index and refused 409 ``duplicate-invoice`` as well."""
    session.add(document)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise DuplicateInvoice(Message("{supplier}'s invoice {number} is already entered", supplier=Named.of(supplier),
                                       number=document.number)) from exc


def enter_invoice(session: Session, actor: Actor, request: InvoiceRequest,
                  kind: DocumentKind = DocumentKind.INVOICE) -> SupplierInvoice:
    """Enter and post a supplier invoice (or, with ``kind``, a credit memo): match every line
    three ways, post GR/IR, input VAT, price differences and the payable in one journal
    entry, block for payment what the match did not pass.

    Refuses: 403 role/company; 404 unknown order line; 409 ``duplicate-invoice``,
    ``over-invoiced``, ``over-credited``, ``period-closed``; 422 ``invoice-totals-disagree``,
    ``order-line-not-of-invoice``, ``no-tax-code``, ``tax-code-not-in-force`` (on the invoice
    date; a credit memo reducing an invoice: on that invoice's date, and a line without a code
    takes the invoice's, ``_as_credited_invoice``), validation (a posting date before the
    invoice date, a due date before it);
    a credit memo reducing an invoice: 422 ``dated-before-source`` (posted before the
    invoice), ``dated-before-reopening`` (what it takes off the invoice, its gross total up to
    the open amount now, is more than ``open_on`` its posting date: a payment or credit memo
    reversed later still settled the difference on that day; the refusal names what was
    open then and, in ``earliest_date``, the first reversal date from which it fits).
    """
    what = "entering supplier invoices" if kind == DocumentKind.INVOICE else "entering supplier credit memos"
    actor.require_role(*ENTERERS, action=what)
    actor.require_company(request.company_id)
    if not request.lines:
        raise ValidationFailed.for_field("lines", Message("an invoice needs at least one line"))
    supplier = session.get(Supplier, request.supplier_id)
    if supplier is None:
        raise ValidationFailed.for_field("supplier_id", Message("no supplier with id {id}", id=request.supplier_id))
    number = request.number.strip()
    refuse_entered_twice(session, supplier, kind, number)
    if request.due_date is not None and request.due_date < request.invoice_date:
        raise ValidationFailed.for_field("due_date", Message("due {due} is before the invoice date {invoice_date}",
                                                             due=request.due_date, invoice_date=request.invoice_date))
    posting_date = posting_date_of(request.posting_date, request.invoice_date)
    lock_open_period(session, request.company_id, posting_date)
    tolerances = tolerances_for(session, request.company_id)
    tax_day = request.invoice_date
    if kind == DocumentKind.CREDIT_MEMO and request.credits_invoice_id is not None:
        request, tax_day = _as_credited_invoice(session, request)
    # Lock the order lines (by id: two invoices never deadlock) BEFORE reading what is
    # invoiced on them: a concurrent invoice of the same line commits first, then we read it.
    locked = {line_id: receiving.lock_line_for_receipt(session, line_id)
              for line_id in sorted({line.po_line_id for line in request.lines})}
    invoiced = invoiced_quantities(session, list(locked))
    matched = [_match_line(session, request, kind, index, line_request, locked[line_request.po_line_id], invoiced,
                           tolerances, tax_day) for index, line_request in enumerate(request.lines)]
    _check_totals(request, matched)
    _refuse_before_what_freed_it(session, kind, posting_date, matched, locked)

    credited = None
    if request.credits_invoice_id is not None:
        credited = lock_invoice(session, actor, request.credits_invoice_id)
        refuse_reversed(credited)
        if (kind != DocumentKind.CREDIT_MEMO or credited.document_kind != DocumentKind.INVOICE
                or credited.supplier_id != supplier.id or credited.company_id != request.company_id):
            raise ValidationFailed.for_field("credits_invoice_id", Message(
                "a credit memo may reduce an invoice of the same supplier and company"))
        # not dated before the invoice, nor before a reversal gave it back what it reduces
        refuse_before_source(posting_date, credited.posting_date, field="posting_date", what=N_("a credit memo"),
                             source=N_("invoice"), source_name=credited.number)
        # What it takes off (its gross, at most what is open now) must have been open on its
        # posting date and every day after, as a payment's allocation: a reversal after that
        # date gave the invoice back an amount still settled until then (``open_on``, read
        # under the invoice's lock, which payments, memos and their reversals take).
        refuse_beyond_open_on(posting_date, credited, min(credited.open_amount, request.gross_total),
                              settlements(session, [credited.id]).get(credited.id, ()), memo=True)
        _like_credited_invoice(session, request, matched, credited)

    reasons = [reason for m in matched for reason in m.reasons]
    invoice = SupplierInvoice(
        document_kind=kind, invoice_kind=request.invoice_kind, number=number, supplier_id=supplier.id,
        # numbered once every check has passed (the series row stays locked until commit)
        document_number=document_number_for(session, request.company_id, kind, posting_date),
        company_id=request.company_id, invoice_date=request.invoice_date, posting_date=posting_date,
        due_date=request.due_date or request.invoice_date + dt.timedelta(days=DEFAULT_PAYMENT_DAYS),
        net_total=request.net_total, tax_total=request.tax_total, gross_total=request.gross_total,
        open_amount=request.gross_total, blocked=bool(reasons),
        block_reason="; ".join(str(r) for r in reasons)[:1000] or None,
        block_messages=[{"template": r.template, "params": {k: plain_value(v) for k, v in r.params.items()}}
                        for r in reasons] or None,
        credits_invoice_id=request.credits_invoice_id, created_by=actor.user_id,
    )
    # The printed net may differ from the lines' sum by rounding cents: the largest line takes it.
    header_rounding = request.net_total - sum((m.net for m in matched), ZERO)
    largest = max(matched, key=lambda m: m.net)
    journal: list[Line] = []
    carried: list[tuple[int, int, Decimal]] = []  # per line, what its difference puts on 1404
    for m in matched:
        difference = m.net - m.grir + (header_rounding if m is largest else ZERO)
        if request.invoice_kind == InvoiceKind.ORDINARY:
            difference += m.tax  # not deductible: part of the goods' cost
        invoice.lines.append(SupplierInvoiceLine(
            line_no=m.index + 1, po_line_id=m.request.po_line_id, material_id=m.material_id,
            quantity=m.request.quantity, unit_price=m.request.unit_price, tax_code_id=m.tax_code_id,
            tax_rate=m.tax_rate, net_amount=m.net, tax_amount=m.tax, contract_price=m.contract_price,
            grir_amount=m.grir, price_difference=difference, open_received_quantity=m.open_received,
            quantity_blocked=m.quantity_blocked, price_blocked=m.price_blocked,
            return_document_id=m.request.return_document_id,
        ))
        differences = price_difference_lines(session, request.company_id, m.material_id, m.request.quantity,
                                             difference, _not_received(m, kind))
        journal += differences
        carried.append((m.request.po_line_id, m.material_id, material_cost_variance_of(differences)))
    if request.invoice_kind == InvoiceKind.ORDINARY:
        tax_difference = request.tax_total - sum((m.tax for m in matched), ZERO)
        differences = price_difference_lines(session, request.company_id, largest.material_id,
                                             largest.request.quantity, tax_difference, _not_received(largest, kind))
        journal += differences
        carried.append((largest.request.po_line_id, largest.material_id, material_cost_variance_of(differences)))
    else:
        journal.append(Line(accounts.INPUT_VAT, request.tax_total))
    journal.append(Line(accounts.GOODS_RECEIVED_NOT_INVOICED, sum((m.grir for m in matched), ZERO)))
    journal.append(Line(accounts.PAYABLES, -request.gross_total))
    add_supplier_document(session, invoice, supplier)
    sign = invoice.sign
    posted = post(session, Posting(
        company_id=request.company_id, posting_date=posting_date, user_id=actor.user_id,
        source_type=SOURCE_INVOICE, source_id=invoice.id,
        memo=narrate(f"supplier-{kind.value.replace('_', '-')}-document", document=invoice.document_number,
                     supplier=Named.of(supplier), number=number),
        journal=[Line(line.account, sign * line.amount, line.material_id) for line in journal],
    ))
    invoice.entry_id = posted.entry_id
    post_variance_carried(session, actor, invoice, supplier, posting_date, carried)
    if credited is not None:
        applied = min(credited.open_amount, invoice.gross_total)
        credited.open_amount -= applied
        invoice.open_amount -= applied
        invoice.applied_amount = applied
    session.flush()
    return invoice


# --- blocks and releases ------------------------------------------------------------------

def lock_invoice(session: Session, actor: Actor, invoice_id: int) -> SupplierInvoice:
    """The invoice (or credit memo) locked for update, as payments, memos and reversals take it;
    404 when the actor does not act for its company."""
    # populate_existing: a page may have read the invoice into this session before the lock;
    # its open amount must be the one a payment committed while we waited, not that read's
    invoice = session.get(SupplierInvoice, invoice_id, with_for_update=True, populate_existing=True)
    if invoice is None or not actor.acts_for_company(invoice.company_id):
        raise NotFound(Message("supplier invoice {key} not found", key=invoice_id))
    return invoice


def release_invoice(session: Session, actor: Actor, invoice_id: int, *, reason: str) -> SupplierInvoice:
    """Release an invoice blocked for payment (purchasing managers, accountants; never the
    person who entered it), with a reason kept on the invoice and in the audit trail.
    Refuses 403 ``release-by-enterer``, 404, 409 ``invoice-not-blocked``, ``invoice-reversed``, 422
    without a reason."""
    actor.require_role(*RELEASERS, action="releasing blocked supplier invoices")
    if not reason or not reason.strip():
        raise ValidationFailed.for_field("reason", Message("a release needs a reason"))
    invoice = lock_invoice(session, actor, invoice_id)
    refuse_reversed(invoice)
    if not invoice.blocked:
        raise InvoiceNotBlocked(Message("invoice {number} is not blocked for payment", number=invoice.number))
    if invoice.created_by == actor.user_id:
        raise ReleaseByEnterer(Message("you entered invoice {number}; someone else must release it",
                                       number=invoice.number))
    before = {"blocked": True, "block_reason": invoice.block_reason}
    invoice.blocked = False
    invoice.released_by, invoice.released_at, invoice.release_reason = actor.user_id, utcnow(), reason.strip()
    session.flush()
    audit.record_change(session, actor, entity="supplier_invoice", entity_id=invoice.id, action="release",
                        before=before, after={"blocked": False, "block_reason": invoice.block_reason},
                        reason=reason.strip(), company_id=invoice.company_id)
    return invoice


# --- reversals -------------------------------------------------------------------------

REVERSERS = ENTERERS


def refuse_reversed(invoice: SupplierInvoice) -> None:
    """409 ``invoice-reversed``: nothing is posted against a reversed invoice or credit memo."""
    if invoice.reversed:
        raise InvoiceReversed(Message("{number} was reversed on {day}: {reason}", number=invoice.number,
                                      day=invoice.reversal_date, reason=invoice.reversal_reason or ""))


def _check_nothing_settled(session: Session, invoice: SupplierInvoice) -> None:
    """An invoice is reversed only while all of it is open: no payment allocated to it that is
    not itself reversed (``reverse_payment`` first, or a credit memo corrects it) and no credit
    memo applied to it (reversed first, then the invoice)."""
    paid = Decimal(session.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
                                  .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
                                  .where(PaymentAllocation.invoice_id == invoice.id,
                                         SupplierPayment.reversed_at.is_(None))) or 0)
    if paid:
        raise InvoiceSettled(Message(
            "invoice {number} is paid {paid} of {gross}: a paid invoice is not reversed; reverse the payment first, "
            "or correct the invoice with a credit memo", number=invoice.number, paid=Amount(paid),
            gross=Amount(invoice.gross_total)),
            paid=str(paid))
    memos = session.scalars(select(SupplierInvoice.number).where(
        SupplierInvoice.credits_invoice_id == invoice.id, SupplierInvoice.reversed_at.is_(None))
        .order_by(SupplierInvoice.id)).all()
    if memos or invoice.open_amount != invoice.gross_total:
        raise InvoiceSettled(Message(
            "invoice {number} is reduced by credit memo {memos} ({open} of {gross} open): reverse the credit memo "
            "first, then the invoice", number=invoice.number, memos=", ".join(memos) or "-",
            open=Amount(invoice.open_amount), gross=Amount(invoice.gross_total)))


def _check_quantities_after(session: Session, invoice: SupplierInvoice,
                            locked: dict[int, receiving.OrderLineForReceipt]) -> None:
    """What stays invoiced on each order line once the document is gone must make sense:
    never below zero (credit memos crediting what this invoice invoiced are reversed first),
    never above what the line can ever receive (a credit memo's goods invoiced again since)."""
    invoiced = invoiced_quantities(session, list(locked))
    after = dict(invoiced)
    for line in invoice.lines:
        after[line.po_line_id] = after.get(line.po_line_id, ZERO) - invoice.sign * line.quantity
    for line_id, quantity in sorted(after.items()):
        line = locked[line_id]
        if quantity < 0:
            raise InvoiceSettled(Message(
                "order line {line} of {order}: credit memos credit {credited} of what invoice {number} invoiced; "
                "reverse them first, then the invoice", line=line_id, order=line.order_number, credited=-quantity,
                number=invoice.number))
        material = session.get(Material, line.material_id)
        assert material is not None
        ceiling = line.quantity * (1 + material.over_receipt_tolerance_pct / HUNDRED)
        if invoice.document_kind == DocumentKind.CREDIT_MEMO and quantity > ceiling:
            raise OverInvoiced(Message(
                "order line {line} of {order}: ordered {ordered}, invoiced {invoiced} since credit memo {number}; "
                "reversing it would make {quantity} invoiced, more than can ever be received ({ceiling})",
                line=line_id, order=line.order_number, ordered=line.quantity, invoiced=invoiced.get(line_id, ZERO),
                number=invoice.number, quantity=quantity, ceiling=ceiling))


def reverse_invoice(session: Session, actor: Actor, invoice_id: int, *, reason: str,
                    reversal_date: dt.date) -> SupplierInvoice:
    """Reverse (cancel, 冲销) a posted supplier invoice or credit memo, dated ``reversal_date``:
    the mirror of its journal entry (GR/IR, input VAT, accounts payable, the price difference
    on 1404 or on the accounts that consumed the goods, each amount negated;
    ``source_type`` ``supplier_invoice_reversal``, ``reverses_entry_id`` the invoice's), and
    of each of its price-difference stock documents a new one with the variance negated
    (``reverses_document_id`` the original), and of each standing correction of a price
    difference the rule before 1 December 2026 left on 5001.01 its reversal
    (``invoice_wip_correction_reversal``; erp.payables.wip_price_differences: otherwise
    5001.01 would keep minus the amount), in the reversal date's period like every
    reversal: within the invoice's period the two cancel out of the period's variance, in a
    later period the mirror is variance of that period's receipts. The order lines'
    invoiced quantities go down by the invoice's (up by a credit memo's); the invoice keeps
    who reversed it, when, why, and its open amount drops to 0 (a credit memo's applied
    amount goes back onto the invoice it reduced). Audited (``supplier_invoice``, ``reverse``;
    the invoice a credit memo reduced, ``credit-memo-reversed``, its open amount before and
    after).

    Refuses: 403 (accounts payable of the invoice's company); 404; 409 ``invoice-reversed``
    (already), ``invoice-settled`` (paid in part or whole, or reduced or credited by a credit
    memo: those are reversed first), ``over-invoiced`` (a credit memo whose goods were
    invoiced again since), ``period-closed``; 422 no reason, a date before the invoice's
    posting date, before its latest price-difference document (one written later by
    ``payables price-differences --write``), before a correction of its price difference
    left on work in process, or after the business day;
    ``dated-before-reopening``: before the reversal date of a payment or credit memo that
    settled the invoice, or of a document of the other kind on its order lines (until then
    that document still stood, and the invoice would be cancelled while still settled, or
    the line's invoiced quantity go below 0 or above what it can receive). Concurrency: the
    period row KEY SHARE (as every posting), the order lines (the lock invoices and
    receipts take, in id order), then the invoice (the lock payments take): of two
    reversals, or a reversal and a payment, the second sees the first (the lock order:
    ``erp.posting.stock``)."""
    actor.require_role(*REVERSERS, action="reversing supplier invoices")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
    invoice = session.get(SupplierInvoice, invoice_id)
    if invoice is None or not actor.acts_for_company(invoice.company_id):
        raise NotFound(Message("supplier invoice {key} not found", key=invoice_id))
    refuse_after_business_day(reversal_date, field="reversal_date", what=N_("a reversal"))
    if reversal_date < invoice.posting_date:
        raise ValidationFailed.for_field("reversal_date", Message(
            "{number} was posted on {posted}; its reversal cannot be dated {day}", number=invoice.number,
            posted=invoice.posting_date, day=reversal_date))
    lock_open_period(session, invoice.company_id, reversal_date)
    # The order lines first (as entering an invoice locks them, in id order), then the
    # invoice: entering a credit memo holds the lines before it reads what is invoiced.
    locked = {line_id: receiving.lock_line_for_receipt(session, line_id)
              for line_id in sorted({line.po_line_id for line in invoice.lines})}
    invoice = session.get(SupplierInvoice, invoice_id, with_for_update=True, populate_existing=True)
    assert invoice is not None
    refuse_reversed(invoice)
    # A price difference written later than the invoice (``payables price-differences
    # --write``, which locks the invoice first) is mirrored on the reversal date: never before
    # the row it mirrors.
    written = session.scalar(select(func.max(StockDocument.posting_date)).where(
        StockDocument.supplier_invoice_id == invoice.id, StockDocument.doc_type == MovementType.PRICE_DIFFERENCE,
        StockDocument.reverses_document_id.is_(None)))
    if written is not None and reversal_date < written:
        raise ValidationFailed.for_field("reversal_date", Message(
            "the price difference of {number} was written into the stock ledger on {written}; its reversal "
            "cannot be dated {day}, before it", number=invoice.number, written=written, day=reversal_date))
    corrections = _standing_wip_corrections(session, invoice.id)
    if corrections and reversal_date < max(day for _, day in corrections):
        raise ValidationFailed.for_field("reversal_date", Message(
            "the price difference of {number} left on work in process was corrected on {written}; its reversal cannot "
            "be dated {day}, before it", number=invoice.number, written=max(day for _, day in corrections),
            day=reversal_date))
    credited = None
    if invoice.document_kind == DocumentKind.INVOICE:
        _check_nothing_settled(session, invoice)
    elif invoice.credits_invoice_id is not None:
        credited = session.get(SupplierInvoice, invoice.credits_invoice_id, with_for_update=True,
                               populate_existing=True)
    _check_quantities_after(session, invoice, locked)
    # Not before the reversal that made this one possible (of a payment or credit memo that
    # settled the invoice, of a document of the other kind on its order lines): read once
    # the invoice and its lines are locked, which those reversals lock too.
    latest = [r for r in (reopenings(session, [invoice.id]).get(invoice.id), _reopened_on_its_lines(session, invoice))
              if r is not None]
    refuse_before_reopening(reversal_date, max(latest, key=lambda r: r.day) if latest else None,
                            field="reversal_date", what=N_("a reversal"), number=invoice.number)
    supplier = session.get(Supplier, invoice.supplier_id)
    assert supplier is not None
    # The 摘要 of the reversal's entry and of its price differences' documents (erp.narration).
    said = narrate(f"supplier-{invoice.document_kind.value.replace('_', '-')}-reversal-document",
                   document=invoice.document_number, supplier=Named.of(supplier), number=invoice.number, reason=reason)
    entry_id = None
    if invoice.entry_id is not None:
        entry_id = post(session, Posting(
            company_id=invoice.company_id, posting_date=reversal_date, user_id=actor.user_id,
            source_type=SOURCE_REVERSAL, source_id=invoice.id, reverses_entry_id=invoice.entry_id,
            memo=said, journal=negated_lines(session, invoice.entry_id),
        )).entry_id
    _reverse_price_differences(session, actor, invoice, reversal_date, said)
    # Its entry's mirror puts back on 5001.01 what the old rule left there; a correction that
    # moved it to 6405.02 is reversed with it, or 5001.01 would keep minus the amount.
    for correction_id, _ in corrections:
        post(session, Posting(
            company_id=invoice.company_id, posting_date=reversal_date, user_id=actor.user_id,
            source_type=SOURCE_WIP_CORRECTION_REVERSAL, source_id=invoice.id, reverses_entry_id=correction_id,
            memo=said, journal=negated_lines(session, correction_id),
        ))
    before = {"open_amount": str(invoice.open_amount), "reversed": False}
    if credited is not None:
        # what the credit memo took off the invoice it reduces is owed on that invoice again
        credited_before = credited.open_amount
        credited.open_amount += invoice.applied_amount
        audit.record_change(session, actor, entity="supplier_invoice", entity_id=credited.id,
                            action="credit-memo-reversed", before={"open_amount": str(credited_before)},
                            after={"open_amount": str(credited.open_amount)},
                            # stored in these words (migration 0045 reads them back); pages read them in the reader's
                            # language through erp.narration.LEGACY
                            reason=f"reversal of credit memo {invoice.number}: {reason}"[:500],
                            company_id=credited.company_id)
    invoice.reversed_by, invoice.reversed_at = actor.user_id, utcnow()
    invoice.reversal_date, invoice.reversal_reason = reversal_date, reason[:500]
    invoice.reversal_entry_id, invoice.open_amount = entry_id, ZERO
    session.flush()
    audit.record_change(session, actor, entity="supplier_invoice", entity_id=invoice.id, action="reverse",
                        before=before, after={"open_amount": "0.00", "reversed": True,
                                              "reversal_date": reversal_date.isoformat(), "reversal_entry_id": entry_id},
                        reason=reason, company_id=invoice.company_id)
    return invoice


def _standing_wip_corrections(session: Session, invoice_id: int) -> list[tuple[int, dt.date]]:
    """The invoice's corrections of a price difference left on work in process not reversed
    yet (entry id, date), in id order."""
    reversal = aliased(JournalEntry)
    return [(entry_id, day) for entry_id, day in session.execute(
        select(JournalEntry.id, JournalEntry.entry_date)
        .where(JournalEntry.source_type == SOURCE_WIP_CORRECTION, JournalEntry.source_id == invoice_id,
               ~exists().where(reversal.reverses_entry_id == JournalEntry.id))
        .order_by(JournalEntry.id)).all()]


def _reverse_price_differences(session: Session, actor: Actor, invoice: SupplierInvoice, reversal_date: dt.date,
                               reason: str) -> None:
    """Each price-difference document of the invoice, mirrored by a new one: the same rows
    (value-only, close class receipt, the same place) with the variance negated. No journal:
    the reversal's entry already takes the 1404 amount off."""
    originals = session.scalars(select(StockDocument).where(
        StockDocument.supplier_invoice_id == invoice.id, StockDocument.doc_type == MovementType.PRICE_DIFFERENCE,
        StockDocument.reverses_document_id.is_(None)).order_by(StockDocument.id)).all()
    for original in originals:
        rows = session.scalars(select(StockMovement).where(StockMovement.document_id == original.id)
                               .order_by(StockMovement.id)).all()
        post(session, Posting(
            company_id=invoice.company_id, posting_date=reversal_date, user_id=actor.user_id,
            document=Document(MovementType.PRICE_DIFFERENCE, supplier_id=original.supplier_id,
                              reference=original.reference, supplier_invoice_id=invoice.id,
                              reverses_document_id=original.id, reason=reason[:500]),
            movements=[Movement(MovementType.PRICE_DIFFERENCE, CloseClass.RECEIPT, row.warehouse_id, row.material_id,
                                row.batch_id, row.status, ZERO, ZERO, -row.variance) for row in rows],
            memo=reason,
        ))


# --- what a reversal reopened ----------------------------------------------------------------

@dataclass(frozen=True)
class Reopening:
    """The latest reversal that made something possible on an invoice: its date, the kind of
    document reversed (a message id) and its name (a payment's reference or id, a memo's or
    invoice's number)."""

    day: dt.date
    document: str
    name: str


def _later(found: dict[int, Reopening], key: int, reopening: Reopening) -> None:
    if key not in found or reopening.day > found[key].day:
        found[key] = reopening


def reopenings(session: Session, invoice_ids: Sequence[int]) -> dict[int, Reopening]:
    """Per invoice, the latest reversal of a payment that settled it or of a credit memo
    that reduced it: the day that reversal gave the invoice back its open amount. Until that
    day the reversed payment or memo still settled the invoice (the ledger and the AP ageing
    count it), so nothing that settles or cancels the same amount may be dated before it
    (docs/payables.md, *Dated before the reversal that made it possible*)."""
    found: dict[int, Reopening] = {}
    if not invoice_ids:
        return found
    ids = sorted(set(invoice_ids))
    for invoice_id, day, reference, payment_id in session.execute(
            select(PaymentAllocation.invoice_id, SupplierPayment.reversal_date, SupplierPayment.reference,
                   SupplierPayment.id)
            .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.invoice_id.in_(ids), SupplierPayment.reversal_date.is_not(None))).all():
        _later(found, invoice_id, Reopening(day, N_("supplier payment"), reference or str(payment_id)))
    for invoice_id, day, number in session.execute(
            select(SupplierInvoice.credits_invoice_id, SupplierInvoice.reversal_date, SupplierInvoice.number)
            .where(SupplierInvoice.credits_invoice_id.in_(ids), SupplierInvoice.reversal_date.is_not(None))).all():
        _later(found, invoice_id, Reopening(day, N_("credit memo"), number))
    return found


def _reopened_on_its_lines(session: Session, document: SupplierInvoice) -> Reopening | None:
    """The latest reversal of a document of the other kind with a line on one of the order
    lines of ``document`` (an invoice: a credit memo; a credit memo: an invoice): it may be
    the one that freed the quantities ``document``'s reversal takes off or puts back (a
    credit memo crediting the invoice's goods; an invoice of the goods a memo credited,
    invoiced again). Before its date the order line's invoiced quantity would go below 0
    (or above what it can receive). Conservative: any such reversal counts, whichever
    invoice it concerned."""
    other = DocumentKind.CREDIT_MEMO if document.document_kind == DocumentKind.INVOICE else DocumentKind.INVOICE
    line_ids = sorted({line.po_line_id for line in document.lines})
    row = session.execute(
        select(SupplierInvoice.reversal_date, SupplierInvoice.number)
        .join(SupplierInvoiceLine, SupplierInvoiceLine.invoice_id == SupplierInvoice.id)
        .where(SupplierInvoiceLine.po_line_id.in_(line_ids), SupplierInvoice.document_kind == other,
               SupplierInvoice.reversal_date.is_not(None))
        .order_by(SupplierInvoice.reversal_date.desc(), SupplierInvoice.id.desc()).limit(1)).first()
    if row is None:
        return None
    return Reopening(row.reversal_date, N_("credit memo") if other == DocumentKind.CREDIT_MEMO else N_("invoice"),
                     row.number)


def refuse_before_reopening(day: dt.date, reopening: Reopening | None, *, field: str, what: str, number: str,
                            pointer: str | None = None) -> None:
    """Refuse ``day`` (of ``what``, a message id, concerning invoice ``number``) when it is
    before ``reopening``: 422 ``dated-before-reopening``."""
    if reopening is None or day >= reopening.day:
        return
    problem = Message("{what} dated {day} is before {reopened}, the day {document} {name} was reversed: only that "
                      "reversal made it possible; until then that {document} still settled or credited {number}",
                      what=Term(what), day=day, reopened=reopening.day, document=Term(reopening.document),
                      name=reopening.name, number=number)
    raise DatedBeforeReopening(problem, errors=[{"pointer": pointer or f"/{field}", "detail": problem}],
                               earliest_date=reopening.day.isoformat())


@dataclass(frozen=True)
class Settled:
    """A payment or credit memo that settled or reduced an invoice: the day it was posted,
    the day it was reversed (None: it stands), the amount (a payment's allocation, a memo's
    ``applied_amount``), the kind of document (a message id) and its name."""

    posted: dt.date
    reversed_on: dt.date | None
    amount: Decimal
    document: str
    name: str

    def stands_on(self, day: dt.date) -> bool:
        return self.posted <= day and (self.reversed_on is None or self.reversed_on > day)


def settlements(session: Session, invoice_ids: Sequence[int]) -> dict[int, list[Settled]]:
    """Per invoice, every payment allocation and credit memo (with an applied amount) that
    settled or reduced it, standing or reversed, with its posting and reversal dates: what
    the invoice had open on any day (``open_each_day``). Read under the invoices' locks:
    payments, credit memos and their reversals lock them too."""
    found: dict[int, list[Settled]] = {}
    if not invoice_ids:
        return found
    ids = sorted(set(invoice_ids))
    for invoice_id, posted, reversed_on, amount, reference, payment_id in session.execute(
            select(PaymentAllocation.invoice_id, SupplierPayment.payment_date, SupplierPayment.reversal_date,
                   PaymentAllocation.amount, SupplierPayment.reference, SupplierPayment.id)
            .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.invoice_id.in_(ids))
            .order_by(PaymentAllocation.id)).all():
        found.setdefault(invoice_id, []).append(
            Settled(posted, reversed_on, amount, N_("supplier payment"), reference or str(payment_id)))
    for invoice_id, posted, reversed_on, amount, number in session.execute(
            select(SupplierInvoice.credits_invoice_id, SupplierInvoice.posting_date, SupplierInvoice.reversal_date,
                   SupplierInvoice.applied_amount, SupplierInvoice.number)
            .where(SupplierInvoice.credits_invoice_id.in_(ids), SupplierInvoice.applied_amount > 0)
            .order_by(SupplierInvoice.id)).all():
        found.setdefault(invoice_id, []).append(Settled(posted, reversed_on, amount, N_("credit memo"), number))
    return found


def open_each_day(invoice: SupplierInvoice, settled: Sequence[Settled], day: dt.date) -> list[tuple[dt.date, Decimal]]:
    """What ``invoice`` had open on ``day`` and on each later day its open amount changed
    (a payment or memo posted, or reversed): its gross total less what stood on that day.
    The last is what is open now."""
    days = sorted({day} | {d for s in settled for d in (s.posted, s.reversed_on) if d is not None and d > day})
    return [(d, invoice.gross_total - sum((s.amount for s in settled if s.stands_on(d)), ZERO)) for d in days]


def open_on(invoice: SupplierInvoice, settled: Sequence[Settled], day: dt.date) -> Decimal:
    """What of ``invoice`` a payment dated ``day`` may pay: the least it had open on ``day``
    or any later day (``open_each_day``), and never more than its open amount now. A payment
    of at most that leaves the invoice negative on no day from ``day`` on, in the AP ageing
    or in 2202, and never overpays it. Payments and memos posted after ``day`` count only
    from their own dates, reversed ones only until their reversal: INV-1 1,356.00 paid
    822.00 on 20 November (P1, reversed on 25 November) and 822.00 on 26 November (P2): 534.00
    on 22 November (until 1 December 2026 P1 and P2 both counted on it: -288.00). P1 on 21
    November reversed on 23 November instead: on 20 November 534.00, although all 1,356.00
    was open on the 20th and is now (docs/payables.md)."""
    return min([invoice.open_amount] + [amount for _, amount in open_each_day(invoice, settled, day)])


def open_to_pay_on(session: Session, invoices: Sequence[SupplierInvoice], day: dt.date) -> dict[int, Decimal]:
    """Per invoice (already read within the caller's companies), what a payment dated ``day``
    may pay of it (``open_on``; 0.00 for an invoice posted after ``day``), for the payment
    form to show before posting. Read without locks: ``pay_supplier`` reads it again under
    the invoices' locks."""
    settled = settlements(session, [i.id for i in invoices])
    return {i.id: (max(open_on(i, settled.get(i.id, ()), day), ZERO) if i.posting_date <= day else ZERO)
            for i in invoices}


def refuse_beyond_open_on(day: dt.date, invoice: SupplierInvoice, amount: Decimal, settled: Sequence[Settled], *,
                          memo: bool = False) -> None:
    """Refuse a payment dated ``day`` paying ``amount`` of ``invoice`` (with ``memo``, a
    credit memo posted on ``day`` taking ``amount`` off it) when that is more than
    ``open_on`` that day: 422 ``dated-before-reopening`` at ``/payment_date`` (a memo's
    ``/posting_date``), naming what was open then, the first reversal date from which
    ``amount`` is open every day on (``earliest_date``) and the document reversed then.
    ``amount`` is at most the invoice's open amount now (the caller's cap), so such a date
    exists whenever it is refused."""
    payable = open_on(invoice, settled, day)
    if amount <= payable:
        return
    reopened = sorted({s.reversed_on for s in settled if s.reversed_on is not None and s.reversed_on > day})
    fits = next((d for d in reopened if open_on(invoice, settled, d) >= amount), reopened[-1])
    document = next(s for s in settled if s.reversed_on == fits)
    said: dict[str, Any] = {"day": day, "amount": Amount(amount), "number": invoice.number,
                            "payable": Amount(max(payable, ZERO)), "reopened": fits,
                            "document": Term(document.document), "name": document.name}
    if memo:
        problem = Message("a credit memo dated {day} would take {amount} off invoice {number}, but only {payable} "
                          "of it is open on {day} and every day after: until {reopened}, the day {document} {name} "
                          "was reversed, more of it was settled or credited", **said)
    else:
        problem = Message("a supplier payment dated {day} would pay {amount} of invoice {number}, but only {payable} "
                          "of it is open to pay on {day} and every day after: until {reopened}, the day {document} "
                          "{name} was reversed, more of it was settled or credited", **said)
    raise DatedBeforeReopening(problem, errors=[{"pointer": "/posting_date" if memo else "/payment_date",
                                                 "detail": problem}],
                               earliest_date=fits.isoformat(), open_on_date=format(max(payable, ZERO), "f"))


# --- payments -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentRequest:
    company_id: int
    supplier_id: int
    payment_date: dt.date
    amount: Decimal
    invoice_ids: Sequence[int] | None = None  # None: oldest due first
    reference: str | None = None


def pay_supplier(session: Session, actor: Actor, request: PaymentRequest) -> SupplierPayment:
    """Pay a supplier: settle the named invoices in the order given, or the open invoices
    oldest due first (blocked ones skipped); Dr 2202 accounts payable, Cr 1002 bank.

    Refuses: 403; 404 an unknown invoice; 409 ``invoice-blocked`` (a named invoice blocked
    for payment), ``invoice-reversed`` (a named invoice reversed), ``period-closed``; 422
    ``payment-exceeds-open-items`` (more than is open; with named invoices, more than is
    open on them, each named with what it may pay of it on its date, ``open_on``, which is
    also ``payable``: the rest never goes to invoices it does not name, and there is no
    payment on account), ``dated-before-source`` (a named invoice posted after the
    payment's date), ``dated-before-reopening`` (a named invoice paid more than ``open_on``
    the payment's date: the least it had open on that day or any later one, counting each
    payment and credit memo from its posting date until its reversal; more would leave the
    invoice negative in the AP ageing and in 2202 on some day). Without named invoices,
    those posted after the date are skipped like blocked ones and each is paid at most
    ``open_on`` the date. A payment is corrected by
    ``reverse_payment``. Locks:
    the period, then the invoices (``FOR UPDATE``, due date then id: the order
    ``reverse_payment`` takes them in)."""
    actor.require_role(*ENTERERS, action="paying suppliers")
    actor.require_company(request.company_id)
    if request.amount <= 0 or request.amount != round_money(request.amount):
        raise ValidationFailed.for_field("amount", Message("a payment is a positive amount in cents"))
    lock_open_period(session, request.company_id, request.payment_date)
    query = (select(SupplierInvoice).where(
        SupplierInvoice.company_id == request.company_id, SupplierInvoice.supplier_id == request.supplier_id,
        SupplierInvoice.document_kind == DocumentKind.INVOICE, SupplierInvoice.open_amount > 0,
        SupplierInvoice.reversed_at.is_(None))
        .order_by(SupplierInvoice.due_date, SupplierInvoice.id).with_for_update().execution_options(populate_existing=True))
    if request.invoice_ids is not None:
        wanted = list(dict.fromkeys(request.invoice_ids))
        found = {i.id: i for i in session.scalars(query.where(SupplierInvoice.id.in_(wanted))).all()}
        for position, invoice_id in enumerate(wanted):
            invoice = found.get(invoice_id)
            if invoice is None:
                named = session.get(SupplierInvoice, invoice_id)
                if named is not None and named.reversed and actor.acts_for_company(named.company_id):
                    raise InvoiceReversed(
                        Message("invoice {number} was reversed on {day}: nothing is paid on it", number=named.number,
                                day=named.reversal_date),
                        errors=[{"pointer": f"/invoice_ids/{position}", "detail": Message("reversed")}])
                raise NotFound(Message("no open invoice {key} of this supplier and company", key=invoice_id))
            if invoice.blocked:
                raise InvoiceBlocked(
                    Message("invoice {number} is blocked for payment: {reason}", number=invoice.number,
                            reason=invoice.block_reason or ""),
                    errors=[{"pointer": f"/invoice_ids/{position}", "detail": Message("blocked for payment")}])
            refuse_before_source(request.payment_date, invoice.posting_date, field="payment_date",
                                 what=N_("a supplier payment"), source=N_("invoice"), source_name=invoice.number)
        candidates = [found[i] for i in wanted]
        # read after the invoices are locked: a reversal that gave one back its open amount
        # committed first, and what it held on the payment's date is seen
        settled = settlements(session, wanted)
        # in the order given, each up to its open amount now; more than it may pay on the
        # payment's date is refused below (``open_on``)
        caps = {i.id: i.open_amount for i in candidates}
    else:
        # Oldest due first, skipping what is not payable on the payment's date (blocked, not
        # yet posted) and paying each at most ``open_on`` that date (the least it had open
        # on any day from it on, payments and credit memos counted while they stood).
        candidates = [i for i in session.scalars(query).all()
                      if not i.blocked and i.posting_date <= request.payment_date]
        settled = settlements(session, [i.id for i in candidates])
        caps = {i.id: open_on(i, settled.get(i.id, ()), request.payment_date) for i in candidates}
        candidates = [i for i in candidates if caps[i.id] > 0]
    payable = sum((caps[i.id] for i in candidates), ZERO)
    if request.amount > payable and request.invoice_ids is not None:
        # The rest is not spread over invoices the payment does not name: the remittance
        # advice names what the bank paid, and the supplier applies it the same way. Like a
        # payment naming none (at most what is open), there is no payment on account.
        # The advice gives what may be paid on the payment's date (``open_on``), not the open
        # amount now: a back-dated clerk paying the open amount now would be refused again
        # (``dated-before-reopening``). Equal when no reversal follows the date.
        on_date = {i.id: max(open_on(i, settled.get(i.id, ()), request.payment_date), ZERO) for i in candidates}
        payable_on_date = sum(on_date.values(), ZERO)
        problem = Message("the payment of {amount} is more than the {payable} open on the invoices it names "
                          "({invoices}): a payment pays only the invoices it names; name the others too, or name "
                          "none to pay the oldest due first", amount=Amount(request.amount),
                          payable=Amount(payable_on_date),
                          invoices=[Message("{number} {open}", number=i.number, open=Amount(on_date[i.id]))
                                    for i in candidates])
        raise PaymentExceedsOpenItems(
            problem, errors=[{"pointer": "/amount",
                              "detail": Message("at most {payable}", payable=Amount(payable_on_date))}],
            payable=str(payable_on_date), open_amounts={i.number: str(on_date[i.id]) for i in candidates})
    if request.amount > payable:
        raise PaymentExceedsOpenItems(
            Message("the payment of {amount} is more than the {payable} open and not blocked",
                    amount=Amount(request.amount), payable=Amount(payable)),
            errors=[{"pointer": "/amount", "detail": Message("at most {payable}", payable=Amount(payable))}],
            payable=str(payable))
    payment = SupplierPayment(company_id=request.company_id, supplier_id=request.supplier_id,
                              payment_date=request.payment_date, amount=request.amount, reference=request.reference,
                              created_by=actor.user_id)
    remaining = request.amount
    for invoice in candidates:
        if remaining == 0:
            break
        applied = min(remaining, caps[invoice.id])
        # a named invoice is paid no more than was open on the payment's date (until the
        # reversal of a payment or memo that settled it, that one still stood)
        refuse_beyond_open_on(request.payment_date, invoice, applied, settled.get(invoice.id, ()))
        invoice.open_amount -= applied
        remaining -= applied
        payment.allocations.append(PaymentAllocation(invoice_id=invoice.id, amount=applied))
    # numbered once every check has passed (the series row stays locked until commit)
    payment.document_number = payment_number_for(session, request.company_id, request.payment_date)
    session.add(payment)
    session.flush()
    supplier = session.get(Supplier, request.supplier_id)
    assert supplier is not None
    memo = (narrate("supplier-payment-document-reference", document=payment.document_number,
                    supplier=Named.of(supplier), reference=request.reference) if request.reference
            else narrate("supplier-payment-document", document=payment.document_number, supplier=Named.of(supplier)))
    posted = post(session, Posting(
        company_id=request.company_id, posting_date=request.payment_date, user_id=actor.user_id,
        source_type=SOURCE_PAYMENT, source_id=payment.id,
        memo=memo,
        journal=[Line(accounts.PAYABLES, request.amount), Line(accounts.BANK, -request.amount)],
    ))
    payment.entry_id = posted.entry_id
    session.flush()
    return payment



# --- payment reversals ----------------------------------------------------------------------

PAYMENT_REVERSERS = ENTERERS


def reverse_payment(session: Session, actor: Actor, payment_id: int, *, reason: str,
                    reversal_date: dt.date) -> SupplierPayment:
    """Reverse (冲销) a supplier payment dated ``reversal_date``: the bank returned it, or it
    paid the wrong invoice. Posts the mirror of its journal entry (Dr 1002 bank, Cr 2202
    accounts payable, the payment's amount; ``source_type`` ``supplier_payment_reversal``,
    ``source_id`` the payment's id, ``reverses_entry_id`` the payment's entry) and gives each
    invoice it settled back what it settled (its allocations, in CNY: the invoice's open
    amount goes up by them, and the invoice is paid again like any open one). The payment
    keeps its allocations, who reversed it, when, why and the reversal's entry. Audited
    (``supplier_payment``, ``reverse``, the invoices' open amounts before and after; and each
    invoice it reopened: ``supplier_invoice``, ``payment-reversed``, its open amount before
    and after, the reason naming the payment).

    Since a payment: an invoice it paid cannot have been reversed (``reverse_invoice`` refuses
    a paid invoice), and a credit memo applied to it took only what was still open, so what
    the payment settled always fits back under the invoice's gross total. An invoice found
    reversed anyway is refused (409 ``invoice-reversed``), never written negative. A payment
    to a group company (an intercompany supplier, docs/intercompany.md) is reversed the same
    way in the payer's books only: the payee books the money's return in its own.

    Refuses: 403 (accounts payable of the payment's company); 404 (unknown, or another
    company's); 409 ``payment-reversed`` (already), ``period-closed``; 422 no reason, a date
    before the payment's date or after the business day. Concurrency: after the period, the
    payment row (of two reversals the second waits and is refused), then the invoices it
    settled in the order ``pay_supplier`` locks them (due date, id): a new payment of the
    same invoices waits and sees their open amounts given back, or is seen by the reversal."""
    actor.require_role(*PAYMENT_REVERSERS, action="reversing supplier payments")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
    payment = session.get(SupplierPayment, payment_id)
    if payment is None or not actor.acts_for_company(payment.company_id):
        raise NotFound(Message("supplier payment {key} not found", key=payment_id))
    if payment.reversed:  # said first, so that a reversal sent twice is not answered by its date or period
        raise PaymentReversed(Message("the payment of {amount} on {paid} was reversed on {day}: {reason}",
                                      amount=Amount(payment.amount), paid=payment.payment_date,
                                      day=payment.reversal_date,
                                      reason=payment.reversal_reason or ""))
    refuse_after_business_day(reversal_date, field="reversal_date", what=N_("a reversal"))
    if reversal_date < payment.payment_date:
        raise ValidationFailed.for_field("reversal_date", Message(
            "the payment was made on {paid}; its reversal cannot be dated {day}", paid=payment.payment_date,
            day=reversal_date))
    lock_open_period(session, payment.company_id, reversal_date)
    payment = session.get(SupplierPayment, payment_id, with_for_update=True, populate_existing=True)
    assert payment is not None
    if payment.reversed:  # by a reversal that committed while this one waited
        raise PaymentReversed(Message("the payment of {amount} on {paid} was reversed on {day}: {reason}",
                                      amount=Amount(payment.amount), paid=payment.payment_date,
                                      day=payment.reversal_date,
                                      reason=payment.reversal_reason or ""))
    allocations = {a.invoice_id: a.amount for a in session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
        .order_by(PaymentAllocation.id)).all()}
    invoices = session.scalars(
        select(SupplierInvoice).where(SupplierInvoice.id.in_(sorted(allocations)))
        .order_by(SupplierInvoice.due_date, SupplierInvoice.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    for invoice in invoices:
        if invoice.reversed:
            raise InvoiceReversed(Message(
                "invoice {number}, which this payment settled, was reversed on {day}: the payment cannot give it "
                "back its open amount", number=invoice.number, day=invoice.reversal_date))
    before = {"reversed": False, "open_amounts": {str(i.id): str(i.open_amount) for i in invoices}}
    for invoice in invoices:
        invoice.open_amount += allocations[invoice.id]
    supplier = session.get(Supplier, payment.supplier_id)
    assert supplier is not None and payment.entry_id is not None
    entry_id = post(session, Posting(
        company_id=payment.company_id, posting_date=reversal_date, user_id=actor.user_id,
        source_type=SOURCE_PAYMENT_REVERSAL, source_id=payment.id, reverses_entry_id=payment.entry_id,
        memo=narrate("supplier-payment-reversal-document", document=payment.document_number,
                     supplier=Named.of(supplier), reason=reason),
        journal=negated_lines(session, payment.entry_id),
    )).entry_id
    payment.reversed_by, payment.reversed_at = actor.user_id, utcnow()
    payment.reversal_date, payment.reversal_reason = reversal_date, reason[:500]
    payment.reversal_entry_id = entry_id
    session.flush()
    # each invoice it reopened has the change in its own trail too, as the invoice a credit
    # memo's reversal gives back its amount (``credit-memo-reversed``)
    paid = f"reversal of supplier payment {payment.reference or payment.id}: {reason}"[:500]
    for invoice in invoices:
        audit.record_change(session, actor, entity="supplier_invoice", entity_id=invoice.id, action="payment-reversed",
                            before={"open_amount": before["open_amounts"][str(invoice.id)]},
                            after={"open_amount": str(invoice.open_amount)}, reason=paid,
                            company_id=invoice.company_id)
    audit.record_change(session, actor, entity="supplier_payment", entity_id=payment.id, action="reverse",
                        before=before,
                        after={"reversed": True, "reversal_date": reversal_date.isoformat(),
                               "reversal_entry_id": entry_id,
                               "open_amounts": {str(i.id): str(i.open_amount) for i in invoices}},
                        reason=reason, company_id=payment.company_id)
    return payment


@partner_use_check("supplier")
def _supplier_documents(session: Session, supplier_id: int) -> list[Message]:
    """The supplier's invoices (and credit memos) and payments (its link to a group company
    changes only without: erp.masterdata.services)."""
    return [
        *documents_found(session, N_("supplier invoice(s)"), SupplierInvoice.document_number,
                         SupplierInvoice.supplier_id == supplier_id),
        *documents_found(session, N_("supplier payment(s)"), SupplierPayment.document_number,
                         SupplierPayment.supplier_id == supplier_id),
    ]
