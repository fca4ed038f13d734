"""Contracts: group and company contracts with suppliers, their lines and prices, and which
line applies to an order (the only way a price enters the system).

For a company, supplier, material and date exactly one contract line applies: among active
contracts valid that day, a company contract wins over a group contract, and two live
contracts of the same scope never overlap (refused when the second is made).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from erp.messages import N_, Message, Named, Term
from erp.audit import services as audit
from erp.clock import business_today
from erp.auth.roles import Actor, Role
from erp.db import page, utcnow
from erp.errors import DomainError, NotFound, ValidationFailed
from erp.masterdata.errors import SupplierBlocked
from erp.masterdata.models import Company, Material, ProcurementScope, Supplier
from erp.masterdata.services import MATERIALS, SUPPLIERS, documents_found, partner_use_check, text_match
from erp.unique import flush_unique
from erp.purchasing import errors as e
from erp.purchasing.models import (
    CONTRACT_LIVE_STATUSES,
    CONTRACT_TRANSITIONS,
    Contract,
    ContractLine,
    ContractScope,
    ContractStatus,
    PurchasingException,
    transition_allowed,
)
from erp.purchasing.exceptions import exception_windows
from erp.purchasing.lookups import active_row, check_precision, check_validity
from erp.purchasing.rights import first_uncovered_day
from erp.search import contains_text


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
    own contracts and the group's); where both exist, the company contract wins. A company
    contract's line for a central material serves the company only on a day a steward's
    unrevoked exception for that company and material covers (the purchasing rights, checked
    again here: an exception may be revoked after the contract was made); otherwise the group
    contract's line applies, as if the company's were not there.
    """
    query = (
        select(ContractLine)
        .join(ContractLine.contract)
        .where(
            Contract.status == ContractStatus.ACTIVE,
            Contract.valid_from <= day,
            Contract.valid_to >= day,
            or_(Contract.scope == ContractScope.GROUP, Contract.company_id == company_id),
            ~_central_line_without_exception(company_id, day),
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


def _central_line_without_exception(company_id: int, day: dt.date) -> ColumnElement[bool]:
    """A company contract's line for a central material that no unrevoked exception of
    ``company_id`` covers on ``day``."""
    covered = exists().where(
        PurchasingException.company_id == company_id,
        PurchasingException.material_id == ContractLine.material_id,
        PurchasingException.revoked_at.is_(None),
        PurchasingException.valid_from <= day,
        PurchasingException.valid_to >= day,
    )
    central = ContractLine.material_id.in_(
        select(Material.id).where(Material.procurement_scope == ProcurementScope.CENTRAL))
    return and_(Contract.scope == ContractScope.COMPANY, central, ~covered)


def _precedence(line: ContractLine) -> tuple[bool, dt.date, int]:
    # Company over group; overlaps of one scope are refused, so the rest only makes the
    # choice deterministic should data ever disagree.
    return (line.contract.scope == ContractScope.COMPANY, line.contract.valid_from, line.contract.id)


# --- contracts ---------------------------------------------------------------------------

def _contract_visibility(actor: Actor) -> ColumnElement[bool]:
    """Group contracts serve everyone; company contracts are seen by that company's users."""
    return or_(Contract.scope == ContractScope.GROUP, actor.company_scope(Contract.company_id))


def _require_contract_author(actor: Actor, scope: ContractScope, company_id: int | None) -> None:
    actor.require_role(Role.BUYER, Role.GROUP_BUYER, action="making or changing a contract")
    if scope == ContractScope.GROUP:
        if actor.role != Role.GROUP_BUYER:
            raise e.GroupContractNeedsGroupBuyer(Message("group contracts are made by central purchasing (group buyers)"))
    elif company_id is not None:
        actor.require_company(company_id, what="company's contracts")


def may_make_contract(actor: Actor, scope: ContractScope, company_id: int | None = None) -> bool:
    """Whether ``actor`` may make (or activate, or terminate) a contract of ``scope`` for
    ``company_id`` (None: any of the actor's companies); the rule is
    ``_require_contract_author``'s, asked without raising (a page offers only what it allows)."""
    try:
        _require_contract_author(actor, scope, company_id)
    except DomainError:
        return False
    return True


def contract_actions(actor: Actor, contract: Contract, *, today: dt.date | None = None) -> frozenset[str]:
    """What ``actor`` may do with ``contract`` today: ``"activate"`` and/or ``"terminate"``,
    as the contract's state machine (CONTRACT_TRANSITIONS, expiry computed) and the
    authoring rule allow; empty for a reader."""
    if not may_make_contract(actor, contract.scope, contract.company_id):
        return frozenset()
    current = contract.status_on(today or business_today())
    moves = (("activate", ContractStatus.ACTIVE), ("terminate", ContractStatus.TERMINATED))
    return frozenset(verb for verb, target in moves if transition_allowed(CONTRACT_TRANSITIONS, current, target))


def contract_id_for_number(session: Session, number: str) -> int | None:
    """The id of the contract numbered ``number`` (None if there is none); visibility is
    checked when it is read (``get_contract``)."""
    return session.scalar(select(Contract.id).where(Contract.number == number))


def _check_contract_overlap(
    session: Session, supplier: Supplier, scope: ContractScope, company_id: int | None,
    valid_from: dt.date, valid_to: dt.date, materials: Sequence[Material],
) -> None:
    """Refuse a second live contract of the same scope for a supplier and material whose
    validity overlaps: it would make the applicable price ambiguous."""
    query = (
        select(Contract.number, Contract.valid_from, Contract.valid_to, Material)
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
        number, other_from, other_to, material = clash
        # Records by code and name (as every page shows them), not by a bare code.
        raise e.ContractOverlap(
            Message("contract {contract} already prices {material} from supplier {supplier} from {other_from} to "
                    "{other_to}, which overlaps {valid_from} to {valid_to}", contract=number, material=Named.of(material),
                    supplier=Named.of(supplier), other_from=other_from, other_to=other_to, valid_from=valid_from,
                    valid_to=valid_to),
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
            raise ValidationFailed.for_field(pointer, Message("no active material with id {key}", key=line["material_id"]))
        if material in chosen:
            # Lines counted from 1, as the form shows them; the pointer names the second one.
            raise ValidationFailed.for_field(pointer, Message(
                "{material} appears on lines {first} and {second}; one price per material",
                material=Named.of(material), first=chosen.index(material) + 1, second=index + 1))
        if line.get("target_quantity") is not None:
            check_precision(line["target_quantity"], material.unit, f"/lines/{index}/target_quantity")
        chosen.append(material)
    return chosen


def _check_purchasing_rights(
    session: Session, scope: ContractScope, company: Company | None, valid_from: dt.date, valid_to: dt.date,
    materials: Sequence[Material],
) -> None:
    """Refuse a company contract's line for a central material unless the company's
    unrevoked exceptions for it cover every day of the contract's validity (the first such
    line, pointed at by its place in the contract)."""
    if scope != ContractScope.COMPANY or company is None:
        return
    central = [(index, m) for index, m in enumerate(materials) if m.procurement_scope == ProcurementScope.CENTRAL]
    if not central:
        return
    windows = exception_windows(session, company.id, [m.id for _, m in central])
    for index, material in central:
        gap = first_uncovered_day(windows.get(material.id, []), valid_from, valid_to)
        if gap is None:
            continue
        if windows.get(material.id):
            reason = Message("{material} is a central material, bought by central purchasing: a contract of {company} "
                             "may price it only under a steward's exception for {company}, and none covers {day} (the "
                             "contract runs from {valid_from} to {valid_to})", material=Named.of(material),
                             company=Named.of(company), day=gap, valid_from=valid_from, valid_to=valid_to)
        else:
            reason = Message("{material} is a central material, bought by central purchasing: a contract of {company} "
                             "may price it only under a steward's exception for {company}, and there is none",
                             material=Named.of(material), company=Named.of(company))
        raise e.CentralMaterialInCompanyContract(reason, pointer=f"/lines/{index}/material_id")


@dataclass(frozen=True)
class LineOutsideRights:
    """A company contract's line for a central material that its company's exceptions do not
    cover: the contract, its status, company and material (codes), and the first day left
    uncovered."""

    contract_number: str
    status: str
    company_code: str
    material_code: str
    uncovered: dt.date


def company_lines_outside_rights(session: Session, *, today: dt.date) -> list[LineOutsideRights]:
    """Draft and active company contract lines for a central material whose company's
    unrevoked exceptions do not cover every day from today (or the contract's first day, if
    later) to its last; by contract number and material code. Such a line prices nothing
    (``applicable_contract_lines`` passes it over): found for ``flask purchasing
    check-contracts`` (contracts made before the rule, exceptions revoked since)."""
    rows = session.execute(
        select(Contract.number, Contract.status, Contract.company_id, Contract.valid_from, Contract.valid_to,
               Company.code, Material.id, Material.code)
        .join(Contract.lines).join(ContractLine.material).join(Company, Company.id == Contract.company_id)
        .where(Contract.scope == ContractScope.COMPANY,
               Contract.status.in_([ContractStatus.DRAFT.value, ContractStatus.ACTIVE.value]),
               Contract.valid_to >= today, Material.procurement_scope == ProcurementScope.CENTRAL)
        .order_by(Contract.number, Material.code)
    ).all()
    materials_by_company: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        materials_by_company[row[2]].add(row[6])
    windows = {company_id: exception_windows(session, company_id, ids)
               for company_id, ids in materials_by_company.items()}
    found: list[LineOutsideRights] = []
    for number, status, company_id, valid_from, valid_to, company_code, material_id, material_code in rows:
        gap = first_uncovered_day(windows[company_id].get(material_id, []), max(valid_from, today), valid_to)
        if gap is not None:
            found.append(LineOutsideRights(number, ContractStatus(status).value, company_code, material_code, gap))
    return found


def lines_passed_over(session: Session, contract: Contract, day: dt.date) -> frozenset[int]:
    """The materials (ids) of an active company contract whose lines ``applicable_contract_lines``
    passes over on ``day``: central materials no unrevoked exception of the company covers
    that day (revoked after activation, or a contract made before the rule); empty for any
    other contract. One query when the contract has a central material, none otherwise."""
    if contract.scope != ContractScope.COMPANY or contract.company_id is None \
            or contract.status_on(day) != ContractStatus.ACTIVE or contract.valid_from > day:
        return frozenset()
    central = [line.material_id for line in contract.lines
               if line.material.procurement_scope == ProcurementScope.CENTRAL]
    if not central:
        return frozenset()
    windows = exception_windows(session, contract.company_id, central)
    return frozenset(m for m in central if not any(w.covers(day) for w in windows.get(m, [])))


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
        raise ValidationFailed.for_field("company_id", Message("a group contract serves every company; leave it empty"))
    if scope == ContractScope.COMPANY and company_id is None:
        raise ValidationFailed.for_field("company_id", Message("a company contract names its company"))
    _require_contract_author(actor, scope, company_id)
    check_validity(valid_from, valid_to)
    if session.scalar(select(Contract.id).where(Contract.number == number)) is not None:
        raise e.DuplicateNumber(
            Message("a contract numbered {number} already exists", number=number),
            errors=[{"pointer": "/number", "detail": Message("{number} is already used", number=number)}],
        )
    company = active_row(session, Company, company_id, "company_id") if company_id is not None else None
    # The supplier's row lock serialises contract-making per supplier, so two overlapping
    # contracts cannot both pass the overlap check at the same time.
    supplier = active_row(session, Supplier, supplier_id, "supplier_id", lock=True)
    if supplier.blocked:
        raise SupplierBlocked(
            Message("supplier {supplier} is blocked; no new contracts", supplier=Named.of(supplier))
        )
    materials = _contract_materials(session, lines)
    _check_purchasing_rights(session, scope, company, valid_from, valid_to, materials)
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
    flush_unique(session)  # the number taken by another user at this moment: duplicate-number
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


_LINES_LOAD = selectinload(Contract.lines).options(joinedload(ContractLine.material), joinedload(ContractLine.unit))
_CONTRACT_LOAD = (joinedload(Contract.supplier), joinedload(Contract.company), _LINES_LOAD)


def get_contract(session: Session, actor: Actor, contract_id: int, *, lock: bool = False) -> Contract:
    """One contract with its lines and their consumption; 404 for another company's."""
    query = select(Contract).where(Contract.id == contract_id, _contract_visibility(actor)).options(*_CONTRACT_LOAD)
    if lock:
        query = query.with_for_update(of=Contract).execution_options(populate_existing=True)
    contract = session.scalars(query).one_or_none()
    if contract is None:
        raise NotFound(Message("contract {key} not found", key=contract_id))
    return contract


def _move_contract(contract: Contract, target: ContractStatus, today: dt.date, verb: str) -> None:
    current = contract.status_on(today)
    if not transition_allowed(CONTRACT_TRANSITIONS, current, target):
        raise e.StatusTransitionNotAllowed(Message("cannot {action} contract {contract}: it is {status}", action=Term(verb),
                                                   contract=contract.number, status=current))
    contract.status = target


def activate_contract(session: Session, actor: Actor, contract_id: int, *, today: dt.date | None = None) -> Contract:
    """Put a draft contract in force: its prices apply to orders from now on."""
    contract = get_contract(session, actor, contract_id, lock=True)
    _require_contract_author(actor, contract.scope, contract.company_id)
    before = contract.status
    today = today or business_today()
    if transition_allowed(CONTRACT_TRANSITIONS, contract.status_on(today), ContractStatus.ACTIVE):
        # The exception the contract was made under may have been revoked since (a status
        # that cannot be activated is refused as such first, below).
        _check_purchasing_rights(session, contract.scope, contract.company, contract.valid_from, contract.valid_to,
                                 [line.material for line in contract.lines])
    _move_contract(contract, ContractStatus.ACTIVE, today, N_("activate"))
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
    _move_contract(contract, ContractStatus.TERMINATED, today or business_today(), N_("terminate"))
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
    today: dt.date | None = None, with_lines: bool = False,
) -> tuple[list[Contract], int]:
    """Contracts the caller may see, newest validity first, filtered by supplier, company,
    scope, status (expired is computed), material, validity on a day or number;
    ``supplier_text``/``material_text``: a supplier or one of the lines' materials whose code
    or name contains the text (case-insensitive, as the lists' search boxes match);
    ``with_lines``: each with its lines, their materials and units (two more queries)."""
    query: Select[Any] = select(Contract).where(_contract_visibility(actor))
    for name in ("supplier_id", "company_id", "scope"):
        if name in filters:
            query = query.where(getattr(Contract, name) == filters[name])
    if "status" in filters:
        query = query.where(Contract.status_on(today or business_today()) == filters["status"].value)
    if "material_id" in filters:
        query = query.where(Contract.lines.any(ContractLine.material_id == filters["material_id"]))
    if "supplier_text" in filters:
        query = query.where(Contract.supplier_id.in_(
            select(Supplier.id).where(text_match(SUPPLIERS, filters["supplier_text"]))))
    if "material_text" in filters:
        query = query.where(Contract.lines.any(ContractLine.material_id.in_(
            select(Material.id).where(text_match(MATERIALS, filters["material_text"])))))
    if "valid_on" in filters:
        query = query.where(Contract.valid_from <= filters["valid_on"], Contract.valid_to >= filters["valid_on"])
    if "q" in filters:
        query = query.where(contains_text(filters["q"], Contract.number))
    query = query.options(joinedload(Contract.supplier), joinedload(Contract.company))
    if with_lines:
        query = query.options(_LINES_LOAD)
    rows, total = page(session, query
                       .order_by(Contract.valid_from.desc(), Contract.number),
                       offset=offset, limit=limit, entities=True)
    return list(rows), total


@partner_use_check("supplier")
def _supplier_contracts(session: Session, supplier_id: int) -> list[Message]:
    """The supplier's contracts (its link to a group company changes only without)."""
    return documents_found(session, N_("contract(s)"), Contract.number, Contract.supplier_id == supplier_id)
