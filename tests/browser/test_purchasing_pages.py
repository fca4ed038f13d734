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
