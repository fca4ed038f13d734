"""Purchase orders: what a buyer may order, pricing lines from the contract that applies,
numbering, and the order's life (submit, approve or reject, cancel, close).

An order line copies the unit price of the applicable contract line; its amount is
quantity x price rounded half-up to 0.01 CNY.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from erp.auth.roles import Actor, Role
from erp.db import dialect_insert, page, utcnow
from erp.money import MAX_LINE_AMOUNT, MAX_LINE_QUANTITY, round_money
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Company, Material, Supplier, UnitOfMeasure, Warehouse
from erp.masterdata.services import (
    MATERIALS,
    SUPPLIERS,
    can_store,
    deactivation_check,
    documents_found,
    partner_use_check,
    text_match,
    warehouse_use_check,
)
from erp.clock import business_today, refuse_after_business_day
from erp.messages import N_, Message, Term
from erp.purchasing import errors as e
from erp.purchasing.models import (
    CONSUMING_STATUSES,
    ORDER_TRANSITIONS,
    Contract,
    ContractLine,
    DocumentSequence,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    transition_allowed,
)
from erp.purchasing.contracts import applicable_contract_lines
from erp.purchasing.exceptions import ExceptionGrant, covering_exceptions, exception_windows
from erp.purchasing.lookups import active_row, check_precision
from erp.purchasing.rights import BUYING_ROLES, PURCHASING_EXCEPTION, purchasing_right
from erp.search import contains_text


# --- document numbers ------------------------------------------------------------------

def next_in_series(session: Session, series: str, count: int = 1) -> int:
    """The next number of ``series`` (the first of ``count`` consecutive ones, for a bulk
    posting), safe under concurrent transactions.

    The series row is created on first use (INSERT ... ON CONFLICT DO NOTHING, so two
    first users do not collide) and then incremented by one UPDATE ... RETURNING, which
    holds the row lock until the transaction ends: concurrent creators wait for each other
    and numbers are neither skipped nor repeated (a rolled-back transaction gives its
    number back).
    """
    table = DocumentSequence.__table__
    session.execute(
        dialect_insert(session, table).values(series=series, next_value=1).on_conflict_do_nothing(
            index_elements=[table.c.series]
        )
    )
    taken = session.execute(
        update(table)
        .where(table.c.series == series)
        .values(next_value=table.c.next_value + count)
        .returning(table.c.next_value - count)
    ).scalar_one()
    return int(taken)


def order_number(session: Session, purchasing_company: Company | None, order_date: dt.date) -> str:
    """``PO-GRP-2026-000001`` for central purchasing, ``PO-<company code>-2026-000001`` for a company."""
    organisation = "GRP" if purchasing_company is None else purchasing_company.code
    series = f"PO-{'GROUP' if purchasing_company is None else purchasing_company.code}-{order_date.year}"
    return f"PO-{organisation}-{order_date.year}-{next_in_series(session, series):06d}"


def yearly_number(prefix: str, company_code: str, year: int, value: int) -> str:
    """``AP-CA-2026-000001``: a document of a company's yearly series (six digits, more once
    a series passes 999,999: never cut)."""
    return f"{prefix}-{company_code}-{year}-{value:06d}"


def take_yearly_number(session: Session, prefix: str, company_code: str, day: dt.date) -> str:
    """The next number of the company's ``prefix`` series of ``day``'s year (``next_in_series``:
    one locked row per series, so unique and, as a rolled-back transaction gives its number
    back, without gaps). Take it last, once every check has passed: the series row stays
    locked until the transaction ends."""
    series = f"{prefix}-{company_code}-{day.year}"
    return yearly_number(prefix, company_code, day.year, next_in_series(session, series))


# --- what may I order ----------------------------------------------------------------------

@dataclass(frozen=True)
class Orderable:
    """A material the caller may order for a company on a day, at a contract line's price."""

    contract_line: ContractLine
    rule: str
    # The steward's exception that allows it, when that is the rule (a central material
    # ordered by the company's own buyer); None otherwise.
    exception: ExceptionGrant | None = None

    @property
    def material(self) -> Material:
        return self.contract_line.material

    @property
    def supplier(self) -> Supplier:
        return self.contract_line.contract.supplier


