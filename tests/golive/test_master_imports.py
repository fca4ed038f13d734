"""Imports of master data: every row checked by the API's own rules, a dry run that writes
nothing, a commit that writes all or nothing, partners matched by USCC, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.models import StandardPrice
from erp.credit.models import CreditLimit, CustomerExposure
from erp.golive.errors import ImportHasErrors
from erp.golive.framework import AlreadyImported, ImportOutcome, undo_import
from erp.golive.kinds import KINDS
from erp.golive.models import ImportBatch, ImportStatus
from erp.masterdata.models import Customer, Material, Supplier, Warehouse
from erp.narration import plain
from erp.errors import Conflict, Forbidden
from tests.golive.helpers import run_import, write_csv, write_xlsx
from tests.world import USCC_CUSTOMER_1, USCC_SUPPLIER_1, World

MATERIAL_HEADER = ["物料编码", "Chinese name", "英文名称", "material_type", "计量单位 / Unit", "采购范围",
                   "储存最高温度℃", "有效期天数", "批次管理", "超收容差%"]


def material(code: str, unit: str = "KG", **overrides: str) -> list[str]:
    row = {"code": code, "zh": f"物料{code}", "en": f"Material {code}", "type": "raw", "unit": unit,
           "scope": "local", "tmax": "25", "life": "730", "batch": "是", "tol": "0"}
    row.update(overrides)
    return list(row.values())


def count(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_materials_dry_run_reports_every_bad_row_and_writes_nothing(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "materials.csv", [
        MATERIAL_HEADER,
        material("M-001"),
        material("M-002", unit="BOX"),  # row 3: unknown unit
        material("M-001"),  # row 4: duplicate code in the file
        material("EXC-STAR"),  # row 5: code already in the master
        material("M-005", type="liquid"),  # row 6: not a material type
        material("M-006", life="abc"),  # row 7: not a whole number
        material("M-007", tmax="999"),  # row 8: beyond the schema's bounds
        material("M-008"),
    ])
    before = count(session_factory, Material)
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path, dry_run=True)
    assert isinstance(outcome, ImportOutcome) and not outcome.committed
    assert outcome.rows == 8 and outcome.error_count == 6
    assert seen.at() == {(3, "unit_code"), (4, "code"), (5, "code"), (6, "material_type"),
                         (7, "shelf_life_days"), (8, "storage_temp_max")}
    codes = {e["row"]: e["code"] for e in seen.errors}
    assert codes == {3: "unknown-reference", 4: "duplicate-in-file", 5: "duplicate-code", 6: "not-one-of",
                     7: "not-a-whole-number", 8: "invalid-value"}
    assert count(session_factory, Material) == before
    assert count(session_factory, ImportBatch) == 0


def test_a_commit_with_one_bad_row_writes_nothing(tmp_path: Path, session_factory: sessionmaker[Session],
                                                   world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-001"), material("M-002", unit="BOX")])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportHasErrors)
    assert seen.at() == {(3, "unit_code")}
    with session_factory() as session:
        assert session.scalar(select(Material.id).where(Material.code == "M-001")) is None


def test_materials_commit_all_rows_and_the_same_file_is_refused_twice(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_xlsx(tmp_path / "materials.xlsx", [
        [KINDS["materials"].column(k).template_header for k in  # type: ignore[union-attr]
         ("code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope", "storage_temp_max",
          "shelf_life_days", "batch_managed", "over_receipt_tolerance_pct")],
        ["M-001", "甲", "A", "raw", "KG", "central", 25, 730, "是", 2.5],
        ["M-002", "乙", "B", "packaging", "EA", "local", None, None, "否", 0],
    ])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert seen.errors == []
    assert isinstance(outcome, ImportOutcome) and outcome.committed and outcome.counts == {"created": 2}
    with session_factory() as session:
        m1 = session.scalars(select(Material).where(Material.code == "M-001")).one()
        assert (m1.unit.code, m1.procurement_scope.value, str(m1.storage_temp_max), m1.shelf_life_days) == \
            ("KG", "central", "25.0", 730)
        assert str(m1.over_receipt_tolerance_pct) == "2.50" and m1.batch_managed is True
        m2 = session.scalars(select(Material).where(Material.code == "M-002")).one()
        assert m2.batch_managed is False and m2.shelf_life_days is None
    again, _ = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(again, AlreadyImported)
    # The same content saved as CSV is the same import.
    as_csv = write_csv(tmp_path / "materials.csv", [
        ["code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope", "storage_temp_max",
         "shelf_life_days", "batch_managed", "over_receipt_tolerance_pct"],
        ["M-001", "甲", "A", "raw", "KG", "central", "25", "730", "是", "2.5"],
        ["M-002", "乙", "B", "packaging", "EA", "local", "", "", "否", "0"],
    ])
    again, _ = run_import(session_factory, world.actors["steward"], "materials", as_csv)
    assert isinstance(again, AlreadyImported)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_and_gb18030_reads_the_same(tmp_path: Path, session_factory: sessionmaker[Session],
                                                world: World, encoding: str) -> None:
    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-九", zh="对乙酰氨基酚")], encoding)
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path, dry_run=True)
    # "M-九" is not a valid code (ASCII only): the value comes back decoded, whatever the encoding.
    assert [(e["row"], e["column"], e["value"]) for e in seen.errors] == [(2, "code", "M-九")]
    path = write_csv(tmp_path / "m2.csv", [MATERIAL_HEADER, material("M-9", zh="对乙酰氨基酚")], encoding)
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome) and outcome.committed
    assert outcome.encoding == ("utf-8-sig" if encoding.startswith("utf-8") else "gb18030")
    with session_factory() as session:
        assert session.scalar(select(Material.name_zh).where(Material.code == "M-9")) == "对乙酰氨基酚"


def test_unknown_and_missing_columns_are_reported_on_the_header_row(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [["code", "name_zh", "colour"], ["M-1", "x", "red"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path, dry_run=True)
    assert isinstance(outcome, ImportOutcome)
    assert {e["code"] for e in seen.errors} == {"unknown-column", "missing-column"}
    assert {e["row"] for e in seen.errors} == {1}


def test_only_stewards_import_master_data(tmp_path: Path, session_factory: sessionmaker[Session],
                                          world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-1")])
    outcome, _ = run_import(session_factory, world.actors["cost_a"], "materials", path, dry_run=True)
    assert isinstance(outcome, Forbidden)


PARTNER_HEADER = ["编码", "统一社会信用代码", "中文名称", "英文名称"]
NEW_USCC = "91440300000000004T"


def test_suppliers_are_matched_by_uscc_never_duplicated(tmp_path: Path, session_factory: sessionmaker[Session],
                                                         world: World) -> None:
    path = write_csv(tmp_path / "s.csv", [
        PARTNER_HEADER,
        ["HK-01", USCC_SUPPLIER_1, "华康药业", "Huakang"],  # known USCC, other code and name: matched
        ["NEW-01", NEW_USCC, "新供应商", "New Supplier"],  # new
        ["NEW-02", "91440300000000004X", "坏代码", "Bad code"],  # row 4: check character wrong
        ["S0002", "91440300000000005X", "重码", "Code taken"],  # row 5: code of another supplier
        ["NEW-03", NEW_USCC, "重复", "Twice"],  # row 6: the same USCC twice in the file
    ])
    before = count(session_factory, Supplier)
    outcome, seen = run_import(session_factory, world.actors["steward"], "suppliers", path, dry_run=True)
    assert isinstance(outcome, ImportOutcome)
    assert sorted((e["row"], e["column"], e["code"]) for e in seen.errors) == [
        (4, "uscc", "invalid-uscc"), (5, "code", "code-uscc-mismatch"), (6, "uscc", "duplicate-in-file")]
    assert count(session_factory, Supplier) == before
    fixed = write_csv(tmp_path / "s2.csv", [
        PARTNER_HEADER, ["HK-01", USCC_SUPPLIER_1, "华康药业", "Huakang"], ["NEW-01", NEW_USCC, "新供应商", "New"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "suppliers", fixed)
    assert seen.errors == []
    assert isinstance(outcome, ImportOutcome) and outcome.counts == {"matched": 1, "created": 1}
    assert {n["code"] for n in outcome.notices} == {"code-differs", "name-differs"}
    assert count(session_factory, Supplier) == before + 1
    with session_factory() as session:
        assert session.scalar(select(Supplier.code).where(Supplier.uscc == USCC_SUPPLIER_1)) == "S0001"


def test_a_new_supplier_whose_code_is_taken_is_an_error(tmp_path: Path, session_factory: sessionmaker[Session],
                                                         world: World) -> None:
    path = write_csv(tmp_path / "s.csv", [PARTNER_HEADER, ["S0002", NEW_USCC, "重码", "Code taken"]])
    _, seen = run_import(session_factory, world.actors["steward"], "suppliers", path, dry_run=True)
    assert [(e["row"], e["column"], e["code"]) for e in seen.errors] == [(2, "code", "code-uscc-mismatch")]


def test_customers_of_a_second_company_match_the_first_ones(tmp_path: Path, session_factory: sessionmaker[Session],
                                                            world: World) -> None:
    first = write_csv(tmp_path / "c1.csv", [PARTNER_HEADER + ["账期天数"],
                                            ["K-NEW", NEW_USCC, "新医院", "New Hospital", "45"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "customers", first)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.counts == {"created": 1}
    second = write_csv(tmp_path / "c2.csv", [PARTNER_HEADER + ["账期天数"],
                                             ["B-77", NEW_USCC, "新医院", "New Hospital", "45"],
                                             ["B-78", USCC_CUSTOMER_1, "第一医院", "First Hospital", "30"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "customers", second)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.counts == {"matched": 2}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.uscc == NEW_USCC)) == 1


def test_warehouses_belong_to_the_company_named_and_obey_the_catalog(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "w.csv", [
        ["仓库编码", "中文名称", "英文名称", "最低温度℃", "最高温度℃", "最大相对湿度%"],
        ["CA-DEEP", "深冷库", "Deep freeze", "-25", "-15", "50"],
        ["CA-BAD", "反了", "Inverted", "20", "10", "50"],  # row 3: band inverted (catalog rule)
    ])
    _, seen = run_import(session_factory, world.actors["steward"], "warehouses", path,
                         company_id=world.companies["A"], dry_run=True)
    assert [(e["row"], e["column"]) for e in seen.errors] == [(3, "temp_min")]
    path = write_csv(tmp_path / "w2.csv", [["code", "name_zh", "name_en", "temp_min", "temp_max", "max_humidity"],
                                           ["CA-DEEP", "深冷库", "Deep freeze", "-25", "-15", "50"]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "warehouses", path,
                               company_id=world.companies["A"])
    assert isinstance(outcome, ImportOutcome) and outcome.committed
    with session_factory() as session:
        assert session.scalar(select(Warehouse.company_id).where(Warehouse.code == "CA-DEEP")) == world.companies["A"]


def test_standard_prices_go_through_the_costing_service_and_undo(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "p.csv", [
        ["物料编码", "生效期间", "标准单价"],
        ["EXC-STAR", "2026-12", "10.5"],
        ["API-AMOX", "2026-12", "120.123456"],
        ["NOPE", "2026-12", "1"],  # row 4: unknown material
        ["PKG-SHIP", "2026-13", "1"],  # row 5: no such period
        ["API-INSU", "2026-12", "1.1234567"],  # row 6: too many places
    ])
    _, seen = run_import(session_factory, world.actors["cost_a"], "standard_prices", path,
                         company_id=world.companies["A"], dry_run=True)
    assert seen.at() == {(4, "material_code"), (5, "period"), (6, "price")}
    good = write_csv(tmp_path / "p2.csv", [["material_code", "period", "price"],
                                           ["EXC-STAR", "2026-12", "10.5"], ["API-AMOX", "2026-12", "120.123456"]])
    # A buyer may not; a cost accountant of company B may not set A's prices.
    outcome, _ = run_import(session_factory, world.actors["buyer_a"], "standard_prices", good,
                            company_id=world.companies["A"])
    assert isinstance(outcome, Forbidden)
    outcome, _ = run_import(session_factory, world.actors["cost_a"], "standard_prices", good,
                            company_id=world.companies["B"])
    assert isinstance(outcome, Forbidden)
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "standard_prices", good,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    with session_factory() as session:
        prices = dict(session.execute(select(StandardPrice.material_id, StandardPrice.price).where(
            StandardPrice.company_id == world.companies["A"])).all())
        assert str(prices[world.materials["exc_local"]]) == "10.500000"
    with session_factory() as session, session.begin():
        undo_import(session, world.actors["cost_a"], KINDS["standard_prices"], outcome.batch_id)  # type: ignore[arg-type]
    assert count(session_factory, StandardPrice) == 0
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "standard_prices", good,
                               company_id=world.companies["A"])
    assert isinstance(outcome, ImportOutcome) and outcome.committed, "an undone file may be loaded again"


def test_credit_limits_become_limit_versions_and_undo_restores_the_previous(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "l.csv", [
        ["客户统一社会信用代码", "客户编码", "信用额度", "审批说明"],
        [USCC_CUSTOMER_1, "", "500000", "approved in the old system"],
        ["", "K0002", "250000.00", ""],
        ["", "K9999", "1", ""],  # row 4: unknown customer
        ["", "K0001", "1", ""],  # row 5: the same customer twice
    ])
    _, seen = run_import(session_factory, world.actors["credit"], "credit_limits", path, dry_run=True)
    assert seen.at() == {(4, "customer_code"), (5, "customer_code")}
    good = write_csv(tmp_path / "l2.csv", [["customer_uscc", "customer_code", "credit_limit", "reason"],
                                           [USCC_CUSTOMER_1, "", "500000", "approved"], ["", "K0002", "250000", ""]])
    outcome, seen = run_import(session_factory, world.actors["credit"], "credit_limits", good)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    with session_factory() as session:
        limits = dict(session.execute(select(CustomerExposure.customer_id, CustomerExposure.credit_limit)).all())
        assert str(limits[world.customers["cust1"]]) == "500000.00"
        assert str(limits[world.customers["cust2"]]) == "250000.00"
    with session_factory() as session, session.begin():
        undo_import(session, world.actors["credit"], KINDS["credit_limits"], outcome.batch_id)  # type: ignore[arg-type]
    assert count(session_factory, CreditLimit) == 0
    with session_factory() as session:
        assert session.scalar(select(CustomerExposure.credit_limit).where(
            CustomerExposure.customer_id == world.customers["cust1"])) is None
        assert session.get(ImportBatch, outcome.batch_id).status == ImportStatus.UNDONE  # type: ignore[union-attr]


def test_an_import_whose_records_are_in_use_cannot_be_undone(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-USED")])
    outcome, _ = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome)
    prices = write_csv(tmp_path / "p.csv", [["material_code", "period", "price"], ["M-USED", "2026-12", "3"]])
    used, _ = run_import(session_factory, world.actors["cost_a"], "standard_prices", prices,
                         company_id=world.companies["A"])
    assert isinstance(used, ImportOutcome) and used.committed
    with session_factory() as session, session.begin():
        with pytest.raises(Conflict):
            undo_import(session, world.actors["steward"], KINDS["materials"], outcome.batch_id)  # type: ignore[arg-type]
    with session_factory() as session:
        assert session.scalar(select(Material.id).where(Material.code == "M-USED")) is not None
        assert session.get(ImportBatch, outcome.batch_id).status == ImportStatus.COMMITTED  # type: ignore[union-attr]


def test_a_key_repeated_in_a_later_chunk_is_reported_against_its_first_row(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks after the first find the file's earlier keys in the database, not in memory."""
    from erp.golive import framework

    monkeypatch.setattr(framework, "CHUNK_ROWS", 2)
    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-1"), material("M-2"), material("M-3"),
                                          material("M-1"), material("EXC-STAR")])
    _, seen = run_import(session_factory, world.actors["steward"], "materials", path, dry_run=True)
    assert sorted((e["row"], e["code"], e["params"].get("first_row")) for e in seen.errors) == [
        (5, "duplicate-in-file", 2), (6, "duplicate-code", None)]
    partners = write_csv(tmp_path / "s.csv", [PARTNER_HEADER, ["N-1", NEW_USCC, "甲", "A"],
                                              ["N-2", "91440300000000005X", "乙", "B"],
                                              ["N-3", NEW_USCC, "丙", "C"], ["N-1", "91440300000000010F", "丁", "D"]])
    _, seen = run_import(session_factory, world.actors["steward"], "suppliers", partners, dry_run=True)
    assert sorted((e["row"], e["column"], e["code"], e["params"].get("first_row")) for e in seen.errors) == [
        (4, "uscc", "duplicate-in-file", 2), (5, "code", "duplicate-in-file", 2)]


