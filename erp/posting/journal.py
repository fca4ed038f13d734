"""Reading the journal for a posting, and the rule every entry's lines obey.

Entries are written only by ``erp.posting.post`` (and the month end's set-based
``post_close_entries``/``post_restatement``); this module holds what a posting needs to
build its lines: the check that they balance, and the lines of an entry to reverse.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.money import CENT
from erp.posting.errors import UnbalancedEntry
from erp.posting.models import JournalEntry, JournalLine
from erp.posting.values import STOCK_DOCUMENT, Line


def balanced_lines(lines: Iterable[Line]) -> list[Line]:
    """Check the lines of one entry: rounded to the cent, summing to zero; drop zero lines.
    Raises ``UnbalancedEntry`` (a bug of the caller, never a user's mistake)."""
    checked = [line for line in lines if line.amount != 0]
    for line in checked:
        if line.amount != line.amount.quantize(CENT):
            raise UnbalancedEntry(f"amount {line.amount} on {line.account} is not rounded to the cent")
    total = sum((line.amount for line in checked), Decimal("0"))
    if total != 0:
        raise UnbalancedEntry(f"journal lines sum to {total}, not zero: {checked}")
    return checked


def negated_lines(session: Session, entry_id: int) -> list[Line]:
    """The lines of an entry with every amount negated (the body of its reversal)."""
    return [
        Line(line.account_code, -line.amount, line.material_id, line.customer_id)
        for line in session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id)
                                    .order_by(JournalLine.id))
    ]


def entry_of_document(session: Session, document_id: int) -> int | None:
    """The id of the journal entry a stock document posted (None: it posted none)."""
    return session.scalar(
        select(JournalEntry.id).where(JournalEntry.source_type == STOCK_DOCUMENT,
                                      JournalEntry.source_id == document_id)
    )


def entry_header(session: Session, entry_id: int) -> JournalEntry:
    """An entry's header; LookupError when it does not exist (a bug of the caller)."""
    header = session.get(JournalEntry, entry_id)
    if header is None:
        raise LookupError(f"journal entry {entry_id} does not exist")
    return header
