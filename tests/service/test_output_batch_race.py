"""Two production orders delivering output into one new batch number at the same moment, on
PostgreSQL with real threads (the pattern: tests/locks.py): a batch number is one order's
output, so one delivery posts and the other is refused ``output-batch-taken``.

What makes it so is the batch's unique key (material, batch number): the second delivery's
``INSERT ... ON CONFLICT DO NOTHING`` of the batch (``erp.posting.stock.find_or_create_batch``)
waits until the first's transaction ends, and every statement after it, the own-batch check
among them, sees the first's batch and its genealogy link. This test passed before any change
of the branch that added it: it holds the behaviour should the batch ever be looked up before
it is inserted (a SELECT first would let both deliveries find no batch and both pass).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.production import orders
from erp.production.errors import OutputBatchTaken
from erp.production.models import BatchRole, ProductionOrderBatch
from tests.locks import Worker, queued_behind
from tests.production import build_plant, new_order, release_rollup
from tests.stock import NOV_20, batch_id
from tests.world import World

pytestmark = pytest.mark.postgres


def test_two_orders_delivering_into_one_new_batch_post_one_and_refuse_the_other(
        session_factory: sessionmaker[Session], world: World) -> None:
    # Two released orders for 100 kg of API-X, both of 2 November (their output is made and
    # expires on the same days). The first delivers 40 kg into the new batch NEW-1 and has not
    # committed when the second delivers 30 kg into NEW-1 too. The first commits: its delivery
    # stands, the second is refused output-batch-taken, and NEW-1 is the first order's output
    # only, holding its 40 kg.
    build_plant(session_factory, world)
    release_rollup(session_factory, world)
    first, second = new_order(session_factory, world, "api", "100"), new_order(session_factory, world, "api", "100")

    def deliver(order: int, quantity: str):  # type: ignore[no-untyped-def]
        def work(session: Session) -> int:
            return orders.deliver_output(session, world.actors["clerk_a"], order, quantity=D(quantity),
                                         posting_date=NOV_20, batch_number="NEW-1")
        return work

    with session_factory() as holder:
        holder.begin()
        deliver(first, "40")(holder)
        outcomes = queued_behind(holder, [Worker(session_factory, "second order", deliver(second, "30"))])
    assert isinstance(outcomes["second order"], OutputBatchTaken), outcomes
    batch = batch_id(session_factory, world, "api", "NEW-1")
    with session_factory() as session:
        owners = session.scalars(select(ProductionOrderBatch.order_id).where(
            ProductionOrderBatch.batch_id == batch, ProductionOrderBatch.role == BatchRole.OUTPUT)).all()
    assert owners == [first]
