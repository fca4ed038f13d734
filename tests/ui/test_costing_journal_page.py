"""The journal page: each entry by its voucher number in its company's period and the stock
document it posted (linked), a totals row over every line the filters match, and the group
accountant starting on every company they act for rather than on one that posted nothing.

By hand (tests/api/test_costing_api.py's November): A's receipt Dr 1403 1,000.00, Dr 1404
50.00, Cr 2202.01 1,050.00 (voucher 2026-11-0001), A's issue Dr 5001 400.00, Cr 1403 400.00
(2026-11-0002); B's receipt Dr 1403 500.00, Cr 1404 50.00, Cr 2202.01 450.00 (B's
2026-11-0001). A alone: 1,450.00 each side; the group: 1,950.00 each side.
"""

from __future__ import annotations

import re
from decimal import Decimal as D

from flask.testing import FlaskClient

from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.ui.test_costing_pages import figure, sign_in
from tests.world import World


def vouchers(page: str) -> list[str]:
    return re.findall(r'data-testid="voucher">([^<]+)<', page)


def test_the_journal_numbers_vouchers_per_period_links_documents_and_totals(
    client: FlaskClient, world: World, november: None  # noqa: F811
) -> None:
    sign_in(client, world, "cost_a")
    page = client.get("/costing/journal?company=CA&period=2026-11").get_data(as_text=True)
    assert vouchers(page) == ["2026-11-0001"] * 3 + ["2026-11-0002"] * 2
    documents = re.findall(r'data-testid="document"><a href="/inventory/documents/([^"]+)">', page)
    assert len(documents) == 5 and documents[0].startswith("GR-") and documents[3].startswith("GI-")
    # the source names the document's kind in words, never the source's code (finding 136)
    sources = re.findall(r'data-testid="source">([^<]+)<', page)
    assert sources == ["采购入库"] * 3 + ["领料出库"] * 2, sources
    assert "stock_document" not in re.sub(r'<select name="source".*?</select>', "", page, flags=re.S)
    assert (figure(page, "journal-total-debit"), figure(page, "journal-total-credit")) == \
        (D("1450.00"), D("1450.00"))
    # The totals follow the filters: 1403 alone is Dr 1,000.00 and Cr 400.00.
    account = client.get("/costing/journal?company=CA&period=2026-11&account=1403").get_data(as_text=True)
    assert (figure(account, "journal-total-debit"), figure(account, "journal-total-credit")) == \
        (D("1000.00"), D("400.00"))

def test_the_group_accountant_starts_on_every_company(
    client: FlaskClient, world: World, november: None  # noqa: F811
) -> None:
    sign_in(client, world, "cost_group")
    page = client.get("/costing/journal").get_data(as_text=True)
    assert 'value="" selected' in page  # the whole group
    assert (figure(page, "journal-total-debit"), figure(page, "journal-total-credit")) == \
        (D("1950.00"), D("1950.00"))
    assert page.count('data-entry="') == 8


def test_every_journal_source_a_module_posts_with_has_its_words() -> None:
    """Every ``source_type`` written anywhere in erp/ (a literal, or a module constant) is
    named in erp.costing.board.JOURNAL_SOURCES: the journal never shows a code (finding 136)."""
    import ast
    from pathlib import Path

    from erp.costing.board import JOURNAL_SOURCES

    erp = Path(__file__).resolve().parents[2] / "erp"
    written: set[str] = set()
    for path in erp.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                     for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "source_type":
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    written.add(node.value.value)
                elif isinstance(node.value, ast.Name) and node.value.id in constants:
                    written.add(constants[node.value.id])
    written |= {value for name, value in vars(__import__("erp.payables.services", fromlist=["x"])).items()
                if name.startswith("SOURCE_") and isinstance(value, str)}
    assert written and "stock_document" in JOURNAL_SOURCES
    assert sorted(written - set(JOURNAL_SOURCES)) == []
