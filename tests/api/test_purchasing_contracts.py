"""Contracts through the API: who makes which, life cycle, overlaps, resolution and scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_today
from erp.masterdata.models import Material
from erp.purchasing.models import Contract
from tests.purchasing_world import Deals
from tests.world import ApiClient, World, problem

CONTRACTS = "/api/v1/purchasing/contracts"
EXCEPTIONS = "/api/v1/purchasing/exceptions"
ORDERS = "/api/v1/purchasing/orders"
TODAY = business_today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def contract(world: World, number: str, scope: str = "group", company: str | None = None, *,
             supplier: str = "sup1", valid: tuple[int, int] = (0, 364),
             lines: list[tuple[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "number": number, "supplier_id": world.suppliers[supplier], "scope": scope,
        "company_id": world.companies[company] if company else None,
        "valid_from": day(valid[0]), "valid_to": day(valid[1]),
        "lines": [{"material_id": world.materials[m], "unit_price": p} for m, p in (lines or [("api_central", "800")])],
        **extra,
    }


def _name_material(session_factory: sessionmaker[Session], material_id: int, name_zh: str, name_en: str) -> None:
    """Give a material of the test world (named by its code there) a name of its own."""
    with session_factory() as session, session.begin():
        material = session.get(Material, material_id)
        assert material is not None
        material.name_zh, material.name_en = name_zh, name_en


def grant(api: ApiClient, world: World, company: str, material: str, days: tuple[int, int]) -> Any:
    """A steward's purchasing exception for ``company`` and ``material`` from ``days[0]`` to ``days[1]``
    days from today; the response."""
    return api.as_("steward").post(EXCEPTIONS, json={
        "company_id": world.companies[company], "material_id": world.materials[material],
        "valid_from": day(days[0]), "valid_to": day(days[1]), "reason": "central supplier's plant flooded",
    })


def contracts_in_db(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Contract)) or 0


# --- making contracts ------------------------------------------------------------------------

def test_group_buyer_makes_and_activates_a_group_contract(api: ApiClient, world: World) -> None:
    payload = contract(world, "HT/2026/007", lines=[("api_central", "812.5"), ("pkg_loose", "0.042")])
    payload["lines"][0]["target_quantity"] = "5000"
    created = api.as_("group_buyer").post(CONTRACTS, json=payload)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["number"], body["scope"], body["company_id"], body["status"]) == ("HT/2026/007", "group", None, "draft")
    assert body["supplier_code"] == "S0001"
    assert [(ln["material_code"], ln["unit_code"], ln["unit_price"], ln["target_quantity"], ln["ordered_quantity"])
            for ln in body["lines"]] == [
        ("API-AMOX", "KG", "812.500000", "5000.0000", "0.0000"),
        ("PKG-SHIP", "EA", "0.042000", None, "0.0000"),
    ]
    activated = api.as_("group_buyer").post(f"{CONTRACTS}/{body['id']}/activate")
    assert activated.status_code == 200, activated.get_json()
    assert activated.get_json()["status"] == "active"
    assert activated.get_json()["activated_at"]


@pytest.mark.parametrize(
    ("user", "scope", "company", "status", "slug"),
    [
        ("buyer_a", "company", "A", 201, None),
        ("group_buyer", "company", "A", 201, None),
        ("buyer_a", "company", "B", 403, "company-out-of-scope"),
        ("buyer_a", "group", None, 403, "group-contract-needs-group-buyer"),
        ("pm_group", "group", None, 403, "role-not-allowed"),
        ("steward", "company", "A", 403, "role-not-allowed"),
    ],
)
def test_who_makes_which_contract(
    api: ApiClient, world: World, session_factory: sessionmaker[Session],
    user: str, scope: str, company: str | None, status: int, slug: str | None,
) -> None:
    # a company contract prices a local material (a central one needs an exception: below)
    lines = [("exc_local", "12")] if scope == "company" else None
    response = api.as_(user).post(CONTRACTS, json=contract(world, "C-1", scope, company, lines=lines))
    if slug is None:
        assert response.status_code == status, response.get_json()
    else:
        problem(response, status, slug)
        assert contracts_in_db(session_factory) == 0


@pytest.mark.parametrize(
    ("change", "pointer", "reason"),
    [
        ({"valid_from": day(10), "valid_to": day(9)}, "/valid_to", f"{day(9)} is before valid_from {day(10)}"),
        ({"company_id": 1}, "/company_id", "a group contract serves every company; leave it empty"),
        ({"lines": []}, "/lines", "must have 1 to 500 entries"),
        ({"number": "has space"}, "/number", "1-40 characters: A-Z, 0-9, '.', '/', '_' or '-'"),
        ({"supplier_id": 4242}, "/supplier_id", "no active supplier with id 4242"),
    ],
)
def test_invalid_contract_is_refused_naming_the_field(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], change: dict[str, Any], pointer: str,
    reason: str,
) -> None:
    payload = {**contract(world, "C-1"), **change}
    body = problem(api.as_("group_buyer").post(CONTRACTS, json=payload), 422, "validation-error")
    assert body["errors"] == [{"pointer": pointer, "detail": reason}], body
    assert contracts_in_db(session_factory) == 0


def test_company_contract_must_name_its_company(api: ApiClient, world: World) -> None:
    body = problem(api.as_("buyer_a").post(CONTRACTS, json=contract(world, "C-1", "company")), 422, "validation-error")
    assert body["errors"] == [{"pointer": "/company_id", "detail": "a company contract names its company"}]


def _line_refusal(api: ApiClient, payload: dict[str, Any], slug: str = "validation-error") -> tuple[str, str]:
    body = problem(api.as_("group_buyer").post(CONTRACTS, json=payload), 422, slug)
    [error] = body["errors"]
    assert error["detail"] in body["detail"], body  # the problem's own detail says it too
    return error["pointer"], error["detail"]


def test_contract_line_refusals(api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    _name_material(session_factory, world.materials["api_central"], "阿莫西林", "Amoxicillin")
    # the material by code and name, and both lines (counted from 1, as the form shows them)
    twice = contract(world, "C-1", lines=[("api_central", "800"), ("pkg_loose", "0.3"), ("api_central", "790")])
    assert _line_refusal(api, twice) == (
        "/lines/2/material_id", "API-AMOX Amoxicillin appears on lines 1 and 3; one price per material")
    inactive = contract(world, "C-1", lines=[("inactive", "1")])
    assert _line_refusal(api, inactive) == (
        "/lines/0/material_id", f"no active material with id {world.materials['inactive']}")
    free = contract(world, "C-1", lines=[("api_central", "0")])
    assert _line_refusal(api, free) == (
        "/lines/0/unit_price", "must be above 0 and at most 999999999999.999999")  # 0 itself is refused
    pieces = contract(world, "C-1", lines=[("pkg_loose", "0.3")])
    pieces["lines"][0]["target_quantity"] = "10.5"  # EA takes no decimals
    assert _line_refusal(api, pieces, "quantity-too-precise") == (
        "/lines/0/target_quantity", "10.5 EA: quantities in EA take at most 0 decimals")
    consumed = contract(world, "C-1")
    consumed["lines"][0]["ordered_quantity"] = "0"  # the contract counts what is ordered, not the client
    assert _line_refusal(api, consumed) == ("/lines/0/ordered_quantity", "unknown field")
    assert contracts_in_db(session_factory) == 0


def test_blocked_supplier_gets_no_contract(api: ApiClient, world: World) -> None:
    body = problem(api.as_("group_buyer").post(CONTRACTS, json=contract(world, "C-1", supplier="blocked")),
                   422, "supplier-blocked")
    assert "S0003 Blocked" in body["detail"]  # the supplier by code and name


def test_contract_numbers_are_unique(api: ApiClient, world: World, deals: Deals) -> None:
    payload = contract(world, "GRP-001", supplier="sup2")
    body = problem(api.as_("group_buyer").post(CONTRACTS, json=payload), 409, "duplicate-number")
    assert body["errors"] == [{"pointer": "/number", "detail": "GRP-001 is already used"}]
    assert body["detail"] == "a contract numbered GRP-001 already exists"


# --- overlaps ------------------------------------------------------------------------------

def test_overlapping_contract_of_the_same_scope_is_refused_naming_the_other(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    # GRP-001 prices api_central from sup1 until deals.valid_to; this one starts on that day
    _name_material(session_factory, world.materials["api_central"], "阿莫西林", "Amoxicillin")
    payload = contract(world, "GRP-002", valid=(335, 700), lines=[("api_central", "790")])
    body = problem(api.as_("group_buyer").post(CONTRACTS, json=payload), 409, "contract-overlap")
    assert body["conflicting_contract"] == "GRP-001"
    # the supplier and the material by code and name, as the pages show them
    assert "API-AMOX Amoxicillin" in body["detail"] and "S0001 Huakang" in body["detail"]
    assert "GRP-001" in body["detail"]
    assert contracts_in_db(session_factory) == 2


@pytest.mark.parametrize(
    ("user", "payload_args"),
    [
        ("group_buyer", {"number": "GRP-002", "valid": (336, 700)}),  # starts the day after GRP-001 ends
        ("group_buyer", {"number": "GRP-002", "supplier": "sup2"}),  # another supplier
        ("group_buyer", {"number": "GRP-002", "lines": [("pkg_loose", "0.3")]}),  # another material
        ("group_buyer", {"number": "CB-002", "scope": "company", "company": "B",  # company beside group
                         "lines": [("exc_local", "12.5")]}),
        ("buyer_b", {"number": "CB-001", "scope": "company", "company": "B", "lines": [("exc_local", "12")]}),
    ],
)
def test_contracts_that_do_not_overlap_are_accepted(
    api: ApiClient, world: World, deals: Deals, user: str, payload_args: dict[str, Any]
) -> None:
    response = api.as_(user).post(CONTRACTS, json=contract(world, **payload_args))
    assert response.status_code == 201, response.get_json()


def test_a_draft_blocks_an_overlapping_contract_and_terminating_it_frees_the_period(
    api: ApiClient, world: World
) -> None:
    local = [("exc_local", "12")]
    first = api.as_("buyer_a").post(CONTRACTS, json=contract(world, "CA-1", "company", "A", lines=local)).get_json()
    blocked = problem(api.as_("buyer_a").post(CONTRACTS, json=contract(world, "CA-2", "company", "A", lines=local)),
                      409, "contract-overlap")
    assert blocked["conflicting_contract"] == "CA-1" and "contract CA-1 already prices" in blocked["detail"], blocked
    terminated = api.as_("buyer_a").post(f"{CONTRACTS}/{first['id']}/terminate", json={"reason": "not signed"})
    assert terminated.get_json()["status"] == "terminated"
    again = api.as_("buyer_a").post(CONTRACTS, json=contract(world, "CA-2", "company", "A", lines=local))
    assert again.status_code == 201, again.get_json()


# --- life cycle -------------------------------------------------------------------------------

def test_terminating_needs_a_reason_and_is_recorded(api: ApiClient, world: World, deals: Deals) -> None:
    url = f"{CONTRACTS}/{deals.contracts['GRP-001']}/terminate"
    missing = problem(api.as_("group_buyer").post(url, json={}), 422, "validation-error")
    assert missing["errors"] == [{"pointer": "/reason", "detail": "a required field is missing"}], missing
    body = api.as_("group_buyer").post(url, json={"reason": "supplier lost its GMP certificate"}).get_json()
    assert (body["status"], body["termination_reason"]) == ("terminated", "supplier lost its GMP certificate")
    assert body["terminated_at"]
    again = problem(api.as_("group_buyer").post(url, json={"reason": "again"}), 409, "status-transition-not-allowed")
    assert again["detail"] == "cannot terminate contract GRP-001: it is terminated", again
    activate = problem(api.as_("group_buyer").post(f"{CONTRACTS}/{deals.contracts['GRP-001']}/activate"),
                       409, "status-transition-not-allowed")
    assert activate["detail"] == "cannot activate contract GRP-001: it is terminated", activate


def test_a_company_buyer_cannot_terminate_a_group_contract(api: ApiClient, deals: Deals) -> None:
    url = f"{CONTRACTS}/{deals.contracts['GRP-001']}/terminate"
    problem(api.as_("buyer_a").post(url, json={"reason": "x"}), 403, "group-contract-needs-group-buyer")


def test_a_contract_past_its_validity_is_expired_and_cannot_be_activated(api: ApiClient, world: World) -> None:
    created = api.as_("group_buyer").post(CONTRACTS, json=contract(world, "OLD-1", valid=(-400, -1))).get_json()
    assert created["status"] == "expired"
    refused = problem(api.as_("group_buyer").post(f"{CONTRACTS}/{created['id']}/activate"), 409,
                      "status-transition-not-allowed")
    assert refused["detail"] == "cannot activate contract OLD-1: it is expired", refused
    expired = api.as_("group_buyer").get(CONTRACTS, query_string={"status": "expired"}).get_json()
    assert [c["number"] for c in expired] == ["OLD-1"]
    assert api.as_("group_buyer").get(CONTRACTS, query_string={"status": "draft"}).get_json() == []


def test_a_contract_ending_today_is_still_active(api: ApiClient, world: World) -> None:
    created = api.as_("group_buyer").post(CONTRACTS, json=contract(world, "LAST-DAY", valid=(-30, 0))).get_json()
    activated = api.as_("group_buyer").post(f"{CONTRACTS}/{created['id']}/activate")
    assert activated.get_json()["status"] == "active"


# --- company over group ---------------------------------------------------------------------

def test_a_company_contract_wins_over_the_group_contract_for_that_company_only(
    api: ApiClient, world: World, deals: Deals
) -> None:
    # a central material in a company contract: only under a steward's exception for its whole validity
    assert grant(api, world, "A", "api_central", (0, 364)).status_code == 201
    special = contract(world, "CA-AMOX", "company", "A", lines=[("api_central", "800")])
    created = api.as_("group_buyer").post(CONTRACTS, json=special).get_json()
    assert api.as_("group_buyer").post(f"{CONTRACTS}/{created['id']}/activate").status_code == 200

    def price(company: str, warehouse: str) -> str:
        response = api.as_("group_buyer").post(ORDERS, json={
            "receiving_company_id": world.companies[company], "supplier_id": world.suppliers["sup1"],
            "lines": [{"material_id": world.materials["api_central"], "quantity": "1",
                       "warehouse_id": world.warehouses[warehouse]}],
        })
        assert response.status_code == 201, response.get_json()
        return f"{response.get_json()['lines'][0]['contract_number']} {response.get_json()['lines'][0]['unit_price']}"

    assert price("A", "A-COOL") == "CA-AMOX 800.000000"
    assert price("B", "B-COOL") == "GRP-001 850.000000"


# --- purchasing rights (finding 46) --------------------------------------------------------------

RIGHTS = "central-material-in-company-contract"


def test_a_company_contract_cannot_price_a_central_material_without_an_exception(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    # Finding 46: buyer_a alone made and activated CA's contract for API-AMOX at 150, and central
    # purchasing's orders for CA then took 150 instead of the group contract's 850.
    _name_material(session_factory, world.materials["api_central"], "阿莫西林", "Amoxicillin")
    payload = contract(world, "CA-AMOX", "company", "A", lines=[("exc_local", "12"), ("api_central", "150")])
    for user in ("buyer_a", "group_buyer"):  # whoever writes it: the contract serves company A
        body = problem(api.as_(user).post(CONTRACTS, json=payload), 422, RIGHTS)
        assert body["detail"] == (
            "API-AMOX Amoxicillin is a central material, bought by central purchasing: a contract of CA Company A "
            "may price it only under a steward's exception for CA Company A, and there is none"), body
        assert body["errors"] == [{"pointer": "/lines/1/material_id", "detail": body["detail"]}]
        assert body["title"] == "A company contract prices a central material only under a steward's exception"
    assert contracts_in_db(session_factory) == 2  # GRP-001 and CA-001 only: nothing written
    # a group contract is central purchasing's own: no exception needed
    group = contract(world, "GRP-AMOX", supplier="sup2", lines=[("api_central", "840")])
    assert api.as_("group_buyer").post(CONTRACTS, json=group).status_code == 201


def test_the_exceptions_must_cover_the_whole_validity_of_the_company_contract(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    assert grant(api, world, "A", "api_central", (0, 99)).status_code == 201
    assert grant(api, world, "B", "api_central", (100, 364)).status_code == 201  # another company's: no use to A
    payload = contract(world, "CA-AMOX", "company", "A", lines=[("api_central", "800")])  # days 0 to 364
    body = problem(api.as_("buyer_a").post(CONTRACTS, json=payload), 422, RIGHTS)
    assert body["errors"] == [{"pointer": "/lines/0/material_id", "detail": body["detail"]}]
    assert body["detail"].endswith(
        f"and none covers {day(100)} (the contract runs from {day(0)} to {day(364)})"), body
    assert contracts_in_db(session_factory) == 2
    # a second exception of A from the day after the first ends: together they cover it
    assert grant(api, world, "A", "api_central", (100, 364)).status_code == 201
    created = api.as_("buyer_a").post(CONTRACTS, json=payload)
    assert created.status_code == 201, created.get_json()


def test_activation_is_refused_when_the_exception_was_revoked_after_the_contract_was_made(
    api: ApiClient, world: World, deals: Deals
) -> None:
    granted = grant(api, world, "A", "api_central", (0, 364)).get_json()
    payload = contract(world, "CA-AMOX", "company", "A", supplier="sup2",
                       lines=[("exc_local", "12"), ("api_central", "150")])
    created = api.as_("buyer_a").post(CONTRACTS, json=payload)
    assert created.status_code == 201, created.get_json()
    revoked = api.as_("steward").post(f"{EXCEPTIONS}/{granted['id']}/revoke", json={"reason": "supplier delivers"})
    assert revoked.status_code == 200, revoked.get_json()
    url = f"{CONTRACTS}/{created.get_json()['id']}"
    body = problem(api.as_("buyer_a").post(f"{url}/activate"), 422, RIGHTS)
    assert body["errors"] == [{"pointer": "/lines/1/material_id", "detail": body["detail"]}]
    assert body["detail"].startswith("API-AMOX") and body["detail"].endswith("and there is none"), body
    assert api.as_("buyer_a").get(url).get_json()["status"] == "draft"  # nothing written


def test_a_company_line_for_a_central_material_stops_applying_when_its_exception_is_revoked(
    api: ApiClient, world: World, deals: Deals
) -> None:
    granted = grant(api, world, "A", "api_central", (0, 364)).get_json()
    created = api.as_("buyer_a").post(CONTRACTS, json=contract(world, "CA-AMOX", "company", "A",
                                                                 lines=[("api_central", "150")])).get_json()
    assert api.as_("buyer_a").post(f"{CONTRACTS}/{created['id']}/activate").status_code == 200

    def central_order_for_a() -> str:
        response = api.as_("group_buyer").post(ORDERS, json={
            "receiving_company_id": world.companies["A"], "supplier_id": world.suppliers["sup1"],
            "lines": [{"material_id": world.materials["api_central"], "quantity": "1",
                       "warehouse_id": world.warehouses["A-COOL"]}],
        })
        assert response.status_code == 201, response.get_json()
        line = response.get_json()["lines"][0]
        return f"{line['contract_number']} {line['unit_price']}"

    assert central_order_for_a() == "CA-AMOX 150.000000"  # under the exception, A's own price
    api.as_("steward").post(f"{EXCEPTIONS}/{granted['id']}/revoke", json={"reason": "supplier delivers"})
    # the active contract stays as it was, but it no longer prices the central material for A
    assert central_order_for_a() == "GRP-001 850.000000"


# --- reading and scoping ----------------------------------------------------------------------

def test_company_users_see_group_contracts_and_their_own_companys(
    api: ApiClient, world: World, deals: Deals
) -> None:
    assert {c["number"] for c in api.as_("buyer_a").get(CONTRACTS).get_json()} == {"GRP-001", "CA-001"}
    assert {c["number"] for c in api.as_("buyer_b").get(CONTRACTS).get_json()} == {"GRP-001"}
    hidden = deals.contracts["CA-001"]
    for answer in (api.as_("buyer_b").get(f"{CONTRACTS}/{hidden}"),
                   api.as_("buyer_b").post(f"{CONTRACTS}/{hidden}/terminate", json={"reason": "x"})):
        assert problem(answer, 404, "not-found")["detail"] == f"contract {hidden} not found"
    assert api.as_("clerk_a").get(f"{CONTRACTS}/{deals.contracts['CA-001']}").status_code == 200


def test_contracts_filter(api: ApiClient, world: World, deals: Deals) -> None:
    reader = api.as_("group_buyer")

    def numbers(**query: Any) -> set[str]:
        response = reader.get(CONTRACTS, query_string=query)
        assert response.status_code == 200, response.get_json()
        return {c["number"] for c in response.get_json()}

    assert numbers(scope="company") == {"CA-001"}
    assert numbers(company_id=world.companies["A"]) == {"CA-001"}
    assert numbers(material_id=world.materials["pkg_loose"]) == {"CA-001"}
    assert numbers(material_id=world.materials["exc_local"]) == {"GRP-001", "CA-001"}
    assert numbers(supplier_id=world.suppliers["sup2"]) == set()
    assert numbers(status="active") == {"GRP-001", "CA-001"}
    assert numbers(valid_on=(deals.valid_to + dt.timedelta(days=1)).isoformat()) == set()
    assert numbers(q="GRP") == {"GRP-001"}
