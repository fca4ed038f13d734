"""Sales and receivables, one function per use case: orders, confirmation and shipment
under the credit check, invoices, payments, credit holds and releases.

Every function runs inside the caller's transaction. Locks, in the order they are taken:
the sales order or payment row, the company's accounting period, the customer's exposure
row, then invoices (payments) or stock balances (shipments). The same order everywhere
keeps concurrent postings from deadlocking.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from erp.clock import refuse_after_business_day, refuse_before_source
from erp.audit import services as audit
from erp.auth.roles import Actor, Role, visible_or_404
from erp.costing import accounts
from erp.credit.errors import (
    CustomerInactive,
    CustomerOnCreditHold,
    CustomerPaymentReversed,
    IntercompanyOrderInvalid,
    IntercompanyPurchaseOrderNotOpen,
    InvoiceNotApplicable,
    MaterialInactive,
    NoOpenInvoices,
    NoUnappliedCredit,
    OrderNotBlocked,
    OrderStatusConflict,
    OverShipment,
)
from erp.credit.exposure import (
    LIMIT_RULE,
    ZERO,
    CreditDecision,
    CreditPolicy,
    CustomerNamed,
    ExposureValues,
    decide,
    lock_exposure,
    lock_position,
    move_exposure,
    open_line_value,
    open_order_value,
    read_exposure,
    read_position,
)
from erp.credit.models import (
    OPEN_ORDER_STATUSES,
    CreditNote,
    CreditRelease,
    CustomerExposure,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentApplication,
    SalesOrder,
    SalesOrderLine,
    SalesOrderStatus,
)
from erp.credit.intercompany import partner_line_flows
from erp.credit.releases import ReleaseEffect, confirmed_unreleased_orders, effect_of_release
from erp.db import utcnow
from erp.errors import NotFound, ValidationFailed
from erp.inventory import services as inventory
from erp.inventory.errors import InvalidQuantity, WarehouseNotOfCompany
from erp.masterdata.models import Company, Customer, Material, Warehouse
from erp.masterdata.services import (
    company_for_customer,
    deactivation_check,
    documents_found,
    partner_use_check,
    warehouse_use_check,
)
from erp.masterdata.tax import line_amounts, tax_code_for
from erp.messages import N_, Amount, Message, Named
from erp.money import MAX_LINE_AMOUNT, MAX_LINE_QUANTITY
from erp.posting import Line, Posting, lock_open_period, post
from erp.purchasing.errors import OrderHasGoodsInTransit, OrderHasOpenIntercompanySales
from erp.purchasing.models import OPEN_FOR_RECEIPT_STATUSES, PurchaseOrder, PurchaseOrderLine
from erp.purchasing.orders import register_order_end_check
from erp.purchasing.receiving import open_for_receipt
from erp.purchasing.services import next_in_series, take_yearly_number, yearly_number
from erp import narration
from erp.narration import narrate

PAYMENT_ROLES = (Role.SALES, Role.COST_ACCOUNTANT)
# Who may read customers' group-wide credit positions.
POSITION_ROLES = (Role.SALES, Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER, Role.CIO)


@dataclass(frozen=True)
class OrderLineRequest:
    material_id: int
    warehouse_id: int
    quantity: Decimal
    unit_price: Decimal
    # Intercompany orders: the buying company's purchase order line this line fills.
    partner_po_line_id: int | None = None
    # Output VAT: default the customer's code, else the material's (erp.masterdata.tax).
    tax_code_id: int | None = None


@dataclass(frozen=True)
class ShipmentLineRequest:
    order_line_id: int
    quantity: Decimal
    batch_id: int | None = None


@dataclass(frozen=True)
class InvoiceItem:
    """One line of an invoice: the total the customer owes for it (including VAT), and what
    was shipped for it when there was a shipment. ``tax_amount`` is the VAT in ``amount``
    (zero for receivables taken over as totals: history, opening balances)."""

    amount: Decimal
    material_id: int | None = None
    order_line_id: int | None = None
    stock_document_id: int | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    tax_amount: Decimal = Decimal("0")
    tax_code_id: int | None = None
    tax_rate: Decimal = Decimal("0")

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.tax_amount


@dataclass
class OrderResult:
    """An order, with the credit check the request ran (None when it ran none)."""

    order: SalesOrder
    credit: CreditDecision | None = None


@dataclass
class ShipmentResult:
    invoice: Invoice
    order_status: SalesOrderStatus | None
    credit: CreditDecision | None = None


# --- shared lookups --------------------------------------------------------------------

def _customer(session: Session, customer_id: int, *, field: str | None = None) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        if field is not None:
            raise ValidationFailed.for_field(field, Message("no customer with id {key}", key=customer_id))
        raise NotFound(Message("customer {key} not found", key=customer_id))
    return customer


def _lock_order(session: Session, actor: Actor, order_id: int) -> SalesOrder:
    order = session.scalars(
        select(SalesOrder).where(SalesOrder.id == order_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise NotFound(Message("sales order {key} not found", key=order_id))
    visible_or_404(actor, order.company_id, N_("sales order"), order_id)
    return order


def _check_quantity_unit(quantity: Decimal, material: Material, pointer: str) -> None:
    if not material.unit.admits(quantity):
        raise InvalidQuantity(
            Message("material {material} is counted in {unit} with {decimals} decimal places; got {quantity}",
                    material=material.code, unit=material.unit.code, decimals=material.unit.decimals, quantity=quantity),
            errors=[{"pointer": pointer, "detail": Message("too many decimal places for the unit")}],
        )


# --- orders ------------------------------------------------------------------------------

def create_order(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    customer_id: int,
    order_date: dt.date,
    lines: Sequence[OrderLineRequest],
    customer_reference: str | None = None,
) -> OrderResult:
    """Take a customer's order for a company (a draft: no credit is used until confirmed)."""
    actor.require_role(Role.SALES, action="taking sales orders")
    actor.require_company(company_id)
    refuse_after_business_day(order_date, field="order_date", what=N_("a sales order"))
    company = session.get(Company, company_id)
    if company is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    customer = _customer(session, customer_id, field="customer_id")
    if not customer.active:
        raise CustomerInactive(Message("customer {customer} is inactive; it takes no new orders", customer=customer.code))
    if not lines:
        raise ValidationFailed.for_field("lines", Message("an order needs at least one line"))
    buyer = company_for_customer(session, customer_id)
    if buyer is not None and buyer.id == company_id:
        raise IntercompanyOrderInvalid(Message("customer {customer} stands for the selling company itself",
                                               customer=customer.code),
                                       errors=[{"pointer": "/customer_id", "detail": Message("the seller itself")}])
    order = SalesOrder(company_id=company_id, customer_id=customer_id, order_date=order_date,
                       customer_reference=customer_reference, created_by=actor.user_id,
                       partner_company_id=buyer.id if buyer is not None else None)
    for number, line in enumerate(lines, start=1):
        pointer = f"/lines/{number - 1}"
        material = session.get(Material, line.material_id)
        if material is None:
            raise ValidationFailed(Message("no material with id {key}", key=line.material_id),
                                   errors=[{"pointer": f"{pointer}/material_id", "detail": Message("no such material")}])
        if not material.active:
            raise MaterialInactive(Message("material {material} is inactive", material=material.code))
        warehouse = session.get(Warehouse, line.warehouse_id)
        if warehouse is None or warehouse.company_id != company_id:
            raise WarehouseNotOfCompany(
                Message("warehouse {warehouse} is not a warehouse of company {company}", warehouse=line.warehouse_id,
                        company=company_id),
                errors=[{"pointer": f"{pointer}/warehouse_id",
                         "detail": Message("not a warehouse of the order's company")}],
            )
        _check_quantity_unit(line.quantity, material, f"{pointer}/quantity")
        if line.quantity > MAX_LINE_QUANTITY or line.quantity * line.unit_price > MAX_LINE_AMOUNT:
            raise InvalidQuantity(
                Message("{quantity} x {unit_price} is beyond any plausible order line "
                        "(at most {max_quantity} units and {max_amount} CNY)", quantity=line.quantity,
                        unit_price=line.unit_price, max_quantity=MAX_LINE_QUANTITY, max_amount=MAX_LINE_AMOUNT),
                errors=[{"pointer": f"{pointer}/quantity", "detail": Message("implausibly large line")}],
            )
        tax = tax_code_for(session, day=order_date, material_id=material.id, customer_id=customer_id,
                           tax_code_id=line.tax_code_id, field=f"lines/{number - 1}/tax_code_id")
        if buyer is not None:
            _match_partner_line(session, line, seller_id=company_id, buyer=buyer, pointer=pointer)
        elif line.partner_po_line_id is not None:
            raise IntercompanyOrderInvalid(
                Message("customer {customer} is not a company of the group: the line fills no purchase order",
                        customer=customer.code),
                errors=[{"pointer": f"{pointer}/partner_po_line_id", "detail": Message("not an intercompany order")}])
        order.lines.append(SalesOrderLine(line_no=number, material_id=material.id, warehouse_id=warehouse.id,
                                          quantity=line.quantity, unit_price=line.unit_price,
                                          tax_code_id=tax.tax_code_id, tax_rate=tax.rate,
                                          partner_po_line_id=line.partner_po_line_id))
    # Numbered last, once every check has passed: the series row stays locked until the
    # transaction ends, so the lock is held as briefly as the request allows.
    order.number = order_number(session, company, order_date)
    session.add(order)
    session.flush()
    return OrderResult(order)


