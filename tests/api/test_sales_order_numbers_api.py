"""Sales order numbers through the API: in every answer that names an order, as a filter of
the order list, in refusals and in the OpenAPI document."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.test_credit_api import order_payload
from tests.credit import new_order, put_stock, set_limit
from tests.tax import create_china_vat
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


def test_a_created_order_answers_with_its_number_and_is_found_by_it(
        api: ApiClient, world: World, session_factory: SF) -> None:
    create_china_vat(session_factory, world)
    sales = api.as_("sales_a")
    first, second = (sales.post("/api/v1/sales-orders", json=order_payload(world, ("1", "10.00"))).get_json()
                     for _ in range(2))
    in_b = api.as_("sales_b").post("/api/v1/sales-orders",
                                   json=order_payload(world, ("1", "10.00"), company="B")).get_json()
    assert (first["number"], second["number"], in_b["number"]) == (
        "SO-CA-2026-000001", "SO-CA-2026-000002", "SO-CB-2026-000001")
    assert sales.get(f"/api/v1/sales-orders/{first['id']}").get_json()["number"] == "SO-CA-2026-000001"

    found = sales.get("/api/v1/sales-orders", query_string={"number": " so-ca-2026-000002 "})
    assert found.status_code == 200
    assert [(o["id"], o["number"]) for o in found.get_json()] == [(second["id"], "SO-CA-2026-000002")]
    # another company's order is not found by a user who does not act for it
    assert sales.get("/api/v1/sales-orders", query_string={"number": "SO-CB-2026-000001"}).get_json() == []
    assert [o["id"] for o in api.as_("cio").get("/api/v1/sales-orders",
                                                query_string={"number": "SO-CB-2026-000001"}).get_json()] == [
        in_b["id"]]
    assert sales.get("/api/v1/sales-orders", query_string={"number": "SO-CA-2026-000009"}).get_json() == []
    problem(sales.get("/api/v1/sales-orders", query_string={"number": "S" * 51}), 422, "validation-error")


def test_invoices_releases_and_refusals_name_the_order_by_number(
        api: ApiClient, world: World, session_factory: SF) -> None:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "10000.00")
    shipped = new_order(session_factory, world, lines=[("50", "100.00")], confirm=True).order  # SO-CA-2026-000001
    sales = api.as_("sales_a")
    answer = sales.post(f"/api/v1/sales-orders/{shipped.id}/shipments",
                        json={"posting_date": "2026-11-20",
                              "lines": [{"order_line_id": shipped.lines[0].id, "quantity": "10"}]})
    assert answer.status_code == 201, answer.get_json()
    invoice = answer.get_json()["invoice"]
    assert (invoice["order_id"], invoice["order_number"]) == (shipped.id, "SO-CA-2026-000001")
    assert sales.get(f"/api/v1/invoices/{invoice['id']}").get_json()["order_number"] == "SO-CA-2026-000001"
    assert [i["order_number"] for i in sales.get("/api/v1/invoices").get_json()] == ["SO-CA-2026-000001"]

    blocked = new_order(session_factory, world, company="B", lines=[("60", "100.00")], confirm=True).order
    (held,) = api.as_("credit").get("/api/v1/credit/blocked-orders").get_json()
    assert (held["order_id"], held["order_number"]) == (blocked.id, "SO-CB-2026-000001")
    assert [(o["order_id"], o["order_number"]) for o in held["release_effect"]["blocked_at_shipment"]] == [
        (shipped.id, "SO-CA-2026-000001")]
    released = api.as_("credit").post(f"/api/v1/credit/blocked-orders/{blocked.id}/release",
                                      json={"reason": "bank guarantee"}).get_json()
    assert released["order_number"] == "SO-CB-2026-000001"

    refused = problem(sales.post(f"/api/v1/sales-orders/{shipped.id}/shipments",
                                 json={"posting_date": "2026-11-20",
                                       "lines": [{"order_line_id": shipped.lines[0].id, "quantity": "1"}]}),
                      409, "credit-limit-exceeded")
    assert (refused["order_id"], refused["order_number"]) == (shipped.id, "SO-CA-2026-000001")
    again = problem(api.as_("credit").post(f"/api/v1/credit/blocked-orders/{blocked.id}/release",
                                           json={"reason": "again"}), 409, "order-not-blocked")
    assert "SO-CB-2026-000001" in again["detail"]


def test_the_openapi_document_describes_the_number_and_the_filter(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["OrderOut"]["properties"]["number"]["type"] == "string"
    assert "SO-<company code>" in schemas["OrderOut"]["properties"]["number"]["description"]
    for name in ("InvoiceOut", "HeldOrderOut", "ReleaseOut", "BlockedAtShipmentOut"):
        assert "order_number" in schemas[name]["properties"], name
    listing = spec["paths"]["/api/v1/sales-orders"]["get"]
    assert "number" in {parameter["name"] for parameter in listing["parameters"]}
