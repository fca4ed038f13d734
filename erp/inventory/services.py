"""Stock postings: receipts, quality decisions, returns, issues, transfers, adjustments,
shipments and reversals.

Each function is one use case and runs inside the caller's transaction. Quantity and value
are updated in the same transaction as the ledger row and the journal entry, so stock is
current at every moment. Locks, in the order they are taken: the purchase order line (for
receipts), the company's accounting period (key share), then balance rows in FEFO order.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, ParamSpec

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.close import allocated_on_no_material
from erp.costing.models import VarianceAllocation
from erp.errors import NotFound, ValidationFailed
from erp.clock import refuse_after_business_day, refuse_before_source
from erp.messages import N_, Message, Named
from erp.inventory.errors import (
    AlreadyReversed,
    BatchDatesMismatch,
    BatchExpired,
    BatchNotApplicable,
    BatchRequired,
    ClerkNotOfWarehouse,
    InsufficientStock,
    InvalidBatchDates,
    InvalidQuantity,
    IssueNeedsProductionOrder,
    NotReversible,
    OrderNotOpen,
    OutsideContractValidity,
    OverReceipt,
    ReturnExceedsShipment,
    ShortRemainingShelfLife,
    StockNotReleased,
    StorageConditionsNotMet,
    WarehouseNotOfCompany,
)
from erp.masterdata.models import Material, MaterialType, Warehouse
from erp.masterdata.services import MaterialFacts, WarehouseFacts, can_store, material_and_warehouse_facts
from erp.db import require_amount_fits
from erp.money import round_money
from erp.inventory.queries import DocumentView
from erp.posting import (
    Document, Line, Movement, Posted, Posting, entry_of_document, lock_open_period, negated_lines, post,
    price_for_posting,
)
from erp.period import Period
from erp.posting.periods import latest_closed_period
from erp.posting.models import (
    NO_BATCH,
    Batch,
    CloseClass,
    MovementType,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
)
from erp.posting.stock import (
    HeldStock,
    available_on,
    find_or_create_batch,
    lock_balances,
    lock_stock,
    lock_transfer_route,
    value_taken,
)
from erp.purchasing import receiving
from erp.quality import services as quality
from erp.quality.models import LotOrigin
from erp.purchasing.models import OPEN_FOR_RECEIPT_STATUSES
from erp.narration import REASON_LENGTH, narrate

HUNDRED = Decimal("100")
# What a module above the warehouse that owns a kind of stock document (by its
# ``destination``: production orders) checks before the document is reversed: it raises to
# refuse, and takes the locks that keep its rule true until commit. The production module
# registers one for issues to its orders (``register_reversal_guard``).
ReversalGuard = Callable[[Session, StockDocument], None]
_REVERSAL_GUARDS: dict[str, ReversalGuard] = {}
QUANTITY_STEP = Decimal("0.0001")
ADJUSTING_ROLES = (Role.COST_ACCOUNTANT, Role.QUALITY)


class IssueDestination(StrEnum):
    """Where issued stock is consumed, and so which account bears it."""

    PRODUCTION = "production"
    COST_CENTER = "cost_center"


class AdjustmentKind(StrEnum):
    COUNT = "count"  # a stock count found more or less than the books
    SCRAP = "scrap"  # damaged, expired or rejected stock destroyed


ISSUE_ACCOUNT = {IssueDestination.PRODUCTION: accounts.PRODUCTION, IssueDestination.COST_CENTER: accounts.OVERHEAD}


@dataclass(frozen=True)
class ReceiptRequest:
    po_line_id: int
    quantity: Decimal
    posting_date: dt.date
    batch_number: str | None = None
    manufacture_date: dt.date | None = None
    expiry_date: dt.date | None = None
    warehouse_id: int | None = None
    delivery_note: str | None = None


# --- shared checks ---------------------------------------------------------------------

def _warehouse(session: Session, warehouse_id: int) -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    return warehouse


def _material(session: Session, material_id: int) -> Material:
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(Message("material {key} not found", key=material_id))
    return material


def _material_and_warehouse(session: Session, material_id: int, warehouse_id: int) -> tuple[MaterialFacts, WarehouseFacts]:
    """Both master records of a receipt, in one round trip."""
    facts = material_and_warehouse_facts(session, material_id, warehouse_id)
    if facts is None:
        _material(session, material_id)
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    return facts


def _require_warehouse(actor: Actor, warehouse: Warehouse | WarehouseFacts) -> None:
    """Refuse a caller who does not act for the warehouse (clerks: their named warehouses)."""
    if not actor.acts_for_company(warehouse.company_id):
        raise NotFound(Message("warehouse {warehouse} not found", warehouse=warehouse.code))
    if not actor.acts_for_warehouse(warehouse.id, warehouse.company_id):
        raise ClerkNotOfWarehouse(Message("you do not act for warehouse {warehouse}", warehouse=Named.of(warehouse)))


def _check_quantity(quantity: Decimal, material: Material | MaterialFacts, *, allow_negative: bool = False) -> None:
    if quantity == 0 or (quantity < 0 and not allow_negative):
        message = Message("the quantity must not be zero, got {quantity}", quantity=quantity) if allow_negative \
            else Message("the quantity must be positive, got {quantity}", quantity=quantity)
        raise InvalidQuantity(message, errors=[{"pointer": "/quantity", "detail": message}])
    if not material.unit.admits(quantity):
        message = Message("material {material} is counted in {unit} with {decimals} decimal places; got {quantity}",
                          material=Named.of(material), unit=material.unit.code, decimals=material.unit.decimals,
                          quantity=quantity)
        raise InvalidQuantity(message, errors=[{"pointer": "/quantity", "detail": message}])


def _check_storage(warehouse: Warehouse | WarehouseFacts, material: Material | MaterialFacts) -> None:
    ok, why = can_store(warehouse, material)
    if not ok:
        raise StorageConditionsNotMet(why)


def _check_batch_for_receipt(
    material: Material | MaterialFacts, request: ReceiptRequest, *, min_remaining_days: int
) -> None:
    """Batch-managed materials need a batch with plausible dates and enough shelf life left."""
    if not material.batch_managed:
        if request.batch_number is not None or request.manufacture_date or request.expiry_date:
            raise BatchNotApplicable(Message("material {material} is not batch-managed; send no batch or dates",
                                             material=Named.of(material)))
        return
    if not request.batch_number or request.manufacture_date is None or request.expiry_date is None:
        missing = [name for name, value in (("batch_number", request.batch_number),
                                            ("manufacture_date", request.manufacture_date),
                                            ("expiry_date", request.expiry_date)) if not value]
        raise BatchRequired(
            Message("material {material} is batch-managed: batch number, manufacture date and expiry date are "
                    "required", material=Named.of(material)),
            errors=[{"pointer": f"/{name}", "detail": Message("required for a batch-managed material")}
                    for name in missing],
        )
    if request.expiry_date <= request.manufacture_date:
        message = Message("expiry date {expiry} is not after manufacture date {made}",
                          expiry=request.expiry_date, made=request.manufacture_date)
        raise InvalidBatchDates(message, errors=[{"pointer": "/expiry_date", "detail": message}])
    if material.shelf_life_days is not None and (
            request.expiry_date > request.manufacture_date + dt.timedelta(days=material.shelf_life_days)):
        latest = request.manufacture_date + dt.timedelta(days=material.shelf_life_days)
        message = Message("expiry date {expiry} is later than manufacture date {made} plus the shelf life of "
                          "{material} ({days} days): at the latest {latest}", expiry=request.expiry_date,
                          made=request.manufacture_date, material=Named.of(material),
                          days=material.shelf_life_days, latest=latest)
        raise InvalidBatchDates(message, errors=[{"pointer": "/expiry_date", "detail": message}])
    if request.manufacture_date > request.posting_date:
        message = Message("manufacture date {made} is after the receipt date", made=request.manufacture_date)
        raise InvalidBatchDates(message, errors=[{"pointer": "/manufacture_date", "detail": message}])
    if request.expiry_date <= request.posting_date:
        message = Message("batch {batch} expired on {expiry}", batch=request.batch_number, expiry=request.expiry_date)
        raise BatchExpired(message, errors=[{"pointer": "/expiry_date", "detail": message}])
    minimum = (
        material.min_remaining_shelf_life_days
        if material.min_remaining_shelf_life_days is not None
        else min_remaining_days
    )
    remaining = (request.expiry_date - request.posting_date).days
    if remaining < minimum:
        message = Message("batch {batch} has {remaining} days of shelf life left; material {material} needs at "
                          "least {minimum}", batch=request.batch_number, remaining=remaining,
                          material=Named.of(material), minimum=minimum)
        raise ShortRemainingShelfLife(message, errors=[{"pointer": "/expiry_date", "detail": message}])


def _check_receipt_date(line: receiving.OrderLineForReceipt, day: dt.date) -> None:
    """A receipt is dated on or after its order and within its contract's validity (the
    contract price it takes is the price of those days), and not after the business day."""
    refuse_after_business_day(day, field="posting_date", what=N_("a goods receipt"))
    refuse_before_source(day, line.order_date, field="posting_date", what=N_("a goods receipt"),
                         source=N_("purchase order"), source_name=line.order_number)
    if not line.valid_from <= day <= line.valid_to:
        message = Message("a goods receipt dated {day} is outside contract {contract}'s validity ({valid_from} to "
                          "{valid_to}): its price is not the contract's on that day", day=day,
                          contract=line.contract_number, valid_from=line.valid_from, valid_to=line.valid_to)
        raise OutsideContractValidity(message, errors=[{"pointer": "/posting_date", "detail": message}])


def _inventory_account(material: Material | MaterialFacts) -> str:
    return accounts.INVENTORY_ACCOUNT[MaterialType(material.material_type)]


def _take(
    session: Session, company_id: int, held: Sequence[HeldStock], quantity: Decimal, price: Decimal, day: dt.date
) -> list[tuple[HeldStock, Decimal, Decimal]]:
    """Split ``quantity`` over the held balances in order: (balance, quantity, value) pieces.

    A posting dated ``day`` takes only what each balance holds on that day and every later
    day with movements, so a backdated posting cannot make the stock negative on any date.
    """
    pieces: list[tuple[HeldStock, Decimal, Decimal]] = []
    remaining = quantity
    for balance in held:
        if remaining <= 0:
            break
        taken = min(available_on(session, balance, day), remaining)
        if taken <= 0:
            continue
        pieces.append((balance, taken, value_taken(session, company_id, balance, taken, price, day)))
        remaining -= taken
    if remaining > 0:
        available = quantity - remaining
        raise InsufficientStock(Message("only {available} available on {day}, {quantity} requested",
                                        available=available, day=day, quantity=quantity),
                                available=str(available))
    return pieces


# --- receipts ------------------------------------------------------------------------------

def receive_goods(
    session: Session, actor: Actor, request: ReceiptRequest, *, min_remaining_days: int = 30
) -> int:
    """Book goods received against a purchase order line at the contract price; returns the
    receipt document's id (``book_receipt`` gives the whole receipt)."""
    return book_receipt(session, actor, request, min_remaining_days=min_remaining_days).document_id


