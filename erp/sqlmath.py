"""Money arithmetic inside SQL that gives the same cents on PostgreSQL and SQLite.

PostgreSQL computes with exact ``numeric`` and ``round(x, 2)`` rounds half away from zero,
which is the project's half-up rule. SQLite has only binary floats, so 3 x 0.335 may come
out as 1.00499999... and round down. On SQLite these functions therefore call Python
user-defined functions that rebuild exact decimals from the operands (values stored with
at most 15 significant digits survive the float round trip as their shortest repr) and
round with ``erp.money.round_money``. One SQLAlchemy expression, the same cents on both.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Numeric

from erp.money import CENT, round_money


class round_product(FunctionElement[Decimal]):  # noqa: N801 - SQL function naming
    """round(a * b, 2): a quantity times a price, posted to the cent."""

    type = Numeric(18, 2)
    name = "round_product"
    inherit_cache = True


class round_share(FunctionElement[Decimal]):  # noqa: N801
    """round(amount * numerator / denominator, 2), or 0 when the denominator is 0:
    the share of a total that ``amount`` bears (e.g. consumption's share of a variance)."""

    type = Numeric(18, 2)
    name = "round_share"
    inherit_cache = True


@compiles(round_product, "postgresql")
def _product_pg(element: round_product, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"round(CAST(({a}) AS numeric) * ({b}), 2)"


@compiles(round_share, "postgresql")
def _share_pg(element: round_share, compiler: Any, **kw: Any) -> str:
    amount, numerator, denominator = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"CASE WHEN ({denominator}) = 0 THEN 0 "
        f"ELSE round(CAST(({amount}) AS numeric) * ({numerator}) / ({denominator}), 2) END"
    )


@compiles(round_product, "sqlite")
def _product_sqlite(element: round_product, compiler: Any, **kw: Any) -> str:
    return f"erp_round_product({compiler.process(element.clauses, **kw)})"


@compiles(round_share, "sqlite")
def _share_sqlite(element: round_share, compiler: Any, **kw: Any) -> str:
    return f"erp_round_share({compiler.process(element.clauses, **kw)})"


def _exact(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else str(value))


# The SQLite implementations round exactly in Decimal, then hand the result back as a
# float: SQLite has no decimal type (its NUMERIC columns hold REAL), and a text result
# would compare unequal to every number in SQL. The value is already at the cent.
def _sqlite_round_product(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    return float(round_money(_exact(a) * _exact(b)))


def _sqlite_round_share(amount: Any, numerator: Any, denominator: Any) -> float | None:
    if amount is None or numerator is None or denominator is None:
        return None
    try:
        # The operands are sums of cents; float summation may leave noise far below a cent.
        den = _exact(denominator).quantize(CENT)
        if den == 0:
            return 0.0
        return float(round_money(_exact(amount).quantize(CENT) * _exact(numerator).quantize(CENT) / den))
    except InvalidOperation:
        return None


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Install the Python implementations on a new SQLite connection."""
    dbapi_connection.create_function("erp_round_product", 2, _sqlite_round_product, deterministic=True)
    dbapi_connection.create_function("erp_round_share", 3, _sqlite_round_share, deterministic=True)
