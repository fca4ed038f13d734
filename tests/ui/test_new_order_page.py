"""The buyer's path to a new order (DESIGN.md: the buyer "sees only what they may order, with
the contract price filled in"; TRIAL.md findings 11 and 13): 可采购物料 and 新建采购订单 are in
the buyers' navigation; the new-order form offers the receiving companies the buyer orders
for and, for the chosen one, what may be ordered with supplier and contract price; the group
buyer orders for another company from it."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing.models import PurchaseOrder
from tests.purchasing_world import Deals
from tests.ui.conftest import shown, sign_in
from tests.world import World


def options(page: str, select_id: str) -> dict[str, str]:
    """value -> text of the options of the select ``select_id``."""
    found = re.search(rf'<select[^>]*id="{select_id}".*?</select>', page, re.S)
    assert found, f"no select {select_id}"
    return {value: " ".join(re.sub(r"<[^>]+>", " ", text).split())
            for value, text in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', found.group(0), re.S)}


def selected(page: str, select_id: str) -> str:
    found = re.search(rf'<select[^>]*id="{select_id}".*?</select>', page, re.S)
    assert found
    chosen = re.search(r'<option value="([^"]*)"[^>]*\sselected', found.group(0))
    return chosen.group(1) if chosen else ""


def test_buyers_find_what_they_may_order_and_a_new_order_in_the_navigation(client: FlaskClient, world: World) -> None:
    for user in ("buyer_a", "group_buyer"):
        sign_in(client, world, user)
        page = client.get("/purchasing/orders").get_data(as_text=True)
        nav = re.search(r"<nav.*?</nav>", page, re.S) or re.search(r'<aside.*?</aside>', page, re.S)
        assert nav, "no navigation"
        assert re.search(r'href="/purchasing/orderable"[^>]*>\s*(<[^>]+>\s*)*可采购物料', nav.group(0)), user
        assert re.search(r'href="/purchasing/orders/new"[^>]*>\s*(<[^>]+>\s*)*新建采购订单', nav.group(0)), user


def test_a_company_buyer_orders_from_what_they_may_order_at_the_contract_price(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders/new").get_data(as_text=True)
    assert 'id="f-company"' not in page  # one company: nothing to choose
    assert "为 CA 甲公司 新建采购订单" in page
    offered = options(page, "f-material_id")
    # Only what company A's buyer may order, each with supplier, contract price and contract.
    assert set(offered) == {"", "EXC-STAR|S0001", "PKG-SHIP|S0001"}
    assert "¥12.345 / 千克" in offered["EXC-STAR|S0001"] and "CA-001" in offered["EXC-STAR|S0001"]
    assert "S0001 华康" in offered["EXC-STAR|S0001"]
    assert "已按可采购物料预填" not in page  # no hint claiming what the page does not do

    # From 可采购物料's 订单 link: the line chosen, its contract price said beside it.
    linked = client.get("/purchasing/orders/new?company=CA&material=EXC-STAR&supplier=S0001").get_data(as_text=True)
    assert selected(linked, "f-material_id") == "EXC-STAR|S0001"
    assert "合同价 ¥12.345 / 千克，取自合同 CA-001" in shown(linked, "contract-price")

    created = client.post("/purchasing/orders/new", data={
        "company": "CA", "offer": "EXC-STAR|S0001", "quantity": "10", "warehouse": "CA-AMB", "csrf_token": token})
    assert created.status_code == 302, created.get_data(as_text=True)
    with session_factory() as session:
        order = session.query(PurchaseOrder).one()
        assert order.receiving_company_id == world.companies["A"]
        assert [(line.material_id, str(line.unit_price)) for line in order.lines] == [
            (world.materials["exc_local"], "12.345000")]


def test_the_group_buyer_chooses_the_receiving_company_and_orders_for_it(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "group_buyer")
    page = client.get("/purchasing/orders/new?company=CB").get_data(as_text=True)
    companies = options(page, "f-company")
    assert {"CA", "CB", "CC"} <= set(companies) and selected(page, "f-company") == "CB"
    assert "为 CB 乙公司 新建采购订单" in page
    offered = options(page, "f-material_id")
    assert set(offered) == {"", "API-AMOX|S0001", "API-INSU|S0001"}  # central materials only
    assert "¥850.00 / 千克" in offered["API-AMOX|S0001"]
    warehouses = options(page, "f-warehouse")
    assert set(warehouses) == {"CB-AMB", "CB-COOL", "CB-COLD"}  # the receiving company's own

    created = client.post("/purchasing/orders/new", data={
        "company": "CB", "offer": "API-AMOX|S0001", "quantity": "2", "warehouse": "CB-COLD", "csrf_token": token})
    assert created.status_code == 302, created.get_data(as_text=True)
    with session_factory() as session:
        order = session.query(PurchaseOrder).one()
        assert order.receiving_company_id == world.companies["B"]
        assert order.is_central
        assert [line.material_id for line in order.lines] == [world.materials["api_central"]]


def test_a_pair_outside_the_rights_named_by_a_link_is_refused_with_the_rule(
    client: FlaskClient, world: World, deals: Deals
) -> None:
    token = sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders/new?company=CA&material=API-AMOX&supplier=S0001").get_data(as_text=True)
    assert selected(page, "f-material_id") == "API-AMOX|S0001"  # kept, not silently replaced
    refused = client.post("/purchasing/orders/new", data={
        "company": "CA", "offer": "API-AMOX|S0001", "quantity": "2", "warehouse": "CA-COLD", "csrf_token": token})
    assert refused.status_code in (403, 422)
    assert "集中采购" in shown(refused.get_data(as_text=True), "error-material")
