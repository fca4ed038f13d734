"""Every figure of the receivables reports as of one key date (#13 item 10): exposure,
limit, holds and held orders on a past day are rebuilt from the documents as they stood at
the end of that day (Beijing time), not read from today's figures. Worked by hand.

The services stamp confirmations, cancellations and limit versions with the moment they
run; to build a history the test moves those stamps back to the days they stand for (an
order confirmed on 6 November at 10:00 Beijing time is stamped 02:00 UTC that day)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import receivables, services
from erp.credit.models import CreditLimit, SalesOrder, SalesOrderStatus
from tests.credit import POLICY, history_invoice, new_order, pay, put_stock, set_limit, ship
from tests.world import World

SF = sessionmaker[Session]
PAST = dt.date(2026, 11, 10)
TODAY = dt.date(2026, 11, 29)


def beijing(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def stamp(session_factory: SF, model: type, row_id: int, **stamps: dt.datetime) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(model).where(model.id == row_id).values(**stamps))


def build_history(session_factory: SF, world: World) -> dict[str, int]:
    """cust1 (30 days' terms) across companies A and B:

    limit 8,000 from 1 Nov (v1); 50,000 while the documents are booked (v2); 20,000 now (v3)
    I1  A, invoice 1 Oct 4,000 (due 31 Oct); 1,500 paid 15 Nov       then 4,000   now 2,500
    I2  B, invoice 5 Nov 2,000 (due 5 Dec)                             then 2,000   now 2,000
    O1  A, 30 x 100 confirmed 6 Nov; 10 shipped and invoiced 12 Nov    then 3,000   now 2,000 + invoice 1,000
    O2  B, 20 x 100 confirmed today                                    then     0   now 2,000
    O3  A, 10 x 100 confirmed 3 Nov, cancelled 12 Nov                  then 1,000   now     0
    O4  A, 120 x 100 blocked today (9,500 + 12,000 > 20,000)           then     -   now blocked
    hold set today
    then: invoices 6,000 + orders 4,000 = 10,000 against 8,000: 2,000 over; O1 and O3 held at shipment
    now:  invoices 5,500 + orders 4,000 = 9,500 against 20,000, on hold: O1, O2 held; O4 blocked
    """
    set_limit(session_factory, world, "cust1", "8000.00")
    with session_factory() as session:
        first = session.query(CreditLimit).filter_by(version=1).one().id
    stamp(session_factory, CreditLimit, first, set_at=beijing(dt.date(2026, 11, 1), 9))
    set_limit(session_factory, world, "cust1", "50000.00")
    put_stock(session_factory, world)
    i1 = history_invoice(session_factory, world, "cust1", dt.date(2026, 10, 1), "4000.00")
    history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 5), "2000.00", company="B")
    o1 = new_order(session_factory, world, lines=[("30", "100.00")], confirm=True).order.id
    stamp(session_factory, SalesOrder, o1, confirmed_at=beijing(dt.date(2026, 11, 6), 10))
    ship(session_factory, world, o1, ["10"], day=dt.date(2026, 11, 12))
    pay(session_factory, world, "1500.00", day=dt.date(2026, 11, 15), invoice_ids=[i1])
    o2 = new_order(session_factory, world, company="B", lines=[("20", "100.00")], confirm=True).order.id
    o3 = new_order(session_factory, world, lines=[("10", "100.00")], confirm=True).order.id
    with session_factory() as session, session.begin():
        services.cancel_order(session, world.actors["sales_a"], o3, reason="customer withdrew")
    stamp(session_factory, SalesOrder, o3, confirmed_at=beijing(dt.date(2026, 11, 3), 11),
          cancelled_at=beijing(dt.date(2026, 11, 12), 15))
    set_limit(session_factory, world, "cust1", "20000.00")
    o4 = new_order(session_factory, world, lines=[("120", "100.00")], confirm=True).order
    assert o4.status == SalesOrderStatus.BLOCKED
    with session_factory() as session, session.begin():
        services.set_credit_hold(session, world.actors["credit"], world.customers["cust1"], on_hold=True,
                                 reason="cheque bounced")
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4.id}


def test_the_dashboard_on_a_past_day_shows_that_days_exposure_limit_alerts_and_held_orders(
    session_factory: SF, world: World
) -> None:
    build_history(session_factory, world)
    cust1 = world.customers["cust1"]
    with session_factory() as session:
        then = receivables.dashboard(session, world.actors["cio"], as_of=PAST, policy=POLICY, today=TODAY)
        # ageing on 10 Nov: I1 due 31 Oct is 10 days past due (1-30); I2 not due
        assert (then.totals["open_amount"], then.totals["overdue"], then.totals["days_1_30"],
                then.totals["not_due"]) == (D("6000.00"), D("4000.00"), D("4000.00"), D("2000.00"))
        (top,) = then.top_customers
        assert (top.customer_id, top.open_amount, top.exposure, top.credit_limit, top.limit_approved,
                top.utilisation, top.on_hold) == (cust1, D("6000.00"), D("10000.00"), D("8000.00"), True,
                                                  D("1.2500"), False)
        assert then.alerts.over_limit_count == 1
        assert (then.alerts.over_limit[0].exposure, then.alerts.over_limit[0].credit_limit,
                then.alerts.over_limit[0].excess) == (D("10000.00"), D("8000.00"), D("2000.00"))
        assert (then.alerts.over_90_count, then.alerts.on_hold_count, then.alerts.blocked_orders_count) == (0, 0, 2)

        now = receivables.dashboard(session, world.actors["cio"], as_of=TODAY, policy=POLICY, today=TODAY)
        # ageing on 29 Nov: I1's 2,500 is 29 days past due; I2 and the 12 Nov invoice (due 12 Dec) not due
        assert (now.totals["open_amount"], now.totals["days_1_30"], now.totals["not_due"]) == (
            D("5500.00"), D("2500.00"), D("3000.00"))
        (top,) = now.top_customers
        assert (top.exposure, top.credit_limit, top.utilisation, top.on_hold) == (
            D("9500.00"), D("20000.00"), D("0.4750"), True)
        assert (now.alerts.over_limit_count, now.alerts.on_hold_count, now.alerts.blocked_orders_count) == (0, 1, 3)


def test_exposure_on_a_past_day_is_rebuilt_from_the_documents(session_factory: SF, world: World) -> None:
    orders = build_history(session_factory, world)
    cust1 = world.customers["cust1"]
    with session_factory() as session:
        def position(day: dt.date) -> tuple:
            table = receivables.positions(session, POLICY, as_of=day, today=TODAY)
            row = session.execute(table.select().where(table.c.customer_id == cust1)).one()
            return row.open_invoices, row.open_orders, row.exposure, row.credit_limit, row.on_hold

        # 31 Oct: I1 only; v1 not yet set (the starting limit)
        assert position(dt.date(2026, 10, 31)) == (D("4000.00"), D("0"), D("4000.00"), D("100000"), False)
        # 5 Nov: I1 + I2; O3 (3 Nov) 1,000; limit v1
        assert position(dt.date(2026, 11, 5)) == (D("6000.00"), D("1000.00"), D("7000.00"), D("8000.00"), False)
        assert position(PAST) == (D("6000.00"), D("4000.00"), D("10000.00"), D("8000.00"), False)
        # 12 Nov: O1's 10 shipped (invoice 1,000, order 2,000 left), O3 cancelled that day
        assert position(dt.date(2026, 11, 12)) == (D("7000.00"), D("2000.00"), D("9000.00"), D("8000.00"), False)
        # 15 Nov: 1,500 paid on I1
        assert position(dt.date(2026, 11, 15)) == (D("5500.00"), D("2000.00"), D("7500.00"), D("8000.00"), False)
        # the business day: the kept figures (O2 confirmed today, v3, the hold)
        assert position(TODAY) == (D("5500.00"), D("4000.00"), D("9500.00"), D("20000.00"), True)

        rows, _ = receivables.receivables_by_customer(session, world.actors["credit"], as_of=PAST, policy=POLICY,
                                                      today=TODAY)
        assert [(r.customer_id, r.exposure, r.credit_limit, r.utilisation) for r in rows] == [
            (cust1, D("10000.00"), D("8000.00"), D("1.2500"))]
    assert set(orders) == {"o1", "o2", "o3", "o4"}
