"""What releasing an order held by credit control does to the customer's other orders.

A release confirms an order blocked at confirmation: its open value joins the customer's
group-wide exposure, above the limit if need be. A shipment moves an order's value from
open orders to open invoices and so adds nothing to the exposure (to the cent), which
means that once the exposure is above the limit, every confirmed order of the customer
that credit control has not released is refused at shipment ("this action 0.00"). The
controller is told so before releasing (the blocked-orders list) and in the release's
answer: the exposure after the release and which confirmed orders will then be blocked
at shipment, each marked whether the release is what blocks it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.credit.exposure import open_line_value_sql
from erp.credit.models import OPEN_ORDER_STATUSES, SalesOrder, SalesOrderLine, SalesOrderStatus
from erp.masterdata.models import Company

ZERO = Decimal("0")


@dataclass(frozen=True)
class OrderBlockedAtShipment:
    """A confirmed order that cannot ship while the customer stays above its limit."""

    order_id: int
    order_number: str
    company_id: int
    company_code: str
    status: SalesOrderStatus
    open_value: Decimal
    company_name_zh: str
    company_name_en: str
    # True when the order could ship before the release and cannot after it.
    newly_blocked: bool


@dataclass(frozen=True)
class ReleaseEffect:
    """The customer's position after releasing one order (CNY)."""

    exposure_before: Decimal
    exposure_after: Decimal
    credit_limit: Decimal
    above_limit_by: Decimal
    blocked_at_shipment: list[OrderBlockedAtShipment] = field(default_factory=list)


@dataclass(frozen=True)
class _ConfirmedOrder:
    order_id: int
    order_number: str
    company_id: int
    company_code: str
    status: SalesOrderStatus
    open_value: Decimal
    company_name_zh: str = ""
    company_name_en: str = ""


def confirmed_unreleased_orders(session: Session, customer_ids: Iterable[int]) -> dict[int, list[_ConfirmedOrder]]:
    """Per customer, its confirmed (or partly shipped) orders that credit control has not
    released, with their open value: the orders a shipment check can refuse. One query."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    open_value = func.sum(open_line_value_sql())
    rows = session.execute(
        select(SalesOrder.customer_id, SalesOrder.id, SalesOrder.number, SalesOrder.company_id, Company.code,
               SalesOrder.status, open_value, Company.name_zh, Company.name_en)
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .join(Company, Company.id == SalesOrder.company_id)
        .where(SalesOrder.customer_id.in_(wanted), SalesOrder.status.in_(sorted(OPEN_ORDER_STATUSES)),
               SalesOrder.credit_released.is_(False))
        .group_by(SalesOrder.customer_id, SalesOrder.id, SalesOrder.number, SalesOrder.company_id, Company.code,
                  SalesOrder.status, Company.name_zh, Company.name_en)
        .order_by(SalesOrder.id)
    ).all()
    found: dict[int, list[_ConfirmedOrder]] = defaultdict(list)
    for customer_id, order_id, number, company_id, company_code, status, value, name_zh, name_en in rows:
        found[customer_id].append(_ConfirmedOrder(order_id, number, company_id, company_code,
                                                  SalesOrderStatus(status), Decimal(value).quantize(Decimal("0.01")),
                                                  name_zh, name_en))
    return found


def effect_of_release(
    *, order_id: int, adds: Decimal, exposure: Decimal, credit_limit: Decimal,
    confirmed: Iterable[_ConfirmedOrder],
) -> ReleaseEffect:
    """The position after releasing ``order_id``, which adds ``adds`` to an exposure of
    ``exposure`` (its open value when it was blocked at confirmation, 0 when it was
    confirmed and only its shipment was held). ``confirmed`` are the customer's confirmed
    orders not released (``confirmed_unreleased_orders``); those other than the released
    one are blocked at shipment when the exposure after is above the limit."""
    after = exposure + adds
    blocked = [
        OrderBlockedAtShipment(o.order_id, o.order_number, o.company_id, o.company_code, o.status, o.open_value,
                               o.company_name_zh, o.company_name_en, newly_blocked=exposure <= credit_limit)
        for o in confirmed if o.order_id != order_id
    ] if after > credit_limit else []
    return ReleaseEffect(exposure, after, credit_limit, max(after - credit_limit, ZERO), blocked)
