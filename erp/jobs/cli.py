"""``flask --app erp jobs ...``: the worker that runs queued jobs in production."""

from __future__ import annotations

import datetime as dt
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from erp.db import committed
from erp.jobs.runner import JobEnvironment, run_job
from erp.jobs.services import claim_next, fail_interrupted


@click.group("jobs", cls=AppGroup)
def jobs_group() -> None:
    """Background jobs (imports, closes, recomputes)."""


def _claim_next(session: Session) -> int | None:
    job = claim_next(session)
    return job.id if job is not None else None


@jobs_group.command("work")
@click.option("--once", is_flag=True, help="run the jobs queued now, then stop")
@click.option("--poll", default=1.0, show_default=True, help="seconds between looks at an empty queue")
@click.option("--stale-minutes", default=15, show_default=True,
              help="running jobs silent this long are marked failed at start (their process died)")
def jobs_work(once: bool, poll: float, stale_minutes: int) -> None:
    """Run queued jobs one after another until stopped (start several for parallel jobs)."""
    ext = current_app.extensions["erp"]
    env = JobEnvironment(ext.settings, ext.engine, ext.session_factory)
    failed = committed(env.session_factory, lambda session: fail_interrupted(
        session, stale_after=dt.timedelta(minutes=stale_minutes)))
    if failed:
        click.echo(f"{failed} interrupted job(s) marked failed")
    while True:
        job_id = committed(env.session_factory, _claim_next)
        if job_id is None:
            if once:
                return
            time.sleep(poll)
            continue
        status = run_job(env, job_id, claimed=True)
        click.echo(f"job {job_id}: {status.value}")
