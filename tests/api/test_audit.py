"""The audit trail: every change to master data, prices, limits, rights and users is recorded
with who, when, before, after and why; the database refuses to change or remove a row."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from tests.world import PASSWORD, ApiClient, World, problem

SF = sessionmaker[Session]


def history(api: ApiClient, entity: str, entity_id: int, reader: str = "auditor") -> list[dict]:
    response = api.as_(reader).get(f"/api/v1/audit/{entity}/{entity_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_storage_requirement_and_credit_limit_changes_show_who_when_before_after_and_why(
    api: ApiClient, world: World
) -> None:
    material = world.materials["api_central"]  # stored at <= 20 °C, <= 65 % humidity
    started = dt.datetime.now(dt.UTC)
    changed = api.as_("steward").patch(f"/api/v1/materials/{material}", json={
        "storage_temp_max": "8", "storage_temp_min": "2", "reason": "supplier's stability data: 2-8 °C",
    })
    assert changed.status_code == 200, changed.get_json()
    customer = world.customers["cust1"]
    assert api.as_("credit").post(f"/api/v1/credit/customers/{customer}/limits", json={
        "credit_limit": "250000.00", "reason": "audited accounts 2025 reviewed"}).status_code == 201
    assert api.as_("credit").post(f"/api/v1/credit/customers/{customer}/limits", json={
        "credit_limit": "180000.00", "reason": "two invoices 60 days late"}).status_code == 201

    [storage] = history(api, "material", material)
    assert (storage["actor_id"], storage["actor_name"], storage["action"]) == (
        world.users["steward"], "steward", "change")
    assert storage["reason"] == "supplier's stability data: 2-8 °C"
    assert storage["changes"] == {
        "storage_temp_min": {"before": None, "after": "2.0"},
        "storage_temp_max": {"before": "20.0", "after": "8.0"},
    }
    when = dt.datetime.fromisoformat(storage["occurred_at"])
    assert started - dt.timedelta(seconds=1) <= when <= dt.datetime.now(dt.UTC)

    lowered, raised = history(api, "customer_credit", customer)  # newest first
    assert (raised["actor_name"], raised["action"], raised["reason"]) == (
        "credit", "limit-set", "audited accounts 2025 reviewed")
    assert raised["changes"] == {"credit_limit": {"before": None, "after": "250000.00"},
                                 "limit_version": {"before": 0, "after": 1}}
    assert lowered["changes"]["credit_limit"] == {"before": "250000.00", "after": "180000.00"}
    assert lowered["reason"] == "two invoices 60 days late"


def _an_audit_row(session_factory: SF, api: ApiClient, world: World) -> int:
    api.as_("steward").patch(f"/api/v1/customers/{world.customers['cust2']}", json={"payment_terms_days": 45})
    with session_factory() as session:
        return session.scalars(select(AuditEvent.id)).one()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET reason = 'nothing happened' WHERE id = :id",
    "UPDATE audit_events SET actor_name = 'someone else' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_database_refuses_to_change_or_remove_an_audit_row(
    session_factory: SF, api: ApiClient, world: World, statement: str
) -> None:
    row_id = _an_audit_row(session_factory, api, world)
    with session_factory() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement), {"id": row_id})
        session.rollback()
        assert session.get(AuditEvent, row_id).reason is None


@pytest.mark.postgres
def test_postgres_refuses_to_truncate_the_audit_trail(session_factory: SF, api: ApiClient, world: World) -> None:
    _an_audit_row(session_factory, api, world)
    with session_factory() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("TRUNCATE audit_events"))


@pytest.mark.parametrize("reader", ["auditor", "steward", "cio", "admin"])
def test_auditors_stewards_the_cio_and_admins_read_the_trail(api: ApiClient, world: World, reader: str) -> None:
    api.as_("steward").post(f"/api/v1/suppliers/{world.suppliers['sup2']}/deactivate", json={"reason": "merged"})
    [event] = history(api, "supplier", world.suppliers["sup2"], reader)
    assert (event["action"], event["changes"], event["reason"]) == (
        "deactivate", {"active": {"before": True, "after": False}}, "merged")


@pytest.mark.parametrize("user", ["buyer_a", "clerk_a", "credit", "cost_group", "sales_a", "group_buyer"])
def test_other_roles_may_not_read_the_trail(api: ApiClient, world: World, user: str) -> None:
    problem(api.as_(user).get(f"/api/v1/audit/material/{world.materials['api_central']}"), 403, "role-not-allowed")
    problem(api.as_(user).get("/api/v1/audit"), 403, "role-not-allowed")


def test_the_auditor_reads_and_changes_nothing(api: ApiClient, world: World) -> None:
    auditor = api.as_("auditor")
    assert auditor.get("/api/v1/materials").status_code == 200
    problem(auditor.patch(f"/api/v1/materials/{world.materials['exc_local']}", json={"name_en": "x"}), 403,
            "read-only-role")


def test_material_creation_shelf_life_inspection_and_deactivation_are_recorded(api: ApiClient, world: World) -> None:
    steward = api.as_("steward")
    created = steward.post("/api/v1/materials", json={
        "code": "API-PARA", "name_zh": "对乙酰氨基酚", "name_en": "Paracetamol", "material_type": "raw",
        "unit_id": world.units["KG"], "procurement_scope": "central", "shelf_life_days": 1095,
    }).get_json()
    steward.patch(f"/api/v1/materials/{created['id']}", json={"shelf_life_days": 730, "inspection_required": True,
                                                             "reason": "new monograph"})
    steward.patch(f"/api/v1/materials/{created['id']}", json={"shelf_life_days": 730})  # no change: nothing recorded
    steward.post(f"/api/v1/materials/{created['id']}/deactivate")
    deactivated, changed, creation = history(api, "material", created["id"])
    assert creation["action"] == "create"
    assert creation["changes"]["code"] == {"before": None, "after": "API-PARA"}
    assert creation["changes"]["shelf_life_days"] == {"before": None, "after": 1095}
    assert changed["changes"] == {"shelf_life_days": {"before": 1095, "after": 730},
                                  "inspection_required": {"before": False, "after": True}}
    assert changed["reason"] == "new monograph"
    assert (deactivated["action"], deactivated["reason"]) == ("deactivate", None)


def test_warehouse_and_company_records_carry_their_company(api: ApiClient, world: World) -> None:
    warehouse = world.warehouses["A-COLD"]
    api.as_("steward").patch(f"/api/v1/warehouses/{warehouse}", json={"temp_max": "6"})
    [event] = history(api, "warehouse", warehouse)
    assert event["company_id"] == world.companies["A"]
    assert event["changes"] == {"temp_max": {"before": "8.0", "after": "6.0"}}


def test_standard_price_changes_show_the_price_in_force_before(api: ApiClient, world: World) -> None:
    material = world.materials["exc_local"]
    for price in ("12.50", "13.00"):
        response = api.as_("cost_a").put("/api/v1/costing/standard-prices", json={
            "company_id": world.companies["A"], "period": "2026-11",
            "prices": [{"material_id": material, "price": price}]})
        assert response.status_code == 200, response.get_json()
    second, first = history(api, "standard_price", material)
    assert first["changes"] == {"price": {"before": None, "after": "12.500000"}}
    assert (first["action"], second["action"]) == ("create", "change")
    assert second["changes"] == {"price": {"before": "12.500000", "after": "13.000000"}}
    assert {first["company_id"], second["company_id"]} == {world.companies["A"]}


def test_contracts_and_purchasing_exceptions_are_recorded(api: ApiClient, world: World) -> None:
    contract = api.as_("group_buyer").post("/api/v1/purchasing/contracts", json={
        "number": "GC-2026-77", "supplier_id": world.suppliers["sup2"], "scope": "group",
        "valid_from": "2026-01-01", "valid_to": "2026-12-31",
        "lines": [{"material_id": world.materials["api_central"], "unit_price": "512.00"}]})
    assert contract.status_code == 201, contract.get_json()
    contract_id = contract.get_json()["id"]
    api.as_("group_buyer").post(f"/api/v1/purchasing/contracts/{contract_id}/activate")
    api.as_("group_buyer").post(f"/api/v1/purchasing/contracts/{contract_id}/terminate",
                                json={"reason": "supplier lost its GMP certificate"})
    terminated, activated, created = history(api, "contract", contract_id)
    assert created["changes"]["lines"]["after"] == [
        {"material_id": world.materials["api_central"], "unit_price": "512.000000", "target_quantity": None}]
    assert activated["changes"] == {"status": {"before": "draft", "after": "active"}}
    assert terminated["changes"] == {"status": {"before": "active", "after": "terminated"}}
    assert terminated["reason"] == "supplier lost its GMP certificate"

    granted = api.as_("steward").post("/api/v1/purchasing/exceptions", json={
        "company_id": world.companies["B"], "material_id": world.materials["api_central"],
        "valid_from": "2026-11-01", "valid_to": "2026-11-30", "reason": "central stock-out"}).get_json()
    api.as_("steward").post(f"/api/v1/purchasing/exceptions/{granted['id']}/revoke",
                            json={"reason": "  central stock delivered again  "})
    revoked, grant = history(api, "purchasing_exception", granted["id"])
    assert (grant["action"], grant["reason"], grant["company_id"]) == ("grant", "central stock-out",
                                                                        world.companies["B"])
    assert revoked["action"] == "revoke" and revoked["changes"]["revoked_at"]["before"] is None
    assert (revoked["reason"], revoked["company_id"]) == ("central stock delivered again", world.companies["B"])


def test_credit_holds_are_recorded_with_their_reason(api: ApiClient, world: World) -> None:
    customer = world.customers["cust2"]
    api.as_("credit").put(f"/api/v1/credit/customers/{customer}/hold", json={"on_hold": True, "reason": "cheque bounced"})
    api.as_("credit").put(f"/api/v1/credit/customers/{customer}/hold", json={"on_hold": False, "reason": "paid"})
    lifted, held = history(api, "customer_credit", customer)
    assert (held["action"], held["reason"], held["changes"]["on_hold"]) == (
        "hold", "cheque bounced", {"before": False, "after": True})
    assert (lifted["action"], lifted["changes"]["on_hold"]) == ("hold-lifted", {"before": True, "after": False})


def test_user_changes_sign_ins_failures_and_revocations_are_recorded(api: ApiClient, world: World) -> None:
    user = world.users["buyer_a"]
    api.post("/api/v1/auth/token", json={"username": "buyer_a", "password": "not it"})
    api.post("/api/v1/auth/token", json={"username": "nobody", "password": "not it"})
    signed_in = api.post("/api/v1/auth/token", json={"username": "buyer_a", "password": PASSWORD})
    assert signed_in.status_code == 201
    api.as_("admin").patch(f"/api/v1/users/{user}", json={
        "company_ids": [world.companies["A"], world.companies["B"]], "password": "a brand new secret",
        "reason": "covers company B's buying from December"})
    events = history(api, "user", user, "admin")
    assert [e["action"] for e in events] == ["tokens-revoked", "change", "sign-in", "sign-in-failed"]
    revoked, change, sign_in, failed = events
    assert change["changes"] == {
        "password": {"before": "[redacted]", "after": "[redacted] (changed)"},
        "company_ids": {"before": [world.companies["A"]], "after": [world.companies["A"], world.companies["B"]]},
    }
    assert change["reason"] == "covers company B's buying from December"
    assert revoked["changes"] == {"live_tokens": {"before": 2, "after": 0}}
    assert (sign_in["actor_id"], sign_in["client_address"]) == (user, "127.0.0.1")
    assert (failed["actor_id"], failed["actor_name"], failed["reason"]) == (None, "buyer_a", "wrong password")
    unknown = api.as_("auditor").get("/api/v1/audit", query_string={"action": "sign-in-failed"}).get_json()
    assert [(e["actor_name"], e["entity_id"], e["reason"]) for e in unknown] == [
        ("nobody", None, "unknown user"), ("buyer_a", user, "wrong password")]


def test_the_trail_is_filtered_by_entity_user_and_time(api: ApiClient, world: World) -> None:
    api.as_("steward").patch(f"/api/v1/customers/{world.customers['cust1']}", json={"payment_terms_days": 45})
    api.as_("steward").patch(f"/api/v1/suppliers/{world.suppliers['sup1']}", json={"name_en": "Huakang Pharma"})
    auditor = api.as_("auditor")
    listed = auditor.get("/api/v1/audit", query_string={"entity": "customer"}).get_json()
    assert [(e["entity"], e["entity_id"]) for e in listed] == [("customer", world.customers["cust1"])]
    mine = auditor.get("/api/v1/audit", query_string={"actor_id": world.users["steward"]}).get_json()
    assert len(mine) == 2
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    assert auditor.get("/api/v1/audit", query_string={"since": later}).get_json() == []
    problem(auditor.get("/api/v1/audit", query_string={"since": "2026-11-29T10:00:00"}), 422)  # no time zone
