"""Purchasing use cases: contracts, steward exceptions, what may be ordered, purchase orders.

One function per use case; each takes a session (the caller owns the transaction), the
acting user and plain values, and raises ``DomainError`` subclasses. Nothing here imports
Flask.

Prices enter the system only through contract lines: an order line copies the unit price
of the contract line that applies, and its amount is quantity x price rounded half-up to
0.01 CNY. For a company, supplier, material and date exactly one contract line applies:
among active contracts valid that day, a company contract wins over a group contract, and
two live contracts of the same scope never overlap (refused when the second is made).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.db import dialect_insert, utcnow
from erp.money import MAX_LINE_AMOUNT, MAX_LINE_QUANTITY, round_money
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.errors import SupplierBlocked
from erp.masterdata.models import Company, Material, ProcurementScope, Supplier, UnitOfMeasure, Warehouse
from erp.masterdata.services import can_store, warehouse_use_check
from erp.purchasing import errors as e
from erp.purchasing.models import (
    CONSUMING_STATUSES,
    CONTRACT_LIVE_STATUSES,
    CONTRACT_TRANSITIONS,
    ORDER_TRANSITIONS,
    Contract,
    ContractLine,
    ContractScope,
    ContractStatus,
    DocumentSequence,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    PurchasingException,
    business_today,
    transition_allowed,
)
from erp.purchasing.rights import BUYING_ROLES, ExceptionWindow, purchasing_right

# An order line beyond these is a typing error, not a purchase: a billion units of
# anything, or a trillion CNY on one line (which would also overflow Numeric(18, 2)).


# --- look-ups shared by the use cases ---------------------------------------------------

def _active_row(session: Session, model: Any, row_id: int, field: str, *, lock: bool = False) -> Any:
    """An active master record named by a request field (422 on that field otherwise)."""
    query = select(model).where(model.id == row_id)
    if lock:
        query = query.with_for_update(of=model)
    row = session.scalars(query).one_or_none()
    if row is None or not row.active:
        raise ValidationFailed.for_field(field, f"no active {model.__name__.lower()} with id {row_id}")
    return row


def _check_validity(valid_from: dt.date, valid_to: dt.date) -> None:
    if valid_from > valid_to:
        raise ValidationFailed.for_field("valid_to", f"{valid_to} is before valid_from {valid_from}")


def _exception_windows(
    session: Session, company_id: int, material_ids: Iterable[int] | None = None
) -> dict[int, list[ExceptionWindow]]:
    """The unrevoked exceptions of a company, by material (whatever their dates)."""
    query = select(PurchasingException).where(
        PurchasingException.company_id == company_id, PurchasingException.revoked_at.is_(None)
    )
    if material_ids is not None:
        query = query.where(PurchasingException.material_id.in_(sorted(set(material_ids))))
    windows: dict[int, list[ExceptionWindow]] = defaultdict(list)
    for exception in session.scalars(query):
        windows[exception.material_id].append(exception.window)
    return windows


def applicable_contract_lines(
    session: Session,
    *,
    company_id: int,
    day: dt.date,
    supplier_id: int | None = None,
    material_ids: Iterable[int] | None = None,
) -> dict[tuple[int, int], ContractLine]:
    """The contract line that applies, by (supplier id, material id), for a company on a day.

    One query: the lines of active contracts valid on ``day`` that serve the company (its
    own contracts and the group's); where both exist, the company contract wins.
    """
    query = (
        select(ContractLine)
        .join(ContractLine.contract)
        .where(
            Contract.status == ContractStatus.ACTIVE,
            Contract.valid_from <= day,
            Contract.valid_to >= day,
            or_(Contract.scope == ContractScope.GROUP, Contract.company_id == company_id),
        )
        .options(
            contains_eager(ContractLine.contract).joinedload(Contract.supplier),
            joinedload(ContractLine.material),
            joinedload(ContractLine.unit),
        )
    )
    if supplier_id is not None:
        query = query.where(Contract.supplier_id == supplier_id)
    if material_ids is not None:
        query = query.where(ContractLine.material_id.in_(sorted(set(material_ids))))
    applicable: dict[tuple[int, int], ContractLine] = {}
    for line in session.scalars(query):
        key = (line.contract.supplier_id, line.material_id)
        current = applicable.get(key)
        if current is None or _precedence(line) > _precedence(current):
            applicable[key] = line
    return applicable


def _precedence(line: ContractLine) -> tuple[bool, dt.date, int]:
    # Company over group; overlaps of one scope are refused, so the rest only makes the
    # choice deterministic should data ever disagree.
    return (line.contract.scope == ContractScope.COMPANY, line.contract.valid_from, line.contract.id)


# --- document numbers ------------------------------------------------------------------

def next_in_series(session: Session, series: str) -> int:
    """The next number of ``series``, safe under concurrent transactions.

    The series row is created on first use (INSERT ... ON CONFLICT DO NOTHING, so two
    first users do not collide) and then incremented by one UPDATE ... RETURNING, which
    holds the row lock until the transaction ends: concurrent creators wait for each other
    and numbers are neither skipped nor repeated (a rolled-back transaction gives its
    number back).
    """
    table = DocumentSequence.__table__
    session.execute(
        dialect_insert(session, table).values(series=series, next_value=1).on_conflict_do_nothing(
            index_elements=[table.c.series]
        )
    )
    taken = session.execute(
        update(table)
        .where(table.c.series == series)
        .values(next_value=table.c.next_value + 1)
        .returning(table.c.next_value - 1)
    ).scalar_one()
    return int(taken)


def order_number(session: Session, purchasing_company: Company | None, order_date: dt.date) -> str:
    """``PO-GRP-2026-000001`` for central purchasing, ``PO-<company code>-2026-000001`` for a company."""
    organisation = "GRP" if purchasing_company is None else purchasing_company.code
    series = f"PO-{'GROUP' if purchasing_company is None else purchasing_company.code}-{order_date.year}"
    return f"PO-{organisation}-{order_date.year}-{next_in_series(session, series):06d}"


# --- contracts ---------------------------------------------------------------------------

def _contract_visibility(actor: Actor) -> ColumnElement[bool]:
    """Group contracts serve everyone; company contracts are seen by that company's users."""
    return or_(Contract.scope == ContractScope.GROUP, actor.company_scope(Contract.company_id))


def _require_contract_author(actor: Actor, scope: ContractScope, company_id: int | None) -> None:
    actor.require_role(Role.BUYER, Role.GROUP_BUYER, action="making or changing a contract")
    if scope == ContractScope.GROUP:
        if actor.role != Role.GROUP_BUYER:
            raise e.GroupContractNeedsGroupBuyer("group contracts are made by central purchasing (group buyers)")
    elif company_id is not None:
        actor.require_company(company_id, what="company's contracts")


def _check_contract_overlap(
    session: Session, supplier: Supplier, scope: ContractScope, company_id: int | None,
    valid_from: dt.date, valid_to: dt.date, materials: Sequence[Material],
) -> None:
    """Refuse a second live contract of the same scope for a supplier and material whose
    validity overlaps: it would make the applicable price ambiguous."""
    query = (
        select(Contract.number, Contract.valid_from, Contract.valid_to, Material.code)
        .join(Contract.lines)
        .join(ContractLine.material)
        .where(
            Contract.supplier_id == supplier.id,
            Contract.scope == scope,
            Contract.company_id == company_id if company_id is not None else Contract.company_id.is_(None),
            Contract.status.in_([s.value for s in CONTRACT_LIVE_STATUSES]),
            Contract.valid_from <= valid_to,
            Contract.valid_to >= valid_from,
            ContractLine.material_id.in_([m.id for m in materials]),
        )
        .order_by(Contract.number, Material.code)
        .limit(1)
    )
    clash = session.execute(query).first()
    if clash is not None:
        number, other_from, other_to, material_code = clash
        raise e.ContractOverlap(
            f"contract {number} already prices {material_code} from supplier {supplier.code} "
            f"from {other_from} to {other_to}, which overlaps {valid_from} to {valid_to}",
            conflicting_contract=number,
        )


def _contract_materials(session: Session, lines: Sequence[Mapping[str, Any]]) -> list[Material]:
    materials = {m.id: m for m in session.scalars(
        select(Material).where(Material.id.in_({line["material_id"] for line in lines}))
    )}
    chosen: list[Material] = []
    for index, line in enumerate(lines):
        pointer = f"lines/{index}/material_id"
        material = materials.get(line["material_id"])
        if material is None or not material.active:
            raise ValidationFailed.for_field(pointer, f"no active material with id {line['material_id']}")
        if material in chosen:
            raise ValidationFailed.for_field(pointer, f"{material.code} appears twice; one price per material")
        if line.get("target_quantity") is not None:
            _check_precision(line["target_quantity"], material.unit, f"/lines/{index}/target_quantity")
        chosen.append(material)
    return chosen


def create_contract(
    session: Session,
    actor: Actor,
    *,
    number: str,
    supplier_id: int,
    scope: ContractScope,
    company_id: int | None,
    valid_from: dt.date,
    valid_to: dt.date,
    lines: Sequence[Mapping[str, Any]],
) -> Contract:
    """Record a framework agreement with a supplier as a draft (one price per material)."""
    if scope == ContractScope.GROUP and company_id is not None:
        raise ValidationFailed.for_field("company_id", "a group contract serves every company; leave it empty")
    if scope == ContractScope.COMPANY and company_id is None:
        raise ValidationFailed.for_field("company_id", "a company contract names its company")
    _require_contract_author(actor, scope, company_id)
    _check_validity(valid_from, valid_to)
    if session.scalar(select(Contract.id).where(Contract.number == number)) is not None:
        raise e.DuplicateNumber(
            f"a contract numbered {number} already exists",
            errors=[{"pointer": "/number", "detail": f"{number} is already used"}],
        )
    company = _active_row(session, Company, company_id, "company_id") if company_id is not None else None
    # The supplier's row lock serialises contract-making per supplier, so two overlapping
    # contracts cannot both pass the overlap check at the same time.
    supplier = _active_row(session, Supplier, supplier_id, "supplier_id", lock=True)
    if supplier.blocked:
        raise SupplierBlocked(
            f"supplier {supplier.code} is blocked; no new contracts"
        )
    materials = _contract_materials(session, lines)
    _check_contract_overlap(session, supplier, scope, company_id, valid_from, valid_to, materials)
    contract = Contract(
        number=number, supplier=supplier, scope=scope, company=company, valid_from=valid_from,
        valid_to=valid_to, status=ContractStatus.DRAFT, created_by=actor.user_id,
        lines=[
            ContractLine(
                material=material, unit=material.unit, unit_price=line["unit_price"],
                target_quantity=line.get("target_quantity"), ordered_quantity=Decimal(0),
            )
            for material, line in zip(materials, lines, strict=True)
        ],
    )
    session.add(contract)
    session.flush()
    audit.record_change(session, actor, entity="contract", entity_id=contract.id, action=audit.CREATE,
                        after=_contract_snapshot(contract), company_id=company_id)
    return contract


def _contract_snapshot(contract: Contract) -> dict[str, Any]:
    """A contract as the audit trail records it: its terms and its priced lines."""
    values = audit.snapshot(contract, exclude=("activated_at", "terminated_at", "terminated_by",
                                               "termination_reason", "created_by"))
    values["lines"] = [
        audit.snapshot(line, exclude=("id", "contract_id", "unit_id", "ordered_quantity")) for line in contract.lines
    ]
    return values


_CONTRACT_LOAD = (
    joinedload(Contract.supplier),
    joinedload(Contract.company),
    selectinload(Contract.lines).options(joinedload(ContractLine.material), joinedload(ContractLine.unit)),
)


def get_contract(session: Session, actor: Actor, contract_id: int, *, lock: bool = False) -> Contract:
    """One contract with its lines and their consumption; 404 for another company's."""
    query = select(Contract).where(Contract.id == contract_id, _contract_visibility(actor)).options(*_CONTRACT_LOAD)
    if lock:
        query = query.with_for_update(of=Contract)
    contract = session.scalars(query).one_or_none()
    if contract is None:
        raise NotFound(f"contract {contract_id} not found")
    return contract


def _move_contract(contract: Contract, target: ContractStatus, today: dt.date, verb: str) -> None:
    current = contract.status_on(today)
    if not transition_allowed(CONTRACT_TRANSITIONS, current, target):
        raise e.StatusTransitionNotAllowed(f"cannot {verb} contract {contract.number}: it is {current.value}")
    contract.status = target


def activate_contract(session: Session, actor: Actor, contract_id: int, *, today: dt.date | None = None) -> Contract:
    """Put a draft contract in force: its prices apply to orders from now on."""
    contract = get_contract(session, actor, contract_id, lock=True)
    _require_contract_author(actor, contract.scope, contract.company_id)
    before = contract.status
    _move_contract(contract, ContractStatus.ACTIVE, today or business_today(), "activate")
    contract.activated_at = utcnow()
    session.flush()
    audit.record_change(session, actor, entity="contract", entity_id=contract.id, action="activate",
                        before={"status": before}, after={"status": contract.status}, company_id=contract.company_id)
    return contract


def terminate_contract(
    session: Session, actor: Actor, contract_id: int, reason: str, *, today: dt.date | None = None
) -> Contract:
    """End a contract early, with a reason; orders already placed keep their prices."""
    contract = get_contract(session, actor, contract_id, lock=True)
    _require_contract_author(actor, contract.scope, contract.company_id)
    before = contract.status
    _move_contract(contract, ContractStatus.TERMINATED, today or business_today(), "terminate")
    contract.terminated_at = utcnow()
    contract.terminated_by = actor.user_id
    contract.termination_reason = reason
    session.flush()
    audit.record_change(session, actor, entity="contract", entity_id=contract.id, action="terminate",
                        before={"status": before}, after={"status": contract.status}, reason=reason,
                        company_id=contract.company_id)
    return contract


def list_contracts(
    session: Session, actor: Actor, filters: Mapping[str, Any], *, offset: int, limit: int,
    today: dt.date | None = None,
) -> tuple[list[Contract], int]:
    """Contracts the caller may see, newest validity first, filtered by supplier, company,
    scope, status (expired is computed), material, validity on a day or number."""
    query: Select[Any] = select(Contract).where(_contract_visibility(actor))
    for name in ("supplier_id", "company_id", "scope"):
        if name in filters:
            query = query.where(getattr(Contract, name) == filters[name])
    if "status" in filters:
        query = query.where(Contract.status_on(today or business_today()) == filters["status"].value)
    if "material_id" in filters:
        query = query.where(Contract.lines.any(ContractLine.material_id == filters["material_id"]))
    if "valid_on" in filters:
        query = query.where(Contract.valid_from <= filters["valid_on"], Contract.valid_to >= filters["valid_on"])
    if "q" in filters:
        query = query.where(Contract.number.ilike(f"%{filters['q']}%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(joinedload(Contract.supplier), joinedload(Contract.company))
        .order_by(Contract.valid_from.desc(), Contract.number).offset(offset).limit(limit)
    ).all()
    return list(rows), total


# --- steward exceptions ------------------------------------------------------------------

def grant_exception(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    material_id: int,
    valid_from: dt.date,
    valid_to: dt.date,
    reason: str,
) -> PurchasingException:
    """Let a company's buyers order a central material themselves for a dated period."""
    actor.require_role(Role.STEWARD, action="granting a purchasing exception")
    _check_validity(valid_from, valid_to)
    company = _active_row(session, Company, company_id, "company_id")
    material = _active_row(session, Material, material_id, "material_id")
    if material.procurement_scope != ProcurementScope.CENTRAL:
        raise e.ExceptionForLocalMaterial(
            f"{material.code} is a local material: its company's buyers order it without an exception",
            errors=[{"pointer": "/material_id", "detail": "not a central material"}],
        )
    exception = PurchasingException(
        company=company, material=material, valid_from=valid_from, valid_to=valid_to, reason=reason,
        granted_by=actor.user_id,
    )
    session.add(exception)
    session.flush()
    audit.record_change(session, actor, entity="purchasing_exception", entity_id=exception.id, action="grant",
                        after={"company_id": company.id, "material_id": material.id, "valid_from": valid_from,
                               "valid_to": valid_to}, reason=reason, company_id=company.id)
    return exception


def revoke_exception(session: Session, actor: Actor, exception_id: int) -> PurchasingException:
    """End an exception now; orders already submitted under it stand."""
    actor.require_role(Role.STEWARD, action="revoking a purchasing exception")
    exception = session.scalars(
        select(PurchasingException).where(PurchasingException.id == exception_id)
        .options(joinedload(PurchasingException.company), joinedload(PurchasingException.material))
        .with_for_update(of=PurchasingException)
    ).one_or_none()
    if exception is None:
        raise NotFound(f"purchasing exception {exception_id} not found")
    if exception.revoked_at is not None:
        raise e.ExceptionAlreadyRevoked(f"purchasing exception {exception_id} is already revoked")
    exception.revoked_at = utcnow()
    exception.revoked_by = actor.user_id
    session.flush()
    audit.record_change(session, actor, entity="purchasing_exception", entity_id=exception.id, action="revoke",
                        before={"revoked_at": None}, after={"revoked_at": exception.revoked_at},
                        company_id=exception.company_id)
    return exception


def list_exceptions(
    session: Session, actor: Actor, filters: Mapping[str, Any], *, offset: int, limit: int
) -> tuple[list[PurchasingException], int]:
    """Exceptions of the companies the caller acts for (stewards: all), newest first."""
    query: Select[Any] = select(PurchasingException).where(actor.company_scope(PurchasingException.company_id))
    for name in ("company_id", "material_id"):
        if name in filters:
            query = query.where(getattr(PurchasingException, name) == filters[name])
    if "valid_on" in filters:
        day = filters["valid_on"]
        query = query.where(PurchasingException.valid_from <= day, PurchasingException.valid_to >= day)
    if not filters.get("include_revoked", False):
        query = query.where(PurchasingException.revoked_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(joinedload(PurchasingException.company), joinedload(PurchasingException.material))
        .order_by(PurchasingException.valid_from.desc(), PurchasingException.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


# --- what may I order ----------------------------------------------------------------------

@dataclass(frozen=True)
class Orderable:
    """A material the caller may order for a company on a day, at a contract line's price."""

    contract_line: ContractLine
    rule: str

    @property
    def material(self) -> Material:
        return self.contract_line.material

    @property
    def supplier(self) -> Supplier:
        return self.contract_line.contract.supplier


def orderable(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    day: dt.date | None = None,
    supplier_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Orderable], int]:
    """What the caller may order for ``company_id`` on ``day``: material, supplier and the
    contract line (price) that applies, by material and supplier code.

    Set-based: one query for the applicable contract lines, one for the company's
    exceptions; the rights rule then runs in memory for each candidate.
    """
    actor.require_role(*sorted(BUYING_ROLES), action="asking what may be ordered")
    if not actor.acts_for_company(company_id) or session.get(Company, company_id) is None:
        raise NotFound(f"company {company_id} not found")
    day = day or business_today()
    candidates = applicable_contract_lines(session, company_id=company_id, day=day, supplier_id=supplier_id)
    windows = _exception_windows(session, company_id)
    allowed: list[Orderable] = []
    for line in candidates.values():
        decision = purchasing_right(
            actor, receiving_company_id=company_id, material=line.material, supplier=line.contract.supplier,
            on=day, exceptions=windows.get(line.material_id, ()),
        )
        if decision.allowed:
            allowed.append(Orderable(line, decision.rule))
    allowed.sort(key=lambda item: (item.material.code, item.supplier.code))
    end = None if limit is None else offset + limit
    return allowed[offset:end], len(allowed)


# --- purchase orders: pricing and checking lines -----------------------------------------------

@dataclass(frozen=True)
class PricedLine:
    """An order line that passed every check, priced from its contract line."""

    material: Material
    quantity: Decimal
    warehouse: Warehouse
    contract_line: ContractLine
    amount: Decimal


def _check_precision(quantity: Decimal, unit: UnitOfMeasure, pointer: str) -> None:
    if not unit.admits(quantity):
        raise e.QuantityTooPrecise(
            f"{quantity} {unit.code}: quantities in {unit.code} take at most {unit.decimals} decimals",
            pointer=pointer,
        )


def _check_quantity(quantity: Decimal, unit: UnitOfMeasure, pointer: str) -> None:
    if quantity <= 0:
        raise e.QuantityNotPositive(f"quantity {quantity} {unit.code} is not positive", pointer=pointer)
    if quantity > MAX_LINE_QUANTITY:
        raise e.QuantityTooLarge(
            f"quantity {quantity} {unit.code} is above {MAX_LINE_QUANTITY}, beyond any plausible order",
            pointer=pointer,
        )
    _check_precision(quantity, unit, pointer)


def _check_warehouse(warehouse: Warehouse | None, warehouse_id: int, company: Company, material: Material,
                     pointer: str) -> Warehouse:
    if warehouse is None:
        raise ValidationFailed.for_field(pointer.lstrip("/"), f"no warehouse with id {warehouse_id}")
    if warehouse.company_id != company.id:
        raise e.WarehouseNotOfReceivingCompany(
            f"warehouse {warehouse.code} belongs to another company, not to the receiving company {company.code}",
            pointer=pointer,
        )
    if not warehouse.active:
        raise e.WarehouseInactive(f"warehouse {warehouse.code} is inactive", pointer=pointer)
    fits, why = can_store(warehouse, material)
    if not fits:
        raise e.StorageConditionsNotMet(why, pointer=pointer)
    return warehouse


def _choose_contract_line(
    applicable: ContractLine | None, named_id: int | None, material: Material, supplier: Supplier,
    company: Company, day: dt.date, pointer: str,
) -> ContractLine:
    if applicable is None:
        raise e.NoValidContract(
            f"no active contract with supplier {supplier.code} prices {material.code} "
            f"for company {company.code} on {day}",
            pointer=f"{pointer}/material_id",
        )
    if named_id is not None and named_id != applicable.id:
        # A named line is the price the buyer saw; if another applies now, say so rather
        # than silently ordering at a different price.
        raise e.ContractLineNotApplicable(
            f"contract line {named_id} does not apply to {material.code} from {supplier.code} for "
            f"{company.code} on {day}; line {applicable.id} of contract {applicable.contract.number} does",
            pointer=f"{pointer}/contract_line_id",
        )
    return applicable


def _price_lines(
    session: Session, actor: Actor, *, company: Company, supplier: Supplier, day: dt.date,
    requests: Sequence[Mapping[str, Any]],
) -> list[PricedLine]:
    """Check every requested line (rights, quantity, warehouse, contract) and price it.

    A fixed handful of queries whatever the number of lines: materials, warehouses,
    exceptions and applicable contract lines are each loaded once.
    """
    material_ids = {r["material_id"] for r in requests}
    materials = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(material_ids)))}
    warehouses = {w.id: w for w in session.scalars(
        select(Warehouse).where(Warehouse.id.in_({r["warehouse_id"] for r in requests}))
    )}
    windows = _exception_windows(session, company.id, material_ids)
    applicable = applicable_contract_lines(
        session, company_id=company.id, day=day, supplier_id=supplier.id, material_ids=material_ids
    )
    priced = []
    for index, request in enumerate(requests):
        pointer = f"/lines/{index}"
        material = materials.get(request["material_id"])
        if material is None:
            raise ValidationFailed.for_field(f"lines/{index}/material_id", f"no material with id {request['material_id']}")
        decision = purchasing_right(
            actor, receiving_company_id=company.id, material=material, supplier=supplier, on=day,
            exceptions=windows.get(material.id, ()),
        )
        if not decision.allowed:
            raise e.refusal(decision, f"{pointer}/material_id")
        quantity = request["quantity"]
        _check_quantity(quantity, material.unit, f"{pointer}/quantity")
        warehouse = _check_warehouse(
            warehouses.get(request["warehouse_id"]), request["warehouse_id"], company, material,
            f"{pointer}/warehouse_id",
        )
        contract_line = _choose_contract_line(
            applicable.get((supplier.id, material.id)), request.get("contract_line_id"), material, supplier,
            company, day, pointer,
        )
        amount = round_money(quantity * contract_line.unit_price)
        if amount > MAX_LINE_AMOUNT:
            raise e.QuantityTooLarge(
                f"{quantity} {material.unit.code} at {contract_line.unit_price} is {amount} CNY, "
                f"above {MAX_LINE_AMOUNT} CNY on one line",
                pointer=f"{pointer}/quantity",
            )
        priced.append(PricedLine(material, quantity, warehouse, contract_line, amount))
    return priced


