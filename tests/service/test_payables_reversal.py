"""Reversing (cancelling) a posted supplier invoice or credit memo, on PostgreSQL, with
every figure worked out by hand in the test (docs/payables.md, *Reversing an invoice*)."""

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
from erp.errors import NotFound, ValidationFailed
from erp.inventory.queries import balance_drift, period_totals_drift
from erp.payables import queries, services
from erp.payables.errors import InvoiceReversed, InvoiceSettled, OverInvoiced
from erp.payables.models import DocumentKind, SupplierInvoice
from erp.posting.errors import PeriodClosed
from erp.posting.models import JournalEntry, JournalLine, MovementType, StockDocument, StockMovement
from tests.payables import NOV_20, enter, vat13_on_materials
from tests.stock import account_balance, balances, issue, open_order, receive, refused, return_goods, set_standard
from tests.world import World

D = Decimal
pytestmark = pytest.mark.postgres
GRIR, VAT, AP, PPV, STOCK = "2202.01", "2221.01.01", "2202", "1404", "1403"
NOV_25 = dt.date(2026, 11, 25)
DEC_15 = dt.date(2026, 12, 15)  # the tests' business day


@pytest.fixture
def vat(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    return vat13_on_materials(session_factory, world)


def reverse(session_factory: sessionmaker[Session], world: World, invoice_id: int, *, on: dt.date = NOV_25,
            user: str = "ap_a", reason: str = "wrong price entered") -> SupplierInvoice:
    with session_factory() as session, session.begin():
        invoice = services.reverse_invoice(session, world.actors[user], invoice_id, reason=reason, reversal_date=on)
        session.expunge(invoice)
        return invoice


def pay(session_factory: sessionmaker[Session], world: World, invoice_id: int, amount: str) -> int:
    with session_factory() as session, session.begin():
        return services.pay_supplier(session, world.actors["ap_a"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=NOV_20,
            amount=D(amount), invoice_ids=[invoice_id])).id


def books(session: Session, company: int) -> dict[str, D]:
    """Every account's balance in the company's books (zero balances left out)."""
    return {account: D(amount) for account, amount in session.execute(
        select(JournalLine.account_code, func.sum(JournalLine.amount)).where(JournalLine.company_id == company)
        .group_by(JournalLine.account_code).having(func.sum(JournalLine.amount) != 0))}


def price_difference_rows(session: Session) -> list[tuple[str, dt.date, D]]:
    """(reference, posting date, variance) of every price-difference ledger row, in order."""
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(StockDocument.reference, StockDocument.posting_date, StockMovement.variance)
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockMovement.movement_type == MovementType.PRICE_DIFFERENCE).order_by(StockMovement.id))]


def reversal_lines(session: Session, invoice_id: int) -> dict[str, D]:
    return {account: D(amount) for account, amount in session.execute(
        select(JournalLine.account_code, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.source_type == services.SOURCE_REVERSAL, JournalEntry.source_id == invoice_id)
        .group_by(JournalLine.account_code))}


