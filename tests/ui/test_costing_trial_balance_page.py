"""The trial balance page reads as 科目余额表: per account the opening balance, the period's
debits and credits and the closing balance, each side in its column with a total, and each
account opening its journal lines of the period.

By hand: November (tests/api/test_costing_api.py) closed for A leaves 1403 Dr 600.00, 1404
Dr 30.00, 5001 Dr 420.00, 2202.01 Cr 1,050.00. In December 20 kg arrive at 10.80 against
10.00: Dr 1403 200.00, Dr 1404 16.00, Cr 2202.01 216.00. December's trial balance: opening
1,050.00 each side, movements 216.00 each side, closing 1,266.00 each side (1403 800.00,
1404 46.00, 5001 420.00; 2202.01 1,266.00).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.stock import open_order, receive
from tests.ui.test_costing_pages import figure, sign_in
from tests.world import ApiClient, World


def test_the_trial_balance_shows_opening_movements_and_closing_and_drills_into_the_journal(
    client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session],
    november: None,  # noqa: F811
) -> None:
    assert api.as_("cost_a").post(f"/api/v1/costing/periods/{world.companies['A']}/2026-11/close").status_code == 200
    (line,) = open_order(session_factory, world, [("exc_local", "20", "10.80", "A-AMB")])
    receive(session_factory, world, line, "20", on=dt.date(2026, 12, 10), batch="B-DEC")
    sign_in(client, world, "cost_a")
    page = client.get("/costing/trial-balance?company=CA&period=2026-12").get_data(as_text=True)
    expected = {
        "1403": ("600.00", None, "200.00", None, "800.00", None),
        "1404": ("30.00", None, "16.00", None, "46.00", None),
        "5001": ("420.00", None, None, None, "420.00", None),
        "2202.01": (None, "1050.00", None, "216.00", None, "1266.00"),
    }
    columns = ("opening_debit", "opening_credit", "period_debit", "period_credit", "closing_debit", "closing_credit")
    for account, figures in expected.items():
        for column, value in zip(columns, figures):
            cell = re.search(rf'data-testid="{column}-{re.escape(account)}">([^<]*)<', page)
            assert cell, (account, column)
            shown = cell.group(1).replace("¥", "").replace(",", "").strip()
            assert (D(shown) if shown else None) == (D(value) if value else None), (account, column, shown)
    assert (figure(page, "total-opening-debit"), figure(page, "total-opening-credit")) == (D("1050.00"), D("1050.00"))
    assert (figure(page, "total-period-debit"), figure(page, "total-period-credit")) == (D("216.00"), D("216.00"))
    assert (figure(page, "total-debit"), figure(page, "total-credit")) == (D("1266.00"), D("1266.00"))
    drill = re.search(r'<a href="([^"]+)" data-testid="drill-1404"', page).group(1)  # type: ignore[union-attr]
    journal = client.get(html.unescape(drill)).get_data(as_text=True)
    assert (figure(journal, "journal-total-debit"), figure(journal, "journal-total-credit")) == \
        (D("16.00"), D("0.00"))
    assert journal.count('data-entry="') == 1
