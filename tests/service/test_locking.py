"""Postings against the administrative actions that must wait for them (the close, a
cancellation), with real transactions on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.close import close_period
from erp.inventory import queries, services
from tests.stock import account_balance, open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def test_a_posting_into_the_next_period_during_the_close_keeps_ledger_and_balances_equal(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-11")
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-12")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    # December is opened by a first posting, then an issue dated December is left running
    # (uncommitted) while November is closed and restates the stock at December's 12.00
    with session_factory() as session, session.begin():
        services.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                             material_id=world.materials["exc_local"], quantity=D("1"),
                             posting_date=dt.date(2026, 12, 1), destination=services.IssueDestination.PRODUCTION)
    issuing = session_factory()
    issuing.begin()
    services.issue_goods(issuing, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                         material_id=world.materials["exc_local"], quantity=D("99"),
                         posting_date=dt.date(2026, 12, 2), destination=services.IssueDestination.PRODUCTION)
    closed = threading.Event()

    def close() -> None:
        with session_factory() as session, session.begin():
            close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-11")
        closed.set()

    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(1.0)
    assert not closed.is_set(), "the close must wait for the December posting to finish"
    issuing.commit()
    issuing.close()
    closer.join(timeout=30)
    assert closed.is_set()
    with session_factory() as session:
        assert queries.balance_drift(session) == []
        # December's issues took the stock at December's 12.00 (1,200.00); the close restated
        # the 100 kg November handed over (+200.00): nothing is left on zero kilograms
        assert account_balance(session, world.companies["A"], "1403") == D("0.00")
        assert account_balance(session, world.companies["A"], "5001") == D("1200.00")


def test_an_order_cannot_be_cancelled_under_a_receipt_in_progress(
    session_factory: sessionmaker[Session], world: World
) -> None:
    from erp.purchasing import services as purchasing
    from erp.purchasing.errors import OrderHasReceipts
    from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus

    set_standard(session_factory, world, "exc_local", "10.00", period="2026-11")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    with session_factory() as session:
        order_id = session.get(PurchaseOrderLine, line).order_id  # type: ignore[union-attr]
    receiving = session_factory()
    receiving.begin()
    services.receive_goods(receiving, world.actors["clerk_a"], services.ReceiptRequest(
        po_line_id=line, quantity=D("10"), posting_date=dt.date(2026, 11, 20), batch_number="B1",
        manufacture_date=dt.date(2026, 10, 1), expiry_date=dt.date(2029, 1, 1)))
    outcome: list[object] = []

    def cancel() -> None:
        try:
            with session_factory() as session, session.begin():
                purchasing.cancel_order(session, world.actors["buyer_a"], order_id, "no longer needed")
            outcome.append("cancelled")
        except OrderHasReceipts as refused:
            outcome.append(refused)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    time.sleep(1.0)
    assert outcome == [], "the cancellation must wait for the receipt"
    receiving.commit()
    receiving.close()
    canceller.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], OrderHasReceipts)
    with session_factory() as session:
        assert session.get(PurchaseOrder, order_id).status == PurchaseOrderStatus.PARTIALLY_RECEIVED  # type: ignore[union-attr]


def test_opposite_transfers_at_the_same_moment_queue_instead_of_deadlocking(
    session_factory: sessionmaker[Session], world: World
) -> None:
    from erp.errors import DomainError

    set_standard(session_factory, world, "exc_local", "10.00", period="2026-11")
    (to_ambient, to_cool) = open_order(
        session_factory, world, [("exc_local", "1000", "10.00", "A-AMB"), ("exc_local", "1000", "10.00", "A-COOL")]
    )
    receive(session_factory, world, to_ambient, "1000", batch="SHARED")
    receive(session_factory, world, to_cool, "1000", batch="SHARED")
    failures: list[BaseException] = []

    def move(source: str, destination: str, barrier: threading.Barrier) -> None:
        try:
            with session_factory() as session, session.begin():
                barrier.wait()
                services.transfer_stock(
                    session, world.actors["clerk_a"], from_warehouse_id=world.warehouses[source],
                    to_warehouse_id=world.warehouses[destination], material_id=world.materials["exc_local"],
                    quantity=D("5"), posting_date=dt.date(2026, 11, 21))
        except (DomainError, Exception) as error:  # a deadlock surfaces as a database error
            failures.append(error)

    for _ in range(10):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=move, args=("A-AMB", "A-COOL", barrier)),
                   threading.Thread(target=move, args=("A-COOL", "A-AMB", barrier))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    with session_factory() as session:
        assert queries.balance_drift(session) == []


def test_a_posting_that_waited_for_a_price_change_posts_at_the_new_price(
    session_factory: sessionmaker[Session], world: World
) -> None:
    from sqlalchemy import select

    from erp.costing.standards import PriceChange, set_standard_prices
    from erp.inventory.models import StockMovement

    set_standard(session_factory, world, "exc_local", "10.00", period="2026-11")
    set_standard(session_factory, world, "pkg_loose", "2.00", period="2026-11")
    (loose,) = open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")])
    # another material's receipt opens December
    receive(session_factory, world, loose, "10", batch=None, made=None, expires=None, on=dt.date(2026, 12, 1))
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    # December's price is being changed (uncommitted) when a December receipt comes in
    pricing = session_factory()
    pricing.begin()
    set_standard_prices(pricing, world.actors["cost_a"], company_id=world.companies["A"], period="2026-12",
                        prices=[PriceChange(world.materials["exc_local"], D("11.00"))])
    posted: list[int] = []
    failed: list[BaseException] = []

    def post() -> None:
        try:
            posted.append(receive(session_factory, world, line, "100", on=dt.date(2026, 12, 10)))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failed.append(error)

    poster = threading.Thread(target=post)
    poster.start()
    time.sleep(1.0)
    assert not posted and not failed, "the receipt must wait for the price change"
    pricing.commit()
    pricing.close()
    poster.join(timeout=30)
    assert not failed and posted
    with session_factory() as session:
        value = session.scalar(select(StockMovement.value).where(StockMovement.document_id == posted[0]))
    # once it may go on, the price in force for December is 11.00: 100 kg, 1,100.00
    assert value == D("1100.00")
