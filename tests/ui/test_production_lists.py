"""The production order list is paged on the server by the one pager (page by page, newest
first, the total counted in the same statement), on the page and in the API; and a BOM
version's page shows the roll-up that costed that version, never another version's."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.production import boms
from tests.production import build_plant, new_order, release_rollup
from tests.world import ApiClient, World


def sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def order_numbers(page: str) -> list[str]:
    table = re.search(r'data-testid="orders".*?</table>', page, re.S)
    assert table, "no orders table"
    return re.findall(r'>(MO-[0-9]{8})<', table.group(0))


def test_production_orders_are_listed_a_page_at_a_time_newest_first(
    client: FlaskClient, api: ApiClient, session_factory: sessionmaker[Session], world: World,
) -> None:
    build_plant(session_factory, world)
    made = [new_order(session_factory, world, "api", "10", release=False) for _ in range(21)]
    newest_first = [f"MO-{order:08d}" for order in sorted(made, reverse=True)]
    sign_in(client, world, "clerk_a")
    first = client.get("/production/orders").get_data(as_text=True)
    assert order_numbers(first) == newest_first[:20]  # 20 a page by default
    assert "共 21 条" in first
    second = client.get("/production/orders?page=2&size=20").get_data(as_text=True)
    assert order_numbers(second) == newest_first[20:]  # the oldest, alone on page 2
    listed = api.as_("clerk_a").get("/api/v1/production/orders",
                                    query_string={"company_id": world.companies["A"], "page": 2, "page_size": 20})
    assert listed.status_code == 200
    assert [o["id"] for o in listed.get_json()] == [min(made)]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 21


def test_a_bom_version_shows_its_own_roll_up_not_the_latest_of_its_material(
    client: FlaskClient, session_factory: sessionmaker[Session], world: World,
) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)  # November: costs the tablets' version 1
    with session_factory() as session, session.begin():
        version_2 = boms.create_bom(
            session, world.actors["cost_a"], company_id=world.companies["A"], material_id=plant.tablet,
            valid_from=dt.date(2026, 12, 1), base_quantity=D("1000"), cost_center="TAB-PRESS", hours=D("0.05"),
            components=[boms.ComponentIn(plant.api, D("0.12")), boms.ComponentIn(plant.excipient, D("0.2"))]).id
    sign_in(client, world, "cost_a")
    first = client.get(f"/production/boms/{plant.tablet_bom}").get_data(as_text=True)
    assert 'data-testid="breakdown"' in first
    second = client.get(f"/production/boms/{version_2}").get_data(as_text=True)
    assert 'data-testid="breakdown"' not in second  # no roll-up has costed version 2 yet
    assert "尚无成本卷积计算过此版本的物料清单" in second
