"""Correcting the books the rule before 1 December 2026 left: an invoice's price difference on
goods production orders consumed in a closed period booked on 5001.01 work in process, which
no order's settlement took off (erp/payables/wip_price_differences.py; docs/payables.md,
*Price differences left on work in process*).

The plant and figures of tests/service/test_invoice_price_difference_on_production.py:
R-ACID standard 50.00/kg, every receipt at 50.00, the supplier invoices the acid at 50.50;
an API order for 100 kg issues 120 kg acid (6,000.00) and 52 kg solvent (1,040.00), absorbs
4,000.00 of conversion and delivers 100 kg at 110.40 (11,040.00). The faulty books are made
by the code itself with the old rule put back (``_CLOSED_CONSUMPTION_TO`` empty: the share of
closed-period consumption on 5001.01 stays on 5001.01), exactly what it posted then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.costing import accounts
from erp.errors import DatedBeforeSource, NotFound, ValidationFailed
from erp.payables import services as payables
from erp.payables import wip_price_differences as wip
from erp.posting.models import JournalEntry, JournalLine
from tests.locks import Worker
from tests.payables import enter
from tests.production import complete, deliver
from tests.service.test_invoice_price_difference_on_production import (
    DEC,
    DEC_5,
    DEC_8,
    DEC_10,
    NOV,
    NOV_2,
    _api_order,
    _books,
    _close,
    _plant,
    _wip_by_material,
)
from tests.stock import entry_lines
from tests.world import World

pytestmark = pytest.mark.postgres
DEC_15 = dt.date(2026, 12, 15)
WIP, PRICE_VARIANCE = accounts.WORK_IN_PROCESS, accounts.INPUT_PRICE_VARIANCE
GRIR, VAT, AP = "2202.01", "2221.01.01", "2202"


@pytest.fixture
def old_rule(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Any]]:
    """``with old_rule():`` posts as the code before fc124f3 did."""
    def before_the_fix() -> Any:
        context = monkeypatch.context()
        patched = context.__enter__()
        patched.setattr(payables, "_CLOSED_CONSUMPTION_TO", {})

        class _Scope:
            def __enter__(self) -> None:
                return None

            def __exit__(self, *exc: object) -> None:
                context.__exit__(None, None, None)

        return _Scope()

    yield before_the_fix


def _faulty_invoice(sf: sessionmaker[Session], world: World, old_rule: Callable[[], Any], acid_line: int,
                    number: str = "INV-ACID-1") -> int:
    with old_rule():
        invoice = enter(sf, world, number, [(acid_line, "120", "50.50")], net="6060.00", tax="787.80", on=DEC_8)
    with sf() as session:  # what the old rule posted: the 60.00 on work in process
        assert entry_lines(session, invoice, "supplier_invoice") == {
            GRIR: D("6000.00"), WIP: D("60.00"), VAT: D("787.80"), AP: D("-6847.80")}
    return invoice


def _correct(sf: sessionmaker[Session], world: World, on: dt.date = DEC_15, **kwargs: Any) -> list[wip.Correction]:
    with sf() as session, session.begin():
        return wip.correct_orphans(session, world.actors["cost_a"], world.companies["A"], on, **kwargs)


def _orphans(sf: sessionmaker[Session], world: World) -> list[wip.Orphan]:
    with sf() as session:
        return wip.orphans(session, [world.companies["A"]])


def _entries(sf: sessionmaker[Session]) -> int:
    with sf() as session:
        return session.scalar(select(func.count(JournalEntry.id))) or 0


def _trial_balance_total(sf: sessionmaker[Session]) -> D:
    with sf() as session:
        return D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0))))


def test_the_price_difference_the_old_rule_left_on_work_in_process_is_listed_and_moved_to_input_price_variance_once(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any],
        set_business_day: Callable[[dt.date], dt.date]) -> None:
    """November: 120 kg of acid all issued to the order, completed on 2 November and settled by
    November's close (5001.01 0.00). December 8, with the old rule: the invoice at 50.50,
    difference 120 x 0.50 = 60.00, all consumed in closed November by the order: Dr 5001.01
    60.00 (today's rule: Dr 6405.02). Listed: the invoice, R-ACID, its line 1, the order, 60.00.
    A dry run posts nothing; a correction dated 30 November (closed) is refused 422, nothing
    written; dated 15 December: Dr 6405.02 60.00 / Cr 5001.01 60.00 on the acid, audited.
    5001.01 0.00, 6405.02 60.00, the trial balance sums to 0.00; a second run posts nothing.
    December's close leaves 5001.01 at 0.00 (the orders' settlements leave nothing)."""
    acid_line = _plant(session_factory, world, "120", "52")
    order = _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    invoice = _faulty_invoice(session_factory, world, old_rule, acid_line)
    assert _wip_by_material(session_factory, world) == {"R-ACID": D("60.00")}

    (orphan,) = _orphans(session_factory, world)
    assert (orphan.invoice_id, orphan.number, orphan.document_kind, orphan.material_code, orphan.invoice_lines,
            orphan.orders, orphan.amount) == (invoice, "INV-ACID-1", "invoice", "R-ACID", (1,),
                                              (f"MO-{order:08d}",), D("60.00"))
    before = _entries(session_factory)
    (planned,) = _correct(session_factory, world, dry_run=True)
    assert (planned.entry_id, planned.amount) == (None, D("60.00"))
    assert _entries(session_factory) == before
    with pytest.raises(ValidationFailed) as refused:
        _correct(session_factory, world, dt.date(2026, 11, 30))
    assert refused.value.status == 422 and refused.value.errors[0]["pointer"] == "/posting_date"
    assert _entries(session_factory) == before

    (done,) = _correct(session_factory, world)
    with session_factory() as session:
        assert entry_lines(session, invoice, wip.SOURCE_CORRECTION) == {PRICE_VARIANCE: D("60.00"), WIP: D("-60.00")}
        entry = session.get(JournalEntry, done.entry_id)
        assert entry is not None and entry.entry_date == DEC_15 and entry.source_id == invoice
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "wip-price-difference-corrected")).one()
        assert (event.entity, event.entity_id, event.company_id) == ("supplier_invoice", invoice, world.companies["A"])
        assert str(done.entry_id) in str(event.changes)
    assert _wip_by_material(session_factory, world) == {}
    books = _books(session_factory, world)
    assert books[PRICE_VARIANCE] == D("60.00") and WIP not in books
    assert _trial_balance_total(session_factory) == D("0.00")
    assert _orphans(session_factory, world) == []
    after = _entries(session_factory)
    assert _correct(session_factory, world) == []
    assert _entries(session_factory) == after

    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _wip_by_material(session_factory, world) == {}
    assert _books(session_factory, world)[PRICE_VARIANCE] == D("60.00")


def test_what_the_rule_leaves_on_work_in_process_of_an_order_still_running_is_neither_listed_nor_touched(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any],
        set_business_day: Callable[[dt.date], dt.date]) -> None:
    """The order issues all 120 kg acid and 52 kg solvent in November and delivers 50 kg
    (5,520.00): 7,040.00 + 2,000.00 - 5,520.00 = 3,520.00 of work in process. The solvent's
    invoice of 25 November at 20.50 (before any close: 52 x 0.50 = 26.00 to 1404, today's rule
    and the old alike) is allocated by November's close to the order's solvent issue: Dr
    5001.01 26.00, the order's own, 3,546.00 on 5001.01 while it runs. December 8, with the old
    rule, the acid's invoice: Dr 5001.01 60.00 (3,606.00). Only the acid's 60.00 is listed
    (not the solvent's invoice, whose entry has no 5001.01 line, nor the close's allocation);
    the correction takes 5001.01 back to 3,546.00. December 5 the order delivers the rest,
    completed on 10 December; December's close settles it: its input price variance is the
    solvent's 26.00 (Dr 6405.02), so 6405.02 = 60.00 + 26.00 = 86.00 and 5001.01 0.00."""
    acid_line = _plant(session_factory, world, "120", "52")
    order = _api_order(session_factory, world, "100", "120", "52", on=NOV_2, delivered="50")
    solvent_line = _solvent_line(session_factory, world)
    enter(session_factory, world, "INV-SOLV-1", [(solvent_line, "52", "20.50")], net="1066.00", tax="138.58",
          on=dt.date(2026, 11, 25), supplier="sup2")
    _close(session_factory, world, NOV)
    running = sum(_wip_by_material(session_factory, world).values(), D(0))
    assert running == D("3546.00")
    deliver(session_factory, world, order, "50", batch=f"API-{order}", on=DEC_5)
    _faulty_invoice(session_factory, world, old_rule, acid_line)
    # the second delivery (5,520.00 at standard: 2,000.00 conversion, 3,520.00 of what was issued) and the 60.00
    assert sum(_wip_by_material(session_factory, world).values(), D(0)) == D("3546.00") + D("2000.00") \
        - D("5520.00") + D("60.00")
    orphans = _orphans(session_factory, world)
    assert [(o.number, o.material_code, o.amount) for o in orphans] == [("INV-ACID-1", "R-ACID", D("60.00"))]
    with session_factory() as session:
        wip_before = D(session.scalar(select(func.sum(JournalLine.amount)).where(
            JournalLine.company_id == world.companies["A"], JournalLine.account_code == WIP)))
    _correct(session_factory, world)
    with session_factory() as session:
        wip_after = D(session.scalar(select(func.sum(JournalLine.amount)).where(
            JournalLine.company_id == world.companies["A"], JournalLine.account_code == WIP)))
    assert wip_before - wip_after == D("60.00")
    complete(session_factory, world, order, DEC_10)
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _wip_by_material(session_factory, world) == {}
    assert _books(session_factory, world)[PRICE_VARIANCE] == D("86.00")
    assert _trial_balance_total(session_factory) == D("0.00")


