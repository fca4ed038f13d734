"""Quality's use cases: specifications, inspection lots and their results, the signed usage
decision, and the expiry block. Storage monitoring is in ``erp.quality.monitoring``.

Each function runs inside the caller's transaction and never commits. Stock changes status
(quarantine -> unrestricted or blocked) through ``erp.posting.post``; the lot and the
decision are quality's own rows, written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from erp.audit import services as audit
from erp.clock import business_today
from erp.auth.errors import RoleNotAllowed
from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.auth.services import password_matches
from erp.db import page, utcnow
from erp.errors import DomainError, NotFound, ValidationFailed
from erp.masterdata.models import Material, UnitOfMeasure, Warehouse
from erp.messages import Message, Named, Term
from erp.posting import Document, Movement, Posting, post, price_for_posting
from erp.posting.models import Batch, CloseClass, MovementType, StockDocument, StockMovement, StockStatus
from erp.posting.stock import advisory_lock, available_on, lock_balances, lock_stock, value_taken
from erp.quality.errors import (
    InspectionLotHoldsStock,
    InspectionLotOpen,
    LotNotOpen,
    NoStockOnHold,
    OutOfSpecification,
    ResultNotApplicable,
    ResultsIncomplete,
    SignatureNotVerified,
    SignedReleaseRequired,
    SpecificationBackDated,
    SignerRecordedResults,
    SpecificationDateTaken,
)
from erp.quality.models import (
    SIGNATURE_MEANING,
    CertificateOfAnalysis,
    Characteristic,
    InspectionLot,
    InspectionResult,
    LotOrigin,
    LotStatus,
    ResultSource,
    Specification,
    UsageDecision,
    UsageDecisionKind,
    lot_number,
)
from erp.narration import REASON_LENGTH, narrate
from erp.search import contains_text

ZERO = Decimal("0")
SPEC_ROLES = (Role.QUALITY,)


# --- specifications ----------------------------------------------------------------------

@dataclass(frozen=True)
class CharacteristicInput:
    code: str
    name_zh: str
    name_en: str
    unit: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    expected_text: str | None = None


def create_specification(
    session: Session,
    actor: Actor,
    *,
    material_id: int,
    effective_from: dt.date,
    reason: str,
    characteristics: Sequence[CharacteristicInput],
) -> Specification:
    """Add a version of a material's specification, in force from ``effective_from`` until
    a later version's date. Lots opened before keep the version they were opened under.

    Specifications are the group's, like its materials: only group QA (a group-wide
    quality user) keeps them, and a version takes effect on the business day or later,
    never before it (a back-dated version would change the rules already applied to goods
    received and tested).

    Refuses: role-not-allowed (group QA only), not-found (material), validation-error (no
    characteristics, a code twice, neither or both of limits and text, minimum above
    maximum), specification-back-dated, specification-date-taken.
    """
    actor.require_role(*SPEC_ROLES, action="maintaining specifications")
    if not actor.group_wide:
        raise RoleNotAllowed(Message("specifications are the group's: group QA (a group-wide quality user) keeps "
                                     "them; you act for your companies only"))
    today = business_today()
    if effective_from < today:
        problem = Message("a specification version takes effect on {today} (today, Asia/Shanghai) or later, not on "
                          "{day}", today=today, day=effective_from)
        raise SpecificationBackDated(problem, errors=[{"pointer": "/effective_from", "detail": problem}])
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(Message("material {key} not found", key=material_id))
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("a specification version needs a reason"))
    if not characteristics:
        raise ValidationFailed.for_field("characteristics", Message("a specification lists at least one characteristic"))
    codes = [c.code for c in characteristics]
    if len(set(codes)) != len(codes):
        raise ValidationFailed.for_field("characteristics", Message("each characteristic code appears once"))
    for index, c in enumerate(characteristics):
        numeric = c.minimum is not None or c.maximum is not None
        if numeric == (c.expected_text is not None):
            raise ValidationFailed.for_field(f"characteristics/{index}", Message(
                "characteristic {code} needs numeric limits or an expected text, not both", code=c.code))
        if c.minimum is not None and c.maximum is not None and c.minimum > c.maximum:
            raise ValidationFailed.for_field(f"characteristics/{index}/minimum", Message(
                "characteristic {code}: minimum {minimum} is above maximum {maximum}", code=c.code,
                minimum=c.minimum, maximum=c.maximum))
    # Serialise versions of one material: the material row is the natural lock.
    session.execute(select(Material.id).where(Material.id == material_id).with_for_update())
    taken = session.scalar(select(Specification.version).where(
        Specification.material_id == material_id, Specification.effective_from == effective_from))
    if taken is not None:
        raise SpecificationDateTaken(Message("version {version} of {material}'s specification takes effect on {day}",
                                             version=taken, material=Named.of(material), day=effective_from))
    version = (session.scalar(select(func.max(Specification.version))
                              .where(Specification.material_id == material_id)) or 0) + 1
    spec = Specification(material_id=material_id, version=version, effective_from=effective_from,
                         reason=reason.strip(), created_by=actor.user_id)
    session.add(spec)
    session.flush()
    session.add_all(Characteristic(specification_id=spec.id, position=i, code=c.code, name_zh=c.name_zh,
                                   name_en=c.name_en, unit=c.unit, minimum=c.minimum, maximum=c.maximum,
                                   expected_text=c.expected_text) for i, c in enumerate(characteristics, 1))
    session.flush()
    session.refresh(spec, ["characteristics"])
    audit.record_change(session, actor, entity="specification", entity_id=spec.id, action=audit.CREATE,
                        after={"material_id": material_id, "version": version,
                               "effective_from": effective_from,
                               "characteristics": [_characteristic_record(c) for c in characteristics]},
                        reason=reason)
    return spec


def _characteristic_record(c: CharacteristicInput) -> dict[str, object]:
    return {"code": c.code, "unit": c.unit, "minimum": c.minimum, "maximum": c.maximum,
            "expected_text": c.expected_text}


def material_or_404(session: Session, material_id: int) -> Material:
    """A material (master data is group-wide: every user sees it)."""
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(Message("material {key} not found", key=material_id))
    return material


def specification_in_force(session: Session, material_id: int, day: dt.date) -> Specification | None:
    """The version of the material's specification in force on ``day``: the latest one
    effective on or before it."""
    return session.scalars(
        select(Specification).where(Specification.material_id == material_id, Specification.effective_from <= day)
        .order_by(Specification.effective_from.desc()).limit(1)
    ).first()


def spec_for_lot(session: Session, lot: InspectionLot) -> Specification | None:
    """A lot's specification: the version fixed on it, else the one in force on its date,
    else (the material had none then) the one in force today."""
    if lot.specification_id is not None:
        return session.get(Specification, lot.specification_id)
    return specification_in_force(session, lot.material_id, lot.inspection_date) or \
        specification_in_force(session, lot.material_id, business_today())


def list_specifications(session: Session, actor: Actor, material_id: int) -> list[Specification]:
    """Every version of a material's specification, newest first."""
    return list(session.scalars(select(Specification).where(Specification.material_id == material_id)
                                .order_by(Specification.version.desc())))


