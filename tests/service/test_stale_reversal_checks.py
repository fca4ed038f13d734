"""A document is reversed once: a second reversal (or a return of a reversed receipt) that
waited behind the first is refused ``already-reversed``, on PostgreSQL with real threads (the
pattern: tests/locks.py).

Each use case read "reversed already?" before it took the lock that queues the document's
reversals (a receipt's order line, an issue's balance rows), and did not read it again once it
held it. Two clerks reversing the same receipt both passed the check; the second, let go after
the first committed, refused insufficient-stock (the receipt's goods were gone), or, with more
of the batch in the warehouse, took those and failed at its end on the unique key of
``stock_documents.reverses_document_id`` (an IntegrityError in the service, which the HTTP edge
answers already-reversed through erp.unique, after all the work). A return waiting behind a
reversal of its receipt sent another receipt's goods back to the supplier against the reversed
receipt. Each test failed before the check was read under the lock.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import services as inventory
from erp.inventory.errors import AlreadyReversed
from erp.posting.models import StockBalance, StockDocument, StockStatus
from erp.purchasing import receiving
from tests.locks import Worker, queued_behind
from tests.service.test_posting_locks import _hold_rows, _ledger_is_the_balances, _on_hand
from tests.stock import NOV_20, batch_id, issue, open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def _one_posted_one_already_reversed(outcomes: dict[str, object]) -> None:
    posted = [outcome for outcome in outcomes.values() if isinstance(outcome, int)]
    refused = [outcome for outcome in outcomes.values() if isinstance(outcome, AlreadyReversed)]
    assert (len(posted), len(refused)) == (1, 1), outcomes


def _reversals_of(session_factory: sessionmaker[Session], document: int) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(StockDocument)
                              .where(StockDocument.reverses_document_id == document)) or 0


def _two_receipts_of_one_batch(session_factory: sessionmaker[Session], world: World, *, second: bool
                               ) -> tuple[int, int, int]:
    """10 of the local excipient received unrestricted into A-AMB in batch REV-1 (and, with
    ``second``, 10 more of the same batch on the same order line): (order line, the first
    receipt, the batch)."""
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "20", "10.00", "A-AMB")])
    first = receive(session_factory, world, line, "10", batch="REV-1")
    if second:
        receive(session_factory, world, line, "10", batch="REV-1")
    return line, first, batch_id(session_factory, world, "exc_local", "REV-1")


def _reverse(world: World, receipt: int):  # type: ignore[no-untyped-def]
    def work(session: Session) -> int:
        return inventory.reverse_receipt(session, world.actors["clerk_a"], document_id=receipt,
                                         posting_date=NOV_20, reason="wrong supplier")
    return work


@pytest.mark.parametrize("more_of_the_batch", [False, True])
def test_two_reversals_of_one_receipt_post_one_and_refuse_the_other_already_reversed(
        session_factory: sessionmaker[Session], world: World, more_of_the_batch: bool) -> None:
    # Receipt 1 brought 10 of batch REV-1 (with more_of_the_batch, receipt 2 brought 10 more of
    # it on the same line). Two clerks reverse receipt 1; both wait on the order line, which the
    # test holds. Let go: one reversal posts, the other is refused already-reversed, and the
    # batch keeps what receipt 2 brought (0 or 10). Before: the second refused insufficient-stock
    # "only 0 of its batch are still there", or took receipt 2's 10 and failed on the unique key
    # of reverses_document_id (IntegrityError).
    line, first, batch = _two_receipts_of_one_batch(session_factory, world, second=more_of_the_batch)
    with session_factory() as holder:
        holder.begin()
        receiving.lock_line_for_receipt(holder, line)
        outcomes = queued_behind(holder, [Worker(session_factory, "clerk 1", _reverse(world, first)),
                                          Worker(session_factory, "clerk 2", _reverse(world, first))])
    _one_posted_one_already_reversed(outcomes)
    assert _reversals_of(session_factory, first) == 1
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        left = _on_hand(session, StockBalance.batch_id == batch)
    assert left == ({(batch, StockStatus.UNRESTRICTED): D("10")} if more_of_the_batch else {})


@pytest.mark.parametrize("more_of_the_batch", [False, True])
def test_a_return_waiting_behind_the_reversal_of_its_receipt_is_refused_already_reversed(
        session_factory: sessionmaker[Session], world: World, more_of_the_batch: bool) -> None:
    # Receipt 1 brought 10 of batch REV-1 (with more_of_the_batch, receipt 2 brought 10 more).
    # One clerk reverses receipt 1 while another returns 5 of it to the supplier; both wait on
    # the order line, the reversal first. Let go: the reversal posts, the return is refused
    # already-reversed and nothing goes back to the supplier. Before: the return refused
    # insufficient-stock "only 0 of the batch are blocked or unrestricted", or sent 5 of receipt 2's
    # goods back against receipt 1, which had been reversed.
    line, first, batch = _two_receipts_of_one_batch(session_factory, world, second=more_of_the_batch)

    def send_back(session: Session) -> int:
        return inventory.return_to_supplier(session, world.actors["clerk_a"], receipt_document_id=first,
                                            posting_date=NOV_20, reason="damaged drums", quantity=D("5"))

    with session_factory() as holder:
        holder.begin()
        receiving.lock_line_for_receipt(holder, line)
        outcomes = queued_behind(holder, [Worker(session_factory, "reverse", _reverse(world, first)),
                                          Worker(session_factory, "return", send_back)])
    assert isinstance(outcomes["reverse"], int), outcomes
    assert isinstance(outcomes["return"], AlreadyReversed), outcomes
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        left = _on_hand(session, StockBalance.batch_id == batch)
        returns = session.scalar(select(func.count()).select_from(StockDocument)
                                 .where(StockDocument.source_document_id == first))
    assert returns == 0
    assert left == ({(batch, StockStatus.UNRESTRICTED): D("10")} if more_of_the_batch else {})


def test_two_reversals_of_one_issue_post_one_and_refuse_the_other_already_reversed(
        session_factory: sessionmaker[Session], world: World) -> None:
    # 10 of batch REV-1 received, 4 issued to production (6 left). Two clerks reverse the issue;
    # both wait on the batch's balance row, which the test holds. Let go: one reversal posts
    # (10 on hand again), the other is refused already-reversed. Before: the second put the 4
    # back a second time and failed on the unique key of reverses_document_id (IntegrityError).
    _, _, batch = _two_receipts_of_one_batch(session_factory, world, second=False)
    issued = issue(session_factory, world, "exc_local", "4", batch=batch)

    def reverse_issue(session: Session) -> int:
        return inventory.reverse_issue(session, world.actors["clerk_a"], document_id=issued, posting_date=NOV_20,
                                       reason="booked in error")

    with session_factory() as holder:
        holder.begin()
        _hold_rows(holder, StockBalance.batch_id == batch)
        outcomes = queued_behind(holder, [Worker(session_factory, "clerk 1", reverse_issue),
                                          Worker(session_factory, "clerk 2", reverse_issue)])
    _one_posted_one_already_reversed(outcomes)
    assert _reversals_of(session_factory, issued) == 1
    _ledger_is_the_balances(session_factory)
    with session_factory() as session:
        assert _on_hand(session, StockBalance.batch_id == batch) == {(batch, StockStatus.UNRESTRICTED): D("10")}