def _solvent_line(sf: sessionmaker[Session], world: World) -> int:
    from erp.purchasing.models import PurchaseOrderLine

    with sf() as session:
        return session.scalars(select(PurchaseOrderLine.id).where(
            PurchaseOrderLine.material_id == world.materials["solvent"])).one()


def test_a_credit_memo_the_old_rule_posted_is_mirrored_and_a_reversed_invoice_is_not_listed(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any]) -> None:
    """The first test's invoice (Dr 5001.01 60.00) and, on 10 December with the old rule, the
    supplier's credit memo for the same 120 kg at 50.50: Cr 5001.01 60.00. Both are listed
    (60.00 and -60.00) and corrected: the memo's mirrored, Dr 5001.01 60.00 / Cr 6405.02
    60.00; 5001.01 and 6405.02 end at 0.00. A second faulty invoice reversed on 10 December
    (its reversal mirrored the 5001.01 line) nets to 0.00 and is not listed."""
    acid_line = _plant(session_factory, world, "120", "52")
    _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    with old_rule():
        invoice = enter(session_factory, world, "INV-ACID-1", [(acid_line, "120", "50.50")], net="6060.00",
                        tax="787.80", on=DEC_8)
        memo = enter(session_factory, world, "CM-ACID-1", [(acid_line, "120", "50.50")], net="6060.00",
                     tax="787.80", on=DEC_10, kind=payables.DocumentKind.CREDIT_MEMO, credits=invoice)
    assert [(o.number, o.amount) for o in _orphans(session_factory, world)] == [
        ("INV-ACID-1", D("60.00")), ("CM-ACID-1", D("-60.00"))]
    corrections = _correct(session_factory, world)
    assert [c.amount for c in corrections] == [D("60.00"), D("-60.00")]
    with session_factory() as session:
        assert entry_lines(session, memo, wip.SOURCE_CORRECTION) == {PRICE_VARIANCE: D("-60.00"), WIP: D("60.00")}
    books = _books(session_factory, world)
    assert WIP not in books and PRICE_VARIANCE not in books
    with old_rule():
        second = enter(session_factory, world, "INV-ACID-2", [(acid_line, "120", "50.50")], net="6060.00",
                       tax="787.80", on=DEC_10)
    assert [o.number for o in _orphans(session_factory, world)] == ["INV-ACID-2"]
    with session_factory() as session, session.begin():
        payables.reverse_invoice(session, world.actors["ap_a"], second, reason="entered twice", reversal_date=DEC_10)
    assert _orphans(session_factory, world) == []


