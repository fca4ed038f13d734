"""Reversing (冲销) a supplier payment, on PostgreSQL, with every figure worked out by hand in
the test (docs/payables.md, *Reversing a payment*).

The world of every test: standard 12.00 for EXC-LOCAL; one order of company A to supplier
S0001 with two lines, 100 kg and 50 kg at 12.00, both received on 20 November; VAT 13 %.
INV-1 (line 1): net 1,200.00, VAT 156.00, total 1,356.00, due 20 December. INV-2 (line 2):
net 600.00, VAT 78.00, total 678.00, due 30 November. Payment of 1,500.00 on 20 November,
INV-2 first: INV-2 678.00 (open 0.00), INV-1 822.00 (open 534.00); Dr 2202 1,500.00, Cr 1002
1,500.00. Accounts payable (2202) before it: Cr 2,034.00; after it: Cr 534.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.auth.errors import RoleNotAllowed
from erp.costing.close import close_period
from erp.costing.reports import trial_balance
from erp.errors import DatedAfterBusinessDay, NotFound, ValidationFailed
from erp.payables import queries, services
from erp.payables.errors import PaymentExceedsOpenItems, PaymentReversed
from erp.payables.models import DocumentKind, SupplierInvoice, SupplierPayment
from erp.posting.errors import PeriodClosed
from erp.posting.models import JournalEntry, JournalLine
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.service.test_payables_reversal import books
from tests.stock import open_order, receive, refused, return_goods, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
AP, BANK, STOCK, VAT = "2202", "1002", "1403", "2221.01.01"
NOV_22 = dt.date(2026, 11, 22)
NOV_25 = dt.date(2026, 11, 25)
NOV_30 = dt.date(2026, 11, 30)
DEC_10 = dt.date(2026, 12, 10)
DEC_15 = dt.date(2026, 12, 15)  # the tests' business day


@pytest.fixture
def two_invoices(session_factory: sessionmaker[Session], world: World) -> tuple[int, int, list[int]]:
    """(INV-1, INV-2, the two receipts' document ids)."""
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    lines = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB"),
                                                ("exc_local", "50", "12.00", "A-AMB")])
    receipts = [receive(session_factory, world, lines[0], "100", batch="B-001"),
                receive(session_factory, world, lines[1], "50", batch="B-002")]
    first = enter(session_factory, world, "INV-1", [(lines[0], "100", "12.00")], net="1200.00", tax="156.00")
    second = enter(session_factory, world, "INV-2", [(lines[1], "50", "12.00")], net="600.00", tax="78.00",
                   due=NOV_30)
    return first, second, receipts


def pay(session_factory: sessionmaker[Session], world: World, amount: str, invoice_ids: list[int] | None, *,
        on: dt.date = NOV_20, user: str = "ap_a") -> int:
    with session_factory() as session, session.begin():
        return services.pay_supplier(session, world.actors[user], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=on,
            amount=D(amount), invoice_ids=invoice_ids, reference="BANK-0001")).id


def reverse(session_factory: sessionmaker[Session], world: World, payment_id: int, *, on: dt.date = NOV_25,
            user: str = "ap_a", reason: str = "returned by the bank: wrong account") -> SupplierPayment:
    with session_factory() as session, session.begin():
        payment = services.reverse_payment(session, world.actors[user], payment_id, reason=reason,
                                           reversal_date=on)
        session.expunge(payment)
        return payment


def open_amounts(session: Session, *invoice_ids: int) -> list[D]:
    return [session.get(SupplierInvoice, i, populate_existing=True).open_amount  # type: ignore[union-attr]
            for i in invoice_ids]


def ageing(session: Session, world: World, as_of: dt.date) -> dict[str, D]:
    (row,) = queries.ageing(session, world.actors["ap_a"], as_of, by="group")
    return {key: D(row[key]) for key in ("open_amount", "overdue", "not_due", "days_1_30")}


def reversal_lines(session: Session, payment_id: int) -> dict[str, D]:
    return {account: D(amount) for account, amount in session.execute(
        select(JournalLine.account_code, JournalLine.amount)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.source_type == services.SOURCE_PAYMENT_REVERSAL, JournalEntry.source_id == payment_id))}


