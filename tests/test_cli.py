"""The operational commands: balance check and the month-end close."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockBalance
from erp.posting.models import AccountingPeriod, PeriodStatus
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


def test_commands_naming_companies_refuse_codes_no_company_has_and_write_nothing(
        app: Flask, session_factory: sessionmaker[Session], world: World) -> None:
    runner = app.test_cli_runner()
    for args in (["costing", "close", "2026-11", "--company", "CA", "--company", "ZZ", "--as", "cost_a"],
                 ["payables", "price-differences", "--company", "ZZ", "--company", "YY"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, result.output
        assert ("no company ZZ" if "costing" in args else "no company YY, ZZ") in result.output
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AccountingPeriod)
                              .where(AccountingPeriod.status == PeriodStatus.CLOSED)) == 0


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


def test_price_differences_posted_before_0040_are_listed_and_written_into_the_open_period(
    app: Flask, session_factory: sessionmaker[Session], world: World, monkeypatch: Any, set_business_day: Any
) -> None:
    """Invoices entered before migration 0040 put their price difference on 1404 and no row in
    the stock ledger (simulated: the invoice posted without ``post_variance_carried``).

    November, standard 12.00: 100 kg received at the contract price 12.00 (variance 0);
    invoice INV-OLD at 12.30: Dr 1404 30.00; 20 kg returned and credit memo CM-OLD at 12.30:
    Cr 1404 6.00; 50 kg to production. November's close sees no variance (rate 0): it
    allocates nothing and reports 0.00 remaining while 1404 holds 24.00 (the gap). The
    command lists CA 2026-11: INV-OLD 30.00 and CM-OLD -6.00 (total 24.00) and exits 1.
    --write dated 30 November is refused (November is closed), nothing written; --write on
    the business day (15 December) writes two PD documents (variance 30.00 and -6.00, linked
    to their invoices) and no journal entry: 1404 stays 24.00. Again: nothing to list, exit 0.
    The last 30 kg go to production on 15 December. December's close: opening 30 kg, 360.00
    at standard carrying 0.00; receipts 0 with variance 30.00 - 6.00 = 24.00; rate 24.00 /
    360.00; production takes all 30 kg and bears all 24.00 (Dr 5001 24.00, Cr 1404 24.00):
    1404 0.00 = the close's remaining."""
    from sqlalchemy import func, select

    from erp.costing.close import close_period
    from erp.payables import services as payables
    from erp.payables.models import DocumentKind
    from erp.posting.models import JournalEntry, MovementType, StockDocument, StockMovement
    from tests.payables import enter, vat13_on_materials
    from tests.stock import account_balance, issue, return_goods

    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receipt = receive(session_factory, world, line, "100", on=dt.date(2026, 11, 5))
    with monkeypatch.context() as before_0040:
        before_0040.setattr(payables, "post_variance_carried", lambda *args, **kwargs: None)
        invoice = enter(session_factory, world, "INV-OLD", [(line, "100", "12.30")], net="1230.00", tax="159.90")
        returned = return_goods(session_factory, world, receipt, "20")
        memo = enter(session_factory, world, "CM-OLD", [(line, "20", "12.30")], net="246.00", tax="31.98",
                     kind=DocumentKind.CREDIT_MEMO, returns=[returned], credits=invoice)
    issue(session_factory, world, "exc_local", "50", on=dt.date(2026, 11, 25))
    company = world.companies["A"]
    with session_factory() as session, session.begin():
        november = close_period(session, world.actors["cost_a"], company_id=company, period="2026-11")
    with session_factory() as session:
        assert (november.variance_remaining, account_balance(session, company, "1404")) == (D("0.00"), D("24.00"))
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["payables", "price-differences", "--company", "CA"])
    assert listed.exit_code == 1, listed.output
    assert f"CA 2026-11 invoice INV-OLD (id {invoice}, supplier S0001, posted 2026-11-20)" in listed.output
    assert "1404 30.00 not in the stock ledger" in listed.output
    assert f"CA 2026-11 credit_memo CM-OLD (id {memo}" in listed.output and "1404 -6.00" in listed.output
    assert "CA 2026-11: 24.00 on 1404 not in the stock ledger" in listed.output

    def ledger() -> tuple[list[tuple[Any, ...]], int]:
        with session_factory() as session:
            rows = [tuple(r) for r in session.execute(
                select(StockDocument.supplier_invoice_id, StockMovement.posting_date, StockMovement.variance)
                .join(StockMovement, StockMovement.document_id == StockDocument.id)
                .where(StockDocument.doc_type == MovementType.PRICE_DIFFERENCE).order_by(StockMovement.id))]
            return rows, session.scalar(select(func.count(JournalEntry.id))) or 0

    rows, entries = ledger()
    assert rows == []
    refused = runner.invoke(args=["payables", "price-differences", "--write", "--on", "2026-11-30", "--as", "cost_a"])
    assert refused.exit_code == 1 and "refused, nothing written" in refused.output
    assert ledger() == ([], entries)
    written = runner.invoke(args=["payables", "price-differences", "--write", "--as", "cost_a"])
    assert written.exit_code == 0, written.output
    assert "2 invoice(s) without their price difference in the ledger, 2 corrected" in written.output
    assert ledger() == ([(invoice, dt.date(2026, 12, 15), D("30.00")), (memo, dt.date(2026, 12, 15), D("-6.00"))],
                        entries)  # no journal entry: the invoices' own are right
    again = runner.invoke(args=["payables", "price-differences", "--write", "--as", "cost_a"])
    assert again.exit_code == 0 and "0 invoice(s)" in again.output
    issue(session_factory, world, "exc_local", "30", on=dt.date(2026, 12, 15))
    set_business_day(dt.date(2027, 1, 5))
    with session_factory() as session, session.begin():
        december = close_period(session, world.actors["cost_a"], company_id=company, period="2026-12")
    with session_factory() as session:
        assert december.variance_allocated == D("24.00")
        assert account_balance(session, company, "1404") == D("0.00") == december.variance_remaining


