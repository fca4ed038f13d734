"""Finding 116: the words users' spreadsheets carry for coded values (已审核, 未清, 待检, 原料,
集中采购, 是/否) are read as the codes, beside the codes themselves; a word naming no value
is refused with the choices in the reader's language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.golive import messages
from erp.golive.framework import ImportOutcome
from erp.masterdata.models import Material, MaterialType, ProcurementScope
from erp.posting.models import StockBalance, StockStatus
from erp.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from tests.golive.helpers import run_import, write_csv
from tests.stock import set_standard
from tests.world import World

MATERIALS = ["物料编码", "中文名称", "英文名称", "物料类型", "计量单位", "采购范围", "批次管理", "需要来料检验"]


def _reasons(app: Flask, errors: list[dict[str, object]], lang: str) -> dict[tuple[object, object], str]:
    with app.app_context():
        return {(e["row"], e["column"]): str(e["reason"]) for e in messages.render_all(errors, lang)}


def test_material_types_scopes_and_yes_no_in_chinese_are_read_as_their_codes(
        app: Flask, tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [MATERIALS,
        ["W-1", "甲", "A", "原料", "KG", "集中采购", "是", "否"],
        ["W-2", "乙", "B", "包材", "KG", "自主采购", "否", "是"],
        ["W-3", "丙", "C", "产成品", "KG", "local", "no", "yes"],
        ["W-4", "丁", "D", " Packaging ", "KG", "central", "", ""],
    ])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        got = {m.code: (m.material_type, m.procurement_scope, m.batch_managed, m.inspection_required)
               for m in session.scalars(select(Material).where(Material.code.like("W-%")))}
    assert got == {
        "W-1": (MaterialType.RAW, ProcurementScope.CENTRAL, True, False),
        "W-2": (MaterialType.PACKAGING, ProcurementScope.LOCAL, False, True),
        "W-3": (MaterialType.FINISHED, ProcurementScope.LOCAL, False, True),
        "W-4": (MaterialType.PACKAGING, ProcurementScope.CENTRAL, True, False),
    }


def test_a_word_naming_no_value_is_refused_with_the_choices_in_chinese(
        app: Flask, tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "m.csv", [MATERIALS, ["W-9", "甲", "A", "液体", "KG", "集采", "", ""]])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path, dry_run=True)
    assert isinstance(outcome, ImportOutcome)
    assert _reasons(app, seen.errors, "zh") == {
        (2, "material_type"): "必须是以下之一：原料、包装材料、中间体、产成品、外购商品"}


def test_opening_stock_status_in_chinese(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-12")
    path = write_csv(tmp_path / "s.csv", [
        ["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "库存状态", "数量"],
        ["CA-AMB", "EXC-STAR", "B1", "2026-06-01", "2028-06-01", "非限制", "10"],
        ["CA-AMB", "EXC-STAR", "B2", "2026-06-01", "2028-06-01", "待检", "2"],
        ["CA-AMB", "EXC-STAR", "B3", "2026-06-01", "2028-06-01", "冻结", "1"],
    ])
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "opening_stock", path,
                               company_id=world.companies["A"], go_live_date=dt.date(2026, 12, 1))
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        assert sorted((b.quantity, b.status) for b in session.scalars(select(StockBalance))) == [
            (1, StockStatus.BLOCKED), (2, StockStatus.QUARANTINE), (10, StockStatus.UNRESTRICTED)]


def test_open_orders_with_the_old_systems_status_words(
        app: Flask, tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    contracts = write_csv(tmp_path / "cc.csv", [
        ["合同编号", "供应商编码", "生效日期", "失效日期", "物料编码", "合同单价"],
        ["CA-C-1", "S0001", "2026-01-01", "2026-12-31", "EXC-STAR", "10.5"]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "company_contracts", contracts,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    header = ["原订单号", "供应商编码", "订单日期", "物料编码", "收货仓库", "订购数量", "已收数量", "订单状态"]
    orders = write_csv(tmp_path / "po.csv", [header,
        ["OLD-1", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "", "已审核"],
        ["OLD-2", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "", "已批准"],
        ["OLD-3", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "4", "未清"],
        ["OLD-4", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "4", "部分收货"],
        ["OLD-5", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "", "open"],
        ["OLD-6", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "", "草稿"],  # row 7: not approved
        ["OLD-7", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "", "随便"],  # row 8: no such status
    ])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "purchase_orders", orders,
                               company_id=world.companies["A"], dry_run=True)
    assert isinstance(outcome, ImportOutcome)
    reasons = _reasons(app, seen.errors, "zh")
    assert set(reasons) == {(7, "status"), (8, "status")}, reasons
    assert "草稿" in reasons[(7, "status")] and "draft" not in reasons[(7, "status")]
    assert reasons[(8, "status")].startswith("必须是以下之一：草稿")
    good = write_csv(tmp_path / "po2.csv", [header] + [line.split(",") for line in
                                                      orders.read_text("utf-8-sig").splitlines()[1:6]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "purchase_orders", good,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        statuses = sorted(o.status.value for o in session.scalars(select(PurchaseOrder)))
    assert statuses == ["open", "open", "open", "partially_received", "partially_received"]
