"""The credit scorecard and the limit rules: the model's parameters, and the model applied
to one customer in plain Python.

The model works in the manner of SAP FSCM credit management (credit scoring, risk
classes, rule-based limits):

1. **Score** (0-100): each factor of the scorecard turns one input into points (0-100)
   by bands; the score is the weighted sum of the points (weights are whole percentages
   adding up to 100), less penalty points for stale inputs (a financial statement or an
   external rating older than 18 months), never below 0.

       score = sum(weight_f x points_f) / 100 - stale penalties

2. **Risk class**: the highest class whose lower bound the score reaches.
3. **Capacities** by the limit rule of the class (and of the customer type, where the
   group has a rule for it; otherwise the class's rule for any type):

       net worth capacity = tangible net worth x net-worth share
       turnover capacity  = annual turnover x turnover share
       sales capacity     = invoiced to the customer by the group in the last 12 months
                            x sales months / months traded in those 12 months
       (no history: the rule's starting limit instead of the sales capacity)
       class maximum      = the rule's maximum limit (when it has one)

   Each is rounded down to the cent (which can never change a limit rounded down to 1,000).
4. **Suggestion** = the least capacity (the *binding* rule), plus the collateral or
   guarantees the controller recognised, rounded down to the limit step (1,000 CNY);
   never below 0. A capacity not available (no statement on file) takes no part.
5. **Hold**: a customer with invoices more than 90 days past due, or rated D, gets 0 and a
   hold suggestion, whatever the score.

The published example the numbers follow: need 50,000; 35 % of a net worth of 80,000 =
28,000; 5 % of a turnover of 700,000 = 35,000; the limit is 28,000 (bound by net worth).

Nothing here touches the database: the parameters are plain values (stored as versioned
records, ``erp.credit.models``), ``evaluate`` is the reference the set-based SQL of
``erp.credit.limits`` is tested against, and ``explain`` turns a result into the steps a
credit controller reads before approving.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from erp.messages import N_, Message, Term

CENT = Decimal("0.01")
ZERO = Decimal("0")
# Ratios are compared with their bands at these places (half-up).
DAYS_PLACES = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")
HISTORY_MONTHS = 12


class CustomerType(StrEnum):
    HOSPITAL = "hospital"
    PHARMACY_CHAIN = "pharmacy_chain"
    DISTRIBUTOR = "distributor"
    OTHER = "other"


class RatingGrade(StrEnum):
    """External rating on the group's four-grade scale (an agency's score is graded first)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Factor(StrEnum):
    """The scorecard's factors, each turning one input into points."""

    NET_WORTH = "net_worth"  # tangible net worth, CNY (financial strength)
    REGISTERED_CAPITAL = "registered_capital"  # CNY (size)
    RATING = "rating"  # grade A-D
    YEARS_TRADING = "years_trading"  # whole years since the customer was founded
    SALES_VOLUME = "sales_volume"  # invoiced by the group in the last 12 months, CNY
    DAYS_LATE = "days_late"  # average days paid late, weighted by amount
    OVERDUE_SHARE = "overdue_share"  # overdue part of what is open, 0..1
    DISPUTED_SHARE = "disputed_share"  # disputed amounts over invoiced, 12 months
    CUSTOMER_TYPE = "customer_type"


CATEGORICAL = {Factor.RATING: tuple(RatingGrade), Factor.CUSTOMER_TYPE: tuple(CustomerType)}
# Years trading are compared as whole years (a date threshold in SQL).
WHOLE_NUMBER_BANDS = frozenset({Factor.YEARS_TRADING})


class Capacity(StrEnum):
    """What can bind a suggestion (the least capacity wins)."""

    NET_WORTH = "net_worth"
    TURNOVER = "turnover"
    SALES = "sales"
    STARTING_LIMIT = "starting_limit"
    MAX_LIMIT = "max_limit"


# Order in which ties are reported: the first capacity equal to the least one binds.
CAPACITY_ORDER = tuple(Capacity)


class HoldRule(StrEnum):
    OVERDUE = "overdue-over-90-days"
    RATING_D = "rating-d"


# --- parameters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Band:
    """Points for a value at or above ``lower`` (None: any value below the next band)."""

    lower: Decimal | None
    points: int


@dataclass(frozen=True)
class ScoreFactor:
    factor: Factor
    weight: int  # whole percent; the factors' weights add up to 100
    no_data_points: int  # no figure to judge (no statement, no rating, no history)
    bands: tuple[Band, ...] = ()  # numeric factors, ascending by lower bound, the first open below
    categories: Mapping[str, int] = field(default_factory=dict)  # rating grades, customer types

    def points_for(self, value: Decimal | int | str | None) -> int:
        """The points ``value`` earns (the band it falls in, or its category)."""
        if value is None:
            return self.no_data_points
        if self.factor in CATEGORICAL:
            return self.categories.get(str(value), self.no_data_points)
        return self.band_for(Decimal(value)).points

    def band_for(self, value: Decimal) -> Band:
        found = self.bands[0]
        for band in self.bands[1:]:
            if band.lower is not None and value >= band.lower:
                found = band
        return found


@dataclass(frozen=True)
class RiskClass:
    code: str
    min_score: Decimal  # the class holds scores from here up to the next class's bound


