"""Document numbers of payables and receivables (migration 0046): supplier invoices AP-, supplier
credit memos CM-, sales invoices AR-, debit notes DN-, customer payments RC-, credit notes CN-,
each <prefix>-<company code>-<year>-000001 per company and year of the posting date, from the
purchase orders' numbering (erp.purchasing.services.next_in_series: one locked row per
series, so unique and gap-free), and named by that number in their journal entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import narration
from erp.costing.models import JournalEntry
from erp.credit import notes, opening
from erp.credit import services as credit
from erp.credit.exposure import lock_exposure
from erp.credit.models import CreditNote, Invoice, InvoiceKind, Payment
from erp.payables.models import DocumentKind, SupplierInvoice
from erp.purchasing.models import DocumentSequence
from tests.credit import NOV, history_invoice, pay
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.service.test_purchasing_concurrency import run_in_threads
from tests.stock import open_order, receive, set_standard
from tests.tax import create_china_vat
from tests.world import World

SF = sessionmaker[Session]


def _memo(session_factory: SF, source_type: str, source_id: int) -> str:
    with session_factory() as session:
        memo = session.scalar(select(JournalEntry.memo).where(JournalEntry.source_type == source_type,
                                                              JournalEntry.source_id == source_id))
    return narration.plain(memo)


def _received_line(session_factory: SF, world: World, quantity: str = "100", company: str = "A") -> int:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00", company=company)
    (line,) = open_order(session_factory, world, [("exc_local", quantity, "12.00", f"{company}-AMB")],
                         company=company)
    receive(session_factory, world, line, quantity, user=f"clerk_{company.lower()}")
    return line


def test_supplier_invoices_and_credit_memos_count_per_company_kind_and_posting_year(
        session_factory: SF, world: World) -> None:
    """Invoices AP- and credit memos CM- each count from 1 per company and year of the posting
    date, whatever the supplier's own numbers; the journal entry names the document by it."""
    line = _received_line(session_factory, world)
    first = enter(session_factory, world, "8801", [(line, "10", "12.00")], net="120.00", tax="15.60")
    memo = enter(session_factory, world, "CR-1", [(line, "2", "12.00")], net="24.00", tax="3.12",
                 kind=DocumentKind.CREDIT_MEMO, credits=first)
    second = enter(session_factory, world, "8802", [(line, "10", "12.00")], net="120.00", tax="15.60")
    with session_factory() as session:
        numbers = {key: number for key, number in session.execute(
            select(SupplierInvoice.id, SupplierInvoice.document_number))}
        series = {name: following for name, following in session.execute(
            select(DocumentSequence.series, DocumentSequence.next_value)
            .where(DocumentSequence.series.like("AP-%") | DocumentSequence.series.like("CM-%")))}
    assert numbers == {first: "AP-CA-2026-000001", memo: "CM-CA-2026-000001", second: "AP-CA-2026-000002"}
    assert series == {"AP-CA-2026": 3, "CM-CA-2026": 2}
    assert _memo(session_factory, "supplier_invoice", first) == \
        "supplier invoice AP-CA-2026-000001 (S0001 Huakang 8801)"


def test_a_supplier_invoice_posted_in_another_year_takes_that_years_series(session_factory: SF, world: World) -> None:
    line = _received_line(session_factory, world)
    late = enter(session_factory, world, "9901", [(line, "5", "12.00")], net="60.00", tax="7.80",
                 on=dt.date(2025, 12, 31))
    now = enter(session_factory, world, "9902", [(line, "5", "12.00")], net="60.00", tax="7.80")
    with session_factory() as session:
        assert session.get(SupplierInvoice, late).document_number == "AP-CA-2025-000001"  # type: ignore[union-attr]
        assert session.get(SupplierInvoice, now).document_number == "AP-CA-2026-000001"  # type: ignore[union-attr]


def test_receivables_documents_count_per_company_prefix_and_year(session_factory: SF, world: World) -> None:
    """Sales invoices AR-, debit notes DN-, payments RC- and credit notes CN- each count per
    company and year of their date; journal entries name them (and the invoice a note or a
    correction names) by number."""
    codes = create_china_vat(session_factory, world)
    a1 = history_invoice(session_factory, world, "cust1", NOV, "100.00")
    b1 = history_invoice(session_factory, world, "cust1", NOV, "100.00", company="B")
    old = history_invoice(session_factory, world, "cust1", dt.date(2025, 6, 1), "100.00")
    a2 = history_invoice(session_factory, world, "cust2", NOV, "100.00")
    with session_factory() as session, session.begin():
        debit = credit.raise_invoice(
            session, lock_exposure(session, world.customers["cust1"]), company_id=world.companies["A"],
            invoice_date=NOV, payment_terms_days=30, items=[credit.InvoiceItem(D("10.00"))],
            user_id=world.users["sales_a"], kind=InvoiceKind.DEBIT_NOTE, corrects_invoice_id=a1).id
    payment = pay(session_factory, world, "50.00", invoice_ids=[a1])
    with session_factory() as session, session.begin():
        note = notes.issue_credit_note(session, world.actors["sales_a"], company_id=world.companies["A"],
                                       customer_id=world.customers["cust1"], note_date=NOV, amount=D("10.00"),
                                       reason="price agreed", invoice_id=a1, tax_code_id=codes["VAT0"]).id
    with session_factory() as session:
        invoices = {key: number for key, number in session.execute(select(Invoice.id, Invoice.document_number))}
        assert invoices == {a1: "AR-CA-2026-000001", b1: "AR-CB-2026-000001", old: "AR-CA-2025-000001",
                            a2: "AR-CA-2026-000002", debit: "DN-CA-2026-000001"}
        assert session.get(Payment, payment.id).document_number == "RC-CA-2026-000001"  # type: ignore[union-attr]
        assert session.get(CreditNote, note).document_number == "CN-CA-2026-000001"  # type: ignore[union-attr]
    assert _memo(session_factory, "invoice", a1) == "invoice AR-CA-2026-000001"
    assert _memo(session_factory, "invoice", debit) == "debit note DN-CA-2026-000001, corrects invoice AR-CA-2026-000001"
    assert _memo(session_factory, "payment", payment.id) == "customer payment RC-CA-2026-000001"
    assert _memo(session_factory, "credit_note", note) == \
        "credit note CN-CA-2026-000001, invoice AR-CA-2026-000001: price agreed"


