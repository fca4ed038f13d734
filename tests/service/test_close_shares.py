"""The close's sum of a material's rounded shares (``erp.costing.close._sum_of_shares``), on
PostgreSQL, where the one-pass allocation uses it.

The close allocates each consumption line round_half_up(consumed x variance / base, 0.01)
(docs/costing.md) and needs, per material, the sum of those shares: what stays with the
stock is the variance less that sum, and with no stock left the rounding residue is the
variance less that sum. It was a scalar subquery over the unnested array of the material's
consumed values; it is now written out element by element for up to ``SHARES_INLINE``
elements (the subquery stays for more). This test holds the expression to the rule in plain
Decimal, and to the subquery, for arrays of every length from none to beyond the inline
limit, with a zero base among them: a term dropped, a term counted twice, an element read at
the wrong position, or the fallback not taken past the limit, each fails it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Numeric, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from erp.costing.close import SHARES_INLINE, _sum_of_shares
from erp.sqlmath import round_share

pytestmark = pytest.mark.postgres

CENT = D("0.01")


def _reference(consumed: list[D] | None, to_allocate: D, base: D) -> D | None:
    """The rule: each line's share rounded half up to the cent, then added (none: NULL)."""
    if not consumed:
        return None
    if base == 0:
        return D("0.00")
    return sum(((value * to_allocate / base).quantize(CENT, rounding=ROUND_HALF_UP) for value in consumed), D("0.00"))


def _expressions() -> tuple[object, object]:
    """The close's expression and the subquery, over a row of bound values (as the close has
    them: columns of its figures)."""
    row = select(bindparam("consumed", type_=ARRAY(Numeric())).label("consumed"),
                 bindparam("to_allocate", type_=Numeric()).label("to_allocate"),
                 bindparam("base", type_=Numeric()).label("base")).subquery("figures")
    element = func.unnest(row.c.consumed).column_valued("consumed")
    by_subquery = select(func.sum(round_share(element, row.c.to_allocate, row.c.base))).scalar_subquery()
    return (select(_sum_of_shares(row.c.consumed, row.c.to_allocate, row.c.base, by_subquery), by_subquery),
            select(_sum_of_shares(row.c.consumed, row.c.to_allocate, row.c.base, by_subquery)))


money = st.decimals(min_value=D("-99999.99"), max_value=D("99999.99"), places=2, allow_nan=False,
                    allow_infinity=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(consumed=st.lists(money.filter(lambda value: value != 0), min_size=0, max_size=SHARES_INLINE + 3),
       to_allocate=money, base=money)
# each length once with a rate whose shares round both ways, and a zero base
@example(consumed=[D("1.50")] * 1, to_allocate=D("1.00"), base=D("3.00"))
@example(consumed=[D("1.50"), D("2.50"), D("-0.75")], to_allocate=D("-1.00"), base=D("3.00"))
@example(consumed=[D("10.00"), D("20.00"), D("30.00"), D("40.00"), D("50.00"), D("60.00")],
         to_allocate=D("7.00"), base=D("300.00"))
@example(consumed=[D(f"{n}.01") for n in range(1, SHARES_INLINE + 3)], to_allocate=D("5.55"), base=D("77.70"))
@example(consumed=[D("5.00"), D("6.00")], to_allocate=D("3.00"), base=D("0"))
@example(consumed=[], to_allocate=D("3.00"), base=D("9.00"))
def test_the_inline_sum_of_shares_is_the_sum_of_the_rounded_shares(
    engine: Engine, consumed: list[D], to_allocate: D, base: D
) -> None:
    both, _ = _expressions()
    with engine.connect() as connection:
        got, expected_in_sql = connection.execute(
            both,
            {"consumed": consumed or None, "to_allocate": to_allocate, "base": base},
        ).one()
    assert got == _reference(consumed, to_allocate, base)
    assert got == expected_in_sql


def test_past_the_inline_limit_every_element_still_counts(engine: Engine) -> None:
    """Lines beyond ``SHARES_INLINE`` are summed by the subquery: none is dropped."""
    _, inline = _expressions()
    consumed = [D("1.00")] * (SHARES_INLINE + 2)
    with engine.connect() as connection:
        got = connection.execute(inline, {"consumed": consumed, "to_allocate": D("1.00"),
                                                  "base": D("1.00")}).scalar_one()
    assert got == D("1.00") * (SHARES_INLINE + 2)
