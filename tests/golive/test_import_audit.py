"""What an import records of the master records it creates: one audit row for the import
(who loaded which file when), and on each record the import and its file row, which the
record's history presents as its creation, with its fields as a creation through the API
records them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit import services as audit
from erp.audit.models import AuditEvent
from erp.audit.services import field_changes, snapshot
from erp.golive.framework import ImportOutcome, undo_import
from erp.golive.kinds import KINDS
from erp.masterdata import services as catalogs
from erp.masterdata.models import Material, Warehouse
from erp.narration import plain
from tests.golive.helpers import run_import, write_csv
from tests.world import ApiClient, World

HEADER = ["code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope", "storage_temp_min",
          "storage_temp_max", "storage_max_humidity", "shelf_life_days", "batch_managed", "over_receipt_tolerance_pct"]


@pytest.fixture
def imported(tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> ImportOutcome:
    """The steward's import of two materials from m.csv (rows 2 and 3: M-AU1, M-AU2), committed."""
    path = write_csv(tmp_path / "m.csv", [
        HEADER,
        ["M-AU1", "甲", "Alpha", "raw", "KG", "local", "2", "8", "60", "730", "是", "2"],
        ["M-AU2", "乙", "Beta", "packaging", "KG", "central", "", "", "", "", "否", ""],
    ])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    return outcome


def imported_materials(session: Session) -> list[Material]:
    return list(session.scalars(select(Material).where(Material.code.in_(["M-AU1", "M-AU2"]))
                                .order_by(Material.code)))


def test_an_import_writes_one_audit_row_and_each_material_carries_the_import_and_its_row(
        imported: ImportOutcome, session_factory: sessionmaker[Session], world: World) -> None:
    outcome = imported
    with session_factory() as session:
        materials = imported_materials(session)
        assert [(m.import_batch_id, m.import_row) for m in materials] == [(outcome.batch_id, 2), (outcome.batch_id, 3)]
        assert session.scalars(select(AuditEvent).where(AuditEvent.entity == "material", AuditEvent.entity_id.in_(
            [m.id for m in materials]))).all() == []
        (imported,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "import",
                                                               AuditEvent.entity_id == outcome.batch_id))
        assert (imported.action, imported.actor_name, plain(imported.reason)) == (
            "import", "steward", f"go-live import {outcome.batch_id}")
        assert imported.changes["file_name"] == {"before": None, "after": "m.csv"}
        assert imported.changes["kind"] == {"before": None, "after": "materials"}
        assert imported.changes["rows"] == {"before": None, "after": 2}
        assert imported.changes["checksum"] == {"before": None, "after": outcome.checksum}


def test_an_imported_materials_history_shows_its_creation_by_the_import_with_every_field(
        imported: ImportOutcome, session_factory: sessionmaker[Session], world: World) -> None:
    outcome = imported
    with session_factory() as session:
        materials = imported_materials(session)
        (imported,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "import",
                                                               AuditEvent.entity_id == outcome.batch_id))
        for row, material in ((2, materials[0]), (3, materials[1])):
            events, total = audit.record_history(session, world.actors["auditor"], entity="material",
                                                 entity_id=material.id)
            assert total == 1
            (created,) = events
            assert (created.action, created.actor_id, created.actor_name, created.occurred_at) == (
                "create", world.actors["steward"].user_id, "steward", imported.occurred_at)
            assert plain(created.reason) == f"go-live import {outcome.batch_id}: m.csv, row {row}"
            assert created.changes == field_changes(None, snapshot(material))
        # Decimals as stored (a scale of one place), unset fields as null, the unit by id.
        first = audit.record_history(session, world.actors["auditor"], entity="material",
                                     entity_id=materials[0].id)[0][0].changes
        assert first["storage_temp_min"] == {"before": None, "after": "2.0"}
        assert first["storage_max_humidity"] == {"before": None, "after": "60.00"}
        assert first["unit_id"] == {"before": None, "after": world.units["KG"]}
        assert first["id"] == {"before": None, "after": materials[0].id}
        assert "created_at" not in first
        assert (first["import_batch_id"], first["import_row"]) == (
            {"before": None, "after": outcome.batch_id}, {"before": None, "after": 2})
        second = audit.record_history(session, world.actors["auditor"], entity="material",
                                      entity_id=materials[1].id)[0][0].changes
        assert second["storage_temp_max"] == {"before": None, "after": None}
        assert second["batch_managed"] == {"before": None, "after": False}
        assert session.in_transaction() and not session.new, "the creation shown is not written"


