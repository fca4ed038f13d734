"""The standard price in force: what every stock posting values its goods at.

A company values each material at a standard price set for a period; the price stays in
force for every later period until a later period's price is set: the price in force for
a period is the one set for the latest period at or before it. Cost accountants set
prices (``erp.costing.standards``); every posting reads them here, after its period lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from erp.db import DriverRead
from erp.masterdata.models import Material
from erp.messages import Message
from erp.posting.errors import NoStandardPrice
from erp.posting.models import StandardPrice
from erp.period import Period
from erp.posting.periods import latest_closed_period, lock_open_period


def price_in_force(company_id: Any, material_id: Any, period: Any) -> Any:
    """The standard price in force for a period, as a scalar subquery (NULL when none is
    set): the price set for the latest period at or before it. One backward step of the
    (company, material, period) index."""
    return (
        select(StandardPrice.price)
        .where(StandardPrice.company_id == company_id, StandardPrice.material_id == material_id,
               StandardPrice.period <= period)
        .order_by(StandardPrice.period.desc())
        .limit(1)
        .scalar_subquery()
    )


def prices_in_force(period: str, company_ids: Sequence[int], material_ids: Sequence[int] | None = None) -> Any:
    """Every price in force for ``period`` of the companies (optionally only some
    materials), as a subquery: company_id, material_id, price, since (the period it was set
    for), set_by, set_at."""
    latest = (
        select(StandardPrice.company_id, StandardPrice.material_id, func.max(StandardPrice.period).label("since"))
        .where(StandardPrice.company_id.in_(list(company_ids)), StandardPrice.period <= period)
        .group_by(StandardPrice.company_id, StandardPrice.material_id)
    )
    if material_ids is not None:
        latest = latest.where(StandardPrice.material_id.in_(list(material_ids)))
    chosen = latest.subquery("latest")
    return (
        select(StandardPrice.company_id, StandardPrice.material_id, StandardPrice.price,
               StandardPrice.period.label("since"), StandardPrice.set_by, StandardPrice.set_at)
        .join(chosen, and_(chosen.c.company_id == StandardPrice.company_id,
                           chosen.c.material_id == StandardPrice.material_id,
                           chosen.c.since == StandardPrice.period))
        .subquery("in_force")
    )


# Built once and sent to the driver as compiled SQL on PostgreSQL (erp.db.DriverRead): every
# stock posting reads it, and building the expression anew cost more Python than the rest
# of the read (issue #18's profile: 15 % of a receipt's service layer).
_PRICE_IN_FORCE = DriverRead(
    select(StandardPrice.__table__.c.price)
    .where(StandardPrice.__table__.c.company_id == bindparam("company_id"),
           StandardPrice.__table__.c.material_id == bindparam("material_id"),
           StandardPrice.__table__.c.period <= bindparam("period", type_=StandardPrice.__table__.c.period.type))
    .order_by(StandardPrice.__table__.c.period.desc())
    .limit(1)
)


def standard_price(session: Session, company_id: int, material_id: int, period: str) -> Decimal:
    """The standard price in force (CNY per unit of the material); refuses with
    ``NoStandardPrice`` when the cost accountants have not set one."""
    found = _PRICE_IN_FORCE.rows(session.connection(),
                                 {"company_id": company_id, "material_id": material_id, "period": str(period)})
    price = found[0][0] if found else None
    if price is None:
        code = session.scalar(select(Material.code).where(Material.id == material_id))
        raise no_standard_price(code, period, company_id)
    return price  # type: ignore[no-any-return]


def no_standard_price(material: Any, period: str, company: Any) -> NoStandardPrice:
    """The refusal of a posting whose material has no standard price in force."""
    return NoStandardPrice(Message(
        "no standard price for material {material} in period {period} or before it in company {company}; "
        "a cost accountant must set it before stock can be valued", material=material, period=period,
        company=company))


def restatement_pending(session: Session, company_id: int, material_id: int, period: str) -> bool:
    """Whether stock of the material held in ``period`` may still be valued at an earlier
    standard: its price changed in a period up to ``period`` whose restatement waits for an
    earlier period's close (a new price is restated when the period before it closes, or
    at once when that one is already closed)."""
    sp = StandardPrice
    before = StandardPrice.__table__.alias("before")
    price_before = (
        select(before.c.price)
        .where(before.c.company_id == sp.company_id, before.c.material_id == sp.material_id,
               before.c.period < sp.period)
        .order_by(before.c.period.desc())
        .limit(1)
        .scalar_subquery()
    )
    changes = [sp.company_id == company_id, sp.material_id == material_id, sp.period <= period,
               price_before.is_not(None), price_before != sp.price]
    latest_closed = latest_closed_period(session, company_id)
    if latest_closed is not None:
        # The first open period's own price was restated when the period before it closed
        # (or when it was set, if that was later).
        changes.append(sp.period > Period(latest_closed).next())
    return session.scalar(select(select(sp.id).where(*changes).exists())) or False


def price_for_posting(
    session: Session, company_id: int, material_id: int, posting_date: dt.date
) -> tuple[str, Decimal]:
    """For a stock posting: lock its period open (``erp.posting.periods``), then read the
    standard price in force; returns (period, price). Refuses with ``PeriodClosed`` or
    ``NoStandardPrice``.

    Two statements, on purpose: a posting that waited on its period row for a price change
    to commit must read the new price, and only a statement begun after the wait sees it."""
    period = lock_open_period(session, company_id, posting_date)
    return period, standard_price(session, company_id, material_id, period)
