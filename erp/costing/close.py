"""The month-end close: standard-cost variance allocation (材料成本差异分配), period locking,
carrying balances forward, and reopening.

Per company, period and material, by the planned-cost method:

    rate = (opening variance + variance of the period's receipts)
         / (opening stock at standard + the period's receipts at standard)

Each consumption line (the period's issues, shipments, scrap and negative count
differences of one material, grouped by the account they went to) bears
round(consumed value at standard x rate, 2); the rest of the variance stays with the
stock. When no stock remains, all of it goes to consumption: the rounding residue is
added to the largest consumption line (or, with no consumption at all, written off to
manufacturing overhead), so the variance account of a material with no stock ends at 0.
``docs/costing.md`` has the worked example.

The close is set-based: one scan of the period's ledger rows builds every material's
figures, one more over its consumption rows builds the allocation lines, and the journal
lines are inserted from those rows with INSERT ... SELECT. It runs in the caller's single
transaction (atomic) and holds the period row FOR UPDATE, which postings into the period
wait on (see erp.costing.periods). Closing a closed period changes nothing and returns the
stored result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.errors import UnbalancedEntry
from erp.costing.journal import reverse_entry
from erp.costing.models import (
    AccountingPeriod,
    JournalEntry,
    JournalLine,
    MaterialPeriodBalance,
    PeriodEvent,
    PeriodStatus,
    VarianceAllocation,
)
from erp.costing.periods import ensure_period
from erp.costing.revaluation import revalue_to_standard
from erp.costing.standards import carry_forward_prices, next_period
from erp.db import utcnow
from erp.errors import Conflict, Forbidden, NotFound
from erp.inventory.models import CloseClass, StockMovement
from erp.masterdata.models import Company
from erp.sqlmath import round_share

ZERO = Decimal("0")
CLOSE_SOURCE = "period_close"
# With no stock and no consumption left, a variance has nothing to stay with: it is
# written off to manufacturing overhead (制造费用).
ORPHAN_VARIANCE_ACCOUNT = accounts.OVERHEAD


class EarlierPeriodOpen(Conflict):
    slug = "earlier-period-open"
    title = "An earlier period is still open"


class PeriodNotClosed(Conflict):
    slug = "period-not-closed"
    title = "The period is not closed"


class LaterPeriodClosed(Conflict):
    slug = "later-period-closed"
    title = "A later period is closed"


@dataclass(frozen=True)
class CloseResult:
    company_id: int
    period: str
    status: PeriodStatus
    closed_at: dt.datetime | None
    closed_by: int | None
    journal_entry_id: int | None
    materials: int
    variance_allocated: Decimal
    variance_remaining: Decimal


def last_day(period: str) -> dt.date:
    following = next_period(period)
    return dt.date(int(following[:4]), int(following[5:7]), 1) - dt.timedelta(days=1)


def _require_cost_accountant(actor: Actor, company_id: int, action: str) -> None:
    actor.require_role(Role.COST_ACCOUNTANT, action=action)
    actor.require_company(company_id)


def close_result(session: Session, company_id: int, period: str) -> CloseResult:
    """The stored outcome of a period's close (or its open state)."""
    row = session.get(AccountingPeriod, (company_id, period))
    totals = session.execute(
        select(func.count(MaterialPeriodBalance.id),
               func.coalesce(func.sum(MaterialPeriodBalance.consumption_variance), 0),
               func.coalesce(func.sum(MaterialPeriodBalance.closing_variance), 0))
        .where(MaterialPeriodBalance.company_id == company_id, MaterialPeriodBalance.period == period)
    ).one()
    return CloseResult(
        company_id=company_id, period=period,
        status=PeriodStatus(row.status) if row else PeriodStatus.OPEN,
        closed_at=row.closed_at if row else None, closed_by=row.closed_by if row else None,
        journal_entry_id=row.close_entry_id if row else None, materials=totals[0],
        variance_allocated=Decimal(totals[1]).quantize(Decimal("0.01")),
        variance_remaining=Decimal(totals[2]).quantize(Decimal("0.01")),
    )


