"""Helpers for payables tests: VAT codes on the world's materials, invoices through the service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material
from erp.payables import services
from erp.payables.models import DocumentKind, InvoiceKind
from tests.tax import create_china_vat
from tests.world import World

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
