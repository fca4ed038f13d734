"""HTTP endpoints of the warehouse: ``/api/v1/inventory/...``.

Posting endpoints accept an ``Idempotency-Key`` header: a retry with the same key returns
the first result (``Idempotent-Replayed: true``) and posts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest.pagination import PaginationParameters

from erp.inventory import queries, services
from erp.inventory import schemas as s
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.web import Blueprint, IDEMPOTENCY_HEADER, erp_settings, idempotent, paged, transaction
from erp.auth.errors import RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, DatedBeforeSource, NotFound
from erp.idempotency import IdempotencyKeyReused
from erp.inventory.errors import (
    AlreadyReversed, BatchDatesMismatch, BatchExpired, BatchNotApplicable, BatchRequired, ClerkNotOfWarehouse,
    InsufficientStock, InvalidBatchDates, InvalidQuantity, IssueNeedsProductionOrder, NotReversible, OrderNotOpen,
    OutsideContractValidity, StockNotReleased,
    OverReceipt, ProductionOrderClosed, ShortRemainingShelfLife, WarehouseNotOfCompany,
)
from erp.masterdata.errors import StorageConditionsNotMet
from erp.posting.errors import NoStandardPrice, PeriodClosed
from erp.quality.errors import InspectionLotHoldsStock, InspectionLotOpen, SignedReleaseRequired

blp = Blueprint("inventory", __name__, url_prefix="/api/v1/inventory",
                description="Receipts, batches, stock movements and the stock ledger")


def _post_document(session: Session, actor: Actor, payload: dict[str, Any],
                   post: Callable[[], int | queries.DocumentView]) -> queries.DocumentView:
    """Run one posting service under the Idempotency-Key. ``post`` returns the document as
    posted (answered as it is: nothing read back) or its id (the document is read back)."""
    posted: list[int | queries.DocumentView] = []

    def post_once() -> int:
        posted.append(post())
        return posted[-1] if isinstance(posted[-1], int) else posted[-1].document_id

    document_id = idempotent(session, actor, payload, post_once)
    if posted and isinstance(posted[-1], queries.DocumentView):
        return posted[-1]
    # A replayed key answers with a document posted earlier, which may have been reversed since.
    return queries.get_document(session, actor, document_id, just_posted=bool(posted))


@blp.route("/receipts", methods=["POST"])
@blp.arguments(s.ReceiptIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, BatchDatesMismatch, OrderNotOpen, OverReceipt, DatedBeforeSource,
    OutsideContractValidity, PeriodClosed,
    DatedAfterBusinessDay,
    BatchExpired, BatchNotApplicable, BatchRequired, IdempotencyKeyReused, InvalidBatchDates, InvalidQuantity,
    NoStandardPrice, ShortRemainingShelfLife, StorageConditionsNotMet, WarehouseNotOfCompany,
)
@transaction
def post_receipt(session: Session, actor: Actor, data: dict[str, Any]) -> queries.DocumentView:
    """Book goods received against a purchase order line (the price comes from the contract)."""
    min_days = erp_settings().default_min_remaining_shelf_life_days
    return _post_document(session, actor, data, lambda: services.book_receipt(
        session, actor, services.ReceiptRequest(**data), min_remaining_days=min_days))


@blp.route("/receipts/<bigint:document_id>/reversal", methods=["POST"])
@blp.arguments(s.ReversalIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, AlreadyReversed, InsufficientStock, NotReversible, PeriodClosed,
    DatedAfterBusinessDay,
    IdempotencyKeyReused, NoStandardPrice,
)
@transaction
def post_receipt_reversal(session: Session, actor: Actor, data: dict[str, Any],
                          document_id: int) -> queries.DocumentView:
    """Reverse a receipt whose goods are still in the warehouse."""
    return _post_document(session, actor, {**data, "document_id": document_id}, lambda: services.book_receipt_reversal(
        session, actor, document_id=document_id, **data))


@blp.route("/quality-decisions", methods=["POST"])
@blp.arguments(s.QualityDecisionIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, InsufficientStock, PeriodClosed, DatedAfterBusinessDay,
    IdempotencyKeyReused,
    InvalidQuantity, NoStandardPrice, InspectionLotOpen, SignedReleaseRequired,
)
@transaction
def post_quality_decision(session: Session, actor: Actor, data: dict[str, Any]) -> queries.DocumentView:
    """Release quarantined stock to unrestricted, or reject it to blocked."""
    return _post_document(session, actor, data, lambda: services.book_quality_decision(session, actor, **data))


@blp.route("/returns", methods=["POST"])
@blp.arguments(s.ReturnIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, AlreadyReversed, InsufficientStock, NotReversible, PeriodClosed,
    DatedAfterBusinessDay,
    IdempotencyKeyReused, InvalidQuantity, NoStandardPrice, StockNotReleased,
)
@transaction
def post_return(session: Session, actor: Actor, data: dict[str, Any]) -> queries.DocumentView:
    """Return rejected goods of a receipt to the supplier, reversing their value."""
    return _post_document(session, actor, data, lambda: services.book_return(session, actor, **data))


@blp.route("/issues", methods=["POST"])
@blp.arguments(s.IssueIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, InsufficientStock, PeriodClosed, DatedAfterBusinessDay, BatchExpired,
    IdempotencyKeyReused, InvalidQuantity, NoStandardPrice, StockNotReleased, IssueNeedsProductionOrder,
)
@transaction
def post_issue(session: Session, actor: Actor, data: dict[str, Any]) -> queries.DocumentView:
    """Issue unrestricted stock to a cost centre (first expiry, first out). Production's
    materials are issued to a production order (``/production/orders/{id}/issues``): an
    issue to ``production`` (5001) is refused, issue-needs-production-order."""
    services.refuse_issue_outside_production_order(data["destination"])
    return _post_document(session, actor, data, lambda: services.book_issue(session, actor, **data))


@blp.route("/issues/<bigint:document_id>/reversal", methods=["POST"])
@blp.arguments(s.ReversalIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, AlreadyReversed, NotReversible, PeriodClosed, DatedAfterBusinessDay,
    IdempotencyKeyReused, NoStandardPrice, ProductionOrderClosed,
)
@transaction
def post_issue_reversal(session: Session, actor: Actor, data: dict[str, Any], document_id: int) -> queries.DocumentView:
    """Put issued stock back exactly as it left."""
    return _post_document(session, actor, {**data, "document_id": document_id}, lambda: services.book_issue_reversal(
        session, actor, document_id=document_id, **data))


@blp.route("/transfers", methods=["POST"])
@blp.arguments(s.TransferIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, InsufficientStock, PeriodClosed, DatedAfterBusinessDay,
    IdempotencyKeyReused,
    InvalidQuantity, NoStandardPrice, StorageConditionsNotMet, WarehouseNotOfCompany, InspectionLotHoldsStock,
)
@transaction
def post_transfer(session: Session, actor: Actor, data: dict[str, Any]) -> queries.DocumentView:
    """Move stock between two warehouses of one company."""
    return _post_document(session, actor, data, lambda: services.book_transfer(session, actor, **data))


@blp.route("/adjustments", methods=["POST"])
@blp.arguments(s.AdjustmentIn)
@blp.response(201, s.DocumentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    ClerkNotOfWarehouse, RoleNotAllowed, NotFound, InsufficientStock, PeriodClosed, DatedAfterBusinessDay,
    BatchRequired,
    IdempotencyKeyReused, InvalidQuantity, NoStandardPrice,
)
@transaction
def post_adjustment(session: Session, actor: Actor, data: dict[str, Any]) -> queries.DocumentView:
    """Correct stock to a count, or scrap it, with a reason (cost accountants, quality)."""
    return _post_document(session, actor, data, lambda: services.book_adjustment(session, actor, **data))


@blp.route("/documents/<bigint:document_id>", methods=["GET"])
@blp.response(200, s.DocumentOut)
@blp.refuses(NotFound)
@transaction
def get_document(session: Session, actor: Actor, document_id: int) -> queries.DocumentView:
    """A stock document with its ledger rows and journal lines."""
    return queries.get_document(session, actor, document_id)


@blp.route("/stock", methods=["GET"])
@blp.arguments(s.StockQuery, location="query")
@blp.response(200, s.StockRowOut(many=True))
@blp.paginate()
def get_stock(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """On-hand quantity and value at standard, grouped as asked, now or as of a date."""
    return paged(pagination_parameters, queries.stock_on_hand, **query)


@blp.route("/movements", methods=["GET"])
@blp.arguments(s.MovementQuery, location="query")
@blp.response(200, s.MovementRowOut(many=True))
@blp.paginate()
def get_movements(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Stock ledger rows, oldest first, with filters."""
    return paged(pagination_parameters, queries.movement_history, **query)


