"""The credit limit model over every customer at once, and the versioned limits credit
controllers approve.

The model itself (score, risk class, capacities, the binding rule, hold) is described in
``erp.credit.scorecard`` and docs/credit.md. Here it runs set-based: ``suggestion_query``
is one SELECT that reads every customer's credit data in force on the key date and its
history with the group (12 months of invoices, payments applied and disputes; what is
open on the key date), turns them into points, score, class, capacities and suggestion in
SQL, and ``suggest_limits`` INSERTs its rows for a run, customers in id ranges so that a
long run reports progress. No Python loop over customers; the arithmetic is exact on
PostgreSQL (numeric) and on SQLite (``erp.sqlmath``), and ``scorecard.evaluate`` is the
reference it is tested against.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, null, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from erp.messages import Amount, Message, Named, Term
from erp.narration import REASON_LENGTH, narrate, plain
from erp.clock import business_today
from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.credit.errors import SuggestionNotExplainable
from erp.credit.exposure import ZERO, lock_exposure
from erp.credit.models import (
    CreditLimit,
    CreditLimitRule,
    CreditLimitSuggestion,
    CreditModelVersion,
    CreditSuggestionRun,
    CustomerCreditProfile,
    CustomerExposure,
    Invoice,
    InvoiceDispute,
    LimitSource,
    PaymentApplication,
)
from erp.credit.parameters import ensure_model, load_parameters, model_in_force
from erp.credit.queries import paged, settled_since
from erp.credit.scorecard import (
    CATEGORICAL,
    DAYS_PLACES,
    HISTORY_MONTHS,
    SHARE_PLACES,
    Capacity,
    CustomerType,
    Evaluation,
    Explanation,
    Factor,
    HOLD_RULE_NAMES,
    HoldRule,
    ModelParameters,
    ScoreFactor,
    explain,
    months_before,
)
from erp.db import MONEY, utcnow
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Customer
from erp.sqlmath import floor_share, floor_step, least_of, ratio, round_share

READ_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)
# Stands for "no such capacity" inside least(): above any amount a Numeric(18, 2) holds.
NO_CAPACITY = Decimal("1E16")
CHUNK = 10_000


def window_start(as_of: dt.date) -> dt.date:
    """The day before the 12-month window opens: the window is (start, as_of]."""
    return months_before(as_of, HISTORY_MONTHS)


def _money(value: Any) -> Any:
    # Sums of cents; SQLite sums binary floats, so round back to the cent before comparing.
    return func.round(value, 2)


def _places(step: Decimal) -> int:
    return -int(step.as_tuple().exponent)


def history_inputs(session: Session, as_of: dt.date, hold_overdue_days: int,
                   customers: Any = None) -> dict[str, Any]:
    """Subqueries of each customer's history with the group on ``as_of`` (all companies):
    invoiced in the window and first invoice ever; payments applied in the window and their
    amount-weighted days late; open, overdue and long-overdue amounts on the key date (open
    today plus whatever was paid after the key date); disputes opened in the window.
    ``customers`` restricts them to a range of customer ids (a predicate on a column)."""
    start = window_start(as_of)
    long_overdue_before = as_of - dt.timedelta(days=hold_overdue_days)

    def only(column: Any) -> Any:
        return customers(column) if customers is not None else literal(True)

    sales = (select(Invoice.customer_id,
                    func.sum(case((Invoice.invoice_date > start, Invoice.amount), else_=ZERO)).label("invoiced"),
                    func.min(Invoice.invoice_date).label("first_invoice"))
             .where(Invoice.invoice_date <= as_of, only(Invoice.customer_id))
             .group_by(Invoice.customer_id).subquery("sales"))
    late_days = case((PaymentApplication.days_late > 0, PaymentApplication.days_late), else_=0)
    paid = (select(Invoice.customer_id, func.sum(PaymentApplication.amount).label("paid"),
                   func.sum(PaymentApplication.amount * late_days).label("paid_days_late"))
            .join(Invoice, Invoice.id == PaymentApplication.invoice_id)
            .where(PaymentApplication.applied_on > start, PaymentApplication.applied_on <= as_of,
                   only(Invoice.customer_id))
            .group_by(Invoice.customer_id).subquery("paid"))
    since = settled_since(session, as_of)
    if since is None:
        # The usual case (the key date is today): open amounts as they stand, through the
        # partial index of open invoices.
        items = (select(Invoice.customer_id, Invoice.due_date, Invoice.open_amount.label("amount"))
                 .where(Invoice.open_amount > 0))
    else:
        items = (select(Invoice.customer_id, Invoice.due_date,
                        (Invoice.open_amount + func.coalesce(since.c.amount, ZERO)).label("amount"))
                 .outerjoin(since, since.c.invoice_id == Invoice.id)
                 .where(or_(Invoice.open_amount > 0, since.c.invoice_id.is_not(None))))
    items_sq = items.where(Invoice.invoice_date <= as_of, only(Invoice.customer_id)).subquery("items")
    still_open = (select(items_sq.c.customer_id, func.sum(items_sq.c.amount).label("open"),
                         func.sum(case((items_sq.c.due_date < as_of, items_sq.c.amount), else_=ZERO)).label("overdue"),
                         func.sum(case((items_sq.c.due_date < long_overdue_before, items_sq.c.amount),
                                       else_=ZERO)).label("over_90"))
                  .group_by(items_sq.c.customer_id).subquery("still_open"))
    disputes = (select(InvoiceDispute.customer_id, func.sum(InvoiceDispute.amount).label("disputed"))
                .where(InvoiceDispute.opened_on > start, InvoiceDispute.opened_on <= as_of,
                       only(InvoiceDispute.customer_id))
                .group_by(InvoiceDispute.customer_id).subquery("disputes"))
    return {"sales": sales, "paid": paid, "open": still_open, "disputes": disputes}


def profiles_in_force(as_of: dt.date, customers: Any = None) -> Any:
    """Each customer's credit data in force on ``as_of``: the version with the latest
    ``valid_from`` on or before it (the latest recorded among equals)."""
    ranked = (select(CustomerCreditProfile,
                     func.row_number().over(partition_by=CustomerCreditProfile.customer_id,
                                            order_by=(CustomerCreditProfile.valid_from.desc(),
                                                      CustomerCreditProfile.version.desc())).label("rank"))
              .where(CustomerCreditProfile.valid_from <= as_of,
                     customers(CustomerCreditProfile.customer_id) if customers is not None else literal(True))
              .subquery("ranked"))
    return select(ranked).where(ranked.c.rank == 1).subquery("profile")


def _points(factor: ScoreFactor, value: Any) -> ColumnElement[int]:
    """The factor's points for a value in SQL: its category, or the highest band reached."""
    if factor.factor in CATEGORICAL:
        whens = [(value == category, points) for category, points in factor.categories.items()]
        return case((value.is_(None), factor.no_data_points), *whens, else_=factor.no_data_points)
    bands = [b for b in factor.bands if b.lower is not None]
    whens = [(value >= band.lower, band.points) for band in reversed(bands)]
    return case((value.is_(None), factor.no_data_points), *whens, else_=factor.bands[0].points)