def test_a_payment_of_two_invoices_reversed_in_its_own_period_opens_both_again_to_the_cent(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """Reversed on 25 November: Dr 1002 1,500.00, Cr 2202 1,500.00 (the payment's entry
    negated). INV-1 open 534.00 + 822.00 = 1,356.00, INV-2 0.00 + 678.00 = 678.00; 2202 Cr
    2,034.00 again, 1002 0.00. The ageing: on 20 and 22 November 534.00 open (the payment
    stands), on 25 November 2,034.00; on 15 December INV-2 is 15 days past due (678.00 in
    1-30) and INV-1 not due (1,356.00). Then the invoices are paid again in full."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("534.00"), D("0.00")]
        assert books(session, company) == {STOCK: D("1800.00"), VAT: D("234.00"), AP: D("-534.00"),
                                           BANK: D("-1500.00")}
    payment = reverse(session_factory, world, payment_id)
    assert (payment.reversed, payment.reversal_date, payment.reversal_reason) == (
        True, NOV_25, "returned by the bank: wrong account")
    with session_factory() as session:
        entry = session.get(JournalEntry, payment.reversal_entry_id)
        assert entry is not None
        assert (entry.entry_date, entry.period, entry.reverses_entry_id, entry.source_type) == (
            NOV_25, "2026-11", payment.entry_id, "supplier_payment_reversal")
        assert reversal_lines(session, payment_id) == {BANK: D("1500.00"), AP: D("-1500.00")}
        assert open_amounts(session, first, second) == [D("1356.00"), D("678.00")]
        # 1002: -1,500.00 + 1,500.00; GR/IR cleared by the invoices (1,800.00 each way)
        assert books(session, company) == {STOCK: D("1800.00"), VAT: D("234.00"), AP: D("-2034.00")}
        assert trial_balance(session, world.actors["cost_a"], company_id=company, period="2026-11").balanced
        # the allocations stay on the reversed payment, as they were
        stored = session.get(SupplierPayment, payment_id)
        assert stored is not None
        assert [(a.invoice_id, a.amount) for a in stored.allocations] == [(second, D("678.00")), (first, D("822.00"))]
        assert ageing(session, world, NOV_20) == {"open_amount": D("534.00"), "overdue": D("0.00"),
                                                  "not_due": D("534.00"), "days_1_30": D("0.00")}
        assert ageing(session, world, NOV_22)["open_amount"] == D("534.00")
        assert ageing(session, world, NOV_25)["open_amount"] == D("2034.00")
        assert ageing(session, world, DEC_15) == {"open_amount": D("2034.00"), "overdue": D("678.00"),
                                                  "not_due": D("1356.00"), "days_1_30": D("678.00")}
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "supplier_payment",
                                                         AuditEvent.action == "reverse")).one()
        assert event.reason == "returned by the bank: wrong account"
        assert str(first) in str(event.changes) and "1356.00" in str(event.changes)
    # the invoices are paid again, in full: nothing open, 2202 0.00, 1002 Cr 2,034.00
    pay(session_factory, world, "2034.00", None, on=NOV_30)
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("0.00"), D("0.00")]
        assert books(session, company) == {STOCK: D("1800.00"), VAT: D("234.00"), BANK: D("-2034.00")}
        assert ageing(session, world, NOV_25)["open_amount"] == D("2034.00")
        assert ageing(session, world, DEC_15)["open_amount"] == D("0.00")


def test_a_payment_reversed_after_its_period_closed_posts_the_mirror_in_the_open_period(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """November closed with the payment standing: 2202 Cr 534.00, 1002 Cr 1,500.00 in
    November. A reversal dated 28 November is refused (period-closed); dated 10 December it
    posts Dr 1002 1,500.00, Cr 2202 1,500.00 in December. November's figures stay as they
    were: the ageing on 30 November 534.00 (INV-1, not due) and INV-2 paid; on 10 December
    2,034.00 (INV-2 10 days past due, 678.00 in 1-30)."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with refused(session_factory, PeriodClosed):
        reverse(session_factory, world, payment_id, on=dt.date(2026, 11, 28))
    payment = reverse(session_factory, world, payment_id, on=DEC_10)
    with session_factory() as session:
        entry = session.get(JournalEntry, payment.reversal_entry_id)
        assert entry is not None and (entry.entry_date, entry.period) == (DEC_10, "2026-12")
        assert reversal_lines(session, payment_id) == {BANK: D("1500.00"), AP: D("-1500.00")}
        november = {line["account_code"]: line["credit"] for line in trial_balance(
            session, world.actors["cost_a"], company_id=company, period="2026-11").lines}
        assert (november[AP], november[BANK]) == (D("534.00"), D("1500.00"))
        december = {line["account_code"]: line["credit"] for line in trial_balance(
            session, world.actors["cost_a"], company_id=company, period="2026-12").lines}
        assert december[AP] == D("2034.00") and BANK not in december
        assert books(session, company) == {STOCK: D("1800.00"), VAT: D("234.00"), AP: D("-2034.00")}
        assert open_amounts(session, first, second) == [D("1356.00"), D("678.00")]
        assert ageing(session, world, NOV_30) == {"open_amount": D("534.00"), "overdue": D("0.00"),
                                                  "not_due": D("534.00"), "days_1_30": D("0.00")}
        assert ageing(session, world, DEC_10) == {"open_amount": D("2034.00"), "overdue": D("678.00"),
                                                  "not_due": D("1356.00"), "days_1_30": D("678.00")}


def test_an_invoice_credited_after_the_payment_gets_back_only_what_the_payment_settled(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """After the payment, 20 kg of line 1 go back and CM-1 credits them on INV-1 (240.00 +
    31.20 VAT = 271.20 off INV-1's open 534.00: 262.80). The payment's reversal gives INV-1
    back its 822.00: 1,084.80 = 1,356.00 - 271.20, what is owed on it. The credit memo stands."""
    first, second, receipts = two_invoices
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    document = return_goods(session_factory, world, receipts[0], "20")
    with session_factory() as session:
        po_line = session.get(SupplierInvoice, first).lines[0].po_line_id  # type: ignore[union-attr]
    enter(session_factory, world, "CM-1", [(po_line, "20", "12.00")], net="240.00", tax="31.20",
          kind=DocumentKind.CREDIT_MEMO, returns=[document], credits=first)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("262.80")]
    reverse(session_factory, world, payment_id)
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("1084.80"), D("678.00")]
        assert books(session, world.companies["A"])[AP] == D("-1762.80")  # 2,034.00 - 271.20


