"""Bills of materials and cost-centre rates: versions, what is in force on a date.

A BOM version is never edited: a change is a new version valid from a later date, so an
order or a roll-up that used a version can always be explained by it. Every new version
and every rate change is recorded in the audit trail (``bom``, ``cost_center_rate``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Company, Material, MaterialType
from erp.messages import Message
from erp.period import Period
from erp.production.errors import BomCycle, BomVersionNotLater, InvalidBom, NotAMadeMaterial
from erp.production.models import Bom, BomComponent, CostCenterRate

MADE_TYPES = (MaterialType.INTERMEDIATE, MaterialType.FINISHED)
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class ComponentIn:
    material_id: int
    quantity: Decimal
    scrap_pct: Decimal = Decimal("0")


@dataclass(frozen=True)
class RateIn:
    cost_center: str
    labour_rate: Decimal
    overhead_rate: Decimal


def boms_in_force(company_id: Any, day: Any) -> Any:
    """Every material's BOM in force on ``day`` in a company, as a subquery (id,
    material_id, base_quantity, cost_center, hours): the latest version valid from that
    day or earlier."""
    later = aliased(Bom)
    newer = (select(later.id).where(later.company_id == Bom.company_id, later.material_id == Bom.material_id,
                                    later.valid_from <= day, later.valid_from > Bom.valid_from).exists())
    return (
        select(Bom.id, Bom.company_id, Bom.material_id, Bom.base_quantity, Bom.cost_center, Bom.hours, Bom.version)
        .where(Bom.company_id == company_id, Bom.valid_from <= day, ~newer)
        .subquery("boms_in_force")
    )


def bom_in_force(session: Session, company_id: int, material_id: int, day: dt.date) -> Bom | None:
    """The material's BOM version in force on ``day`` in the company (None when none is)."""
    return session.scalar(
        select(Bom).where(Bom.company_id == company_id, Bom.material_id == material_id, Bom.valid_from <= day)
        .order_by(Bom.valid_from.desc(), Bom.version.desc()).limit(1)
    )


def planned_quantity(component: BomComponent, bom: Bom, quantity: Decimal) -> Decimal:
    """What ``quantity`` of the made material takes of a component: its quantity per base
    quantity with the scrap allowance, scaled (kept to the ledger's four decimals)."""
    per_base = component.quantity * (1 + component.scrap_pct / HUNDRED)
    return (per_base * quantity / bom.base_quantity).quantize(Decimal("0.0001"))


