"""Procure to pay on PostgreSQL, with every figure worked out by hand in the test."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.costing.close import close_period
from erp.inventory import queries as inventory_queries
from erp.inventory.queries import balance_drift, period_totals_drift
from erp.inventory.services import IssueDestination, QualityDecision
from erp.payables.errors import (
    InvoiceBlocked,
    OverCredited,
    OverInvoiced,
    PaymentExceedsOpenItems,
    ReleaseByEnterer,
    InvoiceTotalsDisagree,
)

from erp.payables import queries, services
from erp.payables.models import DocumentKind, InvoiceKind, SupplierInvoice
from erp.posting.models import CloseClass, JournalLine, MovementType, StockBalance, StockDocument, StockMovement
from erp.posting.stock import rebuild_balances
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.stock import (
    account_balance,
    batch_id,
    decide,
    entry_lines,
    issue,
    open_order,
    receive,
    return_goods,
    set_standard,
    variance_carried,
)
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
GRIR, VAT, AP, PPV = "2202.01", "2221.01.01", "2202", "1404"


@pytest.fixture
def vat(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    return vat13_on_materials(session_factory, world)


def test_a_invoice_at_the_contract_price_clears_grir(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "11.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-001", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    with session_factory() as session:
        # 100 kg x 12.00 = 1,200.00 at contract; 13 % VAT 156.00; 1,356.00 owed
        assert entry_lines(session, invoice_id, "supplier_invoice") == {GRIR: D("1200.00"), VAT: D("156.00"),
                                                                        AP: D("-1356.00")}
        # the receipt credited GR/IR 1,200.00, the invoice debited it: nothing left on the line
        assert account_balance(session, world.companies["A"], GRIR) == D("0.00")
        assert queries.grir_lines(session, world.actors["ap_a"], world.companies["A"], NOV_20) == []
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and not invoice.blocked and invoice.open_amount == D("1356.00")


def test_b_price_within_tolerance_goes_to_material_cost_variance_while_the_stock_is_held(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "11.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    # 12.30 is 2.5 % above 12.00 and 30.00 CNY on the line: inside 5 % and 500.00
    invoice_id = enter(session_factory, world, "INV-002", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    with session_factory() as session:
        # 1,230.00 x 13 % = 159.90; 1,230.00 + 159.90 = 1,389.90; 1,230.00 - 1,200.00 = 30.00 on 1404
        assert entry_lines(session, invoice_id, "supplier_invoice") == {
            GRIR: D("1200.00"), PPV: D("30.00"), VAT: D("159.90"), AP: D("-1389.90")}
        # 1404 held 100.00 from the receipt (100 x (12.00 - 11.00)) and now 130.00 for the material
        assert account_balance(session, world.companies["A"], PPV, world.materials["exc_local"]) == D("130.00")
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and not invoice.blocked


def test_c_price_outside_tolerance_posts_blocked_payment_is_refused_until_a_recorded_release(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    # 13.00 is 8.33 % above 12.00 (100.00 CNY on the line): outside 5 %
    invoice_id = enter(session_factory, world, "INV-003", [(line, "100", "13.00")], net="1300.00", tax="169.00")
    company = world.companies["A"]
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and invoice.blocked
        assert invoice.block_reason == ("line 1: price 13 differs from the contract price 12 by 8.33% "
                                        "(100 CNY); tolerance 5% and 500 CNY")
        # posted all the same: the liability is real
        assert entry_lines(session, invoice_id, "supplier_invoice") == {
            GRIR: D("1200.00"), PPV: D("100.00"), VAT: D("169.00"), AP: D("-1469.00")}
    pay = services.PaymentRequest(company_id=company, supplier_id=world.suppliers["sup1"], payment_date=NOV_20,
                                  amount=D("1469.00"), invoice_ids=[invoice_id])
    with session_factory() as session, session.begin(), pytest.raises(InvoiceBlocked):
        services.pay_supplier(session, world.actors["ap_a"], pay)
    # oldest-first skips it: nothing is payable
    with session_factory() as session, session.begin(), pytest.raises(PaymentExceedsOpenItems):
        services.pay_supplier(session, world.actors["ap_a"], replace(pay, invoice_ids=None))
    # who entered it cannot release it; a purchasing manager can, with a reason
    with session_factory() as session, session.begin(), pytest.raises(ReleaseByEnterer):
        services.release_invoice(session, world.actors["ap_a"], invoice_id, reason="agreed")
    with session_factory() as session, session.begin():
        services.release_invoice(session, world.actors["pm_a"], invoice_id, reason="price rise agreed by phone 11-18")
    with session_factory() as session, session.begin():
        payment = services.pay_supplier(session, world.actors["ap_a"], pay)
        payment_id = payment.id
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and (invoice.blocked, invoice.open_amount) == (False, D("0.00"))
        assert (invoice.released_by, invoice.release_reason) == (world.users["pm_a"],
                                                                 "price rise agreed by phone 11-18")
        assert entry_lines(session, payment_id, "supplier_payment") == {AP: D("1469.00"), "1002": D("-1469.00")}
        assert account_balance(session, company, AP) == D("0.00")
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "supplier_invoice")).all()
        assert (event.action, event.actor_id, event.reason) == ("release", world.users["pm_a"],
                                                                "price rise agreed by phone 11-18")


def test_d_invoice_before_receipt_waits_on_grir_and_clears_when_the_goods_arrive(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    company, actor = world.companies["A"], world.actors["ap_a"]
    invoice_id = enter(session_factory, world, "INV-004", [(line, "60", "12.00")], net="720.00", tax="93.60")
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and invoice.blocked  # nothing received yet
        assert invoice.block_reason == "line 1: invoiced 60 but received and not yet invoiced 0 (tolerance 0%)"
        (grir,) = queries.grir_lines(session, actor, company, NOV_20)
        # 60 x 12.00 = 720.00 debited ahead of the goods
        assert (grir.invoiced_not_received, grir.received_not_invoiced, grir.balance) == (D("60"), D("0"),
                                                                                          D("-720.00"))
        assert account_balance(session, company, GRIR) == D("720.00")
    receive(session_factory, world, line, "100")
    with session_factory() as session:
        (grir,) = queries.grir_lines(session, actor, company, NOV_20)
        # 100 received at 12.00 = 1,200.00 credited; 1,200.00 - 720.00 = 480.00 for 40 kg not invoiced
        assert (grir.received_not_invoiced, grir.invoiced_not_received, grir.balance) == (D("40"), D("0"),
                                                                                          D("480.00"))
        assert account_balance(session, company, GRIR) == D("-480.00")
        check = queries.grir_check(session, actor, company, NOV_20)
        assert (check.report_total, check.account_balance, check.agrees) == (D("480.00"), D("480.00"), True)


def test_e_supplier_credit_memo_for_a_return_of_30_kg(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "api_central", "12.00")
    (line,) = open_order(session_factory, world, [("api_central", "100", "12.00", "A-COOL")])
    receipt = receive(session_factory, world, line, "100", warehouse="A-COOL")
    invoice_id = enter(session_factory, world, "INV-005", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    batch = batch_id(session_factory, world, "api_central", "B-001")
    decide(session_factory, world, "A-COOL", batch, "30", decision=QualityDecision.REJECT)
    returned = return_goods(session_factory, world, receipt, "30")
    company, actor = world.companies["A"], world.actors["ap_a"]
    with session_factory() as session:
        (grir,) = queries.grir_lines(session, actor, company, NOV_20)
        # received 100 - 30 = 70 (840.00), invoiced 100 (1,200.00): 30 kg, 360.00 invoiced not received
        assert (grir.invoiced_not_received, grir.balance) == (D("30"), D("-360.00"))
    # 30 x 12.00 = 360.00; 13 % = 46.80; 406.80 off what is owed, taken off INV-005
    memo_id = enter(session_factory, world, "CM-001", [(line, "30", "12.00")], net="360.00", tax="46.80",
                    kind=DocumentKind.CREDIT_MEMO, returns=[returned], credits=invoice_id)
    with session_factory() as session:
        assert entry_lines(session, memo_id, "supplier_invoice") == {AP: D("406.80"), GRIR: D("-360.00"),
                                                                     VAT: D("-46.80")}
        assert queries.grir_lines(session, actor, company, NOV_20) == []
        assert account_balance(session, company, GRIR) == D("0.00")
        invoice, memo = session.get(SupplierInvoice, invoice_id), session.get(SupplierInvoice, memo_id)
        assert invoice is not None and memo is not None
        # 1,356.00 - 406.80 = 949.20 still owed on the invoice; the memo is used up
        assert (invoice.open_amount, memo.open_amount) == (D("949.20"), D("0.00"))
        assert account_balance(session, company, AP) == D("-949.20")
    # the same return cannot be credited twice
    with pytest.raises(OverCredited):
        enter(session_factory, world, "CM-002", [(line, "1", "12.00")], net="12.00", tax="1.56",
              kind=DocumentKind.CREDIT_MEMO, returns=[returned])


def test_f_ap_ageing_puts_each_invoice_in_its_bucket_at_the_boundaries(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-07")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100", on=dt.date(2026, 7, 1), made=dt.date(2026, 6, 1))
    # days past due on 2026-11-20 -> quantity (each kg 12.00 + 1.56 VAT = 13.56)
    days_past_due = {0: 1, 1: 2, 30: 3, 31: 4, 60: 5, 61: 6, 90: 7, 91: 8}
    ids = {}
    for days, quantity in days_past_due.items():
        due = NOV_20 - dt.timedelta(days=days)
        net = D("12.00") * quantity
        ids[days] = enter(session_factory, world, f"AGE-{days}", [(line, str(quantity), "12.00")], net=str(net),
                          tax=str(net * D("0.13")), on=due - dt.timedelta(days=30), due=due)
    # paid after the key date: still open on it
    with session_factory() as session, session.begin():
        services.pay_supplier(session, world.actors["ap_a"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=dt.date(2026, 11, 25),
            amount=D("13.56"), invoice_ids=[ids[0]]))
    expected = {
        "not_due": D("13.56"),  # 0 days: 1 kg
        "days_1_30": D("67.80"),  # 1 and 30 days: 2 + 3 kg = 5 x 13.56
        "days_31_60": D("122.04"),  # 31 and 60 days: 4 + 5 kg = 9 x 13.56
        "days_61_90": D("176.28"),  # 61 and 90 days: 6 + 7 kg = 13 x 13.56
        "over_90": D("108.48"),  # 91 days: 8 kg
        "open_amount": D("488.16"),  # 36 kg x 13.56
        "overdue": D("474.60"),  # all but the 13.56 not due
    }
    with session_factory() as session:
        for by, actor in (("supplier", "ap_a"), ("company", "ap_a"), ("group", "cio")):
            (row,) = queries.ageing(session, world.actors[actor], NOV_20, by=by)
            assert {key: row[key] for key in expected} == expected, by
        (row,) = queries.ageing(session, world.actors["ap_a"], dt.date(2026, 11, 25))
        assert (row["not_due"], row["open_amount"]) == (D("0.00"), D("474.60"))
        # another company's accountant sees nothing of A's
        assert queries.ageing(session, world.actors["ap_b"], NOV_20) == []


def test_header_totals_must_agree_with_the_lines_within_a_cent_per_line(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    first, second = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                        ("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, first, "100")
    receive(session_factory, world, second, "100")
    lines = [(first, "3", "12.005"), (second, "3", "12.005")]  # each line: 36.015 -> 36.02, tax 4.68
    with pytest.raises(InvoiceTotalsDisagree) as refused:
        enter(session_factory, world, "INV-T1", lines, net="72.07", tax="9.36")
    # lines: 36.02 + 36.02 = 72.04; 72.07 is 0.03 off, more than 2 lines x 0.01
    assert refused.value.extensions["net_difference"] == "0.03"
    assert refused.value.errors[0]["pointer"] == "/net_total"
    with session_factory() as session:
        assert session.scalars(select(SupplierInvoice)).all() == []
    # 0.02 off (as a supplier's system rounding the total once may print): accepted, and the
    # printed amount is what is posted: 72.06 - 2 x 36.00 at contract = 0.06 to 1404
    invoice_id = enter(session_factory, world, "INV-T2", lines, net="72.06", tax="9.37")
    with session_factory() as session:
        assert entry_lines(session, invoice_id, "supplier_invoice") == {
            GRIR: D("72.00"), PPV: D("0.06"), VAT: D("9.37"), AP: D("-81.43")}


def test_an_ordinary_invoices_vat_is_part_of_the_goods_cost(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-O1", [(line, "100", "12.00")], net="1200.00", tax="156.00",
                       invoice_kind=InvoiceKind.ORDINARY)
    with session_factory() as session:
        # no deductible input VAT: the 156.00 joins the goods' cost on 1404
        assert entry_lines(session, invoice_id, "supplier_invoice") == {GRIR: D("1200.00"), PPV: D("156.00"),
                                                                        AP: D("-1356.00")}


def test_never_more_invoiced_than_can_be_received_and_nothing_written(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    enter(session_factory, world, "INV-X1", [(line, "80", "12.00")], net="960.00", tax="124.80")
    with pytest.raises(OverInvoiced):
        enter(session_factory, world, "INV-X2", [(line, "21", "12.00")], net="252.00", tax="32.76")
    with session_factory() as session:
        assert len(session.scalars(select(SupplierInvoice)).all()) == 1
        assert account_balance(session, world.companies["A"], AP) == D("-1084.80")


def test_the_price_difference_of_goods_consumed_in_a_closed_period_goes_to_the_consuming_accounts(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """docs/payables.md's worked example."""
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-10")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    october = dt.date(2026, 10, 10)
    receive(session_factory, world, line, "100", on=dt.date(2026, 10, 5), made=dt.date(2026, 9, 1))
    issue(session_factory, world, "exc_local", "60", on=october)  # to production (5001)
    issue(session_factory, world, "exc_local", "20", on=october, destination=IssueDestination.COST_CENTER,
          cost_center="QC-LAB")  # to overhead (5101)
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-10")
    # November: the supplier's invoice says 12.30 for the 100 kg; 30.00 more than the contract
    invoice_id = enter(session_factory, world, "INV-L1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    with session_factory() as session:
        # 20 kg still held: 30.00 x 20/100 = 6.00 on 1404 (November's close spreads it);
        # 80 kg consumed in closed October: 24.00, of which 60/80 = 18.00 to production and
        # 20/80 = 6.00 to overhead
        assert entry_lines(session, invoice_id, "supplier_invoice") == {
            GRIR: D("1200.00"), PPV: D("6.00"), "5001": D("18.00"), "5101": D("6.00"), VAT: D("159.90"),
            AP: D("-1389.90")}


def _lines_of(session: Session, entry_id: int | None) -> dict[str, D]:
    """An entry's amounts per account (the close's entry is one per company and period)."""
    return {account: D(amount) for account, amount in session.execute(
        select(JournalLine.account_code, func.sum(JournalLine.amount)).where(JournalLine.entry_id == entry_id)
        .group_by(JournalLine.account_code))}


def _price_difference_rows(session: Session) -> list[tuple[str, CloseClass, int, int, D, D, D]]:
    """The ledger rows invoices put their 1404 price difference on: (document reference,
    close class, warehouse, batch, quantity, value, variance)."""
    return [tuple(row) for row in session.execute(
        select(StockDocument.reference, StockMovement.close_class, StockMovement.warehouse_id,
               StockMovement.batch_id, StockMovement.quantity, StockMovement.value, StockMovement.variance)
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockMovement.movement_type == MovementType.PRICE_DIFFERENCE).order_by(StockMovement.id))]


