"""Consolidated receivables: ageing by customer, company and segment as of a key date,
top customers by exposure, alerts, and the orders credit control is holding.

Every report is set-based: one aggregate over the open items, never a loop over
customers. The open items on a key date are the invoices dated by then at their open
amount today, plus what payments and credit notes applied after the key date took off them (so a report
as of an earlier date shows what was open then). Ageing buckets are by days past due on
the key date: not due (due on or after it), 1-30, 31-60, 61-90, over 90.

Every figure of a report is as of its key date. Exposure, limit, utilisation, holds and
the orders credit control held are the customer's group-wide position (``positions``):
on the business day the kept ``customer_exposures`` rows; on an earlier day rebuilt from
the documents as they stood at the end of that day (Beijing time): invoices dated by then
at what was open of them, confirmed orders less what had shipped by then, the limit
version and the hold in force then. Company users (sales, a company's cost accountant)
see only their companies' invoices; the group-wide views (dashboard, alerts, held orders)
are for credit controllers and the CIO.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Numeric, Select, and_, case, cast, false, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from erp.audit.models import AuditEvent
from erp.auth.roles import Actor, Role
from erp.clock import business_today
from erp.credit.exposure import HOLD_RULE, LIMIT_RULE, ZERO, CreditPolicy, open_line_value_sql
from erp.credit.models import (
    OPEN_ORDER_STATUSES,
    CreditLimit,
    CreditRelease,
    CustomerExposure,
    Invoice,
    ReceivableCustomerSnapshot,
    InvoiceLine,
    SalesOrder,
    SalesOrderLine,
    SalesOrderStatus,
)
from erp.credit.intercompany import group_customer_ids
from erp.credit import snapshots
from erp.credit.queries import paged, settled_since
from erp.credit.releases import ReleaseEffect, confirmed_unreleased_orders, effect_of_release
from erp.db import MONEY
from erp.money import CENT
from erp.masterdata.models import Company, Customer, Segment

SHARE_PLACES = Decimal("0.0001")  # utilisation, as the Numeric(12, 4) of the per-customer report
AGEING_BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
AMOUNTS = ("open_amount", "overdue", *AGEING_BUCKETS)
REPORT_ROLES = (Role.SALES, Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER, Role.CIO)
GROUP_VIEW_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)
# Beijing time: the group's business day (China keeps UTC+8 all year).
GROUP_TIME_ZONE = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# How a customer's credit hold is recorded in the audit trail (erp.credit.services, limits).
HOLD_ACTIONS = ("hold", "hold-lifted")


def open_items(
    session: Session, actor: Actor | None, as_of: dt.date, *, company_ids: Sequence[int] | None = None,
    customer_ids: Sequence[int] | None = None, detail: bool = False, intercompany: bool | None = False,
) -> Subquery:
    """(company_id, customer_id, due_date, amount) of every invoice open on ``as_of`` (and,
    with ``detail``, its invoice_id, reference and invoice_date; the aggregates leave them out so that
    they read the partial index of open invoices alone).

    Usually nothing has been paid after the key date (it is today), and the open amounts
    are the answer, read through the partial index of open invoices. Otherwise the
    invoices are joined to what was paid since, in one pass. Without an ``actor``, every
    company's invoices (a customer's group-wide position).

    Receivables from companies of the group (their customer records) are not the group's:
    they are left out, or, with ``intercompany``, are all there is; ``intercompany=None``
    keeps both (a group company's own exposure counts what it owes like any customer's)."""
    detail_columns = [Invoice.id.label("invoice_id"), Invoice.reference, Invoice.invoice_date] if detail else []
    paid_since = settled_since(session, as_of)
    if paid_since is None:
        query = (select(Invoice.company_id, Invoice.customer_id, Invoice.due_date,
                        Invoice.open_amount.label("amount"), *detail_columns)
                 .where(Invoice.open_amount > 0))
    else:
        query = (
            select(Invoice.company_id, Invoice.customer_id, Invoice.due_date,
                   (Invoice.open_amount + func.coalesce(paid_since.c.amount, ZERO)).label("amount"),
                   *detail_columns)
            .outerjoin(paid_since, paid_since.c.invoice_id == Invoice.id)
            .where(or_(Invoice.open_amount > 0, paid_since.c.invoice_id.is_not(None)))
        )
    query = query.where(Invoice.invoice_date <= as_of)
    if actor is not None:
        query = query.where(actor.company_scope(Invoice.company_id))
    if intercompany is not None:
        group_customer = Invoice.customer_id.in_(group_customer_ids())
        query = query.where(group_customer if intercompany else ~group_customer)
    if company_ids is not None:
        query = query.where(Invoice.company_id.in_(sorted(company_ids)))
    if customer_ids is not None:
        query = query.where(Invoice.customer_id.in_(sorted(customer_ids)))
    return query.subquery("open_items")


def ageing_columns(items: Subquery, as_of: dt.date) -> list[Any]:
    """Open amount, overdue and the five ageing buckets, summed over ``items``."""
    due, amount = items.c.due_date, items.c.amount

    def days_ago(days: int) -> dt.date:
        return as_of - dt.timedelta(days=days)

    def total(condition: Any, label: str) -> Any:
        return func.sum(case((condition, amount), else_=ZERO)).label(label)

    return [
        func.sum(amount).label("open_amount"),
        total(due < as_of, "overdue"),
        total(due >= as_of, "not_due"),
        total(and_(due < as_of, due >= days_ago(30)), "days_1_30"),
        total(and_(due < days_ago(30), due >= days_ago(60)), "days_31_60"),
        total(and_(due < days_ago(60), due >= days_ago(90)), "days_61_90"),
        total(due < days_ago(90), "over_90"),
    ]


def reports_today() -> dt.date:
    # The one place the reports read today's date (the business day: when the key date is
    # today or later the kept exposure rows are the answer).
    return business_today()


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the group's time zone (Beijing, UTC+8), in UTC:
    what was confirmed, cancelled, released or set before it stood on ``day``."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), GROUP_TIME_ZONE).astimezone(dt.UTC)


def order_values_as_of(as_of: dt.date) -> Subquery:
    """(order_id, customer_id, open_value) of every order confirmed and not cancelled at the
    end of ``as_of``: per line its quantity less what invoices dated by then shipped, times
    its price, to the cent, plus its VAT (as ``open_line_value``)."""
    end = end_of_day(as_of)
    shipped = (select(InvoiceLine.order_line_id, func.sum(InvoiceLine.quantity).label("quantity"))
               .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
               .where(InvoiceLine.order_line_id.is_not(None), Invoice.invoice_date <= as_of)
               .group_by(InvoiceLine.order_line_id).subquery("shipped_by"))
    open_quantity = SalesOrderLine.quantity - func.coalesce(shipped.c.quantity, ZERO)
    return (
        select(SalesOrder.id.label("order_id"), SalesOrder.customer_id,
               func.sum(open_line_value_sql(open_quantity)).label("open_value"))
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .outerjoin(shipped, shipped.c.order_line_id == SalesOrderLine.id)
        .where(SalesOrder.confirmed_at < end, or_(SalesOrder.cancelled_at.is_(None), SalesOrder.cancelled_at >= end))
        .group_by(SalesOrder.id, SalesOrder.customer_id)
        .subquery("orders_then")
    )


def positions(
    session: Session, policy: CreditPolicy, *, as_of: dt.date, today: dt.date | None = None, as_cte: bool = False,
) -> Any:
    """Every customer's group-wide credit position on ``as_of``: (customer_id, open_invoices,
    open_orders, exposure, credit_limit (the starting limit when none was approved),
    limit_approved, on_hold).

    On the business day or later: the kept ``customer_exposures`` rows (customers without
    one have none). Before it: rebuilt from the documents as they stood at the end of that
    day, for every customer: invoices dated by then at their open amount then; orders
    confirmed by then and not cancelled, less what invoices dated by then shipped; the
    latest limit version set by then; the latest hold or lift recorded by then (the audit
    trail of ``customer_credit``). One statement; no loop over customers. A past month end
    with a fresh snapshot of the positions (erp.credit.snapshots) reads them instead, as the
    same statement wrote them. ``as_cte``: a
    common table expression, for a statement that reads it more than once (PostgreSQL then
    computes it once)."""
    today = today or reports_today()
    if as_of < today and (run := snapshots.customer_snapshot_run(session, as_of)) is not None:
        return kept_positions(policy, run.month_end, as_cte=as_cte)
    if as_of >= today:
        current = select(
            CustomerExposure.customer_id, CustomerExposure.open_invoices, CustomerExposure.open_orders,
            CustomerExposure.exposure,
            func.coalesce(CustomerExposure.credit_limit, literal(policy.starting_limit, MONEY)).label("credit_limit"),
            CustomerExposure.credit_limit.is_not(None).label("limit_approved"), CustomerExposure.on_hold,
        )
        return current.cte("positions") if as_cte else current.subquery("positions")
    end = end_of_day(as_of)
    items = open_items(session, None, as_of, intercompany=None)
    invoiced = (select(items.c.customer_id, func.sum(items.c.amount).label("amount"))
                .group_by(items.c.customer_id).subquery("invoiced_then"))
    orders = order_values_as_of(as_of)
    ordered = (select(orders.c.customer_id, func.sum(orders.c.open_value).label("amount"))
               .group_by(orders.c.customer_id).subquery("ordered_then"))
    limit_rank = func.row_number().over(partition_by=CreditLimit.customer_id, order_by=CreditLimit.version.desc())
    ranked_limits = (select(CreditLimit.customer_id, CreditLimit.credit_limit, limit_rank.label("rank"))
                     .where(CreditLimit.set_at < end).subquery("limits_ranked"))
    limits_then = select(ranked_limits).where(ranked_limits.c.rank == 1).subquery("limit_then")
    hold_rank = func.row_number().over(partition_by=AuditEvent.entity_id, order_by=AuditEvent.id.desc())
    ranked_holds = (select(AuditEvent.entity_id.label("customer_id"), AuditEvent.action, hold_rank.label("rank"))
                    .where(AuditEvent.entity == "customer_credit", AuditEvent.action.in_(HOLD_ACTIONS),
                           AuditEvent.occurred_at < end).subquery("holds_ranked"))
    holds_then = select(ranked_holds).where(ranked_holds.c.rank == 1).subquery("hold_then")
    open_invoices = func.coalesce(invoiced.c.amount, ZERO)
    open_orders = func.coalesce(ordered.c.amount, ZERO)
    rebuilt = (
        select(Customer.id.label("customer_id"), open_invoices.label("open_invoices"),
               open_orders.label("open_orders"), (open_invoices + open_orders).label("exposure"),
               func.coalesce(limits_then.c.credit_limit, literal(policy.starting_limit, MONEY)).label("credit_limit"),
               limits_then.c.credit_limit.is_not(None).label("limit_approved"),
               func.coalesce(holds_then.c.action == "hold", false()).label("on_hold"))
        .outerjoin(invoiced, invoiced.c.customer_id == Customer.id)
        .outerjoin(ordered, ordered.c.customer_id == Customer.id)
        .outerjoin(limits_then, limits_then.c.customer_id == Customer.id)
        .outerjoin(holds_then, holds_then.c.customer_id == Customer.id)
    )
    return rebuilt.cte("positions") if as_cte else rebuilt.subquery("positions")


def kept_positions(policy: CreditPolicy, month_end: dt.date, *, as_cte: bool = False) -> Any:
    """``positions`` of a month end as its snapshot kept them (erp.credit.snapshots): the
    same columns, read; the starting limit of today's policy where none was approved."""
    kept = ReceivableCustomerSnapshot
    stored = select(
        kept.customer_id, kept.open_invoices, kept.open_orders, kept.exposure,
        func.coalesce(kept.approved_limit, literal(policy.starting_limit, MONEY)).label("credit_limit"),
        kept.approved_limit.is_not(None).label("limit_approved"), kept.on_hold,
    ).where(kept.month_end == month_end)
    return stored.cte("positions") if as_cte else stored.subquery("positions")


