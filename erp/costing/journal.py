"""The double-entry journal: the only way amounts reach the ledger of accounts.

``post_entry`` writes one balanced entry with two statements (header, then all lines in
one multi-row INSERT). Amounts must already be rounded (erp.money.round_money) and must
sum to zero; anything else is a programming error and is refused before a row is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from erp.costing.errors import UnbalancedEntry
from erp.costing.models import JournalEntry, JournalLine
from erp.db import utcnow
from erp.money import CENT, period_of


# Built once: postings are the hot path, and a prebuilt Core statement skips the ORM's
# per-call statement construction.
_INSERT_ENTRY = insert(JournalEntry.__table__).returning(JournalEntry.__table__.c.id)
_INSERT_LINES = insert(JournalLine.__table__)


@dataclass(frozen=True)
class Line:
    """A signed amount on an account: positive debits, negative credits."""

    account: str
    amount: Decimal
    material_id: int | None = None
    customer_id: int | None = None


def balanced_lines(lines: Iterable[Line]) -> list[Line]:
    """Check the lines of one entry: rounded to the cent, summing to zero; drop zero lines."""
    checked = [line for line in lines if line.amount != 0]
    for line in checked:
        if line.amount != line.amount.quantize(CENT):
            raise UnbalancedEntry(f"amount {line.amount} on {line.account} is not rounded to the cent")
    total = sum((line.amount for line in checked), Decimal("0"))
    if total != 0:
        raise UnbalancedEntry(f"journal lines sum to {total}, not zero: {checked}")
    return checked


def post_entry(
    session: Session,
    *,
    company_id: int,
    entry_date: dt.date,
    source_type: str,
    source_id: int | None,
    memo: str,
    lines: Iterable[Line],
    user_id: int | None,
    reverses_entry_id: int | None = None,
) -> int | None:
    """Write one balanced journal entry; returns its id (None when every amount is zero)."""
    checked = balanced_lines(lines)
    if not checked:
        return None
    period = period_of(entry_date)
    connection = session.connection()
    entry_id: int = connection.execute(
        _INSERT_ENTRY,
        {
            "company_id": company_id, "entry_date": entry_date, "period": period, "source_type": source_type,
            "source_id": source_id, "memo": memo[:300], "reverses_entry_id": reverses_entry_id,
            "created_by": user_id, "created_at": utcnow(),
        },
    ).scalar_one()
    # Passed as parameter sets, the statement compiles once and SQLAlchemy sends the rows
    # as one multi-row INSERT ("insertmanyvalues").
    connection.execute(
        _INSERT_LINES,
        [
            {
                "entry_id": entry_id, "company_id": company_id, "period": period,
                "account_code": line.account, "amount": line.amount,
                "material_id": line.material_id, "customer_id": line.customer_id,
            }
            for line in checked
        ],
    )
    return entry_id


def negated_lines(session: Session, entry_id: int) -> list[Line]:
    """The lines of an entry with every amount negated (the body of its reversal)."""
    return [
        Line(line.account_code, -line.amount, line.material_id, line.customer_id)
        for line in session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id)
                                    .order_by(JournalLine.id))
    ]


def reverse_entry(
    session: Session, entry_id: int, *, entry_date: dt.date, source_type: str, source_id: int | None,
    memo: str, user_id: int | None,
) -> int | None:
    """Post the exact opposite of an entry (every line negated), pointing back at it."""
    header = session.get(JournalEntry, entry_id)
    if header is None:
        raise LookupError(f"journal entry {entry_id} does not exist")
    return post_entry(
        session,
        company_id=header.company_id, entry_date=entry_date, source_type=source_type, source_id=source_id,
        memo=memo, user_id=user_id, reverses_entry_id=entry_id, lines=negated_lines(session, entry_id),
    )
