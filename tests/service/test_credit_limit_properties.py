"""Properties of the credit limit model over random inputs and random parameters:

- the explanation's steps add up to the suggestion: the weighted points to the score, the
  capacities to their base x share (rounded down to the cent), the least of them to the
  unsecured limit, and that plus collateral, rounded down to the limit step, to the
  suggestion (or 0 with a hold);
- the set-based SQL finds, for customers built from random invoices, payments (some after
  the key date), disputes and credit data (some not yet in force), exactly what the
  reference model in plain Python finds from the same records summed by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.credit import limits, parameters
from erp.credit.models import (
    CreditLimitSuggestion,
    CustomerCreditProfile,
    Invoice,
    InvoiceDispute,
    InvoiceStatus,
    Payment,
    PaymentApplication,
)
from erp.credit.scorecard import (
    DEFAULT_PARAMETERS,
    CreditInputs,
    CustomerType,
    Evaluation,
    ModelParameters,
    RatingGrade,
    evaluate,
    explain,
    months_before,
    steps_add_up,
)
from erp.masterdata.models import Company, Customer, Group, Segment
from tests.conftest import FreshDatabase

AS_OF = dt.date(2026, 11, 20)
_serial = itertools.count(1)


def money(low: str, high: str) -> st.SearchStrategy[D]:
    return st.decimals(min_value=D(low), max_value=D(high), places=2)


def day(low: dt.date, high: dt.date, near: tuple[dt.date, ...] = ()) -> st.SearchStrategy[dt.date]:
    """Any day in [low, high], often one of the days ``near`` (or the day after): the
    model's boundaries, which random days would hardly ever hit."""
    edges = sorted({d + dt.timedelta(days=k) for d in near for k in (0, 1) if low <= d + dt.timedelta(days=k) <= high})
    anywhere = st.dates(min_value=low, max_value=high)
    return st.one_of(anywhere, st.sampled_from(edges)) if edges else anywhere


WINDOW_EDGES = tuple(months_before(AS_OF, m) for m in range(0, 13))  # month steps of months traded, window start
STALE_EDGE = (months_before(AS_OF, 18),)
YEAR_EDGES = tuple(months_before(AS_OF, 12 * n) for n in (2, 5, 10, 20))


