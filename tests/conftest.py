"""Test fixtures: a migrated database per test, an app, and a small group to work in.

Database: ``ERP_TEST_DATABASE_URL`` (PostgreSQL in CI, set by scripts/test.sh); without it
each test gets a copy of a migrated SQLite file. PostgreSQL is migrated once per run and
emptied after each test. With ``ERP_REQUIRE_POSTGRES=1`` (CI) a run on anything but
PostgreSQL refuses to start and every skipped test counts as a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from erp import clock, create_app, web
from erp.config import Settings
from erp.db import Base, make_engine, make_session_factory
from erp.migrate import upgrade
from tests import posting_guard
from tests.profiles import PROFILE  # importing it loads the hypothesis profile HEYI_HYPOTHESIS_PROFILE names
from tests.purchasing_world import Deals, sign_contracts
from tests.world import ApiClient, World, build_world

TEST_DATABASE_URL = os.environ.get("ERP_TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("ERP_REQUIRE_POSTGRES") == "1"
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")

FreshDatabase = Callable[[], "sessionmaker[Session]"]


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and not ON_POSTGRES:
        raise pytest.UsageError(
            "ERP_REQUIRE_POSTGRES=1 but ERP_TEST_DATABASE_URL is not a PostgreSQL URL"
        )
    # Pages are tested with the catalogues as they are in the .po files now.
    import subprocess
    import sys

    subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "scripts" / "i18n.py"), "compile"],
                   check=True)


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {PROFILE} (HEYI_HYPOTHESIS_PROFILE, tests/profiles.py)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set ERP_TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if REQUIRE_POSTGRES and report.skipped:
        # CI promises every test ran on PostgreSQL; a skip would hide exactly that.
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (ERP_REQUIRE_POSTGRES=1): {report.longrepr}"
    return report


# One business day for every test (erp.clock): the tests' world lives in the autumn of 2026
# (receipts in November, closes of October and November), so "today" is 15 December 2026
# whenever and wherever the suite runs, and a run that crosses midnight in Beijing (16:00
# UTC) sees the same day in every test and every module-level constant. Tests dated later
# move the clock themselves (``set_business_day``); the no-future-postings rule is never
# bent for them.
RUN_BUSINESS_DAY = dt.date(2026, 12, 15)
clock.pin_business_day(RUN_BUSINESS_DAY)


@pytest.fixture(autouse=True)
def _business_day_restored() -> Iterator[None]:
    """A test that moves the clock (``set_business_day``) leaves the run's day behind it."""
    yield
    clock.pin_business_day(RUN_BUSINESS_DAY)


@pytest.fixture
def set_business_day() -> Callable[[dt.date], dt.date]:
    """Move the business day for this test: scenarios dated in 2027 run as if it were 2027,
    instead of the no-future-postings rule being bent for them."""
    def move(day: dt.date) -> dt.date:
        clock.pin_business_day(day)
        return day

    return move


# Every statement of every test is checked: only erp.posting writes the books (tests/posting_guard.py).
posting_guard.install()

# Every refusal an API operation answers with in any test must be one it declares
# (erp.web.Blueprint.refuses), so that the OpenAPI document lists what clients can meet.
undeclared_refusals: list[tuple[str, str, str]] = []
web.undeclared_refusal_observers.append(lambda *refusal: undeclared_refusals.append(refusal))


# Every response body an API test gets is the body marshmallow itself would dump: the API
# dumps through erp.web.plain_dump, which leaves marshmallow's per-field layers out.
plain_dump_differences: list[str] = []


def _dumped_as_marshmallow_would(schema: Any, obj: Any, many: bool | None, body: Any) -> None:
    expected = ma.Schema.dump(schema, obj, many=many)
    if body != expected:
        plain_dump_differences.append(f"{type(schema).__name__}: {body!r} != marshmallow's {expected!r}")


web.plain_dump_observers.append(_dumped_as_marshmallow_would)


# Every request body or query an API test sends is loaded as marshmallow itself would load it:
# the API loads through erp.web.plain_load, which leaves marshmallow's per-schema layers out.
plain_load_differences: list[str] = []


def _loaded_as_marshmallow_would(schema: Any, data: Any, unknown: Any, result: Any) -> None:
    expected = ma.Schema.load(schema, data, unknown=unknown)
    if result != expected or list(result) != list(expected):
        plain_load_differences.append(f"{type(schema).__name__}: {result!r} != marshmallow's {expected!r}")


