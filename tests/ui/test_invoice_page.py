"""The customer invoice page (T3, T17): each line's quantity with its unit, unit price
excluding VAT, amount excluding VAT, rate, tax and total including tax, the header's net /
tax / gross as the output VAT posted; payments and credit notes listed apart, and a status
that tells a credited invoice from a paid one.

Worked example: 300 of the excipient at 25.00 excluding VAT, VAT 13 %: net 7,500.00, tax
975.00, gross 8,475.00. A price credit note of 100.00 + 13.00 VAT takes 113.00 off it:
8,362.00 open, 部分冲减 (nothing paid). A payment of 1,000.00 then: 7,362.00 open, 部分收款.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import notes
from tests.credit import new_order, pay, put_stock, ship
from tests.stock import entry_lines
from tests.tax import create_china_vat
from tests.world import World

SF = sessionmaker[Session]


def test_the_invoice_shows_vat_per_line_and_tells_credit_notes_from_payments(
        client: FlaskClient, world: World, session_factory: SF) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("300", "25.00")], confirm=True, tax="VAT13").order
    invoice = ship(session_factory, world, order.id, ["300"]).invoice
    with session_factory() as session:
        assert entry_lines(session, invoice.id, "invoice")["2221.01.02"] == D("-975.00")
    with client.session_transaction() as cookie:
        cookie["token"] = world.tokens["credit"]
    page = client.get(f"/receivables/invoices/{invoice.id}").get_data(as_text=True)
    for text in ("单价（不含税）", "不含税金额", "税率", "税额", "价税合计", "¥7,500.00", "¥975.00", "¥8,475.00", "13%"):
        assert text in page, text
    assert "¥25.00" in page and "未收款" in page

    codes = create_china_vat(session_factory, world)
    with session_factory() as session, session.begin():
        note = notes.issue_credit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                       customer_id=world.customers["cust1"], note_date=dt.date(2026, 11, 21),
                                       amount=D("100.00"), reason="价格折让", invoice_id=invoice.id,
                                       tax_code_id=codes["VAT13"])
        number = note.document_number
    page = client.get(f"/receivables/invoices/{invoice.id}").get_data(as_text=True)
    status = page.split('data-testid="invoice-status"')[1].split("</span>")[0]
    assert "部分冲减" in status and "收款" not in status
    credit_notes = page.split('data-testid="invoice-credit-notes"')[1].split("</table>")[0]
    assert number in credit_notes and "¥113.00" in credit_notes and "价格折让" in credit_notes
    assert "¥8,362.00" in page and "该发票尚未收款" in page  # nothing was paid: true, and the note is listed

    pay(session_factory, world, "1000.00", day=dt.date(2026, 11, 22), invoice_ids=[invoice.id])
    page = client.get(f"/receivables/invoices/{invoice.id}").get_data(as_text=True)
    status = page.split('data-testid="invoice-status"')[1].split("</span>")[0]
    assert "部分收款" in status
    assert "¥7,362.00" in page and 'data-testid="invoice-payments"' in page
