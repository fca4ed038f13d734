"""Bills of materials and the standard cost roll-up, with figures worked out by hand
(tests/production.py shows the arithmetic)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.costing.errors import StandardPriceInUse
from erp.errors import ValidationFailed
from erp.posting.errors import NoStandardPrice
from erp.posting.prices import standard_price
from erp.production import boms, rollup
from erp.production.errors import BomCycle, BomVersionNotLater, NoCostCenterRate, NotAMadeMaterial, RollupAlreadyReleased
from erp.production.models import Bom, BomComponent, RollupStatus
from tests.production import DEC, NOV, NOV_1, build_plant, refused_in
from tests.stock import open_order, receive, set_standard
from tests.world import World


def _run(sf: sessionmaker[Session], world: World, period: str = NOV) -> int:
    with sf() as session, session.begin():
        return rollup.run_rollup(session, world.actors["cost_a"], company_id=world.companies["A"], period=period).id


def _breakdown(sf: sessionmaker[Session], world: World, run: int) -> dict[str, rollup.EstimateView]:
    with sf() as session, session.begin():
        return {e.material_code: e for e in rollup.cost_breakdown(session, world.actors["cost_a"], run)}


def test_two_level_rollup_costs_the_api_then_the_tablets_with_conversion(
        session_factory: sessionmaker[Session], world: World) -> None:
    build_plant(session_factory, world)
    estimates = _breakdown(session_factory, world, _run(session_factory, world))
    api, tablet = estimates["API-X"], estimates["TAB-X"]
    assert (api.level, tablet.level) == (1, 2)
    # API-X per 10 kg: 12 x 50 = 600; 5.2 x 20 = 104; 2 h x 80 = 160 labour, 2 h x 120 = 240 overhead
    assert (api.material_cost, api.labour_cost, api.overhead_cost) == (D("704"), D("160"), D("240"))
    assert api.unit_cost == D("110.400000")
    lines = {(line.element, line.component_code): (line.quantity, line.price, line.amount) for line in api.lines}
    assert lines[("material", "R-ACID")] == (D("12"), D("50"), D("600"))
    assert lines[("material", "R-SOLV")] == (D("5.2"), D("20"), D("104"))
    assert lines[("labour", None)] == (D("2"), D("80"), D("160"))
    # TAB-X per 1,000: 0.1 kg x 110.40 = 11.04; 0.204 kg x 10 = 2.04; 0.05 h x 60 = 3.00, x 40 = 2.00
    assert (tablet.material_cost, tablet.labour_cost, tablet.overhead_cost) == (D("13.08"), D("3"), D("2"))
    assert tablet.unit_cost == D("0.018080")
    tablet_lines = {line.component_code: line.amount for line in tablet.lines if line.element == "material"}
    assert tablet_lines == {"API-X": D("11.04"), "EXC-STAR": D("2.04")}


def test_release_sets_the_periods_standard_prices_and_is_refused_twice(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    run = _run(session_factory, world)
    with session_factory() as session, session.begin():
        released = rollup.release_rollup(session, world.actors["cost_a"], run, reason="standard costs")
        assert released.status == RollupStatus.RELEASED
    with session_factory() as session:
        assert standard_price(session, world.companies["A"], plant.api, NOV) == D("110.400000")
        assert standard_price(session, world.companies["A"], plant.tablet, NOV) == D("0.018080")
        changes = session.scalars(select(AuditEvent.entity_id).where(AuditEvent.entity == "standard_price")).all()
        assert {plant.api, plant.tablet} <= set(changes)
    with refused_in(session_factory, RollupAlreadyReleased) as session:
        rollup.release_rollup(session, world.actors["cost_a"], run, reason="standard costs")
    with refused_in(session_factory, RollupAlreadyReleased) as session:
        rollup.run_rollup(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV)


def test_release_is_refused_where_the_price_is_already_used_by_postings(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    # Tablets bought in (a trade receipt) at the standard of 0.02 already used in November.
    set_standard(session_factory, world, "tablet", "0.02")
    (line,) = open_order(session_factory, world, [("tablet", "1000", "0.02", "A-AMB")])
    receive(session_factory, world, line, "1000", batch="T-BOUGHT")
    run = _run(session_factory, world)
    with refused_in(session_factory, StandardPriceInUse) as session:
        rollup.release_rollup(session, world.actors["cost_a"], run, reason="standard costs")
    assert plant.tablet


def test_a_new_bom_version_takes_effect_from_its_date(session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    with session_factory() as session, session.begin():
        # From December the tablets need 0.3 kg of excipient (no scrap) per 1,000.
        version = boms.create_bom(
            session, world.actors["cost_a"], company_id=world.companies["A"], material_id=plant.tablet,
            valid_from=dt.date(2026, 12, 1), base_quantity=D("1000"), cost_center="TAB-PRESS", hours=D("0.05"),
            components=[boms.ComponentIn(plant.api, D("0.1")), boms.ComponentIn(plant.excipient, D("0.3"))])
        assert version.version == 2
        assert boms.bom_in_force(session, world.companies["A"], plant.tablet, dt.date(2026, 11, 30)).version == 1
        assert boms.bom_in_force(session, world.companies["A"], plant.tablet, dt.date(2026, 12, 1)).version == 2
    with session_factory() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.entity == "bom",
                                                          AuditEvent.entity_id == version.id)) is not None
    # December: 11.04 + 0.3 x 10.00 + 5.00 = 19.04 per 1,000
    assert _breakdown(session_factory, world, _run(session_factory, world, DEC))["TAB-X"].unit_cost == D("0.019040")
    assert _breakdown(session_factory, world, _run(session_factory, world, NOV))["TAB-X"].unit_cost == D("0.018080")
    with refused_in(session_factory, BomVersionNotLater) as session:
        boms.create_bom(session, world.actors["cost_a"], company_id=world.companies["A"], material_id=plant.tablet,
                        valid_from=dt.date(2026, 11, 15), base_quantity=D("1000"),
                        components=[boms.ComponentIn(plant.api, D("0.1"))])


def test_cycles_are_refused_when_a_bom_is_created_and_by_the_rollup(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    # API-X made from TAB-X would close the loop TAB-X -> API-X -> TAB-X.
    with refused_in(session_factory, BomCycle) as session:
        boms.create_bom(session, world.actors["cost_a"], company_id=world.companies["A"], material_id=plant.api,
                        valid_from=dt.date(2026, 12, 1), base_quantity=D("1"),
                        components=[boms.ComponentIn(plant.tablet, D("1"))])
    # The same loop written past the service (as an import might): the roll-up refuses it.
    with session_factory() as session, session.begin():
        session.add(Bom(company_id=world.companies["A"], material_id=plant.api, version=2,
                        valid_from=dt.date(2026, 12, 1), base_quantity=D("1"), hours=D("0"),
                        created_by=world.users["cost_a"],
                        components=[BomComponent(line_no=1, material_id=plant.tablet, quantity=D("1"))]))
    with refused_in(session_factory, BomCycle) as session:
        rollup.run_rollup(session, world.actors["cost_a"], company_id=world.companies["A"], period=DEC)


def test_missing_prices_rates_and_bought_materials_are_refused(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    with refused_in(session_factory, NotAMadeMaterial) as session:
        boms.create_bom(session, world.actors["cost_a"], company_id=world.companies["A"], material_id=plant.acid,
                        valid_from=NOV_1, base_quantity=D("1"), components=[boms.ComponentIn(plant.solvent, D("1"))])
    # Company B has no prices, and its cost centre rates only from December: its BOM for
    # API-X cannot be costed in November.
    with session_factory() as session, session.begin():
        boms.set_cost_center_rates(session, world.actors["cost_group"], company_id=world.companies["B"], period=DEC,
                                   rates=[boms.RateIn("API-REACT", D("1"), D("1"))])
        boms.create_bom(session, world.actors["cost_group"], company_id=world.companies["B"], material_id=plant.api,
                        valid_from=NOV_1, base_quantity=D("10"), cost_center="API-REACT", hours=D("1"),
                        components=[boms.ComponentIn(plant.acid, D("12"))])
    with refused_in(session_factory, NoCostCenterRate) as session:
        rollup.run_rollup(session, world.actors["cost_group"], company_id=world.companies["B"], period=NOV)
    with session_factory() as session, session.begin():
        boms.set_cost_center_rates(session, world.actors["cost_group"], company_id=world.companies["B"], period=NOV,
                                   rates=[boms.RateIn("API-REACT", D("1"), D("1"))])
    with refused_in(session_factory, NoStandardPrice) as session:
        rollup.run_rollup(session, world.actors["cost_group"], company_id=world.companies["B"], period=NOV)


def test_a_bom_names_a_cost_centre_of_its_company_and_the_rates_in_force_are_listed(
        session_factory: sessionmaker[Session], world: World) -> None:
    """A cost centre exists in a company once its rates are set (trial finding 104: a BOM
    took any text and the roll-up refused it later). TAB-PRESS is set from November at
    60 + 40 per hour (tests/production.py); set again from December at 65 + 45, November
    still reads 60 + 40 and December 65 + 45; company B has no cost centre at all."""
    plant = build_plant(session_factory, world)
    cost = world.actors["cost_a"]
    company = world.companies["A"]
    with refused_in(session_factory, ValidationFailed) as session:
        boms.create_bom(session, cost, company_id=company, material_id=plant.tablet, valid_from=dt.date(2026, 12, 1),
                        base_quantity=D("1000"), cost_center="CAPS-FILL", hours=D("1"),
                        components=[boms.ComponentIn(plant.api, D("0.1"))])
    with pytest.raises(ValidationFailed) as refused, session_factory() as session:
        boms.create_bom(session, world.actors["cost_group"], company_id=world.companies["B"], material_id=plant.api,
                        valid_from=NOV_1, base_quantity=D("10"), cost_center="API-REACT", hours=D("1"),
                        components=[boms.ComponentIn(plant.acid, D("12"))])
    assert refused.value.errors[0]["pointer"] == "/cost_center"
    with session_factory() as session, session.begin():
        boms.set_cost_center_rates(session, cost, company_id=company, period=DEC,
                                   rates=[boms.RateIn("TAB-PRESS", D("65"), D("45"))])
        assert boms.cost_centers(session, company) == ["API-REACT", "TAB-PRESS"]
        assert boms.cost_centers(session, world.companies["B"]) == []
        in_force = {(r.cost_center, str(r.period)): (r.labour_rate, r.overhead_rate)
                    for r in boms.cost_center_rates(session, cost, company_id=company, period=NOV)}
        assert in_force == {("API-REACT", NOV): (D("80"), D("120")), ("TAB-PRESS", NOV): (D("60"), D("40"))}
        in_force = {(r.cost_center, str(r.period)): (r.labour_rate, r.overhead_rate)
                    for r in boms.cost_center_rates(session, cost, company_id=company, period=DEC)}
        assert in_force == {("API-REACT", NOV): (D("80"), D("120")), ("TAB-PRESS", DEC): (D("65"), D("45"))}
        assert [(r.cost_center, str(r.period)) for r in boms.cost_center_rates(session, cost, company_id=company)] == [
            ("API-REACT", NOV), ("TAB-PRESS", DEC), ("TAB-PRESS", NOV)]
        # a known cost centre is accepted
        boms.create_bom(session, cost, company_id=company, material_id=plant.tablet, valid_from=dt.date(2026, 12, 1),
                        base_quantity=D("1000"), cost_center="TAB-PRESS", hours=D("0.05"),
                        components=[boms.ComponentIn(plant.api, D("0.1"))])
