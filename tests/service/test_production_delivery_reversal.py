"""Reversing a delivery of an order's output (issue #21's review, C8): the journal of the
delivery negated, the batch and the genealogy as if it had not happened, refused once the
batch was used or the order settled.

Figures of tests/production.py: TAB-X at 0.018080 per tablet, 0.05 h per 1,000 tablets at
TAB-PRESS 60.00 + 40.00 per hour. 2,000 tablets more delivered: 2,000 x 0.018080 = 36.16 at
standard, absorbing 0.1 h x 60.00 = 6.00 labour and 0.1 h x 40.00 = 4.00 overhead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.costing import close as closing
from erp.inventory import services as inventory
from erp.inventory.errors import InsufficientStock, ProductionOrderClosed
from erp.masterdata.models import MaterialType
from erp.posting.models import Batch, StockBalance
from erp.production import boms, genealogy, orders, variances
from erp.production.errors import OutputBatchUsed
from erp.production.models import OrderDocumentKind, ProductionOrder, ProductionOrderDocument
from tests.production import (
    NOV,
    NOV_1,
    add_material,
    build_plant,
    buy,
    complete,
    deliver,
    issue,
    make_tablets,
    new_order,
    refused_in,
    release_rollup,
)
from tests.stock import account_balance, batch_id, decide, set_standard
from tests.world import World

NOV_21, NOV_22, DEC, DEC_3, DEC_10 = (dt.date(2026, 11, 21), dt.date(2026, 11, 22), "2026-12", dt.date(2026, 12, 3),
                                      dt.date(2026, 12, 10))


def _reverse(sf: sessionmaker[Session], world: World, order: int, document: int, on: dt.date) -> int:
    with sf() as session, session.begin():
        return orders.reverse_delivery(session, world.actors["clerk_a"], order, document, posting_date=on,
                                       reason="counted twice")


def _close(sf: sessionmaker[Session], world: World, period: str) -> None:
    with sf() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=period)


def _held(session: Session, batch: int) -> tuple[D, D]:
    rows = session.execute(select(StockBalance.quantity, StockBalance.value).where(StockBalance.batch_id == batch)).all()
    return (sum((r.quantity for r in rows), D("0")), sum((r.value for r in rows), D("0")))


def test_a_reversed_delivery_takes_back_its_value_and_conversion_and_leaves_the_genealogy(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    company = world.companies["A"]
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    extra_batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    with session_factory() as session:
        # 48.24 of the worked example + 10.00 conversion - 36.16 output
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("22.08")
    _reverse(session_factory, world, made.tablet_order, extra, NOV_22)
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
        assert account_balance(session, company, accounts.FINISHED_GOODS) == D("1771.84")
        # the API order's 20 h x 80.00 / x 120.00 and the tablets' 4.9 h x 60.00 / x 40.00
        assert account_balance(session, company, accounts.LABOUR_ABSORBED) == D("-1894.00")
        assert account_balance(session, company, accounts.OVERHEAD_ABSORBED) == D("-2596.00")
        assert _held(session, extra_batch) == (D("0"), D("0"))
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("98000")
        up = genealogy.trace(session, world.actors["clerk_a"], made.api_batch, genealogy.Direction.UP)
        assert {b.batch_number for b in up.batches} == {"API-B1", "TAB-B1"}
    complete(session_factory, world, made.tablet_order)
    _close(session_factory, world, NOV)
    with session_factory() as session:
        split = {(v.category.value, v.component_id): v.amount for v in variances.order_variances(session, order.id)}
        assert sum(split.values()) == D("48.24")
        assert split[("input_quantity", plant.api)] == D("44.16")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")


def test_a_delivery_reversed_after_a_standard_change_restates_the_difference_and_the_order_nets(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """The 2,000 extra tablets (36.16) stay in stock through November's close, which restates
    them at December's standard 0.020000: 40.00, 1404 -3.84 (and TAB-B1's 98,000: 1,960.00,
    -188.16). Reversed on 3 December, they leave at 40.00; 5001.01 takes back the 36.16 they
    were delivered at, and 1404 the 3.84: 5001.01 at 48.24 again, and December's close
    settles the order's 48.24."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    company = world.companies["A"]
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    set_standard(session_factory, world, "tablet", "0.020000", period=DEC)
    _close(session_factory, world, NOV)
    with session_factory() as session:
        assert account_balance(session, company, accounts.MATERIAL_COST_VARIANCE, plant.tablet) == D("-192.00")
    _reverse(session_factory, world, made.tablet_order, extra, DEC_3)
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
        assert account_balance(session, company, accounts.FINISHED_GOODS, plant.tablet) == D("1960.00")
        assert account_balance(session, company, accounts.MATERIAL_COST_VARIANCE, plant.tablet) == D("-188.16")
    complete(session_factory, world, made.tablet_order, DEC_10)
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    with session_factory() as session:
        amounts = [v.amount for v in variances.order_variances(session, made.tablet_order)]
        assert sum(amounts, D("0")) == D("48.24")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")


