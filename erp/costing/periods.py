"""Accounting periods: no posting may land in a closed one.

Every posting takes a KEY SHARE lock on its company's period row; the close takes FOR
UPDATE on the same row. A posting and the close of its period therefore never overlap:
a posting that waited for a close sees the period closed and is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, bindparam, select
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


# Built once: every posting runs it.
_PERIOD_STATUS = (
    select(AccountingPeriod.status)
    .where(AccountingPeriod.company_id == bindparam("company_id"), AccountingPeriod.period == bindparam("period"))
    .with_for_update(key_share=True, read=True)
)


def lock_open_period(session: Session, company_id: int, posting_date: dt.date) -> str:
    """Hold the posting's period open until commit, or refuse if it is closed; returns the period."""
    period = period_of(posting_date)
    lock_period_row(session, _PERIOD_STATUS, company_id=company_id, period=period)
    return period


def lock_period_row(session: Session, statement: Select[Any], **params: Any) -> Any:
    """Run ``statement`` — a SELECT from accounting_periods, status first, for the bound
    company_id and period, taking a KEY SHARE lock on the period row — creating the row on
    first use; refuse when the period is closed. Returns the row."""
    connection = session.connection()
    row = connection.execute(statement, params).one_or_none()
    if row is None:
        ensure_period(session, params["company_id"], params["period"])
        row = connection.execute(statement, params).one()
    if row[0] != PeriodStatus.OPEN:
        raise PeriodClosed(
            f"period {params['period']} of company {params['company_id']} is closed; post into an open period "
            "or ask a group cost accountant to reopen it"
        )
    return row
