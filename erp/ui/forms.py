"""Reading a page form's numbers and dates as the API's fields take them.

A page form posts text. The API's schema fields bound every number by the column it goes
into (magnitude and decimal places) and every date to 1990-2199; a page that parsed its
own ``Decimal(text)`` let ``1e30`` through to the database, which refused it with a 500,
and a date of 9999-12-31 through to the books. Every page reads numbers and dates here, so
a form refuses what the API refuses, beside the field, in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from sqlalchemy import Numeric

from erp.db import QUANTITY, largest_value
from erp.errors import ValidationFailed
from erp.messages import Message
from erp.schemas import DECIMAL_TEXT, EARLIEST_DAY, ISO_DATE, LATEST_DAY


def form_number(text: str | None, field: str, column: Numeric = QUANTITY, *, required: bool = True,
                strip: str = ",") -> Decimal | None:
    """The number typed in ``field`` (thousands separators and the characters in ``strip``
    dropped), as a Decimal that ``column`` holds exactly; None when empty and not
    ``required``. Refuses (422 on ``field``) text that is not a plain ASCII number, a
    magnitude beyond the column's, and more decimal places than the column keeps."""
    raw = (text or "").strip()
    for character in strip:
        raw = raw.replace(character, "")
    if not raw:
        if required:
            raise ValidationFailed.for_field(field, Message("required"))
        return None
    if not DECIMAL_TEXT.match(raw):  # ASCII digits only: Decimal() also reads "1e30", "NaN", full-width digits
        raise ValidationFailed.for_field(field, Message("enter a number"))
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise ValidationFailed.for_field(field, Message("enter a number")) from None
    largest = largest_value(column)
    if abs(value) > largest:
        raise ValidationFailed.for_field(field, Message("must be between {min} and {max}", min=-largest, max=largest))
    if value != value.quantize(Decimal(1).scaleb(-column.scale), rounding=ROUND_DOWN):
        raise ValidationFailed.for_field(field, Message("at most {places} decimal places are allowed",
                                                        places=column.scale))
    return value


def form_day(text: str | None, field: str, *, required: bool = True) -> dt.date | None:
    """The date typed in ``field`` (``YYYY-MM-DD``, 1990-01-01 to 2199-12-31 as the API's
    date fields); None when empty and not ``required``. Refuses anything else (422 on ``field``)."""
    raw = (text or "").strip()
    if not raw:
        if required:
            raise ValidationFailed.for_field(field, Message("required"))
        return None
    try:
        if not ISO_DATE.match(raw):
            raise ValueError(raw)
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.for_field(field, Message("enter a date as YYYY-MM-DD")) from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationFailed.for_field(field, Message("must be between {min} and {max}", min=EARLIEST_DAY,
                                                        max=LATEST_DAY))
    return day
