"""Bulk postings: one posting of thousands of ledger rows (opening stock taken over at
go-live), written set-based.

``post`` is made for the few rows of a receipt: on PostgreSQL it writes a posting in one
statement built per shape (how many rows), which for 2,000 rows would be a statement of
tens of thousands of parameters compiled once and never reused; its portable path writes
each balance with its own upsert. A bulk posting instead sends every column of a table as
one array and writes each table with one ``INSERT ... SELECT ... FROM unnest(...)``: the
document, the ledger rows, the balances (one upsert), the period totals (one upsert), the
journal entry and its lines. So is the set-up of such a posting: the standard prices in
force for many materials (one query after the period lock), and the batches (one insert of
the new ones, one query for all).

The rows written are exactly those ``post`` writes for the same ``Posting`` (built by the
same description, ``writer._describe``, and the same arithmetic for balances and totals):
tests/service/test_posting_paths.py compares them row by row. On SQLite (the demo) these
functions fall back to the per-row ones.

Only stock coming in: a bulk posting that would take stock out of a balance is refused
(``ValueError``, a bug of the caller): outflows need the caller's row locks and checks,
which only ``post`` takes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, Text, any_, bindparam, cast, column, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from erp.db import is_postgres, utcnow
from erp.posting.models import NO_BATCH, Batch, StandardPrice
from erp.posting.periods import holds_open, lock_open_period
from erp.posting.stock import find_or_create_batch
from erp.posting.values import ZERO, Document, Line, Movement, Posted, Posting
from erp.posting.writer import (
    _BALANCES,
    _LINES,
    _MOVEMENTS,
    _TOTALS,
    BALANCE_COLUMNS,
    BALANCE_KEY,
    LINE_COLUMNS,
    MOVEMENT_COLUMNS,
    TOTALS_COLUMNS,
    TOTALS_KEY,
    _balance_after,
    _describe,
    _insert_document,
    _portable_statements,
    _totals_after,
    _values,
    _write_totals,
    in_lock_order,
    post,
)

_BATCHES = Batch.__table__
BatchKey = tuple[int, str]


_ARRAY_TYPES: dict[tuple[str, str], Any] = {}


def _array_of(table: Table, name: str) -> Any:
    """The array type of a column, made once (a type made anew each time is adapted anew)."""
    key = (table.name, name)
    if key not in _ARRAY_TYPES:
        _ARRAY_TYPES[key] = postgresql.ARRAY(table.c[name].type)
    return _ARRAY_TYPES[key]


def _element(value: Any) -> str:
    """One element of a PostgreSQL array literal (text in double quotes, escaped)."""
    if value is None:
        return "NULL"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"a naive timestamp cannot be posted: {value}")
        return f'"{value.isoformat()}"'
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(values: Sequence[Any]) -> str:
    """A column's values as a PostgreSQL array literal, ``{1,NULL,"text"}``: one text
    parameter the server parses, instead of an array the driver builds element by element
    (which costs more than the statement's whole server time)."""
    kinds = {type(v) for v in values} - {type(None)}
    if kinds <= {int, Decimal}:  # most columns: keys, quantities and amounts
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join(map(_element, values)) + "}"


def _arrays(table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], *first: Any) -> Any:
    """``SELECT *first, * FROM unnest(:a, :b, ...)``: each column's values as one typed array."""
    arrays = [cast(bindparam(f"a_{name}", _literal([row[name] for row in rows]), type_=Text()),
                   _array_of(table, name)) for name in columns]
    unnested = (func.unnest(*arrays).table_valued(*(column(name, table.c[name].type) for name in columns))
                .render_derived())
    return select(*first, *(unnested.c[name] for name in columns))


