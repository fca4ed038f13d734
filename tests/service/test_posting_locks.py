"""The global lock order of stock postings (erp.posting.stock), on PostgreSQL with real
threads: postings naming the same balances in opposite order, each left waiting on rows
the test holds, then let go together. Locked place by place (or row by row), each would
take one row and wait for the other's: a deadlock, one aborted by PostgreSQL. Locked all
at once in the one order, they post in turn.

The pattern: tests/locks.py. Each test here deadlocked before its use case locked every
place first in one statement (or, for inflows, before the writer wrote them in one sorted
upsert; for opening stock, before the whole file was added in one at the end), or with
that lock taken out again; each also checks that no stock is negative and that the
balances are the ledger's. Two are of another kind: a reopening's restatement reversal
relies on its period lock instead (the issue waits on the period, not on a balance), and
the lock order is written once but checked on the database for both statements made from
it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal as D
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_today
from erp.costing import accounts
from erp.inventory import services as inventory
from erp.inventory.queries import balance_drift, period_totals_drift
from erp.masterdata.models import Material, MaterialType, ProcurementScope
from erp.period import Period
from erp.posting import Document, Line, Movement, Posting, portable_path, post
from erp.posting.models import CloseClass, MovementType, StockBalance, StockStatus
from erp.posting.periods import ensure_period
from erp.production import orders
from erp.quality import expiry, monitoring
from erp.quality import services as quality
from erp.quality.models import ExcursionKind, InspectionLot, LotStatus, StorageExcursion, UsageDecisionKind
from tests.locks import Worker, queued_behind
from tests.production import NOV_10, build_plant, buy, new_order, release_rollup
from tests.quality import qa_signer
from tests.service.test_quality_monitoring import cold_room, cold_room_morning, log  # noqa: F401 - a fixture
from tests.stock import NOV_20, batch_id, open_order, receive, set_standard
from tests.world import PASSWORD, World

pytestmark = pytest.mark.postgres


def _hold_rows(holder: Session, *conditions: object) -> None:
    """Lock the balance rows matching ``conditions`` in ``holder``'s transaction."""
    rows = holder.scalars(select(StockBalance.id).where(*conditions).order_by(StockBalance.id).with_for_update())
    assert rows.all(), "no balance row to hold"


def _all_committed(outcomes: dict[str, object]) -> None:
    assert all(isinstance(outcome, int) or (isinstance(outcome, list) and outcome)
               for outcome in outcomes.values()), outcomes


def _ledger_is_the_balances(session_factory: sessionmaker[Session]) -> None:
    """What every test here ends on: no stock negative, every balance and period total the
    sum of its ledger rows (what ``flask --app erp stock check`` reports)."""
    with session_factory() as session:
        assert session.scalar(select(func.min(StockBalance.quantity))) >= 0
        assert balance_drift(session) == []
        assert period_totals_drift(session) == []


def _on_hand(session: Session, *conditions: object) -> dict[tuple[int, StockStatus], D]:
    """(batch, status) -> quantity of the balances matching ``conditions`` that hold stock."""
    return {(batch, status): quantity for batch, status, quantity in session.execute(
        select(StockBalance.batch_id, StockBalance.status, StockBalance.quantity)
        .where(*conditions, StockBalance.quantity != 0))}


def _cold_excipient(session_factory: sessionmaker[Session], world: World, *, shortest_shelf_life: int | None = None) -> int:
    """A 2-8 °C excipient (not inspected: it is received unrestricted), 20.00 a kg; its id."""
    with session_factory() as session, session.begin():
        kg = session.scalars(select(Material.unit_id).where(Material.id == world.materials["api_central"])).one()
        excipient = Material(code="EXC-COLD", name_zh="冷藏辅料", name_en="cold excipient",
                             material_type=MaterialType.RAW, procurement_scope=ProcurementScope.LOCAL, unit_id=kg,
                             shelf_life_days=1095, batch_managed=True, inspection_required=False,
                             over_receipt_tolerance_pct=D("0"), storage_temp_min=D("2"), storage_temp_max=D("8"),
                             min_remaining_shelf_life_days=shortest_shelf_life)
        session.add(excipient)
        session.flush()
        world.materials["cold_excipient"] = excipient.id
    set_standard(session_factory, world, "cold_excipient", "20.00")
    return world.materials["cold_excipient"]


class _Received(NamedTuple):
    batches: list[int]  # the batches' ids, in the order received (ascending)
    lines: list[int]  # the order's lines, one a batch


def _received_in_turn(session_factory: sessionmaker[Session], world: World, material: str, warehouse: str,
                      price: str, batches: list[tuple[str, str, dt.date, dt.date]], *, ordered: str = "100"
                      ) -> _Received:
    """One purchase order of ``material`` into ``warehouse`` at ``price``, a line of
    ``ordered`` per batch, and a receipt of each (number, quantity, expiry date, posting
    date), one after the other: the batches' ids ascend in that order, whatever their
    expiry dates (what the tests here play the lock order's first expiry first against)."""
    lines = open_order(session_factory, world, [(material, ordered, price, warehouse)] * len(batches))
    for line, (number, quantity, expires, on) in zip(lines, batches, strict=True):
        receive(session_factory, world, line, quantity, batch=number, expires=expires, on=on)
    ids = [batch_id(session_factory, world, material, number) for number, _, _, _ in batches]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    return _Received(ids, lines)


