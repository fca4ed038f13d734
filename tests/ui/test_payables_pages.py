"""The payables clerk's pages (server-rendered, Chinese by default): enter an invoice
against an order with the match shown before posting, the blocked queue and its release,
ageing and GR/IR."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.payables.models import SupplierInvoice
from tests.payables import vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def _sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_enter_an_invoice_see_the_match_post_it_blocked_and_release_it(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")], number="PO-A-0001")
    (line,) = [1]
    receive(session_factory, world, line, "100")
    _sign_in(client, world, "ap_a")
    landing = client.get("/").headers.get("Location", "")
    assert landing.endswith("/payables/invoices")
    page = client.get("/payables/invoices/new?order=PO-A-0001").get_data(as_text=True)
    assert "订单行" in page and "EXC-STAR" in page and "¥12.00" in page
    form = {"csrf_token": _csrf(page), "order": "PO-A-0001", "number": "INV-P1", "invoice_kind": "special",
            "invoice_date": "2026-11-20", "net_total": "1300.00", "tax_total": "169.00", "gross_total": "1469.00",
            "quantity-0": "100", "unit_price-0": "13.00", "tax_code_id-0": ""}
    preview = client.post("/payables/invoices/new?order=PO-A-0001", data={**form, "action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'data-testid="match-blocked"' in text and "超出容差" in text and "¥100.00" in text
    with session_factory() as session:
        assert session.scalars(select(SupplierInvoice)).all() == []  # the preview wrote nothing
    posted = client.post("/payables/invoices/new?order=PO-A-0001", data={**form, "action": "post"})
    assert posted.status_code == 302
    detail = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "冻结付款" in detail and "¥1,469.00" in detail
    assert 'data-testid="release-form"' not in detail  # who entered it does not release it
    queue = client.get("/payables/invoices?view=blocked").get_data(as_text=True)
    assert "INV-P1" in queue

    _sign_in(client, world, "pm_a")
    invoice_url = posted.headers["Location"].split("?")[0]
    page = client.get(invoice_url).get_data(as_text=True)
    refused = client.post(invoice_url, data={"csrf_token": _csrf(page), "reason": " "})
    assert refused.status_code == 422 and "放行需要填写原因" in refused.get_data(as_text=True)
    released = client.post(invoice_url, data={"csrf_token": _csrf(page), "reason": "涨价已确认"})
    assert released.status_code == 302
    page = client.get(released.headers["Location"]).get_data(as_text=True)
    assert "已放行" in page and "涨价已确认" in page

    ageing = client.get("/payables/ageing?as_of=2026-11-20").get_data(as_text=True)
    assert "S0001" in ageing and "¥1,469.00" in ageing
    grir = client.get("/payables/grir?company=CA&as_of=2026-11-30").get_data(as_text=True)
    assert 'data-testid="grir-check"' in grir and "alert-ok" in grir


def test_a_refused_invoice_keeps_what_was_typed_and_shows_the_difference(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")], number="PO-A-0001")
    receive(session_factory, world, 1, "100")
    _sign_in(client, world, "ap_a")
    page = client.get("/payables/invoices/new?order=PO-A-0001").get_data(as_text=True)
    form = {"csrf_token": _csrf(page), "order": "PO-A-0001", "number": "INV-P2", "invoice_kind": "special",
            "invoice_date": "2026-11-20", "net_total": "1210.00", "tax_total": "156.00", "gross_total": "1366.00",
            "quantity-0": "100", "unit_price-0": "12.00", "action": "post"}
    refused = client.post("/payables/invoices/new?order=PO-A-0001", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'data-testid="error-net_total"' in text and "10" in text
    assert 'value="INV-P2"' in text and 'value="1210.00"' in text


def test_pay_a_supplier_on_the_page_blocked_invoices_cannot_be_ticked(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    from tests.payables import enter

    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    open_order(session_factory, world, [("exc_local", "200", "12.00", "A-AMB")], number="PO-A-0001")
    receive(session_factory, world, 1, "100")
    free = enter(session_factory, world, "INV-F", [(1, "100", "12.00")], net="1200.00", tax="156.00")
    enter(session_factory, world, "INV-B", [(1, "10", "12.00")], net="120.00", tax="15.60")  # not received
    _sign_in(client, world, "ap_a")
    page = client.get("/payables/payments/new?company=CA&supplier=S0001").get_data(as_text=True)
    assert 'aria-label="INV-B" disabled' in page and "冻结付款" in page
    form = {"csrf_token": _csrf(page), "company": "CA", "supplier": "S0001", "amount": "2000.00",
            "payment_date": "2026-11-21", "invoice": [str(free)]}
    refused = client.post("/payables/payments/new", data=form)
    assert refused.status_code == 422 and "超过未冻结的未付金额" in refused.get_data(as_text=True)
    # What the column cannot hold, or the API's dates refuse, is the field's problem (it was a 500).
    for field, value in (("amount", "1e30"), ("amount", "99999999999999999"), ("amount", "1.001"),
                         ("payment_date", "9999-12-31")):
        out_of_bounds = client.post("/payables/payments/new", data={**form, field: value})
        assert out_of_bounds.status_code == 422, (field, value)
        assert f'data-testid="error-{field}"' in out_of_bounds.get_data(as_text=True), (field, value)
    paid = client.post("/payables/payments/new", data={**form, "amount": "1356.00"})
    assert paid.status_code == 302
    # The banner shows the amount as money, never the address's text as typed.
    assert "已过账付款 ¥1,356.00。" in client.get(paid.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="paid"' not in client.get("/payables/invoices?paid=999%20万元已到账").get_data(as_text=True)
    with session_factory() as session:
        assert [(i.number, i.open_amount) for i in session.scalars(
            select(SupplierInvoice).order_by(SupplierInvoice.id))] == [("INV-F", 0), ("INV-B", D("135.60"))]


def test_a_paid_invoice_page_offers_no_reversal_but_links_its_payment(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    from erp.payables import services
    from tests.payables import NOV_20, enter

    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")], number="PO-A-0001")
    receive(session_factory, world, 1, "100")
    invoice = enter(session_factory, world, "INV-P", [(1, "100", "12.00")], net="1200.00", tax="156.00")
    with session_factory() as session, session.begin():
        payment = services.pay_supplier(session, world.actors["ap_a"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=NOV_20,
            amount=D("500.00"), invoice_ids=[invoice])).id
    _sign_in(client, world, "ap_a")
    page = client.get(f"/payables/invoices/{invoice}").get_data(as_text=True)
    assert 'data-testid="reverse-card"' not in page
    assert 'data-testid="reverse-after-payment"' in page and f"/payables/payments/{payment}" in page
    # the address alone does not say a standing payment is reversed
    standing = client.get(f"/payables/payments/{payment}?reversed=1").get_data(as_text=True)
    assert 'data-testid="reverse-card"' in standing and 'data-testid="reversed-notice"' not in standing
    with session_factory() as session, session.begin():
        services.reverse_payment(session, world.actors["ap_a"], payment, reason="bank return", reversal_date=NOV_20)
    page = client.get(f"/payables/invoices/{invoice}").get_data(as_text=True)
    assert 'data-testid="reverse-card"' in page and 'data-testid="reverse-after-payment"' not in page