def order_number(session: Session, company: Company, order_date: dt.date) -> str:
    """``SO-<company code>-2026-000001``: the next number of the company's sales order series
    of the order date's year, by the purchase orders' numbering (``next_in_series``: one
    locked row per series, so numbers are unique and, as a rolled-back transaction gives
    its number back, without gaps; concurrent orders of one company wait for each other)."""
    series = f"SO-{company.code}-{order_date.year}"
    return f"{series}-{next_in_series(session, series):06d}"


def lock_partner_lines(session: Session, po_line_ids: Sequence[int]) -> dict[int, PurchaseOrderLine]:
    """The buying company's purchase order lines an intercompany order fills, read afresh and
    locked with their orders until commit, in line id order (FOR NO KEY UPDATE, as a goods
    receipt locks its line and order: erp.purchasing.receiving): two sales orders filling one
    line, a receipt on it and the buyer's cancellation or closing of its order (which locks the
    order row) take their turns, so none reads what another is about to change."""
    if not po_line_ids:
        return {}
    lines = session.scalars(
        select(PurchaseOrderLine).join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .options(contains_eager(PurchaseOrderLine.order))
        .where(PurchaseOrderLine.id.in_(sorted(set(po_line_ids)))).order_by(PurchaseOrderLine.id)
        .with_for_update(of=[PurchaseOrderLine, PurchaseOrder], key_share=True)
        .execution_options(populate_existing=True)).unique().all()
    return {line.id: line for line in lines}


@dataclass(frozen=True)
class PartnerLineRoom:
    """What an intercompany order may still fill of a buyer's purchase order line: the
    receiving rule's open quantity less what other sales orders will still deliver on it."""

    can_receive: Decimal
    still_coming: Decimal

    @property
    def leaves(self) -> Decimal:
        return max(self.can_receive - self.still_coming, Decimal(0))


def partner_line_room(session: Session, po_line: PurchaseOrderLine, *,
                      excluding_order_id: int | None = None) -> PartnerLineRoom:
    """The room left on ``po_line`` for an intercompany order (other than ``excluding_order_id``,
    whose own quantity a confirmation checks again): the receiving rule's open quantity
    (within the material's over-receipt tolerance, less what it received, imported receipts
    included) less what the other sales orders will still deliver on it."""
    flows = partner_line_flows(session, [po_line.id], excluding_order_id=excluding_order_id)[po_line.id]
    material = session.get(Material, po_line.material_id)
    assert material is not None
    # The receiving rule's open quantity (a return to the seller opens the line again for
    # what went back); what the other orders will still deliver is what they have not
    # shipped, and what they shipped that is not yet received (goods the buyer sent back are
    # not coming: erp.credit.intercompany.PartnerLineFlows).
    can_receive = open_for_receipt(po_line.quantity, po_line.received_quantity, material.over_receipt_tolerance_pct)
    return PartnerLineRoom(can_receive, flows.still_coming)


