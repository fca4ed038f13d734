"""Links the payables accountant asked for (finding 19): from the GR/IR report to the invoice
form filled for the order line, and from an invoice's page to its credit memo form."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.payables import enter, vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def _sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def test_the_grir_report_links_each_line_received_not_invoiced_to_the_invoice_form_filled_for_it(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """Finding 19: on 暂估应付清理 each order line received and not invoiced has 录入发票, which
    opens the invoice form of its order with that line's quantity received and not invoiced
    filled in (100 kg received, 40 invoiced: 60); the accountant's invoice page has
    录入红字发票 beside 录入降价红字发票. Read-only roles see no link."""
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line, other) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                        ("exc_local", "50", "12.00", "A-AMB")], number="PO-A-0001")
    receive(session_factory, world, line, "100")
    invoice = enter(session_factory, world, "INV-G", [(line, "40", "12.00")], net="480.00", tax="62.40")
    _sign_in(client, world, "ap_a")
    grir = client.get("/payables/grir?company=CA&as_of=2026-11-30").get_data(as_text=True)
    link = f'href="/payables/invoices/new?order=PO-A-0001&amp;line={line}"'
    assert link in grir and f'data-testid="enter-invoice-{line}">录入发票</a>' in grir
    assert f"enter-invoice-{other}" not in grir  # nothing received on it
    form = client.get(f"/payables/invoices/new?order=PO-A-0001&line={line}").get_data(as_text=True)
    assert re.search(r'name="quantity-0" value="60"', form)
    assert re.search(r'name="quantity-1" value=""', form)
    page = client.get(f"/payables/invoices/{invoice}").get_data(as_text=True)
    assert 'data-testid="enter-credit-memo">录入红字发票</a>' in page
    _sign_in(client, world, "cio")
    assert "enter-invoice-" not in client.get("/payables/grir?company=CA&as_of=2026-11-30").get_data(as_text=True)