def close_period(session: Session, actor: Actor, *, company_id: int, period: str) -> CloseResult:
    """Close a company's period: allocate the variance, post it, carry balances and standard
    prices into the next period, restate stock at the next period's standards, lock."""
    _require_cost_accountant(actor, company_id, "closing a period")
    if session.get(Company, company_id) is None:
        raise NotFound(f"company {company_id} not found")
    ensure_period(session, company_id, period)
    row = session.get(AccountingPeriod, (company_id, period), with_for_update=True, populate_existing=True)
    assert row is not None
    if row.status == PeriodStatus.CLOSED:
        return close_result(session, company_id, period)
    earlier_open = session.scalar(
        select(AccountingPeriod.period)
        .where(AccountingPeriod.company_id == company_id, AccountingPeriod.period < period,
               AccountingPeriod.status == PeriodStatus.OPEN)
        .order_by(AccountingPeriod.period)
        .limit(1)
    )
    if earlier_open is not None:
        raise EarlierPeriodOpen(f"period {earlier_open} of company {company_id} must be closed before {period}")

    _build_material_balances(session, company_id, period)
    _allocate_variance(session, company_id, period)
    entry_id = _post_allocation(session, company_id, period, actor.user_id)
    carry_forward_prices(session, company_id=company_id, period=period)
    ensure_period(session, company_id, next_period(period))
    revalue_to_standard(session, company_id=company_id, period=next_period(period), material_ids=None,
                        user_id=actor.user_id)

    row.status = PeriodStatus.CLOSED
    row.closed_at = utcnow()
    row.closed_by = actor.user_id
    row.close_entry_id = entry_id
    session.add(PeriodEvent(company_id=company_id, period=period, action="close", user_id=actor.user_id,
                            journal_entry_id=entry_id))
    session.flush()
    return close_result(session, company_id, period)


def _previous_close(session: Session, company_id: int, period: str) -> str | None:
    return session.scalar(
        select(func.max(AccountingPeriod.period)).where(
            AccountingPeriod.company_id == company_id, AccountingPeriod.period < period,
            AccountingPeriod.status == PeriodStatus.CLOSED,
        )
    )


def _build_material_balances(session: Session, company_id: int, period: str) -> None:
    """One row per material: opening (last close's closing, restated by this period's
    revaluation), receipts, other inflows, consumption and closing, from one ledger scan."""
    m = StockMovement
    zero = literal(ZERO)

    def when(close_class: CloseClass, column: Any) -> Any:
        return case((m.close_class == close_class, column), else_=zero)

    # Columns: carried quantity/value (cq_, cv_), opening variance (ovar: carried plus this
    # period's revaluation), revaluation value (rev), receipts (rq, rv, rvar), other inflows
    # (iq, iv), consumption (uq, uv, positive), and the period's net quantity/value (nq, nv).
    names = ("material_id", "cq_", "cv_", "ovar", "rev", "rq", "rv", "rvar", "iq", "iv", "uq", "uv", "nq", "nv")
    previous = _previous_close(session, company_id, period)

    def labelled(*columns: Any) -> list[Any]:
        return [column.label(name) for column, name in zip(columns, names, strict=True)]

    if previous is not None:
        carried = select(*labelled(
            MaterialPeriodBalance.material_id, MaterialPeriodBalance.closing_quantity,
            MaterialPeriodBalance.closing_value, MaterialPeriodBalance.closing_variance, *([zero] * 10),
        )).where(MaterialPeriodBalance.company_id == company_id, MaterialPeriodBalance.period == previous)
    else:
        # First close: everything posted before this period is the opening.
        carried = (
            select(*labelled(m.material_id, func.sum(m.quantity), func.sum(m.value), func.sum(m.variance),
                             *([zero] * 10)))
            .where(m.company_id == company_id, m.period < period)
            .group_by(m.material_id)
        )
    this_period = select(*labelled(
        m.material_id, zero, zero, when(CloseClass.REVALUATION, m.variance), when(CloseClass.REVALUATION, m.value),
        when(CloseClass.RECEIPT, m.quantity), when(CloseClass.RECEIPT, m.value), when(CloseClass.RECEIPT, m.variance),
        when(CloseClass.INFLOW, m.quantity), when(CloseClass.INFLOW, m.value),
        when(CloseClass.CONSUMPTION, -m.quantity), when(CloseClass.CONSUMPTION, -m.value),
        m.quantity, m.value,
    )).where(m.company_id == company_id, m.period == period)
    both = union_all(carried, this_period).subquery()
    c = {name: both.c[name] for name in names}
    total = {name: func.sum(c[name]) for name in names[1:]}
    session.execute(
        insert(MaterialPeriodBalance).from_select(
            [
                "company_id", "period", "material_id", "opening_quantity", "opening_value", "opening_variance",
                "receipts_quantity", "receipts_value", "receipts_variance", "other_inflow_quantity",
                "other_inflow_value", "consumption_quantity", "consumption_value", "consumption_variance",
                "variance_rate", "closing_quantity", "closing_value", "closing_variance",
            ],
            select(
                literal(company_id, Integer), literal(period), c["material_id"],
                total["cq_"], total["cv_"] + total["rev"], total["ovar"],
                total["rq"], total["rv"], total["rvar"], total["iq"], total["iv"], total["uq"], total["uv"],
                zero, zero,
                total["cq_"] + total["nq"], total["cv_"] + total["nv"], total["ovar"] + total["rvar"],
            ).group_by(c["material_id"]),
        )
    )


