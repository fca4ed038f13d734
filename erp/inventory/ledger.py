"""Posting primitives of the stock ledger: documents, movements and balances.

Every stock posting goes through ``post_movements``: one multi-row INSERT into the
immutable ledger and one upsert per touched balance, in the caller's transaction. Callers
that take stock out first lock the balance rows they take from (``lock_balances``), so the
quantity they check is the quantity they change; the CHECK constraint on
``stock_balances.quantity`` is the last line of defence against negative stock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, bindparam, case, func, insert, literal, select, union_all, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import String

from erp.costing.journal import Line, balanced_lines, post_entry
from erp.costing.models import JournalEntry, JournalLine, PeriodMovementTotal
from erp.costing.standards import restatement_pending
from erp.db import dialect_insert, is_postgres, utcnow
from erp.inventory.models import (
    DOCUMENT_PREFIXES,
    NO_BATCH,
    NUMBER_DIGITS,
    document_number,
    Batch,
    CloseClass,
    MovementType,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
)
from erp.money import period_of, round_money

ZERO = Decimal("0")


@dataclass(frozen=True)
class Movement:
    """One ledger row to post: a signed quantity and value of a batch in a warehouse and status."""

    movement_type: MovementType
    close_class: CloseClass
    warehouse_id: int
    material_id: int
    batch_id: int
    status: StockStatus
    quantity: Decimal
    value: Decimal
    variance: Decimal = ZERO
    offset_account: str | None = None


@dataclass(frozen=True)
class HeldStock:
    """A balance row read under lock: what can be taken out of it."""

    balance_id: int
    warehouse_id: int
    material_id: int
    batch_id: int
    batch_number: str
    status: StockStatus
    quantity: Decimal
    value: Decimal
    expiry_date: dt.date | None
    last_posting_date: dt.date | None


def to_quantity(expression: Any) -> Any:
    """A balance quantity kept at its column's scale. A no-op on PostgreSQL's exact numeric;
    on SQLite, whose numbers are binary floats, it stops noise from piling up over many
    postings (4.001 built from 0.001 + 1 + 1 + 1 + 1 is stored as 4.00099999..., and taking
    the 4.001 on hand would leave a negative quantity)."""
    return func.round(expression, 4)


def to_money(expression: Any) -> Any:
    """A balance value kept to the cent (see ``to_quantity``)."""
    return func.round(expression, 2)


def later_date(current: Any, new: Any) -> Any:
    """The later of a stored date (possibly NULL) and a new one, in portable SQL."""
    return case((current.is_(None), new), (current > new, current), else_=new)


def available_on(session: Session, held: HeldStock, day: dt.date) -> Decimal:
    """What a backdated outflow dated ``day`` may take from a balance: the least the
    balance holds at the end of ``day`` or of any later day with movements (taking more
    would make the stock negative on some date, and with it a closed or future period's
    figures). The caller holds the balance row's lock, so the ledger cannot change under it."""
    if held.last_posting_date is None or held.last_posting_date <= day:
        return held.quantity
    m = StockMovement
    daily = (
        select(m.posting_date, func.sum(m.quantity).label("quantity"))
        .where(m.warehouse_id == held.warehouse_id, m.material_id == held.material_id, m.batch_id == held.batch_id,
               m.status == held.status)
        .group_by(m.posting_date)
        .subquery()
    )
    running = select(
        daily.c.posting_date, func.sum(daily.c.quantity).over(order_by=daily.c.posting_date).label("balance")
    ).subquery()
    lowest = session.scalar(
        select(func.min(case((running.c.posting_date >= day, running.c.balance))))
    )
    on_day = session.scalar(select(func.coalesce(func.sum(daily.c.quantity), 0)).where(daily.c.posting_date <= day))
    candidates = [Decimal(on_day)] + ([Decimal(lowest)] if lowest is not None else [])
    return max(min(candidates), Decimal("0"))


_DOCUMENTS = StockDocument.__table__
_MOVEMENTS = StockMovement.__table__
_BALANCES = StockBalance.__table__
_BATCHES = Batch.__table__
_ENTRIES = JournalEntry.__table__
_LINES = JournalLine.__table__
STOCK_DOCUMENT = "stock_document"  # the journal's source_type for entries of stock documents
_DOCUMENT_FIELDS = ("po_line_id", "supplier_id", "unit_price", "standard_price", "delivery_note", "customer_id",
                    "reference", "destination", "cost_center", "reason", "reverses_document_id",
                    "source_document_id")
