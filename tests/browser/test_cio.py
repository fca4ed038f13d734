"""The CIO's consolidated receivables in a real browser: every chart draws (its canvas
exists and ECharts holds its series, asked through ECharts' own API in the page), the drill
down from a segment to one invoice, and a change of the as-of date that every figure
follows (compared with the reports' services for that date). In Chinese, then once more in
English."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from erp.credit import cio, receivables
from erp.credit.exposure import CreditPolicy
from erp.clock import business_today
from tests.browser.conftest import demo_actor

CHARTS = {"companies": 5, "segments": 5, "top": 2, "trend": 2}  # chart -> series (ageing buckets, or two)


def _money(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", "").strip())


def _figures(engine: Engine, as_of: dt.date) -> tuple[dict[str, Decimal], Decimal]:
    """The dashboard's totals and unapplied payments for ``as_of``, from the services."""
    with Session(engine) as session:
        actor = demo_actor(session, "cio")
        board = receivables.dashboard(session, actor, as_of=as_of, policy=CreditPolicy(), top=15)
        return board.totals, cio.unapplied_payments(session, actor, as_of=as_of)


def _charts_draw(page: Any) -> dict[str, list[int]]:
    """Per chart: the number of data points of each series, read from ECharts in the page."""
    page.wait_for_selector("body[data-charts-ready='1']")
    drawn = {}
    for chart, series in CHARTS.items():
        assert page.locator(f"#chart-{chart} canvas").count() >= 1, chart
        counts = page.evaluate(
            "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series"
            ".map(s => s.data.length)", f"chart-{chart}")
        assert len(counts) == series, (chart, counts)
        assert all(count >= 1 for count in counts), (chart, counts)
        drawn[chart] = counts
    return drawn


def _dashboard_flow(page: Any, shot: Any, engine: Engine, *, invoice_word: str, suffix: str = "") -> None:
    """Charts, figures against the services, the drill-down to one invoice and an earlier
    as-of date that every figure follows; screenshots named with ``suffix``."""
    assert page.url.endswith("/receivables")
    drawn = _charts_draw(page)
    assert drawn["trend"] == [12, 12]
    today = business_today()
    totals, unapplied = _figures(engine, today)
    assert _money(page.get_by_test_id("kpi-open").inner_text()) == totals["open_amount"]
    assert _money(page.get_by_test_id("kpi-overdue").inner_text()) == totals["overdue"]
    assert _money(page.get_by_test_id("kpi-unapplied").inner_text()) == unapplied
    # The stacked bars add up to the total (their exact figures, as the tooltips show them).
    exact = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('chart-segments')).getOption()
        .series.reduce((sum, s) => sum + s.data.reduce((t, d) => t + Number(d.exact), 0), 0)""")
    assert Decimal(str(exact)).quantize(Decimal("0.01")) == totals["open_amount"]
    # The alerts name each customer by code and name, never by a bare code (as every CIO page).
    late = page.get_by_test_id("alerts-over-90").locator("tbody tr td:first-child").all_inner_texts()
    assert late and all(re.fullmatch(r"K\d{4} \S.*", cell.strip()) for cell in late), late
    # The charts' axes read names, not codes (trial finding 32); the code is in the tooltip.
    axis = page.evaluate("id => echarts.getInstanceByDom(document.getElementById(id)).getOption().xAxis[0].data",
                         "chart-top")
    assert axis and not any(re.fullmatch(r"K\d{4}", name) for name in axis), axis
    companies = page.evaluate("id => echarts.getInstanceByDom(document.getElementById(id)).getOption().xAxis[0].data",
                              "chart-companies")
    assert companies and not any(re.fullmatch(r"[A-Z]+\d*", name) for name in companies), companies
    shot(page, "dashboard" + suffix)
    page.get_by_test_id("table-companies").click()
    assert page.get_by_test_id("data-companies").is_visible()
    shot(page, "data-table" + suffix)

    # Drill down: segment -> company -> customer -> its invoices per company -> an invoice.
    page.get_by_test_id("table-segments").click()
    page.get_by_test_id("data-segments").locator("a").first.click()
    segment_total = _money(page.get_by_test_id("segment-total").inner_text())
    assert segment_total > 0
    shot(page, "segment" + suffix)
    page.get_by_test_id("segment-companies").locator("tbody a").first.click()
    shot(page, "company" + suffix)
    page.get_by_test_id("company-customers").locator("tbody a").first.click()
    # count() does not wait: wait for the customer's page, or it may count the company page's
    page.wait_for_url("**/receivables/customers/**")
    page.locator("[data-testid^=invoices-]").first.wait_for()
    assert page.locator("[data-testid^=invoices-]").count() >= 1
    shot(page, "customer-invoices" + suffix)
    first = page.locator("[data-testid^=invoice-]").first
    assert re.fullmatch(r"(AR|DN)-[A-Z0-9]+-\d{4}-\d{6}", first.inner_text())  # listed by its own number
    first.click()
    assert invoice_word in page.get_by_test_id("invoice-title").inner_text()
    assert re.search(r"(AR|DN)-[A-Z0-9]+-\d{4}-\d{6}", page.get_by_test_id("invoice-title").inner_text())
    assert page.get_by_test_id("invoice-lines").locator("tbody tr").count() >= 1  # lines, or why there are none
    shot(page, "invoice" + suffix)

    # An earlier date: every figure follows (the services' answer for that date).
    earlier = today.replace(day=1) - dt.timedelta(days=1)
    page.goto("/receivables")
    page.fill("[data-testid=as-of]", earlier.isoformat())
    page.get_by_test_id("as-of-apply").click()
    assert f"as_of={earlier.isoformat()}" in page.url
    _charts_draw(page)
    then, unapplied_then = _figures(engine, earlier)
    assert _money(page.get_by_test_id("kpi-open").inner_text()) == then["open_amount"]
    assert _money(page.get_by_test_id("kpi-overdue").inner_text()) == then["overdue"]
    assert _money(page.get_by_test_id("kpi-over90").inner_text()) == then["over_90"]
    assert _money(page.get_by_test_id("kpi-unapplied").inner_text()) == unapplied_then
    last = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('chart-trend')).getOption()
        .series[0].data.slice(-1)[0].exact""")
    assert Decimal(last) == then["open_amount"]
    assert page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('chart-trend')).getOption()
        .xAxis[0].data.slice(-1)[0]""") == earlier.isoformat()
    shot(page, "dashboard-earlier-date" + suffix)


def test_cio_dashboard_charts_drill_down_and_as_of_date(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    _dashboard_flow(signed_in("cio"), shot, browser_engine, invoice_word="发票")


def test_cio_dashboard_in_english(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    page = signed_in("cio", language="en")
    _charts_draw(page)
    legend = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('chart-companies')).getOption()
        .series.map(s => s.name)""")
    assert legend == ["not due", "1-30 days", "31-60 days", "61-90 days", "over 90 days"]
    assert "Consolidated receivables" in page.content()
    assert page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('chart-trend')).getOption()
        .yAxis[0].name""") == "thousand CNY"
    shot(page, "dashboard-en-labels")
    # The same flow as in Chinese: drill-down to one invoice and an earlier as-of date.
    _dashboard_flow(page, shot, browser_engine, invoice_word="Invoice", suffix="-en")
