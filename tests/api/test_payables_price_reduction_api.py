"""``POST /api/v1/payables/invoices/{id}/price-reductions``: a supplier's price reduction on a
posted invoice (降价红字发票, docs/payables.md, *Price reductions*), figures by hand.

The invoice: 100 kg of EXC-LOCAL at 12.00 (standard 12.00, all received and held), VAT13:
1,200.00 + 156.00 = 1,356.00. The supplier grants 2.00/kg off: 200.00 + 26.00 = 226.00, all
to 1404 (every kilogram still held): Dr 2202 226.00 / Cr 2221.01.01 26.00 / Cr 1404 200.00;
GR/IR and the 100 kg invoiced untouched; the invoice open 1,356.00 - 226.00 = 1,130.00.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.close import close_period
from tests.api.test_payables_api import invoice, received_line  # noqa: F401 - fixture
from tests.stock import entry_lines
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres


def reduction(line_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"number": "RED-24330001", "invoice_date": "2026-11-21", "net_total": "200.00",
                            "tax_total": "26.00", "gross_total": "226.00", "reason": "supplier's price reduction",
                            "lines": [{"invoice_line_id": line_id, "amount": "200.00"}]}
    body.update(overrides)
    return body


def test_a_price_reduction_posts_payables_vat_and_price_difference_and_leaves_grir(
        api: ApiClient, world: World, received_line: int,  # noqa: F811 - fixture
        session_factory: sessionmaker[Session]) -> None:
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    (line,) = body["lines"]
    # 100 kg at 10.00 instead of 12.00: 1,200.00 - 1,000.00 = 200.00 off
    posted = ap.post(f"/api/v1/payables/invoices/{body['id']}/price-reductions",
                     json=reduction(0, lines=[{"invoice_line_id": line["id"], "new_unit_price": "10.00"}]))
    assert posted.status_code == 201, posted.get_json()
    memo = posted.get_json()
    assert (memo["document_kind"], memo["document_number"], memo["credits_invoice_id"]) == (
        "credit_memo", "CM-CA-2026-000001", body["id"])
    assert (memo["net_total"], memo["tax_total"], memo["gross_total"], memo["applied_amount"]) == (
        "200.00", "26.00", "226.00", "226.00")
    (memo_line,) = memo["lines"]
    assert (memo_line["quantity"], memo_line["grir_amount"], memo_line["net_amount"], memo_line["tax_amount"],
            memo_line["unit_price"], memo_line["price_difference"]) == (
        "0.0000", "0.00", "200.00", "26.00", "2.000000", "200.00")
    assert memo_line["reduces_line_id"] == line["id"]
    with session_factory() as session:
        assert entry_lines(session, memo["id"], "supplier_invoice") == {
            "2202": 226, "2221.01.01": -26, "1404": -200}
    after = ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()
    assert after["open_amount"] == "1130.00"
    assert after["lines"][0]["quantity"] == line["quantity"]
    grir = ap.get("/api/v1/payables/grir", query_string={"company_id": world.companies["A"]}).get_json()
    assert [row for row in grir if row["po_line_id"] == received_line] == []  # received 100, invoiced 100: cleared


def body_line_id(ap: ApiClient, invoice_id: int) -> int:
    """The id of the invoice's first line, as its answer gives it."""
    found = ap.get(f"/api/v1/payables/invoices/{invoice_id}").get_json()
    return int(found["lines"][0]["id"])


def test_price_reduction_refusals_point_at_the_field(
        api: ApiClient, world: World, received_line: int,  # noqa: F811 - fixture
        session_factory: sessionmaker[Session]) -> None:
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    url = f"/api/v1/payables/invoices/{body['id']}/price-reductions"
    line_id = body_line_id(ap, body["id"])

    over = problem(ap.post(url, json=reduction(line_id, net_total="1200.01", tax_total="156.00",
                                               gross_total="1356.01",
                                               lines=[{"invoice_line_id": line_id, "amount": "1200.01"}]),
                           headers={"Accept-Language": "en"}), 409, "over-credited")
    assert over["errors"] == [{"pointer": "/lines/0/amount", "detail": over["detail"]}]
    assert over["detail"] == ("invoice line 1 invoiced 1200.00 excluding tax; earlier price reductions and credit "
                              "memos leave 1200.00: it cannot be reduced by 1200.01")
    assert over["reducible"] == "1200.00"

    zero = problem(ap.post(url, json=reduction(line_id, lines=[{"invoice_line_id": line_id, "amount": "0.00"}]),
                           headers={"Accept-Language": "en"}), 422, "validation-error")
    assert [e["pointer"] for e in zero["errors"]] == ["/lines/0/amount"]
    assert zero["errors"][0]["detail"] == "a price reduction is more than 0.00, not 0.00"

    higher = problem(ap.post(url, json=reduction(line_id, lines=[{"invoice_line_id": line_id,
                                                                  "new_unit_price": "12.50"}]),
                             headers={"Accept-Language": "en"}), 422, "validation-error")
    assert higher["errors"][0] == {"pointer": "/lines/0/new_unit_price", "detail": (
        "the new unit price 12.50 is not below the invoice's 12.00: a price reduction lowers it")}

    totals = problem(ap.post(url, json=reduction(line_id, tax_total="25.00", gross_total="225.00"),
                             headers={"Accept-Language": "en"}), 422, "invoice-totals-disagree")
    assert [e["pointer"] for e in totals["errors"]] == ["/tax_total"]

    other = problem(api.as_("ap_b").post(url, json=reduction(line_id)), 404, "not-found")
    assert str(body["id"]) in other["detail"]

    chinese = problem(ap.post(url, json=reduction(line_id, lines=[{"invoice_line_id": line_id, "amount": "-1.00"}]),
                              headers={"Accept-Language": "zh-CN"}), 422, "validation-error")
    assert "降价" in chinese["errors"][0]["detail"]

    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-11")
    closed = problem(ap.post(url, json=reduction(line_id)), 409, "period-closed")
    assert (closed["company_id"], closed["period"]) == (world.companies["A"], "2026-11")
    # nothing written by any of them
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"
    assert ap.get("/api/v1/payables/invoices", query_string={"document_kind": "credit_memo"}).get_json() == []