def _years_points(factor: ScoreFactor, founded_on: Any, as_of: dt.date) -> ColumnElement[int]:
    """Years trading reach a band's N years when the customer was founded N years before the
    key date or earlier (whole years, compared as dates)."""
    bands = [b for b in factor.bands if b.lower is not None]
    whens = [(founded_on <= months_before(as_of, 12 * int(band.lower)), band.points)  # type: ignore[arg-type]
             for band in reversed(bands)]
    return case((founded_on.is_(None), factor.no_data_points), *whens, else_=factor.bands[0].points)


def suggestion_query(
    session: Session, params: ModelParameters, version_id: int, as_of: dt.date, customers: Any = None,
) -> Select[Any]:
    """The model for every active customer (or those ``customers`` admits) on ``as_of``: one
    row per customer with the columns of ``CreditLimitSuggestion`` (without ids)."""
    history = history_inputs(session, as_of, params.hold_overdue_days, customers)
    profile = profiles_in_force(as_of, customers)
    sales, paid, still_open, disputes = history["sales"], history["paid"], history["open"], history["disputes"]
    zero = literal(ZERO, MONEY)

    inputs = (
        select(
            Customer.id.label("customer_id"), Customer.payment_terms_days,
            profile.c.id.label("profile_id"),
            func.coalesce(profile.c.customer_type, CustomerType.OTHER.value).label("customer_type"),
            profile.c.tangible_net_worth, profile.c.annual_turnover, profile.c.registered_capital,
            profile.c.statement_date, profile.c.rating_grade.label("rated_grade"), profile.c.rating_score,
            profile.c.rating_date, profile.c.founded_on,
            func.coalesce(profile.c.collateral_amount, zero).label("collateral"),
            func.coalesce(_money(sales.c.invoiced), zero).label("invoiced_12m"),
            sales.c.first_invoice,
            func.coalesce(_money(paid.c.paid), zero).label("paid_12m"),
            func.coalesce(_money(paid.c.paid_days_late), zero).label("paid_days_late"),
            func.coalesce(_money(still_open.c.open), zero).label("open_amount"),
            func.coalesce(_money(still_open.c.overdue), zero).label("overdue_amount"),
            func.coalesce(_money(still_open.c.over_90), zero).label("over_90_amount"),
            func.coalesce(_money(disputes.c.disputed), zero).label("disputed_12m"),
        )
        .outerjoin(profile, profile.c.customer_id == Customer.id)
        .outerjoin(sales, sales.c.customer_id == Customer.id)
        .outerjoin(paid, paid.c.customer_id == Customer.id)
        .outerjoin(still_open, still_open.c.customer_id == Customer.id)
        .outerjoin(disputes, disputes.c.customer_id == Customer.id)
        .where(Customer.active, customers(Customer.id) if customers is not None else literal(True))
        .subquery("inputs")
    )
    i = inputs.c
    stale_before = months_before(as_of, params.stale_after_months)
    traded = case(
        (i.first_invoice.is_(None), HISTORY_MONTHS),
        *((i.first_invoice > months_before(as_of, m), m) for m in range(1, HISTORY_MONTHS)),
        else_=HISTORY_MONTHS,
    )
    graded = case(
        (i.rated_grade.is_not(None), i.rated_grade),
        (i.rating_score.is_(None), null()),
        (i.rating_score >= params.agency_grade_a_from, "A"),
        (i.rating_score >= params.agency_grade_b_from, "B"),
        (i.rating_score >= params.agency_grade_c_from, "C"),
        else_="D",
    )
    derived = select(
        inputs,
        (i.invoiced_12m > 0).label("has_history"),
        and_(i.statement_date.is_not(None), i.statement_date < stale_before).label("statement_stale"),
        and_(i.rating_date.is_not(None), i.rating_date < stale_before).label("rating_stale"),
        graded.label("rating_grade"),
        traded.label("months_traded"),
        ratio(i.paid_days_late, i.paid_12m, _places(DAYS_PLACES)).label("average_days_late"),
        case((i.open_amount > 0, ratio(i.overdue_amount, i.open_amount, _places(SHARE_PLACES))),
             (i.invoiced_12m > 0, zero), else_=null()).label("overdue_share"),
        case((i.invoiced_12m > 0, ratio(i.disputed_12m, i.invoiced_12m, _places(SHARE_PLACES))),
             else_=null()).label("disputed_share"),
    ).subquery("derived")
    d = derived.c
    factor = params.factor
    points = {
        Factor.NET_WORTH: _points(factor(Factor.NET_WORTH), d.tangible_net_worth),
        Factor.REGISTERED_CAPITAL: _points(factor(Factor.REGISTERED_CAPITAL), d.registered_capital),
        Factor.RATING: _points(factor(Factor.RATING), d.rating_grade),
        Factor.YEARS_TRADING: _years_points(factor(Factor.YEARS_TRADING), d.founded_on, as_of),
        Factor.SALES_VOLUME: _points(factor(Factor.SALES_VOLUME), d.invoiced_12m),
        Factor.DAYS_LATE: _points(factor(Factor.DAYS_LATE), d.average_days_late),
        Factor.OVERDUE_SHARE: _points(factor(Factor.OVERDUE_SHARE), d.overdue_share),
        Factor.DISPUTED_SHARE: _points(factor(Factor.DISPUTED_SHARE), d.disputed_share),
        Factor.CUSTOMER_TYPE: _points(factor(Factor.CUSTOMER_TYPE), d.customer_type),
    }
    penalty = (case((d.statement_stale, params.stale_statement_penalty), else_=0)
               + case((d.rating_stale, params.stale_rating_penalty), else_=0))
    pointed = select(derived, *(p.label(f"{f.value}_points") for f, p in points.items()),
                     penalty.label("penalty_points")).subquery("pointed")
    p = pointed.c
    # Whole points x whole percent: the score in hundredths is an exact integer everywhere.
    total = sum((factor(f).weight * p[f"{f.value}_points"] for f in Factor), literal(0)) - 100 * p.penalty_points
    hundredths = case((total < 0, 0), else_=total)
    classes = sorted(params.risk_classes, key=lambda c: c.min_score, reverse=True)
    risk_class = case(*((hundredths >= int(c.min_score * 100), c.code) for c in classes[:-1]),
                      else_=classes[-1].code)
    scored = select(pointed, (hundredths * literal(Decimal("0.01"))).label("score"),
                    risk_class.label("risk_class")).subquery("scored")
    s = scored.c

    own, anyone = aliased(CreditLimitRule, name="own_rule"), aliased(CreditLimitRule, name="any_rule")

    def rule(column: str) -> Any:
        return case((own.id.is_not(None), getattr(own, column)), else_=getattr(anyone, column))

    net_worth = floor_share(s.tangible_net_worth, rule("net_worth_share"), 1)
    turnover = floor_share(s.annual_turnover, rule("turnover_share"), 1)
    sales_capacity = case((s.has_history, floor_share(s.invoiced_12m, rule("sales_months"), s.months_traded)),
                          else_=rule("starting_limit"))
    limited = (
        select(scored, rule("id").label("rule_id"), net_worth.label("net_worth_capacity"),
               turnover.label("turnover_capacity"), sales_capacity.label("sales_capacity"),
               rule("max_limit").label("max_limit"))
        .outerjoin(own, and_(own.version_id == version_id, own.risk_class == s.risk_class,
                             own.customer_type == s.customer_type))
        .outerjoin(anyone, and_(anyone.version_id == version_id, anyone.risk_class == s.risk_class,
                                anyone.customer_type.is_(None)))
    ).subquery("limited")
    c = limited.c
    none = literal(NO_CAPACITY, MONEY)
    unsecured = least_of(func.coalesce(c.net_worth_capacity, none), func.coalesce(c.turnover_capacity, none),
                         c.sales_capacity, func.coalesce(c.max_limit, none))
    bounded = select(limited, unsecured.label("unsecured_limit")).subquery("bounded")
    b = bounded.c
    bound_by = case(
        (b.net_worth_capacity == b.unsecured_limit, Capacity.NET_WORTH.value),
        (b.turnover_capacity == b.unsecured_limit, Capacity.TURNOVER.value),
        (and_(b.has_history, b.sales_capacity == b.unsecured_limit), Capacity.SALES.value),
        (b.sales_capacity == b.unsecured_limit, Capacity.STARTING_LIMIT.value),
        else_=Capacity.MAX_LIMIT.value,
    )
    hold_rule = case((b.over_90_amount > 0, HoldRule.OVERDUE.value), (b.rating_grade == "D", HoldRule.RATING_D.value),
                     else_=null())
    secured = case((b.unsecured_limit < 0, zero), else_=b.unsecured_limit) + b.collateral
    suggested = case((hold_rule.is_not(None), zero), else_=floor_step(secured, params.limit_step))
    return select(
        b.customer_id, b.has_history, b.invoiced_12m,
        round_share(b.invoiced_12m, 1, b.months_traded).label("average_monthly_sales"),
        b.payment_terms_days, b.average_days_late, b.overdue_share, suggested.label("suggested_limit"),
        b.profile_id, b.customer_type, b.tangible_net_worth, b.annual_turnover, b.registered_capital,
        b.statement_date, b.statement_stale, b.rating_grade, b.rating_score, b.rating_date, b.rating_stale,
        b.founded_on, b.collateral, b.months_traded, b.paid_12m, b.open_amount, b.overdue_amount,
        b.over_90_amount, b.disputed_12m, b.disputed_share,
        *(b[f"{f.value}_points"] for f in Factor), b.penalty_points, b.score, b.risk_class,
        b.rule_id, b.net_worth_capacity, b.turnover_capacity, b.sales_capacity, b.max_limit, b.unsecured_limit,
        bound_by.label("bound_by"), hold_rule.is_not(None).label("hold"), hold_rule.label("hold_rule"),
    )


