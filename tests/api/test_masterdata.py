"""The group master through the API: every resource's life cycle, validation and scoping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Customer, Material, Supplier, Warehouse
from tests.world import USCC_CUSTOMER_1, USCC_SUPPLIER_1, ApiClient, World, problem

VALID_USCC = "91440300000000004T"  # check character computed with python-stdnum


def count(session_factory: sessionmaker[Session], model: Any) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def new_material(world: World, **overrides: Any) -> dict[str, Any]:
    payload = {
        "code": "API-PARA", "name_zh": "对乙酰氨基酚", "name_en": "Paracetamol",
        "material_type": "raw", "unit_id": world.units["KG"], "procurement_scope": "central",
        "storage_temp_max": "30", "shelf_life_days": 1825, "batch_managed": True,
        "inspection_required": True, "over_receipt_tolerance_pct": "2",
    }
    payload.update(overrides)
    return payload


# --- life cycle of each resource --------------------------------------------------------

def test_material_life_cycle(api: ApiClient, world: World) -> None:
    steward = api.as_("steward")
    created = steward.post("/api/v1/materials", json=new_material(world))
    assert created.status_code == 201, created.get_json()
    material = created.get_json()
    assert material["code"] == "API-PARA"
    assert material["unit_code"] == "KG"
    assert material["over_receipt_tolerance_pct"] == "2.00"
    assert material["storage_temp_max"] == "30.0"
    assert material["active"] is True

    url = f"/api/v1/materials/{material['id']}"
    assert steward.get(url).get_json()["name_zh"] == "对乙酰氨基酚"
    changed = steward.patch(url, json={"name_en": "Paracetamol (acetaminophen)", "procurement_scope": "local"})
    assert changed.status_code == 200
    assert changed.get_json()["procurement_scope"] == "local"
    assert changed.get_json()["code"] == "API-PARA"

    deactivated = steward.post(f"{url}/deactivate")
    assert deactivated.status_code == 200 and deactivated.get_json()["active"] is False
    assert steward.post(f"{url}/reactivate").get_json()["active"] is True


def test_the_code_is_permanent(api: ApiClient, world: World) -> None:
    url = f"/api/v1/materials/{world.materials['exc_local']}"
    body = problem(api.as_("steward").patch(url, json={"code": "NEW"}), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/code"


def test_supplier_life_cycle_with_uscc(api: ApiClient) -> None:
    steward = api.as_("steward")
    payload = {"code": "S0100", "uscc": VALID_USCC.lower(), "name_zh": "新供应商", "name_en": "New supplier"}
    created = steward.post("/api/v1/suppliers", json=payload)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["uscc"] == VALID_USCC  # normalised
    blocked = steward.patch(f"/api/v1/suppliers/{created.get_json()['id']}", json={"blocked": True})
    assert blocked.get_json()["blocked"] is True


def test_customer_life_cycle(api: ApiClient) -> None:
    steward = api.as_("steward")
    payload = {"code": "K0100", "uscc": VALID_USCC, "name_zh": "新客户", "name_en": "New customer",
               "payment_terms_days": 60}
    created = steward.post("/api/v1/customers", json=payload)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["payment_terms_days"] == 60
    listed = steward.get("/api/v1/customers", query_string={"q": "新客户"}).get_json()
    assert [c["code"] for c in listed] == ["K0100"]


def test_warehouse_life_cycle(api: ApiClient, world: World) -> None:
    steward = api.as_("steward")
    payload = {"code": "CA-FREEZE", "company_id": world.companies["A"], "name_zh": "冷冻库", "name_en": "Freezer",
               "temp_min": "-25", "temp_max": "-15", "max_humidity": "60"}
    created = steward.post("/api/v1/warehouses", json=payload)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["temp_min"] == "-25.0"


def test_unit_segment_and_company_life_cycle(api: ApiClient, world: World) -> None:
    admin = api.as_("admin")
    unit = admin.post("/api/v1/units", json={"code": "L", "name_zh": "升", "name_en": "litre", "decimals": 3})
    assert unit.status_code == 201, unit.get_json()
    segment = admin.post("/api/v1/segments", json={"code": "DIST", "name_zh": "流通", "name_en": "Distribution"})
    assert segment.status_code == 201, segment.get_json()
    company = admin.post("/api/v1/companies", json={
        "code": "CD", "segment_id": segment.get_json()["id"], "name_zh": "丁公司", "name_en": "Company D",
        "uscc": VALID_USCC, "approval_threshold": "150000",
    })
    assert company.status_code == 201, company.get_json()
    assert company.get_json()["approval_threshold"] == "150000.00"


def test_only_admins_create_companies(api: ApiClient, world: World) -> None:
    payload = {"code": "CD", "segment_id": world.segments["FORM"], "name_zh": "丁", "name_en": "D"}
    problem(api.as_("steward").post("/api/v1/companies", json=payload), 403, "role-not-allowed")


@pytest.mark.parametrize("user", ["buyer_a", "clerk_a", "sales_a", "cost_a", "group_buyer"])
def test_only_stewards_and_admins_write_materials(api: ApiClient, world: World, user: str) -> None:
    problem(api.as_(user).post("/api/v1/materials", json=new_material(world)), 403, "role-not-allowed")


# --- list, filters, pagination ------------------------------------------------------------

def test_list_filters_and_paginates(api: ApiClient, world: World) -> None:
    steward = api.as_("steward")
    central = steward.get("/api/v1/materials", query_string={"procurement_scope": "central"}).get_json()
    assert {m["code"] for m in central} == {"API-AMOX", "API-INSU"}
    inactive = steward.get("/api/v1/materials", query_string={"active": "false"}).get_json()
    assert [m["code"] for m in inactive] == ["EXC-OLD"]
    page = steward.get("/api/v1/materials", query_string={"page": 2, "page_size": 2})
    assert [m["code"] for m in page.get_json()] == ["EXC-OLD", "EXC-STAR"]  # ordered by code
    meta = json.loads(page.headers["X-Pagination"])
    assert meta["total"] == 5 and meta["page"] == 2 and meta["total_pages"] == 3


def test_bad_filter_value_is_a_422_naming_the_parameter(api: ApiClient) -> None:
    body = problem(api.as_("steward").get("/api/v1/materials", query_string={"material_type": "gas"}), 422)
    assert body["errors"][0]["pointer"] == "/material_type"
    assert body["errors"][0]["in"] == "query"


def test_page_size_is_bounded(api: ApiClient) -> None:
    problem(api.as_("steward").get("/api/v1/materials", query_string={"page_size": 100000}), 422)


# --- unified social credit codes ----------------------------------------------------------

@pytest.mark.parametrize("resource", ["suppliers", "customers"])
def test_invalid_uscc_is_a_422_naming_the_field(
    api: ApiClient, session_factory: sessionmaker[Session], resource: str
) -> None:
    before = count(session_factory, Supplier) + count(session_factory, Customer)
    payload = {"code": "X0001", "uscc": "91330100000000001D", "name_zh": "甲", "name_en": "A"}
    body = problem(api.as_("steward").post(f"/api/v1/{resource}", json=payload), 422, "validation-error")
    assert body["errors"] == [
        {"pointer": "/uscc", "detail": "not a valid unified social credit code (The number's checksum or check digit is invalid.)"}
    ]
    assert count(session_factory, Supplier) + count(session_factory, Customer) == before


@pytest.mark.parametrize(("resource", "existing"), [("suppliers", USCC_SUPPLIER_1), ("customers", USCC_CUSTOMER_1)])
def test_duplicate_uscc_is_a_409(api: ApiClient, resource: str, existing: str) -> None:
    payload = {"code": "X0001", "uscc": existing, "name_zh": "甲", "name_en": "A"}
    body = problem(api.as_("steward").post(f"/api/v1/{resource}", json=payload), 409, "duplicate-uscc")
    assert body["errors"][0]["pointer"] == "/uscc"


def test_duplicate_code_is_a_409(api: ApiClient, world: World) -> None:
    body = problem(api.as_("steward").post("/api/v1/materials", json=new_material(world, code="API-AMOX")),
                   409, "duplicate-code")
    assert body["errors"][0]["pointer"] == "/code"


def test_changing_uscc_to_another_partners_is_a_409(api: ApiClient, world: World) -> None:
    url = f"/api/v1/suppliers/{world.suppliers['sup2']}"
    problem(api.as_("steward").patch(url, json={"uscc": USCC_SUPPLIER_1}), 409, "duplicate-uscc")


# --- bad input: always 4xx, never 500, nothing written -------------------------------------

@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("{not json", 400),
        ("[1, 2]", 422),
        ('"a string"', 422),
    ],
)
def test_malformed_bodies(api: ApiClient, session_factory: sessionmaker[Session], raw: str, status: int) -> None:
    response = api.as_("steward").post("/api/v1/materials", data=raw, content_type="application/json")
    problem(response, status)
    assert count(session_factory, Material) == 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unit_id": "KG"}, "unit_id"),  # wrong type
        ({"unit_id": 10**20}, "unit_id"),  # huge number
        ({"unit_id": 999999}, "unit_id"),  # no such unit
        ({"shelf_life_days": 1e400}, "shelf_life_days"),  # absurd
        ({"over_receipt_tolerance_pct": "1e30"}, "over_receipt_tolerance_pct"),
        ({"over_receipt_tolerance_pct": "2.555"}, "over_receipt_tolerance_pct"),
        ({"storage_temp_min": "25", "storage_temp_max": "20"}, "storage_temp_min"),
        ({"material_type": "plutonium"}, "material_type"),
        ({"code": "has space"}, "code"),
        ({"code": ""}, "code"),
        ({"name_zh": ""}, "name_zh"),
        ({"name_en": "x" * 201}, "name_en"),
        ({"surprise": 1}, "surprise"),  # unknown field
    ],
)
def test_invalid_material_is_refused_and_nothing_written(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], overrides: dict, field: str
) -> None:
    response = api.as_("steward").post("/api/v1/materials", json=new_material(world, **overrides))
    body = problem(response, 422)
    assert any(e["pointer"] == f"/{field}" for e in body["errors"]), body
    assert count(session_factory, Material) == 5


def test_missing_required_fields_are_all_named(api: ApiClient) -> None:
    body = problem(api.as_("steward").post("/api/v1/materials", json={}), 422)
    named = {e["pointer"] for e in body["errors"]}
    assert {"/code", "/name_zh", "/name_en", "/material_type", "/unit_id", "/procurement_scope"} <= named


def test_json_numbers_are_read_exactly(api: ApiClient, world: World) -> None:
    # 0.1 as a float would be 0.1000000000000000055511151231257827; as Decimal it is exact
    response = api.as_("steward").post(
        "/api/v1/materials", data=json.dumps(new_material(world)).replace('"2"', "0.1"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["over_receipt_tolerance_pct"] == "0.10"


def test_warehouse_band_must_be_ordered_on_update_too(api: ApiClient, world: World) -> None:
    url = f"/api/v1/warehouses/{world.warehouses['A-COLD']}"
    body = problem(api.as_("steward").patch(url, json={"temp_min": "9"}), 422)
    assert body["errors"][0]["pointer"] == "/temp_min"


def test_material_needs_an_active_unit(api: ApiClient, world: World) -> None:
    admin = api.as_("admin")
    admin.post(f"/api/v1/units/{world.units['EA']}/deactivate")
    body = problem(admin.post("/api/v1/materials", json=new_material(world, unit_id=world.units["EA"])), 422)
    assert body["errors"][0]["pointer"] == "/unit_id"


def test_unknown_record_is_404(api: ApiClient) -> None:
    problem(api.as_("steward").get("/api/v1/materials/424242"), 404, "not-found")


# --- in use: deactivate, never delete ------------------------------------------------------

def test_unused_record_can_be_deleted(api: ApiClient, world: World) -> None:
    created = api.as_("steward").post("/api/v1/materials", json=new_material(world)).get_json()
    assert api.as_("steward").delete(f"/api/v1/materials/{created['id']}").status_code == 204
    problem(api.as_("steward").get(f"/api/v1/materials/{created['id']}"), 404)


def test_record_in_use_cannot_be_deleted_only_deactivated(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # the KG unit is used by materials
    url = f"/api/v1/units/{world.units['KG']}"
    body = problem(api.as_("admin").delete(url), 409, "record-in-use")
    assert "deactivate" in body["detail"]
    assert api.as_("admin").get(url).status_code == 200
    assert api.as_("admin").post(f"{url}/deactivate").get_json()["active"] is False


def test_company_with_warehouses_cannot_be_deleted(api: ApiClient, world: World) -> None:
    problem(api.as_("admin").delete(f"/api/v1/companies/{world.companies['A']}"), 409, "record-in-use")


# --- scoping ------------------------------------------------------------------------------

def test_clerk_cannot_see_another_companys_warehouse(api: ApiClient, world: World) -> None:
    clerk = api.as_("clerk_a")
    assert clerk.get(f"/api/v1/warehouses/{world.warehouses['A-AMB']}").status_code == 200
    problem(clerk.get(f"/api/v1/warehouses/{world.warehouses['B-AMB']}"), 404)
    listed = clerk.get("/api/v1/warehouses").get_json()
    assert {w["code"] for w in listed} == {"CA-AMB", "CA-COOL", "CA-COLD"}


def test_company_users_see_only_their_companies(api: ApiClient, world: World) -> None:
    assert [c["code"] for c in api.as_("buyer_b").get("/api/v1/companies").get_json()] == ["CB"]
    problem(api.as_("buyer_b").get(f"/api/v1/companies/{world.companies['A']}"), 404)
    assert len(api.as_("group_buyer").get("/api/v1/companies").get_json()) == 3


def test_group_master_is_visible_to_every_role(api: ApiClient) -> None:
    for user in ("clerk_a", "sales_b", "cio", "cost_a"):
        assert len(api.as_(user).get("/api/v1/materials").get_json()) == 5


def test_deactivated_warehouse_stays_listed_for_history(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    api.as_("steward").post(f"/api/v1/warehouses/{world.warehouses['A-COOL']}/deactivate")
    with session_factory() as session:
        assert session.get(Warehouse, world.warehouses["A-COOL"]).active is False  # type: ignore[union-attr]
    listed = api.as_("clerk_a").get("/api/v1/warehouses", query_string={"active": "false"}).get_json()
    assert [w["code"] for w in listed] == ["CA-COOL"]


def test_filter_by_reference_in_the_query_string(api: ApiClient, world: World) -> None:
    listed = api.as_("steward").get("/api/v1/warehouses", query_string={"company_id": world.companies["B"]})
    assert {w["code"] for w in listed.get_json()} == {"CB-AMB", "CB-COOL", "CB-COLD"}
    problem(api.as_("steward").get("/api/v1/warehouses", query_string={"company_id": "1.5"}), 422)


def test_an_unknown_query_parameter_is_refused_not_ignored(api: ApiClient) -> None:
    # "companyid" is a typo: answering with every warehouse would look like a real answer
    body = problem(api.as_("steward").get("/api/v1/warehouses", query_string={"companyid": 1}), 422)
    assert body["errors"][0]["pointer"] == "/companyid"
    assert api.as_("steward").get("/api/v1/warehouses", query_string={"page": 1, "page_size": 2}).status_code == 200
