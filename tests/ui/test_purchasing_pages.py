"""Purchasing's pages offer what the order's life and the rights allow: a draft (or an order
waiting for approval, or an open one with nothing received) is cancelled from its page with
a reason, an open one closed; a refusal reads in Chinese. What a buyer may order names the
steward's exception that allows a central material, and records are named by code and name.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing import services
from erp.purchasing.models import (
    ContractLine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, PurchasingException,
)
from tests.purchasing_world import Deals
from tests.stock import open_order
from tests.ui.conftest import shown, sign_in
from tests.world import ApiClient, World


def _facts(page: str) -> str:
    """The text of the confirmation step's facts (what the order's change will do)."""
    found = re.search(r'data-testid="confirm-order-change-facts"[^>]*>(.*?)</dl>', page, re.S)
    assert found, "no confirmation step on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def _status(session_factory: sessionmaker[Session], number: str) -> PurchaseOrderStatus:
    with session_factory() as session:
        order = session.query(PurchaseOrder).filter_by(number=number).one()
        return order.status


def test_a_draft_is_cancelled_from_its_page_with_a_reason(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-CX-1",
               status=PurchaseOrderStatus.DRAFT)
    token = sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders/PO-CX-1").get_data(as_text=True)
    assert 'data-testid="cancel-order"' in page and "取消订单" in shown(page, "order-end")
    assert 'data-testid="close-order"' not in page  # a draft is not closed: nothing was expected yet

    refused = client.post("/purchasing/orders/PO-CX-1", data={"action": "cancel", "reason": " ", "csrf_token": token})
    assert refused.status_code == 422
    assert shown(refused.get_data(as_text=True), "error-reason") == "请填写取消订单的原因"
    # the title names the rule (the field and its message), not the generic 「请求内容无效」
    assert shown(refused.get_data(as_text=True), "refusal") == "原因 （取消时必填）：请填写取消订单的原因"
    assert _status(session_factory, "PO-CX-1") == PurchaseOrderStatus.DRAFT

    # checked first: what the cancellation will do, nothing done yet
    form = {"action": "cancel", "reason": "供应商停产，改向其他供应商采购", "csrf_token": token}
    checked = client.post("/purchasing/orders/PO-CX-1", data=form)
    assert checked.status_code == 200
    facts = _facts(checked.get_data(as_text=True))
    assert "状态 草稿 → 已取消" in facts and "供应商停产，改向其他供应商采购" in facts
    assert "PKG-SHIP PKG-SHIP" in facts and "订购 10 个" in facts
    # a cancellation posts nothing: its warning says so, not the postings' 「过账后不能撤销」
    warning = shown(checked.get_data(as_text=True), "confirm-order-change-warning")
    assert warning == "不生成凭证。已取消的订单不能恢复。"
    assert _status(session_factory, "PO-CX-1") == PurchaseOrderStatus.DRAFT
    done = client.post("/purchasing/orders/PO-CX-1", data={**form, "confirmed": "1"})
    assert done.status_code == 302
    assert _status(session_factory, "PO-CX-1") == PurchaseOrderStatus.CANCELLED
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已取消：该订单不再收货" in shown(after, "done")
    assert "已取消" in shown(after, "order-status")
    text = " ".join(after.split())
    assert "供应商停产，改向其他供应商采购" in text and "取消人" in text and "buyer_a" in text
    assert 'data-testid="cancel-order"' not in after  # nothing more to end


def test_an_open_order_is_closed_from_its_page(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-CX-2")
    token = sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders/PO-CX-2").get_data(as_text=True)
    assert 'data-testid="cancel-order"' in page and 'data-testid="close-order"' in page
    checked = client.post("/purchasing/orders/PO-CX-2", data={"action": "close", "reason": "", "csrf_token": token})
    assert checked.status_code == 200
    assert "状态 已下达 → 已关闭" in _facts(checked.get_data(as_text=True))
    assert _status(session_factory, "PO-CX-2") == PurchaseOrderStatus.OPEN
    done = client.post("/purchasing/orders/PO-CX-2", data={"action": "close", "reason": "", "confirmed": "1",
                                                           "csrf_token": token})
    assert done.status_code == 302
    assert _status(session_factory, "PO-CX-2") == PurchaseOrderStatus.CLOSED
    assert "已关闭：不再等待收货" in shown(client.get(done.headers["Location"]).get_data(as_text=True), "done")


def test_cancelling_an_order_with_receipts_is_refused_in_chinese(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    line_ids = open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-CX-3",
                          status=PurchaseOrderStatus.PARTIALLY_RECEIVED)
    with session_factory() as session, session.begin():
        session.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.id == line_ids[0])
                        .values(received_quantity=4))
    token = sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orders/PO-CX-3").get_data(as_text=True)
    assert 'data-testid="cancel-order"' not in page and 'data-testid="close-order"' in page
    refused = client.post("/purchasing/orders/PO-CX-3", data={"action": "cancel", "reason": "不再需要",
                                                              "csrf_token": token})
    assert refused.status_code == 409
    assert "订单 PO-CX-3 已有收货；请关闭订单，而不是取消" in shown(refused.get_data(as_text=True), "refusal")
    assert _status(session_factory, "PO-CX-3") == PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_a_rejection_is_checked_first_showing_the_contract_quantity_it_releases_then_confirmed(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """Rejecting sends a submitted order back to draft and takes its 10 EA off its contract
    line's ordered quantity (10 -> 0): the manager sees that before confirming; going back to
    the form keeps the reason typed."""
    (line,) = open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-CX-5",
                         status=PurchaseOrderStatus.PENDING_APPROVAL)
    with session_factory() as session, session.begin():
        contract_line = session.get(PurchaseOrderLine, line).contract_line_id
        session.execute(update(ContractLine).where(ContractLine.id == contract_line).values(ordered_quantity=10))
    token = sign_in(client, world, "pm_a")
    form = {"action": "reject", "reason": "数量需与计划核对", "csrf_token": token}
    checked = client.post("/purchasing/orders/PO-CX-5", data=form)
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    facts = _facts(page)
    assert "状态 待审批 → 草稿" in facts and "数量需与计划核对" in facts
    assert "合同 K-PO-CX-5-1 已订：10 个 → 0 个" in facts
    assert 'data-testid="approve"' not in page  # the check replaces the forms until confirmed or edited
    assert _status(session_factory, "PO-CX-5") == PurchaseOrderStatus.PENDING_APPROVAL
    with session_factory() as session:
        assert session.get(ContractLine, contract_line).ordered_quantity == 10
    back = client.post("/purchasing/orders/PO-CX-5", data={**form, "confirmed": "1", "edit": "1"})
    assert back.status_code == 200 and "数量需与计划核对</textarea>" in back.get_data(as_text=True)
    done = client.post("/purchasing/orders/PO-CX-5", data={**form, "confirmed": "1"})
    assert done.status_code == 302
    assert _status(session_factory, "PO-CX-5") == PurchaseOrderStatus.DRAFT
    with session_factory() as session:
        assert session.get(ContractLine, contract_line).ordered_quantity == 0


def test_the_order_page_names_the_purchasing_company_and_the_warehouse(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-CX-4",
               status=PurchaseOrderStatus.DRAFT)
    sign_in(client, world, "buyer_a")
    text = " ".join(client.get("/purchasing/orders/PO-CX-4").get_data(as_text=True).split())
    assert "<dt>采购组织</dt><dd>CA 甲公司</dd>" in text
    assert "<td>CA-AMB AMB</td>" in text


def test_what_i_may_order_names_the_stewards_exception(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], deals: Deals
) -> None:
    """A central material ordered by company A's buyer under an exception: who granted it,
    when, until when and why, on its row; a local material's row names no exception."""
    with session_factory() as session, session.begin():
        services.grant_exception(
            session, world.actors["steward"], company_id=world.companies["A"], material_id=world.materials["api_central"],
            valid_from=deals.today - dt.timedelta(days=2), valid_to=deals.today + dt.timedelta(days=10),
            reason="集中采购供应商断货，紧急自主采购")
        granted = session.query(PurchasingException).one().granted_at
    sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/orderable").get_data(as_text=True)
    start, end = deals.today - dt.timedelta(days=2), deals.today + dt.timedelta(days=10)
    said = shown(page, "exception-API-AMOX")
    assert said.startswith("例外授权：steward 于 ")
    assert f"有效期 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}，原因：集中采购供应商断货，紧急自主采购" in said
    assert f"于 {granted:%Y-%m-%d}"[:-2] in said and " 授予，" in said  # when, in the reader's time zone
    assert 'data-testid="exception-EXC-STAR"' not in page  # a local material needs none


def test_what_i_may_order_through_the_api_carries_the_exception(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], deals: Deals, api: ApiClient
) -> None:
    with session_factory() as session, session.begin():
        services.grant_exception(
            session, world.actors["steward"], company_id=world.companies["A"], material_id=world.materials["api_central"],
            valid_from=deals.today, valid_to=deals.today + dt.timedelta(days=10), reason="紧急采购")
    rows = api.as_("buyer_a").get(f"/api/v1/purchasing/orderable?company_id={world.companies['A']}").get_json()
    by_code = {row["material_code"]: row for row in rows}
    assert by_code["API-AMOX"]["rule"] == "purchasing-exception"
    assert by_code["API-AMOX"]["exception"]["granted_by"] == "steward"
    assert by_code["API-AMOX"]["exception"]["valid_to"] == f"{deals.today + dt.timedelta(days=10):%Y-%m-%d}"
    assert by_code["API-AMOX"]["exception"]["reason"] == "紧急采购"
    assert by_code["EXC-STAR"]["exception"] is None
