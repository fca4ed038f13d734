"""Stock and costing in the demo group: standard prices, receipts on the open orders,
quality releases, issues to production, and last month closed.

Everything goes through the inventory and costing services, as the people would. Standard
prices are set for every company and material for the last three months, near the
contract prices, so receipts show variances both ways. Receipts are booked a few days
after each open order, most quarantined goods are released, part of the stock is issued
to production, and every company that posted before this month is closed up to last
month (each month in order), so the variance allocation report has something to show.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.costing.close import close_periods
from erp.costing.models import StandardPrice
from erp.inventory import services
from erp.inventory.models import StockBalance, StockStatus
from erp.masterdata.models import Company, Material, MaterialType, Warehouse
from erp.period import Period
from erp.quality import services as quality
from erp.quality.models import InspectionLot, LotStatus, UsageDecisionKind
from erp.purchasing.models import ContractLine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus

# Standard price ranges in CNY per unit for materials without a contract, by type.
PRICE_RANGE = {
    MaterialType.RAW: (20, 3000), MaterialType.INTERMEDIATE: (100, 1500), MaterialType.PACKAGING: (0.02, 20),
    MaterialType.TRADE: (3, 200), MaterialType.FINISHED: (5, 80),
}


def _batch_prefix(material_code: str) -> str:
    """The material's part of a batch number: its code after the type prefix (API-AMOX: AMOX),
    never starting with a dash."""
    return material_code.rsplit("-", 1)[-1]


def _actor(base: Actor, role: Role, company: Company, warehouses: list[Warehouse]) -> Actor:
    """The demo's user acting for ``company`` in ``role`` (one demo user per role exists;
    for the other companies their postings are recorded against the same user)."""
    return Actor(base.user_id, base.username, role, False, frozenset({company.id}),
                 frozenset(w.id for w in warehouses) if role == Role.CLERK else frozenset())


def _set_standard_prices(session: Session, rng: random.Random, periods: list[str], user_id: int) -> int:
    """A standard price for every company and material, near the lowest contract price."""
    contract = {
        material_id: price
        for material_id, price in session.execute(
            select(ContractLine.material_id, ContractLine.unit_price).order_by(ContractLine.unit_price.desc())
        )
    }
    materials = session.scalars(select(Material).order_by(Material.id)).all()
    companies = session.scalars(select(Company.id).order_by(Company.id)).all()
    rows = []
    for material in materials:
        low, high = PRICE_RANGE[material.material_type]
        base = contract.get(material.id) or Decimal(str(round(rng.uniform(low, high), 4)))
        for company_id in companies:
            price = (base * Decimal(str(round(rng.uniform(0.94, 1.06), 3)))).quantize(Decimal("0.000001"))
            rows += [{"company_id": company_id, "material_id": material.id, "period": p, "price": price,
                      "set_by": user_id} for p in periods]
    session.execute(StandardPrice.__table__.insert(), rows)
    return len(rows)


def load_inventory_demo(session: Session, rng: random.Random, today: dt.date, *, signing_password: str
                        ) -> dict[str, int]:
    """Prices, receipts, releases, issues and last month's close; returns counts. Releases
    are QA's signed usage decisions (``qa.group`` signs with ``signing_password``)."""
    session.flush()
    users = {u.username: actor_for_user(u) for u in session.scalars(select(User))}
    this_month = Period.of(today)
    last_month = this_month.previous()
    # Orders go back 55 days and arrive up to 9 days later: in the month before last too,
    # when today is early in its month.
    first_month = last_month.previous()
    counts = {"standard prices": _set_standard_prices(session, rng, [first_month, last_month, this_month],
                                                      users["cost.group"].user_id)}
    stores: dict[int, list[Warehouse]] = {}
    for warehouse in session.scalars(select(Warehouse).order_by(Warehouse.id)):
        stores.setdefault(warehouse.company_id, []).append(warehouse)
    companies = {c.id: c for c in session.scalars(select(Company))}
    receipts = 0
    orders = session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.status == PurchaseOrderStatus.OPEN).order_by(PurchaseOrder.id)
    ).all()
    posted_in: dict[int, set[Period]] = {}
    for index, order in enumerate(orders):
        company = companies[order.receiving_company_id]
        clerk = _actor(users["clerk.form01"], Role.CLERK, company, stores[company.id])
        day = min(order.order_date + dt.timedelta(days=rng.randint(3, 9)), today)
        lines = session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id)
                                .order_by(PurchaseOrderLine.line_no)).all()
        for line in lines:
            material = session.get(Material, line.material_id)
            assert material is not None
            # every third order arrives in part; the rest in full
            partial = (line.quantity * Decimal("0.6")).quantize(Decimal("1"))
            quantity = line.quantity if index % 3 or partial == 0 else partial
            made = day - dt.timedelta(days=rng.randint(20, 120))
            services.receive_goods(session, clerk, services.ReceiptRequest(
                po_line_id=line.id, quantity=quantity, posting_date=day,
                # as a supplier's batch reads: the material's short name, the day, a serial
                batch_number=f"{_batch_prefix(material.code)}{day:%y%m%d}{line.id:03d}"
                if material.batch_managed else None,
                manufacture_date=made if material.batch_managed else None,
                expiry_date=made + dt.timedelta(days=material.shelf_life_days or 1095)
                if material.batch_managed else None,
                delivery_note=f"DN{day:%y%m%d}{line.id:04d}",
            ))
            receipts += 1
            posted_in.setdefault(company.id, set()).add(Period.of(day))
    counts["receipts"] = receipts
    counts["specifications"] = _specify_inspected_materials(session, users["qa.group"], today)
    counts["releases"], counts["issues"] = _release_and_issue(session, users, companies, stores, rng, today,
                                                              signing_password)
    # Every company that posted before this month closes up to last month, in order.
    closing = sorted(company_id for company_id, periods in posted_in.items() if min(periods) < this_month)
    closes = 0
    if closing:
        results = close_periods(session, users["cost.group"], company_ids=closing, period=last_month)
        closes = sum(len(result.closed_now) for result in results)
    counts["periods closed"] = closes
    return counts


