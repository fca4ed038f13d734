"""The companies of the group as partners: the customer and supplier records that stand for
them (``companies.customer_id`` / ``companies.supplier_id``), which sales (an intercompany
order fills the buyer's purchase order line, erp.credit.services) and the consolidated
receivables (invoices to group customers left out) tell apart. The eliminations of the
group's figures are erp.consolidation's (docs/intercompany.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from erp.credit.models import CreditNoteLine, InvoiceLine, SalesOrder, SalesOrderLine, SalesOrderStatus
from erp.masterdata.models import Company
from erp.posting.models import MovementType, StockDocument, StockMovement

ZERO = Decimal(0)


def group_customer_ids() -> Any:
    """The customer records that stand for companies of the group (a subquery)."""
    return select(Company.customer_id).where(Company.customer_id.is_not(None))


def group_supplier_ids() -> Any:
    """The supplier records that stand for companies of the group (a subquery)."""
    return select(Company.supplier_id).where(Company.supplier_id.is_not(None))


@dataclass(frozen=True)
class PartnerLineFlows:
    """What went each way on a buyer's purchase order line filled by intercompany sales orders:
    the sellers' order quantities and shipments, the goods the sellers took back (customer
    returns on those shipments), the buyer's receipts (net of their reversals) and its returns
    to the seller (returns to the supplier on the line). Goods the buyer sent back are not
    goods in transit to it (trial finding 125): they are on their way back to the seller until
    the seller books their return, and once it has, gone from both sides."""

    ordered: Decimal = ZERO  # the sales orders' quantities (a cancelled order: what it shipped)
    shipped: Decimal = ZERO
    seller_returned: Decimal = ZERO
    received: Decimal = ZERO
    buyer_returned: Decimal = ZERO

    @property
    def to_buyer(self) -> Decimal:
        """Shipped and not yet received: the sellers' shipments less the buyer's receipts, less
        what the sellers took back that the buyer never returned (goods refused on delivery
        and brought back)."""
        undelivered_back = max(self.seller_returned - self.buyer_returned, ZERO)
        return max(self.shipped - self.received - undelivered_back, ZERO)

    @property
    def returning(self) -> Decimal:
        """Returned by the buyer and not yet taken back by a seller's customer return."""
        return max(self.buyer_returned - self.seller_returned, ZERO)

    @property
    def still_coming(self) -> Decimal:
        """What the sales orders will still deliver on the line: not yet shipped, or shipped
        and still on its way to the buyer."""
        return max(self.ordered - self.shipped, ZERO) + self.to_buyer


def partner_line_flows(session: Session, po_line_ids: Sequence[int], *,
                       excluding_order_id: int | None = None) -> dict[int, PartnerLineFlows]:
    """``PartnerLineFlows`` per purchase order line (every line given, empty when nothing was
    ordered on it), the sales order ``excluding_order_id`` left out of the sellers' side. Three
    queries, whatever the number of lines."""
    ids = sorted(set(po_line_ids))
    if not ids:
        return {}
    orders = [SalesOrderLine.partner_po_line_id.in_(ids)]
    if excluding_order_id is not None:
        orders.append(SalesOrderLine.order_id != excluding_order_id)
    sellers: dict[int, list[Decimal]] = {}
    for po_line_id, ordered, shipped in session.execute(
        select(SalesOrderLine.partner_po_line_id,
               func.sum(case((SalesOrder.status == SalesOrderStatus.CANCELLED, SalesOrderLine.shipped_quantity),
                             else_=SalesOrderLine.quantity)),
               func.sum(SalesOrderLine.shipped_quantity))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(*orders).group_by(SalesOrderLine.partner_po_line_id)
    ):
        sellers[po_line_id] = [Decimal(ordered or 0), Decimal(shipped or 0), ZERO]
    for po_line_id, returned in session.execute(
        select(SalesOrderLine.partner_po_line_id, func.sum(CreditNoteLine.quantity))
        .join(InvoiceLine, InvoiceLine.order_line_id == SalesOrderLine.id)
        .join(CreditNoteLine, CreditNoteLine.invoice_line_id == InvoiceLine.id)
        .where(*orders, CreditNoteLine.stock_document_id.is_not(None))
        .group_by(SalesOrderLine.partner_po_line_id)
    ):
        sellers.setdefault(po_line_id, [ZERO, ZERO, ZERO])[2] = Decimal(returned or 0)
    buyer: dict[int, list[Decimal]] = {}
    returns = StockDocument.doc_type == MovementType.RETURN_TO_SUPPLIER
    for po_line_id, received, returned in session.execute(
        select(StockDocument.po_line_id, func.sum(case((returns, 0), else_=StockMovement.quantity)),
               func.sum(case((returns, -StockMovement.quantity), else_=0)))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.po_line_id.in_(ids),
               StockDocument.doc_type.in_((MovementType.RECEIPT, MovementType.RECEIPT_REVERSAL,
                                           MovementType.RETURN_TO_SUPPLIER)))
        .group_by(StockDocument.po_line_id)
    ):
        buyer[po_line_id] = [Decimal(received or 0), Decimal(returned or 0)]
    found = {}
    for po_line_id in ids:
        ordered, shipped, seller_returned = sellers.get(po_line_id, [ZERO, ZERO, ZERO])
        received, buyer_returned = buyer.get(po_line_id, [ZERO, ZERO])
        found[po_line_id] = PartnerLineFlows(ordered, shipped, seller_returned, received, buyer_returned)
    return found

