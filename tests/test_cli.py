"""The operational commands: balance check and the month-end close."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

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
    assert ("CA 2026-11: closed (closed now 2026-11), 1 materials, variance allocated 0.00, remaining 50.00"
            in result.output)
    refused = app.test_cli_runner().invoke(args=["costing", "close", "2026-11", "--company", "CB", "--as", "cost_a"])
    assert refused.exit_code == 1 and "refused" in refused.output


def test_snapshot_command_writes_the_month_ends_the_trend_reads(
    app: Flask, session_factory: sessionmaker[Session], world: World
) -> None:
    import datetime as dt

    from erp.clock import business_today
    from erp.credit import snapshots
    from tests.credit import history_invoice

    history_invoice(session_factory, world, "cust1", dt.date(2026, 9, 10), "700.00")
    today = business_today()
    months = (today.year - 2026) * 12 + today.month - 9  # September 2026 to last month
    result = app.test_cli_runner().invoke(args=["credit", "snapshot-receivables", "--months", str(months)])
    assert result.exit_code == 0, result.output
    ends = snapshots.past_month_ends(today, months)
    assert ends[0] == dt.date(2026, 9, 30)
    assert f"written for {months} month ends: {', '.join(d.isoformat() for d in ends)}" in result.output
    with session_factory() as session:
        assert snapshots.stale_or_missing(session, ends) == set()
        totals = snapshots.snapshot_totals(session, world.actors["cio"], [dt.date(2026, 9, 30)])
    # 30 days' terms: due 10 Oct, not yet due at the end of September
    assert totals[dt.date(2026, 9, 30)]["not_due"] == totals[dt.date(2026, 9, 30)]["open_amount"] == D("700.00")


def test_the_readmes_group_close_works_on_the_demo_as_written(app: Flask, session_factory: sessionmaker[Session],
                                                             set_business_day: Any) -> None:
    """The README's close command, read from the README itself, run on a freshly loaded demo
    (the demo's dates follow the business day): every company ends closed through last month."""
    import re
    import shlex
    from pathlib import Path

    from sqlalchemy import func, select

    from erp.demo.loader import load_demo
    from erp.masterdata.models import Company
    from erp.posting.models import AccountingPeriod, PeriodStatus

    set_business_day(dt.date(2026, 11, 29))
    with session_factory() as session:
        load_demo(session, seed=7)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (line,) = [line for line in readme.splitlines() if re.match(r"\.venv/bin/flask --app erp costing close ", line)]
    command = shlex.split(line.split("#")[0])
    assert command[:3] == [".venv/bin/flask", "--app", "erp"]
    result = app.test_cli_runner().invoke(args=command[3:])
    assert result.exit_code == 0, result.output
    with session_factory() as session:
        companies = session.scalar(select(func.count(Company.id)).where(Company.active.is_(True)))
        closed_through = dict(session.execute(
            select(AccountingPeriod.company_id, func.max(AccountingPeriod.period))
            .where(AccountingPeriod.status == PeriodStatus.CLOSED).group_by(AccountingPeriod.company_id)).all())
    assert companies == 30
    assert len(closed_through) == 30 and set(closed_through.values()) == {"2026-10"}
    assert result.output.count("2026-10: closed") == 30
