"""Reversing a customer payment (a bounced bank draft, T22): one balancing entry, the invoices
it settled open again, the customer's exposure back; refused without a reason, twice, before
its applications, by read-only roles. Figures worked out by hand in each test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.credit import receivables, services
from erp.credit.errors import CustomerPaymentReversed
from erp.credit.models import Invoice, InvoiceStatus, Payment
from erp.credit.payment_reversals import reverse_customer_payment
from erp.errors import Forbidden, ValidationFailed
from erp.posting.models import JournalEntry
from tests.credit import history_invoice, pay, position, row_counts
from tests.stock import account_balance, entry_lines
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


def _reverse(session_factory: SF, world: World, payment_id: int, *, reason: str = "退票：出票人账户余额不足",
             day: dt.date = dt.date(2026, 11, 25), user: str = "sales_a") -> Payment:
    with session_factory() as session, session.begin():
        return reverse_customer_payment(session, world.actors[user], payment_id, reason=reason, reversal_date=day)


def _open(session: Session, *ids: int) -> list[tuple[D, InvoiceStatus]]:
    return [(i.open_amount, i.status) for i in (session.get(Invoice, key) for key in ids) if i is not None]


def test_reversal_reopens_what_the_payment_and_its_later_application_settled(
        session_factory: SF, world: World) -> None:
    first = history_invoice(session_factory, world, "cust1", dt.date(2026, 10, 1), "1000.00")
    second = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "500.00")
    payment = pay(session_factory, world, "1800.00", day=dt.date(2026, 11, 20))  # 1,000 + 500, 300 left
    third = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 21), "400.00")
    with session_factory() as session, session.begin():
        services.apply_credit(session, world.actors["sales_a"], payment.id, applied_on=dt.date(2026, 11, 22))
    company = world.companies["A"]
    with session_factory() as session:  # before: 1,900 invoiced - 1,800 paid = 100 open, all on the third
        assert _open(session, first, second, third) == [
            (D("0.00"), InvoiceStatus.PAID), (D("0.00"), InvoiceStatus.PAID), (D("100.00"), InvoiceStatus.PARTIALLY_PAID)]
        assert account_balance(session, company, "1122") == D("100.00")
        assert account_balance(session, company, "1002") == D("1800.00")
        assert account_balance(session, company, "2203") == D("0.00")
    row = position(session_factory, world)
    assert (row.open_invoices, row.unapplied_credit, row.exposure) == (D("100.00"), D("0.00"), D("100.00"))

    reversed_payment = _reverse(session_factory, world, payment.id)
    assert reversed_payment.reversed and reversed_payment.unapplied_amount == D("0.00")
    with session_factory() as session:
        assert _open(session, first, second, third) == [
            (D("1000.00"), InvoiceStatus.OPEN), (D("500.00"), InvoiceStatus.OPEN), (D("400.00"), InvoiceStatus.OPEN)]
        # one new entry: Cr bank 1,800, Dr receivables 1,000 + 500 + 300 (nothing was left unapplied)
        assert entry_lines(session, payment.id, "payment_reversal") == {"1002": D("-1800.00"), "1122": D("1800.00")}
        entry = session.scalars(select(JournalEntry).where(JournalEntry.source_type == "payment_reversal")).one()
        receipt = session.scalars(select(JournalEntry).where(JournalEntry.source_type == "payment",
                                                             JournalEntry.source_id == payment.id)).one()
        assert (entry.reverses_entry_id, entry.entry_date) == (receipt.id, dt.date(2026, 11, 25))
        assert account_balance(session, company, "1122") == D("1900.00")
        assert account_balance(session, company, "1002") == D("0.00")
        assert account_balance(session, company, "2203") == D("0.00")
        # receivables as of the 22nd still show what was open then; as of the 25th, all of it
        for day, open_then in ((dt.date(2026, 11, 22), D("100.00")), (dt.date(2026, 11, 25), D("1900.00")),
                               (dt.date(2026, 11, 19), D("1500.00"))):
            items = receivables.open_items(session, None, day)
            assert D(session.scalar(select(func.sum(items.c.amount)))) == open_then, day
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "customer_payment")).all()
        assert (event.action, event.entity_id, event.reason) == ("reverse", payment.id, "退票：出票人账户余额不足")
        assert event.changes["exposure"] == {"before": "100.00", "after": "1900.00"}
        assert event.changes["reversed"] == {"before": False, "after": True}
        reopened = session.scalars(select(AuditEvent).where(AuditEvent.entity == "customer_invoice")
                                   .order_by(AuditEvent.entity_id)).all()
        assert [(e.entity_id, e.action, e.changes["open_amount"]) for e in reopened] == [
            (first, "payment-reversed", {"before": "0.00", "after": "1000.00"}),
            (second, "payment-reversed", {"before": "0.00", "after": "500.00"}),
            (third, "payment-reversed", {"before": "100.00", "after": "400.00"})]
    row = position(session_factory, world)
    assert (row.open_invoices, row.unapplied_credit, row.exposure) == (D("1900.00"), D("0.00"), D("1900.00"))


def test_what_was_unapplied_comes_off_advances_and_the_reversal_is_refused_twice(
        session_factory: SF, world: World) -> None:
    invoice = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "1000.00")
    payment = pay(session_factory, world, "2500.00")  # 1,000 to the invoice, 1,500 kept as credit
    row = position(session_factory, world)
    assert (row.open_invoices, row.unapplied_credit) == (D("0.00"), D("1500.00"))
    _reverse(session_factory, world, payment.id, day=dt.date(2026, 11, 20))
    company = world.companies["A"]
    with session_factory() as session:
        assert entry_lines(session, payment.id, "payment_reversal") == {
            "1002": D("-2500.00"), "1122": D("1000.00"), "2203": D("1500.00")}
        assert (account_balance(session, company, "1122"), account_balance(session, company, "2203")) == (
            D("1000.00"), D("0.00"))
        assert _open(session, invoice) == [(D("1000.00"), InvoiceStatus.OPEN)]
    row = position(session_factory, world)
    assert (row.open_invoices, row.unapplied_credit, row.exposure) == (D("1000.00"), D("0.00"), D("1000.00"))

    before = row_counts(session_factory)
    with pytest.raises(CustomerPaymentReversed):
        _reverse(session_factory, world, payment.id, day=dt.date(2026, 11, 20))
    with pytest.raises(CustomerPaymentReversed):
        with session_factory() as session, session.begin():
            services.apply_credit(session, world.actors["sales_a"], payment.id, applied_on=dt.date(2026, 11, 21))
    assert row_counts(session_factory) == before


def test_refusals_write_nothing(session_factory: SF, world: World) -> None:
    history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "300.00")
    payment = pay(session_factory, world, "300.00", day=dt.date(2026, 11, 20))
    before = row_counts(session_factory)
    with pytest.raises(ValidationFailed):
        _reverse(session_factory, world, payment.id, reason="  ")
    with pytest.raises(ValidationFailed):
        _reverse(session_factory, world, payment.id, day=dt.date(2026, 11, 19))  # before the payment
    with pytest.raises(Forbidden):
        _reverse(session_factory, world, payment.id, user="credit")
    assert row_counts(session_factory) == before
    with session_factory() as session:
        assert session.get(Payment, payment.id).reversed_at is None  # type: ignore[union-attr]


def test_the_api_reverses_once_and_answers_problems(api: ApiClient, world: World, session_factory: SF) -> None:
    invoice = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "300.00")
    payment = pay(session_factory, world, "300.00", day=dt.date(2026, 11, 20))
    sales = api.as_("sales_a")
    path = f"/api/v1/payments/{payment.id}/reversal"
    problem(sales.post(path, json={"reversal_date": "2026-11-25"}), 422)
    problem(api.as_("cio").post(path, json={"reason": "x"}), 403, "read-only-role")
    done = sales.post(path, json={"reason": "退票", "reversal_date": "2026-11-25"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["reversed"], body["reversal_date"], body["reversal_reason"], body["unapplied_amount"]) == (
        True, "2026-11-25", "退票", "0.00")
    assert sales.get(f"/api/v1/invoices/{invoice}").get_json()["open_amount"] == "300.00"
    again = problem(sales.post(path, json={"reason": "退票", "reversal_date": "2026-11-25"}), 409,
                    "customer-payment-reversed")
    assert "退票" in again["detail"]
    problem(api.as_("sales_b").post(path, json={"reason": "x"}), 404)
