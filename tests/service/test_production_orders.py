"""Production orders: planned from the BOM, components issued through the ledger (FEFO or
named batches), output received at standard into its own batch, partial deliveries,
technical completion, and the batch genealogy both ways. Expected figures by hand:

    API order, 100 kg: issued 120 kg acid x 50.00 = 6,000.00 and 52 kg solvent x 20.00 = 1,040.00;
      delivered 100 kg x 110.40 = 11,040.00, absorbing 20 h x 80.00 = 1,600.00 labour and
      20 h x 120.00 = 2,400.00 overhead: WIP 7,040.00 + 4,000.00 - 11,040.00 = 0.
    Tablet order, 100,000: issued 10.2 kg API x 110.40 = 1,126.08 and 20.4 kg excipient x 10.00
      = 204.00; delivered 98,000 x 0.018080 = 1,771.84, absorbing 4.9 h x 60.00 = 294.00 labour
      and 4.9 h x 40.00 = 196.00 overhead: WIP 1,126.08 + 204.00 + 490.00 - 1,771.84 = 48.24.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.inventory import services as inventory
from erp.auth.roles import Actor, Role
from erp.inventory.errors import ClerkNotOfWarehouse, InsufficientStock, WarehouseNotOfCompany
from erp.posting.models import Batch, StockBalance, StockDocument, StockStatus
from erp.production import genealogy, orders
from erp.production.errors import NoBomInForce, NotAComponent, ProductionOrderState, OutputBatchTaken
from erp.production.models import OrderStatus, ProductionOrder
from erp.quality.models import InspectionLot
from tests.production import (
    NOV_2,
    NOV_10,
    build_plant,
    buy,
    deliver,
    issue,
    make_tablets,
    new_order,
    refused_in,
    release_rollup,
)
from tests.stock import account_balance
from tests.world import World

NOV_25 = dt.date(2026, 11, 25)


def test_an_order_is_planned_from_the_bom_in_force_at_the_rolled_up_prices(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    order_id = new_order(session_factory, world, "tablet", "100000", release=False)
    with session_factory() as session:
        order = session.get(ProductionOrder, order_id)
        assert order is not None
        assert (order.status, order.bom_id, order.number) == (OrderStatus.CREATED, plant.tablet_bom,
                                                             f"MO-{order_id:08d}")
        # 100,000 tablets: API 0.1 kg x 100 = 10 kg; excipient 0.204 kg x 100 = 20.4 kg
        assert [(c.material_id, c.planned_quantity, c.planned_price) for c in order.components] == [
            (plant.api, D("10.0000"), D("110.400000")), (plant.excipient, D("20.4000"), D("10.000000"))]
        assert (order.labour_rate, order.overhead_rate, order.hours) == (D("60"), D("40"), D("0.05"))
    with refused_in(session_factory, NoBomInForce) as session:
        orders.create_order(session, world.actors["clerk_a"], company_id=world.companies["A"],
                            material_id=plant.tablet, quantity=D("1"), order_date=dt.date(2026, 10, 31),
                            warehouse_id=world.warehouses["A-AMB"])
    # Nothing is issued to an order that is not released.
    with refused_in(session_factory, ProductionOrderState) as session:
        orders.issue_components(session, world.actors["clerk_a"], order_id, warehouse_id=world.warehouses["A-AMB"],
                                posting_date=NOV_10, items=[orders.IssueItem(plant.api, D("1"))])


def test_issues_and_deliveries_post_wip_at_standard_and_output_into_its_own_batch(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    company = world.companies["A"]
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
        assert account_balance(session, company, accounts.FINISHED_GOODS, plant.tablet) == D("1771.84")
        # API: +11,040.00 delivered, -1,126.08 issued to the tablets
        assert account_balance(session, company, accounts.INTERMEDIATES, plant.api) == D("9913.92")
        assert account_balance(session, company, accounts.LABOUR_ABSORBED) == D("-1894.00")
        assert account_balance(session, company, accounts.OVERHEAD_ABSORBED) == D("-2596.00")
        batch = session.get(Batch, made.tablet_batch)
        assert batch is not None
        # made on the order's date, expiring 730 days (the shelf life) later
        assert (batch.manufacture_date, batch.expiry_date, batch.supplier_id) == (NOV_2, dt.date(2028, 11, 1), None)
        held = session.execute(select(StockBalance.status, StockBalance.quantity, StockBalance.value)
                               .where(StockBalance.batch_id == made.tablet_batch)).one()
        assert held == (StockStatus.UNRESTRICTED, D("98000"), D("1771.84"))
        numbers = session.scalars(select(StockDocument.number).where(StockDocument.reference == f"MO-{made.tablet_order:08d}")
                                  .order_by(StockDocument.id)).all()
        assert [n.split("-")[0] for n in numbers] == ["GI", "GI", "PGR"]
    # A partial delivery adds to the same batch; the order counts what it delivered.
    deliver(session_factory, world, made.tablet_order, "1000", batch="TAB-B1", on=NOV_25)
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("99000")
        # + 1,000 x 0.018080 = 18.08 out, + 0.05 h x (60 + 40) = 5.00 absorbed: 48.24 - 13.08
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("35.16")


def test_issues_take_fefo_or_named_batches_and_only_the_orders_components(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    early = buy(session_factory, world, "acid", "100", "50.00", "ACID-EARLY")
    late = buy(session_factory, world, "acid", "100", "50.00", "ACID-LATE")
    with session_factory() as session, session.begin():
        session.get(Batch, late).expiry_date = dt.date(2028, 1, 1)  # type: ignore[union-attr]
    buy(session_factory, world, "solvent", "60", "20.00", "SOLV-1")
    order = new_order(session_factory, world, "api", "100")
    issue(session_factory, world, order, [("acid", "120", None), ("solvent", "52", None)])
    with session_factory() as session:
        left = dict(session.execute(select(StockBalance.batch_id, StockBalance.quantity)
                                    .where(StockBalance.batch_id.in_([early, late]))).all())
        # ACID-LATE expires first (2028-01-01 before 2029-09-30): it goes first, then 20 kg of ACID-EARLY
        assert left == {late: D("0"), early: D("80")}
    with refused_in(session_factory, NotAComponent) as session:
        orders.issue_components(session, world.actors["clerk_a"], order, warehouse_id=world.warehouses["A-AMB"],
                                posting_date=NOV_10, items=[orders.IssueItem(plant.excipient, D("1"))])
    with refused_in(session_factory, InsufficientStock) as session:
        orders.issue_components(session, world.actors["clerk_a"], order, warehouse_id=world.warehouses["A-AMB"],
                                posting_date=NOV_10, items=[orders.IssueItem(plant.acid, D("81"), early)],
                                over_issue_reason="spillage")

    # A clerk of both companies cannot issue company B's stock to company A's order.
    both = Actor(user_id=world.actors["clerk_a"].user_id, username="clerk_ab", role=Role.CLERK, group_wide=False,
                 company_ids=frozenset({world.companies["A"], world.companies["B"]}),
                 warehouse_ids=frozenset({world.warehouses["A-AMB"], world.warehouses["B-AMB"]}))
    with refused_in(session_factory, WarehouseNotOfCompany) as session:
        orders.issue_components(session, both, order, warehouse_id=world.warehouses["B-AMB"],
                                posting_date=NOV_10, items=[orders.IssueItem(plant.acid, D("1"))])


def test_output_needing_inspection_goes_to_quarantine_with_an_inspection_lot(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    with session_factory() as session:
        status = session.scalar(select(StockBalance.status).where(StockBalance.batch_id == made.tablet_batch))
        assert status == StockStatus.QUARANTINE
        lot = session.scalar(select(InspectionLot).where(InspectionLot.batch_id == made.tablet_batch))
        assert lot is not None and lot.quantity == D("98000")


def test_completed_orders_take_no_more_and_output_batches_are_the_orders_own(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    with refused_in(session_factory, ProductionOrderState) as session:
        orders.deliver_output(session, world.actors["clerk_a"], made.tablet_order, quantity=D("1"),
                              posting_date=NOV_25, batch_number="TAB-B1")
    other = new_order(session_factory, world, "tablet", "1000")
    with refused_in(session_factory, OutputBatchTaken) as session:
        orders.deliver_output(session, world.actors["clerk_a"], other, quantity=D("1"), posting_date=NOV_25,
                              batch_number="TAB-B1")


def test_recall_trace_from_a_raw_material_batch_to_the_customers_and_back_down(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    for customer, quantity in (("cust1", "30000"), ("cust2", "20000")):
        with session_factory() as session, session.begin():
            inventory.ship_goods(session, world.actors["sales_a"], warehouse_id=world.warehouses["A-AMB"],
                                 material_id=plant.tablet, quantity=D(quantity), posting_date=NOV_25,
                                 customer_id=world.customers[customer], reference=f"SO-{customer}")
    with session_factory() as session:
        up = genealogy.trace(session, world.actors["cost_a"], made.acid, genealogy.Direction.UP)
        assert [(b.material_code, b.batch_number, b.depth) for b in up.batches] == [
            ("R-ACID", "ACID-1", 0), ("API-X", "API-B1", 1), ("TAB-X", "TAB-B1", 2)]
        assert [(c.customer_code, c.batch_number, c.quantity) for c in up.customers] == [
            ("K0001", "TAB-B1", D("30000")), ("K0002", "TAB-B1", D("20000"))]
        down = genealogy.trace(session, world.actors["cost_a"], made.tablet_batch, genealogy.Direction.DOWN)
        assert [(b.batch_number, b.depth, b.supplier_code) for b in down.batches] == [
            ("TAB-B1", 0, None), ("API-B1", 1, None), ("EXC-1", 1, "S0001"), ("ACID-1", 2, "S0001"),
            ("SOLV-1", 2, "S0002")]
        assert down.customers == []
        # The solvent batch went into the same API batch, so it reached the same customers.
        solvent_up = genealogy.trace(session, world.actors["cost_a"], made.solvent, genealogy.Direction.UP)
        assert {c.customer_code for c in solvent_up.customers} == {"K0001", "K0002"}
        # Another company's cost accountant sees none of company A's orders or shipments.
        outsider = genealogy.trace(session, world.actors["sales_b"], made.acid, genealogy.Direction.UP)
        assert [b.batch_number for b in outsider.batches] == ["ACID-1"] and outsider.customers == []


def test_a_clerk_plans_and_runs_orders_of_their_own_warehouses_only(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    clerk = world.actors["clerk_a"]
    amb_only = replace(clerk, warehouse_ids=frozenset({world.warehouses["A-AMB"]}))
    cool_only = replace(clerk, warehouse_ids=frozenset({world.warehouses["A-COOL"]}))
    with refused_in(session_factory, ClerkNotOfWarehouse) as session:
        orders.create_order(session, amb_only, company_id=world.companies["A"], material_id=plant.tablet,
                            quantity=D("1000"), order_date=NOV_2, warehouse_id=world.warehouses["A-COOL"])
    order = new_order(session_factory, world, "tablet", "1000", release=False)  # into A-AMB
    for action in (orders.release_order, orders.cancel_order):
        with refused_in(session_factory, ClerkNotOfWarehouse) as session:
            action(session, cool_only, order)
    with session_factory() as session, session.begin():
        assert orders.release_order(session, amb_only, order).status == OrderStatus.RELEASED
    with refused_in(session_factory, ClerkNotOfWarehouse) as session:
        orders.complete_order(session, cool_only, order, NOV_2)
    # cost accountants are bound to no warehouse
    with session_factory() as session, session.begin():
        orders.complete_order(session, world.actors["cost_a"], order, NOV_2)


def test_an_issue_beyond_the_bill_of_materials_needs_a_reason_and_is_recorded(
        session_factory: sessionmaker[Session], world: World) -> None:
    """Finding 133: the API-X order for 100 kg plans 120 kg of acid; 120 issued, 2 kg more are
    refused without a reason (naming the excess), then issued with one and recorded."""
    from erp.audit.models import AuditEvent
    from erp.production.errors import OverIssueNeedsReason

    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    buy(session_factory, world, "acid", "150", "50.00", "ACID-1")
    buy(session_factory, world, "solvent", "60", "20.00", "SOLV-1")
    order = new_order(session_factory, world, "api", "100")
    issue(session_factory, world, order, [("acid", "120", None), ("solvent", "52", None)])  # the plan: no reason
    with session_factory() as session:
        loaded = orders.get_order(session, world.actors["clerk_a"], order)
        (over,) = orders.over_issues(session, loaded, [orders.IssueItem(plant.acid, D("2"))])
        assert (over.planned, over.issued_before, over.issued_after, over.over_by) == (
            D("120.0000"), D("120.0000"), D("122.0000"), D("2.0000"))
        assert orders.over_issues(session, loaded, [orders.IssueItem(plant.solvent, D("0"))]) == []
    with refused_in(session_factory, OverIssueNeedsReason) as session:
        orders.issue_components(session, world.actors["clerk_a"], order, warehouse_id=world.warehouses["A-AMB"],
                                posting_date=NOV_10, items=[orders.IssueItem(plant.acid, D("2"))])
    with pytest.raises(OverIssueNeedsReason) as refused:
        issue(session_factory, world, order, [("acid", "2", None)])
    assert "R-ACID 2 (122 / 120)" in refused.value.detail
    assert refused.value.errors[0]["pointer"] == "/over_issue_reason"
    issue(session_factory, world, order, [("acid", "2", None)], over_issue_reason="drum spilled")
    with session_factory() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "production_order",
                                                            AuditEvent.entity_id == order,
                                                            AuditEvent.action == "over-issue")).all()
        assert (event.actor_name, event.reason) == ("clerk_a", "drum spilled")
        assert event.changes["material_id"]["after"] == plant.acid
        assert event.changes["issued_quantity"] == {"before": "120.0000", "after": "122.0000"}
        assert event.changes["over_issue"]["after"] == "2.0000"
