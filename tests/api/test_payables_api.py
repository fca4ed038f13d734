"""Payables over HTTP: strings for money, problem+json refusals, scopes, the whole flow."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.narration import plain
from erp.purchasing.models import PurchaseOrderLine
from tests.payables import vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres


@pytest.fixture
def received_line(session_factory: sessionmaker[Session], world: World) -> int:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    return line


def invoice(world: World, line: int, number: str = "24330000000012345678", price: str = "12.00",
            **overrides: Any) -> dict[str, Any]:
    body = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "number": number,
            "invoice_date": "2026-11-20", "net_total": "1200.00", "tax_total": "156.00", "gross_total": "1356.00",
            "lines": [{"po_line_id": line, "quantity": "100", "unit_price": price}]}
    body.update(overrides)
    return body


def test_enter_match_block_release_pay_and_report(api: ApiClient, world: World, received_line: int,
                                                  session_factory: sessionmaker[Session]) -> None:
    ap = api.as_("ap_a")
    posted = ap.post("/api/v1/payables/invoices", json=invoice(
        world, received_line, price="13.00", net_total="1300.00", tax_total="169.00", gross_total="1469.00"))
    assert posted.status_code == 201, posted.get_json()
    body = posted.get_json()
    assert (body["gross_total"], body["open_amount"], body["blocked"]) == ("1469.00", "1469.00", True)
    (line,) = body["lines"]
    assert (line["grir_amount"], line["price_difference"], line["tax_amount"], line["price_blocked"]) == (
        "1200.00", "100.00", "169.00", True)

    queue = ap.get("/api/v1/payables/invoices?blocked=true").get_json()
    assert [row["id"] for row in queue] == [body["id"]]
    pay = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-21",
           "amount": "1469.00", "invoice_ids": [body["id"]]}
    problem(ap.post("/api/v1/payables/payments", json=pay), 409, "invoice-blocked")
    problem(ap.post(f"/api/v1/payables/invoices/{body['id']}/release", json={"reason": "ok"}), 403,
            "release-by-enterer")
    released = api.as_("pm_a").post(f"/api/v1/payables/invoices/{body['id']}/release",
                                    json={"reason": "price increase agreed"})
    assert released.status_code == 200 and released.get_json()["blocked"] is False
    paid = ap.post("/api/v1/payables/payments", json=pay, headers={"Idempotency-Key": "pay-1"})
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["allocations"] == [{"invoice_id": body["id"], "amount": "1469.00"}]
    replay = ap.post("/api/v1/payables/payments", json=pay, headers={"Idempotency-Key": "pay-1"})
    assert replay.get_json()["id"] == paid.get_json()["id"]

    ageing = ap.get("/api/v1/payables/ageing?as_of=2026-11-21").get_json()
    assert ageing == []  # all paid
    check = ap.get(f"/api/v1/payables/grir/check?company_id={world.companies['A']}&as_of=2026-11-30").get_json()
    assert (check["report_total"], check["account_balance"], check["agrees"]) == ("0.00", "0.00", True)

    status = api.as_("buyer_a").get(f"/api/v1/payables/orders/{_order_of(session_factory, received_line)}/invoice-status")
    (order_line,) = status.get_json()
    assert (order_line["ordered"], order_line["received"], order_line["invoiced"]) == ("100.0000", "100.0000",
                                                                                       "100.0000")
    assert order_line["invoices"][0]["paid"] is True


def _order_of(session_factory: sessionmaker[Session], line: int) -> int:
    with session_factory() as session:
        return session.get(PurchaseOrderLine, line).order_id  # type: ignore[union-attr]


def test_totals_that_disagree_are_refused_with_the_difference(api: ApiClient, world: World,
                                                              received_line: int) -> None:
    body = problem(api.as_("ap_a").post("/api/v1/payables/invoices", json=invoice(
        world, received_line, net_total="1200.05", gross_total="1356.05")), 422, "invoice-totals-disagree")
    assert body["net_difference"] == "0.05"
    assert body["errors"][0]["pointer"] == "/net_total"
    # the amounts in the words: in Chinese as money; in the API's plain English with their cents
    # (they were bare numbers: 1200, 1200.05)
    for language, words in (("en", "the lines add up to 1200.00 excluding tax; the invoice says 1200.05 "
                                   "(difference 0.05)"), ("zh-CN", "¥1,200.00")):
        refused = problem(api.as_("ap_a").post("/api/v1/payables/invoices", headers={"Accept-Language": language},
                                               json=invoice(world, received_line, net_total="1200.05",
                                                            gross_total="1356.05")), 422, "invoice-totals-disagree")
        assert words in refused["detail"], (language, refused["detail"])
    assert api.as_("ap_a").get("/api/v1/payables/invoices").get_json() == []


def test_scopes_and_roles(api: ApiClient, world: World, received_line: int) -> None:
    # refused for the role, and for the company (finding 52: the type and the reason, nothing written)
    refused = problem(api.as_("clerk_a").post("/api/v1/payables/invoices", json=invoice(world, received_line)), 403,
                      "role-not-allowed")
    assert "warehouse_clerk" in refused["detail"] or "clerk" in refused["detail"], refused["detail"]
    refused = problem(api.as_("ap_b").post("/api/v1/payables/invoices", json=invoice(world, received_line)), 403,
                      "company-out-of-scope")
    assert str(world.companies["A"]) in refused["detail"] or "CA" in refused["detail"], refused["detail"]
    assert api.as_("ap_a").get("/api/v1/payables/invoices").get_json() == []
    created = api.as_("ap_a").post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    problem(api.as_("ap_b").get(f"/api/v1/payables/invoices/{created['id']}"), 404)
    assert api.as_("ap_b").get("/api/v1/payables/invoices").get_json() == []
    problem(api.as_("ap_a").post("/api/v1/payables/invoices", json=invoice(world, received_line)), 409,
            "duplicate-invoice")
    refused = problem(api.as_("cio").post("/api/v1/payables/invoices", json=invoice(world, received_line, number="X")),
                      403, "read-only-role")
    assert "cio" in refused["detail"], refused["detail"]
    assert [i["document_number"] for i in api.as_("ap_a").get("/api/v1/payables/invoices").get_json()] == \
        [created["document_number"]]


def test_tolerances_are_set_per_company_and_audited(api: ApiClient, world: World, received_line: int) -> None:
    url = f"/api/v1/payables/tolerances/{world.companies['A']}"
    assert api.as_("ap_a").get(url).get_json() == {"quantity_pct": "0.00", "price_pct": "5.00",
                                                   "price_amount": "500.00"}
    refused = problem(api.as_("ap_a").put(url, json={"quantity_pct": "0", "price_pct": "10", "price_amount": "100"}),
                      403, "role-not-allowed")
    assert "tolerance" in refused["detail"], refused["detail"]
    assert api.as_("ap_a").get(url).get_json()["price_pct"] == "5.00"  # nothing written
    changed = api.as_("cost_a").put(url, json={"quantity_pct": "0", "price_pct": "10", "price_amount": "100",
                                               "reason": "new policy"})
    assert changed.get_json()["price_pct"] == "10.00"
    # 13.00 is 8.33 % above 12.00 (inside 10 %) but 100.00 on the line (at the 100.00 limit): passes
    posted = api.as_("ap_a").post("/api/v1/payables/invoices", json=invoice(
        world, received_line, price="13.00", net_total="1300.00", tax_total="169.00", gross_total="1469.00"))
    assert posted.get_json()["blocked"] is False
    history = api.as_("auditor").get(f"/api/v1/audit/payables_tolerance/{world.companies['A']}").get_json()
    assert history[0]["reason"] == "new policy"


def test_a_batch_with_only_a_price_difference_shows_it_and_links_the_invoice_both_ways(
        api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """An invoice before its goods arrive (R2) books its 30.00 on the order line's warehouse
    and the material's no-batch batch "-", which then has that value-only row and nothing
    else. Its flow was a 404 (only goods movements counted); now a clerk of the warehouse and
    a cost accountant see the batch with no goods (no movements, totals or stock) and the
    row: quantity 0, value 0.00, variance 30.00, the invoice's number and id. The ledger row
    carries the invoice's id; the invoice lists its PD document; another company's clerk
    still gets 404."""
    from tests.stock import batch_id

    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    posted = api.as_("ap_a").post("/api/v1/payables/invoices", json=invoice(
        world, line, number="INV-AHEAD-1", price="12.30", net_total="1230.00", tax_total="159.90",
        gross_total="1389.90"))
    assert posted.status_code == 201, posted.get_json()
    invoice_id = posted.get_json()["id"]
    no_batch = batch_id(session_factory, world, "exc_local", "-")
    for user in ("clerk_a", "cost_a"):
        flow = api.as_(user).get(f"/api/v1/inventory/batches/{no_batch}/flow")
        assert flow.status_code == 200, flow.get_json()
        body = flow.get_json()
        assert (body["batch"]["batch_number"], body["receipts"], body["movements"], body["on_hand"],
                body["totals"]) == ("-", [], [], [], {})
        (row,) = body["price_differences"]
        assert {k: row[k] for k in ("warehouse_code", "quantity", "value", "variance", "reference", "supplier_code",
                                    "supplier_invoice_id")} == {
            "warehouse_code": "CA-AMB", "quantity": "0.0000", "value": "0.00", "variance": "30.00",
            "reference": "INV-AHEAD-1", "supplier_code": "S0001", "supplier_invoice_id": invoice_id}
    problem(api.as_("clerk_b").get(f"/api/v1/inventory/batches/{no_batch}/flow"), 404, "not-found")
    ledger = api.as_("cost_a").get("/api/v1/inventory/movements?movement_type=price_difference").get_json()
    assert [(r["variance"], r["supplier_invoice_id"]) for r in ledger] == [("30.00", invoice_id)]
    detail = api.as_("cost_a").get(f"/api/v1/payables/invoices/{invoice_id}").get_json()
    (document,) = detail["price_difference_documents"]
    assert document["number"].startswith("PD-") and document["id"] == ledger[0]["document_id"]


def test_reverse_an_invoice_over_http_then_refusals_as_problems(api: ApiClient, world: World, received_line: int,
                                                                 session_factory: sessionmaker[Session]) -> None:
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    url = f"/api/v1/payables/invoices/{body['id']}/reverse"
    refused = problem(ap.post(url, json={"reversal_date": "2026-11-25"}), 422, "validation-error")
    assert any(error["pointer"] == "/reason" for error in refused["errors"])
    problem(api.as_("cost_a").post(url, json={"reason": "wrong price"}), 403, "role-not-allowed")
    problem(api.as_("ap_b").post(url, json={"reason": "wrong price"}), 404, "not-found")
    reversed_ = ap.post(url, json={"reason": "wrong supplier invoice number", "reversal_date": "2026-11-25"})
    assert reversed_.status_code == 200, reversed_.get_json()
    shown = ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()
    assert (shown["reversed"], shown["reversal_date"], shown["reversal_reason"], shown["open_amount"]) == (
        True, "2026-11-25", "wrong supplier invoice number", "0.00")
    assert shown["reversed_by"] == world.users["ap_a"] and shown["reversal_entry_id"] is not None
    again = problem(ap.post(url, json={"reason": "twice"}), 409, "invoice-reversed")
    assert "wrong supplier invoice number" in again["detail"]
    pay = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-26",
           "amount": "1.00", "invoice_ids": [body["id"]]}
    problem(ap.post("/api/v1/payables/payments", json=pay), 409, "invoice-reversed")
    # the order line is free to invoice again from the reversal date (not before: 200 kg of 100
    # would stand invoiced), and the buyer sees the reversed invoice marked
    problem(ap.post("/api/v1/payables/invoices", json=invoice(world, received_line, number="2")), 422,
            "dated-before-reopening")
    assert ap.post("/api/v1/payables/invoices", json=invoice(world, received_line, number="2",
                                                             invoice_date="2026-11-25")).status_code == 201
    status = api.as_("buyer_a").get(f"/api/v1/payables/orders/{_order_of(session_factory, received_line)}/invoice-status")
    (order_line,) = status.get_json()
    assert order_line["invoiced"] == "100.0000"
    assert [(i["reversed"], i["paid"]) for i in order_line["invoices"]] == [(True, False), (False, False)]


def test_a_paid_invoice_is_refused_reversal_with_a_409_naming_the_payment(
        api: ApiClient, world: World, received_line: int) -> None:
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    pay = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-21",
           "amount": "356.00", "invoice_ids": [body["id"]]}
    assert ap.post("/api/v1/payables/payments", json=pay).status_code == 201
    refused = problem(ap.post(f"/api/v1/payables/invoices/{body['id']}/reverse", json={"reason": "wrong price"}),
                      409, "invoice-settled")
    assert "reverse the payment first, or correct the invoice with a credit memo" in refused["detail"]
    closed = problem(ap.post(f"/api/v1/payables/invoices/{body['id']}/reverse",
                             json={"reason": "wrong price", "reversal_date": "2026-12-16"}), 422,
                     "dated-after-business-day")
    assert closed["errors"][0]["pointer"] == "/reversal_date"


def test_a_reversal_before_a_price_difference_written_later_is_refused_in_english_and_chinese(
        api: ApiClient, world: World, received_line: int, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """INV-LATE (100 kg at 12.30 on 20 November, 30.00 on 1404) entered the way before 0040;
    its price-difference row of 30.00 written by the correction on 10 December. Reversing it
    on 25 November would date the mirror before the row: 422 at /reversal_date, in English
    and in Chinese; on 10 December it is reversed. The route declares only the refusals it
    can answer with: another company's invoice is 404, not 403 company-out-of-scope."""
    import datetime as dt

    from erp.payables import services
    from erp.payables.price_differences import write_missing_price_differences
    from tests.payables import enter

    with monkeypatch.context() as before_0040:
        before_0040.setattr(services, "post_variance_carried", lambda *args, **kwargs: None)
        invoice_id = enter(session_factory, world, "INV-LATE", [(received_line, "100", "12.30")], net="1230.00",
                           tax="159.90")
    with session_factory() as session, session.begin():
        write_missing_price_differences(session, world.actors["cost_a"], world.companies["A"], dt.date(2026, 12, 10))
    ap, url = api.as_("ap_a"), f"/api/v1/payables/invoices/{invoice_id}/reverse"
    early = {"reason": "wrong price", "reversal_date": "2026-11-25"}
    english = problem(ap.post(url, json=early, headers={"Accept-Language": "en"}), 422, "validation-error")
    assert english["errors"][0]["pointer"] == "/reversal_date"
    assert ("the price difference of INV-LATE was written into the stock ledger on 2026-12-10; its reversal cannot "
            "be dated 2026-11-25, before it") in english["detail"] + english["errors"][0]["detail"]
    chinese = problem(ap.post(url, json=early, headers={"Accept-Language": "zh-CN"}), 422, "validation-error")
    assert "INV-LATE 的价格差异于 2026-12-10 记入库存台账；其冲销日期不能是早于该日的 2026-11-25" in (
        chinese["detail"] + chinese["errors"][0]["detail"])
    problem(api.as_("ap_b").post(url, json={"reason": "wrong price"}), 404, "not-found")
    reversed_ = ap.post(url, json={"reason": "wrong price", "reversal_date": "2026-12-10"})
    assert reversed_.status_code == 200, reversed_.get_json()
    assert (reversed_.get_json()["reversal_date"], reversed_.get_json()["open_amount"]) == ("2026-12-10", "0.00")
    spec = ap.get("/api/v1/openapi.json").get_json()
    responses = spec["paths"]["/api/v1/payables/invoices/{invoice_id}/reverse"]["post"]["responses"]
    assert "/problems/company-out-of-scope" not in responses["403"]["x-problem-types"]
    assert "/problems/not-found" in responses["404"]["x-problem-types"]

