"""A small plant for production tests, in company A.

API-X (an intermediate, kg) is made from the raw materials R-ACID and R-SOLV in cost centre
API-REACT; TAB-X (finished tablets, each) from API-X and the excipient EXC-STAR in cost
centre TAB-PRESS. Standard prices of the bought materials and the cost-centre rates are set
for 2026-11. The figures of the roll-up worked out by hand:

    API-X, per 10 kg:   R-ACID 12 kg x 50.00                 = 600.00
                        R-SOLV 5 kg + 4 % scrap = 5.2 kg x 20.00 = 104.00
                        2 h x (labour 80.00 + overhead 120.00) = 160.00 + 240.00
                        total 1,104.00 -> 110.400000 per kg
    TAB-X, per 1,000:   API-X 0.1 kg x 110.40                = 11.04
                        EXC-STAR 0.2 kg + 2 % = 0.204 kg x 10.00 = 2.04
                        0.05 h x (60.00 + 40.00)              = 3.00 + 2.00
                        total 18.08 -> 0.018080 per tablet
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User
from erp.auth.roles import Actor
from erp.auth.services import actor_for_user
from erp.costing.standards import PriceChange, set_standard_prices
from erp.errors import DomainError
from erp.inventory import services as inventory
from erp.masterdata.models import (
    Company,
    Material,
    MaterialType,
    ProcurementScope,
    Supplier,
    UnitOfMeasure,
    Warehouse,
)
from erp.period import Period
from erp.production import boms, orders, rollup
from erp.purchasing.models import (
    Contract,
    ContractLine,
    ContractScope,
    ContractStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from tests.stock import batch_id, open_order, receive, set_standard
from tests.world import World

NOV, DEC = "2026-11", "2026-12"
NOV_1 = dt.date(2026, 11, 1)


@dataclass
class Plant:
    acid: int
    solvent: int
    api: int
    tablet: int
    excipient: int
    api_bom: int = 0
    tablet_bom: int = 0


def add_material(session: Session, world: World, code: str, kind: MaterialType, unit: str = "KG",
                 **kwargs: object) -> int:
    fields: dict[str, object] = {"shelf_life_days": 730, "batch_managed": True, "inspection_required": False,
                                 "over_receipt_tolerance_pct": D("0"), **kwargs}
    material = Material(code=code, name_zh=code, name_en=code, material_type=kind, unit_id=world.units[unit],
                        procurement_scope=ProcurementScope.LOCAL, **fields)
    session.add(material)
    session.flush()
    return material.id


def build_plant(session_factory: sessionmaker[Session], world: World, *, with_boms: bool = True,
                tablet_inspection: bool = False) -> Plant:
    with session_factory() as session, session.begin():
        plant = Plant(
            acid=add_material(session, world, "R-ACID", MaterialType.RAW),
            solvent=add_material(session, world, "R-SOLV", MaterialType.RAW),
            api=add_material(session, world, "API-X", MaterialType.INTERMEDIATE),
            tablet=add_material(session, world, "TAB-X", MaterialType.FINISHED, unit="EA",
                                inspection_required=tablet_inspection),
            excipient=world.materials["exc_local"],
        )
        session.flush()
    world.materials.update({"acid": plant.acid, "solvent": plant.solvent, "api": plant.api, "tablet": plant.tablet})
    for material, price in (("acid", "50.00"), ("solvent", "20.00"), ("exc_local", "10.00")):
        set_standard(session_factory, world, material, price)
    cost = world.actors["cost_a"]
    with session_factory() as session, session.begin():
        boms.set_cost_center_rates(session, cost, company_id=world.companies["A"], period=NOV, rates=[
            boms.RateIn("API-REACT", D("80"), D("120")), boms.RateIn("TAB-PRESS", D("60"), D("40"))])
    if with_boms:
        with session_factory() as session, session.begin():
            plant.api_bom = boms.create_bom(
                session, cost, company_id=world.companies["A"], material_id=plant.api, valid_from=NOV_1,
                base_quantity=D("10"), cost_center="API-REACT", hours=D("2"),
                components=[boms.ComponentIn(plant.acid, D("12")), boms.ComponentIn(plant.solvent, D("5"), D("4"))],
            ).id
            plant.tablet_bom = boms.create_bom(
                session, cost, company_id=world.companies["A"], material_id=plant.tablet, valid_from=NOV_1,
                base_quantity=D("1000"), cost_center="TAB-PRESS", hours=D("0.05"),
                components=[boms.ComponentIn(plant.api, D("0.1")), boms.ComponentIn(plant.excipient, D("0.2"), D("2"))],
            ).id
    return plant


@contextmanager
def refused_in(session_factory: sessionmaker[Session], error: type[DomainError]) -> Iterator[Session]:
    """A session whose block must raise ``error``; nothing it did is committed."""
    with session_factory() as session:
        with pytest.raises(error):
            with session.begin():
                yield session


NOV_2, NOV_10, NOV_20, NOV_28 = dt.date(2026, 11, 2), dt.date(2026, 11, 10), dt.date(2026, 11, 20), dt.date(2026, 11, 28)


def release_rollup(session_factory: sessionmaker[Session], world: World, period: str = NOV) -> int:
    """Roll up and release company A's standard costs (API-X 110.40/kg, TAB-X 0.018080)."""
    with session_factory() as session, session.begin():
        run = rollup.run_rollup(session, world.actors["cost_a"], company_id=world.companies["A"], period=period)
        rollup.release_rollup(session, world.actors["cost_a"], run.id, reason="standard costs of the period")
        return run.id


