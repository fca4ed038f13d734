"""Sales, receivables and credit control through the API: the flow from order to cash,
refusals as problems that write nothing, scoping, the CIO's views and the commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.models import CreditLimit, CreditRelease, CreditSuggestionRun, Invoice
from tests.credit import NOV, history_invoice, new_order, put_stock, recompute_through_api, row_counts, set_limit
from tests.tax import create_china_vat
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


@pytest.fixture(autouse=True)
def _vat_codes(session_factory: SF, world: World) -> None:
    create_china_vat(session_factory, world)


def order_payload(world: World, *lines: tuple[str, str], company: str = "A", customer: str = "cust1") -> dict[str, Any]:
    """An order at the zero VAT rate (the amounts these tests work out carry no tax)."""
    return {
        "company_id": world.companies[company], "customer_id": world.customers[customer],
        "order_date": "2026-11-03", "customer_reference": "PO-7781",
        "lines": [{"material_id": world.materials["exc_local"], "warehouse_id": world.warehouses[f"{company}-AMB"],
                   "quantity": q, "unit_price": p, "tax_code_id": world.tax_codes["VAT0"]} for q, p in lines],
    }


def test_order_to_cash(api: ApiClient, world: World, session_factory: SF) -> None:
    put_stock(session_factory, world)
    sales = api.as_("sales_a")
    created = sales.post("/api/v1/sales-orders", json=order_payload(world, ("30", "99.90")))
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    assert (order["status"], order["lines"][0]["open_value"]) == ("draft", "2997.00")  # 30 x 99.90

    confirmed = sales.post(f"/api/v1/sales-orders/{order['id']}/confirmation").get_json()
    assert confirmed["status"] == "confirmed"
    assert confirmed["credit"]["outcome"] == "passed" and confirmed["credit"]["exposure_after"] == "2997.00"

    shipment = {"posting_date": "2026-11-20", "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "30"}]}
    key = {"Idempotency-Key": "ship-7781-1"}
    first = sales.post(f"/api/v1/sales-orders/{order['id']}/shipments", json=shipment, headers=key)
    assert first.status_code == 201, first.get_json()
    invoice = first.get_json()["invoice"]
    assert (invoice["amount"], invoice["due_date"], first.get_json()["order_status"]) == (
        "2997.00", "2026-12-20", "shipped")  # cust1 pays in 30 days
    again = sales.post(f"/api/v1/sales-orders/{order['id']}/shipments", json=shipment, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["invoice"]["id"] == invoice["id"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1

    paid = sales.post("/api/v1/payments", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "payment_date": "2026-12-01",
        "amount": "3000.00", "bank_reference": "CMB-0042"})
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["unapplied_amount"] == "3.00"  # 3,000.00 - 2,997.00
    assert [(a["invoice_id"], a["amount"]) for a in paid.get_json()["applications"]] == [(invoice["id"], "2997.00")]
    settled = sales.get(f"/api/v1/invoices/{invoice['id']}").get_json()
    assert (settled["status"], settled["open_amount"]) == ("paid", "0.00")

    position = sales.get(f"/api/v1/credit/customers/{world.customers['cust1']}?amount=100").get_json()
    assert (position["exposure"], position["unapplied_credit"], position["check"]["exposure_after"]) == (
        "0.00", "3.00", "100.00")


def test_a_warning_comes_with_the_confirmation(api: ApiClient, world: World) -> None:
    made = api.as_("credit").post(f"/api/v1/credit/customers/{world.customers['cust1']}/limits",
                                  json={"credit_limit": "10000", "reason": "opening limit"})
    assert made.status_code == 201 and made.get_json()["version"] == 1
    order = api.as_("sales_a").post("/api/v1/sales-orders", json=order_payload(world, ("95", "100.00"))).get_json()
    confirmed = api.as_("sales_a").post(f"/api/v1/sales-orders/{order['id']}/confirmation").get_json()
    assert confirmed["status"] == "confirmed"
    # 9,500 of 10,000: from 0.90 x 10,000 = 9,000 an action passes with a warning
    assert (confirmed["credit"]["outcome"], confirmed["credit"]["rule"]) == ("warning", "credit-warning-zone")
    assert confirmed["credit"]["warning_from"] == "9000.00"


def test_blocked_orders_are_listed_for_controllers_and_released_with_a_reason(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    set_limit(session_factory, world, "cust1", "1000.00")
    order = api.as_("sales_a").post("/api/v1/sales-orders", json=order_payload(world, ("11", "100.00"))).get_json()
    blocked = api.as_("sales_a").post(f"/api/v1/sales-orders/{order['id']}/confirmation").get_json()
    assert (blocked["status"], blocked["credit_block_rule"]) == ("blocked", "credit-limit-exceeded")

    problem(api.as_("sales_a").get("/api/v1/credit/blocked-orders"), 403, "role-not-allowed")
    listed = api.as_("credit").get("/api/v1/credit/blocked-orders").get_json()
    assert [(o["order_id"], o["stage"], o["open_value"], o["credit_limit"]) for o in listed] == [
        (order["id"], "confirmation", "1100.00", "1000.00")]

    problem(api.as_("credit").post(f"/api/v1/credit/blocked-orders/{order['id']}/release", json={}), 422,
            "validation-error")
    released = api.as_("credit").post(f"/api/v1/credit/blocked-orders/{order['id']}/release",
                                      json={"reason": "prepaid 50 %"})
    assert released.status_code == 201
    assert (released.get_json()["released_by"], released.get_json()["reason"]) == (world.users["credit"],
                                                                                    "prepaid 50 %")
    assert api.as_("sales_a").get(f"/api/v1/sales-orders/{order['id']}").get_json()["status"] == "confirmed"
    assert api.as_("credit").get("/api/v1/credit/blocked-orders").get_json() == []
    problem(api.as_("credit").post(f"/api/v1/credit/blocked-orders/{order['id']}/release", json={"reason": "x"}),
            409, "order-not-blocked")


def test_the_release_answer_and_the_list_state_the_exposure_after_and_the_orders_it_blocks(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    # limit 10,000: B's 6,000 confirmed; A's 5,000 blocked; releasing it makes 11,000
    set_limit(session_factory, world, "cust1", "10000.00")
    older = new_order(session_factory, world, company="B", lines=[("60", "100.00")], confirm=True).order
    blocked = new_order(session_factory, world, lines=[("50", "100.00")], confirm=True).order
    expected = {"exposure_before": "6000.00", "exposure_after": "11000.00", "credit_limit": "10000.00",
                "above_limit_by": "1000.00", "blocked_at_shipment": [
                    {"order_id": older.id, "order_number": "SO-CB-2026-000001", "company_id": world.companies["B"],
                     "company_code": "CB", "company_name_zh": "乙公司", "company_name_en": "Company B",
                     "status": "confirmed", "open_value": "6000.00", "newly_blocked": True}]}
    (listed,) = api.as_("cio").get("/api/v1/credit/blocked-orders").get_json()
    assert (listed["order_id"], listed["customer_on_hold"], listed["release_effect"]) == (blocked.id, False, expected)
    released = api.as_("credit").post(f"/api/v1/credit/blocked-orders/{blocked.id}/release",
                                      json={"reason": "bank guarantee"})
    assert released.status_code == 201
    assert (released.get_json()["exposure"], released.get_json()["effect"]) == ("11000.00", expected)


def test_refused_shipments_are_problems_that_write_nothing(api: ApiClient, world: World, session_factory: SF) -> None:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "10000.00")
    order = new_order(session_factory, world, lines=[("50", "100.00")], confirm=True).order
    blocked = new_order(session_factory, world, lines=[("60", "100.00")], confirm=True).order  # 11,000 > 10,000
    line = order.lines[0].id
    url = f"/api/v1/sales-orders/{order.id}/shipments"
    sales = api.as_("sales_a")
    before = row_counts(session_factory)

    too_much = problem(sales.post(url, json={"posting_date": "2026-11-20",
                                             "lines": [{"order_line_id": line, "quantity": "50.001"}]}),
                       409, "over-shipment")
    assert too_much["open_quantity"] == "50.0000"
    problem(sales.post(url, json={"posting_date": "2026-11-20",
                                  "lines": [{"order_line_id": blocked.lines[0].id, "quantity": "1"}]}),
            422, "validation-error")
    problem(sales.post(f"/api/v1/sales-orders/{blocked.id}/shipments",
                       json={"posting_date": "2026-11-20",
                             "lines": [{"order_line_id": blocked.lines[0].id, "quantity": "1"}]}),
            409, "order-status-conflict")
    set_limit(session_factory, world, "cust1", "4999.99")
    before = row_counts(session_factory)
    over = problem(sales.post(url, json={"posting_date": "2026-11-20",
                                         "lines": [{"order_line_id": line, "quantity": "1"}]}),
                   409, "credit-limit-exceeded")
    assert (over["exposure_after"], over["credit_limit"], over["order_id"]) == ("5000.00", "4999.99", order.id)
    assert row_counts(session_factory) == before


def test_sales_of_one_company_do_not_see_anothers_invoices(api: ApiClient, world: World, session_factory: SF) -> None:
    in_a = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "100.00", company="A")
    in_b = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "200.00", company="B")
    order = new_order(session_factory, world, company="A", lines=[("1", "1.00")]).order
    sales_b = api.as_("sales_b")
    problem(sales_b.get(f"/api/v1/invoices/{in_a}"), 404, "not-found")
    assert [i["id"] for i in sales_b.get("/api/v1/invoices").get_json()] == [in_b]
    problem(sales_b.get(f"/api/v1/sales-orders/{order.id}"), 404, "not-found")
    assert sales_b.get("/api/v1/sales-orders").get_json() == []
    rows = sales_b.get("/api/v1/credit/receivables/customers?as_of=2026-11-20").get_json()
    assert [(r["customer_code"], r["open_amount"]) for r in rows] == [("K0001", "200.00")]  # B's invoice only

    before = row_counts(session_factory)
    problem(sales_b.post(f"/api/v1/sales-orders/{order.id}/confirmation"), 404, "not-found")
    problem(sales_b.post("/api/v1/payments", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "payment_date": "2026-11-20",
        "amount": "100.00"}), 403, "company-out-of-scope")
    problem(sales_b.post("/api/v1/payments", json={
        "company_id": world.companies["B"], "customer_id": world.customers["cust1"], "payment_date": "2026-11-20",
        "amount": "100.00", "invoice_ids": [in_a]}), 422, "invoice-not-applicable")
    assert row_counts(session_factory) == before


def test_the_cio_reads_everything_and_changes_nothing(api: ApiClient, world: World, session_factory: SF) -> None:
    in_a = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "100.00", company="A")
    in_b = history_invoice(session_factory, world, "cust2", dt.date(2026, 11, 1), "200.00", company="B")
    order = new_order(session_factory, world, lines=[("1", "1.00")]).order
    cio = api.as_("cio")
    assert sorted(i["id"] for i in cio.get("/api/v1/invoices").get_json()) == sorted([in_a, in_b])
    assert cio.get(f"/api/v1/sales-orders/{order.id}").status_code == 200
    for path in ("/api/v1/credit/dashboard", "/api/v1/credit/alerts", "/api/v1/credit/blocked-orders",
                 "/api/v1/credit/receivables/customers", "/api/v1/credit/receivables/companies",
                 "/api/v1/credit/receivables/segments", "/api/v1/credit/limit-suggestions", "/api/v1/payments",
                 f"/api/v1/credit/customers/{world.customers['cust1']}",
                 f"/api/v1/credit/customers/{world.customers['cust1']}/limits"):
        assert cio.get(path).status_code == 200, path

    before = row_counts(session_factory)
    customer = world.customers["cust1"]
    for method, path, body in (
        ("post", "/api/v1/sales-orders", order_payload(world, ("1", "1.00"))),
        ("post", f"/api/v1/sales-orders/{order.id}/confirmation", None),
        ("post", f"/api/v1/sales-orders/{order.id}/cancellation", {}),
        ("post", "/api/v1/payments", {"company_id": world.companies["A"], "customer_id": customer,
                                      "payment_date": "2026-11-20", "amount": "1.00"}),
        ("put", f"/api/v1/credit/customers/{customer}/hold", {"on_hold": True, "reason": "x"}),
        ("post", f"/api/v1/credit/customers/{customer}/limits", {"credit_limit": "1", "reason": "x"}),
        ("post", "/api/v1/credit/limit-suggestions", {}),
        ("post", f"/api/v1/credit/blocked-orders/{order.id}/release", {"reason": "x"}),
    ):
        kwargs = {"json": body} if body is not None else {}
        response = getattr(cio.client, method)(path, headers={"Authorization": f"Bearer {world.tokens['cio']}"},
                                               **kwargs)
        problem(response, 403, "read-only-role")
    assert row_counts(session_factory) == before
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditLimit)) == 0
        assert session.scalar(select(func.count()).select_from(CreditRelease)) == 0


def test_dashboard_by_segment_company_top_customers_and_alerts(api: ApiClient, world: World,
                                                               session_factory: SF) -> None:
    # as of 20 Nov: A (FORM) 100.00 for cust1, 10 days past due; B (FORM) 200.00 for cust1,
    # not due; C (API) 400.00 for cust2, 95 days past due. cust1 pays in 30 days, cust2 in 60.
    history_invoice(session_factory, world, "cust1", NOV - dt.timedelta(days=40), "100.00", company="A")
    history_invoice(session_factory, world, "cust1", NOV - dt.timedelta(days=5), "200.00", company="B")
    history_invoice(session_factory, world, "cust2", NOV - dt.timedelta(days=155), "400.00", company="C")
    set_limit(session_factory, world, "cust1", "250.00")  # 300.00 exposure: 50.00 over
    # every figure is as of the key date: the limit counts when it was set by then (1 Nov)
    with session_factory() as session, session.begin():
        session.execute(update(CreditLimit).values(set_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)))

    board = api.as_("cio").get("/api/v1/credit/dashboard?as_of=2026-11-20&top=10").get_json()
    assert {k: board["totals"][k] for k in ("open_amount", "overdue", "not_due", "days_1_30", "over_90")} == {
        "open_amount": "700.00", "overdue": "500.00", "not_due": "200.00", "days_1_30": "100.00",
        "over_90": "400.00"}
    assert [(s["segment_code"], s["open_amount"], s["overdue"], s["companies"]) for s in board["by_segment"]] == [
        ("API", "400.00", "400.00", 1), ("FORM", "300.00", "100.00", 2)]
    assert [(c["company_code"], c["open_amount"]) for c in board["by_company"]] == [
        ("CA", "100.00"), ("CB", "200.00"), ("CC", "400.00")]
    assert [(c["customer_code"], c["exposure"], c["credit_limit"], c["utilisation"]) for c in board["top_customers"]] == [
        ("K0002", "400.00", "100000.00", "0.0040"),  # no approved limit: the starting limit
        ("K0001", "300.00", "250.00", "1.2000")]
    alerts = board["alerts"]
    assert (alerts["over_limit_count"], alerts["over_limit"][0]["excess"]) == (1, "50.00")
    assert (alerts["over_90_count"], alerts["over_90"][0]["customer_code"]) == (1, "K0002")


def test_limit_suggestions_and_approval_through_the_api(api: ApiClient, world: World, session_factory: SF) -> None:
    credit = api.as_("credit")
    job = recompute_through_api(api, "2026-11-20")
    assert (job["rows_done"], job["rows_total"], job["result"]["customers"]) == (2, 2, 2)
    suggestions = credit.get("/api/v1/credit/limit-suggestions").get_json()
    mine = next(s for s in suggestions if s["customer_id"] == world.customers["cust1"])
    # nothing known and no history: score 30.00, very high, the class's starting limit
    assert (mine["has_history"], mine["score"], mine["risk_class"], mine["suggested_limit"], mine["current_limit"]) == (
        False, "30.00", "very_high", "20000.00", None)

    url = f"/api/v1/credit/customers/{world.customers['cust1']}/limits"
    refused = problem(credit.post(url, json={"credit_limit": "150000", "suggestion_id": mine["id"]}), 422,
                      "validation-error")
    assert refused["errors"][0]["pointer"] == "/reason"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditLimit)) == 0
    approved = credit.post(url, json={"suggestion_id": mine["id"]}).get_json()
    assert (approved["version"], approved["credit_limit"], approved["suggestion_id"]) == (1, "20000.00", mine["id"])
    assert [v["version"] for v in credit.get(url).get_json()] == [1]
    # Where the value came from, and the reason the service recorded, in the request's language.
    run = job["result"]["run_id"]
    assert (approved["source"], approved["reason"]) == ("model", f"approved the limit model's suggestion of run {run}")
    (listed,) = credit.get(url, headers={"Accept-Language": "zh-CN"}).get_json()
    assert listed["reason"] == f"审批额度模型第 {run} 次运行的建议"
    overridden = credit.post(url, json={"credit_limit": "30000", "suggestion_id": mine["id"], "reason": "contract"})
    assert (overridden.get_json()["source"], overridden.get_json()["suggestion_id"]) == ("manual", mine["id"])


def test_a_limit_below_the_exposure_needs_a_reason_even_approving_the_suggestion(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    # Exposure 25,000.00 (an order of 250 x 100.00 confirmed under the 100,000 starting limit);
    # the model suggests the very high class's starting limit, 20,000.00: 5,000.00 below it.
    put_stock(session_factory, world)
    new_order(session_factory, world, lines=[("250", "100.00")], confirm=True)
    recompute_through_api(api, "2026-11-20")
    credit = api.as_("credit")
    mine = next(s for s in credit.get("/api/v1/credit/limit-suggestions").get_json()
                if s["customer_id"] == world.customers["cust1"])
    assert mine["suggested_limit"] == "20000.00"
    url = f"/api/v1/credit/customers/{world.customers['cust1']}/limits"
    refused = problem(credit.post(url, json={"suggestion_id": mine["id"]}), 422, "validation-error")
    assert refused["errors"][0]["pointer"] == "/reason"
    assert refused["errors"][0]["detail"] == (
        "the new limit of 20000.00 is 5000.00 below customer K0001 First Hospital's group-wide exposure of 25000.00: "
        "its confirmed orders could not ship and new ones would be blocked; give a reason for the cut")
    in_chinese = problem(credit.post(url, json={"credit_limit": "0", "reason": " "},
                                     headers={"Accept-Language": "zh-CN"}), 422, "validation-error")
    assert in_chinese["errors"][0]["detail"].startswith(
        "新额度 ¥0.00 比客户 K0001 第一医院 的集团信用占用 ¥25,000.00 低 ¥25,000.00")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditLimit)) == 0
    approved = credit.post(url, json={"suggestion_id": mine["id"], "reason": "credit committee, 1 Dec"})
    assert approved.status_code == 201
    assert (approved.get_json()["credit_limit"], approved.get_json()["reason"]) == ("20000.00", "credit committee, 1 Dec")
    # up to the exposure exactly needs none: nothing is held by it
    assert credit.post(url, json={"credit_limit": "25000", "reason": "at the exposure"}).status_code == 201


def test_commands_suggest_limits_and_check_exposure(app: Flask, world: World, session_factory: SF) -> None:
    new_order(session_factory, world, lines=[("10", "100.00")], confirm=True)
    runner = app.test_cli_runner()
    with app.app_context():  # as `flask --app erp ...` runs them
        suggested = runner.invoke(args=["credit", "suggest-limits", "--as-of", "2026-11-20"])
        checked = runner.invoke(args=["credit", "check-exposure"])
    assert suggested.exit_code == 0, suggested.output
    assert "2 customers, 0 with history, 0 held" in suggested.output
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditSuggestionRun)) == 1
    assert checked.exit_code == 0 and "no drift" in checked.output


@pytest.mark.parametrize("payload, pointer", [
    ({"lines": []}, "/lines"),
    ({"lines": [{"quantity": "-1"}]}, "/lines/0/quantity"),
    ({"lines": [{"unit_price": "1.0000001"}]}, "/lines/0/unit_price"),
])
def test_invalid_orders_name_the_field(api: ApiClient, world: World, session_factory: SF,
                                       payload: dict[str, Any], pointer: str) -> None:
    body = order_payload(world, ("1", "1.00"))
    if payload["lines"]:
        body["lines"][0].update(payload["lines"][0])
    else:
        body["lines"] = []
    refused = problem(api.as_("sales_a").post("/api/v1/sales-orders", json=body), 422, "validation-error")
    assert pointer in [e["pointer"] for e in refused["errors"]]
    assert api.as_("sales_a").get("/api/v1/sales-orders").get_json() == []


def test_an_order_from_another_companys_warehouse_is_refused(api: ApiClient, world: World) -> None:
    body = order_payload(world, ("1", "1.00"))
    body["lines"][0]["warehouse_id"] = world.warehouses["B-AMB"]
    refused = problem(api.as_("sales_a").post("/api/v1/sales-orders", json=body), 422, "warehouse-not-of-company")
    assert refused["errors"][0]["pointer"] == "/lines/0/warehouse_id"
    problem(api.as_("sales_a").post("/api/v1/sales-orders", json=order_payload(world, ("1", "1.00"), company="B")),
            403, "company-out-of-scope")
    assert api.as_("sales_a").get("/api/v1/sales-orders").get_json() == []


def test_applying_credit_needs_credit_and_an_open_invoice(api: ApiClient, world: World, session_factory: SF) -> None:
    invoice = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "100.00")
    sales = api.as_("sales_a")
    exact = sales.post("/api/v1/payments", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "payment_date": "2026-11-20",
        "amount": "100.00", "invoice_ids": [invoice]}).get_json()
    before = row_counts(session_factory)
    problem(sales.post(f"/api/v1/payments/{exact['id']}/applications", json={"applied_on": "2026-11-21"}),
            409, "no-unapplied-credit")
    assert row_counts(session_factory) == before
    prepaid = sales.post("/api/v1/payments", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "payment_date": "2026-11-20",
        "amount": "40.00"}).get_json()
    assert prepaid["unapplied_amount"] == "40.00" and prepaid["applications"] == []
    before = row_counts(session_factory)
    problem(sales.post(f"/api/v1/payments/{prepaid['id']}/applications", json={"applied_on": "2026-11-21"}),
            409, "no-open-invoices")
    problem(api.as_("sales_b").post(f"/api/v1/payments/{prepaid['id']}/applications",
                                    json={"applied_on": "2026-11-21"}), 404, "not-found")
    assert row_counts(session_factory) == before


def test_a_shipped_order_cannot_be_cancelled(api: ApiClient, world: World, session_factory: SF) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("5", "10.00")], confirm=True).order
    shipment = {"posting_date": "2026-11-20", "lines": [{"order_line_id": order.lines[0].id, "quantity": "5"}]}
    assert api.as_("sales_a").post(f"/api/v1/sales-orders/{order.id}/shipments", json=shipment).status_code == 201
    before = row_counts(session_factory)
    refused = problem(api.as_("sales_a").post(f"/api/v1/sales-orders/{order.id}/cancellation", json={}),
                      409, "order-status-conflict")
    assert refused["order_status"] == "shipped"
    problem(api.as_("sales_a").post(f"/api/v1/sales-orders/{order.id}/confirmation"), 409, "order-status-conflict")
    assert row_counts(session_factory) == before


def test_id_filters_in_the_query_string_are_read_as_numbers(api, world) -> None:  # noqa: ANN001
    for path in ("/api/v1/sales-orders", "/api/v1/invoices", "/api/v1/payments"):
        response = api.as_("credit").get(path, query_string={"company_id": str(world.companies["A"]),
                                                             "customer_id": str(world.customers["cust1"])})
        assert response.status_code == 200, (path, response.get_json())


def test_absurd_numbers_and_dates_are_4xx_not_500(api, world) -> None:  # noqa: ANN001
    from tests.world import problem

    sales = api.as_("sales_a")
    body = {"company_id": world.companies["A"], "customer_id": world.customers["cust1"], "order_date": "2026-11-20",
            "lines": [{"material_id": world.materials["exc_local"], "warehouse_id": world.warehouses["A-AMB"],
                       "quantity": "999999999999", "unit_price": "999999999999"}]}
    refused = problem(sales.post("/api/v1/sales-orders", json=body), 422, "invalid-quantity")
    assert "beyond any plausible order line" in refused["detail"], refused["detail"]
    assert sales.get("/api/v1/sales-orders").get_json() == []  # nothing written
    problem(api.as_("cio").get("/api/v1/credit/dashboard", query_string={"as_of": "0001-01-01"}), 422)
    problem(api.as_("credit").get("/api/v1/credit/customers/99999999999999999999"), 404)
    problem(api.as_("steward").get("/api/v1/materials/99999999999"), 404)
