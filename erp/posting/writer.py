"""Writing postings: the one place that inserts into the stock ledger and the journal and
changes stock balances and period totals.

``post`` turns a ``Posting`` into a description of every row it writes (``_describe``:
the document header, ledger rows, balance changes, journal entry and lines, period
totals, each a dict keyed by column name), then writes that description by one of two
paths built from the same statement pieces:

- the fast path (PostgreSQL): one statement, data-modifying CTEs, because on a server
  every round trip costs; built once per shape of posting (which document columns it
  fills, how many ledger rows, which balance changes take stock out, how many journal
  lines) and reused with bound values, short enough for psycopg to keep its parsing;
- the portable path (SQLite, or PostgreSQL under ``portable_path()``): the same rows,
  one statement per table, in the same order.

The arithmetic a balance or period total takes (add the change, keep the column's scale,
keep the latest posting date) is written once, in ``_balance_after`` and
``_totals_after``, and used by both paths; parameters are named by prefix and column
(``_named``/``_values``), so no path builds its own keys. tests/service/test_posting_paths.py
posts the same documents through both paths and compares every row.

Rules enforced here, for every posting:

- the journal entry balances and its amounts are cents (``balanced_lines``), or nothing
  is written (``UnbalancedEntry``, a bug in the caller);
- the posting's period is held open (key share on its row) before anything is written:
  callers that read prices lock it first (``price_for_posting``), ``post`` locks it
  itself when they have not;
- lock order: the period row, then balance rows (outflows were locked by the caller,
  every place of the use case in one ``erp.posting.stock.lock_stock``; inflows are locked
  or inserted by one upsert, its rows in that same order, ``in_lock_order``, whatever the
  order of the caller's lines), then period totals in key order; two postings never wait
  on each other in opposite orders (the global order: erp.posting.stock);
- immutability: ledger rows and journal lines are only ever inserted (database triggers
  refuse UPDATE and DELETE on the ledger); corrections are new postings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import Sequence as KeySequence
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import String

from erp.clock import refuse_after_business_day
from erp.db import UTCDateTime, dialect_insert, is_postgres, utcnow
from erp.masterdata.models import Material
from erp.messages import N_
from erp.period import Period
from erp.posting.errors import UnbalancedEntry
from erp.posting.journal import balanced_lines
from erp.posting.models import (
    DOCUMENT_PREFIXES,
    NUMBER_DIGITS,
    Batch,
    CloseClass,
    JournalEntry,
    JournalLine,
    MovementType,
    PeriodMovementTotal,
    StockBalance,
    StockDocument,
    StockMovement,
    document_number,
)
from erp.posting.periods import holds_open, latest_closed_period, lock_open_period
from erp.posting.values import (
    STOCK_DOCUMENT,
    ZERO,
    CloseEntries,
    Document,
    Line,
    Movement,
    Posted,
    Posting,
    Restatement,
)

_DOCUMENTS = StockDocument.__table__
_MOVEMENTS = StockMovement.__table__
_BALANCES = StockBalance.__table__
_TOTALS = PeriodMovementTotal.__table__
_ENTRIES = JournalEntry.__table__
_LINES = JournalLine.__table__
_BATCHES = Batch.__table__

# The document's key is drawn first, so that its number (GR-00000123) is made from it in
# the same INSERT (erp.posting.models.document_number).
DOCUMENT_COLUMNS = [c.name for c in _DOCUMENTS.c if c.name not in ("id", "number")]
MOVEMENT_COLUMNS = [c.name for c in _MOVEMENTS.c if c.name not in ("id", "document_id")]
BALANCE_KEY = ["warehouse_id", "material_id", "batch_id", "status"]
BALANCE_COLUMNS = ["company_id", *BALANCE_KEY, "quantity", "value", "last_posting_date"]
TOTALS_KEY = ["company_id", "period", "material_id", "close_class", "offset_account"]
TOTALS_COLUMNS = [*TOTALS_KEY, "quantity", "value", "variance"]
ENTRY_COLUMNS = ["company_id", "entry_date", "period", "source_type", "memo", "reverses_entry_id", "created_by",
                 "created_at"]
LINE_COLUMNS = ["company_id", "period", "account_code", "amount", "material_id", "customer_id"]

_FORCE_PORTABLE: ContextVar[bool] = ContextVar("erp_posting_force_portable", default=False)


@contextmanager
def portable_path() -> Iterator[None]:
    """Write postings by the portable path even on PostgreSQL (tests compare the paths)."""
    token = _FORCE_PORTABLE.set(True)
    try:
        yield
    finally:
        _FORCE_PORTABLE.reset(token)


# --- the arithmetic, once ------------------------------------------------------------------

def to_quantity(expression: Any) -> Any:
    """A stored quantity kept at its column's scale. A no-op on PostgreSQL's exact numeric;
    on SQLite, whose numbers are binary floats, it stops noise from piling up over many
    postings (4.001 built from 0.001 + 1 + 1 + 1 + 1 is stored as 4.00099999..., and taking
    the 4.001 on hand would leave a negative quantity)."""
    return func.round(expression, _SCALE_4)


def to_money(expression: Any) -> Any:
    """A stored value kept to the cent (see ``to_quantity``)."""
    return func.round(expression, _SCALE_2)


# The scales are constants of the SQL, not parameters: a bound value each would lengthen
# every statement that rounds (see _one_statement on why the posting's length counts).
_SCALE_4 = literal_column("4", Integer)
_SCALE_2 = literal_column("2", Integer)


def later_date(current: Any, new: Any) -> Any:
    """The later of a stored date (possibly NULL) and a new one, in portable SQL."""
    return case((current.is_(None), new), (current > new, current), else_=new)


def _balance_after(change: Any) -> dict[str, Any]:
    """A balance row's columns after ``change`` (a mapping of quantity, value and
    last_posting_date expressions: bound values, or an upsert's EXCLUDED row)."""
    b = _BALANCES.c
    return {"quantity": to_quantity(b.quantity + change["quantity"]),
            "value": to_money(b.value + change["value"]),
            "last_posting_date": later_date(b.last_posting_date, change["last_posting_date"])}