# The demo's specification of every inspected material: an assay and the appearance.
DEMO_SPECIFICATION = [
    quality.CharacteristicInput("ASSAY", "含量", "Assay", "%", minimum=Decimal("98.0"), maximum=Decimal("102.0")),
    quality.CharacteristicInput("APPEARANCE", "性状", "Appearance", expected_text="符合规定"),
]
DEMO_RESULTS = [quality.ResultInput("ASSAY", Decimal("99.6")), quality.ResultInput("APPEARANCE", text="符合规定")]


def _specify_inspected_materials(session: Session, group_qa: Actor, today: dt.date) -> int:
    """Group QA's specification, in force from today, of every material that needs inspection."""
    materials = session.scalars(select(Material.id).where(Material.inspection_required.is_(True))
                                .order_by(Material.id)).all()
    for material_id in materials:
        quality.create_specification(session, group_qa, material_id=material_id, effective_from=today,
                                     reason="企业内控标准", characteristics=DEMO_SPECIFICATION)
    return len(materials)


def _release_and_issue(session: Session, users: dict[str, Actor], companies: dict[int, Company],
                       stores: dict[int, list[Warehouse]], rng: random.Random, today: dt.date,
                       signing_password: str) -> tuple[int, int]:
    """Quality releases most quarantined batches (the laboratory's results, then QA's signed
    usage decision on each lot); production then takes part of the stock."""
    releases = issues = 0
    lots = session.execute(
        select(InspectionLot.id, InspectionLot.company_id).where(InspectionLot.status == LotStatus.OPEN)
        .order_by(InspectionLot.id)
    ).all()
    for n, (lot_id, company_id) in enumerate(lots):
        if n % 5 == 4:
            continue  # still waiting for the laboratory
        analyst = _actor(users["quality.form01"], Role.QUALITY, companies[company_id], stores[company_id])
        quality.record_results(session, analyst, lot_id=lot_id, results=DEMO_RESULTS)
        quality.decide_usage(session, users["qa.group"], lot_id=lot_id, decision=UsageDecisionKind.RELEASE,
                             password=signing_password, posting_date=today).signed()
        releases += 1
    unrestricted = session.execute(
        select(StockBalance.company_id, StockBalance.warehouse_id, StockBalance.material_id,
               StockBalance.quantity, Material.material_type)
        .join(Material, Material.id == StockBalance.material_id)
        .where(StockBalance.status == StockStatus.UNRESTRICTED, StockBalance.quantity > 0)
        .order_by(StockBalance.id)
    ).all()
    for company_id, warehouse_id, material_id, quantity, material_type in unrestricted:
        if material_type not in (MaterialType.RAW, MaterialType.PACKAGING) or rng.random() < 0.4:
            continue
        clerk = _actor(users["clerk.form01"], Role.CLERK, companies[company_id], stores[company_id])
        share = Decimal(str(round(rng.uniform(0.1, 0.5), 2)))
        taken = (quantity * share).quantize(Decimal("1"))
        if taken <= 0:
            continue
        services.issue_goods(session, clerk, warehouse_id=warehouse_id, material_id=material_id, quantity=taken,
                             posting_date=today, destination=services.IssueDestination.PRODUCTION,
                             reference=f"MO-{today:%y%m%d}-{issues + 1:03d}")
        issues += 1
    return releases, issues
