"""The typed values that describe a posting. Build one, hand it to ``erp.posting.post``.

A posting is what one business event writes to the books, whole or not at all:

- ``Posting``: one event. Optionally a stock ``Document`` (the header) with its
  ``Movement`` rows (the stock ledger; balances and period totals follow from them), and
  optionally journal ``Line``s (one balanced entry). A receipt has both; a transfer has
  movements only; an invoice or a payment has journal lines only.
- ``Restatement`` and ``CloseEntries``: the month end's set-based postings, whose rows
  come from a query over thousands of balances or allocation lines instead of Python
  values (``post_restatement``, ``post_close_entries``).

Amounts are ``Decimal`` CNY already rounded half-up to the cent (``erp.money.round_money``);
quantities are ``Decimal`` in the material's unit, signed (in positive, out negative).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from erp.masterdata.models import MaterialType
from erp.posting.models import CloseClass, MovementType, StockStatus

ZERO = Decimal("0")
# The journal's source_type for entries of stock documents (their source_id is the document's id).
STOCK_DOCUMENT = "stock_document"


@dataclass(frozen=True)
class Line:
    """A journal line: a signed amount on an account (positive debits, negative credits),
    with the material or customer it concerns for subledger accounts (inventory and
    variance per material, receivables per customer). Zero lines are dropped."""

    account: str
    amount: Decimal
    material_id: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True)
class Movement:
    """One stock ledger row: a signed quantity and value at standard of a batch in a
    warehouse and status.

    ``close_class`` says how the month-end close treats it (receipt, consumption, inflow,
    internal, revaluation); ``variance_carried`` is what the row adds to the variance the
    stock carries on the material cost variance account (材料成本差异): a receipt's purchase
    price variance (contract value - standard value; negated on its reversal or return), or
    a restatement's counterpart on revaluation rows; zero on every other row (consumption
    takes its share only at the close, as allocated variance). ``offset_account`` is where
    consumption went (the account the close allocates variance to). The ledger's column is
    ``stock_movements.variance``."""

    movement_type: MovementType
    close_class: CloseClass
    warehouse_id: int
    material_id: int
    batch_id: int
    status: StockStatus
    quantity: Decimal
    value: Decimal
    variance_carried: Decimal = ZERO
    offset_account: str | None = None

    @property
    def moves_balance(self) -> bool:
        """Whether the row changes its stock balance: a value-only row (quantity 0, value 0,
        a price difference on ``variance``) does not, and leaves the balance untouched."""
        return self.quantity != 0 or self.value != 0


@dataclass(frozen=True)
class Document:
    """The header of a stock document; the fields a document type does not use stay None.

    Receipts and returns: the order line, supplier, contract price (``unit_price``), the
    standard it was valued at, delivery note. Shipments: customer and sales reference.
    Issues: destination and cost centre. Adjustments and corrections: the reason.
    Reversals point at what they reverse (``reverses_document_id``, unique: a document is
    reversed at most once); returns at their receipt (``source_document_id``). Price
    differences: the supplier invoice or credit memo they come from (``supplier_invoice_id``)."""

    doc_type: MovementType
    po_line_id: int | None = None
    supplier_id: int | None = None
    unit_price: Decimal | None = None
    standard_price: Decimal | None = None
    delivery_note: str | None = None
    customer_id: int | None = None
    reference: str | None = None
    destination: str | None = None
    cost_center: str | None = None
    reason: str | None = None
    reverses_document_id: int | None = None
    source_document_id: int | None = None
    supplier_invoice_id: int | None = None


@dataclass(frozen=True)
class Posting:
    """One business event's postings, dated ``posting_date`` in ``company_id``'s books.

    With a ``document``, the movements are its ledger rows and the journal entry's source
    is the document (``stock_document``, its id). Without one, ``source_type`` and
    ``source_id`` name what the entry is for (``invoice``/invoice id, ``payment``/payment
    id, ...). ``reverses_entry_id`` links a reversal's entry to the entry it reverses.
    """

    company_id: int
    posting_date: dt.date
    user_id: int | None
    document: Document | None = None
    movements: Sequence[Movement] = ()
    journal: Sequence[Line] = ()
    memo: str = ""
    source_type: str = STOCK_DOCUMENT
    source_id: int | None = None
    reverses_entry_id: int | None = None


@dataclass(frozen=True)
class Posted:
    """What a posting wrote: the stock document's id and the journal entry's id (None
    where it wrote none). ``post`` also gives what a caller needs to show the document
    without reading it back: its ledger rows' ids (in the posting's order of movements),
    the instant it stamped on every row and the journal lines it wrote (zero lines
    dropped, in the order written); set-based postings leave them empty."""

    document_id: int | None
    entry_id: int | None
    movement_ids: tuple[int, ...] = ()
    created_at: dt.datetime | None = None
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Restatement:
    """Restate balances at new standard prices, set-based (``post_restatement``).

    ``differences`` is a subquery over stock balances with the columns company_id,
    warehouse_id, material_id, batch_id, status, ``value`` (what the stock is worth now)
    and ``target`` (quantity x the new standard); each row becomes a revaluation ledger row
    of ``target - value`` (quantity zero, the opposite on ``variance``), the balance takes
    the difference, and one journal entry moves the total per material between the
    material's inventory account (``inventory_accounts`` by material type) and
    ``variance_account``. Dated ``posting_date``; the caller holds the periods from
    there on exclusively (``erp.posting.periods.lock_periods_from``)."""

    company_id: int
    posting_date: dt.date
    user_id: int
    differences: Any
    inventory_accounts: Mapping[MaterialType, str]
    variance_account: str
    reason: str
    memo: str


@dataclass(frozen=True)
class CloseEntries:
    """One journal entry per company from a query (``post_close_entries``): the month-end
    close's variance allocation for a whole group.

    ``lines`` selects (company_id, account_code, amount, material_id) rows; every company
    in it gets one entry dated ``entry_date`` with ``source_type`` and ``memo``, and the
    entries must balance (checked in the database after the insert). ``companies``, when
    given, selects the company ids with lines more cheaply than from ``lines`` itself. The
    caller holds the companies' periods (the close holds them exclusively)."""

    entry_date: dt.date
    user_id: int
    source_type: str
    memo: str
    lines: Any
    companies: Any = None
