"""The limit model's backtest (#19): replayed at month ends on history posted through the
services, each figure worked out by hand from the documented default parameters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.backtest import run_backtest
from erp.credit.models import CreditLimit
from erp.credit.parameters import ensure_model
from erp.errors import Forbidden, ValidationFailed
from tests.credit import POLICY, history_invoice, pay, set_limit
from tests.world import World

SF = sessionmaker[Session]
TODAY = dt.date(2026, 11, 29)


def history(session_factory: SF, world: World) -> None:
    """cust1 (30 days, approved 25,000 from 1 Jan 2026): 30,000 invoiced 10 Jan, paid on its
    due day 9 Feb; 20,000 invoiced 20 Apr (due 20 May), never paid: more than 90 days past
    due from 19 Aug. cust2 (60 days, no approved limit: 100,000 in force): 10,000 invoiced
    1 Feb, paid on its due day 2 Apr. Neither has credit data (no statement, no rating)."""
    set_limit(session_factory, world, "cust1", "25000.00")
    with session_factory() as session, session.begin():
        session.execute(update(CreditLimit).values(set_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    first = history_invoice(session_factory, world, "cust1", dt.date(2026, 1, 10), "30000.00")
    pay(session_factory, world, "30000.00", day=dt.date(2026, 2, 9), invoice_ids=[first])
    history_invoice(session_factory, world, "cust1", dt.date(2026, 4, 20), "20000.00")
    other = history_invoice(session_factory, world, "cust2", dt.date(2026, 2, 1), "10000.00")
    pay(session_factory, world, "10000.00", day=dt.date(2026, 4, 2), customer="cust2", invoice_ids=[other])


def store_model(session_factory: SF, world: World) -> None:
    """The documented default parameters, stored as a credit controller's first recompute does."""
    with session_factory() as session, session.begin():
        ensure_model(session, world.actors["credit"], TODAY)


def test_the_backtest_reports_each_month_end_what_the_model_restricted_and_what_it_covered(
    session_factory: SF, world: World
) -> None:
    # Points without credit data: rating none 40 x 20 % = 8.00, years none 10 x 10 % = 1.00,
    # volume below 100k 20 x 10 % = 2.00, type other 40 x 10 % = 4.00; disputes 0 % 100 x 5 % = 5.00.
    #
    # 31 Mar. cust1: 0 days late (100 x 15 % = 15.00), nothing open (0 % overdue: 10.00):
    #   score 45.00, high; 3 months traded (10 Jan); sales 30,000 x 1 / 3 = 10,000: limit 10,000
    #   against 25,000 approved: limited, 15,000 withheld. The 20,000 of 20 Apr, dated after
    #   31 Mar, went more than 90 days past due on 19 Aug: covered min(20,000, 15,000) = 15,000.
    # cust2: no payment yet (days late no data 50 x 15 % = 7.50), 10,000 open not due (10.00):
    #   score 37.50, very high; 2 months traded; 10,000 x 0.5 / 2 = 2,500: 2,000 against 100,000.
    # 30 Apr. cust1: 50,000 invoiced, 20,000 open not due: 45.00, high; 4 months: 12,500 -> 12,000
    #   (13,000 withheld); the bad invoice is dated before the month end: covered 0.
    #   cust2: paid on time: 45.00, high; 3 months: 10,000 / 3 = 3,333.33 -> 3,000 (97,000).
    # 31 May. cust1: all 20,000 open is 11 days overdue (100 % -> 0 points): 35.00, very high;
    #   5 months: 50,000 x 0.5 / 5 = 5,000 (20,000 withheld); covered 0.
    #   cust2: 4 months: 2,500 -> 2,000 (98,000).
    history(session_factory, world)
    store_model(session_factory, world)
    with session_factory() as session, session.begin():
        result = run_backtest(session, world.actors["credit"], first_month="2026-03", last_month="2026-05",
                              policy=POLICY, today=TODAY)
    months = [(m.month_end, m.horizon_end, m.customers, m.held, m.limited, m.withheld, m.went_bad,
               m.went_bad_limited, m.overdue_amount, m.overdue_after, m.covered) for m in result.months]
    assert months == [
        (dt.date(2026, 3, 31), TODAY, 2, 0, 2, D("113000.00"), 1, 1, D("20000.00"), D("20000.00"), D("15000.00")),
        (dt.date(2026, 4, 30), TODAY, 2, 0, 2, D("110000.00"), 1, 1, D("20000.00"), D("0.00"), D("0.00")),
        (dt.date(2026, 5, 31), TODAY, 2, 0, 2, D("118000.00"), 1, 1, D("20000.00"), D("0.00"), D("0.00")),
    ]
    # counted once, at the last month end before it went bad (31 May)
    (bad,) = result.bad_customers
    assert (bad.month_end, bad.customer_id, bad.went_bad_on, bad.approved_limit, bad.suggested_limit, bad.hold,
            bad.decision, bad.score, bad.risk_class, bad.covered) == (
        dt.date(2026, 5, 31), world.customers["cust1"], dt.date(2026, 8, 19), D("25000.00"), D("5000.00"), False,
        "limited", D("35.00"), "very_high", D("0.00"))
    assert (result.went_bad, result.count("limited"), result.count("held"), result.total("overdue_amount")) == (
        1, 1, 0, D("20000.00"))