def _allocate_variance(session: Session, company_id: int, period: str) -> None:
    """Allocation lines per (material, consumption account), the residue rule, and each
    material's consumption share, rate and closing variance."""
    m, b, va = StockMovement, MaterialPeriodBalance, VarianceAllocation
    session.execute(
        insert(va).from_select(
            ["company_id", "period", "material_id", "account_code", "consumed_value", "allocated_variance"],
            select(literal(company_id, Integer), literal(period), m.material_id, m.offset_account,
                   -func.sum(m.value), literal(ZERO))
            .where(m.company_id == company_id, m.period == period, m.close_class == CloseClass.CONSUMPTION)
            .group_by(m.material_id, m.offset_account)
            .having(func.sum(m.value) != 0),
        )
    )
    this_close = and_(b.company_id == company_id, b.period == period)
    total_variance = b.opening_variance + b.receipts_variance
    total_standard = b.opening_value + b.receipts_value
    session.execute(
        update(va)
        .where(va.company_id == company_id, va.period == period, b.material_id == va.material_id, this_close)
        .values(allocated_variance=round_share(va.consumed_value, total_variance, total_standard))
        .execution_options(synchronize_session=False)
    )
    # No stock left: the whole variance leaves with consumption; the rounding residue goes
    # to the material's largest consumption line.
    ranked = (
        select(
            va.id.label("allocation_id"),
            (total_variance - func.sum(va.allocated_variance).over(partition_by=va.material_id)).label("residue"),
            func.row_number().over(
                partition_by=va.material_id, order_by=(func.abs(va.consumed_value).desc(), va.account_code)
            ).label("rank"),
        )
        .join(b, and_(b.material_id == va.material_id, this_close))
        .where(va.company_id == company_id, va.period == period, b.closing_quantity == 0)
        .subquery()
    )
    session.execute(
        update(va)
        .where(va.id == ranked.c.allocation_id, ranked.c.rank == 1)
        .values(allocated_variance=va.allocated_variance + ranked.c.residue)
        .execution_options(synchronize_session=False)
    )
    # No stock and no consumption, yet a variance (e.g. a cent left by partial returns).
    has_lines = select(va.id).where(va.company_id == company_id, va.period == period,
                                    va.material_id == b.material_id).exists()
    session.execute(
        insert(va).from_select(
            ["company_id", "period", "material_id", "account_code", "consumed_value", "allocated_variance"],
            select(literal(company_id, Integer), literal(period), b.material_id, literal(ORPHAN_VARIANCE_ACCOUNT),
                   literal(ZERO), total_variance)
            .where(this_close, b.closing_quantity == 0, total_variance != 0, ~has_lines),
        )
    )
    allocated = (
        select(func.coalesce(func.sum(va.allocated_variance), 0))
        .where(va.company_id == company_id, va.period == period, va.material_id == b.material_id)
        .scalar_subquery()
    )
    session.execute(
        update(b)
        .where(this_close)
        .values(
            consumption_variance=allocated,
            closing_variance=total_variance - allocated,
            variance_rate=case((total_standard != 0, total_variance / total_standard), else_=literal(ZERO)),
        )
        .execution_options(synchronize_session=False)
    )


