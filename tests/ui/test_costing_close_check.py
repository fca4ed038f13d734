"""Before a close posts anything, the pages show what it will post and ask for a
confirmation: per company the variance to spread, the variance rate beside the previous
closed month's, what goes to consumption and what stays with the stock, with a rate beyond
the setting's range or jumping from last month's flagged. Reopening asks the same way.

Figures by hand. November (tests/api/test_costing_api.py): A received 100 kg at 10.50
against a standard of 10.00 (variance 50.00 over 1,000.00 at standard: rate 5 %) and issued
40 kg (400.00 at standard, bearing 20.00; the 60 kg left keep 30.00); B received 50 kg at
9.00 (variance -50.00 over 500.00: rate -10 %, exactly the default limit, which is not
beyond it) and consumed nothing (all -50.00 stays).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.config import Settings
from erp.costing.board import RateWatch
from erp.costing.close import close_period, period_state
from erp.inventory import services
from erp.jobs.models import Job
from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.stock import open_order, receive, set_standard
from tests.ui.test_costing_pages import figure, sign_in
from tests.world import ApiClient, World


def token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def jobs(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def text_of(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</td>', page, re.S)
    assert found, testid
    return re.sub(r"<[^>]+>", "", found.group(1)).split()[0]


def test_the_group_close_shows_each_company_and_posts_nothing_until_confirmed(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], november: None  # noqa: F811
) -> None:
    sign_in(client, world, "cost_group")
    csrf = token(client, "/costing/periods")
    checked = client.post("/costing/close", data={"period": "2026-11", "csrf_token": csrf})
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert 'data-testid="close-checks"' in page and 'data-testid="confirm-close-yes"' in page
    assert (figure(page, "spread-CA"), figure(page, "consumption-CA"), figure(page, "stock-CA")) == \
        (D("50.00"), D("20.00"), D("30.00"))
    assert (figure(page, "spread-CB"), figure(page, "consumption-CB"), figure(page, "stock-CB")) == \
        (D("-50.00"), D("0.00"), D("-50.00"))
    assert (text_of(page, "rate-CA"), text_of(page, "rate-CB")) == ("5.00%", "-10.00%")
    # Totals: 50.00 - 50.00 = 0.00 to spread over 1,000.00 + 500.00; 20.00 to consumption; 30.00 - 50.00 kept.
    assert (figure(page, "total-spread"), figure(page, "total-base"), figure(page, "total-consumption"),
            figure(page, "total-stock")) == (D("0.00"), D("1500.00"), D("20.00"), D("-20.00"))
    assert 'data-testid="rate-warning"' not in page  # 5 % and -10 % are within ±10 %
    # Nothing was posted: no job, both periods still open.
    assert jobs(session_factory) == 0
    with session_factory() as session:
        for company in ("A", "B"):
            state = period_state(session, world.actors["cost_group"], company_id=world.companies[company],
                                 period="2026-11")
            assert state.status.value == "open"
    confirmed = client.post("/costing/close", data={"period": "2026-11", "csrf_token": csrf, "confirmed": "1"})
    assert confirmed.status_code == 302 and "/costing/jobs/" in confirmed.headers["Location"]
    assert jobs(session_factory) == 1
    client.application.extensions["erp_jobs"].wait(int(confirmed.headers["Location"].rsplit("/", 1)[1]), timeout=120)


@pytest.fixture
def jump(session_factory: sessionmaker[Session], world: World) -> None:
    """Company A, standard 10.00 from October. October: 100 kg received at 9.73 (variance
    -27.00 over 1,000.00: rate -2.70 %), all issued; closed. November: 100 kg at 12.16
    (variance 216.00 over 1,000.00: rate 21.60 %, 24.30 points up), 40 kg issued (400.00 at
    standard bearing 86.40; the 60 kg left keep 129.60)."""
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-10")
    (october,) = open_order(session_factory, world, [("exc_local", "100", "9.73", "A-AMB")])
    (november_line,) = open_order(session_factory, world, [("exc_local", "100", "12.16", "A-AMB")])
    receive(session_factory, world, october, "100", on=dt.date(2026, 10, 20), batch="B-OCT")
    receive(session_factory, world, november_line, "100", on=dt.date(2026, 11, 20), batch="B-NOV")
    for day, quantity in ((dt.date(2026, 10, 25), "100"), (dt.date(2026, 11, 25), "40")):
        with session_factory() as session, session.begin():
            services.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                                 material_id=world.materials["exc_local"], quantity=D(quantity), posting_date=day,
                                 destination=services.IssueDestination.PRODUCTION)
        if day.month == 10:
            with session_factory() as session, session.begin():
                close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-10")


def test_a_variance_rate_that_jumps_is_flagged_before_the_close_and_may_still_be_confirmed(
    client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session], jump: None
) -> None:
    sign_in(client, world, "cost_a")
    preview = client.get("/costing/periods/CA/2026-11").get_data(as_text=True)
    assert 'data-testid="rate-warning"' in preview  # already on the preview, before any click
    csrf = token(client, "/costing/periods/CA/2026-11")
    checked = client.post("/costing/periods/CA/2026-11/close", data={"csrf_token": csrf})
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert 'data-testid="confirm-close"' in page
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[page.index('data-testid="confirm-close-facts"'):]))
    assert "¥216.00" in facts and "¥1,000.00" in facts and "¥86.40" in facts and "¥129.60" in facts
    assert "21.60%" in facts and "2026-10" in facts and "-2.70%" in facts and "+24.30" in facts
    warning = page[page.index('data-testid="rate-warning"'):]
    warning = warning[:warning.index("</div></div>")]
    assert "21.60%" in warning and "±10.00%" in warning  # beyond the limit
    assert "+24.30" in warning and "-2.70%" in warning  # and a jump from October's
    assert jobs(session_factory) == 0
    confirmed = client.post("/costing/periods/CA/2026-11/close", data={"csrf_token": csrf, "confirmed": "1"})
    assert confirmed.status_code == 302
    job_id = int(confirmed.headers["Location"].rsplit("/", 1)[1])
    client.application.extensions["erp_jobs"].wait(job_id, timeout=120)
    closed = api.as_("cost_a").get(f"/api/v1/costing/periods/{world.companies['A']}/2026-11").get_json()
    assert (closed["status"], closed["variance_allocated"], closed["variance_remaining"]) == \
        ("closed", "86.40", "129.60")


def test_the_rate_thresholds_are_settings() -> None:
    rate, before = D("0.216"), D("-0.027")
    default = RateWatch.from_settings(Settings(database_url="sqlite://"))
    assert default.flags(rate, before) == ("limit", "move")
    assert default.flags(D("-0.10"), D("-0.06")) == ()  # at the limit, 4 points: within both
    wide = RateWatch.from_settings(Settings(database_url="sqlite://", close_rate_limit_percent=D("25"),
                                            close_rate_move_points=D("30")))
    assert wide.flags(rate, before) == ()


def test_reopening_shows_what_it_reverses_before_it_does(
    client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session],
    november: None,  # noqa: F811
) -> None:
    assert api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close").status_code == 200
    sign_in(client, world, "cost_group")
    url = "/costing/periods/CA/2026-11"
    csrf = token(client, url)
    blank = client.post(f"{url}/reopen", data={"csrf_token": csrf, "reason": "  "})
    assert blank.status_code == 422 and 'data-testid="confirm-reopen"' not in blank.get_data(as_text=True)
    checked = client.post(f"{url}/reopen", data={"csrf_token": csrf, "reason": "late invoice"})
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert 'data-testid="confirm-reopen"' in page and "late invoice" in page
    # The close posted Dr 5001 20.00, Cr 1404 20.00; reopening reverses it: Dr 1404, Cr 5001.
    journal = page[page.index('data-testid="confirm-reopen-journal"'):page.index("</table>", page.index(
        'data-testid="confirm-reopen-journal"'))]
    rows = re.findall(r"<tr><td><span class=\"code\">(\d+)</span>.*?</td>\s*<td class=\"num\">([^<]*)</td>"
                      r"<td class=\"num\">([^<]*)</td></tr>", journal, re.S)
    assert rows == [("1404", "¥20.00", ""), ("5001", "", "¥20.00")]
    with session_factory() as session:
        state = period_state(session, world.actors["cost_group"], company_id=world.companies["A"], period="2026-11")
        assert state.status.value == "closed"  # nothing reopened yet
    back = client.post(f"{url}/reopen", data={"csrf_token": csrf, "reason": "late invoice", "confirmed": "1",
                                              "edit": "1"}).get_data(as_text=True)
    assert 'data-testid="reopen-form"' in back and 'value="late invoice"' in back
    done = client.post(f"{url}/reopen", data={"csrf_token": csrf, "reason": "late invoice", "confirmed": "1"})
    assert done.status_code == 302 and "reopened=1" in done.headers["Location"]
    with session_factory() as session:
        state = period_state(session, world.actors["cost_group"], company_id=world.companies["A"], period="2026-11")
        assert state.status.value == "open"
