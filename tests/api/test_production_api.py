"""Production through the API: a BOM, the roll-up with its breakdown, the release, refusals."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User, UserCompany, UserWarehouse
from erp.auth.roles import Role
from erp.auth.services import issue_token

from tests.production import NOV, build_plant, buy, release_rollup
from tests.world import PASSWORD_HASH, ApiClient, World, problem


def test_bom_rollup_breakdown_and_release(session_factory: sessionmaker[Session], world: World,
                                          api: ApiClient) -> None:
    plant = build_plant(session_factory, world, with_boms=False)
    cost = api.as_("cost_a")
    company = world.companies["A"]
    api_bom = cost.post("/api/v1/production/boms", json={
        "company_id": company, "material_id": plant.api, "valid_from": "2026-11-01", "base_quantity": "10",
        "cost_center": "API-REACT", "hours": "2",
        "components": [{"material_id": plant.acid, "quantity": "12"},
                       {"material_id": plant.solvent, "quantity": "5", "scrap_pct": "4"}]})
    assert api_bom.status_code == 201, api_bom.json
    assert api_bom.json["version"] == 1
    assert [c["quantity"] for c in api_bom.json["components"]] == ["12.000000", "5.000000"]
    # a raw material has no BOM; a repeated valid-from date is not a later version
    problem(cost.post("/api/v1/production/boms", json={
        "company_id": company, "material_id": plant.acid, "valid_from": "2026-11-01", "base_quantity": "1",
        "components": [{"material_id": plant.solvent, "quantity": "1"}]}), 422, "not-a-made-material")
    problem(cost.post("/api/v1/production/boms", json={
        "company_id": company, "material_id": plant.api, "valid_from": "2026-11-01", "base_quantity": "1",
        "components": [{"material_id": plant.solvent, "quantity": "1"}]}), 409, "bom-version-not-later")
    problem(api.as_("clerk_a").post("/api/v1/production/boms", json={
        "company_id": company, "material_id": plant.api, "valid_from": "2026-12-01", "base_quantity": "1",
        "components": [{"material_id": plant.solvent, "quantity": "1"}]}), 403, "role-not-allowed")
    boms = cost.get("/api/v1/production/boms", query_string={"company_id": company}).get_json()
    assert not any(b.get("valid_from") == "2026-12-01" for b in boms), boms  # nothing written

    run = cost.post("/api/v1/production/rollups", json={"company_id": company, "period": NOV})
    assert run.status_code == 201, run.json
    assert (run.json["status"], run.json["levels"]) == ("computed", 1)
    estimates = cost.get(f"/api/v1/production/rollups/{run.json['id']}/estimates").json
    assert [(e["material_code"], e["unit_cost"]) for e in estimates] == [("API-X", "110.400000")]
    assert {(line["element"], line["component_code"], line["amount"]) for line in estimates[0]["lines"]} == {
        ("material", "R-ACID", "600.000000"), ("material", "R-SOLV", "104.000000"),
        ("labour", None, "160.000000"), ("overhead", None, "240.000000")}
    problem(cost.post(f"/api/v1/production/rollups/{run.json['id']}/release", json={}), 422, "validation-error")
    released = cost.post(f"/api/v1/production/rollups/{run.json['id']}/release", json={"reason": "new standards"})
    assert released.json["status"] == "released"
    prices = cost.get(f"/api/v1/costing/standard-prices?company_id={company}&period={NOV}").json
    assert {p["material_id"]: p["price"] for p in prices}[plant.api] == "110.400000"
    problem(cost.post(f"/api/v1/production/rollups/{run.json['id']}/release", json={"reason": "again"}), 409,
            "rollup-already-released")
    # other companies' runs are not shown
    problem(api.as_("cost_a").get("/api/v1/production/rollups/999999"), 404, "not-found")


def test_an_order_from_creation_to_delivery_and_its_genealogy(session_factory: sessionmaker[Session], world: World,
                                                              api: ApiClient) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    acid = buy(session_factory, world, "acid", "150", "50.00", "ACID-1")
    buy(session_factory, world, "solvent", "60", "20.00", "SOLV-1", supplier="sup2")
    clerk = api.as_("clerk_a")
    created = clerk.post("/api/v1/production/orders", json={
        "company_id": world.companies["A"], "material_id": plant.api, "quantity": "100", "order_date": "2026-11-02",
        "warehouse_id": world.warehouses["A-AMB"]})
    assert created.status_code == 201, created.json
    order = created.json["id"]
    assert [c["planned_quantity"] for c in created.json["components"]] == ["120.0000", "52.0000"]
    problem(clerk.post(f"/api/v1/production/orders/{order}/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "posting_date": "2026-11-10",
        "items": [{"material_id": plant.acid, "quantity": "120"}]}), 409, "production-order-state")
    assert clerk.post(f"/api/v1/production/orders/{order}/release").json["status"] == "released"
    issued = clerk.post(f"/api/v1/production/orders/{order}/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "posting_date": "2026-11-10",
        "items": [{"material_id": plant.acid, "quantity": "120", "batch_id": acid},
                  {"material_id": plant.solvent, "quantity": "52"}]})
    assert issued.status_code == 201 and len(issued.json["document_ids"]) == 2
    problem(clerk.post(f"/api/v1/production/orders/{order}/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "posting_date": "2026-11-10",
        "items": [{"material_id": plant.excipient, "quantity": "1"}]}), 422, "not-a-component")
    delivered = clerk.post(f"/api/v1/production/orders/{order}/deliveries",
                           json={"quantity": "100", "posting_date": "2026-11-20", "batch_number": "API-B1"})
    assert delivered.status_code == 201, delivered.json
    done = clerk.post(f"/api/v1/production/orders/{order}/complete", json={"completed_on": "2026-11-28"})
    assert (done.json["status"], done.json["delivered_quantity"]) == ("completed", "100.0000")
    up = clerk.get(f"/api/v1/production/batches/{acid}/genealogy?direction=up").json
    assert [(b["batch_number"], b["depth"]) for b in up["batches"]] == [("ACID-1", 0), ("API-B1", 1)]
    listed = clerk.get(f"/api/v1/production/orders?company_id={world.companies['A']}&status=completed").json
    assert [o["number"] for o in listed] == [f"MO-{order:08d}"]
    assert clerk.get(f"/api/v1/production/orders/{order}/variances").json == []
    closed = api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close")
    assert closed.status_code == 200, closed.json
    # issued exactly the plan for what was delivered: every category settles at zero
    settled = clerk.get(f"/api/v1/production/orders/{order}/variances").json
    assert {(v["category"], v["amount"]) for v in settled} == {
        ("input_quantity", "0.00"), ("input_price", "0.00"), ("lot_size", "0.00")}
    # the order is completed and settled: its issues are no longer reversed through the warehouse
    problem(clerk.post(f"/api/v1/inventory/issues/{issued.json['document_ids'][0]}/reversal",
                       json={"posting_date": "2026-12-02", "reason": "wrong order"}), 409, "production-order-closed")
    # ... nor its deliveries
    problem(clerk.post(f"/api/v1/production/orders/{order}/deliveries/{delivered.json['document_id']}/reversal",
                       json={"posting_date": "2026-11-28", "reason": "counted twice"}), 409, "production-order-closed")
    problem(clerk.post(f"/api/v1/production/orders/{order}/deliveries/{issued.json['document_ids'][0]}/reversal",
                       json={"posting_date": "2026-11-28", "reason": "counted twice"}), 404, "not-found")


def test_a_clerk_of_another_warehouse_neither_plans_nor_runs_an_order(
        session_factory: sessionmaker[Session], world: World, api: ApiClient) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    with session_factory() as session, session.begin():
        user = User(username="clerk_cool", display_name="clerk_cool", password_hash=PASSWORD_HASH, role=Role.CLERK,
                    group_wide=False, companies=[UserCompany(company_id=world.companies["A"])],
                    warehouses=[UserWarehouse(warehouse_id=world.warehouses["A-COOL"])])
        session.add(user)
        session.flush()
        world.tokens["clerk_cool"] = issue_token(session, user.id, ttl_minutes=60).token
    new = {"company_id": world.companies["A"], "material_id": plant.tablet, "quantity": "1000",
           "order_date": "2026-11-02", "warehouse_id": world.warehouses["A-AMB"]}
    cool = api.as_("clerk_cool")
    problem(cool.post("/api/v1/production/orders", json=new), 403, "clerk-not-of-warehouse")
    created = api.as_("clerk_a").post("/api/v1/production/orders", json=new)
    assert created.status_code == 201, created.json
    for action in ("release", "cancel"):
        problem(cool.post(f"/api/v1/production/orders/{created.json['id']}/{action}"), 403, "clerk-not-of-warehouse")
    assert cool.post("/api/v1/production/orders", json={**new, "warehouse_id": world.warehouses["A-COOL"]}
                     ).status_code == 201


def test_an_order_delivers_again_into_its_batch_after_reversing_its_only_delivery(
        session_factory: sessionmaker[Session], world: World, api: ApiClient) -> None:
    """10 kg of API-X delivered into API-B9 and reversed leave API-B9 holding nothing and
    unlinked from the order; the order delivers 5 kg into API-B9 again (201) and owns it:
    another order is refused it, 409 output-batch-taken, naming the order it is the output of."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    clerk = api.as_("clerk_a")
    new = {"company_id": world.companies["A"], "material_id": plant.api, "quantity": "100",
           "order_date": "2026-11-02", "warehouse_id": world.warehouses["A-AMB"]}
    first, second = (clerk.post("/api/v1/production/orders", json=new).json for _ in range(2))
    for order in (first, second):
        assert clerk.post(f"/api/v1/production/orders/{order['id']}/release").status_code == 200
    deliveries = f"/api/v1/production/orders/{first['id']}/deliveries"
    delivered = clerk.post(deliveries, json={"quantity": "10", "posting_date": "2026-11-20", "batch_number": "API-B9"})
    assert delivered.status_code == 201, delivered.json
    reversed_ = clerk.post(f"{deliveries}/{delivered.json['document_id']}/reversal",
                           json={"posting_date": "2026-11-21", "reason": "wrong order"})
    assert reversed_.status_code == 201, reversed_.json
    again = clerk.post(deliveries, json={"quantity": "5", "posting_date": "2026-11-21", "batch_number": "API-B9"})
    assert again.status_code == 201, again.json
    assert clerk.get(f"/api/v1/production/orders/{first['id']}").json["delivered_quantity"] == "5.0000"
    taken = {"quantity": "1", "posting_date": "2026-11-21", "batch_number": "API-B9"}
    zh = problem(clerk.post(f"/api/v1/production/orders/{second['id']}/deliveries", json=taken,
                            headers={"Accept-Language": "zh-CN"}), 409, "output-batch-taken")
    assert zh["detail"] == f"API-X 的批次 API-B9 是生产订单 {first['number']} 的产出"
    en = problem(clerk.post(f"/api/v1/production/orders/{second['id']}/deliveries", json=taken,
                            headers={"Accept-Language": "en"}), 409, "output-batch-taken")
    assert en["detail"] == f"batch API-B9 of API-X is the output of production order {first['number']}"
