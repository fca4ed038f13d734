"""Reading the stock: documents, on-hand quantity and value (now or as of a date), movement
history, the flow of a batch, what a clerk can receive, and the ledger/balance check.

All of these are single set-based queries scoped to the caller's warehouses or companies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from erp.db import page
from erp.auth.roles import Actor
from erp.costing.accounts import GOODS_RECEIVED_NOT_INVOICED
from erp.costing.models import Account
from erp.errors import NotFound
from erp.messages import N_, Message, Named
from erp.posting.models import (
    Batch,
    CloseClass,
    JournalEntry,
    JournalLine,
    MovementType,
    PeriodMovementTotal,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
)
from erp.posting.errors import NoStandardPrice
from erp.posting.prices import standard_price
from erp.masterdata.services import (
    deactivation_check,
    documents_found,
    names_by_id,
    partner_use_check,
    warehouse_use_check,
)
from erp.masterdata.models import Company, Customer, Material, Supplier, UnitOfMeasure, Warehouse
from erp.purchasing.models import OPEN_FOR_RECEIPT_STATUSES, PurchaseOrder, PurchaseOrderLine
from erp.search import contains_text

STOCK_DIMENSIONS = ("company", "warehouse", "material", "batch", "status")


@dataclass
class DocumentView:
    """A stock document as the API shows it: the document (a ``StockDocument``, or the
    values a posting just wrote keyed by column), its ledger rows and journal lines (rows or
    dicts), and the document that reversed it."""

    document: StockDocument | dict[str, Any]
    movements: list[Any] = field(default_factory=list)
    journal: list[Any] = field(default_factory=list)
    reversed_by_document_id: int | None = None

    @property
    def document_id(self) -> int:
        document = self.document
        return int(document["id"] if isinstance(document, dict) else document.id)


def get_document(session: Session, actor: Actor, document_id: int, *, just_posted: bool = False) -> DocumentView:
    """A stock document with its ledger rows and journal lines. ``just_posted``: the document
    was posted in this very transaction, so nothing can have reversed it yet (a reversal
    needs the document committed) and that is not looked up."""
    document = session.get(StockDocument, document_id)
    if document is None or not actor.acts_for_company(document.company_id):
        raise NotFound(Message("stock document {key} not found", key=document_id))
    movements = session.execute(
        select(StockMovement.id, StockMovement.movement_type, Warehouse.code.label("warehouse_code"),
               StockMovement.warehouse_id, Material.code.label("material_code"), StockMovement.material_id,
               StockMovement.batch_id, Batch.batch_number, StockMovement.status, StockMovement.quantity,
               StockMovement.value, StockMovement.variance, StockMovement.offset_account,
               Warehouse.name_zh.label("warehouse_name_zh"), Warehouse.name_en.label("warehouse_name_en"),
               Material.name_zh.label("material_name_zh"), Material.name_en.label("material_name_en"),
               UnitOfMeasure.code.label("unit_code"), Batch.expiry_date)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .join(Material, Material.id == StockMovement.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .join(Batch, Batch.id == StockMovement.batch_id)
        .where(StockMovement.document_id == document_id)
        .order_by(StockMovement.id)
    ).all()
    journal = session.execute(
        select(JournalLine.entry_id, JournalLine.account_code, JournalLine.amount, JournalLine.material_id,
               Account.name_zh.label("account_name_zh"), Account.name_en.label("account_name_en"))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.code == JournalLine.account_code)
        .where(JournalEntry.source_type == "stock_document", JournalEntry.source_id == document_id)
        .order_by(JournalLine.id)
    ).all()
    if not any(actor.acts_for_warehouse(m.warehouse_id, document.company_id) for m in movements):
        # A clerk sees the documents of their own warehouses only (a transfer: either side).
        raise NotFound(Message("stock document {key} not found", key=document_id))
    reversed_by = None if just_posted else session.scalar(
        select(StockDocument.id).where(StockDocument.reverses_document_id == document_id))
    return DocumentView(document, list(movements), list(journal), reversed_by)


@dataclass(frozen=True)
class ReceiptAmounts:
    """What a goods receipt posts, read from its own ledger rows and journal (the receipt's
    confirmation step shows them before it is posted, erp.ui.pages.dry_run): the quantity, the
    contract price and the amount at it (credited to goods received not invoiced), the value
    at standard (debited to stock) and the difference, to material cost variance (材料成本差异)."""

    quantity: Decimal
    unit_code: str
    contract_price: Decimal | None
    contract_value: Decimal
    standard_value: Decimal
    variance: Decimal


def receipt_amounts(view: DocumentView) -> ReceiptAmounts:
    """The amounts of a receipt's document (``get_document``): the contract amount is what its
    journal credits to goods received not invoiced, as posted (quantity x contract price,
    rounded half-up to the cent); value and variance are its ledger rows'."""
    document = view.document
    price = document["unit_price"] if isinstance(document, dict) else document.unit_price
    return ReceiptAmounts(
        quantity=sum((m.quantity for m in view.movements), Decimal(0)),
        unit_code=view.movements[0].unit_code if view.movements else "",
        contract_price=price,
        contract_value=-sum((line.amount for line in view.journal if line.account_code == GOODS_RECEIVED_NOT_INVOICED),
                            Decimal(0)),
        standard_value=sum((m.value for m in view.movements), Decimal(0)),
        variance=sum((m.variance for m in view.movements), Decimal(0)),
    )


def _scoped(actor: Actor, query: Select[Any], warehouse_col: Any, company_col: Any) -> Select[Any]:
    return query.where(actor.warehouse_scope(warehouse_col, company_col))


