"""The month-end close: standard-cost variance allocation (材料成本差异分配), period locking,
carrying balances forward, and reopening.

Per company, period and material, by the planned-cost method:

    rate = (opening variance + variance of the period's receipts)
         / (opening stock at standard + the period's receipts at standard)

where the period's receipts at standard include stock found by counts (盘盈), which comes
in at standard with no variance of its own: it dilutes the rate like any other stock.

Each consumption line (the period's issues, shipments, scrap and negative count
differences of one material, grouped by the account they went to) bears
round(consumed value at standard x rate, 2); the rest of the variance stays with the
stock. When no stock remains, all of it goes to consumption: the rounding residue is
added to the largest consumption line (or, with no consumption at all, written off to
manufacturing overhead), so the variance account of a material with no stock ends at 0.
``docs/costing.md`` has the worked example.

The close is set-based and never scans the month's ledger: every posting keeps the
period's totals per material, close class and account current (``period_movement_totals``,
like the stock balances), and the close builds every material's figures and the
allocation lines from those totals and the previous close, then inserts the journal lines
from them with INSERT ... SELECT. It runs in the caller's single
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
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
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
    PeriodMovementTotal,
    PeriodStatus,
    VarianceAllocation,
)
from erp.costing.periods import ensure_period, latest_closed_period, lock_company_calendar
from erp.costing.revaluation import reverse_restatement, revalue_to_standard
from erp.costing.standards import carry_forward_prices, next_period
from erp.db import is_postgres, utcnow
from erp.errors import Conflict, Forbidden, NotFound
from erp.inventory.models import CloseClass
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


def period_state(session: Session, actor: Actor, *, company_id: int, period: str) -> CloseResult:
    """A company's period: open or closed, and its close's result."""
    actor.require_company(company_id)
    if session.get(Company, company_id) is None:
        raise NotFound(f"company {company_id} not found")
    return close_result(session, company_id, period)


def close_period(session: Session, actor: Actor, *, company_id: int, period: str) -> CloseResult:
    """Close a company's period: allocate the variance, post it, carry balances and standard
    prices into the next period, restate stock at the next period's standards, lock."""
    _require_cost_accountant(actor, company_id, "closing a period")
    if session.get(Company, company_id) is None:
        raise NotFound(f"company {company_id} not found")
    lock_company_calendar(session, company_id)
    existing = session.get(AccountingPeriod, (company_id, period), with_for_update=True, populate_existing=True)
    if existing is not None and existing.status == PeriodStatus.CLOSED:
        return close_result(session, company_id, period)
    latest = latest_closed_period(session, company_id)
    if latest is not None and period != next_period(latest):
        raise EarlierPeriodOpen(
            f"the books of company {company_id} are closed up to {latest}; close {next_period(latest)} next"
        )
    ensure_period(session, company_id, period)
    row = session.get(AccountingPeriod, (company_id, period), with_for_update=True, populate_existing=True)
    assert row is not None
    earlier_open = session.scalar(
        select(AccountingPeriod.period)
        .where(AccountingPeriod.company_id == company_id, AccountingPeriod.period < period,
               AccountingPeriod.status == PeriodStatus.OPEN)
        .order_by(AccountingPeriod.period)
        .limit(1)
    )
    if earlier_open is not None:
        raise EarlierPeriodOpen(f"period {earlier_open} of company {company_id} must be closed before {period}")

    _refresh_statistics(session, PeriodMovementTotal)
    _allocate_variance(session, company_id, period)
    entry_id = _post_allocation(session, company_id, period, actor.user_id)
    carry_forward_prices(session, company_id=company_id, period=period)
    ensure_period(session, company_id, next_period(period))
    restatement = revalue_to_standard(session, company_id=company_id, period=next_period(period),
                                      material_ids=None, user_id=actor.user_id, only_changed=True)

    row.status = PeriodStatus.CLOSED
    row.closed_at = utcnow()
    row.closed_by = actor.user_id
    row.close_entry_id = entry_id
    session.add(PeriodEvent(company_id=company_id, period=period, action="close", user_id=actor.user_id,
                            journal_entry_id=entry_id, stock_document_id=restatement))
    session.flush()
    return close_result(session, company_id, period)


def _refresh_statistics(session: Session, *models: Any) -> None:
    """Let PostgreSQL's planner see the rows this close just wrote (ANALYZE inside the
    transaction counts them); without it, it assumes empty tables and picks nested loops
    that cost seconds on thousands of materials."""
    if is_postgres(session):
        session.execute(text("ANALYZE " + ", ".join(model.__tablename__ for model in models)))


def _previous_close(session: Session, company_id: int, period: str) -> str | None:
    return session.scalar(
        select(func.max(AccountingPeriod.period)).where(
            AccountingPeriod.company_id == company_id, AccountingPeriod.period < period,
            AccountingPeriod.status == PeriodStatus.CLOSED,
        )
    )