def orderable(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    day: dt.date | None = None,
    supplier_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Orderable], int]:
    """What the caller may order for ``company_id`` on ``day``: material, supplier and the
    contract line (price) that applies, by material and supplier code.

    Set-based: one query for the applicable contract lines, one for the company's
    exceptions; the rights rule then runs in memory for each candidate. A material allowed
    by a steward's exception carries that exception (who granted it, until when, why): one
    more query, only when there is one.
    """
    actor.require_role(*sorted(BUYING_ROLES), action="asking what may be ordered")
    if not actor.acts_for_company(company_id) or session.get(Company, company_id) is None:
        raise NotFound(Message("company {key} not found", key=company_id))
    day = day or business_today()
    candidates = applicable_contract_lines(session, company_id=company_id, day=day, supplier_id=supplier_id)
    windows = exception_windows(session, company_id)
    allowed: list[Orderable] = []
    for line in candidates.values():
        decision = purchasing_right(
            actor, receiving_company_id=company_id, material=line.material, supplier=line.contract.supplier,
            on=day, exceptions=windows.get(line.material_id, ()),
        )
        if decision.allowed:
            allowed.append(Orderable(line, decision.rule))
    by_exception = {item.material.id for item in allowed if item.rule == PURCHASING_EXCEPTION}
    if by_exception:
        grants = covering_exceptions(session, company_id, day, by_exception)
        allowed = [replace(item, exception=grants.get(item.material.id)) if item.rule == PURCHASING_EXCEPTION
                   else item for item in allowed]
    allowed.sort(key=lambda item: (item.material.code, item.supplier.code))
    end = None if limit is None else offset + limit
    return allowed[offset:end], len(allowed)


# --- purchase orders: pricing and checking lines -----------------------------------------------

@dataclass(frozen=True)
class PricedLine:
    """An order line that passed every check, priced from its contract line."""

    material: Material
    quantity: Decimal
    warehouse: Warehouse
    contract_line: ContractLine
    amount: Decimal


def _check_quantity(quantity: Decimal, unit: UnitOfMeasure, pointer: str) -> None:
    if quantity <= 0:
        raise e.QuantityNotPositive(Message("quantity {quantity} {unit} is not positive", quantity=quantity, unit=unit.code),
                                    pointer=pointer)
    if quantity > MAX_LINE_QUANTITY:
        raise e.QuantityTooLarge(
            Message("quantity {quantity} {unit} is above {maximum}, beyond any plausible order", quantity=quantity,
                    unit=unit.code, maximum=MAX_LINE_QUANTITY),
            pointer=pointer,
        )
    check_precision(quantity, unit, pointer)


def _check_warehouse(warehouse: Warehouse | None, warehouse_id: int, company: Company, material: Material,
                     pointer: str) -> Warehouse:
    if warehouse is None:
        raise ValidationFailed.for_field(pointer.lstrip("/"), Message("no warehouse with id {key}", key=warehouse_id))
    if warehouse.company_id != company.id:
        raise e.WarehouseNotOfReceivingCompany(
            Message("warehouse {warehouse} belongs to another company, not to the receiving company {company}",
                    warehouse=warehouse.code, company=company.code),
            pointer=pointer,
        )
    if not warehouse.active:
        raise e.WarehouseInactive(Message("warehouse {warehouse} is inactive", warehouse=warehouse.code), pointer=pointer)
    fits, why = can_store(warehouse, material)
    if not fits:
        raise e.StorageConditionsNotMet(why, pointer=pointer)
    return warehouse


