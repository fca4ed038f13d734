"""Credit work that runs as a background job (docs/jobs.md): recomputing every customer's
suggested limit, and the month-end receivable snapshots (erp.credit.snapshots). The request queues it and answers at once; the job reports customers done
of customers in all while its one transaction runs, and returns the run's figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import case, delete, func, insert, literal, null, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.clock import business_today
from erp.credit import receivables, snapshots
from erp.credit.exposure import CreditPolicy
from erp.credit.models import ReceivableCustomerSnapshot, ReceivableSnapshot, ReceivableSnapshotRun
from erp.credit.limits import suggest_limits
from erp.db import committed
from erp.jobs.models import Job
from erp.jobs.runner import JobContext, job_kind
from erp.jobs.services import create_job

RECOMPUTE = "credit.suggest-limits"


def queue_recompute(session: Session, actor: Actor, *, as_of: dt.date) -> Job:
    """Queue the recompute of every active customer's suggested limit on a key date (credit
    controllers); the runner starts it once the transaction commits."""
    actor.require_role(Role.CREDIT_CONTROLLER, action="recomputing credit limit suggestions")
    return create_job(session, actor, kind=RECOMPUTE, params={"as_of": as_of.isoformat()})


@job_kind(RECOMPUTE)
def recompute_suggestions(context: JobContext) -> dict[str, Any]:
    """The job: one run of the limit model, all or nothing, progress after each range of customers."""
    as_of = dt.date.fromisoformat(context.params["as_of"])
    def progress(done: int, everyone: int) -> None:
        context.progress(done, rows_total=everyone)

    run = committed(context.session_factory,
                    lambda session: suggest_limits(session, context.actor, as_of=as_of, progress=progress))
    return {"run_id": run.id, "as_of": as_of.isoformat(), "model_version_id": run.model_version_id,
            "customers": run.customers, "with_history": run.with_history, "held": run.held,
            "seconds": str(run.seconds)}


SNAPSHOTS = "credit.receivable-snapshots"


def queue_snapshots(session: Session, actor: Actor, *, months: int = 12) -> Job:
    """Queue the month-end receivable snapshots of the last ``months`` month ends (erp.credit.snapshots)."""
    actor.require_role(*snapshots.SNAPSHOT_ROLES, action="taking receivable snapshots")
    return create_job(session, actor, kind=SNAPSHOTS, params={"months": months})


@job_kind(SNAPSHOTS)
def take_receivable_snapshots(context: JobContext) -> dict[str, Any]:
    """The job: the watermarks in a short transaction of their own (erp.credit.snapshots
    says why), then every month end's snapshot in one transaction, progress per month end."""
    return {"month_ends": [day.isoformat() for day in snapshot_month_ends(
        context.session_factory, context.actor, months=int(context.params.get("months", 12)),
        policy=CreditPolicy.from_settings(context.settings),
        progress=lambda done, everyone: context.progress(done, rows_total=everyone))]}


def snapshot_month_ends(
    session_factory: Callable[[], Session], actor: Actor | None, *, months: int, policy: CreditPolicy,
    progress: Callable[[int, int], None] | None = None, today: dt.date | None = None,
) -> list[dt.date]:
    """Write the snapshots of the ``months`` month ends before today's month (the CLI and
    the job): the watermarks first, committed at once, then the snapshots."""
    marks = committed(session_factory, snapshots.watermarks)
    return committed(session_factory, lambda session: take_snapshots(
        session, actor, month_ends=snapshots.past_month_ends(today or business_today(), months), marks=marks,
        policy=policy, progress=progress))


def take_snapshots(
    session: Session, actor: Actor | None, *, month_ends: Sequence[dt.date], marks: snapshots.Watermarks,
    policy: CreditPolicy, progress: Callable[[int, int], None] | None = None,
) -> list[dt.date]:
    """Write (or write again) the snapshots of ``month_ends`` with the watermarks ``marks``
    (``snapshots.watermarks``, read in an earlier transaction): per month end one INSERT ... SELECT of
    ``receivables.company_ageing``, one of every customer's position then
    (``receivables.positions``, rebuilt from the documents) with its ageing, and the count
    of orders credit control held then. Month ends on or after today are refused quietly (a month end not
    yet over has no final figures): the ones written are returned."""
    if actor is not None:
        actor.require_role(*snapshots.SNAPSHOT_ROLES, action="taking receivable snapshots")
    today = business_today()
    written: list[dt.date] = []
    wanted = sorted({day for day in month_ends if day < today and day == snapshots.month_end_of(day)})
    for number, day in enumerate(wanted, start=1):
        session.execute(delete(ReceivableSnapshot).where(ReceivableSnapshot.month_end == day))
        session.execute(delete(ReceivableCustomerSnapshot).where(ReceivableCustomerSnapshot.month_end == day))
        session.execute(delete(ReceivableSnapshotRun).where(ReceivableSnapshotRun.month_end == day))
        # held_orders stays NULL until the customers are written: until then the run does not
        # count as having them, and ``positions`` rebuilds the day rather than read them
        run = ReceivableSnapshotRun(month_end=day, invoices_upto=marks.invoices,
                                    payment_applications_upto=marks.payment_applications,
                                    credit_note_applications_upto=marks.credit_note_applications)
        session.add(run)
        session.flush()
        position = receivables.positions(session, policy, as_of=day, today=today)
        items = receivables.open_items(session, None, day)
        ageing = (select(items.c.customer_id, *receivables.ageing_columns(items, day))
                  .group_by(items.c.customer_id).subquery("ageing"))
        session.execute(insert(ReceivableCustomerSnapshot).from_select(
            ["month_end", "customer_id", "open_invoices", "open_orders", "exposure", "approved_limit", "on_hold",
             *snapshots.AGEING],
            select(literal(day).label("month_end"), position.c.customer_id, position.c.open_invoices,
                   position.c.open_orders, position.c.exposure,
                   case((position.c.limit_approved, position.c.credit_limit), else_=null()), position.c.on_hold,
                   *(func.coalesce(ageing.c[name], snapshots.ZERO) for name in snapshots.AGEING))
            .outerjoin(ageing, ageing.c.customer_id == position.c.customer_id)))
        # the orders held then, over the positions just written (not a second rebuild)
        run.held_orders = session.scalar(select(func.count()).select_from(receivables.held_orders_as_of(
            receivables.kept_positions(policy, day, as_cte=True), day).subquery()))
        session.flush()
        figures = receivables.company_ageing(session, day).subquery("figures")
        session.execute(insert(ReceivableSnapshot).from_select(
            ["month_end", "company_id", *snapshots.FIGURES],
            select(literal(day).label("month_end"), figures.c.company_id,
                   *(func.coalesce(figures.c[name], snapshots.ZERO) for name in snapshots.FIGURES))))
        written.append(day)
        if progress is not None:
            progress(number, len(wanted))
    return written

