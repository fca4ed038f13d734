"""Reversing a supplier invoice while someone else reverses or pays it, on PostgreSQL.

The test holds the invoice's row (the lock payments and reversals take) in its own
transaction, starts the two workers one by one, each left waiting (tests/locks.py), then
lets go: exactly one of them wins, and the other sees what the first did.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.payables import services
from erp.payables.errors import InvoiceReversed, InvoiceSettled
from erp.payables.models import SupplierInvoice, SupplierPayment
from erp.posting.models import JournalEntry
from tests.locks import Worker, queued_behind
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres


def _invoice(session_factory: sessionmaker[Session], world: World) -> int:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    return enter(session_factory, world, "INV-RACE", [(line, "100", "12.30")], net="1230.00", tax="159.90")


def _reversal(world: World, invoice_id: int, user: str) -> Any:
    def work(session: Session) -> int:
        return services.reverse_invoice(session, world.actors[user], invoice_id, reason=f"{user}: wrong price",
                                        reversal_date=NOV_20).id
    return work


def _payment(world: World, invoice_id: int) -> Any:
    def work(session: Session) -> int:
        return services.pay_supplier(session, world.actors["ap_a2"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=NOV_20,
            amount=D("1389.90"), invoice_ids=[invoice_id])).id
    return work


def _race(session_factory: sessionmaker[Session], invoice_id: int, workers: list[Worker]) -> dict[str, Any]:
    holder = session_factory()
    holder.begin()
    holder.execute(select(SupplierInvoice.id).where(SupplierInvoice.id == invoice_id).with_for_update())
    try:
        return queued_behind(holder, workers)
    finally:
        holder.close()


def _reversals_and_payments(session_factory: sessionmaker[Session]) -> tuple[int, int, Decimal]:
    with session_factory() as session:
        reversals = session.scalar(select(func.count(JournalEntry.id))
                                   .where(JournalEntry.source_type == services.SOURCE_REVERSAL))
        payments = session.scalar(select(func.count(SupplierPayment.id)))
        open_amount = session.scalar(select(SupplierInvoice.open_amount))
    return reversals or 0, payments or 0, D(open_amount)


@pytest.mark.parametrize("attempt", range(3))
def test_two_reversals_of_one_invoice_at_once_one_is_refused(
        session_factory: sessionmaker[Session], world: World, attempt: int) -> None:
    invoice_id = _invoice(session_factory, world)
    outcomes = _race(session_factory, invoice_id, [
        Worker(session_factory, "first", _reversal(world, invoice_id, "ap_a")),
        Worker(session_factory, "second", _reversal(world, invoice_id, "ap_a2"))])
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["InvoiceReversed", "int"], outcomes
    # one reversal entry; the invoice names the reversal that won
    assert _reversals_and_payments(session_factory) == (1, 0, D("0.00"))
    winner = "ap_a" if isinstance(outcomes["first"], int) else "ap_a2"
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and invoice.reversal_reason == f"{winner}: wrong price"


@pytest.mark.parametrize("payment_first", [True, False])
def test_a_reversal_racing_a_payment_of_the_invoice_exactly_one_wins(
        session_factory: sessionmaker[Session], world: World, payment_first: bool) -> None:
    invoice_id = _invoice(session_factory, world)
    payment = Worker(session_factory, "payment", _payment(world, invoice_id))
    reversal = Worker(session_factory, "reversal", _reversal(world, invoice_id, "ap_a"))
    outcomes = _race(session_factory, invoice_id, [payment, reversal] if payment_first else [reversal, payment])
    if isinstance(outcomes["payment"], int):
        # paid first: the reversal is refused, the payment must be reversed first
        assert isinstance(outcomes["reversal"], InvoiceSettled), outcomes
        assert _reversals_and_payments(session_factory) == (0, 1, D("0.00"))
    else:
        # reversed first: nothing is paid on a reversed invoice
        assert isinstance(outcomes["payment"], InvoiceReversed), outcomes
        assert isinstance(outcomes["reversal"], int), outcomes
        assert _reversals_and_payments(session_factory) == (1, 0, D("0.00"))
