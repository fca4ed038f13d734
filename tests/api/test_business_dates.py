"""Business dates that cannot be bent (issue #13, items 1-5 and 8): one business day in
Beijing, nothing posted after it, no period closed before it ends, documents not dated
before their source, batches not outliving their shelf life, the group close that brings
every company up to a period, period status from the calendar, over-receipt tolerance
after an exact receipt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from erp import clock
from erp.costing.models import JournalEntry
from erp.credit.exposure import read_exposure
from erp.inventory.models import StockDocument
from erp.purchasing import services as purchasing
from erp.purchasing.models import Contract, ContractLine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.credit import new_order, put_stock, ship
from tests.stock import open_order, receive, set_standard
from tests.world import ApiClient, World, problem

SetDay = Callable[[dt.date], dt.date]
NOV_29 = dt.date(2026, 11, 29)
RECEIPTS = "/api/v1/inventory/receipts"


def receipt_body(line: int, **overrides: Any) -> dict[str, Any]:
    body = {"po_line_id": line, "quantity": "100", "posting_date": "2026-11-20", "batch_number": "B-001",
            "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"}
    body.update(overrides)
    return body


def books(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    """Stock documents and journal entries written so far."""
    with session_factory() as session:
        return (session.scalar(select(func.count(StockDocument.id))) or 0,
                session.scalar(select(func.count(JournalEntry.id))) or 0)


# --- the clock ------------------------------------------------------------------------------------

def test_the_business_day_is_the_date_in_beijing() -> None:
    # 16:00 UTC on 29 November is midnight in Beijing: already the 30th there.
    assert clock.BUSINESS_TIME_ZONE.utcoffset(None) == dt.timedelta(hours=8)
    instant = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)
    assert instant.astimezone(clock.BUSINESS_TIME_ZONE).date() == dt.date(2026, 11, 30)
    assert (instant - dt.timedelta(seconds=1)).astimezone(clock.BUSINESS_TIME_ZONE).date() == NOV_29


def test_the_clock_can_be_pinned_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = clock.business_today()
    with clock.business_day(dt.date(2027, 3, 31)):
        assert clock.business_today() == dt.date(2027, 3, 31)
    assert clock.business_today() == pinned
    clock.pin_business_day(None)
    monkeypatch.setenv("ERP_BUSINESS_DATE", "2028-02-29")
    assert clock.business_today() == dt.date(2028, 2, 29)
    monkeypatch.delenv("ERP_BUSINESS_DATE")
    assert clock.business_today() == dt.datetime.now(clock.BUSINESS_TIME_ZONE).date()


# --- 1. nothing posts after the business day ------------------------------------------------------

def test_a_receipt_dated_after_today_is_refused_and_writes_nothing(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    set_business_day(NOV_29)
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    before = books(session_factory)
    body = problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, posting_date="2027-09-30")),
                   422, "dated-after-business-day")
    assert body["errors"][0]["pointer"] == "/posting_date"
    assert "2027-09-30" in body["detail"] and "2026-11-29" in body["detail"]
    assert books(session_factory) == before
    # Today itself is fine.
    assert api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, posting_date="2026-11-29")).status_code == 201


def test_an_issue_dated_after_today_is_refused(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    set_business_day(NOV_29)
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    before = books(session_factory)
    response = api.as_("clerk_a").post("/api/v1/inventory/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "material_id": world.materials["exc_local"], "quantity": "10",
        "posting_date": "2028-01-15", "destination": "cost_center", "cost_center": "QC-LAB"})
    problem(response, 422, "dated-after-business-day")
    assert books(session_factory) == before


def test_a_future_payment_is_refused_and_leaves_the_exposure_as_it_was(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    set_business_day(NOV_29)
    put_stock(session_factory, world)
    order = new_order(session_factory, world, confirm=True).order
    ship(session_factory, world, order.id, ["100"])  # 100 x 100.00 = 10,000.00 invoiced on 2026-11-20
    with session_factory() as session:
        exposure_before = read_exposure(session, world.customers["cust1"])
    assert exposure_before.open_invoices == D("10000.00")
    before = books(session_factory)
    payment = api.as_("sales_a").post("/api/v1/payments", json={
        "company_id": world.companies["A"], "customer_id": world.customers["cust1"], "payment_date": "2027-12-31",
        "amount": "10000.00"})
    body = problem(payment, 422, "dated-after-business-day")
    assert body["errors"][0]["pointer"] == "/payment_date"
    with session_factory() as session:
        assert read_exposure(session, world.customers["cust1"]).open_invoices == D("10000.00")
    assert books(session_factory) == before


def test_a_future_shipment_is_refused(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    set_business_day(NOV_29)
    put_stock(session_factory, world)
    order = new_order(session_factory, world, confirm=True).order
    before = books(session_factory)
    response = api.as_("sales_a").post(f"/api/v1/sales-orders/{order.id}/shipments", json={
        "posting_date": "2027-12-31", "lines": [{"order_line_id": order.lines[0].id, "quantity": "10"}]})
    problem(response, 422, "dated-after-business-day")
    assert books(session_factory) == before


def test_a_sales_order_dated_after_today_is_refused(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    from tests.tax import create_china_vat

    set_business_day(NOV_29)
    vat0 = create_china_vat(session_factory, world)["VAT0"]
    body = {"company_id": world.companies["A"], "customer_id": world.customers["cust1"],
            "order_date": "2099-01-01", "lines": [{"material_id": world.materials["exc_local"],
                                                   "warehouse_id": world.warehouses["A-AMB"], "quantity": "1",
                                                   "unit_price": "1.00", "tax_code_id": vat0}]}
    refused = problem(api.as_("sales_a").post("/api/v1/sales-orders", json=body), 422, "dated-after-business-day")
    assert refused["errors"][0]["pointer"] == "/order_date"
    assert api.as_("sales_a").post("/api/v1/sales-orders", json={**body, "order_date": "2026-11-29"}).status_code == 201


def test_a_purchase_order_dated_after_today_is_refused(
    session_factory: sessionmaker[Session], world: World, deals: Any, set_business_day: SetDay,
) -> None:
    from erp.errors import DatedAfterBusinessDay

    today = clock.business_today()
    with session_factory() as session, session.begin(), pytest.raises(DatedAfterBusinessDay):
        purchasing.create_purchase_order(
            session, world.actors["buyer_a"], receiving_company_id=world.companies["A"],
            supplier_id=world.suppliers["sup1"], order_date=today + dt.timedelta(days=1),
            lines=[{"material_id": world.materials["exc_local"], "quantity": D("10"),
                    "warehouse_id": world.warehouses["A-AMB"]}])


# --- 2. a period closes only after its last day ---------------------------------------------------

def test_a_period_cannot_be_closed_before_it_has_ended(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    set_business_day(NOV_29)
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    for period in ("2026-11", "2026-12", "2027-01"):
        body = problem(api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/{period}/close"),
                       409, "period-not-ended")
        assert period in body["detail"]
        problem(api.as_("cost_group").post("/api/v1/costing/closes", json={"period": period}), 409,
                "period-not-ended")
    # The same day's receipts still go in.
    assert api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, posting_date="2026-11-29")).status_code == 201
    # From 1 December on, November closes.
    set_business_day(dt.date(2026, 12, 1))
    closed = api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close")
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["status"] == "closed"


# --- 3. documents not dated before their source; batches within shelf life --------------------------

def test_a_receipt_cannot_predate_its_order_or_leave_its_contract_validity(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], set_business_day: SetDay,
) -> None:
    set_business_day(NOV_29)
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-09")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    with session_factory() as session, session.begin():
        order_line = session.get(PurchaseOrderLine, line)
        assert order_line is not None
        session.execute(update(PurchaseOrder).where(PurchaseOrder.id == order_line.order_id)
                        .values(order_date=NOV_29))
        contract_id = session.scalar(select(ContractLine.contract_id).where(
            ContractLine.id == order_line.contract_line_id))
        session.execute(update(Contract).where(Contract.id == contract_id)
                        .values(valid_from=dt.date(2026, 11, 1), valid_to=dt.date(2026, 11, 28)))
    before = books(session_factory)
    body = problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, posting_date="2026-09-15",
                                                                       manufacture_date="2026-09-01",
                                                                       expiry_date="2029-08-31")),
                   422, "dated-before-source")
    assert "2026-09-15" in body["detail"] and "2026-11-29" in body["detail"]
    assert body["errors"][0]["pointer"] == "/posting_date"
    # On the order's day, but the contract ended on the 28th.
    body = problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, posting_date="2026-11-29")),
                   422, "outside-contract-validity")
    assert "2026-11-01" in body["detail"] and "2026-11-28" in body["detail"]
    assert books(session_factory) == before


def test_a_shipment_cannot_predate_its_sales_order(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world, confirm=True).order  # ordered 2026-11-03
    before = books(session_factory)
    response = api.as_("sales_a").post(f"/api/v1/sales-orders/{order.id}/shipments", json={
        "posting_date": "2026-11-02", "lines": [{"order_line_id": order.lines[0].id, "quantity": "10"}]})
    body = problem(response, 422, "dated-before-source")
    assert "2026-11-03" in body["detail"]
    assert books(session_factory) == before


def test_a_batch_cannot_expire_after_its_shelf_life(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    # Made in 1990, expiring in 2199: the material keeps 1,095 days.
    body = problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(
        line, manufacture_date="1990-01-01", expiry_date="2199-12-31")), 422, "invalid-batch-dates")
    assert "1992-12-31" in body["detail"]  # 1990-01-01 + 1,095 days
    # Made 2026-10-01: 1,095 days later is 2029-09-30 (the last day allowed); a day more is refused.
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, expiry_date="2029-10-01")), 422,
            "invalid-batch-dates")
    assert api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, expiry_date="2029-09-30")).status_code == 201


# --- 4. the group close brings every company up to the period -------------------------------------

def receive_in(session_factory: sessionmaker[Session], world: World, company: str, day: dt.date) -> None:
    set_standard(session_factory, world, "exc_local", "10.00", company=company, period="2026-07")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", f"{company}-AMB")],
                         company=company)
    receive(session_factory, world, line, "100", on=day, user=f"clerk_{company.lower()}", made=dt.date(2026, 6, 1),
            expires=dt.date(2029, 5, 31))


def test_the_group_close_brings_every_company_up_to_the_period(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    # A posted in July and stands there; B is closed through October; C never posted.
    receive_in(session_factory, world, "A", dt.date(2026, 7, 10))
    receive_in(session_factory, world, "B", dt.date(2026, 10, 10))
    closed_b = api.as_("cost_group").post(f"/api/v1/costing/periods/{world.companies['B']}/2026-10/close")
    assert closed_b.status_code == 200, closed_b.get_json()

    response = api.as_("cost_group").post("/api/v1/costing/closes", json={"period": "2026-11"})
    assert response.status_code == 200, response.get_json()
    results = {row["company_id"]: row for row in response.get_json()}
    a, b, c = (results[world.companies[key]] for key in "ABC")
    assert a["closed_now"] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert b["closed_now"] == ["2026-11"]
    assert c["closed_now"] == ["2026-11"]
    assert {row["status"] for row in results.values()} == {"closed"}
    # A's July close kept its July receipt's variance: 100 x (12.00 - 10.00) = 200.00, nothing consumed.
    july = api.as_("cost_group").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-07").get_json()
    assert (july["status"], july["variance_allocated"], july["variance_remaining"]) == ("closed", "0.00", "200.00")
    # Repeating it changes nothing; an earlier period for the group is already closed everywhere.
    again = api.as_("cost_group").post("/api/v1/costing/closes", json={"period": "2026-11"}).get_json()
    assert [row["closed_now"] for row in again] == [[], [], []]
    earlier = api.as_("cost_group").post("/api/v1/costing/closes", json={"period": "2026-09"}).get_json()
    assert [(row["status"], row["closed_now"]) for row in earlier] == [("closed", [])] * 3


def test_the_group_close_is_all_or_none(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    receive_in(session_factory, world, "A", dt.date(2026, 9, 10))
    # A company the caller may not close (cost_a acts for A only): nothing closes, not even A.
    refused = problem(api.as_("cost_a").post("/api/v1/costing/closes", json={
        "period": "2026-11", "company_ids": [world.companies["A"], world.companies["B"]]}), 403, "company-out-of-scope")
    assert str(world.companies["B"]) in refused["detail"] or "CB" in refused["detail"], refused["detail"]
    september = api.as_("cost_a").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-09").get_json()
    assert september["status"] == "open"


def test_one_companys_own_close_still_closes_in_order(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    receive_in(session_factory, world, "A", dt.date(2026, 9, 10))
    body = problem(api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close"), 409,
                   "earlier-period-open")
    assert "2026-09" in body["detail"]


# --- 5. period status from the calendar, and every company's periods ----------------------------------

def test_a_period_before_the_latest_close_is_closed_even_without_postings(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    receive_in(session_factory, world, "A", dt.date(2026, 10, 10))
    assert api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-10/close").status_code == 200
    september = api.as_("cost_a").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-09").get_json()
    assert september["status"] == "closed"
    # and postings into it are indeed refused
    (line,) = open_order(session_factory, world, [("exc_local", "10", "12.00", "A-AMB")])
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(
        line, quantity="10", posting_date="2026-09-20", manufacture_date="2026-06-01", expiry_date="2029-05-31")), 409,
        "period-closed")
    january = api.as_("cost_a").get(f"/api/v1/costing/periods/{world.companies['A']}/2027-01").get_json()
    assert january["status"] == "not_yet_begun"


def test_the_calendar_lists_every_companys_periods(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    # Today is 2026-12-15 (tests/conftest.py). A closed through October; B and C never closed.
    receive_in(session_factory, world, "A", dt.date(2026, 10, 10))
    receive_in(session_factory, world, "B", dt.date(2026, 9, 10))
    assert api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-10/close").status_code == 200
    response = api.as_("cio").get("/api/v1/costing/periods", query_string={"from": "2026-09", "to": "2027-01"})
    assert response.status_code == 200, response.get_json()
    calendars = {row["company_code"]: row for row in response.get_json()}
    assert list(calendars) == ["CA", "CB", "CC"]
    a = calendars["CA"]
    assert (a["latest_closed"], a["next_to_close"]) == ("2026-10", "2026-11")
    assert [(p["period"], p["status"], p["ended"]) for p in a["periods"]] == [
        ("2026-09", "closed", True), ("2026-10", "closed", True), ("2026-11", "open", True),
        ("2026-12", "open", False), ("2027-01", "not_yet_begun", False)]
    assert a["periods"][1]["closed_by"] == world.users["cost_a"] and a["periods"][0]["closed_at"] is None
    assert (calendars["CB"]["latest_closed"], calendars["CB"]["next_to_close"]) == (None, "2026-09")
    assert (calendars["CC"]["latest_closed"], calendars["CC"]["next_to_close"]) == (None, None)
    # A company's cost accountant sees only its own company.
    own = api.as_("cost_a").get("/api/v1/costing/periods").get_json()
    assert [row["company_code"] for row in own] == ["CA"]
    # Default range: the twelve months to December, and January.
    assert [p["period"] for p in own[0]["periods"]][0::12] == ["2026-01", "2027-01"]
    problem(api.as_("cio").get("/api/v1/costing/periods", query_string={"from": "2027-01", "to": "2026-01"}), 422)
    problem(api.get("/api/v1/costing/periods"), 401)


# --- 8. over-receipt tolerance after an exact receipt ------------------------------------------------

def test_a_received_order_takes_deliveries_within_tolerance_until_the_buyer_closes_it(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    receive(session_factory, world, line, "200", batch="B-1")
    with session_factory() as session:
        order = session.scalar(select(PurchaseOrder).join(PurchaseOrderLine).where(PurchaseOrderLine.id == line))
        assert order is not None and order.status == PurchaseOrderStatus.RECEIVED
        order_id = order.id
    # 2 % tolerance: 204 kg in all, so 2 kg more are fine now, and 2.001 more after them are not.
    second = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, quantity="2", batch_number="B-2"))
    assert second.status_code == 201, second.get_json()
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, quantity="2.001", batch_number="B-3")),
            409, "over-receipt")
    with session_factory() as session:
        assert session.get(PurchaseOrderLine, line).received_quantity == D("202")  # type: ignore[union-attr]
        assert session.get(PurchaseOrder, order_id).status == PurchaseOrderStatus.RECEIVED  # type: ignore[union-attr]
    # Once the buyer closes the order, nothing more is received against it, not even the 2 kg left.
    closed = api.as_("buyer_a").post(f"/api/v1/purchasing/orders/{order_id}/close", json={"reason": "complete"})
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["status"] == "closed"
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, quantity="1", batch_number="B-3")), 409,
            "order-not-open")


def test_a_generic_issue_to_production_is_refused_for_a_production_order(
        api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """Finding 138: production costs (5001) are charged through production orders; the
    generic issue (领料出库) refuses production, naming the rule, and posts nothing."""
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    before = books(session_factory)
    body = problem(api.as_("clerk_a").post("/api/v1/inventory/issues", json={
        "warehouse_id": world.warehouses["A-AMB"], "material_id": world.materials["exc_local"], "quantity": "10",
        "posting_date": "2026-11-20", "destination": "production"}), 422, "issue-needs-production-order")
    assert body["errors"][0]["pointer"] == "/destination" and "5001" in body["detail"]
    assert books(session_factory) == before
