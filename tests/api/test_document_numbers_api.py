"""Document numbers of payables and receivables through the API (migration 0046): in the
answers, as list filters, and in the OpenAPI document."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.test_payables_api import invoice, received_line  # noqa: F401 (fixture)
from tests.credit import NOV, history_invoice
from tests.tax import create_china_vat
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


def test_supplier_invoices_answer_with_their_own_number_and_are_found_by_it(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811
    ap = api.as_("ap_a")
    first = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line, number="8801", net_total="600.00",
                                                              tax_total="78.00", gross_total="678.00",
                                                              lines=[{"po_line_id": received_line, "quantity": "50",
                                                                      "unit_price": "12.00"}]))
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["document_number"], body["number"]) == ("AP-CA-2026-000001", "8801")
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["document_number"] == "AP-CA-2026-000001"
    found = ap.get("/api/v1/payables/invoices", query_string={"document_number": "AP-CA-2026-000001"}).get_json()
    assert [(i["id"], i["document_number"]) for i in found] == [(body["id"], "AP-CA-2026-000001")]
    assert ap.get("/api/v1/payables/invoices", query_string={"document_number": "AP-CA-2026-000009"}).get_json() == []
    problem(ap.get("/api/v1/payables/invoices", query_string={"document_number": "A" * 51}), 422, "validation-error")


def test_receivables_documents_answer_with_their_numbers_and_are_found_by_them(
        api: ApiClient, world: World, session_factory: SF) -> None:
    codes = create_china_vat(session_factory, world)
    invoice_id = history_invoice(session_factory, world, "cust1", NOV, "500.00")
    sales = api.as_("sales_a")
    got = sales.get(f"/api/v1/invoices/{invoice_id}").get_json()
    assert got["document_number"] == "AR-CA-2026-000001"
    assert [i["id"] for i in sales.get("/api/v1/invoices", query_string={"document_number": " ar-ca-2026-000001 "})
            .get_json()] == [invoice_id]
    paid = sales.post("/api/v1/payments", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "payment_date": "2026-11-20",
        "amount": "100.00"})
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["document_number"] == "RC-CA-2026-000001"
    assert [p["document_number"] for p in sales.get("/api/v1/payments", query_string={
        "document_number": "RC-CA-2026-000001"}).get_json()] == ["RC-CA-2026-000001"]
    note = sales.post("/api/v1/credit-notes", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "note_date": "2026-11-20",
        "amount": "10.00", "reason": "discount", "invoice_id": invoice_id, "tax_code_id": codes["VAT0"]})
    assert note.status_code == 201, note.get_json()
    assert note.get_json()["document_number"] == "CN-CA-2026-000001"
    assert [n["id"] for n in sales.get("/api/v1/credit-notes", query_string={
        "document_number": "CN-CA-2026-000001"}).get_json()] == [note.get_json()["id"]]
    # another company's documents are not found by a user who does not act for it
    assert api.as_("sales_b").get("/api/v1/invoices", query_string={
        "document_number": "AR-CA-2026-000001"}).get_json() == []


def test_supplier_payments_answer_with_their_own_number(api: ApiClient, world: World,
                                                       received_line: int) -> None:  # noqa: F811
    ap = api.as_("ap_a")
    posted = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line))
    assert posted.status_code == 201, posted.get_json()
    paid = ap.post("/api/v1/payables/payments", json={
        "company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-20",
        "amount": "100.00", "reference": "BANK-1"})
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["document_number"] == "PV-CA-2026-000001"
    assert ap.get(f"/api/v1/payables/payments/{paid.get_json()['id']}").get_json()["document_number"] == \
        "PV-CA-2026-000001"
    assert [p["document_number"] for p in ap.get("/api/v1/payables/payments").get_json()] == ["PV-CA-2026-000001"]


def test_the_openapi_document_describes_the_numbers_and_filters(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name, prefix in (("SupplierInvoiceOut", "AP-"), ("InvoiceOut", "AR-"), ("PaymentOut", "RC-"),
                         ("CreditNoteOut", "CN-"), ("SupplierPaymentOut", "PV-")):
        assert schemas[name]["properties"]["document_number"]["type"] == "string", name
        assert prefix in schemas[name]["properties"]["document_number"]["description"], name
    for path in ("/api/v1/payables/invoices", "/api/v1/invoices", "/api/v1/payments", "/api/v1/credit-notes"):
        assert "document_number" in {p["name"] for p in spec["paths"][path]["get"]["parameters"]}, path