def _order_lines(priced: Sequence[PricedLine]) -> list[PurchaseOrderLine]:
    return [
        PurchaseOrderLine(
            line_no=number, material=line.material, quantity=line.quantity, warehouse=line.warehouse,
            contract_line=line.contract_line, unit_price=line.contract_line.unit_price, amount=line.amount,
            received_quantity=Decimal(0),
        )
        for number, line in enumerate(priced, start=1)
    ]


def _line_requests(order: PurchaseOrder) -> list[dict[str, Any]]:
    """An order's lines as requests naming their contract lines, to check them again."""
    return [
        {"material_id": line.material_id, "quantity": line.quantity, "warehouse_id": line.warehouse_id,
         "contract_line_id": line.contract_line_id}
        for line in order.lines
    ]


# --- purchase orders: who may do what ---------------------------------------------------------

def _is_purchaser_of(actor: Actor, order: PurchaseOrder) -> bool:
    """Buyers of the order's purchasing organisation: group buyers for central orders, the
    company's buyers for a company's own."""
    if order.is_central:
        return actor.role == Role.GROUP_BUYER
    return actor.role == Role.BUYER and actor.acts_for_company(order.receiving_company_id)


def _is_manager_of(actor: Actor, order: PurchaseOrder) -> bool:
    """Purchasing managers of the order's purchasing organisation (group-wide for central orders)."""
    if actor.role != Role.PURCHASING_MANAGER:
        return False
    return actor.group_wide if order.is_central else actor.acts_for_company(order.receiving_company_id)


