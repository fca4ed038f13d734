"""The intercompany link in a real browser, in Chinese (trial finding 139): the administrator
tries to link distribution company DIST02 to the outside customer K0014, a customer with
receivables of its own, and is refused beside the field with the reason; nothing is saved."""

from __future__ import annotations

from typing import Any


def test_an_outside_customer_is_refused_as_a_companys_intercompany_record(
    signed_in: Any, live_server: str, shot: Any
) -> None:
    admin = signed_in("admin")
    admin.goto("/admin/companies/DIST02")
    admin.wait_for_selector("[data-testid=link-form]")
    admin.get_by_test_id("customer").fill("K0014")
    admin.fill("#f-reason", "集团内部交易")
    admin.get_by_test_id("save-links").click()
    admin.wait_for_selector("[data-testid=refusal]")
    assert admin.get_by_test_id("refusal-title").inner_text() == "该记录与公司不是同一法人"
    assert admin.get_by_test_id("error-customer").inner_text() == "与公司的统一社会信用代码不一致"
    text = admin.get_by_test_id("refusal").inner_text()
    assert "K0014" in text and "另一个法人" in text, text
    assert admin.get_by_test_id("customer").input_value() == "K0014"  # what was typed is kept
    shot(admin, "outside-customer-refused")
    admin.goto("/admin/companies/DIST02")
    assert admin.get_by_test_id("customer").input_value() == ""  # nothing was saved
