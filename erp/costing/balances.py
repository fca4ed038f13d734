"""Each material's balance as of a closed period, from the latest close that wrote one.

A close writes a ``material_period_balances`` row only for the materials that moved in
the period (any period total, the revaluation at the period's start included) and, at a
company's first close, for every material carrying stock in (erp.costing.close). A
material that did not move keeps its last close's closing: its opening and closing in any
later closed period are that closing, with nothing received, consumed or allocated. So
the group's month end writes rows in proportion to what moved, not to the 20,000 x 30
company-materials that carry stock.

``period_balances`` gives the same shape as the table, one row per company and material
that has any balance at or before the period, for the companies whose period is closed
(an open period has no balances, as before). Readers of a period's balances (the close's
result, the variance allocation report, the close preview) read through it, never the
table's rows for one period alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, aliased

from erp.costing.models import MaterialPeriodBalance
from erp.db import is_postgres
from erp.posting.models import AccountingPeriod, PeriodStatus

# The columns of a period's balance that only a period with movements can have; a material
# that did not move has zero in each.
MOVEMENT_COLUMNS = ("receipts_quantity", "receipts_value", "receipts_variance", "other_inflow_quantity",
                    "other_inflow_value", "consumption_quantity", "consumption_value", "consumption_variance")


def latest_balances(session: Session, company_ids: Sequence[int], period: str) -> Any:
    """Per company and material, the latest balance row written at or before ``period``
    (a subquery with the table's columns). PostgreSQL reads it with DISTINCT ON along the
    index (company_id, material_id, period); elsewhere with a correlated max."""
    b = MaterialPeriodBalance
    ids = sorted(set(company_ids))
    if is_postgres(session):
        return (
            select(b)
            .where(b.company_id.in_(ids), b.period <= period)
            .order_by(b.company_id, b.material_id, b.period.desc())
            .ext(distinct_on(b.company_id, b.material_id))
            .subquery("latest")
        )
    earlier = aliased(b)
    last = (select(func.max(earlier.period))
            .where(earlier.company_id == b.company_id, earlier.material_id == b.material_id,
                   earlier.period <= period)
            .scalar_subquery())
    return select(b).where(b.company_id.in_(ids), b.period == last).subquery("latest")


def period_balances(session: Session, company_ids: Sequence[int], period: str) -> Select[Any]:
    """Per company and material, its balance in closed ``period``: the row the period's
    close wrote, or, for a material that did not move, its latest earlier closing carried
    (opening = closing, the movement columns zero, the rate its closing variance over its
    closing value). Columns as ``material_period_balances`` (without ``id``); only
    companies whose ``period`` is closed have rows."""
    b = MaterialPeriodBalance
    latest = latest_balances(session, company_ids, period)
    ap = AccountingPeriod
    written = latest.c.period == period
    zero = literal(0)

    def moved(name: str) -> Any:
        return case((written, latest.c[name]), else_=cast(zero, b.__table__.c[name].type)).label(name)

    def opening(name: str) -> Any:
        return case((written, latest.c[f"opening_{name}"]), else_=latest.c[f"closing_{name}"]).label(f"opening_{name}")

    rate_type = b.__table__.c.variance_rate.type
    carried_rate = case((latest.c.closing_value != 0, cast(latest.c.closing_variance / latest.c.closing_value,
                                                            rate_type)),
                        else_=cast(zero, rate_type))
    return (
        select(
            latest.c.company_id, literal(period).label("period"), latest.c.material_id,
            opening("quantity"), opening("value"), opening("variance"),
            *(moved(name) for name in MOVEMENT_COLUMNS),
            case((written, latest.c.variance_rate), else_=carried_rate).label("variance_rate"),
            latest.c.closing_quantity, latest.c.closing_value, latest.c.closing_variance,
        )
        .join(ap, and_(ap.company_id == latest.c.company_id, ap.period == period,
                       ap.status == PeriodStatus.CLOSED))
    )
