"""The demo's purchasing: contracts and orders made through the services, prices from contracts."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from erp.clock import business_today
from erp.demo.loader import load_demo
from erp.purchasing import services
from erp.masterdata.models import Company, Material
from erp.purchasing.models import Contract, ContractLine, ContractStatus, PurchaseOrder, PurchaseOrderLine


def test_demo_has_contracts_and_orders_in_every_state_purchasing_reaches(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        report = load_demo(session, seed=7)
    assert (report.counts["contracts"], report.counts["orders"]) == (17, 15)
    with session_factory() as session:
        statuses = Counter(session.scalars(select(PurchaseOrder.status)))
        # the 7 orders purchasing leaves open are then received by the inventory demo: every
        # third in part (2 of them), the others in full; FORM01's intercompany order to API01
        # stays open for the browser's intercompany sale (erp.demo.intercompany)
        assert statuses == {"received": 5, "partially_received": 2, "draft": 4, "closed": 2,
                            "pending_approval": 1, "cancelled": 1, "open": 1}
        contracts = session.scalars(select(Contract)).all()
        assert Counter(c.effective_status for c in contracts) == {
            ContractStatus.ACTIVE: 15, ContractStatus.EXPIRED: 1, ContractStatus.DRAFT: 1,
            ContractStatus.TERMINATED: 1,
        }
        # company contracts price local materials only: none is outside the purchasing rights (finding 46)
        assert services.company_lines_outside_rights(session, today=business_today()) == []


def test_every_demo_order_line_carries_its_contract_price(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        load_demo(session, seed=7)
    with session_factory() as session:
        rows = session.execute(
            select(PurchaseOrderLine, ContractLine).join(ContractLine, PurchaseOrderLine.contract_line_id == ContractLine.id)
        ).all()
        assert len(rows) == 22  # the lines listed in erp.demo.purchasing.ORDERS and erp.demo.intercompany's
        for order_line, contract_line in rows:
            assert order_line.unit_price == contract_line.unit_price
            assert order_line.amount == (order_line.quantity * order_line.unit_price).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_demo_shows_company_over_group_and_a_target_overrun(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        load_demo(session, seed=7)
    with session_factory() as session:
        form01 = session.scalars(select(Company).where(Company.code == "FORM01")).one()
        cartons = session.scalars(
            select(PurchaseOrderLine).join(Material, PurchaseOrderLine.material_id == Material.id)
            .join(PurchaseOrder).where(Material.code == "PKG-CART", PurchaseOrder.receiving_company_id == form01.id)
        ).one()
        assert cartons.unit_price == Decimal("0.35")  # FORM01's own contract, not the group's 0.38
        amox = session.scalars(
            select(ContractLine).join(Material, ContractLine.material_id == Material.id)
            .join(Contract).where(Material.code == "API-AMOX", Contract.status == ContractStatus.ACTIVE)
            .options(joinedload(ContractLine.contract), joinedload(ContractLine.material))
            .order_by(Contract.valid_from.desc()).limit(1)
        ).one()
        # 1200 (FORM01, approved) + 1000 (FORM02, pending) + 300 (FORM01 under its exception)
        assert (amox.ordered_quantity, amox.target_quantity) == (Decimal("2500"), Decimal("2000"))