def _organisation(order: PurchaseOrder) -> str:
    return "central purchasing" if order.is_central else f"company {order.receiving_company.code}"


def _require_purchaser(actor: Actor, order: PurchaseOrder, action: str) -> None:
    if not _is_purchaser_of(actor, order):
        raise e.NotPurchaserOfOrder(f"{action} order {order.number} is for the buyers of {_organisation(order)}")


def _require_purchaser_or_manager(actor: Actor, order: PurchaseOrder, action: str) -> None:
    if not (_is_purchaser_of(actor, order) or _is_manager_of(actor, order)):
        raise e.NotPurchaserOfOrder(
            f"{action} order {order.number} is for the buyers or purchasing managers of {_organisation(order)}")


def _require_approver(actor: Actor, order: PurchaseOrder, action: str) -> None:
    actor.require_role(Role.PURCHASING_MANAGER, action=f"{action} a purchase order")
    if not _is_manager_of(actor, order):
        who = "a group-wide purchasing manager" if order.is_central else \
            f"a purchasing manager of {order.receiving_company.code}"
        raise e.NotApproverOfOrder(f"{action} order {order.number} needs {who}")
    if order.created_by == actor.user_id:
        # Four eyes: whoever placed the order does not also release it.
        raise e.ApproverIsCreator(f"you created order {order.number}; another manager must {action} it")


