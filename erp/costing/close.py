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
wait on (see erp.posting.periods). Closing a closed period changes nothing and returns the
stored result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    String,
    bindparam,
    case,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.balances import CLOSE_SOURCE, REOPEN_SOURCE
from erp.costing.models import MaterialPeriodBalance, PeriodEvent, VarianceAllocation
from erp.costing.revaluation import (
    companies_to_restate,
    restatements_of,
    reverse_restatement,
    revalue_to_standard,
)
from erp.clock import business_today
from erp.costing.calendar import PeriodState, latest_closed_periods, months, period_state as derived_state
from erp.db import is_postgres, utcnow
from erp.costing.errors import (
    EarlierPeriodOpen,
    GroupCostAccountantOnly,
    LaterPeriodClosed,
    PeriodNotClosed,
    PeriodNotEnded,
)
from erp.errors import NotFound
from erp.messages import Message, Named
from erp.masterdata.models import Company
from erp.period import Period
from erp.posting import CloseEntries, Posting, negated_lines, post, post_close_entries
from erp.posting.journal import entry_header
from erp.posting.models import (
    AccountingPeriod,
    CloseClass,
    JournalEntry,
    JournalLine,
    PeriodMovementTotal,
    PeriodStatus,
)
from erp.posting.periods import (
    lock_company_calendar,
    lock_company_calendars,
    lock_periods_for_close,
    lock_periods_from_for,
)
from erp.sqlmath import round_share
from erp.narration import REASON_LENGTH, narrate

ZERO = Decimal("0")
# Consumption accounts whose share of the material cost variance the close posts per
# material (since 3da21ad; before, every consumption account took one line on no material).
ALLOCATED_PER_MATERIAL = frozenset({accounts.WORK_IN_PROCESS})
# With no stock and no consumption left, a variance has nothing to stay with: it is
# written off to manufacturing overhead (制造费用).
ORPHAN_VARIANCE_ACCOUNT = accounts.OVERHEAD


# The steps of a close, in order, as ``close_periods`` reports them to a ``progress`` callback
# (the close job shows them: the close is a handful of set-based statements over all the
# companies at once, so its progress is by step, not by company).
CLOSE_STEPS = ("checked", "allocated", "posted", "restated", "locked")
CloseProgress = Callable[[str], None]


@dataclass(frozen=True)
class CloseExtension:
    """A step a module above costing adds to the month-end close (production settles its
    completed orders' variances), registered with ``register_close_extension`` when the
    module is imported, so that costing does not import it.

    ``close(session, company_ids, period, user_id)`` runs inside the close's transaction,
    after the material cost variance is posted and before the next period is restated,
    set-based over all the companies being closed; ``reopen(session, company_id, period,
    user_id, reason)`` undoes it when the period is reopened (by reversal, never by deleting
    postings), before the close entry is reversed."""

    name: str
    close: Callable[[Session, list[int], str, int], None]
    reopen: Callable[[Session, int, str, int, str], None]


_EXTENSIONS: dict[str, CloseExtension] = {}


def register_close_extension(extension: CloseExtension) -> None:
    """Add (or replace, by name) a step of the close; see ``CloseExtension``."""
    _EXTENSIONS[extension.name] = extension


@dataclass(frozen=True)
class CloseResult:
    company_id: int
    period: str
    # Derived from the company's calendar (erp.costing.calendar): closed, open, not_yet_begun.
    status: PeriodState
    closed_at: dt.datetime | None
    closed_by: int | None
    journal_entry_id: int | None
    materials: int
    variance_allocated: Decimal
    variance_remaining: Decimal
    # The periods this request closed for the company, in order.
    closed_now: tuple[str, ...] = ()


def _require_cost_accountant(actor: Actor, company_id: int, action: str) -> None:
    actor.require_role(Role.COST_ACCOUNTANT, action=action)
    actor.require_company(company_id)


def close_result(session: Session, company_id: int, period: str) -> CloseResult:
    """The stored outcome of a period's close (or its open state)."""
    return close_results(session, [company_id], period)[0]


def close_results(session: Session, company_ids: Sequence[int], period: str,
                  closed_now: dict[int, list[str]] | None = None) -> list[CloseResult]:
    """The same for several companies, in company id order."""
    ap = AccountingPeriod
    # The close's totals are stored with the period (``_close_totals``): the period's own
    # balance rows are only the materials that moved.
    rows = session.execute(
        select(Company.id, ap.status, ap.closed_at, ap.closed_by, ap.close_entry_id,
               ap.close_materials.label("materials"), ap.variance_allocated.label("allocated"),
               ap.variance_remaining.label("remaining"))
        .outerjoin(ap, (ap.company_id == Company.id) & (ap.period == period))
        .where(Company.id.in_(sorted(set(company_ids))))
        .order_by(Company.id)
    ).all()
    latest = latest_closed_periods(session, company_ids)
    today = business_today()
    cent = Decimal("0.01")
    return [
        CloseResult(
            company_id=row.id, period=period, status=derived_state(period, latest.get(row.id), today),
            closed_at=row.closed_at, closed_by=row.closed_by, journal_entry_id=row.close_entry_id,
            materials=row.materials or 0, variance_allocated=Decimal(row.allocated or 0).quantize(cent),
            variance_remaining=Decimal(row.remaining or 0).quantize(cent),
            closed_now=tuple((closed_now or {}).get(row.id, ())),
        )
        for row in rows
    ]


def period_states(
    session: Session, company_ids: Sequence[int], periods: Sequence[str], *, current: str
) -> dict[int, dict[str, PeriodState]]:
    """Per company, the state of each of ``periods`` as its calendar says it
    (erp.costing.calendar.period_state, the one rule): closed up to the company's latest
    close (postings into it are refused, erp.posting.periods, whether or not a row was
    written for it), not yet begun after ``current`` (the business period), else open. The
    rule every reader of period states uses (the period board, ``close_results``, the API)."""
    latest = latest_closed_periods(session, company_ids)
    end_of_current = Period(current).last_day
    return {company_id: {period: derived_state(period, latest.get(company_id), end_of_current) for period in periods}
            for company_id in company_ids}


def period_state(session: Session, actor: Actor, *, company_id: int, period: str) -> CloseResult:
    """A company's period: closed, open or not yet begun (from its calendar), and its close's result."""
    actor.require_company(company_id)
    if session.get(Company, company_id) is None:
        raise NotFound(Message("company {key} not found", key=company_id))
    return close_result(session, company_id, period)