def test_the_price_difference_left_on_1404_is_spread_by_the_next_close(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """docs/payables.md's worked example, continued into November's close.

    October: standard 12.00; 100 kg received at the contract price 12.00 (no variance),
    60 kg to production (5001) and 20 kg to a cost centre (5101); October closed (rate 0).
    November 20: the invoice at 12.30, difference 30.00: 24.00 to 5001/5101 for the 80 kg
    consumed in closed October, 6.00 to 1404 for the 20 kg held, which the invoice also puts
    in the stock ledger as a value-only row (quantity 0, value 0, variance 6.00, close class
    receipt) in the receipt's warehouse and batch. November 25: the last 20 kg to production.
    November's close: opening 20 kg at 240.00 carrying 0.00; receipts 0 kg, 0.00 at standard,
    variance 6.00; rate = (0.00 + 6.00) / (240.00 + 0.00) = 2.5 %; production consumed
    240.00 at standard and bears 240.00 x 2.5 % = 6.00 (no stock left: all of it). So
    5001 += 6.00, 1404 ends at 6.00 - 6.00 = 0.00, the close reports 6.00 allocated and 0.00
    remaining, which is 1404's balance.
    """
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-10")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    october = dt.date(2026, 10, 10)
    receive(session_factory, world, line, "100", on=dt.date(2026, 10, 5), made=dt.date(2026, 9, 1))
    issue(session_factory, world, "exc_local", "60", on=october)
    issue(session_factory, world, "exc_local", "20", on=october, destination=IssueDestination.COST_CENTER,
          cost_center="QC-LAB")
    company, material = world.companies["A"], world.materials["exc_local"]
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=company, period="2026-10")
    invoice_id = enter(session_factory, world, "INV-L1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    with session_factory() as session:
        # the invoice's entry is what it was: 6.00 on 1404, 24.00 to October's consumers
        assert entry_lines(session, invoice_id, "supplier_invoice") == {
            GRIR: D("1200.00"), PPV: D("6.00"), "5001": D("18.00"), "5101": D("6.00"), VAT: D("159.90"),
            AP: D("-1389.90")}
        assert _price_difference_rows(session) == [
            ("INV-L1", CloseClass.RECEIPT, world.warehouses["A-AMB"], batch_id(session_factory, world, "exc_local",
                                                                              "B-001"),
             D("0"), D("0.00"), D("6.00"))]
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])
    issue(session_factory, world, "exc_local", "20", on=dt.date(2026, 11, 25))
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert _lines_of(session, result.journal_entry_id) == {"5001": D("6.00"), PPV: D("-6.00")}
        assert (result.variance_allocated, result.variance_remaining) == (D("6.00"), D("0.00"))
        assert account_balance(session, company, PPV) == D("0.00") == result.variance_remaining
        assert variance_carried(session, company, material, "2026-11") == D("0.00")