def test_a_changed_imported_material_shows_its_creation_with_the_values_it_was_created_with(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [HEADER, ["M-AU3", "甲", "Alpha", "raw", "KG", "local", "2", "8", "60",
                                                   "730", "是", "2"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session, session.begin():
        material_id = session.scalar(select(Material.id).where(Material.code == "M-AU3"))
        assert material_id is not None
        catalogs.update_record(session, world.actors["steward"], catalogs.MATERIALS, material_id,
                               {"name_en": "Alpha 2", "storage_temp_max": Decimal("9")}, reason="renamed")
    with session_factory() as session:
        events, total = audit.record_history(session, world.actors["auditor"], entity="material",
                                             entity_id=material_id)
        assert total == 2 and [e.action for e in events] == ["change", "create"]
        created = events[1].changes
        assert created["name_en"] == {"before": None, "after": "Alpha"}
        assert created["storage_temp_max"] == {"before": None, "after": "8.0"}
        assert created["name_zh"] == {"before": None, "after": "甲"}
        # Paged: the creation is the last entry of the last page.
        assert [e.action for e in audit.record_history(session, world.actors["auditor"], entity="material",
                                                       entity_id=material_id, offset=1, limit=1)[0]] == ["create"]
        assert [e.action for e in audit.record_history(session, world.actors["auditor"], entity="material",
                                                       entity_id=material_id, offset=0, limit=1)[0]] == ["change"]


def test_an_imported_warehouse_is_audited_for_its_company(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "w.csv", [["code", "name_zh", "name_en", "temp_min", "temp_max", "max_humidity"],
                                          ["CA-AUD", "深冷库", "Deep freeze", "-25", "-15", "50"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "warehouses", path,
                               company_id=world.companies["A"])
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        warehouse = session.scalars(select(Warehouse).where(Warehouse.code == "CA-AUD")).one()
        (event,), _ = audit.record_history(session, world.actors["auditor"], entity="warehouse",
                                           entity_id=warehouse.id, company_id=world.companies["A"])
        assert event.company_id == world.companies["A"]
        assert event.changes == field_changes(None, snapshot(warehouse))
        assert event.changes["temp_min"] == {"before": None, "after": "-25.0"}
        (imported,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "import",
                                                               AuditEvent.entity_id == outcome.batch_id))
        assert imported.company_id == world.companies["A"]


def test_an_undone_import_records_each_deletion_and_its_own_undo_and_keeps_the_creation(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [HEADER, ["M-AU4", "甲", "Alpha", "raw", "KG", "local", "", "", "", "",
                                                   "是", ""]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        material_id = session.scalar(select(Material.id).where(Material.code == "M-AU4"))
    with session_factory() as session, session.begin():
        undo_import(session, world.actors["steward"], KINDS["materials"], outcome.batch_id)  # type: ignore[arg-type]
    with session_factory() as session:
        assert session.get(Material, material_id) is None
        events, total = audit.record_history(session, world.actors["auditor"], entity="material",
                                             entity_id=material_id)
        # Deleted, it still shows who created it from which file and row, and with what.
        assert total == 2 and [e.action for e in events] == ["delete", "create"]
        deleted, created = events
        assert (deleted.action, plain(deleted.reason)) == ("delete", f"go-live import {outcome.batch_id} undone")
        assert deleted.changes["code"] == {"before": "M-AU4", "after": None}
        assert deleted.changes["import_row"] == {"before": 2, "after": None}
        assert (created.actor_name, plain(created.reason)) == ("steward",
                                                              f"go-live import {outcome.batch_id}: m.csv, row 2")
        assert created.changes["code"] == {"before": None, "after": "M-AU4"}
        assert created.changes["name_en"] == {"before": None, "after": "Alpha"}
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "import", AuditEvent.entity_id == outcome.batch_id).order_by(AuditEvent.id)).all()
        assert actions == ["import", "undo"]


def test_a_record_created_one_by_one_records_no_import_columns(
        session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session, session.begin():
        material = catalogs.create_record(session, world.actors["steward"], catalogs.MATERIALS, {
            "code": "M-API1", "name_zh": "甲", "name_en": "Alpha", "material_type": "raw",
            "unit_id": world.units["KG"], "procurement_scope": "local"})
        material_id = material.id
    with session_factory() as session:
        (created,), total = audit.record_history(session, world.actors["auditor"], entity="material",
                                                 entity_id=material_id)
        assert total == 1 and created.action == "create" and created.id is not None
        assert "import_batch_id" not in created.changes and "import_row" not in created.changes


def test_the_trail_lists_an_imports_creations_as_each_records_history_presents_them(
        imported: ImportOutcome, api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """``GET /api/v1/audit?entity=material&action=create`` lists the imported materials'
    creations (the import wrote one row, its own), each the entry the record's history shows;
    filtered by the import's user and time like stored rows, and counted in the pages."""
    auditor = api.as_("auditor")
    with session_factory() as session:
        ids = {m.code: m.id for m in imported_materials(session)}
    listed = auditor.get("/api/v1/audit", query_string={"entity": "material", "action": "create"})
    assert listed.status_code == 200
    created = [(e["entity_id"], e["action"], e["actor_name"], e["reason"]) for e in listed.get_json()]
    assert created == [
        (ids["M-AU2"], "create", "steward", f"go-live import {imported.batch_id}: m.csv, row 3"),
        (ids["M-AU1"], "create", "steward", f"go-live import {imported.batch_id}: m.csv, row 2"),
    ]
    for entry in listed.get_json():
        (history,) = auditor.get(f"/api/v1/audit/material/{entry['entity_id']}").get_json()
        assert entry == history
    # Unfiltered: the import's own row first (newest), then the records it created.
    everything = auditor.get("/api/v1/audit", query_string={"page_size": 3}).get_json()
    assert [(e["entity"], e["action"]) for e in everything] == [
        ("import", "import"), ("material", "create"), ("material", "create")]
    second = auditor.get("/api/v1/audit", query_string={"entity": "material", "page": 2, "page_size": 1})
    assert [e["entity_id"] for e in second.get_json()] == [ids["M-AU1"]]
    assert '"total": 2' in second.headers["X-Pagination"]
    # The filters apply to the import's user and time, and to the record's company.
    assert auditor.get("/api/v1/audit", query_string={
        "entity": "material", "actor_id": world.actors["auditor"].user_id}).get_json() == []
    assert auditor.get("/api/v1/audit", query_string={
        "entity": "material", "actor_id": world.actors["steward"].user_id}).status_code == 200
    assert auditor.get("/api/v1/audit", query_string={
        "entity": "material", "since": "2199-01-01T00:00:00+08:00"}).get_json() == []
    assert auditor.get("/api/v1/audit", query_string={
        "entity": "material", "company_id": world.companies["A"]}).get_json() == []
    assert auditor.get("/api/v1/audit", query_string={"entity": "material", "action": "change"}).get_json() == []
