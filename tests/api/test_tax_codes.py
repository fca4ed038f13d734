"""Tax codes as master data: life cycle, audit trail, consistency, defaults and validity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import ValidationFailed
from erp.masterdata.tax import line_amounts, tax_code_for
from tests.tax import create_china_vat
from tests.world import ApiClient, World, problem

VAT16 = {"code": "VAT16", "name_zh": "增值税 16%", "name_en": "VAT 16%", "kind": "standard", "rate": "16",
         "valid_from": "2018-05-01", "valid_to": "2019-03-31"}


def test_steward_creates_changes_and_deactivates_a_tax_code_and_each_step_is_audited(api: ApiClient) -> None:
    steward = api.as_("steward")
    created = steward.post("/api/v1/tax-codes", json=VAT16)
    assert created.status_code == 201, created.get_json()
    code = created.get_json()
    assert (code["rate"], code["kind"], code["valid_from"], code["valid_to"]) == ("16.00", "standard",
                                                                                  "2018-05-01", "2019-03-31")
    url = f"/api/v1/tax-codes/{code['id']}"
    changed = steward.patch(url, json={"valid_to": "2019-04-30", "reason": "transition month"})
    assert changed.status_code == 200 and changed.get_json()["valid_to"] == "2019-04-30"
    assert steward.post(f"{url}/deactivate", json={"reason": "superseded by VAT13"}).get_json()["active"] is False

    history = api.as_("auditor").get(f"/api/v1/audit/tax_code/{code['id']}").get_json()
    assert [event["action"] for event in history] == ["deactivate", "change", "create"]
    assert history[1]["changes"]["valid_to"] == {"before": "2019-03-31", "after": "2019-04-30"}
    assert history[1]["reason"] == "transition month"


def test_only_stewards_maintain_tax_codes_everyone_reads_them(api: ApiClient) -> None:
    problem(api.as_("buyer_a").post("/api/v1/tax-codes", json=VAT16), 403, "role-not-allowed")
    api.as_("steward").post("/api/v1/tax-codes", json=VAT16)
    listed = api.as_("clerk_a").get("/api/v1/tax-codes").get_json()
    assert [row["code"] for row in listed] == ["VAT16"]


@pytest.mark.parametrize(("change", "pointer"), [
    ({"kind": "exempt", "rate": "3"}, "/rate"),  # exempt lines carry no tax
    ({"kind": "zero", "rate": "13"}, "/rate"),
    ({"kind": "standard", "rate": "0"}, "/rate"),
    ({"valid_to": "2018-04-30"}, "/valid_to"),  # ends before it starts
    ({"rate": "100.001"}, "/rate"),
])
def test_inconsistent_tax_codes_are_refused_and_nothing_is_written(
        api: ApiClient, change: dict[str, str], pointer: str) -> None:
    body = problem(api.as_("steward").post("/api/v1/tax-codes", json={**VAT16, **change}), 422)
    assert body["errors"][0]["pointer"] == pointer
    assert api.as_("steward").get("/api/v1/tax-codes").get_json() == []


def test_duplicate_code_names_the_holder(api: ApiClient) -> None:
    api.as_("steward").post("/api/v1/tax-codes", json=VAT16)
    body = problem(api.as_("steward").post("/api/v1/tax-codes", json=VAT16), 409, "duplicate-code")
    assert "VAT16" in body["detail"]


def test_defaults_are_set_on_materials_and_partners_and_must_be_active_codes(
        api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    codes = create_china_vat(session_factory, world)
    steward = api.as_("steward")
    material = steward.patch(f"/api/v1/materials/{world.materials['exc_local']}",
                             json={"default_tax_code_id": codes["VAT13"]})
    assert material.status_code == 200 and material.get_json()["default_tax_code_id"] == codes["VAT13"]
    supplier = steward.patch(f"/api/v1/suppliers/{world.suppliers['sup2']}",
                             json={"default_tax_code_id": codes["VAT3"]})
    assert supplier.get_json()["default_tax_code_id"] == codes["VAT3"]
    customer = steward.patch(f"/api/v1/customers/{world.customers['cust1']}",
                             json={"default_tax_code_id": codes["VAT0"]})
    assert customer.get_json()["default_tax_code_id"] == codes["VAT0"]
    steward.post(f"/api/v1/tax-codes/{codes['VAT6']}/deactivate")
    body = problem(steward.patch(f"/api/v1/materials/{world.materials['exc_local']}",
                                 json={"default_tax_code_id": codes["VAT6"]}), 422)
    assert body["errors"][0]["pointer"] == "/default_tax_code_id"
    cleared = steward.patch(f"/api/v1/suppliers/{world.suppliers['sup2']}", json={"default_tax_code_id": None})
    assert cleared.get_json()["default_tax_code_id"] is None


def test_the_partners_code_comes_before_the_materials_and_a_line_code_before_both(
        api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    codes = create_china_vat(session_factory, world)
    steward = api.as_("steward")
    steward.patch(f"/api/v1/materials/{world.materials['exc_local']}", json={"default_tax_code_id": codes["VAT13"]})
    steward.patch(f"/api/v1/suppliers/{world.suppliers['sup2']}", json={"default_tax_code_id": codes["VAT3"]})
    day = dt.date(2026, 11, 29)
    material = world.materials["exc_local"]
    with session_factory() as session:
        # a general taxpayer supplier: the goods' 13 %
        assert tax_code_for(session, day=day, material_id=material, supplier_id=world.suppliers["sup1"]).code == "VAT13"
        # a small-scale taxpayer supplier invoices 3 % whatever the goods
        assert tax_code_for(session, day=day, material_id=material, supplier_id=world.suppliers["sup2"]).rate == D("3")
        # the line's own code wins
        assert tax_code_for(session, day=day, material_id=material, supplier_id=world.suppliers["sup2"],
                            tax_code_id=codes["VAT9"]).code == "VAT9"
        with pytest.raises(ValidationFailed) as refused:
            tax_code_for(session, day=day, material_id=world.materials["pkg_loose"], supplier_id=world.suppliers["sup1"])
        assert refused.value.slug == "no-tax-code"


def test_a_code_taxes_only_documents_dated_within_its_validity(
        api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    vat16 = api.as_("steward").post("/api/v1/tax-codes", json=VAT16).get_json()["id"]
    with session_factory() as session:
        rate = tax_code_for(session, day=dt.date(2019, 3, 31), tax_code_id=vat16)
        # 100 x 12.00 at 16 %: 1,200.00 + 192.00
        amounts = line_amounts(D("100"), D("12.00"), rate.rate)
        assert (amounts.net, amounts.tax, amounts.gross) == (D("1200.00"), D("192.00"), D("1392.00"))
        for day in (dt.date(2018, 4, 30), dt.date(2019, 4, 1)):
            with pytest.raises(ValidationFailed) as refused:
                tax_code_for(session, day=day, tax_code_id=vat16)
            assert refused.value.slug == "tax-code-not-in-force"
