"""What a group company's intercompany sales order commits on the buyer's purchase order line:
the buyer does not cancel or close the order under a confirmed, unshipped sales order; the
seller confirms and ships only while the buyer's order is open; two sales orders filling one
line at once take their turns on its row lock (PostgreSQL), so they never over-commit it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import services
from erp.credit.errors import IntercompanyOrderInvalid, IntercompanyPurchaseOrderNotOpen
from erp.credit.models import SalesOrder, SalesOrderLine, SalesOrderStatus
from erp.purchasing import orders as purchasing_orders
from erp.purchasing.errors import OrderHasOpenIntercompanySales
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.credit import NOV, POLICY, put_stock
from tests.locks import Worker, waiting_on_a_lock_or_done
from tests.service.test_intercompany import _ic_order, link_companies
from tests.stock import open_order, set_standard
from tests.tax import create_china_vat
from tests.world import World

SF = sessionmaker[Session]


def _buyers_line(session_factory: SF, world: World, quantity: str = "500") -> tuple[int, int]:
    """B's open order to A's supplier record: (its line, the order)."""
    link_companies(session_factory, world)
    create_china_vat(session_factory, world)
    put_stock(session_factory, world, company="A", quantity="1000", standard="60.00")
    set_standard(session_factory, world, "exc_local", "78.00", company="B")
    (po_line,) = open_order(session_factory, world, [("exc_local", quantity, "80.00", "B-AMB")], company="B",
                            supplier="company_a")
    with session_factory() as session:
        order_id = session.scalars(select(PurchaseOrderLine.order_id).where(PurchaseOrderLine.id == po_line)).one()
    return po_line, order_id


def _confirm(session_factory: SF, world: World, order_id: int) -> None:
    with session_factory() as session, session.begin():
        services.confirm_order(session, world.actors["sales_a"], order_id, policy=POLICY)


def test_the_buyer_cannot_end_an_order_a_group_company_has_confirmed_and_not_shipped(
    session_factory: SF, world: World
) -> None:
    """A confirmed 300 of B's 500 and shipped nothing: B neither cancels nor closes its order
    (409 naming A's sales order and what is still to ship); once A cancels its order, B can."""
    po_line, po_id = _buyers_line(session_factory, world)
    sale = _ic_order(session_factory, world, po_line, "300")
    _confirm(session_factory, world, sale)
    with session_factory() as session:
        number = session.get(SalesOrder, sale).number  # type: ignore[union-attr]
    for end in (purchasing_orders.cancel_order, purchasing_orders.close_order):
        with session_factory() as session, session.begin(), pytest.raises(OrderHasOpenIntercompanySales) as refused:
            end(session, world.actors["buyer_b"], po_id, "需求取消")
        assert refused.value.status == 409 and refused.value.slug == "order-has-open-intercompany-sales"
        detail = str(refused.value.message)
        assert detail.startswith("300 on confirmed sales order") and number in detail and "line 1" in detail, detail
        assert refused.value.errors[0]["pointer"] == "/lines/0"
    with session_factory() as session, session.begin():
        services.cancel_order(session, world.actors["sales_a"], sale, reason="买方取消采购")
    with session_factory() as session, session.begin():
        closed = purchasing_orders.close_order(session, world.actors["buyer_b"], po_id, "需求取消")
        assert closed.status == PurchaseOrderStatus.CLOSED


def test_a_draft_does_not_confirm_once_the_buyer_closed_its_order(session_factory: SF, world: World) -> None:
    """A's draft against B's line does not hold B's order; B closes it, and A's confirmation
    is then refused (409 naming B's order and its status) instead of committing goods B can
    never receive."""
    po_line, po_id = _buyers_line(session_factory, world)
    sale = _ic_order(session_factory, world, po_line, "300")
    with session_factory() as session, session.begin():
        purchasing_orders.close_order(session, world.actors["buyer_b"], po_id, "需求取消")
    with session_factory() as session, session.begin(), pytest.raises(IntercompanyPurchaseOrderNotOpen) as refused:
        services.confirm_order(session, world.actors["sales_a"], sale, policy=POLICY)
    assert refused.value.status == 409 and refused.value.slug == "intercompany-purchase-order-not-open"
    assert "is closed" in str(refused.value.message)
    assert refused.value.errors[0]["pointer"] == "/lines/0/partner_po_line_id"


def test_a_shipment_rechecks_the_buyers_order(session_factory: SF, world: World) -> None:
    """Should the buyer's order be ended all the same (closed while the seller's order was
    confirmed, as before this check), the shipment is refused and nothing is posted."""
    po_line, po_id = _buyers_line(session_factory, world)
    sale = _ic_order(session_factory, world, po_line, "300")
    _confirm(session_factory, world, sale)
    with session_factory() as session, session.begin():
        session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po_id)
                        .values(status=PurchaseOrderStatus.CLOSED))
    with session_factory() as session, session.begin(), pytest.raises(IntercompanyPurchaseOrderNotOpen):
        line_id = session.scalars(select(SalesOrderLine.id).where(SalesOrderLine.order_id == sale)).one()
        services.ship_order(session, world.actors["sales_a"], sale, posting_date=NOV, policy=POLICY,
                            lines=[services.ShipmentLineRequest(line_id, D("300"))])
    with session_factory() as session:
        assert session.get(SalesOrder, sale).status == SalesOrderStatus.CONFIRMED  # type: ignore[union-attr]


