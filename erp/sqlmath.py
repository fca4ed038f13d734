"""Money arithmetic inside SQL that gives the same cents on PostgreSQL and SQLite.

PostgreSQL computes with exact ``numeric`` and ``round(x, 2)`` rounds half away from zero,
which is the project's half-up rule. SQLite has only binary floats, so 3 x 0.335 may come
out as 1.00499999... and round down. On SQLite these functions therefore call Python
user-defined functions that rebuild exact decimals from the operands (values stored with
at most 15 significant digits survive the float round trip as their shortest repr) and
round with ``erp.money.round_money``. One SQLAlchemy expression, the same cents on both.

Time spans likewise: ``milliseconds_between`` is a whole number on both, so a rule such as
"longer than the logging interval" compares integers, never a float that came out as
5.000000000x minutes on SQLite for readings exactly five minutes apart.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger, Numeric

from erp.money import CENT, round_money


class round_product(FunctionElement[Decimal]):  # noqa: N801 - SQL function naming
    """round(a * b, 2): a quantity times a price, posted to the cent."""

    type = Numeric(18, 2)
    name = "round_product"
    inherit_cache = True


class round_cents(FunctionElement[Decimal]):  # noqa: N801 - SQL function naming
    """round(x, 2): a sum or a difference of amounts in cents, kept at the cent (on SQLite
    such a float may carry noise far below a cent: 214.2 - 204.0 is 10.199999999999989, and a
    sum that is 0.00 may be 5e-15, which ``!= 0`` would take for an amount)."""

    type = Numeric(18, 2)
    name = "round_cents"
    inherit_cache = True


class round_share(FunctionElement[Decimal]):  # noqa: N801
    """round(amount * numerator / denominator, 2), or 0 when the denominator is 0:
    the share of a total that ``amount`` bears (e.g. consumption's share of a variance)."""

    type = Numeric(18, 2)
    name = "round_share"
    inherit_cache = True


class floor_share(FunctionElement[Decimal]):  # noqa: N801
    """floor(amount * numerator / denominator, 2): a share of an amount, rounded down to
    the cent (a capacity of the credit limit model; NULL when any operand is NULL)."""

    type = Numeric(18, 2)
    name = "floor_share"
    inherit_cache = True


class floor_step(FunctionElement[Decimal]):  # noqa: N801
    """floor(amount / step) * step: an amount in cents rounded down to a multiple of ``step``."""

    type = Numeric(18, 2)
    name = "floor_step"
    inherit_cache = True


class ratio(FunctionElement[Decimal]):  # noqa: N801
    """round(numerator / denominator, places) half-up, NULL when the denominator is 0:
    a ratio of two sums of cents, compared with bands at a fixed number of places."""

    type = Numeric(20, 10)
    name = "ratio"
    inherit_cache = True


class least_of(FunctionElement[Decimal]):  # noqa: N801
    """The least of its arguments (none may be NULL: SQLite's min() would give NULL, while
    PostgreSQL's least() skips it)."""

    type = Numeric(18, 2)
    name = "least_of"
    inherit_cache = True


class milliseconds_between(FunctionElement[int]):  # noqa: N801
    """later - earlier in whole milliseconds (two instants; rounded half away from zero)."""

    type = BigInteger()
    name = "milliseconds_between"
    inherit_cache = True


@compiles(milliseconds_between, "postgresql")
def _milliseconds_pg(element: milliseconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    # EXTRACT gives an exact numeric on PostgreSQL 14 and later.
    return f"CAST(round(EXTRACT(EPOCH FROM (({later}) - ({earlier}))) * 1000) AS bigint)"


@compiles(milliseconds_between, "sqlite")
def _milliseconds_sqlite(element: milliseconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    # SQLite's date functions count whole milliseconds (julianday is that count / 86400000.0);
    # the float's error, some tens of microseconds, is far below the half millisecond rounded off.
    return f"CAST(round((julianday({later}) - julianday({earlier})) * 86400000.0) AS INTEGER)"


@compiles(floor_share, "postgresql")
def _floor_share_pg(element: floor_share, compiler: Any, **kw: Any) -> str:
    amount, numerator, denominator = (compiler.process(c, **kw) for c in element.clauses)
    # Multiply before dividing: the quotient is exact wherever it terminates.
    return f"(floor(CAST(({amount}) AS numeric) * ({numerator}) * 100 / ({denominator})) / 100)"


@compiles(floor_step, "postgresql")
def _floor_step_pg(element: floor_step, compiler: Any, **kw: Any) -> str:
    amount, step = (compiler.process(c, **kw) for c in element.clauses)
    return f"(floor(CAST(({amount}) AS numeric) / ({step})) * ({step}))"


@compiles(ratio, "postgresql")
def _ratio_pg(element: ratio, compiler: Any, **kw: Any) -> str:
    numerator, denominator, places = element.clauses
    digits = compiler.process(places, **{**kw, "literal_binds": True})
    return (f"round(CAST(({compiler.process(numerator, **kw)}) AS numeric) / "
            f"nullif(({compiler.process(denominator, **kw)}), 0), {digits})")


@compiles(least_of, "postgresql")
def _least_pg(element: least_of, compiler: Any, **kw: Any) -> str:
    return f"least({compiler.process(element.clauses, **kw)})"


@compiles(floor_share, "sqlite")
def _floor_share_sqlite(element: floor_share, compiler: Any, **kw: Any) -> str:
    return f"erp_floor_share({compiler.process(element.clauses, **kw)})"


@compiles(floor_step, "sqlite")
def _floor_step_sqlite(element: floor_step, compiler: Any, **kw: Any) -> str:
    return f"erp_floor_step({compiler.process(element.clauses, **kw)})"


@compiles(ratio, "sqlite")
def _ratio_sqlite(element: ratio, compiler: Any, **kw: Any) -> str:
    return f"erp_ratio({compiler.process(element.clauses, **kw)})"


@compiles(least_of, "sqlite")
def _least_sqlite(element: least_of, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(round_product, "postgresql")
def _product_pg(element: round_product, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"round(CAST(({a}) AS numeric) * ({b}), 2)"


@compiles(round_cents, "postgresql")
def _cents_pg(element: round_cents, compiler: Any, **kw: Any) -> str:
    return f"round(CAST(({compiler.process(element.clauses, **kw)}) AS numeric), 2)"


@compiles(round_cents, "sqlite")
def _cents_sqlite(element: round_cents, compiler: Any, **kw: Any) -> str:
    return f"erp_round_cents({compiler.process(element.clauses, **kw)})"


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


def _sqlite_round_cents(amount: Any) -> float | None:
    if amount is None:
        return None
    return float(round_money(_exact(amount)))


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


def _sqlite_floor_share(amount: Any, numerator: Any, denominator: Any) -> float | None:
    if amount is None or numerator is None or denominator is None:
        return None
    # The amount is a stored or summed amount in cents; the factors are short decimals.
    exact = _exact(amount).quantize(CENT) * _exact(numerator) / _exact(denominator)
    return float(exact.quantize(CENT, rounding=ROUND_FLOOR))


def _sqlite_floor_step(amount: Any, step: Any) -> float | None:
    if amount is None or step is None:
        return None
    return float((_exact(amount).quantize(CENT) / _exact(step)).to_integral_value(ROUND_FLOOR) * _exact(step))


def _sqlite_ratio(numerator: Any, denominator: Any, places: Any) -> float | None:
    if numerator is None or denominator is None:
        return None
    den = _exact(denominator).quantize(CENT)
    if den == 0:
        return None
    quotient = _exact(numerator).quantize(CENT) / den
    return float(quotient.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP))


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Install the Python implementations on a new SQLite connection."""
    dbapi_connection.create_function("erp_round_product", 2, _sqlite_round_product, deterministic=True)
    dbapi_connection.create_function("erp_round_cents", 1, _sqlite_round_cents, deterministic=True)
    dbapi_connection.create_function("erp_round_share", 3, _sqlite_round_share, deterministic=True)
    dbapi_connection.create_function("erp_floor_share", 3, _sqlite_floor_share, deterministic=True)
    dbapi_connection.create_function("erp_floor_step", 2, _sqlite_floor_step, deterministic=True)
    dbapi_connection.create_function("erp_ratio", 3, _sqlite_ratio, deterministic=True)
