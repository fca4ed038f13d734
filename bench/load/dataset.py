"""The load test's data: the demo group, plus enough open work for a busy hour.

On a migrated, empty PostgreSQL database: the demo group (erp.demo: 30 companies, contracts,
standard prices, closed months, sales history, one user per role), then, through the same
services the API uses:

- open purchase orders of FORM01 with ``open_orders`` orders of every material its buyer may
  order from one supplier, in quantities no clerk will use up in a run (approved by FORM01's
  purchasing manager), for the clerks to receive against;
- 1,000,000 counted boxes of each trade good in each selling distribution company's
  ambient warehouse, for the sales users to ship;
- ``customers`` customers with an approved credit limit of 50 million CNY, so that the
  credit check runs on every confirmation and shipment and passes (users mostly do valid
  work; a refusal is counted apart from a failure);
- a bearer token for each user the workload signs in as.

Returns the plan the locustfile reads (ids and tokens), as plain JSON-ready values.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.services import actor_for_user, issue_token
from erp.clock import business_today
from erp.config import load_settings
from erp.credit import limits
from erp.credit.models import SalesOrder
from erp.demo.credit import CUSTOMERS as DEMO_CUSTOMERS
from erp.demo.credit import GOODS
from erp.demo.loader import load_demo
from erp.inventory.services import AdjustmentKind, adjust_stock
from erp.masterdata.models import Company, Customer, Material, Warehouse
from erp.masterdata.services import can_store
from erp.posting.stock import find_or_create_batch
from erp.purchasing import services as purchasing
from erp.purchasing.models import PurchaseOrderStatus

DEMO_SEED = 20261127
STOCK_PER_GOOD = Decimal("1000000")
CREDIT_LIMIT = Decimal("50000000")
OPEN_QUANTITY = Decimal("1000000")
TOKEN_MINUTES = 24 * 60


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _token(session: Session, username: str) -> str:
    return issue_token(session, _user(session, username).id, ttl_minutes=TOKEN_MINUTES).token


def _orderable(session: Session, buyer: User, company: Company, today: dt.date) -> list[dict[str, Any]]:
    """What FORM01's buyer may order, each with a warehouse of the company that can store it."""
    items, _ = purchasing.orderable(session, actor_for_user(buyer), company_id=company.id, day=today)
    stores = session.scalars(select(Warehouse).where(Warehouse.company_id == company.id,
                                                     Warehouse.active.is_(True)).order_by(Warehouse.id)).all()
    choices = []
    for item in items:
        store = next((w for w in stores if can_store(w, item.material)[0]), None)
        if store is None:
            continue
        choices.append({"material_id": item.material.id, "supplier_id": item.supplier.id, "warehouse_id": store.id,
                        "unit_price": str(item.contract_line.unit_price),
                        "batch_managed": item.material.batch_managed,
                        "shelf_life_days": item.material.shelf_life_days})
    return choices


def _open_orders(session: Session, choices: list[dict[str, Any]], count: int, today: dt.date) -> int:
    """``count`` orders of FORM01, each of every material one supplier offers, opened."""
    buyer, manager = actor_for_user(_user(session, "buyer.form01")), actor_for_user(_user(session, "pm.form01"))
    by_supplier: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for choice in choices:
        by_supplier[choice["supplier_id"]].append(choice)
    suppliers = sorted(by_supplier)
    company_id = session.scalars(select(Company.id).where(Company.code == "FORM01")).one()
    threshold = load_settings().default_approval_threshold
    for number in range(count):
        supplier_id = suppliers[number % len(suppliers)]
        order = purchasing.create_purchase_order(
            session, buyer, receiving_company_id=company_id, supplier_id=supplier_id, order_date=today,
            lines=[{"material_id": c["material_id"], "quantity": OPEN_QUANTITY, "warehouse_id": c["warehouse_id"]}
                   for c in by_supplier[supplier_id]])
        order = purchasing.submit_order(session, buyer, order.id, default_threshold=threshold)
        if order.status == PurchaseOrderStatus.PENDING_APPROVAL:
            purchasing.approve_order(session, manager, order.id)
    return count


def _selling_companies(session: Session) -> list[tuple[Company, str]]:
    """The distribution companies the demo sells from, with their sales users."""
    sellers = session.execute(
        select(Company, User.username).join(SalesOrder, SalesOrder.company_id == Company.id)
        .join(User, User.username == "sales." + func.lower(Company.code)).distinct().order_by(Company.code)
    ).all()
    return [(company, username) for company, username in sellers]


def _stock_goods(session: Session, company: Company, goods: dict[str, Material], today: dt.date) -> int:
    cost = actor_for_user(_user(session, "cost.group"))
    store = session.scalars(select(Warehouse).where(Warehouse.code == f"{company.code}-AMB")).one()
    for code, material in goods.items():
        batch_id, _, _ = find_or_create_batch(
            session, material_id=material.id, batch_number=f"LOAD-{code[4:]}-{company.code}",
            manufacture_date=today - dt.timedelta(days=30), expiry_date=today + dt.timedelta(days=3 * 365),
            supplier_id=None)
        adjust_stock(session, cost, warehouse_id=store.id, material_id=material.id, quantity=STOCK_PER_GOOD,
                     posting_date=today, kind=AdjustmentKind.COUNT, reason="load test: stock counted",
                     batch_id=batch_id)
    return store.id


def prepare(session: Session, *, customers: int = 40, open_orders: int = 20) -> dict[str, Any]:
    """Load the demo group and the load test's work into an empty database; the plan."""
    load_demo(session, seed=DEMO_SEED)
    with session.begin():
        return _prepare(session, customers=customers, open_orders=open_orders)


def _prepare(session: Session, *, customers: int, open_orders: int) -> dict[str, Any]:
    today = business_today()
    form01 = session.scalars(select(Company).where(Company.code == "FORM01")).one()
    choices = _orderable(session, _user(session, "buyer.form01"), form01, today)
    _open_orders(session, choices, open_orders, today)

    goods = {m.code: m for m in session.scalars(select(Material).where(Material.code.in_(GOODS)))}
    sellers = []
    for company, username in _selling_companies(session):
        warehouse_id = _stock_goods(session, company, goods, today)
        sellers.append({"username": username, "token": _token(session, username), "company_id": company.id,
                        "warehouse_id": warehouse_id,
                        "goods": [{"material_id": goods[code].id, "unit_price": price}
                                  for code, (_standard, price) in GOODS.items()]})

    credit = actor_for_user(_user(session, "credit"))
    buyers_of_goods = session.scalars(
        select(Customer.id).where(Customer.active.is_(True), Customer.code.not_in(DEMO_CUSTOMERS),
                                  Customer.id.not_in(select(Company.customer_id).where(Company.customer_id.is_not(None))))
        .order_by(Customer.code).limit(customers)).all()
    for customer_id in buyers_of_goods:
        limits.set_credit_limit(session, credit, customer_id, credit_limit=CREDIT_LIMIT,
                                reason="load test: limit agreed for the season")

    clerk = _user(session, "clerk.form01")
    return {
        "today": today.isoformat(),
        "company_id": form01.id,
        "clerk": {"token": _token(session, "clerk.form01"),
                  "warehouse_ids": sorted(w.warehouse_id for w in clerk.warehouses)},
        "buyer": {"token": _token(session, "buyer.form01"), "choices": choices},
        "manager": {"token": _token(session, "pm.form01")},
        "sellers": sellers,
        "customers": list(buyers_of_goods),
        "cio": {"token": _token(session, "cio")},
    }