def test_reversing_a_credit_memo_then_its_invoice_puts_every_account_back_and_the_close_sees_no_variance(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """All in November. Standard 12.00; 100 kg received at the contract price 12.00
    (Dr 1403 1,200.00, Cr 2202.01 1,200.00, no variance). Invoice INV-R1 at 12.30: Dr 2202.01
    1,200.00, Dr 1404 30.00 (all 100 kg held), Dr 2221.01.01 159.90, Cr 2202 1,389.90, and a
    PD row of +30.00. 20 kg returned (Dr 2202.01 240.00, Cr 1403 240.00) and credited by
    CM-R1 at 12.30, reducing INV-R1: Dr 2202 277.98, Cr 2202.01 240.00, Cr 1404 6.00, Cr
    2221.01.01 31.98, PD row -6.00; INV-R1's open amount 1,389.90 - 277.98 = 1,111.92.

    INV-R1 cannot be reversed while CM-R1 reduces it. CM-R1 is reversed on 25 November (its
    mirror, PD row +6.00, INV-R1 open 1,389.90 again), then INV-R1 (its mirror, PD row
    -30.00). What stays is the receipt less the return: 1403 960.00, 2202.01 -960.00 (80 kg
    received, none invoiced); 1404, 2202 and 2221.01.01 at 0.00. The 80 kg can be invoiced
    again: 80 at 12.00 is matched and not blocked. 50 kg to production; November's close:
    receipts' variance 30.00 - 6.00 + 6.00 - 30.00 = 0.00, nothing allocated, 0.00 remaining,
    which is 1404's balance."""
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    company, material = world.companies["A"], world.materials["exc_local"]
    with session_factory() as session:
        after_receipt = books(session, company)
    assert after_receipt == {STOCK: D("1200.00"), GRIR: D("-1200.00")}
    invoice_id = enter(session_factory, world, "INV-R1", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    returned = return_goods(session_factory, world, receipt, "20")
    memo_id = enter(session_factory, world, "CM-R1", [(line, "20", "12.30")], net="246.00", tax="31.98",
                    kind=DocumentKind.CREDIT_MEMO, returns=[returned], credits=invoice_id)
    with session_factory() as session:
        # GR/IR cleared (1,200.00 received and invoiced, 240.00 returned and credited)
        assert books(session, company) == {STOCK: D("960.00"), PPV: D("24.00"), VAT: D("127.92"),
                                           AP: D("-1111.92")}
    with refused(session_factory, InvoiceSettled) as refusal:
        reverse(session_factory, world, invoice_id)
    assert "reverse the credit memo first" in str(refusal.value.detail)

    memo = reverse(session_factory, world, memo_id, reason="credit memo entered against the wrong return")
    assert (memo.reversed, memo.open_amount) == (True, D("0.00"))
    with session_factory() as session:
        # CM-R1's mirror: Cr 2202 277.98, Dr 2202.01 240.00, Dr 1404 6.00, Dr 2221.01.01 31.98
        assert reversal_lines(session, memo_id) == {AP: D("-277.98"), GRIR: D("240.00"), PPV: D("6.00"),
                                                    VAT: D("31.98")}
        original = session.get(SupplierInvoice, invoice_id)
        assert original is not None and original.open_amount == D("1389.90")
    invoice = reverse(session_factory, world, invoice_id)
    assert (invoice.reversed, invoice.reversal_date, invoice.reversal_reason) == (True, NOV_25, "wrong price entered")
    assert (invoice.reversed_by, invoice.open_amount) == (world.users["ap_a"], D("0.00"))
    with session_factory() as session:
        assert reversal_lines(session, invoice_id) == {GRIR: D("-1200.00"), PPV: D("-30.00"), VAT: D("-159.90"),
                                                       AP: D("1389.90")}
        # back to the receipt less the return: 80 kg received, none invoiced
        assert books(session, company) == {STOCK: D("960.00"), GRIR: D("-960.00")}
        assert price_difference_rows(session) == [("INV-R1", NOV_20, D("30.00")), ("CM-R1", NOV_20, D("-6.00")),
                                                  ("CM-R1", NOV_25, D("6.00")), ("INV-R1", NOV_25, D("-30.00"))]
        # the price-difference rows move no stock: 80 kg at 960.00, as the return left them
        assert balances(session, material_id=material) == [("B-001", "unrestricted", D("80"), D("960.00"))]
        grir = queries.grir_lines(session, world.actors["ap_a"], company, DEC_15)
        assert [(g.received_quantity, g.invoiced_quantity, g.balance) for g in grir] == [(D("80"), D("0"),
                                                                                          D("960.00"))]
        assert queries.grir_check(session, world.actors["ap_a"], company, DEC_15).agrees
        assert trial_balance(session, world.actors["cost_a"], company_id=company, period="2026-11").balanced
        # INV-R1's trail: its open amount raised by CM-R1's reversal (1,111.92 + 277.98), then its own reversal
        raised, event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "supplier_invoice",
                                                                 AuditEvent.entity_id == invoice_id)
                                        .order_by(AuditEvent.id)).all()
        assert (raised.action, raised.actor_id, raised.company_id, raised.changes, raised.reason) == (
            "credit-memo-reversed", world.users["ap_a"], company,
            {"open_amount": {"before": "1111.92", "after": "1389.90"}},
            "reversal of credit memo CM-R1: credit memo entered against the wrong return")
        assert (event.action, event.actor_id, event.reason) == ("reverse", world.users["ap_a"], "wrong price entered")
        # the ageing of a day before the reversal still has INV-R1 open; of the reversal day, nothing
        before = queries.ageing(session, world.actors["ap_a"], NOV_20, by="group")
        after = queries.ageing(session, world.actors["ap_a"], NOV_25, by="group")
        assert (before[0]["open_amount"], after[0]["open_amount"]) == (D("1111.92"), D("0"))
    # the goods can be invoiced again
    again = enter(session_factory, world, "INV-R2", [(line, "80", "12.00")], net="960.00", tax="124.80", on=NOV_25)
    with session_factory() as session:
        reinvoiced = session.get(SupplierInvoice, again)
        assert reinvoiced is not None and not reinvoiced.blocked
        assert books(session, company) == {STOCK: D("960.00"), VAT: D("124.80"), AP: D("-1084.80")}
    issue(session_factory, world, "exc_local", "50", on=NOV_25)
    with session_factory() as session, session.begin():
        result = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert (result.variance_allocated, result.variance_remaining) == (D("0.00"), D("0.00"))
        assert account_balance(session, company, PPV) == D("0.00")
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_an_invoice_reversed_after_its_period_closed_posts_its_mirror_into_the_open_period(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """October: standard 12.00; 100 kg received on 5 October at 12.00; invoice INV-L at 12.30
    on 10 October (Dr 1404 30.00, PD row +30.00 in October); 40 kg to production. October's
    close: receipts 1,200.00 at standard, variance 30.00, rate 2.5 %; production bears
    480.00 x 2.5 % = 12.00 (Dr 5001 12.00, Cr 1404 12.00); 18.00 stays with the 60 kg.

    A reversal dated in closed October is refused. Dated 20 November it posts the mirror
    there (Cr 1404 30.00 ...) and a PD row of -30.00 in November: 1404 is 30.00 - 12.00 -
    30.00 = -12.00. The last 60 kg go to production on 25 November. November's close:
    opening 720.00 at standard carrying 18.00, receipts' variance -30.00, rate -12.00 /
    720.00; production bears all of it (no stock left): -12.00 (Dr 1404 12.00, Cr 5001
    12.00). 1404 ends at 0.00 = remaining, 5001 at 480.00 + 12.00 + 720.00 - 12.00 =
    1,200.00: the 100 kg at the contract price, as if the invoice had never been entered."""
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-10")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100", on=dt.date(2026, 10, 5), made=dt.date(2026, 9, 1))
    invoice_id = enter(session_factory, world, "INV-L", [(line, "100", "12.30")], net="1230.00", tax="159.90",
                       on=dt.date(2026, 10, 10))
    issue(session_factory, world, "exc_local", "40", on=dt.date(2026, 10, 12))
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        october = close_period(session, world.actors["cost_a"], company_id=company, period="2026-10")
    assert (october.variance_allocated, october.variance_remaining) == (D("12.00"), D("18.00"))
    with refused(session_factory, PeriodClosed):
        reverse(session_factory, world, invoice_id, on=dt.date(2026, 10, 25))
    reverse(session_factory, world, invoice_id, on=NOV_20)
    with session_factory() as session:
        entry = session.scalar(select(JournalEntry).where(JournalEntry.source_type == services.SOURCE_REVERSAL))
        original = session.get(SupplierInvoice, invoice_id)
        assert entry is not None and original is not None
        assert (entry.entry_date, entry.period, entry.reverses_entry_id) == (NOV_20, "2026-11", original.entry_id)
        assert price_difference_rows(session) == [("INV-L", dt.date(2026, 10, 10), D("30.00")),
                                                  ("INV-L", NOV_20, D("-30.00"))]
        assert account_balance(session, company, PPV) == D("-12.00")
    issue(session_factory, world, "exc_local", "60", on=NOV_25)
    with session_factory() as session, session.begin():
        november = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert (november.variance_allocated, november.variance_remaining) == (D("-12.00"), D("0.00"))
        assert books(session, company) == {GRIR: D("-1200.00"), "5001": D("1200.00")}
        assert trial_balance(session, world.actors["cost_a"], company_id=company, period="2026-11").balanced
        assert queries.grir_check(session, world.actors["ap_a"], company, DEC_15).agrees
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_a_paid_invoice_is_not_reversed_until_the_payment_is(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-P", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    pay(session_factory, world, invoice_id, "500.00")  # partly paid
    with refused(session_factory, InvoiceSettled) as refusal:
        reverse(session_factory, world, invoice_id)
    assert refusal.value.status == 409
    assert ("paid 500.00 of 1356.00: a paid invoice is not reversed; reverse the payment first, or correct the invoice "
            "with a credit memo") in str(refusal.value.detail)


def test_an_invoice_whose_quantities_a_credit_memo_credits_is_not_reversed_before_it(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    # CM-Q credits 20 of INV-Q's 100 kg without naming INV-Q: reversing INV-Q alone would
    # leave -20 kg invoiced on the order line
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-Q", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    enter(session_factory, world, "CM-Q", [(line, "20", "12.00")], net="240.00", tax="31.20",
          kind=DocumentKind.CREDIT_MEMO)
    with refused(session_factory, InvoiceSettled) as refusal:
        reverse(session_factory, world, invoice_id)
    assert "credit memos credit 20" in str(refusal.value.detail)


def test_a_reversed_invoice_is_not_reversed_again_paid_or_released_and_leaves_the_blocked_queue(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    # 13.00 is 8.33 % above the contract price: blocked for payment
    invoice_id = enter(session_factory, world, "INV-B", [(line, "100", "13.00")], net="1300.00", tax="169.00")
    reverse(session_factory, world, invoice_id)
    with refused(session_factory, InvoiceReversed):
        reverse(session_factory, world, invoice_id)
    with refused(session_factory, InvoiceReversed):
        pay(session_factory, world, invoice_id, "100.00")
    with refused(session_factory, InvoiceReversed), session_factory() as session, session.begin():
        services.release_invoice(session, world.actors["pm_a"], invoice_id, reason="agreed")
    with session_factory() as session:
        blocked, _ = queries.list_invoices(session, world.actors["ap_a"], {"blocked": True}, offset=0, limit=10)
        reversed_, _ = queries.list_invoices(session, world.actors["ap_a"], {"reversed": True}, offset=0, limit=10)
        assert ([i.id for i in blocked], [i.id for i in reversed_]) == ([], [invoice_id])
        # one reversal entry, of the invoice's amounts
        assert reversal_lines(session, invoice_id) == {GRIR: D("-1200.00"), PPV: D("-100.00"), VAT: D("-169.00"),
                                                       AP: D("1469.00")}


def test_an_invoice_whose_amounts_round_to_zero_posted_no_entry_and_is_reversed_without_one(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    # 0.1 kg at the contract price of 0.01 is 0.001, 0.00 to the cent: every amount of the
    # invoice is zero, so it posted no journal entry, and its reversal has none to mirror.
    # It is still reversed (recorded, out of the open items), not refused by the database's
    # check that a reversed invoice names its reversal's entry (0043).
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "10", "0.01", "A-AMB")])
    receive(session_factory, world, line, "0.1")
    invoice_id = enter(session_factory, world, "INV-ZERO", [(line, "0.1", "0.01")], net="0.00", tax="0.00")
    with session_factory() as session:
        assert session.get(SupplierInvoice, invoice_id).entry_id is None  # type: ignore[union-attr]
    reversed_ = reverse(session_factory, world, invoice_id)
    assert (reversed_.reversed_at is not None, reversed_.reversal_entry_id) == (True, None)
    with session_factory() as session:
        assert reversal_lines(session, invoice_id) == {}


