"""The credit limit model through the API: a controller records credit data, recomputes,
reads a suggestion's explanation step by step, tunes the parameters as a new version;
disputes; the CIO reads everything and changes nothing; bad input is a problem that
names the field and writes nothing."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.models import CreditModelVersion, CustomerCreditProfile, InvoiceDispute
from tests.credit import history_invoice, pay, recompute_through_api
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]

PUBLISHED = {
    "customer_type": "pharmacy_chain", "registered_capital": "1000000", "tangible_net_worth": "80000",
    "annual_turnover": "700000", "statement_date": "2025-12-31", "rating_grade": "A", "rating_agency": "Dagong",
    "rating_date": "2026-03-01", "founded_on": "2014-06-01", "reason": "annual review 2026",
    "valid_from": "2026-06-01",
}


def published_history(session_factory: SF, world: World) -> None:
    """cust2 (60 days' terms): first invoice in 2024; 300,000 invoiced in the window, 200,000
    paid 3 days late, 100,000 not yet due."""
    first = history_invoice(session_factory, world, "cust2", dt.date(2024, 1, 10), "50000.00")
    pay(session_factory, world, "50000.00", customer="cust2", day=dt.date(2024, 3, 10), invoice_ids=[first])
    paid = history_invoice(session_factory, world, "cust2", dt.date(2026, 1, 30), "200000.00")
    pay(session_factory, world, "200000.00", customer="cust2", day=dt.date(2026, 4, 3),
        invoice_ids=[paid])  # due 31 Mar: 3 days late
    history_invoice(session_factory, world, "cust2", dt.date(2026, 11, 1), "100000.00")


def test_the_explanation_steps_read_in_the_language_asked_for(api: ApiClient, world: World,
                                                              session_factory: SF) -> None:
    """Each step's ``text`` in Chinese for a reader who asks for it, English by default; the
    key and the figures are the same in both (a client branches on them)."""
    credit = api.as_("credit")
    cust2 = world.customers["cust2"]
    published_history(session_factory, world)
    assert credit.post(f"/api/v1/credit/customers/{cust2}/credit-data", json=PUBLISHED).status_code == 201
    recompute_through_api(api, "2026-11-20")
    answers = {language: credit.get(f"/api/v1/credit/customers/{cust2}/limit-suggestion",
                                    headers={"Accept-Language": language}) for language in ("zh-CN", "en")}
    steps = {language: {step["key"]: step for step in answer.get_json()["explanation"]["steps"]}
             for language, answer in answers.items()}
    zh, en = ({key: step["text"] for key, step in steps[language].items()} for language in ("zh-CN", "en"))
    assert zh["input.customer_type"] == "客户类型：连锁药店"
    assert zh["score.rating"] == "外部评级：A → 100 分 × 20% = 20"
    assert zh["capacity.net_worth"] == "有形净资产比例：80,000.00 × 0.3500 = 28,000.00（起决定作用）"
    assert zh["floor"] == "向下取整到 1,000 的倍数：28,000.00"
    assert en["capacity.net_worth"] == "share of tangible net worth: 80,000.00 x 0.3500 = 28,000.00 (binding)"
    assert en["floor"] == "rounded down to 1,000: 28,000.00"
    # Every step reads in Chinese (no step is left in English), and only the text differs.
    assert [key for key, text in zh.items() if not any("\u4e00" <= c <= "\u9fff" for c in text)] == []
    assert [{k: v for k, v in step.items() if k != "text"} for step in steps["zh-CN"].values()] == [
        {k: v for k, v in step.items() if k != "text"} for step in steps["en"].values()]


def test_credit_data_recompute_and_the_explanation_step_by_step(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    credit = api.as_("credit")
    cust2 = world.customers["cust2"]
    published_history(session_factory, world)
    recorded = credit.post(f"/api/v1/credit/customers/{cust2}/credit-data", json=PUBLISHED)
    assert recorded.status_code == 201, recorded.get_json()
    assert (recorded.get_json()["version"], recorded.get_json()["tangible_net_worth"]) == (1, "80000.00")
    assert credit.get(f"/api/v1/credit/customers/{cust2}/credit-data",
                      query_string={"on": "2026-05-31"}).status_code == 404  # not in force yet

    result = recompute_through_api(api, "2026-11-20")["result"]
    assert (result["customers"], result["held"], result["model_version_id"]) == (2, 0, 1)
    run = credit.get(f"/api/v1/credit/limit-suggestion-runs/{result['run_id']}").get_json()
    assert (run["as_of"], run["customers"], run["with_history"]) == ("2026-11-20", 2, 1)

    explained = credit.get(f"/api/v1/credit/customers/{cust2}/limit-suggestion")
    assert explained.status_code == 200, explained.get_json()
    body = explained.get_json()
    assert (body["suggestion"]["suggested_limit"], body["suggestion"]["risk_class"], body["suggestion"]["bound_by"]) == (
        "28000.00", "medium", "net_worth")
    x = body["explanation"]
    assert [(s["factor"], s["points"], s["weight"], s["contribution"]) for s in x["score_steps"]][:3] == [
        ("net_worth", 10, 15, "1.50"), ("registered_capital", 30, 5, "1.50"), ("rating", 100, 20, "20.00")]
    assert (x["subtotal"], x["score"], x["risk_class"]) == ("73.00", "73.00", "medium")
    assert [(c["capacity"], c["amount"], c["binding"]) for c in x["capacities"]] == [
        ("net_worth", "28000.00", True), ("turnover", "35000.00", False), ("sales", "50000.00", False),
        ("max_limit", "5000000.00", False)]
    steps = {step["key"]: step for step in x["steps"]}
    assert steps["capacity.net_worth"]["values"] == {
        "base": "80000.00", "multiplier": "0.3500", "divisor": None, "amount": "28000.00", "binding": True}
    assert steps["floor"]["result"] == "28000.00" and steps["input.statement"]["values"]["statement_date"] == "2025-12-31"
    assert all(step["text"] for step in x["steps"])
    by_id = credit.get(f"/api/v1/credit/limit-suggestions/{body['suggestion']['id']}").get_json()
    assert by_id["explanation"] == x
    listed = credit.get("/api/v1/credit/limit-suggestions", query_string={"risk_class": "medium"}).get_json()
    assert [s["customer_id"] for s in listed] == [cust2]

    # the CIO reads, and may not record anything
    cio = api.as_("cio")
    assert cio.get(f"/api/v1/credit/customers/{cust2}/limit-suggestion").status_code == 200
    assert cio.get(f"/api/v1/credit/customers/{cust2}/credit-data/versions").get_json()[0]["reason"] == (
        "annual review 2026")
    versions = cio.get(f"/api/v1/credit/customers/{cust2}/credit-data/versions").get_json()
    refused = problem(cio.post(f"/api/v1/credit/customers/{cust2}/credit-data", json=PUBLISHED), 403, "read-only-role")
    assert "cio" in refused["detail"], refused["detail"]
    assert cio.get(f"/api/v1/credit/customers/{cust2}/credit-data/versions").get_json() == versions  # nothing written
    assert api.as_("sales_a").get(f"/api/v1/credit/customers/{cust2}/credit-data").status_code == 403


def test_bad_credit_data_names_the_field_and_writes_nothing(api: ApiClient, world: World,
                                                             session_factory: SF) -> None:
    credit = api.as_("credit")
    url = f"/api/v1/credit/customers/{world.customers['cust1']}/credit-data"
    cases: list[tuple[dict[str, Any], str]] = [
        ({**PUBLISHED, "statement_date": None}, "/statement_date"),
        ({**PUBLISHED, "rating_score": "80"}, "/rating_score"),
        ({**PUBLISHED, "rating_score": "100.01", "rating_grade": None}, "/rating_score"),
        ({**PUBLISHED, "customer_type": "clinic"}, "/customer_type"),
        ({**PUBLISHED, "collateral_amount": "5000"}, "/collateral_note"),
        ({**PUBLISHED, "reason": ""}, "/reason"),
    ]
    for payload, pointer in cases:
        refused = problem(credit.post(url, json=payload), 422)
        assert pointer in [e["pointer"] for e in refused["errors"]], (pointer, refused)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CustomerCreditProfile)) == 0


def test_parameters_are_read_tuned_as_a_new_version_and_refused_when_unsound(
    api: ApiClient, world: World, session_factory: SF
) -> None:
    credit = api.as_("credit")
    current = credit.get("/api/v1/credit/model").get_json()
    assert current["id"] is None  # nothing stored yet: the defaults the first run stores
    params = current["parameters"]
    assert sum(f["weight"] for f in params["factors"]) == 100

    tuned = copy.deepcopy(params)
    for rule in tuned["rules"]:
        if rule["risk_class"] == "medium" and rule["customer_type"] is None:
            rule["net_worth_share"] = "0.5000"
    stored = credit.post("/api/v1/credit/model/versions",
                         json={**tuned, "reason": "pharmacy chains pay reliably", "valid_from": "2026-11-01"})
    assert stored.status_code == 201, stored.get_json()
    # the defaults became version 1 (the baseline), the change version 2
    assert [(v["version"], v["reason"][:12]) for v in credit.get("/api/v1/credit/model/versions").get_json()] == [
        (2, "pharmacy cha"), (1, "the document")]
    assert credit.get("/api/v1/credit/model", query_string={"on": "2026-11-20"}).get_json()["version"] == 2

    unsound = copy.deepcopy(params)
    unsound["factors"][0]["weight"] = 16  # 101 in all
    unsound["risk_classes"] = [{"code": "low", "min_score": "10"}]
    refused = problem(credit.post("/api/v1/credit/model/versions", json={**unsound, "reason": "x"}), 422,
                      "credit-model-parameters-invalid")
    assert {"/factors", "/risk_classes"} <= {e["pointer"] for e in refused["errors"]}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditModelVersion)) == 2
    refused = problem(api.as_("cio").post("/api/v1/credit/model/versions", json={**tuned, "reason": "x"}), 403,
                      "read-only-role")
    assert "cio" in refused["detail"], refused["detail"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditModelVersion)) == 2  # nothing written


def test_disputes_are_recorded_resolved_and_scoped(api: ApiClient, world: World, session_factory: SF) -> None:
    invoice_id = history_invoice(session_factory, world, "cust1", dt.date(2026, 10, 1), "1000.00")
    sales = api.as_("sales_a")
    too_much = problem(sales.post("/api/v1/credit/disputes", json={
        "invoice_id": invoice_id, "amount": "1000.01", "opened_on": "2026-10-05", "reason": "broken cartons"}),
        422, "dispute-not-applicable")
    assert too_much["errors"][0]["pointer"] == "/amount"
    opened = sales.post("/api/v1/credit/disputes", json={
        "invoice_id": invoice_id, "amount": "120.00", "opened_on": "2026-10-05", "reason": "broken cartons"})
    assert opened.status_code == 201, opened.get_json()
    dispute = opened.get_json()
    assert api.as_("sales_b").post("/api/v1/credit/disputes", json={
        "invoice_id": invoice_id, "amount": "1.00", "opened_on": "2026-10-05", "reason": "x"}).status_code == 404
    assert [d["id"] for d in api.as_("credit").get("/api/v1/credit/disputes", query_string={"open": "true"})
            .get_json()] == [dispute["id"]]
    url = f"/api/v1/credit/disputes/{dispute['id']}/resolution"
    resolved = sales.post(url, json={"resolved_on": "2026-10-20", "resolution": "credit note CN-88"})
    assert resolved.status_code == 200 and resolved.get_json()["resolution"] == "credit note CN-88"
    problem(sales.post(url, json={"resolved_on": "2026-10-21", "resolution": "again"}), 409, "dispute-resolved")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(InvoiceDispute)) == 1
