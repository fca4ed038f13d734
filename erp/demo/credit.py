"""Demo receivables: three distribution companies selling trade goods to six customers over
the last four months and this one, through the same services the API uses.

Stock comes in as counted stock (positive count adjustments at standard), orders are
confirmed under the credit check and shipped (invoices due after each customer's terms),
older invoices are paid (some on time, some late, one overpaid), one customer's tight
limit blocks its last order, and the limit model runs at the end.

Dates follow ``today`` like the rest of the demo. Nothing is posted into a period that is
closed, or earlier than a closed one, for the company: the companies chosen are the
distribution companies without closed periods where there are any, and months up to a
company's last closed period are skipped. Standard prices are set only where none exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.clock import business_today
from erp.auth.models import User, UserCompany
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.costing.models import AccountingPeriod, PeriodStatus, StandardPrice
from erp.costing.standards import PriceChange, set_standard_prices
from erp.credit import limits, profiles, services
from erp.credit.exposure import CreditPolicy
from erp.credit.models import Invoice, SalesOrderStatus
from erp.credit.opening import OpeningReceivable, take_over_receivables
from erp.credit.profiles import CreditData
from erp.credit.scorecard import CustomerType
from erp.posting.stock import find_or_create_batch
from erp.inventory.services import AdjustmentKind, adjust_stock
from erp.masterdata.models import Company, Customer, Material, Segment, Warehouse
from erp.period import Period

CUSTOMERS = ("K0005", "K0006", "K0007", "K0013", "K0014", "K0015")
# material: (standard price, selling price) per box
GOODS = {"TRD-MASK": ("18.50", "25.00"), "TRD-GAUZE": ("6.20", "9.50"), "TRD-GLUCS": ("42.00", "58.00")}
HISTORY_MONTHS = 4
# Days after (or before) the due date each paid invoice is paid, in turn.
LATENESS = (-3, 0, 12, 35)
POLICY = CreditPolicy()
D = Decimal


def _months_back(first_of_month: dt.date, months: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _actor(session: Session, username: str) -> Actor:
    return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def _distribution_companies(session: Session) -> list[tuple[Company, str | None]]:
    """Three distribution companies, those without closed periods first, with each one's
    last closed period (None when none)."""
    last_closed = (select(AccountingPeriod.company_id, func.max(AccountingPeriod.period).label("period"))
                   .where(AccountingPeriod.status == PeriodStatus.CLOSED)
                   .group_by(AccountingPeriod.company_id).subquery())
    rows = session.execute(
        select(Company, last_closed.c.period)
        .join(Segment, Segment.id == Company.segment_id)
        .outerjoin(last_closed, last_closed.c.company_id == Company.id)
        .where(Segment.code == "DIST")
        .order_by(last_closed.c.period.is_not(None), Company.code)
        .limit(3)
    ).all()
    return [(company, period) for company, period in rows]


def _sales_users(session: Session, companies: list[Company]) -> tuple[dict[int, Actor], list[tuple[str, str]]]:
    """A sales user per company (sales.dist01 exists; the others are added): the actors, and
    (username, company code) of the users added."""
    template = session.scalars(select(User).where(User.username == "sales.dist01")).one()
    added = []
    for company in companies:
        name = f"sales.{company.code.lower()}"
        if session.scalar(select(User.id).where(User.username == name)) is None:
            session.add(User(username=name, display_name=name, password_hash=template.password_hash,
                             role=Role.SALES, group_wide=False, companies=[UserCompany(company_id=company.id)]))
            added.append((name, company.code))
    session.flush()
    return {company.id: _actor(session, f"sales.{company.code.lower()}") for company in companies}, added


def _stock(session: Session, company: Company, materials: dict[str, Material], periods: list[str],
           day: dt.date) -> None:
    """Standard prices where missing, and 5,000 counted boxes of each good on ``day``."""
    cost = _actor(session, "cost.group")
    for period in periods:
        priced = set(session.scalars(select(StandardPrice.material_id).where(
            StandardPrice.company_id == company.id, StandardPrice.period == period)))
        missing = [PriceChange(materials[code].id, D(standard)) for code, (standard, _) in GOODS.items()
                   if materials[code].id not in priced]
        if missing:
            set_standard_prices(session, cost, company_id=company.id, period=period, prices=missing)
    store = session.scalars(select(Warehouse).where(Warehouse.code == f"{company.code}-AMB")).one()
    for code in GOODS:
        batch_id, _, _ = find_or_create_batch(
            session, material_id=materials[code].id, batch_number=f"{code[4:]}{day:%y%m%d}{company.code[-2:]}",
            manufacture_date=day - dt.timedelta(days=60), expiry_date=day + dt.timedelta(days=3 * 365),
            supplier_id=None)
        adjust_stock(session, cost, warehouse_id=store.id, material_id=materials[code].id, quantity=D("5000"),
                     posting_date=day, kind=AdjustmentKind.COUNT, reason="上线期初盘点入库",
                     batch_id=batch_id)


# Receivables the first company's old system still had open at go-live: (customer, days
# before go-live invoiced, amount owed). K0014 will never pay them; K0015 pays late.
OLD_RECEIVABLES = (("K0014", 150, "48000.00"), ("K0014", 120, "36500.00"), ("K0014", 95, "22000.00"),
                   ("K0015", 70, "30000.00"), ("K0015", 40, "18000.00"))


def _take_over_old_receivables(session: Session, credit: Actor, company: Company, customers: dict[str, Customer],
                               go_live: dt.date) -> list[Invoice]:
    """The first company's open invoices of its old system, taken over on its go-live day
    (the first day of the demo's history), so that the ageing, the over-90-days alert and
    the limit model's backtest have a customer that stopped paying."""
    items = [OpeningReceivable(customers[code].id, f"OLD-{code}-{number}", go_live - dt.timedelta(days=days),
                               go_live - dt.timedelta(days=days - customers[code].payment_terms_days), D(amount))
             for number, (code, days, amount) in enumerate(OLD_RECEIVABLES, start=1)]
    ids = take_over_receivables(session, credit, company_id=company.id, go_live_date=go_live, items=items,
                                memo="旧系统未结发票，上线时转入")
    return list(session.scalars(select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)))