@blp.route("/batches/<int:batch_id>/flow", methods=["GET"])
@blp.response(200, s.BatchFlowOut)
@blp.refuses(NotFound)
@transaction
def get_batch_flow(session: Session, actor: Actor, batch_id: int) -> queries.BatchFlow:
    """Where a batch came from and where every unit went."""
    return queries.batch_flow(session, actor, batch_id)


@blp.route("/batches/lookup", methods=["GET"])
@blp.arguments(s.BatchLookup, location="query")
@blp.response(200, s.BatchFlowOut)
@blp.refuses(NotFound)
@transaction
def lookup_batch_flow(session: Session, actor: Actor, query: dict[str, Any]) -> queries.BatchFlow:
    """The flow of a batch found by material and batch number."""
    return queries.batch_flow(session, actor, queries.find_batch(session, actor, **query))


@blp.route("/lines-open-for-receipt", methods=["GET"])
@blp.arguments(s.LinesOpenForReceiptQuery, location="query")
@blp.response(200, s.LineOpenForReceiptOut(many=True))
@blp.paginate()
def get_lines_open_for_receipt(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Purchase order lines open for receipt in the caller's warehouses, with the quantity still due."""
    return paged(pagination_parameters, queries.lines_open_for_receipt, **query)


@blp.route("/receivable-lines", methods=["GET"])
@blp.arguments(s.LinesOpenForReceiptQuery, location="query")
@blp.response(200, s.LineOpenForReceiptOut(many=True))
@blp.paginate()
@blp.doc(deprecated=True)
def get_receivable_lines(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """The same as ``/lines-open-for-receipt``, by its earlier name ("receivable" belongs to
    accounts receivable); kept for existing clients."""
    return paged(pagination_parameters, queries.lines_open_for_receipt, **query)