def _material_figures(session: Session, company_id: int, period: str) -> Any:
    """Per material: opening (the last close's closing, restated by this period's
    revaluation), receipts, other inflows, consumption, closing, and the variance to spread.
    A subquery over the period's totals and the previous close: a few thousand rows."""
    t = PeriodMovementTotal
    zero = literal(ZERO)

    def when(close_class: CloseClass, column: Any) -> Any:
        return case((t.close_class == close_class, column), else_=zero)

    # Columns: carried quantity/value (cq_, cv_), opening variance (ovar: carried plus this
    # period's revaluation), revaluation value (rev), receipts (rq, rv, rvar), other inflows
    # (iq, iv), consumption (uq, uv, positive), and the period's net quantity/value (nq, nv).
    names = ("material_id", "cq_", "cv_", "ovar", "rev", "rq", "rv", "rvar", "iq", "iv", "uq", "uv", "nq", "nv")

    def labelled(*columns: Any) -> list[Any]:
        return [column.label(name) for column, name in zip(columns, names, strict=True)]

    previous = _previous_close(session, company_id, period)
    if previous is not None:
        carried = select(*labelled(
            MaterialPeriodBalance.material_id, MaterialPeriodBalance.closing_quantity,
            MaterialPeriodBalance.closing_value, MaterialPeriodBalance.closing_variance, *([zero] * 10),
        )).where(MaterialPeriodBalance.company_id == company_id, MaterialPeriodBalance.period == previous)
    else:
        # First close: everything posted before this period is the opening.
        carried = (
            select(*labelled(t.material_id, func.sum(t.quantity), func.sum(t.value), func.sum(t.variance),
                             *([zero] * 10)))
            .where(t.company_id == company_id, t.period < period)
            .group_by(t.material_id)
        )
    this_period = select(*labelled(
        t.material_id, zero, zero, when(CloseClass.REVALUATION, t.variance), when(CloseClass.REVALUATION, t.value),
        when(CloseClass.RECEIPT, t.quantity), when(CloseClass.RECEIPT, t.value), when(CloseClass.RECEIPT, t.variance),
        when(CloseClass.INFLOW, t.quantity), when(CloseClass.INFLOW, t.value),
        when(CloseClass.CONSUMPTION, -t.quantity), when(CloseClass.CONSUMPTION, -t.value),
        t.quantity, t.value,
    )).where(t.company_id == company_id, t.period == period)
    both = union_all(carried, this_period).subquery()
    total = {name: func.sum(both.c[name]) for name in names[1:]}
    opening_value = total["cv_"] + total["rev"]
    return (
        select(
            both.c.material_id,
            total["cq_"].label("opening_quantity"), opening_value.label("opening_value"),
            total["ovar"].label("opening_variance"),
            total["rq"].label("receipts_quantity"), total["rv"].label("receipts_value"),
            total["rvar"].label("receipts_variance"),
            total["iq"].label("other_inflow_quantity"), total["iv"].label("other_inflow_value"),
            total["uq"].label("consumption_quantity"), total["uv"].label("consumption_value"),
            (total["cq_"] + total["nq"]).label("closing_quantity"), (total["cv_"] + total["nv"]).label("closing_value"),
            # the rate's numerator and denominator
            (total["ovar"] + total["rvar"]).label("variance"),
            (opening_value + total["rv"] + total["iv"]).label("standard"),
        )
        .group_by(both.c.material_id)
        .subquery("figures")
    )