# --- purchase orders: use cases -----------------------------------------------------------------

_ORDER_HEADER_LOAD = (
    joinedload(PurchaseOrder.supplier),
    joinedload(PurchaseOrder.receiving_company),
    joinedload(PurchaseOrder.purchasing_company),
)
_ORDER_LOAD = (
    *_ORDER_HEADER_LOAD,
    selectinload(PurchaseOrder.lines).options(
        joinedload(PurchaseOrderLine.material),
        joinedload(PurchaseOrderLine.warehouse),
        joinedload(PurchaseOrderLine.contract_line).options(
            joinedload(ContractLine.contract), joinedload(ContractLine.material), joinedload(ContractLine.unit)
        ),
    ),
)


def create_purchase_order(
    session: Session,
    actor: Actor,
    *,
    receiving_company_id: int,
    supplier_id: int,
    lines: Sequence[Mapping[str, Any]],
    order_date: dt.date | None = None,
    today: dt.date | None = None,
) -> PurchaseOrder:
    """Create a draft order; every line's price is the applicable contract line's.

    The purchasing organisation follows from the caller: a group buyer orders as central
    purchasing, a company buyer as the receiving company. Orders are not backdated (an
    old date would reach an ended contract's price).
    """
    actor.require_role(*sorted(BUYING_ROLES), action="creating a purchase order")
    today = today or business_today()
    order_date = order_date or today
    if order_date < today:
        raise e.OrderDateInPast(
            f"order date {order_date} is before today ({today})",
            errors=[{"pointer": "/order_date", "detail": "may not be before today"}],
        )
    company = _active_row(session, Company, receiving_company_id, "receiving_company_id")
    supplier = _active_row(session, Supplier, supplier_id, "supplier_id")
    priced = _price_lines(session, actor, company=company, supplier=supplier, day=order_date, requests=lines)
    purchasing_company = None if actor.role == Role.GROUP_BUYER else company
    order = PurchaseOrder(
        number=order_number(session, purchasing_company, order_date),
        purchasing_company=purchasing_company, receiving_company=company, supplier=supplier,
        order_date=order_date, status=PurchaseOrderStatus.DRAFT, created_by=actor.user_id,
        lines=_order_lines(priced), total_amount=sum((line.amount for line in priced), Decimal("0.00")),
    )
    session.add(order)
    session.flush()
    return order


