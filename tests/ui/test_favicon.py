"""Every page names its icon, and the icon is served (a browser otherwise asks for
/favicon.ico and logs a 404 on every page: TRIAL.md finding 5)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_the_sign_in_page_names_an_icon_that_is_served(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    found = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page)
    assert found, "no icon named"
    icon = client.get(found.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.get_data()
