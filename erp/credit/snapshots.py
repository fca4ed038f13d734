"""Month-end snapshots of the consolidated receivables (``receivable_snapshots``): what the
CIO's trend and a past month end's company figures read instead of rebuilding every month
from all invoices and settlements.

A snapshot of month end M holds, per company, exactly what ``receivables_by_company``
reports as of M (open, overdue, the five ageing buckets, the intercompany part), computed by
the same statement (``receivables.company_ageing``). It is written by a job
(``erp.credit.jobs.take_snapshots``: the CLI ``flask credit snapshot-receivables``, or the
``credit.receivable-snapshots`` job kind), never by a reader. Readers use it only while it is *fresh*: no invoice, payment
application or credit note application committed after it (ids above its watermarks) is
dated on or before M. Postings are refused in closed periods, so a month end of closed
periods stays fresh for good; a backdated document in a still-open or reopened period
makes it stale, and readers rebuild that month end from the documents (always correct,
only slower) until the job writes it again.

Why ids are safe watermarks: on PostgreSQL the watermarks are read under a SHARE lock of
the three tables, which waits for every transaction inserting into them to end, so every
row with an id at or below a watermark was committed when the snapshot's statements ran
(they start after the lock). A row committed later has a higher id and is caught by the
freshness check. SQLite has one writer at a time and assigns ids above every committed one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit.models import (
    CreditNoteApplication,
    Invoice,
    PaymentApplication,
    ReceivableSnapshot,
    ReceivableSnapshotRun,
)
from erp.db import is_postgres
from erp.money import CENT

AGEING = ("open_amount", "overdue", "not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
FIGURES = (*AGEING, "intercompany_open")
SNAPSHOT_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO, Role.ADMIN)
ZERO = Decimal("0")


def month_end_of(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def past_month_ends(today: dt.date, count: int) -> list[dt.date]:
    """The ``count`` month ends before ``today``'s month, oldest first (the ones a job can
    snapshot: a month in progress has no month end yet)."""
    ends: list[dt.date] = []
    first = today.replace(day=1)
    while len(ends) < count:
        end = first - dt.timedelta(days=1)
        ends.insert(0, end)
        first = end.replace(day=1)
    return ends


@dataclass(frozen=True)
class Watermarks:
    invoices: int
    payment_applications: int
    credit_note_applications: int


def watermarks(session: Session) -> Watermarks:
    """The highest ids of invoices and settlements committed now (see the module's
    docstring). On PostgreSQL it takes a SHARE lock on the three tables, held until the
    caller's transaction ends: commit right after, in a transaction of its own."""
    if is_postgres(session):
        session.execute(select(literal(1)))  # begin, then lock
        session.connection().exec_driver_sql(
            "LOCK TABLE invoices, payment_applications, credit_note_applications IN SHARE MODE")
    return Watermarks(*(session.scalar(select(func.coalesce(func.max(model.id), 0)))
                        for model in (Invoice, PaymentApplication, CreditNoteApplication)))


def stale_or_missing(session: Session, month_ends: Iterable[dt.date]) -> set[dt.date]:
    """Which of ``month_ends`` have no fresh snapshot: none was taken, or a document
    committed after it is dated on or before the month end. A few index range reads per
    set of watermarks (the snapshots of one job share theirs), not a scan."""
    days = sorted(set(month_ends))
    runs = session.execute(select(ReceivableSnapshotRun).where(ReceivableSnapshotRun.month_end.in_(days))
                           ).scalars().all()
    fresh: set[dt.date] = set()
    earliest_after: dict[tuple[int, int, int], dt.date | None] = {}
    for run in runs:
        key = (run.invoices_upto, run.payment_applications_upto, run.credit_note_applications_upto)
        if key not in earliest_after:
            earliest_after[key] = _earliest_dated_after(session, *key)
        earliest = earliest_after[key]
        if earliest is None or earliest > run.month_end:
            fresh.add(run.month_end)
    return set(days) - fresh


def _earliest_dated_after(session: Session, invoices: int, payments: int, credits: int) -> dt.date | None:
    """The earliest date of any invoice or settlement with an id above the watermarks,
    remembered for the rest of the transaction (a dashboard asks for several month ends)."""
    transaction = session.get_transaction()
    cached = session.info.get(_FRESHNESS)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_FRESHNESS] = cached
    key = (invoices, payments, credits)
    if key not in cached[1]:
        # min(coalesce(d, d)), not min(d): PostgreSQL would answer min(d) by walking the
        # index on the date until a row passes id > mark, which is every row when none does;
        # over the expression it reads the primary key's range above the mark instead.
        dates = [session.scalar(select(func.min(func.coalesce(column, column))).where(model.id > mark))
                 for model, column, mark in ((Invoice, Invoice.invoice_date, invoices),
                                             (PaymentApplication, PaymentApplication.applied_on, payments),
                                             (CreditNoteApplication, CreditNoteApplication.applied_on, credits))]
        found = [_as_date(day) for day in dates if day is not None]
        cached[1][key] = min(found) if found else None
    return cached[1][key]  # type: ignore[no-any-return]


_FRESHNESS = "erp.credit.snapshot_freshness"


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def snapshot_totals(session: Session, actor: Actor, month_ends: Sequence[dt.date]) -> dict[dt.date, dict[str, Decimal]]:
    """Per fresh month end among ``month_ends``: the figures summed over the caller's
    companies. Month ends without a fresh snapshot are left out (the caller rebuilds them)."""
    fresh = sorted(set(month_ends) - stale_or_missing(session, month_ends))
    if not fresh:
        return {}
    S = ReceivableSnapshot
    rows = session.execute(
        select(S.month_end, *(func.sum(getattr(S, name)).label(name) for name in FIGURES))
        .where(S.month_end.in_(fresh), actor.company_scope(S.company_id))
        .group_by(S.month_end)).all()
    totals = {day: dict.fromkeys(FIGURES, ZERO) for day in fresh}  # a month end with no receivables at all
    for row in rows:
        totals[_as_date(row.month_end)] = {name: Decimal(getattr(row, name)).quantize(CENT) for name in FIGURES}
    return totals


def snapshot_by_company(session: Session, actor: Actor, month_end: dt.date) -> list[Any] | None:
    """The snapshot's company rows of a fresh month end (as ``receivables.company_ageing`` gives them),
    scoped to the caller; None when there is no fresh snapshot of that day."""
    if stale_or_missing(session, [month_end]):
        return None
    S = ReceivableSnapshot
    return list(session.execute(
        select(S.company_id, *(getattr(S, name).label(name) for name in FIGURES))
        .where(S.month_end == month_end, actor.company_scope(S.company_id))).all())



def customer_snapshot_run(session: Session, month_end: dt.date) -> ReceivableSnapshotRun | None:
    """The run of ``month_end`` when it is fresh and kept every customer's position
    (``receivable_customer_snapshots``); None otherwise (the caller rebuilds the day)."""
    if month_end != month_end_of(month_end) or stale_or_missing(session, [month_end]):
        return None
    run = session.get(ReceivableSnapshotRun, month_end)
    return run if run is not None and run.held_orders is not None else None
