"""Issue 14, items 1 and 6-8: numbers bounded by their columns, a request size limit,
strict parsing, and text without invisible or direction-changing characters. Every
refusal is a 4xx problem that names the field and writes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.db import MONEY, QUANTITY, UNIT_PRICE, largest_value
from erp.inventory.models import StockMovement
from erp.masterdata.models import Customer
from erp.posting.models import StandardPrice
from tests.stock import set_standard
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]
TRILLION = "1000000000000"  # 10^12: one more than a Numeric(18, 6) price can hold


def pointers(body: dict) -> list[str]:
    return [error["pointer"] for error in body.get("errors", [])]


# --- 1. numbers -------------------------------------------------------------------------------

def test_column_bounds_are_worked_out_from_precision_and_scale() -> None:
    assert largest_value(MONEY) == Decimal("9999999999999999.99")  # Numeric(18, 2)
    assert largest_value(QUANTITY) == Decimal("99999999999999.9999")  # Numeric(18, 4)
    assert largest_value(UNIT_PRICE) == Decimal("999999999999.999999")  # Numeric(18, 6)


def test_a_sales_price_of_a_trillion_is_refused_naming_the_field(api: ApiClient, world: World) -> None:
    body = problem(api.as_("sales_a").post("/api/v1/sales-orders", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "order_date": "2026-11-03",
        "lines": [{"material_id": world.materials["exc_local"], "warehouse_id": world.warehouses["A-AMB"],
                   "quantity": "1", "unit_price": TRILLION}]}), 422)
    assert pointers(body) == ["/lines/0/unit_price"]


def test_a_standard_price_of_a_trillion_is_refused_naming_the_field(api: ApiClient, world: World) -> None:
    body = problem(api.as_("cost_a").put("/api/v1/costing/standard-prices", json={
        "company_id": world.companies["A"], "period": "2026-11",
        "prices": [{"material_id": world.materials["exc_local"], "price": TRILLION}]}), 422)
    assert pointers(body) == ["/prices/0/price"]


def test_a_contract_price_of_a_trillion_is_refused_naming_the_field(api: ApiClient, world: World) -> None:
    body = problem(api.as_("group_buyer").post("/api/v1/purchasing/contracts", json={
        "number": "GC-T", "supplier_id": world.suppliers["sup1"], "scope": "group", "valid_from": "2026-01-01",
        "valid_to": "2026-12-31", "lines": [{"material_id": world.materials["api_central"], "unit_price": TRILLION}]}),
        422)
    assert pointers(body) == ["/lines/0/unit_price"]


def test_the_largest_price_a_column_holds_is_accepted_where_the_database_stores_it_exactly(
        api: ApiClient, world: World, engine: Engine, session_factory: SF) -> None:
    # 18 significant digits: PostgreSQL's numeric(18, 6) keeps them; SQLite, whose numbers are
    # binary floats, keeps 15 (erp.db.SQLITE_EXACT_DIGITS) and refuses it rather than store
    # 1000000000000.
    with session_factory() as session:
        prices_before = session.scalar(select(func.count(StandardPrice.id)))
    response = api.as_("cost_a").put("/api/v1/costing/standard-prices", json={
        "company_id": world.companies["A"], "period": "2026-11",
        "prices": [{"material_id": world.materials["exc_local"], "price": "999999999999.999999"}]})
    if engine.dialect.name == "postgresql":
        assert response.status_code == 200, response.get_json()
        assert response.get_json()[0]["price"] == "999999999999.999999"
        return
    body = problem(response, 422)
    assert pointers(body) == ["/prices/0/price"]
    assert "more than 15 significant digits" in body["errors"][0]["detail"]
    with session_factory() as session:
        assert session.scalar(select(func.count(StandardPrice.id))) == prices_before


@pytest.mark.parametrize("price", ["1234567890.123456", "12345678901.234567"])  # 16 and 17 digits
def test_a_price_of_more_than_fifteen_significant_digits_is_refused_on_sqlite_only(
        api: ApiClient, world: World, engine: Engine, price: str) -> None:
    response = api.as_("cost_a").put("/api/v1/costing/standard-prices", json={
        "company_id": world.companies["A"], "period": "2026-11",
        "prices": [{"material_id": world.materials["exc_local"], "price": price}]})
    if engine.dialect.name == "postgresql":
        assert response.status_code == 200, response.get_json()
        assert response.get_json()[0]["price"] == price
        return
    assert pointers(problem(response, 422)) == ["/prices/0/price"]


def test_a_price_of_fifteen_significant_digits_comes_back_as_given_on_either_database(
        api: ApiClient, world: World) -> None:
    response = api.as_("cost_a").put("/api/v1/costing/standard-prices", json={
        "company_id": world.companies["A"], "period": "2026-11",
        "prices": [{"material_id": world.materials["exc_local"], "price": "999999999.999999"}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[0]["price"] == "999999999.999999"


def test_a_count_gain_whose_value_overflows_is_refused_naming_the_quantity(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    set_standard(session_factory, world, "pkg_loose", "500000.00")  # an expensive item, counted in pieces
    body = problem(api.as_("cost_a").post("/api/v1/inventory/adjustments", json={
        "warehouse_id": world.warehouses["A-AMB"], "material_id": world.materials["pkg_loose"],
        "quantity": "100000000000", "posting_date": "2026-11-20", "kind": "count", "reason": "count"}),
        422, "amount-out-of-range")
    assert pointers(body) == ["/quantity"]
    with session_factory() as session:
        assert session.scalar(select(func.count(StockMovement.id))) == 0


# --- 6. request size --------------------------------------------------------------------------

def test_a_body_over_a_megabyte_is_refused_with_413_before_it_is_parsed(api: ApiClient, world: World) -> None:
    huge = json.dumps({"name_en": "x" * (2 * 1024 * 1024)})
    body = problem(api.as_("steward").patch(f"/api/v1/customers/{world.customers['cust1']}", data=huge,
                                            content_type="application/json"), 413, "request-too-large")
    assert "1048576 bytes" in body["detail"]
    chinese = problem(api.as_("steward").patch(f"/api/v1/customers/{world.customers['cust1']}", data=huge,
                                               content_type="application/json", headers={"Accept-Language": "zh-CN"}),
                      413, "request-too-large")
    assert chinese["detail"].startswith("请求内容超过此接口允许的") and "bytes" not in chinese["detail"]


def test_a_sixty_megabyte_field_is_refused_without_signing_in_first(api: ApiClient) -> None:
    huge = b'{"username": "' + b"x" * (60 * 1024 * 1024) + b'", "password": "x"}'
    problem(api.post("/api/v1/auth/token", data=huge, content_type="application/json"), 413, "request-too-large")


def test_views_marked_for_uploads_take_larger_bodies(app, api: ApiClient) -> None:  # noqa: ANN001
    from erp.web import accepts_upload

    @accepts_upload
    def upload() -> dict[str, int]:
        from flask import request
        return {"bytes": len(request.get_data())}

    app.add_url_rule("/api/v1/test-upload", "test_upload", upload, methods=["POST"])
    two_megabytes = b"x" * (2 * 1024 * 1024)
    response = api.as_("steward").post("/api/v1/test-upload", data=two_megabytes,
                                       content_type="application/octet-stream")
    assert response.status_code == 200 and response.get_json() == {"bytes": len(two_megabytes)}


def test_a_form_field_over_the_memory_limit_is_refused_without_naming_the_body_limit(app, api: ApiClient) -> None:  # noqa: ANN001
    """Werkzeug also answers 413 for one form field larger than it keeps in memory (Flask's
    MAX_FORM_MEMORY_SIZE, 500 kB) in a body within the endpoint's limit: the detail must not
    say the body was over a byte limit it was under."""
    from erp.web import accepts_upload

    @accepts_upload
    def upload() -> dict[str, int]:
        from flask import request
        return {"fields": len(request.form)}

    app.add_url_rule("/api/v1/test-form", "test_form", upload, methods=["POST"])
    for language, says in ((None, "a form field or the number of form parts is larger than this endpoint accepts"),
                           ("zh-CN", "表单字段或表单部分的数量超过此接口允许的上限")):
        headers = {"Accept-Language": language} if language else {}
        body = problem(api.as_("steward").post("/api/v1/test-form", data={"note": "x" * (600 * 1024)},
                                               content_type="multipart/form-data", headers=headers),
                       413, "request-too-large")
        assert body["detail"] == says


# --- 7. strict parsing ------------------------------------------------------------------------

@pytest.mark.parametrize("quantity", ["１", "1e3", " 1", "+1", "1,000", "٣"])
def test_quantities_are_ascii_decimal_strings(api: ApiClient, world: World, quantity: str) -> None:
    body = problem(api.as_("sales_a").post("/api/v1/sales-orders", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "order_date": "2026-11-03",
        "lines": [{"material_id": world.materials["exc_local"], "warehouse_id": world.warehouses["A-AMB"],
                   "quantity": quantity, "unit_price": "10.00"}]}), 422)
    assert pointers(body) == ["/lines/0/quantity"]


@pytest.mark.parametrize("day", ["20261129", "2026-W48-7", "２０２６-11-29", "2026-11-29T00:00:00", "29.11.2026"])
def test_dates_are_iso_8601_calendar_dates(api: ApiClient, world: World, day: str) -> None:
    body = problem(api.as_("sales_a").post("/api/v1/sales-orders", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "order_date": day,
        "lines": [{"material_id": world.materials["exc_local"], "warehouse_id": world.warehouses["A-AMB"],
                   "quantity": "1", "unit_price": "10.00"}]}), 422)
    assert pointers(body) == ["/order_date"]


def test_full_width_digits_in_path_ids_match_nothing(api: ApiClient, world: World) -> None:
    assert world.materials["api_central"] == 1
    problem(api.as_("steward").get("/api/v1/materials/１"), 404)
    problem(api.as_("clerk_a").get("/api/v1/inventory/documents/１"), 404)
    assert api.as_("steward").get("/api/v1/materials/1").status_code == 200


@pytest.mark.parametrize(("path", "query"), [
    ("/api/v1/purchasing/contracts", {"supplier_id": "１"}),
    ("/api/v1/credit/dashboard", {"top": "１０"}),
    ("/api/v1/materials", {"unit_id": "１"}),
])
def test_full_width_digits_in_query_numbers_are_refused(api: ApiClient, path: str, query: dict) -> None:
    user = "cio" if "dashboard" in path else "steward"
    problem(api.as_(user).get(path, query_string=query), 422)


# --- 8. text ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "第一医院\u202e院医",  # right-to-left override
    "First\u200bHospital",  # zero-width space
    "First\u2066Hospital\u2069",  # isolate
    "Ph\u00adarmacy",  # soft hyphen
    "Line\nbreak",  # one-line field
    "bell\u0007",
])
def test_names_with_invisible_or_direction_changing_characters_are_refused(
    api: ApiClient, world: World, session_factory: SF, name: str
) -> None:
    body = problem(api.as_("steward").patch(f"/api/v1/customers/{world.customers['cust1']}",
                                            json={"name_zh": name}), 422)
    assert pointers(body) == ["/name_zh"]
    with session_factory() as session:
        assert session.get(Customer, world.customers["cust1"]).name_zh == "第一医院"


@pytest.mark.parametrize("code", ["K\u200b0009", "K0009\u202e", "Ｋ0009"])
def test_codes_with_hidden_or_look_alike_characters_are_refused(api: ApiClient, code: str) -> None:
    body = problem(api.as_("steward").post("/api/v1/customers", json={
        "code": code, "uscc": "913100000000000035", "name_zh": "新客户", "name_en": "New customer"}), 422)
    assert pointers(body) == ["/code"]


def test_every_text_field_refuses_direction_overrides_not_only_names(api: ApiClient, world: World) -> None:
    body = problem(api.as_("credit").put(f"/api/v1/credit/customers/{world.customers['cust1']}/hold",
                                         json={"on_hold": True, "reason": "late \u202epayer"}), 422)
    assert pointers(body) == ["/reason"]


def test_names_are_stored_in_nfc_and_trimmed(api: ApiClient, world: World, session_factory: SF) -> None:
    decomposed = "Cafe\u0301 Pharma "  # "e" + combining acute accent, and a trailing space
    response = api.as_("steward").patch(f"/api/v1/customers/{world.customers['cust2']}",
                                        json={"name_en": decomposed})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name_en"] == "Caf\u00e9 Pharma"
    with session_factory() as session:
        assert session.get(Customer, world.customers["cust2"]).name_en == "Caf\u00e9 Pharma"


def test_multi_line_reasons_keep_their_line_breaks(api: ApiClient, world: World) -> None:
    response = api.as_("credit").put(f"/api/v1/credit/customers/{world.customers['cust1']}/hold",
                                     json={"on_hold": True, "reason": "cheque bounced\nsecond time this year"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hold_reason"] == "cheque bounced\nsecond time this year"


# --- the same rules hold below the API (pages, imports) -----------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"name_zh": "第一医院\u202e"}, "name_zh"),
    ({"name_en": "First\u200bHospital"}, "name_en"),
])
def test_master_data_services_refuse_hidden_characters_whatever_the_entry_path(
    session_factory: SF, world: World, changes: dict, field: str
) -> None:
    from erp.errors import ValidationFailed
    from erp.masterdata import services

    with session_factory() as session, session.begin(), pytest.raises(ValidationFailed) as refused:
        services.update_record(session, world.actors["steward"], services.CUSTOMERS, world.customers["cust1"], changes)
    assert refused.value.errors[0]["pointer"] == f"/{field}"


def test_master_data_services_hold_decimals_to_their_columns(session_factory: SF, world: World) -> None:
    from erp.errors import ValidationFailed
    from erp.masterdata import services

    with session_factory() as session, session.begin(), pytest.raises(ValidationFailed) as refused:
        services.update_record(session, world.actors["admin"], services.COMPANIES, world.companies["A"],
                               {"approval_threshold": Decimal("10000000000000000")})  # 10^16: Numeric(18, 2) overflows
    assert refused.value.errors[0]["pointer"] == "/approval_threshold"
    with session_factory() as session, session.begin():
        updated = services.update_record(session, world.actors["steward"], services.CUSTOMERS,
                                         world.customers["cust2"], {"name_en": "Cafe\u0301 "})
        assert updated.name_en == "Caf\u00e9"
