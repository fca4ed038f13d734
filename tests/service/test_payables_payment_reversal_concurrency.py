"""Reversing a supplier payment while someone else reverses it too, or pays the invoices it
settled, on PostgreSQL (tests/locks.py: the test holds a row, the workers queue behind it
one by one, then it lets go).

The world is test_payables_payment_reversal's: INV-1 1,356.00 (due 20 December) and INV-2
678.00 (due 30 November); payment P of 1,500.00 settled INV-2 678.00 and INV-1 822.00
(INV-1 534.00 open).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.payables import services
from erp.payables.errors import DatedBeforeReopening, PaymentExceedsOpenItems
from erp.payables.models import PaymentAllocation, SupplierInvoice, SupplierPayment
from erp.posting.models import JournalEntry
from tests.locks import Worker, queued_behind
from tests.service.test_payables_payment_reversal import (  # noqa: F401 - fixture
    NOV_22, NOV_25, books, pay, two_invoices)
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres


def _reversal(world: World, payment_id: int, user: str) -> Any:
    def work(session: Session) -> int:
        return services.reverse_payment(session, world.actors[user], payment_id, reason=f"{user}: bank return",
                                        reversal_date=NOV_25).id
    return work


def _payment(world: World, invoice_id: int, amount: str, on: dt.date = NOV_25) -> Any:
    def work(session: Session) -> int:
        return services.pay_supplier(session, world.actors["ap_a2"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=on,
            amount=D(amount), invoice_ids=[invoice_id])).id
    return work


def _hold(session_factory: sessionmaker[Session], table: Any, key: int, workers: list[Worker]) -> dict[str, Any]:
    holder = session_factory()
    holder.begin()
    holder.execute(select(table.id).where(table.id == key).with_for_update())
    try:
        return queued_behind(holder, workers)
    finally:
        holder.close()


def _reversal_entries(session: Session) -> int:
    return session.scalar(select(func.count(JournalEntry.id))
                          .where(JournalEntry.source_type == services.SOURCE_PAYMENT_REVERSAL)) or 0


def _open_amounts_agree_with_the_standing_payments(session: Session) -> dict[str, D]:
    """Every invoice's open amount is its gross total less what standing payments settled
    on it (no credit memos here); returns the open amounts by number."""
    found = {}
    for invoice in session.scalars(select(SupplierInvoice).order_by(SupplierInvoice.id)):
        settled = session.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
                                 .join(SupplierPayment, SupplierPayment.id == PaymentAllocation.payment_id)
                                 .where(PaymentAllocation.invoice_id == invoice.id,
                                        SupplierPayment.reversed_at.is_(None)))
        assert invoice.open_amount == invoice.gross_total - D(settled), invoice.number
        assert invoice.open_amount >= 0
        found[invoice.number] = invoice.open_amount
    return found


@pytest.mark.parametrize("attempt", range(3))
def test_two_reversals_of_one_payment_at_once_exactly_one_wins(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]],
        attempt: int) -> None:
    first, second, _ = two_invoices
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    outcomes = _hold(session_factory, SupplierPayment, payment_id, [
        Worker(session_factory, "first", _reversal(world, payment_id, "ap_a")),
        Worker(session_factory, "second", _reversal(world, payment_id, "ap_a2"))])
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["PaymentReversed", "int"], outcomes
    winner = "ap_a" if isinstance(outcomes["first"], int) else "ap_a2"
    with session_factory() as session:
        assert _reversal_entries(session) == 1
        # given back once: 534.00 + 822.00 and 0.00 + 678.00, never twice
        assert _open_amounts_agree_with_the_standing_payments(session) == {"INV-1": D("1356.00"),
                                                                           "INV-2": D("678.00")}
        payment = session.get(SupplierPayment, payment_id)
        assert payment is not None and payment.reversal_reason == f"{winner}: bank return"
        assert books(session, world.companies["A"])["2202"] == D("-2034.00")
        assert "1002" not in books(session, world.companies["A"])


@pytest.mark.parametrize("amount", ["534.00", "1356.00"])
@pytest.mark.parametrize("payment_first", [True, False])
def test_a_reversal_racing_a_new_payment_of_the_same_invoice_never_overpays_it(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]],
        payment_first: bool, amount: str) -> None:
    """The test holds INV-1's row, which both take (the reversal after P's row and INV-2).
    The new payment is dated the reversal's day (one dated before it: the next test).
    A new payment of 534.00 (what is open before the reversal) posts either way and INV-1
    ends at 822.00 open (1,356.00 - 534.00). One of 1,356.00 (all of INV-1, only open after
    the reversal) posts when the reversal went first (INV-1 0.00 open), and is refused
    ``payment-exceeds-open-items`` when it went first (INV-1 1,356.00 open)."""
    first, second, _ = two_invoices
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    payment = Worker(session_factory, "payment", _payment(world, first, amount))
    reversal = Worker(session_factory, "reversal", _reversal(world, payment_id, "ap_a"))
    outcomes = _hold(session_factory, SupplierInvoice, first, [payment, reversal] if payment_first
                     else [reversal, payment])
    assert isinstance(outcomes["reversal"], int), outcomes
    with session_factory() as session:
        assert _reversal_entries(session) == 1
        found = _open_amounts_agree_with_the_standing_payments(session)
    assert found["INV-2"] == D("678.00")
    if amount == "534.00":
        assert isinstance(outcomes["payment"], int), outcomes
        assert found["INV-1"] == D("822.00")
    elif payment_first:
        assert isinstance(outcomes["payment"], PaymentExceedsOpenItems), outcomes
        assert found["INV-1"] == D("1356.00")
    else:
        assert isinstance(outcomes["payment"], int), outcomes
        assert found["INV-1"] == D("0.00")


@pytest.mark.parametrize("amount", ["534.00", "535.00"])
@pytest.mark.parametrize("payment_first", [True, False])
def test_a_payment_dated_before_a_racing_reversal_pays_only_what_was_open_on_its_date(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]],
        payment_first: bool, amount: str) -> None:
    """A new payment of INV-1 dated 22 November, racing P's reversal dated 25 November (the
    test holds INV-1's row; both take it). 534.00, what was open on 22 November, posts
    either way: payment first, the reversal then gives P's 822.00 back; reversal first, the
    payment, locking INV-1 after it, sees that P still settled 822.00 on 22 November and
    that 534.00 was open then (until 1 December 2026 it was refused ``dated-before-reopening``
    whatever the amount). INV-1 ends at 822.00 open. 535.00 is refused either way, INV-1
    1,356.00 open: payment first, ``payment-exceeds-open-items`` (534.00 open);
    reversal first, ``dated-before-reopening`` (1,356.00 open now, 534.00 on 22 November:
    read under the lock, else it would post and leave INV-1 at -1.00 on 22 to 24
    November). Never negative in between."""
    first, second, _ = two_invoices
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    payment = Worker(session_factory, "payment", _payment(world, first, amount, on=NOV_22))
    reversal = Worker(session_factory, "reversal", _reversal(world, payment_id, "ap_a"))
    outcomes = _hold(session_factory, SupplierInvoice, first, [payment, reversal] if payment_first
                     else [reversal, payment])
    assert isinstance(outcomes["reversal"], int), outcomes
    with session_factory() as session:
        assert _reversal_entries(session) == 1
        found = _open_amounts_agree_with_the_standing_payments(session)
    if amount == "534.00":
        assert isinstance(outcomes["payment"], int), outcomes
        assert found == {"INV-1": D("822.00"), "INV-2": D("678.00")}
    else:
        assert isinstance(outcomes["payment"], PaymentExceedsOpenItems if payment_first else DatedBeforeReopening), \
            outcomes
        assert found == {"INV-1": D("1356.00"), "INV-2": D("678.00")}
