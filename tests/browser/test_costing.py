"""The cost accountant's month end in a real browser, in Chinese: the period board, the
preview of an open period's variance allocation, the close of one company and then of the
group as background jobs with their progress, the allocation report and a balanced trial
balance, and reopening with a reason.

The browser tests share one demo database: everything closed here is reopened at the end
(through the services), so later tests post into open periods as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.costing.close import reopen_period
from erp.period import Period
from erp.posting.models import AccountingPeriod, PeriodStatus
from erp.clock import business_today
from tests.browser.conftest import demo_actor


def _money(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", "").strip())


@pytest.fixture
def reopen_afterwards(browser_engine: Engine) -> Iterator[str]:
    """The last period that has ended (only ended periods close); whatever the test closes in
    it is reopened afterwards."""
    period = Period.of(business_today()).previous()
    yield period
    with Session(browser_engine) as session, session.begin():
        actor = demo_actor(session, "cost.group")
        closed = session.scalars(select(AccountingPeriod.company_id).where(
            AccountingPeriod.period == period, AccountingPeriod.status == PeriodStatus.CLOSED)).all()
        for company_id in closed:
            reopen_period(session, actor, company_id=company_id, period=period, reason="browser test cleanup")


def _wait_for_job(page: Any) -> None:
    page.wait_for_selector("[data-testid=close-progress][data-status=succeeded], "
                           "[data-testid=close-progress][data-status=failed]", timeout=120_000)
    assert page.get_by_test_id("close-progress").get_attribute("data-status") == "succeeded", \
        page.get_by_test_id("close-progress").inner_text()


def _assert_balanced(page: Any) -> None:
    assert page.get_by_test_id("balanced").is_visible()
    debit = _money(page.get_by_test_id("total-debit").inner_text())
    credit = _money(page.get_by_test_id("total-credit").inner_text())
    assert debit == credit and debit > 0


def test_accountant_previews_and_closes_a_company_then_the_group(
    signed_in: Any, shot: Any, reopen_afterwards: str
) -> None:
    period = reopen_afterwards
    page = signed_in("cost.form01")
    assert page.url.endswith("/costing/periods")
    board = page.get_by_test_id("period-board")
    assert board.locator(f"tr[data-company=FORM01] td[data-period='{period}']").get_attribute("data-state") == "open"
    shot(page, "board")
    page.get_by_test_id("open-FORM01").click()
    # The preview of the open period: what the close would post, nothing posted yet.
    assert page.get_by_test_id("preview-note").is_visible()
    assert page.get_by_test_id("period-status").inner_text() == "未结账"
    materials = page.get_by_test_id("preview-materials").locator("tbody tr")
    assert materials.count() >= 1
    allocated = _money(page.get_by_test_id("preview-allocated").inner_text())
    remaining = _money(page.get_by_test_id("preview-remaining").inner_text())
    shot(page, "preview")
    page.get_by_test_id("close-period").click()
    # First what the close will post, its variance rate checked; nothing is posted yet.
    page.get_by_test_id("confirm-close").wait_for()
    facts = page.get_by_test_id("confirm-close-facts").inner_text()
    assert "待分配差异" in facts and "差异率" in facts and "分摊至耗用" in facts and "留存于库存" in facts
    shot(page, "close-confirmation")
    page.get_by_test_id("confirm-close-yes").click()
    # The close runs as a job: the page shows its steps and then every company's result.
    page.wait_for_selector("[data-testid=close-steps]")
    shot(page, "close-progress")
    _wait_for_job(page)
    assert page.get_by_test_id("close-steps").locator("li.done").count() == 5
    row = page.get_by_test_id("close-results").locator("tr[data-company=FORM01]")
    assert "已结账" in row.inner_text()
    shot(page, "closed")
    page.get_by_test_id("report-FORM01").click()
    # The allocation report holds exactly the previewed figures, and the trial balance balances.
    assert page.get_by_test_id("period-status").inner_text() == "已结账"
    assert _money(page.get_by_test_id("report-allocated").inner_text()) == allocated
    assert _money(page.get_by_test_id("report-remaining").inner_text()) == remaining
    _assert_balanced(page)
    assert page.get_by_test_id("export-variance_allocation").is_visible()
    shot(page, "allocation-and-trial-balance")
    # A company accountant may not reopen: only the group's may.
    assert page.get_by_test_id("reopen-form").count() == 0

    group = signed_in("cost.group")
    group.goto("/costing/periods")
    shot(group, "group-board")
    button = group.get_by_test_id(f"group-close-{period}")
    assert f"{period}" in button.inner_text()
    button.click()
    # Per company what the close will post, rates to check flagged; then the confirmation.
    checks = group.get_by_test_id("close-checks")
    checks.wait_for()
    assert checks.locator("tbody tr").count() >= 20
    assert checks.locator("tr[data-company=FORM01]").count() == 0  # already closed
    shot(group, "group-close-confirmation")
    group.get_by_test_id("confirm-close-yes").click()
    group.wait_for_selector("[data-testid=close-steps]")
    shot(group, "group-close-progress")
    _wait_for_job(group)
    results = group.get_by_test_id("close-results").locator("tbody tr")
    assert results.count() >= 20
    assert group.get_by_test_id("close-results").locator("tr[data-company=FORM01]").count() == 0  # already closed
    shot(group, "group-closed")
    group.get_by_test_id("group-trial-balance").click()
    _assert_balanced(group)
    shot(group, "group-trial-balance")

    # Reopen FORM01 with a reason (group cost accountant); a blank reason is refused.
    group.goto(f"/costing/periods/FORM01/{period}")
    group.fill("#f-reason", "   ")
    group.get_by_test_id("reopen").click()
    assert "反结账必须填写原因" in group.get_by_test_id("error-reason").inner_text()
    shot(group, "reopen-refused")
    group.fill("#f-reason", "供应商发票迟到，需补记入库差异")
    group.get_by_test_id("reopen").click()
    # What the reopening reverses, before it does.
    group.get_by_test_id("confirm-reopen").wait_for()
    assert "供应商发票迟到" in group.get_by_test_id("confirm-reopen-facts").inner_text()
    shot(group, "reopen-confirmation")
    group.get_by_test_id("confirm-reopen-yes").click()
    group.get_by_test_id("done").wait_for()
    assert group.get_by_test_id("period-status").inner_text() == "未结账"
    assert "供应商发票迟到" in group.get_by_test_id("events").inner_text()
    shot(group, "reopened")


def test_accountant_browses_prices_valuation_and_journal(signed_in: Any, shot: Any) -> None:
    page = signed_in("cost.form01")
    page.get_by_role("link", name="计划价", exact=True).click()
    # Last month: the demo (loaded as of 29 November) posted into it; the run's business day
    # is in December (tests/conftest.py), which has no postings yet.
    page.goto(f"/costing/standard-prices?period={Period.of(business_today()).previous()}")
    rows = page.get_by_test_id("standard-prices").locator("tbody tr")
    assert rows.count() >= 1
    material = rows.first.get_attribute("data-material")
    shot(page, "standard-prices")
    # A price already used by the period's postings cannot change: refused, naming the rule.
    page.fill("#f-material", "API-AMOX")
    page.fill("#f-price", "999.99")
    page.get_by_test_id("save-price").click()
    refusal = page.get_by_test_id("refusal").inner_text()
    assert "API-AMOX" in refusal and "已被" in refusal
    assert page.input_value("#f-price") == "999.99"
    shot(page, "price-in-use-refused")
    assert material
    page.get_by_role("link", name="存货估值", exact=True).click()
    table = page.get_by_test_id("valuation")
    assert table.locator("tbody tr").count() >= 1
    assert _money(page.get_by_test_id("total-actual").inner_text()) > 0
    shot(page, "valuation")
    page.get_by_role("link", name="凭证", exact=True).click()
    assert page.get_by_test_id("journal").locator("tbody tr").count() >= 1
    page.select_option("[data-testid=account-filter]", "1404")
    page.get_by_role("button", name="查询").click()
    accounts = page.get_by_test_id("journal").locator("tbody tr td:nth-child(6)").all_inner_texts()
    assert accounts and set(accounts) == {"1404 材料成本差异"}  # the account named, as on every page
    shot(page, "journal-filtered")
    with page.expect_download() as download:
        page.get_by_test_id("export-journal").click()
    # named by the report, the company and period, and the day (finding 51)
    assert re.fullmatch(r"会计分录_[A-Z0-9-]+(_\d{4}-\d{2})?_\d{8}\.xlsx", download.value.suggested_filename), \
        download.value.suggested_filename
