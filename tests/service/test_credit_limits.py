"""The credit limit model run set-based over the database: invoices, payments and disputes
posted through the services, credit data recorded by a controller, one run, and every
customer's suggestion checked against numbers worked out by hand (the same customers as
tests/unit/test_credit_scorecard.py, so the unit and the SQL must agree), then approval
of a hold, versioned parameters, and roles.

Key date 20 November 2026: the window is 21 Nov 2025 - 20 Nov 2026, statements and ratings
before 20 May 2025 are stale, invoices due before 22 Aug 2026 are more than 90 days past due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D
from typing import Any
from unittest.mock import patch

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from erp.audit import services as audit
from erp.config import Settings
from erp import narration
from erp.credit import jobs, limits, parameters, profiles
from erp.credit.models import CreditLimitSuggestion, CreditModelVersion, CreditSuggestionRun
from erp.jobs.models import Job, JobStatus
from erp.jobs.runner import JobContext, JobEnvironment, run_job
from erp.credit.profiles import CreditData
from erp.credit.scorecard import (
    DEFAULT_PARAMETERS,
    Capacity,
    CustomerType,
    Evaluation,
    Factor,
    HoldRule,
    RatingGrade,
    explain,
    steps_add_up,
)
from erp.errors import DomainError, Forbidden, ValidationFailed
from erp.masterdata.models import Customer
from tests.credit import history_invoice, pay, position
from tests.world import World

SF = sessionmaker[Session]
AS_OF = dt.date(2026, 11, 20)
_serial = iter(range(100, 10_000))


def add_customer(session_factory: SF, world: World, name: str, terms: int) -> str:
    """A customer of the group master with ``terms`` days' payment terms; returns its key."""
    number = next(_serial)
    body = f"91440300{number:09d}"
    with session_factory() as session, session.begin():
        customer = Customer(code=f"KT{number:04d}", uscc=body + uscc.calc_check_digit(body), name_zh=name,
                            name_en=name, payment_terms_days=terms)
        session.add(customer)
        session.flush()
        world.customers[name] = customer.id
    return name


def credit_data(session_factory: SF, world: World, customer: str, data: CreditData,
                valid_from: dt.date = dt.date(2026, 6, 1)) -> None:
    with session_factory() as session, session.begin():
        profiles.record_credit_data(session, world.actors["credit"], world.customers[customer], data,
                                    reason="annual review", valid_from=valid_from)


def invoice(session_factory: SF, world: World, customer: str, day: dt.date, amount: str,
            paid_on: dt.date | None = None) -> int:
    invoice_id = history_invoice(session_factory, world, customer, day, amount)
    if paid_on is not None:
        pay(session_factory, world, amount, customer=customer, day=paid_on, invoice_ids=[invoice_id])
    return invoice_id


def dispute(session_factory: SF, world: World, invoice_id: int, amount: str, day: dt.date) -> None:
    with session_factory() as session, session.begin():
        profiles.open_dispute(session, world.actors["credit"], invoice_id=invoice_id, amount=D(amount),
                              opened_on=day, reason="short delivery")


def run(session_factory: SF, world: World, chunk: int = limits.CHUNK) -> dict[int, CreditLimitSuggestion]:
    with session_factory() as session, session.begin():
        made = limits.suggest_limits(session, world.actors["credit"], as_of=AS_OF, chunk=chunk, today=AS_OF)
        run_id = made.id
    with session_factory() as session:
        return {s.customer_id: s for s in session.scalars(
            select(CreditLimitSuggestion).where(CreditLimitSuggestion.run_id == run_id))}


