"""Production orders: created from the BOM in force, released, components issued through
the inventory ledger, output delivered at standard into its own batch, technically
completed.

The journal of an order (see docs/production.md):

- a component issue: Dr 5001.01 work in process, Cr inventory, at standard (the issue's
  ledger rows are consumption to 5001.01, so the close spreads the material cost variance
  over them like over any issue);
- a delivery: Dr finished goods / intermediates at standard (quantity x the standard price
  in force), Cr 5001.01 the same; and the conversion the quantity absorbs at the order's
  standard rates: Dr 5001.01, Cr 5101.01 labour absorbed and 5101.02 overhead absorbed.

So 5001.01 holds, per order, what was issued and absorbed less what was delivered: work in
process while the order runs, its variance once it is completed (settled at month end,
``erp.production.variances``).

Locks: the order row (FOR NO KEY UPDATE) first, then what the posting takes (the period
for key share, balances in FEFO order), so two clerks working on one order queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.db import dialect_insert, page, require_amount_fits, utcnow
from erp.errors import NotFound, ValidationFailed
from erp.inventory.errors import AlreadyReversed, InsufficientStock
from erp.inventory import services as inventory
from erp.inventory.errors import (
    ClerkNotOfWarehouse,
    InvalidQuantity,
    ProductionOrderClosed,
    StorageConditionsNotMet,
    WarehouseNotOfCompany,
)
from erp.masterdata.models import Company, Material, MaterialType, Warehouse
from erp.masterdata.services import can_store, deactivation_check
from erp.clock import refuse_after_business_day
from erp.messages import N_, Message, Named, Term
from erp.money import round_money
from erp.period import Period
from erp.posting import (
    Document,
    Line,
    entry_of_document,
    negated_lines,
    Movement,
    Posting,
    lock_open_period,
    post,
    price_for_posting,
    standard_price,
)
from erp.posting.models import (
    Batch,
    CloseClass,
    MovementType,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
)
from erp.posting.stock import available_on, find_or_create_batch, lock_balances, lock_stock, value_taken
from erp.production.boms import bom_in_force, planned_quantity
from erp.production.errors import (
    NoBomInForce,
    NoCostCenterRate,
    NotAComponent,
    OverIssueNeedsReason,
    ProductionOrderState,
    OutputBatchTaken,
    OutputBatchUsed,
)
from erp.production.models import (
    ORDER_TRANSITIONS,
    BatchRole,
    Bom,
    CostCenterRate,
    CostEstimate,
    CostEstimateLine,
    CostRollup,
    OrderDocumentKind,
    OrderStatus,
    ProductionOrder,
    ProductionOrderBatch,
    ProductionOrderComponent,
    ProductionOrderDocument,
    RollupStatus,
)
from erp.quality import services as quality
from erp.quality.models import LotOrigin
from erp.narration import REASON_LENGTH, narrate

# Who runs orders: there is no production planner role yet, so the plant's clerks (who also
# issue and receive) and cost accountants create, release and complete them.
ORDER_ROLES = (Role.CLERK, Role.COST_ACCOUNTANT)
ZERO = Decimal("0")


@dataclass(frozen=True)
class IssueItem:
    material_id: int
    quantity: Decimal
    batch_id: int | None = None


def _order(session: Session, actor: Actor, order_id: int, *, lock: bool = False) -> ProductionOrder:
    query = select(ProductionOrder).where(ProductionOrder.id == order_id)
    # Read again whether locked or not: the order may be in the session from before (a page
    # showed it), and a lock must see what committed while it waited.
    order = session.scalar((query.with_for_update(key_share=True) if lock else query)
                           .execution_options(populate_existing=True))
    if order is None or not actor.acts_for_company(order.company_id):
        raise NotFound(Message("production order {key} not found", key=order_id))
    return order


def get_order(session: Session, actor: Actor, order_id: int) -> ProductionOrder:
    """A production order with its components (callers acting for its company)."""
    return _order(session, actor, order_id)


def list_orders(session: Session, actor: Actor, *, company_id: int | None = None,
                status: OrderStatus | str | None = None, offset: int = 0, limit: int = 50,
                ) -> tuple[list[ProductionOrder], int]:
    """One page of production orders, newest first, and how many there are in all (the one
    pager, erp.db.page): a company's (refused company-out-of-scope for another company), or,
    without ``company_id``, those of every company the caller acts for."""
    if company_id is not None:
        actor.require_company(company_id)
        scope = ProductionOrder.company_id == company_id
    else:
        scope = actor.company_scope(ProductionOrder.company_id)
    query = select(ProductionOrder).where(scope)
    if status is not None:
        query = query.where(ProductionOrder.status == OrderStatus(status))
    return page(session, query.order_by(ProductionOrder.id.desc()), offset=offset, limit=limit, entities=True)


def _planned_prices(session: Session, company_id: int, material_id: int, period: str,
                    component_ids: Sequence[int]) -> dict[int, Decimal]:
    """The prices the material's standard cost was built from: the latest released roll-up
    of the company up to ``period`` that costed the material; else the standards in force."""
    latest = session.scalar(
        select(CostRollup.id).join(CostEstimate, CostEstimate.rollup_id == CostRollup.id)
        .where(CostRollup.company_id == company_id, CostRollup.status == RollupStatus.RELEASED,
               CostRollup.period <= period, CostEstimate.material_id == material_id)
        .order_by(CostRollup.period.desc(), CostRollup.id.desc()).limit(1)
    )
    prices: dict[int, Decimal] = {}
    if latest is not None:
        prices = dict(session.execute(
            select(CostEstimateLine.component_id, CostEstimateLine.price)
            .where(CostEstimateLine.rollup_id == latest, CostEstimateLine.material_id == material_id,
                   CostEstimateLine.component_id.in_(component_ids))
        ).all())
    for component_id in component_ids:
        if component_id not in prices:
            prices[component_id] = standard_price(session, company_id, component_id, period)
    return prices


def create_order(
    session: Session, actor: Actor, *, company_id: int, material_id: int, quantity: Decimal, order_date: dt.date,
    warehouse_id: int,
) -> ProductionOrder:
    """Create a production order for ``quantity`` of a made material from the BOM in force on
    ``order_date``, its output to be delivered into ``warehouse_id``. Copies the BOM's
    components with their planned quantities and the prices they were costed at, and the
    cost centre's rates in force. Refuses ``NoBomInForce``, ``NoCostCenterRate``,
    ``NoStandardPrice`` (a component without a price), a warehouse of another company or
    one that cannot store the material."""
    actor.require_role(*ORDER_ROLES, action="planning production orders")
    actor.require_company(company_id)
    if quantity <= 0:
        raise ValidationFailed.for_field("quantity", Message("the quantity must be positive"))
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(Message("material {key} not found", key=material_id))
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or not actor.acts_for_company(warehouse.company_id):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    _require_warehouse(actor, warehouse.id, warehouse.company_id)
    if warehouse.company_id != company_id:
        raise WarehouseNotOfCompany(Message("warehouse {warehouse} does not belong to the order's company",
                                            warehouse=Named.of(warehouse)))
    storable, why = can_store(warehouse, material)
    if not storable:
        raise StorageConditionsNotMet(why)
    bom = bom_in_force(session, company_id, material_id, order_date)
    if bom is None:
        raise NoBomInForce(Message("{material} has no bill of materials in force on {day} in this company",
                                   material=material.code, day=order_date))
    period = Period.of(order_date)
    labour = overhead = ZERO
    if bom.hours > 0:
        rate = session.scalar(
            select(CostCenterRate).where(CostCenterRate.company_id == company_id,
                                         CostCenterRate.cost_center == bom.cost_center,
                                         CostCenterRate.period <= period)
            .order_by(CostCenterRate.period.desc()).limit(1))
        if rate is None:
            raise NoCostCenterRate(Message("cost centres {centres} have no standard rates for the period",
                                           centres=[bom.cost_center]))
        labour, overhead = rate.labour_rate, rate.overhead_rate
    prices = _planned_prices(session, company_id, material_id, period, [c.material_id for c in bom.components])
    order = ProductionOrder(
        company_id=company_id, material_id=material_id, bom_id=bom.id, warehouse_id=warehouse_id, quantity=quantity,
        order_date=order_date, status=OrderStatus.CREATED, base_quantity=bom.base_quantity, hours=bom.hours,
        labour_rate=labour, overhead_rate=overhead, created_by=actor.user_id,
        components=[ProductionOrderComponent(
            line_no=c.line_no, material_id=c.material_id, quantity_per_base=c.quantity, scrap_pct=c.scrap_pct,
            planned_quantity=planned_quantity(c, bom, quantity), planned_price=prices[c.material_id],
        ) for c in bom.components],
    )
    session.add(order)
    session.flush()
    after = audit.snapshot(order, exclude=("created_by",))
    after["components"] = [{"material_id": c.material_id, "planned_quantity": audit.plain(c.planned_quantity),
                            "planned_price": audit.plain(c.planned_price)} for c in order.components]
    _audit(session, actor, order, audit.CREATE, None, after)
    return order


# The audit trail of an order (entity ``production_order``): its creation, each change of
# status (release, cancel, technical completion) and each reversal of a delivery (with the
# reason); the postings themselves are the journal's and the stock ledger's.
ORDER_ENTITY = "production_order"


def _audit(session: Session, actor: Actor, order: ProductionOrder, action: str, before: dict[str, object] | None,
           after: dict[str, object] | None, reason: str | None = None) -> None:
    audit.record_change(session, actor, entity=ORDER_ENTITY, entity_id=order.id, action=action, before=before,
                        after=after, reason=reason, company_id=order.company_id)


@dataclass(frozen=True)
class Choice:
    """A record a new order may name: id, code and names, and the company it belongs to."""

    id: int
    company_id: int
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class OrderChoices:
    """What a new order may name (the order form's lists): the caller's active companies,
    the materials with a BOM in each, and each company's active warehouses (a clerk's own)."""

    companies: list[Choice]
    materials: list[Choice]
    warehouses: list[Choice]


def company_choices(session: Session, actor: Actor) -> list[Choice]:
    """The active companies the caller acts for, by code (a form's list of companies)."""
    return [Choice(r.id, r.id, r.code, r.name_zh, r.name_en) for r in session.execute(
        select(Company.id, Company.code, Company.name_zh, Company.name_en)
        .where(Company.active.is_(True), actor.company_scope(Company.id)).order_by(Company.code))]


def order_choices(session: Session, actor: Actor) -> OrderChoices:
    """The companies, made materials (with a BOM version in the company) and output
    warehouses a new order may name, by code. Three small queries; the order's own checks
    (BOM in force on its date, warehouse able to store the material) stay in ``create_order``."""
    companies = company_choices(session, actor)
    materials = [Choice(*r) for r in session.execute(
        select(Material.id, Bom.company_id, Material.code, Material.name_zh, Material.name_en).distinct()
        .join(Bom, Bom.material_id == Material.id).where(actor.company_scope(Bom.company_id))
        .order_by(Material.code, Bom.company_id))]
    warehouses = [Choice(*r) for r in session.execute(
        select(Warehouse.id, Warehouse.company_id, Warehouse.code, Warehouse.name_zh, Warehouse.name_en)
        .where(Warehouse.active.is_(True), actor.warehouse_scope(Warehouse.id, Warehouse.company_id))
        .order_by(Warehouse.code))]
    return OrderChoices(companies, materials, warehouses)


def _require_warehouse(actor: Actor, warehouse_id: int, company_id: int) -> None:
    """Clerks plan and run orders of their own warehouses only (as they issue and receive
    there); cost accountants act for their companies' warehouses."""
    if not actor.acts_for_warehouse(warehouse_id, company_id):
        raise ClerkNotOfWarehouse(Message("you do not act for warehouse {warehouse}", warehouse=warehouse_id))


def _move(order: ProductionOrder, to: OrderStatus) -> None:
    if to not in ORDER_TRANSITIONS[order.status]:
        raise ProductionOrderState(Message("production order {order} is {status}; it cannot become {target}",
                                           order=order.number, status=order.status, target=to))
    order.status = to


def release_order(session: Session, actor: Actor, order_id: int) -> ProductionOrder:
    """Release a created order: components may now be issued and output delivered."""
    actor.require_role(*ORDER_ROLES, action="releasing production orders")
    order = _order(session, actor, order_id, lock=True)
    _require_warehouse(actor, order.warehouse_id, order.company_id)
    before = {"status": order.status}
    _move(order, OrderStatus.RELEASED)
    order.released_at = utcnow()
    session.flush()
    _audit(session, actor, order, "release", before, {"status": order.status})
    return order


def cancel_order(session: Session, actor: Actor, order_id: int) -> ProductionOrder:
    """Cancel an order that was never released (nothing was posted for it)."""
    actor.require_role(*ORDER_ROLES, action="cancelling production orders")
    order = _order(session, actor, order_id, lock=True)
    _require_warehouse(actor, order.warehouse_id, order.company_id)
    before = {"status": order.status}
    _move(order, OrderStatus.CANCELLED)
    session.flush()
    _audit(session, actor, order, "cancel", before, {"status": order.status})
    return order


def complete_order(session: Session, actor: Actor, order_id: int, completed_on: dt.date) -> ProductionOrder:
    """Technically complete a released order on a date: nothing more is issued or
    delivered, and the close of that date's period settles the order's variance (what it
    cost beyond, or short of, the standard of its output)."""
    actor.require_role(*ORDER_ROLES, action="completing production orders")
    order = _order(session, actor, order_id, lock=True)
    _require_warehouse(actor, order.warehouse_id, order.company_id)
    if completed_on < order.order_date:
        raise ValidationFailed.for_field("completed_on", Message("an order cannot be completed before its date"))
    refuse_after_business_day(completed_on, field="completed_on", what=N_("a technical completion"))
    # The order's issues and deliveries, and the reversals of its issues (posted through the
    # warehouse, so not among the order's documents).
    posted_for_order = select(ProductionOrderDocument.document_id).where(ProductionOrderDocument.order_id == order.id)
    last_posted = session.scalar(select(func.max(StockDocument.posting_date)).where(
        StockDocument.id.in_(posted_for_order) | StockDocument.reverses_document_id.in_(posted_for_order)))
    if last_posted is not None and completed_on < last_posted:
        raise ValidationFailed.for_field("completed_on", Message(
            "production order {order} has postings up to {day}; it cannot be completed before them",
            order=order.number, day=last_posted))
    # The completion decides which close settles the order: it is dated in an open period,
    # held open until commit like a posting's (a close waits for it, or it waits and is refused).
    lock_open_period(session, order.company_id, completed_on)
    before = {"status": order.status, "completed_on": order.completed_on}
    _move(order, OrderStatus.COMPLETED)
    order.completed_on = completed_on
    session.flush()
    _audit(session, actor, order, "complete", before, {"status": order.status, "completed_on": completed_on})
    return order


def _require_released(order: ProductionOrder) -> None:
    if order.status != OrderStatus.RELEASED:
        raise ProductionOrderState(Message("production order {order} is {status}; only a released order takes "
                                           "issues and deliveries", order=order.number, status=order.status))


def _link_batches(session: Session, order_id: int, batch_ids: Sequence[int], role: BatchRole) -> None:
    if not batch_ids:
        return
    statement = dialect_insert(session, ProductionOrderBatch).on_conflict_do_nothing(
        index_elements=["order_id", "batch_id", "role"])
    session.execute(statement, [{"order_id": order_id, "batch_id": b, "role": role.value} for b in batch_ids])


@dataclass(frozen=True)
class OverIssue:
    """A component issued beyond what the order's bill of materials requires (finding 133):
    its planned quantity (the BOM's quantity for the order, scrap allowance included), what
    was issued before, what this issue adds, and by how much the total passes the plan."""

    material_id: int
    planned: Decimal
    issued_before: Decimal
    quantity: Decimal

    @property
    def issued_after(self) -> Decimal:
        return self.issued_before + self.quantity

    @property
    def over_by(self) -> Decimal:
        return self.issued_after - self.planned


def issued_quantities(session: Session, order_id: int) -> dict[int, Decimal]:
    """Per component, the quantity issued to the order so far, net of reversed issues."""
    d, m, sd = ProductionOrderDocument, StockMovement, StockDocument
    issues = select(d.document_id).where(d.order_id == order_id, d.kind == OrderDocumentKind.ISSUE)
    rows = session.execute(
        select(m.material_id, func.sum(-m.quantity))
        .join(sd, sd.id == m.document_id)
        .where(sd.id.in_(issues) | sd.reverses_document_id.in_(issues),
               m.movement_type.in_([MovementType.ISSUE, MovementType.ISSUE_REVERSAL]))
        .group_by(m.material_id)).all()
    return {material_id: Decimal(quantity or 0) for material_id, quantity in rows}


def over_issues(session: Session, order: ProductionOrder, items: Sequence[IssueItem]) -> list[OverIssue]:
    """The components these items would issue beyond the order's plan (``OverIssue``), in
    the items' order: what the issue preview warns of and an issue needs a reason for."""
    planned = {c.material_id: c.planned_quantity for c in order.components}
    issued = issued_quantities(session, order.id)
    adding: dict[int, Decimal] = {}
    for item in items:
        adding[item.material_id] = adding.get(item.material_id, ZERO) + item.quantity
    return [OverIssue(material_id, planned[material_id], issued.get(material_id, ZERO), quantity)
            for material_id, quantity in adding.items()
            if material_id in planned and issued.get(material_id, ZERO) + quantity > planned[material_id]]


def issue_components(
    session: Session, actor: Actor, order_id: int, *, warehouse_id: int, posting_date: dt.date,
    items: Sequence[IssueItem], over_issue_reason: str | None = None,
) -> list[int]:
    """Issue components to a released order from a warehouse of its company (clerks), each
    first-expiry-first-out or from a named batch; returns the issue documents' ids. Refuses
    a material that is not one of the order's components (``NotAComponent``), and whatever
    an issue refuses (not enough stock, an expired batch, a closed period); a warehouse of
    another company (``WarehouseNotOfCompany``), even for a caller who acts for both.

    More of a component than the order's plan (``over_issues``) is issued only with
    ``over_issue_reason`` (``OverIssueNeedsReason`` names each and by how much), and is
    recorded in the audit trail (action ``over-issue``: the plan, the quantity issued before
    and after, the excess, the reason)."""
    actor.require_role(Role.CLERK, action="issuing goods")
    order = _order(session, actor, order_id, lock=True)
    _require_released(order)
    if posting_date < order.order_date:
        raise ValidationFailed.for_field("posting_date", Message("components cannot be issued before the order's date"))
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or not actor.acts_for_warehouse(warehouse.id, warehouse.company_id):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    if warehouse.company_id != order.company_id:
        raise WarehouseNotOfCompany(Message("warehouse {warehouse} does not belong to the order's company",
                                            warehouse=Named.of(warehouse)))
    components = {c.material_id for c in order.components}
    for item in items:
        if item.material_id not in components:
            code = session.scalar(select(Material.code).where(Material.id == item.material_id))
            raise NotAComponent(Message("{material} is not a component of production order {order}",
                                        material=code or item.material_id, order=order.number))
    beyond = over_issues(session, order, items)
    reason = (over_issue_reason or "").strip()
    if beyond and not reason:
        names = dict(session.execute(select(Material.id, Material.code).where(
            Material.id.in_([o.material_id for o in beyond]))).all())
        message = Message(
            "this issue takes {excess} beyond the bill of materials of production order {order}; give a reason for the "
            "over-issue", order=order.number,
            excess=[f"{names.get(o.material_id, o.material_id)} {o.over_by.normalize():f} "
                    f"({o.issued_after.normalize():f} / {o.planned.normalize():f})" for o in beyond])
        raise OverIssueNeedsReason(message, errors=[{"pointer": "/over_issue_reason", "detail": message}])
    # All the components' stock locked first, in the one order (inventory's): two issues
    # naming the same components in opposite order must not deadlock.
    issued = inventory.issue_lines_to_production_order(
        session, actor, lines=[inventory.TakeLine(warehouse_id, item.material_id, item.quantity, item.batch_id)
                               for item in items],
        posting_date=posting_date, order_number=order.number)
    documents = []
    for document_id, batches in issued:
        session.execute(insert(ProductionOrderDocument).values(
            document_id=document_id, order_id=order.id, kind=OrderDocumentKind.ISSUE.value, posting_date=posting_date,
            labour=ZERO, overhead=ZERO))
        _link_batches(session, order.id, batches, BatchRole.INPUT)
        documents.append(document_id)
    for over in beyond:
        _audit(session, actor, order, "over-issue",
               {"issued_quantity": audit.at_scale(over.issued_before, 4)},
               {"material_id": over.material_id, "planned_quantity": audit.at_scale(over.planned, 4),
                "issued_quantity": audit.at_scale(over.issued_after, 4),
                "over_issue": audit.at_scale(over.over_by, 4),
                "documents": [_document_number(session, d) for d in documents]},
               reason=reason)
    return documents


def deliver_output(
    session: Session, actor: Actor, order_id: int, *, quantity: Decimal, posting_date: dt.date,
    batch_number: str | None = None,
) -> int:
    """Receive output of a released order into its warehouse at standard (clerks); returns
    the document's id. The batch is the order's own (default: the order's number), made on
    the order's date and expiring after the material's shelf life; stock goes to quarantine
    with an inspection lot when the material needs inspection. Partial deliveries add to
    the order's delivered quantity; the conversion the quantity absorbs is posted with it.
    Refuses ``OutputBatchTaken`` for a batch that is not the order's own
    (``_require_own_output_batch``: another order's output, a batch with postings not the
    order's, other dates); a batch whose only history is the order's deliveries and their
    reversals is its own, also once they were all reversed."""
    actor.require_role(Role.CLERK, action="receiving production output")
    order = _order(session, actor, order_id, lock=True)
    _require_released(order)
    if quantity <= 0:
        raise ValidationFailed.for_field("quantity", Message("the quantity must be positive"))
    if posting_date < order.order_date:
        raise ValidationFailed.for_field("posting_date", Message("output cannot be delivered before the order's date"))
    warehouse = session.get(Warehouse, order.warehouse_id)
    assert warehouse is not None
    if not actor.acts_for_warehouse(warehouse.id, warehouse.company_id):
        raise NotFound(Message("warehouse {warehouse} not found", warehouse=warehouse.code))
    material = session.get(Material, order.material_id)
    assert material is not None
    if not material.unit.admits(quantity):
        message = Message("material {material} is counted in {unit} with {decimals} decimal places; got {quantity}",
                          material=Named.of(material), unit=material.unit.code, decimals=material.unit.decimals,
                          quantity=quantity)
        raise InvalidQuantity(message, errors=[{"pointer": "/quantity", "detail": message}])
    _, price = price_for_posting(session, order.company_id, material.id, posting_date)
    made = order.order_date
    expires = made + dt.timedelta(days=material.shelf_life_days) if material.shelf_life_days else None
    number = (batch_number or order.number) if material.batch_managed else None
    batch_id, batch_made, batch_expires = find_or_create_batch(
        session, material_id=material.id, batch_number=number, manufacture_date=made, expiry_date=expires,
        supplier_id=None)
    if material.batch_managed:
        _require_own_output_batch(session, order, batch_id, number, material.code,
                                  recorded=(batch_made, batch_expires), wanted=(made, expires))
    value = require_amount_fits(round_money(quantity * price), field="quantity", what=N_("the delivery's value"))
    per_unit_hours = order.hours * quantity / order.base_quantity
    labour = round_money(per_unit_hours * order.labour_rate)
    overhead = round_money(per_unit_hours * order.overhead_rate)
    status = StockStatus.QUARANTINE if material.inspection_required else StockStatus.UNRESTRICTED
    inventory_account = accounts.INVENTORY_ACCOUNT[MaterialType(material.material_type)]
    posted = post(session, Posting(
        company_id=order.company_id, posting_date=posting_date, user_id=actor.user_id,
        document=Document(MovementType.PRODUCTION_RECEIPT, standard_price=price, reference=order.number,
                          destination="production_order"),
        movements=[Movement(MovementType.PRODUCTION_RECEIPT, CloseClass.INFLOW, warehouse.id, material.id, batch_id,
                            status, quantity, value)],
        journal=[
            Line(inventory_account, value, material.id),
            Line(accounts.WORK_IN_PROCESS, labour + overhead - value, material.id),
            Line(accounts.LABOUR_ABSORBED, -labour),
            Line(accounts.OVERHEAD_ABSORBED, -overhead),
        ],
        memo=narrate("production-receipt", order=order.number),
    ))
    assert posted.document_id is not None
    session.execute(insert(ProductionOrderDocument).values(
        document_id=posted.document_id, order_id=order.id, kind=OrderDocumentKind.DELIVERY.value,
        posting_date=posting_date, labour=labour, overhead=overhead))
    _link_batches(session, order.id, [batch_id], BatchRole.OUTPUT)
    if status == StockStatus.QUARANTINE:
        quality.open_lot(session, origin=LotOrigin.RECEIPT, company_id=order.company_id, warehouse_id=warehouse.id,
                         material_id=material.id, batch_id=batch_id, quantity=quantity, inspection_date=posting_date,
                         source_document_id=posted.document_id, user_id=actor.user_id)
    order.delivered_quantity += quantity
    session.flush()
    return posted.document_id


# What may have happened to a delivered batch for its delivery to be reversed: more
# deliveries of the order and their reversals, quality's decisions on it, restatements at
# a new standard, a supplier invoice's price difference (value-only rows, no quantity).
_UNTOUCHED_BY = (MovementType.PRODUCTION_RECEIPT, MovementType.PRODUCTION_RECEIPT_REVERSAL,
                 MovementType.QUALITY_RELEASE, MovementType.QUALITY_REJECT, MovementType.QUALITY_HOLD,
                 MovementType.REVALUATION, MovementType.PRICE_DIFFERENCE)


def reverse_delivery(
    session: Session, actor: Actor, order_id: int, document_id: int, *, posting_date: dt.date, reason: str,
) -> int:
    """Take a delivery of an order's output back out of stock (clerks of the order's
    warehouse); returns the reversal document's id.

    The reversal is the delivery's journal entry negated: 5001.01 takes back the output's
    value at the standard it was delivered at and gives back the conversion the quantity
    absorbed; the order's delivered quantity goes down. The stock leaves its batch at the
    value it holds at the standard now in force; if that standard changed since the
    delivery, the difference is restated against the material cost variance account (1404),
    as the price change did for the stock that stayed. Open inspection lots of the delivery
    still in the order's warehouse are cancelled (a lot that moved with a transfer stays on its
    goods), and what left quarantine there is taken off the other open lots on the batch
    (``reduce_open_lots``), as a receipt's reversal does. When nothing the order delivered
    into the batch is left, the batch is no longer the order's output in the genealogy (its
    history stays the order's: only the order may deliver into it again).

    Refuses: not-found (not a delivery of this order), already-reversed, the order settled by
    a close (``ProductionOrderClosed``), a reversal dated before the delivery or after the
    order's completion, the batch issued, shipped, moved or scrapped since
    (``OutputBatchUsed``), its stock no longer in the order's warehouse
    (``InsufficientStock``), a closed period."""
    actor.require_role(Role.CLERK, action="reversing production output")
    order = _order(session, actor, order_id, lock=True)
    warehouse = session.get(Warehouse, order.warehouse_id)
    assert warehouse is not None
    if not actor.acts_for_warehouse(warehouse.id, warehouse.company_id):
        raise NotFound(Message("warehouse {warehouse} not found", warehouse=warehouse.code))
    link = session.get(ProductionOrderDocument, document_id)
    delivery = session.get(StockDocument, document_id)
    if (link is None or link.order_id != order.id or link.kind != OrderDocumentKind.DELIVERY or delivery is None
            or delivery.doc_type != MovementType.PRODUCTION_RECEIPT):
        raise NotFound(Message("delivery {key} of production order {order} not found", key=document_id,
                               order=order.number))
    if order.settled_period is not None:
        raise ProductionOrderClosed(Message(
            "production order {order} was settled by the close of {period}: its deliveries can no longer be reversed",
            order=order.number, period=order.settled_period))
    if order.status not in (OrderStatus.RELEASED, OrderStatus.COMPLETED):
        raise ProductionOrderState(Message("production order {order} is {status}; it has no deliveries to reverse",
                                           order=order.number, status=order.status))
    reversed_by = session.scalar(select(StockDocument.number).where(StockDocument.reverses_document_id == document_id))
    if reversed_by is not None:
        raise AlreadyReversed(Message("document {document} was reversed by document {reversal}",
                                      document=delivery.number, reversal=reversed_by))
    if posting_date < delivery.posting_date:
        raise ValidationFailed.for_field("posting_date", Message("a reversal cannot be dated before the delivery"))
    if order.completed_on is not None and posting_date > order.completed_on:
        raise ValidationFailed.for_field("posting_date", Message(
            "production order {order} was completed on {day}; date the reversal on or before it",
            order=order.number, day=order.completed_on))
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
    (delivered,) = [m for m in session.scalars(select(StockMovement).where(StockMovement.document_id == document_id))]
    lock_open_period(session, order.company_id, posting_date)
    _, price = price_for_posting(session, order.company_id, delivered.material_id, posting_date)
    # Every balance of the batch in the warehouse, locked before anything is checked, so
    # nothing moves the batch meanwhile. Quality may have released, rejected or held the
    # output since: it is taken from the status that holds it, on the reversal's date too,
    # first where QA's decision on its own lot put it, so that it never takes another
    # delivery's untested stock out of quarantine in its place.
    # All statuses in one statement, in the one lock order (erp.posting.stock): status by
    # status in this order of preference, which depends on QA's decision, it would lock
    # them in an order of its own. Then read again under the locks (``reread``): QA's
    # release or an excursion's hold that committed while this waited moved the output into
    # a status the batch had no row of, which the first statement cannot see. And QA's
    # decision is read under the locks too: read before, a release committed meanwhile went
    # unseen, and the reversal took another delivery's quarantined stock in its place.
    places = {status: (delivered.warehouse_id, delivered.material_id, status, delivered.batch_id)
              for status in StockStatus}
    locked = lock_stock(session, places.values(), reread=True)
    first = quality.decided_status(session, delivery.id) or delivered.status
    places = {status: places[status] for status in [first, *(s for s in StockStatus if s != first)]}
    held = None
    for place in places.values():
        rows = locked[place]
        if held is None and rows and available_on(session, rows[0], posting_date) >= delivered.quantity:
            held = rows[0]
    material = session.get(Material, delivered.material_id)
    assert material is not None
    if material.batch_managed:
        # The batch is the order's own: anything else that moved it (an issue, a shipment, a
        # transfer, scrap) used the output. A material without batches shares one batch
        # group-wide, so only the dated quantity check below applies to it.
        used = session.scalar(select(StockMovement.id).where(
            StockMovement.batch_id == delivered.batch_id, StockMovement.movement_type.not_in(_UNTOUCHED_BY)).limit(1))
        if used is not None:
            raise OutputBatchUsed(Message("batch {batch} has been used since it was delivered: the delivery can no "
                                          "longer be reversed", batch=_batch_number(session, delivered.batch_id)))
    if held is None:
        raise InsufficientStock(Message("batch {batch} no longer holds the {quantity} the delivery put into it",
                                        batch=_batch_number(session, delivered.batch_id), quantity=delivered.quantity))
    taken = value_taken(session, order.company_id, held, delivered.quantity, price, posting_date)
    restated = taken - delivered.value
    entry_id = entry_of_document(session, delivery.id)
    journal = negated_lines(session, entry_id) if entry_id is not None else []
    if restated:
        journal += [Line(accounts.INVENTORY_ACCOUNT[MaterialType(material.material_type)], -restated, material.id),
                    Line(accounts.MATERIAL_COST_VARIANCE, restated, material.id)]
    # Without a price change it undoes the inflow; with one, it carries the restatement
    # like a receipt's reversal carries its variance (the close's figures then match 1404).
    close_class = CloseClass.RECEIPT if restated else CloseClass.INFLOW
    posted = post(session, Posting(
        company_id=order.company_id, posting_date=posting_date, user_id=actor.user_id,
        document=Document(MovementType.PRODUCTION_RECEIPT_REVERSAL, standard_price=price, reference=order.number,
                          destination="production_order", reason=reason, reverses_document_id=delivery.id),
        movements=[Movement(MovementType.PRODUCTION_RECEIPT_REVERSAL, close_class, held.warehouse_id,
                            material.id, held.batch_id, held.status, -delivered.quantity, -taken, restated)],
        journal=journal, reverses_entry_id=entry_id,
        memo=narrate("production-receipt-reversal", delivery=delivery.number, order=order.number, reason=reason),
    ))
    assert posted.document_id is not None
    session.execute(insert(ProductionOrderDocument).values(
        document_id=posted.document_id, order_id=order.id, kind=OrderDocumentKind.DELIVERY.value,
        posting_date=posting_date, labour=-link.labour, overhead=-link.overhead))
    why = narrate("production-receipt-reversed", REASON_LENGTH, delivery=delivery.number, reason=reason)
    # As for a purchase receipt's reversal (erp.inventory.services.reverse_receipt): its lot
    # goes with its goods only while both are still in the order's warehouse. A lot that
    # moved with a whole transfer (stock of a material without batches, which a transfer
    # does not count as use of the output) stays on those goods in the other warehouse, and
    # the goods taken here were then another delivery's.
    quality.cancel_lots_of_document(session, actor, delivery.id, reason=why, warehouse_id=held.warehouse_id)
    if held.status == StockStatus.QUARANTINE:
        # No open lot here may go on covering quarantined goods that left: another delivery's
        # lot when this one's moved away or was decided, or an excursion's hold when the
        # output was released before the hold (else QA's decision would move another lot's
        # stock).
        left_in_quarantine = sum((h.quantity for h in lock_balances(
            session, warehouse_id=held.warehouse_id, material_id=material.id, status=StockStatus.QUARANTINE,
            batch_id=held.batch_id)), Decimal("0"))
        quality.reduce_open_lots(session, actor, warehouse_id=held.warehouse_id, batch_id=held.batch_id,
                                 left_in_quarantine=left_in_quarantine, reason=why)
    left_here = session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
        StockBalance.warehouse_id == held.warehouse_id, StockBalance.material_id == material.id,
        StockBalance.batch_id == held.batch_id))
    if material.batch_managed and not left_here:
        # Nothing of the batch is left here: a lot still open on it (an excursion's hold) has nothing to decide.
        quality.cancel_open_lots_of_batch(session, actor, warehouse_id=held.warehouse_id, batch_id=held.batch_id,
                                          reason=why)
    delivered_before = order.delivered_quantity
    order.delivered_quantity -= delivered.quantity
    _audit(session, actor, order, "reverse-delivery",
           {"delivered_quantity": audit.at_scale(delivered_before, 4), "document": delivery.number},
           {"delivered_quantity": audit.at_scale(order.delivered_quantity, 4),
            "document": _document_number(session, posted.document_id)},
           reason=reason)
    left = session.scalar(
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .join(ProductionOrderDocument, ProductionOrderDocument.document_id == StockMovement.document_id)
        .where(ProductionOrderDocument.order_id == order.id, StockMovement.batch_id == delivered.batch_id))
    if not left:
        session.execute(delete(ProductionOrderBatch).where(
            ProductionOrderBatch.order_id == order.id, ProductionOrderBatch.batch_id == delivered.batch_id,
            ProductionOrderBatch.role == BatchRole.OUTPUT))
    session.flush()
    return posted.document_id


