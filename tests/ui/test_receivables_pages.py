"""The CIO's pages show the API's figures for the same key date, and every figure is of
that date (rebuilt from the documents).

Worked example:
- K0001 (30 days' terms): invoice of 1,000.00 by company A on 2026-09-01, due 2026-10-01;
  400.00 paid and applied to it on 2026-10-15.
- K0002 (60 days' terms): invoice of 2,500.00 by company B on 2026-10-10, due 2026-12-09;
  300.00 received by company A on 2026-10-20, where K0002 owes nothing: unapplied.

As of 2026-09-30: open 1,000.00, all not due (due the next day); nothing unapplied.
As of 2026-10-31: K0001 600.00 open, 30 days past due (1-30); K0002 2,500.00 not due;
open 3,100.00, overdue 600.00, unapplied 300.00.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal as D
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.ui.i18n import LANGUAGE_COOKIE
from tests.credit import history_invoice, pay
from tests.world import USCC_COMPANY_C, ApiClient, World


@pytest.fixture
def documents(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    return book_documents(session_factory, world)


def book_documents(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    first = history_invoice(session_factory, world, "cust1", dt.date(2026, 9, 1), "1000.00")
    pay(session_factory, world, "400.00", customer="cust1", day=dt.date(2026, 10, 15), invoice_ids=[first])
    second = history_invoice(session_factory, world, "cust2", dt.date(2026, 10, 10), "2500.00", company="B")
    pay(session_factory, world, "300.00", customer="cust2", day=dt.date(2026, 10, 20))
    return {"first": first, "second": second}


def sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def figure(page: str, testid: str) -> D:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>\s*([^<]+)<', page)
    assert found, testid
    return D(found.group(1).replace("¥", "").replace(",", "").strip())


def chart_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("as_of", "expected", "unapplied"), [
    ("2026-09-30", {"open_amount": "1000.00", "overdue": "0.00", "not_due": "1000.00", "days_1_30": "0.00"}, "0.00"),
    ("2026-10-31", {"open_amount": "3100.00", "overdue": "600.00", "not_due": "2500.00", "days_1_30": "600.00"},
     "300.00"),
])
def test_the_dashboard_page_shows_the_apis_figures_of_the_key_date(
    client: FlaskClient, api: ApiClient, world: World, documents: dict[str, int], as_of: str,
    expected: dict[str, str], unapplied: str,
) -> None:
    sign_in(client, world, "cio")
    response = client.get(f"/receivables?as_of={as_of}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    from_api = api.as_("cio").get("/api/v1/credit/dashboard", query_string={"as_of": as_of}).get_json()
    charts = chart_data(page)
    assert charts["as_of"] == from_api["as_of"] == as_of
    for name, amount in expected.items():
        assert D(charts["totals"][name]) == D(from_api["totals"][name]) == D(amount), name
    assert figure(page, "kpi-open") == D(expected["open_amount"])
    assert figure(page, "kpi-overdue") == D(expected["overdue"])
    assert figure(page, "kpi-unapplied") == D(unapplied)
    assert [(c["code"], D(c["open_amount"])) for c in charts["companies"]] == \
        [(c["company_code"], D(c["open_amount"])) for c in from_api["by_company"]]
    assert [(s["code"], D(s["overdue"])) for s in charts["segments"]] == \
        [(s["segment_code"], D(s["overdue"])) for s in from_api["by_segment"]]
    # The charts' axes read names in the page's language, the code kept for the tooltip and the
    # drill-down (trial finding 32: the CIO read CA, CB, K0001).
    names = {"CA": ("甲公司", "Company A"), "CB": ("乙公司", "Company B")}
    assert charts["companies"] and [c["name"] for c in charts["companies"]] == [names[c["code"]][0] for c in charts["companies"]]
    assert all(c["name"] and c["name"] != c["code"] for c in charts["top_customers"]), charts["top_customers"]
    client.set_cookie(LANGUAGE_COOKIE, "en")
    english = chart_data(client.get(f"/receivables?as_of={as_of}").get_data(as_text=True))
    assert [c["name"] for c in english["companies"]] == [names[c["code"]][1] for c in english["companies"]]
    # The trend ends on the key date with the same totals, and the month before is rebuilt too.
    assert charts["trend"][-1] == {"day": as_of, "open_amount": expected["open_amount"],
                                   "overdue": expected["overdue"]}


def test_the_trend_rebuilds_each_month_end_from_the_documents(
    client: FlaskClient, world: World, documents: dict[str, int]
) -> None:
    sign_in(client, world, "cio")
    charts = chart_data(client.get("/receivables?as_of=2026-10-31").get_data(as_text=True))
    trend = {p["day"]: (D(p["open_amount"]), D(p["overdue"])) for p in charts["trend"]}
    assert len(trend) == 12
    assert trend["2026-08-31"] == (D("0.00"), D("0.00"))
    assert trend["2026-09-30"] == (D("1000.00"), D("0.00"))
    assert trend["2026-10-31"] == (D("3100.00"), D("600.00"))


def test_the_drill_down_reaches_one_invoice_as_of_the_key_date(
    client: FlaskClient, world: World, documents: dict[str, int]
) -> None:
    sign_in(client, world, "cio")
    segment = client.get("/receivables/segments/FORM?as_of=2026-10-31").get_data(as_text=True)
    # Companies A and B are in FORM: 600.00 + 2,500.00.
    assert figure(segment, "segment-total") == D("3100.00")
    company = client.get("/receivables/companies/CA?as_of=2026-10-31").get_data(as_text=True)
    assert 'data-customer="K0001"' in company and 'data-customer="K0002"' not in company
    customer = client.get("/receivables/customers/K0001?as_of=2026-10-31").get_data(as_text=True)
    assert f'data-testid="invoice-{documents["first"]}"' in customer
    invoice = client.get(f"/receivables/invoices/{documents['first']}?as_of=2026-10-14").get_data(as_text=True)
    # Before the payment of 2026-10-15 the whole invoice was open; today 600.00 is.
    assert "¥1,000.00" in invoice and "¥600.00" in invoice
    assert client.get("/receivables/invoices/999999").status_code == 404


def test_the_dashboard_is_for_group_roles_only(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "clerk_a")
    assert client.get("/receivables").status_code == 403


def test_what_group_companies_owe_is_shown_beside_the_consolidated_figures(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """K0002's record is linked to company C, a company of the group: B's 2,500.00 invoice to it
    leaves the group's figures (600.00 open as of 31 October) but stays in B's own books, and the
    pages say so beside the consolidated figures (issue trial 112). The record is C's (C's
    unified social credit code) and linked before anything is booked on it: a record with
    documents is never linked (trial finding 139)."""
    from erp.masterdata import services as masterdata

    with session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["steward"], masterdata.CUSTOMERS, world.customers["cust2"],
                                 {"uscc": USCC_COMPANY_C})
        masterdata.update_record(session, world.actors["admin"], masterdata.COMPANIES, world.companies["C"],
                                 {"customer_id": world.customers["cust2"]}, reason="intercompany trade")
    book_documents(session_factory, world)
    sign_in(client, world, "cio")
    board = client.get("/receivables?as_of=2026-10-31").get_data(as_text=True)
    assert figure(board, "kpi-open") == D("600.00")
    assert "¥2,500.00" in re.search(r'data-testid="kpi-intercompany"[^>]*>([^<]+)<', board).group(1)
    assert figure(board, "intercompany-CB") == D("2500.00") and figure(board, "intercompany-CA") == D("0.00")
    segment = client.get("/receivables/segments/FORM?as_of=2026-10-31").get_data(as_text=True)
    assert (figure(segment, "segment-total"), figure(segment, "segment-intercompany")) == (D("600.00"),
                                                                                          D("2500.00"))
    company = client.get("/receivables/companies/CB?as_of=2026-10-31").get_data(as_text=True)
    note = re.search(r'data-testid="company-intercompany">(.*?)</div>', company, re.S)
    assert note and "¥2,500.00" in note.group(1) and "CB" in note.group(1)
    assert 'href="/intercompany/"' in note.group(1)  # the CIO reads the eliminations
    # A company's page totals every customer, not only the page's rows.
    company_a = client.get("/receivables/companies/CA?as_of=2026-10-31&page_size=20").get_data(as_text=True)
    assert figure(company_a, "company-total") == D("600.00")
    assert 'data-testid="company-intercompany"' not in company_a