@st.composite
def model_parameters(draw: st.DrawFn) -> ModelParameters:
    """The default scorecard with random weights, shares, months, penalties and step."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=8, max_size=8)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
    share = st.decimals(min_value=D("0"), max_value=D("1"), places=4)
    rules = tuple(replace(r, net_worth_share=draw(share), turnover_share=draw(share),
                          sales_months=draw(st.decimals(min_value=D("0"), max_value=D("24"), places=2)),
                          starting_limit=draw(money("0", "500000")),
                          max_limit=draw(st.none() | money("0", "20000000")))
                  for r in DEFAULT_PARAMETERS.rules)
    return replace(
        DEFAULT_PARAMETERS, factors=tuple(replace(f, weight=w) for f, w in zip(DEFAULT_PARAMETERS.factors, weights)),
        rules=rules, stale_statement_penalty=draw(st.integers(0, 40)), stale_rating_penalty=draw(st.integers(0, 40)),
        hold_overdue_days=draw(st.sampled_from([30, 60, 90, 120])),
        limit_step=draw(st.sampled_from([D("0.01"), D("100"), D("1000"), D("5000")])),
    )


@st.composite
def credit_inputs(draw: st.DrawFn) -> CreditInputs:
    """Any consistent set of what the model reads (sums as the SQL would find them)."""
    invoiced = draw(st.sampled_from([D("0")]) | money("0.01", "50000000"))
    paid = draw(money("0", "50000000"))
    open_amount = draw(money("0", "20000000"))
    overdue = draw(money("0", "20000000").map(lambda v: min(v, open_amount)))
    grade, score = draw(st.sampled_from([(None, None), ("grade", None), (None, "score")]))
    return CreditInputs(
        customer_type=draw(st.sampled_from(list(CustomerType))),
        tangible_net_worth=draw(st.none() | money("-5000000", "900000000")),
        annual_turnover=draw(st.none() | money("0", "9000000000")),
        registered_capital=draw(st.none() | money("0", "900000000")),
        statement_date=draw(st.none() | day(dt.date(2020, 1, 1), AS_OF, STALE_EDGE)),
        rating_grade=draw(st.sampled_from(list(RatingGrade))) if grade else None,
        rating_score=draw(st.decimals(min_value=D("0"), max_value=D("100"), places=2)) if score else None,
        rating_date=draw(day(dt.date(2020, 1, 1), AS_OF, STALE_EDGE)) if grade or score else None,
        founded_on=draw(st.none() | day(dt.date(1900, 1, 1), AS_OF, YEAR_EDGES)),
        collateral=draw(money("0", "5000000")),
        invoiced_12m=invoiced,
        first_invoice_date=draw(day(dt.date(2020, 1, 1), AS_OF, WINDOW_EDGES)) if invoiced else None,
        paid_12m=paid, paid_days_late=paid * draw(st.integers(0, 200)),
        open_amount=open_amount, overdue_amount=overdue,
        over_90_amount=draw(st.sampled_from([D("0"), overdue])), disputed_12m=min(invoiced, draw(money("0", "90000"))),
    )


@settings(max_examples=400, deadline=None)
@given(inputs=credit_inputs(), params=model_parameters())
def test_the_explanation_adds_up_to_the_suggestion(inputs: CreditInputs, params: ModelParameters) -> None:
    explanation = explain(evaluate(inputs, params, AS_OF), params, AS_OF)
    assert steps_add_up(explanation) == []
    assert explanation.steps[-1].result == explanation.suggested_limit or explanation.hold_rule is not None


# --- the SQL against the reference --------------------------------------------------------------

@dataclass
class InvoiceSpec:
    invoice_date: dt.date
    amount: D
    payments: list[tuple[dt.date, D]] = field(default_factory=list)
    disputes: list[tuple[dt.date, D]] = field(default_factory=list)


@dataclass
class CustomerSpec:
    terms: int
    profile: dict[str, object] | None
    profile_valid_from: dt.date
    invoices: list[InvoiceSpec]


@st.composite
def invoice_spec(draw: st.DrawFn, terms: int) -> InvoiceSpec:
    # due on the key date, or just past a hold threshold (30-120 days past due)
    due_edges = tuple(AS_OF - dt.timedelta(days=terms + late) for late in (0, 30, 60, 90, 120))
    invoice_date = draw(day(dt.date(2024, 6, 1), AS_OF + dt.timedelta(days=20),  # some after the key date
                            due_edges + WINDOW_EDGES))
    amount = draw(money("0.01", "3000000"))
    payments = []
    left = amount
    for _ in range(draw(st.integers(0, 2))):
        if left <= 0:
            break
        paid = draw(st.sampled_from([left, (left / 2).quantize(D("0.01"))]))
        if paid <= 0:
            break
        on = draw(day(invoice_date, AS_OF + dt.timedelta(days=60), (AS_OF, WINDOW_EDGES[-1])))  # some after it
        payments.append((on, paid))
        left -= paid
    disputes = [(draw(day(invoice_date, AS_OF + dt.timedelta(days=30), (AS_OF, WINDOW_EDGES[-1]))),
                 draw(money("0.01", str(amount))))
                for _ in range(draw(st.integers(0, 1)))]
    return InvoiceSpec(invoice_date, amount, sorted(payments), disputes)


@st.composite
def customer_spec(draw: st.DrawFn) -> CustomerSpec:
    inputs = draw(credit_inputs())
    profile = None
    if draw(st.booleans()):
        profile = {name: getattr(inputs, name) for name in (
            "customer_type", "tangible_net_worth", "annual_turnover", "registered_capital", "statement_date",
            "rating_grade", "rating_score", "rating_date", "founded_on")}
        if profile["statement_date"] is None:
            profile["tangible_net_worth"] = profile["annual_turnover"] = None
        profile["collateral_amount"] = inputs.collateral
    terms = draw(st.sampled_from([0, 30, 45, 60, 90]))
    return CustomerSpec(terms, profile,
                        draw(day(dt.date(2024, 1, 1), AS_OF + dt.timedelta(days=30), (AS_OF,))),  # may not be in force
                        draw(st.lists(invoice_spec(terms), max_size=5)))


def expected_inputs(spec: CustomerSpec, params: ModelParameters) -> CreditInputs:
    """The customer's history summed by hand, as the model should read it on AS_OF."""
    start = months_before(AS_OF, 12)
    known = [i for i in spec.invoices if i.invoice_date <= AS_OF]
    invoiced = sum((i.amount for i in known if i.invoice_date > start), D("0"))
    paid = paid_late = open_amount = overdue = over_90 = disputed = D("0")
    for i in known:
        due = i.invoice_date + dt.timedelta(days=spec.terms)
        for on, amount in i.payments:
            if start < on <= AS_OF:
                paid += amount
                paid_late += amount * max(0, (on - due).days)
        still_open = i.amount - sum((a for on, a in i.payments if on <= AS_OF), D("0"))
        open_amount += still_open
        overdue += still_open if due < AS_OF else 0
        over_90 += still_open if due < AS_OF - dt.timedelta(days=params.hold_overdue_days) else 0
    for i in spec.invoices:
        disputed += sum((a for on, a in i.disputes if start < on <= AS_OF), D("0"))
    profile = spec.profile if spec.profile is not None and spec.profile_valid_from <= AS_OF else None
    data = {k: v for k, v in (profile or {}).items() if k != "collateral_amount"}
    return CreditInputs(
        **data, collateral=profile["collateral_amount"] if profile else D("0"),  # type: ignore[arg-type]
        invoiced_12m=invoiced, first_invoice_date=min((i.invoice_date for i in known), default=None),
        paid_12m=paid, paid_days_late=paid_late, open_amount=open_amount, overdue_amount=overdue,
        over_90_amount=over_90, disputed_12m=disputed)