def book_receipt(
    session: Session, actor: Actor, request: ReceiptRequest, *, min_remaining_days: int = 30
) -> DocumentView:
    """Book goods received against a purchase order line at the contract price; returns the
    receipt as posted: its document, ledger row and journal lines, built from what the
    posting wrote (the same view as ``queries.get_document``, without reading it back).

    Stock enters at standard (quarantine when the material needs inspection); the journal
    debits inventory at standard, credits goods-received-not-invoiced at the contract price
    and puts the difference on the material cost variance account (材料成本差异).
    """
    actor.require_role(Role.CLERK, action="booking goods receipts")
    line = receiving.lock_line_for_receipt(session, request.po_line_id)
    if not actor.acts_for_company(line.receiving_company_id):
        raise NotFound(Message("purchase order line {key} not found", key=request.po_line_id))
    if line.order_status not in OPEN_FOR_RECEIPT_STATUSES:
        raise OrderNotOpen(Message("order {order} is {status}; goods can be received only on open orders",
                                         order=line.order_number, status=line.order_status))
    material, warehouse = _material_and_warehouse(session, line.material_id, request.warehouse_id or line.warehouse_id)
    if warehouse.company_id != line.receiving_company_id:
        raise WarehouseNotOfCompany(Message("warehouse {warehouse} does not belong to the order's receiving company",
                                            warehouse=Named.of(warehouse)))
    _require_warehouse(actor, warehouse)
    _check_receipt_date(line, request.posting_date)
    _check_quantity(request.quantity, material)
    _check_storage(warehouse, material)
    open_quantity = receiving.open_for_receipt(line.quantity, line.received_quantity,
                                               material.over_receipt_tolerance_pct)
    if request.quantity > open_quantity:
        still_open = open_quantity.quantize(QUANTITY_STEP)
        message = Message("ordered {ordered}, already received {received}; receiving {quantity} would exceed the "
                          "{tolerance}% tolerance (at most {still_open} more)", ordered=line.quantity,
                          received=line.received_quantity, quantity=request.quantity,
                          tolerance=material.over_receipt_tolerance_pct, still_open=still_open)
        raise OverReceipt(message, errors=[{"pointer": "/quantity", "detail": message}],
                          open_quantity=str(still_open))
    _check_batch_for_receipt(material, request, min_remaining_days=min_remaining_days)

    company_id = line.receiving_company_id
    _, price = price_for_posting(session, company_id, material.id, request.posting_date)
    batch_id, made, expires = find_or_create_batch(
        session, material_id=material.id, batch_number=request.batch_number if material.batch_managed else None,
        manufacture_date=request.manufacture_date, expiry_date=request.expiry_date, supplier_id=line.supplier_id,
    )
    if material.batch_managed and (made, expires) != (request.manufacture_date, request.expiry_date):
        message = Message("batch {batch} of {material} is recorded as made {made}, expiring {expiry}",
                          batch=request.batch_number, material=Named.of(material), made=made, expiry=expires)
        raise BatchDatesMismatch(message, errors=[{"pointer": "/manufacture_date", "detail": message}])

    standard_value = require_amount_fits(round_money(request.quantity * price), field="quantity",
                                         what=N_("the receipt's value at standard"))
    contract_value = require_amount_fits(round_money(request.quantity * line.unit_price), field="quantity",
                                         what=N_("the receipt's value at the contract price"))
    price_variance = contract_value - standard_value
    status = StockStatus.QUARANTINE if material.inspection_required else StockStatus.UNRESTRICTED
    posting, posted = _write_document(
        session, doc_type=MovementType.RECEIPT, company_id=company_id, posting_date=request.posting_date,
        user_id=actor.user_id, po_line_id=line.line_id, supplier_id=line.supplier_id,
        unit_price=line.unit_price, standard_price=price, delivery_note=request.delivery_note,
        reference=line.order_number,
        movements=[Movement(MovementType.RECEIPT, CloseClass.RECEIPT, warehouse.id, material.id, batch_id,
                            status, request.quantity, standard_value, price_variance)],
        memo=narrate("goods-receipt", order=line.order_number),
        journal=[
            Line(_inventory_account(material), standard_value, material.id),
            Line(accounts.MATERIAL_COST_VARIANCE, price_variance, material.id),
            Line(accounts.GOODS_RECEIVED_NOT_INVOICED, -contract_value),
        ],
    )
    document_id = posted.document_id
    assert document_id is not None
    receiving.register_received_quantity(session, line, request.quantity)
    if status == StockStatus.QUARANTINE:
        quality.open_lot(session, origin=LotOrigin.RECEIPT, company_id=company_id, warehouse_id=warehouse.id,
                         material_id=material.id, batch_id=batch_id, quantity=request.quantity,
                         inspection_date=request.posting_date, source_document_id=document_id,
                         user_id=actor.user_id)
    batch_number = request.batch_number if material.batch_managed else NO_BATCH
    return posted_view(posting, posted, {(warehouse.id, material.id, batch_id): (warehouse.code, material.code,
                                                                                 batch_number)})


def register_reversal_guard(destination: str, guard: ReversalGuard) -> None:
    """Have ``guard`` check every reversal of a document posted to ``destination``."""
    _REVERSAL_GUARDS[destination] = guard


def _document(session: Session, actor: Actor, document_id: int, doc_type: MovementType) -> StockDocument:
    """The document to reverse (404 unless the caller acts for its company; not-reversible
    when of another kind; already-reversed). The use case asks ``_refuse_reversed`` again
    once it holds the lock that queues the document's reversals: this first answer names a
    reversal committed long ago before any other refusal (a closed period, a date), but
    cannot see one that commits while the use case waits on its lock."""
    document = session.get(StockDocument, document_id)
    if document is None or not actor.acts_for_company(document.company_id):
        raise NotFound(Message("stock document {key} not found", key=document_id))
    if document.doc_type != doc_type:
        raise NotReversible(Message("document {document} is a {kind}, not a {expected}", document=document.number,
                                    kind=document.doc_type, expected=doc_type))
    _refuse_reversed(session, document)
    return document


def _refuse_reversed(session: Session, document: StockDocument) -> None:
    """Refuse ``already-reversed`` when a reversal of ``document`` exists. Read once the use
    case holds the lock every reversal of the document takes (a receipt's order line, an
    issue's balance rows): read before it, a reversal committed while this one waited went
    unseen, and the second reversal was refused insufficient-stock (its goods gone) or did
    all its work to fail on the unique key of ``reverses_document_id`` at the end
    (tests/service/test_stale_reversal_checks.py)."""
    reversed_by = session.scalar(
        select(StockDocument.number).where(StockDocument.reverses_document_id == document.id)
    )
    if reversed_by is not None:
        raise AlreadyReversed(Message("document {document} was reversed by document {reversal}",
                                      document=document.number, reversal=reversed_by))


