"""Revaluation: restating stock at a new standard price, so that the inventory accounts
always equal the stock at the current standard.

The difference goes to the material cost variance account (材料成本差异), not to a
separate revaluation account: the actual cost of the stock (standard plus variance) does
not change when the standard does, only its split between the two accounts. The variance
rate of the period then spreads that difference over consumption and remaining stock like
any other variance.

Set-based: costing finds every balance whose value differs from quantity x the new
standard (``_restatable``, one query) and hands it to ``erp.posting.post_restatement``,
which writes the ledger rows, the balances and one entry per run, aggregated per
material.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, literal, literal_column, or_, select, union
from sqlalchemy.orm import Session, aliased

from erp.costing import accounts
from erp.posting import Document, Movement, Posting, Restatement, entry_of_document, negated_lines, post
from erp.posting import post_restatement
from erp.posting.models import CloseClass, MovementType, StandardPrice, StockBalance, StockDocument, StockMovement
from erp.period import Period
from erp.posting.periods import lock_periods_from
from erp.posting.prices import price_in_force, prices_in_force
from erp.posting.writer import to_money, to_quantity
from erp.sqlmath import round_product
from erp.narration import REASON_LENGTH, narrate


ZERO = Decimal("0")


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
    posting_date = Period(period).first_day
    # No posting may change a balance while it is restated: hold this period and every later
    # one of the company exclusively (postings hold their period's row for key share).
    lock_periods_from(session, company_id, period)
    posted = post_restatement(session, Restatement(
        company_id=company_id, posting_date=posting_date, user_id=user_id,
        differences=_restatable([company_id], period, material_ids, only_changed),
        inventory_accounts=accounts.INVENTORY_ACCOUNT, variance_account=accounts.MATERIAL_COST_VARIANCE,
        reason=narrate("restatement", REASON_LENGTH, period=period), memo=narrate("revaluation", period=period),
    ))
    return None if posted is None else posted.document_id


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
        # An alias: price_in_force reads standard_prices itself, and against the same
        # unaliased table its "company_id = company_id" would correlate with nothing (the
        # latest price of any material would stand for this material's previous price).
        sp = aliased(StandardPrice, name="new_price")
        before = price_in_force(sp.company_id, sp.material_id, Period(period).previous())
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
        # Value on no quantity as the period opens: a balance left so with nothing posted
        # since (found through the partial index of such balances, not by reading every
        # balance), or one that later postings bring to it (found from those postings).
        left_empty = (
            select(*columns, literal(ZERO).label("target"))
            .outerjoin(later, of_balance)
            .where(*scope, b.quantity == literal_column("0"), b.value != literal_column("0"),
                   later.c.material_id.is_(None))
        )
        emptied_by_later = (
            select(*columns, literal(ZERO).label("target"))
            .join(later, of_balance)
            .where(*scope, opening_quantity == 0, opening_value != 0)
        )
        return union(restated.where(opening_quantity != 0), left_empty, emptied_by_later).subquery("restatable")
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
    original = session.get(StockDocument, document_id)
    assert original is not None and original.doc_type == MovementType.REVALUATION
    # No lock_stock (erp.posting.stock's lock order, step 3): the period lock excludes every
    # other posting to these balances. This period and every later one of the company are
    # held exclusively here, the period reopened by the one caller (reopen_period) too, and
    # every earlier one is closed; a balance belongs to one company, and every posting takes
    # its period's row (key share) before any balance. So no posting holds one of these
    # balances while this waits on it: one already past its period lock is waited for here,
    # before any balance is locked, and any later one waits on its period until this
    # commits. tests/service/test_posting_locks.py (a reopening and an issue, either first).
    lock_periods_from(session, original.company_id, original.period)
    rows = session.scalars(select(StockMovement).where(StockMovement.document_id == document_id)
                           .order_by(StockMovement.id)).all()
    entry_id = entry_of_document(session, document_id)
    posted = post(session, Posting(
        company_id=original.company_id, posting_date=original.posting_date, user_id=user_id,
        document=Document(MovementType.REVALUATION, reverses_document_id=original.id, reason=reason),
        movements=[Movement(MovementType.REVALUATION, CloseClass.REVALUATION, m.warehouse_id, m.material_id,
                            m.batch_id, m.status, Decimal("0"), -m.value, -m.variance) for m in rows],
        journal=negated_lines(session, entry_id) if entry_id is not None else (),
        reverses_entry_id=entry_id, memo=narrate("restatement-reversal", document=original.number, reason=reason),
    ))
    assert posted.document_id is not None
    return posted.document_id