def test_a_price_difference_run_that_finds_another_run_wrote_the_rows_first_exits_0_and_says_so(
    app: Flask, session_factory: sessionmaker[Session], world: World, monkeypatch: Any
) -> None:
    """Two `--write` runs at the same time: the invoices' lock lets the first write each row;
    the second, which listed the invoice before that, finds nothing left to write. Nothing is
    missing when it ends, so it exits 0 (it exited 1, as if rows were still missing)."""
    from erp.payables import price_differences
    from erp.payables import services as payables
    from tests.payables import enter, vat13_on_materials

    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100", on=dt.date(2026, 11, 5))
    with monkeypatch.context() as before_0040:
        before_0040.setattr(payables, "post_variance_carried", lambda *args, **kwargs: None)
        enter(session_factory, world, "INV-OLD", [(line, "100", "12.30")], net="1230.00", tax="159.90")
    real_write = price_differences.write_missing_price_differences

    def the_other_run_first(session: Session, actor: Any, company_id: int, on: dt.date) -> Any:
        with session_factory() as other, other.begin():
            assert len(real_write(other, actor, company_id, on)) == 1
        return real_write(session, actor, company_id, on)

    monkeypatch.setattr(price_differences, "write_missing_price_differences", the_other_run_first)
    raced = app.test_cli_runner().invoke(args=["payables", "price-differences", "--write", "--as", "cost_a"])
    assert raced.exit_code == 0, raced.output
    assert "1 invoice(s) without their price difference in the ledger, 0 corrected" in raced.output
    assert "1 written by another run at the same time" in raced.output
    listed = app.test_cli_runner().invoke(args=["payables", "price-differences"])
    assert listed.exit_code == 0 and "0 invoice(s)" in listed.output