def document_number_of(session: Session, document_id: int) -> str:
    """A stock document's number (what refusals name it by)."""
    return session.scalar(select(StockDocument.number).where(StockDocument.id == document_id)) or str(document_id)


def _document_movements(session: Session, document_id: int) -> list[StockMovement]:
    return list(session.scalars(select(StockMovement).where(StockMovement.document_id == document_id)
                                .order_by(StockMovement.id)))


def _post_document(session: Session, **fields: Any) -> int:
    """Post a stock document through erp.posting; returns the document's id."""
    _, posted = _write_document(session, **fields)
    assert posted.document_id is not None
    return posted.document_id


P = ParamSpec("P")


def _returning_id(book: Callable[P, DocumentView]) -> Callable[P, int]:
    """The posting ``book`` answering with the document's id only (what other modules, the
    demo and the benchmarks keep), under the same arguments and rules."""
    @functools.wraps(book)
    def post(*args: P.args, **kwargs: P.kwargs) -> int:
        return book(*args, **kwargs).document_id

    post.__doc__ = f"As ``{book.__name__}``, returning the document's id."
    return post


def _write_view(session: Session, codes: Mapping[tuple[int, int, int], tuple[str, str, str]],
                **fields: Any) -> DocumentView:
    """Post a stock document through erp.posting; returns it as posted (``posted_view``: the
    document a fresh read shows, built from what the posting wrote, nothing read back)."""
    posting, posted = _write_document(session, **fields)
    return posted_view(posting, posted, codes)


def _write_document(
    session: Session,
    *,
    doc_type: MovementType,
    company_id: int,
    posting_date: dt.date,
    user_id: int,
    movements: Sequence[Movement],
    journal: Sequence[Line] = (),
    memo: str = "",
    reverses_entry_id: int | None = None,
    **document_fields: object,
) -> tuple[Posting, Posted]:
    """Post a stock document through erp.posting; returns the posting and what it wrote."""
    posting = Posting(
        company_id=company_id, posting_date=posting_date, user_id=user_id,
        document=Document(doc_type, **document_fields),  # type: ignore[arg-type]
        movements=movements, journal=journal, memo=memo, reverses_entry_id=reverses_entry_id,
    )
    return posting, post(session, posting)


def posted_view(posting: Posting, posted: Posted,
                codes: Mapping[tuple[int, int, int], tuple[str, str, str]]) -> DocumentView:
    """A document just posted as ``queries.get_document`` shows it, from the posting and what
    ``post`` returned (ids, instant, journal lines written), not read back; ``codes`` gives
    the warehouse code, material code and batch number of each (warehouse, material, batch)
    the movements touch. Nothing can have reversed it yet (a reversal needs it committed)."""
    assert posting.document is not None and posted.document_id is not None and posted.created_at is not None
    document = {**vars(posting.document), "id": posted.document_id, "company_id": posting.company_id,
                "posting_date": posting.posting_date, "period": Period.of(posting.posting_date),
                "created_by": posting.user_id, "created_at": posted.created_at}
    movements = []
    for movement_id, m in zip(posted.movement_ids, posting.movements, strict=True):
        warehouse_code, material_code, batch_number = codes[(m.warehouse_id, m.material_id, m.batch_id)]
        movements.append({
            "id": movement_id, "movement_type": m.movement_type, "warehouse_id": m.warehouse_id,
            "warehouse_code": warehouse_code, "material_id": m.material_id, "material_code": material_code,
            "batch_id": m.batch_id, "batch_number": batch_number, "status": m.status, "quantity": m.quantity,
            "value": m.value, "variance": m.variance_carried, "offset_account": m.offset_account})
    journal = [{"entry_id": posted.entry_id, "account_code": line.account, "amount": line.amount,
                "material_id": line.material_id} for line in posted.lines]
    return DocumentView(document, movements, journal, None)


def book_receipt_reversal(
    session: Session, actor: Actor, *, document_id: int, posting_date: dt.date, reason: str
) -> DocumentView:
    """Reverse a receipt while its goods are still where they arrived (in quarantine, or
    released); the order line's received quantity goes down by the same amount. Returns the
    reversal as posted (``posted_view``)."""
    actor.require_role(Role.CLERK, action="reversing goods receipts")
    receipt = _document(session, actor, document_id, MovementType.RECEIPT)
    assert receipt.po_line_id is not None
    line = receiving.lock_line_for_receipt(session, receipt.po_line_id)
    # Under the line's lock, which another reversal and a return to the supplier take too: one
    # that committed while this waited is seen here (read before, the stock check below
    # refused instead, for goods that were not there, or a second reversal was posted).
    _refuse_reversed(session, receipt)
    returned = _returned_quantity(session, receipt.id)
    if returned:
        # All of it back with the supplier: nothing is left to correct (trial T2); part of it:
        # the rest goes back by a return too.
        received = session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                  .where(StockMovement.document_id == receipt.id))
        if returned >= Decimal(received or 0):
            raise NotReversible(Message("all of receipt {receipt} went back to the supplier; nothing is left to reverse",
                                        receipt=receipt.number))
        raise NotReversible(Message("part of receipt {receipt} went back to the supplier; return the rest instead",
                                    receipt=receipt.number))
    (arrival,) = _document_movements(session, document_id)
    _require_warehouse(actor, _warehouse(session, arrival.warehouse_id))
    _not_before(receipt, posting_date)
    _, price = price_for_posting(session, receipt.company_id, arrival.material_id, posting_date)
    # Wherever the receipt's goods stand now in its warehouse: still in quarantine, released
    # in part or whole, or blocked; in the order the receipt put them there, then released,
    # then blocked (a fixed lock order).
    statuses = [arrival.status] + [s for s in (StockStatus.UNRESTRICTED, StockStatus.BLOCKED) if s != arrival.status]
    places = {status: (arrival.warehouse_id, arrival.material_id, status, arrival.batch_id) for status in statuses}
    # All three in one statement, in the one lock order; then read again under the locks
    # (``reread``): quality's decision or an excursion's hold that committed while this
    # waited may have moved the goods into a status the batch had no row of here, which the
    # first statement cannot see (the receipt was then refused, its goods all there).
    locked = lock_stock(session, places.values(), reread=True)
    held = [balance for status in statuses for balance in locked[places[status]]]
    there = sum((h.quantity for h in held), Decimal("0"))
    if there < arrival.quantity:
        raise InsufficientStock(Message(
            "receipt {receipt} brought {quantity} into {warehouse}; only {there} of its batch are still there "
            "(in quarantine, unrestricted or blocked): a receipt can be reversed only while all its goods are; "
            "return the rest to the supplier instead", receipt=receipt.number, quantity=arrival.quantity,
            warehouse=Named.of(_warehouse(session, arrival.warehouse_id)), there=there), available=str(there))
    view = _send_back(session, actor, receipt, line, held, arrival.quantity,
                      doc_type=MovementType.RECEIPT_REVERSAL, posting_date=posting_date, price=price,
                      reason=reason, reverses_document_id=receipt.id)
    why = f"receipt {receipt.number} reversed: {reason}"
    # Its lot goes with its goods only while both are still where they arrived: a lot that moved
    # with a whole transfer stays on those goods (in the other warehouse), and the goods taken
    # here were then another receipt's.
    quality.cancel_lots_of_document(session, actor, receipt.id, reason=why, warehouse_id=arrival.warehouse_id)
    if arrival.status == StockStatus.QUARANTINE:
        # No open lot here may go on covering quarantined goods that left (another receipt's lot
        # when this one's moved away or was decided).
        left = sum((h.quantity for h in lock_balances(
            session, warehouse_id=arrival.warehouse_id, material_id=arrival.material_id,
            status=StockStatus.QUARANTINE, batch_id=arrival.batch_id)), Decimal("0"))
        quality.reduce_open_lots(session, actor, warehouse_id=arrival.warehouse_id, batch_id=arrival.batch_id,
                                 left_in_quarantine=left, reason=why)
    return view


reverse_receipt = _returning_id(book_receipt_reversal)


def _not_before(original: StockDocument, posting_date: dt.date) -> None:
    """A correction cannot be dated before the document it corrects."""
    if posting_date < original.posting_date:
        raise NotReversible(Message("document {document} was posted on {posted}; its correction cannot be dated {day}",
                                    document=original.number, posted=original.posting_date, day=posting_date))


def _returned_quantity(session: Session, receipt_id: int) -> Decimal:
    returned = session.scalar(
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.source_document_id == receipt_id,
               StockDocument.doc_type == MovementType.RETURN_TO_SUPPLIER)
    )
    return -Decimal(returned or 0)


