"""Before a goods receipt is booked, its form shows the amounts it will post (UAT finding 4):
the quantity at the contract price, the value at standard and the price difference, with the
journal entry, as the receipt service posts them (rolled back), and posts only once confirmed.

Company A orders 300 kg of EXC-STAR at the contract price 12.345 per kg; its standard price is
10.00 per kg. Receiving 100 kg posts 100 x 12.345 = 1,234.50 to goods received not invoiced
(Cr 2202.01), 100 x 10.00 = 1,000.00 to stock (Dr 1403) and the difference 234.50 to material
cost variance (Dr 1404)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockDocument
from tests.stock import books, open_order, set_standard
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _form(token: str, quantity: str = "100") -> dict[str, str]:
    return {"quantity": quantity, "posting_date": "2026-11-20", "batch_number": "EXC-C-1",
            "manufacture_date": "2026-10-01", "expiry_date": "2028-01-31", "delivery_note": "DN-77",
            "csrf_token": token}


def _facts(page: str) -> str:
    found = re.search(r'data-testid="confirm-receipt-facts"[^>]*>(.*?)</dl>', page, re.S)
    assert found, "no confirmation step on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_checking_a_receipt_shows_the_contract_amount_standard_value_and_price_difference_and_posts_nothing(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "300", "12.345", "A-AMB")])
    token = sign_in(client, world, "clerk_a")
    before = books(session_factory)
    checked = client.post(f"/inventory/receiving/{line}", data=_form(token))
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    assert books(session_factory) == before  # nothing written yet
    facts = _facts(page)
    assert "合同价金额 100 千克 × ¥12.345 = ¥1,234.50" in facts
    assert "计划价金额 100 千克 × ¥10.00 = ¥1,000.00" in facts
    assert "价差（材料成本差异） ¥234.50" in facts
    assert "EXC-C-1" in facts and "待检隔离" not in facts  # EXC-STAR needs no inspection
    journal = shown(page, "confirm-receipt-journal")
    assert re.search(r"1403 \S+ ¥1,000\.00", journal) and re.search(r"1404 \S+ ¥234\.50", journal)
    assert re.search(r"2202\.01 \S+ ¥1,234\.50", journal)
    # the confirmation posts the form as typed
    assert 'name="batch_number" value="EXC-C-1"' in page and 'name="delivery_note" value="DN-77"' in page
    posted = client.post(f"/inventory/receiving/{line}", data={**_form(token), "confirmed": "1"})
    assert posted.status_code == 302 and "posted=1" in posted.headers["Location"]
    with session_factory() as session:
        document = session.scalars(select(StockDocument).where(StockDocument.po_line_id == line)).one()
        assert document.delivery_note == "DN-77"


def test_back_to_the_form_keeps_what_was_typed_and_a_refused_check_says_why(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "300", "12.345", "A-AMB")])
    token = sign_in(client, world, "clerk_a")
    before = books(session_factory)
    back = client.post(f"/inventory/receiving/{line}", data={**_form(token), "confirmed": "1", "edit": "1"})
    page = back.get_data(as_text=True)
    assert back.status_code == 200 and 'data-testid="receive-form"' in page and 'value="EXC-C-1"' in page
    refused = client.post(f"/inventory/receiving/{line}", data=_form(token, quantity="400"))
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert 'data-testid="confirm-receipt"' not in page and 'value="400"' in page
    assert books(session_factory) == before