def close_period(session: Session, actor: Actor, *, company_id: int, period: str) -> CloseResult:
    """Close one company's period, strictly: the period before it must be closed already
    (or have had no period at all) (see ``close_periods``)."""
    return close_periods(session, actor, company_ids=[company_id], period=period, catch_up=False)[0]


def close_periods(
    session: Session, actor: Actor, *, company_ids: Sequence[int] | None, period: str, catch_up: bool = True,
    progress: CloseProgress | None = None,
) -> list[CloseResult]:
    """Bring several companies' books up to ``period`` (None: every active company the
    actor acts for), all or none; returns per company the state of ``period`` and the
    periods this call closed (``closed_now``).

    Per company, every open period up to ``period`` is closed in order (``catch_up``):
    from the month after its latest close (or, with no close yet, from its earliest
    period) to ``period``; each close allocates the variance, posts it, carries the
    balances into the next period, restates the stock at the next period's standards and
    locks. A company already closed at or after ``period`` is left as it is (closing is
    repeatable). Each month is one set-based pass over every company that still has it to
    close, so the group's month end costs a handful of statements per month, not per company.

    Refuses ``period-not-ended`` (409) unless ``period``'s last day is before the business
    day (erp.clock): a period closes only after it has ended. Without ``catch_up`` (one
    company's own close), refuses ``earlier-period-open`` when an earlier period of the
    company is still open, naming it.
    ``progress`` (optional) is called with each of ``CLOSE_STEPS`` as it is done (each
    month's steps in turn when several months close).
    """
    report = progress or (lambda step: None)
    actor.require_role(Role.COST_ACCOUNTANT, action="closing a period")
    today = business_today()
    last = Period(period).last_day
    if last >= today:
        raise PeriodNotEnded(Message("period {period} ends on {last}; it can be closed from {first_day_after} on "
                                     "(today is {today}, Asia/Shanghai)", period=period, last=last,
                                     first_day_after=last + dt.timedelta(days=1), today=today))
    if company_ids is None:
        company_ids = session.scalars(
            select(Company.id).where(Company.active.is_(True), actor.company_scope(Company.id))
        ).all()
    ids = sorted(set(company_ids))
    for company_id in ids:
        actor.require_company(company_id)
    lock_company_calendars(session, ids)
    states = _calendar_states(session, ids, period)
    missing = [company_id for company_id in ids if company_id not in states]
    if missing:
        raise NotFound(Message("company {key} not found", key=missing))
    # Per company, the first period it has to close: none when it is closed through ``period``.
    starts: dict[int, str] = {}
    refusals = []
    for company_id in ids:
        state = states[company_id]
        if state.latest_closed is not None and state.latest_closed >= period:
            continue
        first = Period(state.latest_closed).next() if state.latest_closed is not None else (
            state.earlier_open or period)
        if not catch_up and first != period:
            refusals.append(f"the books of company {company_id} are closed up to {state.latest_closed}; close {first} "
                            f"next" if state.latest_closed is not None
                            else f"period {first} of company {company_id} must be closed before {period}")
        starts[company_id] = first
    if refusals:
        raise EarlierPeriodOpen("; ".join(refusals))
    report(CLOSE_STEPS[0])
    closed_now: dict[int, list[str]] = {company_id: [] for company_id in ids}
    if starts:
        for month in months(min(starts.values()), period):
            closing = [company_id for company_id, first in starts.items() if first <= month]
            first_closes = [company_id for company_id in closing
                            if states[company_id].latest_closed is None and starts[company_id] == month]
            _close(session, closing, first_closes, month, actor.user_id, report)
            for company_id in closing:
                closed_now[company_id].append(month)
    else:
        for step in CLOSE_STEPS[1:]:
            report(step)
    _audit_closes(session, actor, closed_now, group=catch_up and len(ids) > 1)
    return close_results(session, ids, period, closed_now)


def _audit_closes(session: Session, actor: Actor, closed_now: dict[int, list[str]], *, group: bool) -> None:
    """One audit row per company and period this call closed (entity ``period``): action
    ``close`` for one company's close, ``group-close`` when the group's month end closed
    several companies at once; closed, the close's journal entry and what it allocated.
    A handful of rows per company, read in one statement."""
    closed = [(company_id, month) for company_id, months_ in closed_now.items() for month in months_]
    if not closed:
        return
    ap = AccountingPeriod
    rows = session.execute(
        select(ap.company_id, ap.period, ap.close_entry_id, ap.variance_allocated, ap.variance_remaining,
               ap.close_materials)
        .where(ap.company_id.in_(sorted({c for c, _ in closed})), ap.period.in_(sorted({m for _, m in closed})))
    ).all()
    found = {(row.company_id, str(row.period)): row for row in rows}
    for company_id, month in closed:
        row = found.get((company_id, month))
        audit.record_change(
            session, actor, entity=audit.PERIOD, entity_id=audit.period_key(month),
            action="group-close" if group else "close", company_id=company_id,
            before={"period": month, "closed": False},
            after={"period": month, "closed": True,
                   "journal_entry_id": row.close_entry_id if row else None,
                   "materials": row.close_materials if row else None,
                   "variance_allocated": audit.at_scale(Decimal(row.variance_allocated or 0), 2) if row else None,
                   "variance_remaining": audit.at_scale(Decimal(row.variance_remaining or 0), 2) if row else None})


@dataclass(frozen=True)
class _CalendarState:
    status: PeriodStatus | None
    latest_closed: str | None
    earlier_open: str | None


def _calendar_states(session: Session, company_ids: Sequence[int], period: str) -> dict[int, _CalendarState]:
    """Per existing company: the period's status, the latest closed period, and the first
    open period at or before this one."""
    ap = AccountingPeriod
    status = select(ap.status).where(ap.company_id == Company.id, ap.period == period).scalar_subquery()
    latest = (select(func.max(ap.period))
              .where(ap.company_id == Company.id, ap.status == PeriodStatus.CLOSED).scalar_subquery())
    earlier_open = (select(func.min(ap.period))
                    .where(ap.company_id == Company.id, ap.period <= period, ap.status == PeriodStatus.OPEN)
                    .scalar_subquery())
    rows = session.execute(select(Company.id, status, latest, earlier_open).where(Company.id.in_(company_ids)))
    return {
        company_id: _CalendarState(PeriodStatus(row_status) if row_status else None, latest_closed, first_open)
        for company_id, row_status, latest_closed, first_open in rows
    }


