"""What an import records of the master records it creates: each in the audit trail as a
creation through the API records it, and each in the import's record with its file row."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.audit.services import field_changes, snapshot
from erp.golive.framework import ImportOutcome
from erp.golive.models import ImportRecord
from erp.masterdata.models import Material, Warehouse
from tests.golive.helpers import run_import, write_csv
from tests.world import World

HEADER = ["code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope", "storage_temp_min",
          "storage_temp_max", "storage_max_humidity", "shelf_life_days", "batch_managed", "over_receipt_tolerance_pct"]


def test_imported_materials_are_audited_as_a_creation_through_the_api_records_them(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [
        HEADER,
        ["M-AU1", "甲", "Alpha", "raw", "KG", "local", "2", "8", "60", "730", "是", "2"],
        ["M-AU2", "乙", "Beta", "packaging", "KG", "central", "", "", "", "", "否", ""],
    ])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        materials = session.scalars(select(Material).where(Material.code.in_(["M-AU1", "M-AU2"]))
                                    .order_by(Material.code)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "material", AuditEvent.entity_id.in_(
            [m.id for m in materials])).order_by(AuditEvent.id)).all()
        # In the file's order, one creation each, by the importing user, for the import.
        assert [(e.entity_id, e.action, e.actor_name, e.reason) for e in events] == [
            (m.id, "create", "steward", f"go-live import {outcome.batch_id}") for m in materials]
        for material, event in zip(materials, events):
            assert event.changes == field_changes(None, snapshot(material))
        # Decimals as stored (a scale of one place), unset fields as null, the unit by id.
        first = events[0].changes
        assert first["storage_temp_min"] == {"before": None, "after": "2.0"}
        assert first["storage_max_humidity"] == {"before": None, "after": "60.00"}
        assert first["unit_id"] == {"before": None, "after": world.units["KG"]}
        assert events[1].changes["storage_temp_max"] == {"before": None, "after": None}
        assert events[1].changes["batch_managed"] == {"before": None, "after": False}
        assert "created_at" not in first and first["id"] == {"before": None, "after": materials[0].id}
        records = session.execute(select(ImportRecord.record_id, ImportRecord.row_number).where(
            ImportRecord.batch_id == outcome.batch_id).order_by(ImportRecord.row_number)).all()
        assert [tuple(r) for r in records] == [(materials[0].id, 2), (materials[1].id, 3)]


def test_an_imported_warehouse_is_audited_for_its_company(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "w.csv", [["code", "name_zh", "name_en", "temp_min", "temp_max", "max_humidity"],
                                          ["CA-AUD", "深冷库", "Deep freeze", "-25", "-15", "50"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "warehouses", path,
                               company_id=world.companies["A"])
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        warehouse = session.scalars(select(Warehouse).where(Warehouse.code == "CA-AUD")).one()
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "warehouse",
                                                            AuditEvent.entity_id == warehouse.id))
        assert event.company_id == world.companies["A"]
        assert event.changes == field_changes(None, snapshot(warehouse))
        assert event.changes["temp_min"] == {"before": None, "after": "-25.0"}