@dataclass(frozen=True)
class LimitRule:
    """How large a limit a risk class (and customer type, or any type) may carry."""

    risk_class: str
    customer_type: CustomerType | None  # None: the class's rule for every other type
    net_worth_share: Decimal  # of tangible net worth
    turnover_share: Decimal  # of annual turnover
    sales_months: Decimal  # months of average group sales
    starting_limit: Decimal  # instead of the sales capacity, for customers without history
    max_limit: Decimal | None  # the class's ceiling (None: none)
    id: int | None = None  # the stored record, once stored


@dataclass(frozen=True)
class ModelParameters:
    """One complete, consistent set of the model's parameters (one stored version)."""

    factors: tuple[ScoreFactor, ...]
    risk_classes: tuple[RiskClass, ...]  # ascending by min_score, the first at 0
    rules: tuple[LimitRule, ...]
    # An agency's 0-100 score is graded A from here, B from here, C from here, else D.
    agency_grade_a_from: Decimal = Decimal("75")
    agency_grade_b_from: Decimal = Decimal("55")
    agency_grade_c_from: Decimal = Decimal("35")
    stale_after_months: int = 18
    stale_statement_penalty: int = 10  # points off the score
    stale_rating_penalty: int = 5
    hold_overdue_days: int = 90  # an invoice more than this many days past due: 0 and hold
    limit_step: Decimal = Decimal("1000")  # suggestions are rounded down to this

    def factor(self, factor: Factor) -> ScoreFactor:
        return next(f for f in self.factors if f.factor == factor)

    def risk_class_for(self, score: Decimal) -> RiskClass:
        found = self.risk_classes[0]
        for risk_class in self.risk_classes[1:]:
            if score >= risk_class.min_score:
                found = risk_class
        return found

    def rule_for(self, risk_class: str, customer_type: CustomerType) -> LimitRule:
        """The customer type's own rule for the class, else the class's rule for any type."""
        specific = [r for r in self.rules if r.risk_class == risk_class and r.customer_type == customer_type]
        return specific[0] if specific else next(
            r for r in self.rules if r.risk_class == risk_class and r.customer_type is None)

    def grade_of_score(self, score: Decimal) -> RatingGrade:
        if score >= self.agency_grade_a_from:
            return RatingGrade.A
        if score >= self.agency_grade_b_from:
            return RatingGrade.B
        if score >= self.agency_grade_c_from:
            return RatingGrade.C
        return RatingGrade.D

    def problems(self) -> list[tuple[str, Message]]:
        """What makes this set unusable, as (JSON pointer, message in the reader's language);
        empty when it is sound."""
        found: list[tuple[str, Message]] = []
        seen = [f.factor for f in self.factors]
        for missing in sorted(set(Factor) - set(seen)):
            found.append(("/factors", Message("factor {factor} is missing", factor=missing.value)))
        if len(seen) != len(set(seen)):
            found.append(("/factors", Message("a factor appears more than once")))
        if sum(f.weight for f in self.factors) != 100:
            found.append(("/factors", Message("weights add up to {total}, not 100",
                                              total=sum(f.weight for f in self.factors))))
        for index, factor in enumerate(self.factors):
            where = f"/factors/{index}"
            if factor.weight < 0:
                found.append((f"{where}/weight", Message("may not be negative")))
            points = [factor.no_data_points, *(b.points for b in factor.bands), *factor.categories.values()]
            if any(not 0 <= p <= 100 for p in points):
                found.append((where, Message("points are whole numbers from 0 to 100")))
            if factor.factor in CATEGORICAL:
                allowed = {str(c) for c in CATEGORICAL[factor.factor]}
                if factor.bands or set(factor.categories) != allowed:
                    found.append((f"{where}/categories", Message("give points for exactly: {categories}",
                                                                 categories=sorted(allowed))))
                continue
            if factor.categories or not factor.bands or factor.bands[0].lower is not None:
                found.append((f"{where}/bands", Message("numeric bands only, the first open below (lower: null)")))
                continue
            lowers = [b.lower for b in factor.bands[1:]]
            if any(v is None for v in lowers) or lowers != sorted(lowers) or len(set(lowers)) != len(lowers):  # type: ignore[type-var]
                found.append((f"{where}/bands", Message("lower bounds must rise from one band to the next")))
            elif factor.factor in WHOLE_NUMBER_BANDS and any(v != v.to_integral_value() for v in lowers):  # type: ignore[union-attr]
                found.append((f"{where}/bands", Message("years are whole numbers")))
        classes = self.risk_classes
        if not classes or classes[0].min_score != 0:
            found.append(("/risk_classes", Message("the first class must start at score 0")))
        bounds = [c.min_score for c in classes]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds) or any(b > 100 for b in bounds):
            found.append(("/risk_classes", Message("class bounds must rise from 0 to at most 100")))
        if len({c.code for c in classes}) != len(classes):
            found.append(("/risk_classes", Message("class codes must be unique")))
        codes = {c.code for c in classes}
        keys = [(r.risk_class, r.customer_type) for r in self.rules]
        if len(set(keys)) != len(keys):
            found.append(("/rules", Message("one rule per class and customer type")))
        for code in sorted(codes - {r.risk_class for r in self.rules if r.customer_type is None}):
            found.append(("/rules", Message("class {code} needs a rule for any customer type (customer_type: null)",
                                            code=code)))
        for index, rule in enumerate(self.rules):
            where = f"/rules/{index}"
            if rule.risk_class not in codes:
                found.append((f"{where}/risk_class", Message("no class {code}", code=rule.risk_class)))
            for name in ("net_worth_share", "turnover_share"):
                if not 0 <= getattr(rule, name) <= 1:
                    found.append((f"{where}/{name}", Message("a share from 0 to 1")))
            if not 0 <= rule.sales_months <= 24:
                found.append((f"{where}/sales_months", Message("from 0 to 24 months")))
            if rule.starting_limit < 0 or (rule.max_limit is not None and rule.max_limit < 0):
                found.append((where, Message("limits may not be negative")))
        if not (0 <= self.agency_grade_c_from <= self.agency_grade_b_from <= self.agency_grade_a_from <= 100):
            found.append(("/agency_grade_a_from", Message("agency grade bounds must fall from A to C within 0-100")))
        if not 1 <= self.stale_after_months <= 120:
            found.append(("/stale_after_months", Message("from 1 to 120 months")))
        for name in ("stale_statement_penalty", "stale_rating_penalty"):
            if not 0 <= getattr(self, name) <= 100:
                found.append((f"/{name}", Message("from 0 to 100 points")))
        if not 1 <= self.hold_overdue_days <= 365:
            found.append(("/hold_overdue_days", Message("from 1 to 365 days")))
        if self.limit_step < CENT or self.limit_step != self.limit_step.quantize(CENT):
            found.append(("/limit_step", Message("a positive amount in cents")))
        return found


