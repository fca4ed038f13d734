"""Intercompany trade in the demo (docs/intercompany.md): API01 sells amoxicillin granules to
FORM01. The administrator links API01 to its supplier record and FORM01 to its customer record
in the group master; FORM01 has a company contract with API01 at the intercompany price and an
open purchase order placed by buyer.form01 for delivery to its cool store; API01 holds the
goods. The salespeople of both companies (sales.api01, sales.form01) are demo users, so that each
role's part can be tried in the browser: sales.api01 takes the intercompany sales order against
FORM01's line (/sales/orders/new), clerk.form01 receives what it ships, the CIO reads the
eliminations (/intercompany/)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor
from erp.auth.services import actor_for_user
from erp.clock import business_today
from erp.config import load_settings
from erp.inventory.services import AdjustmentKind, adjust_stock
from erp.masterdata import services as masterdata
from erp.credit import profiles
from erp.credit.profiles import CreditData
from erp.credit.scorecard import CustomerType
from erp.masterdata.models import Company, Customer, Material, Supplier, Warehouse
from erp.masterdata.services import can_store
from erp.posting.stock import find_or_create_batch
from erp.purchasing import services as purchasing
from erp.purchasing.models import ContractScope

SELLER, BUYER = "API01", "FORM01"
MATERIAL, PRICE, ORDERED, STOCK = "INT-AMOXG", Decimal("320.00"), Decimal("150"), Decimal("400")


def _actor(session: Session, username: str) -> Actor:
    return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def _store(session: Session, company: Company, material: Material) -> Warehouse:
    for warehouse in session.scalars(select(Warehouse).where(Warehouse.company_id == company.id)
                                     .order_by(Warehouse.code)):
        if can_store(warehouse, material)[0]:
            return warehouse
    raise RuntimeError(f"demo: {company.code} cannot store {material.code}")


def add_intercompany_demo(session: Session, today: dt.date | None = None) -> dict[str, int]:
    """The link, contract, open order and stock above; returns counts."""
    today = today or business_today()
    admin, group_buyer, buyer = (_actor(session, name) for name in ("admin", "group.buyer", "buyer.form01"))
    seller = session.scalars(select(Company).where(Company.code == SELLER)).one()
    buying = session.scalars(select(Company).where(Company.code == BUYER)).one()
    material = session.scalars(select(Material).where(Material.code == MATERIAL)).one()
    supplier = Supplier(code=f"S-{SELLER}", uscc=seller.uscc, name_zh=seller.name_zh, name_en=seller.name_en)
    customer = Customer(code=f"K-{BUYER}", uscc=buying.uscc, name_zh=buying.name_zh, name_en=buying.name_en,
                        payment_terms_days=60)
    session.add_all([supplier, customer])
    session.flush()
    # Every customer carries credit data (its type for the limit model), a group company too.
    profiles.record_credit_data(session, _actor(session, "credit"), customer.id,
                                CreditData(customer_type=CustomerType.OTHER),
                                reason="集团内公司：按营业执照登记客户类型", valid_from=today)
    masterdata.update_record(session, admin, masterdata.COMPANIES, seller.id, {"supplier_id": supplier.id},
                             reason="集团内部交易：API01 向集团内制剂公司供货")
    masterdata.update_record(session, admin, masterdata.COMPANIES, buying.id, {"customer_id": customer.id},
                             reason="集团内部交易：FORM01 向集团内原料药公司采购")
    contract = purchasing.create_contract(
        session, group_buyer, number=f"HT-IC-{BUYER}-{today.year}-001", supplier_id=supplier.id,
        scope=ContractScope.COMPANY, company_id=buying.id, valid_from=today - dt.timedelta(days=30),
        valid_to=today + dt.timedelta(days=365), lines=[{"material_id": material.id, "unit_price": PRICE}])
    purchasing.activate_contract(session, group_buyer, contract.id, today=today - dt.timedelta(days=30))
    order = purchasing.create_purchase_order(
        session, buyer, receiving_company_id=buying.id, supplier_id=supplier.id, order_date=today, today=today,
        lines=[{"material_id": material.id, "quantity": ORDERED,
                "warehouse_id": _store(session, buying, material).id}])
    purchasing.submit_order(session, buyer, order.id, default_threshold=load_settings().default_approval_threshold,
                            today=today)
    store = _store(session, seller, material)
    batch_id, _, _ = find_or_create_batch(
        session, material_id=material.id, batch_number=f"AMXG{today:%y%m%d}A01",
        manufacture_date=today - dt.timedelta(days=20), expiry_date=today + dt.timedelta(days=340), supplier_id=None)
    adjust_stock(session, _actor(session, "cost.group"), warehouse_id=store.id, material_id=material.id,
                 quantity=STOCK, posting_date=today, kind=AdjustmentKind.COUNT, reason="上线期初盘点入库",
                 batch_id=batch_id)
    session.flush()
    return {"intercompany orders": 1}
