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

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, and_, case, cast, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, aliased

from erp.costing import accounts
from erp.costing.models import MaterialPeriodBalance, VarianceAllocation
from erp.db import is_postgres
from erp.posting.models import AccountingPeriod, JournalEntry, JournalLine, PeriodStatus

# The journal entries of the month-end close and of its reversal when a period is reopened.
CLOSE_SOURCE = "period_close"
REOPEN_SOURCE = "period_reopen"

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


def variance_by_material(company: Callable[[Any], Any], through: str | None = None) -> Any:
    """Per company and material, the material cost variance its stock carries now (or at the
    end of period ``through``): a subquery (company_id, material_id, variance) over the
    companies ``company(column)`` admits (a SQL condition on a company id column).

    The material ledger of 1404: the lines every posting but the close put on the material
    (receipts, returns, invoices, restatements, reversals, go-live), less what the standing
    closes allocated from it to consumption (``variance_allocations``). The close posts 1404
    as one line per company on no material (``erp.costing.close._post_allocation``), so the
    journal's own 1404 lines per material are not the variance per material after a close;
    closes posted before that (one line per material) are read the same way, their lines and
    those of their reversals (a reopened close's allocation rows are deleted) left out. The
    sum over every material equals 1404's balance in the journal (tests/service/
    test_close_properties.py holds them to it)."""
    line, va = JournalLine, VarianceAllocation
    closes = select(JournalEntry.id).where(JournalEntry.source_type.in_([CLOSE_SOURCE, REOPEN_SOURCE]))
    posted = select(line.company_id, line.material_id, line.amount.label("variance")).where(
        line.account_code == accounts.MATERIAL_COST_VARIANCE, line.material_id.is_not(None),
        line.entry_id.not_in(closes), company(line.company_id))
    allocated = select(va.company_id, va.material_id, (-va.allocated_variance).label("variance")).where(
        va.allocated_variance != 0, company(va.company_id))
    if through is not None:
        posted = posted.where(line.period <= through)
        allocated = allocated.where(va.period <= through)
    rows = union_all(posted, allocated).subquery("variance_rows")
    return (
        select(rows.c.company_id, rows.c.material_id, func.sum(rows.c.variance).label("variance"))
        .group_by(rows.c.company_id, rows.c.material_id)
        .subquery("variance_by_material")
    )