def _refuse_beyond_room(session: Session, po_line: PurchaseOrderLine, quantity: Decimal, pointer: str, *,
                        excluding_order_id: int | None = None) -> None:
    room = partner_line_room(session, po_line, excluding_order_id=excluding_order_id)
    if quantity <= room.leaves:
        return
    material = session.get(Material, po_line.material_id)
    assert material is not None
    raise IntercompanyOrderInvalid(
        Message("purchase order {number} line {line} orders {ordered} and has received {received}; with the "
                "{tolerance}% tolerance it can receive {open} more, {coming} of which other sales orders will "
                "still deliver: at most {leaves}", number=po_line.order.number, line=po_line.line_no,
                ordered=po_line.quantity, received=po_line.received_quantity,
                tolerance=material.over_receipt_tolerance_pct, open=room.can_receive, coming=room.still_coming,
                leaves=room.leaves),
        errors=[{"pointer": f"{pointer}/quantity",
                 "detail": Message("more than the purchase order can still receive (at most {leaves})",
                                   leaves=room.leaves)}])


def _match_partner_line(session: Session, line: OrderLineRequest, *, seller_id: int, buyer: Company,
                        pointer: str) -> None:
    """An intercompany line fills a purchase order line of the buying company placed with
    the seller's supplier record, open for receipt, for the same material, at its price (the
    intercompany contract's), and never for more than that line can still receive (within the
    material's over-receipt tolerance, less what it received, imported receipts included) less
    what other sales orders will still deliver on it. The line is locked first: two orders
    filling it at once take their turns, the second seeing the first's quantity."""
    where = f"{pointer}/partner_po_line_id"
    if line.partner_po_line_id is None:
        raise IntercompanyOrderInvalid(
            Message("the customer is company {buyer} of the group: each line must name the purchase order line of "
                    "{buyer} it fills", buyer=buyer.code),
            errors=[{"pointer": where, "detail": Message("required for intercompany orders")}])
    po_line = lock_partner_lines(session, [line.partner_po_line_id]).get(line.partner_po_line_id)
    seller = session.get(Company, seller_id)
    assert seller is not None
    if po_line is None or po_line.order.receiving_company_id != buyer.id or seller.supplier_id is None \
            or po_line.order.supplier_id != seller.supplier_id:
        # The buyer's order (named) placed with another supplier, or no order of the buyer's at
        # all (another company's order number is not the seller's to read).
        refusal = (Message("purchase order {number} line {line} is not an order of {buyer} placed with {seller}",
                           number=po_line.order.number, line=po_line.line_no, buyer=buyer.code, seller=seller.code)
                   if po_line is not None and po_line.order.receiving_company_id == buyer.id else
                   Message("the purchase order line given is not an order of {buyer} placed with {seller}",
                           buyer=buyer.code, seller=seller.code))
        raise IntercompanyOrderInvalid(
            refusal, errors=[{"pointer": where, "detail": Message("not an order of the buyer with this seller")}])
    order_number, line_no = po_line.order.number, po_line.line_no
    if po_line.order.status not in OPEN_FOR_RECEIPT_STATUSES:
        raise IntercompanyOrderInvalid(
            Message("purchase order {number} is {status}; only open orders are filled", number=order_number,
                    status=po_line.order.status.value),
            errors=[{"pointer": where, "detail": Message("order not open")}])
    if po_line.material_id != line.material_id:
        raise IntercompanyOrderInvalid(
            Message("purchase order {number} line {line} is for another material", number=order_number,
                    line=line_no),
            errors=[{"pointer": f"{pointer}/material_id", "detail": Message("not the ordered material")}])
    if po_line.unit_price != line.unit_price:
        raise IntercompanyOrderInvalid(
            Message("the intercompany contract price of purchase order {number} line {line} is {price}, not {given}",
                    number=order_number, line=line_no, price=po_line.unit_price, given=line.unit_price),
            errors=[{"pointer": f"{pointer}/unit_price", "detail": Message("not the contract price")}])
    _refuse_beyond_room(session, po_line, line.quantity, pointer)


def recheck_partner_lines(session: Session, order: SalesOrder, *, confirming: bool) -> None:
    """Before an intercompany order is confirmed or ships (its own row locked by the caller):
    the buyer's purchase order lines it fills, locked (``lock_partner_lines``), must still be
    open for receipt (409 intercompany-purchase-order-not-open: the buyer cancelled or closed
    its order since), and at confirmation its open quantities must still fit in what the
    lines can receive less what the other sales orders will deliver (422
    intercompany-order-invalid)."""
    if order.partner_company_id is None:
        return
    filling = [line for line in sorted(order.lines, key=lambda line: line.line_no)
               if line.partner_po_line_id is not None]
    locked = lock_partner_lines(session, [line.partner_po_line_id for line in filling
                                          if line.partner_po_line_id is not None])
    for line in filling:
        assert line.partner_po_line_id is not None
        po_line = locked[line.partner_po_line_id]
        index = order.lines.index(line)
        if po_line.order.status not in OPEN_FOR_RECEIPT_STATUSES:
            raise IntercompanyPurchaseOrderNotOpen(
                Message("purchase order {number} of the buying company, which line {line} of sales order {order} "
                        "fills, is {status}; only lines of open orders are confirmed or shipped",
                        number=po_line.order.number, line=line.line_no, order=order.number,
                        status=po_line.order.status.value),
                errors=[{"pointer": f"/lines/{index}/partner_po_line_id", "detail": Message("order not open")}])
        if confirming:
            _refuse_beyond_room(session, po_line, line.quantity - line.shipped_quantity, f"/lines/{index}",
                                excluding_order_id=order.id)