def _late_and_early(session_factory: sessionmaker[Session], world: World, late: dt.date, early: dt.date
                    ) -> _Received:
    """10 each of the local excipient (at 10.00) in A-AMB, on 20 November: batch LATE
    (received first: the lower id) expiring on ``late``, then EARLY expiring on ``early``,
    the first to go."""
    assert early < late
    return _received_in_turn(session_factory, world, "exc_local", "A-AMB", "10.00",
                             [("LATE", "10", late, NOV_20), ("EARLY", "10", early, NOV_20)])


@pytest.fixture
def cold_b_then_a(session_factory: sessionmaker[Session], world: World) -> tuple[int, int, int]:
    """The cold excipient (``_cold_excipient``) in the cold room, 10 of each of two batches:
    B (expiring 1 October 2028) there since 18 November, received first (the lower id), and A
    (expiring 1 March 2027, the first to go) since 20 November; (excipient, B, A)."""
    excipient = _cold_excipient(session_factory, world)
    b, a = _received_in_turn(session_factory, world, "cold_excipient", "A-COLD", "20.00", [
        ("B", "10", dt.date(2028, 10, 1), dt.date(2026, 11, 18)), ("A", "10", dt.date(2027, 3, 1), NOV_20)],
        ordered="10").batches
    return excipient, b, a


@pytest.mark.parametrize("path", ["one statement", "portable"])
def test_postings_adding_to_the_same_balances_in_opposite_order_both_post(
        session_factory: sessionmaker[Session], world: World, path: str) -> None:
    # Two count gains (written straight through the writer) of batches ONE and TWO of the
    # excipient in A-AMB, one listing ONE first, the other TWO first. The test holds ONE,
    # and TWO in a savepoint; each gain waits on the row it adds to first. The test lets TWO
    # go, then ONE. Written in the posting's order of rows (on the one statement, one upsert
    # per row, run by PostgreSQL in reverse), the gain that took TWO waited on ONE while the
    # other, let go first on ONE, waited on TWO: a deadlock. Sorted by balance key in one
    # upsert, both wait on ONE first and post in turn.
    set_standard(session_factory, world, "exc_local", "10.00")
    lines = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")] * 2)
    for line, number in zip(lines, ("ONE", "TWO"), strict=True):
        receive(session_factory, world, line, "10", batch=number)
    one, two = (batch_id(session_factory, world, "exc_local", number) for number in ("ONE", "TWO"))
    warehouse, material = world.warehouses["A-AMB"], world.materials["exc_local"]

    def gain(order: list[int]) -> Worker:
        def work(session: Session) -> int:
            movements = [Movement(MovementType.ADJUSTMENT, CloseClass.INFLOW, warehouse, material, batch,
                                  StockStatus.UNRESTRICTED, D("1"), D("10.00"), offset_account=accounts.STOCK_DIFFERENCES)
                         for batch in order]
            with portable_path() if path == "portable" else nullcontext():
                posted = post(session, Posting(
                    company_id=world.companies["A"], posting_date=NOV_20, user_id=world.users["clerk_a"],
                    document=Document(MovementType.ADJUSTMENT, reason="count gain"), movements=movements,
                    journal=[Line(accounts.RAW_MATERIALS, D("20.00"), material),
                             Line(accounts.STOCK_DIFFERENCES, D("-20.00"), material)],
                    memo="count gain"))
            assert posted.document_id is not None
            return posted.document_id
        return Worker(session_factory, f"gain {order}", work)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == one)
        savepoint = holder.begin_nested()
        _hold_rows(holder, StockBalance.batch_id == two)
        workers = [gain([one, two]), gain([two, one])]
        outcomes = queued_behind(holder, workers, let_go_first=savepoint.rollback)
    _all_committed(outcomes)
    with session_factory() as session:
        assert sorted(session.scalars(select(StockBalance.quantity).where(StockBalance.batch_id.in_([one, two])))) \
            == [D("12"), D("12")]


def test_a_posting_adding_to_batches_and_an_issue_taking_them_first_expiry_first_both_post(
        session_factory: sessionmaker[Session], world: World) -> None:
    # Batch LATE was made first (the lower id), EARLY expires first. A count gain adds to
    # both; an issue takes 15, EARLY then LATE (first expiry first). The test holds LATE, and
    # EARLY in a savepoint, lets EARLY go, then LATE. Inflows sorted by batch id, the gain
    # waited on LATE, the issue took EARLY and waited on LATE, and once let go the gain took
    # LATE and waited on EARLY: a deadlock. Sorted as balances are locked (first expiry first),
    # the gain waits on EARLY first, as the issue does.
    set_standard(session_factory, world, "exc_local", "10.00")
    late, early = _late_and_early(session_factory, world, dt.date(2028, 6, 30), dt.date(2027, 6, 30)).batches
    warehouse, material = world.warehouses["A-AMB"], world.materials["exc_local"]

    def gain(session: Session) -> int:
        posted = post(session, Posting(
            company_id=world.companies["A"], posting_date=NOV_20, user_id=world.users["clerk_a"],
            document=Document(MovementType.ADJUSTMENT, reason="count gain"),
            movements=[Movement(MovementType.ADJUSTMENT, CloseClass.INFLOW, warehouse, material, batch,
                                StockStatus.UNRESTRICTED, D("1"), D("10.00"), offset_account=accounts.STOCK_DIFFERENCES)
                       for batch in (early, late)],
            journal=[Line(accounts.RAW_MATERIALS, D("20.00"), material),
                     Line(accounts.STOCK_DIFFERENCES, D("-20.00"), material)],
            memo="count gain"))
        assert posted.document_id is not None
        return posted.document_id

    def issue(session: Session) -> int:
        return inventory.issue_goods(session, world.actors["clerk_a"], warehouse_id=warehouse, material_id=material,
                                     quantity=D("15"), posting_date=NOV_20,
                                     destination=inventory.IssueDestination.PRODUCTION)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == late)
        savepoint = holder.begin_nested()
        _hold_rows(holder, StockBalance.batch_id == early)
        outcomes = queued_behind(holder, [Worker(session_factory, "gain", gain),
                                          Worker(session_factory, "issue", issue)], let_go_first=savepoint.rollback)
    _all_committed(outcomes)
    with session_factory() as session:
        assert sum(session.scalars(select(StockBalance.quantity).where(StockBalance.batch_id.in_([late, early]))),
                   D(0)) == D("7")