def credit_columns(position: Subquery, policy: CreditPolicy) -> list[Any]:
    """A customer's credit figures beside its ageing, from an outer-joined ``positions``."""
    limit = func.coalesce(position.c.credit_limit, literal(policy.starting_limit, MONEY))
    exposure = func.coalesce(position.c.exposure, ZERO)
    return [
        exposure.label("exposure"), limit.label("credit_limit"),
        func.coalesce(position.c.limit_approved, false()).label("limit_approved"),
        cast(exposure / func.nullif(limit, 0), Numeric(12, 4)).label("utilisation"),
        func.coalesce(position.c.on_hold, false()).label("on_hold"),
    ]


def _effective_limit(policy: CreditPolicy) -> Any:
    return func.coalesce(CustomerExposure.credit_limit, literal(policy.starting_limit, MONEY))


def _companies_in_segment(session: Session, segment_id: int) -> list[int]:
    return list(session.scalars(select(Company.id).where(Company.segment_id == segment_id)))


def receivables_by_customer(
    session: Session, actor: Actor, *, as_of: dt.date, policy: CreditPolicy, company_id: int | None = None,
    segment_id: int | None = None, customer_id: int | None = None, offset: int = 0, limit: int | None = 50,
    today: dt.date | None = None,
) -> tuple[list[Any], int]:
    """Per customer: open, overdue and ageing buckets as of the key date, with its limit,
    group-wide exposure and utilisation on that date; largest open amount first."""
    query = receivables_by_customer_query(session, actor, as_of=as_of, policy=policy, company_id=company_id,
                                          segment_id=segment_id, customer_id=customer_id, today=today)
    return paged(session, query, offset=offset, limit=limit)