def _document_number(session: Session, document_id: int) -> str | None:
    return session.scalar(select(StockDocument.number).where(StockDocument.id == document_id))


def _batch_number(session: Session, batch_id: int) -> str:
    return session.scalar(select(Batch.batch_number).where(Batch.id == batch_id)) or str(batch_id)


# Movements that put no stock into a batch and take none out of it: quality's status moves
# and value-only rows. They follow the postings that brought the stock, and say nothing of
# where the batch came from.
_NEITHER_IN_NOR_OUT = (MovementType.QUALITY_RELEASE, MovementType.QUALITY_REJECT, MovementType.QUALITY_HOLD,
                       MovementType.REVALUATION, MovementType.PRICE_DIFFERENCE)


def _require_own_output_batch(session: Session, order: ProductionOrder, batch_id: int, number: str | None,
                              material_code: str, *, recorded: tuple[dt.date | None, dt.date | None],
                              wanted: tuple[dt.date | None, dt.date | None]) -> None:
    """Refuse (``OutputBatchTaken``) a batch that is not the order's own to deliver into: the
    output of another order; a batch whose stock came in or went out by any posting that is
    not this order's (a supplier's receipt, another order's delivery, opening stock, even if
    reversed since: the genealogy would mix them); or one recorded with other dates than the
    order's output is made and expires on.

    A batch whose only history is this order's deliveries and their reversals (and quality's
    decisions on them) is the order's own, whether or not the order still holds it as its
    output: its only delivery reversed, the genealogy link went with it (the batch held
    nothing from the order), and the next delivery links it again."""
    own = session.scalar(select(ProductionOrderBatch.order_id).where(
        ProductionOrderBatch.batch_id == batch_id, ProductionOrderBatch.role == BatchRole.OUTPUT))
    if own not in (None, order.id):
        other = session.get(ProductionOrder, own)
        raise OutputBatchTaken(Message("batch {batch} of {material} is the output of production order {order}",
                                       batch=number, material=material_code, order=other.number if other else own))
    # While the order holds the batch as its output, what happened to it since (shipped,
    # issued) is the order's output's own history; without the link, its history says whose it is.
    foreign = None
    if own is None:
        orders_documents = select(ProductionOrderDocument.document_id).where(
            ProductionOrderDocument.order_id == order.id)
        foreign = session.scalar(
            select(StockDocument.number).join(StockMovement, StockMovement.document_id == StockDocument.id)
            .where(StockMovement.batch_id == batch_id, StockMovement.movement_type.not_in(_NEITHER_IN_NOR_OUT),
                   StockMovement.document_id.not_in(orders_documents))
            .order_by(StockMovement.id).limit(1))
    if foreign is not None:
        raise OutputBatchTaken(Message("batch {batch} of {material} has postings that are not this order's, the "
                                       "first by document {document}", batch=number, material=material_code,
                                       document=foreign))
    if recorded != wanted:
        raise OutputBatchTaken(Message(
            "batch {batch} of {material} is recorded as made on {made} and expiring on {expires}; this order's "
            "output is made on {order_made} and expires on {order_expires}", batch=number, material=material_code,
            made=recorded[0] or "-", expires=recorded[1] or "-", order_made=wanted[0] or "-",
            order_expires=wanted[1] or "-"))



