"""Schemathesis against the app's own OpenAPI document: every operation, a bounded number of
generated requests each (valid and invalid), signed in as the world's users in turn.

What must hold for every request: no 5xx, a status code the operation documents, the
documented content type, and a body that conforms to the documented schema. What it finds
is fixed in the code (or the document), never excluded here.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings as examples
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from erp import create_app
from erp.config import Settings
from erp.db import make_engine
from tests.world import World

# Bounded for CI: about 180 operations x this many examples (valid and invalid requests).
EXAMPLES_PER_OPERATION = 6
# Who signs the requests, in turn: each role reaches its own branches of the rules.
SIGNERS = ("steward", "admin", "buyer_a", "group_buyer", "clerk_a", "cost_group", "cost_a", "quality_a",
           "sales_a", "credit", "cio", "auditor", "pm_a", "ap_a")


def _document() -> dict[str, Any]:
    # The document does not depend on the database: read it from an app on an empty SQLite
    # database at collection, so that every operation is its own test item.
    app = create_app(Settings(database_url="sqlite://"), engine=make_engine("sqlite://"))
    return app.test_client().get("/api/v1/openapi.json").get_json()  # type: ignore[no-any-return]


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Flask:
    """The app with background jobs left queued (as under ``ERP_JOB_RUNNER=worker``): an
    operation that starts a job is checked on its answer (202 and the job), and no job
    thread outlives the test into the next one's clean-up. Jobs are run in tests/service."""
    application = create_app(settings.model_copy(update={"job_runner": "worker"}), engine=engine)
    application.config["TESTING"] = True
    return application


@schema.parametrize()
@examples(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: Any, app: Flask, world: World) -> None:
    signer = next(_signers)
    token = world.tokens[signer]
    response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance, response_schema_conformance])


_signers = itertools.cycle(SIGNERS)
