"""Every entry of a user's menu opens: no user is offered a page that then refuses them
(403) or is not there (404). The menu is drawn from erp.ui.nav, each page's access from the
services it calls; this walks them together for every user of the test world, so a new
page whose menu entry is wider than its rule fails here."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.ui.conftest import sign_in
from tests.world import USERS, World

MENU_LINK = re.compile(r'<a class="menu-item[^"]*"\s+href="([^"]+)"')


@pytest.mark.parametrize("user", sorted(USERS))
def test_every_menu_entry_opens_for_the_user_it_is_shown_to(client: FlaskClient, world: World, user: str) -> None:
    sign_in(client, world, user)
    home = client.get("/", follow_redirects=True)
    links = MENU_LINK.findall(home.get_data(as_text=True))
    assert links, f"{user} sees no menu"
    refused = {}
    for link in links:
        status = client.get(link).status_code
        if status >= 400:
            refused[link] = status
    assert refused == {}, f"{user} is offered pages that refuse them: {refused}"