def _order_visibility(actor: Actor) -> ColumnElement[bool]:
    """Orders of the caller's companies; a clerk's: those delivering into their warehouses."""
    visible = actor.company_scope(PurchaseOrder.receiving_company_id)
    if actor.role == Role.CLERK:
        visible = and_(visible, PurchaseOrder.lines.any(PurchaseOrderLine.warehouse_id.in_(sorted(actor.warehouse_ids))))
    return visible


def get_purchase_order(session: Session, actor: Actor, order_id: int, *, lock: bool = False) -> PurchaseOrder:
    """One order with its lines; 404 for orders of companies the caller does not act for."""
    query = select(PurchaseOrder).where(PurchaseOrder.id == order_id, _order_visibility(actor)).options(*_ORDER_LOAD)
    if lock:
        query = query.with_for_update(of=PurchaseOrder)
    order = session.scalars(query).one_or_none()
    if order is None:
        raise NotFound(f"purchase order {order_id} not found")
    return order


def replace_order_lines(
    session: Session, actor: Actor, order_id: int, lines: Sequence[Mapping[str, Any]],
    *, today: dt.date | None = None,
) -> PurchaseOrder:
    """Replace a draft order's lines (re-priced from the contracts that apply now)."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser(actor, order, "changing")
    if order.status != PurchaseOrderStatus.DRAFT:
        raise e.StatusTransitionNotAllowed(f"order {order.number} is {order.status.value}; only drafts change")
    day = max(order.order_date, today or business_today())
    priced = _price_lines(
        session, actor, company=order.receiving_company, supplier=order.supplier, day=day, requests=lines
    )
    order.lines.clear()
    session.flush()  # the old lines go before new ones take their line numbers
    order.lines.extend(_order_lines(priced))
    order.total_amount = sum((line.amount for line in priced), Decimal("0.00"))
    session.flush()
    return order


def move_order(session: Session, order: PurchaseOrder, target: PurchaseOrderStatus, action: str) -> None:
    """Move an order along ``ORDER_TRANSITIONS``, keeping contract consumption current.

    Consumption counts while an order is in ``CONSUMING_STATUSES`` (from submission on):
    entering them adds the lines' quantities to their contract lines, leaving them
    (rejection, cancellation) takes them off again. Goods receipts move orders too.
    """
    if not transition_allowed(ORDER_TRANSITIONS, order.status, target):
        raise e.StatusTransitionNotAllowed(f"cannot {action} order {order.number}: it is {order.status.value}")
    was_counted = order.status in CONSUMING_STATUSES
    counts = target in CONSUMING_STATUSES
    if counts != was_counted:
        _add_consumption(session, order.lines, 1 if counts else -1)
    order.status = target


def _add_consumption(session: Session, lines: Iterable[PurchaseOrderLine], sign: int) -> None:
    by_contract_line: dict[int, Decimal] = defaultdict(Decimal)
    contract_lines: dict[int, ContractLine] = {}
    for line in lines:
        by_contract_line[line.contract_line_id] += line.quantity
        contract_lines[line.contract_line_id] = line.contract_line
    table = ContractLine.__table__
    # In id order, so that two orders touching the same lines lock them in the same order.
    for contract_line_id in sorted(by_contract_line):
        ordered = session.execute(
            update(table)
            .where(table.c.id == contract_line_id)
            .values(ordered_quantity=table.c.ordered_quantity + sign * by_contract_line[contract_line_id])
            .returning(table.c.ordered_quantity)
        ).scalar_one()
        set_committed_value(contract_lines[contract_line_id], "ordered_quantity", ordered)


def approval_threshold(company: Company, default_threshold: Decimal) -> Decimal:
    """The value above which the company's orders wait for a purchasing manager: the
    company's own threshold, else the group default."""
    return default_threshold if company.approval_threshold is None else company.approval_threshold


