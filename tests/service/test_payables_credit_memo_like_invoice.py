"""A credit memo reducing an invoice is of the invoice's kind and taxes each order line at the
invoice's code (docs/payables.md, *Entering a credit memo*), on PostgreSQL, figures by hand.

Standard 12.30 for EXC-LOCAL; company A orders 100 kg at 12.30 from S0001, received on 20
November. INV-C, a special VAT invoice at VAT13: net 1,230.00, tax 159.90, gross 1,389.90
(Dr 2202.01 1,230.00, Dr 2221.01.01 159.90, Cr 2202 1,389.90).

A memo for 20 kg at 12.30 reverses net 246.00 and input VAT 246.00 x 13 % = 31.98 (gross
277.98). Entered as an *ordinary* invoice it would fold the 31.98 into stock and variance
(1404) and leave input VAT at 159.90, overstated by 31.98; at VAT9 it would take back 22.14
(246.00 x 9 %), leaving 137.76 instead of 127.92. Both are refused; the memo of the
invoice's kind and code posts: input VAT 159.90 - 31.98 = 127.92, INV-C open
1,389.90 - 277.98 = 1,111.92.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.payables import services
from erp.payables.errors import CreditMemoUnlikeInvoice
from erp.payables.models import DocumentKind, InvoiceKind, SupplierInvoice
from erp.posting.models import JournalLine
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.stock import open_order, receive, refused, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
INPUT_VAT = "2221.01.01"
NOV_21 = dt.date(2026, 11, 21)


def balance(session: Session, company: int, account: str) -> D:
    return D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
        JournalLine.company_id == company, JournalLine.account_code == account)))


def memo(session_factory: sessionmaker[Session], world: World, invoice_id: int, line: int, *, tax: str,
         kind: InvoiceKind, tax_code_id: int) -> int:
    with session_factory() as session, session.begin():
        return services.enter_invoice(session, world.actors["ap_a"], services.InvoiceRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], number="CM-C",
            invoice_date=NOV_21, net_total=D("246.00"), tax_total=D(tax), gross_total=D("246.00") + D(tax),
            lines=[services.LineRequest(po_line_id=line, quantity=D("20"), unit_price=D("12.30"),
                                        tax_code_id=tax_code_id)],
            invoice_kind=kind, credits_invoice_id=invoice_id), DocumentKind.CREDIT_MEMO).id


def test_a_credit_memo_takes_the_kind_and_tax_codes_of_the_invoice_it_credits(
        session_factory: sessionmaker[Session], world: World) -> None:
    codes = vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.30")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.30", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice = enter(session_factory, world, "INV-C", [(line, "100", "12.30")], net="1230.00", tax="159.90",
                    on=NOV_20)
    company = world.companies["A"]

    with refused(session_factory, CreditMemoUnlikeInvoice) as ordinary:
        memo(session_factory, world, invoice, line, tax="31.98", kind=InvoiceKind.ORDINARY,
             tax_code_id=codes["VAT13"])
    assert ordinary.value.status == 422
    assert [e["pointer"] for e in ordinary.value.errors] == ["/invoice_kind"]
    assert "invoice INV-C is of kind special VAT invoice" in str(ordinary.value.detail)

    with refused(session_factory, CreditMemoUnlikeInvoice) as vat9:
        memo(session_factory, world, invoice, line, tax="22.14", kind=InvoiceKind.SPECIAL,
             tax_code_id=codes["VAT9"])
    assert [e["pointer"] for e in vat9.value.errors] == ["/lines/0/tax_code_id"]
    assert f"invoice INV-C taxes order line {line} at VAT13, not VAT9" in str(vat9.value.detail)

    with session_factory() as session:
        assert session.scalar(select(func.count(SupplierInvoice.id))) == 1
        assert balance(session, company, INPUT_VAT) == D("159.90")
        found = session.get(SupplierInvoice, invoice)
        assert found is not None and found.open_amount == D("1389.90")

    memo(session_factory, world, invoice, line, tax="31.98", kind=InvoiceKind.SPECIAL, tax_code_id=codes["VAT13"])
    with session_factory() as session:
        assert balance(session, company, INPUT_VAT) == D("127.92")
        found = session.get(SupplierInvoice, invoice)
        assert found is not None and found.open_amount == D("1111.92")
