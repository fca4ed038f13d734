"""The main flow of each role in a real browser, in Chinese: the buyer orders a permitted
local material and is refused a central one with the rule named; the purchasing manager
approves an order above the threshold; quality releases a quarantined batch and the clerk
then sees it unrestricted; the steward is refused a duplicate unified social credit code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.config import load_settings
from erp.inventory import services as inventory
from erp.inventory.queries import lines_open_for_receipt
from erp.masterdata.models import Company, ProcurementScope, Supplier, Warehouse
from erp.masterdata.services import can_store
from erp.purchasing import services as purchasing
from erp.demo.loader import DEMO_PASSWORD
from erp.clock import business_today
from tests.browser.conftest import demo_actor



def test_buyer_orders_a_local_material_and_is_refused_a_central_one(signed_in: Any, shot: Any) -> None:
    page = signed_in("buyer.form01")
    assert page.url.endswith("/purchasing/orders")
    shot(page, "my-orders")
    page.get_by_role("link", name="可采购物料").first.click()
    table = page.get_by_test_id("orderable")
    assert "合同价" in page.content()
    shot(page, "orderable")
    local = table.locator("tr", has_text="自主采购").first
    local.get_by_role("link").click()
    page.fill("#f-quantity", "10")
    shot(page, "new-order")
    page.get_by_test_id("create-order").click()
    assert page.get_by_test_id("order-status").inner_text() == "草稿"
    number = page.get_by_test_id("order-number").inner_text()
    shot(page, "draft-order")
    page.get_by_test_id("submit-order").click()
    assert page.get_by_test_id("done").is_visible()
    assert page.get_by_test_id("order-status").inner_text() in ("已下达", "待审批")
    shot(page, "submitted-order")
    # A central material, typed by code: refused, naming the rule.
    page.goto("/purchasing/orders/new?company=FORM01&material=API-PARA&supplier=S0008")
    page.fill("#f-quantity", "10")
    page.get_by_test_id("create-order").click()
    refusal = page.get_by_test_id("refusal").inner_text()
    assert "超出您的采购权限" in refusal and "集中采购物料" in refusal and "API-PARA" in refusal
    assert "集中采购" in page.get_by_test_id("error-material").inner_text()
    assert page.input_value("#f-quantity") == "10"
    shot(page, "central-material-refused")
    assert number.startswith("PO-FORM01-")


def _pending_order(engine: Engine) -> str:
    """An order of buyer.form01 above FORM01's approval threshold, submitted (setup through
    the services, as the buyer would have done it)."""
    with Session(engine) as session, session.begin():
        buyer = demo_actor(session, "buyer.form01")
        company = session.scalars(select(Company).where(Company.code == "FORM01")).one()
        rows, _ = purchasing.orderable(session, buyer, company_id=company.id, limit=200)
        item = next(r for r in rows if r.material.procurement_scope == ProcurementScope.LOCAL)
        store = next(w for w in session.scalars(select(Warehouse).where(Warehouse.company_id == company.id))
                     if can_store(w, item.material)[0])
        threshold = purchasing.approval_threshold(company, load_settings().default_approval_threshold)
        quantity = (threshold / item.contract_line.unit_price * Decimal("1.2")).quantize(Decimal(1))
        order = purchasing.create_purchase_order(
            session, buyer, receiving_company_id=company.id, supplier_id=item.supplier.id,
            lines=[{"material_id": item.material.id, "quantity": quantity, "warehouse_id": store.id}])
        purchasing.submit_order(session, buyer, order.id, default_threshold=load_settings().default_approval_threshold)
        return order.number


def test_purchasing_manager_approves_an_order_above_threshold(signed_in: Any, shot: Any,
                                                               browser_engine: Engine) -> None:
    number = _pending_order(browser_engine)
    page = signed_in("pm.form01")
    assert page.url.endswith("/purchasing/approvals")
    row = page.locator(f"tr[data-order='{number}']")
    assert "¥" in row.inner_text()
    shot(page, "approval-queue")
    page.get_by_test_id(f"review-{number}").click()
    shot(page, "order-to-approve")
    page.get_by_test_id("approve").click()
    assert page.get_by_test_id("order-status").inner_text() == "已下达"
    assert "已审批" in page.get_by_test_id("done").inner_text()
    shot(page, "approved")


def _quarantined_batch(engine: Engine) -> tuple[str, str]:
    """A receipt into quarantine at FORM01 (setup through the services, as the clerk) of a
    material that needs inspection: it opens an inspection lot, and only QA's signed usage
    decision on the lot releases it (the demo gives every inspected material a
    specification: assay and appearance)."""
    with Session(engine) as session, session.begin():
        clerk = demo_actor(session, "clerk.form01")
        rows, _ = lines_open_for_receipt(session, clerk, limit=500)
        line = next(r for r in rows if r.inspection_required and r.open_quantity >= 2)
        today = business_today()
        batch = f"QA{line.po_line_id:05d}"
        inventory.receive_goods(session, clerk, inventory.ReceiptRequest(
            po_line_id=line.po_line_id, quantity=Decimal(1), posting_date=today, batch_number=batch,
            manufacture_date=today - dt.timedelta(days=20), expiry_date=today + dt.timedelta(days=600)))
        return line.material_code, batch


def test_quality_releases_a_batch_and_the_clerk_sees_it_unrestricted(signed_in: Any, shot: Any,
                                                                     browser_engine: Engine) -> None:
    material, batch = _quarantined_batch(browser_engine)
    page = signed_in("quality.form01")
    assert page.url.endswith("/inventory/quarantine")
    page.fill("input[name=q]", batch)
    page.get_by_role("button", name="查询").click()
    shot(page, "quarantine-list")
    # no plain release button for an inspected batch: the list links to its inspection lot
    assert page.get_by_test_id(f"decide-{batch}").count() == 0
    page.get_by_test_id(f"lot-{batch}").click()
    page.fill("input[name=result-ASSAY]", "99.6")
    page.fill("input[name=result-APPEARANCE]", "符合规定")
    page.get_by_test_id("record-results").click()
    page.wait_for_selector("[data-testid=recorded]")
    shot(page, "results-recorded")
    lot_url = page.url.split("?")[0]
    qa = signed_in("qa.group")  # QA signs what the analyst tested (four eyes)
    qa.goto(lot_url)
    qa.fill("#f-password", DEMO_PASSWORD)
    qa.get_by_test_id("sign").click()
    assert "已放行" in qa.get_by_test_id("decision").inner_text()
    shot(qa, "release-signed")
    clerk = signed_in("clerk.form01")
    clerk.goto(f"/inventory/stock?q={batch}")
    row = clerk.locator(f"tr[data-batch='{batch}']")
    assert row.get_attribute("data-status") == "unrestricted"
    assert "非限制" in row.inner_text()
    shot(clerk, "clerk-sees-unrestricted")


def test_steward_is_refused_a_duplicate_uscc(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    with Session(browser_engine) as session:
        existing = session.scalars(select(Supplier).order_by(Supplier.code)).first()
        assert existing is not None
    page = signed_in("steward")
    assert page.url.endswith("/masterdata/materials")
    shot(page, "materials")
    page.get_by_role("link", name="供应商", exact=True).click()
    page.get_by_test_id("new-record").click()
    page.fill("#f-code", "S9999")
    page.fill("#f-uscc", existing.uscc)
    page.fill("#f-name_zh", "重复供应商")
    page.fill("#f-name_en", "Duplicate Supplier")
    page.get_by_test_id("save-record").click()
    error = page.get_by_test_id("error-uscc").inner_text()
    assert existing.code in error and existing.name_zh in error
    assert "已被" in page.get_by_test_id("refusal").inner_text()
    assert page.input_value("#f-name_zh") == "重复供应商"
    shot(page, "duplicate-uscc-refused")
