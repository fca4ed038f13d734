"""A customer's group-wide exposure, and the credit check against it.

exposure = open invoice amounts across all companies
         + value of confirmed, unshipped order lines across all companies.

The figures live in one ``customer_exposures`` row per customer, changed by every
posting that moves them (confirmation, shipment, cancellation, payment) in the same
transaction. A check locks the row FOR UPDATE, decides, and the posting then moves the
row before commit: two companies confirming orders for one customer at the same moment
are checked one after the other, so together they never pass the limit. On SQLite every
writing transaction starts with BEGIN IMMEDIATE, which serialises them anyway.

``exposure_drift`` rebuilds the figures from the documents and reports differences
(expected: none); ``repair_exposure`` writes the rebuilt figures back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from erp import narration
from erp.messages import Amount, Message, Named
from erp.config import Settings
from erp.credit.errors import CreditLimitExceeded, CustomerOnCreditHold
from erp.credit.models import (
    OPEN_ORDER_STATUSES,
    CreditNote,
    CustomerExposure,
    Invoice,
    Payment,
    SalesOrder,
    SalesOrderLine,
)
from erp.db import MONEY, DriverRead, dialect_insert, utcnow
from erp.masterdata.tax import line_amounts
from erp.errors import DomainError, NotFound
from erp.masterdata.models import Customer
from erp.money import CENT, round_money
from erp.sqlmath import round_product, round_share

ZERO = Decimal("0")
LIMIT_RULE = "credit-limit-exceeded"
HOLD_RULE = "customer-on-credit-hold"
WARNING_RULE = "credit-warning-zone"


@dataclass(frozen=True)
class CreditPolicy:
    """The configurable part of credit control (``Settings``)."""

    # From this share of the limit an action passes with a warning.
    warning_share: Decimal = Decimal("0.90")
    # The limit of a customer no controller has approved a limit for yet.
    starting_limit: Decimal = Decimal("100000")

    @classmethod
    def from_settings(cls, settings: Settings) -> CreditPolicy:
        return cls(settings.credit_warning_share, settings.credit_starting_limit)

    def limit_of(self, approved: Decimal | None) -> Decimal:
        return self.starting_limit if approved is None else approved


class CreditOutcome(StrEnum):
    PASSED = "passed"
    WARNING = "warning"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class CreditDecision:
    """The result of one credit check, with the figures it was made on."""

    outcome: CreditOutcome
    rule: str | None
    exposure: Decimal
    amount: Decimal
    exposure_after: Decimal
    credit_limit: Decimal
    limit_approved: bool
    warning_from: Decimal
    on_hold: bool
    released: bool
    # Why it came out so, in words: a Message, rendered in the reader's language by pages and
    # by the API (Accept-Language), so the same decision reads in Chinese on the desk.
    detail: Message

    @property
    def blocked(self) -> bool:
        return self.outcome == CreditOutcome.BLOCKED

    def refusal(self, **extensions: Any) -> DomainError:
        """The problem to answer a blocked action with."""
        error = CustomerOnCreditHold if self.rule == HOLD_RULE else CreditLimitExceeded
        return error(self.detail, exposure=str(self.exposure), exposure_after=str(self.exposure_after),
                     credit_limit=str(self.credit_limit), **extensions)


def decide(
    position: CustomerExposure | ExposureValues, amount: Decimal, policy: CreditPolicy, *,
    customer_blocked: bool = False, released: bool = False, customer: Any = None,
) -> CreditDecision:
    """Check an action that changes the customer's exposure by ``amount``.

    A customer on credit hold (or blocked in the master) is blocked outright. Otherwise
    the exposure after the action may reach the limit exactly; one cent more is blocked,
    unless a controller released the order. From ``warning_share`` of the limit the action
    passes with a warning. ``customer`` (the master record, when the caller has it) names the
    customer in the decision's ``detail`` by code and name.
    """
    limit = policy.limit_of(position.credit_limit)
    after = position.exposure + amount
    warning_from = round_money(limit * policy.warning_share)
    on_hold = position.on_hold or customer_blocked

    def decision(outcome: CreditOutcome, rule: str | None, detail: Message) -> CreditDecision:
        return CreditDecision(outcome, rule, position.exposure, amount, after, limit,
                              position.credit_limit is not None, warning_from, on_hold, released, detail)

    who = Named.of(customer) if customer is not None else position.customer_id
    if on_hold:
        why: str | Message = (narration.read(position.hold_reason) or "") if position.on_hold else \
            Message("the customer is blocked in the group master")
        return decision(CreditOutcome.BLOCKED, HOLD_RULE,
                        Message("customer {customer} is on credit hold: {why}", customer=who, why=why))
    if after > limit and not released:
        return decision(
            CreditOutcome.BLOCKED, LIMIT_RULE,
            Message("group-wide exposure of customer {customer} would be {after} (now {exposure}, this action "
                    "{amount}), above its credit limit of {limit}",
                    customer=who, after=Amount(after), exposure=Amount(position.exposure), amount=Amount(amount),
                    limit=Amount(limit)),
        )
    if after >= warning_from:
        if limit == 0:
            return decision(CreditOutcome.WARNING, WARNING_RULE,
                            Message("exposure after this action is {after}, with a credit limit of 0",
                                    after=Amount(after)))
        return decision(
            CreditOutcome.WARNING, WARNING_RULE,
            Message("exposure after this action is {after}, {share} % of the credit limit of {limit}",
                    after=Amount(after), share=(after / limit * 100).quantize(Decimal("0.1")), limit=Amount(limit)),
        )
    return decision(CreditOutcome.PASSED, None,
                    Message("exposure after this action is {after} of a limit of {limit}", after=Amount(after),
                            limit=Amount(limit)))


def lock_exposure(session: Session, customer_id: int) -> CustomerExposure:
    """The customer's exposure row, locked FOR UPDATE until commit (created when missing);
    404 when there is no such customer.

    The customer master is not read with it: a row joined to the locked one is read as it
    stood when the locking statement began, so a block committed while it waited on the lock
    would be missed. A decision on the customer takes ``lock_position``."""
    query = (
        select(CustomerExposure)
        .where(CustomerExposure.customer_id == customer_id)
        .with_for_update()
        # The row may be in the session from before the lock: read what is committed now.
        .execution_options(populate_existing=True)
    )
    position = session.scalars(query).one_or_none()
    if position is None:
        if session.get(Customer, customer_id) is None:
            raise NotFound(Message("customer {key} not found", key=customer_id))
        session.execute(
            dialect_insert(session, CustomerExposure).values(customer_id=customer_id).on_conflict_do_nothing()
        )
        position = session.scalars(query).one()
    return position


def lock_position(session: Session, customer_id: int) -> tuple[CustomerExposure, Customer]:
    """The customer's exposure row locked (``lock_exposure``), then the customer master read
    again by its key, as committed once the lock is held: what a credit decision (blocked in
    the master? payment terms) must be made on. Read in the lock's own statement, or kept from
    before it (a page showed the customer), a block the steward committed while the lock
    waited went unseen and the order was confirmed, shipped or released
    (tests/service/test_stale_customer_reads.py). 404 when there is no such customer."""
    position = lock_exposure(session, customer_id)
    customer = session.get(Customer, customer_id, populate_existing=True)
    assert customer is not None  # lock_exposure found it
    return position, customer


def read_exposure(session: Session, customer_id: int) -> CustomerExposure:
    """The customer's exposure row as committed, without a lock (a blank row when none yet);
    the customer is loaded with it; 404 when there is no such customer."""
    return read_customer_exposure(session, customer_id)[1]


# Built once (the exposure check runs it on every call; building it cost about as much
# Python as running it): the customer and its exposure row, as committed.
_CUSTOMER_EXPOSURE = (
    select(Customer, CustomerExposure)
    .outerjoin(CustomerExposure, CustomerExposure.customer_id == Customer.id)
    .where(Customer.id == bindparam("customer_id"))
    .execution_options(populate_existing=True)
)


def read_customer_exposure(session: Session, customer_id: int) -> tuple[Customer, CustomerExposure]:
    """The customer and its exposure row as committed, in one statement, without a lock (a
    blank row when none yet); 404 when there is no such customer."""
    row = session.execute(_CUSTOMER_EXPOSURE, {"customer_id": customer_id}).one_or_none()
    if row is None:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    if row[1] is None:
        return row[0], CustomerExposure(customer_id=customer_id, open_invoices=ZERO, open_orders=ZERO, exposure=ZERO,
                                        unapplied_credit=ZERO, credit_limit=None, limit_version=0, on_hold=False)
    return row[0], row[1]


@dataclass(frozen=True)
class CustomerNamed:
    """What a credit position shows of the customer master: key, code, names, payment terms,
    whether the group has blocked it."""

    id: int
    code: str
    name_zh: str
    name_en: str
    payment_terms_days: int
    blocked: bool


@dataclass(frozen=True)
class ExposureValues:
    """A customer's exposure row as values (the columns of ``CustomerExposure`` a position
    shows and a credit decision reads; CNY amounts as ``Decimal``)."""

    customer_id: int
    open_invoices: Decimal
    open_orders: Decimal
    exposure: Decimal
    unapplied_credit: Decimal
    credit_limit: Decimal | None
    limit_version: int
    on_hold: bool
    hold_reason: str | None
    hold_changed_by: int | None
    hold_changed_at: dt.datetime | None


_CUSTOMERS, _EXPOSURES = Customer.__table__, CustomerExposure.__table__
# One statement, built once and sent to the driver as compiled SQL on PostgreSQL (erp.db.
# DriverRead): the exposure check over HTTP runs it on every call (issue #18's target: p95
# under 5 ms), and loading two ORM entities into the identity map cost more Python than it.
_POSITION = DriverRead(
    select(_CUSTOMERS.c.id, _CUSTOMERS.c.code, _CUSTOMERS.c.name_zh, _CUSTOMERS.c.name_en,
           _CUSTOMERS.c.payment_terms_days, _CUSTOMERS.c.blocked, _EXPOSURES.c.customer_id,
           _EXPOSURES.c.open_invoices, _EXPOSURES.c.open_orders, _EXPOSURES.c.exposure,
           _EXPOSURES.c.unapplied_credit, _EXPOSURES.c.credit_limit, _EXPOSURES.c.limit_version,
           _EXPOSURES.c.on_hold, _EXPOSURES.c.hold_reason, _EXPOSURES.c.hold_changed_by,
           _EXPOSURES.c.hold_changed_at)
    .outerjoin_from(_CUSTOMERS, _EXPOSURES, _EXPOSURES.c.customer_id == _CUSTOMERS.c.id)
    .where(_CUSTOMERS.c.id == bindparam("customer_id"))
)


def read_position(session: Session, customer_id: int) -> tuple[CustomerNamed, ExposureValues]:
    """The customer and its exposure row as values, as this transaction sees them (committed,
    and its own flushed writes), without a lock (blank values when the row does not exist
    yet); 404 when there is no such customer. One statement."""
    found = _POSITION.rows(session.connection(), {"customer_id": customer_id})
    if not found:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    row = found[0]
    customer = CustomerNamed(row[0], row[1], row[2], row[3], row[4], bool(row[5]))
    if row[6] is None:
        return customer, ExposureValues(customer_id, ZERO, ZERO, ZERO, ZERO, None, 0, False, None, None, None)
    changed_at = row[16]
    if changed_at is not None:  # psycopg gives the session's time zone; the API speaks UTC (UTCDateTime)
        changed_at = changed_at.replace(tzinfo=dt.UTC) if changed_at.tzinfo is None else changed_at.astimezone(dt.UTC)
    return customer, ExposureValues(row[6], row[7], row[8], row[9], row[10], row[11], row[12], bool(row[13]),
                                    row[14], row[15], changed_at)


def move_exposure(
    row: CustomerExposure, *, invoices: Decimal = ZERO, orders: Decimal = ZERO, unapplied: Decimal = ZERO
) -> None:
    """Change a locked exposure row by what a posting adds (negative: takes away)."""
    row.open_invoices += invoices
    row.open_orders += orders
    row.exposure = row.open_invoices + row.open_orders
    row.unapplied_credit += unapplied
    row.updated_at = utcnow()


def open_line_value(quantity: Decimal, shipped: Decimal, unit_price: Decimal, tax_rate: Decimal = ZERO) -> Decimal:
    """What a line still to ship adds to exposure: what the customer will owe for it,
    including VAT: net = open quantity x price, tax = net x rate, each to the cent (the
    invoice's own rule, ``erp.masterdata.tax.line_amounts``)."""
    return line_amounts(quantity - shipped, unit_price, tax_rate).gross


def open_order_value(lines: Iterable[SalesOrderLine]) -> Decimal:
    return sum((open_line_value(l.quantity, l.shipped_quantity, l.unit_price, l.tax_rate) for l in lines), ZERO)


def open_line_value_sql(open_quantity: Any = None) -> Any:
    """``open_line_value`` as a SQL expression over sales order lines (same cents), for
    ``open_quantity`` (default: what is still to ship today)."""
    if open_quantity is None:
        open_quantity = SalesOrderLine.quantity - SalesOrderLine.shipped_quantity
    net = round_product(open_quantity, SalesOrderLine.unit_price)
    return net + round_share(net, SalesOrderLine.tax_rate, literal(Decimal(100), MONEY))


# --- rebuilding from the documents -------------------------------------------------------------

NONE = literal(ZERO, MONEY)


def exposure_drift(session: Session, customer_ids: Iterable[int] | None = None) -> list[Any]:
    """Customers whose stored figures differ from the documents: (customer_id,
    invoices_drift, orders_drift, unapplied_drift), each expected minus stored."""
    wanted = None if customer_ids is None else sorted(set(customer_ids))

    def only(column: Any) -> Any:
        return column.in_(wanted) if wanted is not None else literal(True)

    invoices = (select(Invoice.customer_id.label("customer_id"), func.sum(Invoice.open_amount).label("i"),
                       NONE.label("o"), NONE.label("u"))
                .where(Invoice.open_amount != 0, only(Invoice.customer_id)).group_by(Invoice.customer_id))
    orders = (select(SalesOrder.customer_id, NONE, func.sum(open_line_value_sql()), NONE)
              .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
              .where(SalesOrder.status.in_(sorted(OPEN_ORDER_STATUSES)), only(SalesOrder.customer_id))
              .group_by(SalesOrder.customer_id))
    unapplied = (select(Payment.customer_id, NONE, NONE, func.sum(Payment.unapplied_amount))
                 .where(Payment.unapplied_amount != 0, only(Payment.customer_id)).group_by(Payment.customer_id))
    # what credit notes left as the customer's credit
    kept = (select(CreditNote.customer_id, NONE, NONE, func.sum(CreditNote.unapplied_amount))
            .where(CreditNote.unapplied_amount != 0, only(CreditNote.customer_id)).group_by(CreditNote.customer_id))
    stored = select(CustomerExposure.customer_id, -CustomerExposure.open_invoices, -CustomerExposure.open_orders,
                    -CustomerExposure.unapplied_credit).where(only(CustomerExposure.customer_id))
    both = union_all(invoices, orders, unapplied, kept, stored).subquery()
    drift = [func.sum(both.c.i), func.sum(both.c.o), func.sum(both.c.u)]
    # SQLite sums in binary floating point: tolerate noise far below a cent.
    return list(session.execute(
        select(both.c.customer_id, drift[0].label("invoices_drift"), drift[1].label("orders_drift"),
               drift[2].label("unapplied_drift"))
        .group_by(both.c.customer_id)
        .having(or_(*(func.abs(d) > Decimal("0.001") for d in drift)))
        .order_by(both.c.customer_id)
    ).all())


def _cents(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT)


def repair_exposure(session: Session) -> list[Any]:
    """Rebuild every drifted customer's figures from the documents; returns the drift found."""
    found = exposure_drift(session)
    for row in found:
        move_exposure(lock_exposure(session, row.customer_id), invoices=_cents(row.invoices_drift),
                      orders=_cents(row.orders_drift), unapplied=_cents(row.unapplied_drift))
    session.flush()
    return found
