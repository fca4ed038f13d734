"""A row read before it is locked, in the same session, on PostgreSQL.

A page reads a row to show or resolve something (no lock), then a service locks it. While
the service waits on the lock another transaction changes the row and commits. Locking
must read the row again: without ``populate_existing`` SQLAlchemy hands back the object
already in the session with the values read before the lock, and the service decides on
(and writes back) what the other transaction replaced.

The test's own transaction plays the other one: it holds the row (paying the invoice,
receiving against the order), the worker reads the row, then waits on its lock
(tests/locks.py); the test commits, the worker goes on.

A row read with the locked one but not locked itself (the customer beside its exposure row)
is read by the locking statement as it stood when that statement began: what committed while
it waited needs a statement of its own, after the lock.
"""

from __future__ import annotations

from decimal import Decimal
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import services as credit
from erp.credit.exposure import HOLD_RULE, CreditDecision, CreditOutcome
from erp.inventory import services as inventory
from erp.payables import credit_memos, queries, services
from erp.payables.models import SupplierInvoice
from erp.purchasing import errors as purchasing_errors
from erp.purchasing import services as purchasing
from erp.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from tests.credit import POLICY, set_limit, while_changed_in_the_master
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.stock import EXPIRES, MADE, open_order, receive, return_goods, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres


def _behind_the_page(session_factory: sessionmaker[Session], page_reads: Callable[[Session], Any],
                     elsewhere: Callable[[Session], Any], page_acts: Callable[[Session], Any]) -> Any:
    """In one session and transaction, ``page_reads`` (the row into the identity map, no lock),
    then ``elsewhere`` runs and commits in a transaction of its own (the row moves on), then
    ``page_acts`` (the service, which locks the row) and a commit. What ``page_reads`` returns
    is held meanwhile, as the page holds what it read (the identity map holds objects only
    while something refers to them). Returns what ``page_acts`` returned, or the exception it
    raised (nothing of it committed then)."""
    with session_factory() as session:
        session.begin()
        read = page_reads(session)
        with session_factory() as other, other.begin():
            elsewhere(other)
        try:
            outcome = page_acts(session)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            session.rollback()
            return error
        session.commit()
        del read
        return outcome


def test_a_credit_memo_entered_from_the_page_sees_a_payment_committed_while_it_waited(
        session_factory: sessionmaker[Session], world: World) -> None:
    """INV-S1 open 1,389.90; a payment of all of it holds the invoice's row; the accountant's
    page has read the invoice (open 1,389.90) and posts a 277.98 credit memo against it, which
    waits on the row. The payment commits: the memo then finds the invoice settled (open 0.00)
    and reduces nothing of it (the memo stays open, 277.98); the payment stands, and the
    invoice stays at 0.00 (the stale read wrote 1,111.92 back: the invoice could be paid
    twice, and 2202 disagreed with the invoices)."""
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-S1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    returned = return_goods(session_factory, world, receipt, "20")

    actor = world.actors["ap_a"]

    def page_reads(session: Session) -> SupplierInvoice:
        found = queries.get_invoice(session, actor, invoice_id)
        assert found.open_amount == D("1389.90")
        return found

    def payment(session: Session) -> None:
        services.pay_supplier(session, world.actors["ap_a2"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=NOV_20,
            amount=D("1389.90"), invoice_ids=[invoice_id]))

    def memo(session: Session) -> int:
        return credit_memos.enter_credit_memo(session, actor, services.InvoiceRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], number="CM-S1",
            invoice_date=NOV_20, net_total=D("246.00"), tax_total=D("31.98"), gross_total=D("277.98"),
            lines=[services.LineRequest(po_line_id=line, quantity=D("20"), unit_price=D("12.30"),
                                        return_document_id=returned)],
            credits_invoice_id=invoice_id), reason="20 kg returned").id

    memo_id = _behind_the_page(session_factory, page_reads, payment, memo)
    assert isinstance(memo_id, int), memo_id
    with session_factory() as session:
        open_amounts = dict(session.execute(select(SupplierInvoice.id, SupplierInvoice.open_amount)).all())
    # the invoice stays paid; the memo reduced nothing of it and is open, to be set off later
    assert open_amounts == {invoice_id: D("0.00"), memo_id: D("277.98")}


def test_an_order_cancelled_from_the_page_sees_a_receipt_committed_while_it_waited(
        session_factory: sessionmaker[Session], world: World) -> None:
    """An open order of 100 kg; a receipt of 10 kg holds the order's row; the buyer's page has
    read the order (nothing received) and cancels it, which waits on the row. The receipt
    commits: the cancel then sees 10 kg received and is refused; the order stays partly
    received (the stale read would have cancelled an order with goods received)."""
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    with session_factory() as session:
        order_id = session.scalar(select(PurchaseOrder.id))

    actor = world.actors["buyer_a"]

    def page_reads(session: Session) -> PurchaseOrder:
        order = purchasing.get_purchase_order(session, actor, order_id)
        assert order.nothing_received
        return order

    def receipt(session: Session) -> None:
        inventory.receive_goods(session, world.actors["clerk_a"], inventory.ReceiptRequest(
            po_line_id=line, quantity=D("10"), posting_date=NOV_20, batch_number="B-001", manufacture_date=MADE,
            expiry_date=EXPIRES))

    outcome = _behind_the_page(session_factory, page_reads, receipt,
                               lambda session: purchasing.cancel_order(session, actor, order_id, "not needed"))
    assert isinstance(outcome, purchasing_errors.OrderHasReceipts), outcome
    with session_factory() as session:
        assert session.scalar(select(PurchaseOrder.status)) != PurchaseOrderStatus.CANCELLED


def test_a_locked_credit_check_sees_the_customer_blocked_while_it_waited(
        session_factory: sessionmaker[Session], world: World) -> None:
    """cust1 has a limit of 100,000 and nothing open; a posting holds its exposure row. A credit
    check of 25,000 under the lock (as a confirmation decides) has the customer in its session
    already (a page showed it, not blocked) and waits on the row; meanwhile the steward blocks
    the customer in the group master and commits; then the posting commits. The check is
    blocked by the hold rule. It passed (25,000 of 100,000) while it took the customer as the
    locking statement had read it, before the block, or as the page had."""
    set_limit(session_factory, world, "cust1", "100000")  # its exposure row, committed

    def check(session: Session) -> CreditDecision:
        return credit.check_credit(session, world.actors["credit"], customer_id=world.customers["cust1"],
                                   amount=D("25000"), policy=POLICY, lock=True)

    decision = while_changed_in_the_master(session_factory, world, check, {"blocked": True}, name="check")
    assert isinstance(decision, CreditDecision), decision
    assert (decision.outcome, decision.rule, decision.exposure_after) == (CreditOutcome.BLOCKED, HOLD_RULE, D("25000"))