def _receipt_taken_back(session: Session, receipt: StockDocument) -> tuple[Decimal, Decimal, Decimal]:
    """A receipt's quantity, what of it went back to the supplier so far, and the contract
    value those returns took off goods-received-not-invoiced (each return's quantity x the
    contract price, rounded; the last return takes what is left)."""
    assert receipt.unit_price is not None
    received = session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                              .where(StockMovement.document_id == receipt.id))
    returns = session.execute(
        select(StockDocument.id, -func.sum(StockMovement.quantity))
        .join(StockMovement, StockMovement.document_id == StockDocument.id)
        .where(StockDocument.source_document_id == receipt.id,
               StockDocument.doc_type == MovementType.RETURN_TO_SUPPLIER)
        .group_by(StockDocument.id)
    ).all()
    returned = sum((Decimal(q) for _, q in returns), Decimal("0"))
    value = sum((round_money(Decimal(q) * receipt.unit_price) for _, q in returns), Decimal("0"))
    return Decimal(received), returned, value


def _send_back(
    session: Session,
    actor: Actor,
    receipt: StockDocument,
    line: receiving.OrderLineForReceipt,
    held: Sequence[HeldStock],
    quantity: Decimal,
    *,
    doc_type: MovementType,
    posting_date: dt.date,
    price: Decimal,
    reason: str,
    **document_fields: object,
) -> DocumentView:
    """Take received goods out of stock against their supplier (a reversal or a return),
    from the balances ``held`` in order: goods-received-not-invoiced back at the contract
    price, inventory at the value the goods leave with, the difference off the variance
    account; the order line is open again for the quantity.

    The goods leave at the standard price in force on the posting date (the stock was
    restated if the standard changed since the receipt); the last of a balance takes all
    that is left of its value (see ``value_taken``).
    """
    assert receipt.unit_price is not None
    material = _material(session, held[0].material_id)
    pieces = _take(session, receipt.company_id, held, quantity, price, posting_date)
    taken = sum((q for _, q, _ in pieces), Decimal("0"))
    value = sum((v for _, _, v in pieces), Decimal("0"))
    contract_value = round_money(taken * receipt.unit_price)
    received, returned, returned_value = _receipt_taken_back(session, receipt)
    if returned + taken == received:
        # The last of the receipt goes back: goods-received-not-invoiced takes exactly what the
        # receipt credited less what earlier returns took, so returning a receipt in parts
        # undoes it to the cent (each part rounds on its own).
        contract_value = round_money(received * receipt.unit_price) - returned_value
    price_variance = contract_value - value
    movements = []
    variance_left = price_variance
    for number, (balance, piece_quantity, piece_value) in enumerate(pieces, start=1):
        # Each ledger row carries its own share of the variance; the last takes what is left,
        # so the rows add up to the journal's variance line to the cent.
        piece_variance = (variance_left if number == len(pieces)
                          else round_money(piece_quantity * receipt.unit_price) - piece_value)
        variance_left -= piece_variance
        movements.append(Movement(doc_type, CloseClass.RECEIPT, balance.warehouse_id, balance.material_id,
                                  balance.batch_id, balance.status, -piece_quantity, -piece_value, -piece_variance))
    codes = {(balance.warehouse_id, balance.material_id, balance.batch_id):
             (_warehouse(session, balance.warehouse_id).code, material.code, balance.batch_number)
             for balance, _, _ in pieces}
    view = _write_view(
        session, codes, doc_type=doc_type, company_id=receipt.company_id, posting_date=posting_date,
        user_id=actor.user_id, po_line_id=receipt.po_line_id, supplier_id=receipt.supplier_id,
        unit_price=receipt.unit_price, standard_price=price, reference=receipt.reference,
        reason=reason, **document_fields,
        movements=movements,
        memo=narrate("receipt-reversal" if doc_type == MovementType.RECEIPT_REVERSAL else "receipt-return",
                     receipt=receipt.number, reason=reason),
        journal=[
            Line(accounts.GOODS_RECEIVED_NOT_INVOICED, contract_value),
            Line(_inventory_account(material), -value, material.id),
            Line(accounts.MATERIAL_COST_VARIANCE, -price_variance, material.id),
        ],
    )
    receiving.register_received_quantity(session, line, -taken)
    return view


# --- quality ------------------------------------------------------------------------------

class QualityDecision(StrEnum):
    RELEASE = "release"
    REJECT = "reject"


def book_quality_decision(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    batch_id: int,
    decision: QualityDecision,
    posting_date: dt.date,
    quantity: Decimal | None = None,
    reason: str | None = None,
) -> DocumentView:
    """Release quarantined stock to unrestricted, or reject it to blocked (quality users).
    Never a release of a material that needs inspection: that is QA's signed usage
    decision on its inspection lot (erp.quality; inspection-lot-open, signed-release-required).
    Returns the decision's document as posted (``posted_view``)."""
    actor.require_role(Role.QUALITY, action="releasing or rejecting quarantined stock")
    warehouse = _warehouse(session, warehouse_id)
    _require_warehouse(actor, warehouse)
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(Message("batch {key} not found", key=batch_id))
    material = _material(session, batch.material_id)
    _, price = price_for_posting(session, warehouse.company_id, material.id, posting_date)
    target = StockStatus.UNRESTRICTED if decision == QualityDecision.RELEASE else StockStatus.BLOCKED
    # Both ends of the move in one statement (an excursion's hold moves the other way); then
    # read again under the locks (``reread``): a hold that committed while this waited moved
    # stock into a quarantine row the first statement could not see (a reject was refused
    # "nothing in quarantine").
    here = (warehouse.id, material.id, StockStatus.QUARANTINE, batch.id)
    held = lock_stock(session, [here, (warehouse.id, material.id, target, batch.id)], reread=True)[here]
    if decision == QualityDecision.RELEASE:
        # Under the locks: a hold committed meanwhile opened its excursion's lot on what it
        # put into quarantine, which only QA's signed decision releases.
        quality.require_signed_release(session, material=material, warehouse_id=warehouse.id, batch_id=batch.id)
    in_quarantine = sum((h.quantity for h in held), Decimal("0"))
    wanted = in_quarantine if quantity is None else quantity
    if wanted <= 0:
        raise InsufficientStock(Message("batch {batch} has nothing in quarantine in {warehouse}",
                                        batch=batch.batch_number, warehouse=Named.of(warehouse)))
    _check_quantity(wanted, material)
    pieces = _take(session, warehouse.company_id, held, wanted, price, posting_date)
    doc_type = MovementType.QUALITY_RELEASE if decision == QualityDecision.RELEASE else MovementType.QUALITY_REJECT
    movements: list[Movement] = []
    for balance, taken, value in pieces:
        movements.append(Movement(doc_type, CloseClass.INTERNAL, warehouse.id, material.id, balance.batch_id,
                                  StockStatus.QUARANTINE, -taken, -value))
        movements.append(Movement(doc_type, CloseClass.INTERNAL, warehouse.id, material.id, balance.batch_id,
                                  target, taken, value))
    if decision == QualityDecision.REJECT:
        # Rejected by a plain decision: what a lot held and is gone is no longer its to decide.
        quality.reduce_open_lots(session, actor, warehouse_id=warehouse.id, batch_id=batch.id,
                                 left_in_quarantine=in_quarantine - sum((taken for _, taken, _ in pieces), Decimal("0")),
                                 reason=narrate("quarantine-rejected", REASON_LENGTH, reason=reason or "-"))
    # value stays on the same inventory account: no journal entry
    codes = {(warehouse.id, material.id, balance.batch_id): (warehouse.code, material.code, balance.batch_number)
             for balance, _, _ in pieces}
    return _write_view(
        session, codes, doc_type=doc_type, company_id=warehouse.company_id, posting_date=posting_date,
        user_id=actor.user_id, reason=reason, movements=movements,
    )


decide_quarantine = _returning_id(book_quality_decision)


