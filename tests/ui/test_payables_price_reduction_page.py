"""The price-reduction page (录入降价红字发票, docs/payables.md, *Price reductions*): reached from
the invoice's page, the journal shown before posting (confirm_posting), refusals beside the
line, posted on confirmation, the memo's page naming the invoice line it reduced.

INV-P: 100 kg of EXC-LOCAL at 12.00 (standard 12.00, all held), VAT13: 1,200.00 + 156.00.
2.00/kg off: 200.00 + 26.00 = 226.00: Dr 2202 226.00 / Cr 2221.01.01 26.00 / Cr 1404 200.00;
the invoice open 1,356.00 - 226.00 = 1,130.00.
"""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.payables.models import DocumentKind, SupplierInvoice
from tests.payables import enter, vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import shown
from tests.world import World

pytestmark = pytest.mark.postgres


def _sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _memos(session_factory: sessionmaker[Session]) -> list[SupplierInvoice]:
    with session_factory() as session:
        return list(session.scalars(select(SupplierInvoice).where(
            SupplierInvoice.document_kind == DocumentKind.CREDIT_MEMO)))


def test_a_price_reduction_is_entered_from_its_invoice_shown_with_its_journal_refused_beside_the_line_and_posted(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice = enter(session_factory, world, "INV-P", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    _sign_in(client, world, "ap_a")
    page = client.get(f"/payables/invoices/{invoice}").get_data(as_text=True)
    url = f"/payables/invoices/{invoice}/price-reduction"
    assert f'href="{url}" data-testid="enter-price-reduction">录入降价红字发票</a>' in page

    page = client.get(url).get_data(as_text=True)
    assert "发票 AP-CA-2026-000001 (INV-P) 的降价红字发票" in page and "尚可降价" in page
    assert shown(page, "reducible-0") == "¥1,200.00"
    form = {"csrf_token": _csrf(page), "number": "RED-1", "invoice_date": "2026-11-21", "net_total": "1200.01",
            "tax_total": "156.00", "gross_total": "1356.01", "reason": "供应商降价 2.00 元/kg", "amount-0": "1200.01",
            "new_unit_price-0": ""}
    refused = client.post(url, data=form)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "扣除此前的降价和红字发票后还剩 ¥1,200.00：不能降价 ¥1,200.01" in shown(text, "refusal")
    assert "不能降价 ¥1,200.01" in shown(text, "error-amount-0")  # beside the cell it is about
    assert 'value="RED-1"' in text and 'value="1200.01"' in text  # what was typed is kept
    assert _memos(session_factory) == []

    check = client.post(url, data={**form, "net_total": "200.00", "tax_total": "26.00", "gross_total": "226.00",
                                   "amount-0": "", "new_unit_price-0": "10.00"})
    assert check.status_code == 200
    text = check.get_data(as_text=True)
    journal = shown(text, "confirm-posting-journal")
    assert re.search(r"2202\s.*?¥226\.00", journal) and re.search(r"2221\.01\.01\s.*?¥26\.00", journal)
    assert re.search(r"1404\s.*?¥200\.00", journal)
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text.split('data-testid="confirm-posting-facts"')[1].split("</dl>")[0]))
    assert "¥1,356.00，降价后 ¥1,130.00" in facts and "降价 ¥200.00，税额 ¥26.00" in facts
    assert _memos(session_factory) == []  # the check wrote nothing

    posted = client.post(url, data={**form, "net_total": "200.00", "tax_total": "26.00", "gross_total": "226.00",
                                    "amount-0": "", "new_unit_price-0": "10.00", "confirmed": "1"})
    assert posted.status_code == 302, posted.get_data(as_text=True)
    with session_factory() as session:
        (memo,) = session.scalars(select(SupplierInvoice).where(
            SupplierInvoice.document_kind == DocumentKind.CREDIT_MEMO)).all()
        assert (memo.gross_total, memo.applied_amount, memo.lines[0].quantity) == (D("226.00"), D("226.00"), D("0"))
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "降价行" in page and "已开票数量和暂估应付不变" in page
    assert "¥200.00" in shown(page, "reduction-lines")
    invoice_page = client.get(f"/payables/invoices/{invoice}").get_data(as_text=True)
    assert "¥1,130.00" in invoice_page and "降价" in shown(invoice_page, "credit-memos")
