"""The payment form shows what a payment dated the chosen date may pay of each invoice, in
Chinese, refreshed (htmx) when the date changes (docs/payables.md, *Payments*).

INV-1 of S0001 to company A: 100 kg at 12.00, VAT 13 %, 1,356.00, posted 20 November. P1
pays 822.00 of it on 20 November and is reversed on 25 November: INV-1 is open 1,356.00
now, but a payment dated 22 November may pay 534.00 of it (P1 still stood then), one dated
25 November all 1,356.00; on 19 November INV-1 was not posted yet.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.payables import enter, vat13_on_materials
from tests.service.test_payables_payment_reversal import pay, reverse
from tests.stock import open_order, receive, set_standard
from tests.ui.test_payables_pages import _sign_in
from tests.world import World

pytestmark = pytest.mark.postgres


def shown(page: str, testid: str) -> str:
    """The text of the first cell, heading or paragraph marked ``testid`` (tags dropped)."""
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</(td|th|p)>', page, re.S)
    assert found, f"no {testid} on the page"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))).strip()


def test_the_payment_form_shows_what_each_invoice_may_be_paid_on_the_payment_date(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice = enter(session_factory, world, "INV-1", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    p1 = pay(session_factory, world, "822.00", [invoice])
    reverse(session_factory, world, p1, on=dt.date(2026, 11, 25))
    _sign_in(client, world, "ap_a")

    page = client.get("/payables/payments/new?company=CA&supplier=S0001&payment_date=2026-11-22")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert shown(text, "payable-heading") == "2026-11-22 可付"
    assert shown(text, "payable") == "¥534.00"  # not today's ¥1,356.00 open
    assert "¥1,356.00" in text  # the open amount now, beside it
    assert shown(text, "payable-total") == "¥534.00"
    assert "之后冲销的付款或红字发票当时仍然有效" in shown(text, "payable-note")
    assert 'hx-get="/payables/payments/new/open-items"' in text

    # the part htmx fetches when the date changes, the ticked invoice kept ticked
    part = client.get(f"/payables/payments/new/open-items?company=CA&supplier=S0001&payment_date=2026-11-25"
                      f"&invoice={invoice}").get_data(as_text=True)
    assert shown(part, "payable-heading") == "2026-11-25 可付"
    assert shown(part, "payable") == "¥1,356.00"
    assert 'data-testid="payable-note"' not in part
    assert re.search(rf'value="{invoice}" aria-label="AP-CA-2026-000001 INV-1"[^>]*\bchecked', part)
    before = client.get("/payables/payments/new/open-items?company=CA&supplier=S0001&payment_date=2026-11-19")
    assert shown(before.get_data(as_text=True), "payable") == "—"  # not posted yet on the 19th
    # a date that is not one: today's amounts, no error (the form refuses it when posted)
    odd = client.get("/payables/payments/new/open-items?company=CA&supplier=S0001&payment_date=soon")
    assert odd.status_code == 200
