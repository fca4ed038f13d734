"""Guards on the group master that other modules' data decides (trial findings 139 and 140).

The intercompany link: a company stands only for the customer or supplier record of the same
legal entity (the same unified social credit code), and a record is linked, re-linked or
unlinked only while it carries no documents. A master-data admin linked DIST02 to the outside
customer K0014, and K0014's receivables vanished from the group's figures as intercompany.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.masterdata import services as masterdata
from erp.masterdata.errors import IntercompanyPartnerHasHistory, IntercompanyPartnerNotTheCompany
from erp.masterdata.models import Company, Customer, Supplier
from tests.credit import history_invoice
from tests.stock import open_order
from tests.world import USCC_COMPANY_A, USCC_COMPANY_C, USCC_CUSTOMER_1, World

SF = sessionmaker[Session]


def link(session_factory: SF, world: World, company: str, **changes: Any) -> None:
    with session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["admin"], masterdata.COMPANIES, world.companies[company],
                                 changes, reason="intercompany trade")


def own_records(session_factory: SF, world: World) -> None:
    """C's own customer record and A's own supplier record (the companies' codes), unused."""
    with session_factory() as session, session.begin():
        customer = Customer(code="K-CC", uscc=USCC_COMPANY_C, name_zh="丙公司", name_en="Company C")
        supplier = Supplier(code="S-CA", uscc=USCC_COMPANY_A, name_zh="甲公司", name_en="Company A")
        session.add_all([customer, supplier])
        session.flush()
        world.customers["company_c"], world.suppliers["company_a"] = customer.id, supplier.id


def links_of(session_factory: SF, world: World, company: str) -> tuple[int | None, int | None]:
    with session_factory() as session:
        found = session.get(Company, world.companies[company])
        assert found is not None
        return found.customer_id, found.supplier_id


def company_changes(session_factory: SF) -> int:
    with session_factory() as session:
        return len(session.scalars(select(AuditEvent.id).where(AuditEvent.entity == "company")).all())


@pytest.mark.postgres
def test_an_outside_customer_is_not_linked_to_a_company(session_factory: SF, world: World) -> None:
    """The finding: K0001 is a hospital, not company C: another code, refused, nothing written."""
    before = company_changes(session_factory)
    with pytest.raises(IntercompanyPartnerNotTheCompany) as refused:
        link(session_factory, world, "C", customer_id=world.customers["cust1"])
    assert USCC_CUSTOMER_1 in str(refused.value) and USCC_COMPANY_C in str(refused.value)
    assert refused.value.status == 422 and refused.value.errors[0]["pointer"] == "/customer_id"
    assert links_of(session_factory, world, "C") == (None, None)
    assert company_changes(session_factory) == before


@pytest.mark.postgres
def test_a_company_without_its_code_takes_no_link(session_factory: SF, world: World) -> None:
    own_records(session_factory, world)
    with session_factory() as session, session.begin():
        session.get(Company, world.companies["C"]).uscc = None  # type: ignore[union-attr]
    with pytest.raises(IntercompanyPartnerNotTheCompany, match="no unified social credit code recorded"):
        link(session_factory, world, "C", customer_id=world.customers["company_c"])
    assert links_of(session_factory, world, "C") == (None, None)
    # recorded, the same link is taken (the code and the link in one change as well)
    link(session_factory, world, "C", uscc=USCC_COMPANY_C, customer_id=world.customers["company_c"])
    assert links_of(session_factory, world, "C") == (world.customers["company_c"], None)


@pytest.mark.postgres
def test_the_companys_own_record_is_linked_while_it_carries_no_documents(session_factory: SF, world: World) -> None:
    own_records(session_factory, world)
    link(session_factory, world, "C", customer_id=world.customers["company_c"])
    link(session_factory, world, "A", supplier_id=world.suppliers["company_a"])
    assert links_of(session_factory, world, "C") == (world.customers["company_c"], None)
    assert links_of(session_factory, world, "A") == (None, world.suppliers["company_a"])
    # saving the page again with the same links is no change of link
    link(session_factory, world, "C", customer_id=world.customers["company_c"], supplier_id=None)
    # unused, a link may still be undone (a mistake caught before anything is booked)
    link(session_factory, world, "A", supplier_id=None)
    assert links_of(session_factory, world, "A") == (None, None)


@pytest.mark.postgres
def test_a_customer_record_with_invoices_is_not_linked(session_factory: SF, world: World) -> None:
    """Same legal entity, but the record already carries a receivable booked as an outside sale."""
    own_records(session_factory, world)
    history_invoice(session_factory, world, "company_c", dt.date(2026, 10, 10), "2500.00", company="B")
    with pytest.raises(IntercompanyPartnerHasHistory) as refused:
        link(session_factory, world, "C", customer_id=world.customers["company_c"])
    assert refused.value.status == 409 and "1 invoice(s) (AR-CB-2026-" in str(refused.value)
    assert links_of(session_factory, world, "C") == (None, None)


@pytest.mark.postgres
def test_a_supplier_record_with_purchase_orders_is_not_linked(session_factory: SF, world: World) -> None:
    own_records(session_factory, world)
    open_order(session_factory, world, [("exc_local", "10", "5.00", "B-AMB")], company="B", supplier="company_a")
    with pytest.raises(IntercompanyPartnerHasHistory) as refused:
        link(session_factory, world, "A", supplier_id=world.suppliers["company_a"])
    assert "1 purchase order(s) (PO-B-0001)" in str(refused.value)
    assert "contract(s)" in str(refused.value)  # the order's contract is a document with the supplier too
    assert links_of(session_factory, world, "A") == (None, None)


@pytest.mark.postgres
def test_a_linked_record_with_documents_keeps_its_link(session_factory: SF, world: World) -> None:
    """Unlinking or re-linking would re-classify the intercompany history; changing either
    side's code would break the identity the link rests on."""
    own_records(session_factory, world)
    link(session_factory, world, "C", customer_id=world.customers["company_c"])
    history_invoice(session_factory, world, "company_c", dt.date(2026, 10, 10), "2500.00", company="B")
    with pytest.raises(IntercompanyPartnerHasHistory, match="re-classify"):
        link(session_factory, world, "C", customer_id=None)
    assert links_of(session_factory, world, "C") == (world.customers["company_c"], None)
    with pytest.raises(IntercompanyPartnerNotTheCompany):
        link(session_factory, world, "C", uscc="91330100000000007Y")
    with pytest.raises(IntercompanyPartnerNotTheCompany, match="stands for company CC"), \
            session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["steward"], masterdata.CUSTOMERS,
                                 world.customers["company_c"], {"uscc": "913301000000000082"})
    with session_factory() as session:
        assert session.get(Customer, world.customers["company_c"]).uscc == USCC_COMPANY_C  # type: ignore[union-attr]


