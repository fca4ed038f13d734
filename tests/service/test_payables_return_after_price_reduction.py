"""Goods returned after a supplier's price reduction (docs/payables.md, *Price reductions*,
*Goods credited after a price reduction*), on PostgreSQL, figures by hand.

EXC-LOCAL at standard 11.00; company A orders 100 kg at 12.00 from S0001 and receives them
(B-001, unrestricted: it needs no inspection): Dr 1403 1,100.00 / Dr 1404 100.00 / Cr 2202.01 1,200.00.
INV-R, special VAT invoice at VAT13, 100 kg x 12.00: Dr 2202.01 1,200.00 / Dr 2221.01.01 156.00 /
Cr 2202 1,356.00. The supplier grants 2.00/kg off (RED-R): 200.00 + VAT 26.00 = 226.00:
Dr 2202 226.00 / Cr 2221.01.01 26.00 / Cr 1404 200.00. The goods now cost 10.00/kg.

20 kg turn out bad and go back to the supplier. The return takes them out of stock at standard and
GR/IR back at the contract price, as every return does: Dr 2202.01 240.00 (20 x 12.00) /
Cr 1403 220.00 (20 x 11.00) / Cr 1404 20.00. The supplier's red-letter invoice for them credits
what they were invoiced at after the reduction (SAP values a return after a subsequent credit
at the invoiced net price): 20 x 10.00 = 200.00 + VAT 26.00 = 226.00. It clears GR/IR at the
contract price (20 x 12.00 = 240.00, as INV-R debited it) and the 40.00 between them (the
reduction the returned goods had taken off 1404) goes back to 1404:
Dr 2202 226.00 / Cr 2221.01.01 26.00 / Cr 2202.01 240.00 / Dr 1404 40.00.

What remains is 80 kg bought at 10.00: 1403 880.00 (80 x 11.00), 1404 100.00 - 200.00 - 20.00 +
40.00 = -80.00 = 80 x (10.00 - 11.00), so stock at 800.00 = 80 x 10.00; 2202.01 0.00; input VAT
156.00 - 26.00 - 26.00 = 104.00 = 800.00 x 13 %; 2202 -1,356.00 + 226.00 + 226.00 = -904.00 =
80 x 10.00 x 1.13, INV-R's open amount. Before 1 December 2026 the memo had to be at 12.00:
240.00 + 31.20 = 271.20, 45.20 more than the supplier owed, 2202 -858.80, input VAT 98.80 and
1404 -120.00 for goods that cost 800.00 (the reduction on the returned 20 kg kept in 1404).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.payables import price_reductions
from erp.payables.errors import CreditMemoUnlikeInvoice, OverCredited
from erp.payables.models import DocumentKind, SupplierInvoice
from erp.posting.models import JournalLine
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.service.test_payables_price_reduction import NOV_25, first_line, reduce
from tests.stock import entry_lines, open_order, receive, refused, return_goods, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
AP, VAT, GRIR, PPV, STOCK = "2202", "2221.01.01", "2202.01", "1404", "1403"


@pytest.fixture()
def vat(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    return vat13_on_materials(session_factory, world)


def balance(session: Session, world: World, account: str) -> D:
    return D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
        JournalLine.company_id == world.companies["A"], JournalLine.account_code == account))).quantize(D("0.01"))


def reduced_invoice(session_factory: sessionmaker[Session], world: World) -> tuple[int, int, int, int]:
    """INV-R received, invoiced and reduced by 2.00/kg (the module docstring): (order line,
    receipt, invoice, its line)."""
    set_standard(session_factory, world, "exc_local", "11.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    invoice = enter(session_factory, world, "INV-R", [(line, "100", "12.00")], net="1200.00", tax="156.00",
                    on=NOV_20)
    invoice_line = first_line(session_factory, invoice)
    reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("200.00"))],
           net="200.00", tax="26.00", number="RED-R")
    return line, receipt, invoice, invoice_line


def returned(session_factory: sessionmaker[Session], world: World, receipt: int, quantity: str) -> int:
    """``quantity`` of the receipt's goods (received unrestricted: EXC-LOCAL needs no
    inspection) sent back to the supplier on 25 November."""
    return return_goods(session_factory, world, receipt, quantity, on=NOV_25)


def test_goods_returned_after_a_price_reduction_are_credited_at_the_reduced_price(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    line, receipt, invoice, _ = reduced_invoice(session_factory, world)
    back = returned(session_factory, world, receipt, "20")
    with session_factory() as session:
        # the return itself: GR/IR back at the contract price, stock at standard
        assert entry_lines(session, back) == {GRIR: D("240.00"), STOCK: D("-220.00"), PPV: D("-20.00")}
    # at the invoice's 12.00 the supplier would credit 271.20 for goods that cost it 226.00: refused
    with refused(session_factory, CreditMemoUnlikeInvoice) as info:
        enter(session_factory, world, "CM-R12", [(line, "20", "12.00")], net="240.00", tax="31.20",
              kind=DocumentKind.CREDIT_MEMO, credits=invoice, returns=[back], on=NOV_25)
    assert info.value.status == 422
    assert info.value.errors[0]["pointer"] == "/lines/0/unit_price"
    assert "leave order line" in str(info.value.errors[0]["detail"])
    assert "at 10.00, not 12.00" in str(info.value.errors[0]["detail"])
    memo = enter(session_factory, world, "CM-R", [(line, "20", "10.00")], net="200.00", tax="26.00",
                 kind=DocumentKind.CREDIT_MEMO, credits=invoice, returns=[back], on=NOV_25)
    with session_factory() as session:
        assert entry_lines(session, memo, "supplier_invoice") == {
            AP: D("226.00"), VAT: D("-26.00"), GRIR: D("-240.00"), PPV: D("40.00")}
        assert balance(session, world, STOCK) == D("880.00")
        assert balance(session, world, PPV) == D("-80.00")
        assert balance(session, world, GRIR) == D("0.00")
        assert balance(session, world, VAT) == D("104.00")
        assert balance(session, world, AP) == D("-904.00")
        original = session.get(SupplierInvoice, invoice)
        assert original is not None and original.open_amount == D("904.00")


def test_a_reduction_after_a_return_lowers_only_the_goods_still_held_and_no_more_than_is_left(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """After the return of 20 kg credited at 10.00 (above), INV-R still holds 80 kg at
    1,200.00 - 200.00 - 200.00 = 800.00. The supplier brings the price to 9.00: 800.00 - 80 x
    9.00 = 80.00 off, VAT 10.40 (not 1,000.00 - 100 x 9.00 = 100.00, which would reduce the
    20 kg already credited back a second time). Then 720.00 is left: 720.01 is refused."""
    line, receipt, invoice, invoice_line = reduced_invoice(session_factory, world)
    back = returned(session_factory, world, receipt, "20")
    enter(session_factory, world, "CM-R", [(line, "20", "10.00")], net="200.00", tax="26.00",
          kind=DocumentKind.CREDIT_MEMO, credits=invoice, returns=[back], on=NOV_25)
    with refused(session_factory, OverCredited) as over:
        reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("800.01"))],
               net="800.01", tax="104.00", number="RED-X")
    assert over.value.extensions["reducible"] == "800.00"
    second = reduce(session_factory, world, invoice,
                    [price_reductions.ReductionLine(invoice_line, new_unit_price=D("9.00"))],
                    net="80.00", tax="10.40", number="RED-9")
    with session_factory() as session:
        assert entry_lines(session, second, "supplier_invoice") == {AP: D("90.40"), VAT: D("-10.40"),
                                                                     PPV: D("-80.00")}
        found = session.get(SupplierInvoice, second)
        assert found is not None and found.lines[0].unit_price == D("1.000000")  # 80.00 over the 80 kg held
        # 80 kg at 9.00: 1403 880.00, 1404 -160.00 (720.00 = 80 x 9.00), 2202 -813.60 = 720.00 x 1.13
        assert balance(session, world, PPV) == D("-160.00")
        assert balance(session, world, AP) == D("-813.60")
        assert balance(session, world, VAT) == D("93.60")
    with refused(session_factory, OverCredited) as left:
        reduce(session_factory, world, invoice, [price_reductions.ReductionLine(invoice_line, amount=D("720.01"))],
               net="720.01", tax="93.60", number="RED-Y")
    assert left.value.extensions["reducible"] == "720.00"
    # the last 80 kg returned are credited at 9.00 now: 720.00 + 93.60, everything back to nothing
    back = returned(session_factory, world, receipt, "80")
    enter(session_factory, world, "CM-R2", [(line, "80", "9.00")], net="720.00", tax="93.60",
          kind=DocumentKind.CREDIT_MEMO, credits=invoice, returns=[back], on=NOV_25)
    with session_factory() as session:
        for account in (STOCK, PPV, GRIR, VAT, AP):
            assert balance(session, world, account) == D("0.00"), account


def test_a_quantity_credited_before_a_reduction_is_not_reduced_again(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """INV-R2 100 kg at 12.00 (1,356.00); 40 kg returned and credited at 12.00 (480.00 +
    62.40). The supplier then lowers the price of the 60 kg it still invoices to 10.00:
    720.00 - 60 x 10.00 = 120.00 off, VAT 15.60 (before 1 December 2026: 1,200.00 - 100 x
    10.00 = 200.00, 80.00 too much, for the 40 kg credited at 12.00 already). 2202 ends at
    -1,356.00 + 542.40 + 135.60 = -678.00 = 60 x 10.00 x 1.13; a later credit of goods is at
    (720.00 - 120.00) / 60 = 10.00."""
    set_standard(session_factory, world, "exc_local", "11.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    invoice = enter(session_factory, world, "INV-R2", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    back = returned(session_factory, world, receipt, "40")
    enter(session_factory, world, "CM-40", [(line, "40", "12.00")], net="480.00", tax="62.40",
          kind=DocumentKind.CREDIT_MEMO, credits=invoice, returns=[back], on=NOV_25)
    reduction = reduce(session_factory, world, invoice,
                       [price_reductions.ReductionLine(first_line(session_factory, invoice), new_unit_price=D("10.00"))],
                       net="120.00", tax="15.60", number="RED-10")
    with session_factory() as session:
        assert entry_lines(session, reduction, "supplier_invoice") == {AP: D("135.60"), VAT: D("-15.60"),
                                                                        PPV: D("-120.00")}
        assert balance(session, world, AP) == D("-678.00")
        # 60 kg at 10.00 = 600.00: 1403 660.00, 1404 100.00 - 40.00 - 120.00 = -60.00
        assert balance(session, world, PPV) == D("-60.00")
    with refused(session_factory, CreditMemoUnlikeInvoice):
        enter(session_factory, world, "CM-X", [(line, "10", "12.00")], net="120.00", tax="15.60",
              kind=DocumentKind.CREDIT_MEMO, credits=invoice, on=NOV_25)
