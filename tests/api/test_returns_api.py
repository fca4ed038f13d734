"""Customer returns, credit notes and debit notes through the API: amounts as strings,
refusals as problems that write nothing, other companies' documents invisible."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tests.credit import new_order, put_stock, row_counts, set_limit, ship
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


def _shipped(session_factory: SF, world: World) -> tuple[int, int]:
    set_limit(session_factory, world, "cust1", "1000000")
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("100", "50.00")], confirm=True)
    invoice = ship(session_factory, world, order.order.id, ["100"]).invoice
    assert invoice.lines[0].stock_document_id is not None
    return invoice.id, invoice.lines[0].stock_document_id


def test_return_credit_note_and_debit_note(api: ApiClient, world: World, session_factory: SF) -> None:
    invoice_id, shipment = _shipped(session_factory, world)
    sales = api.as_("sales_a")
    body = {"shipment_document_id": shipment, "quantity": "20", "posting_date": "2026-11-20",
            "reason": "damaged cartons"}
    returned = sales.post("/api/v1/customer-returns", json=body, headers={"Idempotency-Key": "ret-1"})
    assert returned.status_code == 201, returned.get_json()
    note = returned.get_json()
    assert (note["kind"], note["amount"], note["unapplied_amount"]) == ("return", "1000.00", "0.00")  # 20 x 50.00
    assert note["lines"][0]["quantity"] == "20.0000" and note["lines"][0]["stock_document_id"]
    assert [(a["invoice_id"], a["amount"]) for a in note["applications"]] == [(invoice_id, "1000.00")]
    again = sales.post("/api/v1/customer-returns", json=body, headers={"Idempotency-Key": "ret-1"})
    assert again.status_code == 201 and again.get_json()["id"] == note["id"]
    assert sales.get(f"/api/v1/invoices/{invoice_id}").get_json()["open_amount"] == "4000.00"

    before = row_counts(session_factory)
    too_many = sales.post("/api/v1/customer-returns", json={**body, "quantity": "90"})
    assert too_many.status_code == 409
    assert too_many.get_json()["type"].endswith("/return-exceeds-shipment")
    assert too_many.get_json()["returnable"] == "80.0000"
    assert row_counts(session_factory) == before
    # another company's sales do not see the shipment; the CIO reads but never posts
    refused = problem(api.as_("sales_b").post("/api/v1/customer-returns", json=body), 404, "not-found")
    assert str(shipment) in refused["detail"] or "shipment" in refused["detail"], refused["detail"]
    refused = problem(api.as_("cio").post("/api/v1/customer-returns", json=body), 403, "read-only-role")
    assert "cio" in refused["detail"], refused["detail"]
    assert row_counts(session_factory) == before  # neither wrote anything
    assert api.as_("sales_b").get(f"/api/v1/credit-notes/{note['id']}").status_code == 404

    debit = sales.post("/api/v1/debit-notes", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "note_date": "2026-11-21",
        "amount": "80.00", "reason": "freight", "invoice_id": invoice_id,
        "tax_code_id": world.tax_codes["VAT0"]})
    assert debit.status_code == 201, debit.get_json()
    assert (debit.get_json()["kind"], debit.get_json()["amount"], debit.get_json()["due_date"]) == (
        "debit_note", "80.00", "2026-12-21")
    price = sales.post("/api/v1/credit-notes", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "note_date": "2026-11-22",
        "amount": "4100.00", "reason": "price agreed lower", "tax_code_id": world.tax_codes["VAT0"]})
    assert price.status_code == 201, price.get_json()
    # settles 4,000.00 of the invoice, then the 80.00 debit note (due later), keeps 20.00
    assert [a["amount"] for a in price.get_json()["applications"]] == ["4000.00", "80.00"]
    assert price.get_json()["unapplied_amount"] == "20.00"
    listed = sales.get(f"/api/v1/credit-notes?customer_id={world.customers['cust1']}").get_json()
    assert [n["id"] for n in listed] == [price.get_json()["id"], note["id"]]
    position = api.as_("credit").get(f"/api/v1/credit/customers/{world.customers['cust1']}").get_json()
    assert (position["exposure"], position["unapplied_credit"]) == ("0.00", "20.00")