def _refuse_reversal_of_closed_order(session: Session, document: StockDocument) -> None:
    """The reversal guard for issues to production orders (``erp.inventory.services``):
    an issue is reversed only while its order is released; the order row is locked for
    the reversal (as for an issue), so the order is not completed meanwhile."""
    order = session.scalar(
        select(ProductionOrder).join(ProductionOrderDocument, ProductionOrderDocument.order_id == ProductionOrder.id)
        .where(ProductionOrderDocument.document_id == document.id)
        .with_for_update(key_share=True, of=ProductionOrder).execution_options(populate_existing=True))
    if order is None or order.status == OrderStatus.RELEASED:
        return
    if order.settled_period is not None:
        raise ProductionOrderClosed(Message(
            "issue {document} went to production order {order}, whose variance the close of {period} settled: its "
            "issues can no longer be reversed", document=document.number, order=order.number,
            period=order.settled_period))
    raise ProductionOrderClosed(Message(
        "issue {document} went to production order {order}, which is {status}: its issues can no longer be "
        "reversed", document=document.number, order=order.number, status=order.status))


inventory.register_reversal_guard("production_order", _refuse_reversal_of_closed_order)


@dataclass(frozen=True)
class OrderPosting:
    """One ledger row posted for an order: an issue, a delivery or a reversal of either."""

    document_id: int
    number: str
    kind: OrderDocumentKind
    movement_type: MovementType
    posting_date: dt.date
    material_id: int
    material_code: str
    batch_id: int
    batch_number: str | None
    quantity: Decimal
    value: Decimal
    reversed_by: str | None