def buy(session_factory: sessionmaker[Session], world: World, material: str, quantity: str, price: str, batch: str,
        *, supplier: str = "sup1", on: dt.date = NOV_2) -> int:
    """Receive bought stock into A's ambient store at a contract price; returns the batch id."""
    (line,) = open_order(session_factory, world, [(material, quantity, price, "A-AMB")], supplier=supplier)
    receive(session_factory, world, line, quantity, batch=batch, on=on)
    return batch_id(session_factory, world, material, batch)


def new_order(session_factory: sessionmaker[Session], world: World, material: str, quantity: str, *,
              on: dt.date = NOV_2, release: bool = True) -> int:
    with session_factory() as session, session.begin():
        order = orders.create_order(session, world.actors["clerk_a"], company_id=world.companies["A"],
                                    material_id=world.materials[material], quantity=D(quantity), order_date=on,
                                    warehouse_id=world.warehouses["A-AMB"])
        if release:
            orders.release_order(session, world.actors["clerk_a"], order.id)
        return order.id


def issue(session_factory: sessionmaker[Session], world: World, order: int, items: list[tuple[str, str, int | None]],
          *, on: dt.date = NOV_10, over_issue_reason: str | None = None) -> list[int]:
    with session_factory() as session, session.begin():
        return orders.issue_components(
            session, world.actors["clerk_a"], order, warehouse_id=world.warehouses["A-AMB"], posting_date=on,
            items=[orders.IssueItem(world.materials[m], D(q), b) for m, q, b in items],
            over_issue_reason=over_issue_reason)


def deliver(session_factory: sessionmaker[Session], world: World, order: int, quantity: str, *,
            batch: str | None = None, on: dt.date = NOV_20) -> int:
    with session_factory() as session, session.begin():
        return orders.deliver_output(session, world.actors["clerk_a"], order, quantity=D(quantity), posting_date=on,
                                     batch_number=batch)


def complete(session_factory: sessionmaker[Session], world: World, order: int, on: dt.date = NOV_28) -> None:
    with session_factory() as session, session.begin():
        orders.complete_order(session, world.actors["clerk_a"], order, on)


@dataclass
class Made:
    """The batches and orders of ``make_tablets``."""

    acid: int
    solvent: int
    excipient: int
    api_order: int
    api_batch: int
    tablet_order: int
    tablet_batch: int


def make_tablets(session_factory: sessionmaker[Session], world: World, plant: Plant, *,
                 tablets_delivered: str = "98000", complete_order: bool = True, excipient_price: str = "10.00") -> Made:
    """Bought at standard (no purchase price variance): ACID-1 from S0001, SOLV-1 from S0002,
    EXC-1 from S0001. API order MO-1 for 100 kg issues exactly its plan (120 kg acid, 52 kg
    solvent) and delivers 100 kg into API-B1. Tablet order for 100,000 issues 10.2 kg of
    API-B1 (2 % more than the 10 kg the BOM allows) and the planned 20.4 kg of excipient, and
    delivers ``tablets_delivered`` into TAB-B1."""
    acid = buy(session_factory, world, "acid", "150", "50.00", "ACID-1")
    solvent = buy(session_factory, world, "solvent", "60", "20.00", "SOLV-1", supplier="sup2")
    excipient = buy(session_factory, world, "exc_local", "50", excipient_price, "EXC-1")
    api_order = new_order(session_factory, world, "api", "100")
    issue(session_factory, world, api_order, [("acid", "120", acid), ("solvent", "52", None)], on=NOV_2)
    deliver(session_factory, world, api_order, "100", batch="API-B1", on=NOV_2)
    complete(session_factory, world, api_order, NOV_2)
    api_batch = batch_id(session_factory, world, "api", "API-B1")
    tablet_order = new_order(session_factory, world, "tablet", "100000")
    issue(session_factory, world, tablet_order, [("api", "10.2", api_batch), ("exc_local", "20.4", None)],
          over_issue_reason="granulation losses")
    deliver(session_factory, world, tablet_order, tablets_delivered, batch="TAB-B1")
    if complete_order:
        complete(session_factory, world, tablet_order)
    return Made(acid, solvent, excipient, api_order, api_batch, tablet_order,
                batch_id(session_factory, world, "tablet", "TAB-B1"))


