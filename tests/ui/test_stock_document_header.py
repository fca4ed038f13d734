"""A posted stock document's header shows the fields its kind has (a receipt its supplier and
order, an issue where it went and the standard price it was valued at, a transfer its two
warehouses), labels a reversal the right way round (被冲销单据 on the reversal, naming what it
reversed; 冲销单据 on the original, naming its reversal) and links every document it names:
the reversal and the original to each other, a return and its receipt, the order and the
supplier (TRIAL.md findings 2 and 6).

Company A's ambient store holds the excipient EXC-STAR at a standard of 10.00 per kg."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockDocument
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine
from tests.credit import put_stock
from tests.stock import open_order, receive
from tests.ui.conftest import sign_in
from tests.world import World

DAY = "2026-11-20"


@pytest.fixture
def receipt(session_factory: sessionmaker[Session], world: World) -> tuple[str, str]:
    """A receipt of 300 kg EXC-STAR (batch EXC-A-0) at 10.00; its number and its order's."""
    put_stock(session_factory, world)
    (line,) = open_order(session_factory, world, [("exc_local", "300", "10.00", "A-AMB")])
    document = receive(session_factory, world, line, "300", batch="EXC-A-0", expires=dt.date(2028, 1, 31),
                       on=dt.date(2026, 11, 3))
    with session_factory() as session:
        number = session.scalar(select(StockDocument.number).where(StockDocument.id == document))
        order = session.scalar(select(PurchaseOrder.number).join(
            PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id).where(PurchaseOrderLine.id == line))
    assert number and order
    return number, order


def header(page: str) -> dict[str, str]:
    """The header's terms and their values (text), and each value's link as ``<term> href``."""
    found: dict[str, str] = {}
    for term, value in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S):
        term = html.unescape(term.strip())
        found[term] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())
        link = re.search(r'href="([^"]+)"', value)
        if link:
            found[f"{term} href"] = html.unescape(link.group(1))
    return found


def _posted_number(location: str) -> str:
    found = re.search(r"/inventory/documents/([^?]+)\?posted=1$", location)
    assert found, location
    return found.group(1)


def test_a_reversed_receipt_and_its_reversal_name_and_link_each_other_the_right_way_round(
    client: FlaskClient, world: World, receipt: tuple[str, str],
) -> None:
    number, order = receipt
    token = sign_in(client, world, "clerk_a")
    reversed_ = client.post(f"/inventory/documents/{number}/reversal",
                            data={"posting_date": DAY, "reason": "数量录错", "confirmed": "1", "csrf_token": token})
    assert reversed_.status_code == 302, reversed_.get_data(as_text=True)[-3000:]
    reversal = _posted_number(reversed_.headers["Location"])

    original = header(client.get(f"/inventory/documents/{number}").get_data(as_text=True))
    # the original names the reversal that corrected it: 冲销单据, linked
    assert original["冲销单据"] == reversal and "被冲销单据" not in original
    assert original["冲销单据 href"] == f"/inventory/documents/{reversal}"
    # its order and supplier open what a clerk may see of them: the order's lines to receive
    assert original["采购订单"] == order and original["采购订单 href"] == f"/inventory/receiving?q={order}"
    assert original["供应商 href"].startswith("/inventory/receiving?q=")
    assert original["合同价"] == "¥10.00" and original["计划价"] == "¥10.00"

    mirror = header(client.get(f"/inventory/documents/{reversal}").get_data(as_text=True))
    # the reversal names the document it reversed: 被冲销单据, linked
    assert mirror["被冲销单据"] == number and "冲销单据" not in mirror
    assert mirror["被冲销单据 href"] == f"/inventory/documents/{number}"
    assert mirror["采购订单"] == order and mirror["原因"] == "数量录错"


def test_a_return_and_its_receipt_link_each_other(
    client: FlaskClient, world: World, receipt: tuple[str, str],
) -> None:
    number, _ = receipt
    token = sign_in(client, world, "clerk_a")
    returned = client.post(f"/inventory/documents/{number}/return",
                           data={"quantity": "30", "posting_date": DAY, "reason": "外箱破损", "confirmed": "1",
                                 "csrf_token": token})
    assert returned.status_code == 302
    back = _posted_number(returned.headers["Location"])
    shown = header(client.get(f"/inventory/documents/{back}").get_data(as_text=True))
    assert shown["退回的收货单"] == number and shown["退回的收货单 href"] == f"/inventory/documents/{number}"
    original = header(client.get(f"/inventory/documents/{number}").get_data(as_text=True))
    assert original["退货单据"] == back and original["退货单据 href"] == f"/inventory/documents/{back}"


