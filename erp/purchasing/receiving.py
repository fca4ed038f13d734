"""What the warehouse needs from purchasing: the order line to receive against, locked,
and the bookkeeping of received quantities and order status.

Inventory calls these functions and nothing else of purchasing. ``lock_line_for_receipt``
takes row locks on the order line and its order, so two clerks receiving against the same
order are serialised (the over-receipt check sees the other's quantity) and the order
cannot be cancelled or closed under a receipt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, bindparam, case, exists, func, select, update
from sqlalchemy.orm import Session

from erp.db import DriverRead
from erp.errors import NotFound
from erp.messages import Message
from erp.purchasing.models import Contract, ContractLine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus


@dataclass(frozen=True)
class OrderLineForReceipt:
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
    order_date: dt.date
    # The contract line's validity: a receipt is dated within it.
    valid_from: dt.date
    valid_to: dt.date
    contract_number: str


# Sent to the driver as compiled SQL on PostgreSQL (erp.db.DriverRead): every receipt runs it.
_LOCK_LINE = DriverRead(
    select(
        PurchaseOrderLine.id, PurchaseOrderLine.order_id, PurchaseOrder.number, PurchaseOrder.status,
        PurchaseOrder.receiving_company_id, PurchaseOrder.supplier_id, PurchaseOrderLine.material_id,
        PurchaseOrderLine.quantity, PurchaseOrderLine.received_quantity, PurchaseOrderLine.unit_price,
        PurchaseOrderLine.warehouse_id, PurchaseOrder.order_date, Contract.valid_from, Contract.valid_to,
        Contract.number,
    )
    .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
    .join(ContractLine, ContractLine.id == PurchaseOrderLine.contract_line_id)
    .join(Contract, Contract.id == ContractLine.contract_id)
    .where(PurchaseOrderLine.id == bindparam("line_id"))
    # The order row too: a cancellation (which locks it) must not slip between the check
    # that the order is open and the receipt's commit. Receipts of one order queue up.
    .with_for_update(of=[PurchaseOrderLine, PurchaseOrder], key_share=True)
)
_ADD_RECEIVED = (
    update(PurchaseOrderLine)
    .where(PurchaseOrderLine.id == bindparam("line_id"))
    # Rounded to the column's scale: a no-op on PostgreSQL; on SQLite (binary floats) it
    # keeps 0.001 + 1 + 1 + 1 - 3 - 0.001 from ending a hair below zero.
    .values(received_quantity=func.round(
        PurchaseOrderLine.received_quantity + bindparam("received_now", type_=Numeric(18, 4)), 4))
)


def _order_status_update() -> Any:
    order_id = bindparam("order_id")
    outstanding = exists().where(
        PurchaseOrderLine.order_id == order_id, PurchaseOrderLine.received_quantity < PurchaseOrderLine.quantity
    )
    anything_received = exists().where(PurchaseOrderLine.order_id == order_id, PurchaseOrderLine.received_quantity > 0)
    return (
        update(PurchaseOrder)
        .where(
            PurchaseOrder.id == order_id,
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
    )


# Built once: receipts are the hot path.
_UPDATE_ORDER_STATUS = _order_status_update()


def open_for_receipt(ordered: Decimal, received: Decimal, tolerance_pct: Decimal) -> Decimal:
    """What a line can still receive: its quantity plus the material's over-receipt tolerance,
    less what it has received (receipts, and what an imported open order had received before
    go-live); never below 0. The receiving rule, and what an intercompany sales order may fill."""
    return max(ordered * (1 + tolerance_pct / Decimal(100)) - received, Decimal(0))


def lock_line_for_receipt(session: Session, line_id: int) -> OrderLineForReceipt:
    """Read an order line with its order, locking the line until commit (404 if unknown)."""
    found = _LOCK_LINE.rows(session.connection(), {"line_id": line_id})
    if not found:
        raise NotFound(Message("purchase order line {key} not found", key=line_id))
    row = found[0]
    return OrderLineForReceipt(row[0], row[1], row[2], PurchaseOrderStatus(row[3]), *row[4:])


def register_received_quantity(session: Session, line: OrderLineForReceipt, quantity: Decimal) -> None:
    """Add ``quantity`` (negative for a reversal) to the line's received quantity and move the
    order to partially_received / received, or back to open when nothing remains received."""
    connection = session.connection()
    connection.execute(_ADD_RECEIVED, {"line_id": line.line_id, "received_now": quantity})
    completes_line = line.received_quantity < line.quantity <= line.received_quantity + quantity
    if line.order_status == PurchaseOrderStatus.PARTIALLY_RECEIVED and quantity > 0 and not completes_line:
        return  # another partial receipt on a partially received order: its status stands
    connection.execute(_UPDATE_ORDER_STATUS, {"order_id": line.order_id})