def test_an_issue_reversal_and_an_issue_taking_the_same_batches_first_expiry_first_both_post(
        session_factory: sessionmaker[Session], world: World) -> None:
    # Batch LATE was received first (the lower id), EARLY expires first; 10 each. An issue of
    # 15 took EARLY 10 and LATE 5; EARLY was received again, so both hold stock. The issue's
    # reversal puts 10 back into EARLY and 5 into LATE while another issue takes 5, EARLY then
    # LATE (first expiry first). The test holds LATE, and EARLY in a savepoint, lets EARLY go,
    # then LATE. With the reversal's inflows written by batch id (before 7923540), it waited on
    # LATE while the issue took EARLY and waited on LATE; let go, the reversal took LATE and
    # waited on EARLY: a deadlock. The reversal locks every row it adds to first, in one
    # statement in the one order (EARLY first), as the issue does.
    set_standard(session_factory, world, "exc_local", "10.00")
    (late, early), lines = _late_and_early(session_factory, world, dt.date(2028, 10, 1), dt.date(2027, 3, 1))
    warehouse, material = world.warehouses["A-AMB"], world.materials["exc_local"]

    def issue(quantity: str) -> Callable[[Session], int]:
        def work(session: Session) -> int:
            return inventory.issue_goods(session, world.actors["clerk_a"], warehouse_id=warehouse,
                                         material_id=material, quantity=D(quantity), posting_date=NOV_20,
                                         destination=inventory.IssueDestination.PRODUCTION)
        return work

    with session_factory() as session, session.begin():
        issued = issue("15")(session)
    receive(session_factory, world, lines[1], "10", batch="EARLY", expires=dt.date(2027, 3, 1))
    with session_factory() as session:
        assert dict(session.execute(select(StockBalance.batch_id, StockBalance.quantity)
                                    .where(StockBalance.batch_id.in_([late, early]))).all()) \
            == {late: D("5"), early: D("10")}

    def reversal(session: Session) -> int:
        return inventory.reverse_issue(session, world.actors["clerk_a"], document_id=issued, posting_date=NOV_20,
                                       reason="issued in error")

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == late)
        savepoint = holder.begin_nested()
        _hold_rows(holder, StockBalance.batch_id == early)
        outcomes = queued_behind(holder, [Worker(session_factory, "reversal", reversal),
                                          Worker(session_factory, "issue", issue("5"))],
                                 let_go_first=savepoint.rollback)
    _all_committed(outcomes)
    with session_factory() as session:
        assert dict(session.execute(select(StockBalance.batch_id, StockBalance.quantity)
                                    .where(StockBalance.batch_id.in_([late, early]))).all()) \
            == {late: D("10"), early: D("15")}


def test_transfers_around_a_ring_of_warehouses_all_post(
        session_factory: sessionmaker[Session], world: World) -> None:
    # The excipient in A's three stores; transfers AMB -> COOL, COOL -> COLD, COLD -> AMB
    # (three routes: no advisory lock serialises them). The test holds all three balances;
    # each transfer waits on its source. Locked source first and destination as the posting
    # added to it, each then held its source and waited on the next one's: a deadlock of
    # three. Source and destination locked in one statement, in warehouse order, they queue.
    set_standard(session_factory, world, "exc_local", "10.00")
    stores = ["A-AMB", "A-COOL", "A-COLD"]
    lines = open_order(session_factory, world, [("exc_local", "100", "10.00", store) for store in stores])
    for line in lines:
        receive(session_factory, world, line, "50", batch="RING")
    ring = batch_id(session_factory, world, "exc_local", "RING")

    def transfer(source: str, destination: str) -> Worker:
        def work(session: Session) -> int:
            return inventory.transfer_stock(
                session, world.actors["clerk_a"], from_warehouse_id=world.warehouses[source],
                to_warehouse_id=world.warehouses[destination], material_id=world.materials["exc_local"],
                quantity=D("10"), posting_date=NOV_20)
        return Worker(session_factory, f"{source} -> {destination}", work)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == ring)
        outcomes = queued_behind(holder, [transfer(a, b) for a, b in zip(stores, stores[1:] + stores[:1])])
    _all_committed(outcomes)
    with session_factory() as session:
        assert session.scalars(select(StockBalance.quantity).where(StockBalance.batch_id == ring)).all() \
            == [D("50")] * 3