def stock_on_hand(
    session: Session,
    actor: Actor,
    *,
    group_by: Sequence[str] = STOCK_DIMENSIONS,
    as_of: dt.date | None = None,
    company_id: int | None = None,
    warehouse_id: int | None = None,
    material_id: int | None = None,
    batch_id: int | None = None,
    status: StockStatus | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Any], int]:
    """Quantity and value at standard, grouped by the chosen dimensions; current figures come
    from the balances, figures as of a past date from the ledger."""
    query = stock_query(actor, group_by=group_by, as_of=as_of, company_id=company_id, warehouse_id=warehouse_id,
                        material_id=material_id, batch_id=batch_id, status=status)
    return page(session, query, offset=offset, limit=limit)


def stock_query(
    actor: Actor,
    *,
    group_by: Sequence[str] = STOCK_DIMENSIONS,
    as_of: dt.date | None = None,
    company_id: int | None = None,
    warehouse_id: int | None = None,
    material_id: int | None = None,
    batch_id: int | None = None,
    status: StockStatus | None = None,
) -> Select[Any]:
    """The query behind ``stock_on_hand``, ordered by its dimensions (exports stream it).
    With the batch dimension it also gives the batch's manufacture date."""
    dims = [d for d in STOCK_DIMENSIONS if d in group_by] or ["company"]
    source: Any = StockMovement if as_of is not None else StockBalance
    columns = {
        "company": [source.company_id, Company.code.label("company_code")],
        "warehouse": [source.warehouse_id, Warehouse.code.label("warehouse_code")],
        "material": [source.material_id, Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
                     Material.material_type],
        "batch": [source.batch_id, Batch.batch_number, Batch.manufacture_date, Batch.expiry_date],
        "status": [source.status],
    }
    selected = [c for d in dims for c in columns[d]]
    quantity = func.sum(source.quantity).label("quantity")
    value = func.sum(source.value).label("value")
    query = (
        select(*selected, quantity, value)
        .select_from(source)
        .join(Company, Company.id == source.company_id)
        .join(Warehouse, Warehouse.id == source.warehouse_id)
        .join(Material, Material.id == source.material_id)
        .join(Batch, Batch.id == source.batch_id)
        .group_by(*selected)
        .having(or_(func.sum(source.quantity) != 0, func.sum(source.value) != 0))
    )
    query = _scoped(actor, query, source.warehouse_id, source.company_id)
    if as_of is not None:
        query = query.where(StockMovement.posting_date <= as_of)
    for column, wanted in ((source.company_id, company_id), (source.warehouse_id, warehouse_id),
                           (source.material_id, material_id), (source.batch_id, batch_id),
                           (source.status, status)):
        if wanted is not None:
            query = query.where(column == wanted)
    return query.order_by(*selected)


def movement_history(
    session: Session,
    actor: Actor,
    *,
    company_id: int | None = None,
    warehouse_id: int | None = None,
    material_id: int | None = None,
    batch_id: int | None = None,
    movement_type: MovementType | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Any], int]:
    """Ledger rows, oldest first, with filters."""
    query = (
        select(StockMovement.id, StockMovement.document_id, StockMovement.movement_type, StockMovement.posting_date,
               StockMovement.company_id, StockMovement.warehouse_id, Warehouse.code.label("warehouse_code"),
               StockMovement.material_id, Material.code.label("material_code"), StockMovement.batch_id,
               Batch.batch_number, StockMovement.status, StockMovement.quantity, StockMovement.value,
               StockMovement.variance, StockMovement.offset_account, StockMovement.created_by,
               StockDocument.supplier_invoice_id)
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .join(Material, Material.id == StockMovement.material_id)
        .join(Batch, Batch.id == StockMovement.batch_id)
    )
    query = _scoped(actor, query, StockMovement.warehouse_id, StockMovement.company_id)
    for column, wanted in ((StockMovement.company_id, company_id), (StockMovement.warehouse_id, warehouse_id),
                           (StockMovement.material_id, material_id), (StockMovement.batch_id, batch_id),
                           (StockMovement.movement_type, movement_type)):
        if wanted is not None:
            query = query.where(column == wanted)
    if date_from is not None:
        query = query.where(StockMovement.posting_date >= date_from)
    if date_to is not None:
        query = query.where(StockMovement.posting_date <= date_to)
    return page(session, query.order_by(StockMovement.posting_date, StockMovement.id), offset=offset, limit=limit)


@dataclass
class BatchFlow:
    batch: Any
    receipts: list[Any]
    movements: list[Any]
    on_hand: list[Any]
    totals: dict[str, Decimal]
    # Value-only rows (supplier invoices' price differences) booked on the batch: no goods
    # moved, so not in ``movements`` or ``totals``; each names its invoice.
    price_differences: list[Any] = field(default_factory=list)
    # Every warehouse the rows above name, by id, as pages show it (code and name).
    warehouses: dict[int, Named] = field(default_factory=dict)


