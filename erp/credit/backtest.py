"""Backtest of the credit limit model: what it would have prevented on the group's history.

For each month end M of a range the model runs as of M (``limits.suggestion_query``: credit
data in force on M, invoices dated by M, payments applied by M, disputes opened by M; so
it sees only what was known then) with the parameters in force today, the model being
judged. Then it looks forward: which customers, not yet more than 90 days past due on M,
went more than 90 days past due afterwards, within the horizon (12 months by default) and
no later than what is known (the business day). For each of them:

- **went bad**: what was open of each invoice on the day it passed 90 days past due
  (due date + 91 days; open = open today plus what was applied to it after that day),
  summed; and the part of it on invoices dated after M, the only credit a decision on M
  could still have refused;
- **the model's decision on M**: a hold (suggested 0 and hold), a limit below the limit
  actually approved then (the latest version set by the end of M, else the starting limit
  for customers without one), or no restriction;
- **covered**: what the decision would have kept out of the part dated after M: all of it
  under a hold (every confirmation and shipment is blocked), at most the difference
  between the approved limit and the model's under a lower limit, nothing otherwise.

Each month also counts what the model restricted in all (customers held or limited, and
the credit withheld against the approved limits), so the cost of its caution is in view
beside what it caught. The overall summary counts each customer that went bad once, at
the last month end of the range before it did (the latest decision taken beforehand).

Set-based: per month end one SELECT of the model's suggestions (all customers) joined to
the approved limits and to the invoices that passed 90 days past due; no loop over
customers. Read-only: nothing is written (from the command line the model's default
parameters are stored first if no version exists yet, as the first recompute does).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from erp.messages import Message
from erp.period import NOT_A_PERIOD
from erp.auth.roles import Actor, Role
from erp.credit.exposure import ZERO, CreditPolicy
from erp.credit.models import CreditLimit, CreditModelVersion, Invoice, PaymentApplication
from erp.credit.limits import suggestion_query
from erp.credit.parameters import ensure_model, load_parameters, model_in_force
from erp.credit.receivables import end_of_day
from erp.credit.scorecard import ModelParameters, months_before
from erp.db import MONEY
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Customer

READ_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)
# The day an invoice passes 90 days past due: due date + 91 (ageing's "over 90" bucket and
# the model's hold both start at 91 days).
OVER_90_FROM_DAY = 91
MAX_MONTHS = 60


def month_end(month: str, field: str = "month") -> dt.date:
    """The last day of a month given as YYYY-MM (422 naming ``field`` otherwise)."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise ValidationFailed.for_field(field, Message(NOT_A_PERIOD)) from exc
    return months_before(first, -1) - dt.timedelta(days=1)


def month_ends(first: str, last: str) -> list[dt.date]:
    """Every month end from the month ``first`` to the month ``last`` (YYYY-MM), in order."""
    ends = []
    day = month_end(first, "from")
    stop = month_end(last, "to")
    while day <= stop:
        ends.append(day)
        day = months_before(day + dt.timedelta(days=1), -1) - dt.timedelta(days=1)
    return ends


@dataclass(frozen=True)
class BadCustomer:
    """A customer that went more than 90 days past due after a month end, with the model's
    decision on that month end."""

    month_end: dt.date
    customer_id: int
    customer_code: str
    went_bad_on: dt.date
    overdue_amount: Decimal
    overdue_after: Decimal
    approved_limit: Decimal
    suggested_limit: Decimal
    hold: bool
    decision: str  # held, limited, not_limited
    covered: Decimal
    score: Decimal | None
    risk_class: str | None


@dataclass
class BacktestMonth:
    month_end: dt.date
    horizon_end: dt.date
    customers: int = 0
    held: int = 0
    limited: int = 0
    withheld: Decimal = ZERO
    went_bad: int = 0
    went_bad_held: int = 0
    went_bad_limited: int = 0
    overdue_amount: Decimal = ZERO
    overdue_after: Decimal = ZERO
    covered: Decimal = ZERO


