"""Numbering, contract overlaps and consumption when many transactions run at once.

The threaded tests need real row locks and run on PostgreSQL (SQLite runs one writer at a
time, which proves nothing about locking).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing import services
from erp.purchasing.errors import ContractOverlap
from erp.purchasing.models import ContractLine, ContractScope, PurchaseOrder
from tests.purchasing_world import Deals
from tests.world import World


def test_a_series_counts_from_one_and_each_series_on_its_own(session: Session) -> None:
    with session.begin():
        taken = [services.next_in_series(session, s) for s in ("PO-CA-2026", "PO-CA-2026", "PO-GROUP-2026",
                                                               "PO-CA-2027", "PO-CA-2026")]
    assert taken == [1, 2, 1, 1, 3]


def test_a_rolled_back_transaction_gives_its_number_back(session: Session) -> None:
    with session.begin():
        assert services.next_in_series(session, "PO-CB-2026") == 1
    session.begin()
    assert services.next_in_series(session, "PO-CB-2026") == 2
    session.rollback()
    with session.begin():
        assert services.next_in_series(session, "PO-CB-2026") == 2


def test_order_numbers_carry_the_year_of_the_order_date(
    session_factory: sessionmaker[Session], world: World, deals: Deals, set_business_day: Any
) -> None:
    next_year = dt.date(deals.today.year + 1, 1, 1)
    if next_year > deals.valid_to:  # keep inside the contracts' validity
        next_year = deals.valid_to
    set_business_day(next_year)  # an order is dated the day it is placed
    with session_factory() as session, session.begin():
        order = services.create_purchase_order(
            session, world.actors["buyer_a"], receiving_company_id=world.companies["A"],
            supplier_id=world.suppliers["sup1"], order_date=next_year,
            lines=[{"material_id": world.materials["exc_local"], "quantity": Decimal("1"),
                    "warehouse_id": world.warehouses["A-AMB"]}],
        )
    assert order.number == f"PO-CA-{next_year.year}-000001"


def capture(work: Callable[[], Any]) -> Any:
    """The result of ``work()``, or the exception it raised (for the test to assert on)."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001
        return exc


def run_in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads started together; results (or exceptions) by i."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(i: int) -> None:
        start.wait()
        results[i] = capture(lambda: work(i))

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
def test_concurrent_orders_get_distinct_contiguous_numbers(
    session_factory: sessionmaker[Session], world: World, deals: Deals
) -> None:
    def place_ten(_: int) -> list[str]:
        numbers = []
        for _ in range(10):
            with session_factory() as session, session.begin():
                order = services.create_purchase_order(
                    session, world.actors["buyer_a"], receiving_company_id=world.companies["A"],
                    supplier_id=world.suppliers["sup1"],
                    lines=[{"material_id": world.materials["exc_local"], "quantity": Decimal("1"),
                            "warehouse_id": world.warehouses["A-AMB"]}],
                )
                numbers.append(order.number)
        return numbers

    results = run_in_threads(8, place_ten)
    numbers = [n for result in results for n in result]  # an exception here fails the test
    year = deals.today.year
    assert sorted(numbers) == [f"PO-CA-{year}-{n:06d}" for n in range(1, 81)]
    with session_factory() as session:
        assert len(session.scalars(select(PurchaseOrder.number)).all()) == 80


@pytest.mark.postgres
def test_an_overlapping_contract_waits_for_the_first_and_is_then_refused(
    session_factory: sessionmaker[Session], world: World
) -> None:
    def make(session: Session, number: str) -> str:
        return services.create_contract(
            session, world.actors["group_buyer"], number=number, supplier_id=world.suppliers["sup2"],
            scope=ContractScope.GROUP, company_id=None, valid_from=dt.date(2026, 1, 1),
            valid_to=dt.date(2026, 12, 31),
            lines=[{"material_id": world.materials["api_central"], "unit_price": Decimal("800")}],
        ).number

    def second() -> str:
        with session_factory() as session, session.begin():
            return make(session, "RACE-2")

    outcome: list[Any] = []
    with session_factory() as first:
        first.begin()
        make(first, "RACE-1")  # not committed yet: invisible to the second transaction
        waiting = threading.Thread(target=lambda: outcome.append(capture(second)))
        waiting.start()
        waiting.join(timeout=1.0)
        # Without the supplier row lock the second would have passed the overlap check by now.
        assert waiting.is_alive(), outcome
        first.commit()
    waiting.join(timeout=30)
    assert isinstance(outcome[0], ContractOverlap), outcome
    assert outcome[0].extensions["conflicting_contract"] == "RACE-1"


@pytest.mark.postgres
def test_concurrent_submissions_count_every_quantity_against_the_contract(
    session_factory: sessionmaker[Session], world: World, deals: Deals
) -> None:
    drafts = []
    with session_factory() as session, session.begin():
        for quantity in range(1, 9):  # 1 + 2 + ... + 8 = 36 kg
            drafts.append(services.create_purchase_order(
                session, world.actors["buyer_a"], receiving_company_id=world.companies["A"],
                supplier_id=world.suppliers["sup1"],
                lines=[{"material_id": world.materials["exc_local"], "quantity": Decimal(quantity),
                        "warehouse_id": world.warehouses["A-AMB"]}],
            ).id)

    def submit(i: int) -> str:
        with session_factory() as session, session.begin():
            order = services.submit_order(session, world.actors["buyer_a"], drafts[i],
                                          default_threshold=Decimal("200000"))
            return order.status.value

    assert run_in_threads(8, submit) == ["open"] * 8
    with session_factory() as session:
        line = session.get(ContractLine, deals.lines["CA-001/exc_local"])
        assert line is not None and line.ordered_quantity == Decimal("36")
