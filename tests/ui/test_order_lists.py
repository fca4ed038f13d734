"""The purchase order lists keep the list conventions (TRIAL.md finding 12): newest first by
order date, then number, as the subtitle says; the search box finds an order by number,
supplier or material (code or name, any case); a totals row gives the value of every order
the filters list, on the buyers' list and on the approval queue."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.stock import open_order
from tests.ui.conftest import shown, sign_in
from tests.world import World


def listed(page: str, testid: str = "orders") -> list[str]:
    table = re.search(rf'data-testid="{testid}".*?</table>', page, re.S)
    assert table, f"no {testid} table"
    return re.findall(r'data-order="([^"]+)"', table.group(0))


def _orders(session_factory: sessionmaker[Session], world: World,
            status: PurchaseOrderStatus = PurchaseOrderStatus.OPEN) -> None:
    # Numbers in the opposite order to their dates: a list by number would read Z, Y, X.
    open_order(session_factory, world, [("pkg_loose", "100", "2.00", "A-AMB")], number="PO-X",
               ordered=dt.date(2026, 11, 11), status=status)  # ¥200.00
    open_order(session_factory, world, [("exc_local", "10", "12.50", "A-AMB")], number="PO-Y", supplier="sup2",
               ordered=dt.date(2026, 10, 12), status=status)  # ¥125.00
    open_order(session_factory, world, [("pkg_loose", "3", "0.35", "A-AMB"), ("exc_local", "1", "13.00", "A-AMB")],
               number="PO-Z", ordered=dt.date(2026, 9, 1), status=status)  # ¥1.05 + ¥13.00
    _valued(session_factory)


def _valued(session_factory: sessionmaker[Session]) -> None:
    """Each order's value, the sum of its lines (as the services keep it; tests.stock.open_order
    writes the lines only)."""
    with session_factory() as session, session.begin():
        lines = (select(func.sum(PurchaseOrderLine.amount)).where(PurchaseOrderLine.order_id == PurchaseOrder.id)
                 .scalar_subquery())
        session.execute(update(PurchaseOrder).values(total_amount=lines))


def test_orders_are_listed_newest_first_by_date_then_number(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _orders(session_factory, world)
    open_order(session_factory, world, [("pkg_loose", "1", "1.00", "A-AMB")], number="PO-W",
               ordered=dt.date(2026, 11, 11))  # the same day as PO-X: the higher number first
    sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders").get_data(as_text=True)
    assert "最新的排在最前" in page
    assert listed(page) == ["PO-X", "PO-W", "PO-Y", "PO-Z"]


def test_the_orders_search_finds_supplier_and_material_and_the_total_covers_the_list(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _orders(session_factory, world)
    sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders").get_data(as_text=True)
    assert shown(page, "orders-total") == "共 3 张订单合计 ¥339.05"
    by_name = client.get("/purchasing/orders", query_string={"q": "瑞丰"}).get_data(as_text=True)
    assert listed(by_name) == ["PO-Y"]  # the supplier by name
    assert shown(by_name, "orders-total") == "共 1 张订单合计 ¥125.00"
    assert listed(client.get("/purchasing/orders", query_string={"q": "s0002"}).get_data(as_text=True)) == ["PO-Y"]
    by_material = client.get("/purchasing/orders", query_string={"q": "exc-star"}).get_data(as_text=True)
    assert listed(by_material) == ["PO-Y", "PO-Z"]  # a material on any line, any case
    assert shown(by_material, "orders-total") == "共 2 张订单合计 ¥139.05"
    assert listed(client.get("/purchasing/orders", query_string={"q": "PO-Z"}).get_data(as_text=True)) == ["PO-Z"]
    # A filter narrows the total with the rows.
    none = client.get("/purchasing/orders", query_string={"status": "draft"}).get_data(as_text=True)
    assert 'data-testid="orders-total"' not in none and 'data-testid="empty"' in none


def test_the_approval_queue_is_searched_and_totalled_the_same_way(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _orders(session_factory, world, status=PurchaseOrderStatus.PENDING_APPROVAL)
    sign_in(client, world, "pm_a")
    page = client.get("/purchasing/approvals").get_data(as_text=True)
    assert listed(page, "approvals") == ["PO-X", "PO-Y", "PO-Z"]
    assert shown(page, "approvals-total") == "共 3 张订单合计 ¥339.05"
    found = client.get("/purchasing/approvals", query_string={"q": "PKG-SHIP"}).get_data(as_text=True)
    assert listed(found, "approvals") == ["PO-X", "PO-Z"]
    assert shown(found, "approvals-total") == "共 2 张订单合计 ¥214.05"
