"""The business day: the one clock every business date is read from.

The group keeps its books on China Standard Time (Asia/Shanghai: UTC+8 all year, no
daylight saving since 1991), so "today" is the date in Beijing, not in UTC: from 16:00 UTC
it is already tomorrow. Every rule that compares a date with today (nothing is posted
after the business day, a period closes only after its last day, a contract's status, the
default date of a page's form, the as-of date of a report) reads ``business_today()``;
nothing else in ``erp`` calls ``date.today()`` or ``datetime.now()`` for a business date
(tests/test_clock.py scans the sources).

The clock can be pinned to a day (``pin_business_day``, or ``business_day(...)`` as a
context manager): tests pin it so that a run never straddles midnight in Beijing and so
that scenarios dated in 2027 run as if it were 2027; a training copy of the system can
pin it the same way with ``ERP_BUSINESS_DATE=YYYY-MM-DD``. The pin is process-wide (a
module variable, not a context variable), so the threads of a test server see it too.

No Flask, no database.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

from erp.errors import DatedAfterBusinessDay, DatedBeforeSource
from erp.messages import Message, Term

# A fixed offset rather than zoneinfo: China has kept UTC+8 without daylight saving since
# 1991, and a fixed offset needs no tz database on the server.
BUSINESS_TIME_ZONE = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

_pinned: dt.date | None = None


def business_today() -> dt.date:
    """Today's date in the group's time zone (or the day the clock is pinned to)."""
    if _pinned is not None:
        return _pinned
    configured = os.environ.get("ERP_BUSINESS_DATE")
    if configured:
        return dt.date.fromisoformat(configured.strip())
    return dt.datetime.now(BUSINESS_TIME_ZONE).date()


def business_day_pinned() -> bool:
    """Whether ``business_today()`` follows a pin (a test, or ``ERP_BUSINESS_DATE``) rather than the real clock."""
    return _pinned is not None or bool(os.environ.get("ERP_BUSINESS_DATE"))


def pin_business_day(day: dt.date | None) -> None:
    """Make ``business_today()`` return ``day`` from now on (None: follow the real clock again)."""
    global _pinned
    _pinned = day


@contextmanager
def business_day(day: dt.date) -> Iterator[dt.date]:
    """Run a block as if today were ``day``; the previous pin is restored afterwards."""
    before = _pinned
    pin_business_day(day)
    try:
        yield day
    finally:
        pin_business_day(before)


def refuse_after_business_day(day: dt.date, *, field: str, what: str) -> None:
    """Refuse ``day`` when it is after the business day: ``DatedAfterBusinessDay`` (422),
    naming ``field`` (the request's field, for the pointer) and ``what`` (the kind of
    posting or document, a message id).

    The rule (issue #13): nothing that posts (stock documents, invoices, payments, closes)
    is dated after the business day, and no document is dated after the day it is made;
    orders and contracts may still carry future delivery dates and validity periods."""
    today = business_today()
    if day > today:
        problem = Message("{what} dated {day} is after today ({today}, Asia/Shanghai): nothing is booked or "
                          "dated before the day it happens", what=Term(what), day=day, today=today)
        raise DatedAfterBusinessDay(problem, errors=[{"pointer": f"/{field}", "detail": problem}])


def refuse_before_source(day: dt.date, source_day: dt.date, *, field: str, what: str, source: str,
                         source_name: object) -> None:
    """Refuse ``day`` when it is before ``source_day``, the date of the document it derives
    from: ``DatedBeforeSource`` (422), naming both documents.

    The rule (issue #13): along every chain (contract -> purchase order -> receipt ->
    return or reversal; sales order -> shipment and invoice -> payment application) a
    later document is not dated before the one it derives from."""
    if day < source_day:
        problem = Message("{what} dated {day} is before {source} {source_name}, dated {source_day}: a document "
                          "is not dated before the one it derives from", what=Term(what), day=day,
                          source=Term(source), source_name=source_name, source_day=source_day)
        raise DatedBeforeSource(problem, errors=[{"pointer": f"/{field}", "detail": problem}])