def test_a_customer_already_more_than_90_days_overdue_is_held_not_counted_as_going_bad(
    session_factory: SF, world: World
) -> None:
    # 30 Sep: cust1's 20,000 (due 20 May) is 133 days past due: the model holds it (0), and it
    # went bad before the month end, so it is not in the cohort. cust2: 8 months traded,
    # 10,000 / 8 = 1,250 -> 1,000. Withheld 25,000 + 99,000.
    history(session_factory, world)
    store_model(session_factory, world)
    with session_factory() as session, session.begin():
        (month,) = run_backtest(session, world.actors["credit"], first_month="2026-09", last_month="2026-09",
                                policy=POLICY, today=TODAY).months
    assert (month.customers, month.held, month.limited, month.withheld, month.went_bad) == (
        2, 1, 1, D("124000.00"), 0)


def test_the_backtest_refuses_months_not_yet_ended_and_other_roles(session_factory: SF, world: World) -> None:
    with session_factory() as session:
        with pytest.raises(ValidationFailed):
            run_backtest(session, world.actors["credit"], first_month="2026-10", last_month="2026-11",
                         policy=POLICY, today=TODAY)
        with pytest.raises(ValidationFailed):
            run_backtest(session, world.actors["credit"], first_month="2026-05", last_month="2026-03",
                         policy=POLICY, today=TODAY)
        with pytest.raises(Forbidden):
            run_backtest(session, world.actors["sales_a"], first_month="2026-03", last_month="2026-05",
                         policy=POLICY, today=TODAY)


def test_the_command_prints_each_month_and_the_summary(app: Flask, session_factory: SF, world: World) -> None:
    history(session_factory, world)
    result = app.test_cli_runner().invoke(args=["credit", "backtest", "--from", "2026-03", "--to", "2026-05",
                                                "--details"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("2026-03-31") and line.split()[1:] == [
        "2", "0", "2", "113,000.00", "1", "0", "1", "20,000.00", "20,000.00", "15,000.00"] for line in lines)
    assert ("customers that went more than 90 days past due: 1 (each at the last month end before): held 0, "
            "limited 1, not limited 0; over 90 days 20,000.00, of which on invoices after that month end 0.00, "
            "covered 0.00 (-)") in result.output
    assert "K0001 at 2026-05-31: score 35.00 very_high, suggested 5,000.00 against approved 25,000.00: limited" \
        in result.output
    refused = app.test_cli_runner().invoke(args=["credit", "backtest", "--from", "2099-01", "--to", "2099-05"])
    assert refused.exit_code != 0 and "has not ended" in refused.output
