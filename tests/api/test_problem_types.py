"""Refusals the API declares: every problem type is a documented class, every operation lists
the problem types it answers with in the OpenAPI document, and every type URI resolves to a
page of the running app that states the rule and what the user can do.

That an operation never answers with a type it does not declare is checked on every
request of the whole suite (tests/conftest.py, ``_refusals_are_declared``); the last tests
here show that check catching an undeclared refusal.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import erp
from erp import web
from erp.config import PROJECT_ROOT
from erp.errors import _PROBLEM_CLASSES, PROBLEM_BASE_URI, Conflict, DomainError, problem_types
from erp.messages import N_
from erp.web import Blueprint
from tests import conftest
from tests.world import World, problem


@pytest.fixture(scope="module", autouse=True)
def _every_module_imported() -> None:
    """Problem types are registered as their classes are defined: import all of erp."""
    for module in pkgutil.walk_packages(erp.__path__, "erp."):
        importlib.import_module(module.name)


def _documented(spec: dict[str, Any]) -> dict[str, set[str]]:
    """Problem type URI -> the operations (``METHOD path``) whose responses list it."""
    found: dict[str, set[str]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for response in operation["responses"].values():
                for uri in response.get("x-problem-types", []) + response.get("x-job-problem-types", []):
                    found.setdefault(uri, set()).add(f"{method.upper()} {path}")
    return found


def test_every_problem_type_raised_in_erp_is_documented_on_an_operation(client: FlaskClient) -> None:
    documented = _documented(client.get("/api/v1/openapi.json").get_json())
    types = problem_types()
    assert len(types) > 80
    undocumented = sorted(slug for slug, p in types.items() if p.uri not in documented)
    assert undocumented == []
    # ... and the other way round: nothing documented that is not a problem type of the app.
    assert sorted(set(documented) - {p.uri for p in types.values()}) == []


def test_each_operation_lists_its_refusals_under_their_status(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    receipt = spec["paths"]["/api/v1/inventory/receipts"]["post"]["responses"]
    assert set(receipt) >= {"201", "401", "403", "409", "422"}
    assert "/problems/over-receipt" in receipt["409"]["x-problem-types"]
    assert "/problems/period-closed" in receipt["409"]["x-problem-types"]
    assert {"/problems/clerk-not-of-warehouse", "/problems/role-not-allowed",
            "/problems/read-only-role"} <= set(receipt["403"]["x-problem-types"])
    example = receipt["409"]["content"]["application/problem+json"]["examples"]["over-receipt"]["value"]
    assert example == {"type": "/problems/over-receipt", "status": 409,
                       "title": "The receipt exceeds the ordered quantity plus tolerance"}
    # a read declares no write refusals; sign-in needs no token: its 401 is a wrong password
    stock = spec["paths"]["/api/v1/inventory/stock"]["get"]["responses"]
    assert "403" not in stock and "409" not in stock
    assert spec["paths"]["/api/v1/auth/token"]["post"]["responses"]["401"]["x-problem-types"] == [
        "/problems/bad-credentials"]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]["x-problem-types"] == [
        "/problems/too-many-sign-ins", "/problems/too-many-requests"]
    # a job's outcomes are listed on the response that queues it
    queued = spec["paths"]["/api/v1/imports/{kind}"]["post"]["responses"]["202"]
    assert "/problems/import-has-errors" in queued["x-job-problem-types"]


def test_every_problem_type_has_a_page_stating_the_rule_and_what_to_do(client: FlaskClient) -> None:
    for slug, problem_type in problem_types().items():
        assert problem_type.rule and problem_type.remedy and problem_type.title, slug
        page = client.get(f"/problems/{slug}")
        assert page.status_code == 200, slug
        html = page.get_data(as_text=True)
        assert f'data-testid="problem-type">{PROBLEM_BASE_URI}{slug}<' in html
        described = client.get(f"/problems/{slug}", headers={"Accept": "application/json"}).get_json()
        assert described["type"] == f"/problems/{slug}" and described["status"] == problem_type.status
        assert described["rule"] == problem_type.rule and described["remedy"] == problem_type.remedy
    assert client.get("/problems/no-such-rule").status_code == 404
    assert client.get("/problems/").status_code == 200


def test_the_page_is_chinese_by_default_and_english_on_request(client: FlaskClient) -> None:
    chinese = client.get("/problems/period-closed").get_data(as_text=True)
    assert "会计期间已关闭" in chinese and "请将过账日期放在未关闭的期间" in chinese
    assert "过账只能进入未关闭的期间" in chinese  # the rule, translated like every other (scripts/i18n.py)
    client.set_cookie("heyi_lang", "en")
    english = client.get("/problems/period-closed").get_data(as_text=True)
    assert "The accounting period is closed" in english and "Postings go into open periods only" in english
    assert "POST /api/v1/inventory/receipts" in english  # where the API answers with it


def test_a_refusal_type_resolves_to_its_page_on_the_same_host(client: FlaskClient) -> None:
    body = problem(client.get("/api/v1/auth/me"), 401, "unauthenticated")
    assert client.get(body["type"]).status_code == 200  # a relative reference: this app's page


def test_one_class_per_problem_type_each_with_its_own_rule() -> None:
    slugs = Counter(slug for cls in _PROBLEM_CLASSES.values() for slug in cls.own_slugs())
    assert [slug for slug, count in slugs.items() if count > 1] == []
    for cls in _PROBLEM_CLASSES.values():
        assert (cls.__dict__.get("__doc__") or "").strip(), f"{cls.__qualname__} states no rule (docstring)"


# Classes whose name is not their problem type's, and why: the generic types are the bases
# the rules derive from (rule-violation, validation-error); "retry" names what the client
# should do, the class what happened (a concurrent update).
NAMED_OTHERWISE = {"DomainError", "ValidationFailed", "ConcurrentUpdate"}


def test_each_class_is_named_after_its_problem_type() -> None:
    misnamed = []
    for cls in _PROBLEM_CLASSES.values():
        if "slugs" in cls.__dict__ or cls.__name__ in NAMED_OTHERWISE:
            continue  # one class for several rules, each named by its slug (purchasing rights)
        named = "".join(word.capitalize() for word in cls.__dict__["slug"].split("-"))
        if cls.__name__.lower() != named.lower():
            misnamed.append(f"{cls.__module__}.{cls.__name__}: {cls.__dict__['slug']}")
    assert misnamed == []


def test_no_refusal_names_its_problem_type_inline() -> None:
    """A refusal is raised as its class, not as a base class with ``slug=``: only the
    purchasing-rights rules, one class for the rules it lists (``slugs``), name theirs."""
    inline = []
    for path in sorted((PROJECT_ROOT / "erp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and any(k.arg == "slug" for k in node.keywords):
                inline.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert len(inline) == 1 and inline[0].startswith("erp/purchasing/errors.py:"), inline


def test_an_undeclared_refusal_is_caught(app: Flask, world: World) -> None:
    class Undeclared(Conflict):
        """A rule only this test raises."""

        slug = "test-undeclared"
        title = N_("Test")

    blueprint = Blueprint("undeclared_test", __name__, url_prefix="/api/v1/undeclared-test")

    @blueprint.route("/declared", methods=["GET"])
    @blueprint.refuses(Undeclared)
    def declared() -> Any:
        """Refuses as declared."""
        raise Undeclared("refused")

    @blueprint.route("/undeclared", methods=["GET"])
    def undeclared() -> Any:
        """Refuses without declaring it."""
        raise Undeclared("refused")

    app.extensions["flask-smorest"]["blp_name_to_api"]["costing"].register_blueprint(blueprint)
    seen: list[tuple[str, str, str]] = []
    web.undeclared_refusal_observers.append(lambda *refusal: seen.append(refusal))
    try:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens['steward']}"}
        problem(client.get("/api/v1/undeclared-test/declared", headers=headers), 409, "test-undeclared")
        assert seen == []
        problem(client.get("/api/v1/undeclared-test/undeclared", headers=headers), 409, "test-undeclared")
        assert seen == [("undeclared_test.undeclared", "get", "test-undeclared")]
    finally:
        web.undeclared_refusal_observers.remove(web.undeclared_refusal_observers[-1])
        _PROBLEM_CLASSES.pop(f"{Undeclared.__module__}.{Undeclared.__qualname__}")
        # The refusal was undeclared on purpose: the suite-wide check must not count it.
        conftest.undeclared_refusals[:] = [r for r in conftest.undeclared_refusals if r[2] != "test-undeclared"]


def test_problem_types_of_the_edge_are_the_classes(client: FlaskClient) -> None:
    malformed = problem(client.post("/api/v1/auth/token", data="{", content_type="application/json"), 400,
                        "malformed-request")
    assert malformed["title"] == problem_types()["malformed-request"].title
    assert isinstance(problem_types()["retry"].status, int) and problem_types()["retry"].status == 409
    assert DomainError.__dict__.get("abstract") and "rule-violation" not in problem_types()
