"""A draft purchase order gains, changes and loses lines on its page (UAT finding 14), through
replace_order_lines: every line checked and priced again as when an order is created (rights,
contract, warehouse, the unit's decimals), a refusal shown beside the row it concerns with
what was typed kept, and nothing changed by a refused save.

Company A's buyer orders from S0001 under CA-001: EXC-STAR at 12.345 per kg, PKG-SHIP at 0.35
each (tests/purchasing_world.py); API-AMOX is a central material only group purchasing orders."""

from __future__ import annotations

from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.purchasing_world import Deals
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _draft(client: FlaskClient, token: str) -> str:
    created = client.post("/purchasing/orders/new", data={
        "company": "CA", "offer": "EXC-STAR|S0001", "quantity": "10", "warehouse": "CA-AMB", "csrf_token": token})
    assert created.status_code == 302
    return created.headers["Location"].rsplit("/", 1)[-1]


def _lines(session_factory: sessionmaker[Session], number: str) -> list[tuple[str, D, D]]:
    with session_factory() as session:
        return [tuple(row) for row in session.execute(
            select(Material.code, PurchaseOrderLine.quantity, PurchaseOrderLine.amount)
            .join(Material, Material.id == PurchaseOrderLine.material_id)
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
            .where(PurchaseOrder.number == number).order_by(PurchaseOrderLine.line_no))]


def test_a_buyer_changes_a_quantity_and_adds_a_line_on_the_drafts_page(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    number = _draft(client, token)
    page = client.get(f"/purchasing/orders/{number}").get_data(as_text=True)
    assert 'data-testid="lines-form"' in page
    assert 'name="quantity-0" value="10"' in page and 'name="quantity-1" value=""' in page  # the line, a blank row
    assert "PKG-SHIP PKG-SHIP — ¥0.35 / 个" in " ".join(page.split())  # what may be ordered, at its price
    saved = client.post(f"/purchasing/orders/{number}", data={
        "action": "lines", "rows": "2", "csrf_token": token,
        "material-0": "EXC-STAR", "warehouse-0": "CA-AMB", "quantity-0": "20",
        "material-1": "PKG-SHIP", "warehouse-1": "CA-AMB", "quantity-1": "100"})
    assert saved.status_code == 302 and "done=lines" in saved.headers["Location"]
    # 20 x 12.345 = 246.90; 100 x 0.35 = 35.00, each at the contract price
    assert _lines(session_factory, number) == [("EXC-STAR", D("20"), D("246.90")), ("PKG-SHIP", D("100"), D("35.00"))]
    after = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "订单行已保存" in shown(after, "done")
    assert "¥281.90" in shown(after, "order-lines")


def test_a_line_the_buyer_may_not_order_is_refused_beside_its_row_and_nothing_changes(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    number = _draft(client, token)
    refused = client.post(f"/purchasing/orders/{number}", data={
        "action": "lines", "rows": "2", "csrf_token": token,
        "material-0": "EXC-STAR", "warehouse-0": "CA-AMB", "quantity-0": "15",
        "material-1": "API-AMOX", "warehouse-1": "CA-AMB", "quantity-1": "5"})
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "集中采购" in shown(page, "error-material_id-1")  # the rule, beside the second row
    assert 'data-testid="error-material_id-0"' not in page
    assert 'name="quantity-0" value="15"' in page and 'name="quantity-1" value="5"' in page  # kept as typed
    assert _lines(session_factory, number) == [("EXC-STAR", D("10"), D("123.45"))]
    # a piece count with decimals: the unit's rule, beside the quantity of its row
    refused = client.post(f"/purchasing/orders/{number}", data={
        "action": "lines", "rows": "2", "csrf_token": token,
        "material-0": "EXC-STAR", "warehouse-0": "CA-AMB", "quantity-0": "10",
        "material-1": "PKG-SHIP", "warehouse-1": "CA-AMB", "quantity-1": "1.5"})
    assert refused.status_code == 422
    assert shown(refused.get_data(as_text=True), "error-quantity-1")
    assert _lines(session_factory, number) == [("EXC-STAR", D("10"), D("123.45"))]


def test_a_line_is_removed_but_the_last_one_stays(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    number = _draft(client, token)
    two = {"action": "lines", "rows": "2", "csrf_token": token,
           "material-0": "EXC-STAR", "warehouse-0": "CA-AMB", "quantity-0": "10",
           "material-1": "PKG-SHIP", "warehouse-1": "CA-AMB", "quantity-1": "100"}
    assert client.post(f"/purchasing/orders/{number}", data=two).status_code == 302
    removed = client.post(f"/purchasing/orders/{number}", data={**two, "rows": "3", "remove-0": "1"})
    assert removed.status_code == 302
    assert _lines(session_factory, number) == [("PKG-SHIP", D("100"), D("35.00"))]
    last = client.post(f"/purchasing/orders/{number}", data={
        "action": "lines", "rows": "2", "csrf_token": token, "remove-0": "1",
        "material-0": "PKG-SHIP", "warehouse-0": "CA-AMB", "quantity-0": "100"})
    assert last.status_code == 422
    assert "取消" in shown(last.get_data(as_text=True), "error-lines")
    assert _lines(session_factory, number) == [("PKG-SHIP", D("100"), D("35.00"))]


def test_only_a_drafts_buyer_is_offered_the_line_form(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    number = _draft(client, token)
    sign_in(client, world, "pm_a")
    assert 'data-testid="lines-form"' not in client.get(f"/purchasing/orders/{number}").get_data(as_text=True)
    with session_factory() as session, session.begin():
        order = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).one()
        order.status = PurchaseOrderStatus.OPEN
    sign_in(client, world, "buyer_a")
    assert 'data-testid="lines-form"' not in client.get(f"/purchasing/orders/{number}").get_data(as_text=True)