def test_receivables_taken_over_are_numbered_in_order_per_year_of_their_invoice_dates(
        session_factory: SF, world: World) -> None:
    """A go-live takes a thousand invoices over in a few statements: each year's series is
    advanced once by its count, the numbers follow the items' order."""
    history_invoice(session_factory, world, "cust1", NOV, "100.00")  # AR-CA-2026-000001 is taken
    days = [dt.date(2026, 10, 1), dt.date(2025, 3, 1), dt.date(2026, 9, 1), dt.date(2025, 4, 1)]
    with session_factory() as session, session.begin():
        ids = opening.take_over_receivables(
            session, world.actors["cost_a"], company_id=world.companies["A"], go_live_date=NOV,
            items=[opening.OpeningReceivable(world.customers["cust1"], f"OLD-{n}", day, day + dt.timedelta(days=30),
                                             D("10.00")) for n, day in enumerate(days)], memo="go-live")
    with session_factory() as session:
        numbers = [session.get(Invoice, key).document_number for key in ids]  # type: ignore[union-attr]
    assert numbers == ["AR-CA-2026-000002", "AR-CA-2025-000001", "AR-CA-2026-000003", "AR-CA-2025-000002"]
    assert history_invoice(session_factory, world, "cust1", NOV, "1.00") > 0
    with session_factory() as session:
        assert session.scalar(select(Invoice.document_number).order_by(Invoice.id.desc()).limit(1)) == \
            "AR-CA-2026-000004"


class _RolledBack(Exception):
    pass


def test_a_rolled_back_payment_gives_its_number_back(session_factory: SF, world: World) -> None:
    with session_factory() as session, pytest.raises(_RolledBack):
        with session.begin():
            taken = credit.record_payment(session, world.actors["sales_a"], company_id=world.companies["A"],
                                          customer_id=world.customers["cust1"], payment_date=NOV,
                                          amount=D("5.00")).document_number
            assert taken == "RC-CA-2026-000001"
            raise _RolledBack
    assert pay(session_factory, world, "5.00").document_number == "RC-CA-2026-000001"


@pytest.mark.postgres
def test_supplier_invoices_entered_at_the_same_moment_get_distinct_numbers_without_gaps(
        session_factory: SF, world: World) -> None:
    """Four AP clerks of one company enter five invoices each at once: the series row's lock
    makes them wait for each other, so the twenty numbers are 1-20, none twice."""
    line = _received_line(session_factory, world)

    def five(slot: int) -> list[str]:
        taken = []
        for n in range(5):
            key = enter(session_factory, world, f"T{slot}-{n}", [(line, "1", "12.00")], net="12.00", tax="1.56",
                        user="ap_a2" if slot % 2 else "ap_a")
            with session_factory() as session:
                taken.append(session.get(SupplierInvoice, key).document_number)  # type: ignore[union-attr]
        return taken

    results = run_in_threads(4, five)
    numbers = [number for result in results for number in result]  # an exception here fails the test
    assert sorted(numbers) == [f"AP-CA-2026-{n:06d}" for n in range(1, 21)]


@pytest.mark.postgres
def test_customer_payments_and_credit_notes_at_the_same_moment_get_distinct_numbers(
        session_factory: SF, world: World) -> None:
    """Four clerks record payments of two customers and issue credit notes at once: every
    series counts 1-n with no number twice."""
    codes = create_china_vat(session_factory, world)
    for customer in ("cust1", "cust2"):
        history_invoice(session_factory, world, customer, NOV, "1000.00")

    def work(slot: int) -> list[str]:
        customer = "cust1" if slot % 2 else "cust2"
        taken = []
        for _ in range(4):
            taken.append(pay(session_factory, world, "1.00", customer=customer).document_number)
            with session_factory() as session, session.begin():
                taken.append(notes.issue_credit_note(
                    session, world.actors["sales_a"], company_id=world.companies["A"],
                    customer_id=world.customers[customer], note_date=NOV, amount=D("1.00"),
                    reason="discount", tax_code_id=codes["VAT0"]).document_number)
        return taken

    results = run_in_threads(4, work)
    numbers = [number for result in results for number in result]
    assert sorted(numbers) == sorted([f"RC-CA-2026-{n:06d}" for n in range(1, 17)]
                                     + [f"CN-CA-2026-{n:06d}" for n in range(1, 17)])
    assert NOV_20 == NOV  # the payables and receivables helpers post on the same day
