"""gunicorn settings for serving Heyi in production (`make serve`; docs/operations.md).

    .venv/bin/gunicorn -c gunicorn.conf.py          # the app is erp:create_app()

Sized from the machine unless the environment says otherwise:

- ``ERP_WEB_WORKERS`` processes (default one per CPU core): the GIL runs one thread of
  Python at a time per process, so CPU-bound work scales with processes up to the cores;
  the threads of a worker keep its core busy while some of them wait on PostgreSQL. Two
  per core (the default until issue #18's measurements) ran twice as many processes as
  cores beside PostgreSQL's own: receipts over HTTP with 16 clients then took more CPU
  per receipt and posted fewer a second (docs/performance.md, "Receipts over HTTP").
- ``ERP_WEB_THREADS`` threads per worker (default 4, gthread workers): requests spend much
  of their time waiting on the database; threads overlap those waits at little memory.
- ``ERP_DB_POOL_SIZE`` connections per worker (default: one per thread, since a thread holds
  at most one session at a time) and ``ERP_DB_MAX_OVERFLOW`` beyond them (default: two per
  job thread when jobs run in the web process, ``ERP_JOB_RUNNER=thread``; a job writes its
  progress on a second connection; else 1).
- ``ERP_DB_POOL_PRE_PING`` (default 0): no round trip to test each pooled connection before
  a request uses it. After a database restart or failover, a dropped connection is found at
  the request's first statement, before anything was sent, and the request's transaction
  runs again on a fresh connection (erp.db.lost_before_use); 1 pings as well.
- Before the first worker starts, workers x (pool + overflow) is checked against the
  server's ``max_connections`` less its superuser slots and ``ERP_DB_RESERVED_CONNECTIONS``
  (default 10) kept for commands, job workers and psql: a deployment that could run out of
  connections at its peak does not start.

Shutdown: SIGTERM (or SIGINT) stops accepting connections and lets in-flight requests
finish for up to ``ERP_GRACEFUL_TIMEOUT`` seconds (default 30); a posting still running
then is killed and its transaction rolled back by PostgreSQL, so nothing is half-posted.
Logs: one JSON object per line on stderr, the app's access lines with request id, user,
status and duration included (erp/serving.py).
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from erp.config import ConfigurationError, load_settings


def _whole(name: str, default: int, *, least: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise ConfigurationError(f"{name}={raw!r} is not allowed: a whole number, at least {least}")
    return int(raw)


cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
job_runner = os.environ.get("ERP_JOB_RUNNER", "thread")
job_threads = _whole("ERP_JOB_THREADS", 2)

wsgi_app = "erp:create_app()"
bind = os.environ.get("ERP_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = _whole("ERP_WEB_WORKERS", cores)
threads = _whole("ERP_WEB_THREADS", 4)
# The app reads these when each worker builds its engine.
os.environ.setdefault("ERP_DB_POOL_SIZE", str(threads))
os.environ.setdefault("ERP_DB_MAX_OVERFLOW", str(2 * job_threads if job_runner == "thread" else 1))
reserved_connections = _whole("ERP_DB_RESERVED_CONNECTIONS", 10, least=0)
graceful_timeout = _whole("ERP_GRACEFUL_TIMEOUT", 30)
# A worker silent for this long is killed and replaced (month-end work runs as jobs or CLI).
timeout = 120
keepalive = 5
# Heartbeat files on a memory file system: a slow disk cannot make workers look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "heyi"
# gunicorn's runtime control socket is not used; left on, two servers on one host would
# contend for the same default path.
control_socket_disable = True
accesslog = None  # the app writes its own access lines, with the user (erp.access)


class AppAccessLinesOnly(Logger):
    """gunicorn's logger without gunicorn's access lines. With a ``logconfig_dict`` (ours, for
    the JSON lines) gunicorn counts its access log as on: after every request it builds the
    line's twenty fields (a timestamp formatted among them) and hands them to
    ``gunicorn.access``, which has no handler and drops them: about 1 % of a worker's time
    under issue #18's receipts benchmark."""

    def access(self, resp, req, environ, request_time) -> None:  # noqa: ANN001 - gunicorn's types
        return None


logger_class = AppAccessLinesOnly
loglevel = os.environ.get("ERP_LOG_LEVEL", "info").lower()

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "erp.serving.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
            "timestamp": True,
        },
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request"],
                   "stream": "ext://sys.stderr"},
    },
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        "alembic": {"level": "WARNING"},  # its plugin set-up lines, once per worker
    },
}


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's Arbiter
    """Refuse to start with settings that cannot work or connections PostgreSQL cannot give."""
    from erp.config import ensure_database
    from erp.db import make_engine
    from erp.serving import connection_budget

    settings = load_settings()
    if settings.business_date is not None and os.environ.get("ERP_TRAINING_COPY") != "1":
        raise ConfigurationError(
            f"ERP_BUSINESS_DATE={settings.business_date.isoformat()!r} pins the business day: production serving "
            "dates every posting by the real day in Asia/Shanghai; unset it, or set ERP_TRAINING_COPY=1 to serve "
            "a training copy")
    if not settings.database_url.startswith("postgresql"):
        server.log.warning("serving %s: production runs on PostgreSQL (ERP_DATABASE_URL)", settings.database_url)
        return
    ensure_database(settings.database_url)
    probe = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        budget = connection_budget(probe, workers=workers, pool_size=settings.db_pool_size,
                                   max_overflow=settings.db_max_overflow, kept_for_commands=reserved_connections)
    finally:
        probe.dispose()
    problem = budget.problem()
    if problem:
        raise ConfigurationError(problem)
    server.log.info("serving on %s: %d workers x %d threads, %d connections each at most (%d of %d)",
                    bind, workers, threads, settings.db_pool_size + settings.db_max_overflow, budget.needed,
                    budget.available)