def _close(session: Session, company_ids: list[int], first_closes: list[int], period: str, user_id: int,
           report: CloseProgress) -> None:
    ap = AccountingPeriod
    # Postings into these periods wait from here until commit (they hold the row for key share).
    lock_periods_for_close(session, company_ids, period)
    allocation = _allocate_variance(session, company_ids, first_closes, period)
    changes = allocation.changes if allocation is not None else None
    report(CLOSE_STEPS[1])
    entries = _post_allocation(session, company_ids, period, user_id,
                               allocation.journal if allocation is not None else None)
    for extension in _EXTENSIONS.values():
        extension.close(session, company_ids, period, user_id)
    report(CLOSE_STEPS[2])
    following = Period(period).next()
    lock_periods_from_for(session, company_ids, following)
    restatements = {
        company_id: revalue_to_standard(session, company_id=company_id, period=following, material_ids=None,
                                        user_id=user_id, only_changed=True)
        for company_id in companies_to_restate(session, company_ids, following)
    }
    report(CLOSE_STEPS[3])
    now = utcnow()
    entry_of_company = (case(entries, value=ap.company_id, else_=literal(None, Integer)) if entries
                        else literal(None, Integer))
    session.execute(
        update(ap)
        .where(ap.company_id.in_(company_ids), ap.period == period)
        .values(status=PeriodStatus.CLOSED, closed_at=now, closed_by=user_id, close_entry_id=entry_of_company,
                **_close_totals(period, changes))
        .execution_options(synchronize_session="fetch")
    )
    session.execute(insert(PeriodEvent), [
        {"company_id": company_id, "period": period, "action": "close", "user_id": user_id, "at": now,
         "journal_entry_id": entries.get(company_id), "stock_document_id": restatements.get(company_id)}
        for company_id in company_ids
    ])
    report(CLOSE_STEPS[4])


def _close_totals(period: str, changes: dict[int, _PeriodChange] | None = None) -> dict[str, Any]:
    """The close's totals per company, as correlated expressions for the UPDATE of the
    company's period row: the materials with a balance, the variance allocated to
    consumption, and the variance left with the stock (the sum of every material's closing
    variance, those that did not move included).

    Only the materials that moved have rows in the period (``_material_figures``), so the
    totals are the previous close's carried forward plus what this period's rows changed:
    a row's closing variance less its opening, plus the revaluation's variance (which the
    opening includes but the previous closing did not); and the materials whose first row
    this is. At a company's first close the rows are every material carrying stock in, so
    they are the totals themselves.

    With ``changes`` (every company continuing, from the allocation statement, which summed
    them from the rows as it wrote them) the change per company is taken from there; else
    it is read back from the period's rows."""
    ap, b = AccountingPeriod, MaterialPeriodBalance
    previous_period = aliased(ap)
    earlier = aliased(b)
    t = PeriodMovementTotal
    zero = literal(ZERO)
    rows = (b.company_id == ap.company_id, b.period == period)

    def previous(column: Any) -> Any:
        return (select(column).where(previous_period.company_id == ap.company_id,
                                     previous_period.period == Period(period).previous(),
                                     previous_period.status == PeriodStatus.CLOSED)
                .scalar_subquery())

    continuing = previous(previous_period.company_id).is_not(None)
    first_rows = (select(func.count()).select_from(b)
                  .where(*rows, ~select(earlier.period).where(earlier.company_id == b.company_id,
                                                          earlier.material_id == b.material_id,
                                                          earlier.period < period).exists())
                  .scalar_subquery())
    all_rows = select(func.count()).select_from(b).where(*rows).scalar_subquery()
    changed = select(func.coalesce(func.sum(b.closing_variance - b.opening_variance), zero)).where(*rows)
    revalued = (select(func.coalesce(func.sum(t.variance), zero))
                .where(t.company_id == ap.company_id, t.period == period, t.close_class == CloseClass.REVALUATION))
    closing = select(func.coalesce(func.sum(b.closing_variance), zero)).where(*rows).scalar_subquery()
    if changes is not None:
        def of_company(value: Callable[[_PeriodChange], Any], default: Any) -> Any:
            known = {company_id: value(change) for company_id, change in changes.items()}
            return case(known, value=ap.company_id, else_=default) if known else default

        return {
            "close_materials": case(
                (continuing, func.coalesce(previous(previous_period.close_materials), 0)
                 + of_company(lambda change: change.first_rows, literal(0))),
                else_=all_rows),
            "variance_allocated": of_company(lambda change: change.allocated, zero),
            "variance_remaining": case(
                (continuing, func.coalesce(previous(previous_period.variance_remaining), zero)
                 + of_company(lambda change: change.changed, zero)),
                else_=closing),
        }
    return {
        "close_materials": case((continuing, func.coalesce(previous(previous_period.close_materials), 0) + first_rows),
                                else_=all_rows),
        "variance_allocated": select(func.coalesce(func.sum(b.consumption_variance), zero)).where(*rows)
        .scalar_subquery(),
        "variance_remaining": case(
            (continuing, func.coalesce(previous(previous_period.variance_remaining), zero)
             + changed.scalar_subquery() + revalued.scalar_subquery()),
            else_=closing),
    }


def _figures(company_id: Any, material_id: Any, opening: tuple[Any, Any, Any], m: Any) -> Any:
    """One material's figures from its opening (quantity, value, variance carried in) and
    the period's pivoted totals ``m`` (``_material_figures``)."""
    quantity, value, variance_carried = opening
    opening_value = value + m["revalued_value"]
    opening_variance = variance_carried + m["revalued_variance"]
    return select(
        company_id.label("company_id"), material_id.label("material_id"),
        quantity.label("opening_quantity"), opening_value.label("opening_value"),
        opening_variance.label("opening_variance"),
        *(m[name].label(name) for name in ("receipts_quantity", "receipts_value", "receipts_variance",
                                           "other_inflow_quantity", "other_inflow_value",
                                           "consumption_quantity", "consumption_value", "consumption_lines")),
        (quantity + m["net_quantity"]).label("closing_quantity"), (value + m["net_value"]).label("closing_value"),
        # the rate's numerator (the variance to allocate) and denominator (the stock at standard)
        (opening_variance + m["receipts_variance"]).label("variance_to_allocate"),
        (opening_value + m["receipts_value"] + m["other_inflow_value"]).label("standard_base"),
    )


