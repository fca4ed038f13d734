"""Look-ups the purchasing use cases share: a live record by id, a validity window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.messages import Message, Term
from erp.errors import ValidationFailed
from erp.masterdata.models import UnitOfMeasure
from erp.purchasing import errors as e


def active_row(session: Session, model: Any, row_id: int, field: str, *, lock: bool = False) -> Any:
    """An active master record named by a request field (422 on that field otherwise)."""
    query = select(model).where(model.id == row_id)
    if lock:
        query = query.with_for_update(of=model).execution_options(populate_existing=True)
    row = session.scalars(query).one_or_none()
    if row is None or not row.active:
        raise ValidationFailed.for_field(field, Message("no active {kind} with id {key}", kind=Term(model.__name__.lower()),
                                                        key=row_id))
    return row


def check_validity(valid_from: dt.date, valid_to: dt.date) -> None:
    if valid_from > valid_to:
        raise ValidationFailed.for_field("valid_to", Message("{valid_to} is before valid_from {valid_from}", valid_to=valid_to,
                                                             valid_from=valid_from))


def check_precision(quantity: Decimal, unit: UnitOfMeasure, pointer: str) -> None:
    if not unit.admits(quantity):
        raise e.QuantityTooPrecise(
            Message("{quantity} {unit}: quantities in {unit} take at most {decimals} decimals", quantity=quantity,
                    unit=unit.code, decimals=unit.decimals),
            pointer=pointer,
        )
