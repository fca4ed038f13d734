"""Two accounts-payable clerks invoicing the same received quantity at the same moment.

Threaded, on PostgreSQL: each clerk's transaction locks the order line (the lock receipts
take) before reading what is already invoiced on it, so the second waits for the first and
sees its quantity. A barrier holds both threads until each has its own connection and the
order line is still uninvoiced.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import DomainError
from erp.inventory import services as inventory
from erp.inventory.models import StockBalance
from erp.payables import services
from erp.payables.errors import OverInvoiced
from erp.payables.models import SupplierInvoice, SupplierInvoiceLine
from tests.locks import waiting_on_a_lock_or_done
from tests.payables import NOV_20, vat13_on_materials
from tests.stock import batch_id, open_order, receive, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres


def _race(session_factory: sessionmaker[Session], world: World, line: int, quantity: str) -> list[Any]:
    """Clerks ap_a and ap_a2 each invoice ``quantity`` of ``line`` at 12.00 at once; each one's
    result (the invoice id) or refusal."""
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def clerk(slot: int, user: str) -> None:
        with session_factory() as session:
            try:
                with session.begin():
                    session.execute(select(1))  # own a connection before the race starts
                    barrier.wait(timeout=10)
                    net = D(quantity) * D("12.00")
                    invoice = services.enter_invoice(session, world.actors[user], services.InvoiceRequest(
                        company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], number=f"{user}-1",
                        invoice_date=NOV_20, net_total=net, tax_total=net * D("0.13"), gross_total=net * D("1.13"),
                        lines=[services.LineRequest(po_line_id=line, quantity=D(quantity), unit_price=D("12.00"))]))
                    results[slot] = invoice.id
            except DomainError as error:
                results[slot] = error

    threads = [threading.Thread(target=clerk, args=(0, "ap_a")), threading.Thread(target=clerk, args=(1, "ap_a2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _invoiced(session_factory: sessionmaker[Session], line: int) -> tuple[Decimal, list[bool]]:
    with session_factory() as session:
        total = session.scalar(select(func.sum(SupplierInvoiceLine.quantity))
                               .where(SupplierInvoiceLine.po_line_id == line))
        blocked = session.scalars(select(SupplierInvoice.blocked).order_by(SupplierInvoice.id)).all()
    return D(total or 0), list(blocked)


@pytest.mark.parametrize("attempt", range(3))
def test_two_clerks_invoicing_all_that_was_received_and_ordered_one_is_refused(
        session_factory: sessionmaker[Session], world: World, attempt: int) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    results = _race(session_factory, world, line, "100")
    assert sorted(type(r).__name__ for r in results) == ["OverInvoiced", "int"]
    assert any(isinstance(r, OverInvoiced) for r in results)
    # 100 received, 100 invoiced, once
    assert _invoiced(session_factory, line) == (D("100"), [False])


@pytest.mark.parametrize("attempt", range(3))
def test_two_clerks_invoicing_the_same_received_quantity_the_second_is_blocked_for_payment(
        session_factory: sessionmaker[Session], world: World, attempt: int) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "200", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    results = _race(session_factory, world, line, "100")
    assert all(isinstance(r, int) for r in results), results
    # both posted (200 may still arrive), but only 100 was received: exactly one is payable
    total, blocked = _invoiced(session_factory, line)
    assert total == D("200") and sorted(blocked) == [False, True]


@pytest.mark.parametrize("first_batch", ["B-LATE", "B-EARLY"])
def test_an_invoice_price_difference_on_two_batches_and_an_issue_of_both_do_not_deadlock(
        session_factory: sessionmaker[Session], world: World, first_batch: str) -> None:
    # The issue locks B-EARLY (expiring first) then B-LATE, first expiry first out. The
    # invoice's price-difference rows, one per order line, are on the batches their lines
    # were received into: if they locked those balances in the posting's order, one of the
    # two orders of the lines deadlocked (review R3). They lock none now (value-only rows
    # leave balances alone); the storekeeper holds B-EARLY until the invoice waits on it or
    # is done, then issues across both batches. Both must commit.
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    first, second = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                        ("exc_local", "100", "12.00", "A-AMB")])
    expiry = {"B-EARLY": dt.date(2027, 6, 30), "B-LATE": dt.date(2028, 6, 30)}
    second_batch = "B-EARLY" if first_batch == "B-LATE" else "B-LATE"
    receive(session_factory, world, first, "100", batch=first_batch, expires=expiry[first_batch])
    receive(session_factory, world, second, "100", batch=second_batch, expires=expiry[second_batch])
    early = batch_id(session_factory, world, "exc_local", "B-EARLY")
    invoice_pid: list[int] = []
    invoice_ready, invoice_done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def clerk() -> None:
        try:
            with session_factory() as session, session.begin():
                invoice_pid.append(session.scalar(text("SELECT pg_backend_pid()")))
                invoice_ready.set()
                outcome["invoice"] = services.enter_invoice(session, world.actors["ap_a"], services.InvoiceRequest(
                    company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], number="PD-LOCKS",
                    invoice_date=NOV_20, net_total=D("2600.00"), tax_total=D("338.00"), gross_total=D("2938.00"),
                    lines=[services.LineRequest(po_line_id=first, quantity=D("100"), unit_price=D("13.00")),
                           services.LineRequest(po_line_id=second, quantity=D("100"), unit_price=D("13.00"))])).id
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcome["invoice"] = error
        finally:
            invoice_done.set()

    def storekeeper() -> None:
        try:
            with session_factory() as session, session.begin():
                # hold B-EARLY as the issue will, until the invoice waits on it or is done
                session.execute(select(StockBalance.id).where(StockBalance.batch_id == early).with_for_update())
                invoice_ready.wait(timeout=10)
                waiting_on_a_lock_or_done(session_factory, invoice_pid[0], invoice_done, "the invoice")
                outcome["issue"] = inventory.issue_goods(
                    session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                    material_id=world.materials["exc_local"], quantity=D("150"), posting_date=NOV_20,
                    destination=inventory.IssueDestination.PRODUCTION, cost_center=None, batch_id=None)
        except Exception as error:  # noqa: BLE001
            outcome["issue"] = error

    threads = [threading.Thread(target=storekeeper), threading.Thread(target=clerk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert isinstance(outcome.get("issue"), int), outcome
    assert isinstance(outcome.get("invoice"), int), outcome