def standard_prices_for_posting(
    session: Session, company_id: int, material_ids: Sequence[int], posting_date: dt.date
) -> tuple[str, dict[int, Decimal]]:
    """For a bulk stock posting: lock its period open, then read the standard prices in
    force of many materials in one query; returns (period, {material_id: price}). A material
    without a price is left out (the caller reports it). Refuses ``PeriodClosed``.

    As ``price_for_posting``: the prices are read by a statement begun after the lock."""
    period = lock_open_period(session, company_id, posting_date)
    wanted = sorted(set(material_ids))
    if not wanted:
        return period, {}
    sp = StandardPrice
    materials = (sp.material_id == any_(bindparam("ids", wanted, type_=postgresql.ARRAY(sp.material_id.type)))
                 if is_postgres(session) else sp.material_id.in_(wanted))
    latest = (select(sp.material_id, func.max(sp.period).label("since"))
              .where(sp.company_id == company_id, sp.period <= period, materials)
              .group_by(sp.material_id).subquery("latest"))
    rows = session.execute(
        select(sp.material_id, sp.price)
        .join(latest, (latest.c.material_id == sp.material_id) & (latest.c.since == sp.period))
        .where(sp.company_id == company_id))
    return period, {material_id: price for material_id, price in rows}


def find_or_create_batches(
    session: Session, batches: Sequence[tuple[int, str | None, dt.date | None, dt.date | None]]
) -> dict[BatchKey, tuple[int, dt.date | None, dt.date | None]]:
    """The ids and recorded dates of many batches, (material_id, batch_number or None,
    manufacture_date, expiry_date) each, creating those that are new; keyed by
    (material_id, batch number, ``NO_BATCH`` for stock without one). A batch already known
    keeps its recorded dates (the caller compares them); a batch named twice with other
    dates is created with the first."""
    wanted: dict[BatchKey, tuple[dt.date | None, dt.date | None]] = {}
    for material_id, number, made, expires in batches:
        wanted.setdefault((material_id, number if number is not None else NO_BATCH), (made, expires))
    if not is_postgres(session):
        return {key: find_or_create_batch(session, material_id=key[0], batch_number=None if key[1] == NO_BATCH
                                          else key[1], manufacture_date=made, expiry_date=expires, supplier_id=None)
                for key, (made, expires) in wanted.items()}
    keys = sorted(wanted)
    now = utcnow()
    rows = [{"material_id": m, "batch_number": n, "manufacture_date": wanted[(m, n)][0],
             "expiry_date": wanted[(m, n)][1], "created_at": now} for m, n in keys]
    columns = ["material_id", "batch_number", "manufacture_date", "expiry_date", "created_at"]
    session.execute(postgresql.insert(_BATCHES).from_select(columns, _arrays(_BATCHES, columns, rows))
                    .on_conflict_do_nothing(index_elements=["material_id", "batch_number"]))
    named = _arrays(_BATCHES, ["material_id", "batch_number"], rows).subquery("named")
    found = session.execute(
        select(_BATCHES.c.id, _BATCHES.c.material_id, _BATCHES.c.batch_number, _BATCHES.c.manufacture_date,
               _BATCHES.c.expiry_date)
        .join(named, (named.c.material_id == _BATCHES.c.material_id)
              & (named.c.batch_number == _BATCHES.c.batch_number)))
    return {(r.material_id, r.batch_number): (r.id, r.manufacture_date, r.expiry_date) for r in found}


def post_bulk(session: Session, posting: Posting) -> Posted:
    """Write one posting of many rows of stock coming in, set-based, in the caller's
    transaction; the same rows, refusals and return value as ``post``.

    Refuses ``PeriodClosed``; raises ``UnbalancedEntry`` (the caller's lines) and
    ``ValueError`` when a movement would take stock out of a balance (use ``post``)."""
    if not is_postgres(session):
        return post(session, posting)
    rows = _describe(posting)
    if any(outflow for outflow, _ in rows.balances):
        raise ValueError("a bulk posting only brings stock in; stock going out is posted with post()")
    if not rows.movements and rows.entry is None and rows.document is None:
        return Posted(None, None)
    if not holds_open(session, rows.company_id, rows.period):
        lock_open_period(session, rows.company_id, posting.posting_date)
    document_id = _insert_document(session, rows.document) if rows.document is not None else None
    _write_movements_and_balances(session, document_id, rows)
    entry_id = None
    if rows.entry is not None:
        entry = {**rows.entry, "source_id": document_id} if document_id is not None else rows.entry
        entry_id = session.connection().execute(_portable_statements(session)["entry"],
                                                _values("e", entry)).scalar_one()
        session.execute(insert(_LINES).from_select(
            ["entry_id", *LINE_COLUMNS],
            _arrays(_LINES, LINE_COLUMNS, rows.lines, literal(entry_id, _LINES.c.entry_id.type))))
    # After the balances, always: postings lock balance rows first, then totals.
    if rows.totals:
        upsert = postgresql.insert(_TOTALS).from_select(TOTALS_COLUMNS, _arrays(_TOTALS, TOTALS_COLUMNS, rows.totals))
        session.execute(upsert.on_conflict_do_update(index_elements=TOTALS_KEY, set_=_totals_after(upsert.excluded)))
    return Posted(document_id, entry_id)