def create_bom(
    session: Session, actor: Actor, *, company_id: int, material_id: int, valid_from: dt.date,
    base_quantity: Decimal, components: Sequence[ComponentIn], cost_center: str | None = None,
    hours: Decimal = Decimal("0"), note: str | None = None,
) -> Bom:
    """Create the next version of a material's BOM in a company (cost accountants), in force
    from ``valid_from``. Refuses a material that is not made (``NotAMadeMaterial``), an
    empty or repeated component list or hours without a cost centre (``InvalidBom``), a
    date not after the latest version's (``BomVersionNotLater``), and a component that is,
    through the BOMs in force on that date, made from the material itself (``BomCycle``)."""
    actor.require_role(Role.COST_ACCOUNTANT, action="maintaining bills of materials")
    actor.require_company(company_id)
    if session.get(Company, company_id) is None:
        raise NotFound(Message("company {key} not found", key=company_id))
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(Message("material {key} not found", key=material_id))
    if material.material_type not in MADE_TYPES:
        raise NotAMadeMaterial(Message("{material} is a {kind} material; only intermediates and finished products "
                                       "have bills of materials", material=material.code, kind=material.material_type))
    if base_quantity <= 0:
        raise ValidationFailed.for_field("base_quantity", Message("the base quantity must be positive"))
    ids = [c.material_id for c in components]
    if not components:
        raise InvalidBom(Message("a bill of materials needs at least one component"))
    if len(set(ids)) != len(ids):
        raise InvalidBom(Message("a component appears more than once"))
    if material_id in ids:
        raise BomCycle(Message("{material} cannot be a component of itself", material=material.code))
    known = set(session.scalars(select(Material.id).where(Material.id.in_(ids))))
    if set(ids) - known:
        raise ValidationFailed.for_field("components", Message("unknown materials {keys}",
                                                                keys=sorted(set(ids) - known)))
    for c in components:
        if c.quantity <= 0 or not (0 <= c.scrap_pct < HUNDRED):
            raise InvalidBom(Message("component {key}: the quantity must be positive and the scrap allowance "
                                     "between 0 and 100 percent", key=c.material_id))
    if hours < 0 or (hours > 0 and not cost_center):
        raise InvalidBom(Message("hours need a cost centre, and cannot be negative"))
    if cost_center and cost_center not in cost_centers(session, company_id):
        # A cost centre exists once its rates are set (there is no other list of them): a
        # name typed wrong would otherwise surface only when the roll-up cannot cost it.
        raise ValidationFailed.for_field("cost_center", Message(
            "cost centre {centre} has no rates in this company: set its rates first", centre=cost_center))
    # Two versions created at once must not both become version n + 1: they queue on the
    # material's row (FOR NO KEY UPDATE does not block postings' foreign-key checks).
    session.execute(select(Material.id).where(Material.id == material_id).with_for_update(key_share=True))
    latest = session.execute(
        select(Bom.version, Bom.valid_from).where(Bom.company_id == company_id, Bom.material_id == material_id)
        .order_by(Bom.version.desc()).limit(1)
    ).first()
    if latest is not None and valid_from <= latest.valid_from:
        raise BomVersionNotLater(Message("version {version} of {material} is valid from {since}; a new version must "
                                         "take effect later", version=latest.version, material=material.code,
                                         since=latest.valid_from))
    _refuse_cycle(session, company_id, material, ids, valid_from)
    bom = Bom(company_id=company_id, material_id=material_id, version=(latest.version + 1) if latest else 1,
              valid_from=valid_from, base_quantity=base_quantity, cost_center=cost_center or None, hours=hours,
              note=note, created_by=actor.user_id,
              components=[BomComponent(line_no=n, material_id=c.material_id, quantity=c.quantity,
                                       scrap_pct=c.scrap_pct) for n, c in enumerate(components, start=1)])
    session.add(bom)
    session.flush()
    after = audit.snapshot(bom)
    after["components"] = [{"material_id": c.material_id, "quantity": audit.plain(c.quantity),
                            "scrap_pct": audit.plain(c.scrap_pct)} for c in components]
    audit.record_change(session, actor, entity="bom", entity_id=bom.id, action=audit.CREATE, after=after,
                        company_id=company_id)
    return bom


def _refuse_cycle(session: Session, company_id: int, material: Material, component_ids: Sequence[int],
                  day: dt.date) -> None:
    """Walk down from the new components through the BOMs in force, one level per statement,
    and refuse if the made material turns up."""
    in_force = boms_in_force(company_id, day)
    frontier, seen = set(component_ids), set(component_ids)
    while frontier:
        below = set(session.scalars(
            select(BomComponent.material_id).join(in_force, in_force.c.id == BomComponent.bom_id)
            .where(in_force.c.material_id.in_(frontier)).distinct()
        ))
        if material.id in below:
            raise BomCycle(Message("{material} is already made, through the bills of materials in force on {day}, "
                                   "into one of its components", material=material.code, day=day))
        frontier = below - seen
        seen |= below


def get_bom(session: Session, actor: Actor, bom_id: int) -> Bom:
    """A BOM version with its components (callers acting for its company)."""
    bom = session.get(Bom, bom_id)
    if bom is None or not actor.acts_for_company(bom.company_id):
        raise NotFound(Message("bill of materials {key} not found", key=bom_id))
    return bom


def list_boms(session: Session, actor: Actor, *, company_id: int, material_id: int | None = None) -> list[Bom]:
    """A company's BOM versions, newest first per material."""
    actor.require_company(company_id)
    query = select(Bom).where(Bom.company_id == company_id)
    if material_id is not None:
        query = query.where(Bom.material_id == material_id)
    return list(session.scalars(query.order_by(Bom.material_id, Bom.version.desc())))


@dataclass(frozen=True)
class BomRow:
    """A BOM version as a list shows it: company and material by code and name, version,
    validity, base quantity, conversion and how many components."""

    id: int
    company_code: str
    company_name_zh: str
    company_name_en: str
    material_code: str
    material_name_zh: str
    material_name_en: str
    version: int
    valid_from: dt.date
    base_quantity: Decimal
    cost_center: str | None
    hours: Decimal
    components: int


