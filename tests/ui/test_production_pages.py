"""Production's pages show the services' figures (tests/production.py's plant, hand-computed
there): the orders, one order with what was issued and delivered and its issue and delivery
forms, the tablets' BOM with the cost breakdown of the roll-up, and the genealogy both ways."""

from __future__ import annotations

import re
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.prices import standard_price
from erp.production.models import Bom, OrderStatus, ProductionOrder
from tests.production import build_plant, make_tablets, release_rollup
from tests.world import World


def sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def cell(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>\s*([^<]+)<', page)
    assert found, testid
    return found.group(1).strip()


def test_orders_order_bom_and_genealogy_pages(client: FlaskClient, session_factory: sessionmaker[Session],
                                              world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    sign_in(client, world, "clerk_a")
    listing = client.get("/production/orders").get_data(as_text=True)
    assert f"MO-{made.tablet_order:08d}" in listing and f"MO-{made.api_order:08d}" in listing

    page = client.get(f"/production/orders/{made.tablet_order}").get_data(as_text=True)
    assert D(cell(page, "issued-API-X").split()[0]) == D("10.2")
    # its work in process (finding 119): 1,330.08 issued + 490.00 absorbed - 1,771.84 delivered
    assert (cell(page, "wip-issued"), cell(page, "wip-absorbed"), cell(page, "wip-delivered")) == (
        "¥1,330.08", "¥490.00", "-¥1,771.84")
    assert re.search(r'data-testid="wip-balance"><strong>¥48.24<', page)
    # the issue preview warns of a quantity beyond the bill of materials (finding 133): 10 kg planned, 10.2 issued
    previewed = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "issue_preview", "material_id": str(plant.api), "quantity": "0.3", "posting_date": "2026-11-21",
        "csrf_token": csrf_token(page)}).get_data(as_text=True)
    warning = re.search(r'data-testid="over-issue".*?</div>\s*</div>', previewed, re.S)
    assert warning and "超出物料清单需求" in warning.group(0) and "0.5" in warning.group(0), previewed[:300]
    assert 'name="over_issue_reason"' in previewed
    assert 'data-testid="issue-form"' in page and 'data-testid="delivery-form"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    # a delivery through the page's form: 2,000 more tablets into TAB-B1
    posted = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "deliver", "output_quantity": "2000", "batch_number": "TAB-B1", "posting_date": "2026-11-21",
        "csrf_token": token})
    assert posted.status_code == 302, posted.get_data(as_text=True)[:500]
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "100,000" in page or "100000" in page
    # a refusal stays on the page beside its field: 1,000 kg of API is not in stock
    refused = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "issue", "material_id": str(plant.api), "quantity": "1000", "posting_date": "2026-11-21",
        "csrf_token": token})
    # far beyond the bill of materials: first the reason it needs, beside its field
    assert refused.status_code == 422 and 'data-testid="error-over_issue_reason"' in refused.get_data(as_text=True)
    refused = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "issue", "material_id": str(plant.api), "quantity": "1000", "posting_date": "2026-11-21",
        "over_issue_reason": "rework", "csrf_token": token})
    assert refused.status_code == 409 and 'data-testid="refusal"' in refused.get_data(as_text=True)
    # the 2,000 are reversed from the postings table (with a reason), then the order is completed
    # the reversal forms of the two deliveries, oldest first: the 98,000, then the 2,000
    (_, latest) = re.findall(r'data-testid="reverse-PGR-[0-9]+".*?name="document_id" value="([0-9]+)"', page, re.S)
    without_reason = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "reverse_delivery", "document_id": latest, "posting_date": "2026-11-22", "reason": " ",
        "csrf_token": token})
    assert without_reason.status_code == 422
    reversed_ = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "reverse_delivery", "document_id": latest, "posting_date": "2026-11-22",
        "reason": "counted twice", "confirmed": "1", "csrf_token": token})
    assert reversed_.status_code == 302, reversed_.get_data(as_text=True)[:500]
    completed = client.post(f"/production/orders/{made.tablet_order}", data={
        "action": "complete", "posting_date": "2026-11-28", "confirmed": "1", "csrf_token": token})
    assert completed.status_code == 302
    with session_factory() as session:
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None
        assert (order.status, order.delivered_quantity) == (OrderStatus.COMPLETED, D("98000"))
    page = client.get(f"/production/orders/{made.tablet_order}").get_data(as_text=True)
    assert "PGRR-" in page and 'data-testid="complete-form"' not in page

    sign_in(client, world, "cost_a")
    bom = client.get(f"/production/boms/{plant.tablet_bom}").get_data(as_text=True)
    assert cell(bom, "total") == "¥18.08"
    assert cell(bom, "unit-cost") == "¥0.01808"

    down = client.get(f"/production/batches/{made.tablet_batch}/genealogy?direction=down").get_data(as_text=True)
    for number in ("TAB-B1", "API-B1", "ACID-1", "SOLV-1", "EXC-1"):
        assert number in down
    up = client.get(f"/production/batches/{made.acid}/genealogy?direction=up").get_data(as_text=True)
    assert "API-B1" in up and "TAB-B1" in up and "EXC-1" not in up


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def order_of(location: str) -> int:
    found = re.search(r"/production/orders/([0-9]+)", location)
    assert found, location
    return int(found.group(1))


