"""The pages on a 1024 px laptop screen (UI.md: 1440 px is the design width, 1024 px must
work): the navigation folds away behind the 菜单 button, opens over the page and leads on;
a list's last column (its actions) is in view; no page a role's menu leads to is wider than
the window, nor any form, card or table on it. At 1440 px the navigation stays open."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import VIEWPORT

NARROW = {"width": 1024, "height": 768}
OVERFLOWING = """(selector) => [...document.querySelectorAll(selector)]
    .filter((box) => box.scrollWidth > box.clientWidth + 1)
    .map((box) => `${location.pathname} ${box.tagName.toLowerCase()}.${box.className}: ${box.scrollWidth} > ${box.clientWidth}`)"""


def _right_edge(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["x"] + box["width"])


def test_the_navigation_folds_away_and_the_receiving_list_keeps_its_actions_in_view(signed_in: Any,
                                                                                     shot: Any) -> None:
    page = signed_in("clerk.form01")
    assert page.get_by_test_id("nav-button").is_hidden()  # 1440 px: the navigation stays open
    assert _right_edge(page.locator("aside.sider")) > 0
    page.set_viewport_size(NARROW)
    page.goto("/inventory/receiving")
    sider = page.locator("aside.sider")
    page.wait_for_function("() => document.querySelector('aside.sider').getBoundingClientRect().right <= 0")
    receive = page.get_by_role("link", name="收货").first
    assert _right_edge(receive) <= NARROW["width"]  # the action column is not cut off
    assert page.evaluate(OVERFLOWING, ".table-wrap, body") == []
    shot(page, "receiving-1024")
    page.get_by_test_id("nav-button").click()
    page.wait_for_function("() => document.querySelector('aside.sider').getBoundingClientRect().left >= 0")
    assert _right_edge(sider) <= NARROW["width"]
    shot(page, "navigation-open-1024")
    sider.get_by_role("link", name="库存", exact=True).click()
    page.wait_for_url("**/inventory/stock**")
    assert _right_edge(page.locator("aside.sider")) <= 0  # folded again on the page it led to
    page.set_viewport_size(VIEWPORT)
    assert page.get_by_test_id("nav-button").is_hidden()


def test_no_page_of_a_role_menu_is_wider_than_a_1024_px_window(signed_in: Any, shot: Any) -> None:
    for username in ("clerk.form01", "buyer.form01", "ap.form01", "cost.group", "credit", "cio"):
        page = signed_in(username)
        page.set_viewport_size(NARROW)
        links = page.eval_on_selector_all("a.menu-item", "links => links.map((a) => a.getAttribute('href'))")
        assert links, username
        overflowing: list[str] = []
        for link in links:
            page.goto(link)
            page.wait_for_selector("[data-testid=who]")
            overflowing += page.evaluate(OVERFLOWING, "html, body, form, .card, .table-wrap")
        shot(page, f"{username}-last-menu-page-1024")
        assert overflowing == [], f"{username} at 1024 px"