def _choose_contract_line(
    applicable: ContractLine | None, named_id: int | None, material: Material, supplier: Supplier,
    company: Company, day: dt.date, pointer: str,
) -> ContractLine:
    if applicable is None:
        raise e.NoValidContract(
            Message("no active contract with supplier {supplier} prices {material} for company {company} on {day}",
                    supplier=supplier.code, material=material.code, company=company.code, day=day),
            pointer=f"{pointer}/material_id",
        )
    if named_id is not None and named_id != applicable.id:
        # A named line is the price the buyer saw; if another applies now, say so rather
        # than silently ordering at a different price.
        raise e.ContractLineNotApplicable(
            Message("contract line {named} does not apply to {material} from {supplier} for {company} on {day}; "
                    "line {line} of contract {contract} does", named=named_id, material=material.code,
                    supplier=supplier.code, company=company.code, day=day, line=applicable.id,
                    contract=applicable.contract.number),
            pointer=f"{pointer}/contract_line_id",
        )
    return applicable


def _price_lines(
    session: Session, actor: Actor, *, company: Company, supplier: Supplier, day: dt.date,
    requests: Sequence[Mapping[str, Any]],
) -> list[PricedLine]:
    """Check every requested line (rights, quantity, warehouse, contract) and price it.

    A fixed handful of queries whatever the number of lines: materials, warehouses,
    exceptions and applicable contract lines are each loaded once.
    """
    material_ids = {r["material_id"] for r in requests}
    materials = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(material_ids)))}
    warehouses = {w.id: w for w in session.scalars(
        select(Warehouse).where(Warehouse.id.in_({r["warehouse_id"] for r in requests}))
    )}
    windows = exception_windows(session, company.id, material_ids)
    applicable = applicable_contract_lines(
        session, company_id=company.id, day=day, supplier_id=supplier.id, material_ids=material_ids
    )
    priced = []
    for index, request in enumerate(requests):
        pointer = f"/lines/{index}"
        material = materials.get(request["material_id"])
        if material is None:
            raise ValidationFailed.for_field(f"lines/{index}/material_id",
                                             Message("no material with id {key}", key=request["material_id"]))
        decision = purchasing_right(
            actor, receiving_company_id=company.id, material=material, supplier=supplier, on=day,
            exceptions=windows.get(material.id, ()),
        )
        if not decision.allowed:
            raise e.refusal(decision, f"{pointer}/material_id")
        quantity = request["quantity"]
        _check_quantity(quantity, material.unit, f"{pointer}/quantity")
        warehouse = _check_warehouse(
            warehouses.get(request["warehouse_id"]), request["warehouse_id"], company, material,
            f"{pointer}/warehouse_id",
        )
        contract_line = _choose_contract_line(
            applicable.get((supplier.id, material.id)), request.get("contract_line_id"), material, supplier,
            company, day, pointer,
        )
        amount = round_money(quantity * contract_line.unit_price)
        if amount > MAX_LINE_AMOUNT:
            raise e.QuantityTooLarge(
                Message("{quantity} {unit} at {price} is {amount} CNY, above {maximum} CNY on one line",
                        quantity=quantity, unit=material.unit.code, price=contract_line.unit_price, amount=amount,
                        maximum=MAX_LINE_AMOUNT),
                pointer=f"{pointer}/quantity",
            )
        priced.append(PricedLine(material, quantity, warehouse, contract_line, amount))
    return priced


def _order_lines(priced: Sequence[PricedLine]) -> list[PurchaseOrderLine]:
    return [
        PurchaseOrderLine(
            line_no=number, material=line.material, quantity=line.quantity, warehouse=line.warehouse,
            contract_line=line.contract_line, unit_price=line.contract_line.unit_price, amount=line.amount,
            received_quantity=Decimal(0),
        )
        for number, line in enumerate(priced, start=1)
    ]


def _line_requests(order: PurchaseOrder) -> list[dict[str, Any]]:
    """An order's lines as requests naming their contract lines, to check them again."""
    return [
        {"material_id": line.material_id, "quantity": line.quantity, "warehouse_id": line.warehouse_id,
         "contract_line_id": line.contract_line_id}
        for line in order.lines
    ]