def id_ranges(session: Session, size: int) -> list[tuple[int, int, int]]:
    """Active customers in ranges of ``size``: (first id, last id, customers) per range."""
    ids = session.scalars(select(Customer.id).where(Customer.active).order_by(Customer.id)).all()
    return [(ids[n], ids[min(n + size, len(ids)) - 1], len(ids[n:n + size])) for n in range(0, len(ids), size)]


Progress = Callable[[int, int], None]


def suggest_limits(
    session: Session, actor: Actor | None, *, as_of: dt.date, chunk: int = CHUNK,
    progress: Progress | None = None, today: dt.date | None = None,
) -> CreditSuggestionRun:
    """Recompute every active customer's suggested limit on a key date with the model in
    force today; one run, kept, every suggestion with the figures that explain it.

    Set-based: one INSERT ... SELECT per range of ``chunk`` customer ids; ``progress`` is
    called with (customers done, customers in all) after each. ``actor`` is None when the
    command line runs it (no user)."""
    if actor is not None:
        actor.require_role(Role.CREDIT_CONTROLLER, action="recomputing credit limit suggestions")
    started = time.perf_counter()
    today = today or business_today()
    ensure_model(session, actor, today)
    version = model_in_force(session, today)
    params = load_parameters(session, version)
    run = CreditSuggestionRun(as_of=as_of, window_start=window_start(as_of), model_version_id=version.id,
                              computed_by=actor.user_id if actor else None)
    session.add(run)
    session.flush()
    ranges = id_ranges(session, chunk)
    everyone = sum(count for _, _, count in ranges)
    done = 0
    for first, last, count in ranges:
        rows = suggestion_query(session, params, version.id, as_of, lambda column: column.between(first, last))  # noqa: B023
        columns = [column.name for column in rows.selected_columns]
        session.execute(insert(CreditLimitSuggestion).from_select(
            ["run_id", *columns], select(literal(run.id), *rows.subquery().c)))
        done += count
        if progress is not None:
            progress(done, everyone)
    totals = session.execute(
        select(func.count(), func.count().filter(CreditLimitSuggestion.has_history),
               func.count().filter(CreditLimitSuggestion.hold))
        .where(CreditLimitSuggestion.run_id == run.id)).one()
    run.customers, run.with_history, run.held = totals
    run.seconds = Decimal(f"{time.perf_counter() - started:.3f}")
    session.flush()
    return run


