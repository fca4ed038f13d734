"""Costing through the API: standard prices, the close, its reports and trial balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import services
from tests.stock import open_order, receive, set_standard
from tests.world import ApiClient, World, problem


@pytest.fixture
def november(session_factory: sessionmaker[Session], world: World) -> None:
    """Company A: 100 kg received at 10.50 against a standard of 10.00, 40 kg issued;
    company B: 50 kg received at 9.00 against 10.00."""
    set_standard(session_factory, world, "exc_local", "10.00")
    set_standard(session_factory, world, "exc_local", "10.00", company="B")
    (line_a,) = open_order(session_factory, world, [("exc_local", "100", "10.50", "A-AMB")])
    (line_b,) = open_order(session_factory, world, [("exc_local", "50", "9.00", "B-AMB")], company="B")
    receive(session_factory, world, line_a, "100")
    receive(session_factory, world, line_b, "50", user="clerk_b")
    with session_factory() as session, session.begin():
        services.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                             material_id=world.materials["exc_local"], quantity=D("40"),
                             posting_date=dt.date(2026, 11, 25), destination=services.IssueDestination.PRODUCTION)


def close_url(world: World, company: str = "A", period: str = "2026-11") -> str:
    return f"/api/v1/costing/periods/{world.companies[company]}/{period}/close"


def test_close_and_read_the_variance_allocation(api: ApiClient, world: World, november: None) -> None:
    closed = api.as_("cost_a").post(close_url(world))
    assert closed.status_code == 200, closed.get_json()
    body = closed.get_json()
    # rate 50 / 1,000: the 400.00 issued bear 20.00, the 60 kg left carry 30.00
    assert body["status"] == "closed"
    assert (body["variance_allocated"], body["variance_remaining"]) == ("20.00", "30.00")
    report = api.as_("cost_a").get("/api/v1/costing/variance-allocation",
                                   query_string={"company_id": world.companies["A"], "period": "2026-11"}).get_json()
    (material,) = report["materials"]
    assert material["material_code"] == "EXC-STAR"
    assert material["variance_rate"] == "0.0500000000"
    assert (material["consumption_variance"], material["closing_variance"]) == ("20.00", "30.00")
    assert report["allocations"] == [{"material_id": world.materials["exc_local"], "material_code": "EXC-STAR",
                                      "account_code": "5001", "consumed_value": "400.00",
                                      "allocated_variance": "20.00"}]


def test_the_close_preview_shows_what_the_close_will_post_and_refuses_a_closed_period(
    api: ApiClient, world: World, november: None
) -> None:
    preview_url = f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close-preview"
    problem(api.as_("clerk_a").get(preview_url), 403, "role-not-allowed")
    preview = api.as_("cost_a").get(preview_url)
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    # rate 50 / 1,000: the 400.00 issued would bear 20.00, the 60 kg left carry 30.00
    assert (body["company_id"], body["period"]) == (world.companies["A"], "2026-11")
    assert (body["variance_allocated"], body["variance_remaining"]) == ("20.00", "30.00")
    (material,) = body["materials"]
    assert material["variance_rate"] == "0.0500000000"
    assert body["allocations"] == [{"material_id": world.materials["exc_local"], "material_code": "EXC-STAR",
                                    "account_code": "5001", "consumed_value": "400.00",
                                    "allocated_variance": "20.00"}]
    assert {line["account_code"]: line["amount"] for line in body["journal"]} == {"5001": "20.00", "1404": "-20.00"}
    # the preview posted nothing: the period is still open, and its close posts those figures
    closed = api.as_("cost_a").post(close_url(world)).get_json()
    assert (closed["status"], closed["variance_allocated"], closed["variance_remaining"]) == (
        "closed", "20.00", "30.00")
    problem(api.as_("cost_a").get(preview_url), 409, "period-already-closed")


def test_close_is_repeatable_through_the_api(api: ApiClient, world: World, november: None) -> None:
    first = api.as_("cost_a").post(close_url(world)).get_json()
    second = api.as_("cost_a").post(close_url(world)).get_json()
    # The second call closes nothing more: the same result, and no period closed by it.
    assert (first.pop("closed_now"), second.pop("closed_now")) == (["2026-11"], [])
    assert first == second


def test_valuation_at_standard_and_actual(api: ApiClient, world: World, november: None) -> None:
    api.as_("cost_a").post(close_url(world))
    rows = api.as_("cost_a").get("/api/v1/costing/valuation",
                                 query_string={"company_id": world.companies["A"]}).get_json()
    # 60 kg at 600.00 standard carrying 30.00 variance: 630.00 actual (10.50 a kg)
    assert rows == [{"company_id": world.companies["A"], "company_code": "CA",
                     "material_id": world.materials["exc_local"], "material_code": "EXC-STAR",
                     "quantity": "60.0000", "standard_value": "600.00", "variance": "30.00", "actual_value": "630.00"}]


def test_trial_balances_balance_for_each_company_and_the_group(api: ApiClient, world: World, november: None) -> None:
    api.as_("cost_a").post(close_url(world))
    company_a = api.as_("cost_a").get("/api/v1/costing/trial-balance",
                                      query_string={"company_id": world.companies["A"], "period": "2026-11"}).get_json()
    assert company_a["balanced"] is True
    by_account = {line["account_code"]: (line["debit"], line["credit"]) for line in company_a["lines"]}
    # receipt: Dr 1403 1,000.00, Dr 1404 50.00, Cr 2202.01 1,050.00; issue: Dr 5001 400.00, Cr 1403 400.00;
    # close: Dr 5001 20.00, Cr 1404 20.00
    assert by_account == {"1403": ("600.00", "0.00"), "1404": ("30.00", "0.00"),
                          "2202.01": ("0.00", "1050.00"), "5001": ("420.00", "0.00")}
    group = api.as_("cost_group").get("/api/v1/costing/trial-balance", query_string={"period": "2026-11"}).get_json()
    assert group["balanced"] is True and group["company_id"] is None
    # B's receipt adds Dr 1403 500.00, Cr 1404 50.00, Cr 2202.01 450.00
    # group: Dr 1403 1,100.00 + 5001 420.00; Cr 1404 20.00 (30.00 - 50.00) + 2202.01 1,500.00
    assert (group["total_debit"], group["total_credit"]) == ("1520.00", "1520.00")


def test_group_figures_need_a_group_wide_role(api: ApiClient, november: None) -> None:
    problem(api.as_("cost_a").get("/api/v1/costing/trial-balance", query_string={"period": "2026-11"}), 403)


def test_journal_listing_filters_by_account(api: ApiClient, world: World, november: None) -> None:
    rows = api.as_("cost_a").get("/api/v1/costing/journal", query_string={
        "company_id": world.companies["A"], "account_code": "1404"}).get_json()
    assert [(r["source_type"], r["amount"]) for r in rows] == [("stock_document", "50.00")]


def test_reopen_needs_a_reason_and_a_group_cost_accountant(api: ApiClient, world: World, november: None) -> None:
    api.as_("cost_a").post(close_url(world))
    reopen = f"/api/v1/costing/periods/{world.companies['A']}/2026-11/reopen"
    problem(api.as_("cost_a").post(reopen, json={"reason": "late invoice"}), 403, "group-cost-accountant-only")
    problem(api.as_("cost_group").post(reopen, json={}), 422, "validation-error")
    reopened = api.as_("cost_group").post(reopen, json={"reason": "late invoice"})
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "open"


def test_posting_into_a_closed_period_is_a_409_problem(api: ApiClient, world: World, november: None) -> None:
    api.as_("cost_a").post(close_url(world))
    response = api.as_("clerk_a").post("/api/v1/inventory/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "material_id": world.materials["exc_local"], "quantity": "1",
        "posting_date": "2026-11-30", "destination": "cost_center", "cost_center": "QC-LAB"})
    body = problem(response, 409, "period-closed")
    # the company named by code and name, not its database id (which stays in company_id)
    assert "company CA Company A" in body["detail"] and "2026-11" in body["detail"]
    assert (body["company_id"], body["period"]) == (world.companies["A"], "2026-11")
    chinese = problem(api.as_("clerk_a").post("/api/v1/inventory/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "material_id": world.materials["exc_local"], "quantity": "1",
        "posting_date": "2026-11-30", "destination": "cost_center", "cost_center": "QC-LAB"},
        headers={"Accept-Language": "zh"}), 409)
    assert "公司 CA 甲公司 的会计期间 2026-11 已关闭" in chinese["detail"]
    assert f"公司 {world.companies['A']} " not in chinese["detail"]


@pytest.mark.parametrize("user", ["clerk_a", "buyer_a", "sales_a", "cio"])
def test_only_cost_accountants_close(api: ApiClient, world: World, november: None, user: str) -> None:
    refused = problem(api.as_(user).post(close_url(world)), 403, "read-only-role" if user == "cio" else "role-not-allowed")
    assert user.split("_")[0] in refused["detail"] or "clos" in refused["detail"], refused["detail"]
    period = api.as_("cost_a").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-11").get_json()
    assert period["status"] != "closed"  # nothing written


def test_cost_accountant_of_another_company_cannot_close(api: ApiClient, world: World, november: None) -> None:
    problem(api.as_("cost_a").post(close_url(world, "B")), 403, "company-out-of-scope")


def test_cio_reads_costing_reports(api: ApiClient, world: World, november: None) -> None:
    api.as_("cost_a").post(close_url(world))
    response = api.as_("cio").get("/api/v1/costing/trial-balance", query_string={"period": "2026-11"})
    assert response.status_code == 200 and response.get_json()["balanced"] is True


def test_bad_period_is_a_422(api: ApiClient, world: World) -> None:
    refused = problem(api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-13/close"), 422,
                      "validation-error")
    assert "2026-13" in refused["detail"] or refused["errors"][0]["pointer"].endswith("period"), refused
    # nothing closed: the period reads open
    assert api.as_("cost_a").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-11").get_json()["status"] != "closed"


def test_the_group_closes_every_company_in_one_call(api: ApiClient, world: World, november: None) -> None:
    response = api.as_("cost_group").post("/api/v1/costing/closes", json={"period": "2026-11"})
    assert response.status_code == 200, response.get_json()
    by_company = {row["company_id"]: row for row in response.get_json()}
    assert set(by_company) == {world.companies[k] for k in "ABC"}
    assert {row["status"] for row in by_company.values()} == {"closed"}
    # A: 20.00 of its 50.00 went with the 40 kg issued; B issued nothing and keeps all of -50.00
    assert by_company[world.companies["A"]]["variance_allocated"] == "20.00"
    assert by_company[world.companies["B"]]["variance_remaining"] == "-50.00"
    assert {row["closed_now"] == ["2026-11"] for row in by_company.values()} == {True}
    again = api.as_("cost_group").post("/api/v1/costing/closes", json={"period": "2026-11"})
    # repeated: the same results, nothing closed by it
    assert again.get_json() == [{**row, "closed_now": []} for row in response.get_json()]


def test_group_close_input_and_scope(api: ApiClient, world: World, november: None) -> None:
    url = "/api/v1/costing/closes"
    problem(api.as_("cost_group").post(url, json={"period": "2026-13"}), 422, "validation-error")
    empty = problem(api.as_("cost_group").post(url, json={"period": "2026-11", "company_ids": []}), 422,
                    "validation-error")
    assert empty["errors"][0]["pointer"] == "/company_ids", empty
    unknown = problem(api.as_("cost_group").post(url, json={"period": "2026-11", "company_ids": [999999]}), 404,
                      "not-found")
    assert "999999" in unknown["detail"], unknown["detail"]
    both = [world.companies["A"], world.companies["B"]]
    problem(api.as_("cost_a").post(url, json={"period": "2026-11", "company_ids": both}), 403,
            "company-out-of-scope")
    refused = problem(api.as_("clerk_a").post(url, json={"period": "2026-11"}), 403, "role-not-allowed")
    assert "clos" in refused["detail"], refused["detail"]
    # none of the refusals closed anything
    for company in both:
        assert api.as_("cost_group").get(f"/api/v1/costing/periods/{company}/2026-11").get_json()["status"] != "closed"
    # nothing was closed by the refusals
    state = api.as_("cost_group").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-11")
    assert state.get_json()["status"] == "open"
