"""Clerks working at the same moment, with real threads on PostgreSQL: row locks, not luck,
keep receipts within the order and stock above zero."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import DomainError
from erp.inventory import errors
from erp.inventory.models import MovementType, StockBalance, StockDocument, StockMovement
from erp.purchasing.models import PurchaseOrderLine
from tests.stock import issue, open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres

ROUNDS = 10


def all_at_once(threads: int, work: Callable[[int], Any]) -> tuple[list[Any], list[DomainError]]:
    """Run ``work(i)`` in ``threads`` threads released together; returns what succeeded and
    the refusals. Anything but a DomainError fails the test."""
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def worker(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = ("done", work(i))
        except DomainError as refusal:
            outcomes[i] = ("refused", refusal)
        except BaseException as error:  # noqa: BLE001 - reported below, with its thread
            outcomes[i] = ("crashed", error)

    started = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in started), "a thread hung (deadlock?)"
    assert [o for o in outcomes if o[0] == "crashed"] == []
    return [o[1] for o in outcomes if o[0] == "done"], [o[1] for o in outcomes if o[0] == "refused"]


def received_in_ledger(session: Session, line: int) -> D:
    return D(session.scalar(
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.po_line_id == line)
    ))


def test_clerks_receiving_one_line_at_once_never_exceed_the_order(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    for _ in range(ROUNDS):
        # 100 kg ordered, no tolerance: of eight clerks booking 20 kg each, five fit
        (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")])
        done, refusals = all_at_once(8, lambda _: receive(session_factory, world, line, "20"))
        assert len(done) == 5
        assert {type(r) for r in refusals} <= {errors.OverReceipt, errors.OrderNotOpen}
        with session_factory() as session:
            assert session.get(PurchaseOrderLine, line).received_quantity == 100  # type: ignore[union-attr]
            assert received_in_ledger(session, line) == 100


def test_concurrent_issues_never_drive_stock_negative(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "10000", "8.00", "A-AMB")])
    for round_ in range(ROUNDS):
        # 100 kg on hand in two batches, so that picks span both
        receive(session_factory, world, line, "60", batch=f"R{round_}-A", expires=dt.date(2028, 3, 31))
        receive(session_factory, world, line, "40", batch=f"R{round_}-B", expires=dt.date(2029, 9, 30))
        done, refusals = all_at_once(10, lambda _: issue(session_factory, world, "exc_local", "15"))
        # 6 x 15 = 90 kg fit into 100; the other four find 10 kg and are refused
        assert len(done) == 6
        assert {type(r) for r in refusals} == {errors.InsufficientStock}
        with session_factory() as session:
            on_hand = session.scalars(select(StockBalance.quantity).where(
                StockBalance.material_id == world.materials["exc_local"])).all()
            assert min(on_hand) >= 0
            assert sum(on_hand) == 10
        issue(session_factory, world, "exc_local", "10")  # the next round starts from nothing


def test_concurrent_retries_with_one_idempotency_key_post_one_receipt(
    app: Flask, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")])
    body = {"po_line_id": line, "quantity": "30", "posting_date": "2026-11-20", "batch_number": "B-001",
            "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"}
    headers = {"Authorization": f"Bearer {world.tokens['clerk_a']}", "Idempotency-Key": "receipt-4711"}

    def post(_: int) -> tuple[int, Any]:
        response = app.test_client().post("/api/v1/inventory/receipts", json=body, headers=headers)
        return response.status_code, response.get_json()

    responses, refusals = all_at_once(6, post)
    assert refusals == []
    assert {status for status, _ in responses} == {201}
    assert len({document["id"] for _, document in responses}) == 1
    with session_factory() as session:
        receipts = session.scalar(select(func.count(StockDocument.id))
                                  .where(StockDocument.doc_type == MovementType.RECEIPT))
        assert receipts == 1
        assert session.get(PurchaseOrderLine, line).received_quantity == 30  # type: ignore[union-attr]