def order_postings(session: Session, actor: Actor, order_id: int) -> list[OrderPosting]:
    """What was posted for an order, oldest first (callers acting for its company)."""
    _order(session, actor, order_id)
    d, m, sd = ProductionOrderDocument, StockMovement, StockDocument
    reverser = aliased(StockDocument)
    reversal = select(reverser.number).where(reverser.reverses_document_id == d.document_id).scalar_subquery()
    rows = session.execute(
        select(d.document_id, sd.number, d.kind, m.movement_type, d.posting_date, m.material_id,
               Material.code, m.batch_id, Batch.batch_number, m.quantity, m.value, reversal)
        .join(sd, sd.id == d.document_id).join(m, m.document_id == d.document_id)
        .join(Material, Material.id == m.material_id).join(Batch, Batch.id == m.batch_id)
        .where(d.order_id == order_id, m.movement_type != MovementType.REVALUATION)
        .order_by(d.posting_date, d.document_id, m.id))
    return [OrderPosting(*row) for row in rows]


# An order created or released is still to be finished (completed) or cancelled.
_UNFINISHED = (OrderStatus.CREATED, OrderStatus.RELEASED)
_UNFINISHED_ORDERS = N_("unfinished production order(s)")


def _unfinished_orders(session: Session, *where: Any) -> list[Message]:
    ids = session.scalars(select(ProductionOrder.id).where(*where, ProductionOrder.status.in_(_UNFINISHED))
                          .order_by(ProductionOrder.id)).all()
    if not ids:
        return []
    numbers = [f"MO-{order_id:08d}" for order_id in ids[:3]] + (["…"] if len(ids) > 3 else [])
    return [Message("{count} {what} ({numbers})", count=len(ids), what=Term(_UNFINISHED_ORDERS),
                    numbers=numbers)]


@deactivation_check("company")
def _unfinished_orders_of_company(session: Session, company_id: int) -> list[Message]:
    return _unfinished_orders(session, ProductionOrder.company_id == company_id)


@deactivation_check("warehouse")
def _unfinished_orders_into_warehouse(session: Session, warehouse_id: int) -> list[Message]:
    return _unfinished_orders(session, ProductionOrder.warehouse_id == warehouse_id)


@deactivation_check("material")
def _unfinished_orders_of_material(session: Session, material_id: int) -> list[Message]:
    """Orders making the material or using it as a component."""
    return _unfinished_orders(session, or_(
        ProductionOrder.material_id == material_id,
        ProductionOrder.id.in_(select(ProductionOrderComponent.order_id)
                               .where(ProductionOrderComponent.material_id == material_id))))
