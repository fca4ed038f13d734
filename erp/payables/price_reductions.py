"""A supplier's price reduction on goods already invoiced (降价红字发票): a credit memo that
reduces invoice lines' amounts and leaves their quantities alone.

A quantity credit memo (``services.enter_invoice`` with ``DocumentKind.CREDIT_MEMO``) credits
goods at the invoice's price: it takes quantity off GR/IR and off the invoiced quantity. A
supplier that grants ¥2.00/kg off 240 kg already invoiced at ¥185.00 takes back no goods: the
liability goes down by the reduction and its VAT, the goods cost less, GR/IR and the
invoiced quantity stay. Per invoice line the reduction excluding tax (or the new unit price,
the reduction being what is left of the line less the quantity it still holds at the new
price: goods credited back by a quantity credit memo are reduced no more); the memo posts
(docs/payables.md, *Price reductions*):

| line | amount |
|---|---|
| Dr 2202 accounts payable | the printed total including tax |
| Cr 2221.01.01 input VAT | the printed tax (a special VAT invoice; an ordinary invoice's VAT was part of the goods' cost and comes off with the reduction) |
| Cr price difference | the reduction, split as an invoice's price difference is (``services.price_difference_lines``): 1404 with the material for the part of the line's quantity still held, not yet received or consumed in the open period (also into the stock ledger, so the close spreads it), the accounts that consumed the goods in closed periods for the rest |

The memo is a credit memo (``CM-`` number from the same gap-free series, reversed by
``services.reverse_invoice`` like any other, its gross total taken off the invoice's open
amount as a memo reducing an invoice) whose lines name the invoice line they reduce
(``reduces_line_id``) with quantity 0 and GR/IR 0: every sum of invoiced quantities and GR/IR
values stays as it was without knowing about price reductions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.roles import Actor
from erp.clock import refuse_before_source
from erp.costing import accounts
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Supplier
from erp.masterdata.tax import line_amounts
from erp.messages import N_, Amount, Message, Named
from erp.narration import REASON_LENGTH, narrate
from erp.payables import services
from erp.payables.credit_memos import ENTER_PRICE_REDUCTION
from erp.payables.errors import OverCredited
from erp.payables.models import DocumentKind, InvoiceKind, SupplierInvoice, SupplierInvoiceLine
from erp.posting import Line, Posting, lock_open_period, post
from erp.purchasing import receiving

ZERO = Decimal(0)
ONE = Decimal(1)
UNIT_PRICE_PLACES = Decimal("0.000001")  # erp.db UnitPrice: Numeric(18, 6)


@dataclass(frozen=True)
class ReductionLine:
    """One invoice line's reduction: ``amount`` excluding tax, or ``new_unit_price`` (one of them)."""

    invoice_line_id: int
    amount: Decimal | None = None
    new_unit_price: Decimal | None = None


@dataclass(frozen=True)
class PriceReductionRequest:
    """The supplier's red-letter invoice (红字发票) for a price reduction, as printed: its number
    and date, its totals (positive amounts) and per invoice line the reduction."""

    invoice_id: int
    number: str
    invoice_date: dt.date
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    lines: Sequence[ReductionLine]
    posting_date: dt.date | None = None


@dataclass(frozen=True)
class _Reduced:
    index: int
    line: SupplierInvoiceLine
    amount: Decimal  # excluding tax
    tax: Decimal
    per_unit: Decimal
    quantity: Decimal  # the goods it lowers the price of: the line's quantity the invoice still holds


def _pointer(index: int, name: str) -> str:
    return f"lines/{index}/{name}"


@dataclass(frozen=True)
class Reducible:
    """An invoice line's amount excluding tax after its standing price reductions (``net``),
    and what may still be taken off it (``left``: also net of the goods credit memos reducing
    the invoice credited on its order line)."""

    net: Decimal
    left: Decimal
    quantity: Decimal  # of the line's quantity, what the invoice still holds (not credited back)


