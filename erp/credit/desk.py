"""The credit controller's desk: customers with their limit beside the model's suggestion,
and one customer's group-wide exposure broken down by company.

Read-only queries for the controller's pages (credit controllers and the CIO). The
exposure kept per customer (``customer_exposures``) is the group-wide figure every credit
check uses; the breakdown here adds up the same open invoices and open orders per company
from the documents, so the page shows where the exposure sits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.credit.exposure import CreditPolicy, open_line_value_sql
from erp.credit.releases import OrderBlockedAtShipment, confirmed_unreleased_orders
from erp.credit.models import (
    OPEN_ORDER_STATUSES,
    CreditLimit,
    CreditLimitSuggestion,
    CreditSuggestionRun,
    CustomerExposure,
    Invoice,
    InvoiceStatus,
    SalesOrder,
    SalesOrderLine,
    SalesOrderStatus,
)
from erp.db import page
from erp.errors import NotFound
from erp.masterdata.models import Company, Customer
from erp.messages import Message
from erp.search import contains_text

ZERO = Decimal("0")
DESK_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)
CUSTOMER_SORTS = {"code": Customer.code, "exposure": "exposure", "utilisation": "utilisation",
                  "limit": "credit_limit", "suggested": "suggested_limit"}


def customer_by_code(session: Session, actor: Actor, code: str) -> Customer:
    """A customer by its code (404 when there is none)."""
    actor.require_role(*DESK_ROLES, action="reading customers' credit")
    customer = session.scalars(select(Customer).where(Customer.code == code)).one_or_none()
    if customer is None:
        raise NotFound(Message("customer {code} not found", code=code))
    return customer


def _latest_run_id(session: Session) -> int | None:
    return session.scalar(select(CreditSuggestionRun.id).order_by(CreditSuggestionRun.as_of.desc(),
                                                                  CreditSuggestionRun.id.desc()).limit(1))


def customers_query(session: Session, policy: CreditPolicy, *, q: str | None = None,
                    only: str | None = None) -> Select[Any]:
    """Customers with their exposure, the limit in force (the starting limit where none was
    approved), utilisation, hold, and the latest run's suggestion. ``only``: ``over`` (above
    the limit), ``held`` (on credit hold), ``differs`` (suggestion differs from the limit)."""
    run_id = _latest_run_id(session)
    s = CreditLimitSuggestion
    has_credit_data = or_(s.statement_date.is_not(None), s.rating_grade.is_not(None), s.rating_score.is_not(None))
    suggestion = (select(s.customer_id, s.id.label("suggestion_id"), s.suggested_limit, s.risk_class, s.hold,
                         s.has_history, has_credit_data.label("has_credit_data"))
                  .where(s.run_id == run_id).subquery())
    exposure = func.coalesce(CustomerExposure.exposure, ZERO)
    limit = func.coalesce(CustomerExposure.credit_limit, literal(policy.starting_limit))
    utilisation = case((limit > 0, exposure / limit), else_=literal(None))
    query = (
        select(Customer.id, Customer.code, Customer.name_zh, Customer.name_en, Customer.blocked,
               func.coalesce(CustomerExposure.open_invoices, ZERO).label("open_invoices"),
               func.coalesce(CustomerExposure.open_orders, ZERO).label("open_orders"),
               exposure.label("exposure"), CustomerExposure.credit_limit.label("approved_limit"),
               limit.label("credit_limit"), utilisation.label("utilisation"),
               func.coalesce(CustomerExposure.on_hold, False).label("on_hold"),
               suggestion.c.suggestion_id, suggestion.c.suggested_limit, suggestion.c.risk_class,
               suggestion.c.hold.label("suggested_hold"), suggestion.c.has_history, suggestion.c.has_credit_data)
        .outerjoin(CustomerExposure, CustomerExposure.customer_id == Customer.id)
        .outerjoin(suggestion, suggestion.c.customer_id == Customer.id)
    )
    if q:
        query = query.where(contains_text(q, Customer.code, Customer.name_zh, Customer.name_en,
                                          cast(Customer.uscc, String)))
    if only == "over":
        query = query.where(exposure > limit)
    elif only == "held":
        query = query.where(func.coalesce(CustomerExposure.on_hold, False))
    elif only == "differs":
        query = query.where(suggestion.c.suggested_limit.is_not(None),
                            suggestion.c.suggested_limit != limit)
    return query


def customers(session: Session, actor: Actor, policy: CreditPolicy, *, q: str | None = None, only: str | None = None,
              sort: str = "utilisation", descending: bool = True, offset: int = 0, limit: int = 20
              ) -> tuple[list[Any], int]:
    """A page of ``customers_query``, sorted (utilisation, exposure, limit, suggestion or code)."""
    actor.require_role(*DESK_ROLES, action="reading customers' credit")
    query = customers_query(session, policy, q=q, only=only)
    column = CUSTOMER_SORTS.get(sort, "utilisation")
    key = query.selected_columns[column] if isinstance(column, str) else column
    order = key.desc().nulls_last() if descending else key.asc().nulls_last()
    return page(session, query.order_by(order, Customer.code), offset=offset, limit=limit)


@dataclass(frozen=True)
class CompanyExposure:
    company_id: int
    company_code: str
    company_name_zh: str
    company_name_en: str
    open_invoices: Decimal
    overdue: Decimal
    open_orders: Decimal
    blocked_orders: Decimal

    @property
    def exposure(self) -> Decimal:
        return self.open_invoices + self.open_orders


def exposure_by_company(session: Session, actor: Actor, customer_id: int, *, today: dt.date) -> list[CompanyExposure]:
    """Where a customer's group-wide exposure sits: per company its open invoices (of which
    overdue on ``today``), its open orders (confirmed, not yet shipped) and, apart, the value
    of orders blocked at confirmation (not part of the exposure until released). Order values
    include VAT, as the exposure's do (docs/credit.md, Exposure): the companies add up to it."""
    actor.require_role(*DESK_ROLES, action="reading customers' credit")
    open_invoice = Invoice.status.in_([InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID])
    invoices = (
        select(Invoice.company_id, func.sum(Invoice.open_amount).label("open_invoices"),
               func.sum(case((Invoice.due_date < today, Invoice.open_amount), else_=ZERO)).label("overdue"))
        .where(Invoice.customer_id == customer_id, open_invoice)
        .group_by(Invoice.company_id).subquery()
    )
    # What the customer will owe for each line still to ship, VAT included: the exposure's own
    # rule (erp.credit.exposure.open_line_value), so that the companies add up to it.
    open_value = open_line_value_sql()
    orders = (
        select(SalesOrder.company_id,
               func.sum(case((SalesOrder.status.in_(sorted(OPEN_ORDER_STATUSES)), open_value), else_=ZERO))
               .label("open_orders"),
               func.sum(case((SalesOrder.status == SalesOrderStatus.BLOCKED, open_value), else_=ZERO))
               .label("blocked_orders"))
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .where(SalesOrder.customer_id == customer_id,
               SalesOrder.status.in_(sorted(OPEN_ORDER_STATUSES | {SalesOrderStatus.BLOCKED})))
        .group_by(SalesOrder.company_id).subquery()
    )
    rows = session.execute(
        select(Company.id, Company.code, Company.name_zh, Company.name_en, invoices.c.open_invoices,
               invoices.c.overdue, orders.c.open_orders, orders.c.blocked_orders)
        .outerjoin(invoices, invoices.c.company_id == Company.id)
        .outerjoin(orders, orders.c.company_id == Company.id)
        .where(or_(invoices.c.company_id.is_not(None), orders.c.company_id.is_not(None)))
        .order_by(Company.code)
    ).all()
    cent = Decimal("0.01")
    return [CompanyExposure(r.id, r.code, r.name_zh, r.name_en, Decimal(r.open_invoices or 0).quantize(cent),
                            Decimal(r.overdue or 0).quantize(cent), Decimal(r.open_orders or 0).quantize(cent),
                            Decimal(r.blocked_orders or 0).quantize(cent)) for r in rows]


