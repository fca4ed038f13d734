"""Where each company's books stand: the status of its periods, derived from its calendar.

A company's books close month by month, in order, so its calendar is one fact: the latest
closed period. Every period at or before it is closed (postings into it are refused),
whether or not a row was ever written for it; a period that has not begun yet (its first
day is after the business day, erp.clock) cannot take postings either; every other period
is open, and ``ended`` tells whether it can be closed (a period closes only after its
last day). The stored ``accounting_periods.status`` is the lock postings take, not the
answer to "where do the books stand": a company's first close of 2026-10 leaves no row for
2026-09, which is nevertheless closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.messages import N_, Message, Term
from erp.auth.roles import Actor
from erp.clock import business_today
from erp.errors import ValidationFailed
from erp.masterdata.models import Company
from erp.masterdata.services import deactivation_check
from erp.posting.models import AccountingPeriod, JournalEntry, PeriodStatus
from erp.period import Period

# A board of at most this many months per request (30 companies x 36 months).
MAX_MONTHS = 36


class PeriodState(StrEnum):
    """A period's status as the company's calendar says it."""

    CLOSED = "closed"
    OPEN = "open"
    NOT_YET_BEGUN = "not_yet_begun"


def period_state(period: str, latest_closed: str | None, today: dt.date) -> PeriodState:
    """The rule in one place: closed up to the latest close, not begun after today, else open."""
    if latest_closed is not None and period <= latest_closed:
        return PeriodState.CLOSED
    if Period(period).first_day > today:
        return PeriodState.NOT_YET_BEGUN
    return PeriodState.OPEN


def latest_closed_periods(session: Session, company_ids: Sequence[int]) -> dict[int, str]:
    """Each company's latest closed period (companies with none are absent)."""
    ap = AccountingPeriod
    return dict(session.execute(
        select(ap.company_id, func.max(ap.period))
        .where(ap.company_id.in_(sorted(set(company_ids))), ap.status == PeriodStatus.CLOSED)
        .group_by(ap.company_id)
    ).all())


@dataclass(frozen=True)
class PeriodStanding:
    period: str
    status: PeriodState
    ended: bool
    closed_at: dt.datetime | None
    closed_by: int | None


@dataclass(frozen=True)
class CompanyCalendar:
    company_id: int
    company_code: str
    name_zh: str
    name_en: str
    latest_closed: str | None
    # The period to close next: the month after the latest close (or the earliest open
    # month with a period row), when it has ended; None when nothing can be closed yet.
    next_to_close: str | None
    periods: list[PeriodStanding]


def months(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last``, inclusive, in order."""
    out = []
    period = first
    while period <= last:
        out.append(period)
        period = Period(period).next()
    return out


def company_calendars(
    session: Session, actor: Actor, *, from_period: str | None = None, to_period: str | None = None,
    company_ids: Sequence[int] | None = None,
) -> list[CompanyCalendar]:
    """Every visible company's periods from ``from_period`` to ``to_period`` (default: the
    twelve months up to the current one, and the next), with each period's derived status,
    in company code order. Any signed-in user sees the companies they act for (everyone
    posting into the books needs to know which periods take postings). Refuses
    ``validation-error`` for a reversed range or one longer than 36 months."""
    today = business_today()
    current = Period.of(today)
    if to_period is None:
        to_period = current.next()
    if from_period is None:
        from_period = current
        for _ in range(11):
            from_period = Period(from_period).previous()
    if from_period > to_period:
        raise ValidationFailed.for_field("from", Message("{first} is after {last}", first=from_period, last=to_period))
    span = months(from_period, to_period)
    if len(span) > MAX_MONTHS:
        raise ValidationFailed.for_field("to", Message("at most {count} months at once", count=MAX_MONTHS))
    query = select(Company).where(actor.company_scope(Company.id)).order_by(Company.code)
    if company_ids is not None:
        query = query.where(Company.id.in_(sorted(set(company_ids))))
    companies = session.scalars(query).all()
    ids = [company.id for company in companies]
    latest = latest_closed_periods(session, ids)
    ap = AccountingPeriod
    rows = {
        (row.company_id, row.period): row
        for row in session.execute(
            select(ap.company_id, ap.period, ap.status, ap.closed_at, ap.closed_by)
            .where(ap.company_id.in_(ids), ap.period >= from_period, ap.period <= to_period)
        )
    }
    earliest_open = dict(session.execute(
        select(ap.company_id, func.min(ap.period))
        .where(ap.company_id.in_(ids), ap.status == PeriodStatus.OPEN)
        .group_by(ap.company_id)
    ).all())
    calendars = []
    for company in companies:
        closed = latest.get(company.id)
        candidate = Period(closed).next() if closed is not None else earliest_open.get(company.id)
        next_to_close = candidate if candidate is not None and Period(candidate).last_day < today else None
        standings = []
        for period in span:
            row = rows.get((company.id, period))
            state = period_state(period, closed, today)
            standings.append(PeriodStanding(
                period=period, status=state, ended=Period(period).last_day < today,
                closed_at=row.closed_at if row is not None and state == PeriodState.CLOSED else None,
                closed_by=row.closed_by if row is not None and state == PeriodState.CLOSED else None,
            ))
        calendars.append(CompanyCalendar(company.id, company.code, company.name_zh or "", company.name_en or "",
                                         closed, next_to_close, standings))
    return calendars


_OPEN_PERIODS = N_("open period(s) with postings")


@deactivation_check("company")
def _open_periods_with_postings(session: Session, company_id: int) -> list[Message]:
    """Periods after the company's latest close with postings in them: they are still to be
    closed (the month-end board lists active companies only)."""
    latest = session.scalar(select(func.max(AccountingPeriod.period)).where(
        AccountingPeriod.company_id == company_id, AccountingPeriod.status == PeriodStatus.CLOSED))
    query = select(JournalEntry.period).where(JournalEntry.company_id == company_id)
    if latest is not None:
        query = query.where(JournalEntry.period > latest)
    periods = session.scalars(query.distinct().order_by(JournalEntry.period)).all()
    if not periods:
        return []
    return [Message("{count} {what} ({numbers})", count=len(periods), what=Term(_OPEN_PERIODS),
                    numbers=[str(period) for period in periods[:3]] + (["…"] if len(periods) > 3 else []))]
