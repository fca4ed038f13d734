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

from erp.costing.models import Account
from erp.masterdata.models import Material, Segment
from tests.credit import history_invoice, put_stock, set_limit
from tests.stock import open_order, receive, set_standard
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


def _cells(page: str, testid: str) -> list[str]:
    """The text of every cell marked ``testid``, tags dropped and spaces collapsed."""
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</(?:td|span)>', page, re.S)]


def test_the_grir_clearing_names_suppliers_materials_and_the_account(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """PO-A-0001's 120 kg of API-AMOX from S0001 华康, received and not invoiced: the GR/IR
    line names the supplier and the material, the quantities carry the unit and the check
    names account 2202.01 by its name, as the other payables pages do."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "120", "55.50", "A-COOL")], number="PO-A-0001")
    receive(session_factory, world, line, "120")
    with session_factory() as session:
        material = session.get(Material, world.materials["api_central"])
        account = session.get(Account, "2202.01")
        assert material is not None and account is not None
    sign_in(client, world, "ap_a")
    page = client.get("/payables/grir", query_string={"company": "CA", "as_of": "2026-11-29"}).get_data(as_text=True)
    assert _cells(page, "grir-supplier") == ["S0001 华康"]
    assert _cells(page, "grir-material") == [f"API-AMOX {material.name_zh}"]
    row = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'data-order="PO-A-0001">(.*?)</tr>', page, re.S).group(1)).split())
    assert "120 千克" in row
    check = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'data-testid="grir-check">(.*?)</div>', page, re.S).group(1)).split())
    assert f"2202.01 {account.name_zh}" in check, check
    sign_in(client, world, "ap_a", "en")
    page = client.get("/payables/grir", query_string={"company": "CA", "as_of": "2026-11-29"}).get_data(as_text=True)
    assert _cells(page, "grir-supplier") == ["S0001 Huakang"]


def test_the_blocked_orders_and_a_release_name_customers_and_companies(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], blocked_order: int
) -> None:
    """K0001's second order is blocked; its release would leave the confirmed first order
    unable to ship. The list names the customer and the company; so does the effect, before
    and after the release, and the release's banner names the customer."""
    sign_in(client, world, "credit")
    page = client.get("/credit/blocked-orders").get_data(as_text=True)
    assert _cells(page, "customer") == ["K0001 第一医院"]
    assert _cells(page, "company") == ["CA 甲公司"]
    token = sign_in(client, world, "credit")
    preview = client.get(f"/credit/blocked-orders/{blocked_order}").get_data(as_text=True)
    assert set(_cells(preview, "effect-company")) == {"CA 甲公司"}
    released = client.post(f"/credit/blocked-orders/{blocked_order}", data={
        "csrf_token": token, "reason": "客户已承诺月底前回款", "confirmed": "1"}, follow_redirects=True).get_data(as_text=True)
    assert set(_cells(released, "effect-company")) == {"CA 甲公司"}
    done = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'data-testid="done">(.*?)</div>', released, re.S).group(1)).split())
    assert "K0001 第一医院" in done, done