@dataclass
class Backtest:
    first_month: str
    last_month: str
    horizon_months: int
    known_until: dt.date
    model_version: int
    months: list[BacktestMonth] = field(default_factory=list)
    # each customer that went bad, once: at the last month end before it did
    bad_customers: list[BadCustomer] = field(default_factory=list)
    seconds: Decimal = ZERO

    @property
    def went_bad(self) -> int:
        return len(self.bad_customers)

    def count(self, decision: str) -> int:
        return sum(1 for c in self.bad_customers if c.decision == decision)

    def total(self, name: str) -> Decimal:
        return sum((getattr(c, name) for c in self.bad_customers), ZERO)


Progress = Callable[[int, int], None]


def run_backtest(
    session: Session, actor: Actor | None, *, first_month: str, last_month: str, policy: CreditPolicy,
    today: dt.date, horizon_months: int = 12, progress: Progress | None = None,
) -> Backtest:
    """Replay the limit model at every month end from ``first_month`` to ``last_month``
    (YYYY-MM) and judge it against what happened within ``horizon_months`` after each,
    as known on ``today``. Amounts in CNY. Refuses a range that is empty, longer than 60
    months or not ended before ``today``. ``actor`` None: the command line."""
    if actor is not None:
        actor.require_role(*READ_ROLES, action="reading the credit model's backtest")
    started = time.perf_counter()
    ends = month_ends(first_month, last_month)
    if not ends:
        raise ValidationFailed.for_field("to", Message("{last} is before {first}", last=last_month, first=first_month))
    if len(ends) > MAX_MONTHS:
        raise ValidationFailed.for_field("to", Message("at most {count} months at a time", count=MAX_MONTHS))
    if ends[-1] >= today:
        raise ValidationFailed.for_field("to", Message("{month} has not ended by {today}", month=last_month, today=today))
    if not 1 <= horizon_months <= 36:
        raise ValidationFailed.for_field("horizon_months", Message("must be between {min} and {max}", min=1, max=36))
    if actor is None:
        ensure_model(session, actor, today)
    elif session.scalar(select(CreditModelVersion.id).limit(1)) is None:
        # A read never writes: the first recompute (or the command line) stores the defaults.
        raise NotFound(Message("no credit model is stored yet: a credit controller's first recompute stores it"))
    version = model_in_force(session, today)
    params = load_parameters(session, version)
    result = Backtest(first_month, last_month, horizon_months, today, version.version)
    by_customer: dict[int, BadCustomer] = {}
    for done, end in enumerate(ends, start=1):
        month, bad = _one_month(session, params, version.id, end, today, horizon_months, policy)
        result.months.append(month)
        for row in bad:
            by_customer[row.customer_id] = row  # later month ends replace earlier ones
        if progress is not None:
            progress(done, len(ends))
    result.bad_customers = sorted(by_customer.values(), key=lambda c: (c.month_end, c.customer_code))
    result.seconds = Decimal(f"{time.perf_counter() - started:.3f}")
    return result


