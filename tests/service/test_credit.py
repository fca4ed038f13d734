"""Sales, receivables and group credit control through the services, with figures worked
out by hand in each test."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.roles import Actor
from erp.credit import limits, receivables, services
from erp.credit.errors import (
    CreditLimitExceeded,
    CustomerOnCreditHold,
    InvoiceNotApplicable,
    OrderNotBlocked,
    OverShipment,
)
from erp.credit.exposure import exposure_drift, repair_exposure
from erp.credit.models import (
    CreditLimit,
    CreditLimitSuggestion,
    CreditRelease,
    CustomerExposure,
    Invoice,
    InvoiceStatus,
    SalesOrder,
    SalesOrderStatus,
)
from erp.errors import Forbidden, ValidationFailed
from tests.credit import (
    NOV,
    POLICY,
    confirm,
    history_invoice,
    new_order,
    pay,
    position,
    put_stock,
    row_counts,
    set_limit,
    ship,
)
from tests.stock import entry_lines
from tests.world import World

SF = sessionmaker[Session]


# --- exposure ---------------------------------------------------------------------------------

def test_exposure_adds_open_invoices_and_open_orders_of_three_companies(session_factory: SF, world: World) -> None:
    set_limit(session_factory, world, "cust1", "1000000")
    put_stock(session_factory, world, company="A")
    in_a = new_order(session_factory, world, company="A", lines=[("100", "125.50")], confirm=True)
    ship(session_factory, world, in_a.order.id, ["40"])
    new_order(session_factory, world, company="B", lines=[("12.5", "80.40")], confirm=True)
    new_order(session_factory, world, company="C", lines=[("7", "33.333333")], confirm=True)
    new_order(session_factory, world, company="B", lines=[("50", "10.00")])  # a draft uses no credit
    pay(session_factory, world, "1000.00")

    invoices = D("40") * D("125.50") - D("1000.00")  # 5,020.00 invoiced in A, 1,000.00 paid: 4,020.00
    orders = (D("60") * D("125.50")  # A: 60 kg still to ship, 7,530.00
              + D("12.5") * D("80.40")  # B: 1,005.00
              + D("233.33"))  # C: 7 x 33.333333 = 233.333331, to the cent
    row = position(session_factory, world)
    assert (row.open_invoices, row.open_orders) == (invoices, orders) == (D("4020.00"), D("8768.33"))
    assert row.exposure == D("12788.33")
    with session_factory() as session:
        assert exposure_drift(session) == []


def test_drift_is_reported_and_repaired_from_the_documents(session_factory: SF, world: World) -> None:
    new_order(session_factory, world, lines=[("10", "100.00")], confirm=True)
    with session_factory() as session, session.begin():
        session.execute(update(CustomerExposure).values(open_orders=CustomerExposure.open_orders + 7,
                                                        exposure=CustomerExposure.exposure + 7))
    with session_factory() as session, session.begin():
        (drift,) = exposure_drift(session)
        assert (drift.customer_id, D(drift.orders_drift)) == (world.customers["cust1"], D("-7.00"))
        repair_exposure(session)
    with session_factory() as session:
        assert exposure_drift(session) == []
    assert position(session_factory, world).exposure == D("1000.00")


# --- the check -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("limit", "status", "rule", "exposure"), [
    ("10000.00", SalesOrderStatus.CONFIRMED, "credit-warning-zone", "10000.00"),  # exactly at the limit
    ("9999.99", SalesOrderStatus.BLOCKED, "credit-limit-exceeded", "0.00"),  # one cent over
])
def test_confirmation_at_the_limit_passes_and_one_cent_over_is_blocked(
    session_factory: SF, world: World, limit: str, status: SalesOrderStatus, rule: str, exposure: str,
) -> None:
    set_limit(session_factory, world, "cust1", limit)
    result = new_order(session_factory, world, lines=[("100", "100.00")], confirm=True)  # 10,000.00
    assert result.order.status == status
    assert result.credit is not None and result.credit.rule == rule
    assert result.credit.exposure_after == D("10000.00")
    assert position(session_factory, world).exposure == D(exposure)


@pytest.mark.parametrize(("price", "rule"), [("8999.99", None), ("9000.00", "credit-warning-zone")])
def test_warning_from_ninety_percent_of_the_limit(session_factory: SF, world: World, price: str,
                                                  rule: str | None) -> None:
    set_limit(session_factory, world, "cust1", "10000.00")  # warning from 0.90 x 10,000 = 9,000.00
    result = new_order(session_factory, world, lines=[("1", price)], confirm=True)
    assert result.order.status == SalesOrderStatus.CONFIRMED
    assert result.credit is not None and result.credit.rule == rule
    assert result.credit.warning_from == D("9000.00")


def test_a_payment_releases_a_block(session_factory: SF, world: World) -> None:
    set_limit(session_factory, world, "cust1", "10000.00")
    put_stock(session_factory, world)
    first = new_order(session_factory, world, lines=[("80", "100.00")], confirm=True)
    ship(session_factory, world, first.order.id, ["80"])  # invoice 8,000.00
    second = new_order(session_factory, world, lines=[("50", "100.00")], confirm=True)
    assert second.order.status == SalesOrderStatus.BLOCKED  # 8,000 + 5,000 = 13,000 > 10,000
    assert position(session_factory, world).exposure == D("8000.00")

    pay(session_factory, world, "3000.00")  # open invoices 5,000.00
    again = confirm(session_factory, world, second.order.id)
    assert again.order.status == SalesOrderStatus.CONFIRMED  # 5,000 + 5,000 = 10,000: at the limit
    assert position(session_factory, world).exposure == D("10000.00")


def test_credit_hold_blocks_confirmation_and_shipment_outright(session_factory: SF, world: World) -> None:
    put_stock(session_factory, world)
    confirmed = new_order(session_factory, world, lines=[("10", "100.00")], confirm=True)
    with session_factory() as session, session.begin():
        services.set_credit_hold(session, world.actors["credit"], world.customers["cust1"], on_hold=True,
                                 reason="cheque bounced")

    blocked = new_order(session_factory, world, lines=[("1", "1.00")], confirm=True)
    assert blocked.order.status == SalesOrderStatus.BLOCKED
    assert blocked.credit is not None and blocked.credit.rule == "customer-on-credit-hold"

    before = row_counts(session_factory)
    with pytest.raises(CustomerOnCreditHold) as refused:
        ship(session_factory, world, confirmed.order.id, ["10"])
    assert refused.value.slug == "customer-on-credit-hold"
    with pytest.raises(CustomerOnCreditHold):
        with session_factory() as session, session.begin():
            services.release_order(session, world.actors["credit"], blocked.order.id, reason="urgent",
                                   policy=POLICY)
    assert row_counts(session_factory) == before

    with session_factory() as session, session.begin():
        services.set_credit_hold(session, world.actors["credit"], world.customers["cust1"], on_hold=False,
                                 reason="cheque cleared")
    assert ship(session_factory, world, confirmed.order.id, ["10"]).invoice.amount == D("1000.00")


def test_a_controllers_release_is_recorded_and_lets_the_order_through(session_factory: SF, world: World) -> None:
    set_limit(session_factory, world, "cust1", "10000.00")
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("120", "100.00")], confirm=True).order  # 12,000.00
    assert order.status == SalesOrderStatus.BLOCKED
    with session_factory() as session:
        held, total = receivables.held_orders(session, world.actors["credit"], policy=POLICY)
        assert total == 1 and (held[0].order_id, held[0].stage, held[0].rule) == (
            order.id, "confirmation", "credit-limit-exceeded")

    with session_factory() as session, session.begin():
        services.release_order(session, world.actors["credit"], order.id, reason="parent guarantee, memo 17",
                               policy=POLICY)
    with session_factory() as session:
        release = session.scalars(select(CreditRelease)).one()
        assert (release.order_id, release.released_by, release.reason, release.stage, release.rule) == (
            order.id, world.users["credit"], "parent guarantee, memo 17", "confirmation", "credit-limit-exceeded")
        assert release.released_at is not None
        assert (release.exposure, release.credit_limit) == (D("12000.00"), D("10000.00"))
        released = session.get(SalesOrder, order.id)
        assert released is not None and released.status == SalesOrderStatus.CONFIRMED and released.credit_released
        assert receivables.held_orders(session, world.actors["credit"], policy=POLICY) == ([], 0)
    assert position(session_factory, world).exposure == D("12000.00")
    # the release covers the order's shipments: 12,000 stays above the limit, yet it ships
    assert ship(session_factory, world, order.id, ["120"]).invoice.amount == D("12000.00")


def test_shipment_above_a_lowered_limit_is_refused_until_released(session_factory: SF, world: World) -> None:
    set_limit(session_factory, world, "cust1", "10000.00")
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("50", "100.00")], confirm=True).order  # 5,000.00
    set_limit(session_factory, world, "cust1", "4000.00")

    before = row_counts(session_factory)
    with pytest.raises(CreditLimitExceeded) as refused:
        ship(session_factory, world, order.id, ["10"])  # 5,000 - 1,000 + 1,000 = 5,000 > 4,000
    assert refused.value.slug == "credit-limit-exceeded"
    assert refused.value.extensions["exposure_after"] == "5000.00"
    assert row_counts(session_factory) == before
    with session_factory() as session:
        (held,), _ = receivables.held_orders(session, world.actors["cio"], policy=POLICY)
        assert (held.order_id, held.stage) == (order.id, "shipment")
    with session_factory() as session, session.begin():
        services.release_order(session, world.actors["credit"], order.id, reason="paid by wire", policy=POLICY)
    assert ship(session_factory, world, order.id, ["10"]).order_status == SalesOrderStatus.PARTIALLY_SHIPPED
    with pytest.raises(OrderNotBlocked), session_factory() as session, session.begin():
        services.release_order(session, world.actors["credit"], order.id, reason="again", policy=POLICY)


# --- shipments and invoices ------------------------------------------------------------------------

def test_shipment_invoices_at_the_order_price_rounded_half_up(session_factory: SF, world: World) -> None:
    put_stock(session_factory, world, standard="10.00")
    order = new_order(session_factory, world, customer="cust2", lines=[("10", "10.05")], confirm=True).order
    shipped = ship(session_factory, world, order.id, ["2.5"])

    invoice = shipped.invoice
    assert invoice.amount == D("25.13")  # 2.5 x 10.05 = 25.125, half-up
    assert invoice.invoice_date == NOV and invoice.due_date == dt.date(2027, 1, 19)  # 60 days' terms
    assert shipped.order_status == SalesOrderStatus.PARTIALLY_SHIPPED
    with session_factory() as session:
        assert entry_lines(session, invoice.id, "invoice") == {"1122": D("25.13"), "6001": D("-25.13")}
        stock_document = invoice.lines[0].stock_document_id
        assert entry_lines(session, stock_document) == {"6401": D("25.00"), "1403": D("-25.00")}  # 2.5 x 10.00
    row = position(session_factory, world, "cust2")
    # 7.5 kg still to ship: 75.375 -> 75.38; each document is rounded on its own
    assert (row.open_invoices, row.open_orders, row.exposure) == (D("25.13"), D("75.38"), D("100.51"))


def test_shipping_more_than_is_open_is_refused(session_factory: SF, world: World) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("10", "100.00")], confirm=True).order
    before = row_counts(session_factory)
    with pytest.raises(OverShipment):
        ship(session_factory, world, order.id, ["10.001"])
    assert row_counts(session_factory) == before


def test_cancelling_takes_what_is_still_to_ship_out_of_the_exposure(session_factory: SF, world: World) -> None:
    put_stock(session_factory, world)
    order = new_order(session_factory, world, lines=[("10", "100.00")], confirm=True).order
    ship(session_factory, world, order.id, ["4"])
    with session_factory() as session, session.begin():
        cancelled = services.cancel_order(session, world.actors["sales_a"], order.id, reason="customer changed")
        assert cancelled.order.status == SalesOrderStatus.CANCELLED
    row = position(session_factory, world)
    assert (row.open_invoices, row.open_orders) == (D("400.00"), D("0.00"))


# --- payments ----------------------------------------------------------------------------------

def test_payments_settle_oldest_due_first_and_keep_overpayment_as_credit(session_factory: SF, world: World) -> None:
    put_stock(session_factory, world)
    ids = {}
    for name, day, quantity in (("x", 15, "10"), ("y", 5, "20"), ("z", 10, "30")):  # x is raised first
        order = new_order(session_factory, world, lines=[(quantity, "100.00")], confirm=True).order
        ids[name] = ship(session_factory, world, order.id, [quantity], day=dt.date(2026, 11, day)).invoice.id

    first = pay(session_factory, world, "4500.00")  # y (due 5 Dec) 2,000, then z (due 10 Dec) 2,500 of 3,000
    assert [(a.invoice_id, a.amount) for a in first.applications] == [(ids["y"], D("2000.00")),
                                                                       (ids["z"], D("2500.00"))]
    second = pay(session_factory, world, "2000.00")  # z 500, x 1,000: 500 left over
    assert [(a.invoice_id, a.amount, a.days_late) for a in second.applications] == [
        (ids["z"], D("500.00"), -20), (ids["x"], D("1000.00"), -25)]  # paid 20 Nov, due 10 and 15 Dec
    assert second.unapplied_amount == D("500.00")
    with session_factory() as session:
        assert entry_lines(session, second.id, "payment") == {
            "1002": D("2000.00"), "1122": D("-1500.00"), "2203": D("-500.00")}
        assert {i.status for i in session.scalars(select(Invoice))} == {InvoiceStatus.PAID}
    row = position(session_factory, world)
    assert (row.open_invoices, row.unapplied_credit) == (D("0.00"), D("500.00"))

    order = new_order(session_factory, world, lines=[("8", "100.00")], confirm=True).order
    later = ship(session_factory, world, order.id, ["8"], day=dt.date(2026, 11, 21)).invoice.id  # 800.00
    with session_factory() as session, session.begin():
        applied = services.apply_credit(session, world.actors["sales_a"], second.id,
                                        applied_on=dt.date(2026, 11, 22))
        assert applied.unapplied_amount == D("0.00")
    with session_factory() as session:
        assert session.get(Invoice, later).open_amount == D("300.00")  # type: ignore[union-attr]
        assert entry_lines(session, second.id, "credit_application") == {"2203": D("500.00"), "1122": D("-500.00")}
    row = position(session_factory, world)
    assert (row.open_invoices, row.unapplied_credit, row.exposure) == (D("300.00"), D("0.00"), D("300.00"))


def test_a_payment_can_name_its_invoices(session_factory: SF, world: World) -> None:
    older = history_invoice(session_factory, world, "cust1", dt.date(2026, 10, 1), "100.00")
    newer = history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 1), "100.00")
    other = history_invoice(session_factory, world, "cust2", dt.date(2026, 11, 1), "100.00")
    before = row_counts(session_factory)
    with pytest.raises(InvoiceNotApplicable) as refused:
        pay(session_factory, world, "60.00", invoice_ids=[newer, other])
    assert refused.value.to_problem()["errors"] == [{"pointer": "/invoice_ids/1",
                                     "detail": "is not an invoice of this customer in this company"}]
    assert row_counts(session_factory) == before
    payment = pay(session_factory, world, "60.00", invoice_ids=[newer])
    assert [(a.invoice_id, a.amount) for a in payment.applications] == [(newer, D("60.00"))]
    with session_factory() as session:
        assert session.get(Invoice, older).open_amount == D("100.00")  # type: ignore[union-attr]


# --- ageing --------------------------------------------------------------------------------------

def test_ageing_buckets_at_the_boundary_days(session_factory: SF, world: World) -> None:
    amounts = {0: "1.00", 1: "2.00", 30: "4.00", 31: "8.00", 60: "16.00", 61: "32.00", 90: "64.00", 91: "128.00"}
    ids = {}
    for days_past_due, amount in amounts.items():  # cust1 pays in 30 days
        due = NOV - dt.timedelta(days=days_past_due)
        ids[days_past_due] = history_invoice(session_factory, world, "cust1", due - dt.timedelta(days=30), amount)

    def ageing(as_of: dt.date) -> dict[str, D]:
        with session_factory() as session:
            (row,), _ = receivables.receivables_by_customer(session, world.actors["cio"], as_of=as_of,
                                                             policy=POLICY)
            return {k: getattr(row, k) for k in ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90",
                                                 "overdue", "open_amount")}

    assert ageing(NOV) == {
        "not_due": D("1.00"),  # 0 days past due
        "days_1_30": D("2.00") + D("4.00"),  # 1 and 30
        "days_31_60": D("8.00") + D("16.00"),  # 31 and 60
        "days_61_90": D("32.00") + D("64.00"),  # 61 and 90
        "over_90": D("128.00"),  # 91
        "overdue": D("254.00"), "open_amount": D("255.00"),
    }
    pay(session_factory, world, "128.00", day=NOV + dt.timedelta(days=5), invoice_ids=[ids[91]])
    assert ageing(NOV)["over_90"] == D("128.00")  # as of 20 November it was still open
    five_days_later = ageing(NOV + dt.timedelta(days=5))  # each invoice 5 days older, the 91-day one paid
    assert five_days_later == {
        "not_due": D("0.00"), "days_1_30": D("1.00") + D("2.00"), "days_31_60": D("4.00") + D("8.00"),
        "days_61_90": D("16.00") + D("32.00"), "over_90": D("64.00"), "overdue": D("127.00"),
        "open_amount": D("127.00"),
    }


# --- the limit model -------------------------------------------------------------------------------

def test_limit_model_on_history_alone_then_approval_and_override(session_factory: SF, world: World) -> None:
    # cust2 pays in 60 days. Inside the window (20 Nov 2025, 20 Nov 2026]:
    paid_early = history_invoice(session_factory, world, "cust2", dt.date(2026, 1, 10), "400000.00")  # due 11 Mar
    paid_15 = history_invoice(session_factory, world, "cust2", dt.date(2026, 3, 1), "400000.00")  # due 30 Apr
    paid_45 = history_invoice(session_factory, world, "cust2", dt.date(2026, 5, 1), "200000.00")  # due 30 Jun
    history_invoice(session_factory, world, "cust2", dt.date(2026, 9, 1), "50000.00")  # due 31 Oct: overdue
    history_invoice(session_factory, world, "cust2", dt.date(2026, 10, 1), "150000.00")  # due 30 Nov
    pay(session_factory, world, "400000.00", customer="cust2", day=dt.date(2026, 3, 6), invoice_ids=[paid_early])
    pay(session_factory, world, "400000.00", customer="cust2", day=dt.date(2026, 5, 15), invoice_ids=[paid_15])
    pay(session_factory, world, "200000.00", customer="cust2", day=dt.date(2026, 8, 14), invoice_ids=[paid_45])
    # Outside the window, and so ignored: a year-old invoice paid very late.
    old = history_invoice(session_factory, world, "cust2", dt.date(2025, 6, 1), "300000.00")
    pay(session_factory, world, "300000.00", customer="cust2", day=dt.date(2025, 11, 1), invoice_ids=[old])

    # cust2 has no credit data on file (type other). Points: net worth and capital none -> 0;
    # no rating -> 40; founding unknown -> 10; invoiced 1,200,000 -> 60; days late
    # (400,000 x 0 + 400,000 x 15 + 200,000 x 45) / 1,000,000 = 15.00 -> 60; overdue
    # 50,000 / 200,000 = 0.25 -> 60; no dispute -> 100; other -> 40.
    # 20 x 40 + 10 x 10 + 10 x 60 + 15 x 60 + 10 x 60 + 5 x 100 + 10 x 40 = 3,900: 39.00, very high.
    # Capacities: no statement, so sales alone: 1,200,000 x 0.5 months / 12 = 50,000 (max 200,000).
    with session_factory() as session, session.begin():
        run = limits.suggest_limits(session, world.actors["credit"], as_of=NOV, today=NOV)
        assert (run.customers, run.with_history, run.held, run.window_start) == (2, 1, 0, dt.date(2025, 11, 20))
    with session_factory() as session:
        by_customer = {s.customer_id: s for s in session.scalars(select(CreditLimitSuggestion))}
    mine = by_customer[world.customers["cust2"]]
    assert (mine.invoiced_12m, mine.average_days_late, mine.overdue_share) == (D("1200000"), D("15"), D("0.25"))
    assert (mine.score, mine.risk_class, mine.sales_capacity, mine.suggested_limit) == (
        D("39.00"), "very_high", D("50000.00"), D("50000.00"))
    newcomer = by_customer[world.customers["cust1"]]  # no history: the starting limit of class very high
    assert (newcomer.has_history, newcomer.suggested_limit) == (False, D("20000.00"))

    # 50,000 is below cust2's exposure of 200,000 (its open invoices): approving the suggestion
    # holds its orders, so it needs a reason like an override.
    with pytest.raises(ValidationFailed), session_factory() as session, session.begin():
        limits.set_credit_limit(session, world.actors["credit"], world.customers["cust2"], suggestion_id=mine.id)
    with session_factory() as session, session.begin():
        approved = limits.set_credit_limit(session, world.actors["credit"], world.customers["cust2"],
                                           suggestion_id=mine.id, reason="overdue invoice: the model's line")
        assert (approved.version, approved.credit_limit, approved.suggestion_id) == (1, D("50000.00"), mine.id)
    with pytest.raises(ValidationFailed), session_factory() as session, session.begin():
        limits.set_credit_limit(session, world.actors["credit"], world.customers["cust2"],
                                credit_limit=D("250000"), suggestion_id=mine.id)
    with session_factory() as session, session.begin():
        limits.set_credit_limit(session, world.actors["credit"], world.customers["cust2"],
                                credit_limit=D("250000"), suggestion_id=mine.id, reason="new hospital contract")
    with session_factory() as session:
        versions = session.scalars(select(CreditLimit).order_by(CreditLimit.version)).all()
        assert [(v.version, v.credit_limit, v.suggestion_id, v.set_by) for v in versions] == [
            (1, D("50000.00"), mine.id, world.users["credit"]),
            (2, D("250000.00"), mine.id, world.users["credit"])]
        assert versions[1].reason == "new hospital contract"
    row = position(session_factory, world, "cust2")
    assert (row.credit_limit, row.limit_version) == (D("250000.00"), 2)


# --- roles ---------------------------------------------------------------------------------------

def test_the_cio_changes_nothing_even_through_the_services(session_factory: SF, world: World) -> None:
    order = new_order(session_factory, world, lines=[("1", "1.00")]).order
    cio: Actor = world.actors["cio"]
    attempts = [
        lambda s: services.confirm_order(s, cio, order.id, policy=POLICY),
        lambda s: services.record_payment(s, cio, company_id=world.companies["A"],
                                          customer_id=world.customers["cust1"], payment_date=NOV, amount=D("1")),
        lambda s: services.set_credit_hold(s, cio, world.customers["cust1"], on_hold=True, reason="x"),
        lambda s: limits.set_credit_limit(s, cio, world.customers["cust1"], credit_limit=D("1"), reason="x"),
        lambda s: limits.suggest_limits(s, cio, as_of=NOV),
    ]
    before = row_counts(session_factory)
    for attempt in attempts:
        with pytest.raises(Forbidden) as refused, session_factory() as session, session.begin():
            attempt(session)
        assert refused.value.slug == "role-not-allowed"
    assert row_counts(session_factory) == before


# --- concurrency ---------------------------------------------------------------------------------

@pytest.mark.postgres
def test_companies_confirming_at_the_same_moment_never_pass_the_limit_together(
    session_factory: SF, world: World
) -> None:
    """Three companies confirm 40,000 each for one customer with a 100,000 limit, released
    together by a barrier: exactly two pass, every round."""
    set_limit(session_factory, world, "cust1", "100000.00")
    companies = ("A", "B", "C")
    for _ in range(30):
        orders = {c: new_order(session_factory, world, company=c, lines=[("400", "100.00")]).order.id
                  for c in companies}
        barrier = threading.Barrier(len(companies))
        statuses: dict[str, SalesOrderStatus] = {}
        errors: list[BaseException] = []

        def confirm_at_once(company: str) -> None:
            try:
                with session_factory() as session:
                    barrier.wait()
                    with session.begin():
                        statuses[company] = services.confirm_order(
                            session, world.actors[f"sales_{company.lower()}"], orders[company], policy=POLICY
                        ).order.status
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=confirm_at_once, args=(c,)) for c in companies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(statuses.values()) == [SalesOrderStatus.BLOCKED, SalesOrderStatus.CONFIRMED,
                                             SalesOrderStatus.CONFIRMED]
        assert position(session_factory, world).exposure == D("80000.00")  # 2 x 40,000 <= 100,000
        with session_factory() as session, session.begin():
            for company, order_id in orders.items():
                services.cancel_order(session, world.actors[f"sales_{company.lower()}"], order_id)
        assert position(session_factory, world).exposure == D("0.00")
    with session_factory() as session:
        assert exposure_drift(session) == []