def test_a_paid_invoice_is_reversed_once_its_payment_is(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    first, second, _ = two_invoices
    payment_id = pay(session_factory, world, "678.00", [second])
    from erp.payables.errors import InvoiceSettled
    with refused(session_factory, InvoiceSettled) as refusal:
        with session_factory() as session, session.begin():
            services.reverse_invoice(session, world.actors["ap_a"], second, reason="wrong price",
                                     reversal_date=NOV_25)
    assert "reverse the payment first, or correct the invoice with a credit memo" in str(refusal.value.detail)
    reverse(session_factory, world, payment_id)
    with session_factory() as session, session.begin():
        services.reverse_invoice(session, world.actors["ap_a"], second, reason="wrong price", reversal_date=NOV_25)
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("1356.00"), D("0.00")]
        assert books(session, world.companies["A"])[AP] == D("-1356.00")
        # before the payment, between payment and reversals, after them
        assert ageing(session, world, NOV_20)["open_amount"] == D("1356.00")
        assert ageing(session, world, NOV_25)["open_amount"] == D("1356.00")
        assert ageing(session, world, NOV_22)["open_amount"] == D("1356.00")
    # and nothing is paid on the reversed invoice any more
    with refused(session_factory, PaymentExceedsOpenItems):
        pay(session_factory, world, "2034.00", None, on=NOV_30)


def test_the_payment_reversal_refusals_write_nothing(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    first, second, _ = two_invoices
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    with refused(session_factory, NotFound) as refusal:
        reverse(session_factory, world, payment_id, user="ap_b")  # company B's accountant
    assert refusal.value.status == 404
    with refused(session_factory, NotFound):
        reverse(session_factory, world, 999999)
    with refused(session_factory, RoleNotAllowed) as refusal:
        reverse(session_factory, world, payment_id, user="cost_a")
    assert refusal.value.status == 403
    with refused(session_factory, ValidationFailed) as refusal:
        reverse(session_factory, world, payment_id, reason="   ")
    assert refusal.value.status == 422 and refusal.value.errors[0]["pointer"] == "/reason"
    with refused(session_factory, ValidationFailed) as refusal:
        reverse(session_factory, world, payment_id, on=dt.date(2026, 11, 19))
    assert refusal.value.status == 422 and refusal.value.errors[0]["pointer"] == "/reversal_date"
    with refused(session_factory, DatedAfterBusinessDay) as refusal:
        reverse(session_factory, world, payment_id, on=DEC_15 + dt.timedelta(days=1))
    assert refusal.value.status == 422 and refusal.value.errors[0]["pointer"] == "/reversal_date"
    with session_factory() as session:
        payment = session.get(SupplierPayment, payment_id)
        assert payment is not None and not payment.reversed
        assert open_amounts(session, first, second) == [D("534.00"), D("0.00")]
    reverse(session_factory, world, payment_id)
    with refused(session_factory, PaymentReversed) as refusal:
        reverse(session_factory, world, payment_id, user="ap_a2")
    assert refusal.value.status == 409
    # sent again with a date it could never have had: the answer is still that it is reversed
    with refused(session_factory, PaymentReversed) as refusal:
        reverse(session_factory, world, payment_id, on=dt.date(2026, 11, 19))
    assert refusal.value.status == 409
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("1356.00"), D("678.00")]


