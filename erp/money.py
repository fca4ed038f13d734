"""The one place where amounts are rounded: half-up to 0.01 CNY, at posting time."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from erp.errors import ValidationFailed
from erp.messages import Message

CENT = Decimal("0.01")
# Bounds on one document line, far beyond any real business and well inside the columns
# (Numeric(18, 2) holds amounts below 10^16): refusing absurd lines is a 422, not a
# database overflow.
MAX_LINE_QUANTITY = Decimal("1000000000")
MAX_LINE_AMOUNT = Decimal("1000000000000")


def round_money(amount: Decimal) -> Decimal:
    """Round an amount half-up (away from zero on a tie) to 0.01 CNY."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def period_of(day: object) -> str:
    """The accounting period (YYYY-MM) a date falls in."""
    return f"{day.year:04d}-{day.month:02d}"  # type: ignore[attr-defined]


def require_amount_fits(amount: Decimal, *, field: str, what: str) -> Decimal:
    """``amount`` if a Money column can hold it; else 422 naming the input ``field`` that
    made it (quantity x price can pass every field's own bounds and still overflow)."""
    from erp.db import MONEY, largest_value  # erp.db's SQLite functions round with this module

    largest = largest_value(MONEY)
    if abs(amount) > largest:
        raise ValidationFailed(
            Message("the amount {amount} CNY is beyond the {largest} CNY an amount can be",
                    amount=amount.quantize(CENT), largest=largest),
            slug="amount-out-of-range",
            errors=[{"pointer": f"/{field}", "detail": f"makes {what} larger than an amount can be"}],
        )
    return amount
