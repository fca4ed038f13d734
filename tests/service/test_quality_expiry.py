"""Expiry: near-expiry batches are listed; on their expiry date they are blocked and can be
neither issued nor shipped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import errors as inventory_errors
from erp.inventory import services as inventory
from erp.masterdata.models import Material
from erp.quality import expiry, services
from erp.quality.models import InspectionLot, LotStatus
from tests.stock import NOV_20, balances, batch_id, open_order, receive, set_standard
from tests.world import World

NOV_25 = dt.date(2026, 11, 25)


@pytest.fixture
def short_dated(session_factory: sessionmaker[Session], world: World) -> int:
    """60 kg of starch, batch S-1 expiring 25 Nov, and 40 kg of batch S-2 expiring in 2029,
    both released in A's ambient store (the material accepts short shelf life)."""
    with session_factory() as session, session.begin():
        material = session.get(Material, world.materials["exc_local"])
        assert material is not None
        material.min_remaining_shelf_life_days = 1
    set_standard(session_factory, world, "exc_local", "8.00")
    line, other = open_order(session_factory, world, [("exc_local", "60", "8.00", "A-AMB"),
                                                      ("exc_local", "40", "8.00", "A-AMB")])
    receive(session_factory, world, line, "60", batch="S-1", expires=NOV_25)
    receive(session_factory, world, other, "40", batch="S-2")
    return batch_id(session_factory, world, "exc_local", "S-1")


def test_near_expiry_batches_are_listed_soonest_first(
    session_factory: sessionmaker[Session], world: World, short_dated: int
) -> None:
    with session_factory() as session:
        rows, total = expiry.near_expiry(session, world.actors["clerk_a"], on=NOV_20, days=30)
        assert total == 1
        assert [(r.batch_number, r.days_left, r.quantity) for r in rows] == [("S-1", 5, D("60"))]


def test_an_expired_batch_is_blocked_and_cannot_be_issued_or_shipped(
    session_factory: sessionmaker[Session], world: World, short_dated: int
) -> None:
    with session_factory() as session, session.begin():
        assert expiry.block_expired(session, world.actors["quality_a"], on=dt.date(2026, 11, 24)) == []
    with session_factory() as session, session.begin():
        (document,) = expiry.block_expired(session, world.actors["quality_a"], on=NOV_25)
    with session_factory() as session:
        # 60 kg x 8.00 = 480.00 moved to blocked; S-2 untouched
        assert balances(session, warehouse_id=world.warehouses["A-AMB"]) == [
            ("S-1", "blocked", D("60.0000"), D("480.00")), ("S-1", "unrestricted", D("0.0000"), D("0.00")),
            ("S-2", "unrestricted", D("40.0000"), D("320.00"))]
    for attempt in (
        lambda session: inventory.issue_goods(
            session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
            material_id=world.materials["exc_local"], quantity=D("10"), posting_date=NOV_25,
            destination=inventory.IssueDestination.PRODUCTION, batch_id=short_dated),
        lambda session: inventory.ship_goods(
            session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
            material_id=world.materials["exc_local"], quantity=D("10"), posting_date=NOV_25,
            customer_id=world.customers["cust1"], reference="SO-1", batch_id=short_dated),
    ):
        with session_factory() as session, session.begin(), pytest.raises(inventory_errors.InsufficientStock):
            attempt(session)
    with session_factory() as session, session.begin():  # blocking again finds nothing left to block
        assert expiry.block_expired(session, world.actors["quality_a"], on=NOV_25) == []
    assert document > 0


def test_the_scheduled_command_blocks_what_has_expired(
    app: Flask, session_factory: sessionmaker[Session], world: World, short_dated: int
) -> None:
    result = app.test_cli_runner().invoke(args=["quality", "block-expired", "--on", "2026-11-25", "--as",
                                                "quality_a"])
    assert result.exit_code == 0, result.output
    assert "2026-11-25: 1 blocking documents" in result.output
    with session_factory() as session:
        assert ("S-1", "blocked", D("60.0000"), D("480.00")) in balances(session, warehouse_id=world.warehouses["A-AMB"])
    refused = app.test_cli_runner().invoke(args=["quality", "block-expired", "--as", "clerk_a"])
    assert refused.exit_code != 0 and "refused" in refused.output


def test_blocking_an_expired_batch_closes_its_open_inspection_lot(
    session_factory: sessionmaker[Session], world: World
) -> None:
    # amoxicillin (inspected) received on 20 Nov in two batches: A-1 expiring 25 Nov, A-2 in 2029
    with session_factory() as session, session.begin():
        material = session.get(Material, world.materials["api_central"])
        assert material is not None
        material.min_remaining_shelf_life_days = 1
    set_standard(session_factory, world, "api_central", "52.00")
    line, other = open_order(session_factory, world, [("api_central", "30", "52.00", "A-COOL"),
                                                      ("api_central", "20", "52.00", "A-COOL")])
    receive(session_factory, world, line, "30", batch="A-1", expires=NOV_25)
    receive(session_factory, world, other, "20", batch="A-2")
    short, long = (batch_id(session_factory, world, "api_central", b) for b in ("A-1", "A-2"))
    with session_factory() as session, session.begin():
        expiry.block_expired(session, world.actors["quality_a"], on=NOV_25)
    with session_factory() as session:
        lots = {lot.batch_id: lot.status for lot in session.scalars(select(InspectionLot))}
        assert lots == {short: LotStatus.EXPIRED, long: LotStatus.OPEN}
        assert ("A-1", "blocked", D("30.0000"), D("1560.00")) in balances(session, warehouse_id=world.warehouses["A-COOL"])
        worklist, total = services.lot_rows(session, world.actors["quality_a"])
        assert (total, [row.batch_number for row in worklist]) == (1, ["A-2"])
