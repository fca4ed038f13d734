"""The group master's guards through the API (trial findings 139 and 140): refusals are
problem+json naming what blocks, and nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Customer
from tests.credit import history_invoice
from tests.world import USCC_COMPANY_C, ApiClient, World

SF = sessionmaker[Session]


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["type"] == f"/problems/{slug}", body
    return body


def test_linking_a_company_to_an_outside_customer_is_a_422(api: ApiClient, world: World) -> None:
    url = f"/api/v1/companies/{world.companies['C']}"
    body = problem(api.as_("admin").patch(url, json={"customer_id": world.customers["cust1"], "reason": "test"}),
                   422, "intercompany-partner-not-the-company")
    assert body["errors"][0]["pointer"] == "/customer_id"
    assert "another legal entity" in body["detail"]
    assert api.as_("admin").get(url).get_json()["customer_id"] is None
    zh = api.as_("admin").patch(url, json={"customer_id": world.customers["cust1"]},
                                headers={"Accept-Language": "zh-CN"}).get_json()
    assert "另一个法人" in zh["detail"]


def test_linking_a_record_with_documents_is_a_409(api: ApiClient, world: World, session_factory: SF) -> None:
    with session_factory() as session, session.begin():
        customer = Customer(code="K-CC", uscc=USCC_COMPANY_C, name_zh="丙公司", name_en="Company C")
        session.add(customer)
        session.flush()
        world.customers["company_c"] = customer.id
    history_invoice(session_factory, world, "company_c", dt.date(2026, 10, 10), "2500.00", company="B")
    url = f"/api/v1/companies/{world.companies['C']}"
    body = problem(api.as_("admin").patch(url, json={"customer_id": world.customers["company_c"]}),
                   409, "intercompany-partner-has-history")
    assert "1 invoice(s) (AR-CB-2026-" in body["detail"]
    assert api.as_("admin").get(url).get_json()["customer_id"] is None


def test_deactivating_a_warehouse_with_stock_is_a_409_naming_it(api: ApiClient, world: World,
                                                                 session_factory: SF) -> None:
    from tests.credit import put_stock

    put_stock(session_factory, world, company="A", quantity="120")
    url = f"/api/v1/warehouses/{world.warehouses['A-AMB']}"
    body = problem(api.as_("steward").post(f"{url}/deactivate", json={"reason": "closing the store"}),
                   409, "deactivation-blocked")
    assert body["detail"].startswith("warehouse CA-AMB AMB still has stock on hand 120 KG (1 batch(es))")
    zh = api.as_("steward").post(f"{url}/deactivate", json={}, headers={"Accept-Language": "zh-CN"}).get_json()
    assert zh["detail"].startswith("仓库 CA-AMB AMB 仍有库存 120 KG（1 个批次）"), zh["detail"]
    assert api.as_("steward").get(url).get_json()["active"] is True
    # a company with November's postings still open is not deactivated either
    company = problem(api.as_("admin").post(f"/api/v1/companies/{world.companies['A']}/deactivate", json={}),
                      409, "deactivation-blocked")
    assert "open period(s) with postings (2026-11)" in company["detail"]
    # an empty warehouse is
    empty = api.as_("steward").post(f"/api/v1/warehouses/{world.warehouses['C-COLD']}/deactivate", json={})
    assert empty.status_code == 200 and empty.get_json()["active"] is False
