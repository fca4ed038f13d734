"""Corrections of production orders: which reversals an order still takes, and completions
dated where the books are closed (issue #21's review, C3 and item 6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.costing import close as closing
from erp.errors import ValidationFailed
from erp.inventory import services as inventory
from erp.inventory.errors import ProductionOrderClosed
from erp.posting.errors import PeriodClosed
from erp.posting.models import StockDocument
from erp.production import orders
from erp.production.models import OrderDocumentKind, ProductionOrderDocument
from tests.production import NOV, build_plant, complete, issue, make_tablets, new_order, refused_in, release_rollup
from tests.stock import account_balance
from tests.world import World

NOV_21, NOV_22, DEC_2 = dt.date(2026, 11, 21), dt.date(2026, 11, 22), dt.date(2026, 12, 2)


def _documents(sf: sessionmaker[Session]) -> int:
    with sf() as session:
        return session.scalar(select(func.count(StockDocument.id))) or 0


def _reverse(session: Session, world: World, document: int, on: dt.date) -> int:
    return inventory.reverse_issue(session, world.actors["clerk_a"], document_id=document, posting_date=on,
                                   reason="wrong order")


def test_an_issue_to_a_completed_order_is_not_reversed(session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    (extra,) = issue(session_factory, world, made.tablet_order, [("exc_local", "1", None)], on=NOV_21,
                     over_issue_reason="extra granulation after a spill")
    complete(session_factory, world, made.tablet_order, NOV_21)
    before = _documents(session_factory)
    with refused_in(session_factory, ProductionOrderClosed) as session:
        _reverse(session, world, extra, NOV_22)
    assert _documents(session_factory) == before
    with session_factory() as session:
        # 48.24 of the worked example and the kilogram (10.00): still the order's, to be settled.
        assert account_balance(session, world.companies["A"], accounts.WORK_IN_PROCESS) == D("58.24")


def test_an_issue_to_a_settled_order_is_not_reversed_and_one_to_a_running_order_is(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    (running,) = issue(session_factory, world, made.tablet_order, [("exc_local", "1", None)], on=NOV_21,
                     over_issue_reason="extra granulation after a spill")
    with session_factory() as session:  # the API order's acid issue; the order is completed
        settled = session.scalar(select(ProductionOrderDocument.document_id).where(
            ProductionOrderDocument.order_id == made.api_order, ProductionOrderDocument.kind == OrderDocumentKind.ISSUE
        ).order_by(ProductionOrderDocument.document_id).limit(1))
    with session_factory() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV)
    with refused_in(session_factory, ProductionOrderClosed) as session:
        _reverse(session, world, settled, DEC_2)
    with session_factory() as session, session.begin():
        assert _reverse(session, world, running, DEC_2) > 0



def test_a_completion_dated_in_a_closed_period_or_before_the_orders_postings_is_refused(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    with pytest.raises(ValidationFailed):
        with session_factory() as session, session.begin():
            # The tablets were delivered on 20 November.
            orders.complete_order(session, world.actors["clerk_a"], made.tablet_order, dt.date(2026, 11, 19))
    with session_factory() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV)
    with refused_in(session_factory, PeriodClosed) as session:
        orders.complete_order(session, world.actors["clerk_a"], made.tablet_order, dt.date(2026, 11, 28))
    complete(session_factory, world, made.tablet_order, DEC_2)


def test_a_created_order_with_nothing_posted_completes_on_any_open_day(
        session_factory: sessionmaker[Session], world: World) -> None:
    build_plant(session_factory, world)
    release_rollup(session_factory, world)
    order = new_order(session_factory, world, "tablet", "1000")
    complete(session_factory, world, order, NOV_22)


def test_a_completion_is_not_dated_before_a_reversal_of_one_of_the_orders_issues(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    (extra,) = issue(session_factory, world, made.tablet_order, [("exc_local", "1", None)], on=NOV_21,
                     over_issue_reason="extra granulation after a spill")
    with session_factory() as session, session.begin():
        _reverse(session, world, extra, NOV_22)
    with pytest.raises(ValidationFailed):
        with session_factory() as session, session.begin():
            orders.complete_order(session, world.actors["clerk_a"], made.tablet_order, NOV_21)
    complete(session_factory, world, made.tablet_order, NOV_22)