# --- purchase orders: who may do what ---------------------------------------------------------

def _is_purchaser_of(actor: Actor, order: PurchaseOrder) -> bool:
    """Buyers of the order's purchasing organisation: group buyers for central orders, the
    company's buyers for a company's own."""
    if order.is_central:
        return actor.role == Role.GROUP_BUYER
    return actor.role == Role.BUYER and actor.acts_for_company(order.receiving_company_id)


def _is_manager_of(actor: Actor, order: PurchaseOrder) -> bool:
    """Purchasing managers of the order's purchasing organisation (group-wide for central orders)."""
    if actor.role != Role.PURCHASING_MANAGER:
        return False
    return actor.group_wide if order.is_central else actor.acts_for_company(order.receiving_company_id)


def _organisation(order: PurchaseOrder) -> Message:
    if order.is_central:
        return Message("central purchasing")
    return Message("company {company}", company=order.receiving_company.code)


def _require_purchaser(actor: Actor, order: PurchaseOrder, action: str) -> None:
    if not _is_purchaser_of(actor, order):
        raise e.NotPurchaserOfOrder(Message("{action} order {order} is for the buyers of {organisation}",
                                            action=Term(action), order=order.number, organisation=_organisation(order)))


def _require_purchaser_or_manager(actor: Actor, order: PurchaseOrder, action: str) -> None:
    if not (_is_purchaser_of(actor, order) or _is_manager_of(actor, order)):
        raise e.NotPurchaserOfOrder(
            Message("{action} order {order} is for the buyers or purchasing managers of {organisation}",
                    action=Term(action), order=order.number, organisation=_organisation(order)))


def _require_approver(actor: Actor, order: PurchaseOrder, action: str) -> None:
    actor.require_role(Role.PURCHASING_MANAGER, action=Message("{action} a purchase order", action=Term(action)))
    if not _is_manager_of(actor, order):
        who = Message("a group-wide purchasing manager") if order.is_central else \
            Message("a purchasing manager of {company}", company=order.receiving_company.code)
        raise e.NotApproverOfOrder(Message("{action} order {order} needs {who}", action=Term(action),
                                           order=order.number, who=who))
    if order.created_by == actor.user_id:
        # Four eyes: whoever placed the order does not also release it.
        raise e.ApproverIsCreator(Message("you created order {order}; another manager must {action} it",
                                          order=order.number, action=Term(action)))


# --- purchase orders: use cases -----------------------------------------------------------------

_ORDER_HEADER_LOAD = (
    joinedload(PurchaseOrder.supplier),
    joinedload(PurchaseOrder.receiving_company),
    joinedload(PurchaseOrder.purchasing_company),
)
_ORDER_LOAD = (
    *_ORDER_HEADER_LOAD,
    selectinload(PurchaseOrder.lines).options(
        joinedload(PurchaseOrderLine.material),
        joinedload(PurchaseOrderLine.warehouse),
        joinedload(PurchaseOrderLine.contract_line).options(
            joinedload(ContractLine.contract), joinedload(ContractLine.material), joinedload(ContractLine.unit)
        ),
    ),
)