def _sell(
    session: Session, sales: Actor, company: Company, customer: Customer, materials: dict[str, Material],
    order_date: dt.date, quantities: dict[str, int], *, ship: str, ship_on: dt.date,
) -> Invoice | None:
    store = session.scalars(select(Warehouse).where(Warehouse.code == f"{company.code}-AMB")).one()
    result = services.create_order(
        session, sales, company_id=company.id, customer_id=customer.id, order_date=order_date,
        customer_reference=f"PO-{customer.code}-{order_date:%y%m%d}",
        lines=[services.OrderLineRequest(materials[code].id, store.id, D(quantity), D(GOODS[code][1]))
               for code, quantity in quantities.items()],
    )
    confirmed = services.confirm_order(session, sales, result.order.id, policy=POLICY)
    if confirmed.order.status != SalesOrderStatus.CONFIRMED or ship == "none":
        return None
    lines = [services.ShipmentLineRequest(line.id, line.quantity if ship == "all" else line.quantity / 2)
             for line in confirmed.order.lines]
    return services.ship_order(session, sales, confirmed.order.id, posting_date=ship_on, lines=lines,
                               policy=POLICY).invoice


def add_sales_history(session: Session, report: Any, today: dt.date | None = None,
                      customer_types: dict[str, str] | None = None) -> None:
    """Orders, shipments, invoices and payments of three distribution companies (demo), after
    each customer's credit data (``customer_types``: code -> CustomerType value, the type its
    name says: a hospital, a pharmacy chain...)."""
    session.flush()  # the demo's users and master data, written by the loader just before
    today = today or business_today()
    this_month = today.replace(day=1)
    customers = {c.code: c for c in session.scalars(select(Customer).where(Customer.code.in_(CUSTOMERS)))}
    materials = {m.code: m for m in session.scalars(select(Material).where(Material.code.in_(GOODS)))}
    chosen = _distribution_companies(session)
    sales, added = _sales_users(session, [company for company, _ in chosen])
    credit = _actor(session, "credit")
    since = _months_back(this_month, HISTORY_MONTHS)
    types = customer_types or {}
    ids = dict(session.execute(select(Customer.code, Customer.id).where(Customer.code.in_(sorted(types)))).all())
    for code, customer_type in sorted(types.items()):
        # Without credit data a customer's type reads "other" to the limit model and the pages.
        profiles.record_credit_data(session, credit, ids[code], CreditData(customer_type=CustomerType(customer_type)),
                                    reason="按营业执照登记客户类型", valid_from=since)
    for code in CUSTOMERS:  # opening limits; the pharmacy chain K0005 gets a tight one
        limits.set_credit_limit(session, credit, customers[code].id,
                                credit_limit=D("60000") if code == "K0005" else D("500000"),
                                reason="上线时核定的期初信用额度")

    first_company, first_closed = chosen[0]
    go_live = [m for m in (_months_back(this_month, back) for back in range(HISTORY_MONTHS, 0, -1))
               if first_closed is None or Period.of(m) > first_closed]
    old_invoices = _take_over_old_receivables(session, credit, first_company, customers, go_live[0]) \
        if go_live else []

    invoices: list[Invoice] = []
    orders = 0
    for number, (company, last_closed) in enumerate(chosen):
        months = [_months_back(this_month, back) for back in range(HISTORY_MONTHS, 0, -1)]
        months = [m for m in months if last_closed is None or Period.of(m) > last_closed] + [this_month]
        _stock(session, company, materials, [Period.of(m) for m in months], months[0])
        for month in months:
            for turn in (0, 1):
                customer = customers[CUSTOMERS[(2 * number + month.month + turn) % len(CUSTOMERS)]]
                second = ("TRD-GAUZE", "TRD-GLUCS")[(number + turn) % 2]
                quantities = {"TRD-MASK": 100 * (1 + (month.month + turn) % 4), second: 50 * (1 + (number + turn) % 3)}
                ordered = min(today, month + dt.timedelta(days=2 + 6 * turn + number))
                current = month == this_month
                invoice = _sell(session, sales[company.id], company, customer, materials, ordered, quantities,
                                ship="half" if current and turn == 0 else "none" if current else "all",
                                ship_on=min(today, ordered + dt.timedelta(days=2)))
                orders += 1
                if invoice is not None and not current:
                    invoices.append(invoice)

    last_month = _months_back(this_month, 1)
    for index, invoice in enumerate(invoices):
        if invoice.invoice_date >= last_month and index % 2:
            continue  # some of last month's invoices are still open
        paid_on = max(invoice.invoice_date, min(today, invoice.due_date + dt.timedelta(days=LATENESS[index % 4])))
        extra = D("1000.00") if index == 0 else D("0")  # one customer pays too much: kept as credit
        services.record_payment(session, sales[invoice.company_id], company_id=invoice.company_id,
                                customer_id=invoice.customer_id, payment_date=paid_on,
                                amount=invoice.amount + extra, invoice_ids=[invoice.id],
                                bank_reference=f"BANK-{invoice.id:05d}")
    # Of the receivables taken over at go-live, K0015 pays its own, 20 days late; K0014 never pays.
    for invoice in old_invoices:
        paid_on = invoice.due_date + dt.timedelta(days=20)
        if invoice.customer_id == customers["K0015"].id and paid_on <= today:
            services.record_payment(session, sales[invoice.company_id], company_id=invoice.company_id,
                                    customer_id=invoice.customer_id, payment_date=max(paid_on, go_live[0]),
                                    amount=invoice.amount, invoice_ids=[invoice.id],
                                    bank_reference=f"BANK-{invoice.id:05d}")
    # The pharmacy chain's next order would take it past its tight limit: blocked for credit control.
    first, _ = chosen[0]
    _sell(session, sales[first.id], first, customers["K0005"], materials, today, {"TRD-GLUCS": 1000},
          ship="none", ship_on=today)
    limits.suggest_limits(session, credit, as_of=today, today=today)
    report.users += [(name, Role.SALES.value, code) for name, code in added]
    report.counts["users"] += len(added)
    report.counts["sales orders"] = orders + 1
    report.counts["invoices"] = session.scalar(select(func.count()).select_from(Invoice)) or 0