def customer_orders(session: Session, actor: Actor, customer_id: int) -> list[Any]:
    """The customer's open and blocked orders in every company, oldest first, with their
    open value (VAT included, as in the exposure) and credit state (blocked, released)."""
    actor.require_role(*DESK_ROLES, action="reading customers' credit")
    open_value = func.sum(open_line_value_sql())
    return list(session.execute(
        select(SalesOrder.id, SalesOrder.number, SalesOrder.order_date, SalesOrder.status,
               SalesOrder.credit_released, SalesOrder.credit_block_rule, Company.code.label("company_code"),
               Company.name_zh.label("company_name_zh"), Company.name_en.label("company_name_en"),
               open_value.label("open_value"))
        .join(Company, Company.id == SalesOrder.company_id)
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .where(SalesOrder.customer_id == customer_id,
               SalesOrder.status.in_(sorted(OPEN_ORDER_STATUSES | {SalesOrderStatus.BLOCKED})))
        .group_by(SalesOrder.id, SalesOrder.number, SalesOrder.order_date, SalesOrder.status,
                  SalesOrder.credit_released, SalesOrder.credit_block_rule, Company.code, Company.name_zh,
                  Company.name_en)
        .order_by(SalesOrder.order_date, SalesOrder.id)
    ).all())



@dataclass(frozen=True)
class LimitChange:
    """What a new limit does to the customer (read inside the savepoint of its dry run, so the
    figures are the service's own, erp.ui.pages.dry_run): the group-wide exposure, the limit in
    force before and the new one, the headroom after (negative: the customer is over the new
    limit by that much) and, when it is negative, the confirmed orders that could no longer ship
    (each marked whether the new limit is what holds it)."""

    exposure: Decimal
    limit_before: Decimal
    limit_after: Decimal
    on_hold_after: bool
    held_at_shipment: list[OrderBlockedAtShipment]

    @property
    def headroom_after(self) -> Decimal:
        return self.limit_after - self.exposure

    @property
    def cut_below_exposure(self) -> bool:
        return self.headroom_after < 0