def test_two_production_orders_issued_the_same_components_in_opposite_order_both_post(
        session_factory: sessionmaker[Session], world: World) -> None:
    # Two API orders; one issues acid then solvent, the other solvent then acid. The test
    # holds both components' stock; each issue waits on its first component. Taken line by
    # line, each then held its first and waited on the other's (deadlock); all the lines'
    # stock locked first in one statement, both wait on the same row first.
    build_plant(session_factory, world)
    release_rollup(session_factory, world)
    acid = buy(session_factory, world, "acid", "150", "50.00", "ACID-1")
    solvent = buy(session_factory, world, "solvent", "60", "20.00", "SOLV-1", supplier="sup2")
    first, second = new_order(session_factory, world, "api", "10"), new_order(session_factory, world, "api", "10")

    def issue(order: int, items: list[tuple[str, str]]) -> Worker:
        def work(session: Session) -> list[int]:
            return orders.issue_components(
                session, world.actors["clerk_a"], order, warehouse_id=world.warehouses["A-AMB"], posting_date=NOV_10,
                items=[orders.IssueItem(world.materials[m], D(q)) for m, q in items], over_issue_reason="rework")
        return Worker(session_factory, f"order {order}", work)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id.in_([acid, solvent]))
        outcomes = queued_behind(holder, [issue(first, [("acid", "12"), ("solvent", "5")]),
                                          issue(second, [("solvent", "5"), ("acid", "12")])])
    _all_committed(outcomes)
    with session_factory() as session:
        left = dict(session.execute(select(StockBalance.batch_id, StockBalance.quantity)
                                    .where(StockBalance.batch_id.in_([acid, solvent]))).all())
        assert left == {acid: D("126"), solvent: D("50")}


def test_a_qa_release_and_an_excursions_hold_of_the_same_batch_both_post(
        session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]) -> None:
    # INS-1 in the cold room: 10 released, 5 more received into quarantine under a lot QA
    # releases (quarantine -> unrestricted) while an excursion's hold moves the batch's
    # unrestricted stock into quarantine (the other way). The test holds both rows; the
    # release waits on quarantine, the hold on unrestricted. Locked one status after the
    # other, each took its first and waited on the other's (deadlock); both statuses locked
    # in one statement, in the one order, they queue.
    (line,) = open_order(session_factory, world, [("cold_central", "5", "300.00", "A-COLD")])
    receive(session_factory, world, line, "5", batch="INS-1")
    ins = cold_room["INS-1"]
    with session_factory() as session:
        lot = session.scalars(select(InspectionLot).where(InspectionLot.batch_id == ins,
                                                          InspectionLot.status == LotStatus.OPEN)).one()
    with session_factory() as session, session.begin():
        quality.record_results(session, world.actors["quality_a"], lot_id=lot.id,
                               results=[quality.ResultInput("APPEARANCE", text="conforms")])
    signer = qa_signer(session_factory, world)

    def release(session: Session) -> int:
        document = quality.decide_usage(session, signer, lot_id=lot.id, decision=UsageDecisionKind.RELEASE,
                                        password=PASSWORD, posting_date=NOV_20).signed().document_id
        assert document is not None
        return document

    def hold(session: Session) -> int:
        return len(monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-COLD"],
                                              content=log(cold_room_morning(60, 45))).hold_document_ids)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == ins, StockBalance.warehouse_id == world.warehouses["A-COLD"])
        outcomes = queued_behind(holder, [Worker(session_factory, "release", release),
                                          Worker(session_factory, "hold", hold)])
    _all_committed(outcomes)
    assert outcomes["hold"] == 1
    with session_factory() as session:
        where = dict(session.execute(select(StockBalance.status, StockBalance.quantity).where(
            StockBalance.batch_id == ins, StockBalance.quantity != 0)).all())
        assert sum(where.values(), D(0)) == D("15")


def test_an_excursions_hold_waiting_on_a_qa_release_of_a_batch_all_in_quarantine_holds_what_it_released(
        session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]) -> None:
    # INS-2 in the cold room, all 5 of it in quarantine under its receipt's lot (no
    # unrestricted row yet). QA releases it while an excursion's hold of the room's batches
    # (INS-1 and INS-2) runs. The test holds INS-2's quarantine row; the release waits on it,
    # then the hold. Let go, the release moves the 5 into a new unrestricted row and commits;
    # the hold's lock statement, begun before, sees the quarantine row empty and not the new
    # one. Trusting that read, the hold neither held nor referenced INS-2: released goods the
    # excursion touched, unrestricted and on no one's worklist. Read again under its locks
    # (lock_stock's reread), it holds them, as it does when the unrestricted row existed.
    (line,) = open_order(session_factory, world, [("cold_central", "5", "300.00", "A-COLD")])
    receive(session_factory, world, line, "5", batch="INS-2")
    ins2 = batch_id(session_factory, world, "cold_central", "INS-2")
    with session_factory() as session, session.begin():
        ensure_period(session, world.companies["A"], Period.of(business_today()))
        lot = session.scalars(select(InspectionLot).where(InspectionLot.batch_id == ins2,
                                                          InspectionLot.status == LotStatus.OPEN)).one()
        quality.record_results(session, world.actors["quality_a"], lot_id=lot.id,
                               results=[quality.ResultInput("APPEARANCE", text="conforms")])
    signer = qa_signer(session_factory, world)

    def release(session: Session) -> int:
        document = quality.decide_usage(session, signer, lot_id=lot.id, decision=UsageDecisionKind.RELEASE,
                                        password=PASSWORD, posting_date=NOV_20).signed().document_id
        assert document is not None
        return document

    def hold(session: Session) -> int:
        return len(monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-COLD"],
                                              content=log(cold_room_morning(60, 45))).hold_document_ids)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == ins2, StockBalance.status == StockStatus.QUARANTINE)
        outcomes = queued_behind(holder, [Worker(session_factory, "release", release),
                                          Worker(session_factory, "hold", hold)])
    _all_committed(outcomes)
    assert outcomes["hold"] == 1
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert _on_hand(session, StockBalance.batch_id.in_([cold_room["INS-1"], ins2])) == {
            (cold_room["INS-1"], StockStatus.QUARANTINE): D("10"), (ins2, StockStatus.QUARANTINE): D("5")}
        assert session.scalars(select(InspectionLot.batch_id).where(
            InspectionLot.batch_id == ins2, InspectionLot.status == LotStatus.OPEN)).all() == [ins2]


