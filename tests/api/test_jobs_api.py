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


@job_kind("test.api-crash")
def _crash(context: JobContext) -> dict[str, Any]:
    raise RuntimeError("boom")


def test_why_a_job_failed_reads_in_the_language_asked_for(app: Flask, api: ApiClient, world: World,
                                                          session_factory: sessionmaker[Session]) -> None:
    """A refusal (no handler for the kind) and an unexpected failure: ``message`` in Chinese
    for a reader who asks for it, English otherwise; the exception itself is never shown."""
    with session_factory() as session, session.begin():
        refused = create_job(session, world.actors["steward"], kind="test.nobody-handles-this", params={}).id
        crashed = create_job(session, world.actors["steward"], kind="test.api-crash", params={}).id
    runner = app.extensions["erp_jobs"]
    for job_id in (refused, crashed):
        runner.submit(job_id)
        runner.wait(job_id, timeout=30)
    steward = api.as_("steward")

    def message(job_id: int, language: str) -> str:
        body = steward.get(f"/api/v1/jobs/{job_id}", headers={"Accept-Language": language}).get_json()
        assert body["status"] == "failed"
        return str(body["message"])

    assert message(refused, "zh-CN") == "没有处理“test.nobody-handles-this”类作业的程序"
    assert message(refused, "en") == "no handler for jobs of kind test.nobody-handles-this"
    assert message(crashed, "zh-CN") == "内部错误：作业意外失败，已记录日志"
    assert message(crashed, "en") == "internal error: the job failed unexpectedly; it has been logged"
    listed = steward.get("/api/v1/jobs?status=failed", headers={"Accept-Language": "zh-CN"}).get_json()
    assert {j["id"]: j["message"] for j in listed} == {refused: "没有处理“test.nobody-handles-this”类作业的程序",
                                                       crashed: "内部错误：作业意外失败，已记录日志"}