def batch_flow(session: Session, actor: Actor, batch_id: int) -> BatchFlow:
    """Where a batch came from (supplier, order, receipt) and where every unit went (issues,
    transfers, shipments to customers), with what is left, within the caller's companies
    (a clerk's: within their warehouses); beside them, the price differences of supplier
    invoices and credit memos booked on the batch (value only: quantity 0, the amount as
    ``variance``, the invoice's id and number). A batch with price differences only (the
    no-batch batch ``-`` an invoice before its goods arrive books on) is shown with them and
    no goods. Refuses 404 when the caller sees no row of the batch at all."""
    batch = session.execute(
        select(Batch.id, Batch.batch_number, Batch.material_id, Material.code.label("material_code"),
               Material.name_zh.label("material_name_zh"), Material.name_en.label("material_name_en"),
               Batch.manufacture_date, Batch.expiry_date, Supplier.code.label("supplier_code"),
               Supplier.name_zh.label("supplier_name_zh"), Supplier.name_en.label("supplier_name_en"),
               UnitOfMeasure.code.label("unit_code"))
        .join(Material, Material.id == Batch.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .outerjoin(Supplier, Supplier.id == Batch.supplier_id)
        .where(Batch.id == batch_id)
    ).one_or_none()
    if batch is None:
        raise NotFound(Message("batch {key} not found", key=batch_id))
    # A clerk follows the batch through their own warehouses only; others through their companies'.
    scope = actor.warehouse_scope(StockMovement.warehouse_id, StockMovement.company_id)
    movements = session.execute(
        select(StockMovement.id, StockMovement.document_id, StockMovement.movement_type, StockMovement.posting_date,
               Company.code.label("company_code"), Warehouse.code.label("warehouse_code"), StockMovement.warehouse_id,
               StockMovement.status,
               StockMovement.quantity, StockMovement.value, StockDocument.reference, StockDocument.destination,
               StockDocument.cost_center, Supplier.code.label("supplier_code"),
               Customer.code.label("customer_code"), Customer.name_zh.label("customer_name"),
               Customer.name_zh.label("customer_name_zh"), Customer.name_en.label("customer_name_en"))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .join(Company, Company.id == StockMovement.company_id)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .outerjoin(Supplier, Supplier.id == StockDocument.supplier_id)
        .outerjoin(Customer, Customer.id == StockDocument.customer_id)
        # A supplier invoice's price difference is a value row on the batch its order line
        # was received into, not goods moving: no part of the batch's flow.
        .where(StockMovement.batch_id == batch_id, scope,
               StockMovement.movement_type != MovementType.PRICE_DIFFERENCE)
        .order_by(StockMovement.posting_date, StockMovement.id)
    ).all()
    price_differences = session.execute(
        select(StockMovement.id, StockMovement.document_id, StockMovement.posting_date,
               Company.code.label("company_code"), Warehouse.code.label("warehouse_code"), StockMovement.warehouse_id,
               StockMovement.status,
               StockMovement.quantity, StockMovement.value, StockMovement.variance, StockDocument.reference,
               StockDocument.supplier_invoice_id, Supplier.code.label("supplier_code"),
               Supplier.name_zh.label("supplier_name_zh"), Supplier.name_en.label("supplier_name_en"))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .join(Company, Company.id == StockMovement.company_id)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .outerjoin(Supplier, Supplier.id == StockDocument.supplier_id)
        .where(StockMovement.batch_id == batch_id, scope,
               StockMovement.movement_type == MovementType.PRICE_DIFFERENCE)
        .order_by(StockMovement.posting_date, StockMovement.id)
    ).all()
    if not movements and not price_differences:  # the batch as the user typed it; its id for the API
        raise NotFound(Message("no batch {batch} of material {material}", batch=batch.batch_number,
                               material=batch.material_code), batch_id=batch_id)
    receipts = session.execute(
        select(StockDocument.id.label("document_id"), StockDocument.doc_type.label("kind"), StockDocument.posting_date,
               Supplier.code.label("supplier_code"),
               PurchaseOrder.number.label("order_number"), StockDocument.po_line_id, StockDocument.delivery_note,
               StockMovement.quantity, Warehouse.code.label("warehouse_code"))
        .join(StockMovement, StockMovement.document_id == StockDocument.id)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .join(Supplier, Supplier.id == StockDocument.supplier_id)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == StockDocument.po_line_id)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(StockMovement.batch_id == batch_id, StockDocument.doc_type == MovementType.RECEIPT, scope)
        .order_by(StockDocument.posting_date, StockDocument.id)
    ).all()
    on_hand, _ = stock_on_hand(session, actor, group_by=("company", "warehouse", "status"), batch_id=batch_id,
                               limit=1000)
    totals: dict[str, Decimal] = {}
    for movement in movements:
        kind = movement.movement_type.value
        totals[kind] = totals.get(kind, Decimal("0")) + movement.quantity
    warehouses = names_by_id(session, Warehouse, [row.warehouse_id for row in [*movements, *price_differences, *on_hand]])
    return BatchFlow(batch, list(receipts), list(movements), on_hand, totals, list(price_differences), warehouses)


_OPEN_QUANTITY = (PurchaseOrderLine.quantity - PurchaseOrderLine.received_quantity).label("open_quantity")
# How the open order lines may be sorted (the order number and line always break ties).
OPEN_LINE_SORTS = {
    "order": PurchaseOrder.number, "date": PurchaseOrder.order_date, "supplier": Supplier.code,
    "material": Material.code, "warehouse": Warehouse.code, "open": _OPEN_QUANTITY,
}


# Receipts against an order line and what takes them back (reversal, return to the supplier).
RECEIPT_DOCUMENT_TYPES = (MovementType.RECEIPT, MovementType.RECEIPT_REVERSAL, MovementType.RETURN_TO_SUPPLIER)


def received_by_receipts(session: Session, po_line_id: int) -> Decimal:
    """What goods receipts booked in this system have received on an order line, net of
    their reversals and returns: the line's received quantity less what an imported open
    order had received before go-live."""
    return Decimal(session.scalar(
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.po_line_id == po_line_id, StockDocument.doc_type.in_(RECEIPT_DOCUMENT_TYPES))
    ) or 0)


