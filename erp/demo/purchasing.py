"""Purchasing in the demo group: contracts, a steward's exception and orders in every state
that purchasing alone can reach (receipts come with inventory).

Everything goes through the purchasing services, as the people would: group buyers sign
group contracts for the central materials, FORM01, FORM02 and API01 have contracts of
their own for local materials, and orders are placed, submitted, approved, rejected,
cancelled and closed over the last two months. Dates are relative to the day the demo
is loaded; with the same seed everything else is the same.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor
from erp.auth.services import actor_for_user
from erp.config import load_settings
from erp.masterdata.models import Company, Material, MaterialType, ProcurementScope, Supplier, Warehouse
from erp.masterdata.services import can_store
from erp.purchasing import services
from erp.clock import business_today
from erp.purchasing.models import ContractScope, PurchaseOrderStatus

# Prices (CNY per unit) of the materials the demo orders, so that order values, and with
# them the approval path, are as described below; other lines get a price by kind.
FEATURED_PRICES = {
    "API-AMOX": "185", "API-CEFTR": "460", "API-PARA": "42", "API-METF": "36", "API-INSU": "320000",
    "EXC-MCC101": "38.5", "EXC-LACT": "24", "EXC-MGST": "55",
    "PKG-ALPTP": "68", "PKG-PVC250": "16.8", "PKG-CAPS0": "0.021", "PKG-VIAL2": "0.38",
    "TRD-MASK": "18.5", "TRD-N95": "52",
    # local packaging: the group's frame price, beaten by FORM01's own contract below
    "PKG-CART": "0.38", "PKG-LEAF": "0.05", "PKG-SHIP": "5.2",
}
# Price ranges in cents (per unit) for the other lines, by material type.
CENTS_BY_TYPE = {
    MaterialType.RAW: (2000, 300000), MaterialType.INTERMEDIATE: (10000, 150000),
    MaterialType.PACKAGING: (2, 2000), MaterialType.TRADE: (300, 20000), MaterialType.FINISHED: (500, 8000),
}
# A volume target on amoxicillin that the orders below overrun (a warning on the contract).
TARGETS = {"API-AMOX": "2000", "EXC-MCC101": "20000", "PKG-CAPS0": "50000000"}
# Company contracts for local materials: company -> (supplier kind, prices by material code).
COMPANY_CONTRACTS = {
    "FORM01": [("Packaging", {"PKG-CART": "0.35", "PKG-LEAF": "0.045", "PKG-SHIP": "4.8"}),
               ("Excipients", {"EXC-STAR": "4.6", "EXC-SUCR": "6.2", "EXC-TALC": "9.8"})],
    "FORM02": [("Excipients", {"EXC-STAR": "4.9", "EXC-CITR": "8.4", "EXC-NAHCO3": "3.1"})],
    "API01": [("Chemicals", {"INT-ROSUZ": "1450", "INT-VALSM": "980"})],
}
# Orders: (buyer, receiving company, days ago, [(material, quantity)], what happens to it).
# An order has one supplier, so its materials are contracted with the same one (featured
# central materials all go to the first supplier of their kind). Values against the
# 200,000 CNY threshold are worked out in the comments.
ORDERS: list[tuple[str, str, int, list[tuple[str, str]], str]] = [
    ("group.buyer", "FORM01", 55, [("API-AMOX", "1200")], "approve"),  # 222,000 -> approved by pm.group
    ("group.buyer", "FORM02", 48, [("API-AMOX", "1000"), ("API-CEFTR", "100")], "submit"),  # 231,000 -> pending
    ("group.buyer", "FORM03", 45, [("EXC-LACT", "3000"), ("EXC-MGST", "150")], "submit"),  # 80,250 -> open
    ("group.buyer", "FORM04", 40, [("PKG-PVC250", "800"), ("PKG-ALPTP", "300")], "close"),  # 33,840
    ("group.buyer", "FORM05", 35, [("PKG-CAPS0", "2000000")], "cancel"),  # 42,000
    ("group.buyer", "DIST01", 30, [("TRD-MASK", "4000"), ("TRD-N95", "1000")], "submit"),  # 126,000 -> open
    ("group.buyer", "FORM01", 20, [("API-INSU", "0.5")], "submit"),  # 160,000 -> open
    ("group.buyer", "FORM06", 15, [("API-PARA", "6000")], "reject"),  # 252,000 -> back to draft
    ("group.buyer", "FORM02", 8, [("PKG-VIAL2", "300000")], "submit"),  # 114,000 -> open
    ("group.buyer", "FORM07", 3, [("API-METF", "2500")], "draft"),  # 90,000
    ("group.buyer", "DIST02", 0, [("TRD-MASK", "1000")], "draft"),
    ("buyer.form01", "FORM01", 50, [("EXC-STAR", "5000"), ("EXC-SUCR", "1000")], "close"),  # 29,200
    ("buyer.form01", "FORM01", 25, [("PKG-CART", "600000"), ("PKG-LEAF", "600000")], "approve"),  # 237,000
    ("buyer.form01", "FORM01", 2, [("API-AMOX", "300")], "submit"),  # under the exception: 55,500 -> open
    ("buyer.form01", "FORM01", 0, [("EXC-SUCR", "800")], "draft"),  # 4,960
]
REASONS = {
    "reject": "6,000 kg 超出 FORM06 阴凉库容量，请改为按月分批交货",
    "cancel": "招标未中，胶囊需求预测下调",
    "close": "已全部交货，剩余手续已办结",
}
EXCEPTION = ("FORM01", "API-AMOX", -5, 25, "集采供应商工厂受水灾停产，FORM01 自行采购阿莫西林一个月")
STORE_PREFERENCE = ("AMB", "COOL", "COLD")


def _supplier_kind(supplier: Supplier) -> str:
    for kind in ("Chemicals", "Excipients", "Packaging", "Biotech", "Devices"):
        if kind in supplier.name_en:
            return kind
    return "Chemicals"


def _material_kind(material: Material) -> str:
    if material.code.startswith("EXC-"):
        return "Excipients"
    if material.material_type == MaterialType.PACKAGING:
        return "Packaging"
    if material.material_type == MaterialType.TRADE:
        return "Biotech" if material.storage_temp_max is not None and material.storage_temp_max <= 8 else "Devices"
    return "Chemicals"


def _price(material: Material, rng: random.Random) -> Decimal:
    if material.code in FEATURED_PRICES:
        return Decimal(FEATURED_PRICES[material.code])
    low, high = CENTS_BY_TYPE[material.material_type]
    return Decimal(rng.randint(low, high)) / 100


def _sign(
    session: Session, actor: Actor, number: str, supplier: Supplier, scope: ContractScope, company: Company | None,
    valid: tuple[dt.date, dt.date], prices: Sequence[tuple[Material, Decimal]], *, activate: bool = True,
) -> int:
    contract = services.create_contract(
        session, actor, number=number, supplier_id=supplier.id, scope=scope,
        company_id=company.id if company else None, valid_from=valid[0], valid_to=valid[1],
        lines=[{"material_id": m.id, "unit_price": price,
                "target_quantity": Decimal(TARGETS[m.code]) if m.code in TARGETS else None} for m, price in prices],
    )
    if activate:
        services.activate_contract(session, actor, contract.id, today=valid[0])
    return contract.id


def load_purchasing_demo(session: Session, rng: random.Random) -> dict[str, int]:
    """Contracts, an exception and purchase orders for the demo group; returns counts."""
    session.flush()
    today = business_today()
    actors = {user.username: actor_for_user(user) for user in session.scalars(select(User))}
    companies = {c.code: c for c in session.scalars(select(Company))}
    materials = {m.code: m for m in session.scalars(select(Material).where(Material.active).order_by(Material.code))}
    by_kind: dict[str, list[Supplier]] = defaultdict(list)
    for supplier in session.scalars(select(Supplier).order_by(Supplier.code)):
        by_kind[_supplier_kind(supplier)].append(supplier)

    current = (today - dt.timedelta(days=180), today + dt.timedelta(days=365))
    previous = (current[0] - dt.timedelta(days=365), current[0] - dt.timedelta(days=1))
    following = (current[1] + dt.timedelta(days=1), current[1] + dt.timedelta(days=365))
    group_buyer = actors["group.buyer"]
    counts = {"contracts": 0}

    # Group contracts: each kind's central materials split between its first two suppliers
    # (the featured ones all with the first); the first packaging supplier also gets a
    # group frame price for local packaging.
    central: dict[str, tuple[list[Material], list[Material]]] = defaultdict(lambda: ([], []))
    others: dict[str, int] = defaultdict(int)
    for material in materials.values():
        if material.procurement_scope == ProcurementScope.CENTRAL:
            kind = _material_kind(material)
            share = 0 if material.code in FEATURED_PRICES else others[kind] % 2
            others[kind] += material.code not in FEATURED_PRICES
            central[kind][share].append(material)
    for kind in sorted(central):
        for half, supplier in enumerate(by_kind[kind][:2]):
            lines = [(m, _price(m, rng)) for m in central[kind][half]]
            if kind == "Packaging" and half == 0:
                lines += [(materials[c], _price(materials[c], rng)) for c in ("PKG-CART", "PKG-LEAF", "PKG-SHIP")]
            counts["contracts"] += 1
            _sign(session, group_buyer, f"HT-GRP-{current[0].year}-{counts['contracts']:03d}", supplier,
                  ContractScope.GROUP, None, current, lines)
            if kind == "Chemicals" and half == 0:
                # last year's contract (expired) and next year's, still a draft under negotiation
                for valid, activate in ((previous, True), (following, False)):
                    counts["contracts"] += 1
                    _sign(session, group_buyer, f"HT-GRP-{valid[0].year}-{counts['contracts']:03d}",
                          supplier, ContractScope.GROUP, None, valid, lines[:10], activate=activate)
    # A contract terminated early: the supplier failed its GMP audit.
    counts["contracts"] += 1
    failed = by_kind["Chemicals"][2]
    terminated = _sign(session, group_buyer, f"HT-GRP-{current[0].year}-{counts['contracts']:03d}", failed,
                       ContractScope.GROUP, None, current, [(materials["API-IBU"], Decimal("58"))])
    services.terminate_contract(session, group_buyer, terminated, "供应商未通过集团 GMP 审计")

    for code, deals in COMPANY_CONTRACTS.items():
        for index, (kind, prices) in enumerate(deals):
            counts["contracts"] += 1
            supplier = by_kind[kind][0] if kind == "Packaging" else by_kind[kind][2 + index]
            _sign(session, group_buyer, f"HT-{code}-{current[0].year}-{index + 1:03d}", supplier,
                  ContractScope.COMPANY, companies[code], current,
                  [(materials[m], Decimal(p)) for m, p in prices.items()])

    company, material, start, end, reason = EXCEPTION
    services.grant_exception(
        session, actors["steward"], company_id=companies[company].id, material_id=materials[material].id,
        valid_from=today + dt.timedelta(days=start), valid_to=today + dt.timedelta(days=end), reason=reason,
    )
    counts["orders"] = _place_orders(session, actors, companies, materials, by_kind, today)
    return counts


def _supplier_for(material: Material, company: Company, by_kind: dict[str, list[Supplier]],
                  session: Session, day: dt.date) -> Supplier:
    """The supplier whose contract applies to the material for the company on the day."""
    for supplier in by_kind[_material_kind(material)]:
        if services.applicable_contract_lines(
            session, company_id=company.id, day=day, supplier_id=supplier.id, material_ids=[material.id]
        ):
            return supplier
    raise RuntimeError(f"demo: no contract for {material.code} and {company.code}")


def _store(session: Session, company: Company, material: Material) -> Warehouse:
    stores = {w.code.rsplit("-", 1)[1]: w for w in session.scalars(
        select(Warehouse).where(Warehouse.company_id == company.id))}
    return next(stores[k] for k in STORE_PREFERENCE if k in stores and can_store(stores[k], material)[0])


def _place_orders(session: Session, actors: dict[str, Actor], companies: dict[str, Company],
                  materials: dict[str, Material], by_kind: dict[str, list[Supplier]], today: dt.date) -> int:
    threshold = load_settings().default_approval_threshold
    managers = {"group.buyer": actors["pm.group"], "buyer.form01": actors["pm.form01"]}
    for buyer, company_code, days_ago, lines, fate in ORDERS:
        day = today - dt.timedelta(days=days_ago)
        company = companies[company_code]
        supplier = _supplier_for(materials[lines[0][0]], company, by_kind, session, day)
        order = services.create_purchase_order(
            session, actors[buyer], receiving_company_id=company.id, supplier_id=supplier.id, order_date=day,
            today=day, lines=[
                {"material_id": materials[m].id, "quantity": Decimal(q),
                 "warehouse_id": _store(session, company, materials[m]).id}
                for m, q in lines
            ],
        )
        if fate == "draft":
            continue
        services.submit_order(session, actors[buyer], order.id, default_threshold=threshold, today=day)
        pending = order.status == PurchaseOrderStatus.PENDING_APPROVAL
        manager = managers[buyer]
        if fate == "reject" and pending:
            services.reject_order(session, manager, order.id, REASONS[fate])
        elif fate in ("approve", "close") and pending:
            services.approve_order(session, manager, order.id)
        if fate == "close":
            services.close_order(session, actors[buyer], order.id, REASONS[fate])
        elif fate == "cancel":
            services.cancel_order(session, actors[buyer], order.id, REASONS[fate])
    return len(ORDERS)