def _post_allocation(session: Session, company_id: int, period: str, user_id: int) -> int | None:
    """One journal entry for the close: per allocation line, the consumption account bears
    the variance and the variance account gives it up (two lines that cancel by design)."""
    va = VarianceAllocation
    has_any = session.scalar(
        select(func.count()).where(va.company_id == company_id, va.period == period, va.allocated_variance != 0)
    )
    if not has_any:
        return None
    entry_date = last_day(period)
    entry_id: int = session.execute(
        insert(JournalEntry).values(
            company_id=company_id, entry_date=entry_date, period=period, source_type=CLOSE_SOURCE, source_id=None,
            memo=f"material cost variance allocation {period}", created_by=user_id, created_at=utcnow(),
        ).returning(JournalEntry.id)
    ).scalar_one()
    allocations = select(va.material_id, va.account_code, va.allocated_variance).where(
        va.company_id == company_id, va.period == period, va.allocated_variance != 0
    ).subquery()
    debit = select(literal(entry_id), literal(company_id, Integer), literal(period), allocations.c.account_code,
                   allocations.c.allocated_variance, allocations.c.material_id)
    credit = select(literal(entry_id), literal(company_id, Integer), literal(period),
                    literal(accounts.MATERIAL_COST_VARIANCE), -allocations.c.allocated_variance,
                    allocations.c.material_id)
    session.execute(
        insert(JournalLine).from_select(
            ["entry_id", "company_id", "period", "account_code", "amount", "material_id"], union_all(debit, credit)
        )
    )
    imbalance = session.scalar(select(func.sum(JournalLine.amount)).where(JournalLine.entry_id == entry_id))
    if imbalance is not None and abs(Decimal(imbalance)) >= Decimal("0.005"):
        raise UnbalancedEntry(f"close entry {entry_id} is off by {imbalance}")
    return entry_id


def reopen_period(session: Session, actor: Actor, *, company_id: int, period: str, reason: str) -> CloseResult:
    """Reopen the latest closed period of a company (group cost accountants, with a reason):
    the close's postings are reversed and the reopening is recorded with who and why."""
    actor.require_role(Role.COST_ACCOUNTANT, action="reopening a period")
    if not actor.group_wide:
        raise Forbidden("only a group cost accountant may reopen a closed period", slug="group-cost-accountant-only")
    if not reason.strip():
        from erp.errors import ValidationFailed

        raise ValidationFailed.for_field("reason", "reopening a period needs a reason")
    row = session.get(AccountingPeriod, (company_id, period), with_for_update=True, populate_existing=True)
    if row is None or row.status != PeriodStatus.CLOSED:
        raise PeriodNotClosed(f"period {period} of company {company_id} is not closed")
    later = session.scalar(
        select(func.min(AccountingPeriod.period)).where(
            AccountingPeriod.company_id == company_id, AccountingPeriod.period > period,
            AccountingPeriod.status == PeriodStatus.CLOSED,
        )
    )
    if later is not None:
        raise LaterPeriodClosed(f"period {later} is closed; reopen it first")
    row.status = PeriodStatus.OPEN
    session.flush()
    reversal_id = None
    if row.close_entry_id is not None:
        reversal_id = reverse_entry(
            session, row.close_entry_id, entry_date=last_day(period), source_type="period_reopen", source_id=None,
            memo=f"reopening {period}: {reason}", user_id=actor.user_id,
        )
    session.execute(delete(VarianceAllocation).where(VarianceAllocation.company_id == company_id,
                                                     VarianceAllocation.period == period))
    session.execute(delete(MaterialPeriodBalance).where(MaterialPeriodBalance.company_id == company_id,
                                                        MaterialPeriodBalance.period == period))
    row.closed_at = None
    row.closed_by = None
    row.close_entry_id = None
    session.add(PeriodEvent(company_id=company_id, period=period, action="reopen", reason=reason,
                            user_id=actor.user_id, journal_entry_id=reversal_id))
    session.flush()
    return close_result(session, company_id, period)