def lines_open_for_receipt(
    session: Session, actor: Actor, *, warehouse_id: int | None = None, q: str | None = None,
    sort: str | None = None, descending: bool = False, offset: int = 0, limit: int = 50,
    po_line_id: int | None = None,
) -> tuple[list[Any], int]:
    """Open order lines a clerk can receive in their warehouses, with the quantity still due;
    ``q`` searches order number, supplier and material (code or name); ``sort`` is one of
    ``OPEN_LINE_SORTS`` (default: by order number)."""
    query = (
        select(PurchaseOrderLine.id.label("po_line_id"), PurchaseOrder.number.label("order_number"),
               PurchaseOrderLine.line_no, PurchaseOrder.supplier_id, Supplier.code.label("supplier_code"),
               Supplier.name_zh.label("supplier_name_zh"), Supplier.name_en.label("supplier_name_en"),
               PurchaseOrderLine.material_id, Material.code.label("material_code"),
               Material.name_zh.label("material_name_zh"), Material.name_en.label("material_name_en"),
               UnitOfMeasure.code.label("unit_code"), PurchaseOrderLine.warehouse_id,
               Warehouse.code.label("warehouse_code"), Warehouse.name_zh.label("warehouse_name_zh"),
               Warehouse.name_en.label("warehouse_name_en"), PurchaseOrder.order_date,
               Material.inspection_required, PurchaseOrderLine.quantity,
               PurchaseOrderLine.received_quantity, _OPEN_QUANTITY)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Material, Material.id == PurchaseOrderLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .join(Warehouse, Warehouse.id == PurchaseOrderLine.warehouse_id)
        .where(PurchaseOrder.status.in_(list(OPEN_FOR_RECEIPT_STATUSES)),
               PurchaseOrderLine.received_quantity < PurchaseOrderLine.quantity)
    )
    query = _scoped(actor, query, PurchaseOrderLine.warehouse_id, PurchaseOrder.receiving_company_id)
    if warehouse_id is not None:
        query = query.where(PurchaseOrderLine.warehouse_id == warehouse_id)
    if po_line_id is not None:
        query = query.where(PurchaseOrderLine.id == po_line_id)
    if q:
        query = query.where(contains_text(q, PurchaseOrder.number, Supplier.code, Supplier.name_zh,
                                          Supplier.name_en, Material.code, Material.name_zh, Material.name_en))
    order = []
    if sort in OPEN_LINE_SORTS:
        column = OPEN_LINE_SORTS[sort]
        order.append(column.desc() if descending else column.asc())
    return page(session, query.order_by(*order, PurchaseOrder.number, PurchaseOrderLine.line_no), offset=offset,
                limit=limit)


# --- the ledger is the record; balances are derived -------------------------------------

_BALANCE_KEY = ("company_id", "warehouse_id", "material_id", "batch_id", "status")


def balance_drift(session: Session) -> list[Any]:
    """Balance rows that differ from the sum of the ledger (expected: none)."""
    ledger = select(*(getattr(StockMovement, k) for k in _BALANCE_KEY),
                    StockMovement.quantity.label("q"), StockMovement.value.label("v"))
    current = select(*(getattr(StockBalance, k) for k in _BALANCE_KEY),
                     (-StockBalance.quantity).label("q"), (-StockBalance.value).label("v"))
    both = union_all(ledger, current).subquery()
    keys = [both.c[k] for k in _BALANCE_KEY]
    return list(session.execute(
        select(*keys, func.sum(both.c.q).label("quantity_drift"), func.sum(both.c.v).label("value_drift"))
        .group_by(*keys)
        # SQLite sums in binary floating point: tolerate noise far below the smallest unit.
        .having(or_(func.abs(func.sum(both.c.q)) > Decimal("0.00001"),
                    func.abs(func.sum(both.c.v)) > Decimal("0.001")))
    ).all())


_TOTALS_KEY = ("company_id", "period", "material_id", "close_class")


def period_totals_drift(session: Session) -> list[Any]:
    """Period totals that differ from the sum of the ledger (expected: none)."""
    m, t = StockMovement, PeriodMovementTotal
    ledger = select(m.company_id, m.period, m.material_id, m.close_class,
                    func.coalesce(m.offset_account, "").label("account"), m.quantity.label("q"),
                    m.value.label("v"), m.variance.label("w")).where(m.close_class != CloseClass.INTERNAL)
    current = select(t.company_id, t.period, t.material_id, t.close_class, t.offset_account.label("account"),
                     (-t.quantity).label("q"), (-t.value).label("v"), (-t.variance).label("w"))
    both = union_all(ledger, current).subquery()
    keys = [both.c[k] for k in _TOTALS_KEY] + [both.c.account]
    return list(session.execute(
        select(*keys, func.sum(both.c.q).label("quantity_drift"), func.sum(both.c.v).label("value_drift"),
               func.sum(both.c.w).label("variance_drift"))
        .group_by(*keys)
        .having(or_(func.abs(func.sum(both.c.q)) > Decimal("0.00001"),
                    func.abs(func.sum(both.c.v)) > Decimal("0.001"),
                    func.abs(func.sum(both.c.w)) > Decimal("0.001")))
    ).all())


def find_batch(session: Session, actor: Actor, *, material_id: int, batch_number: str) -> int:
    """The id of a material's batch by its number."""
    batch_id = session.scalar(select(Batch.id).where(and_(Batch.material_id == material_id,
                                                          Batch.batch_number == batch_number)))
    if batch_id is None:
        raise NotFound(Message("no batch {batch} of material {material}", batch=batch_number, material=material_id))
    return batch_id



# --- what the warehouse pages show ---------------------------------------------------------

# A batch is "near expiry" with fewer days than this left (and "expired" on and after its
# expiry date): the stock list highlights both, red for expired, amber for near.
NEAR_EXPIRY_DAYS = 90


class ExpiryState(StrEnum):
    EXPIRED = "expired"
    NEAR = "near_expiry"
    OK = "ok"


def expiry_state(expiry_date: dt.date | None, today: dt.date) -> ExpiryState:
    """Whether a batch has expired, expires within ``NEAR_EXPIRY_DAYS``, or neither."""
    if expiry_date is None:
        return ExpiryState.OK
    if expiry_date <= today:
        return ExpiryState.EXPIRED
    if (expiry_date - today).days < NEAR_EXPIRY_DAYS:
        return ExpiryState.NEAR
    return ExpiryState.OK


