"""The operational commands: balance check and the month-end close."""

from __future__ import annotations

from decimal import Decimal as D

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockBalance
from tests.stock import open_order, receive, set_standard
from tests.world import World


def test_stock_check_reports_no_drift_then_finds_and_repairs_corruption(
    app: Flask, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.50", "A-AMB")])
    receive(session_factory, world, line, "100")
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["stock", "check"])
    assert clean.exit_code == 0 and "0 balance(s) drifted" in clean.output
    with session_factory() as session, session.begin():
        session.execute(update(StockBalance).values(quantity=StockBalance.quantity + D("1")))
    found = runner.invoke(args=["stock", "check"])
    assert found.exit_code == 1 and "quantity -1" in found.output
    repaired = runner.invoke(args=["stock", "check", "--repair"])
    assert repaired.exit_code == 0 and "rebuilt" in repaired.output
    assert "0 balance(s) drifted" in runner.invoke(args=["stock", "check"]).output


def test_close_command_closes_the_named_companies(app: Flask, session_factory: sessionmaker[Session],
                                                  world: World) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.50", "A-AMB")])
    receive(session_factory, world, line, "100")
    result = app.test_cli_runner().invoke(args=["costing", "close", "2026-11", "--company", "CA", "--as", "cost_a"])
    assert result.exit_code == 0, result.output
    assert "CA 2026-11: closed, 1 materials, variance allocated 0.00, remaining 50.00" in result.output
    refused = app.test_cli_runner().invoke(args=["costing", "close", "2026-11", "--company", "CB", "--as", "cost_a"])
    assert refused.exit_code == 1 and "refused" in refused.output
