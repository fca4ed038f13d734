"""The purchasing rights at order time: a company contract's line for a central material
prices orders for that company only on a day a steward's exception covers (defence in depth
behind the refusals of create_contract and activate_contract, finding 46)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing import services
from erp.purchasing.models import Contract, ContractLine, ContractScope, ContractStatus, PurchasingException
from tests.purchasing_world import Deals
from tests.world import World


def _legacy_company_contract(session: Session, world: World, deals: Deals) -> None:
    """An active contract of company A pricing the central API-AMOX at 150, written as one made
    before the rule (or by an import that went around the service) would be: no exception."""
    material = world.materials["api_central"]
    session.add(Contract(
        number="CA-LEGACY", supplier_id=world.suppliers["sup1"], scope=ContractScope.COMPANY,
        company_id=world.companies["A"], valid_from=deals.valid_from, valid_to=deals.valid_to,
        status=ContractStatus.ACTIVE, created_by=world.users["buyer_a"],
        lines=[ContractLine(material_id=material, unit_id=world.units["KG"], unit_price=Decimal("150"),
                            ordered_quantity=Decimal(0))]))


def _exception(world: World, company: str, days: tuple[int, int], today: dt.date, *,
               revoked: bool = False) -> PurchasingException:
    return PurchasingException(
        company_id=world.companies[company], material_id=world.materials["api_central"],
        valid_from=today + dt.timedelta(days=days[0]), valid_to=today + dt.timedelta(days=days[1]),
        reason="plant flooded", granted_by=world.users["steward"],
        revoked_at=dt.datetime.now(dt.UTC) if revoked else None,
        revoked_by=world.users["steward"] if revoked else None)


def _price_for(session: Session, world: World, company: str, day: dt.date) -> str:
    lines = services.applicable_contract_lines(session, company_id=world.companies[company], day=day,
                                               supplier_id=world.suppliers["sup1"],
                                               material_ids=[world.materials["api_central"]])
    line = lines[(world.suppliers["sup1"], world.materials["api_central"])]
    return f"{line.contract.number} {line.unit_price:.2f}"


@pytest.mark.parametrize(
    ("exceptions", "price"),
    [
        ([], "GRP-001 850.00"),  # no exception: the group's price, as if A's line were not there
        ([("A", (-5, 5), False)], "CA-LEGACY 150.00"),  # covered today: A's own price
        ([("A", (1, 30), False)], "GRP-001 850.00"),  # starts tomorrow
        ([("A", (-30, -1), False)], "GRP-001 850.00"),  # ended yesterday
        ([("A", (-5, 5), True)], "GRP-001 850.00"),  # revoked
        ([("B", (-5, 5), False)], "GRP-001 850.00"),  # another company's
    ],
)
def test_a_company_line_for_a_central_material_applies_only_on_a_day_an_exception_covers(
    session_factory: sessionmaker[Session], world: World, deals: Deals,
    exceptions: list[tuple[str, tuple[int, int], bool]], price: str,
) -> None:
    with session_factory() as session, session.begin():
        _legacy_company_contract(session, world, deals)
        session.add_all([_exception(world, company, days, deals.today, revoked=revoked)
                         for company, days, revoked in exceptions])
    with session_factory() as session:
        assert _price_for(session, world, "A", deals.today) == price
        assert _price_for(session, world, "B", deals.today) == "GRP-001 850.00"  # B never saw A's contract


def test_a_local_material_in_a_company_contract_needs_no_exception(
    session_factory: sessionmaker[Session], world: World, deals: Deals
) -> None:
    with session_factory() as session:
        lines = services.applicable_contract_lines(session, company_id=world.companies["A"], day=deals.today)
        assert lines[(world.suppliers["sup1"], world.materials["exc_local"])].contract.number == "CA-001"


def test_the_check_command_finds_company_lines_for_central_materials_no_exception_covers(
    app: Flask, session_factory: sessionmaker[Session], world: World, deals: Deals
) -> None:
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["purchasing", "check-contracts"])
    assert clean.exit_code == 0, clean.output  # CA-001 prices local materials only
    assert "no company contract prices a central material outside the purchasing rights" in clean.output
    with session_factory() as session, session.begin():
        _legacy_company_contract(session, world, deals)
        # covers today to day 100 only; the contract runs to deals.valid_to (day 335)
        session.add(_exception(world, "A", (-5, 100), deals.today))
    found = runner.invoke(args=["purchasing", "check-contracts"])
    assert found.exit_code == 1, found.output
    uncovered = deals.today + dt.timedelta(days=101)
    assert f"CA-LEGACY (active, CA): API-AMOX is central and no exception of CA covers {uncovered}" in found.output
    assert "1 company contract line(s) outside the purchasing rights" in found.output
    with session_factory() as session, session.begin():
        session.add(_exception(world, "A", (101, 400), deals.today))
    assert runner.invoke(args=["purchasing", "check-contracts"]).exit_code == 0