@dataclass(frozen=True)
class SpecifiedMaterial:
    """A material on the specifications list: whether it needs inspection, its versions and
    the one in force today."""

    material: Material
    versions: int
    in_force: Specification | None


def specification_overview(session: Session, actor: Actor, *, q: str | None = None, offset: int = 0,
                           limit: int = 50) -> tuple[list[SpecifiedMaterial], int]:
    """Materials that need inspection or have a specification, by code, with the version in
    force today (``q`` searches code and names)."""
    has_spec = select(Specification.id).where(Specification.material_id == Material.id).exists()
    query = select(Material).where(Material.inspection_required.is_(True) | has_spec)
    if q:
        query = query.where(contains_text(q.strip(), Material.code, Material.name_zh, Material.name_en))
    materials, total = page(session, query.order_by(Material.code), offset=offset, limit=limit, entities=True)
    counts = dict(session.execute(select(Specification.material_id, func.count(Specification.id))
                                  .where(Specification.material_id.in_([m.id for m in materials]))
                                  .group_by(Specification.material_id)).all())
    today = business_today()
    return [SpecifiedMaterial(m, counts.get(m.id, 0), specification_in_force(session, m.id, today))
            for m in materials], total


# --- inspection lots -----------------------------------------------------------------------

def open_lot(
    session: Session,
    *,
    origin: LotOrigin,
    company_id: int,
    warehouse_id: int,
    material_id: int,
    batch_id: int,
    quantity: Decimal,
    inspection_date: dt.date,
    source_document_id: int,
    user_id: int,
    excursion_id: int | None = None,
) -> int:
    """Open an inspection lot for stock just put in quarantine (called by the posting use
    case in its own transaction: a receipt of an inspected material, a customer return, an
    excursion hold); returns its id. The specification is the version in force on
    ``inspection_date``, found in the same statement (one round trip on the receipt's path)."""
    in_force = (
        select(Specification.id)
        .where(Specification.material_id == material_id, Specification.effective_from <= inspection_date)
        .order_by(Specification.effective_from.desc()).limit(1).scalar_subquery()
    )
    return session.execute(insert(InspectionLot).values(
        origin=origin, status=LotStatus.OPEN, company_id=company_id, warehouse_id=warehouse_id,
        material_id=material_id, batch_id=batch_id, quantity=quantity, inspection_date=inspection_date,
        specification_id=in_force, source_document_id=source_document_id, excursion_id=excursion_id,
        created_by=user_id, created_at=utcnow(),
    ).returning(InspectionLot.id)).scalar_one()


def open_lots_of_document(session: Session, *, origin: LotOrigin, document_id: int, inspection_date: dt.date,
                          user_id: int) -> int:
    """Open one inspection lot per batch and warehouse that a posted stock document put in
    quarantine, for the materials that need inspection (a bulk posting such as opening
    stock, where lots one by one would cost a round trip per balance); returns how many.
    One INSERT ... SELECT over the document's ledger rows, each lot under the
    specification in force on ``inspection_date``, as ``open_lot``."""
    in_force = (
        select(Specification.id)
        .where(Specification.material_id == StockMovement.material_id,
               Specification.effective_from <= inspection_date)
        .order_by(Specification.effective_from.desc()).limit(1).scalar_subquery()
    )
    quarantined = (
        select(literal(origin, InspectionLot.origin.type), literal(LotStatus.OPEN, InspectionLot.status.type),
               StockMovement.company_id, StockMovement.warehouse_id, StockMovement.material_id,
               StockMovement.batch_id, func.sum(StockMovement.quantity),
               literal(inspection_date, InspectionLot.inspection_date.type), in_force, StockMovement.document_id,
               literal(user_id, InspectionLot.created_by.type), literal(utcnow(), InspectionLot.created_at.type))
        .join(Material, Material.id == StockMovement.material_id)
        .where(StockMovement.document_id == document_id, StockMovement.status == StockStatus.QUARANTINE,
               Material.inspection_required.is_(True))
        .group_by(StockMovement.company_id, StockMovement.warehouse_id, StockMovement.material_id,
                  StockMovement.batch_id, StockMovement.document_id)
        .having(func.sum(StockMovement.quantity) > 0)
    )
    opened = session.scalars(insert(InspectionLot).from_select(
        ["origin", "status", "company_id", "warehouse_id", "material_id", "batch_id", "quantity", "inspection_date",
         "specification_id", "source_document_id", "created_by", "created_at"], quarantined,
    ).returning(InspectionLot.id)).all()
    return len(opened)


