"""Goods the old system received and had not invoiced at go-live, taken over with their open
purchase order (the go-live import of open orders, ``erp.golive.documents``; finding 131).

The import books the received quantity on the order line, so the invoice is matched against
it as against a receipt's. It must also put on GR/IR (2202.01) what a receipt would have
credited: the invoice debits GR/IR with the invoiced quantity x the contract price, and
without the credit that debit never clears. So the quantity taken over is posted as an
opening balance, in one journal entry per order line (``source_type`` ``opening_received``,
``source_id`` the order line), dated the day of the import:

| line | amount |
|---|---|
| Dr 4199 opening balances | round(quantity x the order line's contract price) |
| Cr 2202.01 goods received not invoiced | the same |

and kept on the line (``opening_received_quantity``), so the GR/IR clearing report counts it
as received on the line (``erp.payables.queries.grir_lines``). No stock moves: the goods come
with the opening stock import (which, for its part, credits 4199 with their value). An
undone import posts the mirror entry (``undo_received``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from erp.costing import accounts
from erp.money import round_money
from erp.narration import narrate
from erp.posting import Line, Posting, negated_lines, post
from erp.posting.models import JournalEntry
from erp.purchasing import receiving
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine

OPENING_RECEIVED = "opening_received"  # journal entries' source_type; source_id: the order line


def take_over_received(session: Session, *, user_id: int | None, line: receiving.OrderLineForReceipt,
                       quantity: Decimal, posting_date: dt.date, reference: str) -> int:
    """Book ``quantity`` received and not invoiced in the old system on the (locked) order
    line ``line`` and credit GR/IR with it at the contract price against the opening
    balances; the journal entry's id. ``reference``: the old system's order number."""
    receiving.register_received_quantity(session, line, quantity)
    session.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.id == line.line_id).values(
        opening_received_quantity=PurchaseOrderLine.opening_received_quantity + quantity))
    value = round_money(quantity * line.unit_price)
    return post(session, Posting(
        company_id=line.receiving_company_id, posting_date=posting_date, user_id=user_id,
        source_type=OPENING_RECEIVED, source_id=line.line_id,
        memo=narrate("opening-received", order=line.order_number, reference=reference),
        journal=[Line(accounts.OPENING_BALANCES, value), Line(accounts.GOODS_RECEIVED_NOT_INVOICED, -value)],
    )).entry_id


def undo_received(session: Session, *, user_id: int | None, line_ids: list[int], posting_date: dt.date) -> None:
    """Post the mirror of the opening GR/IR entries of these order lines (their import is
    being undone; postings are never deleted): the entries not reversed yet."""
    reversed_ = select(JournalEntry.reverses_entry_id).where(JournalEntry.reverses_entry_id.is_not(None))
    entries = session.scalars(select(JournalEntry).where(
        JournalEntry.source_type == OPENING_RECEIVED, JournalEntry.source_id.in_(line_ids),
        JournalEntry.id.not_in(reversed_)).order_by(JournalEntry.id)).all()
    orders = dict(session.execute(select(PurchaseOrderLine.id, PurchaseOrder.number)
                                  .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
                                  .where(PurchaseOrderLine.id.in_(line_ids))).all())
    for entry in entries:
        post(session, Posting(
            company_id=entry.company_id, posting_date=posting_date, user_id=user_id,
            source_type=OPENING_RECEIVED, source_id=entry.source_id, reverses_entry_id=entry.id,
            memo=narrate("opening-received-undone", order=orders.get(entry.source_id, "-")),
            journal=negated_lines(session, entry.id),
        ))
