"""The buyer's new order from the navigation, in a real browser on the demo (TRIAL.md findings
11 and 13): a company buyer picks one of the materials FORM01 may buy locally, its contract
price shown; central purchasing chooses FORM06 as the receiving company and orders a central
material for it."""

from __future__ import annotations

from typing import Any


def test_a_company_buyer_orders_from_the_list_of_what_may_be_ordered(signed_in: Any, shot: Any) -> None:
    page = signed_in("buyer.form01")
    page.get_by_role("link", name="新建采购订单", exact=True).first.click()
    assert page.get_by_test_id("company").count() == 0  # one company: nothing to choose
    offer = page.get_by_test_id("offer")
    texts = offer.locator("option").all_inner_texts()
    assert len(texts) > 1 and all("¥" in t for t in texts[1:])  # each with its contract price
    local = next(t for t in texts[1:] if t.startswith("EXC-"))
    offer.select_option(label=local)
    page.fill("#f-quantity", "10")
    shot(page, "buyer-new-order")
    page.get_by_test_id("create-order").click()
    assert page.get_by_test_id("order-status").inner_text() == "草稿"
    assert page.get_by_test_id("order-number").inner_text().startswith("PO-FORM01-")
    shot(page, "buyer-new-order-draft")


def test_the_group_buyer_orders_a_central_material_for_form06(signed_in: Any, shot: Any) -> None:
    page = signed_in("group.buyer")
    page.get_by_role("link", name="新建采购订单", exact=True).first.click()
    page.get_by_test_id("company").select_option("FORM06")
    page.wait_for_url("**company=FORM06**")
    assert "FORM06" in page.locator("h1").inner_text()
    offer = page.get_by_test_id("offer")
    texts = offer.locator("option").all_inner_texts()
    assert len(texts) > 1, "FORM06 has nothing central purchasing may order"
    offer.select_option(index=1)
    page.fill("#f-quantity", "1")
    shot(page, "group-buyer-new-order-form06")
    page.get_by_test_id("create-order").click()
    assert page.get_by_test_id("order-status").inner_text() == "草稿"
    text = page.content()
    assert "<dd>FORM06 " in text  # the receiving company
    assert "集中采购" in text  # purchasing organisation: central purchasing
    shot(page, "group-buyer-draft-form06")