def submit_order(
    session: Session, actor: Actor, order_id: int, *, default_threshold: Decimal, today: dt.date | None = None
) -> PurchaseOrder:
    """Place a draft order: open it, or send it for approval when its value exceeds the
    receiving company's threshold (else ``default_threshold``). Lines are checked again."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser(actor, order, "submitting")
    if order.status != PurchaseOrderStatus.DRAFT:
        raise e.StatusTransitionNotAllowed(f"cannot submit order {order.number}: it is {order.status.value}")
    # Rights, contracts and master data may have changed since the draft was made.
    _price_lines(
        session, actor, company=order.receiving_company, supplier=order.supplier,
        day=max(order.order_date, today or business_today()), requests=_line_requests(order),
    )
    above = order.total_amount > approval_threshold(order.receiving_company, default_threshold)
    move_order(session, order, PurchaseOrderStatus.PENDING_APPROVAL if above else PurchaseOrderStatus.OPEN, "submit")
    order.submitted_at = utcnow()
    order.status_reason = None
    session.flush()
    return order


def approve_order(session: Session, actor: Actor, order_id: int) -> PurchaseOrder:
    """Approve an order waiting for approval: it opens for receipts."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_approver(actor, order, "approve")
    move_order(session, order, PurchaseOrderStatus.OPEN, "approve")
    order.approved_by = actor.user_id
    order.approved_at = utcnow()
    session.flush()
    return order


