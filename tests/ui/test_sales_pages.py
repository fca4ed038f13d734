"""Sales' pages: the order list of the caller's companies (search, status, totals), a new order
with the customer's credit position before saving, and an order's confirmation under the
credit check (held for the credit controller, with the reason), shipment after a review of
what will ship, and cancellation with a reason; another company's order answers 404.

K0001 is the customer; the excipient ships from A's ambient store at ¥100.00 (VAT0 in the
helpers' orders; the page's orders take the customer's or the material's default code).
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.models import Invoice, SalesOrder, SalesOrderStatus
from tests.credit import new_order, put_stock, set_limit
from tests.tax import create_china_vat
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _order_form(world: World, token: str, **changes: str) -> dict[str, str]:
    data = {"csrf_token": token, "rows": "3", "company_id": str(world.companies["A"]),
            "customer_id": str(world.customers["cust1"]), "order_date": "2026-11-03",
            "material_id-0": str(world.materials["exc_local"]), "warehouse_id-0": str(world.warehouses["A-AMB"]),
            "quantity-0": "100", "unit_price-0": "100.00", "tax_code_id-0": str(world.tax_codes["VAT13"])}
    data.update(changes)
    return data


def test_the_list_shows_the_callers_orders_with_totals_and_filters(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world)
    put_stock(session_factory, world, company="B")
    first = new_order(session_factory, world).order
    new_order(session_factory, world, confirm=True, lines=(("50", "100.00"),))
    other = new_order(session_factory, world, company="B").order
    sign_in(client, world, "sales_a")
    landing = client.get("/", follow_redirects=True)
    page = landing.get_data(as_text=True)
    assert landing.request.path == "/sales/orders"  # the sales role's landing page
    assert "<title>销售订单" in page
    numbers = re.findall(r'data-testid="order-number">([^<]+)<', page)
    assert numbers == ["SO-CA-2026-000002", first.number]  # B's order is not listed
    assert other.number not in page
    assert shown(page, "total-value") if False else re.search(r'data-testid="total-value">¥15,000.00<', page)
    drafts = client.get("/sales/orders", query_string={"status": "draft"}).get_data(as_text=True)
    assert re.findall(r'data-testid="order-number">([^<]+)<', drafts) == [first.number]
    assert re.search(r'data-testid="total-value">¥10,000.00<', drafts)
    found = client.get("/sales/orders", query_string={"q": "第一"}).get_data(as_text=True)
    assert len(re.findall(r'data-testid="order-number"', found)) == 2
    assert "K0001 第一医院" in found


def test_a_new_order_shows_the_credit_position_before_saving_and_saves_a_draft(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    create_china_vat(session_factory, world)  # the world's tax codes
    set_limit(session_factory, world, "cust1", "15000")
    token = sign_in(client, world, "sales_a")
    form = client.get("/sales/orders/new").get_data(as_text=True)
    assert "K0001 第一医院" in form  # the customer chosen by name, not typed
    preview = client.post("/sales/orders/new", data=_order_form(world, token, action="preview"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, shown(page, "refusal")
    assert re.search(r'data-testid="credit-limit">¥15,000.00', page)
    assert re.search(r'data-testid="exposure">¥0.00<', page)
    value = re.search(r'data-testid="order-value">(¥[\d,.]+)<', page).group(1)
    assert re.search(rf'data-testid="exposure-after"><strong>{re.escape(value)}<', page)
    with session_factory() as session:
        assert session.scalar(select(SalesOrder.id)) is None  # the preview wrote nothing
    saved = client.post("/sales/orders/new", data=_order_form(world, token, action="save"))
    assert saved.status_code == 302
    with session_factory() as session:
        order = session.scalars(select(SalesOrder)).one()
        assert order.status == SalesOrderStatus.DRAFT and order.number == "SO-CA-2026-000001"
    # a refusal beside its field, what was typed kept
    refused = client.post("/sales/orders/new", data=_order_form(world, token, action="save",
                                                                **{"quantity-0": "abc"}))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "error-quantity-0") == "请输入数字"
    assert 'value="abc"' in page


def test_an_order_over_the_limit_is_held_with_the_reason(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "5000")
    order = new_order(session_factory, world).order
    token = sign_in(client, world, "sales_a")
    confirmed = client.post(f"/sales/orders/{order.id}/confirmation", data={"csrf_token": token},
                            follow_redirects=True)
    page = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200
    assert "等待信用控制员" in shown(page, "held")
    reason = shown(page, "held-reason")  # the credit check's own words, as the controller reads them
    assert "信用额度" in reason and "5,000" in reason and "10,000" in reason, reason
    assert "/credit/" not in page  # nothing the sales user may not open
    with session_factory() as session:
        assert session.get(SalesOrder, order.id).status == SalesOrderStatus.BLOCKED


def test_confirm_review_and_ship_posts_the_invoice(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world).order
    token = sign_in(client, world, "sales_a")
    client.post(f"/sales/orders/{order.id}/confirmation", data={"csrf_token": token})
    review = client.post(f"/sales/orders/{order.id}/shipment",
                         data={"csrf_token": token, "quantity-0": "40", "posting_date": "2026-11-20",
                               "action": "preview"})
    page = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "¥4,000.00" in shown(page, "shipment-detail")
    with session_factory() as session:
        assert session.scalar(select(Invoice.id)) is None  # the review posted nothing
    posted = client.post(f"/sales/orders/{order.id}/shipment",
                         data={"csrf_token": token, "quantity-0": "40", "posting_date": "2026-11-20",
                               "action": "post"}, follow_redirects=True)
    page = posted.get_data(as_text=True)
    assert "AR-CA-2026-000001" in shown(page, "done")
    assert re.search(r'data-testid="invoice-number">AR-CA-2026-000001<', page)
    assert 'href="/inventory/documents/' in page
    with session_factory() as session:
        assert session.get(SalesOrder, order.id).status == SalesOrderStatus.PARTIALLY_SHIPPED


def test_cancel_asks_why(client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world).order
    token = sign_in(client, world, "sales_a")
    refused = client.post(f"/sales/orders/{order.id}/cancellation", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422
    assert shown(refused.get_data(as_text=True), "error-reason")
    done = client.post(f"/sales/orders/{order.id}/cancellation", data={"csrf_token": token, "reason": "客户取消"},
                       follow_redirects=True)
    assert "客户取消" in shown(done.get_data(as_text=True), "cancel-reason")


def test_another_companys_order_is_not_found(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    put_stock(session_factory, world, company="B")
    other = new_order(session_factory, world, company="B").order
    token = sign_in(client, world, "sales_a")
    assert client.get(f"/sales/orders/{other.id}").status_code == 404
    assert client.post(f"/sales/orders/{other.id}/confirmation", data={"csrf_token": token}).status_code == 404
    refused = client.post("/sales/orders/new", data=_order_form(world, token, action="save",
                                                                company_id=str(world.companies["B"])))
    assert refused.status_code == 403
    sign_in(client, world, "credit")
    assert client.get("/sales/orders").status_code == 403
