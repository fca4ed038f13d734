"""Business dates that cannot be bent (issue #13): one business day in Beijing (erp.clock),
and nothing posted or dated after it (item 1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp import clock
from erp.costing.models import JournalEntry
from erp.credit.exposure import read_exposure
from erp.inventory.models import StockDocument
from erp.purchasing import services as purchasing
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
        "posting_date": "2028-01-15", "destination": "production"})
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