def receivables_by_customer_query(
    session: Session, actor: Actor, *, as_of: dt.date, policy: CreditPolicy, company_id: int | None = None,
    segment_id: int | None = None, customer_id: int | None = None, today: dt.date | None = None,
) -> Select[Any]:
    """The query behind ``receivables_by_customer`` (exports stream it)."""
    actor.require_role(*REPORT_ROLES, action="reading receivables")
    company_ids: list[int] | None = None
    if company_id is not None:
        company_ids = [company_id]
    if segment_id is not None:
        in_segment = _companies_in_segment(session, segment_id)
        company_ids = in_segment if company_ids is None else [c for c in company_ids if c in in_segment]
    items = open_items(session, actor, as_of, company_ids=company_ids,
                       customer_ids=None if customer_id is None else [customer_id])
    per_customer = select(items.c.customer_id, *ageing_columns(items, as_of)).group_by(items.c.customer_id).subquery()
    position = positions(session, policy, as_of=as_of, today=today)
    return (
        select(per_customer, Customer.code.label("customer_code"), Customer.name_zh.label("customer_name_zh"),
               Customer.name_en.label("customer_name_en"), Customer.uscc.label("customer_uscc"),
               *credit_columns(position, policy))
        .join(Customer, Customer.id == per_customer.c.customer_id)
        .outerjoin(position, position.c.customer_id == per_customer.c.customer_id)
        .order_by(per_customer.c.open_amount.desc(), Customer.code)
    )


