"""The pages of purchase contracts and purchasing exceptions (erp/purchasing/contract_pages.py).

Buyers and group buyers list contracts (status, supplier, materials with prices, validity,
whom they serve), record a new one as a draft, activate and terminate it from its page;
purchasing managers read them; the steward grants and revokes exceptions. Each refusal is
the service's, shown in Chinese beside its field with what was typed kept; roles that have
no business there neither see the menu entries nor reach the pages.

The contracts of tests/purchasing_world.py (``deals``): GRP-001 (group, S0001: API-AMOX
850/KG with a target of 1,000 KG, API-INSU 12,000, EXC-STAR 13) and CA-001 (company A,
S0001: EXC-STAR 12.345 with a target of 100 KG, PKG-SHIP 0.35), both active.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material
from erp.purchasing import services
from erp.purchasing.models import Contract, ContractScope, ContractStatus, PurchasingException
from tests.purchasing_world import Deals
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _menu(page: str) -> str:
    found = re.search(r'<nav class="menu">(.*?)</nav>', page, re.S)
    assert found
    return _text(found.group(1))


def _contract(session_factory: sessionmaker[Session], number: str) -> Contract | None:
    with session_factory() as session:
        return session.scalars(select(Contract).where(Contract.number == number)).one_or_none()


def _contract_form(deals: Deals, **changes: str) -> dict[str, str]:
    """A group contract with S0002 for API-AMOX at 845.50 per KG, target 500 KG, for this year."""
    form = {"number": "HT-GRP-NEW-1", "supplier": "S0002", "scope": "group", "company": "",
            "valid_from": f"{deals.today:%Y-%m-%d}", "valid_to": f"{deals.today + dt.timedelta(days=200):%Y-%m-%d}",
            "line_rows": "3", "material_id-0": "API-AMOX", "unit_price-0": "845.50", "target_quantity-0": "500"}
    form.update(changes)
    return form


# --- who sees what -------------------------------------------------------------------------

@pytest.mark.parametrize("user, entries, missing", [
    ("buyer_a", ["合同", "新建合同"], ["例外授权"]),
    ("group_buyer", ["合同", "新建合同"], ["例外授权"]),
    ("pm_a", ["合同"], ["新建合同", "例外授权"]),
    ("steward", ["例外授权", "授予例外授权"], ["新建合同"]),
    ("clerk_a", [], ["合同", "例外授权"]),
    ("cio", [], ["合同", "例外授权"]),
])
def test_the_menu_offers_contracts_and_exceptions_to_their_roles_only(
    client: FlaskClient, world: World, user: str, entries: list[str], missing: list[str]
) -> None:
    sign_in(client, world, user)
    menu = _menu(client.get("/", follow_redirects=True).get_data(as_text=True))  # the role's landing page
    for entry in entries:
        assert entry in menu.split(), (user, entry, menu)
    for entry in missing:
        assert entry not in menu.split(), (user, entry, menu)


@pytest.mark.parametrize("user, path", [
    ("clerk_a", "/purchasing/contracts"),
    ("clerk_a", "/purchasing/contracts/new"),
    ("clerk_a", "/purchasing/contracts/GRP-001"),
    ("pm_a", "/purchasing/contracts/new"),
    ("steward", "/purchasing/contracts"),
    ("buyer_a", "/purchasing/exceptions"),
    ("buyer_a", "/purchasing/exceptions/new"),
    ("group_buyer", "/purchasing/exceptions"),
    ("cio", "/purchasing/exceptions"),
    ("clerk_a", "/purchasing/exceptions/1"),
])
def test_other_roles_are_refused_the_pages_in_chinese(
    client: FlaskClient, world: World, deals: Deals, user: str, path: str
) -> None:
    sign_in(client, world, user)
    response = client.get(path)
    assert response.status_code == 403
    assert "此页面需要以下角色之一" in response.get_data(as_text=True)


def test_another_companys_contract_is_not_found(
    client: FlaskClient, world: World, deals: Deals
) -> None:
    """Company A's contract is not shown to company B's buyer (404, as the API answers)."""
    sign_in(client, world, "buyer_b")
    assert client.get("/purchasing/contracts/CA-001").status_code == 404
    listing = client.get("/purchasing/contracts").get_data(as_text=True)
    assert 'data-contract="GRP-001"' in listing and 'data-contract="CA-001"' not in listing


# --- contracts ---------------------------------------------------------------------------------

def test_the_contract_list_names_supplier_materials_prices_validity_and_scope(
    client: FlaskClient, world: World, deals: Deals
) -> None:
    sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/contracts").get_data(as_text=True)
    row = re.search(r'<tr data-contract="CA-001">(.*?)</tr>', page, re.S)
    assert row
    text = _text(row.group(1))
    assert text.startswith("CA-001 生效中 S0001 华康")
    assert "EXC-STAR EXC-STAR ¥12.345 / 千克" in text and "PKG-SHIP PKG-SHIP ¥0.35 / 个" in text
    assert f"{deals.valid_from:%Y-%m-%d} – {deals.valid_to:%Y-%m-%d}" in text
    assert text.endswith("公司合同 CA 甲公司")
    group_row = _text(re.search(r'<tr data-contract="GRP-001">(.*?)</tr>', page, re.S).group(1))  # type: ignore[union-attr]
    assert group_row.endswith("集团合同")

    # Filters: by scope, by status, and by part of a material's or supplier's code or name in any
    # case (as the lists' search boxes match); a text no supplier holds lists no contract.
    company_only = client.get("/purchasing/contracts?scope=company").get_data(as_text=True)
    assert 'data-contract="CA-001"' in company_only and 'data-contract="GRP-001"' not in company_only
    insulin = client.get("/purchasing/contracts?material=api-insu").get_data(as_text=True)
    assert 'data-contract="GRP-001"' in insulin and 'data-contract="CA-001"' not in insulin
    assert "没有符合条件的合同" in client.get("/purchasing/contracts?status=terminated").get_data(as_text=True)
    for supplier in ("s000", "华康", "huaK"):
        huakang = client.get(f"/purchasing/contracts?supplier={supplier}").get_data(as_text=True)
        assert 'data-contract="CA-001"' in huakang and 'data-contract="GRP-001"' in huakang, supplier
    ruifeng = client.get("/purchasing/contracts?supplier=瑞丰").get_data(as_text=True)
    assert "没有符合条件的合同" in ruifeng and "data-contract=" not in ruifeng


def test_a_group_buyer_records_a_group_contract_and_activates_it(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "group_buyer")
    form = client.get("/purchasing/contracts/new").get_data(as_text=True)
    assert re.search(r'<option value="group"[^>]*>集团合同</option>', form)
    assert re.search(r'<option value="company"[^>]*>公司合同</option>', form)
    created = client.post("/purchasing/contracts/new", data={**_contract_form(deals), "csrf_token": token})
    assert created.status_code == 302
    contract = _contract(session_factory, "HT-GRP-NEW-1")
    assert contract is not None and contract.status == ContractStatus.DRAFT and contract.company_id is None
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "已记录为草稿" in shown(page, "done")
    assert shown(page, "contract-status") == "草稿"
    assert "API-AMOX API-AMOX ¥845.50 / 千克 500 千克 0 千克 500 千克" in _text(page)
    assert 'data-testid="activate"' in page and 'data-testid="terminate"' in page

    activated = client.post(created.headers["Location"].split("?")[0], data={"action": "activate", "csrf_token": token})
    assert activated.status_code == 302
    assert _contract(session_factory, "HT-GRP-NEW-1").status == ContractStatus.ACTIVE  # type: ignore[union-attr]
    page = client.get(activated.headers["Location"]).get_data(as_text=True)
    assert shown(page, "contract-status") == "生效中" and "已生效" in shown(page, "done")
    assert 'data-testid="activate"' not in page and 'data-testid="terminate"' in page


def test_an_overlapping_contract_is_refused_in_chinese_and_the_form_kept(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    """GRP-001 already prices API-AMOX from S0001 for the group: a second group contract for it
    over the same days is refused (contract-overlap, 409), naming GRP-001, the supplier and the
    material by code and name; nothing is written."""
    with session_factory() as session, session.begin():
        material = session.get(Material, world.materials["api_central"])
        assert material is not None
        material.name_zh, material.name_en = "阿莫西林", "Amoxicillin"
    token = sign_in(client, world, "group_buyer")
    refused = client.post("/purchasing/contracts/new", data={
        **_contract_form(deals, supplier="S0001", **{"material_id-2": "API-INSU", "unit_price-2": "11900"}),
        "csrf_token": token})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "合同 GRP-001 已" in shown(page, "refusal")
    assert "API-AMOX 阿莫西林" in shown(page, "refusal") and "S0001 华康" in shown(page, "refusal")
    assert 'value="HT-GRP-NEW-1"' in page and 'value="845.50"' in page and 'value="11900"' in page
    assert _contract(session_factory, "HT-GRP-NEW-1") is None


def test_refusals_on_lines_are_shown_beside_the_row_that_holds_them(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    """Rows left empty send no line, yet a refusal lands on the row typed: the form's own
    reading (a price of 0 in row 3) and the service's (KG takes 3 decimals: a target of
    1.2345 KG in row 3, the second line of the request)."""
    token = sign_in(client, world, "group_buyer")
    data = _contract_form(deals, **{"material_id-2": "API-INSU", "unit_price-2": "0"})
    zero = client.post("/purchasing/contracts/new", data={**data, "csrf_token": token})
    assert zero.status_code == 422
    assert "须大于 0 且不超过" in shown(zero.get_data(as_text=True), "error-unit_price-2")  # 0 itself is refused
    data.update({"unit_price-2": "11900", "target_quantity-2": "1.2345"})
    precise = client.post("/purchasing/contracts/new", data={**data, "csrf_token": token})
    assert precise.status_code == 422
    page = precise.get_data(as_text=True)
    assert "KG" in shown(page, "error-target_quantity-2") and "3" in shown(page, "error-target_quantity-2")
    assert 'data-testid="error-target_quantity-1"' not in page
    assert _contract(session_factory, "HT-GRP-NEW-1") is None


def test_a_buyer_may_make_only_company_contracts_and_a_bad_number_is_refused(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    form = client.get("/purchasing/contracts/new").get_data(as_text=True)
    assert 'value="group"' not in form and re.search(r'<option value="company"[^>]*>公司合同</option>', form)
    bad = client.post("/purchasing/contracts/new", data={
        **_contract_form(deals, number="ht 1", scope="company", company="CA"), "csrf_token": token})
    assert bad.status_code == 422
    assert shown(bad.get_data(as_text=True), "error-number").startswith("须为 1-40 个字符")
    # The group scope posted anyway: the service's rule, in Chinese.
    group = client.post("/purchasing/contracts/new", data={**_contract_form(deals), "csrf_token": token})
    assert group.status_code == 403
    assert "集团合同由集中采购" in shown(group.get_data(as_text=True), "refusal")
    made = client.post("/purchasing/contracts/new", data={
        **_contract_form(deals, number="HT-CA-9", scope="company", company="CA", **{"material_id-0": "EXC-STAR"},
                         supplier="S0002"), "csrf_token": token})
    assert made.status_code == 302
    assert _contract(session_factory, "HT-CA-9").company_id == world.companies["A"]  # type: ignore[union-attr]


# --- purchasing rights (finding 46) --------------------------------------------------------------

RIGHTS_TITLE = "公司合同只有在主数据管理员的例外授权下才能为集中采购物料定价"


def test_a_company_contract_for_a_central_material_is_refused_beside_its_line(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    form = _contract_form(deals, number="HT-CA-AMOX", scope="company", company="CA", supplier="S0002",
                          **{"material_id-0": "EXC-STAR", "unit_price-0": "12", "target_quantity-0": "",
                             "material_id-2": "API-AMOX", "unit_price-2": "150"})  # row 1 left empty
    refused = client.post("/purchasing/contracts/new", data={**form, "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "refusal-title") == RIGHTS_TITLE
    assert shown(page, "error-material_id-2") == (
        "API-AMOX API-AMOX 是集中采购物料，由集中采购订购：CA 甲公司 的合同只有在该公司的例外授权下才能为其定价，"
        "而该公司没有此例外授权")
    assert 'data-testid="error-material_id-0"' not in page
    assert 'value="150"' in page  # what was typed is kept
    assert _contract(session_factory, "HT-CA-AMOX") is None


def test_activating_a_contract_whose_exception_was_revoked_is_refused_beside_the_line(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "steward")
    granted = client.post("/purchasing/exceptions/new", data={
        "company": "CA", "material": "API-AMOX", "valid_from": f"{deals.today:%Y-%m-%d}",
        "valid_to": f"{deals.today + dt.timedelta(days=200):%Y-%m-%d}", "reason": "集中采购供应商断货",
        "csrf_token": token})
    assert granted.status_code == 302
    token = sign_in(client, world, "buyer_a")
    form = _contract_form(deals, number="HT-CA-AMOX", scope="company", company="CA", supplier="S0002",
                          **{"unit_price-0": "150", "target_quantity-0": ""})
    made = client.post("/purchasing/contracts/new", data={**form, "csrf_token": token})
    assert made.status_code == 302, shown(made.get_data(as_text=True), "refusal")
    token = sign_in(client, world, "steward")
    revoked = client.post(granted.headers["Location"].split("?")[0], data={
        "action": "revoke", "reason": "集中采购已恢复供货", "csrf_token": token})
    assert revoked.status_code == 302
    token = sign_in(client, world, "buyer_a")
    refused = client.post("/purchasing/contracts/HT-CA-AMOX", data={"action": "activate", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "refusal-title") == RIGHTS_TITLE
    assert shown(page, "error-line-API-AMOX").endswith("而该公司没有此例外授权")
    assert _contract(session_factory, "HT-CA-AMOX").status == ContractStatus.DRAFT  # type: ignore[union-attr]


def test_an_active_line_no_exception_covers_any_more_is_marked_not_applied(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        exception = services.grant_exception(
            session, world.actors["steward"], company_id=world.companies["A"], material_id=world.materials["api_central"],
            valid_from=deals.today, valid_to=deals.today + dt.timedelta(days=200), reason="集中采购供应商断货")
        made = services.create_contract(
            session, world.actors["buyer_a"], number="HT-CA-AMOX", supplier_id=world.suppliers["sup2"],
            scope=ContractScope.COMPANY, company_id=world.companies["A"], valid_from=deals.today,
            valid_to=deals.today + dt.timedelta(days=200),
            lines=[{"material_id": world.materials["api_central"], "unit_price": Decimal("150")},
                   {"material_id": world.materials["exc_local"], "unit_price": Decimal("12")}])
        services.activate_contract(session, world.actors["buyer_a"], made.id)
        exception_id = exception.id
    sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/contracts/HT-CA-AMOX").get_data(as_text=True)
    assert 'data-testid="passed-over-' not in page  # under the exception, both lines apply
    with session_factory() as session, session.begin():
        services.revoke_exception(session, world.actors["steward"], exception_id, reason="集中采购已恢复供货")
    page = client.get("/purchasing/contracts/HT-CA-AMOX").get_data(as_text=True)
    assert re.search(r'data-testid="passed-over-API-AMOX"[^>]*>今日不适用：无例外授权<', page)
    assert 'data-testid="passed-over-EXC-STAR"' not in page  # a local material needs none


def test_a_contract_is_terminated_with_a_reason_and_says_who_did_it(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "buyer_a")
    refused = client.post("/purchasing/contracts/CA-001", data={"action": "terminate", "reason": " ",
                                                                "csrf_token": token})
    assert refused.status_code == 422
    assert shown(refused.get_data(as_text=True), "error-reason") == "请说明终止合同的原因"
    assert _contract(session_factory, "CA-001").status == ContractStatus.ACTIVE  # type: ignore[union-attr]
    done = client.post("/purchasing/contracts/CA-001", data={"action": "terminate", "reason": "供应商涨价，重新谈判",
                                                             "csrf_token": token})
    assert done.status_code == 302
    assert _contract(session_factory, "CA-001").status == ContractStatus.TERMINATED  # type: ignore[union-attr]
    text = _text(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "终止人 buyer_a" in text and "供应商涨价，重新谈判" in text
    assert "已终止" in text and "终止合同" not in text.split("已终止", 1)[1]  # nothing more to do


def test_a_buyer_has_no_actions_on_a_group_contract_and_a_manager_none_at_all(
    client: FlaskClient, world: World, deals: Deals, session_factory: sessionmaker[Session]
) -> None:
    """The page offers what contract_actions allows; a post anyway is the service's refusal."""
    token = sign_in(client, world, "buyer_a")
    page = client.get("/purchasing/contracts/GRP-001").get_data(as_text=True)
    assert 'data-testid="terminate"' not in page and 'data-testid="activate"' not in page
    assert "S0001 华康" in _text(page)
    refused = client.post("/purchasing/contracts/GRP-001", data={"action": "terminate", "reason": "x",
                                                                 "csrf_token": token})
    assert refused.status_code == 403 and "集团合同由集中采购" in shown(refused.get_data(as_text=True), "refusal")
    sign_in(client, world, "pm_a")
    page = client.get("/purchasing/contracts/CA-001").get_data(as_text=True)
    assert 'data-testid="terminate"' not in page and "CA-001" in page
    assert _contract(session_factory, "GRP-001").status == ContractStatus.ACTIVE  # type: ignore[union-attr]


