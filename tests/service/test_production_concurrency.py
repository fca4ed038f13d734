"""Clerks working on one production order at the same moment, with real threads on
PostgreSQL: the order's row lock, not luck, keeps its delivered quantity equal to what the
ledger received, and no delivery lands after the order is completed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.models import StockDocument, StockMovement
from erp.production.errors import OrderStateNotAllowed
from erp.production.models import OrderStatus, ProductionOrder
from tests.production import NOV_20, NOV_28, build_plant, complete, deliver, make_tablets, release_rollup
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
    assert all(isinstance(r, OrderStateNotAllowed) for r in refusals)
    assert len(done) + len(refusals) == 5
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.status == OrderStatus.COMPLETED
        # every delivery that succeeded was counted, and the ledger agrees
        assert order.delivered_quantity == D("1000") + D("500") * (len(done) - 1) == _received(session, order.id)