@pytest.mark.postgres
def test_a_new_company_is_linked_by_the_same_rules(session_factory: SF, world: World) -> None:
    with pytest.raises(IntercompanyPartnerNotTheCompany), session_factory() as session, session.begin():
        masterdata.create_record(session, world.actors["admin"], masterdata.COMPANIES, {
            "code": "CD", "name_zh": "丁", "name_en": "D", "segment_id": world.segments["FORM"],
            "uscc": "91330100000000007Y", "customer_id": world.customers["cust1"]})


# --- deactivation (trial finding 140) ----------------------------------------------------------

def deactivate(session_factory: SF, world: World, catalog: masterdata.Catalog, record_id: int) -> None:
    with session_factory() as session, session.begin():
        masterdata.set_record_active(session, world.actors["admin"], catalog, record_id, False, reason="test")


def is_active(session_factory: SF, model: Any, record_id: int) -> bool:
    with session_factory() as session:
        return bool(session.get(model, record_id).active)


@pytest.mark.postgres
def test_a_warehouse_with_stock_or_open_orders_is_not_deactivated(session_factory: SF, world: World) -> None:
    from erp.masterdata.errors import DeactivationBlocked
    from erp.masterdata.models import Warehouse
    from tests.credit import new_order, put_stock

    put_stock(session_factory, world, company="A", quantity="120")
    with pytest.raises(DeactivationBlocked) as refused:
        deactivate(session_factory, world, masterdata.WAREHOUSES, world.warehouses["A-AMB"])
    assert refused.value.status == 409
    assert "warehouse CA-AMB AMB still has stock on hand 120 KG (1 batch(es))" in str(refused.value)
    assert is_active(session_factory, Warehouse, world.warehouses["A-AMB"])
    new_order(session_factory, world, company="A")
    open_order(session_factory, world, [("exc_local", "10", "5.00", "A-AMB")], company="A", number="PO-OPEN-1")
    with pytest.raises(DeactivationBlocked) as refused:
        deactivate(session_factory, world, masterdata.WAREHOUSES, world.warehouses["A-AMB"])
    said = str(refused.value)
    print(said)
    assert "PO-OPEN-1" in said and "SO-CA-2026-000001" in said
    # the same rule through a change of the record's fields (imports, services)
    with pytest.raises(DeactivationBlocked), session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["admin"], masterdata.WAREHOUSES, world.warehouses["A-AMB"],
                                 {"active": False})
    # an empty warehouse without orders is deactivated, and reactivated
    deactivate(session_factory, world, masterdata.WAREHOUSES, world.warehouses["C-COLD"])
    assert not is_active(session_factory, Warehouse, world.warehouses["C-COLD"])
    with session_factory() as session, session.begin():
        masterdata.set_record_active(session, world.actors["admin"], masterdata.WAREHOUSES,
                                     world.warehouses["C-COLD"], True)
    assert is_active(session_factory, Warehouse, world.warehouses["C-COLD"])