def refuse_ending_order_with_goods_in_transit(session: Session, order: PurchaseOrder) -> None:
    """A buyer's purchase order is not cancelled or closed while a group company's shipment
    against one of its lines (intercompany sales orders filling it) is not yet received by
    goods receipts on that line: the goods could never be received (trial finding 135); nor
    while a group company's confirmed sales order against one of its lines still has
    quantity to ship: the seller has committed to deliver it."""
    # The caller holds the order's row lock, which the sellers' confirmations and shipments
    # wait for (``lock_partner_lines``): one that went first is seen here, one that waited
    # sees the order ended.
    for index, po_line in enumerate(sorted(order.lines, key=lambda line: line.line_no)):
        to_ship = session.execute(
            select(SalesOrder.number, func.sum(SalesOrderLine.quantity - SalesOrderLine.shipped_quantity))
            .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
            .where(SalesOrderLine.partner_po_line_id == po_line.id, SalesOrder.status.in_(OPEN_ORDER_STATUSES),
                   SalesOrderLine.quantity > SalesOrderLine.shipped_quantity)
            .group_by(SalesOrder.number).order_by(SalesOrder.number)).all()
        if to_ship:
            message = Message("{quantity} on confirmed sales order {orders} of a group company against purchase "
                              "order {number} line {line} are not yet shipped",
                              quantity=sum((Decimal(quantity) for _, quantity in to_ship), Decimal(0)),
                              orders=", ".join(number for number, _ in to_ship), number=order.number,
                              line=po_line.line_no)
            raise OrderHasOpenIntercompanySales(message, errors=[{"pointer": f"/lines/{index}", "detail": message}])
        in_transit = partner_line_flows(session, [po_line.id])[po_line.id].to_buyer
        if in_transit > 0:
            shipped_on = session.scalars(
                select(SalesOrder.number).join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
                .where(SalesOrderLine.partner_po_line_id == po_line.id, SalesOrderLine.shipped_quantity > 0)
                .distinct().order_by(SalesOrder.number)).all()
            message = Message("{quantity} shipped by a group company on sales order {orders} against purchase order "
                              "{number} line {line} are not yet received", quantity=in_transit,
                              orders=", ".join(shipped_on), number=order.number, line=po_line.line_no)
            raise OrderHasGoodsInTransit(message, errors=[{"pointer": f"/lines/{index}", "detail": message}])


register_order_end_check("intercompany-goods-in-transit", refuse_ending_order_with_goods_in_transit)


def confirm_order(session: Session, actor: Actor, order_id: int, *, policy: CreditPolicy) -> OrderResult:
    """Confirm a draft (or re-try a blocked) order under the credit check.

    Passed: the order is confirmed and its value joins the customer's exposure (with a
    warning from the warning share of the limit). Blocked (over the limit, or on credit
    hold): the order is blocked, exposure is unchanged, and it waits for a credit
    controller's release or a new confirmation once the customer has paid.
    """
    actor.require_role(Role.SALES, action="confirming sales orders")
    order = _lock_order(session, actor, order_id)
    if order.status not in (SalesOrderStatus.DRAFT, SalesOrderStatus.BLOCKED):
        raise OrderStatusConflict(Message("sales order {order} is {status}; only draft or blocked orders can be "
                                          "confirmed", order=order.number, status=order.status),
                                  order_status=order.status.value)
    recheck_partner_lines(session, order, confirming=True)
    amount = open_order_value(order.lines)
    position, customer = lock_position(session, order.customer_id)
    decision = decide(position, amount, policy, customer_blocked=customer.blocked, customer=customer)
    if decision.blocked:
        if order.status != SalesOrderStatus.BLOCKED:
            order.move_to(SalesOrderStatus.BLOCKED)
        order.credit_block_rule = decision.rule
        order.credit_blocked_at = utcnow()
        order.credit_block_exposure = decision.exposure_after
        session.flush()
        return OrderResult(order, decision)
    _confirm(order, position, amount, actor)
    session.flush()
    return OrderResult(order, decision)


def _confirm(order: SalesOrder, position: CustomerExposure, amount: Decimal, actor: Actor) -> None:
    order.move_to(SalesOrderStatus.CONFIRMED)
    order.confirmed_by = actor.user_id
    order.confirmed_at = utcnow()
    move_exposure(position, orders=amount)


def cancel_order(session: Session, actor: Actor, order_id: int, *, reason: str | None = None) -> OrderResult:
    """Cancel an order, or what is still to ship of it; its open value leaves the exposure."""
    actor.require_role(Role.SALES, action="cancelling sales orders")
    order = _lock_order(session, actor, order_id)
    was_open = order.status in OPEN_ORDER_STATUSES
    status_before = order.status
    order.move_to(SalesOrderStatus.CANCELLED)
    order.cancelled_by = actor.user_id
    order.cancelled_at = utcnow()
    order.cancel_reason = reason
    if was_open:
        move_exposure(lock_exposure(session, order.customer_id), orders=-open_order_value(order.lines))
    session.flush()
    audit.record_change(session, actor, entity="sales_order", entity_id=order.id, action="cancel",
                        before={"status": status_before}, after={"status": order.status}, reason=reason,
                        company_id=order.company_id)
    return OrderResult(order)


# --- shipments and invoices --------------------------------------------------------------