def test_two_excursions_held_in_one_import_and_an_issue_taking_their_batches_first_expiry_first_both_post(
        session_factory: sessionmaker[Session], world: World, cold_b_then_a: tuple[int, int, int]) -> None:
    # A 2-8 °C excipient (not inspected: it is received unrestricted) in the cold room: batch
    # B (expiring 2028) there since 18 November, batch A (expiring 2027, the first to go) since
    # 20 November. One sensor log brings two excursions: on 19 November (it touched B only)
    # and on 20 November (A and B). An issue takes A then B (first expiry first). The test
    # holds A; the issue waits on A; the import holds B for the first excursion and waits on A
    # for the second. Let go, the issue took A and waited on B: a deadlock, as long as the
    # import locked stock excursion by excursion. All the excursions' batches locked in one
    # statement first, the import waits on A holding none of them, as the issue does.
    excipient, b, a = cold_b_then_a
    cold = world.warehouses["A-COLD"]
    # four hours of readings on each day, at 9.5 °C for 45 minutes of each
    first_day = dt.datetime(2026, 11, 19, 0, 0, tzinfo=dt.UTC)
    readings = [(first_day + dt.timedelta(days=day, minutes=i), "9.50" if 60 <= i < 105 else "5.00", "55")
                for day in (0, 1) for i in range(240)]

    def hold(session: Session) -> int:
        return len(monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=cold,
                                              content=log(readings)).hold_document_ids)

    def issue(session: Session) -> int:
        return inventory.issue_goods(session, world.actors["clerk_a"], warehouse_id=cold,
                                     material_id=excipient, quantity=D("12"), posting_date=NOV_20,
                                     destination=inventory.IssueDestination.PRODUCTION)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == a)
        outcomes = queued_behind(holder, [Worker(session_factory, "issue", issue),
                                          Worker(session_factory, "hold", hold)])
    _all_committed(outcomes)
    with session_factory() as session:
        excursions = session.scalars(select(StorageExcursion).where(
            StorageExcursion.warehouse_id == cold, StorageExcursion.kind == ExcursionKind.OUT_OF_RANGE)).all()
        assert len(excursions) == 2 and all(excursion.held for excursion in excursions)
        left = {(batch, status): quantity for batch, status, quantity in session.execute(
            select(StockBalance.batch_id, StockBalance.status, StockBalance.quantity).where(
                StockBalance.batch_id.in_([a, b]), StockBalance.quantity != 0))}
        # the issue took A's 10 and 2 of B; the first excursion held the 8 of B left
        assert left == {(b, StockStatus.QUARANTINE): D("8")}


def _one_warm_morning(day: dt.date) -> str:
    """A cold room's sensor log of four hours on ``day`` (from 08:00 in Beijing), at 9.5 °C
    for 45 minutes of them: one excursion."""
    start = dt.datetime(day.year, day.month, day.day, 0, 0, tzinfo=dt.UTC)
    return log([(start + dt.timedelta(minutes=i), "9.50" if 60 <= i < 105 else "5.00", "55") for i in range(240)])


def test_an_excursions_hold_of_two_batches_and_a_shipment_taking_them_first_expiry_first_both_post(
        session_factory: sessionmaker[Session], world: World, cold_b_then_a: tuple[int, int, int]) -> None:
    # The cold excipient in the cold room: batch B (expiring 2028, the lower id) there since
    # 18 November, batch A (expiring 2027, the first to go) since 20 November. One excursion
    # on 20 November touched both; a shipment of 12 takes A then B (first expiry first). The
    # test holds A; the shipment waits on it; then the sensor log is imported. Locking the
    # excursion's batches one by one (by batch id), the hold took B and waited on A; let go,
    # the shipment took A and waited on B: a deadlock. All of them in one statement in the one
    # order, the hold waits on A holding none of them, as the shipment does.
    excipient, b, a = cold_b_then_a
    cold = world.warehouses["A-COLD"]

    def ship(session: Session) -> int:
        return inventory.ship_goods(session, world.actors["clerk_a"], warehouse_id=cold, material_id=excipient,
                                    quantity=D("12"), posting_date=NOV_20, customer_id=world.customers["cust1"],
                                    reference="SO-COLD-1")

    def hold(session: Session) -> int:
        return len(monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=cold,
                                              content=_one_warm_morning(NOV_20)).hold_document_ids)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == a)
        outcomes = queued_behind(holder, [Worker(session_factory, "shipment", ship),
                                          Worker(session_factory, "hold", hold)])
    _all_committed(outcomes)
    assert outcomes["hold"] == 1
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        left = {(batch, status): quantity for batch, status, quantity in session.execute(
            select(StockBalance.batch_id, StockBalance.status, StockBalance.quantity).where(
                StockBalance.batch_id.in_([a, b]), StockBalance.quantity != 0))}
        # the shipment took A's 10 and 2 of B; the excursion held the 8 of B left
        assert left == {(b, StockStatus.QUARANTINE): D("8")}