def reducible_amounts(session: Session, invoice: SupplierInvoice) -> dict[int, Reducible]:
    """Per line of ``invoice`` (its id), its net less the standing price reductions of that
    line, and what may still be taken off it: that, never more than what is left on its
    order line once the standing credit memos reducing the invoice credited goods there at
    the invoice's price (their net), and the quantity of it the invoice still holds (the
    line's, at most what is left on its order line once those memos credited theirs: the
    goods a reduction lowers the price of). Reversed memos count nothing."""
    memo_line, memo = aliased(SupplierInvoiceLine), aliased(SupplierInvoice)
    reduced = dict(session.execute(
        select(memo_line.reduces_line_id, func.sum(memo_line.net_amount))
        .join(memo, memo.id == memo_line.invoice_id)
        .where(memo_line.reduces_line_id.in_([line.id for line in invoice.lines]), memo.reversed_at.is_(None))
        .group_by(memo_line.reduces_line_id)).all())
    credited = {po_line_id: (Decimal(quantity or 0), Decimal(net or 0)) for po_line_id, quantity, net in session.execute(
        select(memo_line.po_line_id, func.sum(memo_line.quantity), func.sum(memo_line.net_amount))
        .join(memo, memo.id == memo_line.invoice_id)
        .where(memo.credits_invoice_id == invoice.id, memo.reversed_at.is_(None),
               memo_line.reduces_line_id.is_(None))
        .group_by(memo_line.po_line_id)).all()}
    left_on_order_line: dict[int, Decimal] = {}
    held_on_order_line: dict[int, Decimal] = {}
    for line in invoice.lines:
        left_on_order_line[line.po_line_id] = (left_on_order_line.get(line.po_line_id, ZERO) + line.net_amount
                                               - Decimal(reduced.get(line.id) or 0))
        held_on_order_line[line.po_line_id] = held_on_order_line.get(line.po_line_id, ZERO) + line.quantity
    found = {}
    for line in invoice.lines:
        credited_quantity, credited_net = credited.get(line.po_line_id, (ZERO, ZERO))
        net = line.net_amount - Decimal(reduced.get(line.id) or 0)
        left = min(net, left_on_order_line[line.po_line_id] - credited_net)
        quantity = min(line.quantity, held_on_order_line[line.po_line_id] - credited_quantity)
        found[line.id] = Reducible(net, max(left, ZERO), max(quantity, ZERO))
    return found


def _reduction(index: int, given: ReductionLine, line: SupplierInvoiceLine, reducible: Reducible) -> _Reduced:
    """The reduction of one invoice line, checked: more than 0, at most what is left of it. A
    new unit price is the price of the line's whole quantity after it: the reduction is the
    line's net after earlier reductions less the quantity at the new price."""
    if (given.amount is None) == (given.new_unit_price is None):
        raise ValidationFailed.for_field(_pointer(index, "amount"), Message(
            "give either the reduction or the new unit price"))
    left = reducible.left
    # The goods a reduction lowers the price of are those the invoice still holds: goods
    # credited back (returned) by a quantity credit memo were credited at their price then and
    # are reduced no more (their reduction would credit the supplier twice for them)
    held = reducible.quantity
    if given.new_unit_price is not None:
        field = "new_unit_price"
        if held == 0:
            amount = reducible.net  # nothing held: any new price is more than what is left
        else:
            current = (left / held).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP)
            amount = left - line_amounts(held, given.new_unit_price, line.tax_rate).net
            if given.new_unit_price < 0 or amount <= 0:
                raise ValidationFailed.for_field(_pointer(index, "new_unit_price"), Message(
                    "the new unit price {price} is not below the invoice's {invoiced}: a price reduction lowers it",
                    price=services.price_text(given.new_unit_price), invoiced=services.price_text(current)))
    else:
        amount = given.amount
        assert amount is not None
        if amount <= 0:
            raise ValidationFailed.for_field(_pointer(index, "amount"), Message(
                "a price reduction is more than 0.00, not {amount}", amount=Amount(amount)))
        field = "amount"
    if amount > left or held == 0:
        problem = Message(
            "invoice line {no} invoiced {net} excluding tax; earlier price reductions and credit memos leave {left}: "
            "it cannot be reduced by {amount}", no=line.line_no, net=Amount(line.net_amount), left=Amount(left),
            amount=Amount(amount))
        raise OverCredited(problem, errors=[{"pointer": f"/{_pointer(index, field)}", "detail": problem}],
                           reducible=format(left, "f"))
    per_unit = (amount / held).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP)
    return _Reduced(index, line, amount, line_amounts(ONE, amount, line.tax_rate).tax, per_unit, held)