# --- purchasing exceptions ---------------------------------------------------------------------

def test_the_steward_grants_and_revokes_an_exception(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "steward")
    start = dt.date.today()
    granted = client.post("/purchasing/exceptions/new", data={
        "company": "CA", "material": "API-AMOX", "valid_from": f"{start:%Y-%m-%d}",
        "valid_to": "2199-12-31", "reason": "集中采购供应商断货，紧急自主采购", "csrf_token": token})
    assert granted.status_code == 302
    page = client.get(granted.headers["Location"]).get_data(as_text=True)
    assert "已授予" in shown(page, "done")
    text = _text(page)
    assert "公司 CA 甲公司" in text and "物料 API-AMOX API-AMOX" in text and "授予人 steward" in text
    listing = client.get("/purchasing/exceptions").get_data(as_text=True)
    row = _text(re.search(r'<tr data-exception="\d+">(.*?)</tr>', listing, re.S).group(1))  # type: ignore[union-attr]
    assert row.startswith("CA 甲公司 API-AMOX API-AMOX") and "集中采购供应商断货，紧急自主采购" in row

    revoked = client.post(granted.headers["Location"].split("?")[0], data={
        "action": "revoke", "reason": "集中采购已恢复供货", "csrf_token": token})
    assert revoked.status_code == 302
    page = client.get(revoked.headers["Location"]).get_data(as_text=True)
    assert shown(page, "exception-state") == "已撤销" and "撤销人 steward" in _text(page)
    assert "撤销原因 集中采购已恢复供货" in _text(page)
    assert 'data-testid="revoke"' not in page
    with session_factory() as session:
        assert session.scalars(select(PurchasingException)).one().revoked_at is not None
    # Gone from the list unless revoked ones are asked for.
    assert 'data-exception=' not in client.get("/purchasing/exceptions").get_data(as_text=True)
    revoked_list = client.get("/purchasing/exceptions?revoked=1").get_data(as_text=True)
    state = re.search(r'data-testid="state-\d+">(.*?)</td>', revoked_list, re.S)
    assert state and _text(state.group(1)) == "已撤销 撤销原因：集中采购已恢复供货"  # why, without opening it
    # Revoked twice (a second tab): the service's refusal, in Chinese.
    again = client.post(granted.headers["Location"].split("?")[0], data={
        "action": "revoke", "reason": "再撤销一次", "csrf_token": token})
    assert again.status_code == 409 and "已撤销" in shown(again.get_data(as_text=True), "refusal")