def _two_expired_batches_and_a_fresh_one(session_factory: sessionmaker[Session], world: World, material: str,
                                         warehouse: str) -> tuple[int, int, int]:
    """10 each of batch LATE (received first: the lower id; expiring 19 November) and EARLY
    (received next, expiring 15 November), both received on 10 November, and 20 of FRESH
    (expiring 2029) on 20 November, unrestricted; their ids (LATE, EARLY, FRESH)."""
    price = "20.00" if material == "cold_excipient" else "10.00"
    late, early, fresh = _received_in_turn(session_factory, world, material, warehouse, price, [
        ("LATE", "10", dt.date(2026, 11, 19), dt.date(2026, 11, 10)),
        ("EARLY", "10", dt.date(2026, 11, 15), dt.date(2026, 11, 10)),
        ("FRESH", "20", dt.date(2029, 9, 30), NOV_20)], ordered="20").batches
    return late, early, fresh


def test_blocking_two_expired_batches_and_an_issue_passing_over_them_first_expiry_first_both_post(
        session_factory: sessionmaker[Session], world: World) -> None:
    # Batches LATE (the lower id) and EARLY expired on 19 and 15 November; FRESH has not. An
    # issue on 20 November locks the place's rows first expiry first (EARLY, LATE, FRESH),
    # passes over the expired ones and takes FRESH; block_expired on 20 November blocks LATE
    # and EARLY. The test holds EARLY; the issue waits on it; then block_expired runs. Locking
    # the due rows one by one in the order it found them (by batch id), block_expired took LATE
    # and waited on EARLY; let go, the issue took EARLY and waited on LATE: a deadlock. Every
    # due row and its blocked row in one statement in the one order, it waits on EARLY
    # holding none of them.
    set_standard(session_factory, world, "exc_local", "10.00")
    with session_factory() as session, session.begin():
        material = session.get(Material, world.materials["exc_local"])
        assert material is not None
        material.min_remaining_shelf_life_days = 1
    late, early, fresh = _two_expired_batches_and_a_fresh_one(session_factory, world, "exc_local", "A-AMB")

    def issue(session: Session) -> int:
        return inventory.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                                     material_id=world.materials["exc_local"], quantity=D("5"), posting_date=NOV_20,
                                     destination=inventory.IssueDestination.PRODUCTION)

    def block(session: Session) -> list[int]:
        return expiry.block_expired(session, world.actors["quality_a"], on=NOV_20)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == early)
        outcomes = queued_behind(holder, [Worker(session_factory, "issue", issue),
                                          Worker(session_factory, "block", block)])
    _all_committed(outcomes)
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert _on_hand(session, StockBalance.batch_id.in_([late, early, fresh])) == {
            (late, StockStatus.BLOCKED): D("10"), (early, StockStatus.BLOCKED): D("10"),
            (fresh, StockStatus.UNRESTRICTED): D("15")}


@pytest.mark.parametrize("first", ["block", "hold"])
def test_blocking_two_expired_batches_and_an_excursions_hold_of_them_both_post(
        session_factory: sessionmaker[Session], world: World, first: str) -> None:
    # Two quality postings over the same two batches of the cold excipient: LATE (the lower
    # id, expired 19 November) and EARLY (expired 15 November), and FRESH, all in the cold
    # room on 20 November. An excursion on 20 November touched all three; its hold moves
    # their unrestricted stock to quarantine, block_expired moves LATE's and EARLY's to
    # blocked. The test holds EARLY; one of them waits on it, then the other starts. Whichever
    # locked its batches one by one by batch id took LATE and waited on EARLY while the other,
    # let go, took EARLY and waited on LATE: a deadlock ("block" first catches the hold's,
    # "hold" first block_expired's). Each locking all its rows in one statement in the one
    # order, the second waits on EARLY holding none of them, and both commit. And either way
    # round, both expired batches end blocked after one run of each: "hold" first, the hold
    # moved LATE and EARLY into quarantine rows block_expired's lock statement (begun before
    # the hold committed) could not see; it read them again under its locks (before, it
    # blocked nothing and left them in quarantine, their lots closed, until its next run).
    excipient = _cold_excipient(session_factory, world, shortest_shelf_life=1)
    late, early, fresh = _two_expired_batches_and_a_fresh_one(session_factory, world, "cold_excipient", "A-COLD")
    cold = world.warehouses["A-COLD"]
    with session_factory() as session, session.begin():
        # The period of the business day exists: the first to open it would hold the company's
        # calendar, and the other would queue there before locking any stock.
        ensure_period(session, world.companies["A"], Period.of(business_today()))

    def block(session: Session) -> list[int]:
        # on the day the hold is dated (the business day it is found), so that either sees
        # what the other moved
        return expiry.block_expired(session, world.actors["quality_a"], on=business_today())

    def hold(session: Session) -> int:
        return len(monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=cold,
                                              content=_one_warm_morning(NOV_20)).hold_document_ids)

    workers = {"block": Worker(session_factory, "block", block), "hold": Worker(session_factory, "hold", hold)}
    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == early, StockBalance.status == StockStatus.UNRESTRICTED)
        outcomes = queued_behind(holder, [workers[first], workers["hold" if first == "block" else "block"]])
    assert outcomes["hold"] == 1, outcomes
    # whichever committed first, block_expired's one run blocked both expired batches: held
    # first, it had read LATE and EARLY unrestricted before it waited, and read them again
    # (in quarantine) under its locks
    assert isinstance(outcomes["block"], list) and len(outcomes["block"]) == 1, outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert session.scalars(select(StorageExcursion.held).where(StorageExcursion.warehouse_id == cold)).all() \
            == [True]
        assert _on_hand(session, StockBalance.material_id == excipient) == {
            (late, StockStatus.BLOCKED): D("10"), (early, StockStatus.BLOCKED): D("10"),
            (fresh, StockStatus.QUARANTINE): D("20")}
        # no lot left open on an expired batch (the hold's, if it came first, closed as
        # expired), FRESH's excursion lot open
        open_lots = session.scalars(select(InspectionLot.batch_id).where(
            InspectionLot.material_id == excipient, InspectionLot.status == LotStatus.OPEN)).all()
        assert open_lots == [fresh]