def latest_run(session: Session) -> CreditSuggestionRun | None:
    return session.scalars(select(CreditSuggestionRun).order_by(CreditSuggestionRun.id.desc()).limit(1)).first()


def get_run(session: Session, actor: Actor, run_id: int) -> CreditSuggestionRun:
    actor.require_role(*READ_ROLES, action="reading credit limit suggestions")
    run = session.get(CreditSuggestionRun, run_id)
    if run is None:
        raise NotFound(Message("suggestion run {key} not found", key=run_id))
    return run


def set_credit_limit(
    session: Session,
    actor: Actor,
    customer_id: int,
    *,
    credit_limit: Decimal | None = None,
    suggestion_id: int | None = None,
    reason: str | None = None,
) -> CreditLimit:
    """Approve a suggestion, or set a limit of one's own (an override needs a reason);
    either way a new version is recorded and becomes the limit in force.

    Approving a suggestion that holds the customer (more than 90 days overdue, rated D)
    sets the limit to 0 and puts the customer on credit hold, with the rule as the reason.
    A limit below the customer's group-wide exposure (its confirmed orders then cannot ship,
    its new ones are blocked) is allowed, with a reason, approving a suggestion as well:
    cutting a line a customer already uses is a decision someone answers for (docs/credit.md,
    Limits below the exposure)."""
    actor.require_role(Role.CREDIT_CONTROLLER, action="setting credit limits")
    if session.get(Customer, customer_id) is None:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    suggestion = None
    if suggestion_id is not None:
        suggestion = session.get(CreditLimitSuggestion, suggestion_id)
        if suggestion is None or suggestion.customer_id != customer_id:
            raise ValidationFailed.for_field("suggestion_id", Message("no suggestion {key} for this customer",
                                                                      key=suggestion_id))
    approving = credit_limit is None
    reason = (reason or "").strip() or None
    if approving:
        if suggestion is None:
            raise ValidationFailed.for_field("credit_limit", Message("give a limit, or the suggestion to approve"))
        credit_limit = suggestion.suggested_limit
    position = lock_exposure(session, customer_id)
    holding = approving and suggestion is not None and suggestion.hold
    if credit_limit < position.exposure and reason is None and not holding:
        # A hold suggestion's rule is its reason (and the hold blocks every order anyway).
        raise ValidationFailed.for_field("reason", Message(
            "the new limit of {limit} is {short} below customer {customer}'s group-wide exposure of {exposure}: "
            "its confirmed orders could not ship and new ones would be blocked; give a reason for the cut",
            limit=Amount(credit_limit), short=Amount(position.exposure - credit_limit),
            customer=Named.of(session.get(Customer, customer_id)), exposure=Amount(position.exposure)))
    if not approving and reason is None:
        raise ValidationFailed.for_field("reason", Message("a limit other than the model's suggestion needs a reason"))
    if approving and reason is None:
        # Stored as a narration: each reader sees it in their language (erp.narration).
        reason = narrate("credit-limit-approved", REASON_LENGTH, run=suggestion.run_id)  # type: ignore[union-attr]
    before = {"credit_limit": position.credit_limit, "limit_version": position.limit_version}
    version = CreditLimit(customer_id=customer_id, version=position.limit_version + 1, credit_limit=credit_limit,
                          suggestion_id=suggestion_id, reason=reason, set_by=actor.user_id,
                          source=LimitSource.MODEL if approving else LimitSource.MANUAL)
    session.add(version)
    position.credit_limit = credit_limit
    position.limit_version = version.version
    held_before = {"on_hold": position.on_hold, "hold_reason": position.hold_reason}
    if holding:
        position.on_hold = True
        position.hold_reason = narrate("credit-limit-model-hold", REASON_LENGTH, run=suggestion.run_id,  # type: ignore[union-attr]
                                       rule=Term(HOLD_RULE_NAMES[suggestion.hold_rule.value]))  # type: ignore[union-attr]
        position.hold_changed_by = actor.user_id
        position.hold_changed_at = utcnow()
    session.flush()
    audit.record_change(session, actor, entity="customer_credit", entity_id=customer_id, action="limit-set",
                        before=before, after={"credit_limit": audit.at_scale(credit_limit, 2),
                                              "limit_version": version.version},
                        reason=plain(reason))
    if position.on_hold and not held_before["on_hold"]:
        audit.record_change(session, actor, entity="customer_credit", entity_id=customer_id, action="hold",
                            before=held_before, after={"on_hold": True, "hold_reason": plain(position.hold_reason)},
                            reason=plain(position.hold_reason))
    return version


