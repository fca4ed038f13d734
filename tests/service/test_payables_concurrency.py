"""Two accounts-payable clerks invoicing the same received quantity at the same moment.

Threaded, on PostgreSQL: each clerk's transaction locks the order line (the lock receipts
take) before reading what is already invoiced on it, so the second waits for the first and
sees its quantity. A barrier holds both threads until each has its own connection and the
order line is still uninvoiced.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import DomainError
from erp.payables import services
from erp.payables.errors import OverInvoiced
from erp.payables.models import SupplierInvoice, SupplierInvoiceLine
from tests.payables import NOV_20, vat13_on_materials
from tests.stock import open_order, receive, set_standard
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
