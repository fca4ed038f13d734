"""The warehouse clerk's main flow in a real browser: find the open order line, see what
the receipt will do, check what it will post (amounts and journal), confirm it, and see the
goods in quarantine (in Chinese, and again in English with an over-receipt refused on the way)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.inventory.queries import lines_open_for_receipt
from erp.auth.services import actor_for_user
from erp.masterdata.models import Company
from erp.clock import business_today


def _open_line(engine: Engine, taken: set[int]) -> Any:
    """An open line of clerk.form01's warehouses whose material needs inspection, bought from
    an outside supplier (a line bought from a group company is received only against what the
    seller has shipped: the demo's intercompany order has nothing shipped yet)."""
    with Session(engine) as session, session.begin():
        user = session.scalars(select(User).where(User.username == "clerk.form01")).one()
        group_suppliers = set(session.scalars(select(Company.supplier_id).where(Company.supplier_id.is_not(None))))
        rows, _ = lines_open_for_receipt(session, actor_for_user(user), limit=500)
        for row in rows:
            if (row.inspection_required and row.po_line_id not in taken and row.open_quantity >= 2
                    and row.supplier_id not in group_suppliers):
                taken.add(row.po_line_id)
                return row
    raise AssertionError("the demo has no open inspected order line for clerk.form01")


TAKEN: set[int] = set()


def _receive(page: Any, shot: Any, line: Any, quantity: str, batch: str) -> None:
    today = business_today()
    page.fill("#f-quantity", quantity)
    page.fill("#f-batch_number", batch)
    page.fill("#f-manufacture_date", (today - dt.timedelta(days=30)).isoformat())
    page.fill("#f-expiry_date", (today + dt.timedelta(days=700)).isoformat())
    page.fill("#f-delivery_note", f"DN-{batch}")


def test_clerk_receives_into_quarantine_in_chinese(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    line = _open_line(browser_engine, TAKEN)
    page = signed_in("clerk.form01")
    assert page.url.endswith("/inventory/receiving")  # the clerk lands on the daily work
    assert page.get_by_role("heading", name="待收货订单行").is_visible()
    shot(page, "open-lines")
    page.fill("input[name=q]", line.order_number)
    page.get_by_role("button", name="查询").click()
    shot(page, "open-lines-search")
    page.get_by_test_id(f"receive-{line.order_number}-{line.line_no}").click()
    preview = page.get_by_test_id("preview")
    assert "合同价" in preview.inner_text()
    assert "待检隔离" in page.get_by_test_id("quarantine").inner_text()
    assert "储存条件" in preview.inner_text()
    shot(page, "receive-form")
    batch = f"ZH{line.po_line_id:05d}"
    _receive(page, shot, line, "1", batch)
    page.get_by_test_id("post-receipt").click()
    # checked first: what it will post, the receipt service's own figures, before it is posted
    facts = page.get_by_test_id("confirm-receipt-facts")
    facts.wait_for()
    assert "合同价金额" in facts.inner_text() and "计划价金额" in facts.inner_text() and "价差" in facts.inner_text()
    assert "待检隔离" in facts.inner_text()
    assert "暂估" in page.get_by_test_id("confirm-receipt-journal").inner_text()
    shot(page, "receipt-confirmation")
    page.get_by_test_id("confirm-receipt-yes").click()
    page.wait_for_selector("[data-testid=posted]")
    number = page.get_by_test_id("document-number").inner_text()
    assert "GR-" in number
    movements = page.get_by_test_id("movements").inner_text()
    assert batch in movements and "待检隔离" in movements
    assert "材料成本差异" in page.get_by_test_id("journal").inner_text() or \
        "暂估" in page.get_by_test_id("journal").inner_text()
    shot(page, "posted-document")
    page.get_by_role("link", name="库存", exact=True).click()
    page.fill("input[name=q]", batch)
    page.get_by_role("button", name="查询").click()
    row = page.locator(f"tr[data-batch='{batch}']")
    assert row.get_attribute("data-status") == "quarantine"
    assert "待检隔离" in row.inner_text()
    shot(page, "stock-in-quarantine")
    page.locator(f"tr[data-batch='{batch}'] a").first.click()
    page.wait_for_selector("[data-testid=flow]")
    assert number.split()[-1] in page.get_by_test_id("batch-movements").inner_text()
    shot(page, "batch-flow")


def test_clerk_flow_in_english_with_a_refusal_shown_inline(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    line = _open_line(browser_engine, TAKEN)
    page = signed_in("clerk.form01", language="en")
    assert page.get_by_role("heading", name="Open order lines").is_visible()
    shot(page, "open-lines")
    page.goto(f"/inventory/receiving/{line.po_line_id}")
    assert "Inspection required" in page.get_by_test_id("quarantine").inner_text()
    too_much = str((Decimal(line.open_quantity) * 2 + 10).quantize(Decimal(1)))
    batch = f"EN{line.po_line_id:05d}"
    _receive(page, shot, line, too_much, batch)
    page.get_by_test_id("post-receipt").click()
    refusal = page.get_by_test_id("refusal")
    assert "exceeds the ordered quantity" in refusal.inner_text()
    assert page.input_value("#f-batch_number") == batch  # nothing typed is lost
    shot(page, "over-receipt-refused")
    page.fill("#f-quantity", "1")
    page.get_by_test_id("post-receipt").click()
    page.get_by_test_id("confirm-receipt").wait_for()
    assert "At the contract price" in page.get_by_test_id("confirm-receipt-facts").inner_text()
    shot(page, "receipt-confirmation")
    page.get_by_test_id("confirm-receipt-yes").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "quarantine" in page.get_by_test_id("movements").inner_text()
    shot(page, "posted-document")
    page.get_by_role("link", name="Stock on hand").click()
    page.fill("input[name=q]", batch)
    page.get_by_role("button", name="Search").click()
    assert page.locator(f"tr[data-batch='{batch}']").get_attribute("data-status") == "quarantine"
    shot(page, "stock-in-quarantine")
