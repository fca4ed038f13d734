"""Fault injection: the database connection dropped in the middle of a posting.

The request is stopped where it has already written part of its rows: a test transaction
holds a table the posting writes last in SHARE mode, so the request's backend waits there
with its earlier writes done (it has a transaction id); then the backend is terminated, as
a failover or a server restart would. Nothing of it may stay, the client is told to retry
(503), and the retry with the same Idempotency-Key posts exactly once.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.models import VarianceAllocation
from erp.idempotency import IdempotencyKey
from erp.inventory.models import StockBalance, StockDocument, StockMovement
from erp.posting.models import AccountingPeriod, JournalEntry, JournalLine, PeriodMovementTotal
from erp.purchasing.models import PurchaseOrderLine
from tests.stock import issue, open_order, set_standard
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres
SF = sessionmaker[Session]


def receipt(line: int, batch: str, quantity: str) -> dict[str, Any]:
    return {"po_line_id": line, "quantity": quantity, "posting_date": "2026-11-20", "batch_number": batch,
            "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"}


def cut_off_while_waiting_on(engine: Engine, table: str, send: Any) -> Any:
    """Run ``send()`` in a thread while ``table`` is held in SHARE mode; when the request's
    backend waits for it, having written already, terminate that backend. Returns the response."""
    result: dict[str, Any] = {}
    with engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
        sender = threading.Thread(target=lambda: result.update(response=send()))
        sender.start()
        deadline = time.monotonic() + 60
        # AUTOCOMMIT: pg_stat_activity is read once per transaction; each look must be fresh.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            while True:
                waiting = watcher.execute(text(
                    "SELECT pid, backend_xid IS NOT NULL, left(query, 300) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()"
                )).all()
                if waiting:
                    break
                assert sender.is_alive(), f"the request finished without waiting: {result['response'].get_json()}"
                assert time.monotonic() < deadline, "the request never reached the held table"
                time.sleep(0.02)
            [(pid, has_written, query)] = waiting
            assert has_written, f"cut off before it wrote anything, not in the middle of a posting: {query}"
            assert watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        sender.join(timeout=60)
        holder.rollback()
    return result["response"]


def counts(session_factory: SF) -> dict[str, Any]:
    with session_factory() as session:
        return {
            "documents": session.scalar(select(func.count(StockDocument.id))),
            "movements": session.scalar(select(func.count(StockMovement.id))),
            "entries": session.scalar(select(func.count(JournalEntry.id))),
            "lines": session.scalar(select(func.count()).select_from(JournalLine)),
            "keys": session.scalar(select(func.count()).select_from(IdempotencyKey)),
            "stock": session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0))),
            "totals": session.scalar(select(func.coalesce(func.sum(PeriodMovementTotal.quantity), 0))),
            "allocations": session.scalar(select(func.count()).select_from(VarianceAllocation)),
        }


def test_a_receipt_cut_off_mid_posting_leaves_nothing_and_its_retry_posts_once(
    api: ApiClient, world: World, session_factory: SF, engine: Engine,
) -> None:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "1000", "55.50", "A-COOL")])
    clerk = api.as_("clerk_a")
    first = clerk.post("/api/v1/inventory/receipts", json=receipt(line, "R-1", "100"),
                       headers={"Idempotency-Key": "first"})
    assert first.status_code == 201, first.get_json()
    before = counts(session_factory)
    assert (before["documents"], before["entries"], before["stock"], before["keys"]) == (1, 1, Decimal("100"), 1)

    # The period totals are the posting's last write: document, ledger, balance and journal are done.
    cut = cut_off_while_waiting_on(engine, "period_movement_totals", lambda: clerk.post(
        "/api/v1/inventory/receipts", json=receipt(line, "R-2", "50"), headers={"Idempotency-Key": "second"}))
    body = problem(cut, 503, "database-unavailable")
    assert cut.headers["Retry-After"] == "1" and "nothing of it was saved" in body["detail"]
    assert counts(session_factory) == before  # not a row of the cut-off receipt, not its key
    with session_factory() as session:
        assert session.get(PurchaseOrderLine, line).received_quantity == Decimal("100")

    retried = clerk.post("/api/v1/inventory/receipts", json=receipt(line, "R-2", "50"),
                         headers={"Idempotency-Key": "second"})
    assert retried.status_code == 201, retried.get_json()
    again = clerk.post("/api/v1/inventory/receipts", json=receipt(line, "R-2", "50"),
                       headers={"Idempotency-Key": "second"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == retried.get_json()["id"]
    after = counts(session_factory)
    # Exactly one more receipt: one document, one ledger row, one entry of three lines, 50 kg.
    assert (after["documents"], after["movements"], after["entries"], after["lines"]) == (
        2, 2, 2, before["lines"] + 3)
    assert (after["stock"], after["totals"], after["keys"]) == (Decimal("150"), Decimal("150"), 2)
    with session_factory() as session:
        assert session.get(PurchaseOrderLine, line).received_quantity == Decimal("150")


def test_a_group_close_cut_off_mid_close_leaves_every_period_open_and_its_retry_closes_once(
    api: ApiClient, world: World, session_factory: SF, engine: Engine,
) -> None:
    # Each company receives 100 kg of the excipient above or below standard and consumes 40:
    # the close has a variance to allocate and posts an entry per company.
    for company, price in (("A", "11.00"), ("B", "9.50")):
        set_standard(session_factory, world, "exc_local", "10.00", company=company)
        (line,) = open_order(session_factory, world, [("exc_local", "1000", price, f"{company}-AMB")],
                             company=company)
        clerk = f"clerk_{company.lower()}"
        posted = api.as_(clerk).post("/api/v1/inventory/receipts", json=receipt(line, "R-1", "100"))
        assert posted.status_code == 201, posted.get_json()
        issue(session_factory, world, "exc_local", "40", warehouse=f"{company}-AMB", user=clerk)
    before = counts(session_factory)
    accountant = api.as_("cost_group")
    close = {"period": "2026-11", "company_ids": [world.companies["A"], world.companies["B"]]}

    # The close writes its journal lines after the allocation, the balances and the entries.
    cut = cut_off_while_waiting_on(engine, "journal_lines",
                                   lambda: accountant.post("/api/v1/costing/closes", json=close))
    problem(cut, 503, "database-unavailable")
    assert counts(session_factory) == before  # no allocation, no entry, no line of the close
    with session_factory() as session:
        assert session.scalars(select(AccountingPeriod.status).where(AccountingPeriod.period == "2026-11")
                               ).all() == ["open", "open"]

    retried = accountant.post("/api/v1/costing/closes", json=close)
    assert retried.status_code == 200, retried.get_json()
    closed = counts(session_factory)
    assert closed["allocations"] == 2 and closed["entries"] == before["entries"] + 2  # one per company
    # Sent again, the close finds both periods closed and posts nothing more.
    again = accountant.post("/api/v1/costing/closes", json=close)
    assert again.status_code == 200, again.get_json()
    assert counts(session_factory) == closed
    with session_factory() as session:
        assert session.scalars(select(AccountingPeriod.status).where(AccountingPeriod.period == "2026-11")
                               ).all() == ["closed", "closed"]
