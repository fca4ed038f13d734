"""Purchase orders through the API: contract prices, every refusal, approval, cancel and close.

Prices and targets are those of tests/purchasing_world.py (sup1: group contract GRP-001,
company A's contract CA-001).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User
from erp.auth.roles import Role
from erp.masterdata.models import Company
from erp.purchasing.models import ContractLine, DocumentSequence, PurchaseOrder, PurchaseOrderLine
from tests.purchasing_world import Deals
from tests.world import ApiClient, World, problem

ORDERS = "/api/v1/purchasing/orders"


def line(world: World, material: str, quantity: Any, warehouse: str, **extra: Any) -> dict[str, Any]:
    return {"material_id": world.materials[material], "quantity": quantity,
            "warehouse_id": world.warehouses[warehouse], **extra}


def order(world: World, company: str, *lines: dict[str, Any], supplier: str = "sup1", **extra: Any) -> dict[str, Any]:
    return {"receiving_company_id": world.companies[company], "supplier_id": world.suppliers[supplier],
            "lines": list(lines), **extra}


def create(api: ApiClient, user: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = api.as_(user).post(ORDERS, json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def act(api: ApiClient, user: str, order_id: int, action: str, **body: Any) -> Any:
    return api.as_(user).post(f"{ORDERS}/{order_id}/{action}", json=body)


def ordered(session_factory: sessionmaker[Session], line_id: int) -> Decimal:
    with session_factory() as session:
        return session.get(ContractLine, line_id).ordered_quantity  # type: ignore[union-attr]


def written(session_factory: sessionmaker[Session]) -> tuple[int, int, int]:
    """Orders, order lines and document series in the database."""
    with session_factory() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (PurchaseOrder, PurchaseOrderLine, DocumentSequence)
        )


def set_threshold(session_factory: sessionmaker[Session], world: World, company: str, value: str) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(Company).where(Company.id == world.companies[company])
                        .values(approval_threshold=Decimal(value)))


# --- prices come from the contract --------------------------------------------------------

def test_company_buyer_orders_a_local_material_at_its_company_contract_price(
    api: ApiClient, world: World, deals: Deals
) -> None:
    body = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))
    assert body["status"] == "draft"
    assert body["number"] == f"PO-CA-{deals.today.year}-000001"
    assert body["purchasing_organisation"] == "CA"
    assert body["order_date"] == deals.today.isoformat()
    [order_line] = body["lines"]
    assert order_line["unit_price"] == "12.345000"
    assert order_line["amount"] == "123.45"  # 10 x 12.345
    assert order_line["contract_number"] == "CA-001"
    assert order_line["contract_line_id"] == deals.lines["CA-001/exc_local"]
    assert order_line["unit_code"] == "KG"
    assert body["total_amount"] == "123.45"


def test_line_amount_is_rounded_half_up_to_the_cent(api: ApiClient, world: World, deals: Deals) -> None:
    body = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB"),
                                        line(world, "exc_local", "0.2", "A-COOL")))
    # 1 x 12.345 = 12.345 -> 12.35 (half-even would give 12.34); 0.2 x 12.345 = 2.469 -> 2.47
    assert [ln["amount"] for ln in body["lines"]] == ["12.35", "2.47"]
    assert body["total_amount"] == "14.82"


def test_group_buyer_orders_a_central_material_for_any_company_at_the_group_price(
    api: ApiClient, world: World, deals: Deals
) -> None:
    body = create(api, "group_buyer", order(world, "B", line(world, "api_central", "2.5", "B-COOL")))
    assert body["number"] == f"PO-GRP-{deals.today.year}-000001"
    assert body["purchasing_organisation"] == "group"
    assert body["purchasing_company_id"] is None
    assert body["lines"][0]["unit_price"] == "850.000000"
    assert body["lines"][0]["amount"] == "2125.00"


def test_company_without_its_own_contract_buys_at_the_group_contract_price(
    api: ApiClient, world: World, deals: Deals
) -> None:
    body = create(api, "buyer_b", order(world, "B", line(world, "exc_local", "10", "B-AMB")))
    assert body["lines"][0]["contract_number"] == "GRP-001"
    assert body["lines"][0]["amount"] == "130.00"


def test_price_sent_by_the_client_is_refused_and_the_stored_price_is_the_contracts(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    cheap = order(world, "A", line(world, "exc_local", "10", "A-AMB", unit_price="0.01", amount="0.10"))
    body = problem(api.as_("buyer_a").post(ORDERS, json=cheap), 422, "validation-error")
    assert {e["pointer"] for e in body["errors"]} == {"/lines/0/unit_price", "/lines/0/amount"}
    assert written(session_factory) == (0, 0, 0)

    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))
    with session_factory() as session:
        stored = session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == created["id"])).one()
        assert stored.unit_price == Decimal("12.345")
        assert stored.unit_price == session.get(ContractLine, deals.lines["CA-001/exc_local"]).unit_price  # type: ignore[union-attr]
        assert stored.amount == Decimal("123.45")


def test_total_sent_by_the_client_is_refused(api: ApiClient, world: World, deals: Deals) -> None:
    payload = order(world, "A", line(world, "exc_local", "10", "A-AMB"), total_amount="1.00")
    body = problem(api.as_("buyer_a").post(ORDERS, json=payload), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/total_amount"


def test_named_contract_line_that_applies_is_accepted(api: ApiClient, world: World, deals: Deals) -> None:
    named = line(world, "exc_local", "10", "A-AMB", contract_line_id=deals.lines["CA-001/exc_local"])
    assert create(api, "buyer_a", order(world, "A", named))["lines"][0]["unit_price"] == "12.345000"


# --- refusals: each names its rule and writes nothing -------------------------------------------

YESTERDAY = "yesterday"


@pytest.mark.parametrize(
    ("user", "company", "lines", "extra", "status", "slug", "pointer"),
    [
        # rights
        ("buyer_a", "A", [("api_central", "1", "A-COOL")], {}, 403, "central-material-needs-group-purchasing",
         "/lines/0/material_id"),
        ("buyer_b", "A", [("exc_local", "1", "A-AMB")], {}, 403, "not-buyer-of-receiving-company",
         "/lines/0/material_id"),
        ("group_buyer", "A", [("exc_local", "1", "A-AMB")], {}, 403, "local-material-needs-company-buyer",
         "/lines/0/material_id"),
        ("clerk_a", "A", [("exc_local", "1", "A-AMB")], {}, 403, "role-not-allowed", None),
        ("pm_a", "A", [("exc_local", "1", "A-AMB")], {}, 403, "role-not-allowed", None),
        # master data
        ("buyer_a", "A", [("exc_local", "1", "A-AMB")], {"supplier": "blocked"}, 422, "supplier-blocked",
         "/lines/0/material_id"),
        ("buyer_a", "A", [("inactive", "1", "A-AMB")], {}, 422, "material-inactive", "/lines/0/material_id"),
        # contracts
        ("buyer_a", "A", [("exc_local", "1", "A-AMB")], {"supplier": "sup2"}, 422, "no-valid-contract",
         "/lines/0/material_id"),
        ("buyer_a", "A", [("exc_local", "1", "A-AMB")], {"contract_line": "GRP-001/exc_local"}, 422,
         "contract-line-not-applicable", "/lines/0/contract_line_id"),
        # warehouses
        ("buyer_a", "A", [("exc_local", "1", "B-AMB")], {}, 422, "warehouse-not-of-receiving-company",
         "/lines/0/warehouse_id"),
        ("group_buyer", "A", [("api_central", "1", "A-AMB")], {}, 422, "storage-conditions-not-met",
         "/lines/0/warehouse_id"),
        ("group_buyer", "A", [("cold_central", "1", "A-COOL")], {}, 422, "storage-conditions-not-met",
         "/lines/0/warehouse_id"),
        # quantities
        ("buyer_a", "A", [("exc_local", "0", "A-AMB")], {}, 422, "quantity-not-positive", "/lines/0/quantity"),
        ("buyer_a", "A", [("exc_local", "-5", "A-AMB")], {}, 422, "quantity-not-positive", "/lines/0/quantity"),
        ("buyer_a", "A", [("exc_local", "1000000001", "A-AMB")], {}, 422, "quantity-too-large",
         "/lines/0/quantity"),
        # 100,000,000 kg x 12,000 = 1.2e12 CNY on one line
        ("group_buyer", "A", [("cold_central", "100000000", "A-COLD")], {}, 422, "quantity-too-large",
         "/lines/0/quantity"),
        ("buyer_a", "A", [("exc_local", "1.2345", "A-AMB")], {}, 422, "quantity-too-precise", "/lines/0/quantity"),
        ("buyer_a", "A", [("pkg_loose", "1.5", "A-AMB")], {}, 422, "quantity-too-precise", "/lines/0/quantity"),
        # the second line is the bad one: the pointer says so, and the good first line is not written either
        ("buyer_a", "A", [("exc_local", "1", "A-AMB"), ("pkg_loose", "2", "B-AMB")], {}, 422,
         "warehouse-not-of-receiving-company", "/lines/1/warehouse_id"),
        # dates
        ("buyer_a", "A", [("exc_local", "1", "A-AMB")], {"order_date": YESTERDAY}, 422, "order-date-in-past",
         "/order_date"),
    ],
)
def test_refused_order_names_the_rule_and_writes_nothing(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session],
    user: str, company: str, lines: list[tuple[str, str, str]], extra: dict[str, str], status: int, slug: str,
    pointer: str | None,
) -> None:
    order_lines = [line(world, m, q, w) for m, q, w in lines]
    if "contract_line" in extra:
        order_lines[0]["contract_line_id"] = deals.lines[extra["contract_line"]]
    payload = order(world, company, *order_lines, supplier=extra.get("supplier", "sup1"))
    if "order_date" in extra:
        payload["order_date"] = (deals.today - dt.timedelta(days=1)).isoformat()
    body = problem(api.as_(user).post(ORDERS, json=payload), status, slug)
    if pointer is not None:
        assert body["errors"][0]["pointer"] == pointer, body
    assert written(session_factory) == (0, 0, 0)


def test_order_needs_at_least_one_line(api: ApiClient, world: World, deals: Deals) -> None:
    body = problem(api.as_("buyer_a").post(ORDERS, json=order(world, "A")), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/lines"


def test_unknown_receiving_company_is_named(api: ApiClient, world: World, deals: Deals) -> None:
    payload = order(world, "A", line(world, "exc_local", "1", "A-AMB"))
    payload["receiving_company_id"] = 4242
    body = problem(api.as_("buyer_a").post(ORDERS, json=payload), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/receiving_company_id"


# --- numbering ------------------------------------------------------------------------------

def test_numbers_run_per_purchasing_organisation(api: ApiClient, world: World, deals: Deals) -> None:
    year = deals.today.year
    numbers = [
        create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))["number"],
        create(api, "group_buyer", order(world, "A", line(world, "api_central", "1", "A-COOL")))["number"],
        create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))["number"],
        create(api, "buyer_b", order(world, "B", line(world, "exc_local", "1", "B-AMB")))["number"],
        create(api, "group_buyer", order(world, "B", line(world, "api_central", "1", "B-COOL")))["number"],
    ]
    assert numbers == [
        f"PO-CA-{year}-000001", f"PO-GRP-{year}-000001", f"PO-CA-{year}-000002", f"PO-CB-{year}-000001",
        f"PO-GRP-{year}-000002",
    ]


# --- submission and approval ------------------------------------------------------------------

def test_order_within_the_threshold_opens_on_submit(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    # 200 kg x 850 = 170,000.00: not above the default 200,000
    created = create(api, "group_buyer", order(world, "A", line(world, "api_central", "200", "A-COOL")))
    assert created["total_amount"] == "170000.00"
    submitted = act(api, "group_buyer", created["id"], "submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "open"
    assert submitted.get_json()["submitted_at"]
    assert ordered(session_factory, deals.lines["GRP-001/api_central"]) == Decimal("200")


def test_order_exactly_at_the_threshold_needs_no_approval(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    set_threshold(session_factory, world, "A", "123.45")
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))  # 123.45
    assert act(api, "buyer_a", created["id"], "submit").get_json()["status"] == "open"


def test_approval_flow_end_to_end_for_a_central_order(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    consumption = deals.lines["GRP-001/api_central"]
    # 300 kg x 850 = 255,000.00 > 200,000 (company A has no threshold of its own)
    created = create(api, "group_buyer", order(world, "A", line(world, "api_central", "300", "A-COOL")))
    assert created["total_amount"] == "255000.00"
    assert ordered(session_factory, consumption) == 0  # a draft does not consume the contract yet

    pending = act(api, "group_buyer", created["id"], "submit").get_json()
    assert pending["status"] == "pending_approval"
    assert ordered(session_factory, consumption) == Decimal("300")

    # a central order needs a group-wide purchasing manager; buyers do not approve at all
    problem(act(api, "pm_a", created["id"], "approve"), 403, "not-approver-of-order")
    problem(act(api, "group_buyer", created["id"], "approve"), 403, "role-not-allowed")

    rejected = act(api, "pm_group", created["id"], "reject", reason="split into two deliveries")
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.get_json()["status"] == "draft"
    assert rejected.get_json()["status_reason"] == "split into two deliveries"
    assert ordered(session_factory, consumption) == 0  # released until submitted again

    assert act(api, "group_buyer", created["id"], "submit").get_json()["status"] == "pending_approval"
    approved = act(api, "pm_group", created["id"], "approve")
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "open"
    assert body["approved_by"] == world.users["pm_group"]
    assert body["approved_at"]
    assert ordered(session_factory, consumption) == Decimal("300")
    problem(act(api, "pm_group", created["id"], "approve"), 409, "status-transition-not-allowed")


def test_company_threshold_overrides_the_default_and_its_manager_approves(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    set_threshold(session_factory, world, "A", "100")
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))  # 123.45
    assert act(api, "buyer_a", created["id"], "submit").get_json()["status"] == "pending_approval"
    assert act(api, "pm_a", created["id"], "approve").get_json()["status"] == "open"


def test_the_creator_cannot_approve_their_own_order(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    set_threshold(session_factory, world, "A", "100")
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))
    act(api, "buyer_a", created["id"], "submit")
    # buyer_a is promoted to purchasing manager of company A while the order waits
    with session_factory() as session, session.begin():
        session.execute(update(User).where(User.id == world.users["buyer_a"]).values(role=Role.PURCHASING_MANAGER))
    body = problem(act(api, "buyer_a", created["id"], "approve"), 403, "approver-is-creator")
    assert created["number"] in body["detail"]
    problem(act(api, "buyer_a", created["id"], "reject", reason="mine"), 403, "approver-is-creator")
    assert api.as_("pm_a").get(f"{ORDERS}/{created['id']}").get_json()["status"] == "pending_approval"
    assert act(api, "pm_a", created["id"], "approve").get_json()["status"] == "open"


def test_manager_of_another_company_cannot_see_or_approve(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    set_threshold(session_factory, world, "B", "100")
    created = create(api, "buyer_b", order(world, "B", line(world, "exc_local", "10", "B-AMB")))  # 130.00
    act(api, "buyer_b", created["id"], "submit")
    refused = problem(act(api, "pm_a", created["id"], "approve"), 404, "not-found")
    assert str(created["id"]) in refused["detail"], refused["detail"]
    assert api.as_("buyer_b").get(f"{ORDERS}/{created['id']}").get_json()["status"] == "pending_approval"
    assert act(api, "pm_group", created["id"], "approve").get_json()["status"] == "open"


def test_reject_needs_a_reason(api: ApiClient, world: World, deals: Deals) -> None:
    created = create(api, "group_buyer", order(world, "A", line(world, "api_central", "300", "A-COOL")))
    act(api, "group_buyer", created["id"], "submit")
    body = problem(act(api, "pm_group", created["id"], "reject"), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/reason"


def test_only_the_purchasing_organisation_submits(api: ApiClient, world: World, deals: Deals) -> None:
    central = create(api, "group_buyer", order(world, "A", line(world, "api_central", "1", "A-COOL")))
    problem(act(api, "buyer_a", central["id"], "submit"), 403, "not-purchaser-of-order")
    local = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))
    problem(act(api, "group_buyer", local["id"], "submit"), 403, "not-purchaser-of-order")


def test_submit_checks_the_lines_again(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))
    terminated = api.as_("buyer_a").post(f"/api/v1/purchasing/contracts/{deals.contracts['CA-001']}/terminate",
                                         json={"reason": "supplier merged"})
    assert terminated.status_code == 200, terminated.get_json()
    # company A now falls back to the group contract: the draft's line is no longer the one that applies
    problem(act(api, "buyer_a", created["id"], "submit"), 422, "contract-line-not-applicable")
    assert api.as_("buyer_a").get(f"{ORDERS}/{created['id']}").get_json()["status"] == "draft"
    assert ordered(session_factory, deals.lines["CA-001/exc_local"]) == 0


# --- editing drafts -----------------------------------------------------------------------------

def test_draft_lines_can_be_replaced_and_are_repriced(api: ApiClient, world: World, deals: Deals) -> None:
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))
    url = f"{ORDERS}/{created['id']}/lines"
    changed = api.as_("buyer_a").put(url, json={"lines": [line(world, "pkg_loose", "1000", "A-AMB"),
                                                          line(world, "exc_local", "2", "A-COOL")]})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    # 1000 x 0.35 = 350.00; 2 x 12.345 = 24.69
    assert [(ln["line_no"], ln["amount"]) for ln in body["lines"]] == [(1, "350.00"), (2, "24.69")]
    assert body["total_amount"] == "374.69"
    act(api, "buyer_a", created["id"], "submit")
    again = api.as_("buyer_a").put(url, json={"lines": [line(world, "exc_local", "1", "A-AMB")]})
    problem(again, 409, "status-transition-not-allowed")


# --- cancel and close ---------------------------------------------------------------------------

def test_cancelling_a_submitted_order_releases_its_contract_consumption(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    created = create(api, "group_buyer", order(world, "A", line(world, "api_central", "300", "A-COOL"),
                                               line(world, "api_central", "20", "A-COLD")))
    act(api, "group_buyer", created["id"], "submit")
    assert ordered(session_factory, deals.lines["GRP-001/api_central"]) == Decimal("320")
    cancelled = act(api, "pm_group", created["id"], "cancel", reason="plant shutdown")
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert (body["status"], body["status_reason"], body["cancelled_by"]) == (
        "cancelled", "plant shutdown", world.users["pm_group"])
    assert ordered(session_factory, deals.lines["GRP-001/api_central"]) == 0
    problem(act(api, "group_buyer", created["id"], "cancel"), 409, "status-transition-not-allowed")


def test_a_draft_can_be_cancelled_without_a_reason(api: ApiClient, world: World, deals: Deals) -> None:
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))
    assert api.as_("buyer_a").post(f"{ORDERS}/{created['id']}/cancel").get_json()["status"] == "cancelled"


def test_an_order_with_receipts_cannot_be_cancelled_only_closed(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "10", "A-AMB")))
    act(api, "buyer_a", created["id"], "submit")
    # what a goods receipt of 4 kg does to the order (erp.purchasing.receiving)
    with session_factory() as session, session.begin():
        session.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.order_id == created["id"])
                        .values(received_quantity=Decimal("4")))
        session.execute(update(PurchaseOrder).where(PurchaseOrder.id == created["id"])
                        .values(status="partially_received"))
    problem(act(api, "buyer_a", created["id"], "cancel"), 409, "order-has-receipts")
    closed = act(api, "buyer_a", created["id"], "close", reason="supplier cannot deliver the rest")
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["status"] == "closed"
    # closing keeps what was ordered on the contract
    assert ordered(session_factory, deals.lines["CA-001/exc_local"]) == Decimal("10")


def test_only_open_or_partially_received_orders_close(api: ApiClient, world: World, deals: Deals) -> None:
    created = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))
    problem(act(api, "buyer_a", created["id"], "close"), 409, "status-transition-not-allowed")
    act(api, "buyer_a", created["id"], "submit")
    assert act(api, "buyer_a", created["id"], "close").get_json()["status"] == "closed"


# --- contract consumption warnings --------------------------------------------------------------

def test_ordering_past_the_contract_target_warns_but_does_not_refuse(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    first = create(api, "group_buyer", order(world, "A", line(world, "api_central", "600", "A-COOL")))
    assert first["warnings"] == []
    act(api, "group_buyer", first["id"], "submit")

    second = create(api, "group_buyer", order(world, "B", line(world, "api_central", "500", "B-COOL")))
    # 600 ordered + 500 in this draft = 1100 against a target of 1000
    [warning] = second["warnings"]
    assert warning["type"] == "contract-target-exceeded"
    assert (warning["contract_number"], warning["material_code"]) == ("GRP-001", "API-AMOX")
    assert (warning["ordered_quantity"], warning["target_quantity"]) == ("1100.0000", "1000.0000")
    submitted = act(api, "group_buyer", second["id"], "submit").get_json()
    assert submitted["status"] == "pending_approval"  # 425,000.00
    assert submitted["warnings"][0]["ordered_quantity"] == "1100.0000"

    contract = api.as_("group_buyer").get(f"/api/v1/purchasing/contracts/{deals.contracts['GRP-001']}").get_json()
    amox = next(ln for ln in contract["lines"] if ln["material_code"] == "API-AMOX")
    assert (amox["ordered_quantity"], amox["target_quantity"], amox["remaining_quantity"]) == (
        "1100.0000", "1000.0000", "-100.0000")
    assert [w["material_code"] for w in contract["warnings"]] == ["API-AMOX"]

    act(api, "group_buyer", second["id"], "cancel")
    contract = api.as_("group_buyer").get(f"/api/v1/purchasing/contracts/{deals.contracts['GRP-001']}").get_json()
    assert contract["warnings"] == []
    assert ordered(session_factory, deals.lines["GRP-001/api_central"]) == Decimal("600")


# --- reading and scoping ------------------------------------------------------------------------

def test_company_users_see_only_orders_for_their_companies(api: ApiClient, world: World, deals: Deals) -> None:
    for_a = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))
    central_for_a = create(api, "group_buyer", order(world, "A", line(world, "api_central", "1", "A-COOL")))
    for_b = create(api, "buyer_b", order(world, "B", line(world, "exc_local", "1", "B-AMB")))

    listed = {o["number"] for o in api.as_("buyer_a").get(ORDERS).get_json()}
    assert listed == {for_a["number"], central_for_a["number"]}
    problem(api.as_("buyer_a").get(f"{ORDERS}/{for_b['id']}"), 404)
    refused = problem(act(api, "buyer_a", for_b["id"], "cancel"), 404, "not-found")
    assert str(for_b["id"]) in refused["detail"], refused["detail"]
    assert api.as_("buyer_b").get(f"{ORDERS}/{for_b['id']}").get_json()["status"] == for_b["status"]  # not cancelled
    assert api.as_("clerk_a").get(f"{ORDERS}/{for_a['id']}").status_code == 200
    assert len(api.as_("group_buyer").get(ORDERS).get_json()) == 3
    assert len(api.as_("cio").get(ORDERS).get_json()) == 3


def test_orders_filter_by_status_organisation_and_supplier(api: ApiClient, world: World, deals: Deals) -> None:
    local = create(api, "buyer_a", order(world, "A", line(world, "exc_local", "1", "A-AMB")))
    central = create(api, "group_buyer", order(world, "A", line(world, "api_central", "1", "A-COOL")))
    act(api, "group_buyer", central["id"], "submit")
    reader = api.as_("group_buyer")

    def numbers(**query: Any) -> list[str]:
        response = reader.get(ORDERS, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [o["number"] for o in response.get_json()]

    assert numbers(status="open") == [central["number"]]
    assert numbers(central="true") == [central["number"]]
    assert numbers(central="false") == [local["number"]]
    assert numbers(supplier_id=world.suppliers["sup2"]) == []
    assert numbers(receiving_company_id=world.companies["A"]) == [central["number"], local["number"]]
    assert numbers(q="PO-CA") == [local["number"]]


def test_an_inactive_warehouse_takes_no_deliveries(
    api: ApiClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    api.as_("steward").post(f"/api/v1/warehouses/{world.warehouses['A-AMB']}/deactivate")
    body = problem(api.as_("buyer_a").post(ORDERS, json=order(world, "A", line(world, "exc_local", "1", "A-AMB"))),
                   422, "warehouse-inactive")
    assert body["errors"][0]["pointer"] == "/lines/0/warehouse_id"
    assert written(session_factory) == (0, 0, 0)