def test_a_correction_is_undone_only_by_its_reversal_once_and_the_amount_is_listed_again(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any]) -> None:
    """The first test's correction (Dr 6405.02 60.00 / Cr 5001.01 60.00), reversed on 15
    December: Dr 5001.01 60.00 / Cr 6405.02 60.00, and the 60.00 is listed again; a second
    reversal is refused 409 ``correction-reversed``; another company's cost accountant does
    not find it (404); corrected again, 5001.01 is 0.00 and 6405.02 60.00."""
    acid_line = _plant(session_factory, world, "120", "52")
    _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    invoice = _faulty_invoice(session_factory, world, old_rule, acid_line)
    (done,) = _correct(session_factory, world)
    assert done.entry_id is not None
    with session_factory() as session, session.begin():
        wip.reverse_correction(session, world.actors["cost_a"], done.entry_id, DEC_15, reason="dated wrongly")
    assert [o.amount for o in _orphans(session_factory, world)] == [D("60.00")]
    with session_factory() as session, session.begin(), pytest.raises(wip.CorrectionReversed):
        wip.reverse_correction(session, world.actors["cost_a"], done.entry_id, DEC_15, reason="again")
    with session_factory() as session, session.begin(), pytest.raises(NotFound):
        other = replace(world.actors["cost_a"], company_ids=frozenset({world.companies["B"]}))
        wip.reverse_correction(session, other, done.entry_id, DEC_15, reason="not mine")
    (again,) = _correct(session_factory, world)
    assert again.invoice_id == invoice and again.amount == D("60.00")
    books = _books(session_factory, world)
    assert WIP not in books and books[PRICE_VARIANCE] == D("60.00")


