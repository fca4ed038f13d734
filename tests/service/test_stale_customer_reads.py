"""A credit decision is made on the customer master as committed once the exposure row is
locked, on PostgreSQL with real threads (the pattern: tests/locks.py).

A confirmation, a shipment and a controller's release lock the customer's exposure row, then
decide: on credit hold, or blocked in the group master, refused. The statement that locked the
row read the customer with it as the customer stood when that statement began; a block the
steward committed while the lock waited (behind another posting for the same customer) was not
seen, and the order was confirmed, shipped or released, whenever the session held the customer
(a page that showed it, a job working through one customer's orders): the use case then took
that object, as read before the lock or as the locking statement overwrote it. (Held by nothing,
the object was dropped from the session once the lock returned and read afresh by chance.)

Here the test's own transaction holds the exposure row; the use case, in a session that holds
the customer as a page read it, waits on it; the steward blocks the customer and commits; the
test lets go. Each test failed before the use case read the customer again under the lock
(``erp.credit.exposure.lock_position``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import notes
from erp.credit import services as credit
from erp.credit.errors import CustomerOnCreditHold
from erp.credit.exposure import HOLD_RULE
from erp.credit.models import CreditRelease, Invoice, SalesOrder, SalesOrderStatus
from erp.masterdata import services as masterdata
from erp.masterdata.models import Customer
from tests.credit import NOV, POLICY, new_order, position, put_stock, set_limit, while_changed_in_the_master
from tests.tax import create_china_vat
from tests.world import World

pytestmark = pytest.mark.postgres


def _while_blocked_in_the_master(session_factory: sessionmaker[Session], world: World,
                                 work: Callable[[Session], Any], customer: str = "cust1") -> Any:
    """``work`` while the steward blocks the customer (tests/credit.py: ``while_changed_in_the_master``)."""
    return while_changed_in_the_master(session_factory, world, work, {"blocked": True}, customer)


def test_a_confirmation_waiting_on_the_exposure_row_sees_the_customer_blocked_meanwhile(
        session_factory: sessionmaker[Session], world: World) -> None:
    # cust1: limit 100,000, nothing open; a draft of 100 x 100.00 (no VAT) = 10,000.00. Confirmed
    # while the steward blocks cust1, it is blocked by the hold rule and adds nothing to the
    # exposure. Before: confirmed, exposure 10,000.00.
    set_limit(session_factory, world, "cust1", "100000")
    order_id = new_order(session_factory, world).order.id

    def confirm(session: Session) -> credit.OrderResult:
        return credit.confirm_order(session, world.actors["sales_a"], order_id, policy=POLICY)

    result = _while_blocked_in_the_master(session_factory, world, confirm)
    assert isinstance(result, credit.OrderResult), result
    assert result.credit is not None
    assert (result.credit.blocked, result.credit.rule) == (True, HOLD_RULE)
    with session_factory() as session:
        assert session.scalar(select(SalesOrder.status).where(SalesOrder.id == order_id)) == SalesOrderStatus.BLOCKED
    assert position(session_factory, world).exposure == D("0.00")


def test_a_shipment_waiting_on_the_exposure_row_sees_the_customer_blocked_meanwhile(
        session_factory: sessionmaker[Session], world: World) -> None:
    # 1,000 of the excipient in A's ambient store; cust1's order of 100 x 100.00 = 10,000.00
    # confirmed (open orders 10,000.00). Shipping 40 while the steward blocks cust1 is refused
    # customer-on-credit-hold: no invoice, exposure unchanged. Before: shipped and invoiced
    # 4,000.00.
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "100000")
    order = new_order(session_factory, world, confirm=True).order
    assert order.status == SalesOrderStatus.CONFIRMED
    line_id = order.lines[0].id

    def ship(session: Session) -> credit.ShipmentResult:
        return credit.ship_order(session, world.actors["sales_a"], order.id, posting_date=NOV,
                                 lines=[credit.ShipmentLineRequest(line_id, D("40"))], policy=POLICY)

    outcome = _while_blocked_in_the_master(session_factory, world, ship)
    assert isinstance(outcome, CustomerOnCreditHold), outcome
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    after = position(session_factory, world)
    assert (after.open_orders, after.open_invoices) == (D("10000.00"), D("0.00"))


def test_a_release_waiting_on_the_exposure_row_sees_the_customer_blocked_meanwhile(
        session_factory: sessionmaker[Session], world: World) -> None:
    # cust1: limit 5,000; its order of 10,000.00 is blocked at confirmation (over the limit). The
    # controller releases it while the steward blocks cust1: refused customer-on-credit-hold
    # ("lift the hold first"), the order stays blocked, no release recorded. Before: released
    # and confirmed, exposure 10,000.00 of a blocked customer.
    set_limit(session_factory, world, "cust1", "5000")
    order = new_order(session_factory, world, confirm=True).order
    assert order.status == SalesOrderStatus.BLOCKED

    def release(session: Session) -> credit.ReleaseResult:
        return credit.release_order(session, world.actors["credit"], order.id, reason="known payer", policy=POLICY)

    outcome = _while_blocked_in_the_master(session_factory, world, release)
    assert isinstance(outcome, CustomerOnCreditHold), outcome
    with session_factory() as session:
        assert session.scalar(select(SalesOrder.status).where(SalesOrder.id == order.id)) == SalesOrderStatus.BLOCKED
        assert session.scalar(select(func.count()).select_from(CreditRelease)) == 0
    assert position(session_factory, world).exposure == D("0.00")


def test_a_shipment_invoices_at_the_payment_terms_committed_while_it_waited(
        session_factory: sessionmaker[Session], world: World) -> None:
    # The invoice's due date comes from the customer's payment terms as committed when the
    # shipment decides (the session holding the customer as a page read it): changed from cust1's terms to 45 days while the shipment waited on the
    # exposure row, the invoice of 20 Nov is due 45 days later, on 4 Jan 2027.
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "100000")
    order = new_order(session_factory, world, confirm=True).order
    line_id = order.lines[0].id
    customer_id = world.customers["cust1"]

    def ship(session: Session) -> int:
        result = credit.ship_order(session, world.actors["sales_a"], order.id, posting_date=NOV,
                                   lines=[credit.ShipmentLineRequest(line_id, D("40"))], policy=POLICY)
        return result.invoice.id

    with session_factory() as session:
        record = masterdata.get_record(session, world.actors["steward"], masterdata.CUSTOMERS, customer_id)
        assert record.payment_terms_days != 45  # the change is a change
    outcome = while_changed_in_the_master(session_factory, world, ship, {"payment_terms_days": 45}, name="shipment")
    assert isinstance(outcome, int), outcome
    with session_factory() as session:
        due = session.scalar(select(Invoice.due_date).where(Invoice.id == outcome))
    assert due == dt.date(2027, 1, 4)


def test_a_debit_note_waiting_on_the_exposure_row_takes_the_terms_committed_meanwhile(
        session_factory: sessionmaker[Session], world: World) -> None:
    # cust1: 30 days' terms, default tax code VAT13. A debit note of 100.00 dated 20 November
    # without a tax code, issued while the steward changes cust1 to 45 days and VAT9 and
    # commits: it takes the terms committed once the exposure row is locked, due 4 January
    # 2027 (20 November + 45 days), 100.00 + 9.00 VAT = 109.00. Before (terms and default
    # code read before the lock): due 20 December (30 days), 100.00 + 13.00 = 113.00.
    codes = create_china_vat(session_factory, world)
    customer_id = world.customers["cust1"]
    with session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["steward"], masterdata.CUSTOMERS, customer_id,
                                 {"default_tax_code_id": codes["VAT13"]}, reason="general taxpayer")
        assert session.get(Customer, customer_id).payment_terms_days == 30  # type: ignore[union-attr]

    def debit(session: Session) -> tuple[dt.date, D, D]:
        note = notes.issue_debit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                      customer_id=customer_id, note_date=NOV, amount=D("100.00"),
                                      reason="freight re-charged")
        return note.due_date, note.tax_amount, note.amount

    outcome = while_changed_in_the_master(session_factory, world, debit,
                                          {"payment_terms_days": 45, "default_tax_code_id": codes["VAT9"]})
    assert outcome == (dt.date(2027, 1, 4), D("9.00"), D("109.00")), outcome
    assert NOV + dt.timedelta(days=45) == dt.date(2027, 1, 4)