def test_a_reversal_needs_the_invoices_company_the_accounts_payable_role_a_reason_and_a_date_not_before_it(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-S", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    with refused(session_factory, NotFound):
        reverse(session_factory, world, invoice_id, user="ap_b")  # company B's accountant
    with refused(session_factory, RoleNotAllowed):
        reverse(session_factory, world, invoice_id, user="cost_a")
    with refused(session_factory, ValidationFailed):
        reverse(session_factory, world, invoice_id, reason="  ")
    with refused(session_factory, ValidationFailed) as refusal:
        reverse(session_factory, world, invoice_id, on=dt.date(2026, 11, 19))
    assert refusal.value.errors[0]["pointer"] == "/reversal_date"
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and not invoice.reversed and invoice.open_amount == D("1356.00")


def test_a_credit_memo_whose_goods_were_invoiced_again_is_not_reversed(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    # 100 ordered and received; INV-1 invoices 100, CM-1 credits all 100 (wrong price),
    # INV-2 invoices the 100 again: reversing CM-1 would leave 200 invoiced on a line that
    # can receive 100
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    enter(session_factory, world, "INV-1", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    memo_id = enter(session_factory, world, "CM-1", [(line, "100", "12.00")], net="1200.00", tax="156.00",
                    kind=DocumentKind.CREDIT_MEMO)
    enter(session_factory, world, "INV-2", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    with refused(session_factory, OverInvoiced) as refusal:
        reverse(session_factory, world, memo_id)
    assert "reversing it would make 200 invoiced" in str(refusal.value.detail)


def test_a_price_difference_written_later_is_not_reversed_before_the_day_it_was_written(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """November, standard 12.00; 100 kg received at 12.00. INV-LATE at 12.30 entered on 20
    November the way before 0040 (Dr 2202.01 1,200.00, Dr 1404 30.00, Dr 2221.01.01 159.90,
    Cr 2202 1,389.90; no price-difference row); the correction (``payables
    price-differences --write``) writes its PD row of +30.00 on 10 December. A reversal
    dated 25 November, after the invoice but before that row, would mirror it (-30.00)
    before it was written: refused 422 at /reversal_date, nothing written. Dated 10
    December: Cr 1404 30.00 and a PD row of -30.00 on 10 December; 1404 and the ledger's
    INV-LATE rows both 0.00."""
    from erp.payables.price_differences import write_missing_price_differences

    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    with monkeypatch.context() as before_0040:
        before_0040.setattr(services, "post_variance_carried", lambda *args, **kwargs: None)
        invoice_id = enter(session_factory, world, "INV-LATE", [(line, "100", "12.30")], net="1230.00",
                           tax="159.90")
    company, dec_10 = world.companies["A"], dt.date(2026, 12, 10)
    with session_factory() as session, session.begin():
        assert len(write_missing_price_differences(session, world.actors["cost_a"], company, dec_10)) == 1
    with refused(session_factory, ValidationFailed) as refusal:
        reverse(session_factory, world, invoice_id, on=NOV_25)
    assert refusal.value.status == 422 and refusal.value.errors[0]["pointer"] == "/reversal_date"
    assert ("the price difference of INV-LATE was written into the stock ledger on 2026-12-10; its reversal cannot "
            "be dated 2026-11-25, before it") in str(refusal.value.detail)
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and not invoice.reversed and invoice.open_amount == D("1389.90")
        assert reversal_lines(session, invoice_id) == {}
        assert price_difference_rows(session) == [("INV-LATE", dec_10, D("30.00"))]
    reverse(session_factory, world, invoice_id, on=dec_10)
    with session_factory() as session:
        assert reversal_lines(session, invoice_id) == {GRIR: D("-1200.00"), PPV: D("-30.00"), VAT: D("-159.90"),
                                                       AP: D("1389.90")}
        assert price_difference_rows(session) == [("INV-LATE", dec_10, D("30.00")), ("INV-LATE", dec_10, D("-30.00"))]
        assert books(session, company) == {STOCK: D("1200.00"), GRIR: D("-1200.00")}
        assert (balance_drift(session), period_totals_drift(session)) == ([], [])


def test_a_reversed_credit_memos_applied_amount_ages_with_its_invoice_and_the_ageing_equals_the_ledger(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """100 kg received at 12.00. INV-AG 1,356.00 on 20 November, due 21 November; 20 kg
    returned and credited by CM-AG (271.20, due 31 December) reducing INV-AG to 1,084.80.
    CM-AG reversed on 10 December: INV-AG open 1,356.00 again. On the reversal day and
    after, the 271.20 ages with INV-AG, by its due date: 1,356.00 in 1-30 days on 10
    December (19 days past due), 31-60 on 31 December (40 days), none of it not due; the
    ageing total is 2202's credit balance on the day (1,356.00 - 271.20 + 271.20). On 5
    December, before the reversal, INV-AG is open 1,084.80, 14 days past due (1-30), and
    CM-AG, which applied all its 271.20, has nothing open: 1,084.80, 2202's balance that day.
    (Before 0045 kept the applied amount, the total was right but INV-AG showed 1,356.00 in
    1-30 and CM-AG -271.20 not due.)"""
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-AG", [(line, "100", "12.00")], net="1200.00", tax="156.00",
                       due=dt.date(2026, 11, 21))
    returned = return_goods(session_factory, world, receipt, "20")
    memo_id = enter(session_factory, world, "CM-AG", [(line, "20", "12.00")], net="240.00", tax="31.20",
                    kind=DocumentKind.CREDIT_MEMO, returns=[returned], credits=invoice_id, due=dt.date(2026, 12, 31))
    reverse(session_factory, world, memo_id, on=dt.date(2026, 12, 10), reason="credited the wrong invoice")
    company = world.companies["A"]

    def ledger(session: Session, day: dt.date) -> D:  # 2202's credit balance on the day
        return -D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0))
                                 .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                                 .where(JournalLine.company_id == company, JournalLine.account_code == AP,
                                        JournalEntry.entry_date <= day)))

    buckets = ("open_amount", "overdue", "not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
    with session_factory() as session:
        for day, expected in ((dt.date(2026, 12, 10), ("1356.00", "1356.00", "0", "1356.00", "0", "0", "0")),
                              (dt.date(2026, 12, 31), ("1356.00", "1356.00", "0", "0", "1356.00", "0", "0"))):
            (row,) = queries.ageing(session, world.actors["ap_a"], day, by="supplier")
            assert tuple(row[k] for k in buckets) == tuple(D(v) for v in expected), day
            assert row["open_amount"] == ledger(session, day) == D("1356.00")
        (before,) = queries.ageing(session, world.actors["ap_a"], dt.date(2026, 12, 5), by="group")
        assert tuple(before[k] for k in buckets) == tuple(D(v) for v in (
            "1084.80", "1084.80", "0", "1084.80", "0", "0", "0"))
        assert before["open_amount"] == ledger(session, dt.date(2026, 12, 5))


def test_a_credit_memo_posted_after_the_key_date_leaves_its_invoice_open_in_that_days_ageing(
        session_factory: sessionmaker[Session], world: World, vat: dict[str, int]) -> None:
    """INV-AL 1,356.00 on 20 November (due 20 December); 20 kg returned and credited on 25
    November by CM-AL (271.20) reducing it to 1,084.80. The ageing of 22 November has
    INV-AL whole, 1,356.00 not due, as 2202 had then; until 1 December 2026 it showed
    1,084.80 (the memo's reduction before the memo). On 25 November: 1,084.80."""
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-AL", [(line, "100", "12.00")], net="1200.00", tax="156.00")
    returned = return_goods(session_factory, world, receipt, "20", on=NOV_25)
    enter(session_factory, world, "CM-AL", [(line, "20", "12.00")], net="240.00", tax="31.20",
          kind=DocumentKind.CREDIT_MEMO, returns=[returned], credits=invoice_id, on=NOV_25)
    with session_factory() as session:
        (before,) = queries.ageing(session, world.actors["ap_a"], dt.date(2026, 11, 22), by="group")
        (after,) = queries.ageing(session, world.actors["ap_a"], NOV_25, by="group")
        assert (before["open_amount"], before["not_due"]) == (D("1356.00"), D("1356.00"))
        assert (after["open_amount"], after["not_due"]) == (D("1084.80"), D("1084.80"))
