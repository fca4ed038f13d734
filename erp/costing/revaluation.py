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

from sqlalchemy import and_, func, insert, literal, select, tuple_, update
from sqlalchemy.orm import Session

from erp.costing import accounts
from erp.costing.journal import Line, post_entry
from erp.costing.models import StandardPrice
from erp.costing.periods import lock_open_period
from erp.db import UTCDateTime, utcnow
from erp.inventory.ledger import create_document
from erp.inventory.models import CloseClass, MovementType, StockBalance, StockMovement
from erp.masterdata.models import Material, MaterialType
from erp.sqlmath import round_product


def first_day(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def revalue_to_standard(
    session: Session,
    *,
    company_id: int,
    period: str,
    material_ids: Sequence[int] | None,
    user_id: int,
) -> int | None:
    """Restate the company's stock (optionally only some materials) at ``period``'s standard
    prices, dated the first day of the period; returns the stock document id, or None when
    nothing needed restating."""
    posting_date = first_day(period)
    lock_open_period(session, company_id, posting_date)
    target = round_product(StockBalance.quantity, StandardPrice.price)
    conditions = [
        StockBalance.company_id == company_id,
        StandardPrice.company_id == company_id,
        StandardPrice.period == period,
        target != StockBalance.value,
    ]
    if material_ids is not None:
        conditions.append(StockBalance.material_id.in_(list(material_ids)))
    differing = (
        select(StockBalance.id)
        .join(StandardPrice, StandardPrice.material_id == StockBalance.material_id)
        .where(*conditions)
    )
    if session.scalar(select(func.count()).select_from(differing.subquery())) == 0:
        return None
    document_id = create_document(
        session, doc_type=MovementType.REVALUATION, company_id=company_id, posting_date=posting_date,
        period=period, user_id=user_id, reason=f"restated at the standard prices of {period}",
    )
    difference = target - StockBalance.value
    session.execute(
        insert(StockMovement).from_select(
            [
                "document_id", "movement_type", "close_class", "company_id", "warehouse_id", "material_id",
                "batch_id", "status", "quantity", "value", "variance", "posting_date", "period", "created_by",
                "created_at",
            ],
            select(
                literal(document_id), literal(MovementType.REVALUATION.value), literal(CloseClass.REVALUATION.value),
                StockBalance.company_id, StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id,
                StockBalance.status, literal(Decimal("0")), difference, -difference, literal(posting_date),
                literal(period), literal(user_id), literal(utcnow(), UTCDateTime()),
            )
            .join(StandardPrice, StandardPrice.material_id == StockBalance.material_id)
            .where(*conditions),
        )
    )
    new_price = (
        select(StandardPrice.price)
        .where(
            and_(
                StandardPrice.company_id == StockBalance.company_id,
                StandardPrice.material_id == StockBalance.material_id,
                StandardPrice.period == period,
            )
        )
        .scalar_subquery()
    )
    # The balances just restated are exactly those whose ledger rows this document holds.
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
        .values(value=round_product(StockBalance.quantity, new_price))
        .execution_options(synchronize_session=False)
    )
    per_material = session.execute(
        select(StockMovement.material_id, Material.material_type, func.sum(StockMovement.value))
        .join(Material, Material.id == StockMovement.material_id)
        .where(StockMovement.document_id == document_id)
        .group_by(StockMovement.material_id, Material.material_type)
    ).all()
    lines: list[Line] = []
    for material_id, material_type, amount in per_material:
        lines.append(Line(accounts.INVENTORY_ACCOUNT[MaterialType(material_type)], amount, material_id))
        lines.append(Line(accounts.MATERIAL_COST_VARIANCE, -amount, material_id))
    post_entry(
        session, company_id=company_id, entry_date=posting_date, source_type="stock_document",
        source_id=document_id, memo=f"revaluation at standard prices of {period}", lines=lines,
        user_id=user_id,
    )
    return document_id