@dataclass(frozen=True)
class ReceiptPreview:
    """What a receipt against an order line will do, shown before it is posted: the price
    it takes (the contract's), the standard it is valued at, whether the warehouse can
    store the material, and whether the goods go to quarantine."""

    line: Any
    supplier: Named
    material: Named
    warehouse: Named
    company: Named
    unit_code: str
    contract_price: Decimal
    contract_number: str
    standard_price: Decimal | None
    standard_refusal: Message | None
    storage_ok: bool
    storage_reason: Message
    requirement: Any
    conditions: Any
    quarantine: bool
    batch_managed: bool
    tolerance_pct: Decimal
    at_most_with_tolerance: Decimal
    min_remaining_shelf_life_days: int


def preview_receipt(
    session: Session, actor: Actor, po_line_id: int, *, posting_date: dt.date, min_remaining_days: int
) -> ReceiptPreview:
    """The facts of a receipt against ``po_line_id`` before it is booked (nothing is written
    or locked). 404 for lines outside the caller's warehouses or no longer open."""
    from erp.posting.errors import NoStandardPrice
    from erp.posting.prices import standard_price
    from erp.masterdata.services import can_store
    from erp.period import Period
    from erp.purchasing.models import Contract, ContractLine

    rows, _ = lines_open_for_receipt(session, actor, limit=1, po_line_id=po_line_id)
    if not rows:
        raise NotFound(Message("purchase order line {line} not found or not open for receipts", line=po_line_id))
    line = rows[0]
    order_line = session.get(PurchaseOrderLine, po_line_id)
    assert order_line is not None
    material = session.get(Material, line.material_id)
    warehouse = session.get(Warehouse, line.warehouse_id)
    assert material is not None and warehouse is not None
    company = session.get(Company, warehouse.company_id)
    supplier = session.get(Supplier, line.supplier_id)
    contract_number = session.scalar(select(Contract.number).join(ContractLine, ContractLine.contract_id == Contract.id)
                                     .where(ContractLine.id == order_line.contract_line_id))
    standard: Decimal | None = None
    refusal: Message | None = None
    try:
        standard = standard_price(session, warehouse.company_id, material.id, Period.of(posting_date))
    except NoStandardPrice as error:
        refusal = error.message
    ok, reason = can_store(warehouse, material)
    ceiling = line.quantity * (1 + material.over_receipt_tolerance_pct / Decimal(100))
    return ReceiptPreview(
        line=line, supplier=Named.of(supplier), material=Named.of(material), warehouse=Named.of(warehouse),
        company=Named.of(company), unit_code=line.unit_code, contract_price=order_line.unit_price,
        contract_number=contract_number or "", standard_price=standard, standard_refusal=refusal,
        storage_ok=ok, storage_reason=reason,
        requirement=(material.storage_temp_min, material.storage_temp_max, material.storage_max_humidity),
        conditions=(warehouse.temp_min, warehouse.temp_max, warehouse.max_humidity),
        quarantine=material.inspection_required, batch_managed=material.batch_managed,
        tolerance_pct=material.over_receipt_tolerance_pct,
        at_most_with_tolerance=max(ceiling - line.received_quantity, Decimal(0)),
        min_remaining_shelf_life_days=(material.min_remaining_shelf_life_days
                                       if material.min_remaining_shelf_life_days is not None else min_remaining_days),
    )


@dataclass(frozen=True)
class DocumentHeader:
    """A stock document as people read it: by number, with its company, partner and order."""

    number: str
    company: Named
    supplier: Named | None
    customer: Named | None
    created_by: str
    reverses_number: str | None
    reversed_by_number: str | None
    # The purchase order a receipt, its reversal or a return belongs to; the receipt a return
    # sends back (``source_number``) and the returns of a receipt (``returned_by``).
    order_number: str | None = None
    source_number: str | None = None
    returned_by: tuple[str, ...] = ()
    # A receipt's quantity and what of it went back to the supplier (None for other documents);
    # ``fully_returned``: nothing of it is left to reverse or return.
    received_quantity: Decimal | None = None
    returned_quantity: Decimal | None = None
    unit_code: str | None = None
    # A transfer's two sides; the standard price a document was valued at (written on the
    # document by receipts, else the price in force in its period for its material).
    from_warehouse: Named | None = None
    to_warehouse: Named | None = None
    standard_price: Decimal | None = None

    @property
    def fully_returned(self) -> bool:
        return bool(self.returned_quantity) and self.returned_quantity >= (self.received_quantity or 0)  # type: ignore[operator]