def test_imported_and_undone_master_records_are_in_the_audit_trail(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    from erp.audit.services import record_history

    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-AUD")])
    outcome, _ = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome)
    with session_factory() as session:
        material_id = session.scalar(select(Material.id).where(Material.code == "M-AUD"))
        (created,), _ = record_history(session, world.actors["auditor"], entity="material", entity_id=material_id)
        assert (created.action, created.actor_name) == ("create", "steward")
        assert created.changes["code"] == {"before": None, "after": "M-AUD"}
        assert plain(created.reason) == f"go-live import {outcome.batch_id}: m.csv, row 2"
    with session_factory() as session, session.begin():
        undo_import(session, world.actors["steward"], KINDS["materials"], outcome.batch_id)  # type: ignore[arg-type]
    with session_factory() as session:
        events, _ = record_history(session, world.actors["auditor"], entity="material", entity_id=material_id)
        assert [e.action for e in events] == ["delete", "create"]
        assert events[0].changes["code"] == {"before": "M-AUD", "after": None}


def test_the_row_checker_loads_exactly_as_the_schema_does() -> None:
    """Per-value caching must not change what a row loads to, nor which errors it gets."""
    from erp.golive.bulk import RowChecker
    from erp.masterdata.schemas import MaterialSchema

    schema = MaterialSchema(exclude=("unit_id",))
    checker = RowChecker(schema)
    rows = [
        {"code": "M-1", "name_zh": "甲", "name_en": "A", "material_type": "raw", "procurement_scope": "local"},
        {"code": "M-2", "name_zh": "乙", "name_en": "B", "material_type": "raw", "procurement_scope": "local",
         "storage_temp_max": "25", "shelf_life_days": 30, "batch_managed": False},
        {"code": "m 3", "name_zh": "", "name_en": "C", "material_type": "gas", "procurement_scope": "local",
         "storage_temp_max": "999"},
        {"code": "M-4", "name_zh": "丁", "material_type": "raw", "procurement_scope": "local"},
        {"code": "M-2", "name_zh": "乙", "name_en": "B", "material_type": "raw", "procurement_scope": "local",
         "storage_temp_max": "25", "shelf_life_days": 30, "batch_managed": False},
    ]
    for payload in rows * 2:  # the second pass reads from the cache
        try:
            expected: object = schema.load(payload)
        except Exception as exc:  # noqa: BLE001
            expected = exc.messages  # type: ignore[attr-defined]
        try:
            got: object = checker.load(payload)
        except Exception as exc:  # noqa: BLE001
            got = exc.messages  # type: ignore[attr-defined]
        assert got == expected