def _allocate_variance(session: Session, company_id: int, period: str) -> None:
    """Allocation lines per (material, consumption account) with the residue rule applied,
    then one row per material with its rate, consumption's share and what stays with stock."""
    t, va = PeriodMovementTotal, VarianceAllocation
    figures = _material_figures(session, company_id, period)
    consumed = (
        select(t.material_id, t.offset_account, (-func.sum(t.value)).label("consumed"))
        .where(t.company_id == company_id, t.period == period, t.close_class == CloseClass.CONSUMPTION)
        .group_by(t.material_id, t.offset_account)
        .having(func.sum(t.value) != 0)
        .subquery()
    )
    share = round_share(consumed.c.consumed, figures.c.variance, figures.c.standard)
    shares = (
        select(
            consumed.c.material_id, consumed.c.offset_account, consumed.c.consumed, share.label("share"),
            # No stock left: the whole variance leaves with consumption; the rounding residue
            # goes to the material's largest consumption line (ties: the lowest account).
            case((figures.c.closing_quantity == 0,
                  figures.c.variance - func.sum(share).over(partition_by=consumed.c.material_id)),
                 else_=literal(ZERO)).label("residue"),
            func.row_number().over(
                partition_by=consumed.c.material_id,
                order_by=(func.abs(consumed.c.consumed).desc(), consumed.c.offset_account),
            ).label("rank"),
        )
        .join(figures, figures.c.material_id == consumed.c.material_id)
        .subquery()
    )
    allocation_columns = ["company_id", "period", "material_id", "account_code", "consumed_value",
                          "allocated_variance"]
    session.execute(
        insert(va).from_select(
            allocation_columns,
            select(literal(company_id, Integer), literal(period), shares.c.material_id, shares.c.offset_account,
                   shares.c.consumed,
                   shares.c.share + case((shares.c.rank == 1, shares.c.residue), else_=literal(ZERO))),
        )
    )
    # No stock and no consumption, yet a variance (e.g. a cent left by partial returns).
    has_lines = select(va.id).where(va.company_id == company_id, va.period == period,
                                    va.material_id == figures.c.material_id).exists()
    session.execute(
        insert(va).from_select(
            allocation_columns,
            select(literal(company_id, Integer), literal(period), figures.c.material_id,
                   literal(ORPHAN_VARIANCE_ACCOUNT), literal(ZERO), figures.c.variance)
            .where(figures.c.closing_quantity == 0, figures.c.variance != 0, ~has_lines),
        )
    )
    _refresh_statistics(session, VarianceAllocation)
    allocated = (
        select(va.material_id, func.sum(va.allocated_variance).label("amount"))
        .where(va.company_id == company_id, va.period == period)
        .group_by(va.material_id)
        .subquery()
    )
    consumption_share = func.coalesce(allocated.c.amount, 0)
    zero = literal(ZERO)
    session.execute(
        insert(MaterialPeriodBalance).from_select(
            [
                "company_id", "period", "material_id", "opening_quantity", "opening_value", "opening_variance",
                "receipts_quantity", "receipts_value", "receipts_variance", "other_inflow_quantity",
                "other_inflow_value", "consumption_quantity", "consumption_value", "consumption_variance",
                "variance_rate", "closing_quantity", "closing_value", "closing_variance",
            ],
            select(
                literal(company_id, Integer), literal(period), figures.c.material_id, figures.c.opening_quantity,
                figures.c.opening_value, figures.c.opening_variance, figures.c.receipts_quantity,
                figures.c.receipts_value, figures.c.receipts_variance, figures.c.other_inflow_quantity,
                figures.c.other_inflow_value, figures.c.consumption_quantity, figures.c.consumption_value,
                consumption_share,
                case((figures.c.standard != 0, figures.c.variance / figures.c.standard), else_=zero),
                figures.c.closing_quantity, figures.c.closing_value, figures.c.variance - consumption_share,
            ).outerjoin(allocated, allocated.c.material_id == figures.c.material_id),
        )
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
    # Each consumption account takes its total; the variance account gives up one amount per
    # material, so its subledger stays per material. variance_allocations keeps the detail
    # of which material's variance each consumption account bore.
    debit = (
        select(literal(entry_id), literal(company_id, Integer), literal(period), allocations.c.account_code,
               func.sum(allocations.c.allocated_variance), literal(None, Integer))
        .group_by(allocations.c.account_code)
        .having(func.sum(allocations.c.allocated_variance) != 0)
    )
    credit = (
        select(literal(entry_id), literal(company_id, Integer), literal(period),
               literal(accounts.MATERIAL_COST_VARIANCE), -func.sum(allocations.c.allocated_variance),
               allocations.c.material_id)
        .group_by(allocations.c.material_id)
    )
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
    lock_company_calendar(session, company_id)
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
    # The close restated the stock at the next period's standards; undo that too, so that a
    # changed price in the next period is applied afresh by the next close.
    restatement = session.scalar(
        select(PeriodEvent.stock_document_id)
        .where(PeriodEvent.company_id == company_id, PeriodEvent.period == period, PeriodEvent.action == "close")
        .order_by(PeriodEvent.id.desc())
        .limit(1)
    )
    if restatement is not None:
        reverse_restatement(session, document_id=restatement, user_id=actor.user_id,
                            reason=f"period {period} reopened: {reason}")
    reversal_id = None
    if row.close_entry_id is not None:
        reversal_id = reverse_entry(
            session, row.close_entry_id, entry_date=last_day(period), source_type="period_reopen", source_id=None,
            memo=f"reopening {period}: {reason}", user_id=actor.user_id,
        )
    for derived in (VarianceAllocation, MaterialPeriodBalance):
        session.execute(delete(derived).where(derived.company_id == company_id, derived.period == period))
    row.closed_at = None
    row.closed_by = None
    row.close_entry_id = None
    session.add(PeriodEvent(company_id=company_id, period=period, action="reopen", reason=reason,
                            user_id=actor.user_id, journal_entry_id=reversal_id))
    session.flush()
    return close_result(session, company_id, period)

