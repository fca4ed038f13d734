"""Finding 111: a salesperson of the selling group company takes the intercompany sales order
in the browser, in Chinese. Demo data (erp/demo/intercompany.py): API01 sells amoxicillin
granules to FORM01, whose open purchase order (150 kg at 320.00) is placed with API01's
supplier record. sales.api01 chooses FORM01's customer record, sees FORM01's open lines with
API01 (and only those), picks the line (material and contract price come with it), is refused
beyond what is left to fill (the 1 % over-receipt tolerance included), in Chinese beside the quantity, and saves the order for 150 kg."""

from __future__ import annotations

from typing import Any


def _choose(page: Any, select: str, text: str) -> None:
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    page.select_option(select, value)


def test_sales_takes_an_intercompany_order_against_the_buyers_purchase_order_line(
    signed_in: Any, shot: Any
) -> None:
    page = signed_in("sales.api01")
    page.goto("/sales/orders/new")
    # the group company's customer record is marked as such; choosing it shows its open lines
    assert "集团内公司 FORM01" in page.locator("#f-customer_id").inner_text()
    page.fill("#f-customer-filter", "K-FORM01")
    _choose(page, "#f-customer_id", "K-FORM01")
    page.wait_for_selector("[data-testid=partner-lines]")
    notice = page.get_by_test_id("intercompany").inner_text()
    assert "内部交易订单" in notice and "FORM01" in notice
    lines = page.get_by_test_id("partner-lines").inner_text()
    assert "INT-AMOXG" in lines and "150" in lines and "320.00" in lines
    # only FORM01's orders placed with API01: one line, nothing of its other suppliers' orders
    assert page.locator("[data-testid=partner-lines] tbody tr").count() == 1
    shot(page, "buyer-lines")

    _choose(page, "#f-partner_po_line_id-0", "INT-AMOXG")
    # the line's material and contract price go into the row
    assert "INT-AMOXG" in page.locator("#f-material_id-0 option:checked").inner_text()
    assert page.input_value("#f-unit_price-0") == "320.00"
    page.select_option("#f-warehouse_id-0", index=1)
    page.fill("#f-quantity-0", "200")
    page.get_by_test_id("save").click()
    refusal = page.get_by_test_id("refusal").inner_text()
    # 150 ordered, 1 % over-receipt tolerance: at most 151.5, named by FORM01's order and line
    assert "最多 151.5" in refusal and "采购订单 PO-FORM01-" in refusal, refusal
    assert "最多 151.5" in page.get_by_test_id("error-quantity-0").inner_text()
    assert page.input_value("#f-quantity-0") == "200"  # nothing typed is lost
    shot(page, "refused-beyond-the-line")

    page.fill("#f-quantity-0", "150")
    page.get_by_test_id("save").click()
    page.wait_for_url("**/sales/orders/*?done=created")
    body = page.locator("main").inner_text()
    assert "SO-API01-" in body and "INT-AMOXG" in body
    shot(page, "order-saved")

    # the line is filled: a second order finds only the tolerance's 1.5 kg left on it
    page.goto("/sales/orders/new")
    _choose(page, "#f-customer_id", "K-FORM01")
    page.wait_for_selector("[data-testid=partner-lines]")
    assert "1.5" in page.locator("[data-testid^=room-]").inner_text()
    shot(page, "what-is-left")