def test_each_invoice_a_payment_reversal_reopens_has_its_own_audit_row(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """The reversal of BANK-0001 (1,500.00: INV-2 678.00, INV-1 822.00) on 25 November writes,
    besides the payment's row, one row on each invoice it reopened (entity
    ``supplier_invoice``, action ``payment-reversed``), as a credit memo's reversal does on the
    invoice it reduced: INV-2 0.00 -> 678.00, INV-1 534.00 -> 1,356.00, the reason naming the
    payment. An invoice the payment did not settle gets none."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    payment_id = pay(session_factory, world, "1500.00", [second, first])
    reverse(session_factory, world, payment_id)
    with session_factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.entity == "supplier_invoice")
                               .order_by(AuditEvent.id)).all()
        assert [(r.entity_id, r.action, r.actor_id, r.company_id, r.changes, r.reason) for r in rows] == [
            (second, "payment-reversed", world.users["ap_a"], company,
             {"open_amount": {"before": "0.00", "after": "678.00"}},
             "reversal of supplier payment BANK-0001: returned by the bank: wrong account"),
            (first, "payment-reversed", world.users["ap_a"], company,
             {"open_amount": {"before": "534.00", "after": "1356.00"}},
             "reversal of supplier payment BANK-0001: returned by the bank: wrong account"),
        ]
    # a payment of INV-2 alone, reversed: INV-1 gets no row
    again = pay(session_factory, world, "678.00", [second], on=NOV_25)
    reverse(session_factory, world, again, on=NOV_30, reason="paid twice")
    with session_factory() as session:
        latest = session.scalars(select(AuditEvent).where(AuditEvent.entity == "supplier_invoice")
                                 .order_by(AuditEvent.id.desc())).first()
        assert latest is not None and (latest.entity_id, latest.changes, latest.reason) == (
            second, {"open_amount": {"before": "0.00", "after": "678.00"}},
            "reversal of supplier payment BANK-0001: paid twice")
        assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity == "supplier_invoice")) == 3


def test_a_credit_memo_applied_in_part_ages_in_its_own_bucket_and_its_invoices_until_its_reversal(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-2 (678.00, due 30 November) paid 600.00 on 20 November: 78.00 open. CM-2 credits 10
    kg of line 2 (120.00 + 15.60 = 135.60, due 31 December) on 20 November, reducing INV-2:
    it applies 78.00 (all that was open) and keeps 57.60 open. CM-2 reversed on 10 December
    gives INV-2 its 78.00 back (applied_amount 78.00, open 0.00).

    Ageing of 5 December (between the memo and its reversal), by hand: INV-1 1,356.00 not
    due (20 December); INV-2 678.00 - 600.00 - 78.00 = 0.00; CM-2 -57.60 not due. Open
    1,298.40 = 2202 (2,034.00 - 600.00 - 135.60), all not due, nothing 1-30. (Without the
    applied amount: INV-2 78.00 in 1-30 and CM-2 -135.60 not due.) Of 10 December: INV-2
    78.00 in 1-30 (10 days), INV-1 1,356.00 not due: 1,434.00 = 2202 (2,034.00 - 600.00)."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    pay(session_factory, world, "600.00", [second])
    with session_factory() as session:
        line = session.get(SupplierInvoice, second).lines[0].po_line_id  # type: ignore[union-attr]
    memo = enter(session_factory, world, "CM-2", [(line, "10", "12.00")], net="120.00", tax="15.60",
                 kind=DocumentKind.CREDIT_MEMO, credits=second, due=dt.date(2026, 12, 31))
    with session_factory() as session:
        stored = session.get(SupplierInvoice, memo)
        assert stored is not None and (stored.applied_amount, stored.open_amount) == (D("78.00"), D("57.60"))
    with session_factory() as session, session.begin():
        services.reverse_invoice(session, world.actors["ap_a"], memo, reason="wrong invoice", reversal_date=DEC_10)
    with session_factory() as session:
        stored = session.get(SupplierInvoice, memo)
        assert stored is not None and (stored.applied_amount, stored.open_amount) == (D("78.00"), D("0.00"))
        assert open_amounts(session, first, second) == [D("1356.00"), D("78.00")]

        def ledger(day: dt.date) -> D:  # 2202's credit balance on the day
            return -D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0))
                                     .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                                     .where(JournalLine.company_id == company, JournalLine.account_code == AP,
                                            JournalEntry.entry_date <= day)))

        dec_5 = dt.date(2026, 12, 5)
        assert ageing(session, world, dec_5) == {"open_amount": D("1298.40"), "overdue": D("0.00"),
                                                 "not_due": D("1298.40"), "days_1_30": D("0.00")}
        assert ledger(dec_5) == D("1298.40")
        assert ageing(session, world, DEC_10) == {"open_amount": D("1434.00"), "overdue": D("78.00"),
                                                  "not_due": D("1356.00"), "days_1_30": D("78.00")}
        assert ledger(DEC_10) == D("1434.00")
        by_supplier = {row["supplier_code"]: row for row in queries.ageing(session, world.actors["ap_a"], dec_5)}
        assert [D(row["not_due"]) for row in by_supplier.values()] == [D("1298.40")]
