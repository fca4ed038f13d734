"""Serving in production: request ids and access log lines, the health check, and the
database connection budget of a gunicorn deployment (``gunicorn.conf.py``, docs/operations.md).

- Every request gets a request id: the caller's ``X-Request-Id`` when it is a short token of
  safe characters (a proxy's id follows the request through), else a new one. It is sent
  back in ``X-Request-Id`` and carried by every log record written while the request runs
  (``RequestContextFilter``), so one grep finds a request's access line and its errors.
- One access line per request on the ``erp.access`` logger: method, path, status, user,
  duration in milliseconds, remote address. gunicorn's own access log is off: it cannot know
  the user.
- ``GET /health`` (readiness, no token): the database answers and its schema is at the
  migrations' head; 503 problem+json saying which check failed otherwise.
  ``GET /health/live`` (liveness): the process serves requests; never touches the database,
  so a slow database does not get healthy workers restarted.
- ``connection_budget``: workers x (pool size + overflow) must fit in the server's
  ``max_connections`` beside its reserved slots and the connections kept for commands.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import flask
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from erp.clock import business_day_pinned, business_today
from erp.db import connected
from erp.errors import PROBLEM_BASE_URI
from erp.messages import N_

access_log = logging.getLogger("erp.access")

REQUEST_ID_HEADER = "X-Request-Id"
# A proxy's or client's id is kept only when it cannot forge log structure or grow a log line.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    if not has_request_context():
        return None
    return g.get("request_id")


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user`` to every record logged while a request runs (the JSON
    formatter writes them as fields); records outside a request get neither."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            if not hasattr(record, "request_id"):
                record.request_id = g.get("request_id")
            if not hasattr(record, "user"):
                actor = g.get("actor")
                record.user = actor.username if actor is not None else None
        return True


def _start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    # The request and g looked up once: each use of their proxies finds the context again.
    state = g._get_current_object()  # type: ignore[attr-defined]
    req = request._get_current_object()  # type: ignore[attr-defined]
    rid = state.get("request_id")
    if rid is None:  # a hook before ours refused the request
        _start_request()
        rid = state.request_id
    response.headers[REQUEST_ID_HEADER] = rid
    started = state.get("request_started", time.perf_counter())
    actor = state.get("actor")
    method, path, status = req.method, req.path, response.status_code
    access_log.info(
        "%s %s %s", method, path, status,
        extra={
            "request_id": rid,
            "method": method,
            "path": path,
            "status": status,
            "user": actor.username if actor is not None else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "remote_addr": req.remote_addr,
        },
    )
    return response


# --- health -------------------------------------------------------------------------------

health = flask.Blueprint("health", __name__)


def migration_head() -> str:
    """The newest revision the code's migrations define (read once per process)."""
    cached = current_app.extensions.get("erp_migration_head")
    if cached is None:
        from alembic.script import ScriptDirectory

        from erp.migrate import alembic_config

        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        cached = current_app.extensions["erp_migration_head"] = ",".join(sorted(heads))
    return cached  # type: ignore[no-any-return]


def _unavailable(reason: str, checks: dict[str, Any]) -> Response:
    body = {
        "type": PROBLEM_BASE_URI + "service-unavailable",
        "title": N_("The service is not ready"),
        "status": 503,
        "detail": reason,
        "checks": checks,
    }
    response = flask.jsonify(body)
    response.status_code = 503
    response.mimetype = "application/problem+json"
    response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response


@health.get("/health/live")
def live() -> Response:
    """Liveness: the process answers (no database)."""
    response = flask.jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


def _schema_revisions(engine: Engine) -> list[str]:
    """The database's Alembic revisions (on a fresh connection when the pooled one had been
    dropped: the pool does not ping, erp.db.connected)."""
    return connected(engine, lambda connection: list(
        connection.execute(text("SELECT version_num FROM alembic_version")).scalars()))


@health.get("/health")
def ready() -> Response:
    """Readiness: the database answers and its schema is at the migrations' head."""
    engine: Engine = current_app.extensions["erp"].engine
    head = migration_head()
    started = time.perf_counter()
    try:
        current = _schema_revisions(engine)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        logging.getLogger(__name__).warning("health: database unavailable: %s", reason)
        return _unavailable(f"the database does not answer ({reason})",
                            {"database": {"status": "unavailable"}, "migrations": {"head": head}})
    latency = round((time.perf_counter() - started) * 1000, 2)
    database = {"status": "ok", "latency_ms": latency, "dialect": engine.dialect.name}
    at = ",".join(sorted(current))
    if at != head:
        return _unavailable(
            f"the database schema is at revision {at or 'none'}, the code expects {head}: "
            "run `flask --app erp db upgrade`",
            {"database": database, "migrations": {"status": "behind", "head": head, "database": at}})
    response = flask.jsonify({"status": "ok", "checks": {
        "database": database, "migrations": {"status": "ok", "head": head, "database": at},
        "business_day": {"date": business_today().isoformat(),
                         "pinned": business_day_pinned()}}})
    response.headers["Cache-Control"] = "no-store"
    return response


def init_serving(app: Flask) -> None:
    """Request ids and access lines for every request; the health endpoints."""
    # First of all before-request hooks: a refusal by a later hook still has its id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.register_blueprint(health)


# --- the connection budget of a deployment ------------------------------------------------

@dataclass(frozen=True)
class ConnectionBudget:
    """What a deployment may open against what the server allows."""

    workers: int
    pool_size: int
    max_overflow: int
    max_connections: int
    reserved: int

    @property
    def needed(self) -> int:
        return self.workers * (self.pool_size + self.max_overflow)

    @property
    def available(self) -> int:
        return self.max_connections - self.reserved

    def problem(self) -> str | None:
        """Why the deployment does not fit, or None."""
        if self.needed <= self.available:
            return None
        return (f"{self.workers} workers x (pool {self.pool_size} + overflow {self.max_overflow}) = "
                f"{self.needed} connections, but PostgreSQL allows {self.max_connections} of which {self.reserved} "
                f"are kept for superusers and commands: lower ERP_WEB_WORKERS, ERP_DB_POOL_SIZE or "
                f"ERP_DB_MAX_OVERFLOW, or raise max_connections")


def connection_budget(engine: Engine, *, workers: int, pool_size: int, max_overflow: int,
                      kept_for_commands: int) -> ConnectionBudget:
    """Read ``max_connections`` and ``superuser_reserved_connections`` from the server."""
    with engine.connect() as connection:
        max_connections = int(connection.exec_driver_sql("SHOW max_connections").scalar_one())
        superuser = int(connection.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one())
    return ConnectionBudget(workers=workers, pool_size=pool_size, max_overflow=max_overflow,
                            max_connections=max_connections, reserved=superuser + kept_for_commands)
