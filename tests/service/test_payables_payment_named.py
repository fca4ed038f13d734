"""A payment naming invoices pays only those, on PostgreSQL (docs/payables.md, *Payments*).

The world is test_payables_payment_reversal's: INV-1 1,356.00 due 20 December, INV-2 678.00
due 30 November, both posted 20 November.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.payables.errors import PaymentExceedsOpenItems
from tests.service.test_payables_payment_reversal import open_amounts, pay, two_invoices  # noqa: F401 - fixture
from tests.service.test_payables_reopening import allocations, payments
from tests.stock import refused
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres


def test_a_payment_of_more_than_its_named_invoices_is_refused_naming_each_open_amount_and_spills_nowhere(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """1,500.00 naming INV-2 (678.00 open): the 822.00 beyond it is not put on INV-1, which the
    remittance does not name (the supplier would apply it to INV-2 and find 822.00 it cannot
    place), nor kept on account (there is no payment on account, as for a payment naming
    none): 422 ``payment-exceeds-open-items`` naming INV-2 and its 678.00, ``open_amounts``
    {"INV-2": "678.00"}; nothing written, both invoices as they were. 678.00 naming INV-2
    posts; 1,356.00 naming none then pays INV-1 (the oldest due with anything open)."""
    first, second, _ = two_invoices
    with refused(session_factory, PaymentExceedsOpenItems) as refusal:
        pay(session_factory, world, "1500.00", [second])
    assert refusal.value.status == 422 and refusal.value.errors[0]["pointer"] == "/amount"
    assert str(refusal.value.detail) == (
        "the payment of 1500.00 is more than the 678.00 open on the invoices it names (INV-2 678.00): a payment pays "
        "only the invoices it names; name the others too, or name none to pay the oldest due first")
    assert refusal.value.extensions["open_amounts"] == {"INV-2": "678.00"}
    assert refusal.value.extensions["payable"] == "678.00"
    with session_factory() as session:
        assert payments(session) == 0
        assert open_amounts(session, first, second) == [D("1356.00"), D("678.00")]
    named = pay(session_factory, world, "678.00", [second])
    rest = pay(session_factory, world, "1356.00", None)
    with session_factory() as session:
        assert allocations(session, named) == {second: D("678.00")}
        assert allocations(session, rest) == {first: D("1356.00")}
        assert open_amounts(session, first, second) == [D("0.00"), D("0.00")]


def test_two_named_invoices_are_each_named_with_their_open_amount_when_the_payment_exceeds_both(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """2,034.01 naming INV-1 and INV-2 (1,356.00 + 678.00 = 2,034.00 open): refused, naming
    both in the order given; 2,034.00 posts."""
    first, second, _ = two_invoices
    with refused(session_factory, PaymentExceedsOpenItems) as refusal:
        pay(session_factory, world, "2034.01", [first, second])
    assert "more than the 2034.00 open on the invoices it names (INV-1 1356.00, INV-2 678.00)" in str(
        refusal.value.detail)
    pay(session_factory, world, "2034.00", [first, second])
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("0.00"), D("0.00")]