def _bands(*pairs: tuple[str | None, int]) -> tuple[Band, ...]:
    return tuple(Band(None if lower is None else Decimal(lower), points) for lower, points in pairs)


# The group's starting parameters (docs/credit.md explains each choice). Stored as version
# 1 the first time the model runs; changed only by storing a new version.
DEFAULT_PARAMETERS = ModelParameters(
    factors=(
        ScoreFactor(Factor.NET_WORTH, 15, 0, _bands(
            (None, 0), ("0", 10), ("1000000", 30), ("5000000", 50), ("20000000", 70), ("100000000", 90),
            ("500000000", 100))),
        ScoreFactor(Factor.REGISTERED_CAPITAL, 5, 0, _bands(
            (None, 10), ("1000000", 30), ("10000000", 60), ("50000000", 80), ("200000000", 100))),
        ScoreFactor(Factor.RATING, 20, 40, categories={"A": 100, "B": 70, "C": 35, "D": 0}),
        ScoreFactor(Factor.YEARS_TRADING, 10, 10, _bands((None, 10), ("2", 40), ("5", 70), ("10", 90), ("20", 100))),
        ScoreFactor(Factor.SALES_VOLUME, 10, 20, _bands(
            (None, 20), ("100000", 40), ("500000", 60), ("2000000", 80), ("10000000", 100))),
        ScoreFactor(Factor.DAYS_LATE, 15, 50, _bands((None, 100), ("5", 80), ("15", 60), ("30", 30), ("60", 0))),
        ScoreFactor(Factor.OVERDUE_SHARE, 10, 50, _bands(
            (None, 100), ("0.05", 80), ("0.15", 60), ("0.30", 30), ("0.50", 0))),
        ScoreFactor(Factor.DISPUTED_SHARE, 5, 50, _bands((None, 100), ("0.01", 70), ("0.05", 30), ("0.10", 0))),
        ScoreFactor(Factor.CUSTOMER_TYPE, 10, 40, categories={
            "hospital": 80, "pharmacy_chain": 70, "distributor": 60, "other": 40}),
    ),
    risk_classes=(RiskClass("very_high", Decimal("0")), RiskClass("high", Decimal("45")),
                  RiskClass("medium", Decimal("60")), RiskClass("low", Decimal("75"))),
    rules=tuple(
        LimitRule(code, kind, Decimal(nw), Decimal(to), Decimal(months), Decimal(start),
                  None if cap is None else Decimal(cap))
        for code, kind, nw, to, months, start, cap in (
            ("low", None, "0.40", "0.08", "3", "200000", "10000000"),
            ("medium", None, "0.35", "0.05", "2", "100000", "5000000"),
            ("high", None, "0.20", "0.03", "1", "50000", "1000000"),
            ("very_high", None, "0.10", "0.01", "0.5", "20000", "200000"),
            # Public hospitals pay on 60-90 days' terms and pay late as a matter of course:
            # their limit must carry a month more of sales for the same risk.
            ("low", CustomerType.HOSPITAL, "0.40", "0.08", "4", "200000", "10000000"),
            ("medium", CustomerType.HOSPITAL, "0.35", "0.05", "3", "100000", "5000000"),
            ("high", CustomerType.HOSPITAL, "0.20", "0.03", "2", "50000", "1000000"),
            ("very_high", CustomerType.HOSPITAL, "0.10", "0.01", "1", "20000", "200000"),
        )
    ),
)


# --- the model for one customer ---------------------------------------------------------------