def store(session: Session, specs: list[CustomerSpec]) -> tuple[Actor, list[int]]:
    """The group, a company, a controller and the customers with their records, written directly."""
    group = Group(code="G", name_zh="集团", name_en="Group")
    session.add(group)
    session.flush()
    segment = Segment(group_id=group.id, code="DIST", name_zh="分销", name_en="Distribution")
    session.add(segment)
    session.flush()
    company = Company(code="D1", segment_id=segment.id, name_zh="公司", name_en="Company", uscc="91310000000000001Y")
    controller = User(username="credit", display_name="credit", password_hash="-", role=Role.CREDIT_CONTROLLER,
                      group_wide=True)
    session.add_all([company, controller])
    session.flush()
    ids = []
    for spec in specs:
        number = next(_serial)
        body = f"91440300{number:09d}"
        customer = Customer(code=f"P{number:05d}", uscc=body + uscc.calc_check_digit(body), name_zh="客户",
                            name_en="Customer", payment_terms_days=spec.terms)
        session.add(customer)
        session.flush()
        ids.append(customer.id)
        if spec.profile is not None:
            session.add(CustomerCreditProfile(customer_id=customer.id, version=1, valid_from=spec.profile_valid_from,
                                              reason="test", recorded_by=controller.id, **spec.profile))
        for i in spec.invoices:
            left = i.amount - sum((a for _, a in i.payments), D("0"))
            invoice = Invoice(document_number=f"AR-D1-{i.invoice_date.year}-{next(_serial):06d}",
                              company_id=company.id, customer_id=customer.id, invoice_date=i.invoice_date,
                              due_date=i.invoice_date + dt.timedelta(days=spec.terms), amount=i.amount,
                              open_amount=left, created_by=controller.id,
                              status=InvoiceStatus.PAID if left == 0 else InvoiceStatus.OPEN)
            session.add(invoice)
            session.flush()
            for on, amount in i.payments:
                payment = Payment(company_id=company.id, customer_id=customer.id, payment_date=on, amount=amount,
                                  unapplied_amount=D("0"), created_by=controller.id,
                                  document_number=f"RC-D1-{on.year}-{next(_serial):06d}")
                session.add(payment)
                session.flush()
                session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=amount,
                                               applied_on=on, days_late=(on - invoice.due_date).days,
                                               applied_by=controller.id))
            for on, amount in i.disputes:
                session.add(InvoiceDispute(invoice_id=invoice.id, company_id=company.id, customer_id=customer.id,
                                           amount=amount, opened_on=on, reason="test", opened_by=controller.id))
    session.flush()
    return Actor(controller.id, "credit", Role.CREDIT_CONTROLLER, True), ids


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs=st.lists(customer_spec(), min_size=1, max_size=6), params=model_parameters())
def test_the_sql_finds_what_the_reference_finds_and_explains_it(
    fresh_database: FreshDatabase, specs: list[CustomerSpec], params: ModelParameters
) -> None:
    session_factory: sessionmaker[Session] = fresh_database()
    with session_factory() as session, session.begin():
        actor, ids = store(session, specs)
        version = parameters.store_parameters(session, actor, params, reason="random", valid_from=AS_OF)
        stored = parameters.load_parameters(session, version)
        run = limits.suggest_limits(session, actor, as_of=AS_OF, chunk=2, today=AS_OF)
        found = {s.customer_id: s for s in session.scalars(
            select(CreditLimitSuggestion).where(CreditLimitSuggestion.run_id == run.id))}
    for spec, customer_id in zip(specs, ids):
        mine = Evaluation.from_row(found[customer_id])
        assert mine == evaluate(expected_inputs(spec, stored), stored, AS_OF)
        assert steps_add_up(explain(mine, stored, AS_OF)) == []