def document_by_number(session: Session, actor: Actor, number: str) -> tuple[DocumentView, DocumentHeader]:
    """A stock document found by its number, with its ledger rows, journal and header."""
    from erp.auth.models import User

    document_id = session.scalar(select(StockDocument.id).where(StockDocument.number == number.strip().upper()))
    if document_id is None:
        raise NotFound(Message("stock document {number} not found", number=number))
    view = get_document(session, actor, document_id)
    document = view.document
    company = session.get(Company, document.company_id)
    supplier = session.get(Supplier, document.supplier_id) if document.supplier_id else None
    customer = session.get(Customer, document.customer_id) if document.customer_id else None
    related = [document.reverses_document_id, view.reversed_by_document_id, document.source_document_id]
    numbers = dict(session.execute(select(StockDocument.id, StockDocument.number).where(
        StockDocument.id.in_([i for i in related if i])
    )).all())
    returned_by = tuple(session.scalars(select(StockDocument.number).where(
        StockDocument.source_document_id == document.id,
        StockDocument.doc_type == MovementType.RETURN_TO_SUPPLIER).order_by(StockDocument.id)))
    received_quantity = returned_quantity = None
    unit_code = None
    if document.doc_type == MovementType.RECEIPT and view.movements:
        received_quantity = sum((m.quantity for m in view.movements), Decimal("0"))
        returned_quantity = -Decimal(session.scalar(
            select(func.coalesce(func.sum(StockMovement.quantity), 0))
            .join(StockDocument, StockDocument.id == StockMovement.document_id)
            .where(StockDocument.source_document_id == document.id,
                   StockDocument.doc_type == MovementType.RETURN_TO_SUPPLIER)) or 0)
        unit_code = view.movements[0].unit_code
    order_number = session.scalar(select(PurchaseOrder.number).join(
        PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id).where(
        PurchaseOrderLine.id == document.po_line_id)) if document.po_line_id else None
    # A transfer's sides: where its stock left, where it arrived.
    sides = {m.quantity > 0: m.warehouse_id for m in view.movements if m.quantity != 0}
    if document.doc_type == MovementType.TRANSFER and len(sides) == 2:
        from_warehouse, to_warehouse = (Named.of(session.get(Warehouse, sides[side])) for side in (False, True))
    else:
        from_warehouse = to_warehouse = None
    header = DocumentHeader(
        number=document.number, company=Named.of(company),
        supplier=Named.of(supplier) if supplier else None, customer=Named.of(customer) if customer else None,
        created_by=session.scalar(select(User.display_name).where(User.id == document.created_by)) or "",
        reverses_number=numbers.get(document.reverses_document_id),
        reversed_by_number=numbers.get(view.reversed_by_document_id),
        order_number=order_number, source_number=numbers.get(document.source_document_id),
        returned_by=returned_by, received_quantity=received_quantity, returned_quantity=returned_quantity,
        unit_code=unit_code, from_warehouse=from_warehouse, to_warehouse=to_warehouse,
        standard_price=document.standard_price if document.standard_price is not None
        else _standard_price_of(session, document, view.movements),
    )
    return view, header


def _standard_price_of(session: Session, document: StockDocument, movements: Sequence[Any]) -> Decimal | None:
    """The standard price in force in a document's period for its one material (an issue, a
    transfer, an adjustment were valued at it), or None (several materials, none set)."""
    materials = {m.material_id for m in movements}
    if len(materials) != 1:
        return None
    try:
        return standard_price(session, document.company_id, materials.pop(), document.period)
    except NoStandardPrice:
        return None


STOCK_SORTS = {
    "since": StockBalance.last_posting_date,
    "material": Material.code, "warehouse": Warehouse.code, "batch": Batch.batch_number,
    "expiry": Batch.expiry_date, "status": StockBalance.status, "quantity": StockBalance.quantity,
    "value": StockBalance.value,
}


