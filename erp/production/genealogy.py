"""Batch genealogy through production orders: the recall question, both ways.

- **Down** (where-from): from a batch to every batch that went into it, at any depth (the
  API batch in a tablet batch, the raw-material batches in that API batch), each with its
  supplier.
- **Up** (where-used): from a batch (a supplier's raw material) to every batch made from
  it at any depth, and every customer any of those batches (or the batch itself) was
  shipped to.

Each direction is one recursive query over ``production_order_batches`` (which batches
went into an order, which it made; written with every issue and delivery), joined once at
the end to batches, suppliers and shipments. Its cost grows with the batches reached, not
with the size of the ledger: the shipments are found through the ledger's batch index.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session, aliased

from erp.auth.roles import Actor
from erp.errors import NotFound
from erp.masterdata.models import Customer, Material, Supplier
from erp.messages import Message
from erp.posting.models import Batch, MovementType, StockDocument, StockMovement
from erp.production.models import BatchRole, ProductionOrder, ProductionOrderBatch

# A guard against a genealogy that loops (a batch reworked into itself): deeper than any
# real product structure.
MAX_DEPTH = 50


class Direction(StrEnum):
    DOWN = "down"
    UP = "up"


@dataclass(frozen=True)
class TracedBatch:
    batch_id: int
    batch_number: str
    material_id: int
    material_code: str
    depth: int
    supplier_code: str | None
    supplier_name_zh: str | None
    supplier_name_en: str | None


@dataclass(frozen=True)
class Recipient:
    customer_id: int
    customer_code: str
    customer_name: str  # in Chinese
    batch_id: int
    batch_number: str
    material_code: str
    quantity: Decimal
    customer_name_en: str
    material_name_zh: str
    material_name_en: str


@dataclass(frozen=True)
class Genealogy:
    batch_id: int
    direction: Direction
    batches: list[TracedBatch]
    customers: list[Recipient]


def related_batches(batch_id: int, direction: Direction, company_scope: Any = None) -> Any:
    """The batches reached from ``batch_id`` (itself at depth 0), as a recursive CTE with the
    columns batch_id and depth (a batch reached by two paths appears once per depth)."""
    start = select(literal(batch_id).label("batch_id"), literal(0).label("depth")).cte("tree", recursive=True)
    here, there = aliased(ProductionOrderBatch), aliased(ProductionOrderBatch)
    from_role, to_role = ((BatchRole.OUTPUT, BatchRole.INPUT) if direction == Direction.DOWN
                          else (BatchRole.INPUT, BatchRole.OUTPUT))
    step = (
        select(there.batch_id, start.c.depth + 1)
        .join(here, (here.batch_id == start.c.batch_id) & (here.role == from_role.value))
        .join(there, (there.order_id == here.order_id) & (there.role == to_role.value))
        .where(start.c.depth < MAX_DEPTH)
    )
    if company_scope is not None:
        step = step.where(company_scope(here.order_id))
    return start.union(step)


def trace(session: Session, actor: Actor, batch_id: int, direction: Direction) -> Genealogy:
    """A batch's genealogy down (what went into it) or up (what was made from it, and the
    customers who received any of it), within the companies the caller acts for."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(Message("batch {key} not found", key=batch_id))

    def scope(order_id: Any) -> Any:
        return select(ProductionOrder.id).where(ProductionOrder.id == order_id,
                                                actor.company_scope(ProductionOrder.company_id)).exists()

    tree = related_batches(batch_id, direction, scope)
    reached = select(tree.c.batch_id, func.min(tree.c.depth).label("depth")).group_by(tree.c.batch_id).subquery()
    rows = session.execute(
        select(reached.c.batch_id, Batch.batch_number, Batch.material_id, Material.code, reached.c.depth,
               Supplier.code, Supplier.name_zh, Supplier.name_en)
        .join(Batch, Batch.id == reached.c.batch_id)
        .join(Material, Material.id == Batch.material_id)
        .outerjoin(Supplier, Supplier.id == Batch.supplier_id)
        .order_by(reached.c.depth, Material.code, Batch.batch_number)
    ).all()
    batches = [TracedBatch(*row) for row in rows]
    customers: list[Recipient] = []
    if direction == Direction.UP:
        shipped = (
            select(Customer.id, Customer.code, Customer.name_zh, StockMovement.batch_id, Batch.batch_number,
                   Material.code, -func.sum(StockMovement.quantity), Customer.name_en, Material.name_zh,
                   Material.name_en)
            .join(StockDocument, StockDocument.id == StockMovement.document_id)
            .join(Customer, Customer.id == StockDocument.customer_id)
            .join(Batch, Batch.id == StockMovement.batch_id)
            .join(Material, Material.id == Batch.material_id)
            .where(StockMovement.batch_id.in_(select(reached.c.batch_id)),
                   StockMovement.movement_type.in_([MovementType.SHIPMENT, MovementType.SHIPMENT_REVERSAL]),
                   actor.company_scope(StockMovement.company_id))
            .group_by(Customer.id, Customer.code, Customer.name_zh, Customer.name_en, StockMovement.batch_id,
                      Batch.batch_number, Material.code, Material.name_zh, Material.name_en)
            .order_by(Customer.code, Batch.batch_number)
        )
        customers = [Recipient(*row) for row in session.execute(shipped)]
    return Genealogy(batch_id, direction, batches, customers)
