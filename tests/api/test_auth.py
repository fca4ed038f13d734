"""Sign-in, tokens, roles and the read-only CIO."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import ApiToken, User
from tests.world import PASSWORD, ApiClient, World, problem


def sign_in(api: ApiClient, username: str, password: str = PASSWORD):  # noqa: ANN201
    return api.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_sign_in_returns_a_bearer_token_that_works(api: ApiClient) -> None:
    response = sign_in(api, "buyer_a")
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    me = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "buyer_a"
    assert me.get_json()["role"] == "buyer"


@pytest.mark.parametrize(("username", "password"), [("buyer_a", "wrong password"), ("nobody", PASSWORD)])
def test_bad_credentials_get_401_without_saying_which_part_was_wrong(
    api: ApiClient, username: str, password: str
) -> None:
    body = problem(sign_in(api, username, password), 401, "bad-credentials")
    assert "token" not in body


def test_inactive_user_cannot_sign_in(api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(User).where(User.id == world.users["buyer_a"]).values(active=False))
    problem(sign_in(api, "buyer_a"), 401, "bad-credentials")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/materials", "/api/v1/companies", "/api/v1/warehouses/1", "/api/v1/users", "/api/v1/auth/me"],
)
def test_unauthenticated_calls_get_401_problem(api: ApiClient, path: str) -> None:
    response = api.get(path)
    body = problem(response, 401, "unauthenticated")
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert "auth/token" in body["detail"]


def test_unknown_token_gets_401(api: ApiClient) -> None:
    response = api.get("/api/v1/materials", headers={"Authorization": "Bearer not-a-token"})
    problem(response, 401, "invalid-token")


def test_expired_token_gets_401(api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == world.users["buyer_a"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    body = problem(api.as_("buyer_a").get("/api/v1/materials"), 401, "invalid-token")
    assert "expired" in body["detail"]


def test_revoked_token_stops_working(api: ApiClient) -> None:
    buyer = api.as_("buyer_a")
    assert buyer.get("/api/v1/materials").status_code == 200
    assert buyer.delete("/api/v1/auth/token").status_code == 204
    body = problem(buyer.get("/api/v1/materials"), 401, "invalid-token")
    assert "revoked" in body["detail"]


def test_admin_revokes_all_tokens_of_a_user(api: ApiClient, world: World) -> None:
    response = api.as_("admin").post(f"/api/v1/users/{world.users['clerk_a']}/revoke-tokens")
    assert response.status_code == 200 and response.get_json() == {"revoked": 1}
    problem(api.as_("clerk_a").get("/api/v1/materials"), 401, "invalid-token")


def test_only_admins_create_users(api: ApiClient, world: World) -> None:
    payload = {
        "username": "buyer.c", "display_name": "Buyer C", "password": "long enough password",
        "role": "buyer", "company_ids": [world.companies["C"]],
    }
    problem(api.as_("steward").post("/api/v1/users", json=payload), 403, "role-not-allowed")
    response = api.as_("admin").post("/api/v1/users", json=payload)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["company_ids"] == [world.companies["C"]]
    assert "password" not in created
    assert sign_in(api, "buyer.c", "long enough password").status_code == 201


def test_user_passwords_are_stored_hashed_with_scrypt(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    payload = {"username": "admin2", "display_name": "A2", "password": "long enough password", "role": "admin"}
    assert api.as_("admin").post("/api/v1/users", json=payload).status_code == 201
    with session_factory() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "admin2"))
    assert stored is not None and stored.startswith("scrypt:") and "long enough" not in stored


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "buyer", "company_ids": []}, "company_ids"),  # a buyer needs a company
        ({"role": "clerk", "company_ids": ["A"], "warehouse_ids": []}, "warehouse_ids"),
        ({"role": "clerk", "company_ids": ["A"], "warehouse_ids": ["B-AMB"]}, "warehouse_ids"),
        ({"role": "buyer", "company_ids": [999999]}, "company_ids"),
        ({"role": "sovereign"}, "role"),
    ],
)
def test_user_scope_must_match_role(api: ApiClient, world: World, payload: dict, field: str) -> None:
    resolved = dict(payload)
    resolved["company_ids"] = [world.companies.get(c, c) for c in payload.get("company_ids", [])]
    resolved["warehouse_ids"] = [world.warehouses[w] for w in payload.get("warehouse_ids", [])]
    resolved.update({"username": "newbie", "display_name": "N", "password": "long enough password"})
    body = problem(api.as_("admin").post("/api/v1/users", json=resolved), 422)
    assert any(e["pointer"].endswith(field) for e in body["errors"]), body


def test_duplicate_username_is_a_conflict(api: ApiClient) -> None:
    payload = {"username": "buyer_a", "display_name": "X", "password": "long enough password", "role": "admin"}
    problem(api.as_("admin").post("/api/v1/users", json=payload), 409, "duplicate-username")


def test_cio_reads_everything_and_changes_nothing(api: ApiClient, world: World) -> None:
    cio = api.as_("cio")
    assert cio.get("/api/v1/companies").get_json().__len__() == 3
    assert cio.get(f"/api/v1/warehouses/{world.warehouses['B-COLD']}").status_code == 200
    problem(cio.post("/api/v1/units", json={"code": "L", "name_zh": "升", "name_en": "litre"}), 403, "read-only-role")
    refused = problem(cio.patch(f"/api/v1/materials/{world.materials['exc_local']}", json={"name_en": "x"}), 403,
                      "read-only-role")
    assert "cio" in refused["detail"], refused["detail"]
    assert cio.get(f"/api/v1/materials/{world.materials['exc_local']}").get_json()["name_en"] != "x"
    # signing out is not a change of business data
    assert cio.delete("/api/v1/auth/token").status_code == 204


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(api: ApiClient, world: World) -> None:
    me = f"/api/v1/users/{world.users['admin']}"
    problem(api.as_("admin").patch(me, json={"active": False}), 409, "last-admin")
    problem(api.as_("admin").patch(me, json={"role": "steward"}), 409, "last-admin")
    payload = {"username": "admin2", "display_name": "A2", "password": "long enough password", "role": "admin"}
    assert api.as_("admin").post("/api/v1/users", json=payload).status_code == 201
    assert api.as_("admin").patch(me, json={"active": False}).status_code == 200