def reject_order(session: Session, actor: Actor, order_id: int, reason: str) -> PurchaseOrder:
    """Send an order waiting for approval back to draft, with the reason; its contract
    consumption is released until it is submitted again."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_approver(actor, order, "reject")
    move_order(session, order, PurchaseOrderStatus.DRAFT, "reject")
    order.status_reason = reason
    session.flush()
    return order


def cancel_order(session: Session, actor: Actor, order_id: int, reason: str | None) -> PurchaseOrder:
    """Cancel an order against which nothing has been received; releases its consumption."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser_or_manager(actor, order, "cancelling")
    if not order.nothing_received:
        raise e.OrderHasReceipts(
            f"goods have been received against order {order.number}; close it instead of cancelling"
        )
    move_order(session, order, PurchaseOrderStatus.CANCELLED, "cancel")
    order.cancelled_by = actor.user_id
    order.cancelled_at = utcnow()
    order.status_reason = reason
    session.flush()
    return order


def close_order(session: Session, actor: Actor, order_id: int, reason: str | None) -> PurchaseOrder:
    """Close an open or partially received order: no further receipts are expected."""
    order = get_purchase_order(session, actor, order_id, lock=True)
    _require_purchaser_or_manager(actor, order, "closing")
    move_order(session, order, PurchaseOrderStatus.CLOSED, "close")
    order.status_reason = reason
    session.flush()
    return order


