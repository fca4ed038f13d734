"""The load test's data: a group with its history, plus enough open work for a busy hour.

The group is either the demo (``prepare``: erp.demo on an empty database, 30 companies,
contracts, standard prices, closed months, sales history, one user per role) or the
group-sized data set of bench/generate.py already loaded (``prepare_generated``: 30
companies, 20,000 materials, 50,000 customers, a million movements, 500,000 invoices).
Then, through the same services the API uses:

- if the buying company's buyer may order nothing yet (the generated group has no
  contracts), a company contract with one supplier for a few local materials;
- ``open_orders`` open purchase orders of the buying company (FORM01, or C01), each of
  every material its buyer may order from one supplier, in quantities no clerk will use up
  in a run (approved by the company's purchasing manager), for the clerks to receive against;
- 1,000,000 counted units of each good in a warehouse of each selling company, for the
  sales users to ship;
- ``customers`` customers with an approved credit limit 50 million CNY above what they
  owe already, so that the credit check runs on every confirmation and shipment and
  passes (users mostly do valid work; a refusal is counted apart from a failure);
- a bearer token for each user the workload signs in as.

Returns the plan the locustfile reads (ids and tokens), as plain JSON-ready values.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.services import actor_for_user, issue_token
from erp.clock import business_today
from erp.config import load_settings
from erp.credit import limits
from erp.credit.models import CustomerExposure, SalesOrder
from erp.demo.credit import CUSTOMERS as DEMO_CUSTOMERS
from erp.demo.credit import GOODS
from erp.demo.loader import load_demo
from erp.inventory.services import AdjustmentKind, adjust_stock
from erp.masterdata.models import (
    Company,
    Customer,
    Material,
    MaterialType,
    ProcurementScope,
    Supplier,
    TaxCode,
    Warehouse,
)
from erp.masterdata.tax import CHINA_VAT, CHINA_VAT_SINCE
from erp.masterdata.services import can_store
from erp.posting.stock import find_or_create_batch
from erp.period import Period
from erp.posting.models import StandardPrice
from erp.purchasing import contracts
from erp.purchasing import services as purchasing
from erp.purchasing.models import ContractScope, PurchaseOrderStatus

DEMO_SEED = 20261127
STOCK_PER_GOOD = Decimal("1000000")
CREDIT_HEADROOM = Decimal("50000000")
OPEN_QUANTITY = Decimal("1000000")
TOKEN_MINUTES = 24 * 60


@dataclass(frozen=True)
class Cast:
    """Who does the work, by username, and where."""

    buying_company: str
    buyer: str
    manager: str
    clerk: str
    cost: str
    credit: str
    cio: str
    # (company code, sales user); empty: the companies the demo sells from.
    sellers: tuple[tuple[str, str], ...] = ()


DEMO = Cast("FORM01", "buyer.form01", "pm.form01", "clerk.form01", "cost.group", "credit", "cio")
GENERATED = Cast("C01", "buyer_c01", "purchasing_manager_c01", "clerk_c01", "cost_accountant_group",
                 "credit_controller", "cio")


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _token(session: Session, username: str) -> str:
    return issue_token(session, _user(session, username).id, ttl_minutes=TOKEN_MINUTES).token


def _orderable(session: Session, buyer: User, company: Company, today: dt.date) -> list[dict[str, Any]]:
    """What the buyer may order, each with a warehouse of the company that can store it."""
    items, _ = purchasing.orderable(session, actor_for_user(buyer), company_id=company.id, day=today)
    stores = _stores(session, company)
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


def _stores(session: Session, company: Company) -> list[Warehouse]:
    return list(session.scalars(select(Warehouse).where(Warehouse.company_id == company.id,
                                                        Warehouse.active.is_(True)).order_by(Warehouse.id)))


def _standard(session: Session, company_id: int, material_id: int, day: dt.date) -> Decimal | None:
    return session.scalar(select(StandardPrice.price).where(
        StandardPrice.company_id == company_id, StandardPrice.material_id == material_id,
        StandardPrice.period <= Period.of(day)).order_by(StandardPrice.period.desc()).limit(1))


def _contract(session: Session, cast: Cast, company: Company, today: dt.date, materials: int = 6) -> None:
    """A company contract of the buying company with its first supplier for a few local
    materials at their standard prices, valid for a year."""
    buyer = actor_for_user(_user(session, cast.buyer))
    supplier_id = session.scalars(select(Supplier.id).where(Supplier.active.is_(True)).order_by(Supplier.id)).first()
    stores = _stores(session, company)
    lines = []
    for material in session.scalars(select(Material).where(
            Material.active.is_(True), Material.procurement_scope == ProcurementScope.LOCAL).order_by(Material.id)):
        standard = _standard(session, company.id, material.id, today)
        if standard and any(can_store(w, material)[0] for w in stores):
            lines.append({"material_id": material.id, "unit_price": standard})
        if len(lines) == materials:
            break
    contract = contracts.create_contract(
        session, buyer, number=f"LOAD-{company.code}", supplier_id=supplier_id, scope=ContractScope.COMPANY,
        company_id=company.id, valid_from=today - dt.timedelta(days=30), valid_to=today + dt.timedelta(days=365),
        lines=lines)
    contracts.activate_contract(session, buyer, contract.id, today=today)


def _open_orders(session: Session, cast: Cast, company: Company, choices: list[dict[str, Any]], count: int,
                 today: dt.date) -> None:
    """``count`` orders of the buying company, each of every material one supplier offers, opened."""
    buyer, manager = actor_for_user(_user(session, cast.buyer)), actor_for_user(_user(session, cast.manager))
    by_supplier: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for choice in choices:
        by_supplier[choice["supplier_id"]].append(choice)
    suppliers = sorted(by_supplier)
    threshold = load_settings().default_approval_threshold
    for number in range(count):
        supplier_id = suppliers[number % len(suppliers)]
        order = purchasing.create_purchase_order(
            session, buyer, receiving_company_id=company.id, supplier_id=supplier_id, order_date=today,
            lines=[{"material_id": c["material_id"], "quantity": OPEN_QUANTITY, "warehouse_id": c["warehouse_id"]}
                   for c in by_supplier[supplier_id]])
        order = purchasing.submit_order(session, buyer, order.id, default_threshold=threshold)
        if order.status == PurchaseOrderStatus.PENDING_APPROVAL:
            purchasing.approve_order(session, manager, order.id)


def _demo_sellers(session: Session) -> list[tuple[Company, str]]:
    """The distribution companies the demo sells from, with their sales users."""
    sellers = session.execute(
        select(Company, User.username).join(SalesOrder, SalesOrder.company_id == Company.id)
        .join(User, User.username == "sales." + func.lower(Company.code)).distinct().order_by(Company.code)
    ).all()
    return [(company, username) for company, username in sellers]


def _goods(session: Session, company: Company, today: dt.date) -> list[tuple[Material, Decimal]]:
    """What a company sells, at its selling price: the demo's trade goods at the demo's
    prices, else three trade materials at their standard price plus 30 %."""
    demo = session.scalars(select(Material).where(Material.code.in_(GOODS)).order_by(Material.code)).all()
    if demo:
        return [(m, Decimal(GOODS[m.code][1])) for m in demo]
    goods = []
    for material in session.scalars(select(Material).where(
            Material.active.is_(True), Material.material_type == MaterialType.TRADE).order_by(Material.id).limit(20)):
        standard = _standard(session, company.id, material.id, today)
        if standard:
            goods.append((material, (standard * Decimal("1.3")).quantize(Decimal("0.01"))))
        if len(goods) == 3:
            break
    return goods


def _vat(session: Session) -> int:
    """The id of the 13 % VAT code on goods (the China VAT codes added where none exist, as
    the demo adds them: the generated group has none)."""
    if session.scalar(select(TaxCode.id).limit(1)) is None:
        session.add_all(TaxCode(code=code, name_zh=zh, name_en=en, kind=kind, rate=rate, valid_from=CHINA_VAT_SINCE)
                        for code, zh, en, kind, rate in CHINA_VAT)
        session.flush()
    return session.scalars(select(TaxCode.id).where(TaxCode.code == "VAT13")).one()


def _stock(session: Session, cast: Cast, company: Company, goods: list[tuple[Material, Decimal]],
           today: dt.date) -> int:
    """1,000,000 counted units of each good in the first of the company's warehouses that
    can store them all; that warehouse's id."""
    cost = actor_for_user(_user(session, cast.cost))
    store = next(w for w in _stores(session, company) if all(can_store(w, m)[0] for m, _ in goods))
    for material, _price in goods:
        batch_id = None
        if material.batch_managed:
            batch_id, _, _ = find_or_create_batch(
                session, material_id=material.id, batch_number=f"LOAD-{material.id}-{company.code}",
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
        return add_work(session, DEMO, customers=customers, open_orders=open_orders)


def prepare_generated(session: Session, *, customers: int = 40, open_orders: int = 20,
                      sellers: int = 3) -> dict[str, Any]:
    """The load test's work on the group bench/generate.py has loaded; the plan."""
    with session.begin():
        codes = session.scalars(select(Company.code).order_by(Company.id)).all()
        cast = replace(GENERATED, sellers=tuple((code, f"sales_{code.lower()}") for code in codes[1:1 + sellers]))
        return add_work(session, cast, customers=customers, open_orders=open_orders)


def add_work(session: Session, cast: Cast, *, customers: int, open_orders: int) -> dict[str, Any]:
    """Open orders, stock, credit limits and tokens for the workload; the plan."""
    today = business_today()
    company = session.scalars(select(Company).where(Company.code == cast.buying_company)).one()
    choices = _orderable(session, _user(session, cast.buyer), company, today)
    if not choices:
        _contract(session, cast, company, today)
        choices = _orderable(session, _user(session, cast.buyer), company, today)
    _open_orders(session, cast, company, choices, open_orders, today)

    selling = [(session.scalars(select(Company).where(Company.code == code)).one(), username)
               for code, username in cast.sellers] if cast.sellers else _demo_sellers(session)
    vat = _vat(session)
    sellers = []
    for seller, username in selling:
        goods = _goods(session, seller, today)
        warehouse_id = _stock(session, cast, seller, goods, today)
        sellers.append({"username": username, "token": _token(session, username), "company_id": seller.id,
                        "warehouse_id": warehouse_id,
                        "goods": [{"material_id": m.id, "unit_price": str(price), "tax_code_id": vat}
                                  for m, price in goods]})

    credit = actor_for_user(_user(session, cast.credit))
    buyers_of_goods = session.scalars(
        select(Customer.id).where(Customer.active.is_(True), Customer.code.not_in(DEMO_CUSTOMERS),
                                  Customer.id.not_in(select(Company.customer_id).where(Company.customer_id.is_not(None))))
        .order_by(Customer.code).limit(customers)).all()
    exposures = dict(session.execute(select(CustomerExposure.customer_id, CustomerExposure.exposure)
                                     .where(CustomerExposure.customer_id.in_(buyers_of_goods))).all())
    for customer_id in buyers_of_goods:
        # Room for the season above what the customer already owes (the generated group's
        # largest customers owe hundreds of millions).
        limits.set_credit_limit(session, credit, customer_id,
                                credit_limit=exposures.get(customer_id, Decimal("0")) + CREDIT_HEADROOM,
                                reason="load test: limit agreed for the season")

    clerk = _user(session, cast.clerk)
    return {
        "today": today.isoformat(),
        "company_id": company.id,
        "clerk": {"token": _token(session, cast.clerk),
                  "warehouse_ids": sorted(w.warehouse_id for w in clerk.warehouses)},
        "buyer": {"token": _token(session, cast.buyer), "choices": choices},
        "manager": {"token": _token(session, cast.manager)},
        "sellers": sellers,
        "customers": list(buyers_of_goods),
        "cio": {"token": _token(session, cast.cio)},
    }
