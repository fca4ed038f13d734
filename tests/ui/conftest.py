"""Every page test also checks that no page answers an error status without saying why, and
that no page crashed (a bug's "something went wrong" page is a failure, not a message)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request_finished

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
