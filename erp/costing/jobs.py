"""The month-end close as a background job (docs/jobs.md): a group close of 30 companies
takes longer than a page should wait, so the request queues it and the page polls it.

The job runs ``close_periods`` in its own single transaction (all companies or none, as
over the API) and reports each of the close's steps (``CLOSE_STEPS``) as it finishes it; its
result names every company's outcome. A refusal fails the job with the close's reason, kept
as a message (``result.problem.message_data``) that pages show in the reader's language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing.close import CLOSE_STEPS, CloseResult, close_periods
from erp.db import committed
from erp.errors import DomainError
from erp.jobs.models import Job
from erp.jobs.runner import JobContext, job_kind
from erp.jobs.services import create_job
from erp.masterdata.models import Company
from erp.messages import message_data

CLOSE = "costing.close"


def queue_close(session: Session, actor: Actor, *, period: str, company_ids: Sequence[int] | None) -> Job:
    """Queue the close of ``period`` for these companies (None: every active company the
    cost accountant acts for); the runner starts it once the transaction commits. The role
    and companies are checked now; the calendar by the close itself, first of its steps."""
    actor.require_role(Role.COST_ACCOUNTANT, action="closing a period")
    for company_id in company_ids or ():
        actor.require_company(company_id)
    single = company_ids[0] if company_ids is not None and len(company_ids) == 1 else None
    return create_job(session, actor, kind=CLOSE, company_id=single, rows_total=len(CLOSE_STEPS),
                      params={"period": period, "company_ids": None if company_ids is None else list(company_ids)})


def _close(session: Session, context: JobContext, period: str,
           step_done: Callable[[str], None]) -> tuple[list[CloseResult], dict[int, str]]:
    results = close_periods(session, context.actor, company_ids=context.params.get("company_ids"),
                            period=period, progress=step_done)
    codes = dict(session.execute(select(Company.id, Company.code)
                                 .where(Company.id.in_([r.company_id for r in results]))).all())
    return results, codes


@job_kind(CLOSE)
def run_close(context: JobContext) -> dict[str, Any]:
    """The job: one close, all or nothing, progress after each step."""
    period = context.params["period"]

    def step_done(step: str) -> None:
        context.progress(CLOSE_STEPS.index(step) + 1, rows_total=len(CLOSE_STEPS), force=True)

    try:
        results, codes = committed(context.session_factory,
                                   lambda session: _close(session, context, period, step_done))
    except DomainError as refusal:
        refusal.extensions.setdefault("message_data", message_data(refusal.message))
        raise
    return {"period": period, "companies": [
        {"company_id": r.company_id, "company_code": codes.get(r.company_id), "status": r.status.value,
         "journal_entry_id": r.journal_entry_id, "materials": r.materials,
         "variance_allocated": str(r.variance_allocated), "variance_remaining": str(r.variance_remaining)}
        for r in results]}
