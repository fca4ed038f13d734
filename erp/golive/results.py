"""What a committed import wrote, for the page that confirms it: the documents it posted
(opening stock's stock document, the orders opened, the invoices taken over), by number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.credit.models import Invoice
from erp.golive.models import ImportBatch, ImportRecord
from erp.posting.models import StockDocument
from erp.purchasing.models import PurchaseOrder

# The records an import writes that are documents people open: entity -> (model, what names it).
DOCUMENTS: dict[str, tuple[Any, Any]] = {
    "stock_documents": (StockDocument, StockDocument.number),
    "purchase_orders": (PurchaseOrder, PurchaseOrder.number),
    "invoices": (Invoice, Invoice.reference),
}
SHOWN = 200  # a file of 100,000 invoices lists the first ones; the count says how many


def posted_documents(session: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    """The documents of a committed import of the caller's companies: per kind of document,
    how many and the first ``SHOWN`` (id and number), in the order they were written."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or (batch.company_id is not None and not actor.acts_for_company(batch.company_id)):
        return {}
    found: dict[str, Any] = {}
    for entity, (model, name) in DOCUMENTS.items():
        written = (select(model.id, name).join(ImportRecord, ImportRecord.record_id == model.id)
                   .where(ImportRecord.batch_id == batch_id, ImportRecord.entity == entity).order_by(ImportRecord.id))
        rows = session.execute(written.limit(SHOWN)).all()
        if rows:
            count = session.scalar(select(func.count()).select_from(ImportRecord).where(
                ImportRecord.batch_id == batch_id, ImportRecord.entity == entity))
            found[entity] = {"count": count, "shown": [{"id": i, "number": n} for i, n in rows]}
    return found