def test_a_confirmation_rechecks_the_room_on_the_buyers_line(session_factory: SF, world: World) -> None:
    """B's line shrank to 200 (amended on its side) under A's draft for 300: the confirmation
    checks the room again and is refused (422 beside the quantity)."""
    po_line, _ = _buyers_line(session_factory, world)
    sale = _ic_order(session_factory, world, po_line, "300")
    with session_factory() as session, session.begin():
        session.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.id == po_line).values(quantity=D("200")))
    with session_factory() as session, session.begin(), pytest.raises(IntercompanyOrderInvalid) as refused:
        services.confirm_order(session, world.actors["sales_a"], sale, policy=POLICY)
    assert "at most 200" in str(refused.value.message)
    assert refused.value.errors[0]["pointer"] == "/lines/0/quantity"


@pytest.mark.postgres
def test_two_sales_orders_filling_one_line_at_once_do_not_over_commit_it(session_factory: SF, world: World) -> None:
    """A's two salespeople each take an order for all 500 of B's line at the same moment: the
    second waits on the line's lock until the first commits, then sees its 500 and is refused
    (without the lock both read 500 free and B would be sent 1,000)."""
    po_line, _ = _buyers_line(session_factory, world)

    def take(session: Session) -> int:
        return services.create_order(
            session, world.actors["sales_a"], company_id=world.companies["A"],
            customer_id=world.customers["company_b"], order_date=NOV,
            lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses["A-AMB"], D("500"),
                                             D("80.00"), partner_po_line_id=po_line,
                                             tax_code_id=world.tax_codes["VAT0"])]).order.id

    with session_factory() as first:
        first.begin()
        take(first)  # not committed: holds the line's lock
        second = Worker(session_factory, "second", take)
        second.thread.start()
        assert second.started.wait(timeout=30)
        assert second.pid is not None
        waiting_on_a_lock_or_done(session_factory, second.pid, second.done, "the second order")
        assert not second.done.is_set(), f"the second order did not wait for the first: {second.outcome!r}"
        first.commit()
    second.join()
    assert isinstance(second.outcome, IntercompanyOrderInvalid), second.outcome
    assert "at most 0" in str(second.outcome.message)
    with session_factory() as session:
        assert session.scalar(select(SalesOrderLine.quantity).where(SalesOrderLine.partner_po_line_id == po_line)) \
            == D("500")


@pytest.mark.postgres
def test_a_confirmation_and_the_buyers_closing_at_once_take_their_turns(session_factory: SF, world: World) -> None:
    """B closes its order while A confirms a draft against it: A's confirmation waits on the
    order's lock and then finds it closed (409), never a confirmed order on a closed one."""
    po_line, po_id = _buyers_line(session_factory, world)
    sale = _ic_order(session_factory, world, po_line, "300")
    confirming = Worker(session_factory, "confirm",
                        lambda session: services.confirm_order(session, world.actors["sales_a"], sale, policy=POLICY))
    with session_factory() as buyer:
        buyer.begin()
        purchasing_orders.close_order(buyer, world.actors["buyer_b"], po_id, "需求取消")
        confirming.thread.start()
        assert confirming.started.wait(timeout=30) and confirming.pid is not None
        waiting_on_a_lock_or_done(session_factory, confirming.pid, confirming.done, "the confirmation")
        assert not confirming.done.is_set(), confirming.outcome
        buyer.commit()
    confirming.join()
    assert isinstance(confirming.outcome, IntercompanyPurchaseOrderNotOpen), confirming.outcome

