"""Purchasing's and inventory's pages show a quantity with its unit as the unit master names
it (UAT finding 8/27: units were shown as codes, KG, EA, or not at all): 300 千克 and 40 个 on
a Chinese page, 300 kg and 40 EA in English; a unit renamed in the master is shown by its new
name. The world's units: KG 千克 (kilogram), EA 个 (each); EXC-STAR is counted in KG, PKG-SHIP
in EA."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import UnitOfMeasure
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import sign_in
from tests.world import World


def _table(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</table>', page, re.S)
    assert found, f"no {testid} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_an_order_page_shows_each_line_quantity_with_its_units_chinese_name(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    open_order(session_factory, world, [("exc_local", "300", "10.00", "A-AMB"), ("pkg_loose", "40", "0.35", "A-AMB")],
               number="PO-A-UNITS")
    sign_in(client, world, "buyer_a")
    lines = _table(client.get("/purchasing/orders/PO-A-UNITS").get_data(as_text=True), "order-lines")
    assert "300 千克" in lines and "40 个" in lines
    assert not re.search(r"\b(KG|EA|kg)\b", lines)
    sign_in(client, world, "buyer_a", language="en")
    lines = _table(client.get("/purchasing/orders/PO-A-UNITS").get_data(as_text=True), "order-lines")
    assert "300 kg" in lines and "40 EA" in lines


def test_the_clerks_open_lines_and_receipt_form_name_the_unit_as_the_master_does(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    (line,) = open_order(session_factory, world, [("exc_local", "300", "10.00", "A-AMB")], number="PO-A-KG")
    sign_in(client, world, "clerk_a")
    assert "300 千克" in _table(client.get("/inventory/receiving").get_data(as_text=True), "open-lines")
    form = client.get(f"/inventory/receiving/{line}").get_data(as_text=True)
    assert "实收数量（千克）" in form and "千克" in re.sub(r"\s+", " ", form.split('data-testid="preview"')[1])
    # A steward renames the unit: the pages say the new name, read from the master.
    with session_factory() as session, session.begin():
        session.execute(update(UnitOfMeasure).where(UnitOfMeasure.code == "KG").values(name_zh="公斤"))
    assert "300 公斤" in _table(client.get("/inventory/receiving").get_data(as_text=True), "open-lines")


def test_stock_and_a_batchs_flow_show_quantities_with_their_unit(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "300", "10.00", "A-AMB")])
    receive(session_factory, world, line, "300", batch="EXC-U-1", expires=dt.date(2028, 1, 31), on=dt.date(2026, 11, 3))
    sign_in(client, world, "clerk_a")
    assert "300 千克" in _table(client.get("/inventory/stock").get_data(as_text=True), "stock")
    flow = client.get("/inventory/batches", query_string={"material": "EXC-STAR", "batch": "EXC-U-1"})
    page = flow.get_data(as_text=True)
    # the flow's receipts, what is on hand and every movement: before, bare numbers ("300")
    assert "300 千克" in _table(page, "batch-movements")
    steps = re.search(r'data-testid="flow"[^>]*>(.*?)<div class="card"', page, re.S)
    assert steps and " ".join(re.sub(r"<[^>]+>", " ", steps.group(1)).split()).count("300 千克") == 2
