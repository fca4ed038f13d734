"""The administrator's pages (erp/auth/admin_pages.py, trial finding 103): users (list, search
and filters, creating one, role and companies, locking and unlocking, revoking tokens, a new
password) and companies (list, a company's page, linking its intercompany customer and
supplier records). Each change goes through erp.auth.services or erp.masterdata.services,
recorded in the audit trail as the API records it; each refusal is shown beside its field in
Chinese with what was typed kept; locking and revoking ask to confirm first.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.auth.models import ApiToken, User
from erp.auth.roles import Role
from erp.masterdata.models import Company, Customer, Supplier
from tests.ui.conftest import shown, sign_in
from tests.world import USCC_COMPANY_A, World


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _menu(page: str) -> str:
    found = re.search(r'<nav class="menu">(.*?)</nav>', page, re.S)
    assert found
    return _text(found.group(1))


def _user(session_factory: sessionmaker[Session], username: str) -> User | None:
    with session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is not None:
            _ = user.company_ids, user.warehouse_ids
        return user


def _events(session_factory: sessionmaker[Session], entity: str, entity_id: int) -> list[AuditEvent]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.entity == entity,
                                                             AuditEvent.entity_id == entity_id)
                                    .order_by(AuditEvent.id)))


def _live_tokens(session_factory: sessionmaker[Session], user_id: int) -> int:
    with session_factory() as session:
        return len(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id,
                                                          ApiToken.revoked_at.is_(None))).all())


NEW_CLERK = {"username": "clerk.new", "display_name": "新仓管", "password": "geheim-2026-x", "role": "clerk",
             "company_ids": "CA", "warehouse_ids": "CA-COOL"}


def _form(token: str, **values: Any) -> dict[str, Any]:
    return {"csrf_token": token, **values}


# --- who sees it ---------------------------------------------------------------------------

def test_the_admin_lands_on_the_user_list_under_system_administration(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "admin")
    landing = client.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/admin/users")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<h1>用户</h1>" in page
    menu = _menu(page)
    assert menu.startswith("系统管理 用户 新建用户 公司")


@pytest.mark.parametrize("user", ["steward", "auditor", "cio", "clerk_a"])
def test_other_roles_neither_see_nor_reach_the_admin_pages(client: FlaskClient, world: World, user: str) -> None:
    sign_in(client, world, user)
    assert "系统管理" not in _menu(client.get("/", follow_redirects=True).get_data(as_text=True))
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{world.users['buyer_a']}", "/admin/companies",
                 "/admin/companies/CA"):
        assert client.get(path).status_code == 403, path


# --- the user list -------------------------------------------------------------------------

def test_the_user_list_is_searched_and_filtered_by_role_and_company(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "admin")

    def users(query: str) -> list[str]:
        return re.findall(r'<tr data-user="([^"]+)"', client.get(f"/admin/users?{query}").get_data(as_text=True))

    assert users("q=clerk") == ["clerk_a", "clerk_b"]
    assert users("role=buyer") == ["buyer_a", "buyer_b"]
    # a company's users: those named for it, and the group-wide ones
    of_b = users("company=CB&size=100")
    assert {"buyer_b", "clerk_b", "sales_b", "ap_b", "steward"} <= set(of_b)
    assert not {"buyer_a", "clerk_a", "sales_a"} & set(of_b)
    page = client.get("/admin/users?q=clerk_a").get_data(as_text=True)
    row = _text(page[page.index('data-user="clerk_a"'):page.index("</tr>", page.index('data-user="clerk_a"'))])
    assert "仓库管理员" in row and "CA 甲公司" in row and "CA-COOL COOL" in row and "可登录" in row


# --- creating a user ---------------------------------------------------------------------------

def test_the_admin_creates_a_clerk_who_can_sign_in(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    created = client.post("/admin/users/new", data=_form(token, **NEW_CLERK))
    assert created.status_code == 302
    user = _user(session_factory, "clerk.new")
    assert user is not None and user.role == Role.CLERK and user.active and not user.group_wide
    assert user.company_ids == [world.companies["A"]] and user.warehouse_ids == [world.warehouses["A-COOL"]]
    assert created.headers["Location"].endswith(f"/admin/users/{user.id}?done=created")
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "用户已创建" in page and "CA 甲公司" in page
    # recorded as the API records it: by the admin, the password only as hidden
    (event,) = _events(session_factory, "user", user.id)
    assert (event.action, event.actor_name) == ("create", "admin")
    assert event.changes["password"] == {"before": None, "after": "[redacted]"}
    assert "geheim" not in str(event.changes)
    signed_in = client.post("/api/v1/auth/token", json={"username": "clerk.new", "password": "geheim-2026-x"})
    assert signed_in.status_code == 201


@pytest.mark.parametrize("changes, field, message", [
    ({"password": "short"}, "password", "长度须为 10 至 200 个字符"),
    ({"username": "Clerk New"}, "username", None),
    ({"username": "clerk_a"}, "username", "该用户名已被占用"),
    ({"warehouse_ids": ""}, "warehouse_ids", "仓库管理员至少需要一个仓库"),
    ({"role": "buyer", "warehouse_ids": "", "company_ids": ""}, "company_ids", None),
])
def test_a_refused_user_is_shown_beside_its_field_with_what_was_typed(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], changes: dict[str, str], field: str,
    message: str | None,
) -> None:
    token = sign_in(client, world, "admin")
    values = {**NEW_CLERK, **changes}
    data = {k: v for k, v in values.items() if v != ""}
    response = client.post("/admin/users/new", data=_form(token, **data))
    page = response.get_data(as_text=True)
    assert response.status_code in (409, 422)
    said = shown(page, f"error-{field}")
    assert said and (message is None or said == message)
    assert f'value="{values["display_name"]}"' in page  # kept
    assert "geheim" not in page  # the password never comes back
    assert _user(session_factory, values["username"]) is None or values["username"] == "clerk_a"


# --- a user's page ---------------------------------------------------------------------------

def test_the_admin_changes_a_users_role_and_companies_with_a_reason(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    user_id = world.users["buyer_a"]
    saved = client.post(f"/admin/users/{user_id}", data=_form(
        token, action="scope", display_name="buyer_a", role="sales", company_ids="CB", reason="调岗到乙公司"))
    assert saved.status_code == 302 and saved.headers["Location"].endswith("?done=scope")
    user = _user(session_factory, "buyer_a")
    assert user is not None and user.role == Role.SALES and user.company_ids == [world.companies["B"]]
    change, revoked = _events(session_factory, "user", user_id)
    assert change.action == "change" and change.reason == "调岗到乙公司"
    assert change.changes["role"] == {"before": "buyer", "after": "sales"}
    assert revoked.action == "tokens-revoked" and _live_tokens(session_factory, user_id) == 0


def test_a_refused_change_of_scope_is_shown_beside_its_field(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    response = client.post(f"/admin/users/{world.users['clerk_a']}", data=_form(
        token, action="scope", display_name="clerk_a", role="clerk", company_ids="CA", warehouse_ids="CB-AMB"))
    assert response.status_code == 422
    assert "不属于该用户负责的公司" in shown(response.get_data(as_text=True), "error-warehouse_ids") or \
        shown(response.get_data(as_text=True), "error-warehouse_ids")
    assert _user(session_factory, "clerk_a").warehouse_ids == [  # type: ignore[union-attr]
        world.warehouses[k] for k in ("A-AMB", "A-COOL", "A-COLD")]


def test_locking_asks_to_confirm_then_locks_and_signs_the_user_out(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    user_id = world.users["clerk_b"]
    asked = client.post(f"/admin/users/{user_id}", data=_form(token, action="lock", reason="离职"))
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'data-testid="confirm-user"' in page
    assert "锁定 clerk_b？" in page and "将立即失效的会话及令牌：1 个" in page
    assert _user(session_factory, "clerk_b").active and _live_tokens(session_factory, user_id) == 1  # type: ignore[union-attr]
    assert _events(session_factory, "user", user_id) == []  # nothing done yet
    locked = client.post(f"/admin/users/{user_id}", data=_form(token, action="lock", reason="离职", confirmed="1"))
    assert locked.status_code == 302
    assert not _user(session_factory, "clerk_b").active and _live_tokens(session_factory, user_id) == 0  # type: ignore[union-attr]
    change = _events(session_factory, "user", user_id)[0]
    assert change.changes["active"] == {"before": True, "after": False} and change.reason == "离职"
    assert client.post("/api/v1/auth/token", json={"username": "clerk_b", "password": "x" * 10}).status_code == 401
    unlocked = client.post(f"/admin/users/{user_id}", data=_form(token, action="unlock", reason="返岗"))
    assert unlocked.status_code == 302 and _user(session_factory, "clerk_b").active  # type: ignore[union-attr]


def test_the_last_admin_cannot_be_locked_and_the_page_says_why(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    response = client.post(f"/admin/users/{world.users['admin']}", data=_form(token, action="lock"))
    assert response.status_code == 409
    assert "admin" in shown(response.get_data(as_text=True), "refusal")
    assert _user(session_factory, "admin").active  # type: ignore[union-attr]


def test_revoking_every_token_asks_to_confirm_and_is_recorded_with_the_reason(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    user_id = world.users["sales_a"]
    asked = client.post(f"/admin/users/{user_id}", data=_form(token, action="revoke", reason="令牌外泄"))
    assert "撤销 sales_a 的全部令牌？" in asked.get_data(as_text=True)
    assert _live_tokens(session_factory, user_id) == 1
    done = client.post(f"/admin/users/{user_id}", data=_form(token, action="revoke", reason="令牌外泄", confirmed="1"))
    assert done.status_code == 302 and _live_tokens(session_factory, user_id) == 0
    (event,) = _events(session_factory, "user", user_id)
    assert (event.action, event.reason, event.actor_name) == ("tokens-revoked", "令牌外泄", "admin")


def test_a_new_password_is_checked_as_the_api_checks_it(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "admin")
    user_id = world.users["cio"]
    short = client.post(f"/admin/users/{user_id}", data=_form(token, action="password", password="kurz"))
    assert short.status_code == 422
    assert shown(short.get_data(as_text=True), "error-password") == "长度须为 10 至 200 个字符"
    done = client.post(f"/admin/users/{user_id}", data=_form(token, action="password", password="neues-passwort-1"))
    assert done.status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "cio", "password": "neues-passwort-1"}).status_code == 201
    change = _events(session_factory, "user", user_id)[0]
    assert change.changes["password"] == {"before": "[redacted]", "after": "[redacted] (changed)"}


# --- companies ---------------------------------------------------------------------------------

def test_the_company_list_shows_each_company_and_its_intercompany_records(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "admin")
    page = client.get("/admin/companies").get_data(as_text=True)
    assert "<h1>公司</h1>" in page
    assert re.findall(r'<tr data-company="([^"]+)"', page) == ["CA", "CB", "CC"]
    assert re.findall(r'<tr data-company="([^"]+)"', client.get("/admin/companies?q=乙").get_data(as_text=True)) == ["CB"]


def _own_records(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    """Company A's own customer and supplier records (A's unified social credit code)."""
    with session_factory() as session, session.begin():
        customer = Customer(code="K-CA", uscc=USCC_COMPANY_A, name_zh="甲公司", name_en="Company A")
        supplier = Supplier(code="S-CA", uscc=USCC_COMPANY_A, name_zh="甲公司", name_en="Company A")
        session.add_all([customer, supplier])
        session.flush()
        return customer.id, supplier.id


def test_the_admin_links_a_company_to_its_intercompany_customer_and_supplier(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    customer_id, supplier_id = _own_records(session_factory)
    token = sign_in(client, world, "admin")
    saved = client.post("/admin/companies/CA", data=_form(token, customer="K-CA", supplier="S-CA",
                                                            reason="集团内交易上线"))
    assert saved.status_code == 302
    with session_factory() as session:
        company = session.get(Company, world.companies["A"])
        assert (company.customer_id, company.supplier_id) == (customer_id, supplier_id)
    (event,) = _events(session_factory, "company", world.companies["A"])
    assert event.action == "change" and event.reason == "集团内交易上线" and event.actor_name == "admin"
    assert event.changes["customer_id"] == {"before": None, "after": customer_id}
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "集团内往来记录已保存" in page and "K-CA 甲公司" in page and "S-CA 甲公司" in page
    # the same record cannot stand for a second company
    taken = client.post("/admin/companies/CB", data=_form(token, customer="K-CA", supplier=""))
    assert taken.status_code == 409
    assert "CA" in shown(taken.get_data(as_text=True), "error-customer")
    unknown = client.post("/admin/companies/CB", data=_form(token, customer="K9999", supplier=""))
    assert unknown.status_code == 422
    said = unknown.get_data(as_text=True)
    assert shown(said, "error-customer") == "没有编码为 K9999 的客户" and 'value="K9999"' in said


def test_an_outside_customer_is_refused_as_a_companys_record_in_chinese(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """Trial finding 139: a hospital's record linked to a company would take its receivables out
    of the group's figures. Refused beside the field, what was typed kept, nothing written."""
    token = sign_in(client, world, "admin")
    refused = client.post("/admin/companies/CB", data=_form(token, customer="K0001", supplier="", reason="试"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "error-customer") == "与公司的统一社会信用代码不一致" and 'value="K0001"' in page
    assert "另一个法人" in _text(page)
    with session_factory() as session:
        assert session.get(Company, world.companies["B"]).customer_id is None  # type: ignore[union-attr]
    assert _events(session_factory, "company", world.companies["B"]) == []


def test_an_unknown_company_is_not_found(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "admin")
    assert client.get("/admin/companies/NOPE").status_code == 404