def _audit_lot(session: Session, actor: Actor, lot: InspectionLot, action: str,
               changes: dict[str, dict[str, Any]], reason: str) -> None:
    """A lot's quantity or status changed other than by QA's usage decision (stock left it):
    recorded in the audit trail like every change to what QA decides on (who, when, before,
    after, why)."""
    audit.record_event(session, actor_id=actor.user_id, actor_name=actor.username, entity="inspection_lot",
                       entity_id=lot.id, action=action, company_id=lot.company_id,
                       changes={key: {"before": audit.plain(v.get("before")), "after": audit.plain(v.get("after"))}
                                for key, v in changes.items()},
                       reason=reason[:500])


def _cancel(session: Session, actor: Actor, lot: InspectionLot, reason: str) -> None:
    lot.status = LotStatus.CANCELLED
    _audit_lot(session, actor, lot, "lot-cancelled",
               {"status": {"before": LotStatus.OPEN.value, "after": LotStatus.CANCELLED.value}}, reason)


def cancel_lots_of_document(session: Session, actor: Actor, document_id: int, *, reason: str,
                            warehouse_id: int | None = None) -> int:
    """Cancel the open lots of a receipt being reversed (its stock leaves), each recorded in
    the audit trail with ``reason``: returns how many. With ``warehouse_id`` only those still
    in that warehouse (a lot that moved with its goods by a transfer stays on them)."""
    query = select(InspectionLot).where(InspectionLot.source_document_id == document_id,
                                        InspectionLot.status == LotStatus.OPEN)
    if warehouse_id is not None:
        query = query.where(InspectionLot.warehouse_id == warehouse_id)
    lots = list(session.scalars(query.with_for_update().execution_options(populate_existing=True)))
    for lot in lots:
        _cancel(session, actor, lot, reason)
    session.flush()
    return len(lots)


def cancel_open_lots_of_batch(session: Session, actor: Actor, *, warehouse_id: int, batch_id: int,
                              reason: str) -> int:
    """Cancel the open lots on a batch in a warehouse whose stock has all left it (a
    production receipt reversed), each recorded in the audit trail: returns how many."""
    lots = list(session.scalars(select(InspectionLot).where(
        InspectionLot.warehouse_id == warehouse_id, InspectionLot.batch_id == batch_id,
        InspectionLot.status == LotStatus.OPEN).with_for_update().execution_options(populate_existing=True)))
    for lot in lots:
        _cancel(session, actor, lot, reason)
    session.flush()
    return len(lots)


def decided_status(session: Session, document_id: int) -> StockStatus | None:
    """Where QA's usage decision on the lot of a receipt put its stock: unrestricted when
    released, blocked when rejected; None while its lot is open, or without one."""
    decided = session.scalar(select(InspectionLot.status).where(
        InspectionLot.source_document_id == document_id,
        InspectionLot.status.in_([LotStatus.RELEASED, LotStatus.REJECTED])).order_by(InspectionLot.id.desc()).limit(1))
    if decided is None:
        return None
    return StockStatus.UNRESTRICTED if decided == LotStatus.RELEASED else StockStatus.BLOCKED


