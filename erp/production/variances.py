"""Order variances, settled at month end inside the close (生产成本差异结转).

A production order collects on 5001.01 work in process what was issued to it (components at
the standards in force when issued) and the conversion it absorbed (standard rates), less
what it delivered (output at standard). When the order is technically completed, what is
left is its variance; the close of the period it was completed in settles it, split by
category, and moves it from 5001.01 to the production variance accounts. Orders still
running stay on 5001.01: that balance is the work in process at month end.

Per order component, with the target quantity = quantity per base x (1 + scrap%) x
delivered / base quantity (four decimals) and the planned price (the price the output's
standard was rolled up with):

    input quantity variance = round((issued quantity - target quantity) x planned price, 2)
    input price variance    = value issued (at the standards when issued, plus the
                              material cost variance the closes allocated to the issues)
                              - round(issued quantity x planned price, 2)

and per order: lot-size / remaining variance = the order's balance on 5001.01 - the sum of
the two above (conversion absorbed beyond its target, output valued at a standard that
differs from its target costs, cents). The three sum to the balance, so a settled order
leaves nothing on 5001.01.

Set-based: one INSERT ... SELECT per category over every due order of every company being
closed, one journal entry per company (Dr/Cr 6405.01/.02/.03 against 5001.01 material by
material: each component at its value issued, the material cost variance the closes put on
it included, and the output, so that work in process nets per material), one UPDATE
marking the orders settled. Reopening the period reverses the entry
and unmarks the orders. The worked example is in docs/production.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Numeric, case, cast, delete, func, insert, literal, select, union_all, update
from sqlalchemy.orm import Session

from erp.costing import accounts
from erp.costing.close import CloseExtension, allocated_on_no_material, register_close_extension
from erp.db import QUANTITY
from erp.period import Period
from erp.posting import CloseEntries, Posting, negated_lines, post, post_close_entries
from erp.costing.models import VarianceAllocation
from erp.posting.models import CloseClass, MovementType, StockDocument, StockMovement
from erp.production.models import (
    OrderDocumentKind,
    OrderStatus,
    ProductionOrder,
    ProductionOrderComponent,
    ProductionOrderDocument,
    ProductionOrderVariance,
    ProductionSettlement,
    VarianceCategory,
)
from erp.sqlmath import round_cents, round_product, round_share
from erp.narration import narrate

SETTLEMENT_SOURCE = "production_settlement"
VARIANCE_ACCOUNT = {
    VarianceCategory.INPUT_QUANTITY: accounts.INPUT_QUANTITY_VARIANCE,
    VarianceCategory.INPUT_PRICE: accounts.INPUT_PRICE_VARIANCE,
    VarianceCategory.LOT_SIZE: accounts.LOT_SIZE_VARIANCE,
}
VARIANCE_COLUMNS = ["company_id", "period", "order_id", "category", "component_id", "actual_quantity",
                    "target_quantity", "amount"]
HUNDRED = Decimal("100")
ZERO = Decimal("0")


def _order_issue_documents(due: Any) -> Any:
    """Per due order: its issue documents and the documents reversing them."""
    d, sd = ProductionOrderDocument, StockDocument
    issues = select(d.order_id, d.document_id).where(d.kind == OrderDocumentKind.ISSUE,
                                                     d.order_id.in_(select(due.c.id))).subquery("issues")
    reversals = select(issues.c.order_id, sd.id.label("document_id")).join(
        sd, sd.reverses_document_id == issues.c.document_id)
    return union_all(select(issues.c.order_id, issues.c.document_id), reversals).subquery("order_documents")


def _allocated_to_orders(due: Any) -> Any:
    """Per due order and component: the material cost variance (1404) the closes allocated
    to its issues on 5001.01, by the rule ``erp.inventory.services._shares_borne`` applies to
    one issue when it is reversed: per company, period and material, the close's allocation
    to 5001.01 (``variance_allocations``) is split over the period's issue documents (net of
    reversals within the period) in proportion to their value at standard, each part
    rounded half-up to the cent and the cents left to the document that consumed most
    (ties: the lowest id). An issue reversed after its period closed gives its part back on
    5001.01 (the reversal's value + variance), so the parts and the reversals net."""
    d, m, sd, va = ProductionOrderDocument, StockMovement, StockDocument, VarianceAllocation
    issued = (select(m.company_id, m.period, m.material_id)
              .join(d, d.document_id == m.document_id)
              .where(d.kind == OrderDocumentKind.ISSUE, d.order_id.in_(select(due.c.id)))
              .distinct().subquery("issued_in"))
    original = func.coalesce(sd.reverses_document_id, m.document_id)
    consumed = (
        select(m.company_id, m.period, m.material_id, original.label("document_id"),
               (-func.sum(m.value)).label("consumed"))
        .join(sd, sd.id == m.document_id)
        .join(issued, (issued.c.company_id == m.company_id) & (issued.c.period == m.period)
              & (issued.c.material_id == m.material_id))
        .where(m.offset_account == accounts.WORK_IN_PROCESS, m.close_class == CloseClass.CONSUMPTION)
        .group_by(m.company_id, m.period, m.material_id, original)
        .having(round_cents(func.sum(m.value)) != 0)
        .subquery("consumed")
    )
    key = (consumed.c.company_id, consumed.c.period, consumed.c.material_id)
    shares = (
        select(*key, consumed.c.document_id, consumed.c.consumed, va.allocated_variance,
               round_share(va.allocated_variance, consumed.c.consumed,
                           func.sum(consumed.c.consumed).over(partition_by=key)).label("part"))
        .join(va, (va.company_id == consumed.c.company_id) & (va.period == consumed.c.period)
              & (va.material_id == consumed.c.material_id) & (va.account_code == accounts.WORK_IN_PROCESS))
        .where(va.allocated_variance != 0)
        .subquery("shares")
    )
    key = (shares.c.company_id, shares.c.period, shares.c.material_id)
    reversed_later = select(sd.id).where(sd.reverses_document_id == shares.c.document_id).exists()
    parts = select(
        shares.c.document_id, shares.c.material_id, shares.c.allocated_variance, shares.c.part,
        # a part a close from before 5001.01 carried the material put on no material, and that
        # no later reversal gave back (there, on no material too): it stays on no material
        (allocated_on_no_material(shares.c.company_id, shares.c.period) & ~reversed_later).label("unassigned"),
        func.sum(shares.c.part).over(partition_by=key).label("parts"),
        func.row_number().over(partition_by=key, order_by=(func.abs(shares.c.consumed).desc(),
                                                           shares.c.document_id)).label("rank"),
    ).subquery("parts")
    borne = round_cents(parts.c.part + case((parts.c.rank == 1, parts.c.allocated_variance - parts.c.parts),
                                            else_=literal(ZERO)))
    return (
        select(d.order_id, parts.c.material_id, func.sum(borne).label("value"),
               func.sum(case((parts.c.unassigned, borne), else_=literal(ZERO))).label("unassigned"))
        .join(d, d.document_id == parts.c.document_id)
        .where(d.order_id.in_(select(due.c.id)))
        .group_by(d.order_id, parts.c.material_id)
        .subquery("allocated")
    )


def _issued(due: Any) -> Any:
    """Per due order and component: the quantity issued and its actual value, net of
    reversals: each issue at the standard in force when issued, plus the material cost
    variance the close allocated to it; a reversal takes off what it credited 5001.01 (the
    issue's value, and its allocated part once its period has closed: the reversal row's
    value + variance, whatever the standard it put the goods back at)."""
    m = StockMovement
    documents = _order_issue_documents(due)
    movements = (
        select(documents.c.order_id, m.material_id, (-m.quantity).label("quantity"),
               (-(m.value + m.variance)).label("value"), literal(ZERO).label("unassigned"))
        .join(m, m.document_id == documents.c.document_id)
        .where(m.movement_type.in_([MovementType.ISSUE, MovementType.ISSUE_REVERSAL]))
    )
    allocated = _allocated_to_orders(due)
    rows = union_all(movements, select(allocated.c.order_id, allocated.c.material_id, literal(ZERO, QUANTITY),
                                       allocated.c.value, allocated.c.unassigned)).subquery("issue_rows")
    return (
        select(rows.c.order_id, rows.c.material_id, func.sum(rows.c.quantity).label("quantity"),
               func.sum(rows.c.value).label("value"), func.sum(rows.c.unassigned).label("unassigned"))
        .group_by(rows.c.order_id, rows.c.material_id)
        .subquery("issued")
    )


def _delivered(due: Any) -> Any:
    """Per due order: the output's value at standard and the conversion absorbed, net of
    reversed deliveries (a reversal's value + variance is the delivery's value it takes
    back from 5001.01, whatever the standard the stock left at; its conversion is negative)."""
    d, m = ProductionOrderDocument, StockMovement
    value = (select(func.sum(m.value + m.variance)).where(
        m.document_id == d.document_id,
        m.movement_type.in_([MovementType.PRODUCTION_RECEIPT, MovementType.PRODUCTION_RECEIPT_REVERSAL]))
        .scalar_subquery())
    return (
        select(d.order_id, func.sum(value).label("value"), func.sum(d.labour + d.overhead).label("conversion"))
        .where(d.kind == OrderDocumentKind.DELIVERY, d.order_id.in_(select(due.c.id)))
        .group_by(d.order_id)
        .subquery("delivered")
    )


def _work_in_process_by_material(due: Any, issued: Any, delivered: Any) -> Any:
    """What the due orders hold on 5001.01, per company and the material its lines carry,
    so that the settlement clears each: every component at its value issued (the standards
    it was charged at, and the material cost variance the closes put on it, net of reversed
    issues: as the issues, the closes and the reversals posted them on the component), and
    the output delivered less the conversion absorbed (on the output material, as the
    deliveries posted them). The variance a close from before 5001.01 carried the material
    (3da21ad) put on no material is cleared on no material. They sum to each order's balance."""
    output = func.coalesce(delivered.c.value, 0) - func.coalesce(delivered.c.conversion, 0)
    return union_all(
        select(due.c.company_id, issued.c.material_id, (issued.c.value - issued.c.unassigned).label("amount"))
        .join(due, due.c.id == issued.c.order_id),
        # what a close from before 5001.01 carried the material put on no material stays there
        select(due.c.company_id, literal(None, Integer), issued.c.unassigned).join(due, due.c.id == issued.c.order_id),
        select(due.c.company_id, due.c.material_id, (-output).label("amount"))
        .outerjoin(delivered, delivered.c.order_id == due.c.id),
    ).subquery("work_in_process")


def settle_orders(session: Session, company_ids: list[int], period: str, user_id: int) -> None:
    """Settle the variance of every order of the companies completed by the end of
    ``period`` and not settled yet (the close's extension; runs in its transaction)."""
    o = ProductionOrder
    last_day = Period(period).last_day
    due_ids = session.scalars(
        select(o.id).where(o.company_id.in_(company_ids), o.status == OrderStatus.COMPLETED,
                           o.completed_on <= last_day, o.settled_period.is_(None))
        .order_by(o.id).with_for_update()
    ).all()
    if not due_ids:
        return
    due = (select(o.id, o.company_id, o.material_id, o.delivered_quantity, o.base_quantity)
           .where(o.id.in_(due_ids)).subquery("due"))
    issued = _issued(due)
    c = ProductionOrderComponent
    target = cast(func.round(c.quantity_per_base * (1 + c.scrap_pct / HUNDRED) * due.c.delivered_quantity
                             / due.c.base_quantity, 4), QUANTITY)
    actual_quantity = func.coalesce(issued.c.quantity, 0)
    actual_value = func.coalesce(issued.c.value, 0)
    components = (
        select(due.c.company_id, due.c.id.label("order_id"), c.material_id, actual_quantity.label("actual_quantity"),
               actual_value.label("actual_value"), target.label("target_quantity"), c.planned_price)
        .join(c, c.order_id == due.c.id)
        .outerjoin(issued, (issued.c.order_id == due.c.id) & (issued.c.material_id == c.material_id))
        .subquery("components")
    )
    quantity_variance = round_product(components.c.actual_quantity - components.c.target_quantity,
                                      components.c.planned_price)
    # Differences of amounts in cents, kept at the cent on SQLite too (erp.sqlmath.round_cents).
    price_variance = round_cents(components.c.actual_value - round_product(components.c.actual_quantity,
                                                                           components.c.planned_price))
    for category, amount in ((VarianceCategory.INPUT_QUANTITY, quantity_variance),
                             (VarianceCategory.INPUT_PRICE, price_variance)):
        session.execute(insert(ProductionOrderVariance).from_select(VARIANCE_COLUMNS, select(
            components.c.company_id, literal(Period(period)), components.c.order_id, literal(category.value),
            components.c.material_id, components.c.actual_quantity, components.c.target_quantity, amount)))
    delivered = _delivered(due)
    issued_total = (select(issued.c.order_id, func.sum(issued.c.value).label("value"))
                    .group_by(issued.c.order_id).subquery("issued_total"))
    v = ProductionOrderVariance
    explained = (select(v.order_id, func.sum(v.amount).label("amount"))
                 .where(v.order_id.in_(due_ids), v.period == period).group_by(v.order_id).subquery("explained"))
    balance = (func.coalesce(issued_total.c.value, 0) + func.coalesce(delivered.c.conversion, 0)
               - func.coalesce(delivered.c.value, 0))
    session.execute(insert(ProductionOrderVariance).from_select(VARIANCE_COLUMNS, select(
        due.c.company_id, literal(Period(period)), due.c.id, literal(VarianceCategory.LOT_SIZE.value),
        literal(None, Integer), literal(None, Numeric), literal(None, Numeric),
        round_cents(balance - func.coalesce(explained.c.amount, 0)))
        .outerjoin(issued_total, issued_total.c.order_id == due.c.id)
        .outerjoin(delivered, delivered.c.order_id == due.c.id)
        .outerjoin(explained, explained.c.order_id == due.c.id)))

    settled = (select(v.company_id, v.category, v.amount, o.material_id)
               .join(o, o.id == v.order_id)
               .where(v.order_id.in_(due_ids), v.period == period).subquery("settled"))
    account = case({category.value: code for category, code in VARIANCE_ACCOUNT.items()}, value=settled.c.category)
    # A line is posted where its sum is at least a cent, never a 0.00 line of float noise.
    variance_amount = round_cents(func.sum(settled.c.amount))
    variance_lines = (select(settled.c.company_id, account.label("account_code"), variance_amount.label("amount"),
                             literal(None, Integer).label("material_id"))
                      .group_by(settled.c.company_id, settled.c.category)
                      .having(variance_amount != 0))
    wip = _work_in_process_by_material(due, issued, delivered)
    wip_amount = round_cents(func.sum(wip.c.amount))
    wip_lines = (select(wip.c.company_id, literal(accounts.WORK_IN_PROCESS), -wip_amount, wip.c.material_id)
                 .group_by(wip.c.company_id, wip.c.material_id)
                 .having(wip_amount != 0))
    entries = post_close_entries(session, CloseEntries(
        entry_date=last_day, user_id=user_id, source_type=SETTLEMENT_SOURCE,
        # A company posts an entry wherever a line is left: an order without variance still
        # clears its components and its output on 5001.01, material by material.
        memo=narrate("production-variances", period=period), lines=union_all(variance_lines, wip_lines)))
    session.execute(update(o).where(o.id.in_(due_ids)).values(settled_period=period)
                    .execution_options(synchronize_session=False))
    counts = dict(session.execute(select(o.company_id, func.count()).where(o.id.in_(due_ids))
                                  .group_by(o.company_id)).all())
    session.execute(insert(ProductionSettlement), [
        {"company_id": company_id, "period": period, "entry_id": entries.get(company_id), "orders": count}
        for company_id, count in counts.items()])


def unsettle_orders(session: Session, company_id: int, period: str, user_id: int, reason: str) -> None:
    """Undo a period's settlement when it is reopened: reverse its entry, forget its split,
    and leave the orders to be settled by the period's next close."""
    settlement = session.get(ProductionSettlement, (company_id, period))
    if settlement is None:
        return
    if settlement.entry_id is not None:
        post(session, Posting(
            company_id=company_id, posting_date=Period(period).last_day, user_id=user_id,
            source_type="production_settlement_reversal", source_id=settlement.entry_id,
            memo=narrate("reopening", period=period, reason=reason), journal=negated_lines(session, settlement.entry_id),
            reverses_entry_id=settlement.entry_id))
    v, o = ProductionOrderVariance, ProductionOrder
    session.execute(delete(v).where(v.company_id == company_id, v.period == period))
    session.execute(update(o).where(o.company_id == company_id, o.settled_period == period)
                    .values(settled_period=None).execution_options(synchronize_session=False))
    session.delete(settlement)
    session.flush()


@dataclass(frozen=True)
class OrderWorkInProcess:
    """What an order holds on 5001.01 work in process (finding 119): the components issued
    (at the standards in force when issued, plus the material cost variance the closes
    allocated to them, net of reversed issues), the labour and overhead its deliveries
    absorbed, less the output delivered at standard (net of reversed deliveries). Once a
    close settled the order, the balance went to the variance accounts (``settled``)."""

    issued: Decimal
    absorbed: Decimal
    delivered: Decimal
    settled_period: str | None

    @property
    def balance(self) -> Decimal:
        """The order's balance on 5001.01 before settlement: its variance once completed."""
        return self.issued + self.absorbed - self.delivered

    @property
    def on_work_in_process(self) -> Decimal:
        """What is on 5001.01 for the order now (nothing once settled)."""
        return ZERO if self.settled_period else self.balance


def order_work_in_process(session: Session, order_id: int) -> OrderWorkInProcess:
    """An order's work in process, by the rules its settlement follows (the same queries)."""
    o = ProductionOrder
    due = (select(o.id, o.company_id, o.material_id, o.delivered_quantity, o.base_quantity)
           .where(o.id == order_id).subquery("due"))
    issued = _issued(due)
    delivered = _delivered(due)
    cent = Decimal("0.01")
    issued_value = session.scalar(select(func.coalesce(func.sum(issued.c.value), 0))) or ZERO
    row = session.execute(select(func.coalesce(delivered.c.value, 0), func.coalesce(delivered.c.conversion, 0))).first()
    settled = session.scalar(select(o.settled_period).where(o.id == order_id))
    return OrderWorkInProcess(
        issued=Decimal(issued_value).quantize(cent), absorbed=Decimal(row[1] if row else 0).quantize(cent),
        delivered=Decimal(row[0] if row else 0).quantize(cent), settled_period=settled)


def order_variances(session: Session, order_id: int) -> list[ProductionOrderVariance]:
    """An order's settled variance rows (empty until its period closes)."""
    v = ProductionOrderVariance
    return list(session.scalars(select(v).where(v.order_id == order_id).order_by(v.category, v.component_id)))


register_close_extension(CloseExtension("production", settle_orders, unsettle_orders))