def ship_order(
    session: Session,
    actor: Actor,
    order_id: int,
    *,
    posting_date: dt.date,
    lines: Sequence[ShipmentLineRequest],
    policy: CreditPolicy,
) -> ShipmentResult:
    """Ship order lines and invoice them, in one transaction, after the credit check.

    Stock leaves first-expiry-first-out at standard cost to cost of goods sold (through
    the inventory ledger); the invoice takes quantity x the order's unit price, rounded
    half-up to the cent, due after the customer's payment terms; the journal debits
    receivables for the customer and credits revenue. The shipped value moves from open
    orders to open invoices in the exposure. Refused outright when the customer is on
    credit hold, and when the exposure after the shipment is above the limit (unless a
    credit controller released the order).
    """
    actor.require_role(Role.SALES, action="shipping sales orders")
    order = _lock_order(session, actor, order_id)
    if order.status not in OPEN_ORDER_STATUSES:
        if order.status == SalesOrderStatus.BLOCKED:
            message = Message("sales order {order} is {status}; only confirmed orders ship (blocked by credit "
                              "control: ask a credit controller to release it)", order=order.number, status=order.status)
        else:
            message = Message("sales order {order} is {status}; only confirmed orders ship", order=order.number,
                              status=order.status)
        raise OrderStatusConflict(message, order_status=order.status.value)
    by_id = {line.id: line for line in order.lines}
    if len({request.order_line_id for request in lines}) != len(lines):
        raise ValidationFailed.for_field("lines", Message("an order line appears more than once"))
    items: list[tuple[SalesOrderLine, ShipmentLineRequest, Decimal, Decimal]] = []
    for index, request in enumerate(lines):
        line = by_id.get(request.order_line_id)
        if line is None:
            raise ValidationFailed(Message("order line {line} is not a line of sales order {order}",
                                           line=request.order_line_id, order=order.number),
                                   errors=[{"pointer": f"/lines/{index}/order_line_id",
                                            "detail": Message("not a line of this order")}])
        still_open = line.quantity - line.shipped_quantity
        if request.quantity > still_open:
            raise OverShipment(Message("line {line} has {open} still to ship; {requested} requested",
                                       line=line.line_no, open=still_open, requested=request.quantity),
                               open_quantity=str(still_open))
        orders_change = open_line_value(line.quantity, line.shipped_quantity + request.quantity, line.unit_price,
                                        line.tax_rate) \
            - open_line_value(line.quantity, line.shipped_quantity, line.unit_price, line.tax_rate)
        items.append((line, request, line_amounts(request.quantity, line.unit_price, line.tax_rate), orders_change))
    invoiced = sum((amounts.gross for _, _, amounts, _ in items), ZERO)
    orders_change = sum((change for _, _, _, change in items), ZERO)

    refuse_before_source(posting_date, order.order_date, field="posting_date", what=N_("a shipment and its invoice"),
                         source=N_("sales order"), source_name=order.number)
    recheck_partner_lines(session, order, confirming=False)
    lock_open_period(session, order.company_id, posting_date)
    position, customer = lock_position(session, order.customer_id)
    decision = decide(position, invoiced + orders_change, policy, customer_blocked=customer.blocked,
                      released=order.credit_released, customer=customer)
    if decision.blocked:
        raise decision.refusal(order_id=order.id, order_number=order.number)

    # One document per line, all the lines' stock locked first in the one order (two
    # shipments naming the same goods in opposite order must not deadlock: inventory's).
    documents = inventory.ship_lines(
        session, actor, lines=[inventory.TakeLine(line.warehouse_id, line.material_id, request.quantity,
                                                  request.batch_id) for line, request, _, _ in items],
        posting_date=posting_date, customer_id=order.customer_id, reference=order.number)
    invoice_items: list[InvoiceItem] = []
    for (line, request, amounts, _), document_id in zip(items, documents, strict=True):
        line.shipped_quantity += request.quantity
        invoice_items.append(InvoiceItem(amounts.gross, line.material_id, line.id, document_id, request.quantity,
                                         line.unit_price, tax_amount=amounts.tax, tax_code_id=line.tax_code_id,
                                         tax_rate=line.tax_rate))
    invoice = raise_invoice(session, position, company_id=order.company_id, invoice_date=posting_date,
                            payment_terms_days=customer.payment_terms_days, items=invoice_items,
                            user_id=actor.user_id, order_id=order.id, order_number=order.number,
                            partner_company_id=order.partner_company_id)
    done = all(line.shipped_quantity == line.quantity for line in order.lines)
    order.move_to(SalesOrderStatus.SHIPPED if done else SalesOrderStatus.PARTIALLY_SHIPPED)
    move_exposure(position, orders=orders_change)
    session.flush()
    return ShipmentResult(invoice, order.status, decision)


def _invoice_narration(kind: InvoiceKind, invoice: str, order: str | int | None, corrects: str | None) -> str:
    """The 摘要 of an invoice's or debit note's entry (erp.narration), naming the documents by
    their numbers (entries posted before migration 0046 name them by id)."""
    key = "sales-invoice" if kind == InvoiceKind.INVOICE else "debit-note"
    if corrects:
        return narrate(f"{key}-corrects", invoice=invoice, corrects=corrects)
    if order:
        return narrate(f"{key}-order", invoice=invoice, order=order)
    return narrate(key, invoice=invoice)


INVOICE_PREFIXES = {InvoiceKind.INVOICE: "AR", InvoiceKind.DEBIT_NOTE: "DN"}
PAYMENT_PREFIX = "RC"
CREDIT_NOTE_PREFIX = "CN"


def receivables_number(session: Session, prefix: str, company_id: int, day: dt.date) -> str:
    """``AR-CA-2026-000001``: the next number of the company's ``prefix`` series (``AR`` sales
    invoices, ``DN`` debit notes, ``RC`` customer payments, ``CN`` credit notes) of ``day``'s
    year, by the purchase and sales orders' numbering (``next_in_series``: one locked row per
    series, unique and without gaps; concurrent postings of one company and series wait for
    each other from here to their commit, so callers take it once every check has passed)."""
    company = session.get(Company, company_id)
    if company is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    return take_yearly_number(session, prefix, company.code, day)


def receivables_numbers(session: Session, prefix: str, company_id: int, days: Sequence[dt.date]) -> list[str]:
    """One number per day of ``days`` (in their order), for a bulk posting: each year's series
    is advanced once by the count it takes, so a thousand invoices take one statement per year."""
    company = session.get(Company, company_id)
    if company is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    counts: dict[int, int] = defaultdict(int)
    for day in days:
        counts[day.year] += 1
    following = {year: next_in_series(session, f"{prefix}-{company.code}-{year}", count)
                 for year, count in sorted(counts.items())}
    numbers = []
    for day in days:
        numbers.append(yearly_number(prefix, company.code, day.year, following[day.year]))
        following[day.year] += 1
    return numbers

