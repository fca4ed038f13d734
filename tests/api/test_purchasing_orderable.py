"""'What may I order for company X on day D': materials, suppliers and contract prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material, MaterialType, ProcurementScope
from erp.purchasing import services
from erp.purchasing.models import ContractScope
from tests.purchasing_world import Deals
from tests.statements import statements
from tests.world import ApiClient, World, problem

ORDERABLE = "/api/v1/purchasing/orderable"


def orderable(api: ApiClient, user: str, world: World, company: str, **query: Any) -> list[dict[str, Any]]:
    response = api.as_(user).get(ORDERABLE, query_string={"company_id": world.companies[company], **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def offers(items: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(i["material_code"], i["contract_number"], i["unit_price"], i["rule"]) for i in items]


def test_company_buyer_sees_local_materials_at_the_contract_that_applies(
    api: ApiClient, world: World, deals: Deals
) -> None:
    items = orderable(api, "buyer_a", world, "A")
    assert offers(items) == [
        ("EXC-STAR", "CA-001", "12.345000", "local-purchasing"),  # company A's contract beats the group's 13
        ("PKG-SHIP", "CA-001", "0.350000", "local-purchasing"),
    ]
    first = items[0]
    assert (first["supplier_code"], first["unit_code"], first["contract_line_id"]) == (
        "S0001", "KG", deals.lines["CA-001/exc_local"])
    assert first["target_quantity"] == "100.0000" and first["ordered_quantity"] == "0.0000"


def test_group_buyer_sees_central_materials_for_any_company(api: ApiClient, world: World, deals: Deals) -> None:
    assert offers(orderable(api, "group_buyer", world, "B")) == [
        ("API-AMOX", "GRP-001", "850.000000", "central-purchasing"),
        ("API-INSU", "GRP-001", "12000.000000", "central-purchasing"),
    ]


def test_a_company_without_its_own_contract_sees_the_group_price(api: ApiClient, world: World, deals: Deals) -> None:
    assert offers(orderable(api, "buyer_b", world, "B")) == [("EXC-STAR", "GRP-001", "13.000000", "local-purchasing")]


def test_an_exception_adds_the_central_material_for_its_company(api: ApiClient, world: World, deals: Deals) -> None:
    api.as_("steward").post("/api/v1/purchasing/exceptions", json={
        "company_id": world.companies["A"], "material_id": world.materials["cold_central"],
        "valid_from": deals.today.isoformat(), "valid_to": (deals.today + dt.timedelta(days=7)).isoformat(),
        "reason": "insulin shortage",
    })
    items = offers(orderable(api, "buyer_a", world, "A"))
    assert ("API-INSU", "GRP-001", "12000.000000", "purchasing-exception") in items
    assert len(items) == 3
    # a week later the exception has ended
    later = (deals.today + dt.timedelta(days=8)).isoformat()
    assert len(orderable(api, "buyer_a", world, "A", date=later)) == 2


def test_nothing_is_orderable_outside_the_contracts_validity_or_from_another_supplier(
    api: ApiClient, world: World, deals: Deals
) -> None:
    after = (deals.valid_to + dt.timedelta(days=1)).isoformat()
    assert orderable(api, "buyer_a", world, "A", date=after) == []
    assert orderable(api, "buyer_a", world, "A", supplier_id=world.suppliers["sup2"]) == []
    assert len(orderable(api, "buyer_a", world, "A", supplier_id=world.suppliers["sup1"])) == 2


def test_a_terminated_contract_offers_nothing(api: ApiClient, world: World, deals: Deals) -> None:
    api.as_("buyer_a").post(f"/api/v1/purchasing/contracts/{deals.contracts['CA-001']}/terminate",
                            json={"reason": "renegotiated"})
    assert offers(orderable(api, "buyer_a", world, "A")) == [("EXC-STAR", "GRP-001", "13.000000", "local-purchasing")]


def test_other_companies_are_not_found_and_non_buyers_are_refused(api: ApiClient, world: World, deals: Deals) -> None:
    problem(api.as_("buyer_a").get(ORDERABLE, query_string={"company_id": world.companies["B"]}), 404)
    problem(api.as_("group_buyer").get(ORDERABLE, query_string={"company_id": 4242}), 404)
    problem(api.as_("clerk_a").get(ORDERABLE, query_string={"company_id": world.companies["A"]}), 403,
            "role-not-allowed")
    body = problem(api.as_("buyer_a").get(ORDERABLE), 422, "validation-error")
    assert body["errors"][0] == {"pointer": "/company_id", "detail": "a required field is missing", "in": "query"}


def test_the_answer_takes_the_same_few_queries_for_two_or_thirty_materials(
    api: ApiClient, world: World, deals: Deals, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with statements(engine) as few:
        assert len(orderable(api, "buyer_a", world, "A")) == 2
    with session_factory() as session, session.begin():
        extra = [
            Material(code=f"EXC-X{n:02d}", name_zh="x", name_en="x", material_type=MaterialType.RAW,
                     unit_id=world.units["KG"], procurement_scope=ProcurementScope.LOCAL)
            for n in range(28)
        ]
        session.add_all(extra)
        session.flush()
        contract = services.create_contract(
            session, world.actors["buyer_a"], number="CA-002", supplier_id=world.suppliers["sup2"],
            scope=ContractScope.COMPANY, company_id=world.companies["A"], valid_from=deals.valid_from,
            valid_to=deals.valid_to, lines=[{"material_id": m.id, "unit_price": Decimal("5")} for m in extra],
        )
        services.activate_contract(session, world.actors["buyer_a"], contract.id)
    with statements(engine) as many:
        assert len(orderable(api, "buyer_a", world, "A")) == 30
    assert len(many) == len(few) <= 8, many
