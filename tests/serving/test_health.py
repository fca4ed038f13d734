"""The health check, request ids and access lines, and the connection budget (in process)."""

from __future__ import annotations

import logging

import pytest
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient

from erp import create_app
from erp.clock import business_today
from erp.config import Settings
from erp.db import make_engine
from erp.migrate import alembic_config
from erp.serving import ConnectionBudget
from tests.world import ApiClient, problem


def code_head() -> str:
    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
    return head


def test_health_needs_no_token_and_reports_the_database_at_the_migrations_head(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["migrations"] == {"status": "ok", "head": code_head(), "database": code_head()}
    assert body["checks"]["database"]["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_health_says_when_the_business_day_is_pinned(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite pins the clock (tests/conftest.py), as a training copy would with ERP_BUSINESS_DATE.
    pinned = client.get("/health").get_json()["checks"]["business_day"]
    assert pinned == {"date": business_today().isoformat(), "pinned": True}
    monkeypatch.setattr("erp.clock._pinned", None)
    monkeypatch.delenv("ERP_BUSINESS_DATE", raising=False)
    real = client.get("/health").get_json()["checks"]["business_day"]
    assert real["pinned"] is False


def test_liveness_does_not_touch_the_database(settings: Settings) -> None:
    # An engine pointing at a port nothing listens on: liveness still answers, readiness does not.
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere", pool_pre_ping=False)
    app = create_app(settings, engine=unreachable)
    client = app.test_client()
    assert client.get("/health/live").get_json() == {"status": "ok"}
    body = problem(client.get("/health"), 503, "service-unavailable")
    assert "the database does not answer" in body["detail"]
    assert body["checks"]["database"] == {"status": "unavailable"}
    unreachable.dispose()


def test_a_database_behind_the_code_is_not_ready(app, client: FlaskClient) -> None:  # noqa: ANN001
    # As after deploying new code before `flask db upgrade`: the code expects a newer head.
    app.extensions["erp_migration_head"] = "0099_not_yet_applied"
    body = problem(client.get("/health"), 503, "service-unavailable")
    assert body["checks"]["migrations"] == {"status": "behind", "head": "0099_not_yet_applied",
                                            "database": code_head()}
    assert "flask --app erp db upgrade" in body["detail"]


def test_every_response_carries_a_request_id_and_a_safe_one_is_kept(client: FlaskClient) -> None:
    first, second = client.get("/health/live"), client.get("/health/live")
    assert len(first.headers["X-Request-Id"]) == 32
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    kept = client.get("/health/live", headers={"X-Request-Id": "lb-7f3a.42"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a.42"
    # A forged id (a line break to fake a log line, or overlong) is replaced, not echoed.
    for forged in ("x\r\nlevel: ERROR", "a" * 65):
        replaced = client.get("/health/live", headers={"X-Request-Id": forged.replace("\r\n", " ")})
        assert replaced.headers["X-Request-Id"] != forged and len(replaced.headers["X-Request-Id"]) == 32


def test_the_access_line_names_request_user_status_and_duration(api: ApiClient,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    # A logging set-up run earlier in the same process (dictConfig/fileConfig with
    # disable_existing_loggers) may have disabled loggers created before it; the server's own
    # set-up keeps them (gunicorn.conf.py, tested in test_gunicorn.py).
    logging.getLogger("erp.access").disabled = False
    with caplog.at_level(logging.INFO, logger="erp.access"):
        response = api.as_("steward").get("/api/v1/materials", headers={"X-Request-Id": "req-1"})
        refused = api.as_("cio").post("/api/v1/segments", json={"code": "S9", "name_zh": "九", "name_en": "Nine"},
                                      headers={"X-Request-Id": "req-2"})
    assert response.status_code == 200 and refused.status_code == 403
    lines = {record.request_id: record for record in caplog.records if record.name == "erp.access"}
    read, write = lines["req-1"], lines["req-2"]
    assert (read.method, read.path, read.status, read.user) == ("GET", "/api/v1/materials", 200, "steward")
    assert (write.method, write.status, write.user) == ("POST", 403, "cio")
    assert read.duration_ms > 0


def test_a_deployment_that_fits_in_max_connections_starts() -> None:
    # 8 workers x (4 + 4) = 64 connections; 100 allowed less 3 for superusers and 10 kept = 87.
    budget = ConnectionBudget(workers=8, pool_size=4, max_overflow=4, max_connections=100, reserved=13)
    assert (budget.needed, budget.available, budget.problem()) == (64, 87, None)


def test_a_deployment_that_could_exhaust_connections_is_refused() -> None:
    # 12 x (4 + 4) = 96 > 87.
    budget = ConnectionBudget(workers=12, pool_size=4, max_overflow=4, max_connections=100, reserved=13)
    problem_text = budget.problem()
    assert problem_text is not None
    assert "12 workers x (pool 4 + overflow 4) = 96 connections" in problem_text
    assert "PostgreSQL allows 100 of which 13" in problem_text