def bom_rows(session: Session, actor: Actor, *, limit: int = 500) -> list[BomRow]:
    """The BOM versions of the companies the caller acts for, by company, material code and
    version (newest first); one query."""
    counted = (select(func.count()).select_from(BomComponent).where(BomComponent.bom_id == Bom.id)
               .scalar_subquery())
    return [BomRow(*row) for row in session.execute(
        select(Bom.id, Company.code, Company.name_zh, Company.name_en, Material.code, Material.name_zh, Material.name_en, Bom.version, Bom.valid_from,
               Bom.base_quantity, Bom.cost_center, Bom.hours, counted)
        .join(Company, Company.id == Bom.company_id).join(Material, Material.id == Bom.material_id)
        .where(actor.company_scope(Bom.company_id))
        .order_by(Company.code, Material.code, Bom.version.desc()).limit(limit))]


def material_ids_by_code(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """Materials by code (forms name them by code); codes not found are left out."""
    return dict(session.execute(select(Material.code, Material.id).where(Material.code.in_(list(codes)))).all())


def set_cost_center_rates(
    session: Session, actor: Actor, *, company_id: int, period: str, rates: Sequence[RateIn]
) -> list[CostCenterRate]:
    """Set cost centres' standard labour and overhead rates (CNY per hour) from a period on
    (cost accountants); a rate set again for the same period replaces it."""
    actor.require_role(Role.COST_ACCOUNTANT, action="setting cost centre rates")
    actor.require_company(company_id)
    Period(period)
    written = []
    for rate in rates:
        if rate.labour_rate < 0 or rate.overhead_rate < 0 or not rate.cost_center.strip():
            raise ValidationFailed.for_field("rates", Message("rates cannot be negative and need a cost centre"))
        row = session.scalar(select(CostCenterRate).where(
            CostCenterRate.company_id == company_id, CostCenterRate.cost_center == rate.cost_center,
            CostCenterRate.period == period).with_for_update().execution_options(populate_existing=True))
        before = audit.snapshot(row) if row is not None else None
        if row is None:
            row = CostCenterRate(company_id=company_id, cost_center=rate.cost_center, period=period,
                                 labour_rate=rate.labour_rate, overhead_rate=rate.overhead_rate,
                                 set_by=actor.user_id)
            session.add(row)
        else:
            row.labour_rate, row.overhead_rate, row.set_by = rate.labour_rate, rate.overhead_rate, actor.user_id
        session.flush()
        audit.record_change(session, actor, entity="cost_center_rate", entity_id=row.id,
                            action=audit.CHANGE if before else audit.CREATE, before=before,
                            after=audit.snapshot(row), company_id=company_id)
        written.append(row)
    return written


def cost_centers(session: Session, company_id: int) -> list[str]:
    """A company's cost centres: those it has set rates for, in any period, by name."""
    return list(session.scalars(select(CostCenterRate.cost_center).where(CostCenterRate.company_id == company_id)
                                .distinct().order_by(CostCenterRate.cost_center)))


@dataclass(frozen=True)
class RateRow:
    """A cost centre's rates set from a period on, who set them and when."""

    company_id: int
    cost_center: str
    period: Period
    labour_rate: Decimal
    overhead_rate: Decimal
    set_by: str
    set_at: dt.datetime


def cost_center_rates(session: Session, actor: Actor, *, company_id: int, period: str | None = None) -> list[RateRow]:
    """A company's cost-centre rates: every setting, by cost centre and latest period first,
    or, with ``period``, the rates in force in that period (one per cost centre)."""
    actor.require_company(company_id)
    r = CostCenterRate
    query = (select(r.company_id, r.cost_center, r.period, r.labour_rate, r.overhead_rate, User.username, r.set_at)
             .join(User, User.id == r.set_by).where(r.company_id == company_id))
    if period is not None:
        in_force = rates_in_force(company_id, Period(period))
        query = query.join(in_force, (in_force.c.cost_center == r.cost_center) & (in_force.c.period == r.period))
    return [RateRow(*row) for row in session.execute(query.order_by(r.cost_center, r.period.desc()))]


def rates_in_force(company_id: Any, period: Any) -> Any:
    """Each cost centre's rates in force for a period, as a subquery (cost_center,
    labour_rate, overhead_rate, and the period they were set from)."""
    later = aliased(CostCenterRate)
    newer = (select(later.id).where(later.company_id == CostCenterRate.company_id,
                                    later.cost_center == CostCenterRate.cost_center, later.period <= period,
                                    later.period > CostCenterRate.period).exists())
    return (
        select(CostCenterRate.cost_center, CostCenterRate.labour_rate, CostCenterRate.overhead_rate,
               CostCenterRate.period)
        .where(CostCenterRate.company_id == company_id, CostCenterRate.period <= period, ~newer)
        .subquery("rates")
    )