def _material_figures(session: Session, company_ids: list[int], first_closes: list[int], period: str) -> Any:
    """Per company and material: opening (the last close's closing, restated by this
    period's revaluation), receipts, other inflows, consumption, closing, and the variance
    to spread. Built from the period's totals and the previous close: a few rows per
    material, never the month's ledger."""
    t = PeriodMovementTotal
    zero = literal(ZERO)

    def total(column: Any, close_class: CloseClass | None = None) -> Any:
        if close_class is not None:
            column = case((t.close_class == close_class, column))
        return func.coalesce(func.sum(column), zero)

    # The period's totals pivoted to one narrow row per material; the revaluation belongs
    # to the opening (it restates the stock carried in at the new standard).
    moved = (
        select(
            t.company_id, t.material_id,
            total(t.value, CloseClass.REVALUATION).label("revalued_value"),
            total(t.variance, CloseClass.REVALUATION).label("revalued_variance"),
            total(t.quantity, CloseClass.RECEIPT).label("receipts_quantity"),
            total(t.value, CloseClass.RECEIPT).label("receipts_value"),
            total(t.variance, CloseClass.RECEIPT).label("receipts_variance"),
            total(t.quantity, CloseClass.INFLOW).label("other_inflow_quantity"),
            total(t.value, CloseClass.INFLOW).label("other_inflow_value"),
            total(-t.quantity, CloseClass.CONSUMPTION).label("consumption_quantity"),
            total(-t.value, CloseClass.CONSUMPTION).label("consumption_value"),
            total(t.quantity).label("net_quantity"), total(t.value).label("net_value"),
            # the material's consumption lines (the allocation lines it will have)
            func.coalesce(func.sum(case(((t.close_class == CloseClass.CONSUMPTION) & (t.value != 0), 1), else_=0)),
                          0).label("consumption_lines"),
        )
        .where(t.company_id.in_(company_ids), t.period == period)
        .group_by(t.company_id, t.material_id)
    )
    one_pass = is_postgres(session) and not first_closes
    if one_pass:
        # The material's consumption lines themselves (account and consumed value), as two
        # arrays from the same pass over the period's totals, in no particular order but the
        # same one (each input row feeds both aggregates in turn): the allocation lines are
        # unnested from them (``_allocate_in_one_pass``), so that the totals are read and
        # sorted once, not a second time for the lines and then merged back with the figures
        # and sorted again for their window functions (docs/performance.md). Not ordered
        # inside the aggregate (largest first): that sorts each material's few lines on their
        # own, twice, and cost more than it spared; the line that takes a residue is found
        # without an order (``_allocate_in_one_pass``).
        is_line = (t.close_class == CloseClass.CONSUMPTION) & (t.value != 0)
        moved = moved.add_columns(func.array_agg(t.offset_account).filter(is_line).label("consumed_accounts"),
                                  func.array_agg(-t.value).filter(is_line).label("consumed_values"))
    moved = moved.cte("moved")
    parts = []
    continuing = [company_id for company_id in company_ids if company_id not in first_closes]
    if one_pass:
        # Every company continues (every month after a company's first): each material that
        # moved takes its opening straight from its latest row, in one pass (a nested loop of
        # index-only lookups). The general form below puts the openings in a CTE of their own
        # and merges them back in by sorting both sides, then looks (at first closes) for
        # stock carried in by materials that did not move, which continuing closes never
        # have: 19,190 materials, about 80 ms of sorting for nothing (docs/performance.md).
        b = MaterialPeriodBalance
        previous = (
            select(b.closing_quantity, b.closing_value, b.closing_variance)
            .where(b.company_id == moved.c.company_id, b.material_id == moved.c.material_id, b.period < period)
            .order_by(b.period.desc())
            .limit(1)
            .lateral("previous")
        )
        carried_variance = func.coalesce(previous.c.closing_variance, zero)
        return (
            _figures(moved.c.company_id, moved.c.material_id,
                     (func.coalesce(previous.c.closing_quantity, zero), func.coalesce(previous.c.closing_value, zero),
                      carried_variance), moved.c)
            # for the close's totals: the material's first row, and the variance it carried in
            .add_columns(previous.c.closing_quantity.is_(None).label("first_row"),
                         carried_variance.label("variance_carried"),
                         moved.c.consumed_accounts, moved.c.consumed_values)
            .select_from(moved).outerjoin(previous, true())
            .cte("figures")
        )
    if continuing:
        # The earlier periods are closed (periods close in order): the opening of a material
        # that moved is the closing of the latest close that wrote its balance (a close writes
        # one only for what moved, erp.costing.balances), looked up along the key
        # (company_id, material_id, period). A material that did not move gets no row: with no
        # receipts and no consumption it has nothing to allocate, unless it carries variance on
        # no stock, which no close leaves behind (with no stock left, the whole variance goes
        # to consumption or is written off), so its closing is its last closing, unchanged.
        b = MaterialPeriodBalance
        continuing_moved = select(moved).where(moved.c.company_id.in_(continuing)).subquery()
        if is_postgres(session):
            previous = (
                select(b.closing_quantity, b.closing_value, b.closing_variance)
                .where(b.company_id == continuing_moved.c.company_id, b.material_id == continuing_moved.c.material_id,
                       b.period < period)
                .order_by(b.period.desc())
                .limit(1)
                .lateral("previous")
            )
            parts.append(
                select(continuing_moved.c.company_id, continuing_moved.c.material_id,
                       previous.c.closing_quantity.label("quantity"), previous.c.closing_value.label("value"),
                       previous.c.closing_variance.label("variance_carried"))
                .select_from(continuing_moved).join(previous, true())
            )
        else:
            earlier = aliased(b)
            last = (select(func.max(earlier.period))
                    .where(earlier.company_id == b.company_id, earlier.material_id == b.material_id,
                           earlier.period < period)
                    .scalar_subquery())
            parts.append(
                select(b.company_id, b.material_id, b.closing_quantity.label("quantity"),
                       b.closing_value.label("value"), b.closing_variance.label("variance_carried"))
                .join(continuing_moved, (continuing_moved.c.company_id == b.company_id)
                      & (continuing_moved.c.material_id == b.material_id))
                .where(b.period == last)
            )
    if first_closes:
        # A company's first close: everything posted before this period is the opening.
        parts.append(
            select(t.company_id, t.material_id, func.sum(t.quantity).label("quantity"),
                   func.sum(t.value).label("value"), func.sum(t.variance).label("variance_carried"))
            .where(t.company_id.in_(first_closes), t.period < period)
            .group_by(t.company_id, t.material_id)
        )
    carried = (parts[0] if len(parts) == 1 else union_all(*parts)).cte("carried")
    same_material = (carried.c.company_id == moved.c.company_id) & (carried.c.material_id == moved.c.material_id)
    figures = _figures

    # Materials that moved (with or without stock carried in), then those that only carried
    # stock in (at a company's first close only, see above): an outer join each way, as FULL
    # JOIN is not everywhere SQLite runs.
    with_movements = figures(
        moved.c.company_id, moved.c.material_id,
        (func.coalesce(carried.c.quantity, zero), func.coalesce(carried.c.value, zero),
         func.coalesce(carried.c.variance_carried, zero)),
        moved.c,
    ).select_from(moved).outerjoin(carried, same_material)
    idle = {name: zero for name in moved.c.keys()}
    without_movements = (
        figures(carried.c.company_id, carried.c.material_id, (carried.c.quantity, carried.c.value,
                                                               carried.c.variance_carried), idle)
        .select_from(carried).outerjoin(moved, same_material)
        .where(moved.c.company_id.is_(None))
    )
    return union_all(with_movements, without_movements).cte("figures")


