"""The API describes itself: a valid OpenAPI 3 document and a browsable docs page."""

from __future__ import annotations

import warnings

from flask.testing import FlaskClient
from sqlalchemy import Engine

from erp import create_app
from erp.config import Settings
from openapi_spec_validator import validate


def test_openapi_document_validates(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_has_a_summary_and_sign_in_needs_no_token(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), f"{method.upper()} {path} has no summary (docstring)"
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []


def test_docs_page_is_served_without_a_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_docs_page_assets_are_served_locally_without_a_token(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_documented_problem_admits_extension_members(client: FlaskClient) -> None:
    # RFC 9457 section 3.2: problems may carry extension members (a refused
    # cancellation names the order's status), so the schema must not forbid them.
    spec = client.get("/api/v1/openapi.json").get_json()
    problem = spec["components"]["schemas"]["Problem"]
    assert problem.get("additionalProperties", True) is not False


def test_building_the_app_warns_nothing_two_schemas_share_no_name(settings: Settings, engine: Engine) -> None:
    """apispec renames a second schema class of the same name (``OrderIn`` of credit and of
    production) and warns on stderr, which lands as a stray non-JSON line in the server's log
    and in every CLI command's output; schema class names are unique across modules."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        application = create_app(settings, engine=engine)
        with application.test_client() as client:
            assert client.get("/api/v1/openapi.json").status_code == 200
