"""Pages name sales orders by their number: the credit desk (held orders, the order, the
customer's orders, what a release blocks, the release), the CIO's invoice, and the
customer returns (shipments of an order, found by its number; the return form).

K0001's limit is 15,000.00: SO-CA-2026-000001 (10,000.00) is confirmed, SO-CA-2026-000002
(another 10,000.00) is blocked at confirmation; releasing it blocks the first at shipment.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.credit import new_order, put_stock, set_limit, ship
from tests.ui.conftest import shown, sign_in
from tests.world import World

FIRST, SECOND = "SO-CA-2026-000001", "SO-CA-2026-000002"


def _cells(page: str, testid: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", found).split()[0]
            for found in re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</td>', page, re.S)]


def test_the_credit_desk_names_orders_by_number(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "15000")
    new_order(session_factory, world, confirm=True)
    blocked = new_order(session_factory, world, confirm=True).order
    token = sign_in(client, world, "credit")
    listing = client.get("/credit/blocked-orders").get_data(as_text=True)
    assert _cells(listing, "order-number") == [SECOND]
    page = client.get(f"/credit/blocked-orders/{blocked.id}").get_data(as_text=True)
    assert f"<title>销售订单 {SECOND}" in page
    assert _cells(page, "order-number") == [FIRST, SECOND]  # the customer's orders
    # what the release would block at shipment, with the company named
    assert f'销售订单 {FIRST} · <span data-testid="effect-company">CA' in page
    released = client.post(f"/credit/blocked-orders/{blocked.id}", data={"reason": "prepaid", "confirmed": "1",
                                                                              "csrf_token": token},
                           follow_redirects=True)
    assert released.status_code == 200
    assert shown(released.get_data(as_text=True), "done") == f"已放行：K0001 第一医院 的销售订单 {SECOND}。"


def test_the_cio_invoice_and_the_returns_name_the_order_shipped(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world)
    new_order(session_factory, world, confirm=True)
    order = new_order(session_factory, world, confirm=True).order
    invoice = ship(session_factory, world, order.id, ["10"]).invoice
    sign_in(client, world, "cio")
    page = client.get(f"/receivables/invoices/{invoice.id}").get_data(as_text=True)
    assert re.search(rf"销售订单</dt>\s*<dd[^>]*>{SECOND}</dd>", page), page

    sign_in(client, world, "sales_a")
    shipments = client.get("/returns/").get_data(as_text=True)
    assert _cells(shipments, "order-number") == [SECOND]
    assert _cells(client.get("/returns/", query_string={"q": SECOND}).get_data(as_text=True),
                  "order-number") == [SECOND]
    assert "data-testid=\"order-number\"" not in client.get("/returns/", query_string={"q": FIRST}).get_data(
        as_text=True)
    document = invoice.lines[0].stock_document_id
    form = client.get(f"/returns/shipments/{document}").get_data(as_text=True)
    assert re.search(rf"销售订单</dt>\s*<dd[^>]*>{SECOND}</dd>", form), form


def test_the_intercompany_page_names_each_order_line_s_order(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    from tests.service.test_intercompany import intercompany_sale

    intercompany_sale(session_factory, world)  # A's first order, to B
    sign_in(client, world, "cio")
    page = client.get("/intercompany/?period=2026-11").get_data(as_text=True)
    assert _cells(page, "order-number") == [FIRST]