def test_two_corrections_at_once_post_the_correction_once(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any]) -> None:
    """Two accountants run the correction at the same moment: the test holds the invoice's row;
    both runs have listed it and wait on its lock (neither is done: without the lock the first
    would have posted already); let go, the first posts the 60.00, the second reads again what
    is left once it holds the invoice and posts nothing (without reading again it would post
    the 60.00 a second time). One correction entry; 5001.01 0.00, 6405.02 60.00."""
    acid_line = _plant(session_factory, world, "120", "52")
    _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    invoice = _faulty_invoice(session_factory, world, old_rule, acid_line)
    actor, company = world.actors["cost_a"], world.companies["A"]

    def run(session: Session) -> int:
        return len(wip.correct_orphans(session, actor, company, DEC_15))

    holder = session_factory()
    holder.execute(text("SELECT id FROM supplier_invoices WHERE id = :id FOR UPDATE"), {"id": invoice})
    workers = [Worker(session_factory, "first", run), Worker(session_factory, "second", run)]
    try:
        for worker in workers:
            worker.start_and_wait_until_waiting()
        # both have listed the invoice and wait on its row: neither posted without holding it
        assert [worker.done.is_set() for worker in workers] == [False, False]
    finally:
        holder.commit()
        holder.close()
        for worker in workers:
            if worker.thread.ident is not None:
                worker.join()
    outcomes = {worker.name: worker.outcome for worker in workers}
    assert sorted(outcomes.values()) == [0, 1], outcomes
    with session_factory() as session:
        assert session.scalar(select(func.count(JournalEntry.id)).where(
            JournalEntry.source_type == wip.SOURCE_CORRECTION)) == 1
    books = _books(session_factory, world)
    assert WIP not in books and books[PRICE_VARIANCE] == D("60.00")