def test_reverse_a_payment_over_http_then_refusals_as_problems(
        api: ApiClient, world: World, received_line: int) -> None:
    """Invoice 1,356.00 paid 1,000.00 on 21 November (356.00 open); the payment reversed on
    25 November with an Idempotency-Key: 1,356.00 open again, a replay gives the same
    payment and posts nothing more; then the refusals, each a problem that writes nothing."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    pay = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-21",
           "amount": "1000.00", "invoice_ids": [body["id"]], "reference": "BANK-7"}
    paid = ap.post("/api/v1/payables/payments", json=pay).get_json()
    assert paid["reversed"] is False and paid["reversal_date"] is None
    url = f"/api/v1/payables/payments/{paid['id']}/reverse"
    problem(api.as_("ap_b").post(url, json={"reason": "bank return"}), 404, "not-found")
    problem(api.as_("cost_a").post(url, json={"reason": "bank return"}), 403, "role-not-allowed")
    problem(ap.post(url, json={}), 422, "validation-error")
    problem(ap.post(url, json={"reason": "bank return", "reversal_date": "2026-11-20"}), 422, "validation-error")
    problem(ap.post(url, json={"reason": "bank return", "reversal_date": "2026-12-16"}), 422,
            "dated-after-business-day")
    headers = {"Idempotency-Key": "reverse-pay-1"}
    body_in = {"reason": "returned by the bank", "reversal_date": "2026-11-25"}
    reversed_ = ap.post(url, json=body_in, headers=headers)
    assert reversed_.status_code == 200, reversed_.get_json()
    shown = reversed_.get_json()
    assert (shown["reversed"], shown["reversal_date"], shown["reversal_reason"], shown["amount"]) == (
        True, "2026-11-25", "returned by the bank", "1000.00")
    assert shown["reversed_by"] == world.users["ap_a"] and shown["reversal_entry_id"] is not None
    assert shown["allocations"] == [{"invoice_id": body["id"], "amount": "1000.00"}]
    replay = ap.post(url, json=body_in, headers=headers)
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json()["reversal_entry_id"] == shown["reversal_entry_id"]
    problem(ap.post(url, json={"reason": "twice"}), 409, "payment-reversed")
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"
    problem(ap.post("/api/v1/payables/payments/999999/reverse", json={"reason": "x"}), 404, "not-found")


def test_a_credit_memos_reason_is_kept_in_the_audit_trail_of_the_memo_and_of_the_invoice_it_reduces(
        api: ApiClient, world: World, received_line: int, session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy import select

    from erp.audit.models import AuditEvent

    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    memo = invoice(world, received_line, number="CM-7", net_total="240.00", tax_total="31.20", gross_total="271.20",
                   lines=[{"po_line_id": received_line, "quantity": "20", "unit_price": "12.00"}],
                   credits_invoice_id=body["id"], reason="20 kg returned broken")
    posted = ap.post("/api/v1/payables/credit-memos", json=memo)
    assert posted.status_code == 201, posted.get_json()
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1084.80"
    without = ap.post("/api/v1/payables/credit-memos", json={**memo, "number": "CM-8", "reason": None,
                                                            "credits_invoice_id": None})
    assert without.status_code == 201, without.get_json()
    # what each memo took off the invoice it reduces: CM-7 all its 271.20 (1,356.00 was
    # open), CM-8 nothing (it names none: open on itself); the invoice applies nothing
    assert (posted.get_json()["applied_amount"], posted.get_json()["open_amount"]) == ("271.20", "0.00")
    assert (without.get_json()["applied_amount"], without.get_json()["open_amount"]) == ("0.00", "271.20")
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["applied_amount"] == "0.00"
    listed = {i["number"]: i["applied_amount"] for i in ap.get("/api/v1/payables/invoices").get_json()}
    assert listed["CM-7"] == "271.20" and listed["CM-8"] == "0.00"
    with session_factory() as session:
        # the reasons as the trail reads them in English (the system's part is a narration, erp.narration)
        trail = [(e.entity_id, e.action, plain(e.reason) if e.reason else None, e.changes) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "supplier_invoice").order_by(AuditEvent.id))]
    memo_id, other = posted.get_json()["id"], without.get_json()["id"]
    assert trail == [
        (memo_id, "enter-credit-memo", "20 kg returned broken",
         {"number": {"before": None, "after": "CM-7"}, "credits_invoice_id": {"before": None, "after": body["id"]},
          "gross_total": {"before": None, "after": "271.20"}}),
        (body["id"], "credited", "credit memo CM-7: 20 kg returned broken",
         {"open_amount": {"before": "1356.00", "after": "1084.80"}}),
        (other, "enter-credit-memo", None,
         {"number": {"before": None, "after": "CM-8"}, "credits_invoice_id": {"before": None, "after": None},
          "gross_total": {"before": None, "after": "271.20"}}),
    ]


def test_supplier_payments_are_listed_with_filters_in_the_callers_companies_and_read_one_by_one(
        api: ApiClient, world: World, received_line: int) -> None:
    """Two payments of one invoice (1,356.00): 1,000.00 on 21 November, reversed on 25
    November, and 356.00 on 26 November. The list, newest first, filters by company,
    supplier, invoice, reversal and payment dates; another company's caller sees none of
    them, and naming company A is refused 403; one payment shows its allocations with the
    invoice's number and its reversal; another company's payment is 404."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    pay = {"company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"], "payment_date": "2026-11-21",
           "amount": "1000.00", "invoice_ids": [body["id"]], "reference": "BANK-1"}
    first = ap.post("/api/v1/payables/payments", json=pay).get_json()
    reversed_ = ap.post(f"/api/v1/payables/payments/{first['id']}/reverse",
                        json={"reason": "returned by the bank", "reversal_date": "2026-11-25"})
    assert reversed_.status_code == 200, reversed_.get_json()
    second = ap.post("/api/v1/payables/payments", json={**pay, "payment_date": "2026-11-26", "amount": "356.00",
                                                         "reference": "BANK-2"}).get_json()
    assert body["document_number"].startswith("AP-")  # our own number, beside the supplier's
    listed = ap.get("/api/v1/payables/payments")
    assert listed.status_code == 200, listed.get_json()
    assert [p["id"] for p in listed.get_json()] == [second["id"], first["id"]]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 2
    assert listed.get_json()[1]["allocations"] == [
        {"invoice_id": body["id"], "invoice_number": body["number"],
         "invoice_document_number": body["document_number"], "amount": "1000.00"}]
    company, supplier = world.companies["A"], world.suppliers["sup1"]
    for query, expected in (
            (f"company_id={company}&supplier_id={supplier}", [second["id"], first["id"]]),
            (f"invoice_id={body['id']}", [second["id"], first["id"]]),
            ("invoice_id=999999", []),
            ("reversed=true", [first["id"]]),
            ("reversed=false", [second["id"]]),
            ("from=2026-11-22", [second["id"]]),
            ("to=2026-11-21", [first["id"]]),
            ("from=2026-11-21&to=2026-11-26&page_size=1", [second["id"]])):
        answer = ap.get(f"/api/v1/payables/payments?{query}")
        assert answer.status_code == 200 and [p["id"] for p in answer.get_json()] == expected, query
    assert api.as_("ap_b").get("/api/v1/payables/payments").get_json() == []
    problem(api.as_("ap_b").get(f"/api/v1/payables/payments?company_id={company}"), 403, "company-out-of-scope")
    problem(ap.get("/api/v1/payables/payments?amount=1"), 422, "validation-error")
    problem(api.as_("buyer_a").get("/api/v1/payables/payments"), 403, "role-not-allowed")

    one = api.as_("auditor").get(f"/api/v1/payables/payments/{first['id']}")
    assert one.status_code == 200, one.get_json()
    shown = one.get_json()
    assert (shown["amount"], shown["reference"], shown["reversed"], shown["reversal_date"],
            shown["reversal_reason"]) == ("1000.00", "BANK-1", True, "2026-11-25", "returned by the bank")
    assert shown["reversed_by"] == world.users["ap_a"] and shown["reversal_entry_id"] is not None
    assert shown["allocations"] == [{"invoice_id": body["id"], "invoice_number": body["number"],
         "invoice_document_number": body["document_number"], "amount": "1000.00"}]
    assert ap.get(f"/api/v1/payables/payments/{second['id']}").get_json()["reversed"] is False
    problem(api.as_("ap_b").get(f"/api/v1/payables/payments/{first['id']}"), 404, "not-found")
    problem(ap.get("/api/v1/payables/payments/999999"), 404, "not-found")
