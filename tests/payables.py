"""Helpers for payables tests: VAT codes on the world's materials, invoices through the service,
a payment reversed over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material
from erp.payables import services
from erp.payables.models import DocumentKind, InvoiceKind
from tests.tax import create_china_vat
from tests.world import ApiClient, World

D = Decimal
NOV_20 = dt.date(2026, 11, 20)


def vat13_on_materials(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    """The China VAT codes, with VAT13 the default of every material of the world."""
    codes = create_china_vat(session_factory, world)
    with session_factory() as session, session.begin():
        for material in session.query(Material).all():
            material.default_tax_code_id = codes["VAT13"]
    return codes


def enter(
    session_factory: sessionmaker[Session], world: World, number: str, lines: Sequence[tuple[int, str, str]], *,
    net: str, tax: str, gross: str | None = None, on: dt.date = NOV_20, user: str = "ap_a", supplier: str = "sup1",
    company: str = "A", kind: DocumentKind = DocumentKind.INVOICE, invoice_kind: InvoiceKind = InvoiceKind.SPECIAL,
    due: dt.date | None = None, returns: Sequence[int | None] | None = None, credits: int | None = None,
) -> int:
    """Enter an invoice (or credit memo) of (po line, quantity, unit price excl. tax) lines; its id."""
    with session_factory() as session, session.begin():
        invoice = services.enter_invoice(session, world.actors[user], services.InvoiceRequest(
            company_id=world.companies[company], supplier_id=world.suppliers[supplier], number=number,
            invoice_date=on, net_total=D(net), tax_total=D(tax),
            gross_total=D(gross) if gross is not None else D(net) + D(tax),
            lines=[services.LineRequest(po_line_id=line, quantity=D(q), unit_price=D(p),
                                        return_document_id=(returns[i] if returns else None))
                   for i, (line, q, p) in enumerate(lines)],
            invoice_kind=invoice_kind, due_date=due, credits_invoice_id=credits,
        ), kind)
        return invoice.id


def paid_and_reversed(ap: ApiClient, world: World, invoice_id: int, amount: str,
                      reference: str | None = "BANK-7") -> dict[str, Any]:
    """Over HTTP, company A's invoice of sup1 paid ``amount`` on 21 November (``reference``),
    the payment reversed on 25 November (returned by the bank): the reopening the payables
    refusals are dated against. The payment's request, for payments like it."""
    pay: dict[str, Any] = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"],
                           "payment_date": "2026-11-21", "amount": amount, "invoice_ids": [invoice_id]}
    if reference is not None:
        pay["reference"] = reference
    paid = ap.post("/api/v1/payables/payments", json=pay)
    assert paid.status_code == 201, paid.get_json()
    reversed_ = ap.post(f"/api/v1/payables/payments/{paid.get_json()['id']}/reverse",
                        json={"reason": "returned by the bank", "reversal_date": "2026-11-25"})
    assert reversed_.status_code == 200, reversed_.get_json()
    return pay


def invoice_form(csrf_token: str, number: str, totals: tuple[str, str, str], lines: dict[str, str], *,
                 order: str = "PO-A-0001", on: str = "2026-11-20", **fields: str) -> dict[str, str]:
    """The supplier invoice form (/payables/invoices/new) filled in: a special VAT invoice
    ``number`` of ``order`` dated ``on``, ``totals`` (net, tax, gross), the lines' fields
    (``quantity-0``, ``unit_price-0``, ...) and any other field (``action``)."""
    net, tax, gross = totals
    return {"csrf_token": csrf_token, "order": order, "number": number, "invoice_kind": "special",
            "invoice_date": on, "net_total": net, "tax_total": tax, "gross_total": gross, **lines, **fields}
