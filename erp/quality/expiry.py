"""Expiry: batches reaching their expiry date are blocked, near-expiry batches are listed.

``block_expired`` is the scheduled command (``flask --app erp quality block-expired --as
<quality user>``, daily): one set-based query finds every unrestricted or quarantined
balance of a batch whose expiry date has come, and each company's are moved to blocked in
one stock document through ``erp.posting``. Blocked stock is never issued, transferred by
default or shipped; issues and shipments also skip expired batches on their own (FEFO).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.masterdata.models import Material, Warehouse
from erp.posting import Document, Movement, Posting, post, price_for_posting
from erp.posting.models import Batch, CloseClass, MovementType, StockBalance, StockStatus
from erp.posting.stock import available_on, lock_stock, value_taken
from erp.quality.models import InspectionLot, LotStatus
from erp.narration import REASON_LENGTH, narrate

HELD_STATUSES = (StockStatus.UNRESTRICTED, StockStatus.QUARANTINE)


def block_expired(session: Session, actor: Actor, *, on: dt.date) -> list[int]:
    """Block every batch of the caller's companies that expires on or before ``on``: its
    unrestricted and quarantined stock moves to blocked (document reason "expired"),
    dated ``on``, and its open inspection lots close as ``expired``. Returns the documents, one per company. Refuses: role-not-allowed,
    period-closed, no-standard-price."""
    actor.require_role(Role.QUALITY, action="blocking expired batches")
    # Where due stock is, by batch (not by status: a hold or a QA decision may move it
    # between held statuses while this waits on its locks).
    due = session.execute(
        select(StockBalance.company_id, StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .where(Batch.expiry_date <= on, StockBalance.quantity > 0, StockBalance.status.in_(HELD_STATUSES),
               actor.company_scope(StockBalance.company_id))
        .distinct()
        .order_by(StockBalance.company_id, StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id)
    ).all()
    per_company: dict[int, list[Movement]] = defaultdict(list)
    # The periods and prices first, then every held status of every due batch and where it
    # goes (blocked) in one statement, in erp.posting.stock's lock order: row by row (a
    # batch's unrestricted and quarantined rows in no set order) it could deadlock with a QA
    # decision or an issue. Then read again under the locks (``reread``): an excursion's
    # hold that committed while this waited moved the batch from unrestricted into a
    # quarantine row the first statement could not see; trusting the read made before the
    # wait, this blocked nothing of it and left the expired batch in quarantine (its lots
    # closed below) until the next day's run.
    prices = {(company_id, material_id): price_for_posting(session, company_id, material_id, on)[1]
              for company_id, material_id in sorted({(row.company_id, row.material_id) for row in due})}
    locked = lock_stock(session, [(warehouse_id, material_id, status, batch_id)
                                  for _, warehouse_id, material_id, batch_id in due
                                  for status in (*HELD_STATUSES, StockStatus.BLOCKED)], reread=True)
    for company_id, warehouse_id, material_id, batch_id in due:
        price = prices[(company_id, material_id)]
        for status in HELD_STATUSES:
            for balance in locked[(warehouse_id, material_id, status, batch_id)]:
                taken = available_on(session, balance, on)
                if taken <= 0:
                    continue
                value = value_taken(session, company_id, balance, taken, price, on)
                per_company[company_id] += [
                    Movement(MovementType.QUALITY_REJECT, CloseClass.INTERNAL, warehouse_id, material_id, batch_id,
                             status, -taken, -value),
                    Movement(MovementType.QUALITY_REJECT, CloseClass.INTERNAL, warehouse_id, material_id, batch_id,
                             StockStatus.BLOCKED, taken, value),
                ]
    _close_lots_of_expired(session, actor, on=on)
    documents = []
    for company_id, movements in per_company.items():
        posted = post(session, Posting(company_id=company_id, posting_date=on, user_id=actor.user_id,
                                       document=Document(MovementType.QUALITY_REJECT, reference="EXPIRY",
                                                         reason=narrate("expired", REASON_LENGTH, day=on)),
                                       movements=movements))
        assert posted.document_id is not None
        documents.append(posted.document_id)
    return documents


def _close_lots_of_expired(session: Session, actor: Actor, *, on: dt.date) -> int:
    """Close the open inspection lots of the batches being blocked (status ``expired``): an
    expired batch is never released, so a lot left open would stay on QC's worklist and
    offer a decision the stock no longer allows. Returns how many."""
    expired = select(Batch.id).where(Batch.expiry_date <= on)
    closed = session.execute(
        update(InspectionLot)
        .where(InspectionLot.status == LotStatus.OPEN, InspectionLot.batch_id.in_(expired),
               actor.company_scope(InspectionLot.company_id))
        .values(status=LotStatus.EXPIRED)
        .execution_options(synchronize_session=False))
    return closed.rowcount  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class NearExpiry:
    warehouse_id: int
    warehouse_code: str
    material_id: int
    material_code: str
    batch_id: int
    batch_number: str
    expiry_date: dt.date
    days_left: int
    status: StockStatus
    quantity: Decimal


def near_expiry(
    session: Session, actor: Actor, *, on: dt.date, days: int, offset: int = 0, limit: int = 50,
) -> tuple[list[NearExpiry], int]:
    """Stock (not blocked) of batches expiring within ``days`` after ``on``, soonest first,
    in the caller's warehouses."""
    query = (
        select(StockBalance.warehouse_id, Warehouse.code, StockBalance.material_id, Material.code,
               StockBalance.batch_id, Batch.batch_number, Batch.expiry_date, StockBalance.status,
               StockBalance.quantity)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .join(Material, Material.id == StockBalance.material_id)
        .where(Batch.expiry_date <= on + dt.timedelta(days=days), StockBalance.quantity > 0,
               StockBalance.status.in_(HELD_STATUSES),
               actor.warehouse_scope(StockBalance.warehouse_id, StockBalance.company_id))
    )
    rows = session.execute(query.order_by(Batch.expiry_date, Warehouse.code, Batch.batch_number)).all()
    found = [NearExpiry(w, wc, m, mc, b, bn, expiry, (expiry - on).days, StockStatus(status), quantity)
             for w, wc, m, mc, b, bn, expiry, status, quantity in rows]
    return found[offset:offset + limit], len(found)