class BulkPosting:
    """One posting of very many rows of stock coming in, written in parts in the caller's
    transaction: the document once, the ledger rows part by part (``add``), then the
    balances (one upsert of the document's ledger rows summed, in the lock order), the period
    totals and the journal entry once for the whole (``finish``). No balance row is locked
    before ``finish``, and then all of them in one statement: written part by part, the
    parts' rows were locked in the file's order, which could deadlock with a posting
    locking the same rows in the lock order (``_write_balances_of_document``).

    A posting made of one ``post_bulk`` per part would write a journal entry, its lines and
    the period totals again for every part: for opening stock three lines per material, so
    100,000 rows taken over in 2,000-row parts over 5,000 materials wrote 300,000 journal
    lines instead of 15,000. The rows written equal those of ``post`` (or ``post_bulk``)
    for the whole posting at once: tests/service/test_posting_bulk.py compares them. As
    ``post_bulk``: only stock coming in (``ValueError`` otherwise), and on SQLite each part
    goes through ``post``'s portable path."""

    def __init__(self, session: Session, *, company_id: int, posting_date: dt.date, user_id: int,
                 document: Document, memo: str) -> None:
        self.session = session
        self.header = Posting(company_id=company_id, posting_date=posting_date, user_id=user_id, document=document,
                              movements=[], journal=[], memo=memo)
        self.document_id: int | None = None
        # The period totals of every part, summed: (material, close class, account) -> amounts.
        self.totals: dict[tuple[Any, ...], list[Decimal]] = {}
        self.balances_due = False  # ledger rows written whose balances are not (PostgreSQL)

    def add(self, movements: Sequence[Movement]) -> None:
        """Write ledger rows of the posting (on SQLite, and add them to their balances:
        writers are serialised there; on PostgreSQL ``finish`` adds them)."""
        rows = _describe(dataclasses.replace(self.header, movements=list(movements)))
        if any(outflow for outflow, _ in rows.balances):
            raise ValueError("a bulk posting only brings stock in; stock going out is posted with post()")
        if not rows.movements:
            return
        self._hold_period(rows.period)
        if self.document_id is None:
            assert rows.document is not None
            self.document_id = _insert_document(self.session, rows.document)
        if not is_postgres(self.session):
            statements, connection = _portable_statements(self.session), self.session.connection()
            connection.execute(statements["movements"], [_values("m", {**row, "document_id": self.document_id})
                                                         for row in rows.movements])
            for _, change in rows.balances:
                connection.execute(statements["add"], _values("b", change))
        else:
            # The ledger rows only: the balances are written once, in ``finish``.
            _write_movements_and_balances(self.session, self.document_id, rows, balances=False)
            self.balances_due = True
        for total in rows.totals:
            key = tuple(total[k] for k in TOTALS_KEY)
            amounts = self.totals.setdefault(key, [ZERO, ZERO, ZERO])
            amounts[0] += total["quantity"]
            amounts[1] += total["value"]
            amounts[2] += total["variance"]

    def finish(self, journal: Sequence[Line]) -> Posted:
        """Write the balances and period totals of every part and the posting's journal
        entry (its lines balanced, zero lines dropped); returns the document and entry
        written."""
        rows = _describe(dataclasses.replace(self.header, journal=list(journal)))
        if self.document_id is None and rows.entry is None:
            return Posted(None, None)
        self._hold_period(rows.period)
        if self.document_id is None:
            assert rows.document is not None
            self.document_id = _insert_document(self.session, rows.document)
        if self.balances_due:
            _write_balances_of_document(self.session, self.document_id)
            self.balances_due = False
        entry_id = None
        if rows.entry is not None:
            entry = {**rows.entry, "source_id": self.document_id}
            entry_id = self.session.connection().execute(_portable_statements(self.session)["entry"],
                                                         _values("e", entry)).scalar_one()
            if is_postgres(self.session):
                self.session.execute(insert(_LINES).from_select(
                    ["entry_id", *LINE_COLUMNS],
                    _arrays(_LINES, LINE_COLUMNS, rows.lines, literal(entry_id, _LINES.c.entry_id.type))))
            else:
                self.session.connection().execute(_portable_statements(self.session)["lines"], [
                    _values("l", {**line, "entry_id": entry_id}) for line in rows.lines])
        # After the balances, always: postings lock balance rows first, then totals.
        totals = [dict(zip(TOTALS_KEY, key), quantity=q, value=v, variance=var)
                  for key, (q, v, var) in sorted(self.totals.items())]
        if totals and is_postgres(self.session):
            upsert = postgresql.insert(_TOTALS).from_select(TOTALS_COLUMNS, _arrays(_TOTALS, TOTALS_COLUMNS, totals))
            self.session.execute(upsert.on_conflict_do_update(index_elements=TOTALS_KEY,
                                                              set_=_totals_after(upsert.excluded)))
        elif totals:
            _write_totals(self.session, totals)
        self.totals = {}
        return Posted(self.document_id, entry_id)

    def _hold_period(self, period: str) -> None:
        if not holds_open(self.session, self.header.company_id, period):
            lock_open_period(self.session, self.header.company_id, self.header.posting_date)


