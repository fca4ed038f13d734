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
from erp.production.models import OrderDocumentKind, OrderStatus, ProductionOrder, ProductionOrderDocument
from tests.production import buy, build_plant, make_tablets, release_rollup
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


def test_a_delivery_reversal_and_the_completion_are_confirmed_after_a_step_showing_what_they_do(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    """Trial findings 128 and 108. The tablet order delivered 98,000 tablets at 0.018080 =
    1,771.84 into TAB-B1 with 98 x 0.05 h x (60.00 + 40.00) = 490.00 of conversion; its
    reversal takes 1,771.84 of tablets out of stock and gives the 490.00 back (Dr 5101.01
    294.00, Dr 5101.02 196.00), and posts nothing until it is confirmed."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    url = f"/production/orders/{made.tablet_order}"
    sign_in(client, world, "clerk_a")
    page = client.get(url).get_data(as_text=True)
    assert cell(page, "issued-API-X") == "10.2 千克"  # quantities with their unit's name
    (number, delivery) = re.findall(
        r'data-testid="reverse-(PGR-[0-9]+)".*?name="document_id" value="([0-9]+)"', page, re.S)[0]
    reverse = {"action": "reverse_delivery", "document_id": delivery, "number": number, "posting_date": "2026-11-22",
               "reason": "counted twice", "csrf_token": csrf_token(page)}
    shown = client.post(url, data=reverse)
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'data-testid="confirm-reversal"' in text
    step = text.split('data-testid="confirm-reversal"')[1].split('data-testid="confirm-reversal-yes"')[0]
    assert number in step and "98,000" in step and "¥1,771.84" in step and "¥490.00" in step
    assert "¥294.00" in step and "¥196.00" in step  # the journal: the conversion given back
    assert 'name="confirmed" value="1"' in step and 'name="reason" value="counted twice"' in step
    with session_factory() as session:
        assert session.get(ProductionOrder, made.tablet_order).delivered_quantity == D("98000")  # type: ignore[union-attr]
    done = client.post(url, data={**reverse, "confirmed": "1"})
    assert done.status_code == 302 and f"reversed={number}" in done.headers["Location"]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert number in cell(page, "reversed") and "PGRR-" in cell(page, "reversed")
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("0")

    # the completion: what was delivered and what was not, then completed once confirmed
    complete = {"action": "complete", "posting_date": "2026-11-28", "csrf_token": csrf_token(page)}
    shown = client.post(url, data=complete)
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'data-testid="confirm-completion"' in text
    step = text.split('data-testid="confirm-completion"')[1]
    assert "100,000 个" in step and "10.2 千克" in step  # not delivered; API-X issued of its 10 kg planned
    with session_factory() as session:
        assert session.get(ProductionOrder, made.tablet_order).status == OrderStatus.RELEASED  # type: ignore[union-attr]
    done = client.post(url, data={**complete, "confirmed": "1"})
    assert done.status_code == 302
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and (order.status, order.completed_on) == (OrderStatus.COMPLETED, dt.date(2026, 11, 28))


def test_the_bom_page_shows_its_company_and_quantities_with_units_and_scrap_in_percent(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    """Trial finding 105: TAB-X per 1,000 EA takes 0.1 kg of API-X and 0.2 kg of EXC-STAR + 2 %."""
    plant = build_plant(session_factory, world)
    sign_in(client, world, "cost_a")
    page = client.get(f"/production/boms/{plant.tablet_bom}").get_data(as_text=True)
    components = page.split('data-testid="bom-components"')[1].split("</table>")[0]
    assert "1,000 个" in page and "CA" in page.split('data-testid="bom-components"')[0]
    assert "0.1 千克" in components and "0.2 千克" in components and "2 %" in components
