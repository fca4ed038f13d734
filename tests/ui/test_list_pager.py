"""Every list's pager (erp/ui/templates/ui/macros.html) offers 20, 50 and 100 rows a page:
each 「每页行数」 link asks for its own size and keeps the list's filters, and the list then
shows up to that many rows (TRIAL.md finding 10: the links for 50 and 100 both asked for 20)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing.models import PurchaseOrderStatus
from tests.stock import open_order
from tests.ui.conftest import sign_in
from tests.world import World


def size_links(page: str) -> dict[str, dict[str, list[str]]]:
    """The pager's page-size links: shown size -> the query each asks for."""
    pager = re.search(r'<span class="page-size">.*?</span>', page, re.S)
    assert pager, "no pager"
    return {size: parse_qs(urlsplit(html.unescape(href)).query)
            for href, size in re.findall(r'<a href="([^"]*)"[^>]*>(\d+)</a>', pager.group(0))}


def test_the_pager_shows_50_or_100_rows_and_keeps_the_lists_filters(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # 55 open orders (each under its own company contract) and one draft the filter leaves out.
    for n in range(55):
        open_order(session_factory, world, [("pkg_loose", "1", "2.00", "A-AMB")], number=f"PO-PG-{n:03d}")
    open_order(session_factory, world, [("pkg_loose", "1", "2.00", "A-AMB")], number="PO-PG-DRAFT",
               status=PurchaseOrderStatus.DRAFT)
    sign_in(client, world, "buyer_a")
    lists = [
        ("/purchasing/orders", {"status": "open"}, "data-order=", 55),
        ("/purchasing/contracts", {"scope": "company"}, "data-contract=", 56),
    ]
    for path, filters, row_marker, matching in lists:
        first = client.get(path, query_string=filters).get_data(as_text=True)
        assert first.count(row_marker) == 20, path  # 20 a page by default
        links = size_links(first)
        assert set(links) == {"50", "100"}, path
        for size, query in links.items():
            assert query["size"] == [size], (path, query)
            assert query["page"] == ["1"], (path, query)
            for name, value in filters.items():
                assert query[name] == [value], (path, name, query)  # the list's filter kept
        fifty = client.get(path, query_string={**filters, "size": 50}).get_data(as_text=True)
        assert fifty.count(row_marker) == 50, path
        assert set(size_links(fifty)) == {"20", "100"}, path
        hundred = client.get(path, query_string={**filters, "size": 100}).get_data(as_text=True)
        assert hundred.count(row_marker) == matching, path  # all of them, on one page
