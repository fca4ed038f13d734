"""Background jobs: a job runs once, reports progress while it runs, and records how it ended."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from erp.config import Settings
from erp.errors import DomainError
from erp.jobs.models import Job, JobStatus
from erp.jobs.runner import HANDLERS, JobContext, JobEnvironment, ThreadRunner, job_kind, run_job
from erp.jobs.services import claim_next, create_job, fail_interrupted, get_job
from erp.errors import NotFound
from tests.world import World


@pytest.fixture
def env(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> JobEnvironment:
    return JobEnvironment(settings, engine, session_factory)


@job_kind("test.count")
def _count(context: JobContext) -> dict[str, Any]:
    total = int(context.params["rows"])
    for done in range(1, total + 1):
        errors = [{"row": done, "reason": "odd"}] if done % 2 else []
        context.progress(done, rows_total=total, errors=errors)
    return {"counted": total}


@job_kind("test.refuse")
def _refuse(context: JobContext) -> dict[str, Any]:
    context.progress(3, rows_total=10)
    raise DomainError("the file is empty", slug="empty-file")


@job_kind("test.crash")
def _crash(context: JobContext) -> dict[str, Any]:
    raise RuntimeError("boom")


def _queue(session_factory: sessionmaker[Session], world: World, kind: str, **params: Any) -> int:
    with session_factory() as session, session.begin():
        return create_job(session, world.actors["steward"], kind=kind, params=params).id


def _job(session_factory: sessionmaker[Session], job_id: int) -> Job:
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_a_job_records_its_progress_errors_and_result(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.count", rows=5)
    assert run_job(env, job_id) == JobStatus.SUCCEEDED
    job = _job(env.session_factory, job_id)
    assert (job.status, job.rows_done, job.rows_total, job.error_count) == (JobStatus.SUCCEEDED, 5, 5, 3)
    assert [e["row"] for e in job.errors] == [1, 3, 5]
    assert job.result == {"counted": 5}
    assert job.started_at is not None and job.finished_at is not None


def test_a_job_runs_once_even_when_two_runners_see_it(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.count", rows=1)
    assert run_job(env, job_id) == JobStatus.SUCCEEDED
    # The second runner finds it no longer queued and leaves it alone.
    assert run_job(env, job_id) == JobStatus.FAILED
    assert _job(env.session_factory, job_id).status == JobStatus.SUCCEEDED


def test_a_refused_job_fails_with_the_rule_and_keeps_its_progress(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.refuse")
    assert run_job(env, job_id) == JobStatus.FAILED
    job = _job(env.session_factory, job_id)
    assert job.message == "the file is empty"
    assert job.result is not None and job.result["problem"]["type"].endswith("/empty-file")
    assert (job.rows_done, job.rows_total) == (3, 10)


def test_a_crashing_job_fails_without_leaking_the_exception(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.crash")
    assert run_job(env, job_id) == JobStatus.FAILED
    message = _job(env.session_factory, job_id).message
    assert message is not None and "internal error" in message and "boom" not in message


def test_a_job_of_an_unknown_kind_fails(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.nobody-handles-this")
    assert "test.nobody-handles-this" not in HANDLERS
    assert run_job(env, job_id) == JobStatus.FAILED


def test_the_thread_runner_runs_jobs_in_the_background(env: JobEnvironment, world: World) -> None:
    runner = ThreadRunner(env, threads=1)
    job_id = _queue(env.session_factory, world, "test.count", rows=3)
    runner.submit(job_id)
    assert runner.wait(job_id, timeout=30) == JobStatus.SUCCEEDED
    assert _job(env.session_factory, job_id).result == {"counted": 3}


def test_the_worker_claims_the_oldest_queued_job_first(env: JobEnvironment, world: World) -> None:
    first = _queue(env.session_factory, world, "test.count", rows=1)
    second = _queue(env.session_factory, world, "test.count", rows=1)
    with env.session_factory() as session, session.begin():
        claimed = claim_next(session)
        assert claimed is not None and claimed.id == first and claimed.status == JobStatus.RUNNING
    with env.session_factory() as session, session.begin():
        claimed = claim_next(session)
        assert claimed is not None and claimed.id == second
    with env.session_factory() as session, session.begin():
        assert claim_next(session) is None


def test_jobs_silent_too_long_are_failed_as_interrupted(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.count", rows=1)
    with env.session_factory() as session, session.begin():
        assert claim_next(session) is not None
        session.get(Job, job_id).heartbeat_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)  # type: ignore[union-attr]
    with env.session_factory() as session, session.begin():
        assert fail_interrupted(session, stale_after=dt.timedelta(minutes=15)) == 1
    job = _job(env.session_factory, job_id)
    assert job.status == JobStatus.FAILED and job.message is not None and "interrupted" in job.message


def test_only_the_starter_and_admins_see_a_job(env: JobEnvironment, world: World) -> None:
    job_id = _queue(env.session_factory, world, "test.count", rows=1)
    with env.session_factory() as session, session.begin():
        assert get_job(session, world.actors["steward"], job_id).id == job_id
        assert get_job(session, world.actors["admin"], job_id).id == job_id
        with pytest.raises(NotFound):
            get_job(session, world.actors["cost_a"], job_id)


@pytest.mark.postgres
def test_progress_is_visible_to_pollers_while_the_job_runs(env: JobEnvironment, world: World) -> None:
    """On PostgreSQL progress is committed on its own, while the job's work is not yet."""
    reached, release = threading.Event(), threading.Event()

    @job_kind("test.pause")
    def _pause(context: JobContext) -> dict[str, Any]:
        context.progress(7, rows_total=20, errors=[{"row": 2}], force=True)
        reached.set()
        release.wait(30)
        return {}

    job_id = _queue(env.session_factory, world, "test.pause")
    runner = ThreadRunner(env, threads=1)
    runner.submit(job_id)
    try:
        assert reached.wait(30)
        job = _job(env.session_factory, job_id)
        assert (job.status, job.rows_done, job.rows_total, job.error_count) == (JobStatus.RUNNING, 7, 20, 1)
    finally:
        release.set()
    assert runner.wait(job_id, timeout=30) == JobStatus.SUCCEEDED
