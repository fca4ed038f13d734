"""Customer returns with credit notes, price credit notes and debit notes, through the
services, with figures worked out by hand in each test.

The group's sale (issue #17): 100 kg of the excipient (standard 10.00) at 50.00 plus 13 %
output VAT to the First Hospital (30 days' terms) from company A's ambient store, shipped
on 20 November.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import notes, receivables
from erp.credit.errors import CreditNoteNotApplicable
from erp.credit.exposure import exposure_drift
from erp.credit.models import CreditNote, Invoice, InvoiceKind, InvoiceStatus
from erp.errors import ValidationFailed
from erp.inventory import services as inventory
from erp.inventory.errors import ReturnExceedsShipment
from erp.posting.models import StockStatus
from erp.quality.models import InspectionLot
from tests.credit import NOV, POLICY, new_order, pay, position, put_stock, row_counts, set_limit, ship
from tests.quality import release_lot
from tests.stock import balances, entry_lines, set_standard
from tests.world import World

SF = sessionmaker[Session]
DEC_1 = dt.date(2026, 12, 1)


def _sale(session_factory: SF, world: World) -> tuple[int, int]:
    """Ship 100 kg at 50.00 + 13 %: (invoice id, shipment document id)."""
    set_limit(session_factory, world, "cust1", "1000000")
    put_stock(session_factory, world, quantity="1000", standard="10.00")
    order = new_order(session_factory, world, lines=[("100", "50.00")], confirm=True, tax="VAT13")
    assert position(session_factory, world).exposure == D("5650.00")  # the confirmed order, tax included
    invoice = ship(session_factory, world, order.order.id, ["100"]).invoice
    document = invoice.lines[0].stock_document_id
    assert document is not None
    return invoice.id, document


def _return(session_factory: SF, world: World, document: int, quantity: str, day: dt.date = NOV) -> CreditNote:
    with session_factory() as session, session.begin():
        return notes.return_goods(session, world.actors["sales_a"], shipment_document_id=document,
                                  quantity=D(quantity), posting_date=day, reason="damaged cartons")


def test_sale_with_output_vat_owes_the_total_including_tax(session_factory: SF, world: World) -> None:
    invoice_id, shipment = _sale(session_factory, world)
    with session_factory() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        # 100 x 50.00 = 5,000.00; VAT 13 % = 650.00; the customer owes 5,650.00
        assert (invoice.net_amount, invoice.tax_amount, invoice.amount, invoice.open_amount) == (
            D("5000.00"), D("650.00"), D("5650.00"), D("5650.00"))
        assert (invoice.lines[0].net_amount, invoice.lines[0].tax_amount, invoice.lines[0].tax_rate) == (
            D("5000.00"), D("650.00"), D("13.00"))
        assert entry_lines(session, invoice_id, "invoice") == {
            "1122": D("5650.00"), "6001": D("-5000.00"), "2221.01.02": D("-650.00")}
        assert entry_lines(session, shipment) == {"6401": D("1000.00"), "1403": D("-1000.00")}  # 100 x 10.00
    row = position(session_factory, world)
    assert (row.open_invoices, row.open_orders, row.exposure) == (D("5650.00"), D("0.00"), D("5650.00"))


def test_return_of_20_credits_cogs_puts_stock_in_quarantine_and_lowers_receivable_and_exposure(
    session_factory: SF, world: World
) -> None:
    invoice_id, shipment = _sale(session_factory, world)
    assert position(session_factory, world).exposure == D("5650.00")  # 5,000.00 + 650.00 VAT

    note = _return(session_factory, world, shipment, "20")

    # 20 x 50.00 = 1,000.00 + 130.00 VAT
    assert (note.net_amount, note.tax_amount, note.amount) == (D("1000.00"), D("130.00"), D("1130.00"))
    assert note.unapplied_amount == D("0.00")  # all of it settled the open invoice
    ((line,),) = [note.lines]
    with session_factory() as session:
        assert session.get(Invoice, invoice_id).open_amount == D("4520.00")  # type: ignore[union-attr]
        # the goods: 20 kg back in quarantine at the shipment's standard 10.00, cost of sales credited
        assert entry_lines(session, line.stock_document_id) == {"1403": D("200.00"), "6401": D("-200.00")}
        assert ("EXC-A-1", "quarantine", D("20.0000"), D("200.00")) in balances(
            session, warehouse_id=world.warehouses["A-AMB"])
        assert ("EXC-A-1", "unrestricted", D("900.0000"), D("9000.00")) in balances(
            session, warehouse_id=world.warehouses["A-AMB"])
        # the money: revenue and output VAT reversed, the receivable down by 1,130.00
        assert entry_lines(session, note.id, "credit_note") == {
            "6001": D("1000.00"), "2221.01.02": D("130.00"), "1122": D("-1130.00")}
        assert exposure_drift(session) == []
    row = position(session_factory, world)  # 5,650.00 - 1,130.00
    assert (row.open_invoices, row.exposure, row.unapplied_credit) == (D("4520.00"), D("4520.00"), D("0.00"))


def test_a_return_never_exceeds_what_was_shipped_less_what_came_back(session_factory: SF, world: World) -> None:
    _, shipment = _sale(session_factory, world)
    _return(session_factory, world, shipment, "20")
    before = row_counts(session_factory)
    with pytest.raises(ReturnExceedsShipment) as refused:
        _return(session_factory, world, shipment, "90")
    assert refused.value.extensions["returnable"] == "80.0000"  # 100 shipped - 20 back
    assert refused.value.status == 409
    assert row_counts(session_factory) == before
    last = _return(session_factory, world, shipment, "80")
    assert last.amount == D("4520.00")  # 4,000.00 + 520.00
    with session_factory() as session:
        # all 100 back: the quarantine holds exactly what left, 1,000.00
        assert ("EXC-A-1", "quarantine", D("100.0000"), D("1000.00")) in balances(
            session, warehouse_id=world.warehouses["A-AMB"])
    assert position(session_factory, world).exposure == D("0.00")
    with pytest.raises(ReturnExceedsShipment):
        _return(session_factory, world, shipment, "0.001")


def test_return_of_a_paid_invoice_keeps_the_credit_for_the_customer(session_factory: SF, world: World) -> None:
    invoice_id, shipment = _sale(session_factory, world)
    pay(session_factory, world, "5650.00")
    note = _return(session_factory, world, shipment, "20")
    assert note.unapplied_amount == D("1130.00")  # nothing open to settle: kept as credit
    with session_factory() as session:
        assert entry_lines(session, note.id, "credit_note") == {
            "6001": D("1000.00"), "2221.01.02": D("130.00"), "2203": D("-1130.00")}
        assert session.get(Invoice, invoice_id).status == InvoiceStatus.PAID  # type: ignore[union-attr]
    row = position(session_factory, world)
    assert (row.exposure, row.unapplied_credit) == (D("0.00"), D("1130.00"))

    # a later sale of 10 x 50.00 + 13 % = 565.00 takes the kept credit when it is applied
    order = new_order(session_factory, world, lines=[("10", "50.00")], confirm=True, tax="VAT13")
    later = ship(session_factory, world, order.order.id, ["10"]).invoice
    with session_factory() as session, session.begin():
        applied = notes.apply_credit_note(session, world.actors["sales_a"], note.id, applied_on=NOV)
        assert applied.unapplied_amount == D("565.00")  # 1,130.00 - 565.00
        assert entry_lines(session, note.id, "credit_note_application") == {"2203": D("565.00"),
                                                                             "1122": D("-565.00")}
        assert session.get(Invoice, later.id).open_amount == D("0.00")  # type: ignore[union-attr]
    row = position(session_factory, world)
    assert (row.exposure, row.unapplied_credit) == (D("0.00"), D("565.00"))


def test_returned_goods_wait_for_quality_then_are_released_or_scrapped(session_factory: SF, world: World) -> None:
    _, shipment = _sale(session_factory, world)
    note = _return(session_factory, world, shipment, "20")
    batch = note.lines[0].batch_id
    assert batch is not None
    with session_factory() as session, session.begin():
        inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-AMB"],
                                    batch_id=batch, decision=inventory.QualityDecision.REJECT, posting_date=NOV,
                                    quantity=D("5"))
    # the 15 left are released by QA's signed usage decision on the return's lot
    with session_factory() as session:
        (lot_id,) = session.scalars(select(InspectionLot.id).where(InspectionLot.batch_id == batch))
    release_lot(session_factory, world, lot_id, on=NOV)
    with session_factory() as session, session.begin():
        inventory.adjust_stock(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-AMB"],
                               material_id=world.materials["exc_local"], quantity=D("-5"), posting_date=NOV,
                               kind=inventory.AdjustmentKind.SCRAP, reason="crushed", batch_id=batch,
                               status=StockStatus.BLOCKED)
    with session_factory() as session:
        held = balances(session, warehouse_id=world.warehouses["A-AMB"])
    assert ("EXC-A-1", "unrestricted", D("915.0000"), D("9150.00")) in held  # 900 + 15 released
    assert ("EXC-A-1", "quarantine", D("0.0000"), D("0.00")) in held
    assert ("EXC-A-1", "blocked", D("0.0000"), D("0.00")) in held  # 5 rejected, then scrapped


def test_return_after_a_standard_change_restates_the_difference(session_factory: SF, world: World) -> None:
    """The goods left at 10.00; in December the standard is 12.00: cost of sales gets back
    exactly the 200.00 it was charged, the stock enters at 240.00, 40.00 against variance."""
    _, shipment = _sale(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-12")
    note = _return(session_factory, world, shipment, "20", day=DEC_1)
    with session_factory() as session:
        assert entry_lines(session, note.lines[0].stock_document_id) == {
            "1403": D("240.00"), "6401": D("-200.00"), "1404": D("-40.00")}


def test_price_credit_note_and_debit_note_correct_the_receivable(session_factory: SF, world: World) -> None:
    invoice_id, _ = _sale(session_factory, world)
    vat13 = world.tax_codes["VAT13"]
    with session_factory() as session, session.begin():
        credit = notes.issue_credit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                         customer_id=world.customers["cust1"], note_date=NOV, amount=D("300.00"),
                                         reason="agreed discount 6 %", invoice_id=invoice_id, tax_code_id=vat13)
        # 300.00 + 39.00 VAT
        assert entry_lines(session, credit.id, "credit_note") == {
            "6001": D("300.00"), "2221.01.02": D("39.00"), "1122": D("-339.00")}
    with session_factory() as session, session.begin():
        debit = notes.issue_debit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                       customer_id=world.customers["cust1"], note_date=NOV, amount=D("120.50"),
                                       reason="freight re-charged", invoice_id=invoice_id, tax_code_id=vat13)
        assert (debit.kind, debit.corrects_invoice_id) == (InvoiceKind.DEBIT_NOTE, invoice_id)
        assert debit.due_date == NOV + dt.timedelta(days=30)
        # 120.50 + 15.665 -> 15.67 VAT (half-up)
        assert (debit.net_amount, debit.tax_amount, debit.amount) == (D("120.50"), D("15.67"), D("136.17"))
        assert entry_lines(session, debit.id, "invoice") == {
            "1122": D("136.17"), "6001": D("-120.50"), "2221.01.02": D("-15.67")}
        assert session.get(Invoice, invoice_id).open_amount == D("5311.00")  # type: ignore[union-attr]
    assert position(session_factory, world).exposure == D("5447.17")  # 5,650 - 339 + 136.17
    with session_factory() as session:
        assert exposure_drift(session) == []

    with pytest.raises(CreditNoteNotApplicable), session_factory() as session, session.begin():
        notes.issue_credit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                customer_id=world.customers["cust2"], note_date=NOV, amount=D("1.00"),
                                reason="wrong customer", invoice_id=invoice_id, tax_code_id=vat13)
    # no code on the note and no default on the customer: refused, naming the rule
    with pytest.raises(ValidationFailed) as refused, session_factory() as session, session.begin():
        notes.issue_credit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                customer_id=world.customers["cust1"], note_date=NOV, amount=D("1.00"),
                                reason="no code", invoice_id=invoice_id)
    assert refused.value.slug == "no-tax-code"


def test_ageing_as_of_before_a_credit_note_shows_what_was_open_then(session_factory: SF, world: World) -> None:
    _, shipment = _sale(session_factory, world)
    _return(session_factory, world, shipment, "20", day=DEC_1)
    with session_factory() as session:
        (then,), _ = receivables.receivables_by_customer(session, world.actors["cio"], as_of=NOV, policy=POLICY)
        (now,), _ = receivables.receivables_by_customer(session, world.actors["cio"], as_of=DEC_1, policy=POLICY)
    assert (then.open_amount, now.open_amount) == (D("5650.00"), D("4520.00"))


@pytest.mark.postgres
def test_two_returns_at_the_same_moment_never_exceed_the_shipment(session_factory: SF, world: World) -> None:
    """Two clerks return 60 kg each of the 100 shipped, released together by a barrier:
    exactly one passes, every round."""
    set_limit(session_factory, world, "cust1", "10000000")
    put_stock(session_factory, world, quantity="2000", standard="10.00")
    for _ in range(10):
        order = new_order(session_factory, world, lines=[("100", "50.00")], confirm=True)
        shipment = ship(session_factory, world, order.order.id, ["100"]).invoice.lines[0].stock_document_id
        assert shipment is not None
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def return_at_once() -> None:
            try:
                with session_factory() as session:
                    barrier.wait()
                    with session.begin():
                        notes.return_goods(session, world.actors["sales_a"], shipment_document_id=shipment,
                                           quantity=D("60"), posting_date=NOV, reason="recall")
                outcomes.append("returned")
            except ReturnExceedsShipment:
                outcomes.append("refused")
            except BaseException as error:  # noqa: BLE001 - reported below
                outcomes.append(repr(error))

        threads = [threading.Thread(target=return_at_once) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["refused", "returned"]
    with session_factory() as session:
        returned = session.scalars(select(CreditNote.amount)).all()
        assert returned == [D("3000.00")] * 10  # 60 x 50.00 once per round
        assert exposure_drift(session) == []