def raise_invoice(
    session: Session,
    position: CustomerExposure,
    *,
    company_id: int,
    invoice_date: dt.date,
    payment_terms_days: int,
    items: Sequence[InvoiceItem],
    user_id: int,
    order_id: int | None = None,
    order_number: str | None = None,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    corrects_invoice_id: int | None = None,
    reason: str | None = None,
    partner_company_id: int | None = None,
) -> Invoice:
    """Post a receivable: the invoice and its lines, the journal (Dr receivables for the
    customer, Cr revenue by material), and the customer's open invoices in ``position``
    (its exposure row, locked by the caller). The financial half of a shipment; also how
    receivables without an order (history, opening balances) enter."""
    lock_open_period(session, company_id, invoice_date)
    total = sum((item.amount for item in items), ZERO)
    tax = sum((item.tax_amount for item in items), ZERO)
    invoice = Invoice(
        # numbered once every check has passed (the series row stays locked until commit)
        document_number=receivables_number(session, INVOICE_PREFIXES[kind], company_id, invoice_date),
        company_id=company_id, customer_id=position.customer_id, order_id=order_id, invoice_date=invoice_date,
        due_date=invoice_date + dt.timedelta(days=payment_terms_days), amount=total, open_amount=total,
        net_amount=total - tax, tax_amount=tax,
        status=InvoiceStatus.OPEN, kind=kind, corrects_invoice_id=corrects_invoice_id, reason=reason,
        partner_company_id=partner_company_id,
        created_by=user_id, lines=[InvoiceLine(order_line_id=i.order_line_id, stock_document_id=i.stock_document_id,
                           material_id=i.material_id, quantity=i.quantity, unit_price=i.unit_price, amount=i.amount,
                           net_amount=i.net_amount, tax_amount=i.tax_amount, tax_code_id=i.tax_code_id,
                           tax_rate=i.tax_rate)
               for i in items],
    )
    session.add(invoice)
    session.flush()
    revenue: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        revenue[item.material_id] += item.net_amount
    post(session, Posting(
        company_id=company_id, posting_date=invoice_date, source_type="invoice", source_id=invoice.id,
        memo=_invoice_narration(kind, invoice.document_number, order_number or order_id,
                                session.scalar(select(Invoice.document_number).where(Invoice.id == corrects_invoice_id))
                                if corrects_invoice_id else None), user_id=user_id,
        journal=[Line(accounts.RECEIVABLES, total, customer_id=position.customer_id),
               *(Line(accounts.REVENUE, -amount, material_id=material) for material, amount in revenue.items()),
               Line(accounts.OUTPUT_VAT, -tax)],
    ))
    move_exposure(position, invoices=total)
    return invoice


# --- payments ------------------------------------------------------------------------------

def _open_invoices_for_update(
    session: Session, *, company_id: int, customer_id: int, applied_on: dt.date, invoice_ids: Sequence[int] | None
) -> list[Invoice]:
    """The invoices a payment settles, locked: the named ones in the given order, or the
    customer's open invoices in the company, oldest due first."""
    query = select(Invoice).with_for_update().execution_options(populate_existing=True)
    if invoice_ids is None:
        return list(session.scalars(query.where(
            Invoice.company_id == company_id, Invoice.customer_id == customer_id, Invoice.open_amount > 0,
            Invoice.invoice_date <= applied_on,
        ).order_by(Invoice.due_date, Invoice.id)))
    if len(set(invoice_ids)) != len(invoice_ids):
        raise ValidationFailed.for_field("invoice_ids", Message("an invoice appears more than once"))
    found = {invoice.id: invoice for invoice in session.scalars(query.where(Invoice.id.in_(invoice_ids)))}
    named: list[Invoice] = []
    for index, invoice_id in enumerate(invoice_ids):
        invoice = found.get(invoice_id)
        # The sentence names the invoice; the field's detail is the same without its number.
        why: Message | None = None
        if invoice is None or invoice.company_id != company_id or invoice.customer_id != customer_id:
            why = Message("is not an invoice of this customer in this company")
            sentence = Message("invoice {invoice} is not an invoice of this customer in this company",
                               invoice=invoice_id)
        elif invoice.open_amount == 0:
            why = Message("is paid already")
            sentence = Message("invoice {invoice} is paid already", invoice=invoice_id)
        elif invoice.invoice_date > applied_on:
            why = Message("is dated {date}, after the payment", date=invoice.invoice_date)
            sentence = Message("invoice {invoice} is dated {date}, after the payment", invoice=invoice_id,
                               date=invoice.invoice_date)
        if why is not None:
            raise InvoiceNotApplicable(sentence, errors=[{"pointer": f"/invoice_ids/{index}", "detail": why}])
        named.append(invoice)
    return named


def _apply(
    session: Session, actor: Actor, payment: Payment, invoices: Sequence[Invoice], applied_on: dt.date
) -> Decimal:
    """Settle ``invoices`` in order from the payment's unapplied amount; returns what was applied."""
    applied = ZERO
    for invoice in invoices:
        if payment.unapplied_amount == 0:
            break
        amount = min(payment.unapplied_amount, invoice.open_amount)
        invoice.open_amount -= amount
        invoice.status = InvoiceStatus.PAID if invoice.open_amount == 0 else InvoiceStatus.PARTIALLY_PAID
        payment.unapplied_amount -= amount
        applied += amount
        session.add(PaymentApplication(
            payment_id=payment.id, invoice_id=invoice.id, amount=amount, applied_on=applied_on,
            days_late=(applied_on - invoice.due_date).days, applied_by=actor.user_id,
        ))
    return applied


