"""The steward's purchasing exceptions: grant, list, revoke, and what they let a company buy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.errors import ValidationFailed
from erp.purchasing import services
from erp.purchasing.models import PurchasingException
from tests.purchasing_world import Deals
from tests.world import ApiClient, World, problem

EXCEPTIONS = "/api/v1/purchasing/exceptions"
ORDERS = "/api/v1/purchasing/orders"
WHY = {"reason": "central supplier delivers again"}


def grant(api: ApiClient, world: World, deals: Deals, *, company: str = "A", material: str = "api_central",
          days: tuple[int, int] = (0, 10), user: str = "steward") -> Any:
    return api.as_(user).post(EXCEPTIONS, json={
        "company_id": world.companies[company], "material_id": world.materials[material],
        "valid_from": (deals.today + dt.timedelta(days=days[0])).isoformat(),
        "valid_to": (deals.today + dt.timedelta(days=days[1])).isoformat(),
        "reason": "central supplier's plant flooded; emergency purchase",
    })


def buyer_a_orders_amox(api: ApiClient, world: World) -> Any:
    return api.as_("buyer_a").post(ORDERS, json={
        "receiving_company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"],
        "lines": [{"material_id": world.materials["api_central"], "quantity": "5",
                   "warehouse_id": world.warehouses["A-COOL"]}],
    })


def test_an_exception_lets_the_company_buyer_order_a_central_material_until_revoked(
    api: ApiClient, world: World, deals: Deals
) -> None:
    problem(buyer_a_orders_amox(api, world), 403, "central-material-needs-group-purchasing")
    granted = grant(api, world, deals)
    assert granted.status_code == 201, granted.get_json()
    body = granted.get_json()
    assert (body["company_code"], body["material_code"], body["granted_by"]) == ("CA", "API-AMOX", world.users["steward"])

    ordered = buyer_a_orders_amox(api, world)
    assert ordered.status_code == 201, ordered.get_json()
    # a company order, at the price of the group contract that serves company A
    assert ordered.get_json()["purchasing_organisation"] == "CA"
    assert ordered.get_json()["lines"][0]["unit_price"] == "850.000000"

    revoked = api.as_("steward").post(f"{EXCEPTIONS}/{body['id']}/revoke", json=WHY)
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["revoked_by"] == world.users["steward"]
    problem(buyer_a_orders_amox(api, world), 403, "central-material-needs-group-purchasing")
    # the draft made under the exception cannot be submitted any more either
    problem(api.as_("buyer_a").post(f"{ORDERS}/{ordered.get_json()['id']}/submit"),
            403, "central-material-needs-group-purchasing")
    problem(api.as_("steward").post(f"{EXCEPTIONS}/{body['id']}/revoke", json=WHY), 409, "exception-already-revoked")


def test_an_ended_exception_no_longer_helps_and_the_refusal_says_when_it_ended(
    api: ApiClient, world: World, deals: Deals
) -> None:
    grant(api, world, deals, days=(-10, -1))
    body = problem(buyer_a_orders_amox(api, world), 403, "central-material-needs-group-purchasing")
    assert f"ended on {deals.today - dt.timedelta(days=1)}" in body["detail"]


def test_an_exception_for_company_a_does_not_extend_to_company_b(api: ApiClient, world: World, deals: Deals) -> None:
    grant(api, world, deals, company="A")
    response = api.as_("buyer_b").post(ORDERS, json={
        "receiving_company_id": world.companies["B"], "supplier_id": world.suppliers["sup1"],
        "lines": [{"material_id": world.materials["api_central"], "quantity": "5",
                   "warehouse_id": world.warehouses["B-COOL"]}],
    })
    problem(response, 403, "central-material-needs-group-purchasing")


@pytest.mark.parametrize("user", ["group_buyer", "buyer_a", "admin", "pm_group"])
def test_only_stewards_grant_exceptions(api: ApiClient, world: World, deals: Deals, user: str) -> None:
    problem(grant(api, world, deals, user=user), 403, "role-not-allowed")


def test_only_stewards_revoke_exceptions(api: ApiClient, world: World, deals: Deals) -> None:
    exception_id = grant(api, world, deals).get_json()["id"]
    problem(api.as_("group_buyer").post(f"{EXCEPTIONS}/{exception_id}/revoke", json=WHY), 403, "role-not-allowed")


def test_exceptions_are_for_central_materials(api: ApiClient, world: World, deals: Deals) -> None:
    body = problem(grant(api, world, deals, material="exc_local"), 422, "exception-for-local-material")
    assert body["errors"][0]["pointer"] == "/material_id"


def test_exception_dates_must_be_in_order(api: ApiClient, world: World, deals: Deals) -> None:
    body = problem(grant(api, world, deals, days=(5, 4)), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/valid_to"


def test_exceptions_are_listed_for_the_companies_one_acts_for(api: ApiClient, world: World, deals: Deals) -> None:
    first = grant(api, world, deals, company="A").get_json()
    grant(api, world, deals, company="B", material="cold_central", days=(20, 30))
    api.as_("steward").post(f"{EXCEPTIONS}/{first['id']}/revoke", json=WHY)

    def listed(user: str, **query: Any) -> list[tuple[str, str]]:
        response = api.as_(user).get(EXCEPTIONS, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [(e["company_code"], e["material_code"]) for e in response.get_json()]

    assert listed("steward") == [("CB", "API-INSU")]
    assert listed("steward", include_revoked="true") == [("CB", "API-INSU"), ("CA", "API-AMOX")]
    assert listed("buyer_a", include_revoked="true") == [("CA", "API-AMOX")]
    assert listed("buyer_b") == [("CB", "API-INSU")]
    assert listed("steward", valid_on=(deals.today + dt.timedelta(days=25)).isoformat()) == [("CB", "API-INSU")]
    assert listed("steward", valid_on=deals.today.isoformat()) == []


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_revocation_needs_a_reason_and_a_refused_one_writes_nothing(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session], body: dict[str, str]
) -> None:
    exception_id = grant(api, world, deals).get_json()["id"]
    refused = problem(api.as_("steward").post(f"{EXCEPTIONS}/{exception_id}/revoke", json=body),
                      422, "validation-error")
    assert [error["pointer"] for error in refused["errors"]] == ["/reason"]
    with session_factory() as session:
        exception = session.get(PurchasingException, exception_id)
        assert exception is not None and (exception.revoked_at, exception.revoked_by) == (None, None)
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "purchasing_exception", AuditEvent.entity_id == exception_id)).all() == ["grant"]
    # Still in force: company A's buyer orders under it.
    assert buyer_a_orders_amox(api, world).status_code == 201


def test_the_service_refuses_a_blank_reason_before_touching_the_exception(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    exception_id = grant(api, world, deals).get_json()["id"]
    with session_factory() as session:
        with pytest.raises(ValidationFailed) as refused:
            services.revoke_exception(session, world.actors["steward"], exception_id, reason=" \n ")
        assert refused.value.status == 422
        assert [error["pointer"] for error in refused.value.errors] == ["/reason"]
        assert session.get(PurchasingException, exception_id).revoked_at is None  # type: ignore[union-attr]


def test_the_exceptions_list_filters_by_part_of_a_materials_code_or_name_in_any_case(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    from erp.masterdata.models import Material

    grant(api, world, deals, company="A")
    grant(api, world, deals, company="B", material="cold_central", days=(20, 30))
    with session_factory.begin() as session:
        insulin = session.get(Material, world.materials["cold_central"])
        assert insulin is not None
        insulin.name_zh, insulin.name_en = "胰岛素原料", "Insulin API"

    def listed(**query: Any) -> list[str]:
        response = api.as_("steward").get(EXCEPTIONS, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [e["material_code"] for e in response.get_json()]

    assert listed(material="amox") == ["API-AMOX"]  # part of the code, any case
    assert listed(material="胰岛素") == ["API-INSU"]  # part of the Chinese name
    assert listed(material="INSULIN") == ["API-INSU"]  # part of the English name, any case
    assert sorted(listed(material="api-")) == ["API-AMOX", "API-INSU"]
    assert listed(material="no such material") == []
    assert listed(material_id=world.materials["api_central"]) == ["API-AMOX"]  # the id still filters
    problem(api.as_("steward").get(EXCEPTIONS, query_string={"material": ""}), 422, "validation-error")