def book_return(
    session: Session,
    actor: Actor,
    *,
    receipt_document_id: int,
    posting_date: dt.date,
    reason: str,
    quantity: Decimal | None = None,
) -> DocumentView:
    """Send goods of a receipt back to its supplier, in whole or in part, reversing the
    receipt's value at its contract price: goods-received-not-invoiced at the contract
    price, inventory at the stock's value, the difference off the variance account. The
    order line is open again for the returned quantity (the supplier owes a replacement).

    The goods come from the receipt's batch in its warehouse: blocked stock first (rejected
    by quality, or blocked with a reason), then unrestricted stock (released goods found
    wanting later: the return itself records why), never quarantined stock (quality decides
    on it first). 100 kg received at 12.00 against a standard of 10.00, 30 kg returned:
    Dr 2202.01 360.00, Cr 1403 300.00, Cr 1404 60.00. Refuses ``insufficient-stock`` when
    more is asked than the receipt has left to return or than its batch holds there. Returns
    the return as posted (``posted_view``)."""
    actor.require_role(Role.CLERK, Role.QUALITY, action="returning goods to suppliers")
    receipt = session.get(StockDocument, receipt_document_id)
    if receipt is None or not actor.acts_for_company(receipt.company_id):
        raise NotFound(Message("stock document {key} not found", key=receipt_document_id))
    if receipt.doc_type != MovementType.RECEIPT:
        raise NotReversible(Message("document {document} is not a goods receipt", document=receipt.number))
    assert receipt.po_line_id is not None and receipt.unit_price is not None
    line = receiving.lock_line_for_receipt(session, receipt.po_line_id)
    # Under the line's lock, which a reversal takes too: a reversal committed while this
    # waited is seen (read before, the return went on to take another receipt's goods of the
    # batch, or refused for want of stock).
    if session.scalar(select(StockDocument.id).where(StockDocument.reverses_document_id == receipt.id)):
        raise AlreadyReversed(Message("receipt {receipt} has been reversed", receipt=receipt.number))
    (arrival,) = _document_movements(session, receipt.id)
    warehouse = _warehouse(session, arrival.warehouse_id)
    _require_warehouse(actor, warehouse)
    material = _material(session, arrival.material_id)
    returnable = arrival.quantity - _returned_quantity(session, receipt.id)
    _not_before(receipt, posting_date)
    _, price = price_for_posting(session, receipt.company_id, material.id, posting_date)
    places = {status: (warehouse.id, material.id, status, arrival.batch_id)
              for status in (StockStatus.BLOCKED, StockStatus.UNRESTRICTED)}
    # Both in one statement, in the one lock order; then read again under the locks
    # (``reread``): expired stock blocked (block_expired) while this waited went into a
    # blocked row the first statement could not see (the return was then refused).
    locked = lock_stock(session, places.values(), reread=True)
    held = [balance for place in places.values() for balance in locked[place]]
    there = sum((h.quantity for h in held), Decimal("0"))
    wanted = min(returnable, there) if quantity is None else quantity
    # Without a quantity, whatever can go back goes: refused only when nothing can.
    short = there <= 0 < returnable if quantity is None else there < min(quantity, returnable)
    if short:
        # What is missing may still be in quarantine: that is the rule that refuses (quality
        # releases or rejects it first), not a shortage, though the goods are there.
        quarantined = _in_quarantine(session, warehouse.id, material.id, arrival.batch_id)
        if quarantined > 0:
            raise StockNotReleased(Message(
                "{quarantined} of receipt {receipt}'s batch are still in quarantine in {warehouse} (released or "
                "rejected: {there}): quality must release or reject them before they can be returned to the supplier",
                quarantined=quarantined, receipt=receipt.number, warehouse=Named.of(warehouse), there=there),
                available=str(there), in_quarantine=str(quarantined))
    if wanted <= 0:
        raise InsufficientStock(Message("nothing of receipt {receipt} is left to return from {warehouse}",
                                        receipt=receipt.number, warehouse=Named.of(warehouse)))
    _check_quantity(wanted, material)
    if wanted > returnable:
        raise InsufficientStock(Message("only {returnable} of receipt {receipt} can still be returned",
                                        returnable=returnable, receipt=receipt.number))
    if there < wanted:
        raise InsufficientStock(Message("only {there} of the batch are blocked or unrestricted in {warehouse}",
                                        there=there, warehouse=Named.of(warehouse)))
    return _send_back(session, actor, receipt, line, held, wanted, doc_type=MovementType.RETURN_TO_SUPPLIER,
                      posting_date=posting_date, price=price, reason=reason,
                      source_document_id=receipt.id)


return_to_supplier = _returning_id(book_return)


def _in_quarantine(session: Session, warehouse_id: int, material_id: int, batch_id: int | None) -> Decimal:
    """What of a material (a batch, when given) waits in quarantine in a warehouse: read to
    name the rule when an outflow finds too little released stock."""
    query = select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
        StockBalance.warehouse_id == warehouse_id, StockBalance.material_id == material_id,
        StockBalance.status == StockStatus.QUARANTINE)
    if batch_id is not None:
        query = query.where(StockBalance.batch_id == batch_id)
    return Decimal(session.scalar(query) or 0)


# --- taking stock out: issues, shipments, scrap --------------------------------------------

def _take_out(
    session: Session,
    actor: Actor,
    *,
    doc_type: MovementType,
    offset_account: str,
    warehouse: Warehouse,
    material: Material,
    quantity: Decimal,
    posting_date: dt.date,
    batch_id: int | None,
    memo: str,
    **document_fields: object,
) -> DocumentView:
    """Take unrestricted stock out first-expiry-first-out (or from a named batch), value it
    at standard and post the consumption to ``offset_account``; expired batches are skipped.
    Returns the document as posted (``posted_view``)."""
    _check_quantity(quantity, material)
    _, price = price_for_posting(session, warehouse.company_id, material.id, posting_date)
    held = lock_balances(session, warehouse_id=warehouse.id, material_id=material.id,
                         status=StockStatus.UNRESTRICTED, batch_id=batch_id)
    usable = [h for h in held if h.usable_on(posting_date)]
    if batch_id is not None and held and not usable:
        raise BatchExpired(Message("batch {batch} expired on {expiry}", batch=held[0].batch_number,
                                   expiry=held[0].expiry_date))
    try:
        pieces = _take(session, warehouse.company_id, usable, quantity, price, posting_date)
    except InsufficientStock as short:
        # Short of released stock while the rest waits in quarantine: that is the rule that
        # refuses, not a shortage (the goods are there; quality has not released them yet).
        quarantined = _in_quarantine(session, warehouse.id, material.id, batch_id)
        if quarantined <= 0:
            raise
        raise StockNotReleased(Message(
            "only {available} of {material} are released in {warehouse} on {day}; {quarantined} are still in "
            "quarantine: quality must release them before they can be taken out", available=Decimal(
                short.extensions.get("available", "0")), material=Named.of(material), warehouse=Named.of(warehouse),
            day=posting_date, quarantined=quarantined), available=short.extensions.get("available", "0"),
            in_quarantine=str(quarantined)) from short
    total = sum((value for _, _, value in pieces), Decimal("0"))
    codes = {(warehouse.id, material.id, balance.batch_id): (warehouse.code, material.code, balance.batch_number)
             for balance, _, _ in pieces}
    return _write_view(
        session, codes, doc_type=doc_type, company_id=warehouse.company_id, posting_date=posting_date,
        user_id=actor.user_id, **document_fields,
        movements=[
            Movement(doc_type, CloseClass.CONSUMPTION, warehouse.id, material.id, balance.batch_id,
                     StockStatus.UNRESTRICTED, -taken, -value, offset_account=offset_account)
            for balance, taken, value in pieces
        ],
        memo=memo,
        journal=[Line(offset_account, total, material.id), Line(_inventory_account(material), -total, material.id)],
    )


def book_issue(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    material_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    destination: IssueDestination,
    cost_center: str | None = None,
    batch_id: int | None = None,
    reference: str | None = None,
) -> DocumentView:
    """Issue unrestricted stock to production or a cost centre (FEFO unless a batch is named);
    returns the issue as posted (``posted_view``)."""
    actor.require_role(Role.CLERK, action="issuing goods")
    warehouse = _warehouse(session, warehouse_id)
    _require_warehouse(actor, warehouse)
    material = _material(session, material_id)
    if destination == IssueDestination.COST_CENTER and not cost_center:
        raise ValidationFailed.for_field("cost_center", Message("an issue to a cost centre must name it"))
    return _take_out(
        session, actor, doc_type=MovementType.ISSUE, offset_account=ISSUE_ACCOUNT[destination],
        warehouse=warehouse, material=material, quantity=quantity, posting_date=posting_date, batch_id=batch_id,
        memo=(narrate("issue-cost-center", cost_center=cost_center) if destination == IssueDestination.COST_CENTER
              else narrate("issue-production")), destination=destination.value,
        cost_center=cost_center, reference=reference,
    )


issue_goods = _returning_id(book_issue)

# Where a clerk's generic goods issue (领料出库) may go: a cost centre. Production costs are
# charged through production orders (erp.production.orders.issue_components), finding 138.
CLERK_ISSUE_DESTINATIONS = (IssueDestination.COST_CENTER,)


def refuse_issue_outside_production_order(destination: IssueDestination) -> None:
    """Refuse (``IssueNeedsProductionOrder``) a generic goods issue to production (5001): the
    pages' and the API's issue calls this before ``book_issue``. ``book_issue`` itself still
    posts to production for the scenarios and data loaders that predate the rule (FOLLOWUPS)."""
    if destination not in CLERK_ISSUE_DESTINATIONS:
        message = Message("an issue to {account} (production costs) goes through a production order: issue the "
                          "components on the order's page, or issue to a cost centre", account=accounts.PRODUCTION)
        raise IssueNeedsProductionOrder(message, errors=[{"pointer": "/destination", "detail": message}])


