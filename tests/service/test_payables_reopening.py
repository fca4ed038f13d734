"""Nothing in payables is dated before the reversal that made it possible, on PostgreSQL,
every figure worked out by hand (docs/payables.md, *Dated before the reversal that made it
possible*).

The world is test_payables_payment_reversal's: standard 12.00 for EXC-LOCAL; one order of
company A to supplier S0001, line 1 100 kg and line 2 50 kg at 12.00, received on 20
November; VAT 13 %. INV-1 (line 1) 1,356.00 due 20 December, INV-2 (line 2) 678.00 due 30
November, both posted 20 November. 2202 Cr 2,034.00 before any payment.

Each refusal is checked against the AP ageing and 2202: on every day the ageing's total is
2202's credit balance, and no invoice is negative.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import DatedBeforeSource
from erp.payables import queries
from erp.payables.errors import DatedBeforeReopening, PaymentExceedsOpenItems
from erp.payables.models import DocumentKind, PaymentAllocation, SupplierInvoice, SupplierPayment
from erp.posting.models import JournalEntry, JournalLine
from tests.payables import NOV_20, enter
from tests.service.test_payables_payment_reversal import (  # noqa: F401 - fixture
    NOV_22, NOV_25, open_amounts, pay, reverse, two_invoices)
from tests.service.test_payables_reversal import reverse as reverse_invoice
from tests.stock import refused
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
AP = "2202"
NOV_18 = dt.date(2026, 11, 18)
NOV_26 = dt.date(2026, 11, 26)


def ledger(session: Session, company: int, day: dt.date) -> D:
    """2202's credit balance in the company's books on ``day``."""
    return -D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0))
                             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                             .where(JournalLine.company_id == company, JournalLine.account_code == AP,
                                    JournalEntry.entry_date <= day)))


def ageing_total(session: Session, world: World, day: dt.date) -> D:
    (row,) = queries.ageing(session, world.actors["ap_a"], day, by="group")
    return D(row["open_amount"])


def payments(session: Session) -> int:
    return session.scalar(select(func.count(SupplierPayment.id))) or 0


def test_a_payment_dated_before_an_earlier_payments_reversal_of_the_same_invoice_is_refused(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """P1 of 1,500.00 on 20 November (INV-2 678.00, INV-1 822.00; 534.00 open), reversed on 25
    November. A new payment of 2,034.00 of both dated 22 November would stand beside P1 on 22
    to 24 November: INV-1 1,356.00 - 822.00 - 1,356.00 = -822.00, INV-2 -678.00, 2202 Dr
    1,500.00. Refused 422 ``dated-before-reopening`` at /payment_date, naming INV-1 (paid
    1,356.00 of the 534.00 open on 22 November) and 25 November; nothing written. Without
    named invoices each is paid at most what was open on the date: on 22 November INV-2
    (due first, 678.00 open now) nothing, INV-1 534.00, so 534.01 is refused
    ``payment-exceeds-open-items`` (payable 534.00) and 534.00 pays INV-1 only (until 1
    December 2026 both invoices were skipped and nothing was payable). The other 1,500.00
    of both on 25 November posts: the ageing is 534.00 on 20 November, 0.00 on 22 and 25,
    each 2202's balance."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    p1 = pay(session_factory, world, "1500.00", [second, first])
    reverse(session_factory, world, p1, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "2034.00", [first, second], on=NOV_22)
    assert refusal.value.status == 422 and refusal.value.errors[0]["pointer"] == "/payment_date"
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert str(refusal.value.detail) == (
        "a supplier payment dated 2026-11-22 would pay 1356.00 of invoice INV-1, but only 534.00 of it is open to "
        "pay on 2026-11-22 and every day after: until 2026-11-25, the day supplier payment BANK-0001 was reversed, "
        "more of it was settled or credited")
    with refused(session_factory, PaymentExceedsOpenItems) as too_much:
        pay(session_factory, world, "534.01", None, on=NOV_22)
    assert too_much.value.extensions["payable"] == "534.00"
    auto = pay(session_factory, world, "534.00", None, on=NOV_22)
    with session_factory() as session:
        assert allocations(session, auto) == {first: D("534.00")}
        assert open_amounts(session, first, second) == [D("822.00"), D("678.00")]
    pay(session_factory, world, "1500.00", [first, second], on=NOV_25)
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("0.00"), D("0.00")]
        for day, expected in ((NOV_20, "534.00"), (NOV_22, "0.00"), (NOV_25, "0.00")):
            assert ageing_total(session, world, day) == ledger(session, company, day) == D(expected), day


