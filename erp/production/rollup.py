"""The standard cost roll-up (标准成本卷积): a made material's standard price for a period
is its components' standard prices x quantities (with scrap allowances) plus its
conversion cost (the BOM's hours x its cost centre's labour and overhead rates), per the
BOM's base quantity, divided by the base quantity.

It runs bottom-up and set-based: each level is two INSERT ... SELECT statements over every
material of the level at once (first the estimates, then their breakdown lines), so 20,000
materials over five levels cost about ten statements, not 20,000 loops.
Level 1 holds the materials all of whose components are bought (priced by their standard
in force); level n + 1 those whose made components were all costed by level n. When a level
finds nothing to cost while BOMs are left, those BOMs form a cycle, and the run is refused.

Rounding: a unit cost is a price and keeps the price's six decimals (half-up), rounded once
from the exact sum (the breakdown lines show amounts to six decimals for reading); amounts
are rounded to the cent only when stock is posted at that price, as everywhere else.
A released run sets the prices through the standard-price rules of
``erp.costing.standards`` (refused where a price is already used by postings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, cast, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.costing import standards
from erp.db import utcnow
from erp.unique import flush_unique
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Company, Material
from erp.messages import Message
from erp.narration import REASON_LENGTH, narrate
from erp.period import Period
from erp.posting.prices import no_standard_price, price_in_force, prices_in_force
from erp.production.boms import rates_in_force, boms_in_force
from erp.production.errors import BomCycle, NoCostCenterRate, RollupAlreadyReleased
from erp.production.models import (
    FINE,
    Bom,
    BomComponent,
    CostElement,
    CostEstimate,
    CostEstimateLine,
    CostRollup,
    RollupStatus,
)
from erp.db import UNIT_PRICE

HUNDRED = Decimal("100")
LINE_COLUMNS = ["rollup_id", "material_id", "element", "component_id", "quantity", "price", "amount"]


def run_rollup(session: Session, actor: Actor, *, company_id: int, period: str) -> CostRollup:
    """Roll up the standard cost of every material with a BOM in force on the period's first
    day in a company (cost accountants); replaces an unreleased run of the same period.

    Refuses a period whose roll-up was released (``RollupAlreadyReleased``), a bought
    component without a standard price in force (``NoStandardPrice``, naming them), a cost
    centre without rates (``NoCostCenterRate``) and BOMs that form a cycle (``BomCycle``,
    naming the materials in or above it), and a first run of the period written at the same
    moment by another transaction (``RollupRunConcurrently``)."""
    actor.require_role(Role.COST_ACCOUNTANT, action="rolling up standard costs")
    actor.require_company(company_id)
    period = Period(period)
    if session.get(Company, company_id) is None:
        raise NotFound(Message("company {key} not found", key=company_id))
    previous = session.scalars(
        select(CostRollup).where(CostRollup.company_id == company_id, CostRollup.period == period)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    if any(r.status == RollupStatus.RELEASED for r in previous):
        raise RollupAlreadyReleased(Message("the roll-up of {period} was released; run one for a later period",
                                            period=period))
    for old in previous:
        session.execute(delete(CostEstimateLine).where(CostEstimateLine.rollup_id == old.id))
        session.execute(delete(CostEstimate).where(CostEstimate.rollup_id == old.id))
        session.delete(old)
    session.flush()  # the replaced run leaves before the new one takes its (company, period)
    rollup = CostRollup(company_id=company_id, period=period, status=RollupStatus.COMPUTED, run_by=actor.user_id,
                        run_at=utcnow())
    session.add(rollup)
    # A first run of the period written meanwhile by another transaction (which the lock
    # above could not see): the unique index makes this one wait for it, then refuses it.
    flush_unique(session)

    boms = boms_in_force(company_id, period.first_day)
    rates = rates_in_force(company_id, period)
    prices = prices_in_force(period, [company_id])
    _refuse_missing_rates(session, boms, rates)
    _refuse_missing_prices(session, company_id, period, boms, prices)

    level = 0
    # Each level costs at least one material, so there are at most as many levels as BOMs.
    bom_count = session.scalar(select(func.count()).select_from(boms)) or 0
    while level < bom_count and _cost_level(session, rollup.id, level + 1, boms, rates, company_id,
                                                     period):
        level += 1
    rollup.levels = level
    left = session.scalars(
        select(Material.code).join(boms, boms.c.material_id == Material.id)
        .where(~select(CostEstimate.id).where(CostEstimate.rollup_id == rollup.id,
                                               CostEstimate.material_id == boms.c.material_id).exists())
        .order_by(Material.code)
    ).all()
    if left:
        raise BomCycle(Message("the bills of materials of {materials} form a cycle (or use one): none of them can be "
                               "costed", materials=list(left)))
    session.flush()
    materials = session.scalar(select(func.count()).where(CostEstimate.rollup_id == rollup.id)) or 0
    audit.record_change(session, actor, entity=ROLLUP_ENTITY, entity_id=rollup.id, action=audit.CREATE,
                        after={"period": period, "status": rollup.status, "levels": level, "materials": materials,
                               "replaces": [old.id for old in previous] or None},
                        company_id=company_id)
    return rollup


# The audit trail of a run (entity ``cost_rollup``): its computation, and its release with
# the reason (the standard prices it sets are recorded each under ``standard_price``).
ROLLUP_ENTITY = "cost_rollup"


def _refuse_missing_rates(session: Session, boms: Any, rates: Any) -> None:
    missing = session.scalars(
        select(boms.c.cost_center).outerjoin(rates, rates.c.cost_center == boms.c.cost_center)
        .where(boms.c.hours > 0, rates.c.cost_center.is_(None)).distinct().order_by(boms.c.cost_center)
    ).all()
    if missing:
        raise NoCostCenterRate(Message("cost centres {centres} have no standard rates for the period",
                                       centres=list(missing)))


def _refuse_missing_prices(session: Session, company_id: int, period: Period, boms: Any, prices: Any) -> None:
    missing = session.scalars(
        select(Material.code).join(BomComponent, BomComponent.material_id == Material.id)
        .join(boms, boms.c.id == BomComponent.bom_id)
        .outerjoin(prices, prices.c.material_id == BomComponent.material_id)
        .where(~_has_bom(BomComponent.material_id, company_id, period.first_day), prices.c.price.is_(None))
        .distinct().order_by(Material.code)
    ).all()
    if missing:
        raise no_standard_price(", ".join(missing), period, company_id)


def _has_bom(material_id: Any, company_id: int, day: Any) -> Any:
    """Whether a material is made in the run's company: it has a BOM valid by the run's day
    (one step of the BOMs' (company, material, valid_from) index per component; a subquery
    over the BOMs in force here would be evaluated once per BOM, quadratic in their number)."""
    return select(Bom.id).where(Bom.company_id == company_id, Bom.material_id == material_id,
                                Bom.valid_from <= day).exists()


def _cost_level(session: Session, rollup_id: int, level: int, boms: Any, rates: Any, company_id: int,
                period: Period) -> int:
    """Cost every BOM whose made components are all costed: its estimate, then its
    breakdown lines. Returns how many materials this level costed."""
    estimated = aliased(CostEstimate)
    c = aliased(BomComponent)
    waiting = (
        select(c.id).where(c.bom_id == boms.c.id, _has_bom(c.material_id, company_id, period.first_day),
                           ~select(estimated.id).where(estimated.rollup_id == rollup_id,
                                                       estimated.material_id == c.material_id).exists())
        .exists()
    )
    done = select(estimated.id).where(estimated.rollup_id == rollup_id,
                                      estimated.material_id == boms.c.material_id).exists()
    ready = select(boms).where(~done, ~waiting).subquery("ready")

    own = aliased(CostEstimate)
    # The bought component's standard: one backward step of the prices' index per component
    # (joining a subquery of every price in force made the planner loop over it per row).
    component_price = func.coalesce(own.unit_cost, price_in_force(company_id, BomComponent.material_id, period))
    per_base = BomComponent.quantity * (1 + BomComponent.scrap_pct / HUNDRED)
    # First the estimates, from the exact products (the unit cost is rounded once, at the
    # end); the level's BOMs are found once, by this statement.
    material_cost = func.sum(per_base * component_price)
    labour = ready.c.hours * func.coalesce(rates.c.labour_rate, 0)
    overhead = ready.c.hours * func.coalesce(rates.c.overhead_rate, 0)
    result = session.execute(insert(CostEstimate).from_select(
        ["rollup_id", "material_id", "bom_id", "level", "base_quantity", "material_cost", "labour_cost",
         "overhead_cost", "unit_cost"],
        select(literal(rollup_id), ready.c.material_id, ready.c.id, literal(level), ready.c.base_quantity,
               cast(material_cost, FINE), cast(labour, FINE), cast(overhead, FINE),
               cast(func.round((material_cost + labour + overhead) / ready.c.base_quantity, 6), UNIT_PRICE))
        .join(BomComponent, BomComponent.bom_id == ready.c.id)
        .outerjoin(own, and_(own.rollup_id == rollup_id, own.material_id == BomComponent.material_id))
        .outerjoin(rates, rates.c.cost_center == ready.c.cost_center)
        .group_by(ready.c.material_id, ready.c.id, ready.c.base_quantity, ready.c.hours, rates.c.labour_rate,
                  rates.c.overhead_rate),
    ).returning(CostEstimate.material_id))
    costed = len(result.all())
    if not costed:
        return 0
    # Then the breakdown of the level's estimates (amounts to six decimals, for reading).
    mine = aliased(CostEstimate)
    this_level = and_(mine.rollup_id == rollup_id, mine.level == level)
    materials = (
        select(literal(rollup_id), mine.material_id, literal(CostElement.MATERIAL.value),
               BomComponent.material_id, cast(per_base, FINE), component_price,
               cast(per_base * component_price, FINE))
        .join(BomComponent, BomComponent.bom_id == mine.bom_id)
        .outerjoin(own, and_(own.rollup_id == rollup_id, own.material_id == BomComponent.material_id))
        .where(this_level)
    )

    def conversion(element: CostElement, rate: Any) -> Any:
        value = func.coalesce(rate, 0)
        return (
            select(literal(rollup_id), mine.material_id, literal(element.value), literal(None),
                   cast(Bom.hours, FINE), value, cast(Bom.hours * value, FINE))
            .join(Bom, Bom.id == mine.bom_id)
            .outerjoin(rates, rates.c.cost_center == Bom.cost_center)
            .where(this_level)
        )

    session.execute(insert(CostEstimateLine).from_select(LINE_COLUMNS, union_all(
        materials, conversion(CostElement.LABOUR, rates.c.labour_rate),
        conversion(CostElement.OVERHEAD, rates.c.overhead_rate))))
    return costed


@dataclass(frozen=True)
class EstimateView:
    material_id: int
    material_code: str
    bom_id: int
    level: int
    base_quantity: Decimal
    material_cost: Decimal
    labour_cost: Decimal
    overhead_cost: Decimal
    unit_cost: Decimal
    lines: list[Any]


@dataclass(frozen=True)
class RollupRow:
    """A roll-up run as a list shows it: its company by code and name, period, status, how
    many materials it costed and who ran and released it, by user name."""

    id: int
    company_code: str
    company_name_zh: str
    company_name_en: str
    period: str
    status: RollupStatus
    levels: int
    materials: int
    run_by: str
    run_at: Any
    released_by: str | None
    released_at: Any


def _rollup_rows(session: Session, actor: Actor, *where: Any, limit: int) -> list[RollupRow]:
    runner, releaser = aliased(User), aliased(User)
    costed = (select(func.count()).select_from(CostEstimate).where(CostEstimate.rollup_id == CostRollup.id)
              .scalar_subquery())
    rows = session.execute(
        select(CostRollup.id, Company.code, Company.name_zh, Company.name_en, CostRollup.period, CostRollup.status, CostRollup.levels,
               costed, runner.username, CostRollup.run_at, releaser.username, CostRollup.released_at)
        .join(Company, Company.id == CostRollup.company_id)
        .join(runner, runner.id == CostRollup.run_by).outerjoin(releaser, releaser.id == CostRollup.released_by)
        .where(actor.company_scope(CostRollup.company_id), *where)
        .order_by(CostRollup.period.desc(), Company.code).limit(limit))
    return [RollupRow(*row) for row in rows]


def list_rollups(session: Session, actor: Actor, *, limit: int = 200) -> list[RollupRow]:
    """The roll-up runs of the companies the caller acts for, latest period first (one query)."""
    return _rollup_rows(session, actor, limit=limit)


def rollup_summary(session: Session, actor: Actor, rollup_id: int) -> RollupRow:
    """One run as ``list_rollups`` shows it (404 outside the caller's companies)."""
    found = _rollup_rows(session, actor, CostRollup.id == rollup_id, limit=1)
    if not found:
        raise NotFound(Message("cost roll-up {key} not found", key=rollup_id))
    return found[0]


def prices_a_release_replaces(session: Session, actor: Actor, rollup_id: int,
                              material_ids: Sequence[int]) -> dict[int, Decimal]:
    """The standard prices in force for the run's period of some of its materials (those
    that have one): what releasing the run would replace, to show beside its unit costs."""
    run = get_rollup(session, actor, rollup_id)
    in_force = prices_in_force(run.period, [run.company_id], list(material_ids))
    return dict(session.execute(select(in_force.c.material_id, in_force.c.price)).all())


def get_rollup(session: Session, actor: Actor, rollup_id: int) -> CostRollup:
    """A roll-up run (callers acting for its company)."""
    rollup = session.get(CostRollup, rollup_id)
    if rollup is None or not actor.acts_for_company(rollup.company_id):
        raise NotFound(Message("cost roll-up {key} not found", key=rollup_id))
    return rollup


def cost_breakdown(session: Session, actor: Actor, rollup_id: int, material_id: int | None = None, *,
                   offset: int = 0, limit: int | None = None) -> list[EstimateView]:
    """The estimates of a run with their breakdown (material by component, labour,
    overhead), per base quantity, by level and material code; optionally one material's,
    or one page of them (``offset``, ``limit``)."""
    get_rollup(session, actor, rollup_id)
    e = CostEstimate
    query = (select(e, Material.code).join(Material, Material.id == e.material_id)
             .where(e.rollup_id == rollup_id).order_by(e.level, Material.code, e.material_id))
    if material_id is not None:
        query = query.where(e.material_id == material_id)
    if limit is not None:
        query = query.offset(offset).limit(limit)
    estimates = session.execute(query).all()
    component = aliased(Material)
    lines_query = (
        select(CostEstimateLine.material_id, CostEstimateLine.element, CostEstimateLine.component_id,
               component.code.label("component_code"), CostEstimateLine.quantity, CostEstimateLine.price,
               CostEstimateLine.amount)
        .outerjoin(component, component.id == CostEstimateLine.component_id)
        .where(CostEstimateLine.rollup_id == rollup_id)
        .order_by(CostEstimateLine.material_id, CostEstimateLine.element, component.code)
    )
    if material_id is not None:
        lines_query = lines_query.where(CostEstimateLine.material_id == material_id)
    if limit is not None:
        lines_query = lines_query.where(CostEstimateLine.material_id.in_([est.material_id for est, _ in estimates]))
    by_material: dict[int, list[Any]] = {}
    for row in session.execute(lines_query):
        by_material.setdefault(row.material_id, []).append(row)
    return [
        EstimateView(est.material_id, code, est.bom_id, est.level, est.base_quantity, est.material_cost,
                     est.labour_cost, est.overhead_cost, est.unit_cost, by_material.get(est.material_id, []))
        for est, code in estimates
    ]


def release_rollup(session: Session, actor: Actor, rollup_id: int, *, reason: str) -> CostRollup:
    """Release a run, with a reason: its unit costs become the company's standard prices from
    its period, through the standard-price rules (``StandardPriceInUse`` where postings
    already used the price in force, ``PeriodClosed`` for a closed period); refused if
    already released. Recorded in the audit trail (the run's release with the reason, and
    each price set, naming the run and the reason)."""
    actor.require_role(Role.COST_ACCOUNTANT, action="releasing standard costs")
    rollup = get_rollup(session, actor, rollup_id)
    session.refresh(rollup, with_for_update=True)
    if rollup.status == RollupStatus.RELEASED:
        raise RollupAlreadyReleased(Message("roll-up {key} was released on {at}", key=rollup_id,
                                            at=rollup.released_at))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a release needs a reason"))
    changes = [standards.PriceChange(material_id, price) for material_id, price in session.execute(
        select(CostEstimate.material_id, CostEstimate.unit_cost).where(CostEstimate.rollup_id == rollup_id)
        .order_by(CostEstimate.material_id))]
    if changes:
        standards.set_standard_prices(session, actor, company_id=rollup.company_id, period=rollup.period,
                                      prices=changes, reason=narrate("standard-cost-release", REASON_LENGTH,
                                                                     run=rollup.id, period=rollup.period,
                                                                     reason=reason))
    rollup.status = RollupStatus.RELEASED
    rollup.released_by = actor.user_id
    rollup.released_at = utcnow()
    session.flush()
    audit.record_change(session, actor, entity=ROLLUP_ENTITY, entity_id=rollup.id, action="release",
                        before={"status": RollupStatus.COMPUTED}, after={"status": rollup.status,
                                                                         "prices_set": len(changes)},
                        reason=reason, company_id=rollup.company_id)
    return rollup