def list_purchase_orders(
    session: Session, actor: Actor, filters: Mapping[str, Any], *, offset: int, limit: int
) -> tuple[list[PurchaseOrder], int]:
    """Orders for the companies the caller acts for, newest first, filtered by status,
    receiving company, supplier, purchasing organisation, order dates or number."""
    query: Select[Any] = select(PurchaseOrder).where(_order_visibility(actor))
    for name in ("status", "receiving_company_id", "supplier_id"):
        if name in filters:
            query = query.where(getattr(PurchaseOrder, name) == filters[name])
    if "central" in filters:
        column = PurchaseOrder.purchasing_company_id
        query = query.where(column.is_(None) if filters["central"] else column.is_not(None))
    if "order_date_from" in filters:
        query = query.where(PurchaseOrder.order_date >= filters["order_date_from"])
    if "order_date_to" in filters:
        query = query.where(PurchaseOrder.order_date <= filters["order_date_to"])
    if "q" in filters:
        query = query.where(PurchaseOrder.number.ilike(f"%{filters['q']}%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(*_ORDER_HEADER_LOAD).order_by(PurchaseOrder.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def order_id_for_number(session: Session, number: str) -> int | None:
    """The id of the purchase order with this number (None when there is none)."""
    return session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number.strip().upper()))


@warehouse_use_check
def _open_orders_into(session: Session, warehouse_id: int) -> list[str]:
    """Purchase orders still to be received into the warehouse (it changes company only without)."""
    done = (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED)
    numbers = session.scalars(
        select(PurchaseOrder.number).join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .where(PurchaseOrderLine.warehouse_id == warehouse_id, PurchaseOrder.status.not_in(done))
        .distinct().order_by(PurchaseOrder.number).limit(5)).all()
    return [f"open purchase orders {', '.join(numbers)}"] if numbers else []