def limit_history(session: Session, actor: Actor, customer_id: int) -> list[CreditLimit]:
    """Every version of a customer's credit limit, newest first."""
    actor.require_role(*READ_ROLES, action="reading credit limit history")
    if session.get(Customer, customer_id) is None:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    return list(session.scalars(select(CreditLimit).where(CreditLimit.customer_id == customer_id)
                                .order_by(CreditLimit.version.desc())))


def suggestions_of_run(
    session: Session, actor: Actor, *, run_id: int | None = None, offset: int = 0, limit: int = 50,
    customer_id: int | None = None, risk_class: str | None = None, hold: bool | None = None,
) -> tuple[list[Any], int]:
    """A run's suggestions (the latest run by default) beside each customer's limit in force,
    largest first; filters by customer, risk class and hold."""
    actor.require_role(*READ_ROLES, action="reading credit limit suggestions")
    run = latest_run(session) if run_id is None else session.get(CreditSuggestionRun, run_id)
    if run is None:
        if run_id is not None:
            raise NotFound(Message("suggestion run {key} not found", key=run_id))
        return [], 0
    query = (
        select(CreditLimitSuggestion, Customer.code.label("customer_code"),
               Customer.name_zh.label("customer_name_zh"), CustomerExposure.credit_limit.label("current_limit"))
        .join(Customer, Customer.id == CreditLimitSuggestion.customer_id)
        .outerjoin(CustomerExposure, CustomerExposure.customer_id == CreditLimitSuggestion.customer_id)
        .where(CreditLimitSuggestion.run_id == run.id)
        .order_by(CreditLimitSuggestion.suggested_limit.desc(), Customer.code)
    )
    if customer_id is not None:
        query = query.where(CreditLimitSuggestion.customer_id == customer_id)
    if risk_class is not None:
        query = query.where(CreditLimitSuggestion.risk_class == risk_class)
    if hold is not None:
        query = query.where(CreditLimitSuggestion.hold.is_(hold))
    return paged(session, query, offset=offset, limit=limit)