def open_items_ageing_query(
    session: Session, actor: Actor, *, as_of: dt.date, company_id: int | None = None,
) -> Select[Any]:
    """Every invoice open on the key date with its days past due and ageing bucket, and the
    number of the sales order it invoiced (None without one), by company, customer and due
    date: the detail under the ageing report."""
    actor.require_role(*REPORT_ROLES, action="reading receivables")
    items = open_items(session, actor, as_of, company_ids=None if company_id is None else [company_id], detail=True)
    due = items.c.due_date

    def days_ago(days: int) -> dt.date:
        return as_of - dt.timedelta(days=days)

    bucket = case((due >= as_of, "not_due"), (due >= days_ago(30), "days_1_30"), (due >= days_ago(60), "days_31_60"),
                  (due >= days_ago(90), "days_61_90"), else_="over_90")
    return (
        select(Company.code.label("company_code"), Customer.code.label("customer_code"),
               Customer.name_zh.label("customer_name_zh"), items.c.invoice_id, items.c.reference, items.c.invoice_date,
               due,
               items.c.amount.label("open_amount"), bucket.label("bucket"), SalesOrder.number.label("order_number"),
               Invoice.document_number)
        .join(Company, Company.id == items.c.company_id)
        .join(Customer, Customer.id == items.c.customer_id)
        .join(Invoice, Invoice.id == items.c.invoice_id)
        .outerjoin(SalesOrder, SalesOrder.id == Invoice.order_id)
        .where(items.c.amount > 0)
        .order_by(Company.code, Customer.code, due, items.c.invoice_id)
    )


def company_ageing(session: Session, as_of: dt.date, *, company_scope: Any = None) -> Any:
    """(company_id, open_amount, overdue, not_due, days_1_30, days_31_60, days_61_90,
    over_90, intercompany_open) as of ``as_of``, every company with receivables then: one
    pass over the open items (``receivables.open_items``), the group's receivables and the
    intercompany ones told apart by the customer (companies of the group are customers too).
    The query behind ``receivables_by_company`` and every month-end snapshot
    (erp.credit.snapshots)."""
    items = open_items(session, None, as_of, intercompany=None)
    intercompany = items.c.customer_id.in_(group_customer_ids())
    # the group's receivables: the items of customers that are not companies of the group
    outside = (select(items.c.company_id, items.c.due_date,
                      case((intercompany, ZERO), else_=items.c.amount).label("amount"),
                      case((intercompany, items.c.amount), else_=ZERO).label("intercompany"))
               .select_from(items))
    if company_scope is not None:
        outside = outside.where(company_scope(items.c.company_id))
    rows = outside.subquery("company_items")
    return (select(rows.c.company_id, *ageing_columns(rows, as_of), func.sum(rows.c.intercompany)
                   .label("intercompany_open"))
            .group_by(rows.c.company_id))


@dataclass(frozen=True)
class CompanyReceivables:
    """One company's receivables on a key date, with its segment."""

    company_id: int
    company_code: str
    company_name_zh: str
    company_name_en: str
    segment_id: int
    segment_code: str
    open_amount: Decimal
    overdue: Decimal
    not_due: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal
    intercompany_open: Decimal
    segment_name_zh: str = ""
    segment_name_en: str = ""


