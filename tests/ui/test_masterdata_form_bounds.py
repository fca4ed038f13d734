"""The material form takes a number only as its column holds it (the master data service
checks each value against its column): a storage temperature of 2.05 °C in a NUMERIC(5, 1)
is not rounded to 2.1 behind the user's back, and 99999 is not a 500."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material
from tests.world import World


def test_a_storage_limit_the_column_cannot_hold_exactly_is_refused_beside_the_field(
        app: Flask, world: World, session_factory: sessionmaker[Session]) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["token"] = world.tokens["steward"]
    form = client.get("/masterdata/materials/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    material = {"code": "PAGE-2", "name_zh": "页面物料", "name_en": "Page material", "material_type": "raw",
                "unit_id": str(world.units["KG"]), "procurement_scope": "central", "csrf_token": token}
    with session_factory() as session:
        before = session.scalar(select(func.count(Material.id)))
    for field, typed in (("storage_temp_min", "2.05"), ("storage_temp_max", "99999"),
                         ("storage_max_humidity", "1e3")):
        refused = client.post("/masterdata/materials/new", data={**material, field: typed})
        assert refused.status_code == 422, (field, typed)
        assert f'data-testid="error-{field}"' in refused.get_data(as_text=True), (field, typed)
    created = client.post("/masterdata/materials/new", data={**material, "storage_temp_min": "2.0",
                                                             "storage_temp_max": "8.0"})
    assert created.status_code == 302
    with session_factory() as session:
        assert session.scalar(select(func.count(Material.id))) == before + 1
        stored = session.scalars(select(Material).where(Material.code == "PAGE-2")).one()
        assert (stored.storage_temp_min, stored.storage_temp_max) == (2, 8)