# Settings for the close's allocation statement (PostgreSQL), as the statement is a batch
# over every company's month, not a posting's few rows (docs/performance.md):
# - work_mem 16 MB: at the default 4 MB the generated group's month (46,430 period totals,
#   34,078 consumption lines, 19,190 materials) spilled the pivot's sort (5 MB) and two
#   hash aggregates to disk. Not more: at 64 MB the planner pivots by hashing instead of
#   sorting, and hashing 19,190 groups of eleven numeric sums took 71 MB and twice the time
#   of the sort;
# - no JIT compilation: with the openings looked up row by row the estimate passes
#   jit_above_cost (100,000), and compiling took about 200 ms for a statement whose rows
#   are each touched a handful of times.
ALLOCATION_SETTINGS = {"work_mem": "16MB", "jit": "off"}


@contextmanager
def _statement_settings(session: Session, settings: dict[str, str]) -> Iterator[None]:
    """Apply ``settings`` to the statements inside, then put back what they were
    (PostgreSQL). Both are transaction-local: a failure inside rolls back the transaction
    (or the caller's savepoint) and the changed settings with it, so they are put back on
    success only (a statement in an aborted transaction would hide the error)."""
    names = sorted(settings)
    previous = session.execute(select(*(func.current_setting(name) for name in names))).one()
    session.execute(select(*(func.set_config(name, settings[name], True) for name in names)))
    yield
    session.execute(select(*(func.set_config(name, value, True) for name, value in zip(names, previous))))


@dataclass(frozen=True)
class _OnePassAllocation:
    """What the one-pass allocation statement returns besides writing the rows: each
    company's ``_PeriodChange``, and the close's journal lines as ``_post_allocation``
    would read them back from the allocation rows (``_close_journal_lines``): (company id,
    account code, amount, material id or None)."""
    changes: dict[int, _PeriodChange]
    journal: list[tuple[int, str, Decimal, int | None]]


@dataclass(frozen=True)
class _PeriodChange:
    """What a continuing close's balance rows add to a company's totals (``_close_totals``):
    the materials whose first row this is, the variance allocated to consumption, and the
    change of the variance left with the stock (closing less what the previous close left:
    the period's receipts and revaluation less what consumption bore)."""
    first_rows: int
    allocated: Decimal
    changed: Decimal


def _allocate_variance(session: Session, company_ids: list[int], first_closes: list[int],
                       period: str) -> _OnePassAllocation | None:
    """Allocation lines per (company, material, consumption account) with the residue rule
    applied, then one row per company and material with its rate, consumption's share and
    what stays with the stock. Returns, when every company continues (PostgreSQL), what the
    rows add to each company's totals (companies with no rows have none) and the close's
    journal lines summed from the allocation rows as they were written; else None.

    On PostgreSQL both tables are written by one statement (the allocation lines by a data-
    modifying WITH clause), so the figures are computed once and nothing just written is
    read back through a plan made before it existed; SQLite runs the two inserts in turn."""
    t, va = PeriodMovementTotal, VarianceAllocation
    figures = _material_figures(session, company_ids, first_closes, period)
    if "consumed_values" in figures.c:
        return _allocate_in_one_pass(session, figures, period)
    # The period totals hold one row per (company, period, material, close class, account)
    # (their unique key): each consumption line is one row as it stands, no GROUP BY needed.
    consumed = (
        select(t.company_id, t.material_id, t.offset_account, (-t.value).label("consumed"))
        .where(t.company_id.in_(company_ids), t.period == period, t.close_class == CloseClass.CONSUMPTION,
               t.value != 0)
        .subquery()
    )
    material = (consumed.c.company_id, consumed.c.material_id)
    share = round_share(consumed.c.consumed, figures.c.variance_to_allocate, figures.c.standard_base)
    shares = (
        select(
            consumed.c.company_id, consumed.c.material_id, consumed.c.offset_account, consumed.c.consumed,
            share.label("share"), func.sum(share).over(partition_by=material).label("shares"),
            figures.c.closing_quantity, figures.c.variance_to_allocate,
            func.row_number().over(
                partition_by=material, order_by=(func.abs(consumed.c.consumed).desc(), consumed.c.offset_account),
            ).label("rank"),
        )
        .join(figures, (figures.c.company_id == consumed.c.company_id)
              & (figures.c.material_id == consumed.c.material_id))
        .subquery()
    )
    no_stock_left = shares.c.closing_quantity == 0
    lines = select(
        shares.c.company_id, literal(period).label("period"), shares.c.material_id,
        shares.c.offset_account.label("account_code"), shares.c.consumed,
        # No stock left: the whole variance leaves with consumption; the rounding residue
        # goes to the material's largest consumption line (ties: the lowest account).
        (shares.c.share + case((no_stock_left & (shares.c.rank == 1),
                                shares.c.variance_to_allocate - shares.c.shares),
                               else_=literal(ZERO))).label("allocated"),
        # what the material's lines bear together (the sum of ``allocated`` over them), on
        # its first line: all of the variance with no stock left, else the shares' sum
        case((no_stock_left, shares.c.variance_to_allocate), else_=shares.c.shares).label("material_allocated"),
        shares.c.rank,
    ).cte("allocation_lines")
    allocated = (
        select(lines.c.company_id, lines.c.material_id, lines.c.material_allocated.label("amount"))
        .where(lines.c.rank == 1)
        .subquery()
    )
    # No stock and no consumption, yet a variance (e.g. a cent left by partial returns):
    # written off to manufacturing overhead. (No consumption lines: the figures count them,
    # so that this needs no look into the allocation lines, whose size the planner cannot
    # know.)
    orphan = ((figures.c.closing_quantity == 0) & (figures.c.variance_to_allocate != 0)
              & (figures.c.consumption_lines == 0))
    orphans = (
        select(figures.c.company_id, literal(period), figures.c.material_id, literal(ORPHAN_VARIANCE_ACCOUNT),
               literal(ZERO), figures.c.variance_to_allocate)
        .where(orphan)
    )
    write_lines = insert(va).from_select(
        ["company_id", "period", "material_id", "account_code", "consumed_value", "allocated_variance"],
        union_all(select(lines.c.company_id, lines.c.period, lines.c.material_id, lines.c.account_code,
                         lines.c.consumed, lines.c.allocated), orphans),
    )
    allocated_to_consumption = func.coalesce(allocated.c.amount,
                                             case((orphan, figures.c.variance_to_allocate), else_=literal(ZERO)))
    balances = _balance_rows(figures, period, allocated_to_consumption).outerjoin(
        allocated, (allocated.c.company_id == figures.c.company_id) & (allocated.c.material_id == figures.c.material_id))
    if not is_postgres(session):
        session.execute(write_lines)
        session.execute(insert(MaterialPeriodBalance).from_select(BALANCE_COLUMNS, balances))
    else:
        with _statement_settings(session, ALLOCATION_SETTINGS):
            session.execute(insert(MaterialPeriodBalance).from_select(BALANCE_COLUMNS, balances)
                            .add_cte(write_lines.cte("written_lines")))
    return None


