"""Contracts and purchasing exceptions in a real browser, in Chinese, on the demo group.

Central purchasing (group.buyer) is refused a group contract that overlaps one in force,
with the rule's sentence, and then records and activates one of its own; FORM01's buyer
records a company contract and terminates it with a reason (refused first without one);
the steward is refused an exception for a local material and grants and revokes one for a
central material; the warehouse clerk has neither page in the menu and is refused them.

The demo's own contracts and exception are read, never changed (other browser tests order
under them): what these tests make lies in 2190, beyond anything the demo prices.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, joinedload

from erp.clock import business_today
from erp.masterdata.models import Material, ProcurementScope, Supplier
from erp.purchasing.models import Contract, ContractLine, ContractScope, ContractStatus


def _group_contract_line(engine: Engine) -> tuple[str, str, str]:
    """An active group contract of the demo: its number, supplier code and one material code."""
    with Session(engine) as session:
        line = session.scalars(
            select(ContractLine).join(ContractLine.contract)
            .where(Contract.scope == ContractScope.GROUP, Contract.status == ContractStatus.ACTIVE,
                   Contract.valid_to > Contract.valid_from)
            .options(joinedload(ContractLine.contract).joinedload(Contract.supplier), joinedload(ContractLine.material))
            .order_by(Contract.valid_to.desc(), Contract.number)
        ).first()
        assert line is not None
        return line.contract.number, line.contract.supplier.code, line.material.code


def _codes(engine: Engine, scope: ProcurementScope) -> tuple[str, str]:
    """A material of ``scope`` and a supplier, by code."""
    with Session(engine) as session:
        material = session.scalars(select(Material).where(Material.procurement_scope == scope, Material.active)
                                   .order_by(Material.code)).first()
        supplier = session.scalars(select(Supplier).where(Supplier.blocked.is_(False)).order_by(Supplier.code)).first()
        assert material is not None and supplier is not None
        return material.code, supplier.code


def test_central_purchasing_is_refused_an_overlap_then_records_and_activates_a_contract(
    signed_in: Any, shot: Any, browser_engine: Engine
) -> None:
    number, supplier, material = _group_contract_line(browser_engine)
    page = signed_in("group.buyer")
    page.locator("nav.menu").get_by_role("link", name="合同", exact=True).click()
    assert page.url.endswith("/purchasing/contracts")
    assert page.get_by_test_id("contracts").is_visible()
    shot(page, "contracts")
    page.select_option("select[name=status]", "draft")
    page.get_by_role("button", name="查询").click()
    for status in page.locator("[data-testid^=status-]").all_inner_texts():
        assert status == "草稿"
    shot(page, "draft-contracts")

    page.get_by_test_id("new-contract").click()
    page.fill("#f-number", "HT-GRP-OVERLAP-1")
    page.fill("#f-supplier_id", supplier)
    page.select_option("#f-scope", "group")
    page.fill("[data-testid=material_id-0]", material)
    page.fill("[data-testid=unit_price-0]", "100.5")
    page.fill("#f-valid_to", f"{business_today() + dt.timedelta(days=30):%Y-%m-%d}")  # from today (the default)
    shot(page, "new-group-contract")
    page.get_by_test_id("create-contract").click()
    refusal = page.get_by_test_id("refusal").inner_text()
    assert f"合同 {number} 已" in refusal and material in refusal and supplier in refusal, refusal
    assert page.input_value("[data-testid=unit_price-0]") == "100.5"  # nothing typed is lost
    shot(page, "overlap-refused")

    page.fill("#f-number", "HT-GRP-2190-001")
    page.fill("#f-valid_from", "2190-01-01")
    page.fill("#f-valid_to", "2190-12-31")
    page.get_by_test_id("more-lines").click()
    assert page.locator("[data-testid=material_id-3]").count() == 1
    assert page.input_value("#f-number") == "HT-GRP-2190-001"
    page.fill("[data-testid=target_quantity-0]", "1000")
    page.get_by_test_id("create-contract").click()
    assert page.get_by_test_id("contract-status").inner_text() == "草稿"
    assert "已记录为草稿" in page.get_by_test_id("done").inner_text()
    shot(page, "draft-recorded")
    page.get_by_test_id("activate").click()
    assert page.get_by_test_id("contract-status").inner_text() == "生效中"
    assert page.get_by_test_id("activate").count() == 0
    shot(page, "activated")


def test_a_buyer_records_a_company_contract_and_terminates_it(
    signed_in: Any, shot: Any, browser_engine: Engine
) -> None:
    material, supplier = _codes(browser_engine, ProcurementScope.LOCAL)
    page = signed_in("buyer.form01")
    page.get_by_role("link", name="新建合同", exact=True).click()
    assert page.locator("#f-scope option").all_inner_texts() == ["公司合同"]  # group contracts are central purchasing's
    page.fill("#f-number", "HT-FORM01-2190-001")
    page.fill("#f-supplier_id", supplier)
    page.select_option("#f-company_id", "FORM01")
    page.fill("#f-valid_from", "2190-01-01")
    page.fill("#f-valid_to", "2190-06-30")
    page.fill("[data-testid=material_id-0]", material)
    page.fill("[data-testid=unit_price-0]", "6.2")
    shot(page, "new-company-contract")
    page.get_by_test_id("create-contract").click()
    assert page.get_by_test_id("contract-status").inner_text() == "草稿"

    page.get_by_test_id("terminate").click()
    assert page.get_by_test_id("error-reason").inner_text() == "请说明终止合同的原因"
    assert "reason" not in page.get_by_test_id("refusal").inner_text()  # the field by its label
    shot(page, "terminate-refused-without-reason")
    page.fill("#f-reason", "价格未获批准，不再签署")
    page.get_by_test_id("terminate").click()
    assert page.get_by_test_id("contract-status").inner_text() == "已终止"
    text = page.content()
    assert "价格未获批准，不再签署" in text and "buyer.form01" in text
    shot(page, "terminated")
    page.locator("nav.menu").get_by_role("link", name="合同", exact=True).click()
    row = page.locator("tr[data-contract='HT-FORM01-2190-001']")
    assert "已终止" in row.inner_text() and "公司合同" in row.inner_text()
    shot(page, "contracts-with-terminated")


def test_a_buyer_is_refused_a_central_material_in_a_company_contract_beside_its_line(
    signed_in: Any, shot: Any, browser_engine: Engine
) -> None:
    # Finding 46: a company contract for a central material would win over the group's price on
    # central purchasing's own orders. Refused when made, and on activation once the steward's
    # exception it was made under is revoked; each time beside the line, with the rule's title.
    local, supplier = _codes(browser_engine, ProcurementScope.LOCAL)
    central, _ = _codes(browser_engine, ProcurementScope.CENTRAL)
    title = "公司合同只有在主数据管理员的例外授权下才能为集中采购物料定价"
    buyer = signed_in("buyer.form01")
    buyer.get_by_role("link", name="新建合同", exact=True).click()
    buyer.fill("#f-number", "HT-FORM01-2190-CEN")
    buyer.fill("#f-supplier_id", supplier)
    buyer.select_option("#f-company_id", "FORM01")
    buyer.fill("#f-valid_from", "2190-07-01")
    buyer.fill("#f-valid_to", "2190-07-31")
    buyer.fill("[data-testid=material_id-0]", local)
    buyer.fill("[data-testid=unit_price-0]", "6.2")
    buyer.fill("[data-testid=material_id-1]", central)
    buyer.fill("[data-testid=unit_price-1]", "150")
    buyer.get_by_test_id("create-contract").click()
    buyer.get_by_test_id("refusal-title").wait_for()
    assert buyer.get_by_test_id("refusal-title").inner_text() == title
    beside = buyer.get_by_test_id("error-material_id-1").inner_text()
    assert beside.startswith(f"{central} ") and "是集中采购物料" in beside and "FORM01" in beside, beside
    assert buyer.get_by_test_id("error-material_id-0").count() == 0
    assert buyer.input_value("[data-testid=unit_price-1]") == "150"  # nothing typed is lost
    shot(buyer, "central-material-refused")

    steward = signed_in("steward")
    steward.goto("/purchasing/exceptions/new")
    steward.select_option("#f-company_id", "FORM01")
    steward.fill("#f-material_id", central)
    steward.fill("#f-valid_from", "2190-07-01")
    steward.fill("#f-valid_to", "2190-07-31")
    steward.fill("#f-reason", "集中采购供应商停产，临时自主采购")
    steward.get_by_test_id("grant").click()
    steward.get_by_test_id("done").wait_for()
    buyer.get_by_test_id("create-contract").click()  # the same form, now under the exception
    buyer.get_by_test_id("contract-status").wait_for()
    assert buyer.get_by_test_id("contract-status").inner_text() == "草稿"
    steward.fill("#f-reason", "集中采购已恢复供货")
    steward.get_by_test_id("revoke").click()
    steward.get_by_test_id("exception-state").wait_for()
    assert steward.get_by_test_id("exception-state").inner_text() == "已撤销"

    buyer.get_by_test_id("activate").click()
    buyer.get_by_test_id("refusal-title").wait_for()
    assert buyer.get_by_test_id("refusal-title").inner_text() == title
    assert buyer.get_by_test_id(f"error-line-{central}").inner_text().endswith("而该公司没有此例外授权")
    assert buyer.get_by_test_id("contract-status").inner_text() == "草稿"
    shot(buyer, "activation-refused")


def test_the_steward_is_refused_a_local_material_and_grants_and_revokes_an_exception(
    signed_in: Any, shot: Any, browser_engine: Engine
) -> None:
    local, _ = _codes(browser_engine, ProcurementScope.LOCAL)
    central, _ = _codes(browser_engine, ProcurementScope.CENTRAL)
    page = signed_in("steward")
    page.get_by_role("link", name="例外授权", exact=True).click()
    table = page.get_by_test_id("exceptions")
    assert "API-AMOX" in table.inner_text() and "FORM01" in table.inner_text()  # the demo's exception
    shot(page, "exceptions")

    page.get_by_test_id("new-exception").click()
    page.select_option("#f-company_id", "FORM02")
    page.fill("#f-material_id", local)
    page.fill("#f-valid_from", "2190-03-01")
    page.fill("#f-valid_to", "2190-03-31")
    page.fill("#f-reason", "集中采购供应商停产，临时自主采购")
    page.get_by_test_id("grant").click()
    assert page.get_by_test_id("error-material_id").inner_text() == "不是集中采购物料"
    assert f"{local} 是自主采购物料" in page.get_by_test_id("refusal").inner_text()
    assert page.input_value("#f-reason") == "集中采购供应商停产，临时自主采购"
    shot(page, "local-material-refused")

    page.fill("#f-material_id", central)
    page.get_by_test_id("grant").click()
    assert "已授予" in page.get_by_test_id("done").inner_text()
    assert page.get_by_test_id("exception-state").inner_text() == "尚未生效"
    shot(page, "granted")
    page.get_by_test_id("revoke").click()
    assert page.get_by_test_id("error-reason").inner_text() == "请说明撤销例外授权的原因"
    assert page.get_by_test_id("exception-state").inner_text() == "尚未生效"
    shot(page, "revoke-without-reason")
    page.fill("#f-reason", "集中采购已恢复供货")
    page.get_by_test_id("revoke").click()
    assert page.get_by_test_id("exception-state").inner_text() == "已撤销"
    assert "撤销人" in page.content() and "撤销原因\n集中采购已恢复供货" in page.locator("dl.descriptions").inner_text()
    shot(page, "revoked")


def test_the_clerk_neither_sees_nor_reaches_contracts_or_exceptions(signed_in: Any, shot: Any) -> None:
    page = signed_in("clerk.form01")
    menu = page.locator("nav.menu").inner_text()
    assert "合同" not in menu and "例外授权" not in menu
    for path in ("/purchasing/contracts", "/purchasing/exceptions"):
        page.goto(path)
        assert page.get_by_test_id("forbidden").is_visible()
        assert "此页面需要以下角色之一" in page.content()
    shot(page, "forbidden")
