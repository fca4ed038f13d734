"""The clerk's goods issue and stock transfer in a real browser, in Chinese: the lists offer
the clerk's warehouses and the stock there, the batches and the cost at standard show before
posting, a refusal stays beside the form with what was typed, the posted document shows its
journal and is reversed (冲销) from its page with a reason. And the cost accountant's stock
adjustment (盘点调整): a count loss with its value shown first, refused without a reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.services import actor_for_user
from erp.clock import business_today
from erp.inventory import queries


def _clerk_stock(engine: Engine, *, transfer: bool) -> tuple[Any, Any, Any]:
    """A warehouse of clerk.form01 and a material with at least 2 units it can issue today at a
    standard price (for a transfer: and another warehouse of the company that can store it)."""
    with Session(engine) as session, session.begin():
        user = session.scalars(select(User).where(User.username == "clerk.form01")).one()
        actor = actor_for_user(user)
        for warehouse in queries.warehouses_acted_for(session, actor):
            for material in queries.materials_in_stock(session, actor, warehouse_id=warehouse.id):
                preview = queries.preview_outflow(session, actor, warehouse_id=warehouse.id, material_id=material.id,
                                                  posting_date=business_today(), quantity=material.quantity,
                                                  skip_expired=not transfer)
                if preview.standard_price is None or preview.available < 2:
                    continue
                if not transfer:
                    return warehouse, material, None
                for other in queries.warehouses_of_companies(session, [warehouse.company_id]):
                    check = queries.storage_check(session, other.id, material.id)
                    if other.id != warehouse.id and check and check[0]:
                        return warehouse, material, other
    raise AssertionError("the demo has no stock clerk.form01 can issue or transfer")


def choose(page: Any, select: str, value: Any) -> None:
    """Choose in one of the form's lists, which redraws the form (htmx): wait until it has."""
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.select_option(select, str(value))
    page.wait_for_function(
        "([select, value]) => document.querySelector(select).value === value"
        " && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')", arg=[select, str(value)])


def test_clerk_issues_goods_sees_the_cost_first_and_reverses_the_issue(
    signed_in: Any, shot: Any, browser_engine: Engine,
) -> None:
    warehouse, material, _ = _clerk_stock(browser_engine, transfer=False)
    page = signed_in("clerk.form01")
    page.get_by_role("link", name="领料出库").click()
    assert page.get_by_role("heading", name="领料出库").is_visible()
    shot(page, "issue-empty")
    choose(page, "#f-warehouse_id", warehouse.id)
    page.wait_for_selector(f"#f-material_id option[value='{material.id}']", state="attached")
    choose(page, "#f-material_id", material.id)
    page.wait_for_function("document.querySelectorAll('#f-batch_id option').length > 1")
    page.fill("#f-quantity", "1")
    page.fill("#f-reference", "LL-0001")
    page.fill("#f-cost_center", "QC-LAB")  # production's materials go to production orders (finding 138)
    page.get_by_test_id("preview-issue").click()
    page.wait_for_selector("[data-testid=preview-value]")
    assert "¥" in page.get_by_test_id("preview-value").inner_text()
    assert "标准价" in page.get_by_test_id("preview").inner_text()
    shot(page, "issue-preview")

    page.fill("#f-quantity", "99999999")
    page.get_by_test_id("post-issue").click()
    refusal = page.get_by_test_id("refusal").inner_text()
    assert "可用" in refusal and "{" not in refusal
    assert page.input_value("#f-quantity") == "99999999" and page.input_value("#f-reference") == "LL-0001"
    shot(page, "issue-refused")

    page.fill("#f-quantity", "1")
    page.get_by_test_id("post-issue").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "领料" in page.get_by_test_id("document-number").inner_text() or \
        "出库" in page.get_by_test_id("document-number").inner_text()
    assert "5101" in page.get_by_test_id("journal").inner_text()
    shot(page, "issue-posted")

    page.get_by_test_id("post-reversal").click()  # no reason: the browser asks for one
    assert page.get_by_test_id("reversal-card").is_visible()
    page.fill("#f-reversal-reason", "领错物料")
    page.get_by_test_id("post-reversal").click()
    # first what the reversal will post (quantity with its unit, value, journal), nothing posted yet
    page.wait_for_selector("[data-testid=confirm-posting]")
    facts = page.get_by_test_id("confirm-posting-facts").inner_text()
    assert "¥" in facts and "{" not in facts
    assert "5101" in page.get_by_test_id("confirm-posting-journal").inner_text()
    assert page.get_by_test_id("posted").count() == 0
    assert page.evaluate("new Set([...document.querySelectorAll('[id]')].map(e => e.id)).size"
                         " === document.querySelectorAll('[id]').length")  # no id twice
    shot(page, "issue-reversal-confirm")
    page.get_by_test_id("confirm-posting-yes").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "冲销" in page.get_by_test_id("document-number").inner_text()
    # the reversal names what it reversed (被冲销单据), a link back to it
    assert page.get_by_test_id("reverses-link").is_visible()
    shot(page, "issue-reversed")
    page.get_by_test_id("reverses-link").click()
    page.wait_for_selector("[data-testid=reversed-by-link]")
    shot(page, "issue-after-reversal")


def test_clerk_transfers_stock_between_warehouses(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    source, material, target = _clerk_stock(browser_engine, transfer=True)
    page = signed_in("clerk.form01")
    page.get_by_role("link", name="库存调拨").click()
    choose(page, "#f-from_warehouse_id", source.id)
    page.wait_for_selector(f"#f-material_id option[value='{material.id}']", state="attached")
    choose(page, "#f-to_warehouse_id", target.id)
    choose(page, "#f-material_id", material.id)
    page.wait_for_function("document.querySelectorAll('#f-batch_id option').length > 1")
    page.fill("#f-quantity", "1")
    page.get_by_test_id("preview-transfer").click()
    page.wait_for_selector("[data-testid=preview-value]")
    assert page.get_by_test_id("storage").is_visible()
    shot(page, "transfer-preview")
    page.get_by_test_id("post-transfer").click()
    page.wait_for_selector("[data-testid=posted]")
    movements = page.get_by_test_id("movements").inner_text()
    assert source.code in movements and target.code in movements
    shot(page, "transfer-posted")


def test_cost_accountant_posts_a_count_loss(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    warehouse, material, _ = _clerk_stock(browser_engine, transfer=True)
    page = signed_in("cost.form01")
    page.get_by_role("link", name="盘点调整").click()
    choose(page, "#f-warehouse_id", warehouse.id)
    choose(page, "#f-material_id", material.id)
    batch = page.locator("#f-batch_id option").nth(1).get_attribute("value")
    choose(page, "#f-batch_id", batch)
    page.fill("#f-quantity", "-1")
    page.get_by_test_id("preview-adjustment").click()
    shot(page, "adjustment-preview")
    assert "-¥" in page.get_by_test_id("adjustment-value").inner_text()
    page.get_by_test_id("post-adjustment").click()  # no reason: the browser asks for one
    page.fill("#f-reason", " ")
    page.get_by_test_id("post-adjustment").click()
    assert page.get_by_test_id("error-reason").is_visible()
    assert page.input_value("#f-quantity") == "-1"
    shot(page, "adjustment-refused")
    page.fill("#f-reason", "月末盘点")
    page.get_by_test_id("post-adjustment").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "1901" in page.get_by_test_id("journal").inner_text()
    shot(page, "adjustment-posted")
