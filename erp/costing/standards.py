"""Standard prices: each company values each material at a standard price per period.

A price is set for a period and stays in force for every later period until a new one is
set: the price in force for a period is the one set for the latest period at or before it.
So a new month needs no copying of prices, and clerks can post into it before the
previous month is closed.

A price may be set or changed until a posting uses it: a change that would alter the price
in force for a period holding postings of the material would silently restate them, so it
is refused (set a later period's price instead). When the previous period is already
closed, setting a price that differs from the stock's current valuation revalues the stock
at once (see ``erp.costing.revaluation``); otherwise the previous period's close does it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.orm import Session

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.costing.models import AccountingPeriod, PeriodStatus, StandardPrice
from erp.costing.revaluation import revalue_to_standard
from erp.db import dialect_insert, page, utcnow
from erp.costing.errors import StandardPriceInUse
from erp.errors import ValidationFailed
from erp.messages import Message
from erp.masterdata.models import Company, Material
from erp.posting.models import CloseClass, StockMovement
from erp.period import Period
from erp.posting.periods import lock_company_calendar, refuse_if_closed_through
from erp.posting.prices import prices_in_force


@dataclass(frozen=True)
class PriceChange:
    material_id: int
    price: Decimal


def set_standard_prices(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    period: str,
    prices: Sequence[PriceChange],
    reason: str | None = None,
) -> list[Any]:
    """Set the standard prices of materials for one company from a period on (cost
    accountants); returns the prices now in force for that period. ``reason`` goes into the
    audit trail with each price (a roll-up's release names its run and the releaser's reason)."""
    actor.require_role(Role.COST_ACCOUNTANT, action="setting standard prices")
    actor.require_company(company_id)
    if session.get(Company, company_id) is None:
        raise ValidationFailed.for_field("company_id", Message("no company with id {key}", key=company_id))
    material_ids = [p.material_id for p in prices]
    if len(set(material_ids)) != len(material_ids):
        raise ValidationFailed.for_field("prices", Message("a material appears more than once"))
    known = set(session.scalars(select(Material.id).where(Material.id.in_(material_ids))))
    unknown = sorted(set(material_ids) - known)
    if unknown:
        raise ValidationFailed.for_field("prices", Message("unknown materials {ids}", ids=repr(unknown)))
    # The new price is in force from this period until the next one set; postings into
    # those periods wait until this commits (they hold their period row for key share).
    lock_company_calendar(session, company_id)
    refuse_if_closed_through(session, company_id, period)
    session.execute(
        select(AccountingPeriod.period)
        .where(AccountingPeriod.company_id == company_id, AccountingPeriod.period >= period)
        .order_by(AccountingPeriod.period)
        .with_for_update()
    ).all()
    _refuse_changes_in_use(session, company_id, period, prices)
    before = {row.material_id: row.price for row in _in_force_rows(session, company_id, period, material_ids)}
    now = utcnow()
    upsert = dialect_insert(session, StandardPrice)
    upsert = upsert.on_conflict_do_update(
        index_elements=["company_id", "material_id", "period"],
        set_={"price": upsert.excluded.price, "set_by": actor.user_id, "set_at": now},
    )
    session.execute(upsert, [
        {"company_id": company_id, "material_id": change.material_id, "period": period, "price": change.price,
         "set_by": actor.user_id, "set_at": now}
        for change in prices
    ])
    previous = session.get(AccountingPeriod, (company_id, Period(period).previous()))
    if previous is not None and previous.status == PeriodStatus.CLOSED:
        revalue_to_standard(session, company_id=company_id, period=period, material_ids=material_ids,
                            user_id=actor.user_id)
    session.flush()
    for change in prices:
        # before: the price that was in force for the period (set for it or carried forward).
        audit.record_change(session, actor, entity="standard_price", entity_id=change.material_id,
                            action=audit.CHANGE if change.material_id in before else audit.CREATE,
                            before={"period": period, "price": audit.at_scale(before.get(change.material_id), 6)},
                            after={"period": period, "price": audit.at_scale(change.price, 6)},
                            reason=reason, company_id=company_id)
    return _in_force_rows(session, company_id, period, material_ids)


def _refuse_changes_in_use(session: Session, company_id: int, period: str, prices: Sequence[PriceChange]) -> None:
    """Refuse a price that would change the price in force for a period in which postings
    of the material already used it: from ``period`` up to the next period with a price of
    its own."""
    material_ids = [p.material_id for p in prices]
    current = {row.material_id: row.price for row in _in_force_rows(session, company_id, period, material_ids)}
    changing = [p.material_id for p in prices if current.get(p.material_id) != p.price]
    if not changing:
        return
    later = StandardPrice.__table__.alias("later")
    next_set = (
        select(func.min(later.c.period))
        .where(later.c.company_id == company_id, later.c.material_id == StockMovement.material_id,
               later.c.period > period)
        .scalar_subquery()
    )
    used = session.execute(
        select(Material.code, func.max(StockMovement.period))
        .join(Material, Material.id == StockMovement.material_id)
        .where(
            StockMovement.company_id == company_id,
            StockMovement.material_id.in_(changing),
            StockMovement.period >= period,
            or_(next_set.is_(None), StockMovement.period < next_set),
            StockMovement.close_class != CloseClass.REVALUATION,
        )
        .group_by(Material.code)
        .order_by(Material.code)
    ).all()
    if used:
        last = max(last_period for _, last_period in used)
        raise StandardPriceInUse(
            Message("standard prices of {materials} are already used by postings from {period} to {last}; "
                    "set the price for {next} instead", materials=[code for code, _ in used], period=period,
                    last=last, next=Period(last).next()),
        )


def _in_force_query(company_id: int, period: str, material_ids: Sequence[int] | None) -> Select[Any]:
    in_force = prices_in_force(period, [company_id], material_ids)
    return (
        select(in_force.c.company_id, in_force.c.material_id, literal(period).label("period"), in_force.c.price,
               in_force.c.since.label("effective_from"), (in_force.c.since != period).label("carried_forward"),
               in_force.c.set_by, in_force.c.set_at)
        .order_by(in_force.c.material_id)
    )


def _in_force_rows(session: Session, company_id: int, period: str, material_ids: Sequence[int] | None) -> list[Any]:
    return list(session.execute(_in_force_query(company_id, period, material_ids)).all())


def list_standard_prices(
    session: Session, actor: Actor, *, company_id: int, period: str, offset: int, limit: int
) -> tuple[list[Any], int]:
    """A company's standard prices in force for a period (set for it or for an earlier one)."""
    actor.require_company(company_id)
    return page(session, _in_force_query(company_id, period, None), offset=offset, limit=limit)
