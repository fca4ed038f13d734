"""Browser tests: Playwright drives Debian's Chromium against a live Heyi on PostgreSQL.

Reusable fixtures (docs/ui.md):

- ``live_server``: the app with the demo group loaded, on its own PostgreSQL database
  (``<test database>_browser``, made and dropped by the run), served on a free port;
- ``browser``: headless /usr/bin/chromium (never a downloaded build);
- ``signed_in(username, language)``: a page signed in through the sign-in form;
- ``demo_actor(session, username)``: a demo user as the services take a signed-in user;
- ``shot(page, name)``: a full-page screenshot under ``test-output/browser/<test>/``; a page
  that holds a form is held to fit the 1440 px window as it is taken (``assert_fits_width``).

Without Chromium or PostgreSQL the tests are skipped; in CI (ERP_REQUIRE_POSTGRES=1) a
skip fails the run (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, select
from werkzeug.serving import make_server

from erp import create_app
from erp.auth.models import User
from erp.auth.roles import Actor
from erp.auth.services import actor_for_user
from erp import clock
from erp.config import PROJECT_ROOT, Settings
from erp.db import make_engine, make_session_factory
from erp.demo.loader import DEMO_PASSWORD, load_demo
from erp.migrate import upgrade
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL

CHROMIUM = os.environ.get("ERP_CHROMIUM", "/usr/bin/chromium")
# GUIDE.md: headless, no sandbox (CI runs as root), nothing that calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--headless"]
OUTPUT = Path(os.environ.get("ERP_TEST_OUTPUT", PROJECT_ROOT / "test-output")) / "browser"
VIEWPORT = {"width": 1440, "height": 900}


def demo_actor(session: Any, username: str) -> Actor:
    """The demo user ``username`` as the services take a signed-in user (set-ups that post
    through the services what a page is then shown with)."""
    return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def _missing() -> str | None:
    if not ON_POSTGRES:
        return "browser tests need PostgreSQL (ERP_TEST_DATABASE_URL)"
    if not Path(CHROMIUM).exists():
        return f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_database_url() -> Iterator[str]:
    """A PostgreSQL database of its own, migrated and loaded with the demo group."""
    base = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    name = base.rsplit("/", 1)[1] + "_browser"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    # The demo's dates follow the business day; loaded as of 29 November 2026 (the day the
    # pages' walkthroughs were written against: the first distribution company still has
    # November open, with shipments to take returns on), browsed on the run's day after.
    with clock.business_day(dt.date(2026, 11, 29)):
        load_demo(make_session_factory(engine)(), seed=2026)
    engine.dispose()
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def browser_engine(browser_database_url: str) -> Iterator[Engine]:
    engine = make_engine(browser_database_url, pool_size=5, max_overflow=5)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(browser_engine: Engine, browser_database_url: str) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, in a thread, for the whole run."""
    # The whole browser run signs its users in from one address, faster than 60 a minute on
    # a quiet machine: the edge's ceiling for one address is raised, as for a site behind NAT.
    settings = Settings(database_url=browser_database_url, secret_key="browser-tests", password_hash_method="scrypt",
                        sign_in_rate_limit="1000/minute")
    app = create_app(settings, engine=browser_engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# The page and each form or card on it, whose content is wider than the box (a wide
# table belongs in a .table-wrap, which scrolls on its own and so widens nothing around it).
_OVERFLOWING = """(selector) => [document.scrollingElement, ...document.querySelectorAll(selector)]
    .filter((box) => box.scrollWidth > box.clientWidth)
    .map((box) => `${box.tagName.toLowerCase()}${box.id ? "#" + box.id : ""}`
        + `${typeof box.className === "string" && box.className ? "." + box.className.trim().split(/\\s+/).join(".") : ""}`
        + `${box.dataset.testid ? "[" + box.dataset.testid + "]" : ""}: ${box.scrollWidth} > ${box.clientWidth} px`)"""


def assert_fits_width(page: Any, selector: str = "form, .card") -> None:
    """No horizontal overflow: the page, and every form and card on it, is no wider than its
    box (``scrollWidth <= clientWidth``), as UI.md asks of every page at 1440 px."""
    overflowing = page.evaluate(_OVERFLOWING, selector)
    assert not overflowing, f"{page.url} at {page.viewport_size['width']} px overflows: {overflowing}"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot of ``page`` as ``NN-name.png`` in this test's folder; a page
    with a form must fit its width as it is taken (the screenshot is saved first, to look at)."""
    folder = OUTPUT / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    taken = [0]

    def take(page: Any, name: str) -> Path:
        taken[0] += 1
        path = folder / f"{taken[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if page.locator("form").count():
            assert_fits_width(page)
        return path

    return take


@pytest.fixture
def signed_in(browser: Any, live_server: str, shot: Callable[[Any, str], Path]) -> Iterator[Callable[..., Any]]:
    """Sign a demo user in through the sign-in page, in Chinese (default) or English."""
    contexts: list[Any] = []

    def sign_in(username: str, language: str = "zh") -> Any:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN" if language == "zh" else "en-US",
                                      base_url=live_server)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/sign-in")
        if language != "zh":
            page.get_by_test_id(f"lang-{language}").click()
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        shot(page, "sign-in")
        page.locator("form.sign-in-card button[type=submit]").click()
        page.wait_for_selector("[data-testid=who]")
        return page

    yield sign_in
    for context in contexts:
        context.close()