def issue_to_production_order(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    material_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    order_number: str,
    batch_id: int | None = None,
) -> tuple[int, list[int]]:
    """Issue unrestricted stock to a production order (FEFO unless a batch is named): the
    order's work in process (5001.01) bears it at standard. Returns the document's id and
    the batches it took from (the order's input batches, for the genealogy). The order's own
    rules (released, the material is one of its components) are the production module's."""
    actor.require_role(Role.CLERK, action="issuing goods")
    warehouse = _warehouse(session, warehouse_id)
    _require_warehouse(actor, warehouse)
    material = _material(session, material_id)
    document_id = _take_out(
        session, actor, doc_type=MovementType.ISSUE, offset_account=accounts.WORK_IN_PROCESS, warehouse=warehouse,
        material=material, quantity=quantity, posting_date=posting_date, batch_id=batch_id,
        memo=narrate("issue-production-order", order=order_number), destination="production_order",
        reference=order_number,
    ).document_id
    batches = sorted({m.batch_id for m in _document_movements(session, document_id)})
    return document_id, batches


def ship_goods(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    material_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    customer_id: int,
    reference: str,
    batch_id: int | None = None,
) -> int:
    """Ship unrestricted stock to a customer (FEFO), valued at standard, consumed to cost of
    goods sold. Called by the sales side, which checks credit first."""
    actor.require_role(Role.SALES, Role.CLERK, action="shipping goods")
    warehouse = _warehouse(session, warehouse_id)
    if not actor.acts_for_company(warehouse.company_id):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    material = _material(session, material_id)
    return _take_out(
        session, actor, doc_type=MovementType.SHIPMENT, offset_account=accounts.COST_OF_GOODS_SOLD,
        warehouse=warehouse, material=material, quantity=quantity, posting_date=posting_date, batch_id=batch_id,
        memo=narrate("shipment", reference=reference), customer_id=customer_id, reference=reference,
    ).document_id


@dataclass(frozen=True)
class TakeLine:
    """One line of a use case that takes unrestricted stock out line by line (a shipment of
    several order lines, an issue of several components): first expiry first out, or from
    the named batch."""

    warehouse_id: int
    material_id: int
    quantity: Decimal
    batch_id: int | None = None


def ship_lines(
    session: Session,
    actor: Actor,
    *,
    lines: Sequence[TakeLine],
    posting_date: dt.date,
    customer_id: int,
    reference: str,
) -> list[int]:
    """``ship_goods`` of each line, in order (one document each); returns the documents.
    All the lines' stock is locked first (``_lock_lines``). Refuses what ``ship_goods``
    refuses; a warehouse of a company the caller does not act for before any lock."""
    actor.require_role(Role.SALES, Role.CLERK, action="shipping goods")
    for line in lines:
        if not actor.acts_for_company(_warehouse(session, line.warehouse_id).company_id):
            raise NotFound(Message("warehouse {key} not found", key=line.warehouse_id))
    _lock_lines(session, lines, posting_date)
    return [ship_goods(session, actor, warehouse_id=line.warehouse_id, material_id=line.material_id,
                       quantity=line.quantity, posting_date=posting_date, customer_id=customer_id,
                       reference=reference, batch_id=line.batch_id)
            for line in lines]


def issue_lines_to_production_order(
    session: Session,
    actor: Actor,
    *,
    lines: Sequence[TakeLine],
    posting_date: dt.date,
    order_number: str,
) -> list[tuple[int, list[int]]]:
    """``issue_to_production_order`` of each line, in order; returns (document, batches taken)
    per line. All the lines' stock is locked first (``_lock_lines``)."""
    actor.require_role(Role.CLERK, action="issuing goods")
    for line in lines:
        _require_warehouse(actor, _warehouse(session, line.warehouse_id))
    _lock_lines(session, lines, posting_date)
    issued = []
    for line in lines:
        try:
            issued.append(issue_to_production_order(
                session, actor, warehouse_id=line.warehouse_id, material_id=line.material_id, quantity=line.quantity,
                posting_date=posting_date, order_number=order_number, batch_id=line.batch_id))
        except InsufficientStock as error:
            # An order issues several components, from any of the clerk's warehouses: the
            # refusal says which component and where (trial finding 106).
            material = session.get(Material, line.material_id)
            raise InsufficientStock(Message(
                "{material} in {warehouse}: {problem}", material=Named.of(material) if material else line.material_id,
                warehouse=Named.of(_warehouse(session, line.warehouse_id)), problem=error.message),
                **error.extensions) from error
    return issued


def _lock_lines(session: Session, lines: Sequence[TakeLine], posting_date: dt.date) -> None:
    """Before any line takes: the period of every company the lines take from, then all
    their stock in one statement, in the one order (erp.posting.stock.lock_stock). Taken line
    by line, two shipments (or issues) naming the same goods in opposite order each held
    what the other waited for: a deadlock (bench.load, 30 November). One line locks its own
    place as it takes (nothing to order, no statement added)."""
    if len(lines) < 2:
        return
    for company_id in sorted({_warehouse(session, line.warehouse_id).company_id for line in lines}):
        lock_open_period(session, company_id, posting_date)
    lock_stock(session, [(line.warehouse_id, line.material_id, StockStatus.UNRESTRICTED, line.batch_id)
                         for line in lines])


@dataclass(frozen=True)
class ShippedBatch:
    """What a shipment took of one batch (positive quantity and value at standard) and
    what customers' returns have brought back of it so far."""

    warehouse_id: int
    material_id: int
    batch_id: int
    shipped_quantity: Decimal
    shipped_value: Decimal
    returned_quantity: Decimal
    returned_value: Decimal

    @property
    def returnable(self) -> Decimal:
        return self.shipped_quantity - self.returned_quantity


def shipped_batches(session: Session, shipment: StockDocument) -> dict[int, ShippedBatch]:
    """Per batch: what the shipment took out and what has come back against it."""
    shipped: dict[int, list[Decimal]] = {}
    place: dict[int, tuple[int, int]] = {}
    for m in _document_movements(session, shipment.id):
        if m.movement_type != MovementType.SHIPMENT:
            continue
        totals = shipped.setdefault(m.batch_id, [Decimal("0"), Decimal("0")])
        totals[0] -= m.quantity
        totals[1] -= m.value
        place[m.batch_id] = (m.warehouse_id, m.material_id)
    returned = dict.fromkeys(shipped, (Decimal("0"), Decimal("0")))
    for batch_id, quantity, value in session.execute(
        select(StockMovement.batch_id, func.sum(StockMovement.quantity), func.sum(StockMovement.value))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.source_document_id == shipment.id,
               StockDocument.doc_type == MovementType.SHIPMENT_REVERSAL,
               StockMovement.movement_type == MovementType.SHIPMENT_REVERSAL)
        .group_by(StockMovement.batch_id)
    ):
        returned[batch_id] = (Decimal(quantity), Decimal(value))
    return {batch_id: ShippedBatch(place[batch_id][0], place[batch_id][1], batch_id, q, v, *returned[batch_id])
            for batch_id, (q, v) in shipped.items()}


