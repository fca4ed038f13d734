"""Every page test also checks that no page answers an error status without saying why, and
that no page crashed (a bug's "something went wrong" page is a failure, not a message)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request_finished
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.models import SalesOrderStatus
from erp.ui.i18n import LANGUAGE_COOKIE
from tests.credit import new_order, put_stock, set_limit
from tests.world import World

# What a page that refuses shows: the rule's sentence (the refusal alert, wherever the page put
# it or at the top by the layout), or the not-found and not-allowed result pages.
SAYS_WHY = ('data-testid="refusal"', 'data-testid="not-found"', 'data-testid="forbidden"', 'class="result"')
# The page of a bug (erp.ui.pages._broken_page renders ui/http_error.html with status 500).
CRASHED = 'data-testid="page-crashed"'


def page_fault(response: Response) -> str | None:
    """What is wrong with a page's answer: it crashed, or refused without a message; None if neither."""
    if response.status_code < 400 or response.mimetype != "text/html" or response.is_streamed:
        return None
    body = response.get_data(as_text=True)
    if CRASHED in body:
        return "crashed"
    if not any(marker in body for marker in SAYS_WHY):
        return "refused without a message"
    return None


@pytest.fixture
def page_crash_expected() -> None:
    """For a test that makes a page crash on purpose (the crash page itself is under test)."""


@pytest.fixture(autouse=True)
def _pages_say_why_they_refuse(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    crash_expected = "page_crash_expected" in request.fixturenames
    faults: list[str] = []

    def check(sender: Any, response: Response, **extra: Any) -> None:
        fault = page_fault(response)
        if fault and not (fault == "crashed" and crash_expected):
            from flask import request as current
            faults.append(f"{current.method} {current.path} -> {response.status_code}: {fault}")

    request_finished.connect(check, app)
    try:
        yield
    finally:
        request_finished.disconnect(check, app)
    assert not faults, f"pages that crashed or refused without a message: {faults}"


# --- signing in, reading a page's refusal, and an order to refuse (the refusal tests share them) ---

def sign_in(client: FlaskClient, world: World, user: str, language: str = "zh") -> str:
    """Sign ``user`` in with ``language`` chosen; returns a CSRF token for forms."""
    client.set_cookie(LANGUAGE_COOKIE, language)
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not found:
        page = client.get("/credit/customers").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return found.group(1) if found else ""


def shown(page: str, testid: str) -> str:
    """The text of the element marked ``testid`` (tags dropped, spaces collapsed)."""
    # A field's message is one <div>; the refusal at the top holds a title and a detail <div>.
    end = r"</div>\s*</div>" if testid == "refusal" else r"</div>"
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?){end}', page, re.S)
    assert found, f"no {testid} on the page"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))).strip()


@pytest.fixture
def blocked_order(session_factory: sessionmaker[Session], world: World) -> int:
    """K0001 (limit 15,000.00): a first order of 10,000.00 confirmed, a second blocked."""
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "15000")
    new_order(session_factory, world, confirm=True)
    order = new_order(session_factory, world, confirm=True).order
    assert order.status == SalesOrderStatus.BLOCKED
    return order.id
