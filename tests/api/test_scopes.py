"""Issue 14, items 4 and 5: a warehouse's company and a clerk's warehouses hold everywhere."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Warehouse
from erp.purchasing.models import PurchaseOrderLine
from tests.stock import batch_id, open_order, receive, set_standard
from tests.world import PASSWORD, ApiClient, World, problem

SF = sessionmaker[Session]


def received_into_cool_store(session_factory: SF, world: World) -> tuple[int, int]:
    """120 kg of the central API received into company A's cool store; (document, batch)."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    document = receive(session_factory, world, line, "120", warehouse="A-COOL")
    return document, batch_id(session_factory, world, "api_central", "B-001")


# --- 4. a warehouse's company -------------------------------------------------------------------

def test_a_warehouse_holding_stock_cannot_move_to_another_company(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    received_into_cool_store(session_factory, world)
    warehouse = world.warehouses["A-COOL"]
    body = problem(api.as_("steward").patch(f"/api/v1/warehouses/{warehouse}",
                                            json={"company_id": world.companies["B"]}), 409, "warehouse-in-use")
    assert "stock balance" in body["detail"] and "open purchase orders" in body["detail"]
    assert "clerk_a" in body["detail"]
    with session_factory() as session:
        assert session.get(Warehouse, warehouse).company_id == world.companies["A"]


def test_a_warehouse_with_an_open_order_cannot_move(api: ApiClient, world: World, session_factory: SF) -> None:
    open_order(session_factory, world, [("exc_local", "10", "8.00", "C-AMB")], company="C")
    body = problem(api.as_("steward").patch(f"/api/v1/warehouses/{world.warehouses['C-AMB']}",
                                            json={"company_id": world.companies["A"]}), 409, "warehouse-in-use")
    assert body["errors"][0]["pointer"] == "/company_id"


def test_an_unused_warehouse_may_move_and_the_move_is_recorded(api: ApiClient, world: World) -> None:
    warehouse = world.warehouses["C-COLD"]  # no stock, no orders, no clerks
    response = api.as_("steward").patch(f"/api/v1/warehouses/{warehouse}", json={
        "company_id": world.companies["A"], "reason": "plant C's cold store taken over by A"})
    assert response.status_code == 200, response.get_json()
    [event] = api.as_("auditor").get(f"/api/v1/audit/warehouse/{warehouse}").get_json()
    assert event["changes"] == {"company_id": {"before": world.companies["C"], "after": world.companies["A"]}}


def test_stock_check_reports_stock_left_under_another_company(
    app, world: World, session_factory: SF  # noqa: ANN001
) -> None:
    received_into_cool_store(session_factory, world)
    with session_factory() as session, session.begin():  # as a move before this rule would have left it
        session.execute(update(Warehouse).where(Warehouse.id == world.warehouses["A-COOL"])
                        .values(company_id=world.companies["B"]))
    result = app.test_cli_runner().invoke(args=["stock", "check"])
    assert result.exit_code == 1, result.output
    assert "stranded: company 1 holds 120.0000" in result.output
    assert "in warehouse CA-COOL, which belongs to company 2" in result.output
    assert "1 balance(s) held in a warehouse of another company" in result.output


# --- 5. a clerk's warehouses --------------------------------------------------------------------

def cold_store_clerk(api: ApiClient, world: World) -> ApiClient:
    """A clerk of company A bound to the cold store only, signed in."""
    created = api.as_("admin").post("/api/v1/users", json={
        "username": "clerk.cold", "display_name": "Cold store clerk", "password": PASSWORD, "role": "clerk",
        "company_ids": [world.companies["A"]], "warehouse_ids": [world.warehouses["A-COLD"]]})
    assert created.status_code == 201, created.get_json()
    token = api.post("/api/v1/auth/token", json={"username": "clerk.cold", "password": PASSWORD}).get_json()
    world.tokens["clerk.cold"] = token["access_token"]
    return api.as_("clerk.cold")


def test_a_clerk_does_not_read_documents_of_another_warehouse_of_the_company(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    document, _ = received_into_cool_store(session_factory, world)
    clerk = cold_store_clerk(api, world)
    problem(clerk.get(f"/api/v1/inventory/documents/{document}"), 404)
    assert api.as_("clerk_a").get(f"/api/v1/inventory/documents/{document}").status_code == 200


def test_a_clerk_does_not_follow_batches_through_another_warehouse(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    _, batch = received_into_cool_store(session_factory, world)
    clerk = cold_store_clerk(api, world)
    problem(clerk.get(f"/api/v1/inventory/batches/{batch}/flow"), 404)
    problem(clerk.get("/api/v1/inventory/batches/lookup", query_string={
        "material_id": world.materials["api_central"], "batch_number": "B-001"}), 404)
    assert api.as_("clerk_a").get(f"/api/v1/inventory/batches/{batch}/flow").status_code == 200


def test_a_clerk_reads_only_the_orders_delivering_to_their_warehouses(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    (cool_line,) = open_order(session_factory, world, [("exc_local", "10", "8.00", "A-COOL")])
    (cold_line,) = open_order(session_factory, world, [("exc_local", "10", "8.00", "A-COLD")])
    with session_factory() as session:
        cool_order, cold_order = (session.get(PurchaseOrderLine, line).order_id for line in (cool_line, cold_line))
    clerk = cold_store_clerk(api, world)
    assert [order["id"] for order in clerk.get("/api/v1/purchasing/orders").get_json()] == [cold_order]
    assert clerk.get(f"/api/v1/purchasing/orders/{cold_order}").status_code == 200
    problem(clerk.get(f"/api/v1/purchasing/orders/{cool_order}"), 404)
    assert {order["id"] for order in api.as_("clerk_a").get("/api/v1/purchasing/orders").get_json()} == {
        cool_order, cold_order}
