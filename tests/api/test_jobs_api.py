"""Jobs over HTTP: the status endpoint a page or a script polls."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from erp.jobs.runner import JobContext, job_kind
from erp.jobs.services import create_job
from tests.world import ApiClient, World, problem


@job_kind("test.api-count")
def _count(context: JobContext) -> dict[str, Any]:
    context.progress(2, rows_total=2, errors=[{"row": 1, "reason": "bad"}])
    return {"ok": True}


def test_the_status_endpoint_shows_progress_and_result(app: Flask, api: ApiClient, world: World,
                                                       session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        job_id = create_job(session, world.actors["steward"], kind="test.api-count", params={}).id
    runner = app.extensions["erp_jobs"]
    runner.submit(job_id)
    runner.wait(job_id, timeout=30)
    body = api.as_("steward").get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["status"] == "succeeded"
    assert (body["rows_done"], body["rows_total"], body["error_count"]) == (2, 2, 1)
    assert body["errors"] == [{"row": 1, "reason": "bad"}]
    assert body["result"] == {"ok": True}
    assert body["status_url"] == f"/api/v1/jobs/{job_id}"
    listed = api.as_("steward").get("/api/v1/jobs?kind=test.api-count").get_json()
    assert [j["id"] for j in listed] == [job_id]


def test_other_users_jobs_are_not_found(api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        job_id = create_job(session, world.actors["steward"], kind="test.api-count", params={}).id
    problem(api.as_("cost_a").get(f"/api/v1/jobs/{job_id}"), 404, "not-found")
    assert api.as_("cost_a").get("/api/v1/jobs").get_json() == []
    assert api.as_("admin").get(f"/api/v1/jobs/{job_id}").status_code == 200
