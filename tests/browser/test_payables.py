"""The payables clerk's day in a real browser, in Chinese: enter a supplier's invoice
against an order, see the three-way match before posting, post it blocked (price outside
tolerance), the purchasing manager releases it with a reason; then ageing and GR/IR."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from erp.inventory import services as inventory
from erp.inventory.queries import lines_open_for_receipt
from erp.masterdata.models import Material
from erp.masterdata.tax import line_amounts
from erp.payables.queries import order_for_invoicing
from erp.clock import business_today
from tests.browser.conftest import assert_fits_width, demo_actor

CENT = Decimal("0.01")



def _received_line(engine: Engine) -> tuple[str, int, Decimal]:
    """Two units received today against an open FORM01 order line (as the clerk would):
    the order's number, the line's position on the invoice form, its contract price."""
    with Session(engine) as session, session.begin():
        clerk = demo_actor(session, "clerk.form01")
        rows, _ = lines_open_for_receipt(session, clerk, limit=500)
        line = next(r for r in rows if r.open_quantity >= 2)
        today = business_today()
        batches = session.get(Material, line.material_id).batch_managed  # type: ignore[union-attr]
        inventory.receive_goods(session, clerk, inventory.ReceiptRequest(
            po_line_id=line.po_line_id, quantity=Decimal(2), posting_date=today,
            batch_number=f"AP{line.po_line_id:05d}" if batches else None,
            manufacture_date=today - dt.timedelta(days=20) if batches else None,
            expiry_date=today + dt.timedelta(days=600) if batches else None))
        order = order_for_invoicing(session, demo_actor(session, "ap.form01"), line.order_number)
        index = next(i for i, ol in enumerate(order.lines) if ol.po_line_id == line.po_line_id)
        return line.order_number, index, order.lines[index].contract_price


def _invoiced(session: Session, number: str, index: int, prefix: str,
              on: dt.date | None = None) -> tuple[Any, Any, Any, Any]:
    """The two units of ``_received_line`` invoiced at the contract price with 13 % VAT, as
    ap.form01 enters them through the service, numbered ``prefix`` and the order line's id:
    the accountant, the order, its line and the invoice."""
    from erp.payables import services as payables

    ap = demo_actor(session, "ap.form01")
    order = order_for_invoicing(session, ap, number)
    line = order.lines[index]
    net = (line.contract_price * 2).quantize(CENT, ROUND_HALF_UP)
    tax = (net * Decimal("0.13")).quantize(CENT, ROUND_HALF_UP)
    invoice = payables.enter_invoice(session, ap, payables.InvoiceRequest(
        company_id=order.company_id, supplier_id=order.supplier_id, number=f"{prefix}{line.po_line_id:06d}",
        invoice_date=on or business_today(), net_total=net, tax_total=tax, gross_total=net + tax,
        lines=[payables.LineRequest(po_line_id=line.po_line_id, quantity=Decimal(2), unit_price=line.contract_price)]))
    return ap, order, line, invoice


def test_payables_clerk_enters_an_invoice_sees_the_match_and_a_manager_releases_it(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    number, index, contract = _received_line(browser_engine)
    price = (contract * Decimal("1.10")).quantize(CENT, ROUND_HALF_UP)  # 10 % above contract: outside 5 %
    net = (price * 2).quantize(CENT, ROUND_HALF_UP)
    tax = (net * Decimal("0.13")).quantize(CENT, ROUND_HALF_UP)
    invoice_number = f"2433{index:04d}{business_today():%m%d}0001"
    page = signed_in("ap.form01")
    assert page.url.endswith("/payables/invoices")
    shot(page, "invoices")
    page.get_by_test_id("new-invoice").click()
    page.fill("#f-order", number)
    page.get_by_test_id("open-order").click()
    assert "订单行" in page.content()
    page.fill("#f-number", invoice_number)
    page.fill("#f-net_total", str(net))
    page.fill("#f-tax_total", str(tax))
    page.fill("#f-gross_total", str(net + tax))
    page.get_by_test_id(f"quantity-{index}").fill("2")
    page.get_by_test_id(f"unit_price-{index}").fill(str(price))
    shot(page, "invoice-form")
    page.get_by_test_id("preview-match").click()
    blocked = page.get_by_test_id("match-blocked").inner_text()
    assert "将过账并冻结付款" in blocked and "与合同价" in blocked and "容差" in blocked
    assert "超出容差" in page.get_by_test_id("match").inner_text()
    shot(page, "match-before-posting")
    page.get_by_test_id("post-invoice").click()
    # first what it will post: the GR/IR it clears, the price difference, the tax, the journal
    facts = page.get_by_test_id("confirm-invoice-facts").inner_text()
    assert "冲销暂估" in facts and "价差" in facts and "冻结付款" in facts
    assert page.get_by_test_id("confirm-invoice-journal").is_visible()
    shot(page, "invoice-confirmation")
    page.get_by_test_id("confirm-invoice-yes").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "冻结付款" in page.get_by_test_id("status").inner_text()
    title = page.locator("h1").inner_text()  # titled by our own number; the supplier's beside it
    assert re.search(r"AP-FORM01-\d{4}-\d{6}", title) and invoice_number in page.locator("dl").inner_text()
    shot(page, "posted-blocked")
    page.goto("/payables/invoices?view=blocked")
    assert page.locator(f"tr[data-number='{invoice_number}']").count() == 1
    listed = page.locator(f"tr[data-number='{invoice_number}']").get_by_test_id("document-number").inner_text()
    assert listed in title  # the first column
    shot(page, "blocked-queue")

    manager = signed_in("pm.form01")
    manager.goto("/payables/invoices?view=blocked")
    manager.locator(f"tr[data-number='{invoice_number}'] a").click()
    manager.fill("#f-reason", "供应商涨价已经采购确认")
    shot(manager, "release-form")
    manager.get_by_test_id("release").click()
    manager.wait_for_selector("[data-testid=released]")
    assert "已放行" in manager.get_by_test_id("status").inner_text()
    shot(manager, "released")

    page.goto("/payables/invoices?view=open")
    supplier = page.locator(f"tr[data-number='{invoice_number}'] td").nth(3).inner_text().split()[0]
    page.goto(f"/payables/payments/new?company=FORM01&supplier={supplier}")
    page.locator(f"tr[data-number='{invoice_number}'] input[type=checkbox]").check()
    page.fill("#f-amount", str(net + tax))
    page.fill("#f-reference", "ICBC-20261130-001")
    shot(page, "payment-form")
    page.get_by_test_id("post-payment").click()
    # first which invoices it settles and the journal it posts, then the post
    assert invoice_number in page.get_by_test_id("confirm-payment-facts").inner_text()
    assert page.get_by_test_id("confirm-payment-journal").is_visible()
    shot(page, "payment-confirmation")
    page.get_by_test_id("confirm-payment-yes").click()
    page.wait_for_selector("[data-testid=paid]")
    assert "/payables/payments/" in page.url  # the new payment's page, with the invoice it settled
    assert invoice_number in page.get_by_test_id("allocations").inner_text()
    shot(page, "paid")
    page.goto("/payables/ageing")
    assert "应付账龄" in page.content()  # paid: nothing of this invoice is open any more
    shot(page, "ageing")
    page.goto("/payables/grir")
    assert page.get_by_test_id("grir-check").is_visible()
    shot(page, "grir")


def test_a_cost_accountant_follows_an_invoice_before_its_goods_from_the_batch_to_the_invoice(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    """An invoice for one unit of a batch-managed material, entered before the goods arrive,
    books its price difference on the material's no-batch batch "-", which holds nothing
    else. The batch flow page (a 404 refusal before) shows the batch with no goods and the
    price difference, whose invoice number opens the invoice; the invoice names its PD
    document, which opens the stock document."""
    from erp.masterdata.tax import line_amounts, tax_code_for
    from erp.payables import services as payables

    from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine

    with Session(browser_engine) as session, session.begin():
        clerk, ap = demo_actor(session, "clerk.form01"), demo_actor(session, "ap.form01")
        rows, _ = lines_open_for_receipt(session, clerk, limit=500)
        # a new order of one batch-managed material (as an open line of the demo), nothing received

        model = next(r for r in rows if session.get(Material, r.material_id).batch_managed)  # type: ignore[union-attr]
        source = session.get(PurchaseOrderLine, model.po_line_id)
        placed = session.get(PurchaseOrder, source.order_id)  # type: ignore[union-attr]
        new = PurchaseOrder(number=f"PO-AHEAD-{source.id:06d}", purchasing_company_id=placed.purchasing_company_id,
                            receiving_company_id=placed.receiving_company_id, supplier_id=placed.supplier_id,
                            order_date=placed.order_date, status=placed.status, created_by=placed.created_by,
                            lines=[PurchaseOrderLine(line_no=1, material_id=source.material_id, quantity=Decimal(10),
                                                     unit_price=source.unit_price,
                                                     amount=(10 * source.unit_price).quantize(CENT),
                                                     contract_line_id=source.contract_line_id,
                                                     warehouse_id=source.warehouse_id)])
        session.add(new)
        session.flush()
        po_line_id, material_code = new.lines[0].id, model.material_code
        order = order_for_invoicing(session, ap, new.number)
        contract = next(ol.contract_price for ol in order.lines if ol.po_line_id == po_line_id)
        today = business_today()
        rate = tax_code_for(session, day=today, material_id=source.material_id, supplier_id=order.supplier_id)
        price = contract + Decimal("1.00")
        amounts = line_amounts(Decimal(1), price, rate.rate)
        number = f"AHEAD{po_line_id:06d}"
        payables.enter_invoice(session, ap, payables.InvoiceRequest(
            company_id=order.company_id, supplier_id=order.supplier_id, number=number, invoice_date=today,
            net_total=amounts.net, tax_total=amounts.tax, gross_total=amounts.gross,
            lines=[payables.LineRequest(po_line_id=po_line_id, quantity=Decimal(1), unit_price=price)]))
    page = signed_in("cost.form01")
    page.goto(f"/inventory/batches?material={material_code}&batch=-")
    assert page.get_by_test_id("refusal").count() == 0
    assert "该批次没有货物移动" in page.get_by_test_id("batch-movements").inner_text()
    differences = page.get_by_test_id("batch-price-differences").inner_text()
    assert number in differences and "1.00" in differences
    shot(page, "batch-with-only-a-price-difference")
    page.get_by_test_id("batch-price-differences").get_by_role("link", name=number).click()
    documents = page.get_by_test_id("price-difference-documents")
    assert "PD-" in documents.inner_text()
    shot(page, "invoice-names-its-price-difference")
    documents.locator("a").first.click()
    assert number in page.get_by_test_id("no-journal").inner_text()
    shot(page, "price-difference-document")
    page.get_by_test_id("supplier-invoice").click()  # and back to the invoice
    assert page.get_by_test_id("price-difference-documents").count() == 1


def test_an_accountant_reverses_an_invoice_entered_wrongly_and_its_goods_are_free_to_invoice_again(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    """An invoice posted at the wrong price is reversed from its page, in Chinese: the
    reversal is first shown with the journal it posts (the invoice's mirror) and the reason;
    back to the form keeps the reason typed; confirmed, the page shows 已冲销 with the date,
    the user and the reason, and no reversal form any more; the goods are free to invoice
    again."""
    from erp.payables import services as payables
    from erp.payables.models import SupplierInvoice

    number, index, contract = _received_line(browser_engine)
    with Session(browser_engine) as session, session.begin():
        ap = demo_actor(session, "ap.form01")
        order = order_for_invoicing(session, ap, number)
        line = order.lines[index]
        invoiced_before = line.invoiced  # an earlier test may have invoiced this line too
        net = (line.contract_price * 2).quantize(CENT, ROUND_HALF_UP)
        tax = (net * Decimal("0.13")).quantize(CENT, ROUND_HALF_UP)
        invoice = payables.enter_invoice(session, ap, payables.InvoiceRequest(
            company_id=order.company_id, supplier_id=order.supplier_id, number=f"REV{line.po_line_id:06d}",
            invoice_date=business_today(), net_total=net, tax_total=tax, gross_total=net + tax,
            lines=[payables.LineRequest(po_line_id=line.po_line_id, quantity=Decimal(2),
                                        unit_price=line.contract_price)]))
        invoice_id, invoice_number = invoice.id, invoice.number
    page = signed_in("ap.form01")
    page.goto(f"/payables/invoices/{invoice_id}")
    assert "冲销" in page.get_by_test_id("reverse-card").inner_text()
    assert "应付账款" in page.get_by_test_id("reverse-effect").inner_text()
    page.fill("#f-reversal-reason", "单价录入错误")
    shot(page, "reverse-form")
    page.get_by_test_id("reverse").click()
    # first what it will post: the mirror of the invoice's entry, confirmed or back to the form
    page.wait_for_selector("[data-testid=confirm-posting]")
    journal = page.get_by_test_id("confirm-posting-journal").inner_text()
    assert "应付账款" in journal and f"¥{net + tax:,.2f}" in journal
    assert "单价录入错误" in page.get_by_test_id("confirm-posting-facts").inner_text()
    shot(page, "reverse-confirm")
    page.get_by_test_id("confirm-posting-back").click()
    page.wait_for_selector("[data-testid=reverse-form]")
    assert page.input_value("#f-reversal-reason") == "单价录入错误"
    page.get_by_test_id("reverse").click()
    page.wait_for_selector("[data-testid=confirm-posting]")
    page.get_by_test_id("confirm-posting-yes").click()
    page.wait_for_selector("[data-testid=reversed-notice]")
    status = page.get_by_test_id("status").inner_text()
    assert "已冲销" in status and "ap.form01" in status and "单价录入错误" in status
    assert page.get_by_test_id("reverse-card").count() == 0
    shot(page, "reversed")
    with Session(browser_engine) as session:
        reversed_ = session.get(SupplierInvoice, invoice_id)
        assert reversed_ is not None and reversed_.reversed and reversed_.open_amount == 0
        order = order_for_invoicing(session, demo_actor(session, "ap.form01"), number)
        assert order.lines[index].invoiced == invoiced_before and invoice_number


def test_an_accountant_reverses_a_payment_the_bank_returned_and_the_invoice_is_open_again(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    """A payment of an invoice is reversed from its page, in Chinese (冲销付款): first shown
    with the journal it posts, then confirmed, the page shows 已冲销 with the date, the user and the reason, the invoice is open again by
    what the payment settled, and the payments list marks it 已冲销."""
    from erp.payables import services as payables
    from erp.payables.models import SupplierInvoice, SupplierPayment

    number, index, contract = _received_line(browser_engine)
    with Session(browser_engine) as session, session.begin():
        ap, order, line, invoice = _invoiced(session, number, index, "PAYREV")
        payment = payables.pay_supplier(session, ap, payables.PaymentRequest(
            company_id=order.company_id, supplier_id=order.supplier_id, payment_date=business_today(),
            amount=invoice.gross_total, invoice_ids=[invoice.id], reference=f"BANK{line.po_line_id:06d}"))
        invoice_id, payment_id, gross = invoice.id, payment.id, invoice.gross_total
    page = signed_in("ap.form01")
    page.goto(f"/payables/payments/{payment_id}")
    assert "冲销付款" in page.get_by_test_id("reverse-card").inner_text()
    assert "应付账款" in page.get_by_test_id("reverse-effect").inner_text()
    assert "PAYREV" in page.get_by_test_id("allocations").inner_text()
    page.fill("#f-reversal-reason", "银行退票：账号错误")
    shot(page, "payment-reverse-form")
    page.get_by_test_id("reverse").click()
    # first what it will post: Dr 1002 bank / Cr 2202 accounts payable, the payment's amount
    page.wait_for_selector("[data-testid=confirm-posting]")
    journal = page.get_by_test_id("confirm-posting-journal").inner_text()
    assert "应付账款" in journal and f"¥{gross:,.2f}" in journal
    shot(page, "payment-reverse-confirm")
    page.get_by_test_id("confirm-posting-yes").click()
    page.wait_for_selector("[data-testid=reversed-notice]")
    status = page.get_by_test_id("status").inner_text()
    assert "已冲销" in status and "ap.form01" in status and "银行退票：账号错误" in status
    assert page.get_by_test_id("reverse-card").count() == 0
    shot(page, "payment-reversed")
    page.goto("/payables/payments?view=reversed")
    row = page.locator(f"tr[data-payment='{payment_id}']")
    assert "已冲销" in row.inner_text()
    shot(page, "payments-list")
    with Session(browser_engine) as session:
        reversed_ = session.get(SupplierPayment, payment_id)
        assert reversed_ is not None and reversed_.reversed
        opened = session.get(SupplierInvoice, invoice_id)
        assert opened is not None and opened.open_amount == gross and contract


def test_an_accountant_enters_a_credit_memo_from_the_invoice_it_corrects(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    """A supplier credits one of two units invoiced (红字发票): from the invoice's page the
    accountant opens the credit memo form (the invoice's lines, its price and tax code
    filled in), sees what it will post, is refused beside the reason while none is given
    (what was typed kept), posts it, and lands on the memo's page: its journal, the invoice
    it reduced, the reason; the invoice lists it and is open by the rest."""
    number, index, _ = _received_line(browser_engine)
    with Session(browser_engine) as session, session.begin():
        _, _, line, invoice = _invoiced(session, number, index, "CMI")
        invoice_id, invoice_number, gross = invoice.id, invoice.number, invoice.gross_total
        credit = line_amounts(Decimal(1), line.contract_price, invoice.lines[0].tax_rate)
    page = signed_in("ap.form01")
    page.goto(f"/payables/invoices/{invoice_id}")
    page.get_by_test_id("enter-credit-memo").click()
    assert invoice_number in page.locator("h1").inner_text()
    assert page.input_value("[data-testid=unit_price-0]") == f"{line.contract_price.normalize():f}" or \
        Decimal(page.input_value("[data-testid=unit_price-0]")) == line.contract_price
    page.fill("#f-number", f"CM{invoice_number}")
    page.fill("#f-net_total", str(credit.net))
    page.fill("#f-tax_total", str(credit.tax))
    page.fill("#f-gross_total", str(credit.gross))
    page.get_by_test_id("quantity-0").fill("1")
    page.get_by_test_id("preview-credit-memo").click()
    preview = page.get_by_test_id("credit-memo-preview").inner_text()
    assert "应付账款" in preview and "2202" in preview
    shot(page, "credit-memo-preview")
    page.get_by_test_id("post-credit-memo").click()
    assert "请说明供应商红冲此发票的原因" in page.get_by_test_id("error-reason").inner_text()
    assert page.input_value("#f-number") == f"CM{invoice_number}" and page.input_value("[data-testid=quantity-0]") == "1"
    shot(page, "credit-memo-refused")
    page.fill("#f-reason", "供应商降价补偿：退回 1 件")
    page.get_by_test_id("post-credit-memo").click()
    page.wait_for_selector("[data-testid=posted]")
    applied = f"¥{credit.gross:,.2f}"  # all of it: the invoice had more open
    assert invoice_number in page.get_by_test_id("credits-invoice").inner_text()
    assert f"冲减其未付金额 {applied}" in page.get_by_test_id("credits-invoice").inner_text()
    assert f"冲抵发票金额\n{applied}" in page.locator(".descriptions").inner_text()
    assert "供应商降价补偿" in page.get_by_test_id("memo-reason").inner_text()
    assert "2202" in page.get_by_test_id("journal").inner_text()
    shot(page, "credit-memo-posted")
    page.get_by_test_id("credits-invoice").locator("a").click()
    assert f"CM{invoice_number}" in page.get_by_test_id("credit-memos").inner_text()
    assert page.get_by_test_id("applied").inner_text() == applied
    shot(page, "invoice-with-its-credit-memo")
    with Session(browser_engine) as session:
        from erp.payables.models import SupplierInvoice

        credited = session.get(SupplierInvoice, invoice_id)
        assert credited is not None and credited.open_amount == gross - credit.gross


def test_the_payment_form_shows_what_may_be_paid_on_the_date_chosen(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    """An invoice of 10 December is paid in part on 11 December and that payment is reversed
    on 13 December (the bank returned it). On the payment form, in Chinese, the invoice is
    open by its whole total; with today's date (15 December) all of it may be paid; when the
    accountant changes the payment date to 12 December the column refreshes (htmx, no page
    load): only the total less the part paid was open to pay then, with a note saying why."""
    from erp.payables import services as payables
    from erp.masterdata.models import Supplier

    number, index, _ = _received_line(browser_engine)
    dec_10, dec_11, dec_12, dec_13 = (dt.date(2026, 12, d) for d in (10, 11, 12, 13))
    with Session(browser_engine) as session, session.begin():
        ap, order, line, invoice = _invoiced(session, number, index, "ASOF", on=dec_10)
        part = (invoice.net_total / 2).quantize(CENT, ROUND_HALF_UP)
        payment = payables.pay_supplier(session, ap, payables.PaymentRequest(
            company_id=order.company_id, supplier_id=order.supplier_id, payment_date=dec_11, amount=part,
            invoice_ids=[invoice.id], reference=f"ASOF{line.po_line_id:06d}"))
        payables.reverse_payment(session, ap, payment.id, reason="银行退票", reversal_date=dec_13)
        supplier = session.get(Supplier, order.supplier_id)
        assert supplier is not None
        invoice_number, gross, supplier_code = invoice.number, invoice.gross_total, supplier.code
    page = signed_in("ap.form01")
    page.goto(f"/payables/payments/new?company=FORM01&supplier={supplier_code}")
    row = page.locator(f"tr[data-number='{invoice_number}']")
    assert row.get_by_test_id("payable").inner_text() == f"¥{gross:,.2f}"
    assert "2026-12-15 可付" in page.get_by_test_id("payable-heading").inner_text()
    page.fill("#f-payment_date", dec_12.isoformat())
    page.locator("#f-payment_date").dispatch_event("change")
    page.wait_for_function("document.querySelector('[data-testid=payable-heading]').innerText.includes('2026-12-12')")
    row = page.locator(f"tr[data-number='{invoice_number}']")
    assert row.get_by_test_id("payable").inner_text() == f"¥{gross - part:,.2f}"
    assert f"¥{gross:,.2f}" in row.inner_text()  # open now, beside it
    assert "之后冲销的付款或红字发票当时仍然有效" in page.get_by_test_id("payable-note").inner_text()
    assert page.input_value("#f-payment_date") == "2026-12-12"
    shot(page, "pay-form-as-of-date")
    # c20799a: at 1440 px the form takes the page's width and its eight columns scroll in their
    # own box, so neither the page nor the form is wider than the window
    assert page.viewport_size["width"] == 1440
    assert_fits_width(page, "[data-testid=pay-form], [data-testid=open-items-part]")


def test_an_accountant_enters_a_price_reduction_from_the_invoice_and_confirms_its_journal(
        signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    """The supplier grants 1.00 off the two units invoiced (降价红字发票): from the invoice's
    page the accountant opens 录入降价红字发票, types the reduction (1.00, VAT 13 % 0.13,
    1.13 in all), sees the journal it will post (Dr 2202 1.13, Cr 2221.01.01 0.13, the 1.00 as
    price difference) and the invoice's open amount after it, confirms, and lands on the
    memo's page: the invoice line it reduced, quantities and GR/IR unchanged; the invoice is
    open by 1.13 less."""
    number, index, _ = _received_line(browser_engine)
    with Session(browser_engine) as session, session.begin():
        _, _, _, invoice = _invoiced(session, number, index, "PRI")
        invoice_id, invoice_number, gross = invoice.id, invoice.number, invoice.gross_total
        invoiced_quantity = invoice.lines[0].quantity
    page = signed_in("ap.form01")
    page.goto(f"/payables/invoices/{invoice_id}")
    page.get_by_test_id("enter-price-reduction").click()
    page.wait_for_selector("[data-testid=price-reduction-form]")
    assert invoice_number in page.locator("h1").inner_text()
    page.fill("#f-number", f"PR{invoice_number}")
    page.fill("#f-net_total", "1.00")
    page.fill("#f-tax_total", "0.13")
    page.fill("#f-gross_total", "1.13")
    page.fill("#f-reason", "供应商让价 0.50 元/件")
    page.get_by_test_id("amount-0").fill("1.00")
    shot(page, "price-reduction-form")
    page.get_by_test_id("check-price-reduction").click()
    page.wait_for_selector("[data-testid=confirm-posting]")
    journal = page.get_by_test_id("confirm-posting-journal").inner_text()
    assert re.search(r"2202 应付账款\s+¥1\.13", journal), journal
    assert re.search(r"2221\.01\.01 .*\s+¥0\.13", journal), journal
    facts = page.get_by_test_id("confirm-posting-facts").inner_text()
    assert f"¥{gross:,.2f}，降价后 ¥{gross - Decimal('1.13'):,.2f}" in facts
    shot(page, "price-reduction-confirm")
    page.get_by_test_id("confirm-posting-yes").click()
    page.wait_for_selector("[data-testid=posted]")
    assert "已开票数量和暂估应付不变" in page.locator("main").inner_text()
    assert "¥1.00" in page.get_by_test_id("reduction-lines").inner_text()
    assert "供应商让价" in page.get_by_test_id("memo-reason").inner_text()
    shot(page, "price-reduction-posted")
    page.get_by_test_id("credits-invoice").locator("a").click()
    page.wait_for_selector("[data-testid=credit-memos]")
    assert "降价" in page.get_by_test_id("credit-memos").inner_text()
    shot(page, "invoice-with-its-price-reduction")
    with Session(browser_engine) as session:
        from erp.payables.models import SupplierInvoice

        reduced = session.get(SupplierInvoice, invoice_id)
        assert reduced is not None and reduced.open_amount == gross - Decimal("1.13")
        assert reduced.lines[0].quantity == invoiced_quantity