def record_payment(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    customer_id: int,
    payment_date: dt.date,
    amount: Decimal,
    invoice_ids: Sequence[int] | None = None,
    bank_reference: str | None = None,
) -> Payment:
    """Book money received from a customer and settle its open invoices in the company,
    oldest due first (or the named invoices, in order). What is left stays as unapplied
    credit for later. Journal: Dr bank; Cr receivables (applied) and Cr customer advances
    (unapplied), both for the customer."""
    actor.require_role(*PAYMENT_ROLES, action="recording customer payments")
    actor.require_company(company_id)
    if session.get(Company, company_id) is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    _customer(session, customer_id, field="customer_id")
    refuse_after_business_day(payment_date, field="payment_date", what=N_("a payment"))
    lock_open_period(session, company_id, payment_date)
    position = lock_exposure(session, customer_id)
    invoices = _open_invoices_for_update(session, company_id=company_id, customer_id=customer_id,
                                         applied_on=payment_date, invoice_ids=invoice_ids)
    payment = Payment(company_id=company_id, customer_id=customer_id, payment_date=payment_date, amount=amount,
                      unapplied_amount=amount, bank_reference=bank_reference, created_by=actor.user_id,
                      document_number=receivables_number(session, PAYMENT_PREFIX, company_id, payment_date))
    session.add(payment)
    session.flush()
    applied = _apply(session, actor, payment, invoices, payment_date)
    post(session, Posting(
        company_id=company_id, posting_date=payment_date, source_type="payment", source_id=payment.id,
        memo=(narrate("customer-payment-reference", payment=payment.document_number, reference=bank_reference)
              if bank_reference else narrate("customer-payment", payment=payment.document_number)),
        user_id=actor.user_id,
        journal=[Line(accounts.BANK, amount), Line(accounts.RECEIVABLES, -applied, customer_id=customer_id),
               Line(accounts.CUSTOMER_ADVANCES, -(amount - applied), customer_id=customer_id)],
    ))
    move_exposure(position, invoices=-applied, unapplied=amount - applied)
    session.flush()
    return payment


def apply_credit(
    session: Session,
    actor: Actor,
    payment_id: int,
    *,
    applied_on: dt.date,
    invoice_ids: Sequence[int] | None = None,
) -> Payment:
    """Apply a payment's unapplied credit to the customer's open invoices in the company
    (oldest due first, or the named ones). Journal: Dr customer advances / Cr receivables."""
    actor.require_role(*PAYMENT_ROLES, action="applying customer credit")
    payment = session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if payment is None:
        raise NotFound(Message("payment {key} not found", key=payment_id))
    visible_or_404(actor, payment.company_id, N_("payment"), payment_id)
    if payment.reversed:
        raise CustomerPaymentReversed(Message(
            "customer payment {payment} of {amount} was reversed on {day}: {reason}", payment=payment.document_number,
            amount=Amount(payment.amount), day=payment.reversal_date, reason=payment.reversal_reason or ""))
    if payment.unapplied_amount == 0:
        raise NoUnappliedCredit(Message("payment {payment} is fully applied", payment=payment.id))
    if applied_on < payment.payment_date:
        raise ValidationFailed.for_field("applied_on", Message("before the payment's date {date}", date=payment.payment_date))
    lock_open_period(session, payment.company_id, applied_on)
    position = lock_exposure(session, payment.customer_id)
    invoices = _open_invoices_for_update(session, company_id=payment.company_id, customer_id=payment.customer_id,
                                         applied_on=applied_on, invoice_ids=invoice_ids)
    applied = _apply(session, actor, payment, invoices, applied_on)
    if applied == 0:
        raise NoOpenInvoices(Message("customer {customer} has no open invoice in company {company} dated on or "
                                     "before {date}", customer=payment.customer_id, company=payment.company_id,
                                     date=applied_on))
    post(session, Posting(
        company_id=payment.company_id, posting_date=applied_on, source_type="credit_application",
        source_id=payment.id, memo=narrate("unapplied-credit-applied", payment=payment.document_number),
        user_id=actor.user_id,
        journal=[Line(accounts.CUSTOMER_ADVANCES, applied, customer_id=payment.customer_id),
               Line(accounts.RECEIVABLES, -applied, customer_id=payment.customer_id)],
    ))
    move_exposure(position, invoices=-applied, unapplied=-applied)
    session.flush()
    return payment


# --- credit control ------------------------------------------------------------------------

def check_credit(
    session: Session, actor: Actor, *, customer_id: int, amount: Decimal, policy: CreditPolicy, lock: bool = False
) -> CreditDecision:
    """Would an action adding ``amount`` to the customer's exposure pass the credit check now?

    ``lock`` takes the customer's row FOR UPDATE, as a posting does before it decides."""
    actor.require_role(*POSITION_ROLES, action="reading customers' credit positions")
    if lock:
        # The customer (blocked in the master?) as committed once the lock is held.
        position, customer = lock_position(session, customer_id)
    else:
        position = read_exposure(session, customer_id)
        customer = _customer(session, customer_id)
    return decide(position, amount, policy, customer_blocked=customer.blocked, customer=customer)


@dataclass
class CreditPosition:
    customer: CustomerNamed
    position: ExposureValues
    check: CreditDecision


def credit_position(
    session: Session, actor: Actor, customer_id: int, *, policy: CreditPolicy, amount: Decimal = ZERO
) -> CreditPosition:
    """A customer's group-wide exposure, limit and hold, and whether an action adding
    ``amount`` would pass the credit check now."""
    actor.require_role(*POSITION_ROLES, action="reading customers' credit positions")
    # one statement: the customer and its row as committed (was four, the same row read twice),
    # as values, not entities (erp.credit.exposure.read_position)
    customer, position = read_position(session, customer_id)
    return CreditPosition(customer, position, decide(position, amount, policy, customer_blocked=customer.blocked,
                                                     customer=customer))


def set_credit_hold(session: Session, actor: Actor, customer_id: int, *, on_hold: bool, reason: str) -> CustomerExposure:
    """Put a customer on credit hold (every confirmation and shipment is blocked) or lift it."""
    actor.require_role(Role.CREDIT_CONTROLLER, action="changing credit holds")
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("say why"))
    position = lock_exposure(session, customer_id)
    before = {"on_hold": position.on_hold, "hold_reason": position.hold_reason}
    position.on_hold = on_hold
    position.hold_reason = reason
    position.hold_changed_by = actor.user_id
    position.hold_changed_at = utcnow()
    session.flush()
    audit.record_change(session, actor, entity="customer_credit", entity_id=customer_id,
                        action="hold" if on_hold else "hold-lifted", before=before,
                        after={"on_hold": on_hold, "hold_reason": reason}, reason=reason)
    return position


