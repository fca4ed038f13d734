"""A supplier invoice's and credit memo's dates and tax codes, on PostgreSQL, figures by hand
(docs/payables.md, *Entering* and *Entering a credit memo*).

The world of test_payables_credit_memo_like_invoice: standard 12.30 for EXC-LOCAL; company A
orders 100 kg at 12.30 from S0001, received on 20 November. INV-C, a special VAT invoice
of 20 November at 13 %: net 1,230.00, tax 159.90, gross 1,389.90 (input VAT 159.90). A
credit memo (红字发票) for 20 kg at 12.30 on 21 November takes back net 246.00 and tax
31.98 (246.00 x 13 %), gross 277.98: input VAT 127.92, INV-C open 1,111.92.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import ValidationFailed
from erp.masterdata import services as masterdata
from erp.masterdata.models import Supplier
from erp.masterdata.models import TaxKind
from erp.payables import services
from erp.payables.models import DocumentKind, SupplierInvoice
from tests.payables import NOV_20, vat13_on_materials
from tests.service.test_payables_credit_memo_like_invoice import INPUT_VAT, balance
from tests.stock import open_order, receive, refused, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
NOV_21 = dt.date(2026, 11, 21)


def _received(session_factory: sessionmaker[Session], world: World) -> tuple[dict[str, int], int]:
    codes = vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.30")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.30", "A-AMB")])
    receive(session_factory, world, line, "100")
    return codes, line


def _enter(session_factory: sessionmaker[Session], world: World, number: str, line: int, *, quantity: str,
           net: str, tax: str, on: dt.date, posting: dt.date | None = None, tax_code_id: int | None = None,
           credits: int | None = None, kind: DocumentKind = DocumentKind.INVOICE) -> int:
    with session_factory() as session, session.begin():
        return services.enter_invoice(session, world.actors["ap_a"], services.InvoiceRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], number=number,
            invoice_date=on, posting_date=posting, net_total=D(net), tax_total=D(tax),
            gross_total=D(net) + D(tax),
            lines=[services.LineRequest(po_line_id=line, quantity=D(quantity), unit_price=D("12.30"),
                                        tax_code_id=tax_code_id)],
            credits_invoice_id=credits), kind).id


def invoices(session: Session) -> int:
    return session.scalar(select(func.count(SupplierInvoice.id))) or 0


def test_a_credit_memo_line_without_a_tax_code_takes_the_code_of_the_invoice_line_it_credits(
        session_factory: sessionmaker[Session], world: World) -> None:
    """INV-C taxed at VAT13 (the material's default); since then the steward set S0001's
    default to VAT3 (it became a small-scale taxpayer). The memo reducing INV-C names no
    tax code: it takes VAT13 from INV-C's line on the order line, not S0001's VAT3 (which
    would take back 7.38 instead of 31.98, and was refused ``credit-memo-unlike-invoice``
    until the fix). Posted: the memo's line VAT13 at 13 %, input VAT 159.90 - 31.98 =
    127.92, INV-C open 1,389.90 - 277.98 = 1,111.92."""
    codes, line = _received(session_factory, world)
    company = world.companies["A"]
    invoice = _enter(session_factory, world, "INV-C", line, quantity="100", net="1230.00", tax="159.90", on=NOV_20)
    with session_factory() as session, session.begin():
        supplier = session.get(Supplier, world.suppliers["sup1"])
        assert supplier is not None
        supplier.default_tax_code_id = codes["VAT3"]
    memo = _enter(session_factory, world, "CM-C", line, quantity="20", net="246.00", tax="31.98", on=NOV_21,
                  credits=invoice, kind=DocumentKind.CREDIT_MEMO)
    with session_factory() as session:
        posted = session.get(SupplierInvoice, memo)
        assert posted is not None
        assert (posted.lines[0].tax_code_id, posted.lines[0].tax_rate) == (codes["VAT13"], D("13.00"))
        assert balance(session, company, INPUT_VAT) == D("127.92")
        credited = session.get(SupplierInvoice, invoice)
        assert credited is not None and credited.open_amount == D("1111.92")


def test_a_credit_memo_takes_back_the_vat_at_the_code_in_force_on_the_invoices_date(
        session_factory: sessionmaker[Session], world: World) -> None:
    """A rate change: code OLD13 (13 %) is in force until 20 November 2026. INV-C of 20
    November is taxed at OLD13. The memo of 21 November reducing it takes back the invoice's
    VAT at the invoice's code (a 红字发票 reverses the blue invoice at its own rate): OLD13 is
    checked on INV-C's date, its tax point, not on the memo's, where it is no longer in force
    (refused ``tax-code-not-in-force`` until the fix). Input VAT 159.90 - 31.98 = 127.92. A
    new invoice of 21 November at OLD13 is still refused: its own date is its tax point."""
    from erp.masterdata.errors import TaxCodeNotInForce

    _, line = _received(session_factory, world)
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        old = masterdata.create_record(session, world.actors["steward"], masterdata.TAX_CODES, {
            "code": "OLD13", "name_zh": "增值税 13%（旧）", "name_en": "VAT 13% (old)", "kind": TaxKind.STANDARD,
            "rate": D("13"), "valid_from": dt.date(2019, 4, 1), "valid_to": NOV_20}).id
    invoice = _enter(session_factory, world, "INV-C", line, quantity="100", net="1230.00", tax="159.90", on=NOV_20,
                     tax_code_id=old)
    with refused(session_factory, TaxCodeNotInForce):
        _enter(session_factory, world, "INV-D", line, quantity="1", net="12.30", tax="1.60", on=NOV_21,
               tax_code_id=old)
    _enter(session_factory, world, "CM-C", line, quantity="20", net="246.00", tax="31.98", on=NOV_21,
           credits=invoice, kind=DocumentKind.CREDIT_MEMO, tax_code_id=old)
    with session_factory() as session:
        assert balance(session, company, INPUT_VAT) == D("127.92")


def test_an_invoice_is_not_posted_before_the_supplier_issued_it(
        session_factory: sessionmaker[Session], world: World) -> None:
    """INV-C dated 21 November (the supplier's date, 开票日期) posted on 20 November would put
    a liability and 159.90 of input VAT in the books a day before the invoice existed:
    refused 422 at /posting_date, nothing written. Posted on 21 November (or later) it goes."""
    _, line = _received(session_factory, world)
    with refused(session_factory, ValidationFailed) as refusal:
        _enter(session_factory, world, "INV-C", line, quantity="100", net="1230.00", tax="159.90", on=NOV_21,
               posting=NOV_20)
    assert refusal.value.errors[0]["pointer"] == "/posting_date"
    assert "before the document's date 2026-11-21" in str(refusal.value.detail)
    with session_factory() as session:
        assert invoices(session) == 0
    _enter(session_factory, world, "INV-C", line, quantity="100", net="1230.00", tax="159.90", on=NOV_21,
           posting=NOV_21)
    with session_factory() as session:
        assert invoices(session) == 1


def test_a_credit_memo_naming_another_companys_invoice_learns_nothing_of_it(
        session_factory: sessionmaker[Session], world: World) -> None:
    """Company B's INV-B of 20 November. Code NEW13 (13 %) comes into force on 21 November.
    Company A's AP clerk, who has INV-A of A's own on the order line, enters a memo of 21 November at NEW13 naming INV-B's id: it is 404
    'supplier invoice not found', exactly as for an id that does not exist, and nothing is
    written. Before the fix INV-B's date was taken as the memo's tax point, so the answer was
    422 ``tax-code-not-in-force`` on 20 November: another company's invoice date leaked."""
    from erp.errors import NotFound

    _, line = _received(session_factory, world)
    _enter(session_factory, world, "INV-A", line, quantity="100", net="1230.00", tax="159.90", on=NOV_20)
    set_standard(session_factory, world, "exc_local", "12.30", company="B")
    (line_b,) = open_order(session_factory, world, [("exc_local", "100", "12.30", "B-AMB")], company="B")
    receive(session_factory, world, line_b, "100", user="clerk_b")
    with session_factory() as session, session.begin():
        new13 = masterdata.create_record(session, world.actors["steward"], masterdata.TAX_CODES, {
            "code": "NEW13", "name_zh": "增值税 13%（新）", "name_en": "VAT 13% (new)", "kind": TaxKind.STANDARD,
            "rate": D("13"), "valid_from": NOV_21, "valid_to": None}).id
        invoice_b = services.enter_invoice(session, world.actors["ap_b"], services.InvoiceRequest(
            company_id=world.companies["B"], supplier_id=world.suppliers["sup1"], number="INV-B",
            invoice_date=NOV_20, posting_date=None, net_total=D("1230.00"), tax_total=D("159.90"),
            gross_total=D("1389.90"),
            lines=[services.LineRequest(po_line_id=line_b, quantity=D("100"), unit_price=D("12.30"))],
            credits_invoice_id=None), DocumentKind.INVOICE).id
    answers = []
    for credits in (invoice_b, invoice_b + 1000):
        with refused(session_factory, NotFound) as refusal:
            _enter(session_factory, world, "CM-X", line, quantity="20", net="246.00", tax="31.98", on=NOV_21,
                   credits=credits, kind=DocumentKind.CREDIT_MEMO, tax_code_id=new13)
        answers.append(str(refusal.value.detail).replace(str(credits), "{id}"))
    assert answers[0] == answers[1]