@dataclass(frozen=True)
class CreditInputs:
    """What the model reads about one customer on a key date: its credit data in force and
    its history with every company of the group in the 12 months up to the key date."""

    customer_type: CustomerType = CustomerType.OTHER
    tangible_net_worth: Decimal | None = None
    annual_turnover: Decimal | None = None
    registered_capital: Decimal | None = None
    statement_date: dt.date | None = None
    rating_grade: RatingGrade | None = None  # as rated, or graded from rating_score
    rating_score: Decimal | None = None  # an agency's 0-100 score, when that is what was given
    rating_date: dt.date | None = None
    founded_on: dt.date | None = None
    collateral: Decimal = ZERO
    invoiced_12m: Decimal = ZERO
    first_invoice_date: dt.date | None = None  # the customer's first invoice ever, by the key date
    paid_12m: Decimal = ZERO  # payments applied in the window
    paid_days_late: Decimal = ZERO  # sum of amount x days late over them (early counts 0)
    open_amount: Decimal = ZERO  # open on the key date
    overdue_amount: Decimal = ZERO  # of which past due
    over_90_amount: Decimal = ZERO  # of which more than 90 days past due
    disputed_12m: Decimal = ZERO  # disputes opened in the window


@dataclass(frozen=True)
class Evaluation:
    """Everything the model found for one customer; the columns of a stored suggestion."""

    has_history: bool
    customer_type: CustomerType
    tangible_net_worth: Decimal | None
    annual_turnover: Decimal | None
    registered_capital: Decimal | None
    statement_date: dt.date | None
    statement_stale: bool
    rating_grade: RatingGrade | None
    rating_score: Decimal | None
    rating_date: dt.date | None
    rating_stale: bool
    founded_on: dt.date | None
    collateral: Decimal
    invoiced_12m: Decimal
    months_traded: int
    paid_12m: Decimal
    average_days_late: Decimal | None
    open_amount: Decimal
    overdue_amount: Decimal
    overdue_share: Decimal | None
    over_90_amount: Decimal
    disputed_12m: Decimal
    disputed_share: Decimal | None
    net_worth_points: int
    registered_capital_points: int
    rating_points: int
    years_trading_points: int
    sales_volume_points: int
    days_late_points: int
    overdue_share_points: int
    disputed_share_points: int
    customer_type_points: int
    penalty_points: int
    score: Decimal
    risk_class: str
    net_worth_capacity: Decimal | None
    turnover_capacity: Decimal | None
    sales_capacity: Decimal  # or the starting limit without history
    max_limit: Decimal | None
    unsecured_limit: Decimal
    bound_by: Capacity
    hold: bool
    hold_rule: HoldRule | None
    suggested_limit: Decimal

    def points(self, factor: Factor) -> int:
        return int(getattr(self, f"{factor.value}_points"))

    @classmethod
    def from_row(cls, row: Any) -> Evaluation:
        """From a stored suggestion (any object with these attributes)."""
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        values["customer_type"] = CustomerType(values["customer_type"])
        values["bound_by"] = Capacity(values["bound_by"])
        values["rating_grade"] = values["rating_grade"] and RatingGrade(values["rating_grade"])
        values["hold_rule"] = values["hold_rule"] and HoldRule(values["hold_rule"])
        return cls(**values)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def years_between(earlier: dt.date, later: dt.date) -> int:
    """Whole years from ``earlier`` to ``later`` (0 when not yet one)."""
    years = later.year - earlier.year
    return years if months_before(later, 12 * years) >= earlier else years - 1


def months_traded(first_invoice: dt.date | None, as_of: dt.date) -> int:
    """Months of the 12-month window the customer could have bought in: from its first
    invoice to the key date, counting a begun month as a month (1-12)."""
    if first_invoice is None:
        return HISTORY_MONTHS
    for months in range(1, HISTORY_MONTHS):
        if first_invoice > months_before(as_of, months):
            return months
    return HISTORY_MONTHS


