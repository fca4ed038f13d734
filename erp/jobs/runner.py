"""Running jobs: the registry of job kinds, the context a job works with, and two runners.

A job kind is a function ``handler(context) -> dict`` registered with ``@job_kind("name")``.
It does its work with its own sessions (``context.session_factory``), reports progress
with ``context.progress(rows_done, rows_total=..., errors=[...])`` and returns the job's
result (JSON-serialisable). Raising a ``DomainError`` fails the job with that reason;
anything else fails it as an internal error (logged).

Runners:

- ``ThreadRunner`` (the default, ``ERP_JOB_RUNNER=thread``): a small thread pool inside the
  web process. Works on a fresh ``make run`` with no other service; right for SQLite and
  for one-process deployments.
- ``flask --app erp jobs work`` (production, ``ERP_JOB_RUNNER=worker``): the web process only
  queues jobs; one or more worker processes claim them from the table (``SKIP LOCKED`` on
  PostgreSQL) and run them. See docs/jobs.md.

Progress is written in its own short transaction (on PostgreSQL), so pollers see it while
the job's own work is still uncommitted. SQLite has one writer at a time, so there the
progress of a job running in this process is kept in memory and read from there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User
from erp.auth.roles import Actor
from erp.config import Settings
from erp.db import committed, connected, utcnow
from erp.messages import N_, Message, message_data
from erp.errors import DomainError
from erp.jobs.errors import JobUserInactive, UnknownJobKind
from erp.jobs.models import Job, JobStatus
from erp.jobs.services import MAX_KEPT_ERRORS, claim_job
from erp.unique import refusal_for

log = logging.getLogger(__name__)

Handler = Callable[["JobContext"], Mapping[str, Any]]
HANDLERS: dict[str, Handler] = {}


def job_kind(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the code that runs jobs of kind ``name``."""

    def register(handler: Handler) -> Handler:
        if name in HANDLERS and HANDLERS[name] is not handler:
            raise ValueError(f"job kind {name!r} registered twice")
        HANDLERS[name] = handler
        return handler

    return register