def _allocate_in_one_pass(session: Session, figures: Any, period: str) -> _OnePassAllocation:
    """``_allocate_variance`` when every company continues (PostgreSQL), from figures that
    carry each material's consumption lines as two arrays (``_material_figures``): the
    allocation lines are unnested from the material's row, so the period's totals are read
    and sorted once, and nothing is merged back or sorted again (the general form reads the
    consumption lines a second time, merges them with the figures, ranks them with window
    functions and joins each material's first line back to its figures; about a tenth of
    the statement, docs/performance.md). The same statement also sums what the period's
    totals need (``_close_totals``) from the rows it writes, instead of the period's UPDATE
    reading the rows back with a correlated count, an anti-join probe per row and three sums."""
    va = VarianceAllocation
    zero = literal(ZERO)
    to_allocate, base = figures.c.variance_to_allocate, figures.c.standard_base
    consumed = func.unnest(figures.c.consumed_values).column_valued("consumed")
    # what the material's lines bear at the rate, together (NULL with no lines)
    shares = _sum_of_shares(figures.c.consumed_values, to_allocate, base,
                            select(func.sum(round_share(consumed, to_allocate, base))).scalar_subquery())
    priced = select(figures, shares.label("shares")).cte("priced")
    # one row per line, the two arrays unnested side by side in the select list (a plain
    # projection of each material's row; a function in FROM materialises every material's
    # lines on its own)
    line = select(priced.c.company_id, priced.c.material_id, priced.c.closing_quantity, priced.c.variance_to_allocate,
                  priced.c.standard_base, priced.c.shares, priced.c.consumed_accounts, priced.c.consumed_values,
                  func.unnest(priced.c.consumed_accounts).label("account_code"),
                  func.unnest(priced.c.consumed_values).label("consumed")).subquery("line")
    # another line of the material outranks this one for the residue: larger, or as large on
    # a lower account
    other = (func.unnest(line.c.consumed_accounts, line.c.consumed_values)
             .table_valued(column("account_code", String()), column("consumed", Numeric()))
             .render_derived(name="other"))
    outranked = (
        select(literal(1)).select_from(other)
        .where((func.abs(other.c.consumed) > func.abs(line.c.consumed))
               | ((func.abs(other.c.consumed) == func.abs(line.c.consumed))
                  & (other.c.account_code < line.c.account_code)))
        .exists()
    )
    lines = select(
        line.c.company_id, literal(period), line.c.material_id, line.c.account_code, line.c.consumed,
        # No stock left: the whole variance leaves with consumption; the rounding residue
        # goes to the material's largest consumption line (ties: the lowest account).
        # (Looked for only then: a CASE evaluates its branches in order.)
        round_share(line.c.consumed, line.c.variance_to_allocate, line.c.standard_base)
        + case((line.c.closing_quantity == 0,
                case((~outranked, line.c.variance_to_allocate - line.c.shares), else_=zero)), else_=zero))
    to_allocate = priced.c.variance_to_allocate
    no_stock_left = priced.c.closing_quantity == 0
    # No stock and no consumption, yet a variance (e.g. a cent left by partial returns):
    # written off to manufacturing overhead.
    orphan = (no_stock_left & (to_allocate != 0) & (priced.c.consumption_lines == 0))
    orphans = (select(priced.c.company_id, literal(period), priced.c.material_id,
                      literal(ORPHAN_VARIANCE_ACCOUNT), zero, to_allocate)
               .where(orphan))
    write_lines = insert(va).from_select(
        ["company_id", "period", "material_id", "account_code", "consumed_value", "allocated_variance"],
        union_all(lines, orphans),
    )
    # what the material's lines bear together: all of the variance with no stock left, else
    # the shares' sum; with no lines, an orphan's variance or nothing
    allocated_to_consumption = case(
        (priced.c.consumption_lines > 0, case((no_stock_left, to_allocate), else_=priced.c.shares)),
        (orphan, to_allocate), else_=zero)
    # The balance rows are a subquery of each of their two readers (the insert, the totals),
    # not a CTE of their own: a CTE is materialised, and copying 19,190 wide rows into it
    # and out again twice cost more than computing their few expressions twice from
    # ``priced`` (docs/performance.md, session of 1 December).
    balance_rows = (_balance_rows(priced, period, allocated_to_consumption)
                    .add_columns(priced.c.first_row, priced.c.variance_carried))
    written = balance_rows.subquery("balance_rows")
    write_balances = insert(MaterialPeriodBalance).from_select(
        BALANCE_COLUMNS, select(*(written.c[name] for name in BALANCE_COLUMNS)))
    rows = balance_rows.subquery("balance_totals")
    # The allocation rows as written (RETURNING) give the close's journal lines in the same
    # statement, summed as ``_post_allocation`` sums them when it reads them back: one more
    # statement and a second read of the 34,078 rows saved (docs/performance.md, session of
    # 1 December). A result row is a company's totals (no account) or a journal line.
    written_lines = write_lines.returning(va.company_id, va.material_id, va.account_code,
                                          va.allocated_variance).cte("written_lines")
    journal = _close_journal_lines(written_lines).subquery("journal")
    no_number, no_text = literal(None, Numeric), literal(None, String)
    totals = (
        select(rows.c.company_id, func.count().filter(rows.c.first_row).label("first_rows"),
               func.sum(rows.c.consumption_variance).label("allocated"),
               func.sum(rows.c.closing_variance - rows.c.variance_carried).label("changed"),
               no_text.label("account_code"), no_number.label("amount"), literal(None, Integer).label("material_id"))
        .group_by(rows.c.company_id)
    )
    lines_of_journal = select(journal.c.company_id, literal(None, Integer), no_number, no_number,
                              journal.c.account_code, journal.c.amount, journal.c.material_id)
    statement = (union_all(totals, lines_of_journal)
                 .add_cte(written_lines)
                 .add_cte(write_balances.cte("written_balances")))
    changes: dict[int, _PeriodChange] = {}
    lines: list[tuple[int, str, Decimal, int | None]] = []
    with _statement_settings(session, ALLOCATION_SETTINGS):
        for row in session.execute(statement):
            if row.account_code is None:
                changes[row.company_id] = _PeriodChange(row.first_rows, row.allocated, row.changed)
            else:
                lines.append((row.company_id, row.account_code, row.amount, row.material_id))
    return _OnePassAllocation(changes, lines)