def create_purchase_order(
    session: Session,
    actor: Actor,
    *,
    receiving_company_id: int,
    supplier_id: int,
    lines: Sequence[Mapping[str, Any]],
    order_date: dt.date | None = None,
    today: dt.date | None = None,
) -> PurchaseOrder:
    """Create a draft order; every line's price is the applicable contract line's.

    The purchasing organisation follows from the caller: a group buyer orders as central
    purchasing, a company buyer as the receiving company. Orders are not backdated (an
    old date would reach an ended contract's price).
    """
    actor.require_role(*sorted(BUYING_ROLES), action="creating a purchase order")
    today = today or business_today()
    order_date = order_date or today
    refuse_after_business_day(order_date, field="order_date", what=N_("a purchase order"))
    if order_date < today:
        raise e.OrderDateInPast(
            Message("order date {day} is before today ({today})", day=order_date, today=today),
            errors=[{"pointer": "/order_date", "detail": Message("may not be before today")}],
        )
    company = active_row(session, Company, receiving_company_id, "receiving_company_id")
    supplier = active_row(session, Supplier, supplier_id, "supplier_id")
    priced = _price_lines(session, actor, company=company, supplier=supplier, day=order_date, requests=lines)
    purchasing_company = None if actor.role == Role.GROUP_BUYER else company
    order = PurchaseOrder(
        number=order_number(session, purchasing_company, order_date),
        purchasing_company=purchasing_company, receiving_company=company, supplier=supplier,
        order_date=order_date, status=PurchaseOrderStatus.DRAFT, created_by=actor.user_id,
        lines=_order_lines(priced), total_amount=sum((line.amount for line in priced), Decimal("0.00")),
    )
    session.add(order)
    session.flush()
    return order


def _order_visibility(actor: Actor) -> ColumnElement[bool]:
    """Orders of the caller's companies; a clerk's: those delivering into their warehouses."""
    visible = actor.company_scope(PurchaseOrder.receiving_company_id)
    if actor.role == Role.CLERK:
        visible = and_(visible, PurchaseOrder.lines.any(PurchaseOrderLine.warehouse_id.in_(sorted(actor.warehouse_ids))))
    return visible


def get_purchase_order(session: Session, actor: Actor, order_id: int, *, lock: bool = False) -> PurchaseOrder:
    """One order with its lines; 404 for orders of companies the caller does not act for."""
    query = select(PurchaseOrder).where(PurchaseOrder.id == order_id, _order_visibility(actor)).options(*_ORDER_LOAD)
    if lock:
        # populate_existing: the order and its lines read again under the lock, not the ones a
        # page read into this session before (a receipt committed while we waited is seen)
        query = query.with_for_update(of=PurchaseOrder).execution_options(populate_existing=True)
    order = session.scalars(query).one_or_none()
    if order is None:
        raise NotFound(Message("purchase order {key} not found", key=order_id))
    return order


def replace_order_lines(
    session: Session, actor: Actor, order_id: int, lines: Sequence[Mapping[str, Any]],
    *, today: dt.date | None = None,
) -> PurchaseOrder:
    """Replace a draft order's lines (re-priced from the contracts that apply now)."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser(actor, order, N_("changing"))
    if order.status != PurchaseOrderStatus.DRAFT:
        raise e.StatusTransitionNotAllowed(Message("order {order} is {status}; only drafts change", order=order.number,
                                                   status=order.status))
    day = max(order.order_date, today or business_today())
    priced = _price_lines(
        session, actor, company=order.receiving_company, supplier=order.supplier, day=day, requests=lines
    )
    order.lines.clear()
    session.flush()  # the old lines go before new ones take their line numbers
    order.lines.extend(_order_lines(priced))
    order.total_amount = sum((line.amount for line in priced), Decimal("0.00"))
    session.flush()
    return order


def move_order(session: Session, order: PurchaseOrder, target: PurchaseOrderStatus, action: str) -> None:
    """Move an order along ``ORDER_TRANSITIONS``, keeping contract consumption current.

    Consumption counts while an order is in ``CONSUMING_STATUSES`` (from submission on):
    entering them adds the lines' quantities to their contract lines, leaving them
    (rejection, cancellation) takes them off again. Goods receipts move orders too.
    """
    if not transition_allowed(ORDER_TRANSITIONS, order.status, target):
        raise e.StatusTransitionNotAllowed(Message("cannot {action} order {order}: it is {status}", action=Term(action),
                                                   order=order.number, status=order.status))
    was_counted = order.status in CONSUMING_STATUSES
    counts = target in CONSUMING_STATUSES
    if counts != was_counted:
        _add_consumption(session, order.lines, 1 if counts else -1)
    order.status = target


def _add_consumption(session: Session, lines: Iterable[PurchaseOrderLine], sign: int) -> None:
    by_contract_line: dict[int, Decimal] = defaultdict(Decimal)
    contract_lines: dict[int, ContractLine] = {}
    for line in lines:
        by_contract_line[line.contract_line_id] += line.quantity
        contract_lines[line.contract_line_id] = line.contract_line
    table = ContractLine.__table__
    # In id order, so that two orders touching the same lines lock them in the same order.
    for contract_line_id in sorted(by_contract_line):
        ordered = session.execute(
            update(table)
            .where(table.c.id == contract_line_id)
            .values(ordered_quantity=table.c.ordered_quantity + sign * by_contract_line[contract_line_id])
            .returning(table.c.ordered_quantity)
        ).scalar_one()
        set_committed_value(contract_lines[contract_line_id], "ordered_quantity", ordered)


def approval_threshold(company: Company, default_threshold: Decimal) -> Decimal:
    """The value above which the company's orders wait for a purchasing manager: the
    company's own threshold, else the group default."""
    return default_threshold if company.approval_threshold is None else company.approval_threshold