def explained_suggestion(
    session: Session, actor: Actor, *, suggestion_id: int | None = None, customer_id: int | None = None,
) -> tuple[CreditLimitSuggestion, CreditSuggestionRun, Explanation]:
    """A suggestion with its explanation: the suggestion by id, or the customer's in the
    latest run. A suggestion of the earlier history-only model has none (409)."""
    actor.require_role(*READ_ROLES, action="reading credit limit suggestions")
    if suggestion_id is not None:
        suggestion = session.get(CreditLimitSuggestion, suggestion_id)
        if suggestion is None:
            raise NotFound(Message("suggestion {key} not found", key=suggestion_id))
    else:
        if session.get(Customer, customer_id) is None:
            raise NotFound(Message("customer {key} not found", key=customer_id))
        suggestion = session.scalars(
            select(CreditLimitSuggestion).where(CreditLimitSuggestion.customer_id == customer_id)
            .order_by(CreditLimitSuggestion.run_id.desc()).limit(1)).first()
        if suggestion is None:
            raise NotFound(Message("no suggestion for customer {customer} yet: recompute the suggestions",
                                   customer=customer_id))
    run = session.get(CreditSuggestionRun, suggestion.run_id)
    assert run is not None
    if run.model_version_id is None:
        raise SuggestionNotExplainable(
            Message("suggestion {suggestion} comes from run {run} of the earlier history-only model, which kept "
                    "no scorecard; recompute the suggestions", suggestion=suggestion.id, run=run.id))
    version = session.get(CreditModelVersion, run.model_version_id)
    assert version is not None
    return suggestion, run, explain(Evaluation.from_row(suggestion), load_parameters(session, version), run.as_of)