def test_a_credit_memos_price_difference_enters_the_rate_too(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """All in November, the company's first close. Standard 12.00; 100 kg received at the
    contract price 12.00 (variance 0); the invoice at 12.30: difference 30.00, all on 1404
    (all 100 kg held). 20 kg returned to the supplier at the contract price (Cr 1403 240.00,
    variance 0) and the supplier's credit memo for them at 12.30: 246.00 + VAT 31.98; GR/IR
    240.00; Cr 1404 6.00 (the held part: the difference of 20 kg x 0.30 comes off). 50 kg to
    production. The close: receipts 80 kg, 960.00 at standard, variance 30.00 - 6.00 = 24.00;
    rate = 24.00 / 960.00 = 2.5 %; production bears 600.00 x 2.5 % = 15.00; the 30 kg left
    (360.00) keep 24.00 - 15.00 = 9.00, which is 1404's balance (30.00 - 6.00 - 15.00).
    Before the fix the close saw no variance at all and allocated nothing.
    """
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-C1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    returned = return_goods(session_factory, world, receipt, "20")
    memo_id = enter(session_factory, world, "CM-C1", [(line, "20", "12.30")], net="246.00", tax="31.98",
                    kind=DocumentKind.CREDIT_MEMO, returns=[returned], credits=invoice_id)
    company, material = world.companies["A"], world.materials["exc_local"]
    with session_factory() as session:
        assert entry_lines(session, memo_id, "supplier_invoice") == {
            AP: D("277.98"), GRIR: D("-240.00"), PPV: D("-6.00"), VAT: D("-31.98")}
        assert [(reference, variance) for reference, *_, variance in _price_difference_rows(session)] == [
            ("INV-C1", D("30.00")), ("CM-C1", D("-6.00"))]
    issue(session_factory, world, "exc_local", "50")
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert _lines_of(session, result.journal_entry_id) == {"5001": D("15.00"), PPV: D("-15.00")}
        assert (result.variance_allocated, result.variance_remaining) == (D("15.00"), D("9.00"))
        assert account_balance(session, company, PPV) == D("9.00") == result.variance_remaining
        assert variance_carried(session, company, material, "2026-11") == D("9.00")
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_an_invoice_before_any_receipt_of_its_material_carries_its_difference_into_the_rate(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """Standard 12.00; the invoice for 100 kg at 12.30 comes before any receipt of the
    material in the company: nothing held, no closed period, so all 30.00 goes to 1404, and
    its ledger row goes to the order line's warehouse, the material's no-batch batch,
    unrestricted (there is no receipt to follow). Then the 100 kg arrive at the contract
    price 12.00 (variance 0) and 50 kg go to production. November's close: receipts 1,200.00
    at standard, variance 30.00; rate 2.5 %; production bears 600.00 x 2.5 % = 15.00; the
    50 kg left keep 15.00, which is 1404's balance."""
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    enter(session_factory, world, "INV-E1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    with session_factory() as session:
        assert _price_difference_rows(session) == [
            ("INV-E1", CloseClass.RECEIPT, world.warehouses["A-AMB"],
             batch_id(session_factory, world, "exc_local", "-"), D("0"), D("0.00"), D("30.00"))]
    receive(session_factory, world, line, "100")
    issue(session_factory, world, "exc_local", "50")
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert _lines_of(session, result.journal_entry_id) == {"5001": D("15.00"), PPV: D("-15.00")}
        assert account_balance(session, company, PPV) == D("15.00") == result.variance_remaining
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_a_price_difference_row_stays_on_its_own_order_lines_batch_and_moves_no_balance(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """Review R4. Supplier sup2's 50 kg (batch S2-001) arrived on 5 November; sup1's order
    of 100 kg is invoiced on 20 November before its goods arrive, at 12.30 against the
    standard 12.00: 30.00 to 1404, its row on the order line's warehouse and the no-batch
    batch, never on sup2's batch (the material's latest movement). Then sup1's goods arrive
    on 21 November (B-001) and a second invoice of 23 November for another order line
    received on 21 November puts its row on B-001. Neither row is part of a batch's flow,
    and neither touches a stock balance: B-001's last posting date stays the 21st, sup2's
    the 5th, no balance row for the no-batch batch, before and after stock check --repair."""
    set_standard(session_factory, world, "exc_local", "12.00")
    (theirs,) = open_order(session_factory, world, [("exc_local", "50", "12.00", "A-AMB")], supplier="sup2")
    receive(session_factory, world, theirs, "50", batch="S2-001", on=dt.date(2026, 11, 5))
    first, second = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                        ("exc_local", "10", "12.00", "A-AMB")])
    enter(session_factory, world, "INV-R4A", [(first, "100", "12.30")], net="1230.00", tax="159.90")
    receive(session_factory, world, first, "100", batch="B-001", on=dt.date(2026, 11, 21))
    receive(session_factory, world, second, "10", batch="B-001", on=dt.date(2026, 11, 21))
    enter(session_factory, world, "INV-R4B", [(second, "10", "12.50")], net="125.00", tax="16.25",
          on=dt.date(2026, 11, 23))
    theirs_batch = batch_id(session_factory, world, "exc_local", "S2-001")
    ours_batch = batch_id(session_factory, world, "exc_local", "B-001")
    no_batch = batch_id(session_factory, world, "exc_local", "-")
    amb = world.warehouses["A-AMB"]
    with session_factory() as session:
        assert _price_difference_rows(session) == [
            ("INV-R4A", CloseClass.RECEIPT, amb, no_batch, D("0"), D("0.00"), D("30.00")),
            ("INV-R4B", CloseClass.RECEIPT, amb, ours_batch, D("0"), D("0.00"), D("5.00"))]

    def seen() -> tuple[object, ...]:
        with session_factory() as session:
            flows = [inventory_queries.batch_flow(session, world.actors["cost_a"], batch)
                     for batch in (theirs_batch, ours_batch)]
            dates = dict(session.execute(select(StockBalance.batch_id, StockBalance.last_posting_date)).all())
        return ([[m.movement_type for m in flow.movements] for flow in flows],
                [[r.supplier_code for r in flow.receipts] for flow in flows], dates)

    expected = ([[MovementType.RECEIPT], [MovementType.RECEIPT, MovementType.RECEIPT]], [["S0002"], ["S0001", "S0001"]],
                {theirs_batch: dt.date(2026, 11, 5), ours_batch: dt.date(2026, 11, 21)})
    assert seen() == expected
    with session_factory() as session, session.begin():
        rebuild_balances(session)
    assert seen() == expected
    with session_factory() as session:
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_the_price_difference_of_goods_invoiced_before_they_arrive_waits_on_1404_for_them(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """Review R2, docs/payables.md's second worked example. Standard 12.00; October's 100 kg
    (order line 1, received 5 October) all went to production (5001) in October; October
    closed; nothing in stock. November's order line 2 of 100 kg at 12.00 is invoiced on
    20 November at 12.30, before its goods arrive: difference 30.00. Held = stock 0 + 100 kg
    not yet received = 100 kg, so nothing counts as consumed in closed October: all 30.00
    to 1404 (before: 100 - 0 - 0 = 100 kg "consumed in closed periods", all 30.00 to 5001),
    on a price-difference row on the line's warehouse and the no-batch batch. The 100 kg
    arrive on 21 November at the contract price (variance 0); 40 kg go to production on the
    25th. November's close: receipts 1,200.00 at standard with variance 30.00, rate 2.5 %;
    production bears 480.00 x 2.5 % = 12.00; the 60 kg left keep 18.00, 1404's balance."""
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-10")
    october_line, november_line = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                                      ("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, october_line, "100", on=dt.date(2026, 10, 5), made=dt.date(2026, 9, 1))
    issue(session_factory, world, "exc_local", "100", on=dt.date(2026, 10, 10))
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=company, period="2026-10")
    invoice_id = enter(session_factory, world, "INV-R2", [(november_line, "100", "12.30")], net="1230.00",
                       tax="159.90")
    with session_factory() as session:
        assert entry_lines(session, invoice_id, "supplier_invoice") == {
            GRIR: D("1200.00"), PPV: D("30.00"), VAT: D("159.90"), AP: D("-1389.90")}
        assert _price_difference_rows(session) == [
            ("INV-R2", CloseClass.RECEIPT, world.warehouses["A-AMB"],
             batch_id(session_factory, world, "exc_local", "-"), D("0"), D("0.00"), D("30.00"))]
    receive(session_factory, world, november_line, "100", batch="B-002", on=dt.date(2026, 11, 21))
    issue(session_factory, world, "exc_local", "40", on=dt.date(2026, 11, 25))
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert _lines_of(session, result.journal_entry_id) == {"5001": D("12.00"), PPV: D("-12.00")}
        assert account_balance(session, company, PPV) == D("18.00") == result.variance_remaining
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def _october_consumed_and_closed(session_factory: sessionmaker[Session], world: World) -> int:
    """The R2 world: standard 12.00 from October; order line 1's 100 kg received on 5 October
    all went to production (5001) on 10 October; October closed; nothing in stock. Returns
    order line 2 (100 kg at the contract price 12.00), not yet received."""
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-10")
    october_line, november_line = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                                      ("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, october_line, "100", on=dt.date(2026, 10, 5), made=dt.date(2026, 9, 1))
    issue(session_factory, world, "exc_local", "100", on=dt.date(2026, 10, 10))
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-10")
    return november_line


def test_a_credit_memo_for_goods_invoiced_before_they_arrive_takes_their_difference_off_1404(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """Credit memos count the not-yet-received part as held, like invoices (R2's mirror).

    The R2 world (October's 100 kg all consumed by production, October closed, nothing in
    stock). 20 November: order line 2's 100 kg invoiced at 12.30 before they arrive:
    difference 30.00, held = 0 in stock + 100 not received, all to 1404 (row +30.00 on the
    no-batch batch). 22 November: the supplier will not deliver and credits all 100 kg at
    12.30: net 1,230.00, VAT 159.90, GR/IR 1,200.00, difference 30.00 to come off. Invoiced
    100 before the credit, received 0: the 100 kg credited were never received, so held =
    0 in stock + 100 not received, nothing "consumed in closed periods": Cr 1404 30.00 (row
    -30.00 on the same no-batch batch, no receipt on the line). Entry: Dr 2202 1,389.90,
    Cr 2202.01 1,200.00, Cr 1404 30.00, Cr 2221.01.01 159.90. 1404 back to 0.00, 5001
    untouched. Before the fix the credit counted no goods as not received: held = 0,
    consumed in closed October = 100 - 0 - 0 = 100 kg, so Cr 5001 30.00 (October's
    production credited for goods it never had) and 1404 kept 30.00 for nothing.
    November's close: no stock, no receipts, variance 30.00 - 30.00 = 0: nothing allocated,
    0.00 remaining = 1404.
    """
    line = _october_consumed_and_closed(session_factory, world)
    invoice_id = enter(session_factory, world, "INV-CR1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    memo_id = enter(session_factory, world, "CM-CR1", [(line, "100", "12.30")], net="1230.00", tax="159.90",
                    kind=DocumentKind.CREDIT_MEMO, credits=invoice_id, on=dt.date(2026, 11, 22))
    company = world.companies["A"]
    no_batch = batch_id(session_factory, world, "exc_local", "-")
    amb = world.warehouses["A-AMB"]
    with session_factory() as session:
        assert entry_lines(session, memo_id, "supplier_invoice") == {
            AP: D("1389.90"), GRIR: D("-1200.00"), PPV: D("-30.00"), VAT: D("-159.90")}
        assert _price_difference_rows(session) == [
            ("INV-CR1", CloseClass.RECEIPT, amb, no_batch, D("0"), D("0.00"), D("30.00")),
            ("CM-CR1", CloseClass.RECEIPT, amb, no_batch, D("0"), D("0.00"), D("-30.00"))]
        assert account_balance(session, company, PPV) == D("0.00")
        assert account_balance(session, company, "5001") == D("1200.00")  # October's 100 kg at standard only
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert (result.variance_allocated, result.variance_remaining) == (D("0.00"), D("0.00"))
        assert account_balance(session, company, PPV) == D("0.00") == result.variance_remaining
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_a_credit_memo_for_the_part_not_delivered_after_part_arrived(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """The R2 world; 20 November: 100 kg invoiced at 12.30 before they arrive, 30.00 to 1404.
    21 November: 40 kg arrive (B-002) at the contract price (variance 0). 22 November: the
    supplier credits the 60 kg it will not deliver, at 12.30: net 738.00, VAT 95.94, GR/IR
    720.00, difference 18.00 off. Invoiced 100, received 40: 60 kg invoiced and not
    received, so all 60 credited count as not received; held = 40 in stock + 60 = 100 >= 60:
    Cr 1404 18.00 (row -18.00 on B-002, the line's latest receipt). 1404 = 12.00 = 40 kg x
    0.30. Before: held = 40, consumed in closed October = 60 - 40 - 0 = 20 kg: Cr 5001
    18.00 x 20/60 = 6.00 and Cr 1404 12.00, leaving 18.00 on 1404 for 40 kg.
    25 November: 10 kg to production. November's close: receipts 40 kg, 480.00 at standard,
    variance 30.00 - 18.00 = 12.00; rate = 12.00 / 480.00 = 2.5 %; production bears
    120.00 x 2.5 % = 3.00 (Dr 5001 3.00, Cr 1404 3.00); the 30 kg left keep 9.00 = 1404.
    """
    line = _october_consumed_and_closed(session_factory, world)
    enter(session_factory, world, "INV-CR2", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    receive(session_factory, world, line, "40", batch="B-002", on=dt.date(2026, 11, 21))
    memo_id = enter(session_factory, world, "CM-CR2", [(line, "60", "12.30")], net="738.00", tax="95.94",
                    kind=DocumentKind.CREDIT_MEMO, on=dt.date(2026, 11, 22))
    company = world.companies["A"]
    amb = world.warehouses["A-AMB"]
    with session_factory() as session:
        assert entry_lines(session, memo_id, "supplier_invoice") == {
            AP: D("833.94"), GRIR: D("-720.00"), PPV: D("-18.00"), VAT: D("-95.94")}
        assert _price_difference_rows(session) == [
            ("INV-CR2", CloseClass.RECEIPT, amb, batch_id(session_factory, world, "exc_local", "-"), D("0"),
             D("0.00"), D("30.00")),
            ("CM-CR2", CloseClass.RECEIPT, amb, batch_id(session_factory, world, "exc_local", "B-002"), D("0"),
             D("0.00"), D("-18.00"))]
        assert account_balance(session, company, PPV) == D("12.00")
    issue(session_factory, world, "exc_local", "10", on=dt.date(2026, 11, 25))
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert _lines_of(session, result.journal_entry_id) == {"5001": D("3.00"), PPV: D("-3.00")}
        assert account_balance(session, company, PPV) == D("9.00") == result.variance_remaining
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_a_credit_memo_for_goods_not_delivered_after_a_close(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int],
        set_business_day) -> None:
    """The R2 world; 20 November: 100 kg invoiced at 12.30 before they arrive, 30.00 to 1404;
    21 November: 40 kg arrive. November's close: receipts 40 kg, 480.00 at standard,
    variance 30.00 (the 60 kg still on their way carry their 18.00 in it: see
    docs/payables.md), nothing consumed: 0.00 allocated, 30.00 remaining = 1404.
    3 December: the supplier credits the 60 kg it will not deliver at 12.30: difference
    18.00 off. Invoiced 100, received 40: the 60 count as not received; held = 40 + 60:
    Cr 1404 18.00, none to consumption (before: held 40, nothing consumed in December,
    consumed in closed periods = 60 - 40 - 0 = 20 kg: Cr 5001 6.00 for October's
    production, Cr 1404 12.00). 1404 = 12.00. 10 December: 10 kg to production.
    December's close: opening 40 kg, 480.00 at standard carrying 30.00; receipts 0 at
    standard, variance -18.00; rate = (30.00 - 18.00) / 480.00 = 2.5 %; production bears
    120.00 x 2.5 % = 3.00; the 30 kg left keep 9.00 = 1404.
    """
    line = _october_consumed_and_closed(session_factory, world)
    enter(session_factory, world, "INV-CR3", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    receive(session_factory, world, line, "40", batch="B-002", on=dt.date(2026, 11, 21))
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        november = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    assert (november.variance_allocated, november.variance_remaining) == (D("0.00"), D("30.00"))
    memo_id = enter(session_factory, world, "CM-CR3", [(line, "60", "12.30")], net="738.00", tax="95.94",
                    kind=DocumentKind.CREDIT_MEMO, on=dt.date(2026, 12, 3))
    with session_factory() as session:
        assert entry_lines(session, memo_id, "supplier_invoice") == {
            AP: D("833.94"), GRIR: D("-720.00"), PPV: D("-18.00"), VAT: D("-95.94")}
        assert account_balance(session, company, PPV) == D("12.00")
    issue(session_factory, world, "exc_local", "10", on=dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 5))
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-12")
    with session_factory() as session:
        assert _lines_of(session, result.journal_entry_id) == {"5001": D("3.00"), PPV: D("-3.00")}
        assert account_balance(session, company, PPV) == D("9.00") == result.variance_remaining
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])
