"""Connections the database dropped while they sat in the pool (a restart, a failover, an
operator's ``pg_terminate_backend``), and what a request sends to PostgreSQL (#18).

The pool does not test each connection with a round trip before use (``ERP_DB_POOL_PRE_PING=0``,
the default since the first statement is retried): a dropped connection is found at a
request's first statement, before anything of it reached the server, and that transaction is
run once more on a fresh connection (erp.db.lost_before_use), for reads and writes alike. The
API's GET and HEAD read on autocommit connections: no BEGIN, no COMMIT (erp.db.autocommit_reads),
and nothing they run may write. docs/operations.md, docs/performance.md."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from psycopg import pq
from sqlalchemy import Engine, event, select, text

from erp import create_app
from erp.config import Settings
from erp.db import WriteInSafeRequest, autocommit_reads, make_session_factory
from erp.credit.models import CustomerExposure
from erp.auth.models import User
from tests.world import PASSWORD, ApiClient, World

pytestmark = pytest.mark.postgres


def _served(settings: Settings, *, pre_ping: bool) -> Flask:
    app = create_app(settings.model_copy(update={"db_pool_pre_ping": pre_ping}))
    app.config["TESTING"] = True
    return app


def _pooled_backends(served: Engine, count: int) -> list[int]:
    """Fill the pool with ``count`` connections (checked out together, then returned) and
    return their backends' process ids."""
    connections = [served.connect() for _ in range(count)]
    try:
        return [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in connections]
    finally:
        for connection in connections:
            connection.close()


def _terminate(engine: Engine, pids: list[int]) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        for pid in pids:
            # waits (up to 5 s) until the backend has gone
            assert admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()


@pytest.mark.parametrize("pre_ping", [True, False])
def test_a_connection_that_died_idle_in_the_pool_serves_the_next_request(
        settings: Settings, engine: Engine, world: World, pre_ping: bool) -> None:
    app = _served(settings, pre_ping=pre_ping)
    served = app.extensions["erp"].engine
    try:
        [pid] = _pooled_backends(served, 1)  # the connection the next request will be given
        _terminate(engine, [pid])
        clerk = ApiClient(app.test_client(), world, "clerk_a")
        first = clerk.get("/api/v1/materials")
        assert first.status_code == 200, first.get_json()
        assert {m["code"] for m in first.get_json()} >= {"API-AMOX", "PKG-SHIP"}
        with served.connect() as fresh:
            assert fresh.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        served.dispose()


def test_every_pooled_connection_terminated_without_pre_ping_each_kind_of_request_still_succeeds(
        settings: Settings, engine: Engine, world: World) -> None:
    """All the pool's backends terminated before each request: a write with a token (its
    first statement is the token check, erp.web), a sign-in (a public view's own
    transaction), a read and the health check each answer as if nothing had happened, and
    the write is saved once."""
    app = _served(settings, pre_ping=False)
    served = app.extensions["erp"].engine
    client = app.test_client()
    credit = ApiClient(client, world, "credit")
    customer = world.customers["cust2"]
    try:
        _terminate(engine, _pooled_backends(served, 3))
        held = credit.put(f"/api/v1/credit/customers/{customer}/hold",
                          json={"on_hold": True, "reason": "cheque bounced"})
        assert held.status_code == 200, held.get_json()
        assert held.get_json()["on_hold"] is True

        _terminate(engine, _pooled_backends(served, 3))
        signed_in = client.post("/api/v1/auth/token", json={"username": "credit", "password": PASSWORD})
        assert signed_in.status_code == 201, signed_in.get_json()
        assert signed_in.get_json()["access_token"]

        _terminate(engine, _pooled_backends(served, 3))
        read = credit.get(f"/api/v1/credit/customers/{customer}")
        assert read.status_code == 200, read.get_json()
        assert read.get_json()["on_hold"] is True

        _terminate(engine, _pooled_backends(served, 3))
        assert client.get("/health").status_code == 200
    finally:
        served.dispose()
    with engine.connect() as connection:
        assert connection.execute(select(CustomerExposure.on_hold).where(CustomerExposure.customer_id == customer)).scalar_one() is True
        holds = connection.execute(text("SELECT count(*) FROM audit_events WHERE entity = 'customer_credit' "
                                        "AND entity_id = :id AND action = 'hold'"), {"id": customer}).scalar_one()
    assert holds == 1


