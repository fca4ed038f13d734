"""The cost accountant's repair pages of payables' price differences in a real browser, in
Chinese (erp/payables/repair_pages.py): from the navigation, the invoice price differences
missing from the stock ledger, listed and written dated today; what invoices' price
differences left on work in process (none in the demo: its invoices are posted by today's
rule) with its corrections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from erp.clock import business_today
from erp.masterdata.tax import line_amounts, tax_code_for
from erp.payables.queries import order_for_invoicing
from erp.purchasing.models import PurchaseOrderLine
from tests.browser.conftest import demo_actor
from tests.browser.test_payables import _received_line


def test_a_cost_accountant_writes_an_invoices_missing_price_difference_from_the_repair_page(
        signed_in: Any, shot: Any, browser_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two units received today at the contract price, invoiced at 1.00 more as before 0040
    (no ledger row): the page lists the invoice by our AP- number with its supplier and 2.00 on
    1404; written dated today, the list is empty and says so."""
    from erp.payables import services as payables

    order_number, index, contract = _received_line(browser_engine)
    with Session(browser_engine) as session, session.begin():
        ap = demo_actor(session, "ap.form01")
        order = order_for_invoicing(session, ap, order_number)
        line = order.lines[index]
        today = business_today()
        material_id = session.get(PurchaseOrderLine, line.po_line_id).material_id  # type: ignore[union-attr]
        rate = tax_code_for(session, day=today, material_id=material_id, supplier_id=order.supplier_id)
        amounts = line_amounts(Decimal(2), contract + Decimal("1.00"), rate.rate)
        with monkeypatch.context() as before_0040:
            before_0040.setattr(payables, "post_variance_carried", lambda *args, **kwargs: None)
            invoice = payables.enter_invoice(session, ap, payables.InvoiceRequest(
                company_id=order.company_id, supplier_id=order.supplier_id, number=f"OLD{line.po_line_id:06d}",
                invoice_date=today, net_total=amounts.net, tax_total=amounts.tax, gross_total=amounts.gross,
                lines=[payables.LineRequest(po_line_id=line.po_line_id, quantity=Decimal(2),
                                            unit_price=contract + Decimal("1.00"))]))
        ap_number = invoice.document_number
    page = signed_in("cost.form01")
    page.get_by_role("link", name="台账缺失的发票价差").click()
    page.wait_for_selector("[data-testid=missing]")
    row = page.locator(f"tr[data-invoice='{ap_number}']")
    assert "¥2.00" in row.inner_text() and ap_number in row.inner_text()
    shot(page, "missing-price-differences")
    page.get_by_test_id("write").click()
    page.wait_for_selector("[data-testid=written]")
    assert "已调整" in page.get_by_test_id("written").inner_text()
    assert page.locator(f"tr[data-invoice='{ap_number}']").count() == 0
    shot(page, "missing-price-differences-written")

    page.get_by_role("link", name="在制品滞留价差").click()
    page.wait_for_selector("h1")
    assert "在制品滞留价差" in page.locator("h1").inner_text()
    assert "本公司没有滞留在在制品上的发票价差" in page.get_by_test_id("empty").first.inner_text()
    shot(page, "wip-price-differences")