def test_a_clerk_creates_releases_and_cancels_orders_through_the_pages(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    sign_in(client, world, "clerk_a")
    listing = client.get("/production/orders").get_data(as_text=True)
    assert 'data-testid="new-order-form"' in listing
    # the clerk's own warehouses and company A's made materials only
    assert "A-AMB" in listing and "B-AMB" not in listing
    assert "TAB-X" in listing and "API-X" in listing and "R-ACID" not in listing
    token = csrf_token(listing)
    new = {"company_id": str(world.companies["A"]), "material_id": str(plant.tablet), "quantity": "50,000",
           "order_date": "2026-11-20", "warehouse_id": str(world.warehouses["A-AMB"]), "csrf_token": token}

    # R-ACID is bought: no BOM in force, the form comes back with what was typed
    refused = client.post("/production/orders", data={**new, "material_id": str(plant.acid)})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page[:500]
    assert 'data-testid="refusal"' in page and 'value="50,000"' in page
    # a quantity that is no number is the quantity field's problem
    refused = client.post("/production/orders", data={**new, "quantity": "viel"})
    assert refused.status_code == 422 and 'data-testid="error-quantity"' in refused.get_data(as_text=True)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProductionOrder)) == 0

    created = client.post("/production/orders", data=new)
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    order_id = order_of(created.headers["Location"])
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="created"' in page and 'data-testid="release-form"' in page
    assert 'data-testid="issue-form"' not in page
    with session_factory() as session:
        order = session.get(ProductionOrder, order_id)
        assert order is not None and order.status == OrderStatus.CREATED
        # 50,000 tablets at 0.1 kg API-X per 1,000: 5 kg; EXC-STAR 0.2 kg + 2 % per 1,000: 10.2 kg
        planned = {c.material_id: c.planned_quantity for c in order.components}
        assert planned == {plant.api: D("5"), plant.excipient: D("10.2")}

    released = client.post(f"/production/orders/{order_id}", data={"action": "release", "csrf_token": token})
    assert released.status_code == 302
    page = client.get(released.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="released"' in page and 'data-testid="issue-form"' in page
    assert 'data-testid="cancel-form"' not in page
    # a released order is not cancelled: the rule's refusal at the top of the order's page
    refused = client.post(f"/production/orders/{order_id}", data={"action": "cancel", "csrf_token": token})
    assert refused.status_code == 409 and 'data-testid="refusal"' in refused.get_data(as_text=True)

    other = client.post("/production/orders", data={**new, "quantity": "1000"})
    other_id = order_of(other.headers["Location"])
    cancelled = client.post(f"/production/orders/{other_id}", data={"action": "cancel", "csrf_token": token})
    assert cancelled.status_code == 302
    with session_factory() as session:
        statuses = dict(session.execute(select(ProductionOrder.id, ProductionOrder.status)).all())
    assert statuses == {order_id: OrderStatus.RELEASED, other_id: OrderStatus.CANCELLED}


def test_readers_outside_the_order_roles_get_no_order_form_and_cannot_post_one(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    sign_in(client, world, "quality_a")
    listing = client.get("/production/orders")
    assert listing.status_code == 200 and 'data-testid="new-order-form"' not in listing.get_data(as_text=True)
    posted = client.post("/production/orders", data={
        "company_id": str(world.companies["A"]), "material_id": str(plant.tablet), "quantity": "1000",
        "order_date": "2026-11-20", "warehouse_id": str(world.warehouses["A-AMB"]),
        "csrf_token": csrf_token(listing.get_data(as_text=True))})
    assert posted.status_code == 403


def test_the_cost_accountant_runs_reads_and_releases_a_roll_up_through_the_pages(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    sign_in(client, world, "cost_a")
    listing = client.get("/production/rollups").get_data(as_text=True)
    assert 'data-testid="rollup-form"' in listing and 'data-testid="rollups"' not in listing
    token = csrf_token(listing)
    run = {"company_id": str(world.companies["A"]), "period": "2026-11", "csrf_token": token}
    refused = client.post("/production/rollups", data={**run, "period": "2026-13"})
    assert refused.status_code == 422 and 'data-testid="error-period"' in refused.get_data(as_text=True)

    ran = client.post("/production/rollups", data=run)
    assert ran.status_code == 302, ran.get_data(as_text=True)[:500]
    page = client.get(ran.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="ran"' in page and 'data-testid="release-form"' in page
    # the module's worked example: API-X 1,104.00 per 10 kg, TAB-X 18.08 per 1,000 tablets
    assert cell(page, "total-API-X") == "¥1,104.00" and cell(page, "unit-cost-API-X") == "¥110.40"
    assert cell(page, "total-TAB-X") == "¥18.08"
    assert "R-SOLV" in page and "5.2" in page  # the breakdown: 5 kg + 4 % scrap
    # neither made material has a standard price yet: nothing to replace
    assert cell(page, "in-force-TAB-X") == "—"

    unreasoned = client.post(ran.headers["Location"].split("?")[0], data={"csrf_token": token})
    assert unreasoned.status_code == 422 and "放行需要填写原因" in unreasoned.get_data(as_text=True)
    released = client.post(ran.headers["Location"].split("?")[0], data={"csrf_token": token, "reason": "年度标准成本"})
    assert released.status_code == 302
    page = client.get(released.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="released"' in page and 'data-testid="release-form"' not in page
    with session_factory() as session:
        assert standard_price(session, world.companies["A"], plant.tablet, "2026-11") == D("0.018080")
        assert standard_price(session, world.companies["A"], plant.api, "2026-11") == D("110.400000")
    # a released run is neither released twice nor run again: the rule's refusal on the page
    again = client.post(released.headers["Location"].split("?")[0], data={"csrf_token": token})
    assert again.status_code == 409 and 'data-testid="refusal"' in again.get_data(as_text=True)
    rerun = client.post("/production/rollups", data=run)
    assert rerun.status_code == 409 and 'data-testid="refusal"' in rerun.get_data(as_text=True)
    listing = client.get("/production/rollups").get_data(as_text=True)
    assert 'data-testid="open-CA-2026-11"' in listing

    # a clerk reads the runs of the company but is given no form, and a posted run is refused
    sign_in(client, world, "clerk_a")
    listing = client.get("/production/rollups").get_data(as_text=True)
    assert "2026-11" in listing and 'data-testid="rollup-form"' not in listing
    posted = client.post("/production/rollups", data={**run, "period": "2026-12", "csrf_token": csrf_token(listing)})
    assert posted.status_code == 403


def test_the_cost_accountant_creates_a_bom_and_its_next_version_through_the_pages(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world, with_boms=False)
    sign_in(client, world, "cost_a")
    page = client.get("/production/boms/new").get_data(as_text=True)
    token = csrf_token(page)
    api = {"company_id": str(world.companies["A"]), "material": "API-X", "valid_from": "2026-11-01",
           "base_quantity": "10", "cost_center": "API-REACT", "hours": "2", "rows": "6",
           "c0_material": "R-ACID", "c0_quantity": "12", "c1_material": "R-SOLV", "c1_quantity": "5", "c1_scrap": "4",
           "csrf_token": token}
    # an unknown component is its row's problem, and what was typed stays
    refused = client.post("/production/boms/new", data={**api, "c1_material": "R-NOPE"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-testid="error-c1_material"' in page
    assert 'value="R-NOPE"' in page and 'value="API-REACT"' in page
    # a bought material has no BOM: the rule's refusal at the top
    refused = client.post("/production/boms/new", data={**api, "material": "R-ACID", "c0_material": "EXC-STAR"})
    assert refused.status_code == 422 and 'data-testid="refusal"' in refused.get_data(as_text=True)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Bom)) == 0

    created = client.post("/production/boms/new", data=api)
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    first = int(created.headers["Location"].split("/boms/")[1].split("?")[0])
    with session_factory() as session:
        bom = session.get(Bom, first)
        assert bom is not None and (bom.version, bom.base_quantity, bom.hours) == (1, D("10"), D("2"))
        assert [(c.material_id, c.quantity, c.scrap_pct) for c in bom.components] == [
            (plant.acid, D("12"), D("0")), (plant.solvent, D("5"), D("4"))]

    # the next version starts from the first one's figures
    page = client.get(f"/production/boms/new?from={first}").get_data(as_text=True)
    assert 'name="c0_material" value="R-ACID"' in page and 'name="c1_scrap" value="4"' in page
    assert 'name="base_quantity" type="text" value="10"' in page and 'name="hours" type="text" value="2"' in page
    later = {**api, "c0_quantity": "11.5"}
    refused = client.post("/production/boms/new", data=later)  # not after version 1's date
    assert refused.status_code == 409 and 'data-testid="refusal"' in refused.get_data(as_text=True)
    created = client.post("/production/boms/new", data={**later, "valid_from": "2026-12-01"})
    assert created.status_code == 302
    listing = client.get("/production/boms").get_data(as_text=True)
    assert 'data-testid="new-version-API-X-2"' in listing and 'data-testid="new-version-API-X-1"' in listing

    # clerks read bills of materials but do not keep them
    sign_in(client, world, "clerk_a")
    assert client.get("/production/boms").status_code == 200
    assert client.get("/production/boms/new").status_code == 403


def test_the_order_form_refuses_what_the_api_refuses_other_companies_and_posts_without_a_token(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    sign_in(client, world, "clerk_a")
    token = csrf_token(client.get("/production/orders").get_data(as_text=True))
    new = {"company_id": str(world.companies["A"]), "material_id": str(plant.tablet), "quantity": "1000",
           "order_date": "2026-11-20", "warehouse_id": str(world.warehouses["A-AMB"]), "csrf_token": token}
    # the API's bounds: a quantity beyond the column, more places than it keeps, a date after 2199
    for field, value in (("quantity", "1e30"), ("quantity", "0.00001"), ("order_date", "9999-12-31"),
                         ("material_id", "x")):
        refused = client.post("/production/orders", data={**new, field: value})
        assert refused.status_code == 422, (field, value)
        assert f'data-testid="error-{field}"' in refused.get_data(as_text=True), (field, value)
    assert client.post("/production/orders", data={k: v for k, v in new.items() if k != "csrf_token"}
                       ).status_code == 400
    # a clerk of company B does not plan company A's orders
    sign_in(client, world, "clerk_b")
    token = csrf_token(client.get("/production/orders").get_data(as_text=True))
    assert client.post("/production/orders", data={**new, "csrf_token": token}).status_code == 403
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProductionOrder)) == 0
