"""The document lists' search (``q``) through the API: supplier invoices and credit memos,
supplier payments, sales invoices, customer payments and credit notes are found by part of
our number, of the other side's number or reference, or of the supplier's or customer's code
or name, upper or lower case alike; a text matching nothing finds nothing, and another
company's documents are never found."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tests.api.test_payables_api import invoice, received_line  # noqa: F401 (fixture)
from tests.credit import NOV, history_invoice, pay
from tests.tax import create_china_vat
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


def _found(client: ApiClient, path: str, q: str, key: str = "document_number") -> list[str]:
    answer = client.get(path, query_string={"q": q})
    assert answer.status_code == 200, answer.get_json()
    return sorted(row[key] for row in answer.get_json())


def test_supplier_invoices_and_payments_are_found_by_part_of_a_number_or_the_supplier(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811
    ap = api.as_("ap_a")
    for number in ("8801-XY", "9902"):
        posted = ap.post("/api/v1/payables/invoices", json=invoice(
            world, received_line, number=number, net_total="120.00", tax_total="15.60", gross_total="135.60",
            lines=[{"po_line_id": received_line, "quantity": "10", "unit_price": "12.00"}]))
        assert posted.status_code == 201, posted.get_json()
    for reference in ("BANK-77", None):
        paid = ap.post("/api/v1/payables/payments", json={
            "company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-20",
            "amount": "10.00", **({"reference": reference} if reference else {})})
        assert paid.status_code == 201, paid.get_json()
    invoices, payments = "/api/v1/payables/invoices", "/api/v1/payables/payments"
    both = ["AP-CA-2026-000001", "AP-CA-2026-000002"]
    assert _found(ap, invoices, "ca-2026-000002") == ["AP-CA-2026-000002"]  # ours, any case
    assert _found(ap, invoices, "01-x") == ["AP-CA-2026-000001"]  # the supplier's number, in part
    assert _found(ap, invoices, "huaK") == both  # the supplier's name
    assert _found(ap, invoices, "华康") == both
    assert _found(ap, invoices, "S0001") == both  # its code
    assert _found(ap, invoices, "瑞丰") == []  # another supplier's name
    assert _found(ap, payments, "pv-ca") == ["PV-CA-2026-000001", "PV-CA-2026-000002"]
    assert _found(ap, payments, "bank-7") == ["PV-CA-2026-000001"]  # the reference
    assert _found(ap, payments, "Huakang") == ["PV-CA-2026-000001", "PV-CA-2026-000002"]
    assert _found(ap, payments, "Ruifeng") == []
    # the search keeps the other filters and the caller's scope
    assert [i["document_number"] for i in ap.get(invoices, query_string={"q": "AP-", "open": "false"})
            .get_json()] == []
    assert _found(api.as_("ap_b"), invoices, "AP-CA") == []
    assert _found(api.as_("ap_b"), payments, "PV-CA") == []
    problem(ap.get(invoices, query_string={"q": "x" * 201}), 422, "validation-error")
    problem(ap.get(payments, query_string={"q": ""}), 422, "validation-error")


def test_receivables_documents_are_found_by_part_of_a_number_or_the_customer(
        api: ApiClient, world: World, session_factory: SF) -> None:
    codes = create_china_vat(session_factory, world)
    first = history_invoice(session_factory, world, "cust1", NOV, "500.00")
    history_invoice(session_factory, world, "cust2", NOV, "500.00")
    pay(session_factory, world, "50.00", customer="cust2")
    sales = api.as_("sales_a")
    note = sales.post("/api/v1/credit-notes", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "note_date": "2026-11-20",
        "amount": "10.00", "reason": "discount", "invoice_id": first, "tax_code_id": codes["VAT0"]})
    assert note.status_code == 201, note.get_json()
    assert _found(sales, "/api/v1/invoices", "ar-ca") == ["AR-CA-2026-000001", "AR-CA-2026-000002"]
    assert _found(sales, "/api/v1/invoices", "2026-000002") == ["AR-CA-2026-000002"]
    assert _found(sales, "/api/v1/invoices", "first hosp") == ["AR-CA-2026-000001"]  # the customer's name
    assert _found(sales, "/api/v1/invoices", "K0002") == ["AR-CA-2026-000002"]  # its code
    assert _found(sales, "/api/v1/payments", "大药房") == ["RC-CA-2026-000001"]
    assert _found(sales, "/api/v1/payments", "第一医院") == []
    assert _found(sales, "/api/v1/credit-notes", "cn-") == ["CN-CA-2026-000001"]
    assert _found(sales, "/api/v1/credit-notes", "Pharmacy") == []
    assert _found(api.as_("sales_b"), "/api/v1/invoices", "AR-CA") == []


def test_the_openapi_document_describes_the_search(client: object) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()  # type: ignore[attr-defined]
    for path in ("/api/v1/payables/invoices", "/api/v1/payables/payments", "/api/v1/invoices", "/api/v1/payments",
                 "/api/v1/credit-notes"):
        assert "q" in {p["name"] for p in spec["paths"][path]["get"]["parameters"]}, path