# Up to this many consumption lines a material's shares are summed by an expression over
# its array's elements; more (no material of the generated group has more than four of the
# six consumption accounts) by a subquery over the unnested array.
SHARES_INLINE = 6


def _sum_of_shares(consumed_values: Any, to_allocate: Any, base: Any, by_subquery: Any) -> Any:
    """SQL: the sum of round_share(consumed, to_allocate, base) over the elements of the
    array ``consumed_values`` (NULL for no array), as ``by_subquery`` (a scalar subquery
    over the unnested array) computes it. Written out element by element for up to
    ``SHARES_INLINE`` elements: a scalar subquery runs as a subplan once per material
    (19,190 on the generated group), and those runs cost about 8 % of the allocation
    statement's time (docs/performance.md, session of 1 December); the same shares,
    rounded the same way, are added in the same exact numeric arithmetic."""
    count = func.cardinality(consumed_values)
    # the first element's share, plus (when there is a second) the second's, plus ...
    inline: Any = round_share(consumed_values[SHARES_INLINE], to_allocate, base)
    for position in range(SHARES_INLINE - 1, 0, -1):
        inline = (round_share(consumed_values[position], to_allocate, base)
                  + case((count > position, inline), else_=literal(ZERO)))
    return case((count <= SHARES_INLINE, inline), else_=by_subquery)


BALANCE_COLUMNS = [
    "company_id", "period", "material_id", "opening_quantity", "opening_value", "opening_variance",
    "receipts_quantity", "receipts_value", "receipts_variance", "other_inflow_quantity",
    "other_inflow_value", "consumption_quantity", "consumption_value", "consumption_variance",
    "variance_rate", "closing_quantity", "closing_value", "closing_variance",
]


def _balance_rows(figures: Any, period: str, allocated_to_consumption: Any) -> Any:
    """The balance row of each material of ``figures`` (columns ``BALANCE_COLUMNS``), given
    what its consumption bears of the variance."""
    zero = literal(ZERO)
    return select(
        figures.c.company_id, literal(period).label("period"), figures.c.material_id, figures.c.opening_quantity,
        figures.c.opening_value, figures.c.opening_variance, figures.c.receipts_quantity,
        figures.c.receipts_value, figures.c.receipts_variance, figures.c.other_inflow_quantity,
        figures.c.other_inflow_value, figures.c.consumption_quantity, figures.c.consumption_value,
        allocated_to_consumption.label("consumption_variance"),
        case((figures.c.standard_base != 0, figures.c.variance_to_allocate / figures.c.standard_base),
             else_=zero).label("variance_rate"),
        figures.c.closing_quantity, figures.c.closing_value,
        (figures.c.variance_to_allocate - allocated_to_consumption).label("closing_variance"),
    )


def allocated_on_no_material(company_id: Any, period: Any) -> Any:
    """SQL condition: the standing close of ``company_id``'s ``period`` put its work in
    process share of the variance on no material (a close posted before 5001.01 carried the
    material). Production and the issue reversal then treat that share as the close posted it."""
    line, entry, reopen = JournalLine, JournalEntry, aliased(JournalEntry)
    return (
        select(line.id).join(entry, entry.id == line.entry_id)
        .where(entry.company_id == company_id, entry.period == period, entry.source_type == CLOSE_SOURCE,
               line.account_code == accounts.WORK_IN_PROCESS, line.material_id.is_(None),
               ~select(reopen.id).where(reopen.reverses_entry_id == entry.id).exists())
        .exists()
    )


# The close's journal lines as ``_post_allocation`` sends them back: (name, type, array type).
_CLOSE_LINE_COLUMNS = tuple((name, type_, postgresql.ARRAY(type_)) for name, type_ in (
    ("company_id", Integer()), ("account_code", String()), ("amount", Numeric()), ("material_id", Integer())))


def _close_journal_lines(allocations: Any) -> Any:
    """The close's journal lines (company_id, account_code, amount, material_id) from
    allocation rows ``allocations`` (a subquery or CTE with company_id, material_id,
    account_code and allocated_variance): each consumption account takes its total (work in
    process per material), and the variance account gives up the company's total in one line
    on no material; totals of zero give no line (see ``_post_allocation``)."""
    bearing = select(allocations.c.company_id, allocations.c.material_id, allocations.c.account_code,
                     allocations.c.allocated_variance).where(allocations.c.allocated_variance != 0).subquery()
    # Each consumption account takes its total, and the variance account gives up the
    # company's total (one line, on no material: the detail per material and account is
    # variance_allocations). Work in process (5001.01) keeps it per material, on the
    # component, so that it stands per material at actual cost and a production order's
    # settlement clears it component by component.
    carried = case((bearing.c.account_code.in_(sorted(ALLOCATED_PER_MATERIAL)), bearing.c.material_id),
                   else_=literal(None, Integer))
    debit = (
        select(bearing.c.company_id, bearing.c.account_code.label("account_code"),
               func.sum(bearing.c.allocated_variance).label("amount"), carried.label("material_id"))
        .group_by(bearing.c.company_id, bearing.c.account_code, carried)
        .having(func.sum(bearing.c.allocated_variance) != 0)
    )
    credit = (
        select(bearing.c.company_id, literal(accounts.MATERIAL_COST_VARIANCE),
               -func.sum(bearing.c.allocated_variance), literal(None, Integer))
        .group_by(bearing.c.company_id)
        .having(func.sum(bearing.c.allocated_variance) != 0)
    )
    return union_all(debit, credit)