def test_opening_stock_in_two_parts_and_an_issue_taking_the_same_batches_first_expiry_first_both_post(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Company A already holds 10 each of batch LATE (received first: the lower id) and EARLY
    # (expiring first) when its opening stock is imported: 5 more of each, LATE's row first,
    # read one row a chunk (a 100,000-row file is read 2,000 rows at a time). An issue takes
    # 15, EARLY then LATE (first expiry first). The test holds EARLY; the issue waits on it;
    # then the import runs. Adding each chunk to its balances as it was read, the import held
    # LATE and waited on EARLY; let go, the issue took EARLY and waited on LATE: a deadlock.
    # The import adds the whole file to its balances in one statement in the lock order
    # (erp.posting.bulk.BulkPosting.finish), and waits on EARLY holding none of them.
    from erp.golive import framework
    from erp.golive.kinds import KINDS
    from tests.golive.helpers import Recorder, write_csv

    monkeypatch.setattr(framework, "CHUNK_ROWS", 1)
    go_live = dt.date(2026, 12, 1)
    set_standard(session_factory, world, "exc_local", "10.00")
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-12")
    expiries = {"LATE": dt.date(2028, 10, 1), "EARLY": dt.date(2027, 3, 1)}
    late, early = _late_and_early(session_factory, world, expiries["LATE"], expiries["EARLY"]).batches
    opening = write_csv(tmp_path / "opening.csv", [
        ["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "库存状态", "数量", "标准成本金额", "材料成本差异"],
        *(["CA-AMB", "EXC-STAR", number, "2026-10-01", expiries[number].isoformat(), "", "5", "", ""]
          for number in ("LATE", "EARLY"))])

    def take_over(session: Session) -> object:
        outcome = framework.execute_import(
            session, world.actors["cost_a"], KINDS["opening_stock"], opening, file_name=opening.name,
            company_id=world.companies["A"], dry_run=False, progress=Recorder(), go_live_date=go_live)
        return outcome.batch_id if outcome.committed else outcome

    def issue(session: Session) -> int:
        return inventory.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                                     material_id=world.materials["exc_local"], quantity=D("15"), posting_date=NOV_20,
                                     destination=inventory.IssueDestination.PRODUCTION)

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == early)
        outcomes = queued_behind(holder, [Worker(session_factory, "issue", issue),
                                          Worker(session_factory, "opening stock", take_over, own_transactions=True)])
    _all_committed(outcomes)
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert dict(session.execute(select(StockBalance.batch_id, StockBalance.quantity)
                                    .where(StockBalance.batch_id.in_([late, early]))).all()) \
            == {late: D("10"), early: D("5")}


def _rows_waited_for(session_factory: sessionmaker[Session], pid: int) -> list[str]:
    """The tables of the rows backend ``pid`` queues for (its tuple locks, granted to the
    first in the queue, asked for by the rest)."""
    with session_factory() as watcher:
        return list(watcher.scalars(text("SELECT relation::regclass::text FROM pg_locks "
                                         "WHERE pid = :pid AND locktype = 'tuple'"), {"pid": pid}))


