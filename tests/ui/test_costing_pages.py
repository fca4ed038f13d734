"""The cost accountant's pages show the API's figures: the preview of an open period, the
close as a job (over the API and from the page), the allocation report and the trial
balance, compared with the API's answers for the same request.

Company A (tests/api/test_costing_api.py's November): 100 kg received at 10.50 against a
standard of 10.00 (variance 50.00), 40 kg issued to production (400.00 at standard).
rate = 50.00 / 1,000.00 = 5 %; production bears 20.00, the 60 kg left carry 30.00.
"""

from __future__ import annotations

import re
from decimal import Decimal as D
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.jobs.models import Job

from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.world import ApiClient, World, problem


def sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def figure(page: str, testid: str) -> D:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>\s*([^<]+)<', page)
    assert found, testid
    return D(found.group(1).replace("¥", "").replace(",", "").strip())


def wait(api: ApiClient, job: dict[str, Any], user: str) -> dict[str, Any]:
    api.client.application.extensions["erp_jobs"].wait(job["id"], timeout=120)
    return api.as_(user).get(job["status_url"]).get_json()  # type: ignore[no-any-return]


def test_the_preview_page_shows_what_the_close_then_posts(
    client: FlaskClient, api: ApiClient, world: World, november: None  # noqa: F811
) -> None:
    sign_in(client, world, "cost_a")
    preview = client.get("/costing/periods/CA/2026-11")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert 'data-testid="preview-note"' in page
    assert (figure(page, "preview-allocated"), figure(page, "preview-remaining")) == (D("20.00"), D("30.00"))
    assert "5.0000%" in page  # the variance rate
    queued = api.as_("cost_a").post("/api/v1/costing/close-jobs",
                                    json={"period": "2026-11", "company_ids": [world.companies["A"]]})
    assert queued.status_code == 202, queued.get_json()
    assert queued.headers["Location"] == queued.get_json()["status_url"]
    done = wait(api, queued.get_json(), "cost_a")
    assert done["status"] == "succeeded", done
    assert (done["rows_done"], done["rows_total"]) == (5, 5)
    (result,) = done["result"]["companies"]
    assert (result["company_code"], result["variance_allocated"], result["variance_remaining"]) == \
        ("CA", "20.00", "30.00")
    report = client.get("/costing/periods/CA/2026-11").get_data(as_text=True)
    api_report = api.as_("cost_a").get("/api/v1/costing/variance-allocation", query_string={
        "company_id": world.companies["A"], "period": "2026-11"}).get_json()
    assert figure(report, "report-allocated") == sum(D(m["consumption_variance"]) for m in api_report["materials"])
    assert figure(report, "report-remaining") == sum(D(m["closing_variance"]) for m in api_report["materials"])
    api_balance = api.as_("cost_a").get("/api/v1/costing/trial-balance", query_string={
        "company_id": world.companies["A"], "period": "2026-11"}).get_json()
    # Dr 1403 600.00, 1404 30.00, 5001 420.00 = 1,050.00 = Cr 2202.01 1,050.00
    assert figure(report, "total-debit") == figure(report, "total-credit") == D(api_balance["total_debit"]) \
        == D("1050.00")


def test_the_group_close_from_the_board_runs_as_a_job_and_the_trial_balance_page_equals_the_api(
    client: FlaskClient, api: ApiClient, world: World, november: None  # noqa: F811
) -> None:
    sign_in(client, world, "cost_group")
    board = client.get("/costing/periods").get_data(as_text=True)
    assert 'data-testid="group-close-2026-11"' in board
    token = re.search(r'name="csrf_token" value="([^"]+)"', board).group(1)  # type: ignore[union-attr]
    queued = client.post("/costing/close", data={"period": "2026-11", "csrf_token": token, "confirmed": "1"})
    assert queued.status_code == 302
    job_id = int(queued.headers["Location"].rsplit("/", 1)[1])
    client.application.extensions["erp_jobs"].wait(job_id, timeout=120)
    progress = client.get(f"/costing/jobs/{job_id}/progress").get_data(as_text=True)
    assert 'data-status="succeeded"' in progress and "hx-trigger" not in progress
    # CC never posted: on the board (today 2026-12-15) its first month to close is December,
    # so the board's group close of November is A's and B's.
    for code in ("CA", "CB"):
        assert f'data-company="{code}"' in progress
    page = client.get("/costing/trial-balance?period=2026-11").get_data(as_text=True)
    api_balance = api.as_("cost_group").get("/api/v1/costing/trial-balance",
                                            query_string={"period": "2026-11"}).get_json()
    # A as above, B: Dr 1403 500.00, Cr 1404 50.00, Cr 2202.01 450.00; the group nets each
    # account: Dr 1403 1,100.00 + 5001 420.00 = 1,520.00 = Cr 1404 20.00 + 2202.01 1,500.00
    assert figure(page, "total-debit") == D(api_balance["total_debit"]) == D("1520.00")
    assert figure(page, "total-credit") == D(api_balance["total_credit"]) == D("1520.00")
    # Closed: nothing more to close for 2026-11; December is next for all three.
    board = client.get("/costing/periods").get_data(as_text=True)
    assert 'data-testid="group-close-2026-11"' not in board


def test_a_close_job_the_calendar_refuses_fails_and_its_page_gives_the_reason(
    client: FlaskClient, api: ApiClient, world: World, november: None  # noqa: F811
) -> None:
    queued = api.as_("cost_a").post("/api/v1/costing/close-jobs", json={
        "period": "2026-12", "company_ids": [world.companies["A"]]})
    assert queued.status_code == 202
    done = wait(api, queued.get_json(), "cost_a")
    assert done["status"] == "failed"
    assert done["result"]["problem"]["status"] == 409
    sign_in(client, world, "cost_a")
    page = client.get(f"/costing/jobs/{done['id']}").get_data(as_text=True)
    assert 'data-status="failed"' in page and "没有任何公司结账" in page  # "nothing was closed"
    detail = re.search(r'data-testid="refusal-detail">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert "2026-12" in detail, detail
    problem(api.as_("clerk_a").post("/api/v1/costing/close-jobs", json={"period": "2026-11"}), 403)


def test_a_close_job_that_failed_before_reasons_moved_still_shows_its_reason(
    client: FlaskClient, api: ApiClient, world: World, november: None,  # noqa: F811
    session_factory: sessionmaker[Session],
) -> None:
    """Jobs that failed before 86fb6ee kept why under result.problem.message_data (not
    result.message_data): their page still gives the reason."""
    queued = api.as_("cost_a").post("/api/v1/costing/close-jobs", json={
        "period": "2026-12", "company_ids": [world.companies["A"]]})
    done = wait(api, queued.get_json(), "cost_a")
    assert done["status"] == "failed"
    with session_factory() as session, session.begin():
        job = session.get(Job, done["id"])
        assert job is not None and job.result is not None
        kept = job.result["message_data"]
        job.result = {"problem": {**job.result["problem"], "message_data": kept}}  # the old shape
    sign_in(client, world, "cost_a")
    page = client.get(f"/costing/jobs/{done['id']}").get_data(as_text=True)
    detail = re.search(r'data-testid="refusal-detail">([^<]+)<', page)
    assert detail is not None and "2026-12" in detail.group(1), page
    # In the reader's language (the page is Chinese), not the English text the job kept as message.
    assert detail.group(1).strip() != done["message"].strip()
    assert re.search(r"[\u4e00-\u9fff]", detail.group(1)), detail.group(1)
