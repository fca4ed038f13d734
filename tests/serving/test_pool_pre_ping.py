"""A pooled connection whose backend died while idle (a database restart, a failover), with
and without the pool's pre-ping (``ERP_DB_POOL_PRE_PING``, #18): with it, the pool notices
before the request and the request succeeds; without it (one round trip less per request),
the first request on it fails (here 503 ``database-unavailable``, nothing saved), which is
why pre-ping stays on by default, and the next one succeeds on a fresh connection
(docs/operations.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from erp import create_app
from erp.config import Settings
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("pre_ping", [True, False])
def test_a_connection_that_died_idle_in_the_pool(settings: Settings, engine: Engine, world: World,
                                                  pre_ping: bool) -> None:
    app = create_app(settings.model_copy(update={"db_pool_pre_ping": pre_ping}))
    app.config["TESTING"] = True
    served = app.extensions["erp"].engine
    try:
        with served.connect() as pooled:  # the connection the next request will be given
            pid = pooled.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            # waits (up to 5 s) until the backend has gone
            assert admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
        clerk = ApiClient(app.test_client(), world, "clerk_a")
        first = clerk.get("/api/v1/materials")
        if pre_ping:
            assert first.status_code == 200, first.get_json()
        else:
            problem(first, 503, "database-unavailable")
            assert first.headers["Retry-After"] == "1"
        again = clerk.get("/api/v1/materials")
        assert again.status_code == 200, again.get_json()
        with served.connect() as fresh:
            assert fresh.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        served.dispose()