def submit_order(
    session: Session, actor: Actor, order_id: int, *, default_threshold: Decimal, today: dt.date | None = None
) -> PurchaseOrder:
    """Place a draft order: open it, or send it for approval when its value exceeds the
    receiving company's threshold (else ``default_threshold``). Lines are checked again."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser(actor, order, N_("submitting"))
    if order.status != PurchaseOrderStatus.DRAFT:
        raise e.StatusTransitionNotAllowed(Message("cannot submit order {order}: it is {status}", order=order.number,
                                                   status=order.status))
    # Rights, contracts and master data may have changed since the draft was made.
    _price_lines(
        session, actor, company=order.receiving_company, supplier=order.supplier,
        day=max(order.order_date, today or business_today()), requests=_line_requests(order),
    )
    above = order.total_amount > approval_threshold(order.receiving_company, default_threshold)
    move_order(session, order, PurchaseOrderStatus.PENDING_APPROVAL if above else PurchaseOrderStatus.OPEN, N_("submit"))
    order.submitted_at = utcnow()
    order.status_reason = None
    session.flush()
    return order


def approve_order(session: Session, actor: Actor, order_id: int) -> PurchaseOrder:
    """Approve an order waiting for approval: it opens for receipts."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_approver(actor, order, N_("approve"))
    move_order(session, order, PurchaseOrderStatus.OPEN, N_("approve"))
    order.approved_by = actor.user_id
    order.approved_at = utcnow()
    session.flush()
    return order


