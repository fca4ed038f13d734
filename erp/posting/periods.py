"""Accounting periods: no posting may land in a closed one.

The period lock is the posting module's because every posting takes it first (before
the standard price is read and before any balance is locked); the use cases that change
the calendar (the close, reopening, setting prices) are costing's and use these locks.

A company's books close month by month, in order: every period up to the latest closed
one is closed, and no posting, price or period may appear at or before it.

Every posting takes a KEY SHARE lock on its company's period row; the close takes FOR
UPDATE on the same row. A posting and the close of its period therefore never overlap:
a posting that waited for a close sees the period closed and is refused. Creating a
period row and closing a period both take the company row FOR NO KEY UPDATE (which does
not block the foreign-key checks of ordinary postings), so a posting cannot open a new
period behind a close that is committing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from erp.clock import refuse_after_business_day
from erp.db import DriverRead, dialect_insert
from erp.masterdata.models import Company
from erp.messages import N_, Message, Named
from erp.period import Period
from erp.posting.errors import PeriodClosed
from erp.posting.models import AccountingPeriod, PeriodStatus


def lock_company_calendar(session: Session, company_id: int) -> None:
    """Serialise changes to a company's calendar (new periods, closes, reopens)."""
    lock_company_calendars(session, [company_id])


def lock_company_calendars(session: Session, company_ids: Sequence[int]) -> None:
    """The same for several companies, always in id order so that two group closes never
    deadlock on each other."""
    session.execute(
        select(Company.id).where(Company.id.in_(sorted(set(company_ids)))).order_by(Company.id)
        .with_for_update(key_share=True)
    )


def latest_closed_period(session: Session, company_id: int) -> str | None:
    """The company's latest closed period (its books are closed up to there), if any."""
    return session.scalar(
        select(func.max(AccountingPeriod.period)).where(
            AccountingPeriod.company_id == company_id, AccountingPeriod.status == PeriodStatus.CLOSED
        )
    )


def refuse_if_closed_through(session: Session, company_id: int, period: str) -> None:
    """Refuse ``period`` when the company's books are closed at or after it."""
    refuse_if_any_closed_through(session, [company_id], period)


def _company(session: Session, company_id: int) -> Named | int:
    """A company as people know it (code and name) for a refusal; its id stays in the
    problem's ``company_id`` extension for the API."""
    company = session.get(Company, company_id)
    return Named.of(company) if company is not None else company_id


def refuse_if_any_closed_through(session: Session, company_ids: Sequence[int], period: str) -> None:
    """Refuse ``period`` when any of the companies' books are closed at or after it."""
    closed = session.execute(
        select(AccountingPeriod.company_id, func.max(AccountingPeriod.period))
        .where(AccountingPeriod.company_id.in_(list(company_ids)), AccountingPeriod.status == PeriodStatus.CLOSED,
               AccountingPeriod.period >= period)
        .group_by(AccountingPeriod.company_id)
        .order_by(AccountingPeriod.company_id)
        .limit(1)
    ).first()
    if closed is not None:
        raise PeriodClosed(Message("the books of company {company} are closed up to {closed}; nothing can be posted "
                                   "in {period}", company=_company(session, closed[0]), closed=closed[1],
                                   period=period), company_id=closed[0], period=str(period))


def ensure_period(session: Session, company_id: int, period: str) -> None:
    """Create the period row (open) if it does not exist yet; never behind a closed period."""
    ensure_periods(session, [company_id], period)


def ensure_periods(session: Session, company_ids: Sequence[int], period: str) -> None:
    """The same for several companies, in one statement."""
    lock_company_calendars(session, company_ids)
    refuse_if_any_closed_through(session, company_ids, period)
    session.execute(
        dialect_insert(session, AccountingPeriod)
        .values([{"company_id": company_id, "period": period, "status": PeriodStatus.OPEN}
                 for company_id in sorted(set(company_ids))])
        .on_conflict_do_nothing()
    )


def lock_periods_from(session: Session, company_id: int, period: str) -> None:
    """Hold ``period`` (which must be open) and every later period of the company
    exclusively: postings into them wait, as they do on a period being closed."""
    lock_periods_from_for(session, [company_id], period)


def lock_periods_from_for(session: Session, company_ids: Sequence[int], period: str) -> None:
    """The same for several companies at once (rows locked in company and period order)."""
    ensure_periods(session, company_ids, period)
    rows = session.execute(
        select(AccountingPeriod.company_id, AccountingPeriod.period, AccountingPeriod.status)
        .where(AccountingPeriod.company_id.in_(sorted(set(company_ids))), AccountingPeriod.period >= period)
        .order_by(AccountingPeriod.company_id, AccountingPeriod.period)
        .with_for_update()
    ).all()
    for company_id, row_period, status in rows:
        if row_period == period and status != PeriodStatus.OPEN:
            raise PeriodClosed(Message("period {period} of company {company} is closed", period=period,
                                       company=_company(session, company_id)), company_id=company_id,
                               period=str(period))
    _held(session).update((company_id, row_period) for company_id, row_period, status in rows
                          if status == PeriodStatus.OPEN)