def receivables_by_company(
    session: Session, actor: Actor, *, as_of: dt.date, today: dt.date | None = None,
) -> list[CompanyReceivables]:
    """Per company (with its segment): open, overdue and ageing buckets as of the key date,
    and what companies of the group owed it then (in its own books, not in the group's).

    One pass over the open items (``company_ageing``); for a month end before
    today with a fresh month-end snapshot, the snapshot's rows, which that same statement
    wrote (erp.credit.snapshots)."""
    actor.require_role(*REPORT_ROLES, action="reading receivables")
    figures = None
    if as_of < (today or reports_today()) and as_of == snapshots.month_end_of(as_of):
        figures = snapshots.snapshot_by_company(session, actor, as_of)
    if figures is None:
        figures = session.execute(company_ageing(session, as_of, company_scope=actor.company_scope)).all()
    by_id = {row.company_id: row for row in figures}
    if not by_id:
        return []
    names = session.execute(
        select(Company.id, Company.code, Company.name_zh, Company.name_en, Segment.id.label("segment_id"),
               Segment.code.label("segment_code"), Segment.name_zh.label("segment_name_zh"),
               Segment.name_en.label("segment_name_en"))
        .join(Segment, Segment.id == Company.segment_id)
        .where(Company.id.in_(sorted(by_id))).order_by(Company.code)).all()
    return [CompanyReceivables(
        company_id=name.id, company_code=name.code, company_name_zh=name.name_zh, company_name_en=name.name_en,
        segment_id=name.segment_id, segment_code=name.segment_code, segment_name_zh=name.segment_name_zh,
        segment_name_en=name.segment_name_en,
        **{figure: Decimal(getattr(by_id[name.id], figure) or ZERO).quantize(CENT)
           for figure in (*AMOUNTS, "intercompany_open")},
    ) for name in names]


def roll_up_segments(companies: Sequence[Any]) -> list[dict[str, Any]]:
    """Segment totals from the company rows (a segment is the sum of its companies)."""
    segments: dict[int, dict[str, Any]] = {}
    for row in companies:
        segment = segments.setdefault(row.segment_id, {
            "segment_id": row.segment_id, "segment_code": row.segment_code,
            "segment_name_zh": getattr(row, "segment_name_zh", ""), "segment_name_en": getattr(row, "segment_name_en", ""),
            "companies": 0,
            **dict.fromkeys(AMOUNTS, ZERO), "intercompany_open": ZERO,
        })
        segment["companies"] += 1
        for name in (*AMOUNTS, "intercompany_open"):
            segment[name] += getattr(row, name)
    return sorted(segments.values(), key=lambda s: s["segment_code"])


def receivables_by_segment(session: Session, actor: Actor, *, as_of: dt.date) -> list[dict[str, Any]]:
    """Per segment: open, overdue and ageing buckets as of the key date."""
    return roll_up_segments(receivables_by_company(session, actor, as_of=as_of))


# --- the group-wide views ------------------------------------------------------------------

@dataclass(frozen=True)
class PositionFigures:
    """What the group views read from every customer's position on a key date."""

    leaders: list[Any]  # the largest exposures: customer_id, exposure, credit_limit, limit_approved, on_hold
    over_limit: list[Any]  # the largest excesses: customer_id, customer_code and names, exposure, credit_limit, excess
    over_limit_count: int
    on_hold_count: int
    held_orders_count: int


