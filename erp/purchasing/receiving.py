"""What the warehouse needs from purchasing: the order line to receive against, locked,
and the bookkeeping of received quantities and order status.

Inventory calls these functions and nothing else of purchasing. ``lock_line_for_receipt``
takes a row lock on the order line, so two clerks receiving the same line are serialised
and the over-receipt check sees the other's quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session

from erp.errors import NotFound
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus


@dataclass(frozen=True)
class ReceivableLine:
    """An order line as the receiving clerk sees it, read under a row lock."""

    line_id: int
    order_id: int
    order_number: str
    order_status: PurchaseOrderStatus
    receiving_company_id: int
    supplier_id: int
    material_id: int
    quantity: Decimal
    received_quantity: Decimal
    unit_price: Decimal
    warehouse_id: int


def lock_line_for_receipt(session: Session, line_id: int) -> ReceivableLine:
    """Read an order line with its order, locking the line until commit (404 if unknown)."""
    row = session.execute(
        select(
            PurchaseOrderLine.id, PurchaseOrderLine.order_id, PurchaseOrder.number, PurchaseOrder.status,
            PurchaseOrder.receiving_company_id, PurchaseOrder.supplier_id, PurchaseOrderLine.material_id,
            PurchaseOrderLine.quantity, PurchaseOrderLine.received_quantity, PurchaseOrderLine.unit_price,
            PurchaseOrderLine.warehouse_id,
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrderLine.id == line_id)
        .with_for_update(of=PurchaseOrderLine)
    ).one_or_none()
    if row is None:
        raise NotFound(f"purchase order line {line_id} not found")
    return ReceivableLine(*row)


def register_received_quantity(session: Session, line: ReceivableLine, quantity: Decimal) -> None:
    """Add ``quantity`` (negative for a reversal) to the line's received quantity and move the
    order to partially_received / received, or back to open when nothing remains received."""
    session.execute(
        update(PurchaseOrderLine)
        .where(PurchaseOrderLine.id == line.line_id)
        # Rounded to the column's scale: a no-op on PostgreSQL; on SQLite (binary floats) it
        # keeps 0.001 + 1 + 1 + 1 - 3 - 0.001 from ending a hair below zero.
        .values(received_quantity=func.round(PurchaseOrderLine.received_quantity + quantity, 4))
    )
    outstanding = exists().where(
        PurchaseOrderLine.order_id == line.order_id,
        PurchaseOrderLine.received_quantity < PurchaseOrderLine.quantity,
    )
    anything_received = exists().where(
        PurchaseOrderLine.order_id == line.order_id, PurchaseOrderLine.received_quantity > 0
    )
    session.execute(
        update(PurchaseOrder)
        .where(
            PurchaseOrder.id == line.order_id,
            PurchaseOrder.status.in_(
                [PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED]
            ),
        )
        .values(
            status=case(
                (~anything_received, PurchaseOrderStatus.OPEN),
                (~outstanding, PurchaseOrderStatus.RECEIVED),
                else_=PurchaseOrderStatus.PARTIALLY_RECEIVED,
            )
        )
        .execution_options(synchronize_session=False)
    )