@contextmanager
def _wire(served: Engine, path: Path) -> Iterator[Path]:
    """Record what every connection of ``served`` sends and receives (libpq's trace) to
    ``path`` while the block runs."""
    with path.open("w") as wire:
        def trace(dbapi_connection: object, _record: object, _proxy: object) -> None:
            pgconn = dbapi_connection.pgconn  # type: ignore[attr-defined]
            pgconn.trace(wire.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

        def untrace(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.pgconn.untrace()  # type: ignore[attr-defined]

        event.listen(served, "checkout", trace)
        event.listen(served, "checkin", untrace)
        try:
            yield path
        finally:
            event.remove(served, "checkout", trace)
            event.remove(served, "checkin", untrace)


def _round_trips(path: Path) -> tuple[int, list[str]]:
    """How many times the server said it was ready for the next query (one per round trip),
    and the simple-protocol commands sent (BEGIN, COMMIT, the pre-ping's ``;``)."""
    lines = path.read_text().splitlines()
    ready = sum(1 for line in lines if line.startswith("B") and "ReadyForQuery" in line)
    commands = [line.split("Query", 1)[1].strip().strip('"') for line in lines
                if line.startswith("F") and "\tQuery\t" in line]
    return ready, commands


def test_one_customers_exposure_is_two_round_trips_and_a_write_still_one_transaction(
        settings: Settings, world: World, tmp_path: Path) -> None:
    app = _served(settings, pre_ping=False)
    served = app.extensions["erp"].engine
    credit = ApiClient(app.test_client(), world, "credit")
    customer = world.customers["cust1"]
    try:
        assert credit.get("/api/v1/materials").status_code == 200  # the pool has its connection
        with _wire(served, tmp_path / "read.txt") as wire:
            read = credit.get(f"/api/v1/credit/customers/{customer}?amount=25000")
            assert read.status_code == 200, read.get_json()
        # the token check and the customer with its exposure; no BEGIN, no COMMIT, no ping
        assert _round_trips(wire) == (2, [])

        with _wire(served, tmp_path / "write.txt") as wire:  # the same pooled connection, out of autocommit
            held = credit.put(f"/api/v1/credit/customers/{customer}/hold", json={"on_hold": True, "reason": "audit"})
            assert held.status_code == 200, held.get_json()
        trips, commands = _round_trips(wire)
        assert commands[0].startswith("BEGIN") and commands[-1] == "COMMIT", commands
        assert trips > 4
    finally:
        served.dispose()


def test_a_safe_requests_connection_refuses_to_write(engine: Engine, world: World) -> None:
    reads = make_session_factory(autocommit_reads(engine))
    clerk = world.users["clerk_a"]
    with reads() as session, session.begin():
        user = session.get(User, clerk)
        assert user is not None and user.display_name == "clerk_a"
        with pytest.raises(WriteInSafeRequest):
            session.execute(text("UPDATE users SET display_name = 'written by a GET' WHERE id = :id"), {"id": clerk})
        user.display_name = "changed by a GET"
        with pytest.raises(WriteInSafeRequest):
            session.flush()
    with engine.connect() as connection:
        assert connection.execute(select(User.display_name).where(User.id == clerk)).scalar_one() == "clerk_a"


@pytest.mark.parametrize("statement", [
    "SELECT id FROM users WHERE id = :id FOR UPDATE",
    "SELECT id FROM users WHERE id = :id FOR NO KEY UPDATE",
    "SELECT id FROM users WHERE id = :id FOR SHARE",
    "SELECT set_config('work_mem', '16MB', true), :id",
])
def test_a_safe_requests_connection_refuses_what_only_a_transaction_gives(
        engine: Engine, world: World, statement: str) -> None:
    # Without a transaction a row lock is released at once and a local setting lasts one
    # statement: a GET that relies on either must be served in a transaction instead.
    reads = make_session_factory(autocommit_reads(engine))
    with reads() as session, session.begin():
        with pytest.raises(WriteInSafeRequest):
            session.execute(text(statement), {"id": world.users["clerk_a"]})


def test_a_safe_requests_connection_refuses_a_savepoint(engine: Engine, world: World) -> None:
    reads = make_session_factory(autocommit_reads(engine))
    with reads() as session, session.begin():
        assert session.get(User, world.users["clerk_a"]) is not None
        with pytest.raises(WriteInSafeRequest), session.begin_nested():  # SAVEPOINT goes with the first statement
            session.execute(select(User.id))