def reject_order(session: Session, actor: Actor, order_id: int, reason: str) -> PurchaseOrder:
    """Send an order waiting for approval back to draft, with the reason; its contract
    consumption is released until it is submitted again."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_approver(actor, order, N_("reject"))
    move_order(session, order, PurchaseOrderStatus.DRAFT, N_("reject"))
    order.status_reason = reason
    session.flush()
    return order


@dataclass(frozen=True)
class OrderStanding:
    """Where an order stands: its status and, per line, what was ordered and received and
    how much its contract line counts as ordered (contract consumption). A cancellation,
    closing or rejection changes these; their confirmation step shows them before and after
    (read from the database, so the contract lines' set-based updates are seen)."""

    status: PurchaseOrderStatus
    lines: list[Any]


def order_standing(session: Session, order_id: int) -> OrderStanding:
    """The order's status and lines with their contract lines' ordered quantity, as stored now."""
    status = session.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == order_id))
    lines = session.execute(
        select(PurchaseOrderLine.line_no, Material.code.label("material_code"),
               Material.name_zh.label("material_name_zh"), Material.name_en.label("material_name_en"),
               UnitOfMeasure.code.label("unit_code"), PurchaseOrderLine.quantity, PurchaseOrderLine.received_quantity,
               Contract.number.label("contract_number"), ContractLine.ordered_quantity.label("contract_ordered"))
        .join(Material, Material.id == PurchaseOrderLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .join(ContractLine, ContractLine.id == PurchaseOrderLine.contract_line_id)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(PurchaseOrderLine.order_id == order_id)
        .order_by(PurchaseOrderLine.line_no)
    ).all()
    return OrderStanding(PurchaseOrderStatus(status), list(lines))


def may_be_cancelled(order: PurchaseOrder) -> bool:
    """Whether the order's life lets it be cancelled now: a draft, one waiting for approval or
    an open one, and nothing received against it (``cancel_order`` refuses otherwise)."""
    return transition_allowed(ORDER_TRANSITIONS, order.status, PurchaseOrderStatus.CANCELLED) and order.nothing_received


def may_be_closed(order: PurchaseOrder) -> bool:
    """Whether the order's life lets it be closed now: open, partially received or received."""
    return transition_allowed(ORDER_TRANSITIONS, order.status, PurchaseOrderStatus.CLOSED)


# Checks a module above purchasing adds before an order is cancelled or closed (credit: goods
# a group company shipped against it and not yet received), registered on import so that
# purchasing does not import it. Each raises its refusal.
OrderEndCheck = Callable[[Session, PurchaseOrder], None]
_END_CHECKS: dict[str, OrderEndCheck] = {}


def register_order_end_check(name: str, check: OrderEndCheck) -> None:
    """Add (or replace, by name) a check run before an order is cancelled or closed."""
    _END_CHECKS[name] = check


def _run_end_checks(session: Session, order: PurchaseOrder) -> None:
    for check in _END_CHECKS.values():
        check(session, order)


def cancel_order(session: Session, actor: Actor, order_id: int, reason: str | None) -> PurchaseOrder:
    """Cancel an order against which nothing has been received; releases its consumption."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser_or_manager(actor, order, N_("cancelling"))
    if not order.nothing_received:
        raise e.OrderHasReceipts(
            Message("goods have been received against order {order}; close it instead of cancelling",
                    order=order.number)
        )
    _run_end_checks(session, order)
    move_order(session, order, PurchaseOrderStatus.CANCELLED, N_("cancel"))
    order.cancelled_by = actor.user_id
    order.cancelled_at = utcnow()
    order.status_reason = reason
    session.flush()
    return order


def close_order(session: Session, actor: Actor, order_id: int, reason: str | None) -> PurchaseOrder:
    """Close an open, partially received or received order: no further receipts are expected
    (a received order otherwise still takes deliveries within the over-receipt tolerance)."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser_or_manager(actor, order, N_("closing"))
    _run_end_checks(session, order)
    move_order(session, order, PurchaseOrderStatus.CLOSED, N_("close"))
    order.status_reason = reason
    session.flush()
    return order


def _order_conditions(actor: Actor, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_order_visibility(actor)]
    for name in ("status", "receiving_company_id", "supplier_id"):
        if name in filters:
            conditions.append(getattr(PurchaseOrder, name) == filters[name])
    if "central" in filters:
        column = PurchaseOrder.purchasing_company_id
        conditions.append(column.is_(None) if filters["central"] else column.is_not(None))
    if "order_date_from" in filters:
        conditions.append(PurchaseOrder.order_date >= filters["order_date_from"])
    if "order_date_to" in filters:
        conditions.append(PurchaseOrder.order_date <= filters["order_date_to"])
    if "q" in filters:
        conditions.append(contains_text(filters["q"], PurchaseOrder.number))
    if "text" in filters:
        # A list's search box: the order number, or the supplier's or any line's material's
        # code or name (masterdata's text_match, as the contracts list).
        text = filters["text"]
        conditions.append(or_(
            contains_text(text, PurchaseOrder.number),
            PurchaseOrder.supplier_id.in_(select(Supplier.id).where(text_match(SUPPLIERS, text))),
            PurchaseOrder.lines.any(PurchaseOrderLine.material_id.in_(
                select(Material.id).where(text_match(MATERIALS, text)))),
        ))
    return conditions


def list_purchase_orders(
    session: Session, actor: Actor, filters: Mapping[str, Any], *, offset: int, limit: int
) -> tuple[list[PurchaseOrder], int]:
    """Orders for the companies the caller acts for, newest first (by order date, then
    number), filtered by status, receiving company, supplier, purchasing organisation, order
    dates, number (``q``) or a search text (``text``: number, supplier or material)."""
    query: Select[Any] = select(PurchaseOrder).where(*_order_conditions(actor, filters))
    return page(session, query.options(*_ORDER_HEADER_LOAD).order_by(
        PurchaseOrder.order_date.desc(), PurchaseOrder.number.desc(), PurchaseOrder.id.desc()),
        offset=offset, limit=limit, entities=True)


def purchase_orders_total(session: Session, actor: Actor, filters: Mapping[str, Any]) -> Decimal:
    """The value of all the orders ``list_purchase_orders`` lists with ``filters`` (every page)."""
    total = session.scalar(select(func.sum(PurchaseOrder.total_amount)).where(*_order_conditions(actor, filters)))
    return Decimal(total or 0)


def order_id_for_number(session: Session, number: str) -> int | None:
    """The id of the purchase order with this number (None when there is none)."""
    return session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number.strip().upper()))


