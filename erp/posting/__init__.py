"""Posting: the one owner of the stock ledger, stock balances, period totals and the journal.

Every business event that changes the books (a goods receipt, an issue, a transfer, a
stock count, a return, a reversal, a restatement, the month-end close, an invoice, a
payment) is described by a value and written by this module; no other module inserts
into or updates ``stock_documents``, ``stock_movements``, ``stock_balances``,
``period_movement_totals``, ``journal_entries`` or ``journal_lines``
(tests/test_architecture.py holds them to it). Posting depends on master data and the
database layer only: purchasing, inventory, costing and credit use it, never the reverse.

How to add a kind of posting (for example a supplier invoice: journal lines, no stock)
--------------------------------------------------------------------------------------
1. In your use case (your module's ``services.py``), check your business rules and
   compute the amounts, rounded with ``erp.money.round_money``.
2. Lock the period first: ``lock_open_period(session, company_id, date)`` (or, for stock,
   ``price_for_posting``, which also reads the standard price after the lock). ``post``
   takes the lock itself when you have not, but a use case that reads prices or balances
   must hold it before reading them.
3. Build the value and post it::

       from erp.posting import Line, Posting, post

       posted = post(session, Posting(
           company_id=company_id, posting_date=invoice_date, user_id=actor.user_id,
           source_type="supplier_invoice", source_id=invoice.id,
           memo=narrate("supplier-invoice-number", number=number),  # erp.narration: read in any language
           journal=[Line(GRNI, net), Line(INPUT_VAT, vat), Line(PAYABLES, -(net + vat))],
       ))
       posted.entry_id  # the journal entry written (None if every line was zero)

   For stock, add a ``Document(doc_type=...)`` and ``Movement`` rows (signed quantity and
   value at standard); stock going out must come from balances you locked with
   ``erp.posting.stock.lock_balances`` and split with ``value_taken``; a use case of several
   places (lines, both ends of a move) locks them all first with one
   ``erp.posting.stock.lock_stock`` (the global lock order: that module's docstring). The
   entry's source is then the document.
4. ``post`` refuses ``PeriodClosed``; it raises ``UnbalancedEntry`` when your lines do not
   sum to zero or are not cents: that is a bug in your use case, not a user error.
   Corrections are new postings (negate the original's lines with ``negated_lines`` and set
   ``reverses_entry_id``); nothing is ever updated or deleted.

The use case's transaction commits or rolls back the whole posting: ``post`` never commits.
"""

from erp.posting.journal import entry_of_document, negated_lines
from erp.posting.periods import lock_open_period
from erp.posting.prices import price_for_posting, standard_price
from erp.posting.values import (
    STOCK_DOCUMENT,
    CloseEntries,
    Document,
    Line,
    Movement,
    Posted,
    Posting,
    Restatement,
)
from erp.posting.writer import portable_path, post, post_close_entries, post_restatement

__all__ = [
    "STOCK_DOCUMENT", "CloseEntries", "Document", "Line", "Movement", "Posted", "Posting", "Restatement",
    "entry_of_document", "lock_open_period", "negated_lines", "portable_path", "post", "post_close_entries",
    "post_restatement", "price_for_posting", "standard_price",
]
