"""Every page refuses an anonymous visitor (off to the sign-in page) and every form refuses
a request without a valid CSRF token; the session cookie is HttpOnly, SameSite and Secure."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockDocument
from erp.ui.pages import PUBLIC_ENDPOINTS, PageBlueprint
from tests.world import PASSWORD, World


def page_rules(app: Flask) -> list[Any]:
    """Every URL rule served by a page blueprint."""
    page_blueprints = {name for name, bp in app.blueprints.items() if isinstance(bp, PageBlueprint)}
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in page_blueprints]
    assert len(rules) >= 8, "the page blueprints were not found"
    return rules


def concrete(rule: Any) -> str:
    """The rule's path with a plausible value for each argument."""
    from werkzeug.routing.converters import NumberConverter

    values = {name: 1 if isinstance(conv, NumberConverter) else "X1" for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def test_every_page_sends_an_anonymous_visitor_to_sign_in(app: Flask, client: FlaskClient) -> None:
    checked = 0
    for rule in page_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(concrete(rule), method=method)
            if method == "GET":
                assert response.status_code == 302, (rule, method)
                assert response.headers["Location"].startswith("/sign-in"), (rule, method)
            else:
                # A form posted without a session: nothing happens, the visitor is sent to sign in.
                assert response.status_code == 302 and "/sign-in" in response.headers["Location"], (rule, method)
            checked += 1
    assert checked >= 8


def test_every_form_refuses_a_post_without_a_valid_csrf_token(
    app: Flask, client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    forms = [rule for rule in page_rules(app) if "POST" in rule.methods]
    assert forms, "no page accepts a form"
    for rule in forms:
        for user in ("clerk_a", "buyer_a", "pm_a", "quality_a", "steward"):
            sign_in(client, world, user)
            for token in (None, "not-a-token"):
                data = {"quantity": "1", "reason": "x", "username": "clerk_a", "password": PASSWORD}
                if token:
                    data["csrf_token"] = token
                response = client.post(concrete(rule), data=data)
                assert response.status_code == 400, (rule, user, token, response.status_code)
                assert "表单已过期" in response.get_data(as_text=True)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(StockDocument)) == 0


def test_sign_in_sets_a_secure_httponly_samesite_session_cookie(client: FlaskClient, world: World) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/sign-in", data={"username": "clerk_a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("heyi_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_is_refused_on_the_page(client: FlaskClient, world: World) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/sign-in", data={"username": "clerk_a", "password": "wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


@pytest.mark.parametrize("user, path, status", [
    ("buyer_a", "/inventory/receiving", 403),  # not a clerk's page
    ("clerk_a", "/inventory/receiving/999999", 404),
    ("clerk_a", "/inventory/documents/GR-99999999", 404),
    ("clerk_a", "/no-such-page", 404),
])
def test_pages_answer_403_and_404_like_the_api(client: FlaskClient, world: World, user: str, path: str,
                                               status: int) -> None:
    sign_in(client, world, user)
    assert client.get(path).status_code == status


def test_sign_out_revokes_the_session(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "clerk_a")
    assert client.get("/inventory/stock").status_code == 200
    page = client.get("/inventory/stock").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/sign-out", data={"csrf_token": token})
    sign_in(client, world, "clerk_a")  # the old token, replayed: revoked
    assert client.get("/inventory/stock").status_code == 302


def test_the_language_switch_is_remembered(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "clerk_a")
    assert "库存" in client.get("/inventory/stock").get_data(as_text=True)
    client.get("/language/en?next=/inventory/stock")
    assert "Stock on hand" in client.get("/inventory/stock").get_data(as_text=True)
