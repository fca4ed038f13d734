"""Revaluation: restating stock at a new standard price, so that the inventory accounts
always equal the stock at the current standard.

The difference goes to the material cost variance account (材料成本差异), not to a
separate revaluation account: the actual cost of the stock (standard plus variance) does
not change when the standard does, only its split between the two accounts. The variance
rate of the period then spreads that difference over consumption and remaining stock like
any other variance.

Set-based: one INSERT ... SELECT writes the ledger rows for every balance whose value
differs from quantity x new standard, one UPDATE restates the balances, and one entry per
run posts the journal, aggregated per material.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, or_, select, tuple_, union, union_all, update
from sqlalchemy.orm import Session

from erp.costing import accounts
from erp.costing.models import JournalEntry, JournalLine, StandardPrice
from erp.costing.periods import lock_periods_from
from erp.costing.standards import previous_period, price_in_force, prices_in_force
from erp.db import UTCDateTime, utcnow
from erp.inventory.ledger import add_document_to_period_totals, create_document, to_money, to_quantity
from erp.inventory.models import CloseClass, MovementType, StockBalance, StockDocument, StockMovement
from erp.masterdata.models import Material
from erp.sqlmath import round_product


ZERO = Decimal("0")


def first_day(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def revalue_to_standard(
    session: Session,
    *,
    company_id: int,
    period: str,
    material_ids: Sequence[int] | None,
    user_id: int,
    only_changed: bool = False,
) -> int | None:
    """Restate the company's stock (optionally only some materials) at ``period``'s standard
    prices, dated the first day of the period; returns the stock document id, or None when
    nothing needed restating.

    With ``only_changed`` (the close), only materials whose price was set for ``period``
    and differs from the one in force before are restated, plus any value left on zero
    quantity; cent differences that
    per-posting rounding leaves between a balance's value and quantity x standard are then
    left alone (they leave with the stock).
    """
    posting_date = first_day(period)
    # No posting may change a balance while it is restated: hold this period and every later
    # one of the company exclusively (postings hold their period's row for key share).
    lock_periods_from(session, company_id, period)
    differing = _restatable([company_id], period, material_ids, only_changed)
    if session.scalar(select(func.count()).select_from(differing)) == 0:
        return None
    document_id = create_document(
        session, doc_type=MovementType.REVALUATION, company_id=company_id, posting_date=posting_date,
        period=period, user_id=user_id, reason=f"restated at the standard prices of {period}",
    )
    difference = differing.c.target - differing.c.value
    session.execute(
        insert(StockMovement).from_select(
            [
                "document_id", "movement_type", "close_class", "company_id", "warehouse_id", "material_id",
                "batch_id", "status", "quantity", "value", "variance", "posting_date", "period", "created_by",
                "created_at",
            ],
            select(
                literal(document_id), literal(MovementType.REVALUATION.value), literal(CloseClass.REVALUATION.value),
                differing.c.company_id, differing.c.warehouse_id, differing.c.material_id, differing.c.batch_id,
                differing.c.status, literal(ZERO), difference, -difference, literal(posting_date),
                literal(period), literal(user_id), literal(utcnow(), UTCDateTime()),
            ),
        )
    )
    add_document_to_period_totals(session, document_id=document_id, company_id=company_id, period=period)
    # Each balance takes exactly the difference its ledger row carries, so ledger and balance
    # agree whatever else happened (value + difference, not a recomputed value).
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
        .where(
            StockBalance.company_id == company_id,
            tuple_(StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id,
                   StockBalance.status).in_(restated),
        )
        .values(value=to_money(StockBalance.value + difference_posted))
        .execution_options(synchronize_session=False)
    )
    # The journal, aggregated per material, straight from the ledger rows just written.
    restatements = (
        select(StockMovement.material_id, Material.material_type, func.sum(StockMovement.value).label("amount"))
        .join(Material, Material.id == StockMovement.material_id)
        .where(StockMovement.document_id == document_id)
        .group_by(StockMovement.material_id, Material.material_type)
        .subquery()
    )
    inventory_account = case(
        *((restatements.c.material_type == kind.value, literal(code)) for kind, code in accounts.INVENTORY_ACCOUNT.items())
    )
    entry_id = session.execute(
        insert(JournalEntry).values(
            company_id=company_id, entry_date=posting_date, period=period, source_type="stock_document",
            source_id=document_id, memo=f"revaluation at standard prices of {period}", created_by=user_id,
            created_at=utcnow(),
        ).returning(JournalEntry.id)
    ).scalar_one()
    common = (literal(entry_id), literal(company_id), literal(period))
    session.execute(
        insert(JournalLine).from_select(
            ["entry_id", "company_id", "period", "account_code", "amount", "material_id"],
            union_all(
                select(*common, inventory_account, restatements.c.amount, restatements.c.material_id),
                select(*common, literal(accounts.MATERIAL_COST_VARIANCE), -restatements.c.amount,
                       restatements.c.material_id),
            ),
        )
    )
    return document_id


def companies_to_restate(session: Session, company_ids: Sequence[int], period: str) -> list[int]:
    """Which of the companies the close must restate at ``period``'s standards: those with
    a balance whose material's price changed from the previous period, or with value left
    on no quantity. One statement for the whole group; most months it finds none."""
    found = _restatable(company_ids, period, None, only_changed=True)
    return sorted(session.scalars(select(found.c.company_id).distinct()).all())


def _restatable(
    company_ids: Sequence[int], period: str, material_ids: Sequence[int] | None, only_changed: bool
) -> Any:
    """The companies' balances whose stock as ``period`` opens is not worth quantity x the
    standard in force for ``period`` (``target``), as a subquery with that opening value
    (``value``). With ``only_changed`` (the close): only balances of materials whose price
    was set for ``period`` itself and differs from the one in force before, plus any value
    left on no quantity.

    The opening stock is the balance less what later postings moved (clerks may post into
    the next months before this one is restated): those postings are already at their own
    period's standard and are not restated here. This period's own restatements belong to
    the opening, so a price set twice restates only the difference."""
    b, m = StockBalance, StockMovement
    scope = [b.company_id.in_(list(company_ids))]
    restatements = select(StockDocument.id).where(
        StockDocument.company_id.in_(list(company_ids)), StockDocument.period == period,
        StockDocument.doc_type == MovementType.REVALUATION,
    )
    # Not other documents' restatement rows (an issue reversed at a newer standard writes
    # some): they belong to goods that came back in this period.
    later_scope = [m.company_id.in_(list(company_ids)), m.period >= period,
                   or_(m.period != period, m.document_id.not_in(restatements))]
    if material_ids is not None:
        scope.append(b.material_id.in_(list(material_ids)))
        later_scope.append(m.material_id.in_(list(material_ids)))
    later = (
        select(m.warehouse_id, m.material_id, m.batch_id, m.status, func.sum(m.quantity).label("quantity"),
               func.sum(m.value).label("value"))
        .where(*later_scope)
        .group_by(m.warehouse_id, m.material_id, m.batch_id, m.status)
        .subquery("later")
    )
    # Rounded to the columns' scale: on SQLite's binary floats 0.30 - (0.10 + 0.20) is not 0.
    opening_quantity = to_quantity(b.quantity - func.coalesce(later.c.quantity, ZERO))
    opening_value = to_money(b.value - func.coalesce(later.c.value, ZERO))
    columns = (b.id, b.company_id, b.warehouse_id, b.material_id, b.batch_id, b.status,
               opening_value.label("value"))
    of_balance = and_(later.c.warehouse_id == b.warehouse_id, later.c.material_id == b.material_id,
                      later.c.batch_id == b.batch_id, later.c.status == b.status)
    if not only_changed:
        prices = prices_in_force(period, company_ids, material_ids)
    else:
        sp = StandardPrice
        before = price_in_force(sp.company_id, sp.material_id, previous_period(period))
        prices = (
            select(sp.company_id, sp.material_id, sp.price)
            .where(sp.company_id.in_(list(company_ids)), sp.period == period,
                   or_(before.is_(None), before != sp.price))
            .subquery("changed_prices")
        )
    target = round_product(opening_quantity, prices.c.price)
    restated = (
        select(*columns, target.label("target"))
        .join(prices, and_(prices.c.company_id == b.company_id, prices.c.material_id == b.material_id))
        .outerjoin(later, of_balance)
        .where(*scope, target != opening_value)
    )
    if only_changed:
        emptied = (
            select(*columns, literal(ZERO).label("target"))
            .outerjoin(later, of_balance)
            .where(*scope, opening_quantity == 0, opening_value != 0)
        )
        return union(restated.where(opening_quantity != 0), emptied).subquery("restatable")
    return restated.subquery("restatable")


def restatements_of(session: Session, company_id: int, period: str) -> list[int]:
    """The company's restatements at ``period``'s standards that still stand (not reversed),
    oldest first."""
    reversal = StockDocument.__table__.alias("reversal")
    return list(session.scalars(
        select(StockDocument.id)
        .where(StockDocument.company_id == company_id, StockDocument.period == period,
               StockDocument.doc_type == MovementType.REVALUATION, StockDocument.reverses_document_id.is_(None),
               ~select(reversal.c.id).where(reversal.c.reverses_document_id == StockDocument.id).exists())
        .order_by(StockDocument.id)
    ))


def reverse_restatement(session: Session, *, document_id: int, user_id: int, reason: str) -> int:
    """Undo a restatement exactly (every ledger row and journal line negated), on its own
    date: used when the close that made it is reopened."""
    from erp.costing.journal import negated_lines
    from erp.inventory.ledger import Movement, post_document

    original = session.get(StockDocument, document_id)
    assert original is not None and original.doc_type == MovementType.REVALUATION
    lock_periods_from(session, original.company_id, original.period)
    rows = session.scalars(select(StockMovement).where(StockMovement.document_id == document_id)
                           .order_by(StockMovement.id)).all()
    entry_id = session.scalar(select(JournalEntry.id).where(JournalEntry.source_type == "stock_document",
                                                            JournalEntry.source_id == document_id))
    return post_document(
        session, doc_type=MovementType.REVALUATION, company_id=original.company_id,
        posting_date=original.posting_date, period=original.period, user_id=user_id,
        reverses_document_id=original.id, reason=reason,
        movements=[Movement(MovementType.REVALUATION, CloseClass.REVALUATION, m.warehouse_id, m.material_id,
                            m.batch_id, m.status, Decimal("0"), -m.value, -m.variance) for m in rows],
        journal=negated_lines(session, entry_id) if entry_id is not None else (),
        reverses_entry_id=entry_id, memo=f"reversal of restatement {original.id}: {reason}",
    )
