"""Standard prices: each company values each material at a standard price per period.

The price in force for a posting is the price of the posting date's period. A period's
price may be set or changed until the first movement of that material in that period uses
it; after that a change would silently restate postings, so it is refused (set the next
period's price instead). When the previous period is already closed, setting a price that
differs from the stock's current valuation revalues the stock at once (see
``erp.costing.revaluation``); otherwise the previous period's close does it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, and_, bindparam, exists, func, literal, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing.errors import NoStandardPrice, PeriodClosed
from erp.costing.models import AccountingPeriod, PeriodStatus, StandardPrice
from erp.costing.periods import lock_period_row, refuse_if_closed_through
from erp.money import period_of
from erp.db import UTCDateTime, dialect_insert, utcnow
from erp.errors import Conflict, ValidationFailed
from erp.inventory.models import CloseClass, StockMovement
from erp.masterdata.models import Company, Material


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def next_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def standard_price(session: Session, company_id: int, material_id: int, period: str) -> Decimal:
    """The standard price in force; refused when the cost accountants have not set one."""
    price = session.scalar(
        select(StandardPrice.price).where(
            StandardPrice.company_id == company_id,
            StandardPrice.material_id == material_id,
            StandardPrice.period == period,
        )
    )
    if price is None:
        code = session.scalar(select(Material.code).where(Material.id == material_id))
        raise NoStandardPrice(
            f"no standard price for material {code} in period {period} of company {company_id}; "
            "a cost accountant must set it before stock can be valued"
        )
    return price


# Built once: every posting runs it.
_PERIOD_AND_PRICE = (
    select(AccountingPeriod.status, StandardPrice.price)
    .select_from(AccountingPeriod)
    .outerjoin(StandardPrice, and_(StandardPrice.company_id == AccountingPeriod.company_id,
                                   StandardPrice.period == AccountingPeriod.period,
                                   StandardPrice.material_id == bindparam("material_id")))
    .where(AccountingPeriod.company_id == bindparam("company_id"), AccountingPeriod.period == bindparam("period"))
    .with_for_update(of=AccountingPeriod, key_share=True, read=True)
)


def price_for_posting(
    session: Session, company_id: int, material_id: int, posting_date: dt.date
) -> tuple[str, Decimal]:
    """For a posting: lock its period open (see erp.costing.periods) and read the standard
    price in force, in one statement; returns (period, price)."""
    period = period_of(posting_date)
    row = lock_period_row(session, _PERIOD_AND_PRICE, company_id=company_id, period=period, material_id=material_id)
    if row.price is None:
        return period, standard_price(session, company_id, material_id, period)  # raises, naming the material
    return period, row.price


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
) -> list[StandardPrice]:
    """Set the standard prices of materials for one company and period (cost accountants)."""
    from erp.costing.revaluation import revalue_to_standard  # revaluation posts stock; imported late

    actor.require_role(Role.COST_ACCOUNTANT, action="setting standard prices")
    actor.require_company(company_id)
    if session.get(Company, company_id) is None:
        raise ValidationFailed.for_field("company_id", f"no company with id {company_id}")
    material_ids = [p.material_id for p in prices]
    if len(set(material_ids)) != len(material_ids):
        raise ValidationFailed.for_field("prices", "a material appears more than once")
    known = set(session.scalars(select(Material.id).where(Material.id.in_(material_ids))))
    unknown = sorted(set(material_ids) - known)
    if unknown:
        raise ValidationFailed.for_field("prices", f"unknown materials {unknown}")
    refuse_if_closed_through(session, company_id, period)
    period_row = session.get(AccountingPeriod, (company_id, period), with_for_update=True)
    if period_row is not None and period_row.status == PeriodStatus.CLOSED:
        raise PeriodClosed(f"period {period} of company {company_id} is closed")
    in_use = set(
        session.scalars(
            select(StockMovement.material_id)
            .where(
                StockMovement.company_id == company_id,
                StockMovement.period == period,
                StockMovement.material_id.in_(material_ids),
                StockMovement.close_class != CloseClass.REVALUATION,
            )
            .distinct()
        )
    )
    current = {
        row.material_id: row.price
        for row in session.execute(
            select(StandardPrice.material_id, StandardPrice.price).where(
                StandardPrice.company_id == company_id, StandardPrice.period == period,
                StandardPrice.material_id.in_(material_ids),
            )
        )
    }
    changed_in_use = sorted(m for m in in_use if m in current and current[m] != _price_of(prices, m))
    if changed_in_use:
        codes = session.scalars(select(Material.code).where(Material.id.in_(changed_in_use))).all()
        raise Conflict(
            f"standard prices of {', '.join(codes)} are already used by postings in {period}; "
            f"set the price for {next_period(period)} instead",
            slug="standard-price-in-use",
        )
    now = utcnow()
    upsert = dialect_insert(session, StandardPrice)
    upsert = upsert.on_conflict_do_update(
        index_elements=["company_id", "material_id", "period"],
        set_={"price": upsert.excluded.price, "carried_forward": False, "set_by": actor.user_id,
              "set_at": now},
    )
    for change in prices:
        session.execute(
            upsert.values(
                company_id=company_id, material_id=change.material_id, period=period, price=change.price,
                carried_forward=False, set_by=actor.user_id, set_at=now,
            )
        )
    previous = session.get(AccountingPeriod, (company_id, previous_period(period)))
    if previous is not None and previous.status == PeriodStatus.CLOSED:
        revalue_to_standard(session, company_id=company_id, period=period, material_ids=material_ids,
                            user_id=actor.user_id)
    session.flush()
    return list(
        session.scalars(
            select(StandardPrice)
            .where(StandardPrice.company_id == company_id, StandardPrice.period == period,
                   StandardPrice.material_id.in_(material_ids))
            .order_by(StandardPrice.material_id)
        )
    )


def _price_of(prices: Sequence[PriceChange], material_id: int) -> Decimal:
    return next(p.price for p in prices if p.material_id == material_id)


def list_standard_prices(
    session: Session, actor: Actor, *, company_id: int, period: str, offset: int, limit: int
) -> tuple[list[StandardPrice], int]:
    """A company's standard prices for a period."""
    actor.require_company(company_id)
    query = select(StandardPrice).where(
        StandardPrice.company_id == company_id, StandardPrice.period == period
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(StandardPrice.material_id).offset(offset).limit(limit)).all()
    return list(rows), total


def carry_forward_prices(session: Session, *, company_ids: Sequence[int], period: str) -> int:
    """Copy each standard price of the companies' ``period`` into the next period where none
    is set yet."""
    following = next_period(period)
    target = StandardPrice.__table__.alias("target")
    source = (
        select(
            StandardPrice.company_id, StandardPrice.material_id, literal(following, String(7)),
            StandardPrice.price, literal(True), StandardPrice.set_by, literal(utcnow(), UTCDateTime()),
        )
        .where(
            StandardPrice.company_id.in_(list(company_ids)),
            StandardPrice.period == period,
            ~exists().where(
                and_(
                    target.c.company_id == StandardPrice.company_id,
                    target.c.material_id == StandardPrice.material_id,
                    target.c.period == following,
                )
            ),
        )
    )
    result = session.execute(
        StandardPrice.__table__.insert().from_select(
            ["company_id", "material_id", "period", "price", "carried_forward", "set_by", "set_at"], source
        )
    )
    return result.rowcount or 0