def take_back_goods(
    session: Session,
    actor: Actor,
    *,
    shipment_document_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    reason: str,
    batch_id: int | None = None,
) -> tuple[int, ShippedBatch, Decimal]:
    """Goods a customer returns against a shipment come back into **quarantine** in the
    warehouse they left, whatever the material's inspection rule: returned medicines may
    not be sold again before quality has decided (GSP, 药品经营质量管理规范 on returns).
    Quality then releases them or rejects them for scrap (``decide_quarantine``,
    ``adjust_stock``).

    Cost of goods sold is credited with the value the goods left at (their share of the
    shipment's value at standard; the last of a batch takes all that is left of it), and
    the goods come back at that value. If the standard price changed since the shipment,
    the difference to the standard now in force is a restatement against the material
    cost variance account, as the price change itself made for the stock that stayed.

    Returns (the return document's id, the batch as it was before this return, the value
    credited to cost of goods sold). The caller (sales) must hold a lock that serialises
    returns of the same shipment (its sales order row). Refuses: not-found (no such
    shipment for the caller), not-reversible (dated before the shipment; several batches
    shipped and none named), return-exceeds-shipment, period-closed.
    """
    actor.require_role(Role.SALES, Role.CLERK, action="taking back goods returned by customers")
    shipment = session.get(StockDocument, shipment_document_id)
    if shipment is None or not actor.acts_for_company(shipment.company_id):
        raise NotFound(Message("stock document {key} not found", key=shipment_document_id))
    if shipment.doc_type != MovementType.SHIPMENT:
        raise NotReversible(Message("document {document} is a {kind}, not a shipment", document=shipment.number,
                                    kind=shipment.doc_type))
    _not_before(shipment, posting_date)
    batches = shipped_batches(session, shipment)
    if batch_id is None:
        if len(batches) != 1:
            raise NotReversible(Message("shipment {document} took several batches: name the batch returned",
                                        document=shipment.number))
        (batch_id,) = batches
    shipped = batches.get(batch_id)
    if shipped is None:
        raise ValidationFailed.for_field("batch_id", Message("shipment {document} took nothing of batch {key}",
                                                             document=shipment.number, key=batch_id))
    material = _material(session, shipped.material_id)
    _check_quantity(quantity, material)
    if quantity > shipped.returnable:
        raise ReturnExceedsShipment(Message(
            "shipment {document} took {shipped} of the batch and {returned} came back already; at most "
            "{returnable} can be returned, not {quantity}", document=shipment.number, shipped=shipped.shipped_quantity,
            returned=shipped.returned_quantity, returnable=shipped.returnable, quantity=quantity),
            returnable=str(shipped.returnable))
    _, price = price_for_posting(session, shipment.company_id, material.id, posting_date)
    if quantity == shipped.returnable:
        value_back = shipped.shipped_value - shipped.returned_value
    else:
        value_back = round_money(quantity * shipped.shipped_value / shipped.shipped_quantity)
    restated = round_money(quantity * price) - value_back
    where = (shipped.warehouse_id, material.id, batch_id, StockStatus.QUARANTINE)
    movements = [Movement(MovementType.SHIPMENT_REVERSAL, CloseClass.CONSUMPTION, *where, quantity, value_back,
                          offset_account=accounts.COST_OF_GOODS_SOLD)]
    if restated:
        movements.append(Movement(MovementType.REVALUATION, CloseClass.REVALUATION, *where, Decimal("0"),
                                  restated, -restated))
    document_id = _post_document(
        session, doc_type=MovementType.SHIPMENT_REVERSAL, company_id=shipment.company_id,
        posting_date=posting_date, user_id=actor.user_id, customer_id=shipment.customer_id,
        reference=shipment.reference, reason=reason, source_document_id=shipment.id, standard_price=price,
        movements=movements, memo=narrate("customer-return", shipment=shipment.number, reason=reason),
        journal=[Line(_inventory_account(material), value_back + restated, material.id),
                 Line(accounts.COST_OF_GOODS_SOLD, -value_back, material.id),
                 Line(accounts.MATERIAL_COST_VARIANCE, -restated, material.id)],
    )
    quality.open_lot(session, origin=LotOrigin.CUSTOMER_RETURN, company_id=shipment.company_id,
                     warehouse_id=shipped.warehouse_id, material_id=material.id, batch_id=batch_id, quantity=quantity,
                     inspection_date=posting_date, source_document_id=document_id, user_id=actor.user_id)
    return document_id, shipped, value_back


def book_issue_reversal(
    session: Session, actor: Actor, *, document_id: int, posting_date: dt.date, reason: str
) -> DocumentView:
    """Put issued stock back into the batches it left, leaving every account as if the issue
    had never happened (issue #13, item 7).

    Within the issue's own period the reversal is the issue negated: the consumption
    account is credited exactly what it was charged, and the period's close sees the two
    cancel out. Once the issue's period is closed, the issue also bore that period's
    variance (材料成本差异率 x its value at standard: its part of what the close posted to its
    account, ``_shares_borne``); the reversal credits the consumption account exactly that
    part and gives it back to the stock,
    and the goods come back at the standard now in force, the difference against the
    variance account as the price change made for the stock that stayed. They come back as
    an inflow carrying its own variance (close class ``receipt``), not as negative
    consumption: the later period's rate then divides amounts valued at its own standard
    only. Standard 10.00, 100 received at 11.00, 50 issued, September closed (production
    bears 50.00), standard 20.00 from October, the issue reversed on 2026-10-05: production
    nets 0.00 and the 100 units stand at 2,000.00 at standard, -900.00 variance: 1,100.00.

    Refuses ``not-reversible`` when dated before the issue, and when dated in a later period
    while the issue's period is still open (its share is not known until that close:
    reverse it within its period, or after the close); an issue to a production order that
    is no longer released, ``production-order-closed`` (the production module's guard).
    Returns the reversal as posted (``posted_view``)."""
    actor.require_role(Role.CLERK, action="reversing goods issues")
    original = _document(session, actor, document_id, MovementType.ISSUE)
    guard = _REVERSAL_GUARDS.get(original.destination or "")
    if guard is not None:
        guard(session, original)
    issued = _document_movements(session, document_id)
    _require_warehouse(actor, _warehouse(session, issued[0].warehouse_id))
    _not_before(original, posting_date)
    material = _material(session, issued[0].material_id)
    _, price = price_for_posting(session, original.company_id, material.id, posting_date)
    # The period, then every balance row the goods go back into, in one statement in the one
    # lock order (erp.posting.stock): an issue takes its batches first expiry first, and a
    # batch received earlier may expire later (tests/service/test_posting_locks.py).
    lock_stock(session, [(m.warehouse_id, m.material_id, StockStatus.UNRESTRICTED, m.batch_id) for m in issued])
    # Under those locks, which another reversal of the issue takes too (the rows exist: the
    # issue took from them, and balance rows stay at zero).
    _refuse_reversed(session, original)
    entry_id = entry_of_document(session, original.id)
    journal = negated_lines(session, entry_id) if entry_id is not None else []
    movements: list[Movement] = []
    issue_period = Period.of(original.posting_date)
    if issue_period == Period.of(posting_date):
        for m in issued:
            movements.append(Movement(MovementType.ISSUE_REVERSAL, m.close_class, m.warehouse_id, m.material_id,
                                      m.batch_id, StockStatus.UNRESTRICTED, -m.quantity, -m.value,
                                      offset_account=m.offset_account))
    else:
        closed_through = latest_closed_period(session, original.company_id)
        if closed_through is None or closed_through < issue_period:
            raise NotReversible(Message(
                "issue {document} of {period} bears that period's variance when {period} closes; reverse it in "
                "{period}, or once {period} is closed", document=original.number, period=issue_period))
        shares = _shares_borne(session, original.company_id, issue_period, material.id, original.id, issued)
        for m in issued:
            charged = -m.value  # what the issue took out at standard, and charged to its account
            share = shares[m.id]
            back_at_standard = round_money(-m.quantity * price)
            movements.append(Movement(MovementType.ISSUE_REVERSAL, CloseClass.RECEIPT, m.warehouse_id,
                                      m.material_id, m.batch_id, StockStatus.UNRESTRICTED, -m.quantity,
                                      back_at_standard, charged + share - back_at_standard))
            if share:
                assert m.offset_account is not None  # an issue always names where it went
                # on the material where the close put it: work in process keeps its share per
                # material, unless a close from before that put it on no material
                on = material.id if m.offset_account == accounts.WORK_IN_PROCESS and not session.scalar(
                    select(allocated_on_no_material(original.company_id, issue_period))) else None
                journal += [Line(m.offset_account, -share, on),
                            Line(accounts.MATERIAL_COST_VARIANCE, share, material.id)]
            restated = back_at_standard - charged
            if restated:
                journal += [Line(_inventory_account(material), restated, material.id),
                            Line(accounts.MATERIAL_COST_VARIANCE, -restated, material.id)]
    warehouses = {m.warehouse_id: _warehouse(session, m.warehouse_id).code for m in issued}
    batches = dict(session.execute(select(Batch.id, Batch.batch_number).where(
        Batch.id.in_({m.batch_id for m in issued}))).all())
    codes = {(m.warehouse_id, m.material_id, m.batch_id): (warehouses[m.warehouse_id], material.code,
                                                           batches[m.batch_id]) for m in issued}
    return _write_view(
        session, codes, doc_type=MovementType.ISSUE_REVERSAL, company_id=original.company_id,
        posting_date=posting_date, user_id=actor.user_id, reverses_document_id=original.id,
        reference=original.reference, reason=reason, movements=movements, journal=journal,
        reverses_entry_id=entry_id, memo=narrate("stock-reversal", document=original.number, reason=reason),
    )


reverse_issue = _returning_id(book_issue_reversal)