def test_a_revocation_without_a_reason_is_refused_in_chinese_beside_the_reason(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "steward")
    granted = client.post("/purchasing/exceptions/new", data={
        "company": "CA", "material": "API-AMOX", "valid_from": f"{dt.date.today():%Y-%m-%d}",
        "valid_to": "2199-12-31", "reason": "集中采购供应商断货", "csrf_token": token})
    assert granted.status_code == 302
    refused = client.post(granted.headers["Location"].split("?")[0], data={
        "action": "revoke", "reason": "  ", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "error-reason") == "请说明撤销例外授权的原因"
    assert shown(page, "exception-state") != "已撤销" and 'data-testid="revoke"' in page
    with session_factory() as session:
        assert session.scalars(select(PurchasingException)).one().revoked_at is None


def test_an_exception_for_a_local_material_is_refused_beside_the_material(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "steward")
    refused = client.post("/purchasing/exceptions/new", data={
        "company": "CA", "material": "EXC-STAR", "valid_from": "2026-12-01", "valid_to": "2026-12-31",
        "reason": "试试", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "error-material_id") == "不是集中采购物料"
    assert "EXC-STAR 是自主采购物料" in shown(page, "refusal")
    assert 'value="EXC-STAR"' in page and "试试" in page
    without_reason = client.post("/purchasing/exceptions/new", data={
        "company": "CA", "material": "API-AMOX", "valid_from": "2026-12-01", "valid_to": "2026-12-31",
        "reason": "", "csrf_token": token})
    assert shown(without_reason.get_data(as_text=True), "error-reason") == "请说明授予例外授权的原因"
    with session_factory() as session:
        assert session.scalars(select(PurchasingException)).first() is None


def test_the_exceptions_list_filters_by_part_of_a_materials_code_or_name(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    from erp.purchasing import services

    today = dt.date.today()
    with session_factory.begin() as session:
        for company, material in (("A", "api_central"), ("B", "cold_central")):
            services.grant_exception(session, world.actors["steward"], company_id=world.companies[company],
                                     material_id=world.materials[material], valid_from=today,
                                     valid_to=today + dt.timedelta(days=30), reason="集中采购供应商断货")
        insulin = session.get(Material, world.materials["cold_central"])
        assert insulin is not None
        insulin.name_zh = "胰岛素原料"
    sign_in(client, world, "steward")

    def listed(material: str) -> list[str]:
        response = client.get("/purchasing/exceptions", query_string={"material": material})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f'value="{material}"' in page  # what was typed stays in the box
        rows = re.findall(r'<tr data-exception="\d+"><td>.*?</td>\s*<td>(.*?)</td>', page, re.S)
        return sorted(_text(row).split()[0] for row in rows)

    assert listed("amox") == ["API-AMOX"]  # part of the code, any case
    assert listed("胰岛") == ["API-INSU"]  # part of the name
    assert listed("API") == ["API-AMOX", "API-INSU"]
    assert listed("NO-SUCH") == []  # matches nothing, refused no more
    page = client.get("/purchasing/exceptions").get_data(as_text=True)
    assert 'placeholder="物料编码或名称"' in page