def allocations(session: Session, payment_id: int) -> dict[int, D]:
    return {a.invoice_id: a.amount for a in session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id))}


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def test_a_payment_of_what_was_open_anyway_is_dated_before_the_reversal(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-1 1,356.00; P1 pays 822.00 of it on 20 November (534.00 open) and is reversed on
    25 November (the bank returned it). The 534.00 the bank paid on 22 November was open on
    22 November: dated 22 November it posts (until 1 December 2026 refused, to be dated 25
    November, which misstated 1002 and 2202 for three days). 535.00 dated 22 November would
    leave INV-1 at -1.00 on 22 to 24 November (1,356.00 - 822.00 - 535.00): refused 422
    ``dated-before-reopening`` naming INV-1, the 534.00 open then, P1 and 25 November. After
    the 534.00, INV-1 is 822.00 open, of which nothing on 24 November (P1 still settled
    822.00): 822.00 dated 24 November is refused, dated 25 November it posts. 2202 (INV-2's
    678.00 unpaid throughout) and the AP ageing, each day: 20 and 21 November 1,212.00
    (534.00 + 678.00), 22 to 26 November 678.00 (INV-1 1,356.00 - 822.00 - 534.00 = 0.00 on 22
    to 24; + 822.00 - 822.00 on 25)."""
    first, _, _ = two_invoices
    company = world.companies["A"]
    p1 = pay(session_factory, world, "822.00", [first])
    reverse(session_factory, world, p1, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "535.00", [first], on=NOV_22)
    assert refusal.value.errors[0]["pointer"] == "/payment_date"
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert str(refusal.value.detail) == (
        "a supplier payment dated 2026-11-22 would pay 535.00 of invoice INV-1, but only 534.00 of it is open to "
        "pay on 2026-11-22 and every day after: until 2026-11-25, the day supplier payment BANK-0001 was reversed, "
        "more of it was settled or credited")
    pay(session_factory, world, "534.00", [first], on=NOV_22)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("822.00")]
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "822.00", [first], on=dt.date(2026, 11, 24))
    assert "but only 0.00 of it is open to pay on 2026-11-24" in str(refusal.value.detail)
    pay(session_factory, world, "822.00", [first], on=NOV_25)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("0.00")]
        for day in _days(NOV_20, NOV_26):
            expected = D("1212.00") if day < NOV_22 else D("678.00")
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_all_of_the_invoice_is_paid_from_the_reversal_date_and_no_more_before_it(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """The same P1 (822.00 of INV-1 on 20 November, reversed on 25 November). All of INV-1,
    1,356.00, dated 22 November: refused (only 534.00 open then; earliest 25 November);
    dated 25 November it posts. 2202 and the ageing: 1,212.00 on 20 to 24 November (534.00
    + 678.00), 678.00 on 25 and 26 (INV-1 534.00 + 822.00 - 1,356.00 = 0.00)."""
    first, _, _ = two_invoices
    company = world.companies["A"]
    p1 = pay(session_factory, world, "822.00", [first])
    reverse(session_factory, world, p1, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "1356.00", [first], on=NOV_22)
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert "would pay 1356.00 of invoice INV-1, but only 534.00 of it is open to pay" in str(refusal.value.detail)
    pay(session_factory, world, "1356.00", [first], on=NOV_25)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("0.00")]
        for day in _days(NOV_20, NOV_26):
            expected = D("1212.00") if day < NOV_25 else D("678.00")
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_a_credit_memo_reversed_later_still_held_its_amount_on_the_days_before(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-1 1,356.00; P1 pays 822.00 of it on 20 November (534.00 open); CM-1 credits 20 kg
    of line 1 at 12.00 (240.00 + 31.20 = 271.20) on 21 November reducing it (262.80 open,
    ``applied_amount`` 271.20); P1 reversed on 25 November (1,084.80 open), CM-1 on 27
    November (1,356.00 open). Open to pay on 22 November: 1,356.00 - 822.00 - 271.20 =
    262.80; on 25 and 26: 1,356.00 - 271.20 = 1,084.80; from 27: 1,356.00. So on 22 November
    262.81 is refused naming P1 and 25 November (from then 1,084.80 is open), 1,084.81 naming
    CM-1 and 27 November; 262.80 posts. Then INV-1 is 1,093.20 open: 822.00 on 25 November
    posts (1,093.20 - 271.20); 271.20 on 26 November is refused (0.00 open to pay then: CM-1
    still credited it), on 27 it posts. 2202 and the ageing (INV-2's 678.00 unpaid): 20
    November 1,212.00 (534.00 + 678.00), 21 November 940.80 (262.80 + 678.00), 22 to 28
    November 678.00 (INV-1 0.00: 262.80 - 262.80; + 822.00 - 822.00 on 25; + 271.20 -
    271.20 on 27)."""
    first, _, _ = two_invoices
    company = world.companies["A"]
    nov_21, nov_26, nov_27 = dt.date(2026, 11, 21), NOV_26, dt.date(2026, 11, 27)
    p1 = pay(session_factory, world, "822.00", [first])
    memo = enter(session_factory, world, "CM-1", [(_line_of(session_factory, first), "20", "12.00")], net="240.00",
                 tax="31.20", kind=DocumentKind.CREDIT_MEMO, credits=first, on=nov_21)
    reverse(session_factory, world, p1, on=NOV_25)
    reverse_invoice(session_factory, world, memo, on=nov_27)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("1356.00")]
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "262.81", [first], on=NOV_22)
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert ("would pay 262.81 of invoice INV-1, but only 262.80 of it is open to pay on 2026-11-22 and every "
            "day after: until 2026-11-25, the day supplier payment BANK-0001 was reversed") in str(refusal.value.detail)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "1084.81", [first], on=NOV_22)
    assert refusal.value.extensions["earliest_date"] == "2026-11-27"
    assert ("would pay 1084.81 of invoice INV-1, but only 262.80 of it is open to pay on 2026-11-22 and every "
            "day after: until 2026-11-27, the day credit memo CM-1 was reversed") in str(refusal.value.detail)
    pay(session_factory, world, "262.80", [first], on=NOV_22)
    pay(session_factory, world, "822.00", [first], on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "271.20", [first], on=nov_26)
    assert ("but only 0.00 of it is open to pay on 2026-11-26 and every day after: until 2026-11-27"
            in str(refusal.value.detail))
    pay(session_factory, world, "271.20", [first], on=nov_27)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("0.00")]
        for day in _days(NOV_20, dt.date(2026, 11, 28)):
            expected = {NOV_20: D("1212.00"), nov_21: D("940.80")}.get(day, D("678.00"))
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_a_payment_dated_before_its_invoice_is_refused_and_skipped(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-1 was posted on 20 November: paid on 18 November it would be Dr 2202 on a day the
    ageing has no invoice (2202 Dr 1,356.00 on 18 and 19 November). Named: 422
    ``dated-before-source``; oldest due first: nothing payable on 18 November."""
    first, _, _ = two_invoices
    with refused(session_factory, DatedBeforeSource) as refusal:
        pay(session_factory, world, "1356.00", [first], on=NOV_18)
    assert refusal.value.errors[0]["pointer"] == "/payment_date"
    assert "is before invoice INV-1, dated 2026-11-20" in str(refusal.value.detail)
    with refused(session_factory, PaymentExceedsOpenItems):
        pay(session_factory, world, "100.00", None, on=NOV_18)
    with session_factory() as session:
        assert payments(session) == 0


def test_an_invoice_is_not_reversed_before_the_reversal_of_the_payment_that_settled_it(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """P of 678.00 settles INV-2 on 20 November and is reversed on 25 November. INV-2 reversed
    on 22 November would leave P standing on 22 to 24 November with no invoice: the ageing
    1,356.00 (INV-1) while 2202 is Cr 678.00 (2,034.00 - 678.00 - 678.00). Refused; reversed
    on 25 November, the ageing is 1,356.00 on 22 November (2,034.00 - 678.00) and on 25."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    payment = pay(session_factory, world, "678.00", [second])
    reverse(session_factory, world, payment, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        reverse_invoice(session_factory, world, second, on=NOV_22)
    assert refusal.value.errors[0]["pointer"] == "/reversal_date"
    assert "the day supplier payment BANK-0001 was reversed" in str(refusal.value.detail)
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, second)
        assert invoice is not None and not invoice.reversed and invoice.open_amount == D("678.00")
    reverse_invoice(session_factory, world, second, on=NOV_25)
    with session_factory() as session:
        for day, expected in ((NOV_20, "1356.00"), (NOV_22, "1356.00"), (NOV_25, "1356.00")):
            assert ageing_total(session, world, day) == ledger(session, company, day) == D(expected), day
    assert first


def test_an_invoice_is_not_reversed_before_the_reversal_of_the_credit_memo_that_freed_it(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """CM-1 credits 20 kg of line 1 at 12.00 (240.00 + 31.20 = 271.20) on 20 November,
    reducing INV-1 to 1,084.80, and is reversed on 25 November. INV-1 reversed on 22 November
    would leave CM-1 standing alone on 22 to 24 November (-271.20 in the ageing, 20 kg credited
    of 0 invoiced on line 1). Refused; reversed on 25 November it is."""
    first, _, _ = two_invoices
    line = _line_of(session_factory, first)
    memo = enter(session_factory, world, "CM-1", [(line, "20", "12.00")], net="240.00", tax="31.20",
                 kind=DocumentKind.CREDIT_MEMO, credits=first)
    reverse_invoice(session_factory, world, memo, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        reverse_invoice(session_factory, world, first, on=NOV_22)
    assert "the day credit memo CM-1 was reversed" in str(refusal.value.detail)
    reverse_invoice(session_factory, world, first, on=NOV_25)
    with session_factory() as session:
        for day, expected in ((NOV_22, "1762.80"), (NOV_25, "678.00")):
            assert ageing_total(session, world, day) == ledger(session, company := world.companies["A"],
                                                                 day) == D(expected), (day, company)


def test_a_credit_memo_is_not_dated_before_the_payment_reversal_that_reopened_its_invoice(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """P settles all of INV-2 (678.00) on 20 November, reversed on 25 November. CM-2 crediting
    10 kg of line 2 (120.00 + 15.60 = 135.60) and reducing INV-2, dated 22 November, would
    take 135.60 off an invoice P still settled: INV-2 -135.60 in the ageing of 22 November.
    Refused (422 ``dated-before-reopening`` at /posting_date), and before the invoice's own
    date (18 November: ``dated-before-source``); on 25 November it posts, INV-2 542.40 open,
    and the ageing is 1,356.00 on 22 November, 1,898.40 on 25."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    line = _line_of(session_factory, second)
    payment = pay(session_factory, world, "678.00", [second])
    reverse(session_factory, world, payment, on=NOV_25)

    def memo(on: dt.date) -> int:
        return enter(session_factory, world, "CM-2", [(line, "10", "12.00")], net="120.00", tax="15.60",
                     kind=DocumentKind.CREDIT_MEMO, credits=second, on=on)

    with refused(session_factory, DatedBeforeReopening) as refusal:
        memo(NOV_22)
    assert refusal.value.errors[0]["pointer"] == "/posting_date"
    with refused(session_factory, DatedBeforeSource):
        memo(NOV_18)
    memo(NOV_25)
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("1356.00"), D("542.40")]
        for day, expected in ((NOV_22, "1356.00"), (NOV_25, "1898.40")):
            assert ageing_total(session, world, day) == ledger(session, company, day) == D(expected), day


def test_a_credit_memo_dated_before_a_payment_reversal_posts_what_was_open_on_its_date(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-1 1,356.00; P1 pays 822.00 of it on 20 November (534.00 open) and is reversed on
    25 November. A credit memo is decided as a payment is (``open_on``): what it takes off
    INV-1 must have been open on its posting date and every day after. Until 1 December 2026
    any memo dated before 25 November was refused outright, although a payment of the same
    amount on the same day posted.

    - CM-BIG, 50 kg of line 1 at 12.00 (600.00 + 78.00 = 678.00) dated 22 November: 678.00
      is more than the 534.00 open on 22 November (1,356.00 - 822.00): refused 422
      ``dated-before-reopening`` at /posting_date, naming 534.00, P1 and 25 November
      (``earliest_date``; from then 1,356.00 is open); nothing written.
    - CM-1, 20 kg (240.00 + 31.20 = 271.20) dated 22 November: fits in the 534.00, posts;
      ``applied_amount`` 271.20, INV-1 1,084.80 open now.
    - CM-2, 50 kg (678.00) dated 24 November: only 262.80 open then (534.00 - 271.20):
      refused naming 262.80 and 25 November; dated 25 November (1,356.00 - 271.20 = 1,084.80
      open) it posts, INV-1 406.80 open (1,084.80 - 678.00).

    2202 and the AP ageing (INV-2's 678.00 unpaid): 20 and 21 November 1,212.00 (534.00 +
    678.00); 22 to 24 November 940.80 (262.80 + 678.00); 25 and 26 November 1,084.80 (406.80
    + 678.00): P1's reversal Cr 822.00 and CM-2 Dr 678.00 on 25."""
    first, _, _ = two_invoices
    company = world.companies["A"]
    line = _line_of(session_factory, first)
    p1 = pay(session_factory, world, "822.00", [first])
    reverse(session_factory, world, p1, on=NOV_25)

    def memo(number: str, kg: str, net: str, tax: str, on: dt.date) -> int:
        return enter(session_factory, world, number, [(line, kg, "12.00")], net=net, tax=tax,
                     kind=DocumentKind.CREDIT_MEMO, credits=first, on=on)

    with refused(session_factory, DatedBeforeReopening) as refusal:
        memo("CM-BIG", "50", "600.00", "78.00", NOV_22)
    assert refusal.value.errors[0]["pointer"] == "/posting_date"
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert refusal.value.extensions["open_on_date"] == "534.00"
    assert str(refusal.value.detail) == (
        "a credit memo dated 2026-11-22 would take 678.00 off invoice INV-1, but only 534.00 of it is open on "
        "2026-11-22 and every day after: until 2026-11-25, the day supplier payment BANK-0001 was reversed, more of "
        "it was settled or credited")
    with session_factory() as session:
        assert session.scalar(select(func.count(SupplierInvoice.id)).where(SupplierInvoice.number == "CM-BIG")) == 0
        assert open_amounts(session, first) == [D("1356.00")]
    cm1 = memo("CM-1", "20", "240.00", "31.20", NOV_22)
    with session_factory() as session:
        posted = session.get(SupplierInvoice, cm1)
        assert posted is not None and posted.applied_amount == D("271.20") and posted.open_amount == D("0.00")
        assert open_amounts(session, first) == [D("1084.80")]
    with refused(session_factory, DatedBeforeReopening) as refusal:
        memo("CM-2", "50", "600.00", "78.00", dt.date(2026, 11, 24))
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert "would take 678.00 off invoice INV-1, but only 262.80 of it is open on 2026-11-24" in str(
        refusal.value.detail)
    memo("CM-2", "50", "600.00", "78.00", NOV_25)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("406.80")]
        for day in _days(NOV_20, NOV_26):
            expected = D("1212.00") if day < NOV_22 else D("940.80") if day < NOV_25 else D("1084.80")
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_a_credit_memo_dated_before_another_memos_reversal_fits_what_was_open_then(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-2 678.00 (line 2, 50 kg at 12.00). P pays 406.80 of it on 20 November and stands;
    CM-A credits 10 kg (120.00 + 15.60 = 135.60) on 20 November reducing it to 135.60, and
    is reversed on 25 November (271.20 open now). CM-B of 20 kg (240.00 + 31.20 = 271.20)
    dated 22 November fits on the line (40 kg invoiced then) but takes 271.20 off an invoice
    with 135.60 open on 22 to 24 November (INV-2 -135.60 in the ageing): refused naming
    135.60, CM-A and 25 November. CM-C of 10 kg (135.60) dated 22 November fits: it posts,
    INV-2 0.00 on 22 to 24 November, 135.60 from 25 November. The ageing is 2202 every day:
    INV-1's 1,356.00 plus INV-2's 135.60 on 20 and 21, 0.00 on 22 to 24, 135.60 on 25 and
    26."""
    first, second, _ = two_invoices
    company = world.companies["A"]
    line = _line_of(session_factory, second)

    def memo(number: str, kg: str, net: str, tax: str, on: dt.date) -> int:
        return enter(session_factory, world, number, [(line, kg, "12.00")], net=net, tax=tax,
                     kind=DocumentKind.CREDIT_MEMO, credits=second, on=on)

    pay(session_factory, world, "406.80", [second])
    cm_a = memo("CM-A", "10", "120.00", "15.60", NOV_20)
    reverse_invoice(session_factory, world, cm_a, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        memo("CM-B", "20", "240.00", "31.20", NOV_22)
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    assert ("would take 271.20 off invoice INV-2, but only 135.60 of it is open on 2026-11-22 and every day after: "
            "until 2026-11-25, the day credit memo CM-A was reversed") in str(refusal.value.detail)
    memo("CM-C", "10", "120.00", "15.60", NOV_22)
    with session_factory() as session:
        assert open_amounts(session, first, second) == [D("1356.00"), D("135.60")]
        for day in _days(NOV_20, NOV_26):
            expected = D("1356.00") if NOV_22 <= day < NOV_25 else D("1491.60")
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_a_credit_memo_is_not_reversed_before_the_reversal_of_the_invoice_that_invoiced_its_goods_again(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """CM-1 credits all 100 kg of INV-1 (1,356.00) on 20 November; INV-3 invoices them again
    and is reversed on 25 November. CM-1 reversed on 22 November would make 200 kg invoiced on
    a line of 100 on 22 to 24 November (INV-1 and INV-3 standing): refused; on 25 it is."""
    first, _, _ = two_invoices
    line = _line_of(session_factory, first)
    memo = enter(session_factory, world, "CM-1", [(line, "100", "12.00")], net="1200.00", tax="156.00",
                 kind=DocumentKind.CREDIT_MEMO)
    again = enter(session_factory, world, "INV-3", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    reverse_invoice(session_factory, world, again, on=NOV_25)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        reverse_invoice(session_factory, world, memo, on=NOV_22)
    assert "the day invoice INV-3 was reversed" in str(refusal.value.detail)
    reverse_invoice(session_factory, world, memo, on=NOV_26)


def _line_of(session_factory: sessionmaker[Session], invoice_id: int) -> int:
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None
        return invoice.lines[0].po_line_id



def test_an_invoice_or_credit_memo_is_not_dated_before_the_reversal_that_freed_its_quantity(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """INV-1 invoices all 100 kg of line 1 on 20 November and is reversed on 25 November.
    INV-3 for the same 100 kg dated 22 November would make 200 kg invoiced of 100 on 22 to 24
    November (GR/IR Dr 1,200.00 too much): refused 422 ``dated-before-reopening`` naming 25
    November; dated 25 November it posts. Then CM-1 credits the 100 kg on 25 November and is
    reversed on 27 November: CM-2 for the same 100 kg dated 26 November would credit 200 kg
    of 100 invoiced on 26 November: refused; dated 27 November it posts. A credit memo of
    line 2 dated 18 November, before INV-2 (20 November) invoiced it: ``dated-before-source``."""
    first, second, _ = two_invoices
    line = _line_of(session_factory, first)
    reverse_invoice(session_factory, world, first, on=NOV_25)

    def again(number: str, on: dt.date, kind: DocumentKind = DocumentKind.INVOICE) -> int:
        return enter(session_factory, world, number, [(line, "100", "12.00")], net="1200.00", tax="156.00",
                     on=on, kind=kind)

    with refused(session_factory, DatedBeforeReopening) as refusal:
        again("INV-3", NOV_22)
    assert refusal.value.errors[0]["pointer"] == "/posting_date"
    assert refusal.value.extensions["earliest_date"] == "2026-11-25"
    # the reversed invoice named once, by our number with the supplier's beside, and what it held
    assert str(refusal.value.detail) == (
        "an invoice dated 2026-11-22 is before 2026-11-25, the day invoice AP-CA-2026-000001 (INV-1) was reversed: "
        "until that reversal, that invoice still took up the quantity of EXC-STAR EXC-STAR on order PO-A-0001 that "
        "this one needs")
    again("INV-3", NOV_25)
    memo = again("CM-1", NOV_25, DocumentKind.CREDIT_MEMO)
    reverse_invoice(session_factory, world, memo, on=dt.date(2026, 11, 27))
    with refused(session_factory, DatedBeforeReopening) as refusal:
        again("CM-2", NOV_26, DocumentKind.CREDIT_MEMO)
    assert str(refusal.value.detail) == (
        "a credit memo dated 2026-11-26 is before 2026-11-27, the day credit memo CM-CA-2026-000001 (CM-1) was "
        "reversed: until that reversal, that credit memo still took up the quantity of EXC-STAR EXC-STAR on order "
        "PO-A-0001 that this one needs")
    again("CM-2", dt.date(2026, 11, 27), DocumentKind.CREDIT_MEMO)
    # INV-2 invoiced line 2's 50 kg on 20 November: a memo of them dated 18 November credits
    # what was not invoiced yet (-50 kg invoiced on 18 and 19 November)
    with refused(session_factory, DatedBeforeSource) as refusal:
        enter(session_factory, world, "CM-3", [(_line_of(session_factory, second), "50", "12.00")], net="600.00",
              tax="78.00", on=NOV_18, kind=DocumentKind.CREDIT_MEMO)
    assert "INV-2" in str(refusal.value.detail)