def stock_by_batch(
    session: Session, actor: Actor, *, q: str | None = None, status: StockStatus | None = None,
    warehouse_id: int | None = None, expiring_within: int | None = None, today: dt.date,
    batch_number: str | None = None, material_code: str | None = None,
    sort: str | None = None, descending: bool = False, offset: int = 0, limit: int = 50,
) -> tuple[list[Any], int, Decimal]:
    """Stock on hand in the caller's warehouses by warehouse, material, batch and status,
    with expiry; ``q`` searches material code or name and batch number. Sorted by
    ``STOCK_SORTS`` (default: earliest expiry first). Returns rows, their count and the
    value of all of them (the totals row)."""
    query = (
        select(StockBalance.warehouse_id, Warehouse.code.label("warehouse_code"),
               Warehouse.name_zh.label("warehouse_name_zh"), Warehouse.name_en.label("warehouse_name_en"),
               StockBalance.material_id, Material.code.label("material_code"),
               Material.name_zh.label("material_name_zh"), Material.name_en.label("material_name_en"),
               UnitOfMeasure.code.label("unit_code"), StockBalance.batch_id, Batch.batch_number,
               Batch.expiry_date, StockBalance.status, StockBalance.quantity, StockBalance.value,
               StockBalance.last_posting_date, Material.inspection_required)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .join(Material, Material.id == StockBalance.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .where(StockBalance.quantity > 0)
    )
    query = _scoped(actor, query, StockBalance.warehouse_id, StockBalance.company_id)
    if q:
        query = query.where(contains_text(q, Material.code, Material.name_zh, Material.name_en,
                                          Batch.batch_number))
    if status is not None:
        query = query.where(StockBalance.status == status)
    if warehouse_id is not None:
        query = query.where(StockBalance.warehouse_id == warehouse_id)
    if batch_number is not None:
        query = query.where(Batch.batch_number == batch_number)
    if material_code is not None:
        query = query.where(Material.code == material_code)
    if expiring_within is not None:
        query = query.where(Batch.expiry_date < today + dt.timedelta(days=expiring_within))
    counted = query.subquery()
    total, value = session.execute(select(func.count(), func.coalesce(func.sum(counted.c.value), 0))).one()
    column = STOCK_SORTS.get(sort or "expiry", Batch.expiry_date)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    rows = session.execute(query.order_by(order, Material.code, Batch.batch_number, StockBalance.id)
                           .offset(offset).limit(limit)).all()
    return list(rows), int(total), Decimal(value)


def find_batch_by_codes(session: Session, actor: Actor, *, material_code: str, batch_number: str) -> int:
    """A batch's id from its material's code and its number (what is printed on the label)."""
    batch_id = session.scalar(
        select(Batch.id).join(Material, Material.id == Batch.material_id)
        .where(Material.code == material_code.strip(), Batch.batch_number == batch_number.strip())
    )
    if batch_id is None:
        raise NotFound(Message("no batch {batch} of material {material}", batch=batch_number, material=material_code))
    return batch_id


def document_numbers(session: Session, document_ids: Sequence[int]) -> dict[int, str]:
    """The numbers of stock documents by id (for lists that show them)."""
    if not document_ids:
        return {}
    return dict(session.execute(select(StockDocument.id, StockDocument.number)
                                .where(StockDocument.id.in_(sorted(set(document_ids))))).all())


def balances_of_other_companies(session: Session) -> list[Any]:
    """Stock held in a warehouse under another company than the warehouse's own: a
    warehouse moved to another company while it held stock strands it there. Expected:
    none (changing a warehouse's company is refused while it holds stock)."""
    return list(session.execute(
        select(StockBalance.company_id, Warehouse.company_id.label("warehouse_company_id"), StockBalance.warehouse_id,
               Warehouse.code.label("warehouse_code"), StockBalance.material_id, StockBalance.batch_id,
               StockBalance.status, StockBalance.quantity, StockBalance.value)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(StockBalance.company_id != Warehouse.company_id,
               or_(StockBalance.quantity != 0, StockBalance.value != 0))
        .order_by(StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id)
    ).all())


@warehouse_use_check
def _stock_in(session: Session, warehouse_id: int) -> list[Message]:
    """Stock held in the warehouse (a warehouse changes company only empty)."""
    held = session.scalar(select(func.count()).select_from(StockBalance).where(
        StockBalance.warehouse_id == warehouse_id, or_(StockBalance.quantity != 0, StockBalance.value != 0)))
    return [Message("{count} stock balance(s)", count=held)] if held else []


# --- what the issue, transfer and return forms offer and preview ------------------------------

def warehouses_acted_for(session: Session, actor: Actor) -> list[Any]:
    """The warehouses the caller posts stock from (a clerk: their named warehouses; others:
    their companies' warehouses), by code: id, company_id, code, name_zh, name_en."""
    query = select(Warehouse.id, Warehouse.company_id, Warehouse.code, Warehouse.name_zh, Warehouse.name_en)
    return list(session.execute(_scoped(actor, query, Warehouse.id, Warehouse.company_id)
                                .order_by(Warehouse.code)).all())


def warehouses_of_companies(session: Session, company_ids: Sequence[int]) -> list[Any]:
    """Every warehouse of these companies, by code (a transfer's destinations: any warehouse of
    the source's company, erp.inventory.services.book_transfer)."""
    if not company_ids:
        return []
    return list(session.execute(
        select(Warehouse.id, Warehouse.company_id, Warehouse.code, Warehouse.name_zh, Warehouse.name_en)
        .where(Warehouse.company_id.in_(sorted(set(company_ids)))).order_by(Warehouse.code)).all())


def materials_in_stock(session: Session, actor: Actor, *, warehouse_id: int | None,
                       status: StockStatus = StockStatus.UNRESTRICTED) -> list[Any]:
    """The materials with stock of ``status`` in the caller's warehouses (or in one of them),
    by code: id, code, name_zh, name_en, unit_code, quantity (all batches together)."""
    query = (
        select(Material.id, Material.code, Material.name_zh, Material.name_en,
               UnitOfMeasure.code.label("unit_code"), func.sum(StockBalance.quantity).label("quantity"))
        .join(StockBalance, StockBalance.material_id == Material.id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(StockBalance.quantity > 0, StockBalance.status == status)
        .group_by(Material.id, Material.code, Material.name_zh, Material.name_en, UnitOfMeasure.code)
        .order_by(Material.code)
    )
    query = _scoped(actor, query, StockBalance.warehouse_id, StockBalance.company_id)
    if warehouse_id is not None:
        query = query.where(StockBalance.warehouse_id == warehouse_id)
    return list(session.execute(query).all())


@dataclass(frozen=True)
class PlannedPiece:
    """Part of an outflow as it would leave one batch: its quantity and value at standard."""

    batch_id: int
    batch_number: str
    expiry_date: dt.date | None
    quantity: Decimal
    value: Decimal


@dataclass(frozen=True)
class OutflowPreview:
    """What taking ``quantity`` of a material out of a warehouse would do, read before it is
    posted and without locks (another posting may change it before the form is sent): the
    batches it would leave in the order the posting takes them (first expiry first, or the
    batch named), the standard price in force and the value at standard that would leave."""

    warehouse: Named
    material: Named
    unit_code: str
    standard_price: Decimal | None
    standard_refusal: Message | None
    batches: list[Any]  # the batches there of the status, first expiry first, with ``usable``
    pieces: list[PlannedPiece]
    value: Decimal
    available: Decimal  # what the posting could take on the day (expired batches left out when they are)
    short: Decimal  # what of ``quantity`` it could not take


def preview_outflow(
    session: Session, actor: Actor, *, warehouse_id: int, material_id: int, posting_date: dt.date,
    quantity: Decimal | None = None, batch_id: int | None = None, status: StockStatus = StockStatus.UNRESTRICTED,
    skip_expired: bool = True,
) -> OutflowPreview:
    """The facts of an issue (``skip_expired``) or a transfer before it is posted: nothing is
    written or locked. 404 for a warehouse the caller does not act for."""
    from erp.posting.errors import NoStandardPrice
    from erp.posting.prices import standard_price
    from erp.posting.stock import HeldStock, available_on, value_taken
    from erp.posting.writer import lock_order
    from erp.period import Period

    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or not actor.acts_for_warehouse(warehouse.id, warehouse.company_id) \
            or not actor.acts_for_company(warehouse.company_id):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(Message("material {key} not found", key=material_id))
    unit_code = session.scalar(select(UnitOfMeasure.code).where(UnitOfMeasure.id == material.unit_id)) or ""
    price: Decimal | None = None
    refusal: Message | None = None
    try:
        price = standard_price(session, warehouse.company_id, material.id, Period.of(posting_date))
    except NoStandardPrice as error:
        refusal = error.message
    rows = session.execute(
        select(StockBalance.id, StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id,
               Batch.batch_number, StockBalance.status, StockBalance.quantity, StockBalance.value,
               Batch.expiry_date, StockBalance.last_posting_date)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .where(StockBalance.warehouse_id == warehouse.id, StockBalance.material_id == material.id,
               StockBalance.status == status, StockBalance.quantity > 0)
        .order_by(*lock_order(StockBalance, Batch))
    ).all()
    held = [HeldStock(*row) for row in rows]
    batches = [{"batch_id": h.batch_id, "batch_number": h.batch_number, "expiry_date": h.expiry_date,
                "quantity": h.quantity,
                "usable": not skip_expired or h.usable_on(posting_date)} for h in held]
    takeable = [h for h in held if (batch_id is None or h.batch_id == batch_id)
                and (not skip_expired or h.usable_on(posting_date))]
    available = sum((available_on(session, h, posting_date) for h in takeable), Decimal("0"))
    pieces: list[PlannedPiece] = []
    remaining = quantity if quantity is not None and quantity > 0 else Decimal("0")
    for h in takeable:
        if remaining <= 0:
            break
        taken = min(available_on(session, h, posting_date), remaining)
        if taken <= 0:
            continue
        value = value_taken(session, warehouse.company_id, h, taken, price, posting_date) if price is not None \
            else Decimal("0")
        pieces.append(PlannedPiece(h.batch_id, h.batch_number, h.expiry_date, taken, value))
        remaining -= taken
    return OutflowPreview(
        warehouse=Named.of(warehouse), material=Named.of(material), unit_code=unit_code, standard_price=price,
        standard_refusal=refusal, batches=batches, pieces=pieces,
        value=sum((p.value for p in pieces), Decimal("0")), available=available, short=remaining)


def storage_check(session: Session, warehouse_id: int, material_id: int) -> tuple[bool, Message] | None:
    """Whether the warehouse can store the material (a transfer's destination), and why not;
    None when either is unknown."""
    from erp.masterdata.services import can_store

    warehouse = session.get(Warehouse, warehouse_id)
    material = session.get(Material, material_id)
    if warehouse is None or material is None:
        return None
    return can_store(warehouse, material)


def account_names(session: Session, codes: Sequence[str]) -> dict[str, Named]:
    """Accounts by code, as people read them (code and name)."""
    rows = session.execute(select(Account.code, Account.name_zh, Account.name_en)
                           .where(Account.code.in_(sorted(set(codes))))).all()
    return {row.code: Named(row.code, row.name_zh, row.name_en) for row in rows}


def preview_adjustment(
    session: Session, actor: Actor, *, warehouse_id: int, material_id: int, posting_date: dt.date,
    quantity: Decimal | None = None, batch_id: int | None = None, status: StockStatus = StockStatus.UNRESTRICTED,
) -> tuple[OutflowPreview, Decimal | None]:
    """The facts of a stock adjustment before it is posted, and the value it would post
    (signed, at standard): a loss or scrap takes what an outflow of the batch would take
    (``preview_outflow``), a count gain adds quantity x the standard price, rounded to the
    cent as erp.inventory.services.book_adjustment posts it. Nothing is written or locked."""
    from erp.money import round_money

    taking = quantity is not None and quantity < 0
    preview = preview_outflow(session, actor, warehouse_id=warehouse_id, material_id=material_id,
                              posting_date=posting_date, quantity=-quantity if taking and quantity else None,
                              batch_id=batch_id, status=status, skip_expired=False)
    if quantity is None or quantity == 0 or preview.standard_price is None:
        return preview, None
    if taking:
        return preview, -preview.value
    return preview, round_money(quantity * preview.standard_price)


@partner_use_check("customer")
def _customer_stock_documents(session: Session, customer_id: int) -> list[Message]:
    """Stock documents (shipments, returns) naming the customer."""
    return documents_found(session, N_("stock document(s)"), StockDocument.number,
                           StockDocument.customer_id == customer_id)


@partner_use_check("supplier")
def _supplier_stock_documents(session: Session, supplier_id: int) -> list[Message]:
    """Stock documents (receipts, returns) naming the supplier."""
    return documents_found(session, N_("stock document(s)"), StockDocument.number,
                           StockDocument.supplier_id == supplier_id)


def _stock_on_hand(session: Session, *where: Any) -> list[Message]:
    """``stock on hand 120 KG (3 batch(es))``: the quantities left (by unit, every stock
    status) and the batches they are in, where ``where`` says; [] when nothing is left."""
    rows = session.execute(
        select(UnitOfMeasure.code, func.sum(StockBalance.quantity), func.count(StockBalance.batch_id.distinct()))
        .join(Material, Material.id == StockBalance.material_id).join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(*where, StockBalance.quantity != 0).group_by(UnitOfMeasure.code).order_by(UnitOfMeasure.code)).all()
    if not rows:
        return []
    quantities = [Message("{quantity} {unit}", quantity=quantity.normalize() if quantity == quantity.to_integral()
                          else quantity, unit=unit) for unit, quantity, _ in rows]
    return [Message("stock on hand {quantities} ({batches} batch(es))", quantities=quantities,
                    batches=sum(batches for _, _, batches in rows))]


@deactivation_check("warehouse")
def _stock_left_in_warehouse(session: Session, warehouse_id: int) -> list[Message]:
    return _stock_on_hand(session, StockBalance.warehouse_id == warehouse_id)


@deactivation_check("company")
def _stock_left_in_company(session: Session, company_id: int) -> list[Message]:
    return _stock_on_hand(session, StockBalance.company_id == company_id)


@deactivation_check("material")
def _stock_left_of_material(session: Session, material_id: int) -> list[Message]:
    return _stock_on_hand(session, StockBalance.material_id == material_id)
