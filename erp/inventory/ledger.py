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

from sqlalchemy import Select, insert, select, update
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
    return session.execute(  # type: ignore[no-any-return]
        insert(StockDocument)
        .values(
            doc_type=doc_type, company_id=company_id, posting_date=posting_date, period=period,
            created_by=user_id, created_at=utcnow(), **fields,
        )
        .returning(StockDocument.id)
    ).scalar_one()


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
    now = utcnow()
    session.execute(
        insert(StockMovement),
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
    upsert = dialect_insert(session, StockBalance)
    upsert = upsert.on_conflict_do_update(
        index_elements=["warehouse_id", "material_id", "batch_id", "status"],
        set_={
            "quantity": StockBalance.quantity + upsert.excluded.quantity,
            "value": StockBalance.value + upsert.excluded.value,
        },
    )
    for m in movements:
        if m.quantity < 0:
            # Stock leaving a balance the caller has locked: the row exists, so update it. An
            # upsert cannot do this: PostgreSQL and SQLite both check the proposed new row
            # (a negative quantity) against the CHECK before they find the conflict.
            taken = session.execute(
                update(StockBalance)
                .where(StockBalance.warehouse_id == m.warehouse_id, StockBalance.material_id == m.material_id,
                       StockBalance.batch_id == m.batch_id, StockBalance.status == m.status)
                .values(quantity=StockBalance.quantity + m.quantity, value=StockBalance.value + m.value)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise AssertionError(f"no balance to take {m} from")
            continue
        session.execute(
            upsert.values(
                company_id=company_id, warehouse_id=m.warehouse_id, material_id=m.material_id,
                batch_id=m.batch_id, status=m.status, quantity=m.quantity, value=m.value,
            )
        )


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
    created = session.execute(
        dialect_insert(session, Batch)
        .values(
            material_id=material_id, batch_number=number, manufacture_date=manufacture_date,
            expiry_date=expiry_date, supplier_id=supplier_id, created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["material_id", "batch_number"])
        .returning(Batch.id)
    ).scalar()
    if created is not None:
        return created, manufacture_date, expiry_date
    row = session.execute(
        select(Batch.id, Batch.manufacture_date, Batch.expiry_date).where(
            Batch.material_id == material_id, Batch.batch_number == number
        )
    ).one()
    return row.id, row.manufacture_date, row.expiry_date