# Built once: postings are the hot path, and prebuilt Core statements skip the ORM's
# per-call statement construction.
_INSERT_DOCUMENT = insert(_DOCUMENTS)
_NEXT_DOCUMENT_ID = {
    "postgresql": select(func.nextval("stock_documents_id_seq")),
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

_INSERT_MOVEMENTS = insert(_MOVEMENTS)
_TAKE_FROM_BALANCE = (
    update(_BALANCES)
    .where(_BALANCES.c.warehouse_id == bindparam("b_warehouse"), _BALANCES.c.material_id == bindparam("b_material"),
           _BALANCES.c.batch_id == bindparam("b_batch"), _BALANCES.c.status == bindparam("b_status"))
    .values(quantity=to_quantity(_BALANCES.c.quantity + bindparam("b_quantity", type_=_BALANCES.c.quantity.type)),
            value=to_money(_BALANCES.c.value + bindparam("b_value", type_=_BALANCES.c.value.type)),
            last_posting_date=later_date(_BALANCES.c.last_posting_date,
                                         bindparam("b_date", type_=_BALANCES.c.last_posting_date.type)))
)
_ADD_TO_BALANCE: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT DO UPDATE


def _add_to_balance(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _ADD_TO_BALANCE:
        upsert = dialect_insert(session, _BALANCES)
        _ADD_TO_BALANCE[dialect] = upsert.on_conflict_do_update(
            index_elements=["warehouse_id", "material_id", "batch_id", "status"],
            set_={"quantity": to_quantity(_BALANCES.c.quantity + upsert.excluded.quantity),
                  "value": to_money(_BALANCES.c.value + upsert.excluded.value),
                  "last_posting_date": later_date(_BALANCES.c.last_posting_date, upsert.excluded.last_posting_date)},
        )
    return _ADD_TO_BALANCE[dialect]


def create_document(
    session: Session,
    *,
    doc_type: MovementType,
    company_id: int,
    posting_date: dt.date,
    period: str,
    user_id: int,
    **fields: Any,
) -> int:
    """Insert a stock document header and return its id."""
    unknown = set(fields) - set(_DOCUMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown stock document fields {sorted(unknown)}")
    connection = session.connection()
    document_id = int(connection.execute(_NEXT_DOCUMENT_ID[connection.dialect.name]).scalar_one())
    row = dict.fromkeys(_DOCUMENT_FIELDS)
    row.update(fields, id=document_id, number=document_number(doc_type, document_id), doc_type=doc_type,
               company_id=company_id, posting_date=posting_date, period=period, created_by=user_id,
               created_at=utcnow())
    connection.execute(_INSERT_DOCUMENT, row)
    return document_id


def post_movements(
    session: Session,
    *,
    document_id: int,
    company_id: int,
    posting_date: dt.date,
    period: str,
    user_id: int,
    movements: Sequence[Movement],
) -> None:
    """Append ``movements`` to the ledger and apply them to the balances, in one transaction."""
    if not movements:
        return
    connection = session.connection()
    now = utcnow()
    # Passed as parameter sets, the statement compiles once and SQLAlchemy sends the rows
    # as one multi-row INSERT ("insertmanyvalues").
    connection.execute(
        _INSERT_MOVEMENTS,
        [
            {
                "document_id": document_id, "movement_type": m.movement_type, "close_class": m.close_class,
                "company_id": company_id, "warehouse_id": m.warehouse_id, "material_id": m.material_id,
                "batch_id": m.batch_id, "status": m.status, "quantity": m.quantity, "value": m.value,
                "variance": m.variance, "offset_account": m.offset_account, "posting_date": posting_date,
                "period": period, "created_by": user_id, "created_at": now,
            }
            for m in movements
        ],
    )
    for (warehouse_id, material_id, batch_id, status), (quantity, value) in balance_changes(movements).items():
        if quantity < 0:
            # Stock going out comes from a balance the caller has locked. (An upsert would not
            # do: the database checks quantity >= 0 on the proposed new row before it sees
            # the conflict with the existing one.)
            taken = connection.execute(_TAKE_FROM_BALANCE, {
                "b_warehouse": warehouse_id, "b_material": material_id, "b_batch": batch_id,
                "b_status": status, "b_quantity": quantity, "b_value": value, "b_date": posting_date,
            })
            if taken.rowcount != 1:
                raise LookupError(f"no balance to take {quantity} from: {warehouse_id, material_id, batch_id, status}")
            continue
        connection.execute(_add_to_balance(session), {
            "company_id": company_id, "warehouse_id": warehouse_id, "material_id": material_id,
            "batch_id": batch_id, "status": status, "quantity": quantity, "value": value,
            "last_posting_date": posting_date,
        })


BalanceKey = tuple[int, int, int, StockStatus]


def balance_changes(movements: Sequence[Movement]) -> dict[BalanceKey, tuple[Decimal, Decimal]]:
    """The net change each movement set makes to each balance row (a document may move the
    same row twice, e.g. goods put back and restated; a row is changed once)."""
    changes: dict[BalanceKey, tuple[Decimal, Decimal]] = {}
    for m in movements:
        key = (m.warehouse_id, m.material_id, m.batch_id, m.status)
        quantity, value = changes.get(key, (ZERO, ZERO))
        changes[key] = (quantity + m.quantity, value + m.value)
    return changes


def post_document(
    session: Session,
    *,
    doc_type: MovementType,
    company_id: int,
    posting_date: dt.date,
    period: str,
    user_id: int,
    movements: Sequence[Movement],
    journal: Sequence[Line] = (),
    memo: str = "",
    reverses_entry_id: int | None = None,
    **document_fields: Any,
) -> int:
    """Post a stock document whole: its header, its ledger rows, the balances they change and
    its journal entry (which must balance); returns the document's id.

    On PostgreSQL this is one statement (data-modifying CTEs), because on a server every
    round trip costs; on SQLite, which runs in-process, the same rows are written one
    statement after another. Either way it runs inside the caller's transaction.
    """
    lines = balanced_lines(journal)
    unknown = set(document_fields) - set(_DOCUMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown stock document fields {sorted(unknown)}")
    if not is_postgres(session):
        document_id = create_document(session, doc_type=doc_type, company_id=company_id, posting_date=posting_date,
                                      period=period, user_id=user_id, **document_fields)
        post_movements(session, document_id=document_id, company_id=company_id, posting_date=posting_date,
                       period=period, user_id=user_id, movements=movements)
        if lines:
            post_entry(session, company_id=company_id, entry_date=posting_date, source_type=STOCK_DOCUMENT,
                       source_id=document_id, memo=memo, lines=lines, user_id=user_id,
                       reverses_entry_id=reverses_entry_id)
        add_to_period_totals(session, company_id=company_id, period=period, movements=movements)
        return document_id
    now = utcnow()
    params: dict[str, Any] = {f"d_{name}": document_fields.get(name) for name in _DOCUMENT_FIELDS}
    params.update(d_prefix=DOCUMENT_PREFIXES[doc_type], d_doc_type=doc_type, d_company_id=company_id,
                  d_posting_date=posting_date, d_period=period,
                  d_created_by=user_id, d_created_at=now)
    for i, m in enumerate(movements):
        params.update({
            f"m{i}_movement_type": m.movement_type, f"m{i}_close_class": m.close_class,
            f"m{i}_company_id": company_id, f"m{i}_warehouse_id": m.warehouse_id, f"m{i}_material_id": m.material_id,
            f"m{i}_batch_id": m.batch_id, f"m{i}_status": m.status, f"m{i}_quantity": m.quantity,
            f"m{i}_value": m.value, f"m{i}_variance": m.variance, f"m{i}_offset_account": m.offset_account,
            f"m{i}_posting_date": posting_date, f"m{i}_period": period, f"m{i}_created_by": user_id,
            f"m{i}_created_at": now,
        })
    if lines:
        params.update(e_company_id=company_id, e_entry_date=posting_date, e_period=period,
                      e_source_type=STOCK_DOCUMENT, e_memo=memo[:300], e_reverses_entry_id=reverses_entry_id,
                      e_created_by=user_id, e_created_at=now)
        for j, line in enumerate(lines):
            params.update({f"l{j}_company_id": company_id, f"l{j}_period": period, f"l{j}_account_code": line.account,
                           f"l{j}_amount": line.amount, f"l{j}_material_id": line.material_id,
                           f"l{j}_customer_id": line.customer_id})
    changes = balance_changes(movements)
    for k, ((warehouse_id, material_id, batch_id, status), (quantity, value)) in enumerate(changes.items()):
        params.update({f"b{k}_company_id": company_id, f"b{k}_warehouse_id": warehouse_id,
                       f"b{k}_material_id": material_id, f"b{k}_batch_id": batch_id, f"b{k}_status": status,
                       f"b{k}_quantity": quantity, f"b{k}_value": value, f"b{k}_last_posting_date": posting_date})
    outflows = tuple(quantity < 0 for quantity, _ in changes.values())
    row = session.connection().execute(_one_statement(len(movements), outflows, len(lines)), params).one()
    if any(taken != 1 for taken in row[1:]):
        raise LookupError(f"a movement out of stock found no balance to take from: {movements}")
    # After the balances, always: postings lock balance rows first, then totals.
    add_to_period_totals(session, company_id=company_id, period=period, movements=movements)
    return row[0]  # type: ignore[no-any-return]


_TOTALS = PeriodMovementTotal.__table__
_ADD_TO_TOTALS: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT DO UPDATE
TOTALS_KEY = ["company_id", "period", "material_id", "close_class", "offset_account"]


def upsert_period_totals(session: Session) -> Any:
    """INSERT into period_movement_totals adding to the row of the same key if there is one."""
    dialect = session.get_bind().dialect.name
    if dialect not in _ADD_TO_TOTALS:
        upsert = dialect_insert(session, _TOTALS)
        _ADD_TO_TOTALS[dialect] = upsert.on_conflict_do_update(
            index_elements=TOTALS_KEY,
            set_={"quantity": to_quantity(_TOTALS.c.quantity + upsert.excluded.quantity),
                  "value": to_money(_TOTALS.c.value + upsert.excluded.value),
                  "variance": to_money(_TOTALS.c.variance + upsert.excluded.variance)},
        )
    return _ADD_TO_TOTALS[dialect]


def add_to_period_totals(session: Session, *, company_id: int, period: str, movements: Sequence[Movement]) -> None:
    """Keep the period's totals per material, close class and account current (see
    erp.costing.models.PeriodMovementTotal); internal moves are left out, they net to zero."""
    totals: dict[tuple[int, str, str], tuple[Decimal, Decimal, Decimal]] = {}
    for m in movements:
        if m.close_class == CloseClass.INTERNAL:
            continue
        key = (m.material_id, m.close_class.value, m.offset_account or "")
        quantity, value, variance = totals.get(key, (ZERO, ZERO, ZERO))
        totals[key] = (quantity + m.quantity, value + m.value, variance + m.variance)
    if not totals:
        return
    session.connection().execute(upsert_period_totals(session), [
        {"company_id": company_id, "period": period, "material_id": material_id, "close_class": close_class,
         "offset_account": account, "quantity": quantity, "value": value, "variance": variance}
        for (material_id, close_class, account), (quantity, value, variance) in sorted(totals.items())
    ])


def add_document_to_period_totals(session: Session, *, document_id: int, company_id: int, period: str) -> None:
    """The set-based twin of ``add_to_period_totals``, for documents written by INSERT ...
    SELECT (restatements): totals straight from the document's ledger rows."""
    m = StockMovement
    insert_totals = dialect_insert(session, _TOTALS).from_select(
        [*TOTALS_KEY, "quantity", "value", "variance"],
        select(literal(company_id, Integer), literal(period), m.material_id, m.close_class,
               func.coalesce(m.offset_account, ""), func.sum(m.quantity), func.sum(m.value), func.sum(m.variance))
        .where(m.document_id == document_id, m.close_class != CloseClass.INTERNAL)
        .group_by(m.material_id, m.close_class, m.offset_account),
    )
    session.execute(insert_totals.on_conflict_do_update(
        index_elements=TOTALS_KEY,
        set_={"quantity": to_quantity(_TOTALS.c.quantity + insert_totals.excluded.quantity),
              "value": to_money(_TOTALS.c.value + insert_totals.excluded.value),
              "variance": to_money(_TOTALS.c.variance + insert_totals.excluded.variance)},
    ))


_ONE_STATEMENT: dict[tuple[int, tuple[bool, ...], int], Any] = {}


def _one_statement(movement_count: int, outflows: tuple[bool, ...], line_count: int) -> Any:
    """The PostgreSQL statement that writes a document of this shape (how many ledger rows,
    which balance changes take stock out, how many journal lines), built once per shape
    with named parameters."""
    key = (movement_count, outflows, line_count)
    if key in _ONE_STATEMENT:
        return _ONE_STATEMENT[key]

    def param(prefix: str, table: Any, name: str) -> Any:
        return bindparam(f"{prefix}_{name}", type_=table.c[name].type)

    # The key is drawn first, so the number can be made from it in the same INSERT.
    document_columns = [c.name for c in _DOCUMENTS.c if c.name not in ("id", "number")]
    new_key = select(func.nextval("stock_documents_id_seq").label("id")).subquery("new_key")
    doc = (
        postgresql.insert(_DOCUMENTS)
        .from_select(["id", "number", *document_columns],
                     select(new_key.c.id, numbered(bindparam("d_prefix", type_=String()), new_key.c.id),
                            *(param("d", _DOCUMENTS, name) for name in document_columns)))
        .returning(_DOCUMENTS.c.id)
        .cte("doc")
    )
    movement_columns = [c.name for c in _MOVEMENTS.c if c.name not in ("id", "document_id")]
    rows = [select(doc.c.id, *(param(f"m{i}", _MOVEMENTS, name) for name in movement_columns))
            for i in range(movement_count)]
    ctes: list[Any] = [
        insert(_MOVEMENTS).from_select(["document_id", *movement_columns],
                                       rows[0] if len(rows) == 1 else union_all(*rows)).cte("ledger")
    ]
    taken: list[Any] = []
    for i, out in enumerate(outflows):
        if out:
            # taken from a balance the caller has locked (see post_movements for why not an upsert)
            cte = (
                update(_BALANCES)
                .where(*(_BALANCES.c[k] == param(f"b{i}", _BALANCES, k)
                         for k in ("warehouse_id", "material_id", "batch_id", "status")))
                .values(quantity=to_quantity(_BALANCES.c.quantity + param(f"b{i}", _BALANCES, "quantity")),
                        value=to_money(_BALANCES.c.value + param(f"b{i}", _BALANCES, "value")),
                        last_posting_date=later_date(_BALANCES.c.last_posting_date,
                                                     param(f"b{i}", _BALANCES, "last_posting_date")))
                .returning(_BALANCES.c.id)
                .cte(f"taken{i}")
            )
            taken.append(cte)
        else:
            upsert = postgresql.insert(_BALANCES).values({
                k: param(f"b{i}", _BALANCES, k)
                for k in ("company_id", "warehouse_id", "material_id", "batch_id", "status", "quantity", "value",
                          "last_posting_date")
            })
            cte = upsert.on_conflict_do_update(
                index_elements=["warehouse_id", "material_id", "batch_id", "status"],
                set_={"quantity": to_quantity(_BALANCES.c.quantity + upsert.excluded.quantity),
                      "value": to_money(_BALANCES.c.value + upsert.excluded.value),
                      "last_posting_date": later_date(_BALANCES.c.last_posting_date,
                                                      upsert.excluded.last_posting_date)},
            ).cte(f"added{i}")
        ctes.append(cte)
    if line_count:
        entry_columns = ["company_id", "entry_date", "period", "source_type", "memo", "reverses_entry_id",
                         "created_by", "created_at"]
        entry = (
            insert(_ENTRIES)
            .from_select([*entry_columns, "source_id"],
                         select(*(param("e", _ENTRIES, name) for name in entry_columns), doc.c.id))
            .returning(_ENTRIES.c.id)
            .cte("entry")
        )
        line_columns = ["company_id", "period", "account_code", "amount", "material_id", "customer_id"]
        line_rows = [select(entry.c.id, *(param(f"l{j}", _LINES, name) for name in line_columns))
                     for j in range(line_count)]
        ctes += [entry, insert(_LINES).from_select(["entry_id", *line_columns],
                                                   line_rows[0] if line_count == 1 else union_all(*line_rows))
                 .cte("lines")]
    statement = select(doc.c.id, *(select(func.count()).select_from(t).scalar_subquery() for t in taken)).add_cte(*ctes)
    _ONE_STATEMENT[key] = statement
    return statement


def _held_stock_query() -> Select[Any]:
    return (
        select(
            StockBalance.id, StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id,
            Batch.batch_number, StockBalance.status, StockBalance.quantity, StockBalance.value,
            Batch.expiry_date, StockBalance.last_posting_date,
        )
        .join(Batch, Batch.id == StockBalance.batch_id)
    )


def lock_balances(
    session: Session,
    *,
    warehouse_id: int,
    material_id: int,
    status: StockStatus,
    batch_id: int | None = None,
) -> list[HeldStock]:
    """Balance rows holding stock, locked, first-expiry-first-out (then oldest batch first)."""
    query = (
        _held_stock_query()
        .where(
            StockBalance.warehouse_id == warehouse_id,
            StockBalance.material_id == material_id,
            StockBalance.status == status,
            StockBalance.quantity > 0,
        )
        .order_by(Batch.expiry_date.asc().nulls_last(), Batch.id)
        .with_for_update(of=StockBalance)
    )
    if batch_id is not None:
        query = query.where(StockBalance.batch_id == batch_id)
    return [HeldStock(*row) for row in session.execute(query)]


def value_taken(session: Session, company_id: int, held: HeldStock, quantity: Decimal, standard_price: Decimal,
                day: dt.date) -> Decimal:
    """The value at standard that leaves a balance with ``quantity`` on ``day``.

    Taking all the balance holds takes all its value, so that no rounding cents are left
    behind on zero quantity. "All it holds" is as this posting's period ends: postings of a
    later period, booked before this one closed, are at their own period's standard and
    stay. And not while a new standard still waits to be restated (an earlier period is
    still open): the balance's value then mixes in an older standard, which that close
    restates; the outflow takes the stock at the standard in force.
    """
    by_standard = round_money(quantity * standard_price)
    whole_quantity, whole_value = held.quantity, held.value
    period = period_of(day)
    if held.last_posting_date is not None and period_of(held.last_posting_date) > period:
        m = StockMovement
        later_quantity, later_value = session.execute(
            select(to_quantity(func.coalesce(func.sum(m.quantity), 0)), to_money(func.coalesce(func.sum(m.value), 0)))
            .where(m.warehouse_id == held.warehouse_id, m.material_id == held.material_id,
                   m.batch_id == held.batch_id, m.status == held.status, m.period > period)
        ).one()
        whole_quantity -= Decimal(str(later_quantity))
        whole_value -= Decimal(str(later_value))
    if quantity != whole_quantity or whole_value == by_standard:
        return by_standard
    if restatement_pending(session, company_id, held.material_id, period):
        return by_standard
    return whole_value


def lock_transfer_route(session: Session, material_id: int, warehouse_a: int, warehouse_b: int) -> None:
    """Serialise transfers of a material between two warehouses, whichever the direction.

    A transfer locks its source balances, then its destination's: two opposite transfers of
    the same batches would each hold what the other waits for. On PostgreSQL a transaction
    advisory lock on the (material, warehouse pair) makes them queue instead; SQLite
    serialises all writers anyway.
    """
    if not is_postgres(session):
        return
    low, high = sorted((warehouse_a, warehouse_b))
    digest = hashlib.blake2b(f"transfer:{material_id}:{low}:{high}".encode(), digest_size=8).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))


def find_or_create_batch(
    session: Session,
    *,
    material_id: int,
    batch_number: str | None,
    manufacture_date: dt.date | None,
    expiry_date: dt.date | None,
    supplier_id: int | None,
) -> tuple[int, dt.date | None, dt.date | None]:
    """The batch's id and recorded dates, creating it on first receipt."""
    number = batch_number if batch_number is not None else NO_BATCH
    connection = session.connection()
    created = connection.execute(_insert_batch(session), {
        "material_id": material_id, "batch_number": number, "manufacture_date": manufacture_date,
        "expiry_date": expiry_date, "supplier_id": supplier_id, "created_at": utcnow(),
    }).scalar()
    if created is not None:
        return created, manufacture_date, expiry_date
    row = connection.execute(_FIND_BATCH, {"material_id": material_id, "batch_number": number}).one()
    return row.id, row.manufacture_date, row.expiry_date


_FIND_BATCH = select(_BATCHES.c.id, _BATCHES.c.manufacture_date, _BATCHES.c.expiry_date).where(
    _BATCHES.c.material_id == bindparam("material_id"), _BATCHES.c.batch_number == bindparam("batch_number")
)
_INSERT_BATCH: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT DO NOTHING RETURNING id


def _insert_batch(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERT_BATCH:
        _INSERT_BATCH[dialect] = (
            dialect_insert(session, _BATCHES)
            .on_conflict_do_nothing(index_elements=["material_id", "batch_number"])
            .returning(_BATCHES.c.id)
        )
    return _INSERT_BATCH[dialect]