@pytest.mark.postgres
def test_a_material_with_stock_or_open_orders_is_not_deactivated(session_factory: SF, world: World) -> None:
    from erp.masterdata.errors import DeactivationBlocked
    from erp.masterdata.models import Material

    open_order(session_factory, world, [("api_central", "10", "5.00", "B-COOL")], company="B", number="PO-AMOX-1")
    with pytest.raises(DeactivationBlocked) as refused:
        deactivate(session_factory, world, masterdata.MATERIALS, world.materials["api_central"])
    assert "1 open purchase order(s) (PO-AMOX-1)" in str(refused.value)
    assert is_active(session_factory, Material, world.materials["api_central"])
    deactivate(session_factory, world, masterdata.MATERIALS, world.materials["cold_central"])  # nothing left
    assert not is_active(session_factory, Material, world.materials["cold_central"])


@pytest.mark.postgres
def test_a_company_with_stock_or_an_open_period_with_postings_is_not_deactivated(
    session_factory: SF, world: World
) -> None:
    """Deactivated, the company would drop off the costing month-end board with November open."""
    from erp.masterdata.errors import DeactivationBlocked
    from tests.credit import put_stock

    put_stock(session_factory, world, company="B", quantity="120")
    with pytest.raises(DeactivationBlocked) as refused:
        deactivate(session_factory, world, masterdata.COMPANIES, world.companies["B"])
    said = str(refused.value)
    assert said.startswith("company CB Company B still has ") and "stock on hand 120 KG (1 batch(es))" in said
    assert "1 open period(s) with postings (2026-11)" in said
    assert is_active(session_factory, Company, world.companies["B"])
    deactivate(session_factory, world, masterdata.COMPANIES, world.companies["C"])  # never traded
    assert not is_active(session_factory, Company, world.companies["C"])


@pytest.mark.postgres
def test_a_material_in_an_unfinished_production_order_is_not_deactivated(session_factory: SF, world: World) -> None:
    """The product and its components: the order still issues and delivers them."""
    from erp.masterdata.errors import DeactivationBlocked
    from tests.production import build_plant, new_order as production_order

    plant = build_plant(session_factory, world)
    order = production_order(session_factory, world, "api", "10", release=False)
    for material in ("api", "acid"):
        with pytest.raises(DeactivationBlocked) as refused:
            deactivate(session_factory, world, masterdata.MATERIALS, world.materials[material])
        assert f"1 unfinished production order(s) (MO-{order:08d})" in str(refused.value)
    with pytest.raises(DeactivationBlocked, match="unfinished production order"):
        deactivate(session_factory, world, masterdata.WAREHOUSES, world.warehouses["A-AMB"])
    assert plant.tablet  # the tablet is in no order: deactivated
    deactivate(session_factory, world, masterdata.MATERIALS, world.materials["tablet"])


@pytest.mark.postgres
def test_a_partner_with_open_orders_is_not_deactivated(session_factory: SF, world: World) -> None:
    from erp.masterdata.errors import DeactivationBlocked
    from tests.credit import new_order

    open_order(session_factory, world, [("exc_local", "10", "5.00", "A-AMB")], company="A", supplier="sup2",
               number="PO-SUP2-1")
    with pytest.raises(DeactivationBlocked, match=r"1 open purchase order\(s\) \(PO-SUP2-1\)"):
        deactivate(session_factory, world, masterdata.SUPPLIERS, world.suppliers["sup2"])
    new_order(session_factory, world, company="B", customer="cust2")
    with pytest.raises(DeactivationBlocked, match=r"1 open sales order\(s\) \(SO-CB-2026-000001\)"):
        deactivate(session_factory, world, masterdata.CUSTOMERS, world.customers["cust2"])
    assert is_active(session_factory, Supplier, world.suppliers["sup2"])
    assert is_active(session_factory, Customer, world.customers["cust2"])
    deactivate(session_factory, world, masterdata.CUSTOMERS, world.customers["cust1"])  # nothing open
