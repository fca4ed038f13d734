"""Every page test also checks that no page answers an error status without saying why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request_finished

# What a page that refuses shows: the rule's sentence (the refusal alert, wherever the page put
# it or at the top by the layout), or the not-found, not-allowed and error result pages.
SAYS_WHY = ('data-testid="refusal"', 'data-testid="not-found"', 'data-testid="forbidden"', 'class="result"')


@pytest.fixture(autouse=True)
def _pages_say_why_they_refuse(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    silent: list[str] = []

    def check(sender: Any, response: Response, **extra: Any) -> None:
        if response.status_code >= 400 and response.mimetype == "text/html" and not response.is_streamed:
            body = response.get_data(as_text=True)
            if not any(marker in body for marker in SAYS_WHY):
                from flask import request as current
                silent.append(f"{current.method} {current.path} -> {response.status_code}")

    request_finished.connect(check, app)
    try:
        yield
    finally:
        request_finished.disconnect(check, app)
    assert not silent, f"pages that refused without a message: {silent}"
