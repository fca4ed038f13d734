"""Records are named by code and name on the pages, not by a bare code: the CIO's dashboard
(the alerts, over the limit and more than 90 days overdue, and the data tables under the
charts), as the rest of the CIO's pages do, and the inventory valuation's companies.

Worked example: K0001 第一医院 (30 days' terms) owes company A (甲公司, segment FORM)
1,000.00 invoiced on 2026-07-01, due 2026-07-31: more than 90 days overdue on the business
day of the tests; its limit of 500.00 puts it 500.00 over.
"""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Segment
from tests.credit import history_invoice, put_stock, set_limit
from tests.ui.conftest import sign_in
from tests.world import ApiClient, World


def _rows(page: str, testid: str) -> list[str]:
    """The first cell of each body row of the element marked ``testid``, as text."""
    found = re.search(rf'data-testid="{testid}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, testid
    cells = re.findall(r"<tr[^>]*><td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def test_the_cio_alerts_and_tables_name_customers_companies_and_segments(
    client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    history_invoice(session_factory, world, "cust1", dt.date(2026, 7, 1), "1000.00")
    set_limit(session_factory, world, "cust1", "500")
    with session_factory() as session, session.begin():
        session.execute(update(Segment).where(Segment.code == "FORM").values(name_zh="制剂", name_en="Formulations"))
    sign_in(client, world, "cio")
    page = client.get("/receivables").get_data(as_text=True)
    assert _rows(page, "alerts-over-limit") == ["K0001 第一医院"]
    assert _rows(page, "alerts-over-90") == ["K0001 第一医院"]
    assert _rows(page, "data-companies") == ["CA 甲公司"]
    assert _rows(page, "data-segments") == ["FORM 制剂"]

    # The API's dashboard names them too.
    alerts = api.as_("cio").get("/api/v1/credit/dashboard").get_json()["alerts"]
    assert [(a["customer_code"], a["customer_name_zh"], a["customer_name_en"]) for a in alerts["over_90"]] == \
        [("K0001", "第一医院", "First Hospital")]
    assert [(a["customer_code"], a["customer_name_zh"]) for a in alerts["over_limit"]] == [("K0001", "第一医院")]

    sign_in(client, world, "cio", "en")
    page = client.get("/receivables").get_data(as_text=True)
    assert _rows(page, "alerts-over-90") == ["K0001 First Hospital"]
    assert _rows(page, "data-segments") == ["FORM Formulations"]


def test_the_inventory_valuation_names_each_company(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    put_stock(session_factory, world)
    sign_in(client, world, "cost_group")
    page = client.get("/costing/valuation").get_data(as_text=True)
    assert _rows(page, "valuation") == ["CA 甲公司"]


def test_the_customers_open_orders_name_each_company(
    client: FlaskClient, world: World, blocked_order: int
) -> None:
    """The credit page's list of the customer's orders in every company (also on a blocked
    order's page): the company by code and name."""
    sign_in(client, world, "credit")
    page = client.get("/credit/customers/K0001").get_data(as_text=True)
    companies = re.findall(r'data-testid="order-number"[^>]*>[^<]*</td><td>([^<]*)</td>', page)
    assert companies and set(companies) == {"CA 甲公司"}, companies