def test_a_delivery_is_not_reversed_once_its_batch_was_used_or_its_order_settled(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    with session_factory() as session:
        (api_delivery,) = session.scalars(select(ProductionOrderDocument.document_id).where(
            ProductionOrderDocument.order_id == made.api_order,
            ProductionOrderDocument.kind == OrderDocumentKind.DELIVERY)).all()
        (tablet_delivery,) = session.scalars(select(ProductionOrderDocument.document_id).where(
            ProductionOrderDocument.order_id == made.tablet_order,
            ProductionOrderDocument.kind == OrderDocumentKind.DELIVERY)).all()
    # API-B1 went into the tablets.
    with refused_in(session_factory, OutputBatchUsed) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.api_order, api_delivery,
                                posting_date=dt.date(2026, 11, 2), reason="counted twice")
    _close(session_factory, world, NOV)
    with refused_in(session_factory, ProductionOrderClosed) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.tablet_order, tablet_delivery,
                                posting_date=dt.date(2026, 11, 28), reason="counted twice")


def test_a_backdated_reversal_takes_only_what_the_batch_held_on_its_date(
        session_factory: sessionmaker[Session], world: World) -> None:
    """Inspected tablets: 2,000 more delivered into quarantine on 21 November and released
    by quality on 25 November. A reversal dated 22 November would take unrestricted stock
    that only arrived on the 25th (and quarantine holds none now): refused. Dated the 26th,
    it takes them from unrestricted stock."""
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    extra_batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    # released by QA's signed usage decision on the delivery's inspection lot (#20: the only release)
    decide(session_factory, world, "A-AMB", extra_batch, on=dt.date(2026, 11, 25))
    with refused_in(session_factory, InsufficientStock) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.tablet_order, extra, posting_date=NOV_22,
                                reason="counted twice")
    _reverse(session_factory, world, made.tablet_order, extra, dt.date(2026, 11, 26))
    with session_factory() as session:
        assert _held(session, extra_batch) == (D("0"), D("0"))
        assert account_balance(session, world.companies["A"], accounts.WORK_IN_PROCESS) == D("48.24")


def test_a_delivery_of_a_material_without_batches_is_reversed_while_the_stock_is_there(
        session_factory: sessionmaker[Session], world: World) -> None:
    """PREMIX (no batches) made from 1 kg of excipient per kg (10.00/kg, no conversion): all
    its stock shares one batch, so scrap of some of it is no use of "the order's batch".
    Two orders deliver 10 kg each (100.00 each); 5 kg are scrapped; the second delivery is
    reversed (15 kg on hand cover its 10), the first is then refused (5 kg left)."""
    plant = build_plant(session_factory, world)
    with session_factory() as session, session.begin():
        premix = add_material(session, world, "PREMIX", MaterialType.INTERMEDIATE, batch_managed=False)
        boms.create_bom(session, world.actors["cost_a"], company_id=world.companies["A"], material_id=premix,
                        valid_from=NOV_1, base_quantity=D("1"), components=[boms.ComponentIn(plant.excipient, D("1"))])
    world.materials["premix"] = premix
    release_rollup(session_factory, world)
    buy(session_factory, world, "exc_local", "50", "10.00", "EXC-1")
    first, second = new_order(session_factory, world, "premix", "10"), new_order(session_factory, world, "premix", "10")
    for order in (first, second):
        issue(session_factory, world, order, [("exc_local", "10", None)])
    delivered = [deliver(session_factory, world, order, "10", on=NOV_21) for order in (first, second)]
    with session_factory() as session, session.begin():
        (batch,) = session.scalars(select(Batch.id).where(Batch.material_id == premix)).all()
        inventory.adjust_stock(session, world.actors["cost_a"], warehouse_id=world.warehouses["A-AMB"],
                               material_id=premix, quantity=D("-5"), posting_date=NOV_21,
                               kind=inventory.AdjustmentKind.SCRAP, reason="spilt", batch_id=batch)
    _reverse(session_factory, world, second, delivered[1], NOV_22)
    with refused_in(session_factory, InsufficientStock) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], first, delivered[0], posting_date=NOV_22,
                                reason="counted twice")
    with session_factory() as session:
        assert _held(session, batch) == (D("5"), D("50.00"))