def reduce_open_lots(session: Session, actor: Actor, *, warehouse_id: int, batch_id: int,
                     left_in_quarantine: Decimal, reason: str) -> None:
    """When quarantined stock of a batch leaves quarantine in a warehouse other than by the
    usage decision (scrapped, counted short, rejected by a plain decision, a receipt or a
    production delivery reversed) and
    ``left_in_quarantine`` stays there, take off the open lots on it what they can no longer
    cover: the goods are gone from what QA is to decide on, whichever lot held them.
    Excursion lots first, newest first (a hold covers only what it put in quarantine), then
    the receipt's, customer return's and opening stock's lots, newest first. A lot left with
    nothing is cancelled; so a later decision moves only what the lot still covers, never
    another lot's stock, and no lot is left covering goods that are gone. Every lot changed is
    in the audit trail (quantity before and after, or the cancellation, with ``reason``)."""
    # The lots are locked (after the caller's balances: the one lock order, _lot_for_decision)
    # before what they cover is read, so a decision signed meanwhile cannot leave it stale.
    open_lots = session.scalars(select(InspectionLot).where(
        InspectionLot.warehouse_id == warehouse_id, InspectionLot.batch_id == batch_id,
        InspectionLot.status == LotStatus.OPEN).order_by(InspectionLot.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    covered = sum((lot.quantity for lot in open_lots), Decimal("0"))
    excess = covered - left_in_quarantine
    left = _reduce_lots(session, actor, warehouse_id=warehouse_id, batch_id=batch_id, quantity=excess,
                        reason=reason, origins=(LotOrigin.EXCURSION,))
    _reduce_lots(session, actor, warehouse_id=warehouse_id, batch_id=batch_id, quantity=left, reason=reason,
                 origins=tuple(origin for origin in LotOrigin if origin != LotOrigin.EXCURSION))


def _reduce_lots(session: Session, actor: Actor, *, warehouse_id: int, batch_id: int, quantity: Decimal,
                 reason: str, origins: Sequence[LotOrigin]) -> Decimal:
    """Take ``quantity`` off the open lots of these origins on a batch in a warehouse, newest
    first, audited; returns what none of them covered."""
    left = quantity
    if left <= 0:
        return left
    lots = session.scalars(select(InspectionLot).where(
        InspectionLot.warehouse_id == warehouse_id, InspectionLot.batch_id == batch_id,
        InspectionLot.origin.in_(origins), InspectionLot.status == LotStatus.OPEN)
        .order_by(InspectionLot.id.desc()).with_for_update().execution_options(populate_existing=True))
    for lot in lots:
        if left <= 0:
            break
        if lot.quantity <= left:
            _cancel(session, actor, lot, reason)  # its quantity stays: what the lot covered
            left -= lot.quantity
        else:
            before = lot.quantity
            lot.quantity -= left
            _audit_lot(session, actor, lot, "lot-quantity-reduced",
                       {"quantity": {"before": before, "after": lot.quantity}}, reason)
            left = Decimal("0")
    session.flush()
    return left


def move_open_lots(session: Session, actor: Actor, *, batch_id: int, source: Warehouse, destination: Warehouse,
                   moved: Decimal, held: Decimal, reason: str) -> int:
    """Quarantined stock of a batch transferred to another warehouse of the company takes the
    open inspection lots on it with it: each lot's warehouse becomes the destination, recorded
    in the audit trail (``lot-moved``, the warehouse before and after, with ``reason``), so QA's
    hold and decision follow the goods (stock an excursion held, moved out of the failed cold
    room, stays held). ``moved`` is what the transfer takes of the batch's ``held`` quarantine
    in the source: only all of it moves while a lot is open on it, since a lot is one decision
    on one quantity in one place. Returns how many lots moved.

    Refuses inspection-lot-holds-stock (a part of it, or into a warehouse where a lot of the
    same document already is on the batch)."""
    lots = list(session.scalars(select(InspectionLot).where(
        InspectionLot.warehouse_id == source.id, InspectionLot.batch_id == batch_id,
        InspectionLot.status == LotStatus.OPEN).order_by(InspectionLot.id).with_for_update()
        .execution_options(populate_existing=True)))
    if not lots:
        return 0
    if moved < held:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        raise InspectionLotHoldsStock(Message(
            "batch {batch} in {warehouse} is held by inspection lot {lots}: transfer all {held} of it in quarantine "
            "(the lot goes with it), or let QA decide the lot first", batch=batch.batch_number,
            warehouse=Named.of(source), lots=[lot.number for lot in lots], held=held))
    # A lot is one per document, batch and warehouse (opening stock has one in each warehouse):
    # goods whose document already has a lot on the batch in the destination cannot bring theirs.
    # Lots arriving on the batch in the destination queue here (the one lot a second transfer
    # at the same moment would collide with is not there yet to lock): the later one then sees
    # the lot the first brought and is refused below, not by the unique constraint (a 500).
    advisory_lock(session, f"lots-arriving:{batch_id}:{destination.id}")
    there = session.scalars(select(InspectionLot).where(
        InspectionLot.warehouse_id == destination.id, InspectionLot.batch_id == batch_id,
        InspectionLot.source_document_id.in_([lot.source_document_id for lot in lots]))
        .order_by(InspectionLot.id)).all()
    if there:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        raise InspectionLotHoldsStock(Message(
            "batch {batch} in {warehouse} is held by inspection lot {lots}, and {destination} already has lot {there} "
            "of the same document on it: let QA decide lot {lots} first, then transfer the stock",
            batch=batch.batch_number, warehouse=Named.of(source), lots=[lot.number for lot in lots],
            destination=Named.of(destination), there=[lot.number for lot in there]))
    for lot in lots:
        lot.warehouse_id = destination.id
        _audit_lot(session, actor, lot, "lot-moved", {"warehouse": {"before": source.code, "after": destination.code}},
                   reason)
    session.flush()
    return len(lots)


def require_signed_release(session: Session, *, material: Material, warehouse_id: int, batch_id: int) -> None:
    """The one rule on releasing stock from quarantine (GMP: a material that needs
    inspection is released for use only by QA's signed usage decision on its inspection
    lot; EU GMP 1.4 (xv), 21 CFR 211.84). A plain quality decision (``erp.inventory``'s)
    never releases it: under an open lot it is refused ``inspection-lot-open`` (decide
    the lot, whether or not the material has a specification yet), without one
    ``signed-release-required``. Rejecting (to blocked) stays open to a plain decision:
    it takes nothing into use. Refuses: inspection-lot-open, signed-release-required."""
    batch = session.get(Batch, batch_id)
    assert batch is not None
    lot = session.scalars(select(InspectionLot).where(
        InspectionLot.warehouse_id == warehouse_id, InspectionLot.batch_id == batch_id,
        InspectionLot.status == LotStatus.OPEN).order_by(InspectionLot.id).limit(1)).first()
    if lot is not None:
        raise InspectionLotOpen(Message("batch {batch} is under inspection lot {lot}: release it there, with a "
                                        "signed usage decision", batch=batch.batch_number, lot=lot.number))
    if material.inspection_required:
        raise SignedReleaseRequired(Message("{material} needs inspection: batch {batch} is released only by QA's "
                                            "signed usage decision on an inspection lot", material=Named.of(material),
                                            batch=batch.batch_number))


def open_lots_of(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, str]]:
    """The open lot (id, number) of each (warehouse, batch) that has one: the quarantine list
    links to it instead of offering a plain decision."""
    if not pairs:
        return {}
    batches = sorted({batch for _, batch in pairs})
    found: dict[tuple[int, int], tuple[int, str]] = {}
    for lot_id, warehouse_id, batch_id in session.execute(
            select(InspectionLot.id, InspectionLot.warehouse_id, InspectionLot.batch_id).where(
                InspectionLot.batch_id.in_(batches), InspectionLot.status == LotStatus.OPEN)
            .order_by(InspectionLot.id)):
        if (warehouse_id, batch_id) in pairs:
            found.setdefault((warehouse_id, batch_id), (lot_id, lot_number(lot_id)))
    return found


def get_lot(session: Session, actor: Actor, lot_id: int, *, lock: bool = False) -> InspectionLot:
    """A lot of one of the caller's companies (404 otherwise)."""
    query = select(InspectionLot).where(InspectionLot.id == lot_id)
    if lock:
        # Locked, the row as it is now (a lot read earlier in the session may have moved).
        query = query.with_for_update().execution_options(populate_existing=True)
    lot = session.scalars(query).first()
    if lot is None or not actor.acts_for_company(lot.company_id):
        raise NotFound(Message("inspection lot {key} not found", key=lot_id))
    return lot


def _require_open(lot: InspectionLot) -> InspectionLot:
    if lot.status != LotStatus.OPEN:
        raise LotNotOpen(Message("inspection lot {lot} is {status}", lot=lot.number, status=lot.status.value))
    return lot


def _open_lot_for_work(session: Session, actor: Actor, lot_id: int) -> InspectionLot:
    return _require_open(get_lot(session, actor, lot_id, lock=True))


def _lot_for_decision(session: Session, actor: Actor, lot_id: int, target: StockStatus) -> InspectionLot:
    """The open lot, locked for its usage decision, after its batch's balances in quarantine
    and in ``target`` (where the decision moves the goods), both in one statement in the
    one lock order (erp.posting.stock.lock_stock): an excursion's hold moves the same batch
    from unrestricted into quarantine, and locked one after the other the two deadlocked.

    Lock order, one everywhere: stock balances first, then the inspection lots on them.
    Scrap and count-short, a plain reject, a transfer and a receipt reversal lock the
    balances (erp.posting.stock.lock_balances), then the open lots (reduce_open_lots,
    move_open_lots, cancel_lots_of_document); the decision does the same, so a QA decision
    and a clerk's scrap of the same batch and warehouse wait for each other instead of
    deadlocking. The lot is read unlocked to learn where its goods are; if a transfer moved
    it before its balances were locked, the balances where it is now are locked in turn."""
    while True:
        where = get_lot(session, actor, lot_id)
        place = (where.warehouse_id, where.batch_id)
        lock_stock(session, [(where.warehouse_id, where.material_id, status, where.batch_id)
                             for status in (StockStatus.QUARANTINE, target)])
        lot = _open_lot_for_work(session, actor, lot_id)
        # Only a transfer moves a lot, holding the source's balances: once they are locked
        # here the lot stays; it moved only if that transfer committed in between.
        if (lot.warehouse_id, lot.batch_id) == place:
            return lot


@dataclass(frozen=True)
class ResultInput:
    characteristic: str  # the characteristic's code
    value: Decimal | None = None
    text: str | None = None


def _characteristics(session: Session, lot: InspectionLot) -> dict[str, Characteristic]:
    if lot.specification_id is None:
        # No version was in force when the lot was opened: the one in force now (versions
        # are never back-dated, so none can be in force on the lot's own date) is what the
        # goods are tested against; the lot takes it for good.
        spec_in_force = spec_for_lot(session, lot)
        if spec_in_force is None:
            return {}
        lot.specification_id = spec_in_force.id
        session.flush()
    spec = session.get(Specification, lot.specification_id)
    assert spec is not None
    return {c.code: c for c in spec.characteristics}


def _judged_rows(
    session: Session, actor: Actor, lot: InspectionLot, results: Sequence[ResultInput], source: ResultSource
) -> list[InspectionResult]:
    characteristics = _characteristics(session, lot)
    if not characteristics:
        raise ResultNotApplicable(Message("no specification of the material was in force on {day}: record one "
                                          "first, effective on or before the lot's date", day=lot.inspection_date))
    if not results:
        raise ValidationFailed.for_field("results", Message("send at least one result"))
    rows = []
    for index, r in enumerate(results):
        c = characteristics.get(r.characteristic)
        if c is None:
            raise ResultNotApplicable(
                Message("characteristic {code} is not in the lot's specification", code=r.characteristic),
                errors=[{"pointer": f"/results/{index}/characteristic", "detail": Message("not in the specification")}])
        if (r.value is None) == (r.text is None) or (c.numeric and r.value is None) or (
                not c.numeric and r.text is None):
            wanted = Message("a number in {unit}", unit=c.unit or "-") if c.numeric else Message("a text")
            raise ResultNotApplicable(
                Message("characteristic {code} takes {wanted}", code=c.code, wanted=wanted),
                errors=[{"pointer": f"/results/{index}", "detail": wanted}])
        rows.append(InspectionResult(lot_id=lot.id, characteristic_id=c.id, source=source, value=r.value,
                                     text_value=r.text.strip() if r.text is not None else None,
                                     conforms=c.judge(r.value, r.text), recorded_by=actor.user_id))
    return rows


def record_results(
    session: Session, actor: Actor, *, lot_id: int, results: Sequence[ResultInput]
) -> InspectionLot:
    """Record the laboratory's results of a lot, each judged against the lot's specification
    (the version in force on the receipt date). A result recorded again supersedes the
    earlier one for the decision; both stay (results are append-only).

    Refuses: role-not-allowed, not-found, lot-not-open, result-not-applicable (no
    specification, unknown characteristic, number for text or the reverse)."""
    actor.require_role(Role.QUALITY, action="recording inspection results")
    lot = _open_lot_for_work(session, actor, lot_id)
    session.add_all(_judged_rows(session, actor, lot, results, ResultSource.LABORATORY))
    session.flush()
    return lot


def record_certificate(
    session: Session,
    actor: Actor,
    *,
    lot_id: int,
    number: str,
    issued_on: dt.date,
    file_name: str,
    content_type: str,
    content: bytes,
    results: Sequence[ResultInput] = (),
) -> CertificateOfAnalysis:
    """Record the supplier's certificate of analysis of a lot: its number, date, the file,
    and the values it states (judged like the laboratory's, for comparison only: the
    decision rests on the laboratory's results). One certificate per lot.

    Refuses: role-not-allowed, not-found, lot-not-open, result-not-applicable, conflict
    (a certificate is already recorded)."""
    actor.require_role(Role.QUALITY, action="recording certificates of analysis")
    lot = _open_lot_for_work(session, actor, lot_id)
    if session.scalar(select(CertificateOfAnalysis.id).where(CertificateOfAnalysis.lot_id == lot.id)):
        raise LotNotOpen(Message("inspection lot {lot} already has its certificate of analysis", lot=lot.number))
    rows = _judged_rows(session, actor, lot, results, ResultSource.CERTIFICATE) if results else []
    certificate = CertificateOfAnalysis(lot_id=lot.id, number=number, issued_on=issued_on, file_name=file_name,
                                        content_type=content_type, content=content,
                                        sha256=hashlib.sha256(content).hexdigest(), recorded_by=actor.user_id)
    session.add(certificate)
    session.add_all(rows)
    session.flush()
    return certificate


@dataclass(frozen=True)
class CharacteristicResult:
    """A characteristic of the lot's specification with its latest results."""

    code: str
    name_zh: str
    name_en: str
    unit: str | None
    minimum: Decimal | None
    maximum: Decimal | None
    expected_text: str | None
    laboratory: InspectionResult | None
    certificate: InspectionResult | None

    @property
    def difference(self) -> Decimal | None:
        """The laboratory's value less the certificate's (numeric characteristics)."""
        if self.laboratory is None or self.certificate is None or self.laboratory.value is None \
                or self.certificate.value is None:
            return None
        return self.laboratory.value - self.certificate.value


@dataclass(frozen=True)
class LotView:
    lot: InspectionLot
    specification: Specification | None
    material: Material
    warehouse: Warehouse
    batch: Batch
    results: list[CharacteristicResult]
    certificate: CertificateOfAnalysis | None
    decision: UsageDecision | None
    recorded_by: list[int] = field(default_factory=list)
    # The kind of stock document the lot came in by (a purchase receipt or a production
    # order's delivery: both open lots of origin ``receipt``), for pages to name it.
    source_kind: MovementType | None = None

    @property
    def out_of_specification(self) -> bool:
        return any(r.laboratory is not None and not r.laboratory.conforms for r in self.results)

    @property
    def complete(self) -> bool:
        return all(r.laboratory is not None for r in self.results) and bool(self.results)


def _latest_results(session: Session, lot_id: int) -> dict[tuple[int, ResultSource], InspectionResult]:
    latest: dict[tuple[int, ResultSource], InspectionResult] = {}
    for row in session.scalars(select(InspectionResult).where(InspectionResult.lot_id == lot_id)
                               .order_by(InspectionResult.id)):
        latest[(row.characteristic_id, row.source)] = row
    return latest


def lot_view(session: Session, actor: Actor, lot_id: int, *, lot: InspectionLot | None = None) -> LotView:
    """A lot with its specification, the latest laboratory and certificate result per
    characteristic (and their difference), the certificate and the decision."""
    lot = lot or get_lot(session, actor, lot_id)
    spec = spec_for_lot(session, lot)
    latest = _latest_results(session, lot.id)
    results = [CharacteristicResult(c.code, c.name_zh, c.name_en, c.unit, c.minimum, c.maximum, c.expected_text,
                                    latest.get((c.id, ResultSource.LABORATORY)),
                                    latest.get((c.id, ResultSource.CERTIFICATE)))
               for c in (spec.characteristics if spec else [])]
    recorders = sorted(set(session.scalars(select(InspectionResult.recorded_by).where(
        InspectionResult.lot_id == lot.id, InspectionResult.source == ResultSource.LABORATORY))))
    material = session.get(Material, lot.material_id)
    warehouse = session.get(Warehouse, lot.warehouse_id)
    batch = session.get(Batch, lot.batch_id)
    assert material is not None and warehouse is not None and batch is not None
    return LotView(
        lot=lot, specification=spec, material=material, warehouse=warehouse, batch=batch, results=results,
        certificate=session.scalars(select(CertificateOfAnalysis).where(CertificateOfAnalysis.lot_id == lot.id)).first(),
        decision=session.scalars(select(UsageDecision).where(UsageDecision.lot_id == lot.id)).first(),
        recorded_by=recorders, source_kind=_source_kind(session, lot),
    )


def _source_kind(session: Session, lot: InspectionLot) -> MovementType | None:
    if lot.source_document_id is None:
        return None
    return session.scalar(select(StockDocument.doc_type).where(StockDocument.id == lot.source_document_id))


def list_lots(
    session: Session, actor: Actor, *, status: LotStatus | None = None, warehouse_id: int | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[InspectionLot], int]:
    """Lots of the caller's companies, oldest open first."""
    actor.require_role(Role.QUALITY, Role.CLERK, Role.AUDITOR, Role.ADMIN, action="reading inspection lots")
    conditions = [actor.warehouse_scope(InspectionLot.warehouse_id, InspectionLot.company_id)]
    if status is not None:
        conditions.append(InspectionLot.status == status)
    if warehouse_id is not None:
        conditions.append(InspectionLot.warehouse_id == warehouse_id)
    return page(session, select(InspectionLot).where(*conditions).order_by(InspectionLot.id),
                offset=offset, limit=limit, entities=True)


@dataclass(frozen=True)
class LotRow:
    """A lot as worklists show it: with its material, batch and warehouse named."""

    id: int
    number: str
    origin: LotOrigin
    status: LotStatus
    inspection_date: dt.date
    quantity: Decimal
    material_code: str
    material_name_zh: str
    material_name_en: str
    unit_code: str
    batch_number: str
    warehouse_code: str
    warehouse_name_zh: str
    warehouse_name_en: str
    excursion_id: int | None
    source_kind: MovementType | None = None  # the stock document the lot came in by (see LotView)


def lot_rows(
    session: Session, actor: Actor, *, status: LotStatus | None = LotStatus.OPEN, offset: int = 0, limit: int = 50,
) -> tuple[list[LotRow], int]:
    """The quality worklist: lots of the caller's warehouses, oldest first."""
    actor.require_role(Role.QUALITY, Role.CLERK, Role.AUDITOR, Role.ADMIN, action="reading inspection lots")
    where = [actor.warehouse_scope(InspectionLot.warehouse_id, InspectionLot.company_id)]
    if status is not None:
        where.append(InspectionLot.status == status)
    rows, total = page(
        session,
        select(InspectionLot.id, InspectionLot.origin, InspectionLot.status, InspectionLot.inspection_date,
               InspectionLot.quantity, Material.code, Material.name_zh, Material.name_en, UnitOfMeasure.code,
               Batch.batch_number, Warehouse.code, Warehouse.name_zh, Warehouse.name_en, InspectionLot.excursion_id,
               StockDocument.doc_type)
        .join(Material, Material.id == InspectionLot.material_id)
        .outerjoin(StockDocument, StockDocument.id == InspectionLot.source_document_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .join(Batch, Batch.id == InspectionLot.batch_id)
        .join(Warehouse, Warehouse.id == InspectionLot.warehouse_id)
        .where(*where).order_by(InspectionLot.inspection_date, InspectionLot.id), offset=offset, limit=limit)
    # Each row ends with the pager's count of all rows, which is not part of a LotRow.
    return [LotRow(r[0], lot_number(r[0]), *r[1:-1]) for r in rows], total


# --- the usage decision ------------------------------------------------------------------------

@dataclass(frozen=True)
class SigningOutcome:
    """A signed decision, or the refusal to raise once the failed attempt's audit row is
    committed (raised inside the transaction, it would roll the record back)."""

    decision: UsageDecision | None = None
    refusal: DomainError | None = None

    def signed(self) -> UsageDecision:
        if self.refusal is not None:
            raise self.refusal
        assert self.decision is not None
        return self.decision


def decide_usage(
    session: Session,
    actor: Actor,
    *,
    lot_id: int,
    decision: UsageDecisionKind,
    password: str,
    posting_date: dt.date,
    deviation_reference: str | None = None,
    reason: str | None = None,
) -> SigningOutcome:
    """QA's usage decision on an inspection lot, signed electronically: the signer re-enters
    their password now; the record holds who, when and the meaning ("released",
    "rejected"). Release moves the lot's stock from quarantine to unrestricted, rejection to
    blocked (for return to the supplier or scrap), in one stock document.

    Rules: the person who recorded a laboratory result of the lot cannot sign it (four
    eyes); a release needs a result for every characteristic, and with any result out of
    specification a deviation reference and a reason. A wrong password signs nothing and
    is recorded in the audit trail (``signature-refused`` on the lot): the caller commits,
    then calls ``signed()``, which raises the refusal.

    Refuses: role-not-allowed, not-found, lot-not-open, signature-not-verified,
    signer-recorded-results, results-incomplete, out-of-specification, period-closed,
    no-standard-price, no-stock-on-hold. All but the last are refused before any stock
    balance is locked (the lot read as it is, the password, the results, the period and
    price): a refusal never holds a clerk's posting on the batch back, least of all while a
    wrong password is hashed. The lot is then locked after its balances (the one lock order,
    ``_lot_for_decision``) and the lot and result rules are checked again on it as it is
    then (a result recorded meanwhile counts).
    """
    actor.require_role(Role.QUALITY, action="signing usage decisions")
    meaning = SIGNATURE_MEANING[decision]
    reference = (deviation_reference or "").strip() or None
    why = (reason or "").strip() or None
    lot = _require_open(get_lot(session, actor, lot_id))
    if not password_matches(session, actor.user_id, password):
        audit.record_event(session, actor_id=actor.user_id, actor_name=actor.username, entity="inspection_lot",
                           entity_id=lot.id, action="signature-refused", company_id=lot.company_id,
                           reason=narrate("signature-refused", REASON_LENGTH, meaning=Term(meaning)))
        return SigningOutcome(refusal=SignatureNotVerified(Message(
            "the password is not yours: lot {lot} is not signed, and the attempt is recorded", lot=lot.number)))
    _check_signing(session, actor, lot, decision, reference, why)
    # The period held open and the price read before the balances are locked, as every
    # posting does (period, balances, lots); a lot keeps its company and material.
    _, price = price_for_posting(session, lot.company_id, lot.material_id, posting_date)
    target = StockStatus.UNRESTRICTED if decision == UsageDecisionKind.RELEASE else StockStatus.BLOCKED
    lot = _lot_for_decision(session, actor, lot_id, target)
    view = _check_signing(session, actor, lot, decision, reference, why)
    doc_type = MovementType.QUALITY_RELEASE if decision == UsageDecisionKind.RELEASE else MovementType.QUALITY_REJECT
    document_id = _change_status(
        session, lot, from_status=StockStatus.QUARANTINE, to_status=target, doc_type=doc_type, price=price,
        posting_date=posting_date, user_id=actor.user_id, reference=lot.number,
        reason=_decision_narration(meaning, reference, why),
    )
    user = session.get(User, actor.user_id)
    signed = UsageDecision(lot_id=lot.id, decision=decision, meaning=meaning, signed_by=actor.user_id,
                           signer_name=(user.display_name if user else actor.username),
                           out_of_specification=view.out_of_specification, deviation_reference=reference,
                           reason=why, document_id=document_id)
    session.add(signed)
    lot.status = LotStatus.RELEASED if decision == UsageDecisionKind.RELEASE else LotStatus.REJECTED
    session.flush()
    audit.record_event(session, actor_id=actor.user_id, actor_name=actor.username, entity="inspection_lot",
                       entity_id=lot.id, action="usage-decision-signed", company_id=lot.company_id,
                       changes={"decision": {"after": decision.value}, "meaning": {"after": meaning},
                                "deviation_reference": {"after": reference}},
                       reason=why)
    return SigningOutcome(decision=signed)


def _decision_narration(meaning: str, reference: str | None, why: str | None) -> str:
    """The reason the decision's stock document carries, in the reader's language on every
    page (erp.narration): released or rejected, the deviation and the signer's reason."""
    key = f"usage-decision-{meaning}"
    if reference:
        return narrate(f"{key}-deviation", REASON_LENGTH, deviation=reference, reason=why or "")
    return narrate(f"{key}-reason", REASON_LENGTH, reason=why) if why else narrate(key, REASON_LENGTH)


def _check_signing(session: Session, actor: Actor, lot: InspectionLot, decision: UsageDecisionKind,
                   reference: str | None, why: str | None) -> LotView:
    """The lot's view, once the rules on who signs and on its results allow the decision.
    Refuses signer-recorded-results (four eyes), results-incomplete, out-of-specification
    (a release without a deviation reference and a reason)."""
    view = lot_view(session, actor, lot.id, lot=lot)
    if actor.user_id in view.recorded_by:
        raise SignerRecordedResults(Message("you recorded results of lot {lot}; another QA person signs it",
                                            lot=lot.number))
    if decision == UsageDecisionKind.RELEASE:
        if not view.results and view.material.inspection_required:
            raise ResultsIncomplete(Message("{material} needs inspection and has no specification: group QA records "
                                            "one, the laboratory its results, before lot {lot} is released",
                                            material=Named.of(view.material), lot=lot.number))
        if view.results and not view.complete:
            missing = [r.code for r in view.results if r.laboratory is None]
            raise ResultsIncomplete(Message("lot {lot} has no result for {missing}", lot=lot.number,
                                            missing=", ".join(missing) or "-"))
        if view.out_of_specification and (reference is None or why is None):
            failing = [r.code for r in view.results if r.laboratory is not None and not r.laboratory.conforms]
            raise OutOfSpecification(Message("lot {lot} is out of specification for {failing}: a release needs a "
                                             "deviation reference and a reason", lot=lot.number,
                                             failing=", ".join(failing)))
    return view


def _change_status(
    session: Session,
    lot: InspectionLot,
    *,
    from_status: StockStatus,
    to_status: StockStatus,
    doc_type: MovementType,
    price: Decimal,
    posting_date: dt.date,
    user_id: int,
    reference: str | None,
    reason: str,
) -> int:
    """Move up to the lot's quantity of its batch between statuses in its warehouse: one
    stock document of paired movements, no journal (the value stays on the same account).
    ``price``: the standard in force, read by the caller with the period held open
    (``price_for_posting``). Refuses no-stock-on-hold when nothing of it is there."""
    held = lock_balances(session, warehouse_id=lot.warehouse_id, material_id=lot.material_id, status=from_status,
                         batch_id=lot.batch_id)
    movements: list[Movement] = []
    remaining = lot.quantity
    for balance in held:
        taken = min(available_on(session, balance, posting_date), remaining)
        if taken <= 0:
            continue
        value = value_taken(session, lot.company_id, balance, taken, price, posting_date)
        movements += [
            Movement(doc_type, CloseClass.INTERNAL, lot.warehouse_id, lot.material_id, lot.batch_id, from_status,
                     -taken, -value),
            Movement(doc_type, CloseClass.INTERNAL, lot.warehouse_id, lot.material_id, lot.batch_id, to_status,
                     taken, value),
        ]
        remaining -= taken
    if not movements:
        raise NoStockOnHold(Message("nothing of lot {lot}'s batch is in {status} in the warehouse on {day}",
                                    lot=lot.number, status=from_status.value, day=posting_date))
    posted = post(session, Posting(
        company_id=lot.company_id, posting_date=posting_date, user_id=user_id,
        document=Document(doc_type, reference=reference, reason=reason[:500]), movements=movements,
    ))
    assert posted.document_id is not None
    return posted.document_id
