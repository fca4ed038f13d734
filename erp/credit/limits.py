"""The credit limit model, and the versioned limits credit controllers approve.

The model (docs/credit.md has the reasoning and a worked example) suggests a limit from
the customer's own history across the whole group:

    monthly sales   = invoiced over the last 12 months / 12
    base            = monthly sales x (payment terms in days / 30 + 1)
    lateness factor = 1 - min(average days paid late, 60) / 120       (1.00 ... 0.50)
    overdue factor  = 1 - overdue share of the open amount / 2         (1.00 ... 0.50)
    suggested limit = base x lateness factor x overdue factor, rounded half-up to
                      10,000 CNY, at least 10,000

"Average days paid late" is weighted by the amounts paid (payments applied in the last 12
months; early payment counts as 0 days late). A customer with no invoice in the last 12
months has no history and gets the configured starting limit.

The aggregates are one set-based query over all customers; the formula is applied to
each row in Python (exact decimals on every database), and the run's suggestions are
written with one multi-row INSERT.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.credit.exposure import ZERO, lock_exposure
from erp.credit.models import (
    CreditLimit,
    CreditLimitSuggestion,
    CreditSuggestionRun,
    CustomerExposure,
    Invoice,
    PaymentApplication,
)
from erp.credit.queries import paged
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Customer
from erp.money import round_money

LIMIT_STEP = Decimal("10000")
# Lateness beyond this many days (on average) does not lower the limit further.
LATENESS_CAP_DAYS = Decimal("60")
ONE = Decimal("1")
READ_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)


@dataclass(frozen=True)
class CustomerHistory:
    """What the model reads about one customer, summed over every company of the group."""

    customer_id: int
    payment_terms_days: int
    invoiced_12m: Decimal = ZERO
    paid_12m: Decimal = ZERO
    # sum over payments of amount x days late (0 when early or on time)
    paid_days_late: Decimal = ZERO
    open_amount: Decimal = ZERO
    overdue_amount: Decimal = ZERO


@dataclass(frozen=True)
class LimitSuggestion:
    customer_id: int
    has_history: bool
    invoiced_12m: Decimal
    average_monthly_sales: Decimal
    payment_terms_days: int
    average_days_late: Decimal
    overdue_share: Decimal
    behaviour_factor: Decimal
    suggested_limit: Decimal


def round_to_step(amount: Decimal) -> Decimal:
    """Half-up to the nearest 10,000 CNY, never below one step."""
    return max(LIMIT_STEP, (amount / LIMIT_STEP).quantize(ONE, rounding=ROUND_HALF_UP) * LIMIT_STEP)


def suggest_limit(history: CustomerHistory, starting_limit: Decimal) -> LimitSuggestion:
    """The model's limit for one customer (pure: the formula in the module docstring)."""
    if history.invoiced_12m <= 0:
        return LimitSuggestion(history.customer_id, False, ZERO, ZERO, history.payment_terms_days, ZERO, ZERO, ONE,
                               starting_limit)
    monthly = history.invoiced_12m / 12
    days_late = history.paid_days_late / history.paid_12m if history.paid_12m > 0 else ZERO
    overdue_share = history.overdue_amount / history.open_amount if history.open_amount > 0 else ZERO
    lateness = 1 - min(days_late, LATENESS_CAP_DAYS) / 120
    overdue = 1 - overdue_share / 2
    factor = lateness * overdue
    base = monthly * (Decimal(history.payment_terms_days) / 30 + 1)
    return LimitSuggestion(
        history.customer_id, True, history.invoiced_12m, round_money(monthly), history.payment_terms_days,
        days_late.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        overdue_share.quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP),
        factor.quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP), round_to_step(base * factor),
    )


def window_start(as_of: dt.date) -> dt.date:
    """The day before the 12-month window opens: the window is (start, as_of]."""
    try:
        return as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - 1, day=28)


def customer_histories(session: Session, as_of: dt.date) -> list[CustomerHistory]:
    """Every active customer's history in one set-based query (aggregates in SQL)."""
    start = window_start(as_of)
    sales = (select(Invoice.customer_id, func.sum(Invoice.amount).label("invoiced"))
             .where(Invoice.invoice_date > start, Invoice.invoice_date <= as_of)
             .group_by(Invoice.customer_id).subquery())
    late_days = case((PaymentApplication.days_late > 0, PaymentApplication.days_late), else_=0)
    paid = (select(Invoice.customer_id, func.sum(PaymentApplication.amount).label("paid"),
                   func.sum(PaymentApplication.amount * late_days).label("paid_days_late"))
            .join(Invoice, Invoice.id == PaymentApplication.invoice_id)
            .where(PaymentApplication.applied_on > start, PaymentApplication.applied_on <= as_of)
            .group_by(Invoice.customer_id).subquery())
    still_open = (select(Invoice.customer_id, func.sum(Invoice.open_amount).label("open"),
                         func.sum(case((Invoice.due_date < as_of, Invoice.open_amount), else_=0)).label("overdue"))
                  .where(Invoice.open_amount > 0, Invoice.invoice_date <= as_of)
                  .group_by(Invoice.customer_id).subquery())
    rows = session.execute(
        select(Customer.id, Customer.payment_terms_days, sales.c.invoiced, paid.c.paid, paid.c.paid_days_late,
               still_open.c.open, still_open.c.overdue)
        .outerjoin(sales, sales.c.customer_id == Customer.id)
        .outerjoin(paid, paid.c.customer_id == Customer.id)
        .outerjoin(still_open, still_open.c.customer_id == Customer.id)
        .where(Customer.active)
        .order_by(Customer.id)
    ).all()
    return [CustomerHistory(r[0], r[1], *(_cents(v) for v in r[2:])) for r in rows]


