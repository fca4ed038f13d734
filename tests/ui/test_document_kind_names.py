"""Every kind of stock document reads as its own word (trial finding 109: a production order's
delivery into quarantine opened an inspection lot of origin ``receipt``, and the lot and the
batch pages called the tablets a purchase receipt, 采购入库, instead of 生产入库)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.models import MovementType
from erp.quality.models import InspectionLot, LotOrigin
from erp.ui.labels import LABELS, label, lot_origin
from tests.production import build_plant, deliver, make_tablets, release_rollup
from tests.stock import batch_id
from tests.ui.conftest import sign_in
from tests.world import World

CATALOGUE = Path(__file__).resolve().parents[2] / "erp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _chinese() -> dict[str, str]:
    with open(CATALOGUE, "rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


@pytest.mark.parametrize("kind", [*MovementType, *LotOrigin], ids=lambda k: f"{type(k).__name__}.{k.name}")
def test_every_stock_document_kind_and_lot_origin_has_a_chinese_name(app: Flask, kind: MovementType) -> None:
    assert kind in LABELS, f"erp/ui/labels.py has no word for {kind!r}"
    assert CHINESE.search(_chinese().get(LABELS[kind], "")), f"{LABELS[kind]!r} has no Chinese translation"
    with app.test_request_context("/"), force_locale("zh"):
        assert CHINESE.search(label(kind)) and kind.value not in label(kind)


def test_no_two_stock_document_kinds_share_a_chinese_name(app: Flask) -> None:
    with app.test_request_context("/"), force_locale("zh"):
        words = {kind: label(kind) for kind in MovementType}
    shared = {w for w in words.values() if list(words.values()).count(w) > 1}
    assert not shared, {k.value: w for k, w in words.items() if w in shared}


def test_a_lot_reads_as_the_kind_of_document_it_came_in_by(app: Flask) -> None:
    with app.test_request_context("/"), force_locale("zh"):
        assert lot_origin(LotOrigin.RECEIPT, MovementType.RECEIPT) == "采购入库"
        assert lot_origin(LotOrigin.RECEIPT, MovementType.PRODUCTION_RECEIPT) == "生产入库"
        assert lot_origin(LotOrigin.EXCURSION, MovementType.QUALITY_HOLD) == label(LotOrigin.EXCURSION)


def test_a_delivered_batch_reads_as_a_production_receipt_on_the_lot_and_batch_pages(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=dt.date(2026, 11, 21))
    batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    with session_factory() as session:
        lot_id = session.scalars(select(InspectionLot.id).where(InspectionLot.batch_id == batch)).one()

    sign_in(client, world, "quality_a")
    lots = client.get("/quality/lots").get_data(as_text=True)
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*TAB-B2(?:(?!</tr>).)*</tr>", lots, re.S)
    assert row and "生产入库" in row.group(0) and "采购入库" not in row.group(0)
    lot = client.get(f"/quality/lots/{lot_id}").get_data(as_text=True)
    assert "生产入库" in lot and "采购入库" not in lot

    sign_in(client, world, "clerk_a")
    flow = client.get("/inventory/batches", query_string={"material": "TAB-X", "batch": "TAB-B2"}).get_data(as_text=True)
    came_in = re.findall(r'data-testid="came-in">(.*?)</div>', flow, re.S)
    assert came_in and all("生产入库" in line and f"MO-{made.tablet_order:08d}" in line for line in came_in)
    assert "采购入库" not in flow