def lock_periods_for_close(session: Session, company_ids: Sequence[int], period: str) -> None:
    """Hold the companies' ``period`` rows exclusively (creating them open if need be), as
    the close does: postings into them wait until it commits and then find them closed."""
    ensure_periods(session, company_ids, period)
    rows = session.execute(
        select(AccountingPeriod.company_id, AccountingPeriod.status)
        .where(AccountingPeriod.company_id.in_(sorted(set(company_ids))), AccountingPeriod.period == period)
        .order_by(AccountingPeriod.company_id).with_for_update()
    ).all()
    _held(session).update((company_id, period) for company_id, status in rows if status == PeriodStatus.OPEN)


# Built once and sent to the driver as compiled SQL on PostgreSQL (erp.db.DriverRead): every
# posting runs it.
# The company's go-live date comes with it (refuse_before_go_live): no statement of its own.
_PERIOD_STATUS = DriverRead(
    select(AccountingPeriod.status, Company.go_live_date)
    .join(Company, Company.id == AccountingPeriod.company_id)
    .where(AccountingPeriod.company_id == bindparam("company_id"), AccountingPeriod.period == bindparam("period"))
    .with_for_update(key_share=True, read=True, of=AccountingPeriod)
)


def lock_open_period(session: Session, company_id: int, posting_date: dt.date) -> Period:
    """Hold the posting's period open until commit, or refuse if it is closed; returns the period.

    Refuses first ``DatedAfterBusinessDay`` when ``posting_date`` is after the business day
    (erp.clock): nothing is posted before it happens; and ``PeriodClosed`` when it is before
    the company's go-live date (``refuse_before_go_live``)."""
    refuse_after_business_day(posting_date, field="posting_date", what=N_("a posting"))
    period = Period.of(posting_date)
    row = lock_period_row(session, _PERIOD_STATUS, company_id=company_id, period=period)
    refuse_before_go_live(session, company_id, posting_date, row[1])
    return period


_OPENING = "erp.posting.opening_date"


@contextmanager
def opening_postings(session: Session, go_live_date: dt.date) -> Iterator[None]:
    """The go-live opening postings of ``session`` (opening stock, opening receivables), dated
    ``go_live_date``: they are the history that the go-live date closes, so they are not
    refused as dated before it."""
    session.info[_OPENING] = go_live_date
    try:
        yield
    finally:
        session.info.pop(_OPENING, None)


def set_go_live_date(session: Session, company_id: int, go_live_date: dt.date) -> None:
    """Record that the company went live on ``go_live_date`` (its opening balances are posted
    then): the earliest such date is kept."""
    session.execute(update(Company).where(
        Company.id == company_id, or_(Company.go_live_date.is_(None), Company.go_live_date > go_live_date))
        .values(go_live_date=go_live_date))


def refuse_before_go_live(session: Session, company_id: int, posting_date: dt.date, go_live: dt.date | None) -> None:
    """Refuse a posting dated before the company's go-live date (finding 118): the old
    system's history came over as opening balances posted on that date, so the books before
    it are closed; only those opening postings themselves are dated on it."""
    if go_live is not None and posting_date < go_live and session.info.get(_OPENING) != posting_date:
        raise PeriodClosed(Message(BEFORE_GO_LIVE, company=_company(session, company_id), go_live=go_live,
                                   date=posting_date),
                           errors=[{"pointer": "/posting_date", "detail": Message(BEFORE_GO_LIVE_FIELD, go_live=go_live)}],
                           company_id=company_id, period=str(Period.of(posting_date)))


BEFORE_GO_LIVE = N_("company {company} went live on {go_live}: its books before that date are closed (the old "
                    "system's history was taken over as opening balances); {date} cannot be posted, date it on or "
                    "after {go_live}")
BEFORE_GO_LIVE_FIELD = N_("on or after the go-live date {go_live}")


_HELD = "erp.posting.held_periods"


def _held(session: Session) -> set[tuple[int, str]]:
    """The (company, period) rows this session's current transaction holds open."""
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is None or held[0] is not transaction:
        held = (transaction, set())
        session.info[_HELD] = held
    return held[1]


def holds_open(session: Session, company_id: int, period: str) -> bool:
    """Whether the current transaction already holds the period open (see ``post``)."""
    return (company_id, period) in _held(session)


def lock_period_row(session: Session, statement: DriverRead, **params: Any) -> Any:
    """Run ``statement`` — a SELECT from accounting_periods, status first, for the bound
    company_id and period, taking a KEY SHARE lock on the period row — creating the row on
    first use; refuse when the period is closed. Returns the row."""
    connection = session.connection()
    values = {**params, "period": str(params["period"])}  # psycopg adapts a str, not its subclass Period
    found = statement.rows(connection, values)
    if not found:
        ensure_period(session, params["company_id"], params["period"])
        (row,) = statement.rows(connection, values)
    else:
        row = found[0]
    if row[0] != PeriodStatus.OPEN:
        raise PeriodClosed(Message("period {period} of company {company} is closed; post into an open period or ask a "
                                   "group cost accountant to reopen it", period=params["period"],
                                   company=_company(session, params["company_id"])),
                           company_id=params["company_id"], period=str(params["period"]))
    _held(session).add((params["company_id"], params["period"]))
    return row