def _cents(value: Any) -> Decimal:
    # SQLite hands back binary floats for sums; every figure here is a sum of cents.
    return ZERO if value is None else round_money(Decimal(str(value)))


def suggest_limits(
    session: Session, actor: Actor | None, *, as_of: dt.date, starting_limit: Decimal
) -> CreditSuggestionRun:
    """Recompute every active customer's suggested limit as of a date; one run, kept.

    ``actor`` is None when the command line runs it (no user)."""
    if actor is not None:
        actor.require_role(Role.CREDIT_CONTROLLER, action="recomputing credit limit suggestions")
    suggestions = [suggest_limit(history, starting_limit) for history in customer_histories(session, as_of)]
    run = CreditSuggestionRun(as_of=as_of, window_start=window_start(as_of),
                              computed_by=actor.user_id if actor else None, customers=len(suggestions),
                              with_history=sum(1 for s in suggestions if s.has_history))
    session.add(run)
    session.flush()
    if suggestions:
        session.execute(insert(CreditLimitSuggestion),
                        [{"run_id": run.id, **asdict(s)} for s in suggestions])
    return run


def latest_run(session: Session) -> CreditSuggestionRun | None:
    return session.scalars(select(CreditSuggestionRun).order_by(CreditSuggestionRun.id.desc()).limit(1)).first()


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
    either way a new version is recorded and becomes the limit in force."""
    actor.require_role(Role.CREDIT_CONTROLLER, action="setting credit limits")
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    suggestion = None
    if suggestion_id is not None:
        suggestion = session.get(CreditLimitSuggestion, suggestion_id)
        if suggestion is None or suggestion.customer_id != customer_id:
            raise ValidationFailed.for_field("suggestion_id", f"no suggestion {suggestion_id} for this customer")
    if credit_limit is None:
        if suggestion is None:
            raise ValidationFailed.for_field("credit_limit", "give a limit, or the suggestion to approve")
        credit_limit = suggestion.suggested_limit
        reason = reason or f"approved the suggestion of run {suggestion.run_id}"
    elif not (reason or "").strip():
        raise ValidationFailed.for_field("reason", "a limit other than the model's suggestion needs a reason")
    position = lock_exposure(session, customer_id)
    before = {"credit_limit": position.credit_limit, "limit_version": position.limit_version}
    version = CreditLimit(customer_id=customer_id, version=position.limit_version + 1, credit_limit=credit_limit,
                          suggestion_id=suggestion_id, reason=reason, set_by=actor.user_id)
    session.add(version)
    position.credit_limit = credit_limit
    position.limit_version = version.version
    session.flush()
    audit.record_change(session, actor, entity="customer_credit", entity_id=customer_id, action="limit-set",
                        before=before, after={"credit_limit": audit.at_scale(credit_limit, 2),
                                              "limit_version": version.version},
                        reason=reason)
    return version


def limit_history(session: Session, actor: Actor, customer_id: int) -> list[CreditLimit]:
    """Every version of a customer's credit limit, newest first."""
    actor.require_role(*READ_ROLES, action="reading credit limit history")
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    return list(session.scalars(select(CreditLimit).where(CreditLimit.customer_id == customer_id)
                                .order_by(CreditLimit.version.desc())))


def suggestions_of_run(
    session: Session, actor: Actor, *, run_id: int | None, offset: int = 0, limit: int = 50
) -> tuple[list[Any], int]:
    """A run's suggestions (the latest run by default) beside each customer's limit in force,
    largest first."""
    actor.require_role(*READ_ROLES, action="reading credit limit suggestions")
    run = latest_run(session) if run_id is None else session.get(CreditSuggestionRun, run_id)
    if run is None:
        if run_id is not None:
            raise NotFound(f"suggestion run {run_id} not found")
        return [], 0
    query = (
        select(CreditLimitSuggestion, Customer.code.label("customer_code"),
               Customer.name_zh.label("customer_name_zh"), CustomerExposure.credit_limit.label("current_limit"))
        .join(Customer, Customer.id == CreditLimitSuggestion.customer_id)
        .outerjoin(CustomerExposure, CustomerExposure.customer_id == CreditLimitSuggestion.customer_id)
        .where(CreditLimitSuggestion.run_id == run.id)
        .order_by(CreditLimitSuggestion.suggested_limit.desc(), Customer.code)
    )
    return paged(session, query, offset=offset, limit=limit)
