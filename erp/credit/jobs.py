"""Credit work that runs as a background job (docs/jobs.md): recomputing every customer's
suggested limit. The request queues it and answers at once; the job reports customers done
of customers in all while its one transaction runs, and returns the run's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit.limits import suggest_limits
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
    with context.session_factory() as session, session.begin():
        run = suggest_limits(session, context.actor, as_of=as_of,
                             progress=lambda done, everyone: context.progress(done, rows_total=everyone))
        return {"run_id": run.id, "as_of": as_of.isoformat(), "model_version_id": run.model_version_id,
                "customers": run.customers, "with_history": run.with_history, "held": run.held,
                "seconds": str(run.seconds)}
