"""The GR/IR report explains the account: after any sequence of receipts, returns,
reversals, invoices and credit memos, 2202.01's balance in the company's books equals the
sum of the report's lines (hypothesis, on PostgreSQL).

Each example works on a fresh order of its own (two lines: a material received straight
into stock and one that goes through quarantine, so that goods can be rejected and sent
back); earlier examples' orders stay in the books, so the check covers them too.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import DomainError
from erp.inventory.services import QualityDecision
from erp.payables import queries
from erp.payables.models import DocumentKind
from tests.payables import enter, vat13_on_materials
from tests.stock import batch_id, decide, open_order, receive, return_goods, reverse, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
_serial = itertools.count(1)
END = dt.date(2026, 12, 31)
LINES = (0, 1)  # 0: exc_local at 12.00 into stock; 1: api_central at 12.50 into quarantine

operation = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(LINES), st.integers(1, 60)),
    st.tuples(st.just("reverse"), st.sampled_from(LINES), st.just(0)),
    st.tuples(st.just("return"), st.just(1), st.integers(1, 30)),
    st.tuples(st.just("invoice"), st.sampled_from(LINES), st.integers(1, 60)),
    st.tuples(st.just("credit"), st.sampled_from(LINES), st.integers(1, 10)),
    # credit memos need an invoice before them: make both likelier
    st.tuples(st.just("invoice"), st.sampled_from(LINES), st.integers(1, 60)),
    st.tuples(st.just("credit"), st.sampled_from(LINES), st.integers(1, 10)),
)


@pytest.fixture
def prepared(session_factory: sessionmaker[Session], world: World) -> tuple[sessionmaker[Session], World]:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "11.00")
    set_standard(session_factory, world, "api_central", "12.00")
    return session_factory, world


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=3, max_size=12),
       prices=st.lists(st.decimals(min_value=D("11.50"), max_value=D("13.50"), places=2), min_size=12, max_size=12))
def test_grir_report_equals_the_account_after_any_sequence(
        prepared: tuple[sessionmaker[Session], World], operations: list[tuple[str, int, int]],
        prices: list[Decimal]) -> None:
    session_factory, world = prepared
    n = next(_serial)
    lines = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                ("api_central", "100", "12.50", "A-COOL")], number=f"PO-P-{n:04d}")
    receipts: dict[int, list[tuple[int, str]]] = {0: [], 1: []}  # (receipt, batch) per line
    for step, ((kind, which, quantity), price) in enumerate(zip(operations, prices * 2)):
        line, q = lines[which], str(quantity)
        try:
            if kind == "receive":
                warehouse = "A-AMB" if which == 0 else "A-COOL"
                batch = f"P{n}-{step}"
                receipts[which].append((receive(session_factory, world, line, q, warehouse=warehouse, batch=batch),
                                        batch))
            elif kind == "reverse" and receipts[which]:
                reverse(session_factory, world, receipts[which][-1][0])
                receipts[which].pop()
            elif kind == "return" and receipts[1]:
                receipt, batch = receipts[1][-1]
                decide(session_factory, world, "A-COOL", batch_id(session_factory, world, "api_central", batch), q,
                       decision=QualityDecision.REJECT)
                return_goods(session_factory, world, receipt, q)
            elif kind in ("invoice", "credit"):
                net = D(q) * price
                tax = (net * D("0.13")).quantize(D("0.01"))
                enter(session_factory, world, f"P{n}-{step}", [(line, q, str(price))], net=str(net), tax=str(tax),
                      kind=DocumentKind.INVOICE if kind == "invoice" else DocumentKind.CREDIT_MEMO)
        except DomainError:
            pass  # refused (over-receipt, nothing to reverse, over-credited ...): nothing was written
        _check(session_factory, world)


def _check(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session:
        check = queries.grir_check(session, world.actors["ap_a"], world.companies["A"], END)
        assert check.agrees, check
        for line in queries.grir_lines(session, world.actors["ap_a"], world.companies["A"], END):
            # quantities and values tell the same story (contract prices 12.00 and 12.50)
            price = D("12.00") if line.material_code == "EXC-STAR" else D("12.50")
            assert line.balance == (line.received_quantity - line.invoiced_quantity) * price, line


