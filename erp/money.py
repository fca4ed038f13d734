"""The one place where amounts are rounded: half-up to 0.01 CNY, at posting time."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


CENT = Decimal("0.01")
# Bounds on one document line, far beyond any real business and well inside the columns
# (Numeric(18, 2) holds amounts below 10^16): refusing absurd lines is a 422, not a
# database overflow.
MAX_LINE_QUANTITY = Decimal("1000000000")
MAX_LINE_AMOUNT = Decimal("1000000000000")


def round_money(amount: Decimal) -> Decimal:
    """Round an amount half-up (away from zero on a tie) to 0.01 CNY."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)