def position_figures(
    session: Session, policy: CreditPolicy, *, as_of: dt.date, top: int, today: dt.date | None = None,
) -> PositionFigures:
    """From every customer's position on the key date (``positions``): the ``top`` largest
    exposures (companies of the group left out), the ``top`` customers furthest over their
    limit and how many are, how many are on hold, and how many orders credit control held.
    One statement over one ``positions`` (a common table expression, computed once): a
    past day's positions, rebuilt from the documents, are the costly part of the dashboard."""
    today = today or reports_today()
    shared = positions(session, policy, as_of=as_of, today=today, as_cte=True)
    run = snapshots.customer_snapshot_run(session, as_of) if as_of < today else None
    if run is not None:  # counted when the month end's snapshot was taken
        held_count: Any = select(literal(run.held_orders))
    else:
        held_then = _held_orders_query(policy) if as_of >= today else held_orders_as_of(shared, as_of)
        held_count = select(func.count()).select_from(held_then.subquery())
    kept = (shared.c.customer_id, shared.c.exposure, shared.c.credit_limit, shared.c.limit_approved, shared.c.on_hold)
    excess = shared.c.exposure - shared.c.credit_limit
    leaders = (select(*kept, literal(0).label("total"))
               .where(shared.c.exposure > 0, shared.c.customer_id.not_in(group_customer_ids()))
               .order_by(shared.c.exposure.desc(), shared.c.customer_id).limit(top).subquery("leaders"))
    over = (select(*kept, func.count().over().label("total"))
            .where(shared.c.exposure > shared.c.credit_limit)
            .order_by(excess.desc(), shared.c.customer_id).limit(top).subquery("over_limit"))

    def counted(kind: str, query: Any) -> Any:
        return select(literal(kind).label("kind"), *(null() for _ in kept), query.scalar_subquery())

    rows = session.execute(union_all(
        select(literal("top").label("kind"), *leaders.c), select(literal("over").label("kind"), *over.c),
        counted("on_hold", select(func.count()).select_from(shared).where(shared.c.on_hold)),
        counted("held", held_count),
    )).all()
    by_kind: dict[str, list[Any]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    over_rows = by_kind.get("over", [])
    names = {row.id: row for row in session.execute(
        select(Customer.id, Customer.code, Customer.name_zh, Customer.name_en)
        .where(Customer.id.in_([row.customer_id for row in over_rows])))} if over_rows else {}
    over_limit = sorted((OverLimit(row.customer_id, names[row.customer_id].code, Decimal(row.exposure).quantize(CENT),
                                   Decimal(row.credit_limit).quantize(CENT),
                                   Decimal(row.exposure - row.credit_limit).quantize(CENT),
                                   names[row.customer_id].name_zh, names[row.customer_id].name_en)
                         for row in over_rows),
                        key=lambda o: (-o.excess, o.customer_id))
    return PositionFigures(
        leaders=sorted(by_kind.get("top", []), key=lambda row: (-row.exposure, row.customer_id)),
        over_limit=over_limit, over_limit_count=over_rows[0].total if over_rows else 0,
        on_hold_count=by_kind["on_hold"][0].total or 0, held_orders_count=by_kind["held"][0].total or 0)


def _kept_ageing(session: Session, actor: Actor, as_of: dt.date, today: dt.date | None) -> Subquery | None:
    """Each customer's ageing as the month end's snapshot kept it (customer_id and
    ``AMOUNTS``), for a caller who sees every company; None when there is none to read."""
    if not actor.group_wide or as_of >= (today or reports_today()):
        return None
    run = snapshots.customer_snapshot_run(session, as_of)
    if run is None:
        return None
    kept = ReceivableCustomerSnapshot
    return (select(kept.customer_id, *(getattr(kept, name).label(name) for name in AMOUNTS))
            .where(kept.month_end == run.month_end).subquery("kept_ageing"))


@dataclass(frozen=True)
class OverLimit:
    """A customer over its credit limit on the key date."""

    customer_id: int
    customer_code: str
    exposure: Decimal
    credit_limit: Decimal
    excess: Decimal
    customer_name_zh: str = ""
    customer_name_en: str = ""


def top_customers(
    session: Session, actor: Actor, *, as_of: dt.date, policy: CreditPolicy, top: int = 100,
    today: dt.date | None = None, figures: PositionFigures | None = None,
) -> list[TopCustomer]:
    """The customers with the largest group-wide exposure on the key date, with their ageing
    then: the leaders from the positions (``position_figures``, or the caller's), then only
    the leaders' ageing."""
    actor.require_role(*GROUP_VIEW_ROLES, action="reading the group's top customers")
    if figures is None:
        figures = position_figures(session, policy, as_of=as_of, top=top, today=today)
    leaders = figures.leaders
    if not leaders:
        return []
    ids = [row.customer_id for row in leaders]
    ageing = _kept_ageing(session, actor, as_of, today)
    if ageing is None:
        items = open_items(session, actor, as_of, customer_ids=ids)
        ageing = select(items.c.customer_id, *ageing_columns(items, as_of)).group_by(items.c.customer_id).subquery()
    named = {row.customer_id: row for row in session.execute(
        select(Customer.id.label("customer_id"), Customer.code, Customer.name_zh, Customer.name_en,
               *(func.coalesce(ageing.c[name], ZERO).label(name) for name in AMOUNTS))
        .outerjoin(ageing, ageing.c.customer_id == Customer.id)
        .where(Customer.id.in_(ids)))}
    return [TopCustomer(
        customer_id=leader.customer_id, customer_code=named[leader.customer_id].code,
        customer_name_zh=named[leader.customer_id].name_zh, customer_name_en=named[leader.customer_id].name_en,
        **{name: Decimal(getattr(named[leader.customer_id], name)).quantize(CENT) for name in AMOUNTS},
        exposure=Decimal(leader.exposure).quantize(CENT), credit_limit=Decimal(leader.credit_limit).quantize(CENT),
        limit_approved=bool(leader.limit_approved), on_hold=bool(leader.on_hold),
        utilisation=None if leader.credit_limit == 0 else (Decimal(leader.exposure) / Decimal(leader.credit_limit))
        .quantize(SHARE_PLACES, ROUND_HALF_UP),
    ) for leader in leaders]


@dataclass(frozen=True)
class TopCustomer:
    """A customer among the largest exposures on the key date, with its ageing then."""

    customer_id: int
    customer_code: str
    customer_name_zh: str
    customer_name_en: str
    open_amount: Decimal
    overdue: Decimal
    not_due: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal
    exposure: Decimal
    credit_limit: Decimal
    limit_approved: bool
    utilisation: Decimal | None
    on_hold: bool


@dataclass
class Alerts:
    over_limit_count: int = 0
    over_limit: list[Any] = field(default_factory=list)
    over_90_count: int = 0
    over_90: list[Any] = field(default_factory=list)
    on_hold_count: int = 0
    blocked_orders_count: int = 0


def alerts(
    session: Session, actor: Actor, *, as_of: dt.date, policy: CreditPolicy, top: int = 100,
    today: dt.date | None = None, figures: PositionFigures | None = None,
) -> Alerts:
    """Customers over their limit, customers with amounts more than 90 days past due, and
    how many customers are on hold and orders held by credit control (the largest first),
    all on the key date. Two statements: the positions' figures (``position_figures``,
    unless the caller has them) and the ageing over 90 days."""
    actor.require_role(*GROUP_VIEW_ROLES, action="reading credit alerts")
    if figures is None:
        figures = position_figures(session, policy, as_of=as_of, top=top, today=today)
    kept = _kept_ageing(session, actor, as_of, today)
    if kept is not None:
        leaders = (select(kept.c.customer_id, kept.c.over_90, func.count().over().label("total_rows"))
                   .where(kept.c.over_90 > 0)
                   .order_by(kept.c.over_90.desc(), kept.c.customer_id).limit(top).subquery("late"))
    else:
        items = open_items(session, actor, as_of)
        overdue_90 = func.sum(items.c.amount).label("over_90")
        # grouped by customer id alone; only the leaders are joined to their codes
        leaders = (select(items.c.customer_id, overdue_90, func.count().over().label("total_rows"))
                   .where(items.c.due_date < as_of - dt.timedelta(days=90))
                   .group_by(items.c.customer_id)
                   .order_by(overdue_90.desc(), items.c.customer_id).limit(top).subquery("late"))
    late = session.execute(
        select(leaders.c.customer_id, Customer.code.label("customer_code"), Customer.name_zh.label("customer_name_zh"),
               Customer.name_en.label("customer_name_en"), leaders.c.over_90, leaders.c.total_rows)
        .join(Customer, Customer.id == leaders.c.customer_id)
        .order_by(leaders.c.over_90.desc(), leaders.c.customer_id)
    ).all()
    return Alerts(over_limit_count=figures.over_limit_count, over_limit=list(figures.over_limit),
                  over_90_count=late[0].total_rows if late else 0, over_90=list(late),
                  on_hold_count=figures.on_hold_count, blocked_orders_count=figures.held_orders_count)


@dataclass
class Dashboard:
    as_of: dt.date
    totals: dict[str, Decimal]
    by_segment: list[dict[str, Any]]
    by_company: list[Any]
    top_customers: list[Any]
    alerts: Alerts


def dashboard(
    session: Session, actor: Actor, *, as_of: dt.date, policy: CreditPolicy, top: int = 100,
    today: dt.date | None = None,
) -> Dashboard:
    """The CIO's consolidated receivables: group totals, by segment and company, the top
    customers by exposure, and alerts, every figure as of the same key date."""
    actor.require_role(*GROUP_VIEW_ROLES, action="reading the receivables dashboard")
    today = today or reports_today()
    companies = receivables_by_company(session, actor, as_of=as_of, today=today)
    segments = roll_up_segments(companies)
    totals = {name: sum((s[name] for s in segments), ZERO) for name in (*AMOUNTS, "intercompany_open")}
    # every customer's position on the key date is read (on a past day: rebuilt) once
    figures = position_figures(session, policy, as_of=as_of, top=top, today=today)
    return Dashboard(as_of, totals, segments, companies,
                     top_customers(session, actor, as_of=as_of, policy=policy, top=top, today=today, figures=figures),
                     alerts(session, actor, as_of=as_of, policy=policy, top=top, today=today, figures=figures))


# --- orders held by credit control -------------------------------------------------------------

def _held_orders_query(policy: CreditPolicy) -> Select[Any]:
    """Orders blocked at confirmation, and confirmed orders that cannot ship because their
    customer is on hold, or over the limit without a release for the order."""
    on_hold = or_(func.coalesce(CustomerExposure.on_hold, false()), Customer.blocked)
    over_limit = func.coalesce(CustomerExposure.exposure, ZERO) > _effective_limit(policy)
    is_blocked = SalesOrder.status == SalesOrderStatus.BLOCKED
    open_value = (select(SalesOrderLine.order_id, func.sum(open_line_value_sql()).label("open_value"))
                  .group_by(SalesOrderLine.order_id).subquery())
    return (
        select(SalesOrder.id.label("order_id"), SalesOrder.number.label("order_number"), SalesOrder.company_id,
               Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
               Company.name_en.label("company_name_en"), SalesOrder.customer_id, Customer.code.label("customer_code"),
               Customer.name_zh.label("customer_name_zh"), Customer.name_en.label("customer_name_en"),
               SalesOrder.status,
               SalesOrder.order_date, open_value.c.open_value,
               case((is_blocked, literal("confirmation")), else_=literal("shipment")).label("stage"),
               case((is_blocked, func.coalesce(SalesOrder.credit_block_rule, LIMIT_RULE)),
                    (on_hold, literal(HOLD_RULE)), else_=literal(LIMIT_RULE)).label("rule"),
               SalesOrder.credit_blocked_at, func.coalesce(CustomerExposure.exposure, ZERO).label("exposure"),
               _effective_limit(policy).label("credit_limit"), on_hold.label("customer_on_hold"))
        .join(Company, Company.id == SalesOrder.company_id)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .join(open_value, open_value.c.order_id == SalesOrder.id)
        .outerjoin(CustomerExposure, CustomerExposure.customer_id == SalesOrder.customer_id)
        .where(or_(is_blocked, and_(SalesOrder.status.in_(sorted(OPEN_ORDER_STATUSES)),
                                    or_(on_hold, and_(SalesOrder.credit_released.is_(False), over_limit)))))
    )


def held_orders_as_of(position: Subquery, as_of: dt.date) -> Select[Any]:
    """The orders credit control held at the end of a past day: blocked by then and neither
    confirmed nor cancelled by then; or confirmed, with something still to ship then, not
    released by then, of a customer then on hold or above its limit (``positions``)."""
    end = end_of_day(as_of)
    not_cancelled = or_(SalesOrder.cancelled_at.is_(None), SalesOrder.cancelled_at >= end)
    blocked = (select(SalesOrder.id.label("order_id"))
               .where(SalesOrder.credit_blocked_at < end, not_cancelled,
                      or_(SalesOrder.confirmed_at.is_(None), SalesOrder.confirmed_at >= end)))
    orders = order_values_as_of(as_of)
    released = select(CreditRelease.order_id).where(CreditRelease.released_at < end)
    unshippable = (select(orders.c.order_id)
                   .join(position, position.c.customer_id == orders.c.customer_id)
                   .where(orders.c.open_value > 0, orders.c.order_id.not_in(released),
                          or_(position.c.on_hold, position.c.exposure > position.c.credit_limit)))
    return blocked.union_all(unshippable)


def held_orders(
    session: Session, actor: Actor, *, policy: CreditPolicy, offset: int = 0, limit: int = 50
) -> tuple[list[HeldOrder], int]:
    """The orders credit control is holding, for controllers to release (oldest first)."""
    actor.require_role(*GROUP_VIEW_ROLES, action="reading orders held by credit control")
    query = _held_orders_query(policy).order_by(SalesOrder.order_date, SalesOrder.id)
    rows, total = paged(session, query, offset=offset, limit=limit)
    return _with_release_effects(session, rows), total


@dataclass(frozen=True)
class HeldOrder:
    """An order credit control holds, and what releasing it would do."""

    order_id: int
    order_number: str
    company_id: int
    company_code: str
    company_name_zh: str
    company_name_en: str
    customer_id: int
    customer_code: str
    customer_name_zh: str
    customer_name_en: str
    status: SalesOrderStatus
    order_date: dt.date
    open_value: Decimal
    stage: str
    rule: str
    credit_blocked_at: dt.datetime | None
    exposure: Decimal
    credit_limit: Decimal
    customer_on_hold: bool
    release_effect: ReleaseEffect | None


def _with_release_effects(session: Session, rows: Sequence[Any]) -> list[HeldOrder]:
    """Each held order with what releasing it would do (``erp.credit.releases``): the
    exposure after release and the confirmed orders then blocked at shipment. One more
    query for the page's customers. Orders of customers on hold get none: a hold is lifted,
    not released order by order."""
    confirmed = confirmed_unreleased_orders(session, (row.customer_id for row in rows))
    held: list[HeldOrder] = []
    for row in rows:
        # A customer on hold is not released order by order: there is no release to foresee.
        effect = None if row.customer_on_hold else effect_of_release(
            order_id=row.order_id, adds=row.open_value if row.stage == "confirmation" else ZERO,
            exposure=row.exposure, credit_limit=row.credit_limit, confirmed=confirmed.get(row.customer_id, []))
        columns = {name: row._mapping[name] for name in HeldOrder.__dataclass_fields__ if name != "release_effect"}
        held.append(HeldOrder(**columns, release_effect=effect))
    return held

