"""The credit controller's desk in a real browser, in Chinese: the blocked orders with what a
release would do, the release with a reason and the warning that the customer's other
confirmed orders can no longer ship, a customer's credit page with the model's suggestion
explained, and an override of the limit with a reason.

The demo group holds an order blocked at confirmation whose customer has another confirmed
order: releasing it takes the customer over its limit, so the other order is blocked at
shipment. The figures are the credit module's (open values with output VAT), checked against the page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.credit import receivables
from erp.credit.exposure import CreditPolicy
from erp.credit.models import CreditRelease, CustomerExposure, SalesOrder, SalesOrderStatus
from erp.masterdata.models import Customer
from tests.browser.conftest import demo_actor


def _money(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", "").strip())


def _blocked_order_with_a_confirmed_sibling(engine: Engine) -> tuple[int, int, str, Decimal, Decimal, Decimal]:
    """(blocked order, the customer's confirmed order, customer code, exposure, order value, limit)."""
    with Session(engine) as session:
        controller = demo_actor(session, "credit")
        # The held orders as the credit module values them (open value with output VAT).
        held, _ = receivables.held_orders(session, controller, policy=CreditPolicy(), limit=500)
        for row in held:
            if row.stage != "confirmation":
                continue
            position = session.get(CustomerExposure, row.customer_id)
            sibling = session.scalar(select(SalesOrder.id).where(
                SalesOrder.customer_id == row.customer_id, SalesOrder.status == SalesOrderStatus.CONFIRMED,
                SalesOrder.credit_released.is_(False)).order_by(SalesOrder.id))
            if position is not None and position.credit_limit is not None and sibling is not None \
                    and position.exposure <= position.credit_limit < position.exposure + row.open_value:
                code = session.get(Customer, row.customer_id).code  # type: ignore[union-attr]
                return row.order_id, sibling, code, position.exposure, row.open_value, position.credit_limit
    raise AssertionError("the demo has no blocked order whose release blocks another")


def test_controller_releases_a_blocked_order_and_is_warned_about_the_other_orders(
    signed_in: Any, shot: Any, browser_engine: Engine
) -> None:
    order_id, sibling, customer, exposure, value, limit = _blocked_order_with_a_confirmed_sibling(browser_engine)
    with Session(browser_engine) as session:
        number, sibling_number = (session.scalar(select(SalesOrder.number).where(SalesOrder.id == key))
                                  for key in (order_id, sibling))
    assert number and number.startswith("SO-DIST") and sibling_number.startswith("SO-DIST")  # type: ignore[union-attr]
    page = signed_in("credit")
    assert page.url.endswith("/credit/blocked-orders")
    row = page.locator(f"tr[data-order='{order_id}']")
    assert customer in row.inner_text() and "信用冻结" in row.inner_text()
    assert row.get_by_test_id("order-number").inner_text().startswith(number)  # named by its number
    # Before releasing, the list says other orders would be blocked at shipment.
    assert "1" in page.get_by_test_id(f"warn-{order_id}").inner_text()
    shot(page, "blocked-orders")
    page.get_by_test_id(f"review-{order_id}").click()
    # The exposure by company adds up to the group exposure, and the preview names the sibling.
    assert _money(page.get_by_test_id("group-exposure").inner_text()) == exposure
    preview = page.get_by_test_id("preview-effect")
    assert _money(preview.locator("strong").first.inner_text()) == exposure + value
    assert preview.get_by_test_id("preview-effect-warning").locator(f"li[data-order='{sibling}']").count() == 1
    assert number in page.locator("h1").inner_text()
    assert sibling_number in preview.get_by_test_id("preview-effect-warning").inner_text()
    shot(page, "review")
    # A blank reason is refused beside the field; nothing is released.
    page.fill("#f-reason", "  ")
    page.get_by_test_id("release").click()
    assert page.get_by_test_id("error-reason").is_visible()
    shot(page, "release-refused")
    page.fill("#f-reason", "客户已承诺月底前回款，销售总监担保")
    page.get_by_test_id("release").click()
    # What the release does, before anything is released: the exposure after and the sibling.
    facts = page.get_by_test_id("confirm-release-facts")
    facts.wait_for()
    assert f"¥{exposure + value:,.2f}" in facts.inner_text() and f"¥{limit:,.2f}" in facts.inner_text()
    assert page.get_by_test_id("confirm-effect-warning").locator(f"li[data-order='{sibling}']").count() == 1
    shot(page, "release-confirmation")
    with Session(browser_engine) as session:
        assert session.scalars(select(CreditRelease).where(CreditRelease.order_id == order_id)).first() is None
    page.get_by_test_id("confirm-release-yes").click()
    page.get_by_test_id("done").wait_for()
    warning = page.get_by_test_id("release-effect-warning")
    assert "无法发货" in warning.inner_text()
    assert warning.locator(f"li[data-order='{sibling}']").count() == 1
    assert "因本次放行而冻结" in warning.inner_text()
    assert sibling_number in warning.inner_text()
    assert number in page.get_by_test_id("done").inner_text()
    above = exposure + value - limit
    assert f"{above:,.2f}" in page.get_by_test_id("release-effect").inner_text()
    shot(page, "released-with-warning")
    with Session(browser_engine) as session:
        release = session.scalars(select(CreditRelease).where(CreditRelease.order_id == order_id)).one()
        assert release.reason == "客户已承诺月底前回款，销售总监担保"


def test_controller_reads_the_suggestion_and_overrides_the_limit(
    signed_in: Any, shot: Any, browser_engine: Engine
) -> None:
    page = signed_in("credit")
    page.get_by_role("link", name="客户信用", exact=True).click()
    table = page.get_by_test_id("customers")
    assert table.locator("tbody tr").count() >= 1
    shot(page, "customers")
    code = table.locator("tbody tr").first.get_attribute("data-customer")
    page.goto(f"/credit/customers/{code}")
    assert page.get_by_test_id("exposure-by-company").is_visible()
    explanation = page.get_by_test_id("explanation")
    assert explanation.get_by_test_id("score-steps").locator("tbody tr").count() >= 5
    assert explanation.get_by_test_id("capacities").locator("tr.warn").count() == 1  # the binding capacity
    shot(page, "customer")
    page.get_by_test_id("override").check()
    page.fill("#f-credit_limit", "123456")
    page.get_by_test_id("save-limit").click()
    # An override without a reason is refused, and what was typed stays.
    assert "原因" in page.get_by_test_id("refusal").inner_text() or page.get_by_test_id("error-reason").is_visible()
    assert page.input_value("#f-credit_limit") == "123456"
    shot(page, "override-refused")
    with Session(browser_engine) as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == code))
        row = session.get(CustomerExposure, customer_id)
        exposure = row.exposure if row is not None else Decimal("0")
    # A limit of 1.00 (below any exposure the customer has): the confirmation step shows the
    # headroom it leaves, negative, before anything is saved; back to the form as typed.
    page.fill("#f-credit_limit", "1")
    page.fill("#f-reason", "试算：额度降至一元")
    page.get_by_test_id("save-limit").click()
    facts = page.get_by_test_id("confirm-limit-facts")
    facts.wait_for()
    assert f"¥{exposure:,.2f}" in facts.inner_text()
    assert f"{1 - exposure:,.2f}".lstrip("-") in facts.inner_text()
    if exposure > 1:
        assert "-¥" in facts.inner_text() and page.get_by_test_id("limit-cut-warning").is_visible()
    shot(page, "limit-cut-confirmation")
    page.get_by_test_id("confirm-limit-back").click()
    page.get_by_test_id("limit-form").wait_for()
    assert page.input_value("#f-credit_limit") == "1"
    page.fill("#f-credit_limit", "123456")
    page.fill("#f-reason", "年度授信评审：集团同意临时提高额度")
    page.get_by_test_id("save-limit").click()
    facts.wait_for()
    assert "¥123,456.00" in facts.inner_text() and f"¥{exposure:,.2f}" in facts.inner_text()
    assert f"{Decimal('123456') - exposure:,.2f}".lstrip("-") in facts.inner_text()
    shot(page, "limit-confirmation")
    with Session(browser_engine) as session:  # nothing saved before the confirmation
        row = session.get(CustomerExposure, customer_id)
        assert row is None or row.credit_limit != Decimal("123456.00")
    page.get_by_test_id("confirm-limit-yes").click()
    page.get_by_test_id("done").wait_for()
    assert "¥123,456.00" in page.get_by_test_id("done").inner_text()
    assert "年度授信评审" in page.get_by_test_id("limit-history").inner_text()
    shot(page, "limit-overridden")
