"""An accountant records a customer payment in a real browser, in Chinese (T22): chooses the
invoice it pays, checks what will be posted, posts it, then reverses it (a bounced draft) with
a reason after checking the reversal's entry."""

from __future__ import annotations

from typing import Any


def test_record_a_customer_payment_and_reverse_it(signed_in: Any, shot: Any) -> None:
    page = signed_in("sales.dist01")
    page.goto("/receivables/payments/new?company=DIST01&customer=K0014")
    invoices = page.get_by_test_id("open-invoices")
    assert invoices.locator("tbody tr").count() >= 2  # the old system's receivables K0014 never paid
    shot(page, "open-invoices")
    second = invoices.locator("tbody tr").nth(1)
    number = second.locator("td.code").inner_text()
    second.locator("input[type=checkbox]").check()
    page.fill("#f-amount", "1000.00")
    page.fill("#f-bank_reference", "CMB-20261201-01")
    page.get_by_test_id("check-payment").click()
    check = page.get_by_test_id("payment-check")
    assert "1002" in check.inner_text() and "1122" in check.inner_text()
    assert number in page.get_by_test_id("check-applications").inner_text()  # the one ticked, not the oldest
    shot(page, "payment-check")
    page.get_by_test_id("confirm-posting-yes").click()
    page.wait_for_selector("[data-testid=posted]")
    applied = page.get_by_test_id("applications").inner_text()
    assert number in applied and "1,000.00" in applied
    assert "1122" in page.get_by_test_id("entry-payment").inner_text()
    shot(page, "payment-posted")

    page.fill("#f-reversal-reason", "退票：出票人账户余额不足")
    page.get_by_test_id("reverse").click()
    confirm = page.get_by_test_id("confirm-posting")
    assert "1002" in confirm.inner_text() and "退票" in confirm.inner_text()
    shot(page, "reversal-check")
    page.get_by_test_id("confirm-posting-yes").click()
    page.wait_for_selector("[data-testid=reversed-notice]")
    assert "已冲销" in page.get_by_test_id("status").inner_text()
    assert "1122" in page.get_by_test_id("entry-payment_reversal").inner_text()
    assert page.get_by_test_id("reverse-card").count() == 0
    shot(page, "payment-reversed")
    page.goto("/receivables/payments/")
    assert "已冲销" in page.get_by_test_id("payments").locator("tbody tr").first.inner_text()
    shot(page, "payments")
