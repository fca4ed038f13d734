"""Trial finding 125: goods the buyer sends back to the selling group company are not goods in
transit to the buyer. A ships 1,000 kg to B; B receives them and returns 100 kg to A (a return
to the supplier on its purchase order line), which A then takes back (a customer return on its
shipment, with a credit note). The trade report shows the 100 kg on their way back until A
books them, never in transit to B; B may close its order; A may fill the 100 kg B's line is
open for again (a replacement)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.consolidation import eliminations as intercompany
from erp.credit import notes, services
from erp.credit.errors import IntercompanyOrderInvalid
from erp.credit.models import InvoiceLine, SalesOrderLine
from erp.purchasing import orders as purchasing_orders
from erp.purchasing.errors import OrderHasGoodsInTransit
from erp.purchasing.models import PurchaseOrderLine, PurchaseOrderStatus
from tests.service.test_intercompany import NOV_21, NOV_25, _ic_order, intercompany_sale
from tests.stock import receive, return_goods
from tests.ui.conftest import sign_in
from tests.world import World

SF = sessionmaker[Session]
NOV_30 = NOV_25.replace(day=30)


def _trade(session_factory: SF, world: World, as_of: object = NOV_30) -> intercompany.TradeLine:
    with session_factory() as session:
        (line,) = intercompany.trade_lines(session, world.actors["cio"], as_of=as_of)  # type: ignore[arg-type]
    return line


def _return_sale(session_factory: SF, world: World) -> tuple[int, int, int]:
    """The sale, received by B and 100 kg of it returned to A: (sales order, B's line, its order)."""
    order_id, po_line = intercompany_sale(session_factory, world, receive_on=None)
    with session_factory() as session:
        po_id = session.scalars(select(PurchaseOrderLine.order_id).where(PurchaseOrderLine.id == po_line)).one()
    receipt = receive(session_factory, world, po_line, "1000", batch="IC-0001", user="clerk_b", warehouse="B-AMB",
                      on=NOV_21)
    return_goods(session_factory, world, receipt, "100", user="clerk_b", on=NOV_25)
    return order_id, po_line, po_id


def _seller_takes_back(session_factory: SF, world: World, order_id: int) -> None:
    with session_factory() as session, session.begin():
        shipment = session.scalars(select(InvoiceLine.stock_document_id).join(
            SalesOrderLine, SalesOrderLine.id == InvoiceLine.order_line_id).where(
            SalesOrderLine.order_id == order_id)).one()
        assert shipment is not None
        notes.return_goods(session, world.actors["sales_a"], shipment_document_id=shipment, quantity=D("100"),
                           posting_date=NOV_30, reason="乙公司退回破损")


def test_goods_the_buyer_returned_are_on_their_way_back_not_in_transit_to_it(
    session_factory: SF, world: World
) -> None:
    order_id, _, _ = _return_sale(session_factory, world)
    line = _trade(session_factory, world, NOV_25)
    assert (line.shipped_quantity, line.received_quantity) == (D("1000"), D("900"))
    assert (line.in_transit_quantity, line.returning_quantity) == (D("0"), D("100"))
    # the margin on the 100 kg is still unrealised (they are in the group): 900 held + 100 back
    assert line.unrealised_profit == D("20000.00")
    _seller_takes_back(session_factory, world, order_id)
    line = _trade(session_factory, world)
    assert (line.shipped_quantity, line.received_quantity) == (D("900"), D("900"))
    assert (line.in_transit_quantity, line.returning_quantity) == (D("0"), D("0"))
    assert line.unrealised_profit == D("18000.00")


def test_the_buyer_closes_its_order_once_the_rest_is_received_whatever_it_returned(
    session_factory: SF, world: World
) -> None:
    """B received all 1,000 kg and sent 100 back: nothing is on its way to it, so it may close
    its order before A books the return (it was refused: 100 'not yet received')."""
    _, _, po_id = _return_sale(session_factory, world)
    with session_factory() as session, session.begin():
        closed = purchasing_orders.close_order(session, world.actors["buyer_b"], po_id, "退货后不再补货")
        assert closed.status == PurchaseOrderStatus.CLOSED


def test_the_line_reopened_by_the_return_can_be_filled_again(session_factory: SF, world: World) -> None:
    """B's line is open for the 100 kg it returned; once A has taken them back, A may take a
    replacement order for 100 kg (refused before: the 100 kg counted as still coming), not 101."""
    order_id, po_line, _ = _return_sale(session_factory, world)
    _seller_takes_back(session_factory, world, order_id)
    with pytest.raises(IntercompanyOrderInvalid) as refused:
        _ic_order(session_factory, world, po_line, "101")
    assert "at most 100" in str(refused.value.message), str(refused.value.message)
    _ic_order(session_factory, world, po_line, "100")


def test_goods_still_on_their_way_to_the_buyer_still_hold_its_order(session_factory: SF, world: World) -> None:
    """The rule the returns must not weaken: 1,000 kg shipped, 600 received, 100 of them
    returned: 400 are still on their way to B, and B can neither close its order nor see them
    as anything but in transit."""
    order_id, po_line = intercompany_sale(session_factory, world, receive_on=None)
    with session_factory() as session:
        po_id = session.scalars(select(PurchaseOrderLine.order_id).where(PurchaseOrderLine.id == po_line)).one()
    receipt = receive(session_factory, world, po_line, "600", batch="IC-0001", user="clerk_b", warehouse="B-AMB",
                      on=NOV_21)
    return_goods(session_factory, world, receipt, "100", user="clerk_b", on=NOV_25)
    line = _trade(session_factory, world)
    assert (line.in_transit_quantity, line.returning_quantity) == (D("400"), D("100"))
    with session_factory() as session, session.begin(), pytest.raises(OrderHasGoodsInTransit) as refused:
        purchasing_orders.close_order(session, world.actors["buyer_b"], po_id, "不再需要")
    assert str(refused.value.message).startswith("400 shipped"), str(refused.value.message)
    del order_id


def test_the_intercompany_page_shows_the_returned_goods_apart(
    session_factory: SF, world: World, client: object
) -> None:
    _return_sale(session_factory, world)
    sign_in(client, world, "cio")  # type: ignore[arg-type]
    page = client.get("/intercompany/?period=2026-11").get_data(as_text=True)  # type: ignore[attr-defined]
    assert "退回途中" in page
    assert 'data-testid="returning"><span class="tag">100' in page, page
