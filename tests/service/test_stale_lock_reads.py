"""Postings that waited on their balance rows must see what the transaction they waited for
left, on PostgreSQL with real threads (the pattern: tests/locks.py).

``lock_stock``'s one statement returns the rows that existed when it began: a row it waited on
comes back as the other transaction left it, but a row that transaction inserted (stock it
moved into a status or a batch the place had no row of) is not seen. A posting that trusted
that read refused for want of stock that was there, although a retry succeeded. Each test
here lets a status move (or a transfer into a batch new to the warehouse) commit first while
the other use case waits behind it, and each failed before that use case read its places again
under its locks (``lock_stock(..., reread=True)``): the receipt reversal, the return to the
supplier, the production delivery's reversal, the plain quality decision and the transfer.
Likewise a receipt's reversal reads what of the receipt went back to the supplier once it holds
the order line (which a return locks too), not before it waits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_today
from erp.inventory import services as inventory
from erp.inventory.errors import NotReversible
from erp.inventory.services import AdjustmentKind, QualityDecision
from erp.masterdata.models import Material
from erp.period import Period
from erp.posting.models import StockBalance, StockStatus
from erp.posting.periods import ensure_period
from erp.production import orders
from erp.quality import expiry, monitoring
from erp.quality.errors import InspectionLotOpen
from erp.quality import services as quality
from erp.quality.models import InspectionLot, LotStatus, UsageDecisionKind
from tests.locks import Worker, queued_behind
from tests.production import build_plant, deliver, make_tablets, release_rollup
from tests.quality import qa_signer, specify
from tests.service.test_posting_locks import (
    _cold_excipient,
    _hold_rows,
    _ledger_is_the_balances,
    _on_hand,
    _one_warm_morning,
)
from tests.stock import NOV_20, batch_id, open_order, receive, set_standard
from tests.world import PASSWORD, World

pytestmark = pytest.mark.postgres

NOV_10, NOV_21, NOV_22 = dt.date(2026, 11, 10), dt.date(2026, 11, 21), dt.date(2026, 11, 22)


def _lot_of(session_factory: sessionmaker[Session], document: int) -> int:
    with session_factory() as session:
        lot = session.scalar(select(InspectionLot.id).where(InspectionLot.source_document_id == document))
    assert lot is not None
    return lot


def test_a_receipt_reversal_waiting_on_a_plain_reject_of_its_goods_takes_them_from_blocked(
        session_factory: sessionmaker[Session], world: World) -> None:
    # 10 of the inspected cold API received into quarantine in the cold room (no unrestricted
    # or blocked row of the batch yet). Quality rejects them to blocked while the clerk
    # reverses the receipt; the test holds the quarantine row, the reject waits on it, then
    # the reversal. Let go, the reject moves the 10 into a new blocked row and commits; the
    # reversal's lock statement, begun before, saw the quarantine row empty and not the new
    # one, and refused "only 0 of its batch are still there". Read again under its locks, it
    # takes the 10 from blocked.
    set_standard(session_factory, world, "cold_central", "300.00")
    (line,) = open_order(session_factory, world, [("cold_central", "10", "300.00", "A-COLD")])
    received = receive(session_factory, world, line, "10", batch="REJ-1")
    batch = batch_id(session_factory, world, "cold_central", "REJ-1")
    cold = world.warehouses["A-COLD"]

    def reject(session: Session) -> int:
        return inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=cold, batch_id=batch,
                                           decision=QualityDecision.REJECT, posting_date=NOV_20, reason="damaged")

    def reverse(session: Session) -> int:
        return inventory.reverse_receipt(session, world.actors["clerk_a"], document_id=received,
                                         posting_date=NOV_20, reason="wrong supplier")

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == batch)
        outcomes = queued_behind(holder, [Worker(session_factory, "reject", reject),
                                          Worker(session_factory, "reverse", reverse)])
    assert all(isinstance(outcome, int) for outcome in outcomes.values()), outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert _on_hand(session, StockBalance.batch_id == batch) == {}


def test_a_receipt_reversal_waiting_on_a_return_of_part_of_it_is_refused_for_the_return(
        session_factory: sessionmaker[Session], world: World) -> None:
    # 10 of the local excipient received unrestricted into A-AMB. The clerk returns 4 of them
    # to the supplier (the test's transaction, which holds the order line) while another
    # reverses the receipt, waiting on the line. Let go, the return commits; the reversal is
    # refused because part of the receipt went back to the supplier (not-reversible). It read
    # what had gone back before it waited (nothing), and the stock check then refused "only 6
    # of its batch are still there" (insufficient-stock): the goods were where the return had
    # left them, the reason was the return. Read under the line's lock, the return is seen.
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "10", "10.00", "A-AMB")])
    received = receive(session_factory, world, line, "10", batch="RET-1")
    batch = batch_id(session_factory, world, "exc_local", "RET-1")

    def reverse(session: Session) -> int:
        return inventory.reverse_receipt(session, world.actors["clerk_a"], document_id=received,
                                         posting_date=NOV_20, reason="wrong supplier")

    with session_factory() as holder:
        holder.begin()
        inventory.return_to_supplier(holder, world.actors["clerk_a"], receipt_document_id=received,
                                     posting_date=NOV_20, reason="damaged drums", quantity=D("4"))
        outcomes = queued_behind(holder, [Worker(session_factory, "reverse", reverse)])
    assert isinstance(outcomes["reverse"], NotReversible), outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert _on_hand(session, StockBalance.batch_id == batch) == {(batch, StockStatus.UNRESTRICTED): D("6")}


def test_a_return_waiting_on_block_expired_returns_the_blocked_goods(
        session_factory: sessionmaker[Session], world: World) -> None:
    # 10 of the local excipient received unrestricted into A-AMB on 10 November, expiring on
    # 15 November (no blocked row of the batch yet). block_expired on 20 November blocks it
    # while the clerk returns the receipt to the supplier; the test holds the unrestricted
    # row, block_expired waits on it, then the return. Let go, block_expired moves the 10
    # into a new blocked row and commits; the return's lock statement saw the unrestricted
    # row empty and not the new one, and refused "nothing of receipt ... is left to return".
    # Read again under its locks, it returns the 10 from blocked.
    set_standard(session_factory, world, "exc_local", "10.00")
    with session_factory() as session, session.begin():
        material = session.get(Material, world.materials["exc_local"])
        assert material is not None
        material.min_remaining_shelf_life_days = 1
    (line,) = open_order(session_factory, world, [("exc_local", "10", "10.00", "A-AMB")])
    received = receive(session_factory, world, line, "10", batch="OLD-1", expires=dt.date(2026, 11, 15), on=NOV_10)
    batch = batch_id(session_factory, world, "exc_local", "OLD-1")

    def block(session: Session) -> list[int]:
        return expiry.block_expired(session, world.actors["quality_a"], on=NOV_20)

    def send_back(session: Session) -> int:
        return inventory.return_to_supplier(session, world.actors["clerk_a"], receipt_document_id=received,
                                            posting_date=NOV_20, reason="expired on arrival")

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == batch)
        outcomes = queued_behind(holder, [Worker(session_factory, "block", block),
                                          Worker(session_factory, "return", send_back)])
    assert isinstance(outcomes["block"], list) and len(outcomes["block"]) == 1, outcomes
    assert isinstance(outcomes["return"], int), outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert _on_hand(session, StockBalance.batch_id == batch) == {}


@pytest.mark.parametrize("deliveries", [1, 2])
def test_a_delivery_reversal_waiting_on_qa_releasing_its_lot_takes_the_released_output(
        session_factory: sessionmaker[Session], world: World, deliveries: int) -> None:
    # Tablets need inspection: 2,000 delivered into TAB-B2 go to quarantine under the
    # delivery's lot (and, with two deliveries, 2,000 more under a second lot). QA releases
    # the first delivery's lot while the clerk reverses that delivery; the test holds TAB-B2's
    # quarantine row, the release waits on it, then the reversal. Let go, the release moves
    # the 2,000 into a new unrestricted row and commits. One delivery: the reversal's lock
    # statement saw quarantine empty and not the new row, and refused "batch TAB-B2 no longer
    # holds the 2000"; read again under its locks, it takes them from unrestricted. Two
    # deliveries: it had read QA's decision before it waited (none yet), so it looked in
    # quarantine first and took the second delivery's untested 2,000 in its place, leaving
    # the released ones; QA's decision read under the locks, it takes the released ones.
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    first = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    second = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21) \
        if deliveries == 2 else None
    batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    lot = _lot_of(session_factory, first)
    # The specification and the analyst's results first: only QA's signed decision races.
    specify(session_factory, world, "tablet")
    with session_factory() as session, session.begin():
        spec = quality.spec_for_lot(session, session.get(InspectionLot, lot))
        assert spec is not None
        quality.record_results(session, world.actors["quality_a"], lot_id=lot, results=[
            quality.ResultInput(c.code, text=c.expected_text) if c.expected_text is not None else
            quality.ResultInput(c.code, value=c.minimum if c.minimum is not None else c.maximum)
            for c in spec.characteristics])
    signer = qa_signer(session_factory, world)

    def release(session: Session) -> int:
        document = quality.decide_usage(session, signer, lot_id=lot, decision=UsageDecisionKind.RELEASE,
                                        password=PASSWORD, posting_date=NOV_22).signed().document_id
        assert document is not None
        return document

    def reverse(session: Session) -> int:
        return orders.reverse_delivery(session, world.actors["clerk_a"], made.tablet_order, first,
                                       posting_date=NOV_22, reason="counted twice")

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == batch, StockBalance.status == StockStatus.QUARANTINE)
        outcomes = queued_behind(holder, [Worker(session_factory, "release", release),
                                          Worker(session_factory, "reverse", reverse)])
    assert all(isinstance(outcome, int) for outcome in outcomes.values()), outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        left = {StockStatus.QUARANTINE: D("2000")} if second is not None else {}
        assert {status: quantity for (_, status), quantity in
                _on_hand(session, StockBalance.batch_id == batch).items()} == left
        if second is not None:
            assert session.scalar(select(InspectionLot.status).where(
                InspectionLot.id == _lot_of(session_factory, second))) == LotStatus.OPEN


@pytest.mark.parametrize("decision", [QualityDecision.REJECT, QualityDecision.RELEASE])
def test_a_plain_quality_decision_waiting_on_an_excursions_hold_decides_on_what_it_held(
        session_factory: sessionmaker[Session], world: World, decision: QualityDecision) -> None:
    # The cold excipient (not inspected) in the cold room: 10 unrestricted of batch COLD-1 and
    # 1 found blocked by a count (no quarantine row of the batch). An excursion's hold moves
    # the 10 into quarantine under its lot while quality decides on the batch's quarantine;
    # the test holds the row the decision moves to (blocked for a reject, unrestricted for a
    # release), the hold waits on it (it locks every status), then the decision. Let go, the
    # hold moves the 10 into a new quarantine row and commits; the decision's lock statement
    # saw no quarantine row and refused "batch COLD-1 has nothing in quarantine". Read again
    # under its locks, a reject takes the 10 to blocked (and the excursion's lot loses them),
    # and a release is refused for the excursion's open lot (checked under the locks: checked
    # before, it would release the held stock).
    _cold_excipient(session_factory, world)
    cold = world.warehouses["A-COLD"]
    (line,) = open_order(session_factory, world, [("cold_excipient", "10", "20.00", "A-COLD")])
    receive(session_factory, world, line, "10", batch="COLD-1")
    batch = batch_id(session_factory, world, "cold_excipient", "COLD-1")
    today = business_today()
    with session_factory() as session, session.begin():
        ensure_period(session, world.companies["A"], Period.of(today))
        inventory.adjust_stock(session, world.actors["quality_a"], warehouse_id=cold,
                               material_id=world.materials["cold_excipient"], quantity=D("1"), posting_date=NOV_20,
                               kind=AdjustmentKind.COUNT, reason="found damaged", batch_id=batch,
                               status=StockStatus.BLOCKED)

    def hold(session: Session) -> int:
        return len(monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=cold,
                                              content=_one_warm_morning(NOV_20)).hold_document_ids)

    def decide(session: Session) -> int:
        return inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=cold, batch_id=batch,
                                           decision=decision, posting_date=today, reason="after the excursion")

    target = StockStatus.BLOCKED if decision == QualityDecision.REJECT else StockStatus.UNRESTRICTED
    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == batch, StockBalance.status == target)
        outcomes = queued_behind(holder, [Worker(session_factory, "hold", hold),
                                          Worker(session_factory, "decide", decide)])
    assert outcomes["hold"] == 1, outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        on_hand = _on_hand(session, StockBalance.batch_id == batch)
        lots = session.scalars(select(InspectionLot.status).where(InspectionLot.batch_id == batch)).all()
    if decision == QualityDecision.REJECT:
        assert isinstance(outcomes["decide"], int), outcomes
        assert on_hand == {(batch, StockStatus.BLOCKED): D("11")}
        assert lots == [LotStatus.CANCELLED]
    else:
        assert isinstance(outcomes["decide"], InspectionLotOpen), outcomes
        assert on_hand == {(batch, StockStatus.QUARANTINE): D("10"), (batch, StockStatus.BLOCKED): D("1")}
        assert lots == [LotStatus.OPEN]


def test_a_transfer_waiting_on_a_transfer_into_its_source_takes_the_batch_new_there(
        session_factory: sessionmaker[Session], world: World) -> None:
    # The local excipient: 10 of EARLY and 10 of LATE in A-AMB, 10 of EARLY in A-COOL (no row
    # of LATE there). A transfer of 20 from AMB to COOL (EARLY and LATE, first expiry first)
    # and one of 25 from COOL to the cold room (two routes: no advisory lock serialises them);
    # the test holds COOL's EARLY row, the first transfer waits on it (its destination), then
    # the second (its source). Let go, the first adds 10 to COOL's EARLY and puts 10 of LATE
    # into a new row, and commits; the second's lock statement saw EARLY's 20 and not LATE's
    # row, and refused 25. Read again under its locks, it takes EARLY's 20 and 5 of LATE.
    set_standard(session_factory, world, "exc_local", "10.00")
    lines = open_order(session_factory, world, [("exc_local", "100", "10.00", store)
                                                for store in ("A-AMB", "A-AMB", "A-COOL")])
    early_expiry, late_expiry = dt.date(2028, 3, 1), dt.date(2029, 3, 1)
    receive(session_factory, world, lines[0], "10", batch="EARLY", expires=early_expiry)
    receive(session_factory, world, lines[1], "10", batch="LATE", expires=late_expiry)
    receive(session_factory, world, lines[2], "10", batch="EARLY", expires=early_expiry)
    early, late = (batch_id(session_factory, world, "exc_local", number) for number in ("EARLY", "LATE"))
    amb, cool, cold = (world.warehouses[code] for code in ("A-AMB", "A-COOL", "A-COLD"))

    def transfer(source: int, destination: int, quantity: str) -> Worker:
        def work(session: Session) -> int:
            return inventory.transfer_stock(session, world.actors["clerk_a"], from_warehouse_id=source,
                                            to_warehouse_id=destination, material_id=world.materials["exc_local"],
                                            quantity=D(quantity), posting_date=NOV_20)
        return Worker(session_factory, f"{source} -> {destination}", work)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == early, StockBalance.warehouse_id == cool)
        outcomes = queued_behind(holder, [transfer(amb, cool, "20"), transfer(cool, cold, "25")])
    assert all(isinstance(outcome, int) for outcome in outcomes.values()), outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        where = {(warehouse, batch): quantity for warehouse, batch, quantity in session.execute(
            select(StockBalance.warehouse_id, StockBalance.batch_id, StockBalance.quantity)
            .where(StockBalance.batch_id.in_([early, late]), StockBalance.quantity != 0))}
        assert where == {(cool, late): D("5"), (cold, early): D("20"), (cold, late): D("5")}