@pytest.fixture
def scenarios(session_factory: SF, world: World) -> World:
    """The customers of the hand-computed cases, their data and their history."""
    sf, w = session_factory, world
    # The published example: pharmacy chain, 30 days' terms.
    add_customer(sf, w, "published", 30)
    credit_data(sf, w, "published", CreditData(
        CustomerType.PHARMACY_CHAIN, registered_capital=D("1000000"), tangible_net_worth=D("80000"),
        annual_turnover=D("700000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.A,
        rating_agency="Dagong", rating_date=dt.date(2026, 3, 1), founded_on=dt.date(2014, 6, 1)))
    invoice(sf, w, "published", dt.date(2024, 1, 10), "50000.00", dt.date(2024, 2, 9))  # outside the window
    invoice(sf, w, "published", dt.date(2026, 3, 1), "200000.00", dt.date(2026, 4, 3))  # due 31 Mar: 3 days late
    invoice(sf, w, "published", dt.date(2026, 11, 1), "100000.00")  # due 1 Dec: open, not due

    # A public hospital, 90 days' terms, with a bank guarantee.
    add_customer(sf, w, "hospital", 90)
    credit_data(sf, w, "hospital", CreditData(
        CustomerType.HOSPITAL, registered_capital=D("300000000"), tangible_net_worth=D("250000000"),
        annual_turnover=D("1200000000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.A,
        rating_date=dt.date(2026, 2, 1), founded_on=dt.date(1950, 10, 1), collateral_amount=D("500000"),
        collateral_note="bank guarantee, ICBC 2026-0117"))
    invoice(sf, w, "hospital", dt.date(2023, 5, 1), "100000.00", dt.date(2023, 8, 1))
    invoice(sf, w, "hospital", dt.date(2025, 12, 1), "1200000.00", dt.date(2026, 3, 21))  # due 1 Mar: 20 late
    invoice(sf, w, "hospital", dt.date(2026, 3, 1), "1200000.00", dt.date(2026, 6, 19))  # due 30 May: 20 late
    disputed = invoice(sf, w, "hospital", dt.date(2026, 7, 15), "240000.00")  # due 13 Oct: 38 days overdue
    invoice(sf, w, "hospital", dt.date(2026, 9, 1), "960000.00")  # due 30 Nov
    dispute(sf, w, disputed, "36000.00", dt.date(2026, 8, 1))

    # A distributor rated by an agency's score, 60 days' terms.
    add_customer(sf, w, "distributor", 60)
    credit_data(sf, w, "distributor", CreditData(
        CustomerType.DISTRIBUTOR, registered_capital=D("5000000"), tangible_net_worth=D("1500000"),
        annual_turnover=D("2000000"), statement_date=dt.date(2025, 6, 30), rating_score=D("50"),
        rating_agency="Lianhe", rating_date=dt.date(2026, 1, 15), founded_on=dt.date(2019, 3, 1)))
    invoice(sf, w, "distributor", dt.date(2022, 1, 1), "10000.00", dt.date(2022, 3, 1))
    invoice(sf, w, "distributor", dt.date(2026, 1, 10), "700000.00", dt.date(2026, 3, 21))  # due 11 Mar: 10 late
    invoice(sf, w, "distributor", dt.date(2026, 8, 1), "200000.00")  # due 30 Sep: 51 days overdue
    invoice(sf, w, "distributor", dt.date(2026, 10, 15), "300000.00")  # due 14 Dec

    # A young customer of no particular type with a stale statement, 30 days' terms.
    add_customer(sf, w, "young", 30)
    credit_data(sf, w, "young", CreditData(
        CustomerType.OTHER, registered_capital=D("500000"), tangible_net_worth=D("400000"),
        annual_turnover=D("3000000"), statement_date=dt.date(2024, 12, 31), founded_on=dt.date(2024, 5, 1)))
    invoice(sf, w, "young", dt.date(2026, 4, 10), "60000.00", dt.date(2026, 6, 19))  # due 10 May: 40 late
    first_open = invoice(sf, w, "young", dt.date(2026, 9, 1), "54000.00")  # due 1 Oct: 50 days overdue
    invoice(sf, w, "young", dt.date(2026, 11, 1), "36000.00")  # due 1 Dec
    dispute(sf, w, first_open, "9000.00", dt.date(2026, 10, 1))

    # Two customers like the published one, one invoice 91 and 90 days past due.
    for name, due in (("overdue_91", dt.date(2026, 8, 21)), ("overdue_90", dt.date(2026, 8, 22))):
        add_customer(sf, w, name, 30)
        credit_data(sf, w, name, CreditData(
            CustomerType.PHARMACY_CHAIN, registered_capital=D("1000000"), tangible_net_worth=D("80000"),
            annual_turnover=D("700000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.A,
            rating_date=dt.date(2026, 3, 1), founded_on=dt.date(2014, 6, 1)))
        invoice(sf, w, name, due - dt.timedelta(days=30), "80000.00")

    # Rated D, and graded D from an agency's score of 34.99.
    for name, grade, score in (("rated_d", RatingGrade.D, None), ("scored_d", None, D("34.99"))):
        add_customer(sf, w, name, 45)
        credit_data(sf, w, name, CreditData(
            CustomerType.DISTRIBUTOR, tangible_net_worth=D("9000000"), annual_turnover=D("50000000"),
            statement_date=dt.date(2025, 12, 31), rating_grade=grade, rating_score=score,
            rating_date=dt.date(2026, 5, 1)))

    # A new distributor: credit data, no history.
    add_customer(sf, w, "newcomer", 60)
    credit_data(sf, w, "newcomer", CreditData(
        CustomerType.DISTRIBUTOR, registered_capital=D("10000000"), tangible_net_worth=D("2000000"),
        annual_turnover=D("30000000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.B,
        rating_date=dt.date(2026, 6, 1), founded_on=dt.date(2010, 1, 1)))
    return w


def test_every_risk_class_and_rule_through_the_database(session_factory: SF, scenarios: World) -> None:
    w = scenarios
    found = run(session_factory, w, chunk=3)  # several ranges of customers, as a long run has
    by = {name: found[w.customers[name]] for name in w.customers}

    published = by["published"]  # 73.00, medium: min(28,000; 35,000; 50,000; 5M) = 28,000
    assert [published.__dict__[f"{f.value}_points"] for f in Factor] == [10, 30, 100, 90, 40, 100, 100, 100, 70]
    assert (published.score, published.risk_class, published.invoiced_12m, published.average_days_late) == (
        D("73.00"), "medium", D("300000.00"), D("3.00"))
    assert (published.net_worth_capacity, published.turnover_capacity, published.sales_capacity) == (
        D("28000.00"), D("35000.00"), D("50000.00"))
    assert (published.bound_by, published.suggested_limit, published.hold) == (
        Capacity.NET_WORTH, D("28000.00"), False)

    hospital = by["hospital"]  # 83.00, low (hospital rule, 4 months): 1.2M + guarantee 0.5M
    assert (hospital.score, hospital.risk_class, hospital.overdue_share, hospital.disputed_share) == (
        D("83.00"), "low", D("0.2"), D("0.01"))
    assert (hospital.open_amount, hospital.overdue_amount, hospital.over_90_amount) == (
        D("1200000.00"), D("240000.00"), D("0.00"))
    assert (hospital.sales_capacity, hospital.bound_by, hospital.collateral, hospital.suggested_limit) == (
        D("1200000.00"), Capacity.SALES, D("500000.00"), D("1700000.00"))

    distributor = by["distributor"]  # score 50 -> grade C; 52.00, high; 3 % of 2M = 60,000
    assert (distributor.rating_grade, distributor.score, distributor.risk_class) == (
        RatingGrade.C, D("52.00"), "high")
    assert (distributor.bound_by, distributor.suggested_limit) == (Capacity.TURNOVER, D("60000.00"))

    young = by["young"]  # 18.00 after the stale statement's 10 points, very high; 9,375 -> 9,000
    assert (young.statement_stale, young.penalty_points, young.score, young.risk_class) == (
        True, 10, D("18.00"), "very_high")
    assert (young.months_traded, young.sales_capacity, young.suggested_limit) == (8, D("9375.00"), D("9000.00"))

    assert (by["overdue_91"].suggested_limit, by["overdue_91"].hold, by["overdue_91"].hold_rule) == (
        D("0.00"), True, HoldRule.OVERDUE)
    assert by["overdue_91"].over_90_amount == D("80000.00")
    assert (by["overdue_90"].hold, by["overdue_90"].over_90_amount) == (False, D("0.00"))  # 90 days is not more

    for name in ("rated_d", "scored_d"):
        assert (by[name].rating_grade, by[name].suggested_limit, by[name].hold_rule) == (
            RatingGrade.D, D("0.00"), HoldRule.RATING_D)

    newcomer = by["newcomer"]  # 53.50, high: the class's starting limit of 50,000
    assert (newcomer.has_history, newcomer.score, newcomer.bound_by, newcomer.suggested_limit) == (
        False, D("53.50"), Capacity.STARTING_LIMIT, D("50000.00"))

    # the world's own two customers have neither data nor history: 30.00, very high, 20,000
    for name in ("cust1", "cust2"):
        assert (by[name].profile_id, by[name].score, by[name].suggested_limit) == (None, D("30.00"), D("20000.00"))

    with session_factory() as session:
        version = session.scalars(select(CreditModelVersion)).one()
        params = parameters.load_parameters(session, version)
    for suggestion in found.values():
        explanation = explain(Evaluation.from_row(suggestion), params, AS_OF)
        assert steps_add_up(explanation) == [], suggestion.customer_id


def test_the_model_reads_the_credit_data_in_force_on_its_key_date(session_factory: SF, world: World) -> None:
    add_customer(session_factory, world, "reviewed", 30)
    first = CreditData(CustomerType.DISTRIBUTOR, tangible_net_worth=D("1000000"), annual_turnover=D("9000000"),
                       statement_date=dt.date(2025, 12, 31))
    credit_data(session_factory, world, "reviewed", first, valid_from=dt.date(2026, 5, 1))
    credit_data(session_factory, world, "reviewed", replace(first, tangible_net_worth=D("3000000")),
                valid_from=dt.date(2026, 12, 1))  # known now, in force next month
    found = run(session_factory, world)[world.customers["reviewed"]]
    assert found.tangible_net_worth == D("1000000.00")
    with session_factory() as session:
        versions = profiles.credit_data_history(session, world.actors["cio"], world.customers["reviewed"])
        trail, _ = audit.record_history(session, world.actors["cio"], entity="customer_credit_data",
                                        entity_id=world.customers["reviewed"])
    assert [(v.version, v.tangible_net_worth, v.recorded_by) for v in versions] == [
        (2, D("3000000.00"), world.users["credit"]), (1, D("1000000.00"), world.users["credit"])]
    # the audit trail: the first version in full, the second as what it changed
    assert [(e.action, e.actor_id, e.reason) for e in trail] == [
        ("change", world.users["credit"], "annual review"), ("create", world.users["credit"], "annual review")]
    assert trail[0].changes == {"tangible_net_worth": {"before": "1000000.00", "after": "3000000.00"},
                                "valid_from": {"before": "2026-05-01", "after": "2026-12-01"},
                                "version": {"before": 1, "after": 2}}
    assert trail[1].changes["customer_type"] == {"before": None, "after": "distributor"}


def test_approving_a_hold_suggestion_sets_zero_and_puts_the_customer_on_hold(
    session_factory: SF, scenarios: World
) -> None:
    found = run(session_factory, scenarios)
    held = found[scenarios.customers["overdue_91"]]
    with session_factory() as session, session.begin():
        version = limits.set_credit_limit(session, scenarios.actors["credit"], scenarios.customers["overdue_91"],
                                          suggestion_id=held.id)
        assert version.credit_limit == D("0.00")
    row = position(session_factory, scenarios, "overdue_91")
    assert (row.credit_limit, row.on_hold) == (D("0.00"), True)
    # stored as a narration, read in the reader's language (erp.narration)
    assert narration.plain(row.hold_reason) == f"limit model, run {held.run_id}: more than 90 days overdue"
    with session_factory() as session:
        trail, _ = audit.record_history(session, scenarios.actors["cio"], entity="customer_credit",
                                        entity_id=scenarios.customers["overdue_91"])
    assert [(e.action, e.changes.get("on_hold")) for e in trail] == [
        ("hold", {"before": False, "after": True}), ("limit-set", None)]


def test_a_new_parameter_version_changes_the_next_run_and_keeps_the_old_one(
    session_factory: SF, scenarios: World
) -> None:
    before = run(session_factory, scenarios)[scenarios.customers["published"]]
    generous = replace(DEFAULT_PARAMETERS, rules=tuple(
        replace(r, net_worth_share=D("0.50")) if (r.risk_class, r.customer_type) == ("medium", None) else r
        for r in DEFAULT_PARAMETERS.rules))
    with session_factory() as session, session.begin():
        stored = parameters.store_parameters(session, scenarios.actors["credit"], generous,
                                             reason="pharmacy chains pay reliably", valid_from=AS_OF)
        assert stored.version == 2
    after = run(session_factory, scenarios)[scenarios.customers["published"]]
    # 50 % of 80,000 = 40,000: now 5 % of 700,000 = 35,000 is the least capacity
    assert (before.suggested_limit, after.suggested_limit, after.bound_by) == (
        D("28000.00"), D("35000.00"), Capacity.TURNOVER)
    with session_factory() as session:
        versions = parameters.list_versions(session, scenarios.actors["cio"])
        assert [(v.version, v.created_by) for v in versions] == [(2, scenarios.users["credit"]),
                                                                (1, scenarios.users["credit"])]
        old = parameters.load_parameters(session, versions[1])
        assert old.rule_for("medium", CustomerType.OTHER).net_worth_share == D("0.3500")
        trail, _ = audit.record_history(session, scenarios.actors["cio"], entity="credit_model", entity_id=2)
    # version 2 in the audit trail: the one rule it changed, against version 1, and why
    assert [(e.action, narration.plain(e.reason), e.changes) for e in trail] == [(
        "create", "pharmacy chains pay reliably (in force from 2026-11-20)",
        {"rule.medium.any": {
            "before": "net worth 0.35, turnover 0.05, 2 months, starting 100000, maximum 5000000",
            "after": "net worth 0.5, turnover 0.05, 2 months, starting 100000, maximum 5000000"}})]


def test_unusable_parameters_and_credit_data_are_refused(session_factory: SF, world: World) -> None:
    lopsided = replace(DEFAULT_PARAMETERS, factors=DEFAULT_PARAMETERS.factors[1:])
    with pytest.raises(DomainError) as refused, session_factory() as session, session.begin():
        parameters.store_parameters(session, world.actors["credit"], lopsided, reason="x", valid_from=AS_OF)
    assert refused.value.slug == "credit-model-parameters-invalid"
    assert {e["pointer"] for e in refused.value.errors} == {"/factors"}
    with pytest.raises(ValidationFailed) as missing, session_factory() as session, session.begin():
        profiles.record_credit_data(session, world.actors["credit"], world.customers["cust1"], CreditData(
            CustomerType.HOSPITAL, tangible_net_worth=D("1")), reason="x", valid_from=AS_OF)
    assert missing.value.errors[0]["pointer"] == "/statement_date"
    with pytest.raises(ValidationFailed) as both, session_factory() as session, session.begin():
        profiles.record_credit_data(session, world.actors["credit"], world.customers["cust1"], CreditData(
            CustomerType.HOSPITAL, rating_grade=RatingGrade.A, rating_score=D("80"), rating_date=AS_OF),
            reason="x", valid_from=AS_OF)
    assert both.value.errors[0]["pointer"] == "/rating_score"


def test_only_credit_controllers_change_credit_data_and_the_model(session_factory: SF, world: World) -> None:
    for who in ("cio", "sales_a"):
        with pytest.raises(Forbidden), session_factory() as session, session.begin():
            profiles.record_credit_data(session, world.actors[who], world.customers["cust1"],
                                        CreditData(CustomerType.HOSPITAL), reason="x", valid_from=AS_OF)
        with pytest.raises(Forbidden), session_factory() as session, session.begin():
            parameters.store_parameters(session, world.actors[who], DEFAULT_PARAMETERS, reason="x",
                                        valid_from=AS_OF)
        with pytest.raises(Forbidden), session_factory() as session, session.begin():
            limits.suggest_limits(session, world.actors[who], as_of=AS_OF)


@pytest.mark.postgres
def test_the_recompute_job_reports_progress_while_its_transaction_is_open(
    settings: Settings, engine: Engine, session_factory: SF, scenarios: World
) -> None:
    """Run as a background job, in ranges of 3 customers: the job's progress is visible to
    other sessions before its run commits, and its result names the run."""
    env = JobEnvironment(settings, engine, session_factory)
    with session_factory() as session, session.begin():
        job_id = jobs.queue_recompute(session, scenarios.actors["credit"], as_of=AS_OF).id
    seen: list[tuple[int, int | None, int]] = []
    original = limits.suggest_limits

    def observed(*args: Any, **kwargs: Any) -> Any:
        report = kwargs["progress"]

        def progress(done: int, everyone: int) -> None:
            report(done, everyone)
            with session_factory() as other:  # another session: what a poller sees
                job = other.get(Job, job_id)
                runs = other.scalar(select(func.count()).select_from(CreditSuggestionRun))
                assert job is not None
                seen.append((job.rows_done, job.rows_total, runs or 0))

        return original(*args, **{**kwargs, "progress": progress, "chunk": 3})

    JobContext.WRITE_INTERVAL = 0.0  # write every report (normally at most twice a second)
    try:
        with patch("erp.credit.jobs.suggest_limits", observed):
            assert run_job(env, job_id) == JobStatus.SUCCEEDED
    finally:
        JobContext.WRITE_INTERVAL = 0.5
    customers = len(scenarios.customers)  # 11: in ranges of 3, 3 + 3 + 3 + 2
    assert customers == 11
    assert seen == [(3, 11, 0), (6, 11, 0), (9, 11, 0), (11, 11, 0)]
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.result is not None
        run = session.get(CreditSuggestionRun, job.result["run_id"])
        assert run is not None and (run.customers, job.result["held"]) == (customers, 3)
