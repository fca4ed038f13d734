"""Supplier payments' document numbers (migration 0047): PV-<company code>-<year>-000001 per
company and year of the payment date, from the series row the other documents of 0046 take
(erp.purchasing.services.next_in_series: locked, so unique and gap-free), taken only once a
payment passed every check, and named by that number in the payment's journal entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import narration
from erp.costing.models import JournalEntry
from erp.errors import DomainError
from erp.payables import services
from erp.payables.models import SupplierPayment
from erp.purchasing.models import DocumentSequence
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.service.test_purchasing_concurrency import run_in_threads
from tests.stock import open_order, receive, set_standard
from tests.world import World

SF = sessionmaker[Session]


def _invoice(session_factory: SF, world: World, number: str, company: str = "A", quantity: str = "100",
             on: dt.date = NOV_20) -> int:
    """An invoice of ``quantity`` at 12.00 plus 13% VAT (13.56 a unit) of a received order line."""
    set_standard(session_factory, world, "exc_local", "12.00", company=company)
    (line,) = open_order(session_factory, world, [("exc_local", quantity, "12.00", f"{company}-AMB")],
                         company=company)
    receive(session_factory, world, line, quantity, user=f"clerk_{company.lower()}")
    net = D(quantity) * D("12.00")
    return enter(session_factory, world, number, [(line, quantity, "12.00")], net=str(net),
                 tax=str(net * D("0.13")), company=company, user=f"ap_{company.lower()}", on=on)


def _pay(session_factory: SF, world: World, amount: str, *, company: str = "A", on: dt.date = NOV_20,
         reference: str | None = None, user: str | None = None) -> SupplierPayment:
    with session_factory() as session, session.begin():
        payment = services.pay_supplier(session, world.actors[user or f"ap_{company.lower()}"], services.PaymentRequest(
            company_id=world.companies[company], supplier_id=world.suppliers["sup1"], payment_date=on,
            amount=D(amount), reference=reference))
        session.expunge(payment)
    return payment


def _memo(session_factory: SF, source_type: str, source_id: int) -> str:
    with session_factory() as session:
        memo = session.scalar(select(JournalEntry.memo).where(JournalEntry.source_type == source_type,
                                                              JournalEntry.source_id == source_id))
    return narration.plain(memo)


def test_supplier_payments_count_per_company_and_payment_year(session_factory: SF, world: World) -> None:
    """Each company's payments count from 1 per year of the payment date; the journal entry
    names the payment by its number and the supplier (and the reference, when there is one)."""
    vat13_on_materials(session_factory, world)
    _invoice(session_factory, world, "A-1", on=dt.date(2025, 12, 1))
    _invoice(session_factory, world, "B-1", company="B")
    first = _pay(session_factory, world, "100.00", reference="BANK-1")
    in_b = _pay(session_factory, world, "100.00", company="B")
    second = _pay(session_factory, world, "100.00")
    last_year = _pay(session_factory, world, "100.00", on=dt.date(2025, 12, 31))
    assert [p.document_number for p in (first, in_b, second, last_year)] == [
        "PV-CA-2026-000001", "PV-CB-2026-000001", "PV-CA-2026-000002", "PV-CA-2025-000001"]
    with session_factory() as session:
        series = {name: following for name, following in session.execute(
            select(DocumentSequence.series, DocumentSequence.next_value).where(DocumentSequence.series.like("PV-%")))}
    assert series == {"PV-CA-2026": 3, "PV-CB-2026": 2, "PV-CA-2025": 2}
    assert _memo(session_factory, "supplier_payment", first.id) == \
        "supplier payment PV-CA-2026-000001 to S0001 Huakang (BANK-1)"
    assert _memo(session_factory, "supplier_payment", second.id) == "supplier payment PV-CA-2026-000002 to S0001 Huakang"
    with session_factory() as session, session.begin():
        services.reverse_payment(session, world.actors["ap_a"], first.id, reason="returned by the bank",
                                 reversal_date=NOV_20)
    assert _memo(session_factory, "supplier_payment_reversal", first.id) == \
        "reversal of supplier payment PV-CA-2026-000001 to S0001 Huakang: returned by the bank"


def test_a_refused_payment_takes_no_number(session_factory: SF, world: World) -> None:
    """A payment refused (more than is open) leaves the series as it was: the next one is 1."""
    vat13_on_materials(session_factory, world)
    _invoice(session_factory, world, "A-1", quantity="10")  # 135.60 open
    with pytest.raises(DomainError):
        _pay(session_factory, world, "135.61")
    assert _pay(session_factory, world, "135.60").document_number == "PV-CA-2026-000001"


@pytest.mark.postgres
def test_supplier_payments_made_at_the_same_moment_get_distinct_numbers_without_gaps(
        session_factory: SF, world: World) -> None:
    """Four AP clerks of one company pay the supplier five times each at once: the invoices'
    and the series row's locks make them wait for each other, so the twenty numbers are 1-20,
    none twice, and a second company's series is its own."""
    vat13_on_materials(session_factory, world)
    _invoice(session_factory, world, "A-1")
    _invoice(session_factory, world, "B-1", company="B")

    def five(slot: int) -> list[str]:
        company = "B" if slot == 3 else "A"
        user = {0: "ap_a", 1: "ap_a2", 2: "ap_a", 3: "ap_b"}[slot]
        return [_pay(session_factory, world, "1.00", company=company, user=user).document_number for _ in range(5)]

    results = run_in_threads(4, five)
    numbers = [number for result in results for number in result]  # an exception here fails the test
    assert sorted(numbers) == [f"PV-CA-2026-{n:06d}" for n in range(1, 16)] + \
        [f"PV-CB-2026-{n:06d}" for n in range(1, 6)]