def test_an_issue_shows_where_it_went_and_its_standard_price_and_no_receiving_fields(
    client: FlaskClient, world: World, receipt: tuple[str, str],
) -> None:
    token = sign_in(client, world, "clerk_a")
    posted = client.post("/inventory/issues", data={
        "warehouse_id": str(world.warehouses["A-AMB"]), "material_id": str(world.materials["exc_local"]),
        "quantity": "20", "posting_date": DAY, "destination": "cost_center", "cost_center": "QC-LAB",
        "action": "post", "csrf_token": token})
    assert posted.status_code == 302
    shown = header(client.get(posted.headers["Location"]).get_data(as_text=True))
    assert shown["发往"] == "成本中心 QC-LAB" and shown["计划价"] == "¥10.00"
    assert not {"供应商", "合同价", "送货单号", "采购订单"} & set(shown)


def test_a_transfer_shows_its_two_warehouses_and_no_receiving_fields(
    client: FlaskClient, world: World, receipt: tuple[str, str],
) -> None:
    token = sign_in(client, world, "clerk_a")
    posted = client.post("/inventory/transfers", data={
        "from_warehouse_id": str(world.warehouses["A-AMB"]), "to_warehouse_id": str(world.warehouses["A-COOL"]),
        "material_id": str(world.materials["exc_local"]), "status": "unrestricted", "quantity": "120",
        "posting_date": DAY, "action": "post", "csrf_token": token})
    assert posted.status_code == 302
    shown = header(client.get(posted.headers["Location"]).get_data(as_text=True))
    assert shown["调出仓库"].startswith("CA-AMB") and shown["调入仓库"].startswith("CA-COOL")
    assert shown["计划价"] == "¥10.00"
    assert not {"供应商", "合同价", "送货单号", "发往"} & set(shown)


def test_a_receipts_reversal_and_return_forms_use_no_id_twice(
    client: FlaskClient, world: World, receipt: tuple[str, str],
) -> None:
    number, _ = receipt
    sign_in(client, world, "clerk_a")
    page = client.get(f"/inventory/documents/{number}").get_data(as_text=True)
    assert 'data-testid="reversal-form"' in page and 'data-testid="return-form"' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    # each label points at its own form's field
    assert 'for="f-reversal-posting_date"' in page and 'for="f-posting_date"' in page


def test_a_receipt_returned_in_part_then_in_full_says_so_and_offers_no_correction_once_all_went_back(
    client: FlaskClient, world: World, receipt: tuple[str, str],
) -> None:
    """Trial T2: a receipt returned in part is reversed no more (the rest goes back by a return);
    returned in full, it says so, shows returned / received and offers neither form, and the
    reversal's refusal says nothing is left (not "return the rest")."""
    number, _ = receipt
    token = sign_in(client, world, "clerk_a")
    url = f"/inventory/documents/{number}"

    def send_back(quantity: str) -> None:
        done = client.post(f"{url}/return", data={"quantity": quantity, "posting_date": DAY, "reason": "外箱破损",
                                                  "confirmed": "1", "csrf_token": token})
        assert done.status_code == 302, done.get_data(as_text=True)[-2000:]

    def reversal_refusal() -> str:
        refused = client.post(f"{url}/reversal", data={"posting_date": DAY, "reason": "数量录错", "csrf_token": token})
        assert refused.status_code == 409
        return refused.get_data(as_text=True)

    send_back("30")
    page = client.get(url).get_data(as_text=True)
    assert header(page)["退货 / 收货数量"] == "已退 30 千克 / 收货 300 千克 部分退货"
    assert 'data-testid="return-form"' in page and "nothing-to-correct" not in page
    refusal = reversal_refusal()
    assert "已部分退货，请对剩余部分办理退货" in refusal and "已全部退货" not in refusal

    send_back("270")
    page = client.get(url).get_data(as_text=True)
    assert header(page)["退货 / 收货数量"] == "已退 300 千克 / 收货 300 千克 已全部退货"
    assert 'data-testid="reversal-form"' not in page and 'data-testid="return-form"' not in page
    assert 'data-testid="nothing-to-correct"' in page
    refusal = reversal_refusal()
    assert f"入库单 {number} 已全部退货，无可冲销的部分" in refusal and "剩余部分" not in refusal
