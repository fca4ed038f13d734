"""The backtest through the API: the CIO and credit controllers read it; the figures are
the service test's (tests/service/test_credit_backtest.py), worked out by hand there."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tests.credit import recompute_through_api
from tests.service.test_credit_backtest import history
from tests.world import ApiClient, World, problem

SF = sessionmaker[Session]


def test_the_cio_reads_the_backtest_summary(api: ApiClient, world: World, session_factory: SF) -> None:
    history(session_factory, world)
    url = "/api/v1/credit/backtest?from=2026-03&to=2026-05"
    problem(api.as_("cio").get(url), 404, "not-found")  # no model stored yet: a read never writes
    recompute_through_api(api, "2026-11-20")  # the credit controller's first recompute stores it
    answer = api.as_("cio").get(url)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert [(m["month_end"], m["limited"], m["withheld"], m["went_bad"], m["overdue_after"], m["covered"])
            for m in body["months"]] == [
        ("2026-03-31", 2, "113000.00", 1, "20000.00", "15000.00"),
        ("2026-04-30", 2, "110000.00", 1, "0.00", "0.00"),
        ("2026-05-31", 2, "118000.00", 1, "0.00", "0.00")]
    assert (body["went_bad"], body["went_bad_limited"], body["overdue_amount"], body["covered"]) == (
        1, 1, "20000.00", "0.00")
    assert [(c["customer_code"], c["month_end"], c["decision"], c["suggested_limit"], c["went_bad_on"])
            for c in body["bad_customers"]] == [("K0001", "2026-05-31", "limited", "5000.00", "2026-08-19")]
    problem(api.as_("sales_a").get(url), 403, "role-not-allowed")
    refused = problem(api.as_("credit").get("/api/v1/credit/backtest?from=2026-13&to=2026-05"), 422,
                      "validation-error")
    assert refused["errors"][0]["pointer"] == "/from"
