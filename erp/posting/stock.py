"""What a stock posting reads before it writes: balances locked, what they hold on a
date, the value that leaves with a quantity, batches; and the repair of derived rows.

A posting that takes stock out first locks the balance rows it takes from, so that the
quantity it checks is the quantity ``erp.posting.post`` changes; the CHECK constraint on
``stock_balances.quantity`` is the last line of defence against negative stock.

The global lock order
---------------------
Every stock posting (and every use case that makes several in one transaction) takes its
locks in this order, so that no two of them wait on each other in opposite orders:

1. the use case's own rows: the document it works on (a sales order, a production order,
   a purchase order line, the pending excursions of a warehouse), read with FOR UPDATE or
   FOR NO KEY UPDATE before anything else;
2. the posting's period row, KEY SHARE (``erp.posting.lock_open_period``, or
   ``price_for_posting``, which reads the standard price after it), for every period and
   company the use case posts to, before any balance: the close holds that row exclusively
   and then restates balances, so a posting that waited on the period while it held a
   balance would deadlock with the close. Rows that only follow the period (a customer's
   exposure row, a transfer route's advisory lock, ``lock_transfer_route``) come here too.
   One exception to 1 before 2: payables (``erp.payables.services``: ``enter_invoice``,
   ``reverse_invoice``, ``pay_supplier``) takes the period row KEY SHARE first, then the
   order lines FOR NO KEY UPDATE in id order (``receiving.lock_line_for_receipt``), then
   the invoices FOR UPDATE (``reverse_payment``: the period, the payment row, then its
   invoices by due date and id, as ``pay_supplier`` takes them); a goods receipt takes its order line, then the period. No
   deadlock: KEY SHARE conflicts only with the close's FOR UPDATE and is granted beside
   other KEY SHARE holders even while the close waits, so a receipt holding a line never
   waits on the period for an invoice, and an invoice waiting on a line holds nothing the
   receipt waits for (a close waiting on the period waits for both to commit);
3. every existing stock balance row the use case will take from or add to, all in one
   statement, in ``_LOCK_ORDER`` (``lock_stock``: warehouse, material, status, first expiry
   first, then batch), before any line takes. Place by place, two shipments, issues,
   transfers (a ring of warehouses), status changes (a QA release against an excursion's
   hold) or an issue's reversal (adding back to batches an issue takes first expiry first)
   naming the same stock in opposite order each held what the other waited for
   (bench.load, 30 November; tests/service/test_posting_locks.py). One place alone needs no
   such step: ``lock_balances`` locks it as the line takes. Nor does a use case that only
   adds, in one statement (step 4): opening stock at go-live (``erp.posting.bulk.BulkPosting``
   adds the whole file at its end, not chunk by chunk as it is read); nor one whose period
   lock excludes every other posting to its balances (a restatement's reversal:
   ``erp.costing.revaluation.reverse_restatement``);
4. the rows a posting adds to that it had not locked, and rows that do not exist yet: a
   posting's inflows are one INSERT ... ON CONFLICT with its rows in ``_LOCK_ORDER`` too
   (``erp.posting.writer.in_lock_order``: the batch's expiry read in the same statement), so
   that a posting adding to rows and one locking or adding to them in another order never
   wait on each other in opposite orders;
5. then what hangs on the stock, always after its balances: the inspection lots on it and
   their advisory locks (erp.quality: ``move_open_lots``, ``reduce_open_lots``), the
   period totals (``post``, in key order), then the document's lines (their document was
   locked in 1).

Rows a transaction already holds are not waited for again: after ``lock_stock`` each line
re-reads its place with ``lock_balances`` and sees what earlier lines left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, case, delete, func, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from erp.db import dialect_insert, is_postgres, utcnow
from erp.money import round_money
from erp.period import Period
from erp.posting.models import (
    NO_BATCH,
    Batch,
    CloseClass,
    PeriodMovementTotal,
    StockBalance,
    StockMovement,
    StockStatus,
)
from erp.posting.prices import restatement_pending
from erp.posting.writer import BALANCE_KEY, TOTALS_COLUMNS, lock_order, to_money, to_quantity

ZERO = Decimal("0")


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

    def usable_on(self, day: dt.date) -> bool:
        """Whether an outflow to use (an issue, a delivery) dated ``day`` may take this batch:
        the expiry date itself is too late (GMP: a batch is not used on or after its expiry
        date; erp.quality.expiry blocks it from that day)."""
        return self.expiry_date is None or self.expiry_date > day


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


_BATCHES = Batch.__table__


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
    """Balance rows holding stock, locked, first-expiry-first-out (then oldest batch first).

    One place only: a use case that takes from (or adds to) several places locks them all
    first with ``lock_stock``."""
    query = (
        _held_stock_query()
        .where(
            StockBalance.warehouse_id == warehouse_id,
            StockBalance.material_id == material_id,
            StockBalance.status == status,
            StockBalance.quantity > 0,
        )
        .order_by(*_LOCK_ORDER)
        .with_for_update(of=StockBalance)
    )
    if batch_id is not None:
        query = query.where(StockBalance.batch_id == batch_id)
    return [HeldStock(*row) for row in session.execute(query)]


# A place stock is taken from or added to: (warehouse id, material id, status, batch id or
# None for every batch of the material there).
StockPlace = tuple[int, int, StockStatus, int | None]


def lock_stock(session: Session, places: Iterable[StockPlace], *, reread: bool = False
               ) -> dict[StockPlace, list[HeldStock]]:
    """Lock every existing balance row of every place in ``places``, in one statement, in
    ``_LOCK_ORDER`` (rows with nothing on hand too: a destination's row is locked before
    the posting adds to it); returns per place the rows holding stock, first expiry first
    (what ``lock_balances`` of that place returns).

    The step every use case of several lines or places takes before any line takes (see
    the global lock order above): rows it holds are not waited for again, so each line can
    then read its place with ``lock_balances`` and see what earlier lines left.

    What one statement returns is only the rows that existed when it began: a row it waited
    on comes back as the transaction it waited for left it, but a row that transaction
    inserted (stock it moved into a status or batch the place had no row of) is not seen.
    A use case that moves whatever the places hold (``erp.quality.expiry.block_expired``, an
    excursion's hold), or takes a quantity that a transaction it waited for could have put
    into such a row (a receipt's reversal, a return to the supplier, a production
    delivery's reversal, a plain quality decision, a transfer), passes ``reread``: the
    places are locked again in a second statement, once the first has waited out every
    transaction holding its rows, so that it sees, locks and returns the rows those
    inserted (a second round trip; rows already held are not waited for again). Without it,
    a QA release or a hold committing first left the other moving nothing of the batch, and
    the others refused for want of stock that was there (tests/service/test_stale_lock_reads.py).
    What such a use case decides from other rows those transactions wrote (an open lot,
    QA's decision) it reads after this, under the locks, too.
    The rows the second statement finds new are locked after the others, out of
    ``_LOCK_ORDER``: a posting that inserted one of them between the two statements and now
    waits on a row held here can deadlock with it. The window is one round trip; PostgreSQL
    aborts one of the two (40P01) and ``erp.db.in_transaction`` runs it again.
    """
    locked = _lock_stock_once(session, places)
    return _lock_stock_once(session, locked) if reread else locked


def _lock_stock_once(session: Session, places: Iterable[StockPlace]) -> dict[StockPlace, list[HeldStock]]:
    wanted = list(dict.fromkeys(places))
    if not wanted:
        return {}
    b = StockBalance
    batches = [place for place in wanted if place[3] is not None]
    every_batch = [place[:3] for place in wanted if place[3] is None]
    query = (
        _held_stock_query()
        .where(or_(*((tuple_(b.warehouse_id, b.material_id, b.status, b.batch_id).in_(batches),) if batches else ()),
                   *((tuple_(b.warehouse_id, b.material_id, b.status).in_(every_batch),) if every_batch else ())))
        .order_by(*_LOCK_ORDER)
        .with_for_update(of=StockBalance)
    )
    held: dict[StockPlace, list[HeldStock]] = {place: [] for place in wanted}
    for row in session.execute(query):
        stock = HeldStock(*row)
        if stock.quantity <= 0:
            continue
        for place in ((stock.warehouse_id, stock.material_id, stock.status, None),
                      (stock.warehouse_id, stock.material_id, stock.status, stock.batch_id)):
            if place in held:
                held[place].append(stock)
    return held


# The order balance rows are locked in, by every posting that locks more than one: within a
# warehouse, material and status, first expiry first out (then the oldest batch), the
# order outflows take them in. Two postings locking rows in this order never wait on each
# other in opposite orders; it is one order only if rows of several places are locked by
# one statement (``lock_stock``): place by place, the order is the caller's.
_LOCK_ORDER = lock_order(StockBalance, Batch)  # the order inflows are written in too (writer.in_lock_order)


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
    period = Period.of(day)
    if held.last_posting_date is not None and Period.of(held.last_posting_date) > period:
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
    low, high = sorted((warehouse_a, warehouse_b))
    advisory_lock(session, f"transfer:{material_id}:{low}:{high}")


def advisory_lock(session: Session, key: str) -> None:
    """Hold a transaction advisory lock named ``key`` until commit or rollback, for what has
    no row to lock yet (a row another transaction may be about to write). On PostgreSQL a
    64-bit digest of the key; SQLite serialises all writers anyway."""
    if not is_postgres(session):
        return
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
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


def rebuild_balances(session: Session) -> None:
    """Recompute every balance and period total from the ledger (``flask --app erp stock
    check --repair``): they are derived from the ledger, which is the record."""
    session.execute(delete(PeriodMovementTotal))
    m = StockMovement
    account = func.coalesce(m.offset_account, "")
    session.execute(
        insert(PeriodMovementTotal).from_select(
            TOTALS_COLUMNS,
            select(m.company_id, m.period, m.material_id, m.close_class, account, to_quantity(func.sum(m.quantity)),
                   to_money(func.sum(m.value)), to_money(func.sum(m.variance)))
            .where(m.close_class != CloseClass.INTERNAL)
            .group_by(m.company_id, m.period, m.material_id, m.close_class, account),
        )
    )
    session.execute(delete(StockBalance))
    keys = [getattr(StockMovement, k) for k in ("company_id", *BALANCE_KEY)]
    # As erp.posting.post writes them: value-only rows (quantity 0, value 0) leave a balance
    # alone, neither make one nor date it (Movement.moves_balance).
    moved_on = func.max(case((or_(m.quantity != 0, m.value != 0), m.posting_date)))
    session.execute(
        insert(StockBalance).from_select(
            ["company_id", *BALANCE_KEY, "quantity", "value", "last_posting_date"],
            select(*keys, to_quantity(func.sum(StockMovement.quantity)), to_money(func.sum(StockMovement.value)),
                   moved_on)
            .group_by(*keys)
            .having(moved_on.is_not(None)),
        )
    )
