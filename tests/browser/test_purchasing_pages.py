"""The buyer's purchasing pages in a real browser, in Chinese, on the demo: what FORM01 may
order names the steward's exception for amoxicillin; a draft order is cancelled from its
page with a reason (refused first without one), checked (what it will do) and confirmed, and
the page then says who cancelled it."""

from __future__ import annotations

from typing import Any


def test_buyer_sees_the_exception_and_cancels_a_draft(signed_in: Any, shot: Any) -> None:
    page = signed_in("buyer.form01")
    page.goto("/purchasing/orderable?company=FORM01")
    exception = page.get_by_test_id("exception-API-AMOX").inner_text()
    assert exception.startswith("例外授权：steward 于") and "原因：" in exception
    shot(page, "orderable-with-exception")

    page.locator("tr", has_text="自主采购").first.get_by_role("link").click()
    page.fill("#f-quantity", "5")
    page.get_by_test_id("create-order").click()
    assert page.get_by_test_id("order-status").inner_text() == "草稿"
    shot(page, "draft-with-cancel")

    page.get_by_test_id("cancel-order").click()
    assert page.get_by_test_id("error-reason").inner_text() == "请填写取消订单的原因"
    assert "reason" not in page.get_by_test_id("refusal").inner_text()  # the field by its label
    shot(page, "cancel-refused-without-reason")

    page.fill("#f-reason", "需求计划调整，本月不再采购")
    page.get_by_test_id("cancel-order").click()
    # checked first: what the cancellation does, before it is done
    facts = page.get_by_test_id("confirm-order-change-facts")
    facts.wait_for()
    assert "草稿 → 已取消" in facts.inner_text() and "需求计划调整，本月不再采购" in facts.inner_text()
    assert page.get_by_test_id("order-status").inner_text() == "草稿"
    shot(page, "cancel-check")
    page.get_by_test_id("confirm-order-change-yes").click()
    page.get_by_test_id("done").wait_for()
    assert page.get_by_test_id("order-status").inner_text() == "已取消"
    assert "已取消" in page.get_by_test_id("done").inner_text()
    assert "需求计划调整，本月不再采购" in page.content()
    assert page.get_by_test_id("cancel-order").count() == 0
    shot(page, "cancelled")


def test_buyer_adds_changes_and_removes_lines_of_a_draft(signed_in: Any, shot: Any) -> None:
    """The draft's page takes more lines (the blank row), changed quantities and removals, each
    priced from the contract again; a refused line is shown beside its row (UAT finding 14)."""
    page = signed_in("buyer.form01")
    page.goto("/purchasing/orderable?company=FORM01")
    page.locator("tr", has_text="自主采购").first.get_by_role("link").click()
    page.fill("#f-quantity", "5")
    page.get_by_test_id("create-order").click()
    page.get_by_test_id("lines-form").wait_for()
    material = page.input_value("[data-testid=material-0]")
    warehouse = page.input_value("[data-testid=warehouse-0]")
    # a second line of the same material in the blank row, and a refused quantity first
    page.select_option("[data-testid=material-1]", material)
    page.select_option("[data-testid=warehouse-1]", warehouse)
    page.fill("[data-testid=quantity-1]", "-2")
    page.get_by_test_id("save-lines").click()
    page.get_by_test_id("error-quantity-1").wait_for()
    assert page.input_value("[data-testid=quantity-1]") == "-2"  # kept as typed
    shot(page, "line-refused-beside-its-row")
    page.fill("[data-testid=quantity-1]", "3")
    page.fill("[data-testid=quantity-0]", "7")
    page.get_by_test_id("save-lines").click()
    page.get_by_test_id("done").wait_for()
    assert "订单行已保存" in page.get_by_test_id("done").inner_text()
    rows = page.get_by_test_id("order-lines").locator("tbody tr")
    assert rows.count() == 2
    assert page.input_value("[data-testid=quantity-0]") == "7" and page.input_value("[data-testid=quantity-1]") == "3"
    shot(page, "two-lines")
    page.check("[data-testid=remove-0]")
    page.get_by_test_id("save-lines").click()
    page.get_by_test_id("done").wait_for()
    assert page.get_by_test_id("order-lines").locator("tbody tr").count() == 1
    assert page.input_value("[data-testid=quantity-0]") == "3"
    shot(page, "one-line-left")