def _write_movements_and_balances(session: Session, document_id: int | None, rows: Any, *,
                                  balances: bool = True) -> None:
    """The ledger rows and (unless not ``balances``) the balances of a described posting of
    stock coming in, one statement each (PostgreSQL)."""
    if rows.movements:
        session.execute(insert(_MOVEMENTS).from_select(
            ["document_id", *MOVEMENT_COLUMNS],
            _arrays(_MOVEMENTS, MOVEMENT_COLUMNS, rows.movements, literal(document_id, _MOVEMENTS.c.document_id.type))))
    if rows.balances and balances:
        # In the lock order every posting keeps (erp.posting.stock; writer.in_lock_order).
        changes = [change for _, change in rows.balances]
        upsert = postgresql.insert(_BALANCES).from_select(
            BALANCE_COLUMNS, in_lock_order(_arrays(_BALANCES, BALANCE_COLUMNS, changes).subquery("inflows")))
        session.execute(upsert.on_conflict_do_update(index_elements=BALANCE_KEY,
                                                     set_=_balance_after(upsert.excluded)))


def _write_balances_of_document(session: Session, document_id: int) -> None:
    """Add a document's ledger rows to their balances in one statement (PostgreSQL): one
    INSERT ... SELECT of the rows summed per balance, in the lock order (``in_lock_order``),
    ... ON CONFLICT DO UPDATE. As ``_describe`` sums them: a balance moved by none of its
    rows (value-only rows) is left alone.

    Once for the whole posting, not part by part: in parts, each part's rows were locked in
    the lock order, but the parts in the file's order, so a posting of two parts adding to
    balance LATE, then EARLY, held LATE and waited on EARLY while an issue taking EARLY then
    LATE (first expiry first) held EARLY and waited on LATE: a deadlock
    (tests/service/test_posting_locks.py, opening stock at go-live)."""
    m = _MOVEMENTS.c
    summed = (
        select(m.company_id.label("company_id"), *(m[k].label(k) for k in BALANCE_KEY),
               func.sum(m.quantity).label("quantity"), func.sum(m.value).label("value"),
               func.max(m.posting_date).label("last_posting_date"))
        .where(m.document_id == document_id)
        .group_by(m.company_id, *(m[k] for k in BALANCE_KEY))
        .having(func.bool_or(or_(m.quantity != 0, m.value != 0)))
        .subquery("inflows")
    )
    upsert = postgresql.insert(_BALANCES).from_select(BALANCE_COLUMNS, in_lock_order(summed))
    session.execute(upsert.on_conflict_do_update(index_elements=BALANCE_KEY, set_=_balance_after(upsert.excluded)))


__all__ = ["BulkPosting", "find_or_create_batches", "post_bulk", "standard_prices_for_posting"]