@pytest.mark.parametrize("first", ["reopening", "issue"])
def test_reopening_a_period_and_an_issue_of_the_restated_stock_both_post(
        session_factory: sessionmaker[Session], world: World, first: str) -> None:
    # November closed with December's standard at 12.00: the close restated batches R1 and R2
    # (10 kg each, received at 10.00). Reopening November reverses that restatement, adding
    # to both balances again without lock_stock; an issue in December takes 15 of R1 and R2.
    # The test holds both balances. The reopening holds November and every later period of
    # the company exclusively before any balance (erp.costing.revaluation.reverse_restatement),
    # and every posting takes its period before any balance: so whichever starts second
    # waits on the other's period lock holding no balance, and both post. Reopening first,
    # the issue queues on the period row, not on a balance: without the exclusion it queued
    # on R1's balance behind the reopening, holding its period open.
    from erp.costing import close as closing

    set_standard(session_factory, world, "exc_local", "10.00")
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-12")
    lines = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")] * 2)
    for line, number in zip(lines, ("R1", "R2"), strict=True):
        receive(session_factory, world, line, "10", batch=number)
    r1, r2 = (batch_id(session_factory, world, "exc_local", number) for number in ("R1", "R2"))
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert sorted(session.scalars(select(StockBalance.value).where(StockBalance.batch_id.in_([r1, r2])))) \
            == [D("120.00"), D("120.00")]

    def reopen(session: Session) -> int:
        closing.reopen_period(session, world.actors["cost_group"], company_id=company, period="2026-11",
                              reason="a supplier credit note came late")
        return 1

    def issue(session: Session) -> int:
        return inventory.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                                     material_id=world.materials["exc_local"], quantity=D("15"),
                                     posting_date=dt.date(2026, 12, 10),
                                     destination=inventory.IssueDestination.PRODUCTION)

    workers = {"reopening": Worker(session_factory, "reopening", reopen), "issue": Worker(session_factory, "issue", issue)}
    second = workers["issue" if first == "reopening" else "reopening"]

    def second_waits_on_a_period() -> None:
        assert second.pid is not None
        assert _rows_waited_for(session_factory, second.pid) == ["accounting_periods"]

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id.in_([r1, r2]))
        outcomes = queued_behind(holder, [workers[first], second], let_go_first=second_waits_on_a_period)
    _all_committed(outcomes)
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert sum(session.scalars(select(StockBalance.quantity).where(StockBalance.batch_id.in_([r1, r2]))), D(0)) \
            == D("5")


@pytest.mark.parametrize("seed", range(3))
def test_inflows_are_written_in_the_order_balances_are_locked_in(
        session_factory: sessionmaker[Session], world: World, seed: int) -> None:
    # The lock order is written once (erp.posting.writer.lock_order); this checks the two
    # statements made from it still sort alike on the database: lock_stock's SELECT ... FOR
    # UPDATE of existing balances (_LOCK_ORDER) and a posting's inflows (in_lock_order, over
    # bound values, not the table's columns), on generated balances: batches made in random
    # order with random expiries (some equal, some none), in two warehouses, three statuses
    # and two materials, listed to in_lock_order shuffled.
    import random

    from sqlalchemy import literal, union_all

    from erp.posting.models import Batch
    from erp.posting.stock import _LOCK_ORDER, _held_stock_query
    from erp.posting.writer import _BALANCES, BALANCE_COLUMNS, in_lock_order

    generated = random.Random(seed)
    expiries = [None, dt.date(2027, 1, 31), dt.date(2027, 6, 30), dt.date(2028, 2, 29)]
    with session_factory() as session:  # never committed: closed, the session rolls the rows back
        keys = []
        for material in ("exc_local", "api_central"):
            for number in range(8):
                batch = Batch(material_id=world.materials[material], batch_number=f"GEN-{seed}-{number}",
                              expiry_date=generated.choice(expiries))
                session.add(batch)
                session.flush()
                keys += [(world.warehouses[warehouse], world.materials[material], batch.id, status)
                         for warehouse in ("A-AMB", "A-COOL") for status in StockStatus
                         if generated.random() < 0.6]
        session.add_all(StockBalance(company_id=world.companies["A"], warehouse_id=w, material_id=m, batch_id=b,
                                     status=s, quantity=D("1"), value=D("1.00")) for w, m, b, s in keys)
        session.flush()
        locked = [(row.warehouse_id, row.material_id, row.batch_id, row.status) for row in session.execute(
            _held_stock_query().where(StockBalance.batch_id.in_({b for _, _, b, _ in keys})).order_by(*_LOCK_ORDER))]
        listed = generated.sample(keys, len(keys))
        inflows = union_all(*(select(*(literal(value, _BALANCES.c[name].type).label(name) for name, value in zip(
            BALANCE_COLUMNS, (world.companies["A"], w, m, b, s, D("1"), D("1.00"), NOV_20), strict=True)))
            for w, m, b, s in listed)).subquery("inflows")
        written = [(row.warehouse_id, row.material_id, row.batch_id, StockStatus(row.status))
                   for row in session.execute(in_lock_order(inflows))]
    assert len(locked) == len(keys) > 20
    assert written == locked


def test_a_receipt_of_one_line_sends_the_statements_it_did(
        session_factory: sessionmaker[Session], world: World) -> None:
    # The hot path (issue 18): the lock order adds no statement to a single-line receipt
    # (one balance row: nothing to order). Counted through the service layer.
    from tests.statements import statements

    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    receive(session_factory, world, line, "10", batch="FIRST")  # opens the period, changes the order's status
    with session_factory() as session, session.begin():
        with statements(session.get_bind()) as sent:  # type: ignore[arg-type]
            inventory.receive_goods(session, world.actors["clerk_a"], inventory.ReceiptRequest(
                po_line_id=line, quantity=D("10"), posting_date=NOV_20, batch_number="SECOND",
                manufacture_date=dt.date(2026, 10, 1), expiry_date=dt.date(2028, 10, 1)))
    print(f"RECEIPT STATEMENTS {len(sent)}")
    assert len(sent) == RECEIPT_STATEMENTS, "\n\n".join(sent)


RECEIPT_STATEMENTS = 8