web.plain_load_observers.append(_loaded_as_marshmallow_would)


@pytest.fixture(autouse=True)
def _api_bodies_as_marshmallow_would() -> Iterator[None]:
    """Fail the test if a body it sent loaded, or a body it got was dumped, otherwise than
    marshmallow itself would have (each list says which schema and how)."""
    dumped, loaded = len(plain_dump_differences), len(plain_load_differences)
    yield
    assert plain_dump_differences[dumped:] == []
    assert plain_load_differences[loaded:] == []


@pytest.fixture(autouse=True)
def _only_posting_writes_the_books() -> Iterator[None]:
    """Fail the test if any module but erp.posting wrote the posting tables during it, even
    when the code under test caught the refusal (a 500 handler, a retry loop)."""
    start = len(posting_guard.violations)
    yield
    assert posting_guard.violations[start:] == []


@pytest.fixture(autouse=True)
def _refusals_are_declared() -> Iterator[None]:
    """Fail the test if an API operation answered with a problem type it does not declare."""
    start = len(undeclared_refusals)
    yield
    found = undeclared_refusals[start:]
    assert found == [], f"(endpoint, method, problem type) not declared by the operation: {sorted(set(found))}"


def make_settings(database_url: str) -> Settings:
    # A cheap scrypt cost keeps user creation fast; the algorithm is the production one.
    return Settings(database_url=database_url, password_hash_method="scrypt:1024:8:1")


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine]:
    engine = make_engine(TEST_DATABASE_URL, pool_size=20, max_overflow=20)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


# Reference rows the migrations insert (the chart of accounts) stay: every test needs them,
# and on SQLite each test starts from a copy of the migrated file that holds them too.
MIGRATION_SEEDED_TABLES = frozenset({"accounts"})


def _empty_postgres(engine: Engine) -> None:
    """Delete what the test wrote and restart the id sequences.

    DELETE of the few rows a test writes is much faster than TRUNCATE, which creates new
    files for every table and index. ``session_replication_role = replica`` switches off
    the triggers that make postings immutable and the foreign-key checks (the postgres
    superuser runs the tests), so the tables can be emptied in any order.
    """
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in MIGRATION_SEEDED_TABLES]
    with engine.begin() as connection:
        sequences = connection.execute(text(
            "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
            "FROM information_schema.sequences WHERE sequence_schema = 'public'")).scalars().all()
        connection.exec_driver_sql(
            "SET LOCAL session_replication_role = replica; "
            + " ".join(f'DELETE FROM "{table}";' for table in reversed(tables))
            + " ".join(f"SELECT setval('{sequence}', 1, false);" for sequence in sequences)
        )


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database for this test."""
    if ON_POSTGRES:
        pg_engine: Engine = request.getfixturevalue("_postgres_engine")
        yield pg_engine
        _empty_postgres(pg_engine)
        return
    template: Path = request.getfixturevalue("_sqlite_template")
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(template, path)
    sqlite_engine = make_engine(f"sqlite:///{path}")
    yield sqlite_engine
    sqlite_engine.dispose()


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> Iterator[FreshDatabase]:
    """For tests that need many empty databases in one test (one per hypothesis example):
    each call returns a session factory on a migrated database with nothing in it."""
    engines: list[Engine] = []

    def fresh() -> sessionmaker[Session]:
        if ON_POSTGRES:
            _empty_postgres(engine)
            return make_session_factory(engine)
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / f"fresh-{len(engines)}.sqlite3"
        shutil.copyfile(template, path)
        engines.append(make_engine(f"sqlite:///{path}"))
        return make_session_factory(engines[-1])

    yield fresh
    for sqlite_engine in engines:
        sqlite_engine.dispose()


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service tests; each test opens its own transactions."""
    with session_factory() as db_session:
        yield db_session


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Flask:
    application = create_app(settings, engine=engine)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    """A small group: three companies in two segments, warehouses, materials, partners, users."""
    return build_world(session_factory)


@pytest.fixture
def api(client: FlaskClient, world: World) -> ApiClient:
    """Calls the API as one of the world's users: ``api.as_("clerk_a").get(...)``."""
    return ApiClient(client, world)


@pytest.fixture
def deals(session_factory: sessionmaker[Session], world: World) -> Deals:
    """Active contracts with sup1: a group contract and company A's (tests/purchasing_world.py)."""
    return sign_contracts(session_factory, world)
