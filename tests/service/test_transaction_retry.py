"""One transaction per use case, retried once when PostgreSQL aborts it as a deadlock or a
serialization failure (erp.db.in_transaction, and the HTTP edge's ``@transaction``), with
real concurrent transactions on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from erp.db import committed
from erp.inventory import services
from erp.inventory.models import StockDocument
from erp.posting.models import AccountingPeriod
from erp.posting.periods import ensure_period
from erp.purchasing.models import PurchaseOrderLine
from tests.stock import open_order, set_standard
from tests.world import ApiClient, World

pytestmark = pytest.mark.postgres

# Advisory lock keys of this test only ("posting retry" 1 and 2).
_KEYS = (0x706F7374_00000001, 0x706F7374_00000002)


def _lock_in_opposite_orders(session_factory: sessionmaker[Session], world: World,
                             run: Callable[..., Any]) -> tuple[list[Any], list[BaseException], list[int]]:
    """Two transactions take two locks in opposite orders, each waiting (the first time) until
    the other holds its first lock: PostgreSQL must abort one as a deadlock. The locks are
    advisory ones of this test's own keys, so nothing else running (a job left over from an
    earlier test) can take part in the deadlock or be its victim."""
    first, second = _KEYS
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts = [0, 0]
    results: list[Any] = []
    errors: list[BaseException] = []

    def transfer(index: int, order: tuple[int, int]) -> None:
        def work(session: Session) -> str:
            attempts[index] += 1
            for position, key in enumerate(order):
                session.execute(select(func.pg_advisory_xact_lock(key)))
                if position == 0 and attempts[index] == 1:
                    both_hold_one.wait()
            return f"thread {index} committed"

        try:
            results.append(run(session_factory, work))
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)

    threads = [threading.Thread(target=transfer, args=(0, (first, second))),
               threading.Thread(target=transfer, args=(1, (second, first)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors, attempts


def test_a_transaction_aborted_as_a_deadlock_runs_once_more_and_commits(
    session_factory: sessionmaker[Session], world: World
) -> None:
    results, errors, attempts = _lock_in_opposite_orders(session_factory, world, committed)
    assert errors == []
    assert sorted(results) == ["thread 0 committed", "thread 1 committed"]
    # one of the two was the deadlock's victim and ran twice; the other ran once
    assert sorted(attempts) == [1, 2]


def test_without_the_retry_the_deadlock_victim_fails(
    session_factory: sessionmaker[Session], world: World
) -> None:
    def once(factory: sessionmaker[Session], work: Callable[[Session], str]) -> str:
        return committed(factory, work, retry=False)

    results, errors, attempts = _lock_in_opposite_orders(session_factory, world, once)
    assert len(results) == 1 and attempts == [1, 1]
    (error,) = errors
    assert isinstance(error, DBAPIError) and error.orig.sqlstate == "40P01"  # type: ignore[union-attr]


def _wait_until_one_waits_for_a_lock(session_factory: sessionmaker[Session]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_factory() as session:
            if session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()")):
                return
        time.sleep(0.05)
    raise AssertionError("the request never came to wait for the period row")


def test_a_receipt_request_aborted_as_a_deadlock_is_posted_once_by_the_retry(
    session_factory: sessionmaker[Session], world: World, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        ensure_period(session, company, "2026-11")
    calls = []
    real_receive = services.book_receipt  # what POST /receipts calls

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_receive(*args, **kwargs)

    monkeypatch.setattr(services, "book_receipt", counted)
    # The test's own transaction holds November's period row, which the receipt must lock
    # (key share) after it has locked the order line...
    blocker = session_factory()
    blocker.begin()
    blocker.execute(text("SET LOCAL deadlock_timeout = '10s'"))  # the request, not this, is the victim
    blocker.execute(select(AccountingPeriod).where(AccountingPeriod.company_id == company,
                                                   AccountingPeriod.period == "2026-11").with_for_update())
    answers: list[Any] = []
    request = threading.Thread(target=lambda: answers.append(api.as_("clerk_a").post(
        "/api/v1/inventory/receipts",
        json={"po_line_id": line, "quantity": "120", "posting_date": "2026-11-20", "batch_number": "B-001",
              "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"})))
    request.start()
    try:
        _wait_until_one_waits_for_a_lock(session_factory)  # the request, holding the order line
        assert calls == [1] and not answers
        # ...then asks for the order line: a deadlock, which PostgreSQL breaks by aborting the request
        blocker.execute(select(PurchaseOrderLine.id).where(PurchaseOrderLine.id == line).with_for_update())
        blocker.commit()
    finally:
        blocker.close()  # a failed assertion must not leave the request (and the teardown) waiting on the blocker
        request.join(timeout=60)
    (response,) = answers
    assert response.status_code == 201, response.get_json()
    assert calls == [1, 1]  # the aborted first run, and the retry that committed
    with session_factory() as session:
        assert session.scalar(select(func.count(StockDocument.id))) == 1
        assert session.get(PurchaseOrderLine, line).received_quantity == D("120")  # type: ignore[union-attr]
