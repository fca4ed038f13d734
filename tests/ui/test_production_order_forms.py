"""The production order page's forms (trial findings 106, 107): components are issued from a
warehouse the clerk chooses (and optionally a batch), with what it takes and its value at
standard shown first; a refusal names the component and the warehouse; every form posts to
the order's own URL, so a success banner never stands beside a later refusal.

tests/production.py's plant: EXC-STAR bought 50 kg at its standard 10.00 into A-AMB (batch
EXC-1); the tablet order's output warehouse is A-COOL, where there is no excipient."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.models import StockMovement
from erp.production import orders
from erp.production.models import OrderDocumentKind, ProductionOrderDocument
from tests.production import buy, build_plant, release_rollup
from tests.ui.test_production_pages import cell, csrf_token, sign_in
from tests.world import World


def _tablet_order_into_cool(session_factory: sessionmaker[Session], world: World) -> int:
    with session_factory() as session, session.begin():
        order = orders.create_order(session, world.actors["clerk_a"], company_id=world.companies["A"],
                                    material_id=world.materials["tablet"], quantity=D("100000"),
                                    order_date=dt.date(2026, 11, 2), warehouse_id=world.warehouses["A-COOL"])
        orders.release_order(session, world.actors["clerk_a"], order.id)
        return order.id


def test_a_component_is_issued_from_the_warehouse_and_batch_the_clerk_chooses_after_a_preview(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    exc_1 = buy(session_factory, world, "exc_local", "50", "10.00", "EXC-1")
    order = _tablet_order_into_cool(session_factory, world)
    url = f"/production/orders/{order}"
    sign_in(client, world, "clerk_a")
    page = client.get(url).get_data(as_text=True)
    cool, amb = world.warehouses["A-COOL"], world.warehouses["A-AMB"]
    assert f'<option value="{cool}" selected>' in page and f'<option value="{amb}" >' in page
    token = csrf_token(page)
    issue = {"material_id": str(plant.excipient), "quantity": "20.4", "posting_date": "2026-11-10",
             "csrf_token": token}

    # from the order's warehouse: nothing there, and the refusal says what and where
    refused = client.post(url, data={**issue, "action": "issue", "warehouse_id": str(cool)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    detail = re.sub(r"<[^>]+>|\s+", " ", text.split('data-testid="refusal"')[1].split("</div>\n</div>")[0])
    assert "EXC-STAR" in detail and "A-COOL" in detail

    # the preview from the ambient store: 20.4 kg of EXC-1 at 10.00 = 204.00, nothing posted
    shown = client.post(url, data={**issue, "action": "issue_preview", "warehouse_id": str(amb)})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'data-testid="refusal"' not in text
    assert 'data-testid="planned-EXC-1"' in text and cell(text, "preview-value") == "¥204.00"
    assert f'<option value="{exc_1}"' in text  # the batch may be chosen
    with session_factory() as session:
        assert session.scalar(select(ProductionOrderDocument.document_id)
                              .where(ProductionOrderDocument.order_id == order)) is None

    posted = client.post(url, data={**issue, "action": "issue", "warehouse_id": str(amb), "batch_id": str(exc_1)})
    assert posted.status_code == 302 and posted.headers["Location"].endswith(f"{url}?posted=1")
    with session_factory() as session:
        (movement,) = session.scalars(
            select(StockMovement).join(ProductionOrderDocument,
                                       ProductionOrderDocument.document_id == StockMovement.document_id)
            .where(ProductionOrderDocument.order_id == order,
                   ProductionOrderDocument.kind == OrderDocumentKind.ISSUE)).all()
        assert (movement.warehouse_id, movement.batch_id, movement.quantity, movement.value) == (
            amb, exc_1, D("-20.4"), D("-204.00"))


def test_the_order_forms_post_to_the_clean_url_and_a_refusal_shows_no_success_banner(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    buy(session_factory, world, "exc_local", "50", "10.00", "EXC-1")
    order = _tablet_order_into_cool(session_factory, world)
    url = f"/production/orders/{order}"
    sign_in(client, world, "clerk_a")
    page = client.get(f"{url}?posted=1").get_data(as_text=True)
    assert 'data-testid="posted"' in page
    forms = re.findall(r'<form method="post"[^>]*data-testid="[^"]+"[^>]*>', page)
    assert len(forms) >= 3 and all(f'action="{url}"' in form for form in forms), forms
    # a refused issue posted from the page after a success: the refusal alone
    refused = client.post(f"{url}?posted=1", data={
        "action": "issue", "material_id": str(plant.api), "warehouse_id": str(world.warehouses["A-COOL"]),
        "quantity": "1", "posting_date": "2026-11-10", "csrf_token": csrf_token(page)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'data-testid="refusal"' in text and 'data-testid="posted"' not in text
    # one id per field: the issue, delivery and completion forms each have their posting date
    ids = re.findall(r'id="(f-[^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
