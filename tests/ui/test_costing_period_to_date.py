"""The page of a period that has not ended yet shows what it holds so far, not a refusal.

By hand: November (tests/api/test_costing_api.py) leaves A with 60 kg at 10.00 (600.00)
carrying 30.00 of variance once closed. In December (the run's business day is 15 December)
20 kg arrive at 10.80 (200.00 at standard, variance 16.00) and 5 kg are issued (50.00).
Rate to date = (30.00 + 16.00) / (600.00 + 200.00) = 5.75 %.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import services
from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.stock import open_order, receive
from tests.ui.test_costing_pages import figure, sign_in
from tests.world import ApiClient, World


def test_an_open_month_shows_its_movements_and_variance_to_date(
    client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session],
    november: None,  # noqa: F811
) -> None:
    assert api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close").status_code == 200
    (line,) = open_order(session_factory, world, [("exc_local", "20", "10.80", "A-AMB")])
    receive(session_factory, world, line, "20", on=dt.date(2026, 12, 10), batch="B-DEC")
    with session_factory() as session, session.begin():
        services.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                             material_id=world.materials["exc_local"], quantity=D("5"),
                             posting_date=dt.date(2026, 12, 12), destination=services.IssueDestination.PRODUCTION)
    for user in ("cost_a", "cio"):
        sign_in(client, world, user)
        response = client.get("/costing/periods/CA/2026-12")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'data-testid="refusal"' not in page
        assert 'data-testid="to-date"' in page
        assert (figure(page, "to-date-receipts"), figure(page, "to-date-variance"),
                figure(page, "to-date-consumption")) == (D("200.00"), D("16.00"), D("50.00"))
        received = re.search(r'data-testid="received-EXC-STAR">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        consumed = re.search(r'data-testid="consumed-qty-EXC-STAR">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        assert (received, consumed) == ("20 千克", "5 千克")
        assert "5.75%" in page  # the rate to date
        assert "¥600.00" in page and "¥30.00" in page  # the opening carried from November's close
    sign_in(client, world, "cost_a")
    page = client.get("/costing/periods/CA/2026-12").get_data(as_text=True)
    assert 'data-testid="not-ended"' in page and "2027-01-01" in page  # when it can be closed
