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
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import DomainError

from erp.masterdata.models import Material, MaterialType, ProcurementScope
from erp.production import boms
from tests.stock import set_standard
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
