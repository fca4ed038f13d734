"""Accounting periods: no posting may land in a closed one.

Every posting takes a KEY SHARE lock on its company's period row; the close takes FOR
UPDATE on the same row. A posting and the close of its period therefore never overlap:
a posting that waited for a close sees the period closed and is refused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.costing.errors import PeriodClosed
from erp.costing.models import AccountingPeriod, PeriodStatus
from erp.db import dialect_insert
from erp.money import period_of


def ensure_period(session: Session, company_id: int, period: str) -> None:
    """Create the period row (open) if it does not exist yet."""
    session.execute(
        dialect_insert(session, AccountingPeriod)
        .values(company_id=company_id, period=period, status=PeriodStatus.OPEN)
        .on_conflict_do_nothing()
    )


def lock_open_period(session: Session, company_id: int, posting_date: dt.date) -> str:
    """Hold the posting's period open until commit, or refuse if it is closed; returns the period."""
    period = period_of(posting_date)
    query = (
        select(AccountingPeriod.status)
        .where(AccountingPeriod.company_id == company_id, AccountingPeriod.period == period)
        .with_for_update(key_share=True, read=True)
    )
    status = session.scalar(query)
    if status is None:
        ensure_period(session, company_id, period)
        status = session.scalar(query)
    if status != PeriodStatus.OPEN:
        raise PeriodClosed(
            f"period {period} of company {company_id} is closed; post into an open period "
            "or ask a group cost accountant to reopen it"
        )
    return period
