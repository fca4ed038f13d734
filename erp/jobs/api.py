"""HTTP endpoints of jobs: ``/api/v1/jobs`` (the caller's jobs) and ``/api/v1/jobs/{id}``
(status and progress, for a page or a script to poll)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_smorest.pagination import PaginationParameters

from erp.jobs import schemas as s
from erp.jobs import services
from erp.jobs.models import Job, JobStatus
from erp.jobs.runner import QueueOnlyRunner, ThreadRunner
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.messages import message_from_data
from erp.web import Blueprint, after_commit, api_text, paged, transaction
from erp.errors import NotFound

blp = Blueprint("jobs", __name__, url_prefix="/api/v1", description="Background jobs and their progress")


def job_runner() -> ThreadRunner | QueueOnlyRunner:
    """The application's job runner."""
    return current_app.extensions["erp_jobs"]  # type: ignore[no-any-return]


def job_view(job: Job, render_errors: Any = None) -> dict[str, Any]:
    """A job as the API shows it: the table's figures, or fresher ones while it runs here."""
    view = {name: getattr(job, name) for name in (
        "id", "kind", "status", "company_id", "rows_total", "rows_done", "error_count", "errors", "result",
        "message", "created_by", "created_at", "started_at", "finished_at")}
    live = job_runner().live_progress(job.id)
    if live is not None and not job.finished:
        view.update(rows_done=live.rows_done, rows_total=live.rows_total, error_count=live.error_count,
                    errors=list(live.errors))
    view["status_url"] = url_for("jobs.get_job", job_id=job.id)
    if render_errors is not None:
        view["errors"] = render_errors(job.kind, view["errors"] or [])
    return view


def started(job: Job, render_errors: Any = None) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The 202 answer of a view (``@transaction``) that queued ``job``; the job starts once
    the view's transaction has committed (its worker must see the row)."""
    after_commit(lambda: job_runner().submit(job.id))
    view = job_view(job, render_errors)
    return view, 202, {"Location": view["status_url"]}


# Job kinds may register how their errors read in the caller's language (see erp.golive).
ERROR_RENDERERS: dict[str, Any] = {}


def _rendered(job: Job) -> dict[str, Any]:
    """The job as the API answers it: its errors and why it failed in the caller's language."""
    render = next((render for prefix, render in ERROR_RENDERERS.items() if job.kind.startswith(prefix)), None)
    view = job_view(job, render)
    kept = (view.get("result") or {}).get("message_data")
    if view["status"] == JobStatus.FAILED and kept:
        view["message"] = api_text(message_from_data(kept))
    return view


@blp.route("/jobs", methods=["GET"])
@blp.arguments(s.JobQuery, location="query")
@blp.response(200, s.JobOut(many=True))
@blp.paginate()
def get_jobs(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """The caller's jobs, newest first (admins: everyone's)."""
    return [_rendered(job) for job in paged(pagination_parameters, services.list_jobs, **query)]


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@blp.response(200, s.JobOut)
@blp.refuses(NotFound)
@transaction
def get_job(session: Session, actor: Actor, job_id: int) -> Any:
    """A job's status and progress: rows done of the total, errors so far, and its result once finished."""
    return _rendered(services.get_job(session, actor, job_id))
