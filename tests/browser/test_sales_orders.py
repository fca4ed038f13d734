"""Sales takes, confirms and ships an order in a real browser, in Chinese: the customer's
credit position before saving, the group-wide credit check at confirmation, the shipment
reviewed (what ships and its value) before it posts, the sales invoice (AR-) and the goods
issue after; an order over the customer's limit is held, with the reason, for the credit
controller. Demo data: DIST01 ships masks from DIST01-AMB; K0005's limit is read from the database (the credit
desk's browser test changes it earlier in the same run)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.credit.models import CustomerExposure
from erp.masterdata.models import Customer


def _credit_limit(engine: Engine, code: str) -> Decimal | None:
    """The limit in force for customer ``code``, as the credit check reads it."""
    with Session(engine) as session:
        return session.scalar(select(CustomerExposure.credit_limit)
                              .join(Customer, Customer.id == CustomerExposure.customer_id)
                              .where(Customer.code == code))


def _choose(page: Any, select: str, text: str) -> None:
    """Pick the option of ``select`` whose label contains ``text``."""
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    page.select_option(select, value)


def _new_order(page: Any, customer: str, quantity: str, price: str) -> None:
    page.goto("/sales/orders")
    page.get_by_test_id("new-order").click()
    page.fill("#f-customer-filter", customer)
    _choose(page, "#f-customer_id", customer)
    _choose(page, "#f-material_id-0", "TRD-MASK")
    _choose(page, "#f-warehouse_id-0", "DIST01-AMB")
    page.fill("#f-quantity-0", quantity)
    page.fill("#f-unit_price-0", price)


def test_sales_takes_confirms_and_ships_an_order_within_the_limit(signed_in: Any, shot: Any) -> None:
    page = signed_in("sales.dist01")
    assert page.url.endswith("/sales/orders")  # the landing page of sales
    assert "销售订单" in page.locator("nav").inner_text()
    assert page.get_by_test_id("orders").is_visible()
    assert page.get_by_test_id("total-value").inner_text().startswith("¥")
    shot(page, "orders")

    _new_order(page, "K0006", "10", "25.00")
    page.get_by_test_id("preview").click()
    credit = page.get_by_test_id("credit")
    assert credit.is_visible()
    assert page.get_by_test_id("credit-limit").inner_text().startswith("¥500,000.00")
    value = page.get_by_test_id("order-value").inner_text()
    assert value.startswith("¥") and "信用检查" in credit.inner_text()
    shot(page, "new-order-credit")
    page.get_by_test_id("save").click()
    number = re.search(r"SO-DIST01-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    assert "草稿" in page.get_by_test_id("done").inner_text()
    page.get_by_test_id("confirm").click()
    assert "已确认" in page.get_by_test_id("done").inner_text()
    shot(page, "confirmed")

    page.get_by_test_id("preview-shipment").click()
    detail = page.get_by_test_id("shipment-detail").inner_text()
    assert "10" in detail and value in detail  # what ships and its value, before posting
    shot(page, "shipment-review")
    page.get_by_test_id("post-shipment").click()
    done = page.get_by_test_id("done").inner_text()
    invoice = re.search(r"AR-DIST01-\d{4}-\d{6}", done).group(0)
    assert page.get_by_test_id("invoice-number").inner_text() == invoice
    shot(page, "shipped")
    page.get_by_test_id("shipment-link").first.click()
    assert number in page.content()  # the goods issue names the order it shipped
    shot(page, "goods-issue")


def test_an_order_over_the_limit_is_held_with_the_reason(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    page = signed_in("sales.dist01")
    _new_order(page, "K0005", "4000", "25.00")
    page.get_by_test_id("preview").click()
    assert "超出信用额度" in page.get_by_test_id("credit-outcome").inner_text()
    shot(page, "over-limit-preview")
    page.get_by_test_id("save").click()
    page.get_by_test_id("confirm").click()
    held = page.get_by_test_id("held").inner_text()
    assert "等待信用控制员" in held and "信用额度" in held
    shown = re.search(r"超过其信用额度 ¥([0-9,]+\.[0-9]{2})", held)  # money: ¥ and cents
    assert shown is not None and Decimal(shown.group(1).replace(",", "")) == _credit_limit(browser_engine, "K0005")
    assert page.locator("a[href^='/credit/']").count() == 0  # nothing the sales user may not open
    shot(page, "held")
    page.goto("/sales/orders?status=blocked")
    assert page.get_by_test_id("orders").is_visible()
    shot(page, "blocked-filter")