# --- a plant in the demo group (the browser tests and the page walk, over the demo's FORM01) ---

@dataclass
class DemoPlant:
    """What ``demo_plant`` made: the bought component with its order line and batch, the tablets."""

    component: Material
    po_line_id: int
    component_batch: str
    tablet: Material


def demo_plant(session: Session, *, company: Company, warehouse: Warehouse, clerk: User, cost: Actor, raw: str,
               tablets: str, cost_center: str, day: dt.date, label_zh: str, label_en: str) -> DemoPlant:
    """In a demo company, nothing taken from the demo's stock: a raw material coded ``raw`` of
    its own (standard 20.00/kg from ``day``'s period) with 5 kg in unrestricted stock of
    ``warehouse`` (ordered under a contract of its own, ``PO-{raw}``, and received by the clerk
    through the inventory service into batch ``{raw}-1``, as any purchase is), and finished
    tablets coded ``tablets`` made from 1 kg of it per 1,000 (0.1 h at ``cost_center``, 60.00 +
    40.00 per hour), rolled up and released for the period. ``label_zh``/``label_en`` say whose
    materials they are in their names (页面测试, page test)."""
    period = Period.of(day)
    units = {code: unit_id for code, unit_id in session.execute(select(UnitOfMeasure.code, UnitOfMeasure.id))}

    def material(code: str, name_zh: str, name_en: str, kind: MaterialType, unit: str) -> Material:
        made = Material(code=code, name_zh=f"{name_zh}（{label_zh}）", name_en=f"{name_en} ({label_en})",
                        material_type=kind, unit_id=units[unit], procurement_scope=ProcurementScope.LOCAL,
                        shelf_life_days=730, batch_managed=True, inspection_required=False,
                        over_receipt_tolerance_pct=D("0"))
        session.add(made)
        session.flush()
        return made

    component = material(raw, "原料", "Raw material", MaterialType.RAW, "KG")
    set_standard_prices(session, cost, company_id=company.id, period=period,
                        prices=[PriceChange(component.id, D("20.00"))])
    supplier = session.scalars(select(Supplier).order_by(Supplier.id)).first()
    assert supplier is not None
    contract = Contract(number=f"K-{raw}", supplier_id=supplier.id, scope=ContractScope.COMPANY,
                        company_id=company.id, valid_from=day, valid_to=day + dt.timedelta(days=365),
                        status=ContractStatus.ACTIVE, created_by=clerk.id,
                        lines=[ContractLine(material_id=component.id, unit_price=D("20.00"), unit_id=component.unit_id)])
    order = PurchaseOrder(number=f"PO-{raw}", purchasing_company_id=company.id, receiving_company_id=company.id,
                          supplier_id=supplier.id, order_date=day, status=PurchaseOrderStatus.OPEN,
                          created_by=clerk.id)
    session.add_all([contract, order])
    session.flush()
    order.lines.append(PurchaseOrderLine(line_no=1, material_id=component.id, quantity=D("5"), unit_price=D("20.00"),
                                         amount=D("100.00"), contract_line_id=contract.lines[0].id,
                                         warehouse_id=warehouse.id))
    session.flush()
    batch = f"{raw}-1"
    inventory.receive_goods(session, actor_for_user(clerk), inventory.ReceiptRequest(
        po_line_id=order.lines[0].id, quantity=D("5"), posting_date=day, batch_number=batch,
        manufacture_date=day - dt.timedelta(days=30), expiry_date=day + dt.timedelta(days=700)))
    tablet = material(tablets, "片剂", "Tablets", MaterialType.FINISHED, "EA")
    boms.set_cost_center_rates(session, cost, company_id=company.id, period=period,
                               rates=[boms.RateIn(cost_center, D("60"), D("40"))])
    boms.create_bom(session, cost, company_id=company.id, material_id=tablet.id, valid_from=period.first_day,
                    base_quantity=D("1000"), cost_center=cost_center, hours=D("0.1"),
                    components=[boms.ComponentIn(component.id, D("1"))])
    run = rollup.run_rollup(session, cost, company_id=company.id, period=period)
    rollup.release_rollup(session, cost, run.id, reason="standard costs of the period")
    return DemoPlant(component=component, po_line_id=order.lines[0].id, component_batch=batch, tablet=tablet)