def _shares_borne(session: Session, company_id: int, period: str, material_id: int, document_id: int,
                  movements: Sequence[StockMovement]) -> dict[int, Decimal]:
    """The variance each of an issue's ledger rows bore at the close of ``period``, by row id.

    The close allocates variance per consumption account (``variance_allocations``: the
    account's consumption at standard x the rate, rounded once per account). Each
    consumption document of that account and month bears its part of that posted amount:
    its consumption x allocation / the account's consumption, rounded half-up to the cent,
    the cents left to the document that consumed most (ties: the lowest id), so the parts
    of every document add up to exactly what was posted and reversing them all undoes it to
    the cent. Within the document, its rows share its part the same way (the last row takes
    what is left). A document reversed within its month nets to nothing and bears nothing."""
    by_account: dict[str | None, list[StockMovement]] = {}
    for m in movements:
        by_account.setdefault(m.offset_account, []).append(m)
    shares: dict[int, Decimal] = {}
    for account, rows in by_account.items():
        allocated = session.scalar(select(VarianceAllocation.allocated_variance).where(
            VarianceAllocation.company_id == company_id, VarianceAllocation.period == period,
            VarianceAllocation.material_id == material_id, VarianceAllocation.account_code == account))
        part = Decimal("0")
        if allocated:
            original = func.coalesce(StockDocument.reverses_document_id, StockMovement.document_id)
            consumed = session.execute(
                select(original.label("document"), (-func.sum(StockMovement.value)).label("consumed"))
                .join(StockDocument, StockDocument.id == StockMovement.document_id)
                .where(StockMovement.company_id == company_id, StockMovement.period == period,
                       StockMovement.material_id == material_id, StockMovement.offset_account == account,
                       StockMovement.close_class == CloseClass.CONSUMPTION)
                .group_by(original)
                .having(func.sum(StockMovement.value) != 0)
            ).all()
            total = sum((Decimal(row.consumed) for row in consumed), Decimal("0"))
            if total:
                parts = {row.document: round_money(allocated * Decimal(row.consumed) / total) for row in consumed}
                largest = min(consumed, key=lambda row: (-abs(Decimal(row.consumed)), row.document)).document
                parts[largest] += allocated - sum(parts.values(), Decimal("0"))
                part = parts.get(document_id, Decimal("0"))
        charged = sum((-m.value for m in rows), Decimal("0"))
        left = part
        for number, m in enumerate(rows, start=1):
            share = left if number == len(rows) or not charged else round_money(part * -m.value / charged)
            shares[m.id] = share
            left -= share
    return shares


# --- transfers and adjustments ---------------------------------------------------------------

def book_transfer(
    session: Session,
    actor: Actor,
    *,
    from_warehouse_id: int,
    to_warehouse_id: int,
    material_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    batch_id: int | None = None,
    status: StockStatus = StockStatus.UNRESTRICTED,
    reference: str | None = None,
) -> DocumentView:
    """Move stock between two warehouses of one company; the destination must be able to
    store the material. Value moves with the goods; no journal (same account, same company).
    Quarantined stock under an open inspection lot moves only whole, with its lot
    (erp.quality.move_open_lots). Returns the transfer as posted (``posted_view``)."""
    actor.require_role(Role.CLERK, action="transferring stock")
    source = _warehouse(session, from_warehouse_id)
    _require_warehouse(actor, source)
    destination = _warehouse(session, to_warehouse_id)
    if destination.company_id != source.company_id:
        raise WarehouseNotOfCompany(Message("warehouse {warehouse} belongs to another company; transfers stay within "
                                            "one company", warehouse=Named.of(destination)))
    if destination.id == source.id:
        raise ValidationFailed.for_field("to_warehouse_id",
                                         Message("source and destination are the same warehouse"))
    material = _material(session, material_id)
    _check_quantity(quantity, material)
    _check_storage(destination, material)
    _, price = price_for_posting(session, source.company_id, material.id, posting_date)
    lock_transfer_route(session, material.id, source.id, destination.id)
    # The destination's rows with the source's, in one statement: locked source first, then
    # destination as the posting adds to it, transfers around a ring of warehouses (A to B,
    # B to C, C to A), or a transfer and a shipment from both ends, deadlocked.
    # Then read again under the locks (``reread``): a posting that held one of these rows and
    # committed while this waited may have put stock into a row the first statement could not
    # see (a transfer of several batches into the source, a batch new there; an excursion's
    # hold into a quarantine row), and the transfer was refused for want of it.
    here = (source.id, material.id, status, batch_id)
    held = lock_stock(session, [here, (destination.id, material.id, status, batch_id)], reread=True)[here]
    pieces = _take(session, source.company_id, held, quantity, price, posting_date)
    movements: list[Movement] = []
    for balance, taken, value in pieces:
        movements.append(Movement(MovementType.TRANSFER, CloseClass.INTERNAL, source.id, material.id,
                                  balance.batch_id, status, -taken, -value))
        movements.append(Movement(MovementType.TRANSFER, CloseClass.INTERNAL, destination.id, material.id,
                                  balance.batch_id, status, taken, value))
        if status == StockStatus.QUARANTINE:
            # Held goods keep their hold: the open lots on the batch go with it, or it stays.
            quality.move_open_lots(session, actor, batch_id=balance.batch_id, source=source, destination=destination,
                                   moved=taken, held=balance.quantity,
                                   reason=narrate("lots-transferred", REASON_LENGTH, source=source.code,
                                                  destination=destination.code))
    codes = {(warehouse.id, material.id, balance.batch_id): (warehouse.code, material.code, balance.batch_number)
             for balance, _, _ in pieces for warehouse in (source, destination)}
    return _write_view(
        session, codes, doc_type=MovementType.TRANSFER, company_id=source.company_id, posting_date=posting_date,
        user_id=actor.user_id, reference=reference, movements=movements,
    )


transfer_stock = _returning_id(book_transfer)


def book_adjustment(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    material_id: int,
    quantity: Decimal,
    posting_date: dt.date,
    kind: AdjustmentKind,
    reason: str,
    batch_id: int | None = None,
    status: StockStatus = StockStatus.UNRESTRICTED,
) -> DocumentView:
    """Correct the books to a stock count (gain or loss, to stock count differences) or
    scrap stock (a loss, to scrap); cost accountants and quality only, always with a reason.
    Returns the adjustment as posted (``posted_view``)."""
    actor.require_role(*ADJUSTING_ROLES, action="adjusting stock")
    warehouse = _warehouse(session, warehouse_id)
    _require_warehouse(actor, warehouse)
    material = _material(session, material_id)
    _check_quantity(quantity, material, allow_negative=True)
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("an adjustment needs a reason"))
    if kind == AdjustmentKind.SCRAP and quantity > 0:
        raise InvalidQuantity(Message("scrap takes stock out: the quantity must be negative"))
    if material.batch_managed and batch_id is None:
        raise BatchRequired(Message("material {material} is batch-managed: name the batch to adjust",
                                    material=Named.of(material)))
    if not material.batch_managed:
        batch_id, _, _ = find_or_create_batch(session, material_id=material.id, batch_number=None,
                                              manufacture_date=None, expiry_date=None, supplier_id=None)
    batch = session.get(Batch, batch_id)
    if batch is None or batch.material_id != material.id:
        raise ValidationFailed.for_field("batch_id", Message("batch {key} is not a batch of {material}", key=batch_id,
                                                             material=Named.of(material)))
    _, price = price_for_posting(session, warehouse.company_id, material.id, posting_date)
    account = accounts.SCRAP if kind == AdjustmentKind.SCRAP else accounts.STOCK_DIFFERENCES
    doc_type = MovementType.SCRAP if kind == AdjustmentKind.SCRAP else MovementType.ADJUSTMENT
    if quantity > 0:
        value = require_amount_fits(round_money(quantity * price), field="quantity", what=N_("the count gain's value"))
        close_class = CloseClass.INFLOW
    else:
        held = lock_balances(session, warehouse_id=warehouse.id, material_id=material.id, status=status,
                             batch_id=batch.id)
        ((_, _, taken_value),) = _take(session, warehouse.company_id, held, -quantity, price, posting_date)
        value = -taken_value
        close_class = CloseClass.CONSUMPTION
        if status == StockStatus.QUARANTINE:
            # Quarantined stock scrapped or counted short: no lot (a receipt's, a return's, an
            # excursion's) may go on covering goods that are gone (its decision would move
            # another lot's quarantined stock, or find nothing to move).
            quality.reduce_open_lots(session, actor, warehouse_id=warehouse.id, batch_id=batch.id,
                                     left_in_quarantine=sum((h.quantity for h in held), Decimal("0")) + quantity,
                                     reason=narrate(f"{kind.value}-adjustment", REASON_LENGTH, reason=reason))
    return _write_view(
        session, {(warehouse.id, material.id, batch.id): (warehouse.code, material.code, batch.batch_number)},
        doc_type=doc_type, company_id=warehouse.company_id, posting_date=posting_date, user_id=actor.user_id,
        reason=reason,
        movements=[Movement(doc_type, close_class, warehouse.id, material.id, batch.id, status, quantity, value,
                            offset_account=account)],
        memo=narrate(f"{kind.value}-adjustment", reason=reason),
        journal=[Line(_inventory_account(material), value, material.id), Line(account, -value, material.id)],
    )


adjust_stock = _returning_id(book_adjustment)

