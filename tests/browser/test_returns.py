"""Sales books a customer return in a real browser, in Chinese: refused beyond what the
batch shipped less earlier returns, then posted with its credit note, the goods in
quarantine; the CIO reads the group trial balance with its elimination column."""

from __future__ import annotations

import re
from typing import Any

from erp.clock import business_today


def _money(text: str) -> str:
    return re.sub(r"[^0-9.\-]", "", text)


def test_sales_books_a_return_and_the_goods_wait_in_quarantine(signed_in: Any, shot: Any) -> None:
    page = signed_in("sales.dist01")
    page.goto("/returns/")
    assert page.get_by_test_id("shipments").is_visible()
    first_invoice = page.get_by_test_id("invoice-number").first.inner_text()
    assert re.fullmatch(r"AR-DIST01-\d{4}-\d{6}", first_invoice)
    shot(page, "shipments")
    page.locator("a[data-testid^=return-]").first.click()
    batches = page.get_by_test_id("batches")
    returnable = batches.locator("td[data-testid^=returnable-]").first.inner_text()
    whole = re.sub(r"[^0-9.]", "", returnable)
    shot(page, "return-form")

    page.fill("#f-quantity", str(float(whole) + 1))
    page.fill("#f-reason", "外箱破损")
    page.get_by_test_id("submit").click()
    refusal = page.get_by_test_id("refusal").inner_text()
    assert "退货数量超过该批次的发货数量减去已退回数量" in refusal and "最多还可退回" in refusal
    assert page.input_value("#f-reason") == "外箱破损"  # nothing typed is lost
    shot(page, "return-refused")

    page.fill("#f-quantity", "1")
    page.get_by_test_id("submit").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "已过账" in page.get_by_test_id("posted").inner_text() or page.get_by_test_id("posted").is_visible()
    # the credit note by its own number (CN-<company>-<year>-000001), the invoice it corrects by its own
    assert re.search(r"CN-DIST01-\d{4}-\d{6}", page.get_by_test_id("note-number").inner_text())
    assert re.search(r"AR-DIST01-\d{4}-\d{6}", page.locator("dl").inner_text())
    amount = page.locator("dl").inner_text()
    assert "¥" in amount
    shot(page, "credit-note")
    page.get_by_test_id("return-document").click()
    assert "销售退货" in page.get_by_test_id("document-number").inner_text()
    assert "待检隔离" in page.get_by_test_id("movements").inner_text()
    assert "6401" in page.get_by_test_id("journal").inner_text()
    shot(page, "return-document")


def test_cio_reads_the_group_trial_balance_with_eliminations(signed_in: Any, shot: Any) -> None:
    page = signed_in("cio")
    period = business_today().strftime("%Y-%m")
    page.goto(f"/intercompany/?period={period}")
    table = page.get_by_test_id("consolidated")
    assert "抵销" in table.inner_text() and "合并数" in table.inner_text()
    debit = _money(page.get_by_test_id("total-consolidated_debit").inner_text())
    credit = _money(page.get_by_test_id("total-consolidated_credit").inner_text())
    assert debit == credit and float(debit) > 0
    shot(page, "intercompany")
