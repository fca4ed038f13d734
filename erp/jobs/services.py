"""Creating, reading and claiming jobs. Plain functions over a session; no Flask.

Who sees a job: the user who started it, and admins. Everyone else gets 404, as for any
record they may not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.db import is_postgres, page, utcnow
from erp.messages import Message, message_data
from erp.errors import NotFound
from erp.jobs.models import Job, JobStatus

# A job keeps its first errors; past these it only counts them (a 100,000-row file with a
# wrong column would otherwise store 100,000 copies of one mistake).
MAX_KEPT_ERRORS = 1000


def create_job(
    session: Session, actor: Actor, *, kind: str, params: Mapping[str, Any], company_id: int | None = None,
    rows_total: int | None = None,
) -> Job:
    """Queue a job of ``kind`` for ``actor`` (the runner picks it up once the transaction commits)."""
    job = Job(kind=kind, params=dict(params), company_id=company_id, rows_total=rows_total,
              created_by=actor.user_id, status=JobStatus.QUEUED, errors=[])
    session.add(job)
    session.flush()
    return job


def _visible(actor: Actor) -> Any:
    if actor.has_role(Role.ADMIN):
        return True
    return Job.created_by == actor.user_id


def get_job(session: Session, actor: Actor, job_id: int) -> Job:
    """A job the caller started (admins: any job); 404 otherwise."""
    job = session.scalars(select(Job).where(Job.id == job_id, _visible(actor))).one_or_none()
    if job is None:
        raise NotFound(Message("job {key} not found", key=job_id))
    return job


def list_jobs(
    session: Session, actor: Actor, *, kind: str | None = None, status: JobStatus | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[Job], int]:
    """The caller's jobs (admins: everyone's), newest first."""
    query = select(Job).where(_visible(actor))
    if kind is not None:
        query = query.where(Job.kind == kind)
    if status is not None:
        query = query.where(Job.status == status)
    return page(session, query.order_by(Job.id.desc()), offset=offset, limit=limit, entities=True)


def claim_job(session: Session, job_id: int) -> Job | None:
    """Move a queued job to running; None when another runner took it first (or it is gone)."""
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update().execution_options(populate_existing=True)).one_or_none()
    if job is None or job.status != JobStatus.QUEUED:
        return None
    job.status = JobStatus.RUNNING
    job.started_at = job.heartbeat_at = utcnow()
    session.flush()
    return job


def claim_next(session: Session) -> Job | None:
    """The oldest queued job, moved to running. On PostgreSQL several workers may call this at
    once: ``SKIP LOCKED`` hands each a different job."""
    query = select(Job).where(Job.status == JobStatus.QUEUED).order_by(Job.id).limit(1).with_for_update(
        skip_locked=is_postgres(session)).execution_options(populate_existing=True)
    job = session.scalars(query).one_or_none()
    if job is None:
        return None
    job.status = JobStatus.RUNNING
    job.started_at = job.heartbeat_at = utcnow()
    session.flush()
    return job


# Why a job that stopped reporting failed (shown in the reader's language: result.message_data).
INTERRUPTED = Message("interrupted: the process running the job stopped; nothing it did was kept")


def fail_interrupted(session: Session, *, stale_after: dt.timedelta) -> int:
    """Mark running jobs that have not reported for ``stale_after`` as failed (their process
    died: a restart, a crash). Their own transactions rolled back with the process, so nothing
    they did is left half-written. Returns how many."""
    cutoff = utcnow() - stale_after
    result = session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, func.coalesce(Job.heartbeat_at, Job.started_at) < cutoff)
        .values(status=JobStatus.FAILED, finished_at=utcnow(), message=str(INTERRUPTED),
                result={"message_data": message_data(INTERRUPTED)})
    )
    return result.rowcount or 0