def floor_to(amount: Decimal, step: Decimal) -> Decimal:
    """Rounded down to a multiple of ``step``."""
    return (amount / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ratio(numerator: Decimal, denominator: Decimal, places: Decimal) -> Decimal:
    return (numerator / denominator).quantize(places, rounding=ROUND_HALF_UP)


def rule_of(params: ModelParameters, risk_class: str, customer_type: CustomerType) -> LimitRule:
    return params.rule_for(risk_class, customer_type)


def evaluate(inputs: CreditInputs, params: ModelParameters, as_of: dt.date) -> Evaluation:
    """The model's finding for one customer on ``as_of`` (see the module docstring)."""
    has_history = inputs.invoiced_12m > 0
    stale_before = months_before(as_of, params.stale_after_months)
    statement_stale = inputs.statement_date is not None and inputs.statement_date < stale_before
    rating_stale = inputs.rating_date is not None and inputs.rating_date < stale_before
    grade = inputs.rating_grade
    if grade is None and inputs.rating_score is not None:
        grade = params.grade_of_score(inputs.rating_score)
    days_late = ratio(inputs.paid_days_late, inputs.paid_12m, DAYS_PLACES) if inputs.paid_12m > 0 else None
    if inputs.open_amount > 0:
        overdue_share: Decimal | None = ratio(inputs.overdue_amount, inputs.open_amount, SHARE_PLACES)
    else:
        overdue_share = ZERO if has_history else None
    disputed_share = ratio(inputs.disputed_12m, inputs.invoiced_12m, SHARE_PLACES) if has_history else None
    years = None if inputs.founded_on is None else years_between(inputs.founded_on, as_of)

    values: dict[Factor, Any] = {
        Factor.NET_WORTH: inputs.tangible_net_worth, Factor.REGISTERED_CAPITAL: inputs.registered_capital,
        Factor.RATING: grade, Factor.YEARS_TRADING: years, Factor.SALES_VOLUME: inputs.invoiced_12m,
        Factor.DAYS_LATE: days_late, Factor.OVERDUE_SHARE: overdue_share, Factor.DISPUTED_SHARE: disputed_share,
        Factor.CUSTOMER_TYPE: inputs.customer_type,
    }
    points = {factor: params.factor(factor).points_for(value) for factor, value in values.items()}
    penalty = params.stale_statement_penalty * statement_stale + params.stale_rating_penalty * rating_stale
    total = sum(params.factor(factor).weight * p for factor, p in points.items()) - 100 * penalty
    score = Decimal(max(0, total)) / 100
    risk_class = params.risk_class_for(score)
    rule = params.rule_for(risk_class.code, inputs.customer_type)

    def floor_cents(amount: Decimal) -> Decimal:
        return amount.quantize(CENT, rounding=ROUND_FLOOR)

    traded = months_traded(inputs.first_invoice_date, as_of)
    capacities: dict[Capacity, Decimal] = {}
    net_worth = turnover = None
    if inputs.tangible_net_worth is not None:
        net_worth = capacities[Capacity.NET_WORTH] = floor_cents(inputs.tangible_net_worth * rule.net_worth_share)
    if inputs.annual_turnover is not None:
        turnover = capacities[Capacity.TURNOVER] = floor_cents(inputs.annual_turnover * rule.turnover_share)
    if has_history:
        sales = capacities[Capacity.SALES] = floor_cents(inputs.invoiced_12m * rule.sales_months / traded)
    else:
        sales = capacities[Capacity.STARTING_LIMIT] = rule.starting_limit
    if rule.max_limit is not None:
        capacities[Capacity.MAX_LIMIT] = rule.max_limit
    unsecured = min(capacities.values())
    bound_by = next(c for c in CAPACITY_ORDER if capacities.get(c) == unsecured)

    hold_rule = None
    if inputs.over_90_amount > 0:
        hold_rule = HoldRule.OVERDUE
    elif grade == RatingGrade.D:
        hold_rule = HoldRule.RATING_D
    suggested = ZERO if hold_rule else floor_to(max(unsecured, ZERO) + inputs.collateral, params.limit_step)
    return Evaluation(
        has_history=has_history, customer_type=inputs.customer_type,
        tangible_net_worth=inputs.tangible_net_worth, annual_turnover=inputs.annual_turnover,
        registered_capital=inputs.registered_capital, statement_date=inputs.statement_date,
        statement_stale=statement_stale, rating_grade=grade, rating_score=inputs.rating_score,
        rating_date=inputs.rating_date, rating_stale=rating_stale, founded_on=inputs.founded_on,
        collateral=inputs.collateral, invoiced_12m=inputs.invoiced_12m, months_traded=traded,
        paid_12m=inputs.paid_12m, average_days_late=days_late, open_amount=inputs.open_amount,
        overdue_amount=inputs.overdue_amount, overdue_share=overdue_share, over_90_amount=inputs.over_90_amount,
        disputed_12m=inputs.disputed_12m, disputed_share=disputed_share,
        **{f"{factor.value}_points": p for factor, p in points.items()},
        penalty_points=penalty, score=score, risk_class=risk_class.code,
        net_worth_capacity=net_worth, turnover_capacity=turnover, sales_capacity=sales, max_limit=rule.max_limit,
        unsecured_limit=unsecured, bound_by=bound_by, hold=hold_rule is not None, hold_rule=hold_rule,
        suggested_limit=suggested,
    )


# --- the explanation -------------------------------------------------------------------------------

# The words for the model's factors, capacities, hold rules and customer types in an
# explanation (and on the customer's credit page): message ids, translated where shown.
FACTOR_NAMES = {
    "net_worth": N_("tangible net worth"), "registered_capital": N_("registered capital"),
    "rating": N_("external rating"), "years_trading": N_("years trading"),
    "sales_volume": N_("group sales in 12 months"), "days_late": N_("average days paid late"),
    "overdue_share": N_("overdue share of open items"), "disputed_share": N_("disputed share"),
    "customer_type": N_("customer type"),
}
CAPACITY_NAMES = {
    "net_worth": N_("share of tangible net worth"), "turnover": N_("share of annual turnover"),
    "sales": N_("months of group sales"), "starting_limit": N_("starting limit (no history)"),
    "max_limit": N_("maximum limit"),
}
HOLD_RULE_NAMES = {"overdue-over-90-days": N_("more than 90 days overdue"), "rating-d": N_("rated D")}
CUSTOMER_TYPE_NAMES = {"hospital": N_("hospital"), "pharmacy_chain": N_("pharmacy chain"),
                       "distributor": N_("distributor"), "other": N_("other customer type")}
# Words for what an explanation does not know (outside the messages' calls, so that they are extracted).
NONE_ON_FILE, UNKNOWN, ANY_CUSTOMER_TYPE = N_("none on file"), N_("unknown"), N_("any customer type")

@dataclass(frozen=True)
class Step:
    """One line of an explanation: a stable key (``credit.explain.<key>``), the values it
    speaks of, and the line as a ``message`` (English by ``text``; a page or an API answer
    gives it in the reader's language). ``result`` is what the step yields."""

    key: str
    values: dict[str, Any]
    message: Message
    result: Decimal | str | None = None

    @property
    def text(self) -> str:
        """The step in English."""
        return str(self.message)


@dataclass(frozen=True)
class ScoreStep:
    factor: Factor
    value: Any  # the input the factor judged (None: no data)
    band_from: Decimal | None  # the band's lower bound (numeric factors)
    points: int
    weight: int
    contribution: Decimal  # weight x points / 100


@dataclass(frozen=True)
class CapacityStep:
    capacity: Capacity
    base: Decimal | None  # net worth, turnover or invoiced; None for fixed amounts
    multiplier: Decimal | None  # share, or months of sales
    divisor: int | None  # months traded (the sales capacity)
    amount: Decimal | None  # None: not available
    binding: bool


@dataclass(frozen=True)
class Explanation:
    """Every step from the inputs to the suggestion, in order."""

    inputs: list[Step]
    flags: list[str]
    score_steps: list[ScoreStep]
    subtotal: Decimal
    penalties: list[Step]
    score: Decimal
    risk_class: str
    rule: LimitRule
    capacities: list[CapacityStep]
    unsecured_limit: Decimal
    bound_by: Capacity
    collateral: Decimal
    limit_step: Decimal
    hold_rule: HoldRule | None
    suggested_limit: Decimal
    steps: list[Step]


def _money(amount: Decimal | None) -> str:
    """An amount as an explanation writes it (``1,234.50``), or the word none."""
    return Term(N_("none")) if amount is None else f"{amount:,.2f}"


def _figure(value: Any, missing: str) -> Any:
    """A figure as it is written (``12.50``), or ``missing`` as a word to translate."""
    return Term(missing) if value is None else str(value)


def factor_values(evaluation: Evaluation, as_of: dt.date) -> dict[Factor, Any]:
    """The input each factor judged."""
    e = evaluation
    return {
        Factor.NET_WORTH: e.tangible_net_worth, Factor.REGISTERED_CAPITAL: e.registered_capital,
        Factor.RATING: e.rating_grade and e.rating_grade.value,
        Factor.YEARS_TRADING: None if e.founded_on is None else years_between(e.founded_on, as_of),
        Factor.SALES_VOLUME: e.invoiced_12m, Factor.DAYS_LATE: e.average_days_late,
        Factor.OVERDUE_SHARE: e.overdue_share, Factor.DISPUTED_SHARE: e.disputed_share,
        Factor.CUSTOMER_TYPE: e.customer_type.value,
    }


def explain(evaluation: Evaluation, params: ModelParameters, as_of: dt.date) -> Explanation:
    """The steps from inputs to suggestion, each with its figures, for a controller to check
    (and a page to render step by step: ``steps`` in order, each with a translation key)."""
    e = evaluation
    steps: list[Step] = []
    rating_text = (Message("external rating: none") if e.rating_grade is None else
                   Message("external rating: {grade} (agency score {score}) of {rated_on}", grade=e.rating_grade.value,
                           score=str(e.rating_score), rated_on=e.rating_date) if e.rating_score is not None else
                   Message("external rating: {grade} of {rated_on}", grade=e.rating_grade.value, rated_on=e.rating_date))
    inputs = [
        Step("input.customer_type", {"customer_type": e.customer_type.value},
             Message("customer type: {customer_type}", customer_type=Term(CUSTOMER_TYPE_NAMES[e.customer_type.value]))),
        Step("input.statement", {"tangible_net_worth": e.tangible_net_worth, "annual_turnover": e.annual_turnover,
                                 "registered_capital": e.registered_capital, "statement_date": e.statement_date},
             Message("financial statement of {statement_date}: tangible net worth {net_worth}, annual turnover "
                     "{turnover}, registered capital {capital}",
                     statement_date=e.statement_date or Term(NONE_ON_FILE), net_worth=_money(e.tangible_net_worth),
                     turnover=_money(e.annual_turnover), capital=_money(e.registered_capital))),
        Step("input.rating", {"rating_grade": e.rating_grade and e.rating_grade.value, "rating_score": e.rating_score,
                              "rating_date": e.rating_date}, rating_text),
        Step("input.founded", {"founded_on": e.founded_on},
             Message("founded on {founded_on}", founded_on=e.founded_on or Term(UNKNOWN))),
        Step("input.collateral", {"collateral": e.collateral},
             Message("collateral and guarantees {collateral}", collateral=_money(e.collateral))),
        Step("input.history", {"invoiced_12m": e.invoiced_12m, "months_traded": e.months_traded,
                               "paid_12m": e.paid_12m, "average_days_late": e.average_days_late},
             Message("group sales in 12 months {invoiced} over {months} month(s) traded; paid {paid}, on average "
                     "{days_late} days late", invoiced=_money(e.invoiced_12m), months=e.months_traded,
                     paid=_money(e.paid_12m), days_late=_figure(e.average_days_late, "-"))),
        Step("input.open_items", {"open_amount": e.open_amount, "overdue_amount": e.overdue_amount,
                                  "over_90_amount": e.over_90_amount},
             Message("open {open}, of which overdue {overdue}, more than {days} days {over_days}",
                     open=_money(e.open_amount), overdue=_money(e.overdue_amount), days=params.hold_overdue_days,
                     over_days=_money(e.over_90_amount))),
        Step("input.disputes", {"disputed_12m": e.disputed_12m},
             Message("disputed in 12 months {disputed}", disputed=_money(e.disputed_12m))),
    ]
    steps += inputs
    flags = [name for name, on in (("no_history", not e.has_history), ("no_statement", e.statement_date is None),
                                   ("statement_stale", e.statement_stale), ("no_rating", e.rating_grade is None),
                                   ("rating_stale", e.rating_stale)) if on]

    values = factor_values(e, as_of)
    score_steps = []
    for factor in params.factors:
        value = values[factor.factor]
        band = None
        if value is not None and factor.factor not in CATEGORICAL:
            band = factor.band_for(Decimal(value)).lower
        points = e.points(factor.factor)
        contribution = Decimal(factor.weight * points) / 100
        score_steps.append(ScoreStep(factor.factor, value, band, points, factor.weight, contribution))
        judged: Any = (Term(N_("no data")) if value is None else
                       Message("{value} (band from {band})", value=str(value), band=str(band)) if band is not None else
                       str(value))
        steps.append(Step(f"score.{factor.factor.value}", {
            "value": value, "band_from": band, "points": points, "weight": factor.weight,
            "contribution": contribution},
            Message("{factor}: {judged} -> {points} points x {weight} % = {contribution}",
                    factor=Term(FACTOR_NAMES[factor.factor.value]), judged=judged, points=points,
                    weight=factor.weight, contribution=str(contribution)), contribution))
    subtotal = sum((s.contribution for s in score_steps), ZERO)
    steps.append(Step("score.subtotal", {"subtotal": subtotal},
                      Message("weighted points: {subtotal}", subtotal=str(subtotal)), subtotal))
    penalties = []
    if e.statement_stale:
        penalties.append(Step("score.penalty.statement_stale", {
            "points": params.stale_statement_penalty, "months": params.stale_after_months},
            Message("statement older than {months} months: -{points} points", months=params.stale_after_months,
                    points=params.stale_statement_penalty), Decimal(-params.stale_statement_penalty)))
    if e.rating_stale:
        penalties.append(Step("score.penalty.rating_stale", {
            "points": params.stale_rating_penalty, "months": params.stale_after_months},
            Message("rating older than {months} months: -{points} points", months=params.stale_after_months,
                    points=params.stale_rating_penalty), Decimal(-params.stale_rating_penalty)))
    steps += penalties
    steps.append(Step("score.total", {"score": e.score}, Message("score {score} (0 at least)", score=str(e.score)),
                      e.score))
    rule = params.rule_for(e.risk_class, e.customer_type)
    min_score = _class_bound(params, e.risk_class)
    steps.append(Step("risk_class", {"risk_class": e.risk_class, "min_score": min_score},
                      Message("risk class {risk_class} (from score {min_score})", risk_class=e.risk_class,
                              min_score=str(min_score)), e.risk_class))
    steps.append(Step("rule", {"risk_class": rule.risk_class, "customer_type": rule.customer_type and
                               rule.customer_type.value},
                      Message("limit rule of class {risk_class} for {customer_type}", risk_class=rule.risk_class,
                              customer_type=Term(CUSTOMER_TYPE_NAMES[rule.customer_type.value]
                                                 if rule.customer_type else ANY_CUSTOMER_TYPE))))

    capacities = [
        CapacityStep(Capacity.NET_WORTH, e.tangible_net_worth, rule.net_worth_share, None, e.net_worth_capacity,
                     False),
        CapacityStep(Capacity.TURNOVER, e.annual_turnover, rule.turnover_share, None, e.turnover_capacity, False),
        CapacityStep(Capacity.SALES, e.invoiced_12m, rule.sales_months, e.months_traded,
                     e.sales_capacity if e.has_history else None, False)
        if e.has_history else CapacityStep(Capacity.STARTING_LIMIT, None, None, None, e.sales_capacity, False),
        CapacityStep(Capacity.MAX_LIMIT, None, None, None, e.max_limit, False),
    ]
    capacities = [CapacityStep(c.capacity, c.base, c.multiplier, c.divisor, c.amount, c.capacity == e.bound_by)
                  for c in capacities]
    for c in capacities:
        name = Term(CAPACITY_NAMES[c.capacity.value])
        if c.amount is None:
            text = Message("{capacity}: not available", capacity=name)
        elif c.capacity == Capacity.SALES:
            text = Message("{capacity}: {base} x {months} months / {divisor} = {amount}", capacity=name,
                           base=_money(c.base), months=str(c.multiplier), divisor=c.divisor, amount=_money(c.amount))
        elif c.base is not None:
            text = Message("{capacity}: {base} x {share} = {amount}", capacity=name, base=_money(c.base),
                           share=str(c.multiplier), amount=_money(c.amount))
        else:
            text = Message("{capacity}: {amount}", capacity=name, amount=_money(c.amount))
        steps.append(Step(f"capacity.{c.capacity.value}", {
            "base": c.base, "multiplier": c.multiplier, "divisor": c.divisor, "amount": c.amount,
            "binding": c.binding}, Message("{step} (binding)", step=text) if c.binding else text, c.amount))
    steps.append(Step("unsecured_limit", {"amount": e.unsecured_limit, "bound_by": e.bound_by.value},
                      Message("least capacity {amount}, bound by {capacity}", amount=_money(e.unsecured_limit),
                              capacity=Term(CAPACITY_NAMES[e.bound_by.value])), e.unsecured_limit))
    if e.hold_rule is not None:
        steps.append(Step(f"hold.{e.hold_rule.value}", {"over_90_amount": e.over_90_amount,
                                                         "rating_grade": e.rating_grade and e.rating_grade.value},
                          Message("{hold_rule}: suggested limit 0 and credit hold",
                                  hold_rule=Term(HOLD_RULE_NAMES[e.hold_rule.value])), ZERO))
    else:
        secured = max(e.unsecured_limit, ZERO) + e.collateral
        steps.append(Step("collateral", {"collateral": e.collateral, "amount": secured},
                          Message("plus collateral {collateral} = {amount}", collateral=_money(e.collateral),
                                  amount=_money(secured)), secured))
        limit_step = f"{params.limit_step:,.0f}"
        steps.append(Step("floor", {"step": params.limit_step, "amount": e.suggested_limit},
                          Message("rounded down to {step}: {amount}", step=limit_step,
                                  amount=_money(e.suggested_limit)), e.suggested_limit))
    return Explanation(
        inputs=inputs, flags=flags, score_steps=score_steps, subtotal=subtotal, penalties=penalties, score=e.score,
        risk_class=e.risk_class, rule=rule, capacities=capacities, unsecured_limit=e.unsecured_limit,
        bound_by=e.bound_by, collateral=e.collateral, limit_step=params.limit_step, hold_rule=e.hold_rule,
        suggested_limit=e.suggested_limit, steps=steps,
    )


def _class_bound(params: ModelParameters, code: str) -> Decimal:
    return next(c.min_score for c in params.risk_classes if c.code == code)


def steps_add_up(explanation: Explanation) -> list[str]:
    """Check an explanation's arithmetic against its own result; returns what does not add up
    (empty when every step follows from the ones before)."""
    x = explanation
    wrong = []
    subtotal = sum((s.contribution for s in x.score_steps), ZERO)
    if subtotal != x.subtotal:
        wrong.append(f"contributions add up to {subtotal}, not {x.subtotal}")
    for s in x.score_steps:
        if Decimal(s.weight * s.points) / 100 != s.contribution:
            wrong.append(f"{s.factor}: {s.weight} % of {s.points} is not {s.contribution}")
    score = max(ZERO, subtotal + sum((p.result for p in x.penalties), ZERO))  # type: ignore[misc]
    if score != x.score:
        wrong.append(f"subtotal and penalties give {score}, not {x.score}")
    for c in x.capacities:
        if c.amount is None or c.base is None or c.multiplier is None:
            continue
        exact = c.base * c.multiplier / (c.divisor or 1)
        if c.amount != exact.quantize(CENT, rounding=ROUND_FLOOR):
            wrong.append(f"{c.capacity}: {c.base} x {c.multiplier} / {c.divisor or 1} is not {c.amount}")
    available = [c.amount for c in x.capacities if c.amount is not None]
    if min(available) != x.unsecured_limit:
        wrong.append(f"least capacity is {min(available)}, not {x.unsecured_limit}")
    binding = [c for c in x.capacities if c.binding]
    if len(binding) != 1 or binding[0].amount != x.unsecured_limit or binding[0].capacity != x.bound_by:
        wrong.append("the binding capacity is not the least one")
    if x.hold_rule is not None:
        expected = ZERO
    else:
        expected = floor_to(max(x.unsecured_limit, ZERO) + x.collateral, x.limit_step)
    if expected != x.suggested_limit:
        wrong.append(f"the steps give {expected}, the suggestion is {x.suggested_limit}")
    return wrong


def parameters_from_records(version: Any, factors: Iterable[Any], bands: Iterable[Any], classes: Iterable[Any],
                            rules: Iterable[Any]) -> ModelParameters:
    """Rebuild a parameter set from its stored records (``erp.credit.models``)."""
    by_factor: dict[str, list[Any]] = {}
    for band in bands:
        by_factor.setdefault(band.factor, []).append(band)
    score_factors = []
    for record in sorted(factors, key=lambda f: list(Factor).index(Factor(f.factor))):
        own = by_factor.get(record.factor, [])
        numeric = sorted((b for b in own if b.category is None),
                         key=lambda b: (b.lower_bound is not None, b.lower_bound or 0))
        score_factors.append(ScoreFactor(
            Factor(record.factor), record.weight, record.no_data_points,
            tuple(Band(b.lower_bound, b.points) for b in numeric),
            {b.category: b.points for b in own if b.category is not None}))
    return ModelParameters(
        factors=tuple(score_factors),
        risk_classes=tuple(RiskClass(c.code, c.min_score) for c in sorted(classes, key=lambda c: c.min_score)),
        rules=tuple(LimitRule(r.risk_class, r.customer_type and CustomerType(r.customer_type), r.net_worth_share,
                              r.turnover_share, r.sales_months, r.starting_limit, r.max_limit, r.id)
                    for r in sorted(rules, key=lambda r: r.id)),
        agency_grade_a_from=version.agency_grade_a_from, agency_grade_b_from=version.agency_grade_b_from,
        agency_grade_c_from=version.agency_grade_c_from, stale_after_months=version.stale_after_months,
        stale_statement_penalty=version.stale_statement_penalty, stale_rating_penalty=version.stale_rating_penalty,
        hold_overdue_days=version.hold_overdue_days, limit_step=version.limit_step,
    )
