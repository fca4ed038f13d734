"""Clerks working on one production order at the same moment, with real threads on
PostgreSQL: the order's row lock, not luck, keeps its delivered quantity equal to what the
ledger received, and no delivery lands after the order is completed."""

from __future__ import annotations

import threading
import time
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.models import StockDocument, StockMovement
from erp.production import rollup
from erp.production.errors import ProductionOrderState, RollupRunConcurrently
from erp.production.models import CostRollup, OrderStatus, ProductionOrder
from tests.production import NOV, NOV_20, NOV_28, build_plant, complete, deliver, make_tablets, release_rollup
from tests.service.test_stock_concurrency import all_at_once
from tests.world import World

pytestmark = pytest.mark.postgres


def _received(session: Session, order: int) -> D:
    return D(session.scalar(
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.reference == f"MO-{order:08d}", StockMovement.movement_type == "production_receipt")))


def test_clerks_delivering_to_one_order_at_once_are_all_counted(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="1000", complete_order=False)
    done, refusals = all_at_once(6, lambda _: deliver(session_factory, world, made.tablet_order, "1000",
                                                      batch="TAB-B1", on=NOV_20))
    assert (len(done), refusals) == (6, [])
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("7000") == _received(session, order.id)


def test_no_delivery_lands_after_the_order_is_completed(session_factory: sessionmaker[Session],
                                                        world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="1000", complete_order=False)

    def work(i: int) -> object:
        if i == 0:
            return complete(session_factory, world, made.tablet_order, NOV_28)
        return deliver(session_factory, world, made.tablet_order, "500", batch="TAB-B1", on=NOV_20)

    done, refusals = all_at_once(5, work)
    assert all(isinstance(r, ProductionOrderState) for r in refusals)
    assert len(done) + len(refusals) == 5
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.status == OrderStatus.COMPLETED
        # every delivery that succeeded was counted, and the ledger agrees
        assert order.delivered_quantity == D("1000") + D("500") * (len(done) - 1) == _received(session, order.id)


def test_two_first_roll_ups_of_a_period_at_once_leave_one_run_and_refuse_the_other(
        session_factory: sessionmaker[Session], world: World) -> None:
    """The first run holds its transaction open after writing its run; the second finds no
    run to replace (the first is not committed), writes its own, waits on the unique index,
    and is refused when the first commits: one run, released once."""
    build_plant(session_factory, world)
    company, cost = world.companies["A"], world.actors["cost_a"]
    outcome: list[object] = []
    with session_factory() as first, first.begin():
        run = rollup.run_rollup(first, cost, company_id=company, period=NOV)

        def second() -> None:
            try:
                with session_factory() as session, session.begin():
                    outcome.append(rollup.run_rollup(session, cost, company_id=company, period=NOV).id)
            except RollupRunConcurrently as refusal:
                outcome.append(refusal)

        thread = threading.Thread(target=second)
        thread.start()
        _wait_until_blocked(session_factory)
        assert outcome == []
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], RollupRunConcurrently)
    with session_factory() as session:
        assert session.scalars(select(CostRollup.id).where(CostRollup.company_id == company)).all() == [run.id]
    with session_factory() as session, session.begin():
        rollup.release_rollup(session, cost, run.id, reason="standard costs")


def test_roll_ups_run_together_from_the_start_are_one_run_or_refused(
        session_factory: sessionmaker[Session], world: World) -> None:
    build_plant(session_factory, world)
    company, cost = world.companies["A"], world.actors["cost_a"]

    def run(_: int) -> int:
        with session_factory() as session, session.begin():
            return rollup.run_rollup(session, cost, company_id=company, period=NOV).id

    done, refusals = all_at_once(4, run)
    assert all(isinstance(r, RollupRunConcurrently) for r in refusals) and done
    with session_factory() as session:
        runs = session.scalars(select(CostRollup.id).where(CostRollup.company_id == company)).all()
    assert len(runs) == 1 and runs[0] in done


def _wait_until_blocked(session_factory: sessionmaker[Session]) -> None:
    """Until another backend waits for a lock (the second run's insert on the index)."""
    for _ in range(200):
        with session_factory() as session:
            if session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                            "AND datname = current_database()")):
                return
        time.sleep(0.05)
    raise AssertionError("the second roll-up never waited for the first")
