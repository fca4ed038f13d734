"""What a back-dated supplier payment may pay of an invoice, on PostgreSQL, every figure
worked out by hand (docs/payables.md, *Dated before the reversal that made it possible*).

The world is test_payables_payment_reversal's: INV-1 (order line 1, 100 kg at 12.00, VAT 13
%) 1,356.00 due 20 December and INV-2 (line 2, 50 kg) 678.00 due 30 November, both posted
20 November; 2202 Cr 2,034.00 before any payment.

The rule: a payment dated D may pay of an invoice at most the least it had open on any day
from D on, counting on each day the payments and credit memos posted by then and not yet
reversed then. That is what was open on D (a later payment or memo did not stand on D),
never more than is open now (the last of those days), and never more than on a day in
between (the invoice would be negative in the AP ageing and in 2202 on it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.payables.errors import DatedBeforeReopening, PaymentExceedsOpenItems
from tests.service.test_payables_payment_reversal import (  # noqa: F401 - fixture
    NOV_22, NOV_25, open_amounts, pay, reverse, two_invoices)
from tests.service.test_payables_reopening import _days, ageing_total, allocations, ledger, payments
from tests.payables import NOV_20
from tests.stock import refused
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
NOV_21 = dt.date(2026, 11, 21)
NOV_23 = dt.date(2026, 11, 23)
NOV_26 = dt.date(2026, 11, 26)
NOV_28 = dt.date(2026, 11, 28)


def _paid_reversed_and_paid_again(session_factory: sessionmaker[Session], world: World, first: int) -> None:
    """P1 822.00 of INV-1 on 20 November, reversed on 25 November; P2 822.00 of INV-1 on 26
    November. INV-1 open now 534.00; open on 22 to 24 November 534.00 (P1 stood), on 25
    November 1,356.00, from 26 November 534.00 (P2 stands)."""
    p1 = pay(session_factory, world, "822.00", [first])
    reverse(session_factory, world, p1, on=NOV_25)
    pay(session_factory, world, "822.00", [first], on=NOV_26)


def test_a_payment_posted_after_the_back_dated_payment_does_not_count_on_its_date_twice(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """The bank paid 534.00 of INV-1 on 22 November (booked on the 28th). On 22 November
    INV-1 had 534.00 open (1,356.00 - P1's 822.00); P2, paid on 26 November, did not stand
    on the 22nd, and P1 stood on the 22nd but not on the 26th: no day sees both. So 534.00
    dated 22 November posts: INV-1 0.00 on 22 to 24 November, 822.00 on 25 (1,356.00 -
    534.00), 0.00 from 26. Until the fix it was refused ``dated-before-reopening`` ("only
    -288.00 open", 534.00 open now less P1's 822.00 as if P1 and P2 both stood on the 22nd).
    534.01 would leave INV-1 at -0.01 now (and from 26 November): refused
    ``payment-exceeds-open-items`` naming the 534.00 open. 2202 and the ageing each day
    (INV-2's 678.00 unpaid): 1,212.00 on 20 and 21, 678.00 on 22 to 24, 1,500.00 on 25 (822.00 +
    678.00), 678.00 on 26 to 28."""
    first, _, _ = two_invoices
    company = world.companies["A"]
    _paid_reversed_and_paid_again(session_factory, world, first)
    with refused(session_factory, PaymentExceedsOpenItems) as too_much:
        pay(session_factory, world, "534.01", [first], on=NOV_22)
    assert too_much.value.extensions["payable"] == "534.00"
    back_dated = pay(session_factory, world, "534.00", [first], on=NOV_22)
    with session_factory() as session:
        assert allocations(session, back_dated) == {first: D("534.00")}
        assert open_amounts(session, first) == [D("0.00")]
        for day in _days(NOV_20, NOV_28):
            expected = (D("1212.00") if day < NOV_22 else D("1500.00") if day == NOV_25 else D("678.00"))
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_oldest_due_first_pays_each_invoice_what_it_had_open_from_the_payments_date_on(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """The same P1 and P2; a payment of 1,212.00 dated 22 November naming no invoice: INV-2
    (due 30 November) 678.00, INV-1 (due 20 December) 534.00, each what it had open on
    every day from the 22nd on. Until the fix INV-1 counted -288.00 and was skipped:
    refused, only 678.00 payable. 1,212.01 is refused, 1,212.00 payable."""
    first, second, _ = two_invoices
    _paid_reversed_and_paid_again(session_factory, world, first)
    with refused(session_factory, PaymentExceedsOpenItems) as too_much:
        pay(session_factory, world, "1212.01", None, on=NOV_22)
    assert too_much.value.extensions["payable"] == "1212.00"
    payment = pay(session_factory, world, "1212.00", None, on=NOV_22)
    with session_factory() as session:
        assert allocations(session, payment) == {second: D("678.00"), first: D("534.00")}
        assert open_amounts(session, first, second) == [D("0.00"), D("0.00")]


def test_a_payment_may_not_pay_what_was_open_on_its_date_if_a_later_day_had_less_open(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """P1 pays 822.00 of INV-1 on 21 November and is reversed on 23 November: INV-1 is all
    open on 20 November and now (1,356.00), but 534.00 on 21 and 22 November. All 1,356.00
    dated 20 November would leave INV-1 at -822.00 on the 21st and 22nd (2202 Dr 822.00
    for INV-1): refused ``dated-before-reopening``, naming the 534.00 and 23 November, the
    day P1 was reversed (a rule of 'open on the date and open now' alone would take it);
    nothing written. 534.00 dated 20 November posts; 822.00 more dated 22 November is
    refused (0.00 open then), dated 23 November it posts. 2202 and the ageing each day
    (INV-2's 678.00 unpaid): 1,500.00 on 20 November (1,356.00 - 534.00 + 678.00), 678.00
    on 21 and 22 (534.00 - 534.00 = 0.00 for INV-1) and from the 23rd (822.00 - 822.00)."""
    first, _, _ = two_invoices
    company = world.companies["A"]
    p1 = pay(session_factory, world, "822.00", [first], on=NOV_21)
    reverse(session_factory, world, p1, on=NOV_23)
    with session_factory() as session:
        before = payments(session)
    with refused(session_factory, DatedBeforeReopening) as refusal:
        pay(session_factory, world, "1356.00", [first], on=NOV_20)
    assert refusal.value.extensions["earliest_date"] == "2026-11-23"
    assert str(refusal.value.detail) == (
        "a supplier payment dated 2026-11-20 would pay 1356.00 of invoice INV-1, but only 534.00 of it is open to "
        "pay on 2026-11-20 and every day after: until 2026-11-23, the day supplier payment BANK-0001 was reversed, "
        "more of it was settled or credited")
    with session_factory() as session:
        assert payments(session) == before
    pay(session_factory, world, "534.00", [first], on=NOV_20)
    with refused(session_factory, DatedBeforeReopening):
        pay(session_factory, world, "822.00", [first], on=NOV_22)
    pay(session_factory, world, "822.00", [first], on=NOV_23)
    with session_factory() as session:
        assert open_amounts(session, first) == [D("0.00")]
        for day in _days(NOV_20, NOV_26):
            expected = D("1500.00") if day == NOV_20 else D("678.00")
            assert ageing_total(session, world, day) == ledger(session, company, day) == expected, day


def test_a_named_payment_beyond_its_invoices_is_told_what_it_may_pay_on_its_date(
        session_factory: sessionmaker[Session], world: World, two_invoices: tuple[int, int, list[int]]) -> None:
    """P1 pays 822.00 of INV-1 on 20 November and is reversed on 25 November: INV-1 has
    1,356.00 open now but 534.00 on 22 to 24 November (1,356.00 - 822.00). 1,400.00 dated 22
    November naming INV-1 is more than is open on it at all: refused
    ``payment-exceeds-open-items``, and the advice is what may be paid on the 22nd, 534.00
    (``payable``, ``open_amounts``, "at most 534.00"), not the 1,356.00 open now: the clerk
    who sent 1,356.00 would be refused again (``dated-before-reopening``, only 534.00).
    Nothing written. 534.00 dated 22 November, as advised, posts: INV-1 822.00 open."""
    first, _, _ = two_invoices
    p1 = pay(session_factory, world, "822.00", [first])
    reverse(session_factory, world, p1, on=NOV_25)
    with session_factory() as session:
        before = payments(session)
    with refused(session_factory, PaymentExceedsOpenItems) as refusal:
        pay(session_factory, world, "1400.00", [first], on=NOV_22)
    assert refusal.value.extensions["payable"] == "534.00"
    assert refusal.value.extensions["open_amounts"] == {"INV-1": "534.00"}
    assert refusal.value.errors[0]["pointer"] == "/amount"
    assert str(refusal.value.errors[0]["detail"]) == "at most 534.00"
    assert "more than the 534.00 open on the invoices it names (INV-1 534.00)" in str(refusal.value.detail)
    with session_factory() as session:
        assert payments(session) == before
        assert open_amounts(session, first) == [D("1356.00")]
    with refused(session_factory, DatedBeforeReopening):
        pay(session_factory, world, "1356.00", [first], on=NOV_22)
    advised = pay(session_factory, world, "534.00", [first], on=NOV_22)
    with session_factory() as session:
        assert allocations(session, advised) == {first: D("534.00")}
        assert open_amounts(session, first) == [D("822.00")]
