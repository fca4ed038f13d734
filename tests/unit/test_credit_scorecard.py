"""The credit limit model for one customer, without a database: the scorecard, the risk
classes, the capacities, the binding rule, the floor and the holds, with every number
worked out by hand from the documented default parameters (docs/credit.md).

Default weights (whole percent): net worth 15, registered capital 5, rating 20, years
trading 10, sales volume 10, days late 15, overdue share 10, disputed share 5, customer
type 10. The score is sum(weight x points) / 100 less stale penalties (statement 10, rating 5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest

from erp.messages import Message
from erp.credit.scorecard import (
    DEFAULT_PARAMETERS,
    Capacity,
    CreditInputs,
    CustomerType,
    Factor,
    HoldRule,
    LimitRule,
    RatingGrade,
    evaluate,
    explain,
    months_traded,
    steps_add_up,
    years_between,
)

AS_OF = dt.date(2026, 11, 20)  # statements and ratings dated before 20 May 2025 are stale
P = DEFAULT_PARAMETERS

# The published example: a pharmacy chain with a tangible net worth of 80,000 and a
# turnover of 700,000 that buys 300,000 a year from the group (a need of 50,000).
PUBLISHED = CreditInputs(
    customer_type=CustomerType.PHARMACY_CHAIN, tangible_net_worth=D("80000"), annual_turnover=D("700000"),
    registered_capital=D("1000000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.A,
    rating_date=dt.date(2026, 3, 1), founded_on=dt.date(2014, 6, 1),
    invoiced_12m=D("300000"), first_invoice_date=dt.date(2024, 1, 10),
    paid_12m=D("200000"), paid_days_late=D("600000"),  # 200,000 paid 3 days late
    open_amount=D("100000"),  # not yet due
)


def test_published_example_is_bound_by_net_worth_at_28000() -> None:
    # points: net worth 80,000 -> 10; capital 1,000,000 -> 30; rating A -> 100; 12 years ->
    # 90; volume 300,000 -> 40; 3.00 days late -> 100; nothing overdue -> 100; no dispute ->
    # 100; pharmacy chain -> 70.
    # 15x10 + 5x30 + 20x100 + 10x90 + 10x40 + 15x100 + 10x100 + 5x100 + 10x70 = 7,300: 73.00
    e = evaluate(PUBLISHED, P, AS_OF)
    assert [e.points(f) for f in Factor] == [10, 30, 100, 90, 40, 100, 100, 100, 70]
    assert (e.score, e.risk_class, e.average_days_late, e.overdue_share) == (D("73.00"), "medium", D("3.00"), D("0"))
    # medium, any type: 35 % of 80,000 = 28,000; 5 % of 700,000 = 35,000;
    # 300,000 x 2 months / 12 months traded = 50,000 (the need); class maximum 5,000,000.
    assert (e.net_worth_capacity, e.turnover_capacity, e.sales_capacity, e.max_limit) == (
        D("28000.00"), D("35000.00"), D("50000.00"), D("5000000"))
    assert (e.unsecured_limit, e.bound_by, e.suggested_limit, e.hold) == (
        D("28000.00"), Capacity.NET_WORTH, D("28000"), False)


def test_low_risk_hospital_is_bound_by_four_months_of_sales_plus_its_guarantee() -> None:
    hospital = CreditInputs(
        customer_type=CustomerType.HOSPITAL, tangible_net_worth=D("250000000"), annual_turnover=D("1200000000"),
        registered_capital=D("300000000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.A,
        rating_date=dt.date(2026, 2, 1), founded_on=dt.date(1950, 10, 1), collateral=D("500000"),
        invoiced_12m=D("3600000"), first_invoice_date=dt.date(2023, 5, 1),
        paid_12m=D("2400000"), paid_days_late=D("2400000") * 20,
        open_amount=D("1200000"), overdue_amount=D("240000"), disputed_12m=D("36000"))
    # points: 250M -> 90; 300M -> 100; A -> 100; 76 years -> 100; 3.6M -> 80; 20 days -> 60;
    # 240,000 / 1,200,000 = 0.2 -> 60; 36,000 / 3,600,000 = 0.01 -> 70; hospital -> 80.
    # 1,350 + 500 + 2,000 + 1,000 + 800 + 900 + 600 + 350 + 800 = 8,300: 83.00, low
    e = evaluate(hospital, P, AS_OF)
    assert [e.points(f) for f in Factor] == [90, 100, 100, 100, 80, 60, 60, 70, 80]
    assert (e.score, e.risk_class, e.overdue_share, e.disputed_share) == (D("83.00"), "low", D("0.2"), D("0.01"))
    # low, hospital: 40 % of 250M = 100M; 8 % of 1.2bn = 96M; 3.6M x 4 / 12 = 1.2M; max 10M
    assert (e.net_worth_capacity, e.turnover_capacity, e.sales_capacity, e.max_limit) == (
        D("100000000.00"), D("96000000.00"), D("1200000.00"), D("10000000"))
    # 1,200,000 + 500,000 of bank guarantee = 1,700,000
    assert (e.bound_by, e.unsecured_limit, e.suggested_limit) == (Capacity.SALES, D("1200000.00"), D("1700000"))


def test_high_risk_distributor_graded_by_an_agency_score_is_bound_by_turnover() -> None:
    distributor = CreditInputs(
        customer_type=CustomerType.DISTRIBUTOR, tangible_net_worth=D("1500000"), annual_turnover=D("2000000"),
        registered_capital=D("5000000"), statement_date=dt.date(2025, 6, 30), rating_score=D("50"),
        rating_date=dt.date(2026, 1, 15), founded_on=dt.date(2019, 3, 1),
        invoiced_12m=D("1200000"), first_invoice_date=dt.date(2022, 1, 1),
        paid_12m=D("700000"), paid_days_late=D("7000000"),  # 10 days late
        open_amount=D("500000"), overdue_amount=D("200000"))
    # agency score 50: below 55 (B), from 35: grade C -> 35 points.
    # points: 1.5M -> 30; 5M -> 30; C -> 35; 7 years -> 70; 1.2M -> 60; 10 days -> 80;
    # 200,000 / 500,000 = 0.4 -> 30; no dispute -> 100; distributor -> 60.
    # 450 + 150 + 700 + 700 + 600 + 1,200 + 300 + 500 + 600 = 5,200: 52.00, high
    e = evaluate(distributor, P, AS_OF)
    assert e.rating_grade == RatingGrade.C
    assert [e.points(f) for f in Factor] == [30, 30, 35, 70, 60, 80, 30, 100, 60]
    assert (e.score, e.risk_class) == (D("52.00"), "high")
    # high, any type: 20 % of 1.5M = 300,000; 3 % of 2M = 60,000; 1.2M x 1 / 12 = 100,000; max 1M
    assert (e.net_worth_capacity, e.turnover_capacity, e.sales_capacity) == (
        D("300000.00"), D("60000.00"), D("100000.00"))
    assert (e.bound_by, e.suggested_limit) == (Capacity.TURNOVER, D("60000"))


def test_very_high_risk_young_customer_with_a_stale_statement_is_floored_to_the_thousand() -> None:
    young = CreditInputs(
        customer_type=CustomerType.OTHER, tangible_net_worth=D("400000"), annual_turnover=D("3000000"),
        registered_capital=D("500000"), statement_date=dt.date(2024, 12, 31), founded_on=dt.date(2024, 5, 1),
        invoiced_12m=D("150000"), first_invoice_date=dt.date(2026, 4, 10),
        paid_12m=D("60000"), paid_days_late=D("2400000"),  # 40 days late
        open_amount=D("90000"), overdue_amount=D("54000"), disputed_12m=D("9000"))
    # statement of 31 Dec 2024: before 20 May 2025, stale (-10 points); no rating (40 points).
    # points: 400,000 -> 10; 500,000 -> 10; none -> 40; 2 years -> 40; 150,000 -> 40;
    # 40 days -> 30; 54,000 / 90,000 = 0.6 -> 0; 9,000 / 150,000 = 0.06 -> 30; other -> 40.
    # 150 + 50 + 800 + 400 + 400 + 450 + 0 + 150 + 400 = 2,800 - 1,000 = 1,800: 18.00
    e = evaluate(young, P, AS_OF)
    assert [e.points(f) for f in Factor] == [10, 10, 40, 40, 40, 30, 0, 30, 40]
    assert (e.statement_stale, e.rating_stale, e.penalty_points) == (True, False, 10)
    assert (e.score, e.risk_class) == (D("18.00"), "very_high")
    # first invoice 10 April: 8 begun months of the window (20 Mar - 20 Nov).
    # very high: 10 % of 400,000 = 40,000; 1 % of 3M = 30,000; 150,000 x 0.5 / 8 = 9,375
    assert e.months_traded == 8
    assert (e.net_worth_capacity, e.turnover_capacity, e.sales_capacity) == (
        D("40000.00"), D("30000.00"), D("9375.00"))
    assert (e.bound_by, e.unsecured_limit, e.suggested_limit) == (Capacity.SALES, D("9375.00"), D("9000"))


def test_more_than_ninety_days_overdue_gives_zero_and_a_hold_whatever_the_score() -> None:
    late = replace(PUBLISHED, open_amount=D("100000"), overdue_amount=D("100000"), over_90_amount=D("0.01"))
    e = evaluate(late, P, AS_OF)
    assert (e.suggested_limit, e.hold, e.hold_rule) == (D("0"), True, HoldRule.OVERDUE)
    assert e.unsecured_limit > 0  # the capacities are still shown: the hold overrides them


def test_rating_d_gives_zero_and_a_hold_as_does_an_agency_score_below_grade_c() -> None:
    assert evaluate(replace(PUBLISHED, rating_grade=RatingGrade.D), P, AS_OF).hold_rule == HoldRule.RATING_D
    scored_d = replace(PUBLISHED, rating_grade=None, rating_score=D("34.99"))
    e = evaluate(scored_d, P, AS_OF)
    assert (e.rating_grade, e.suggested_limit, e.hold_rule) == (RatingGrade.D, D("0"), HoldRule.RATING_D)
    assert evaluate(replace(scored_d, rating_score=D("35")), P, AS_OF).rating_grade == RatingGrade.C


def test_without_history_the_starting_limit_of_the_class_stands_in_for_sales() -> None:
    newcomer = CreditInputs(
        customer_type=CustomerType.DISTRIBUTOR, tangible_net_worth=D("2000000"), annual_turnover=D("30000000"),
        registered_capital=D("10000000"), statement_date=dt.date(2025, 12, 31), rating_grade=RatingGrade.B,
        rating_date=dt.date(2026, 6, 1), founded_on=dt.date(2010, 1, 1))
    # points: 2M -> 30; 10M -> 60; B -> 70; 16 years -> 90; 0 invoiced -> 20; days late,
    # overdue and disputes: no history -> 50 each; distributor -> 60.
    # 450 + 300 + 1,400 + 900 + 200 + 750 + 500 + 250 + 600 = 5,350: 53.50, high
    e = evaluate(newcomer, P, AS_OF)
    assert [e.points(f) for f in Factor] == [30, 60, 70, 90, 20, 50, 50, 50, 60]
    assert (e.has_history, e.score, e.risk_class) == (False, D("53.50"), "high")
    # 20 % of 2M = 400,000; 3 % of 30M = 900,000; starting limit of class high 50,000
    assert (e.sales_capacity, e.bound_by, e.suggested_limit) == (D("50000"), Capacity.STARTING_LIMIT, D("50000"))


def test_a_customer_nothing_is_known_about_starts_very_high_at_the_starting_limit() -> None:
    # rating 40 x 20 + years 10 x 10 + volume 20 x 10 + three history factors 50 x (15 + 10
    # + 5) + other 40 x 10 = 800 + 100 + 200 + 1,500 + 400 = 3,000: 30.00
    e = evaluate(CreditInputs(), P, AS_OF)
    assert (e.score, e.risk_class, e.bound_by, e.suggested_limit) == (
        D("30.00"), "very_high", Capacity.STARTING_LIMIT, D("20000"))


def test_stale_statement_and_rating_lower_the_score_into_the_next_class() -> None:
    stale = replace(PUBLISHED, statement_date=dt.date(2024, 12, 31), rating_date=dt.date(2025, 5, 19))
    e = evaluate(stale, P, AS_OF)
    # 73.00 - 10 (statement) - 5 (rating) = 58.00: high; 20 % of 80,000 = 16,000
    assert (e.statement_stale, e.rating_stale, e.score, e.risk_class) == (True, True, D("58.00"), "high")
    assert (e.bound_by, e.suggested_limit) == (Capacity.NET_WORTH, D("16000"))
    # one day later the rating is 18 months old exactly, and not stale
    assert not evaluate(replace(stale, rating_date=dt.date(2025, 5, 20)), P, AS_OF).rating_stale


@pytest.mark.parametrize(("net_worth", "limit"), [
    ("82857.11", "28000"),  # 35 % = 28,999.9885: 28,999.98 to the cent, 28,000 to the thousand
    ("82857.15", "29000"),  # 35 % = 29,000.0025: 29,000.00
    ("2000", "0"),  # 35 % = 700: nothing, but no hold either
    ("-50000", "0"),  # negative net worth: a negative capacity, never a negative limit
])
def test_the_suggestion_is_rounded_down_to_the_thousand(net_worth: str, limit: str) -> None:
    e = evaluate(replace(PUBLISHED, tangible_net_worth=D(net_worth)), P, AS_OF)
    assert (e.suggested_limit, e.hold) == (D(limit), False)


def test_months_traded_and_years_trading_count_whole_periods() -> None:
    assert months_traded(None, AS_OF) == 12
    assert months_traded(dt.date(2026, 10, 21), AS_OF) == 1  # less than a month: one begun
    assert months_traded(dt.date(2026, 10, 20), AS_OF) == 2
    assert months_traded(dt.date(2025, 11, 21), AS_OF) == 12
    assert years_between(dt.date(2016, 11, 20), AS_OF) == 10
    assert years_between(dt.date(2016, 11, 21), AS_OF) == 9
    # founded on a 29 February: the first anniversary is reached on 1 March
    assert years_between(dt.date(2024, 2, 29), dt.date(2025, 2, 28)) == 0
    assert years_between(dt.date(2024, 2, 29), dt.date(2025, 3, 1)) == 1


def test_a_customer_type_rule_beats_the_class_rule_for_any_type() -> None:
    assert P.rule_for("medium", CustomerType.HOSPITAL).sales_months == D("3")
    assert P.rule_for("medium", CustomerType.DISTRIBUTOR) == next(
        r for r in P.rules if r.risk_class == "medium" and r.customer_type is None)


def test_the_explanation_walks_from_inputs_to_the_published_example() -> None:
    x = explain(evaluate(PUBLISHED, P, AS_OF), P, AS_OF)
    assert steps_add_up(x) == []
    assert [s.contribution for s in x.score_steps] == [
        D("1.5"), D("1.5"), D("20"), D("9"), D("4"), D("15"), D("10"), D("5"), D("7")]
    assert x.subtotal == D("73") and x.score == D("73.00")
    binding = [c for c in x.capacities if c.binding]
    assert [(c.capacity, c.base, c.multiplier, c.amount) for c in binding] == [
        (Capacity.NET_WORTH, D("80000"), D("0.35"), D("28000.00"))]
    keys = [s.key for s in x.steps]
    assert keys[-4:] == ["capacity.max_limit", "unsecured_limit", "collateral", "floor"]
    assert x.steps[-1].result == D("28000") and "28,000.00" in x.steps[-1].text


def english(problems: list[tuple[str, Message]]) -> list[tuple[str, str]]:
    """The problems as the API shows them without Accept-Language."""
    return [(pointer, str(message)) for pointer, message in problems]


def test_parameter_sets_are_checked_before_they_are_stored() -> None:
    assert P.problems() == []
    heavier = replace(P, factors=tuple(replace(f, weight=f.weight + 1) if f.factor == Factor.RATING else f
                                       for f in P.factors))
    assert ("/factors", "weights add up to 101, not 100") in english(heavier.problems())
    no_generic = replace(P, rules=tuple(r for r in P.rules if r != P.rule_for("low", CustomerType.OTHER)))
    assert ("/rules", "class low needs a rule for any customer type (customer_type: null)") in \
        english(no_generic.problems())
    wild = replace(P, rules=(*P.rules[:-1], LimitRule("medium", CustomerType.HOSPITAL, D("1.5"), D("0"), D("1"),
                                                       D("0"), None)))
    assert any(pointer.endswith("/net_worth_share") for pointer, _ in wild.problems())