@dataclass
class ReleaseResult:
    """A release, and what it does: the exposure after it and the confirmed orders of the
    customer that will then be blocked at shipment."""

    release: CreditRelease
    effect: ReleaseEffect


def release_order(
    session: Session, actor: Actor, order_id: int, *, reason: str, policy: CreditPolicy
) -> ReleaseResult:
    """A credit controller lets a blocked order through, with a reason, recorded.

    An order blocked at confirmation is confirmed (its value joins the exposure, above the
    limit if need be). A confirmed order whose customer is over the limit may ship. Either
    way the order's later shipments are not checked against the limit again. A customer on
    credit hold is not released order by order: lift the hold first.

    Returns the release with its effect (``erp.credit.releases``): the exposure before and
    after, and the customer's other confirmed, unreleased orders that are refused at
    shipment once the exposure is above the limit (those the release blocks marked new).
    """
    actor.require_role(Role.CREDIT_CONTROLLER, action="releasing blocked orders")
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("a release needs a reason"))
    order = _lock_order(session, actor, order_id)
    if order.status == SalesOrderStatus.BLOCKED:
        recheck_partner_lines(session, order, confirming=True)
    position, customer = lock_position(session, order.customer_id)
    if position.on_hold or customer.blocked:
        raise CustomerOnCreditHold(
            Message("customer {customer} is on credit hold ({reason}); lift the hold before releasing its orders",
                    customer=Named.of(customer),
                    reason=narration.read(position.hold_reason) or Message("blocked in the master"))
        )
    limit = policy.limit_of(position.credit_limit)
    exposure_before = position.exposure
    status_before = order.status
    if order.status == SalesOrderStatus.BLOCKED:
        stage, rule = "confirmation", order.credit_block_rule or LIMIT_RULE
        _confirm(order, position, open_order_value(order.lines), actor)
    elif order.status in OPEN_ORDER_STATUSES and not order.credit_released and position.exposure > limit:
        stage, rule = "shipment", LIMIT_RULE
    else:
        raise OrderNotBlocked(Message("sales order {order} is {status} and not held by credit control", order=order.number,
                                      status=order.status))
    order.credit_released = True
    release = CreditRelease(order_id=order.id, stage=stage, rule=rule, exposure=position.exposure,
                            credit_limit=limit, reason=reason, released_by=actor.user_id)
    session.add(release)
    session.flush()
    # The audit trail (entity ``sales_order``): who let the order through, the status it left,
    # the exposure and limit then, and why.
    audit.record_change(session, actor, entity="sales_order", entity_id=order.id, action="credit-release",
                        before={"status": status_before, "credit_released": False},
                        after={"status": order.status, "credit_released": True,
                               "exposure": audit.at_scale(exposure_before, 2),
                               "credit_limit": audit.at_scale(limit, 2)},
                        reason=reason, company_id=order.company_id)
    confirmed = confirmed_unreleased_orders(session, [order.customer_id]).get(order.customer_id, [])
    effect = effect_of_release(order_id=order.id, adds=position.exposure - exposure_before,
                               exposure=exposure_before, credit_limit=limit, confirmed=confirmed)
    return ReleaseResult(release, effect)



@warehouse_use_check
def _open_sales_from(session: Session, warehouse_id: int) -> list[Message]:
    """Sales orders still to ship from the warehouse (it changes company only without)."""
    done = (SalesOrderStatus.SHIPPED, SalesOrderStatus.CANCELLED)
    orders = session.scalars(
        select(SalesOrder.number).join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .where(SalesOrderLine.warehouse_id == warehouse_id, SalesOrder.status.not_in(done))
        .distinct().order_by(SalesOrder.number).limit(5)).all()
    return [Message("open sales orders {orders}", orders=orders)] if orders else []


@partner_use_check("customer")
def _customer_documents(session: Session, customer_id: int) -> list[Message]:
    """The customer's sales orders, invoices, payments and credit notes (its link to a group
    company changes only without: erp.masterdata.services)."""
    return [
        *documents_found(session, N_("sales order(s)"), SalesOrder.number, SalesOrder.customer_id == customer_id),
        *documents_found(session, N_("invoice(s)"), Invoice.document_number, Invoice.customer_id == customer_id),
        *documents_found(session, N_("customer payment(s)"), Payment.document_number,
                         Payment.customer_id == customer_id),
        *documents_found(session, N_("credit note(s)"), CreditNote.document_number,
                         CreditNote.customer_id == customer_id),
    ]


_SALES_DONE = (SalesOrderStatus.SHIPPED, SalesOrderStatus.CANCELLED)


@deactivation_check("warehouse")
def _open_sales_from_warehouse(session: Session, warehouse_id: int) -> list[Message]:
    return _open_sales_from(session, warehouse_id)


@deactivation_check("material")
def _open_sales_of_material(session: Session, material_id: int) -> list[Message]:
    """Sales orders not yet shipped or cancelled with a line of the material."""
    return documents_found(session, N_("open sales order(s)"), SalesOrder.number,
                           SalesOrder.id == SalesOrderLine.order_id, SalesOrderLine.material_id == material_id,
                           SalesOrder.status.not_in(_SALES_DONE))


@deactivation_check("company")
def _open_sales_of_company(session: Session, company_id: int) -> list[Message]:
    """The company's sales orders not yet shipped or cancelled."""
    return documents_found(session, N_("open sales order(s)"), SalesOrder.number,
                           SalesOrder.company_id == company_id, SalesOrder.status.not_in(_SALES_DONE))


@deactivation_check("customer")
def _open_sales_to_customer(session: Session, customer_id: int) -> list[Message]:
    """The customer's sales orders not yet shipped or cancelled."""
    return documents_found(session, N_("open sales order(s)"), SalesOrder.number,
                           SalesOrder.customer_id == customer_id, SalesOrder.status.not_in(_SALES_DONE))
