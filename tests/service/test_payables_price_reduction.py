"""A supplier's price reduction on goods already invoiced (降价红字发票, docs/payables.md,
*Price reductions*), on PostgreSQL, figures by hand.

Standard 185.00 for EXC-LOCAL; company A orders 240 kg at 185.00 from S0001, all received on
20 November and still in stock. INV-P (special VAT invoice at VAT13): 240 kg x 185.00 =
44,400.00, VAT 5,772.00, 50,172.00 (Dr 2202.01 44,400.00, Dr 2221.01.01 5,772.00, Cr 2202
50,172.00). The supplier grants 2.00/kg off: 240 x 2.00 = 480.00, VAT 480.00 x 13 % = 62.40,
542.40 in all. The goods are all held, so the reduction goes to 1404 with the material:
Dr 2202 542.40 / Cr 2221.01.01 62.40 / Cr 1404 480.00; GR/IR (2202.01) and the 240 kg
invoiced stay; INV-P open 50,172.00 - 542.40 = 49,629.60.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.costing.close import close_period
from erp.errors import NotFound, ValidationFailed
from erp.inventory.services import IssueDestination
from erp.payables import price_reductions, services
from erp.payables.errors import DuplicateInvoice, InvoiceReversed, InvoiceSettled, OverCredited
from erp.payables.models import DocumentKind, SupplierInvoice
from erp.posting.errors import PeriodClosed
from erp.posting.models import JournalLine, MovementType, StockDocument, StockMovement
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.stock import entry_lines, issue, open_order, receive, refused, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
NOV_25 = dt.date(2026, 11, 25)
AP, VAT, GRIR, PPV = "2202", "2221.01.01", "2202.01", "1404"


@pytest.fixture()
def vat(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    return vat13_on_materials(session_factory, world)


def reduce(session_factory: sessionmaker[Session], world: World, invoice_id: int,
           lines: list[price_reductions.ReductionLine], *, net: str, tax: str, number: str = "RED-1",
           on: dt.date = NOV_25, user: str = "ap_a", reason: str = "price reduced by the supplier") -> int:
    with session_factory() as session, session.begin():
        return price_reductions.enter_price_reduction(session, world.actors[user], price_reductions.PriceReductionRequest(
            invoice_id=invoice_id, number=number, invoice_date=on, net_total=D(net), tax_total=D(tax),
            gross_total=D(net) + D(tax), lines=lines), reason=reason).id


def first_line(session_factory: sessionmaker[Session], invoice_id: int) -> int:
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None
        return invoice.lines[0].id


def balance(session: Session, world: World, account: str) -> D:
    return D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
        JournalLine.company_id == world.companies["A"], JournalLine.account_code == account)))


def invoice_p(session_factory: sessionmaker[Session], world: World) -> tuple[int, int, int]:
    """INV-P of the module docstring: (order line, invoice, its line)."""
    set_standard(session_factory, world, "exc_local", "185.00")
    (line,) = open_order(session_factory, world, [("exc_local", "240", "185.00", "A-AMB")])
    receive(session_factory, world, line, "240")
    invoice = enter(session_factory, world, "INV-P", [(line, "240", "185.00")], net="44400.00", tax="5772.00",
                    on=NOV_20)
    return line, invoice, first_line(session_factory, invoice)


def test_a_price_reduction_credits_payables_vat_and_the_price_difference_and_leaves_grir_and_quantities(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    line, invoice, invoice_line = invoice_p(session_factory, world)
    memo = reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("480.00"))],
                  net="480.00", tax="62.40")
    with session_factory() as session:
        assert entry_lines(session, memo, "supplier_invoice") == {AP: D("542.40"), VAT: D("-62.40"),
                                                                   PPV: D("-480.00")}
        assert balance(session, world, GRIR) == D("0.00")  # the receipt's 44,400.00 cleared by INV-P, as before
        assert balance(session, world, AP) == D("-49629.60")
        assert balance(session, world, VAT) == D("5709.60")  # 5,772.00 - 62.40
        found = session.get(SupplierInvoice, memo)
        assert found is not None and found.document_kind == DocumentKind.CREDIT_MEMO and found.price_reduction
        assert found.document_number == "CM-CA-2026-000001"
        assert (found.applied_amount, found.open_amount) == (D("542.40"), D("0.00"))
        (memo_line,) = found.lines
        assert (memo_line.quantity, memo_line.grir_amount, memo_line.net_amount, memo_line.tax_amount,
                memo_line.unit_price, memo_line.reduces_line_id) == (
            D("0"), D("0.00"), D("480.00"), D("62.40"), D("2.000000"), invoice_line)
        original = session.get(SupplierInvoice, invoice)
        assert original is not None and original.open_amount == D("49629.60")
        # still 240 kg invoiced on the order line: a second invoice of it is over-invoiced
        assert services.invoiced_quantities(session, [line]) == {line: D("240.0000")}
        # the 480.00 on 1404 is in the stock ledger, so November's close spreads it
        assert session.execute(select(StockMovement.variance).join(
            StockDocument, StockDocument.id == StockMovement.document_id).where(
            StockDocument.supplier_invoice_id == memo,
            StockMovement.movement_type == MovementType.PRICE_DIFFERENCE)).scalars().all() == [D("-480.00")]
        reasons = session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "supplier_invoice", AuditEvent.reason.contains("price reduced by the supplier"))
            .order_by(AuditEvent.id)).all()
        assert reasons == ["enter-price-reduction", "credited"]


def test_a_new_unit_price_reduces_by_the_lines_net_less_the_quantity_at_it_and_a_reversal_mirrors_it(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    _, invoice, invoice_line = invoice_p(session_factory, world)
    # 44,400.00 - 240 x 183.00 (43,920.00) = 480.00
    memo = reduce(session_factory, world, invoice,
                  [price_reductions.ReductionLine(invoice_line, new_unit_price=D("183.00"))], net="480.00", tax="62.40")
    # the invoice is not reversed while the reduction stands
    with refused(session_factory, InvoiceSettled):
        with session_factory() as session, session.begin():
            services.reverse_invoice(session, world.actors["ap_a"], invoice, reason="wrong", reversal_date=NOV_25)
    with session_factory() as session, session.begin():
        services.reverse_invoice(session, world.actors["ap_a"], memo, reason="entered twice", reversal_date=NOV_25)
    with session_factory() as session:
        assert balance(session, world, AP) == D("-50172.00")
        assert balance(session, world, VAT) == D("5772.00")
        assert balance(session, world, PPV) == D("0.00")
        original = session.get(SupplierInvoice, invoice)
        assert original is not None and original.open_amount == D("50172.00")


def test_a_price_reduction_splits_like_the_invoices_price_difference_between_held_and_consumed_goods(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """docs/payables.md's worked example (standard 12.00; 100 kg received in October, 60 kg to
    production (5001), 20 kg to a cost centre (5101), October closed; INV-L1 at 12.30 in
    November: 30.00 difference, 1404 6.00, 5001 18.00, 5101 6.00). The supplier then brings the
    price back to 12.00: 1,230.00 - 100 x 12.00 = 30.00 off, VAT 3.90. 20 kg held: 30.00 x
    20/100 = 6.00 off 1404; 80 kg consumed in closed October: 24.00, 18.00 (60/80) off 5001
    and 6.00 (20/80) off 5101. Dr 2202 33.90 / Cr 2221.01.01 3.90 / Cr 1404 6.00 / Cr 5001
    18.00 / Cr 5101 6.00: each account as if the invoice had said 12.00."""
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-10")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    october = dt.date(2026, 10, 10)
    receive(session_factory, world, line, "100", on=dt.date(2026, 10, 5), made=dt.date(2026, 9, 1))
    issue(session_factory, world, "exc_local", "60", on=october)
    issue(session_factory, world, "exc_local", "20", on=october, destination=IssueDestination.COST_CENTER,
          cost_center="QC-LAB")
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-10")
    invoice = enter(session_factory, world, "INV-L1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    memo = reduce(session_factory, world, invoice,
                  [price_reductions.ReductionLine(first_line(session_factory, invoice), new_unit_price=D("12.00"))],
                  net="30.00", tax="3.90")
    with session_factory() as session:
        assert entry_lines(session, memo, "supplier_invoice") == {
            AP: D("33.90"), VAT: D("-3.90"), PPV: D("-6.00"), "5001": D("-18.00"), "5101": D("-6.00")}
        assert balance(session, world, PPV) == D("0.00")
        assert balance(session, world, GRIR) == D("0.00")


def test_a_reduction_above_what_is_left_of_the_line_is_refused_and_nothing_is_written(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    _, invoice, invoice_line = invoice_p(session_factory, world)
    with refused(session_factory, OverCredited) as whole:
        reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("44400.01"))],
               net="44400.01", tax="5772.00")
    assert whole.value.status == 409
    assert whole.value.errors[0]["pointer"] == "/lines/0/amount"
    assert str(whole.value.detail) == ("invoice line 1 invoiced 44400.00 excluding tax; earlier price reductions "
                                       "and credit memos leave 44400.00: it cannot be reduced by 44400.01")
    reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("480.00"))],
           net="480.00", tax="62.40")
    # and a quantity credit memo of 40 kg, at the price the reduction left (44,400.00 - 480.00) / 240 =
    # 183.00 (7,320.00; tests/service/test_payables_return_after_price_reduction.py):
    # 44,400.00 - 480.00 - 7,320.00 = 36,600.00 left, on the 200 kg the invoice still holds
    line = _order_line(session_factory, invoice)
    enter(session_factory, world, "CM-Q", [(line, "40", "183.00")], net="7320.00", tax="951.60",
          kind=DocumentKind.CREDIT_MEMO, credits=invoice, on=NOV_25)
    with refused(session_factory, OverCredited) as left:
        reduce(session_factory, world, invoice,
               [price_reductions.ReductionLine(invoice_line, amount=D("36600.01"))], number="RED-2",
               net="36600.01", tax="4758.00")
    assert left.value.errors[0]["pointer"] == "/lines/0/amount"
    assert "earlier price reductions and credit memos leave 36600.00: it cannot be reduced by 36600.01" in str(
        left.value.detail)
    assert left.value.extensions["reducible"] == "36600.00"
    # a new price of 0.00 for the 200 kg held: 36,600.00 - 200 x 0.00, all that is left
    reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, new_unit_price=D("0"))],
           number="RED-2", net="36600.00", tax="4758.00")


def _order_line(session_factory: sessionmaker[Session], invoice_id: int) -> int:
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None
        return invoice.lines[0].po_line_id


@pytest.mark.parametrize(("given", "pointer", "detail"), [
    (dict(amount=D("0.00")), "/lines/0/amount", "a price reduction is more than 0.00, not 0.00"),
    (dict(amount=D("-5.00")), "/lines/0/amount", "a price reduction is more than 0.00, not -5.00"),
    (dict(new_unit_price=D("185.00")), "/lines/0/new_unit_price",
     "the new unit price 185.00 is not below the invoice's 185.00: a price reduction lowers it"),
    (dict(), "/lines/0/amount", "give either the reduction or the new unit price"),
])
def test_a_reduction_of_nothing_or_less_is_refused(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int], given: dict[str, D], pointer: str,
        detail: str) -> None:
    _, invoice, invoice_line = invoice_p(session_factory, world)
    with refused(session_factory, ValidationFailed) as info:
        reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, **given)],
               net="1.00", tax="0.13")
    assert info.value.status == 422
    assert info.value.errors == [{"pointer": pointer, "detail": info.value.errors[0]["detail"]}]
    assert str(info.value.errors[0]["detail"]) == detail


def test_a_price_reduction_is_refused_in_a_closed_period_for_another_company_or_a_reversed_invoice(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    _, invoice, invoice_line = invoice_p(session_factory, world)
    lines = [price_reductions.ReductionLine(invoice_line, amount=D("480.00"))]
    with refused(session_factory, NotFound) as other:
        reduce(session_factory, world, invoice, lines, net="480.00", tax="62.40", user="ap_b")
    assert other.value.status == 404
    with refused(session_factory, ValidationFailed) as no_reason:
        reduce(session_factory, world, invoice, lines, net="480.00", tax="62.40", reason="  ")
    assert no_reason.value.errors[0]["pointer"] == "/reason"
    reduce(session_factory, world, invoice, lines, net="480.00", tax="62.40")
    with refused(session_factory, DuplicateInvoice) as duplicate:
        reduce(session_factory, world, invoice, lines, net="480.00", tax="62.40")
    assert duplicate.value.errors[0]["pointer"] == "/number"
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-11")
    with refused(session_factory, PeriodClosed) as closed:
        reduce(session_factory, world, invoice, lines, net="480.00", tax="62.40", number="RED-9")
    assert closed.value.status == 409


def test_a_reversed_invoice_takes_no_price_reduction(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    _, invoice, invoice_line = invoice_p(session_factory, world)
    with session_factory() as session, session.begin():
        services.reverse_invoice(session, world.actors["ap_a"], invoice, reason="wrong", reversal_date=NOV_25)
    with refused(session_factory, InvoiceReversed) as info:
        reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("480.00"))],
               net="480.00", tax="62.40")
    assert info.value.status == 409