def test_reversing_a_corrected_invoice_reverses_its_correction_and_nothing_is_dated_before_what_it_corrects(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any]) -> None:
    """The first test's invoice of 8 December (Dr 5001.01 60.00 by the old rule). A correction
    dated 5 December, before the invoice, is refused 422 ``dated-before-source``, nothing
    posted. Corrected on 15 December (Dr 6405.02 60.00 / Cr 5001.01 60.00). Accounts payable
    reverses the invoice ("entered twice"): dated 10 December, before the correction, refused
    422 at /reversal_date; dated 15 December, the invoice's mirror (Cr 5001.01 60.00, ...) and
    the correction's (Dr 5001.01 60.00 / Cr 6405.02 60.00) in one transaction: 5001.01 and
    6405.02 0.00, the invoice never happened, and nothing is listed (without reversing the
    correction, 5001.01 would keep -60.00 and 6405.02 60.00)."""
    acid_line = _plant(session_factory, world, "120", "52")
    _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    invoice = _faulty_invoice(session_factory, world, old_rule, acid_line)
    before = _entries(session_factory)
    with pytest.raises(DatedBeforeSource):
        _correct(session_factory, world, DEC_5)
    assert _entries(session_factory) == before
    (done,) = _correct(session_factory, world)
    with session_factory() as session, session.begin(), pytest.raises(ValidationFailed) as early:
        payables.reverse_invoice(session, world.actors["ap_a"], invoice, reason="entered twice", reversal_date=DEC_10)
    assert early.value.errors[0]["pointer"] == "/reversal_date"
    with session_factory() as session, session.begin():
        payables.reverse_invoice(session, world.actors["ap_a"], invoice, reason="entered twice", reversal_date=DEC_15)
    with session_factory() as session:
        assert entry_lines(session, invoice, wip.SOURCE_CORRECTION_REVERSAL) == {
            PRICE_VARIANCE: D("-60.00"), WIP: D("60.00")}
        assert session.scalar(select(JournalEntry.reverses_entry_id).where(
            JournalEntry.source_type == wip.SOURCE_CORRECTION_REVERSAL)) == done.entry_id
    books = _books(session_factory, world)
    assert WIP not in books and PRICE_VARIANCE not in books
    assert _orphans(session_factory, world) == []
    assert _trial_balance_total(session_factory) == D("0.00")


def test_what_is_left_is_read_in_one_query_with_each_rows_orders_and_lines_and_the_corrections_with_their_reversals(
        session_factory: sessionmaker[Session], world: World, old_rule: Callable[[], Any]) -> None:
    """The credit memo test's invoice and memo (60.00 and -60.00, the same order and line 1):
    one statement reads both rows with their orders, invoice lines, our AP- numbers and the
    supplier's name (it was one more per row for the orders and one for the lines). Corrected
    and the invoice's correction reversed: the corrections, newest first, the memo's -60.00
    standing and the invoice's 60.00 reversed on 15 December."""
    from sqlalchemy import event

    acid_line = _plant(session_factory, world, "120", "52")
    order = _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    with old_rule():
        invoice = enter(session_factory, world, "INV-ACID-1", [(acid_line, "120", "50.50")], net="6060.00",
                        tax="787.80", on=DEC_8)
        memo = enter(session_factory, world, "CM-ACID-1", [(acid_line, "120", "50.50")], net="6060.00",
                     tax="787.80", on=DEC_10, kind=payables.DocumentKind.CREDIT_MEMO, credits=invoice)
    statements: list[str] = []
    with session_factory() as session:
        numbers = dict(session.execute(select(payables.SupplierInvoice.id, payables.SupplierInvoice.document_number)).all())
        engine = session.get_bind()
        listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(engine, "before_cursor_execute", listen)
        try:
            found = wip.orphans(session, [world.companies["A"]])
        finally:
            event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 1, statements
    assert [(o.invoice_id, o.document_number, o.supplier_name_zh, o.invoice_lines, o.orders, o.amount)
            for o in found] == [
        (invoice, numbers[invoice], "华康", (1,), (f"MO-{order:08d}",), D("60.00")),
        (memo, numbers[memo], "华康", (1,), (f"MO-{order:08d}",), D("-60.00"))]
    corrections = _correct(session_factory, world)
    with session_factory() as session, session.begin():
        wip.reverse_correction(session, world.actors["cost_a"], corrections[0].entry_id or 0, DEC_15, reason="wrong")
    with session_factory() as session:
        listed = wip.list_corrections(session, world.actors["cost_a"], world.companies["A"])
    assert [(c.invoice_id, c.document_number, c.amount, c.reversed, c.reversal_date) for c in listed] == [
        (memo, numbers[memo], D("-60.00"), False, None), (invoice, numbers[invoice], D("60.00"), True, DEC_15)]
