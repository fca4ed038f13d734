"""Month-end receivable snapshots (erp.credit.snapshots): each holds the figures of its month
end as the live report gives them, the trend reads them, and a document committed later but
dated on or before the month end makes the snapshot stale, so that the figures follow it.

Worked example (cust1: 30 days' terms; cust2: 60 days'; company B a customer of A):
- I1  A -> cust1, 10 Aug, 1,000.00, due 9 Sep; 400.00 paid 20 Sep
- I2  B -> cust2, 15 Sep, 2,500.00, due 14 Nov
- I3  C -> cust1,  5 Oct,   800.00, due 4 Nov
- IC  A -> company B, 1 Sep, 500.00, due 31 Oct (intercompany: not the group's receivable)
- P   A <- cust2, 20 Oct, 300.00: A has no open invoice of cust2, so it stays unapplied

31 Aug: A 1,000.00 not due.                                        group: open 1,000.00, overdue 0
30 Sep: A 600.00 (21 days past due: 1-30), intercompany 500.00;
        B 2,500.00 not due.                                         group: open 3,100.00, overdue 600.00
31 Oct: A 600.00 (52 days: 31-60), intercompany 500.00;
        B 2,500.00 not due; C 800.00 not due.                      group: open 3,900.00, overdue 600.00
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import cio, receivables, services, snapshots
from erp.credit.jobs import snapshot_month_ends
from erp.errors import Forbidden
from tests.credit import POLICY, history_invoice, new_order, pay, set_limit
from tests.service.test_intercompany import link_companies
from tests.world import World

SF = sessionmaker[Session]
TODAY = dt.date(2026, 11, 29)
AUG, SEP, OCT = dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31)
FIGURES = snapshots.FIGURES


def build(session_factory: SF, world: World) -> dict[str, int]:
    link_companies(session_factory, world)
    i1 = history_invoice(session_factory, world, "cust1", dt.date(2026, 8, 10), "1000.00")
    pay(session_factory, world, "400.00", day=dt.date(2026, 9, 20), invoice_ids=[i1])
    i2 = history_invoice(session_factory, world, "cust2", dt.date(2026, 9, 15), "2500.00", company="B")
    i3 = history_invoice(session_factory, world, "cust1", dt.date(2026, 10, 5), "800.00", company="C")
    history_invoice(session_factory, world, "company_b", dt.date(2026, 9, 1), "500.00")
    pay(session_factory, world, "300.00", customer="cust2", day=dt.date(2026, 10, 20))
    return {"i1": i1, "i2": i2, "i3": i3}


def by_company(session_factory: SF, world: World, day: dt.date) -> dict[str, dict[str, D]]:
    with session_factory() as session, session.begin():
        rows = receivables.receivables_by_company(session, world.actors["cio"], as_of=day, today=TODAY)
        return {row.company_code: {name: getattr(row, name) for name in FIGURES} for row in rows}


def figures(**given: str) -> dict[str, D]:
    return {name: D(given.get(name, "0.00")) for name in FIGURES}


def take(session_factory: SF, world: World, months: int = 3) -> list[dt.date]:
    return snapshot_month_ends(session_factory, world.actors["credit"], months=months, policy=POLICY, today=TODAY)


def test_a_snapshot_holds_each_companys_ageing_at_its_month_end(session_factory: SF, world: World) -> None:
    build(session_factory, world)
    assert take(session_factory, world) == [AUG, SEP, OCT]
    with session_factory() as session:
        assert snapshots.stale_or_missing(session, [AUG, SEP, OCT]) == set()
        rows = snapshots.snapshot_by_company(session, world.actors["cio"], OCT)
    assert rows is not None
    codes = {world.companies[k]: f"C{k}" for k in "ABC"}
    stored = {codes[row.company_id]: {name: getattr(row, name) for name in FIGURES} for row in rows}
    assert stored == {
        "CA": figures(open_amount="600.00", overdue="600.00", days_31_60="600.00", intercompany_open="500.00"),
        "CB": figures(open_amount="2500.00", not_due="2500.00"),
        "CC": figures(open_amount="800.00", not_due="800.00"),
    }
    with session_factory() as session:
        totals = snapshots.snapshot_totals(session, world.actors["cio"], [AUG, SEP, OCT])
    assert {day: (t["open_amount"], t["overdue"]) for day, t in totals.items()} == {
        AUG: (D("1000.00"), D("0.00")), SEP: (D("3100.00"), D("600.00")), OCT: (D("3900.00"), D("600.00"))}
    assert totals[SEP]["days_1_30"] == D("600.00") and totals[SEP]["intercompany_open"] == D("500.00")


def test_snapshots_equal_the_live_figures_and_the_documents_rebuild_on_every_month_end(
    session_factory: SF, world: World
) -> None:
    build(session_factory, world)
    days = snapshots.past_month_ends(TODAY, 4)  # 31 Jul (nothing yet) to 31 Oct
    live = {day: by_company(session_factory, world, day) for day in days}
    assert take(session_factory, world, months=4) == days
    with session_factory() as session:
        assert snapshots.stale_or_missing(session, days) == set()
        rebuilt = {p.day: (p.open_amount, p.overdue)
                   for p in cio.trend_from_documents(session, world.actors["cio"], days=days)}
        totals = snapshots.snapshot_totals(session, world.actors["cio"], days)
    for day in days:
        # read back from the snapshot now (it is fresh): the same rows as computed live before it
        assert by_company(session_factory, world, day) == live[day], day
        assert (totals[day]["open_amount"], totals[day]["overdue"]) == rebuilt[day], day
    assert live[days[0]] == {} and totals[days[0]]["open_amount"] == D("0.00")


def test_a_backdated_payment_makes_the_month_end_stale_and_every_figure_follows(
    session_factory: SF, world: World
) -> None:
    docs = build(session_factory, world)
    take(session_factory, world)
    # booked today, dated 25 Oct (the period is open): October's snapshot no longer holds
    pay(session_factory, world, "100.00", day=dt.date(2026, 10, 25), invoice_ids=[docs["i1"]])
    with session_factory() as session:
        assert snapshots.stale_or_missing(session, [AUG, SEP, OCT]) == {OCT}
        assert snapshots.snapshot_by_company(session, world.actors["cio"], OCT) is None
        trend = {p.day: (p.open_amount, p.overdue)
                 for p in cio.receivables_trend(session, world.actors["cio"], as_of=TODAY, today=TODAY)}
    assert by_company(session_factory, world, OCT)["CA"]["open_amount"] == D("500.00")
    assert trend[OCT] == (D("3800.00"), D("500.00"))
    assert trend[SEP] == (D("3100.00"), D("600.00"))
    take(session_factory, world)
    with session_factory() as session:
        assert snapshots.stale_or_missing(session, [OCT]) == set()
        assert snapshots.snapshot_totals(session, world.actors["cio"], [OCT])[OCT]["open_amount"] == D("3800.00")


def test_the_trend_reads_the_snapshots_and_rebuilds_what_has_none(session_factory: SF, world: World) -> None:
    build(session_factory, world)
    with session_factory() as session:
        before = cio.receivables_trend(session, world.actors["cio"], as_of=TODAY, today=TODAY)
    take(session_factory, world, months=2)  # September and October only
    with session_factory() as session:
        after = cio.receivables_trend(session, world.actors["cio"], as_of=TODAY, today=TODAY)
        rebuilt = cio.trend_from_documents(session, world.actors["cio"], days=[p.day for p in before])
    assert after == before == rebuilt
    assert len(after) == 12 and after[-1].day == TODAY
    points = {p.day: (p.open_amount, p.overdue) for p in after}
    assert points[AUG] == (D("1000.00"), D("0.00"))
    assert points[OCT] == (D("3900.00"), D("600.00"))
    # today: I1 600 (81 days past due), I2 2,500 (15 days), I3 800 (25 days): all overdue
    assert points[TODAY] == (D("3900.00"), D("3900.00"))


def test_unapplied_payments_as_of_a_day_add_back_what_was_applied_after_it(
    session_factory: SF, world: World
) -> None:
    build(session_factory, world)
    # cust2 is invoiced by A on 1 Nov (200.00); on 5 Nov 200.00 of the 300.00 is applied to it
    invoice = history_invoice(session_factory, world, "cust2", dt.date(2026, 11, 1), "200.00")
    with session_factory() as session, session.begin():
        payment = session.scalars(_payments_of(world)).one()
        services.apply_credit(session, world.actors["sales_a"], payment.id, applied_on=dt.date(2026, 11, 5),
                              invoice_ids=[invoice])
    unapplied = {}
    with session_factory() as session:
        for day in (dt.date(2026, 10, 19), OCT, dt.date(2026, 11, 4), dt.date(2026, 11, 5), TODAY):
            unapplied[day] = cio.unapplied_payments(session, world.actors["cio"], as_of=day)
        customer = cio.unapplied_payments(session, world.actors["cio"], as_of=OCT,
                                          customer_id=world.customers["cust2"])
    assert unapplied == {dt.date(2026, 10, 19): D("0.00"), OCT: D("300.00"), dt.date(2026, 11, 4): D("300.00"),
                         dt.date(2026, 11, 5): D("100.00"), TODAY: D("100.00")}
    assert customer == D("300.00")


def _payments_of(world: World) -> Any:
    from sqlalchemy import select

    from erp.credit.models import Payment

    return select(Payment).where(Payment.customer_id == world.customers["cust2"])


def test_with_every_month_end_snapshotted_only_the_key_date_and_a_stale_month_are_computed(
    session_factory: SF, world: World
) -> None:
    docs = build(session_factory, world)
    take(session_factory, world, months=11)  # every month end of the trend but the key date
    with session_factory() as session:
        trend = cio.receivables_trend(session, world.actors["cio"], as_of=TODAY, today=TODAY)
        assert snapshots.stale_or_missing(session, [p.day for p in trend[:-1]]) == set()
    points = {p.day: (p.open_amount, p.overdue) for p in trend}
    assert points[SEP] == (D("3100.00"), D("600.00")) and points[OCT] == (D("3900.00"), D("600.00"))
    assert points[TODAY] == (D("3900.00"), D("3900.00"))
    pay(session_factory, world, "100.00", day=dt.date(2026, 9, 25), invoice_ids=[docs["i1"]])
    with session_factory() as session:
        # September and October are stale now: two month ends rebuilt one by one, the rest read
        assert snapshots.stale_or_missing(session, [SEP, OCT]) == {SEP, OCT}
        points = {p.day: (p.open_amount, p.overdue)
                  for p in cio.receivables_trend(session, world.actors["cio"], as_of=TODAY, today=TODAY,
                                                 key_date_totals=(D("1.00"), D("2.00")))}
    assert points[SEP] == (D("3000.00"), D("500.00")) and points[OCT] == (D("3800.00"), D("500.00"))
    assert points[AUG] == (D("1000.00"), D("0.00"))
    assert points[TODAY] == (D("1.00"), D("2.00"))  # the caller's totals of the key date, taken as given


def beijing(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def month_end_history(session_factory: SF, world: World) -> None:
    """Positions at the end of October, and what changed since (the services stamp what they
    do with the moment they run; the test moves the stamps back to the days they stand for):

    cust1 (30 days): I1 A 1 Sep 5,000.00, due 1 Oct (30 days past due on 31 Oct: 1-30);
          2,000.00 paid 5 Nov. O1 A 10 x 100.00 confirmed 20 Oct, not shipped.
          Limit 50,000 (v1, 1 Oct), 3,000 (v2, 25 Oct), 50,000 again now (v3).
          31 Oct: invoices 5,000 + orders 1,000 = 6,000 against 3,000: 3,000 over; O1 held.
    cust2 (60 days): I2 B 15 Jun 2,000.00, due 14 Aug (78 days: 61-90);
          I3 C 1 May 1,500.00, due 30 Jun (123 days: over 90). No limit (starting 100,000).
                On hold from 15 Oct; lifted 2 Nov.
    31 Oct: 1 customer over the limit, 1 with 1,500.00 over 90 days, 1 on hold, 1 order held;
            open 8,500.00, all overdue.
    """
    from sqlalchemy import select, update

    from erp.audit.models import AuditEvent
    from erp.credit.models import CreditLimit, SalesOrder

    def stamp(model: Any, row_id: int, **stamps: dt.datetime) -> None:
        with session_factory() as session, session.begin():
            session.execute(update(model).where(model.id == row_id).values(**stamps))

    def newest(model: Any, *where: Any) -> int:
        with session_factory() as session:
            return session.scalar(select(func.max(model.id)).where(*where))  # type: ignore[no-any-return]

    from sqlalchemy import func

    i1 = history_invoice(session_factory, world, "cust1", dt.date(2026, 9, 1), "5000.00")
    history_invoice(session_factory, world, "cust2", dt.date(2026, 6, 15), "2000.00", company="B")
    history_invoice(session_factory, world, "cust2", dt.date(2026, 5, 1), "1500.00", company="C")
    set_limit(session_factory, world, "cust1", "50000.00")
    stamp(CreditLimit, newest(CreditLimit), set_at=beijing(dt.date(2026, 10, 1), 9))
    o1 = new_order(session_factory, world, lines=[("10", "100.00")], confirm=True).order.id
    stamp(SalesOrder, o1, confirmed_at=beijing(dt.date(2026, 10, 20), 10))
    set_limit(session_factory, world, "cust1", "3000.00")
    stamp(CreditLimit, newest(CreditLimit), set_at=beijing(dt.date(2026, 10, 25), 9))
    # The audit trail is append-only: the hold of 15 Oct and its lifting on 2 Nov are written
    # as the trail holds them, with their moments (the kept exposure row, today's, is not on hold).
    with session_factory() as session, session.begin():
        for action, day, before, reason in (("hold", dt.date(2026, 10, 15), False, "cheque bounced"),
                                            ("hold-lifted", dt.date(2026, 11, 2), True, "cheque cleared")):
            session.add(AuditEvent(occurred_at=beijing(day, 11), actor_id=world.users["credit"], actor_name="credit",
                                   entity="customer_credit", entity_id=world.customers["cust2"], action=action,
                                   changes={"on_hold": {"before": before, "after": not before}}, reason=reason))
    # since the month end
    pay(session_factory, world, "2000.00", day=dt.date(2026, 11, 5), invoice_ids=[i1])
    set_limit(session_factory, world, "cust1", "50000.00")


def dashboard_figures(session_factory: SF, world: World, day: dt.date) -> dict[str, Any]:
    with session_factory() as session:
        board = receivables.dashboard(session, world.actors["cio"], as_of=day, policy=POLICY, top=10, today=TODAY)
        rows, _ = receivables.receivables_by_customer(session, world.actors["cio"], as_of=day, policy=POLICY,
                                                      limit=None, today=TODAY)
    return {"totals": board.totals, "companies": board.by_company, "top": board.top_customers,
            "over_limit": (board.alerts.over_limit_count, board.alerts.over_limit),
            "over_90": (board.alerts.over_90_count, [tuple(row) for row in board.alerts.over_90]),
            "counts": (board.alerts.on_hold_count, board.alerts.blocked_orders_count),
            "customers": [tuple(row) for row in rows]}


def test_a_month_end_reads_every_customers_position_from_its_snapshot_as_live(
    session_factory: SF, world: World
) -> None:
    month_end_history(session_factory, world)
    live = dashboard_figures(session_factory, world, OCT)
    # worked by hand (the docstring of month_end_history)
    assert live["totals"]["open_amount"] == live["totals"]["overdue"] == D("8500.00")
    assert [(o.customer_code, o.exposure, o.credit_limit, o.excess) for o in live["over_limit"][1]] == [
        ("K0001", D("6000.00"), D("3000.00"), D("3000.00"))]
    assert live["over_90"] == (1, [(world.customers["cust2"], "K0002", "大药房", "Pharmacy Chain", D("1500.00"), 1)])
    assert live["counts"] == (1, 1)
    top = {c.customer_code: c for c in live["top"]}
    assert (top["K0001"].exposure, top["K0001"].days_1_30, top["K0001"].limit_approved) == (
        D("6000.00"), D("5000.00"), True)
    assert (top["K0002"].exposure, top["K0002"].days_61_90, top["K0002"].over_90, top["K0002"].credit_limit,
            top["K0002"].on_hold) == (D("3500.00"), D("2000.00"), D("1500.00"), D("100000.00"), True)
    take(session_factory, world)
    with session_factory() as session:
        assert snapshots.customer_snapshot_run(session, OCT) is not None
    assert dashboard_figures(session_factory, world, OCT) == live
    # a payment booked now but dated in October: the snapshot is stale, the day is rebuilt
    pay(session_factory, world, "500.00", customer="cust2", company="B", day=dt.date(2026, 10, 30))
    with session_factory() as session:
        assert snapshots.customer_snapshot_run(session, OCT) is None
    rebuilt = dashboard_figures(session_factory, world, OCT)
    assert rebuilt["totals"]["open_amount"] == D("8000.00")
    take(session_factory, world)
    assert dashboard_figures(session_factory, world, OCT) == rebuilt


def test_the_snapshot_job_writes_the_month_ends_and_reports_them(
    session_factory: SF, world: World, settings: Any, engine: Any
) -> None:
    from erp.clock import business_today
    from erp.credit import jobs
    from erp.jobs.models import Job, JobStatus
    from erp.jobs.runner import JobEnvironment, run_job

    build(session_factory, world)
    with session_factory() as session, session.begin():
        job_id = jobs.queue_snapshots(session, world.actors["cio"], months=3).id
    assert run_job(JobEnvironment(settings, engine, session_factory), job_id) == JobStatus.SUCCEEDED
    ends = snapshots.past_month_ends(business_today(), 3)
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.result == {"month_ends": [day.isoformat() for day in ends]}
        assert (job.rows_done, job.rows_total) == (3, 3)
        assert snapshots.stale_or_missing(session, ends) == set()
        assert all(snapshots.customer_snapshot_run(session, day) is not None for day in ends)
    with session_factory() as session, session.begin():
        with pytest.raises(Forbidden):
            jobs.queue_snapshots(session, world.actors["sales_a"], months=3)
