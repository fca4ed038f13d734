"""Two shipments of several lines naming the same stock in opposite order (found by
bench.load on 30 November: PostgreSQL's deadlock detector aborted one, answered 409 retry)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import services
from erp.inventory.models import StockBalance
from erp.inventory.services import ReceiptRequest, receive_goods
from tests.credit import NOV, POLICY, new_order
from tests.locks import waiting_on_a_lock_or_done
from tests.stock import batch_id, open_order, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def test_two_shipments_naming_two_batches_in_opposite_order_both_post(
        session_factory: sessionmaker[Session], world: World) -> None:
    # Batches EARLY and LATE of the excipient in A's ambient store. cust1's order ships LATE
    # then EARLY, cust2's EARLY then LATE. A clerk holds LATE while cust1's shipment, then
    # cust2's, start and wait; then lets go. Locked line by line, cust1 waited on LATE and
    # cust2 took EARLY and waited on LATE; cust1 then got LATE and wanted EARLY: a deadlock,
    # one of them aborted. Locked up front in one order (EARLY, LATE), both post in turn.
    set_standard(session_factory, world, "exc_local", "10.00")
    for number, expiry in (("EARLY", dt.date(2027, 6, 30)), ("LATE", dt.date(2028, 6, 30))):
        (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
        with session_factory() as session, session.begin():
            receive_goods(session, world.actors["clerk_a"], ReceiptRequest(
                po_line_id=line, quantity=D("100"), posting_date=dt.date(2026, 11, 2), batch_number=number,
                manufacture_date=dt.date(2026, 10, 1), expiry_date=expiry))
    early = batch_id(session_factory, world, "exc_local", "EARLY")
    late = batch_id(session_factory, world, "exc_local", "LATE")
    orders = {customer: new_order(session_factory, world, customer=customer, confirm=True,
                                  lines=[("10", "20.00"), ("10", "20.00")]).order.id
              for customer in ("cust1", "cust2")}
    batches = {"cust1": (late, early), "cust2": (early, late)}
    pids: dict[str, int] = {}
    started = {customer: threading.Event() for customer in orders}
    done = {customer: threading.Event() for customer in orders}
    outcome: dict[str, Any] = {}

    def seller(customer: str) -> None:
        try:
            with session_factory() as session, session.begin():
                pids[customer] = session.scalar(text("SELECT pg_backend_pid()"))
                started[customer].set()
                order = session.get(services.SalesOrder, orders[customer])
                assert order is not None
                requests = [services.ShipmentLineRequest(line.id, D("10"), batch_id=batch)
                            for line, batch in zip(sorted(order.lines, key=lambda line: line.id),
                                                   batches[customer])]
                outcome[customer] = services.ship_order(
                    session, world.actors["sales_a"], orders[customer], posting_date=NOV, lines=requests,
                    policy=POLICY).invoice.id
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcome[customer] = error
        finally:
            done[customer].set()

    threads = {customer: threading.Thread(target=seller, args=(customer,)) for customer in orders}
    with session_factory() as clerk, clerk.begin():
        clerk.execute(select(StockBalance.id).where(StockBalance.batch_id == late).with_for_update())
        for customer in ("cust1", "cust2"):
            threads[customer].start()
            assert started[customer].wait(timeout=10)
            waiting_on_a_lock_or_done(session_factory, pids[customer], done[customer], f"{customer}'s shipment")
    for thread in threads.values():
        thread.join(timeout=60)
    assert isinstance(outcome.get("cust1"), int), outcome
    assert isinstance(outcome.get("cust2"), int), outcome