@warehouse_use_check
def _open_orders_into(session: Session, warehouse_id: int) -> list[Message]:
    """Purchase orders still to be received into the warehouse (it changes company only without)."""
    done = (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED)
    numbers = session.scalars(
        select(PurchaseOrder.number).join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .where(PurchaseOrderLine.warehouse_id == warehouse_id, PurchaseOrder.status.not_in(done))
        .distinct().order_by(PurchaseOrder.number).limit(5)).all()
    return [Message("open purchase orders {orders}", orders=numbers)] if numbers else []


@partner_use_check("supplier")
def _supplier_orders(session: Session, supplier_id: int) -> list[Message]:
    """The supplier's purchase orders, whatever their status (its link to a group company
    changes only without: erp.masterdata.services)."""
    return documents_found(session, N_("purchase order(s)"), PurchaseOrder.number,
                           PurchaseOrder.supplier_id == supplier_id)


_ORDER_DONE = (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED)


@deactivation_check("warehouse")
def _open_orders_into_warehouse(session: Session, warehouse_id: int) -> list[Message]:
    return _open_orders_into(session, warehouse_id)


@deactivation_check("material")
def _open_orders_of_material(session: Session, material_id: int) -> list[Message]:
    """Purchase orders not yet received, closed or cancelled with a line of the material."""
    return documents_found(session, N_("open purchase order(s)"), PurchaseOrder.number,
                           PurchaseOrder.id == PurchaseOrderLine.order_id, PurchaseOrderLine.material_id == material_id,
                           PurchaseOrder.status.not_in(_ORDER_DONE))


@deactivation_check("company")
def _open_orders_of_company(session: Session, company_id: int) -> list[Message]:
    """Purchase orders not yet received, closed or cancelled, placed by or for the company."""
    return documents_found(session, N_("open purchase order(s)"), PurchaseOrder.number,
                           or_(PurchaseOrder.receiving_company_id == company_id,
                               PurchaseOrder.purchasing_company_id == company_id),
                           PurchaseOrder.status.not_in(_ORDER_DONE))


@deactivation_check("supplier")
def _open_orders_with_supplier(session: Session, supplier_id: int) -> list[Message]:
    """Purchase orders placed with the supplier not yet received, closed or cancelled."""
    return documents_found(session, N_("open purchase order(s)"), PurchaseOrder.number,
                           PurchaseOrder.supplier_id == supplier_id, PurchaseOrder.status.not_in(_ORDER_DONE))