@dataclass(frozen=True)
class JobEnvironment:
    """What a job needs of the application: settings, engine and session factory."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


@dataclass
class LiveProgress:
    rows_done: int = 0
    rows_total: int | None = None
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


class JobContext:
    """What a running job sees: its id, parameters, the actor who started it, the database,
    and ``progress`` to report how far it got."""

    # Progress is written at most this often (seconds): a poller needs no more, and the
    # writes cost the job nothing noticeable.
    WRITE_INTERVAL = 0.5

    def __init__(self, env: JobEnvironment, job: Job, actor: Actor, live: dict[int, LiveProgress],
                 observers: Mapping[int, Callable[[LiveProgress], None]] | None = None) -> None:
        self.env = env
        self.job_id = job.id
        self.kind = job.kind
        self.params: dict[str, Any] = dict(job.params or {})
        self.company_id = job.company_id
        self.actor = actor
        self._live = live
        self.state = live.setdefault(job.id, LiveProgress(rows_total=job.rows_total))
        self._last_write = 0.0
        self._write_to_table = env.engine.dialect.name != "sqlite"
        # Called with the live progress after every report (the CLI's progress bar).
        self.observer: Callable[[LiveProgress], None] | None = observers.get(job.id) if observers else None

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.env.session_factory

    @property
    def settings(self) -> Settings:
        return self.env.settings

    def progress(self, rows_done: int, *, rows_total: int | None = None,
                 errors: Iterable[Mapping[str, Any]] = (), force: bool = False) -> None:
        """Report ``rows_done`` (and the total once known) and any new errors."""
        state = self.state
        state.rows_done = rows_done
        if rows_total is not None:
            state.rows_total = rows_total
        for error in errors:
            state.error_count += 1
            if len(state.errors) < MAX_KEPT_ERRORS:
                state.errors.append(dict(error))
        if self.observer is not None:
            self.observer(state)
        now = time.monotonic()
        if self._write_to_table and (force or now - self._last_write >= self.WRITE_INTERVAL):
            self._last_write = now
            connected(self.env.engine, lambda connection: connection.execute(
                update(Job).where(Job.id == self.job_id).values(
                    rows_done=state.rows_done, rows_total=state.rows_total, error_count=state.error_count,
                    errors=state.errors, heartbeat_at=utcnow())))


# Why a job failed when it was not a refusal (the exception itself is logged, never shown).
INTERNAL_ERROR = N_("internal error: the job failed unexpectedly; it has been logged")


def _actor_of(session: Session, user_id: int) -> Actor:
    from erp.auth.services import actor_for_user

    user = session.get(User, user_id)
    if user is None or not user.active:
        raise JobUserInactive(Message("the user who started the job is no longer active"))
    return actor_for_user(user)


def run_job(env: JobEnvironment, job_id: int, *, live: dict[int, LiveProgress] | None = None,
            claimed: bool = False, observer: Callable[[LiveProgress], None] | None = None) -> JobStatus:
    """Run one job to its end and record the outcome; returns its final status.

    Claims the job first (unless the caller already did), so a job runs at most once even
    when two runners see it.
    """
    live = live if live is not None else {}

    def claim(session: Session) -> tuple[Job | None, Actor | DomainError]:
        job = session.get(Job, job_id) if claimed else claim_job(session, job_id)
        if job is None:
            return None, JobUserInactive(Message("the job is gone or another runner took it"))
        try:
            return job, _actor_of(session, job.created_by)
        except DomainError as exc:
            return job, exc

    job, actor = committed(env.session_factory, claim)
    if job is None:
        return JobStatus.FAILED
    if isinstance(actor, DomainError):
        # Recorded after the claim has committed: _finish writes on a connection of its own,
        # which would wait for the claim's row lock forever if the claim were still open.
        _finish(env, job_id, JobStatus.FAILED, LiveProgress(), reason=actor.message)
        return JobStatus.FAILED
    context = JobContext(env, job, actor, live, {job_id: observer} if observer else None)
    handler = HANDLERS.get(context.kind)
    status, result, reason = JobStatus.SUCCEEDED, None, None
    try:
        if handler is None:
            raise UnknownJobKind(Message("no handler for jobs of kind {kind}", kind=context.kind))
        result = dict(handler(context))
    except DomainError as exc:
        status, reason = JobStatus.FAILED, exc.message
        result = {"problem": exc.to_problem()}
    except IntegrityError as exc:
        # Another transaction wrote the same unique value first: the rule's refusal (erp.unique).
        refusal = refusal_for(exc)
        if refusal is None:
            log.exception("job %s (%s) failed", job_id, context.kind)
            status, reason = JobStatus.FAILED, Message(INTERNAL_ERROR)
        else:
            status, reason = JobStatus.FAILED, refusal.message
            result = {"problem": refusal.to_problem()}
    except Exception:  # noqa: BLE001 - a job's failure is recorded, never lost with the thread
        log.exception("job %s (%s) failed", job_id, context.kind)
        status, reason = JobStatus.FAILED, Message(INTERNAL_ERROR)
    _finish(env, job_id, status, context.state, result=result, reason=reason)
    live.pop(job_id, None)
    return status


def _finish(env: JobEnvironment, job_id: int, status: JobStatus, state: LiveProgress, *,
            result: dict[str, Any] | None = None, reason: Message | None = None) -> None:
    """Record the job's end: a failure's ``reason`` in English (``message``) and as a message
    (``result.message_data``), which the API and the pages show in the reader's language."""
    message = str(reason) if reason is not None else None
    if reason is not None:
        result = {**(result or {}), "message_data": message_data(reason)}
    connected(env.engine, lambda connection: connection.execute(update(Job).where(Job.id == job_id).values(
        status=status, rows_done=state.rows_done, rows_total=state.rows_total, error_count=state.error_count,
        errors=state.errors, result=result, message=message[:1000] if message else None,
        finished_at=utcnow(), heartbeat_at=utcnow())))


class ThreadRunner:
    """Runs jobs on a small thread pool inside this process (the zero-setup runner)."""

    def __init__(self, env: JobEnvironment, *, threads: int = 2) -> None:
        self.env = env
        self.live: dict[int, LiveProgress] = {}
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="erp-job")
        self._futures: dict[int, Future[JobStatus]] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        """Start a queued (and committed) job in the background."""
        with self._lock:
            self._futures[job_id] = self._executor.submit(run_job, self.env, job_id, live=self.live)

    def wait(self, job_id: int, timeout: float | None = None) -> JobStatus | None:
        """Block until a job submitted here has finished (tests, the CLI)."""
        future = self._futures.get(job_id)
        return future.result(timeout) if future is not None else None

    def live_progress(self, job_id: int) -> LiveProgress | None:
        """Progress of a job running in this process, fresher than the table on SQLite."""
        return self.live.get(job_id)


class QueueOnlyRunner:
    """Leaves jobs queued for ``flask --app erp jobs work`` processes (production)."""

    def __init__(self, env: JobEnvironment) -> None:
        self.env = env

    def submit(self, job_id: int) -> None:
        return None

    def wait(self, job_id: int, timeout: float | None = None) -> JobStatus | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            with self.env.session_factory() as session:
                status = session.scalar(select(Job.status).where(Job.id == job_id))
            if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return status
            time.sleep(0.2)
        return None

    def live_progress(self, job_id: int) -> LiveProgress | None:
        return None


def make_runner(env: JobEnvironment) -> ThreadRunner | QueueOnlyRunner:
    """The runner the settings ask for (``job_runner``: thread or worker)."""
    if env.settings.job_runner == "worker":
        return QueueOnlyRunner(env)
    return ThreadRunner(env, threads=env.settings.job_threads)