def enter_price_reduction(session: Session, actor: Actor, request: PriceReductionRequest, *,
                          reason: str) -> SupplierInvoice:
    """Post a price-reduction credit memo (降价红字发票) on the posted invoice ``request.invoice_id``:
    Dr 2202 the printed total / Cr input VAT the printed tax / Cr the reduction where the
    invoice's price difference would go (``services.price_difference_lines``); GR/IR and the
    invoiced quantities untouched; its total off the invoice's open amount (at most what is
    open). Audited on the memo (``enter-price-reduction``, with ``reason``) and on the invoice
    (``credited``, its open amount before and after). Returns the memo.

    Refuses (nothing written): 403 role or company; 404 an invoice the caller cannot see
    (another company's); 409 ``duplicate-invoice``, ``invoice-reversed``, ``over-credited``
    (a reduction above what is left of the line: its net less earlier reductions and
    credits, pointer at the line's amount or new price), ``period-closed``; 422 no reason, a
    credit memo for an invoice, a line not of the invoice or named twice, a reduction of 0 or
    less, a new price not below the invoice's, ``invoice-totals-disagree``, a posting date
    before the memo's date, ``dated-before-source`` (before the invoice),
    ``dated-before-reopening`` (more than the invoice had open on that date), after the
    business day."""
    actor.require_role(*services.ENTERERS, action="entering supplier price reductions")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a price reduction needs a reason"))
    invoice = session.get(SupplierInvoice, request.invoice_id)
    if invoice is None or not actor.acts_for_company(invoice.company_id):
        raise NotFound(Message("supplier invoice {key} not found", key=request.invoice_id))
    if invoice.document_kind != DocumentKind.INVOICE:
        raise ValidationFailed.for_field("invoice_id", Message(
            "{number} is a credit memo: a price reduction reduces an invoice", number=invoice.document_number))
    if not request.lines:
        raise ValidationFailed.for_field("lines", Message("a price reduction needs at least one line"))
    lines = {line.id: line for line in invoice.lines}
    seen: set[int] = set()
    for index, given in enumerate(request.lines):
        if given.invoice_line_id not in lines:
            raise ValidationFailed.for_field(_pointer(index, "invoice_line_id"), Message(
                "invoice {number} has no line {line}", number=invoice.document_number, line=given.invoice_line_id))
        if given.invoice_line_id in seen:
            raise ValidationFailed.for_field(_pointer(index, "invoice_line_id"), Message(
                "invoice line {no} is named twice", no=lines[given.invoice_line_id].line_no))
        seen.add(given.invoice_line_id)
    supplier = session.get(Supplier, invoice.supplier_id)
    assert supplier is not None
    number = request.number.strip()
    services.refuse_entered_twice(session, supplier, DocumentKind.CREDIT_MEMO, number)
    posting_date = services.posting_date_of(request.posting_date, request.invoice_date)
    lock_open_period(session, invoice.company_id, posting_date)
    # The order lines first (in id order, as invoices, memos and receipts lock them), then the
    # invoice (as payments and memos do): two reductions of one invoice queue, and the second
    # reads the first's amount.
    locked = {line_id: receiving.lock_line_for_receipt(session, line_id)
              for line_id in sorted({lines[given.invoice_line_id].po_line_id for given in request.lines})}
    invoice = services.lock_invoice(session, actor, invoice.id)
    services.refuse_reversed(invoice)
    refuse_before_source(posting_date, invoice.posting_date, field="posting_date", what=N_("a credit memo"),
                         source=N_("invoice"), source_name=invoice.number)
    left = reducible_amounts(session, invoice)
    reduced = [_reduction(index, given, lines[given.invoice_line_id], left[given.invoice_line_id])
               for index, given in enumerate(request.lines)]
    services.check_printed_totals(request.net_total, request.tax_total, request.gross_total,
                                  [r.amount for r in reduced], [r.tax for r in reduced])
    services.refuse_beyond_open_on(posting_date, invoice, min(invoice.open_amount, request.gross_total),
                                   services.settlements(session, [invoice.id]).get(invoice.id, ()), memo=True)

    memo = SupplierInvoice(
        document_kind=DocumentKind.CREDIT_MEMO, invoice_kind=invoice.invoice_kind, number=number,
        supplier_id=supplier.id, company_id=invoice.company_id,
        # numbered once every check has passed (the series row stays locked until commit)
        document_number=services.document_number_for(session, invoice.company_id, DocumentKind.CREDIT_MEMO,
                                                      posting_date),
        invoice_date=request.invoice_date, posting_date=posting_date,
        due_date=request.invoice_date + dt.timedelta(days=services.DEFAULT_PAYMENT_DAYS),
        net_total=request.net_total, tax_total=request.tax_total, gross_total=request.gross_total,
        open_amount=request.gross_total, blocked=False, credits_invoice_id=invoice.id, created_by=actor.user_id,
    )
    invoiced = services.invoiced_quantities(session, list(locked))
    # the printed totals may differ from the lines' by rounding cents: the largest line takes them
    net_rounding = request.net_total - sum((r.amount for r in reduced), ZERO)
    tax_rounding = request.tax_total - sum((r.tax for r in reduced), ZERO)
    largest = max(reduced, key=lambda r: r.amount)
    journal: list[Line] = []  # signed as on an invoice; the memo posts their mirror
    carried: list[tuple[int, int, Decimal]] = []
    for r in reduced:
        line = r.line
        difference = r.amount + (net_rounding if r is largest else ZERO)
        if invoice.invoice_kind == InvoiceKind.ORDINARY:
            # the invoice's VAT was not deductible and went into the goods' cost: so does its reduction
            difference += r.tax + (tax_rounding if r is largest else ZERO)
        order_line = locked[line.po_line_id]
        open_received = order_line.received_quantity - invoiced.get(line.po_line_id, ZERO)
        memo.lines.append(SupplierInvoiceLine(
            line_no=r.index + 1, po_line_id=line.po_line_id, material_id=line.material_id, quantity=ZERO,
            unit_price=r.per_unit, tax_code_id=line.tax_code_id, tax_rate=line.tax_rate, net_amount=r.amount,
            tax_amount=r.tax, contract_price=line.contract_price, grir_amount=ZERO, price_difference=difference,
            open_received_quantity=open_received, reduces_line_id=line.id,
        ))
        # the same split as the invoice's own price difference on the line's goods: of its
        # quantity, what was invoiced and not yet received is held (on its way) first
        differences = services.price_difference_lines(
            session, invoice.company_id, line.material_id, r.quantity, difference,
            min(r.quantity, max(-open_received, ZERO)))
        journal += differences
        carried.append((line.po_line_id, line.material_id, services.material_cost_variance_of(differences)))
    if invoice.invoice_kind == InvoiceKind.SPECIAL:
        journal.append(Line(accounts.INPUT_VAT, request.tax_total))
    journal.append(Line(accounts.PAYABLES, -request.gross_total))
    services.add_supplier_document(session, memo, supplier)
    memo.entry_id = post(session, Posting(
        company_id=invoice.company_id, posting_date=posting_date, user_id=actor.user_id,
        source_type=services.SOURCE_INVOICE, source_id=memo.id,
        memo=narrate("supplier-price-reduction-document", document=memo.document_number,
                     invoice=invoice.document_number, supplier=Named.of(supplier), number=number),
        journal=[Line(line.account, -line.amount, line.material_id) for line in journal],
    )).entry_id
    services.post_variance_carried(session, actor, memo, supplier, posting_date, carried)
    open_before = invoice.open_amount
    applied = min(invoice.open_amount, memo.gross_total)
    invoice.open_amount -= applied
    memo.open_amount -= applied
    memo.applied_amount = applied
    session.flush()
    audit.record_change(session, actor, entity="supplier_invoice", entity_id=memo.id, action=ENTER_PRICE_REDUCTION,
                        after={"number": memo.number, "credits_invoice_id": invoice.id,
                               "gross_total": memo.gross_total,
                               "lines": {str(r.line.line_no): str(r.amount) for r in reduced}},
                        reason=reason[:500], company_id=memo.company_id)
    audit.record_change(session, actor, entity="supplier_invoice", entity_id=invoice.id, action="credited",
                        before={"open_amount": open_before}, after={"open_amount": invoice.open_amount},
                        reason=narrate("price-reduction-credited", REASON_LENGTH, document=memo.document_number,
                                       reason=reason),
                        company_id=invoice.company_id)
    return memo