def _post_allocation(session: Session, company_ids: list[int], period: str, user_id: int,
                     journal: Sequence[tuple[int, str, Decimal, int | None]] | None = None) -> dict[int, int]:
    """One journal entry per company for the close: each consumption account bears its
    share of the variance (work in process per material), and the material cost variance
    account (1404) gives up the company's total in one line on no material. Returns each
    company's entry id (none where nothing was allocated, or where the shares net to zero
    on every account). ``journal``: those lines already summed (the one-pass allocation
    statement's, ``_close_journal_lines``); without it they are read from the period's
    allocation rows.

    The 1404 line is a summary: the variance each material gave up is the close's own
    subledger, ``variance_allocations`` (per material and consumption account), as a
    material ledger keeps material detail out of the general ledger. Every reader of the
    variance a material carries reads it through ``erp.costing.balances.variance_by_material``
    (1404's lines on the material from every other posting, less what the standing closes
    allocated), never by summing 1404's journal lines per material alone. Closes posted
    before this (one 1404 line per material) read the same through it. Why: one line per
    material was 18,941 of the generated group's 19,061 close lines, and their per-row
    foreign-key checks most of the close's journal time (docs/performance.md)."""
    va = VarianceAllocation
    # The lines are read once (a few per company: one per consumption account, one per
    # material on work in process) and the entries and their lines written from them, so that
    # a company whose shares net to zero on every account (and so on 1404), which moves
    # nothing in the journal, gets no entry (its allocation rows still say what each material
    # bore), without reading the allocation rows a second time to find it. The one-pass
    # allocation statement gives them (``journal``) from the rows it wrote.
    if journal is not None:
        rows: Sequence[Any] = journal
    else:
        allocations = (
            select(va.company_id, va.material_id, va.account_code, va.allocated_variance)
            .where(va.company_id.in_(company_ids), va.period == period)
            .subquery()
        )
        rows = session.execute(_close_journal_lines(allocations)).all()
    if not rows:
        return {}
    if is_postgres(session):
        # The lines go back as one array per column (``unnest``), four parameters whatever
        # their number, so that SQLAlchemy compiles the statements once and caches them; a
        # VALUES list of their rows was compiled afresh on every close (600 parameters for
        # the generated group's 150 lines, about 45 ms of Python, docs/performance.md).
        arrays = [bindparam(f"close_{name}", list(values_), type_=array_type)
                  for (name, _, array_type), values_ in zip(_CLOSE_LINE_COLUMNS, zip(*rows))]
        written = func.unnest(*arrays).table_valued(
            *(column(name, type_) for name, type_, _ in _CLOSE_LINE_COLUMNS), name="close_lines").render_derived()
        lines: Any = select(*(written.c[name] for name, _, _ in _CLOSE_LINE_COLUMNS))
    else:  # SQLite names no columns of a VALUES list
        lines = union_all(*(
            select(literal(company_id, Integer).label("company_id"), literal(account_code, String).label("account_code"),
                   literal(amount, Numeric).label("amount"), literal(material_id, Integer).label("material_id"))
            for company_id, account_code, amount, material_id in rows))
    return post_close_entries(session, CloseEntries(
        entry_date=Period(period).last_day, user_id=user_id, source_type=CLOSE_SOURCE,
        memo=narrate("variance-allocation", period=period), lines=lines,
    ))


def reopen_period(session: Session, actor: Actor, *, company_id: int, period: str, reason: str) -> CloseResult:
    """Reopen the latest closed period of a company (group cost accountants, with a reason):
    the close's postings are reversed and the reopening is recorded with who and why."""
    actor.require_role(Role.COST_ACCOUNTANT, action="reopening a period")
    if not actor.group_wide:
        raise GroupCostAccountantOnly(Message("only a group cost accountant may reopen a closed period"))
    if not reason.strip():
        from erp.errors import ValidationFailed

        raise ValidationFailed.for_field("reason", Message("reopening a period needs a reason"))
    lock_company_calendar(session, company_id)
    row = session.get(AccountingPeriod, (company_id, period), with_for_update=True, populate_existing=True)
    if row is None or row.status != PeriodStatus.CLOSED:
        raise PeriodNotClosed(Message("period {period} of {company} is not closed", period=period,
                                      company=_named_company(session, company_id)))
    later = session.scalar(
        select(func.min(AccountingPeriod.period)).where(
            AccountingPeriod.company_id == company_id, AccountingPeriod.period > period,
            AccountingPeriod.status == PeriodStatus.CLOSED,
        )
    )
    if later is not None:
        raise LaterPeriodClosed(Message("period {later} is closed; reopen it first", later=later))
    closed_entry = row.close_entry_id
    row.status = PeriodStatus.OPEN
    session.flush()
    # The close restated the stock at the next period's standards, and prices set for it
    # while this period was closed restated it at once; undo all of them, so that the next
    # close applies the next period's prices afresh, whatever they are by then.
    for restatement in restatements_of(session, company_id, Period(period).next()):
        reverse_restatement(session, document_id=restatement, user_id=actor.user_id,
                            reason=narrate("period-reopened", REASON_LENGTH, period=period, reason=reason))
    for extension in _EXTENSIONS.values():
        extension.reopen(session, company_id, period, actor.user_id, reason)
    reversal_id = None
    if row.close_entry_id is not None:
        closing = entry_header(session, row.close_entry_id)
        reversal_id = post(session, Posting(
            company_id=closing.company_id, posting_date=Period(period).last_day, user_id=actor.user_id,
            source_type=REOPEN_SOURCE, source_id=None, memo=narrate("reopening", period=period, reason=reason),
            journal=negated_lines(session, row.close_entry_id), reverses_entry_id=row.close_entry_id,
        )).entry_id
    for derived in (VarianceAllocation, MaterialPeriodBalance):
        session.execute(delete(derived).where(derived.company_id == company_id, derived.period == period))
    row.closed_at = None
    row.closed_by = None
    row.close_entry_id = None
    row.close_materials = row.variance_allocated = row.variance_remaining = None
    session.add(PeriodEvent(company_id=company_id, period=period, action="reopen", reason=reason,
                            user_id=actor.user_id, journal_entry_id=reversal_id))
    audit.record_change(session, actor, entity=audit.PERIOD, entity_id=audit.period_key(period), action="reopen",
                        company_id=company_id, reason=reason,
                        before={"period": period, "closed": True, "journal_entry_id": closed_entry},
                        after={"period": period, "closed": False, "journal_entry_id": reversal_id})
    session.flush()
    return close_result(session, company_id, period)



def _named_company(session: Session, company_id: int) -> Named:
    company = session.get(Company, company_id)
    return Named.of(company) if company is not None else Named(str(company_id), "", "")