def _totals_after(change: Any) -> dict[str, Any]:
    """A period total's columns after ``change`` (see ``_balance_after``)."""
    t = _TOTALS.c
    return {"quantity": to_quantity(t.quantity + change["quantity"]),
            "value": to_money(t.value + change["value"]),
            "variance": to_money(t.variance + change["variance"])}


# --- parameters named by prefix and column ---------------------------------------------------

def _named(prefix: str, table: Any, columns: Sequence[str]) -> dict[str, Any]:
    """Typed bound parameters for one row of ``table``: column -> :prefix_column."""
    return {name: bindparam(f"{prefix}_{name}", type_=table.c[name].type) for name in columns}


def _values(prefix: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The values of one described row for the parameters ``_named(prefix, ...)`` made."""
    return {f"{prefix}_{name}": value for name, value in row.items()}


# --- statement pieces, shared by both paths ------------------------------------------------------

def _take_from_balance(change: Mapping[str, Any]) -> Any:
    """UPDATE of a balance the caller has locked: stock going out. (An upsert would not do:
    the database checks quantity >= 0 on the proposed new row before it sees the conflict
    with the existing one.)"""
    return (update(_BALANCES).where(*(_BALANCES.c[k] == change[k] for k in BALANCE_KEY))
            .values(_balance_after(change)))


def _add_to_balance(insert_into: Any, change: Mapping[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE of a balance: stock coming in."""
    upsert = insert_into(_BALANCES).values(change)
    return upsert.on_conflict_do_update(index_elements=BALANCE_KEY, set_=_balance_after(upsert.excluded))


def _add_rows_to_balances(changes: list[dict[str, Any]]) -> Any:
    """``_add_to_balance`` of several rows, for the one statement: INSERT ... SELECT ...
    ORDER BY (``in_lock_order``) ... ON CONFLICT DO UPDATE."""
    rows = union_all(*(select(*(value.label(name) for name, value in change.items())) for change in changes))
    upsert = postgresql.insert(_BALANCES).from_select(BALANCE_COLUMNS, in_lock_order(rows.subquery("inflows")))
    return upsert.on_conflict_do_update(index_elements=BALANCE_KEY, set_=_balance_after(upsert.excluded))


def in_lock_order(rows: Any) -> Any:
    """SELECT the balance changes ``rows`` (a subquery of ``BALANCE_COLUMNS``) in the order
    balances are locked in (``erp.posting.stock._LOCK_ORDER``: warehouse, material, status,
    first expiry first, then batch), for an INSERT ... ON CONFLICT that locks or inserts them
    one by one in that order: the order ``lock_stock`` locks existing rows in, so a posting
    adding to rows and one taking from them (or adding in another order) never wait on each
    other in opposite orders. Sorting by batch id alone would not do: batches of a material
    do not expire in the order they were made."""
    return (select(*(rows.c[name] for name in BALANCE_COLUMNS))
            .join_from(rows, _BATCHES, _BATCHES.c.id == rows.c.batch_id)
            .order_by(*lock_order(rows.c, _BATCHES.c)))


def lock_order(balances: Any, batches: Any) -> tuple[Any, ...]:
    """The one order stock balances are locked and written in, as ORDER BY terms over
    ``balances`` (anything with warehouse_id, material_id and status: the balance table, or
    a posting's inflows) joined to their batches' ``batches`` (expiry_date, id): warehouse,
    material, status, first expiry first (no expiry last), then the batch. The only place it
    is written: ``erp.posting.stock._LOCK_ORDER`` (what ``lock_stock`` and ``lock_balances``
    lock in) and ``in_lock_order`` (what a posting's inflows are written in) are both made
    from it, so the two cannot drift apart."""
    return (balances.warehouse_id, balances.material_id, balances.status, batches.expiry_date.asc().nulls_last(),
            batches.id)


def _add_to_totals(insert_into: Any) -> Any:
    upsert = insert_into(_TOTALS).values(_named("t", _TOTALS, TOTALS_COLUMNS))
    return upsert.on_conflict_do_update(index_elements=TOTALS_KEY, set_=_totals_after(upsert.excluded))


_DOCUMENT_IDS = KeySequence("stock_documents_id_seq")  # the key column's own sequence (named, not bound)
_NEXT_DOCUMENT_ID = {
    "postgresql": select(_DOCUMENT_IDS.next_value()),
    "sqlite": select(func.coalesce(func.max(_DOCUMENTS.c.id), 0) + 1),  # writers are serialised
}


class numbered(FunctionElement[str]):
    """PostgreSQL for ``document_number``: a prefix, a dash and the key padded to eight
    digits (never truncated), for the statement that numbers a document as it inserts it."""

    type = String()
    inherit_cache = True


@compiles(numbered, "postgresql")
def _numbered_postgresql(element: numbered, compiler: Any, **kw: Any) -> str:
    prefix, key = (compiler.process(arg, **kw) for arg in element.clauses)
    digits = f"CAST({key} AS TEXT)"
    return f"({prefix} || '-' || lpad({digits}, greatest({NUMBER_DIGITS}, length({digits})), '0'))"


def _insert_document(session: Session, document: Mapping[str, Any]) -> int:
    """The portable way to write a document header: draw its key, number it, insert it."""
    connection = session.connection()
    document_id = int(connection.execute(_NEXT_DOCUMENT_ID[connection.dialect.name]).scalar_one())
    row = {**document, "id": document_id, "number": document_number(document["doc_type"], document_id)}
    connection.execute(_portable_statements(session)["document"], _values("d", row))
    return document_id


# --- the description ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rows:
    """Every row one posting writes, keyed by column; ids that the database assigns
    (the document's, the entry's) are filled in by the path that writes them."""

    company_id: int
    period: str
    posting_date: dt.date
    user_id: int
    created_at: dt.datetime
    document: dict[str, Any] | None
    movements: list[dict[str, Any]]
    balances: list[tuple[bool, dict[str, Any]]]  # (takes stock out, balance change)
    entry: dict[str, Any] | None
    lines: list[dict[str, Any]]
    totals: list[dict[str, Any]]
    written_lines: tuple[Line, ...] = ()  # the journal lines as the caller gave them, zero lines dropped


BalanceKey = tuple[int, int, int, str]


def balance_changes(movements: Sequence[Movement]) -> dict[BalanceKey, tuple[Decimal, Decimal]]:
    """The net change the movements make to each balance row (a document may move the
    same row twice, e.g. goods put back and restated; a row is changed once)."""
    changes: dict[BalanceKey, tuple[Decimal, Decimal]] = {}
    for m in movements:
        key = (m.warehouse_id, m.material_id, m.batch_id, m.status)
        quantity, value = changes.get(key, (ZERO, ZERO))
        changes[key] = (quantity + m.quantity, value + m.value)
    return changes


def period_total_changes(movements: Sequence[Movement]) -> dict[tuple[int, str, str], tuple[Decimal, Decimal, Decimal]]:
    """The change to the period's totals per (material, close class, account); internal
    moves are left out, they net to zero within the company."""
    totals: dict[tuple[int, str, str], tuple[Decimal, Decimal, Decimal]] = {}
    for m in movements:
        if m.close_class == CloseClass.INTERNAL:
            continue
        key = (m.material_id, m.close_class.value, m.offset_account or "")
        quantity, value, variance_carried = totals.get(key, (ZERO, ZERO, ZERO))
        totals[key] = (quantity + m.quantity, value + m.value, variance_carried + m.variance_carried)
    return totals


def _write_order(change: tuple[BalanceKey, tuple[Decimal, Decimal]]) -> tuple[Any, ...]:
    """Outflows first, then inflows; each by warehouse, material, status, batch: the order
    the portable path writes in (on PostgreSQL only under ``portable_path()``, in tests; the
    one statement sorts its inflows by ``in_lock_order``, first expiry before the batch)."""
    (warehouse_id, material_id, batch_id, status), (quantity, _) = change
    return (quantity >= 0, warehouse_id, material_id, status, batch_id)


def _describe(posting: Posting) -> _Rows:
    if posting.movements and posting.document is None:
        raise TypeError("stock movements need a stock document")
    company_id, day, user_id = posting.company_id, posting.posting_date, posting.user_id
    period = Period.of(day)
    now = utcnow()
    document = None
    if posting.document is not None:
        document = dict(vars(posting.document))  # its fields, by name (a plain dataclass: no slots)
        document.update(company_id=company_id, posting_date=day, period=period, created_by=user_id, created_at=now)
    movements = [
        {"movement_type": m.movement_type, "close_class": m.close_class, "company_id": company_id,
         "warehouse_id": m.warehouse_id, "material_id": m.material_id, "batch_id": m.batch_id, "status": m.status,
         "quantity": m.quantity, "value": m.value, "variance": m.variance_carried, "offset_account": m.offset_account,
         "posting_date": day, "period": period, "created_by": user_id, "created_at": now}
        for m in posting.movements
    ]
    # A value-only row (quantity 0, value 0: a supplier invoice's price difference, carried
    # on variance) leaves its balance alone: not even its last posting date, which says
    # when the stock last moved (the stock list's "since"), nor its lock.
    moved = {(m.warehouse_id, m.material_id, m.batch_id, m.status) for m in posting.movements if m.moves_balance}
    # In one order whatever the order of the caller's lines: outflows (rows the caller has
    # locked), then inflows by balance key (the portable path writes them in this order; the
    # one statement sorts them in the lock order, see _one_statement).
    balances = [
        (quantity < 0, {"company_id": company_id, "warehouse_id": warehouse_id, "material_id": material_id,
                        "batch_id": batch_id, "status": status, "quantity": quantity, "value": value,
                        "last_posting_date": day})
        for (warehouse_id, material_id, batch_id, status), (quantity, value)
        in sorted(balance_changes(posting.movements).items(), key=_write_order)
        if (warehouse_id, material_id, batch_id, status) in moved
    ]
    lines = balanced_lines(posting.journal)
    entry = None
    if lines:
        entry = {"company_id": company_id, "entry_date": day, "period": period,
                 "source_type": STOCK_DOCUMENT if document is not None else posting.source_type,
                 "memo": posting.memo[:300], "reverses_entry_id": posting.reverses_entry_id,
                 "created_by": user_id, "created_at": now}
        if document is None:
            entry["source_id"] = posting.source_id
    journal = [{"company_id": company_id, "period": period, "account_code": line.account, "amount": line.amount,
                "material_id": line.material_id, "customer_id": line.customer_id} for line in lines]
    totals = [
        {"company_id": company_id, "period": period, "material_id": material_id, "close_class": close_class,
         "offset_account": account, "quantity": quantity, "value": value, "variance": variance_carried}
        for (material_id, close_class, account), (quantity, value, variance_carried)
        in sorted(period_total_changes(posting.movements).items())
    ]
    return _Rows(company_id, period, day, user_id, now, document, movements, balances, entry, journal, totals,
                 tuple(lines))


# --- the one function ------------------------------------------------------------------------------

def post(session: Session, posting: Posting) -> Posted:
    """Write one posting whole, in the caller's transaction; returns the ids it wrote.

    Writes the stock document and its ledger rows, applies them to the stock balances and
    the period's totals, and writes one balanced journal entry (dropping zero lines; no
    entry when no line is left). Refuses ``PeriodClosed`` when the posting's period is
    closed (holding it open until commit if the caller has not already). Raises
    ``UnbalancedEntry`` (lines that do not sum to zero or are not cents) and
    ``LookupError`` (an outflow from a balance that does not exist): both are bugs of the
    caller, and nothing is written.

    Stock going out must come from balances the caller locked (``erp.posting.stock.lock_balances``,
    or every place of the use case at once with ``lock_stock``) and checked; the CHECK on
    ``stock_balances.quantity`` is the last line of defence against negative stock. Inflows
    are written in balance-key order whatever the order of the movements.
    """
    rows = _describe(posting)
    if not rows.movements and rows.entry is None and rows.document is None:
        return Posted(None, None)
    # Even when the caller already holds the period (locked for another date in it).
    refuse_after_business_day(posting.posting_date, field="posting_date", what=N_("a posting"))
    if not holds_open(session, rows.company_id, rows.period):
        lock_open_period(session, rows.company_id, posting.posting_date)
    if is_postgres(session) and not _FORCE_PORTABLE.get():
        posted = _write_in_one_statement(session, rows)
    else:
        posted = _write_statement_by_statement(session, rows)
    # After the balances, always: postings lock balance rows first, then totals.
    _write_totals(session, rows.totals)
    return posted


def _write_totals(session: Session, totals: list[dict[str, Any]]) -> None:
    if totals:
        session.connection().execute(_totals_statement(session), [_values("t", row) for row in totals])


_BY_DIALECT: dict[tuple[str, str], Any] = {}


def _per_dialect(session: Session, name: str, build: Any) -> Any:
    dialect = session.get_bind().dialect.name
    key = (dialect, name)
    if key not in _BY_DIALECT:
        _BY_DIALECT[key] = build(lambda table: dialect_insert(session, table))
    return _BY_DIALECT[key]


def _totals_statement(session: Session) -> Any:
    return _per_dialect(session, "totals", _add_to_totals)


def _portable_statements(session: Session) -> dict[str, Any]:
    def build(insert_into: Any) -> dict[str, Any]:
        return {
            "document": insert(_DOCUMENTS).values(_named("d", _DOCUMENTS, ["id", "number", *DOCUMENT_COLUMNS])),
            "movements": insert(_MOVEMENTS).values(_named("m", _MOVEMENTS, ["document_id", *MOVEMENT_COLUMNS]))
            .returning(_MOVEMENTS.c.id, sort_by_parameter_order=True),
            "take": _take_from_balance(_named("b", _BALANCES, BALANCE_COLUMNS)),
            "add": _add_to_balance(insert_into, _named("b", _BALANCES, BALANCE_COLUMNS)),
            "entry": insert(_ENTRIES).values(_named("e", _ENTRIES, [*ENTRY_COLUMNS, "source_id"]))
            .returning(_ENTRIES.c.id),
            "lines": insert(_LINES).values(_named("l", _LINES, ["entry_id", *LINE_COLUMNS])),
        }
    return _per_dialect(session, "portable", build)  # type: ignore[no-any-return]


def _write_statement_by_statement(session: Session, rows: _Rows) -> Posted:
    """The portable path: one statement per table, in the fast path's order."""
    statements = _portable_statements(session)
    connection = session.connection()
    document_id = None
    if rows.document is not None:
        document_id = _insert_document(session, rows.document)
    movement_ids: tuple[int, ...] = ()
    if rows.movements:
        movement_ids = tuple(connection.execute(
            statements["movements"],
            [_values("m", {**row, "document_id": document_id}) for row in rows.movements]).scalars())
    for outflow, change in rows.balances:
        if outflow:
            taken = connection.execute(statements["take"], _values("b", change))
            if taken.rowcount != 1:
                raise LookupError(f"no balance to take {change['quantity']} from: {change}")
        else:
            connection.execute(statements["add"], _values("b", change))
    entry_id = None
    if rows.entry is not None:
        entry = {**rows.entry, "source_id": document_id} if document_id is not None else rows.entry
        entry_id = connection.execute(statements["entry"], _values("e", entry)).scalar_one()
        connection.execute(statements["lines"], [_values("l", {**line, "entry_id": entry_id}) for line in rows.lines])
    return Posted(document_id, entry_id, movement_ids, rows.created_at, rows.written_lines)


def _write_in_one_statement(session: Session, rows: _Rows) -> Posted:
    """The fast path: the whole description in one PostgreSQL statement."""
    document = rows.document
    # The document's columns this posting leaves empty are not bound (see _one_statement).
    filled = tuple(name for name in DOCUMENT_COLUMNS if name not in _SHARED and document[name] is not None) \
        if document is not None else None
    shape = (filled, len(rows.movements), tuple(out for out, _ in rows.balances), len(rows.lines))
    params: dict[str, Any] = {"p_company_id": rows.company_id, "p_period": rows.period,
                              "p_posting_date": rows.posting_date, "p_created_by": rows.user_id,
                              "p_created_at": rows.created_at}
    if document is not None:
        params.update({f"d_{name}": document[name] for name in filled},
                      d_prefix=DOCUMENT_PREFIXES[document["doc_type"]])
    for i, row in enumerate(rows.movements):
        params.update(_own_values(f"m{i}", row))
    for k, (_, change) in enumerate(rows.balances):
        params.update(_own_values(f"b{k}", change))
    if rows.entry is not None:
        params.update(_own_values("e", rows.entry))
    for j, line in enumerate(rows.lines):
        params.update(_own_values(f"l{j}", line))
    result = session.connection().execute(_one_statement(*shape), params).one()
    document_id, entry_id, movement_ids, *taken = result
    if any(count != 1 for count in taken):
        raise LookupError(f"a movement out of stock found no balance to take from: {rows.balances}")
    return Posted(document_id, entry_id, tuple(movement_ids or ()), rows.created_at, rows.written_lines)


# The values every row of one posting repeats (_describe gives each row the posting's
# company, period, date, user and instant): in the one statement each is one parameter,
# :p_<column>, however many rows and tables take it.
_POSTING_DATE = bindparam("p_posting_date", type_=_DOCUMENTS.c.posting_date.type)
_SHARED = {
    "company_id": bindparam("p_company_id", type_=_DOCUMENTS.c.company_id.type),
    "period": bindparam("p_period", type_=_DOCUMENTS.c.period.type),
    "posting_date": _POSTING_DATE,
    "entry_date": _POSTING_DATE,
    "last_posting_date": _POSTING_DATE,
    "created_by": bindparam("p_created_by", type_=_DOCUMENTS.c.created_by.type),
    "created_at": bindparam("p_created_at", type_=_DOCUMENTS.c.created_at.type),
}


def _own_values(prefix: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """``_values`` for the one statement: a row's own columns (the shared ones are bound
    once, see ``_one_row``)."""
    return {f"{prefix}_{name}": value for name, value in row.items() if name not in _SHARED}


def _one_row(prefix: str, table: Any, columns: Sequence[str]) -> dict[str, Any]:
    """The parameters of one row in the one statement: ``_named``, but the posting-wide
    columns take the shared parameters."""
    return {name: _SHARED[name] if name in _SHARED else bindparam(f"{prefix}_{name}", type_=table.c[name].type)
            for name in columns}


def _insert_rows(table: Any, rows: list[dict[str, Any]]) -> Any:
    """The INSERT of ``rows`` (column -> expression, every row with the same columns) in the
    one statement, in their order: one row as a VALUES row, several as a UNION ALL of
    SELECTs (SQLAlchemy compiles a multi-row VALUES afresh on every execution: it does not
    cache it)."""
    if len(rows) == 1:
        return insert(table).values(rows[0])
    return insert(table).from_select(list(rows[0]), union_all(*(select(*row.values()) for row in rows)))


_ONE_STATEMENT: dict[tuple[Any, ...], Any] = {}


def _one_statement(document_filled: tuple[str, ...] | None, movement_count: int, outflows: tuple[bool, ...],
                   line_count: int) -> Any:
    """The PostgreSQL statement that writes a posting of this shape, built once per shape:
    which of the document's own columns it fills (None: no document), how many ledger rows,
    which balance changes take stock out, how many journal lines.

    Kept short on purpose: psycopg caches how it parses a statement's text only for
    statements of at most 4,096 bytes and 50 parameters (``psycopg._queries``), and parses
    a longer one afresh on every execution, in Python (about a thousand calls a receipt).
    So the posting-wide values are bound once (``_SHARED``), the document's columns this
    kind of document leaves empty are not written (NULL, their default, as the portable
    path writes them), a single ledger row or entry is a VALUES row (no SELECT labels),
    and constants are not parameters. A receipt's statement stays within both limits
    (tests/service/test_posting_paths.py)."""
    key = (document_filled, movement_count, outflows, line_count)
    if key in _ONE_STATEMENT:
        return _ONE_STATEMENT[key]
    ctes: list[Any] = []
    doc = None
    if document_filled is not None:
        columns = [name for name in DOCUMENT_COLUMNS if name in _SHARED or name in document_filled]
        new_key = select(_DOCUMENT_IDS.next_value().label("id")).subquery("new_key")
        doc = (postgresql.insert(_DOCUMENTS)
               .from_select(["id", "number", *columns],
                            select(new_key.c.id, numbered(bindparam("d_prefix", type_=String()), new_key.c.id),
                                   *_one_row("d", _DOCUMENTS, columns).values()))
               .returning(_DOCUMENTS.c.id).cte("doc"))
        ctes.append(doc)
    document_id = select(doc.c.id).scalar_subquery() if doc is not None else None
    ledger = None
    if movement_count:
        assert document_id is not None
        ledger = _insert_rows(_MOVEMENTS, [{"document_id": document_id, **_one_row(f"m{i}", _MOVEMENTS,
                                                                                 MOVEMENT_COLUMNS)}
                                           for i in range(movement_count)]).returning(_MOVEMENTS.c.id).cte("ledger")
        ctes.append(ledger)
    taken: list[Any] = []
    added: list[dict[str, Any]] = []
    for k, out in enumerate(outflows):
        change = _one_row(f"b{k}", _BALANCES, BALANCE_COLUMNS)
        if out:
            cte = _take_from_balance(change).returning(_BALANCES.c.id).cte(f"taken{k}")
            taken.append(cte)
            ctes.append(cte)
        else:
            added.append(change)
    if added:
        # All inflows in one INSERT ... ON CONFLICT, its rows sorted in the lock order
        # (in_lock_order): it locks or inserts them one by one in that order. One CTE per row
        # left the order to PostgreSQL, which runs the data-modifying CTEs a query does not
        # read last written first, so two postings adding to the same rows listed in opposite
        # order deadlocked (tests/service/test_posting_locks.py). One row stays a VALUES row:
        # a receipt's statement does not change.
        ctes.append(_add_to_balance(postgresql.insert, added[0]).cte("added") if len(added) == 1
                    else _add_rows_to_balances(added).cte("added"))
    entry = None
    if line_count:
        source_id = document_id if document_id is not None else bindparam("e_source_id",
                                                                           type_=_ENTRIES.c.source_id.type)
        entry = (insert(_ENTRIES).values(**_one_row("e", _ENTRIES, ENTRY_COLUMNS), source_id=source_id)
                 .returning(_ENTRIES.c.id).cte("entry"))
        entry_id = select(entry.c.id).scalar_subquery()
        ctes += [entry, _insert_rows(_LINES, [{"entry_id": entry_id, **_one_row(f"l{j}", _LINES, LINE_COLUMNS)}
                                              for j in range(line_count)]).cte("lines")]
    ids = [
        document_id if document_id is not None else null(),
        select(entry.c.id).scalar_subquery() if entry is not None else null(),
        # The ledger rows' ids, for the caller to show them without reading them back: the
        # key is drawn row by row in the order the rows are inserted, so by id is that order.
        select(func.array_agg(aggregate_order_by(ledger.c.id, ledger.c.id))).scalar_subquery()
        if ledger is not None else null(),
    ]
    statement = select(*ids, *(select(func.count()).select_from(t).scalar_subquery() for t in taken)).add_cte(*ctes)
    _ONE_STATEMENT[key] = statement
    return statement


# --- the month end's set-based postings -----------------------------------------------------------

def post_restatement(session: Session, restatement: Restatement) -> Posted | None:
    """Restate stock at new standard prices, set-based; returns what was written, or None
    when no balance differs (nothing is written then).

    One INSERT ... SELECT writes a revaluation ledger row per differing balance, one
    UPDATE adds to each balance exactly the difference its ledger row carries (so ledger
    and balance agree whatever else happened), the period totals take the document's rows,
    and one journal entry moves the difference per material between its inventory account
    and the variance account. The caller holds the periods from the restatement's on
    exclusively (``lock_periods_from``): no posting changes a balance meanwhile.

    And no earlier period may be open behind it (docs/costing.md: a period's stock is
    restated when its price is set if the previous period is closed, else by that period's
    close): the previous period is closed, or held by this transaction, the close of it
    (``lock_periods_for_close``; the close refuses while a period before it with postings
    is open). Else postings into the open earlier period, which hold only their own
    period, would change the balances while they are restated, and its close would
    restate the period's stock again. A caller that breaks this is a bug (RuntimeError).
    """
    r = restatement
    refuse_after_business_day(r.posting_date, field="posting_date", what=N_("a restatement"))
    period = Period.of(r.posting_date)
    if not holds_open(session, r.company_id, period):
        raise RuntimeError(f"a restatement of company {r.company_id} needs period {period} held (lock_periods_from)")
    previous = Period(period).previous()
    closed_through = latest_closed_period(session, r.company_id)
    if (closed_through is None or closed_through < previous) and not holds_open(session, r.company_id, previous):
        raise RuntimeError(f"a restatement of company {r.company_id} in {period} while {previous} is open: "
                           f"restated by {previous}'s close, not before")
    differing = r.differences
    if session.scalar(select(func.count()).select_from(differing)) == 0:
        return None
    statements = _portable_statements(session)
    connection = session.connection()
    now = utcnow()
    document = {f.name: None for f in fields(Document)}
    document.update(doc_type=MovementType.REVALUATION, company_id=r.company_id, posting_date=r.posting_date,
                    period=period, created_by=r.user_id, created_at=now, reason=r.reason)
    document_id = _insert_document(session, document)
    difference = differing.c.target - differing.c.value
    session.execute(
        insert(StockMovement).from_select(
            ["document_id", "movement_type", "close_class", "company_id", "warehouse_id", "material_id", "batch_id",
             "status", "quantity", "value", "variance", "posting_date", "period", "created_by", "created_at"],
            select(
                literal(document_id), literal(MovementType.REVALUATION.value), literal(CloseClass.REVALUATION.value),
                differing.c.company_id, differing.c.warehouse_id, differing.c.material_id, differing.c.batch_id,
                differing.c.status, literal(ZERO), difference, -difference, literal(r.posting_date),
                literal(period), literal(r.user_id), literal(now, UTCDateTime()),
            ).order_by(*_by_balance_key(differing.c)),
        )
    )
    _add_document_to_period_totals(session, document_id=document_id, company_id=r.company_id, period=period)
    difference_posted = (
        select(StockMovement.value)
        .where(StockMovement.document_id == document_id, StockMovement.warehouse_id == StockBalance.warehouse_id,
               StockMovement.material_id == StockBalance.material_id, StockMovement.batch_id == StockBalance.batch_id,
               StockMovement.status == StockBalance.status)
        .scalar_subquery()
    )
    restated = (
        select(StockMovement.warehouse_id, StockMovement.material_id, StockMovement.batch_id, StockMovement.status)
        .where(StockMovement.document_id == document_id)
    )
    session.execute(
        update(StockBalance)
        .where(StockBalance.company_id == r.company_id,
               tuple_(StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id,
                      StockBalance.status).in_(restated))
        .values(value=to_money(StockBalance.value + difference_posted))
        .execution_options(synchronize_session=False)
    )
    # The journal, aggregated per material, straight from the ledger rows just written.
    per_material = (
        select(StockMovement.material_id, Material.material_type, func.sum(StockMovement.value).label("amount"))
        .join(Material, Material.id == StockMovement.material_id)
        .where(StockMovement.document_id == document_id)
        .group_by(StockMovement.material_id, Material.material_type)
        .subquery()
    )
    inventory_account = case(*((per_material.c.material_type == kind.value, literal(code))
                               for kind, code in r.inventory_accounts.items()))
    entry_id = connection.execute(statements["entry"], _values("e", {
        "company_id": r.company_id, "entry_date": r.posting_date, "period": period, "source_type": STOCK_DOCUMENT,
        "source_id": document_id, "memo": r.memo[:300], "reverses_entry_id": None, "created_by": r.user_id,
        "created_at": now,
    })).scalar_one()
    lines = union_all(
        select(inventory_account.label("account_code"), per_material.c.amount.label("amount"),
               per_material.c.material_id.label("material_id"), literal(0).label("side")),
        select(literal(r.variance_account), -per_material.c.amount, per_material.c.material_id, literal(1)),
    ).subquery("restatement_lines")
    session.execute(
        insert(JournalLine).from_select(
            ["entry_id", "company_id", "period", "account_code", "amount", "material_id"],
            select(literal(entry_id), literal(r.company_id), literal(period), lines.c.account_code, lines.c.amount,
                   lines.c.material_id).order_by(lines.c.side, lines.c.material_id),
        )
    )
    return Posted(document_id, entry_id)


def _by_balance_key(columns: Any) -> tuple[Any, ...]:
    """The order a set-based posting writes one row per stock balance in: by balance key.
    Rows of one INSERT ... SELECT get their ids in the order the SELECT gives them; without
    an ORDER BY that order is the plan's (a UNION's hash or sort), so the same books could
    number their rows differently from run to run."""
    return (columns.warehouse_id, columns.material_id, columns.batch_id, columns.status)


def _add_document_to_period_totals(session: Session, *, document_id: int, company_id: int, period: str) -> None:
    """The set-based twin of the totals a ``post`` writes, for documents written by
    INSERT ... SELECT: totals straight from the document's ledger rows."""
    m = StockMovement
    insert_totals = dialect_insert(session, _TOTALS).from_select(
        [*TOTALS_KEY, "quantity", "value", "variance"],
        select(literal(company_id, Integer), literal(period), m.material_id, m.close_class,
               func.coalesce(m.offset_account, ""), func.sum(m.quantity), func.sum(m.value), func.sum(m.variance))
        .where(m.document_id == document_id, m.close_class != CloseClass.INTERNAL)
        .group_by(m.material_id, m.close_class, m.offset_account)
        .order_by(m.material_id, m.close_class, m.offset_account),
    )
    session.execute(insert_totals.on_conflict_do_update(index_elements=TOTALS_KEY,
                                                        set_=_totals_after(insert_totals.excluded)))


def post_close_entries(session: Session, entries: CloseEntries) -> dict[int, int]:
    """Write one journal entry per company from ``entries.lines``; returns each company's
    entry id (none for a company without lines). Refuses ``UnbalancedEntry`` when an
    entry's lines do not sum to zero (the caller's bug; its transaction must roll back).

    Set-based, for the group's month end: the entries in one INSERT ... SELECT ...
    RETURNING, their lines in one more. The lines reach their entry by a CASE over the
    (at most a few dozen) new entries, not a join: the rows the lines come from were
    written a moment ago and the planner has no statistics for them yet."""
    lines = entries.lines.subquery("close_lines")
    companies = (entries.companies if entries.companies is not None
                 else select(lines.c.company_id).group_by(lines.c.company_id)).subquery("close_companies")
    refuse_after_business_day(entries.entry_date, field="period", what=N_("a close"))
    period = Period.of(entries.entry_date)
    created = session.execute(
        insert(JournalEntry)
        .from_select(
            ["company_id", "entry_date", "period", "source_type", "memo", "created_by", "created_at"],
            select(companies.c.company_id, literal(entries.entry_date), literal(period),
                   literal(entries.source_type), literal(entries.memo), literal(entries.user_id, Integer),
                   literal(utcnow(), UTCDateTime())).order_by(companies.c.company_id),
        )
        .returning(JournalEntry.id, JournalEntry.company_id)
    ).all()
    ids = {company_id: entry_id for entry_id, company_id in created}
    if not ids:
        return ids
    session.execute(
        insert(JournalLine).from_select(
            ["entry_id", "company_id", "period", "account_code", "amount", "material_id"],
            select(case(ids, value=lines.c.company_id), lines.c.company_id, literal(period), lines.c.account_code,
                   lines.c.amount, lines.c.material_id)
            .order_by(lines.c.company_id, lines.c.account_code, lines.c.material_id, lines.c.amount),
        )
    )
    unbalanced = session.execute(
        select(JournalLine.entry_id, func.sum(JournalLine.amount))
        .where(JournalLine.entry_id.in_(list(ids.values())))
        .group_by(JournalLine.entry_id)
        .having(func.abs(func.sum(JournalLine.amount)) >= Decimal("0.005"))
    ).first()
    if unbalanced is not None:
        raise UnbalancedEntry(f"entry {unbalanced[0]} is off by {unbalanced[1]}")
    return ids
