"""Sign-in throttling (issue 14, item 2) and token revocation (item 3)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from erp import create_app
from erp.audit.models import AuditEvent
from erp.config import Settings
from erp.auth.throttle import SignInThrottle
from tests.world import PASSWORD, ApiClient, World, problem


def sign_in(api: ApiClient, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):  # noqa: ANN201
    return api.client.post("/api/v1/auth/token", json={"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": address})


def test_thirty_wrong_passwords_then_the_right_one_are_throttled_with_retry_after(
    api: ApiClient, session_factory: sessionmaker[Session]
) -> None:
    answers = [sign_in(api, "buyer_a", f"guess {n}").status_code for n in range(30)]
    assert answers[:5] == [401] * 5  # five tries a minute, then locked out
    assert set(answers[5:]) == {429}
    response = sign_in(api, "buyer_a")  # the right password, too soon
    body = problem(response, 429, "too-many-sign-ins")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["retry_after"] == retry_after
    with session_factory() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor_name == "buyer_a")).all()
    assert actions.count("sign-in-failed") == 5
    assert actions.count("sign-in-throttled") == 26


def test_the_lockout_is_per_name_so_other_users_still_sign_in(api: ApiClient) -> None:
    for n in range(6):
        sign_in(api, "buyer_a", f"guess {n}")
    problem(sign_in(api, "buyer_a"), 429)
    problem(sign_in(api, "BUYER_A"), 429)  # the same name to a guesser
    assert sign_in(api, "buyer_b").status_code == 201


def test_one_address_trying_many_names_is_throttled(api: ApiClient) -> None:
    answers = [sign_in(api, f"user{n}", "x", address="203.0.113.9").status_code for n in range(21)]
    assert answers[:20] == [401] * 20 and answers[20] == 429
    problem(sign_in(api, "buyer_a", address="203.0.113.9"), 429, "too-many-sign-ins")
    assert sign_in(api, "buyer_a", address="198.51.100.7").status_code == 201


def test_a_success_clears_the_names_failures(api: ApiClient) -> None:
    for n in range(4):
        sign_in(api, "buyer_a", f"guess {n}")
    assert sign_in(api, "buyer_a").status_code == 201
    assert [sign_in(api, "buyer_a", f"again {n}").status_code for n in range(5)] == [401] * 5


def test_the_lockout_grows_with_the_number_of_failures() -> None:
    throttle = SignInThrottle()
    for _ in range(5):
        throttle.failed("buyer_a", None)
    first = throttle.retry_after("buyer_a", None)
    assert first is not None and first <= 60
    # Past the minute window, the 15-minute window (10 failures) still holds the name.
    for limit in throttle.per_user[:1]:
        throttle.window.clear(limit, "sign-in-user", "buyer_a")
    assert throttle.retry_after("buyer_a", None) is None
    for _ in range(5):
        throttle.failed("buyer_a", None)
    for limit in throttle.per_user[:1]:
        throttle.window.clear(limit, "sign-in-user", "buyer_a")
    longer = throttle.retry_after("buyer_a", None)
    assert longer is not None and 60 < longer <= 15 * 60


def test_every_sign_in_from_one_address_is_capped_at_the_edge(api: ApiClient) -> None:
    answers = [sign_in(api, "buyer_a", address="192.0.2.1").status_code for _ in range(61)]
    assert answers[:60] == [201] * 60
    response = sign_in(api, "buyer_a", address="192.0.2.1")
    body = problem(response, 429)
    wait = int(response.headers["Retry-After"])
    assert wait >= 1 and body["detail"] == f"too many requests from this address; retry in {wait} seconds"
    chinese = api.client.post("/api/v1/auth/token", json={"username": "buyer_a", "password": PASSWORD},
                              environ_base={"REMOTE_ADDR": "192.0.2.1"}, headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 429
    assert chinese.get_json()["detail"] == f"来自此地址的请求过多；请在 {chinese.headers['Retry-After']} 秒后重试"


def test_the_edges_ceiling_is_the_deployments_setting(settings: Settings, engine: Engine, world: World) -> None:
    """ERP_SIGN_IN_RATE_LIMIT: a site whose users all sign in from one NAT address raises it;
    here it is lowered to three a minute, and the fourth sign-in is refused."""
    app = create_app(Settings(**{**settings.model_dump(), "sign_in_rate_limit": "3/minute"}), engine=engine)
    client = app.test_client()
    answers = [client.post("/api/v1/auth/token", json={"username": "buyer_a", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code for _ in range(4)]
    assert answers == [201, 201, 201, 429]


def test_a_sign_in_rate_limit_that_is_not_one_is_refused_at_start_up(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        Settings(**{**settings.model_dump(), "sign_in_rate_limit": "sixty a minute"})


# --- item 3: a user's tokens end when what they stood for changes ---------------------------

CHANGES = {
    "password": lambda w: {"password": "a completely new secret"},
    "deactivation": lambda w: {"active": False},
    "role": lambda w: {"role": "sales", "warehouse_ids": []},
    "companies": lambda w: {"company_ids": [w.companies["B"]], "warehouse_ids": [w.warehouses["B-AMB"]]},
    "warehouses": lambda w: {"warehouse_ids": [w.warehouses["A-AMB"]]},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_to_password_role_companies_or_activity_revokes_the_users_tokens(
    api: ApiClient, world: World, change: str
) -> None:
    user = "clerk_a"
    other = sign_in(api, user).get_json()["access_token"]
    assert api.as_(user).get("/api/v1/materials").status_code == 200
    response = api.as_("admin").patch(f"/api/v1/users/{world.users[user]}", json=CHANGES[change](world))
    assert response.status_code == 200, response.get_json()
    body = problem(api.as_(user).get("/api/v1/materials"), 401, "invalid-token")
    assert "revoked" in body["detail"]
    problem(api.client.get("/api/v1/materials", headers={"Authorization": f"Bearer {other}"}), 401)


def test_a_change_of_display_name_leaves_tokens_alone(api: ApiClient, world: World) -> None:
    api.as_("admin").patch(f"/api/v1/users/{world.users['clerk_a']}", json={"display_name": "Wang Li"})
    assert api.as_("clerk_a").get("/api/v1/materials").status_code == 200


def test_the_pages_sign_in_shares_the_throttle_with_the_api(api: ApiClient) -> None:
    import re

    for n in range(5):
        assert sign_in(api, "clerk_a", f"guess {n}").status_code == 401
    page = api.client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = api.client.post("/sign-in", data={"username": "clerk_a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "登录失败次数过多" in response.get_data(as_text=True)
    with api.client.session_transaction() as session:
        assert "token" not in session


def test_the_limiters_after_request_and_teardown_run_where_a_limit_was_checked(api: ApiClient) -> None:
    """Flask-Limiter's after-request hook and teardown run on a request that checked a limit
    (every sign-in: its state is cleared at teardown) and are skipped on one that checked none,
    which then carries no limiter state at all (erp.web._check_limits_only_where_set)."""
    from flask import request, request_started
    from flask.globals import request_ctx

    from erp.web import limit_checked, limiter

    app = api.client.application
    contexts: list[tuple[str, Any]] = []
    checked_after_view: list[bool] = []

    def remember(_sender: Any, **_extra: Any) -> None:
        contexts.append((str(request.path), request_ctx._get_current_object()))

    @app.after_request
    def seen(response: Any) -> Any:  # registered last: runs before the limiter's own hook
        checked_after_view.append(limit_checked())
        return response

    with request_started.connected_to(remember, app):
        assert sign_in(api, "buyer_a").status_code == 201
        assert api.as_("buyer_a").get("/api/v1/auth/me").status_code == 200
    assert checked_after_view == [True, False]
    (_, signed_in), (_, read) = contexts
    state = signed_in._limiter_request_context[limiter]
    assert state.view_rate_limit is None and not state.view_rate_limits  # cleared by its teardown
    assert not hasattr(read, "_limiter_request_context")  # nothing created it
