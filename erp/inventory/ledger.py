"""Posting primitives of the stock ledger: documents, movements and balances.

Every stock posting goes through ``post_movements``: one multi-row INSERT into the
immutable ledger and one upsert per touched balance, in the caller's transaction. Callers
that take stock out first lock the balance rows they take from (``lock_balances``), so the
quantity they check is the quantity they change; the CHECK constraint on
``stock_balances.quantity`` is the last line of defence against negative stock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from erp.db import dialect_insert, utcnow
from erp.inventory.models import (
    NO_BATCH,
    Batch,
    CloseClass,
    MovementType,
    StockBalance,
    StockDocument,
    StockMovement,
    StockStatus,
)
from erp.money import round_money

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


def to_quantity(expression: Any) -> Any:
    """A balance quantity kept at its column's scale. A no-op on PostgreSQL's exact numeric;
    on SQLite, whose numbers are binary floats, it stops noise from piling up over many
    postings (4.001 built from 0.001 + 1 + 1 + 1 + 1 is stored as 4.00099999..., and taking
    the 4.001 on hand would leave a negative quantity)."""
    return func.round(expression, 4)


def to_money(expression: Any) -> Any:
    """A balance value kept to the cent (see ``to_quantity``)."""
    return func.round(expression, 2)


_DOCUMENTS = StockDocument.__table__
_MOVEMENTS = StockMovement.__table__
_BALANCES = StockBalance.__table__
_BATCHES = Batch.__table__
_DOCUMENT_FIELDS = ("po_line_id", "supplier_id", "unit_price", "standard_price", "delivery_note", "customer_id",
                    "reference", "destination", "cost_center", "reason", "reverses_document_id",
                    "source_document_id")
# Built once: postings are the hot path, and prebuilt Core statements skip the ORM's
# per-call statement construction.
_INSERT_DOCUMENT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
_INSERT_MOVEMENTS = insert(_MOVEMENTS)
_TAKE_FROM_BALANCE = (
    update(_BALANCES)
    .where(_BALANCES.c.warehouse_id == bindparam("b_warehouse"), _BALANCES.c.material_id == bindparam("b_material"),
           _BALANCES.c.batch_id == bindparam("b_batch"), _BALANCES.c.status == bindparam("b_status"))
    .values(quantity=to_quantity(_BALANCES.c.quantity + bindparam("b_quantity", type_=_BALANCES.c.quantity.type)),
            value=to_money(_BALANCES.c.value + bindparam("b_value", type_=_BALANCES.c.value.type)))
)
_ADD_TO_BALANCE: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT DO UPDATE


def _add_to_balance(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _ADD_TO_BALANCE:
        upsert = dialect_insert(session, _BALANCES)
        _ADD_TO_BALANCE[dialect] = upsert.on_conflict_do_update(
            index_elements=["warehouse_id", "material_id", "batch_id", "status"],
            set_={"quantity": to_quantity(_BALANCES.c.quantity + upsert.excluded.quantity),
                  "value": to_money(_BALANCES.c.value + upsert.excluded.value)},
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
    row = dict.fromkeys(_DOCUMENT_FIELDS)
    row.update(fields, doc_type=doc_type, company_id=company_id, posting_date=posting_date, period=period,
               created_by=user_id, created_at=utcnow())
    return session.connection().execute(_INSERT_DOCUMENT, row).scalar_one()  # type: ignore[no-any-return]


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
    for m in movements:
        if m.quantity < 0:
            # Stock going out comes from a balance the caller has locked. (An upsert would not
            # do: the database checks quantity >= 0 on the proposed new row before it sees
            # the conflict with the existing one.)
            taken = connection.execute(_TAKE_FROM_BALANCE, {
                "b_warehouse": m.warehouse_id, "b_material": m.material_id, "b_batch": m.batch_id,
                "b_status": m.status, "b_quantity": m.quantity, "b_value": m.value,
            })
            if taken.rowcount != 1:
                raise LookupError(f"no balance to take {m} from")
            continue
        connection.execute(_add_to_balance(session), {
            "company_id": company_id, "warehouse_id": m.warehouse_id, "material_id": m.material_id,
            "batch_id": m.batch_id, "status": m.status, "quantity": m.quantity, "value": m.value,
        })


def _held_stock_query() -> Select[Any]:
    return (
        select(
            StockBalance.id, StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id,
            Batch.batch_number, StockBalance.status, StockBalance.quantity, StockBalance.value,
            Batch.expiry_date,
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


def value_taken(held: HeldStock, quantity: Decimal, standard_price: Decimal) -> Decimal:
    """The value at standard that leaves a balance with ``quantity``.

    Taking the whole balance takes its whole value, so that no value is left behind on zero
    quantity (rounding residue, or stock still valued at last period's standard).
    """
    if quantity == held.quantity:
        return held.value
    return round_money(quantity * standard_price)


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