def limit_change(session: Session, actor: Actor, customer_id: int, *, limit_before: Decimal) -> LimitChange:
    """The customer's position as a limit just set leaves it (``limits.set_credit_limit`` run
    first, in the same transaction), against ``limit_before`` (the limit in force before,
    the starting limit where none was approved)."""
    actor.require_role(*DESK_ROLES, action="reading customers' credit")
    position = session.scalars(select(CustomerExposure).where(CustomerExposure.customer_id == customer_id)
                               .execution_options(populate_existing=True)).one()
    limit_after = position.credit_limit if position.credit_limit is not None else limit_before
    held: list[OrderBlockedAtShipment] = []
    if position.exposure > limit_after:
        held = [OrderBlockedAtShipment(o.order_id, o.order_number, o.company_id, o.company_code, o.status,
                                       o.open_value, o.company_name_zh, o.company_name_en,
                                       newly_blocked=position.exposure <= limit_before)
                for o in confirmed_unreleased_orders(session, [customer_id]).get(customer_id, [])]
    return LimitChange(position.exposure, limit_before, limit_after, position.on_hold, held)


def limit_history(session: Session, actor: Actor, customer_id: int) -> list[Any]:
    """Every version of the customer's credit limit, newest first, with who set it (user name
    and display name), where its value came from (``source``) and why (a person's words or a
    narration, erp.narration, for the page to show in the reader's language)."""
    actor.require_role(*DESK_ROLES, action="reading credit limit history")
    return list(session.execute(
        select(CreditLimit.version, CreditLimit.credit_limit, CreditLimit.source, CreditLimit.suggestion_id,
               CreditLimit.reason, CreditLimit.set_at, User.username.label("set_by_username"),
               User.display_name.label("set_by_name"))
        .join(User, User.id == CreditLimit.set_by)
        .where(CreditLimit.customer_id == customer_id)
        .order_by(CreditLimit.version.desc())).all())