def _one_month(
    session: Session, params: ModelParameters, version_id: int, end: dt.date, today: dt.date, horizon_months: int,
    policy: CreditPolicy,
) -> tuple[BacktestMonth, list[BadCustomer]]:
    horizon_end = min(months_before(end, -horizon_months), today)
    model = suggestion_query(session, params, version_id, end).subquery("model")
    cutoff = end_of_day(end)
    ranked = (select(CreditLimit.customer_id, CreditLimit.credit_limit,
                     func.row_number().over(partition_by=CreditLimit.customer_id,
                                            order_by=CreditLimit.version.desc()).label("rank"))
              .where(CreditLimit.set_at < cutoff).subquery("approved_ranked"))
    approved_then = select(ranked.c.customer_id, ranked.c.credit_limit).where(ranked.c.rank == 1).subquery("approved")
    approved = func.coalesce(approved_then.c.credit_limit, literal(policy.starting_limit, MONEY))

    # Invoices that passed 90 days past due after the month end and by the horizon: due
    # date + 91 in (end, horizon_end]; open that day = open today + applied later (days
    # late is applied_on - due date, so "later" is more than 91 days late).
    later = (select(PaymentApplication.invoice_id, func.sum(PaymentApplication.amount).label("amount"))
             .where(PaymentApplication.days_late > OVER_90_FROM_DAY)
             .group_by(PaymentApplication.invoice_id).subquery("paid_later"))
    open_then = Invoice.open_amount + func.coalesce(later.c.amount, ZERO)
    first_due_after = end - dt.timedelta(days=OVER_90_FROM_DAY - 1)
    last_due = horizon_end - dt.timedelta(days=OVER_90_FROM_DAY)
    bad_invoices = (
        select(Invoice.customer_id, func.min(Invoice.due_date).label("first_due"),
               func.sum(open_then).label("overdue_amount"),
               func.sum(case((Invoice.invoice_date > end, open_then), else_=ZERO)).label("overdue_after"))
        .outerjoin(later, later.c.invoice_id == Invoice.id)
        .where(Invoice.due_date >= first_due_after, Invoice.due_date <= last_due, open_then > 0)
        .group_by(Invoice.customer_id).subquery("went_bad")
    )
    limited = and_(model.c.hold.is_(False), model.c.suggested_limit < approved)
    restricted = func.coalesce(model.c.hold, False) | limited
    counts = session.execute(
        select(func.count(), func.count().filter(model.c.hold), func.count().filter(limited),
               func.coalesce(func.sum(case((restricted, approved - model.c.suggested_limit), else_=ZERO)), ZERO))
        .select_from(model).outerjoin(approved_then, approved_then.c.customer_id == model.c.customer_id)
    ).one()
    rows = session.execute(
        select(model.c.customer_id, Customer.code, bad_invoices.c.first_due, bad_invoices.c.overdue_amount,
               bad_invoices.c.overdue_after, approved.label("approved"), model.c.suggested_limit, model.c.hold,
               model.c.score, model.c.risk_class)
        .select_from(model)
        .join(bad_invoices, bad_invoices.c.customer_id == model.c.customer_id)
        .join(Customer, Customer.id == model.c.customer_id)
        .outerjoin(approved_then, approved_then.c.customer_id == model.c.customer_id)
        .where(model.c.over_90_amount == 0)
        .order_by(Customer.code)
    ).all()
    month = BacktestMonth(end, horizon_end, customers=counts[0], held=counts[1], limited=counts[2],
                          withheld=_cents(counts[3]))
    bad: list[BadCustomer] = []
    for row in rows:
        overdue_after = _cents(row.overdue_after)
        approved_limit = _cents(row.approved)
        suggested = _cents(row.suggested_limit)
        if row.hold:
            decision, covered = "held", overdue_after
        elif suggested < approved_limit:
            decision, covered = "limited", min(overdue_after, approved_limit - suggested)
        else:
            decision, covered = "not_limited", ZERO
        bad.append(BadCustomer(end, row.customer_id, row.code,
                               _day(row.first_due) + dt.timedelta(days=OVER_90_FROM_DAY),
                               _cents(row.overdue_amount), overdue_after, approved_limit, suggested, bool(row.hold),
                               decision, covered, None if row.score is None else _cents(row.score), row.risk_class))
        month.went_bad += 1
        month.went_bad_held += decision == "held"
        month.went_bad_limited += decision == "limited"
        month.overdue_amount += _cents(row.overdue_amount)
        month.overdue_after += overdue_after
        month.covered += covered
    return month, bad


def _cents(value: object) -> Decimal:
    # SQLite sums binary floats: back to the cent (the amounts are sums of cents).
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
