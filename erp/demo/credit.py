"""Demo receivables: three distribution companies selling trade goods to six customers
from August to November 2026, through the same services the API uses.

Stock comes in as counted stock (positive count adjustments at standard), orders are
confirmed under the credit check and shipped (invoices due after each customer's
terms), older invoices are paid (some on time, some late, one overpaid), one customer's
low limit blocks its last order, and the limit model runs at the end. Deterministic:
fixed plans and dates, no randomness.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.models import User, UserCompany
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.costing.standards import PriceChange, set_standard_prices
from erp.credit import limits, services
from erp.credit.exposure import CreditPolicy
from erp.credit.models import Invoice, SalesOrderStatus
from erp.inventory.ledger import find_or_create_batch
from erp.inventory.services import AdjustmentKind, adjust_stock
from erp.masterdata.models import Company, Customer, Material, Warehouse

COMPANIES = ("DIST01", "DIST02", "DIST03")
CUSTOMERS = ("K0005", "K0006", "K0007", "K0013", "K0014", "K0015")
# material: (standard price, selling price) per box
GOODS = {"TRD-MASK": ("18.50", "25.00"), "TRD-GAUZE": ("6.20", "9.50"), "TRD-GLUCS": ("42.00", "58.00")}
PERIODS = ("2026-08", "2026-09", "2026-10", "2026-11")
KEY_DATE = dt.date(2026, 11, 20)
# Days after (or before) the due date each paid invoice is paid, in turn.
LATENESS = (-3, 0, 12, 35)
POLICY = CreditPolicy()
D = Decimal


def _actor(session: Session, username: str) -> Actor:
    return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def _sales_users(session: Session, companies: dict[str, Company]) -> dict[str, Actor]:
    """sales.dist01 exists; the demo adds sales users for the other two distribution companies."""
    template = session.scalars(select(User).where(User.username == "sales.dist01")).one()
    for code in COMPANIES[1:]:
        session.add(User(username=f"sales.{code.lower()}", display_name=f"sales.{code.lower()}",
                         password_hash=template.password_hash, role=Role.SALES, group_wide=False,
                         companies=[UserCompany(company_id=companies[code].id)]))
    session.flush()
    return {code: _actor(session, f"sales.{code.lower()}") for code in COMPANIES}


def _stock(session: Session, companies: dict[str, Company], materials: dict[str, Material]) -> None:
    """Standard prices for August to November and 5,000 boxes of each good per company."""
    cost = _actor(session, "cost.group")
    for company in companies.values():
        for period in PERIODS:
            set_standard_prices(session, cost, company_id=company.id, period=period,
                                prices=[PriceChange(materials[code].id, D(standard))
                                        for code, (standard, _) in GOODS.items()])
        store = session.scalars(select(Warehouse).where(Warehouse.code == f"{company.code}-AMB")).one()
        for code in GOODS:
            batch_id, _, _ = find_or_create_batch(
                session, material_id=materials[code].id, batch_number=f"DEMO-{code[4:]}-2606",
                manufacture_date=dt.date(2026, 6, 1), expiry_date=dt.date(2028, 5, 31), supplier_id=None)
            adjust_stock(session, cost, warehouse_id=store.id, material_id=materials[code].id, quantity=D("5000"),
                         posting_date=dt.date(2026, 8, 1), kind=AdjustmentKind.COUNT,
                         reason="opening stock counted at go-live", batch_id=batch_id)


def _sell(
    session: Session, sales: Actor, company: Company, customer: Customer, materials: dict[str, Material],
    order_date: dt.date, quantities: dict[str, int], *, ship: str = "all",
) -> tuple[services.OrderResult, Invoice | None]:
    store = session.scalars(select(Warehouse).where(Warehouse.code == f"{company.code}-AMB")).one()
    result = services.create_order(
        session, sales, company_id=company.id, customer_id=customer.id, order_date=order_date,
        customer_reference=f"PO-{customer.code}-{order_date:%m%d}",
        lines=[services.OrderLineRequest(materials[code].id, store.id, D(quantity), D(GOODS[code][1]))
               for code, quantity in quantities.items()],
    )
    confirmed = services.confirm_order(session, sales, result.order.id, policy=POLICY)
    if confirmed.order.status != SalesOrderStatus.CONFIRMED or ship == "none":
        return confirmed, None
    lines = [services.ShipmentLineRequest(line.id, line.quantity if ship == "all" else line.quantity / 2)
             for line in confirmed.order.lines]
    shipped = services.ship_order(session, sales, confirmed.order.id, posting_date=order_date + dt.timedelta(days=2),
                                  lines=lines, policy=POLICY)
    return confirmed, shipped.invoice


def add_sales_history(session: Session, report: Any) -> None:
    """Orders, shipments, invoices and payments of three distribution companies (demo)."""
    session.flush()  # the demo's users and master data, written by the loader just before
    companies = {c.code: c for c in session.scalars(select(Company).where(Company.code.in_(COMPANIES)))}
    customers = {c.code: c for c in session.scalars(select(Customer).where(Customer.code.in_(CUSTOMERS)))}
    materials = {m.code: m for m in session.scalars(select(Material).where(Material.code.in_(GOODS)))}
    sales = _sales_users(session, companies)
    credit = _actor(session, "credit")
    _stock(session, companies, materials)
    for code in CUSTOMERS:  # opening limits; the pharmacy chain K0005 gets a tight one
        limits.set_credit_limit(session, credit, customers[code].id,
                                credit_limit=D("60000") if code == "K0005" else D("500000"),
                                reason="opening limit agreed at go-live")

    invoices: list[tuple[Invoice, str]] = []
    orders = 0
    for number, company_code in enumerate(COMPANIES):
        for month in (8, 9, 10, 11):
            for turn in (0, 1):
                customer = customers[CUSTOMERS[(2 * number + month + turn) % len(CUSTOMERS)]]
                second = ("TRD-GAUZE", "TRD-GLUCS")[(number + turn) % 2]
                quantities = {"TRD-MASK": 100 * (1 + (month + turn) % 4), second: 50 * (1 + (number + turn) % 3)}
                ship = "all" if month < 11 else ("half" if turn == 0 else "none")
                _, invoice = _sell(session, sales[company_code], companies[company_code], customer, materials,
                                   dt.date(2026, month, 3 + 6 * turn + number), quantities, ship=ship)
                orders += 1
                if invoice is not None:
                    invoices.append((invoice, company_code))

    for index, (invoice, company_code) in enumerate(invoices):
        if invoice.invoice_date.month > 10:
            continue
        paid_on = min(KEY_DATE, invoice.due_date + dt.timedelta(days=LATENESS[index % len(LATENESS)]))
        if invoice.invoice_date.month == 10 and index % 2:
            continue  # some October invoices are still open
        extra = D("1000.00") if index == 0 else D("0")  # one customer pays too much: kept as credit
        services.record_payment(session, sales[company_code], company_id=invoice.company_id,
                                customer_id=invoice.customer_id, payment_date=paid_on,
                                amount=invoice.amount + extra, invoice_ids=[invoice.id],
                                bank_reference=f"BANK-{invoice.id:05d}")
    # The pharmacy chain's next order would take it past its tight limit: blocked for credit control.
    _sell(session, sales["DIST01"], companies["DIST01"], customers["K0005"], materials, dt.date(2026, 11, 18),
          {"TRD-GLUCS": 1000}, ship="none")
    limits.suggest_limits(session, credit, as_of=KEY_DATE, starting_limit=POLICY.starting_limit)
    report.users += [(f"sales.{code.lower()}", Role.SALES.value, code) for code in COMPANIES[1:]]
    report.counts["users"] += len(COMPANIES) - 1
    report.counts["sales orders"] = orders + 1
    report.counts["invoices"] = len(invoices)
