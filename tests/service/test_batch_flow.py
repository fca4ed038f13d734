"""The flow of one batch: from which supplier and order it came, and where every unit went."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import NotFound
from erp.inventory import queries, services
from tests.stock import batch_id, decide, issue, open_order, receive, set_standard, transfer
from tests.world import World


@pytest.fixture
def traced_batch(session_factory: sessionmaker[Session], world: World) -> int:
    """Batch AMX-2611 of the central API (standard 52.00/kg): 100 kg received from supplier
    S0001 on order PO-K-AMOX-1 into A's cool store, released, then 30 kg issued to production,
    20 kg moved to the cold store and 25 kg shipped to customer K0001."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "300", "55.50", "A-COOL")], number="PO-K-AMOX-1")
    receive(session_factory, world, line, "100", batch="AMX-2611", on=dt.date(2026, 11, 20))
    batch = batch_id(session_factory, world, "api_central", "AMX-2611")
    decide(session_factory, world, "A-COOL", batch, on=dt.date(2026, 11, 21))
    issue(session_factory, world, "api_central", "30", warehouse="A-COOL", on=dt.date(2026, 11, 23))
    transfer(session_factory, world, "api_central", "20", "A-COOL", "A-COLD", on=dt.date(2026, 11, 24))
    with session_factory() as session, session.begin():
        services.ship_goods(
            session, world.actors["sales_a"], warehouse_id=world.warehouses["A-COOL"],
            material_id=world.materials["api_central"], quantity=D("25"), posting_date=dt.date(2026, 11, 25),
            customer_id=world.customers["cust1"], reference="SO-2611-07",
        )
    return batch


def test_batch_flow_names_supplier_order_and_customer_and_lists_every_movement(
    session_factory: sessionmaker[Session], world: World, traced_batch: int
) -> None:
    with session_factory() as session:
        flow = queries.batch_flow(session, world.actors["cost_a"], traced_batch)

    assert (flow.batch.batch_number, flow.batch.material_code, flow.batch.supplier_code) == (
        "AMX-2611", "API-AMOX", "S0001"
    )
    assert [(r.supplier_code, r.order_number, r.quantity, r.warehouse_code) for r in flow.receipts] == [
        ("S0001", "PO-K-AMOX-1", D("100"), "CA-COOL")
    ]
    assert [
        (m.movement_type.value, m.posting_date.day, m.warehouse_code, m.status.value, m.quantity, m.supplier_code,
         m.customer_code)
        for m in flow.movements
    ] == [
        ("receipt", 20, "CA-COOL", "quarantine", D("100"), "S0001", None),
        ("quality_release", 21, "CA-COOL", "quarantine", D("-100"), None, None),
        ("quality_release", 21, "CA-COOL", "unrestricted", D("100"), None, None),
        ("issue", 23, "CA-COOL", "unrestricted", D("-30"), None, None),
        ("transfer", 24, "CA-COOL", "unrestricted", D("-20"), None, None),
        ("transfer", 24, "CA-COLD", "unrestricted", D("20"), None, None),
        ("shipment", 25, "CA-COOL", "unrestricted", D("-25"), None, "K0001"),
    ]
    shipment = flow.movements[-1]
    assert (shipment.customer_name, shipment.reference) == ("第一医院", "SO-2611-07")
    assert flow.movements[3].destination == "production"
    # 100 received; 30 consumed and 25 sold; releases and transfers move without changing the total
    assert flow.totals == {
        "receipt": D("100"), "quality_release": D("0"), "issue": D("-30"), "transfer": D("0"), "shipment": D("-25"),
    }


def test_batch_flow_shows_what_remains_in_each_warehouse(
    session_factory: sessionmaker[Session], world: World, traced_batch: int
) -> None:
    with session_factory() as session:
        flow = queries.batch_flow(session, world.actors["cost_a"], traced_batch)
    # cool store: 100 - 30 - 20 - 25 = 25 kg x 52.00 = 1,300.00; cold store: 20 kg = 1,040.00
    assert {(r.warehouse_code, r.status.value): (r.quantity, r.value) for r in flow.on_hand} == {
        ("CA-COOL", "unrestricted"): (D("25"), D("1300.00")),
        ("CA-COLD", "unrestricted"): (D("20"), D("1040.00")),
    }


def test_another_companys_user_cannot_trace_the_batch(
    session_factory: sessionmaker[Session], world: World, traced_batch: int
) -> None:
    with session_factory() as session, pytest.raises(NotFound) as refused:
        queries.batch_flow(session, world.actors["clerk_b"], traced_batch)
    # the batch as the user knows it (number and material), not its database id
    assert "no batch AMX-2611 of material" in refused.value.detail
    assert f"batch {traced_batch} " not in refused.value.detail
    assert refused.value.extensions == {"batch_id": traced_batch}
