"""A credit memo reducing an invoice takes the invoice's kind and tax codes, over HTTP:
problem+json in English and in Chinese, writing nothing (docs/payables.md)."""

from __future__ import annotations

import pytest

from tests.api.test_payables_api import invoice, received_line  # noqa: F401 - fixture
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres


def test_a_credit_memo_of_another_kind_or_tax_code_than_its_invoice_is_a_422(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811 - fixture
    """The invoice: 100 kg at 12.00, special VAT invoice at VAT13 (1,356.00). A memo of 10 kg
    (120.00) as an ordinary invoice, or at VAT9 (tax 10.80): 422 ``credit-memo-unlike-invoice``
    naming the invoice, its kind and code; the invoice stays 1,356.00 open. At VAT13 and
    special (tax 15.60): 201, 1,220.40 open."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    codes = world.tax_codes
    memo = invoice(world, received_line, number="CM-1", invoice_date="2026-11-21", net_total="120.00",
                   tax_total="15.60", gross_total="135.60", credits_invoice_id=body["id"],
                   lines=[{"po_line_id": received_line, "quantity": "10", "unit_price": "12.00",
                           "tax_code_id": codes["VAT13"]}])
    ordinary = dict(memo, invoice_kind="ordinary")
    english = problem(ap.post("/api/v1/payables/credit-memos", json=ordinary, headers={"Accept-Language": "en"}),
                      422, "credit-memo-unlike-invoice")
    assert english["errors"][0]["pointer"] == "/invoice_kind"
    assert ("a credit memo reducing invoice 24330000000012345678 (special VAT invoice) takes its invoice kind and, "
            "line by line, its tax codes: invoice 24330000000012345678 is of kind special VAT invoice") in english["detail"]
    chinese = problem(ap.post("/api/v1/payables/credit-memos", json=ordinary, headers={"Accept-Language": "zh-CN"}),
                      422, "credit-memo-unlike-invoice")
    assert "发票 24330000000012345678 为增值税专用发票" in chinese["detail"]
    vat9 = dict(memo, tax_total="10.80", gross_total="130.80",
                lines=[dict(memo["lines"][0], tax_code_id=codes["VAT9"])])
    refused = problem(ap.post("/api/v1/payables/credit-memos", json=vat9, headers={"Accept-Language": "en"}),
                      422, "credit-memo-unlike-invoice")
    assert refused["errors"][0]["pointer"] == "/lines/0/tax_code_id"
    assert f"taxes order line {received_line} at VAT13, not VAT9" in refused["detail"]
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"
    posted = ap.post("/api/v1/payables/credit-memos", json=memo)
    assert posted.status_code == 201, posted.get_json()
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1220.40"


def test_a_credit_memo_at_another_unit_price_than_its_invoice_is_a_422(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811 - fixture
    """TRIAL.md finding 18: the invoice, 100 kg at 12.00 (1,200.00 + 156.00 = 1,356.00); the
    supplier grants 2.00/kg off and the clerk types it as a memo of 100 kg at 2.00 (200.00 +
    26.00 = 226.00). Posted, it took all 100 kg off GR/IR (Cr 2202.01 1,200.00, Dr 1404 1,000.00)
    and off the invoiced quantity for 226.00: now 422 ``credit-memo-unlike-invoice`` at
    /lines/0/unit_price naming the invoice's 12.00, in English and Chinese, nothing written
    (1,356.00 still open, no memo). At 12.00 a memo of 10 kg (120.00 + 15.60) posts."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    assert body["gross_total"] == "1356.00"
    reduction = invoice(world, received_line, number="CM-P", invoice_date="2026-11-21", net_total="200.00",
                        tax_total="26.00", gross_total="226.00", credits_invoice_id=body["id"],
                        lines=[{"po_line_id": received_line, "quantity": "100", "unit_price": "2.00"}])
    english = problem(ap.post("/api/v1/payables/credit-memos", json=reduction, headers={"Accept-Language": "en"}),
                      422, "credit-memo-unlike-invoice")
    assert [e["pointer"] for e in english["errors"]] == ["/lines/0/unit_price"]
    assert english["detail"] == (
        f"a credit memo reducing invoice 24330000000012345678 credits quantities at the invoice's unit prices: "
        f"invoice 24330000000012345678 prices order line {received_line} at 12.00, not 2.00; a price reduction is "
        f"not entered as a quantity credit memo")
    chinese = problem(ap.post("/api/v1/payables/credit-memos", json=reduction,
                              headers={"Accept-Language": "zh-CN"}), 422, "credit-memo-unlike-invoice")
    assert "12.00" in chinese["detail"] and "2.00" in chinese["detail"] and "单价" in chinese["detail"]
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"
    memos = ap.get("/api/v1/payables/invoices", query_string={"document_kind": "credit_memo"}).get_json()
    assert memos == []
    quantity = dict(reduction, net_total="120.00", tax_total="15.60", gross_total="135.60",
                    lines=[{"po_line_id": received_line, "quantity": "10", "unit_price": "12.00"}])
    posted = ap.post("/api/v1/payables/credit-memos", json=quantity)
    assert posted.status_code == 201, posted.get_json()
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1220.40"
