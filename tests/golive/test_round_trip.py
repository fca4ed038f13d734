"""Export round trip: company A's stock list, exported as XLSX, loads into an empty company
as its opening stock (the warehouse codes changed to the new company's, the variance each
material carries put on the material's first row, as the go-live team would) and gives the
same valuation."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.reports import inventory_valuation, trial_balance
from erp.golive.framework import ImportOutcome
from erp.inventory.services import QualityDecision
from tests.golive.helpers import run_import
from tests.stock import batch_id, decide, issue, open_order, receive, set_standard
from tests.world import ApiClient, World

pytestmark = pytest.mark.postgres
GO_LIVE = dt.date(2026, 12, 1)


def _valuation(session_factory: sessionmaker[Session], world: World, company: str) -> dict[str, tuple[D, D, D, D]]:
    with session_factory() as session:
        return {r.material_code: (r.quantity, r.standard_value, r.variance, r.actual_value)
                for r in inventory_valuation(session, world.actors["cost_group"], company_id=world.companies[company])}


def test_an_exported_stock_list_loads_into_an_empty_company_with_the_same_valuation(
        tmp_path: Path, api: ApiClient, session_factory: sessionmaker[Session], world: World) -> None:
    for company in ("A", "C"):
        set_standard(session_factory, world, "exc_local", "10.00", company=company)
        set_standard(session_factory, world, "cold_central", "100.00", company=company)
        set_standard(session_factory, world, "pkg_loose", "0.40", company=company)
    star, insulin, cartons = open_order(session_factory, world, [
        ("exc_local", "100", "10.50", "A-AMB"), ("cold_central", "5", "98.00", "A-COLD"),
        ("pkg_loose", "30", "0.50", "A-AMB")])
    receive(session_factory, world, star, "60.5")
    receive(session_factory, world, star, "39.5", batch="B-002", made=dt.date(2026, 9, 1),
            expires=dt.date(2028, 8, 31), warehouse="A-COOL")
    receive(session_factory, world, insulin, "5", batch="INS-1", made=dt.date(2026, 10, 1),
            expires=dt.date(2027, 9, 30))
    insulin = batch_id(session_factory, world, "cold_central", "INS-1")
    decide(session_factory, world, "A-COLD", insulin, "3", decision=QualityDecision.REJECT)
    decide(session_factory, world, "A-COLD", insulin)  # the 2 kg left, by QA's signed usage decision
    receive(session_factory, world, cartons, "30", batch=None, made=None, expires=None)
    # By hand: EXC-STAR 100 kg at 10.00 carrying 100 x 0.50; API-INSU 5 kg at 100.00 carrying
    # 5 x -2.00; PKG-SHIP 30 at 0.40 carrying 30 x 0.10.
    expected = {"EXC-STAR": (D("100"), D("1000.00"), D("50.00"), D("1050.00")),
                "API-INSU": (D("5"), D("500.00"), D("-10.00"), D("490.00")),
                "PKG-SHIP": (D("30"), D("12.00"), D("3.00"), D("15.00"))}
    assert _valuation(session_factory, world, "A") == expected

    response = api.as_("cost_a").get(f"/api/v1/exports/stock?company_id={world.companies['A']}")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header == ["公司", "仓库", "物料编码", "物料名称", "物料类型", "批号", "生产日期", "有效期至", "库存状态",
                      "数量", "标准成本金额"]
    assert sheet.max_row == 6  # 2 batches of EXC-STAR, released and quarantined insulin, cartons
    # The statuses in words (finding 126), which the import reads back as their codes.
    statuses = [sheet.cell(row, 9).value for row in range(2, 7)]
    assert "非限制" in statuses and set(statuses) <= {"非限制", "待检隔离", "冻结"}, statuses
    # What the go-live team does in Excel: the new company's warehouses, and the variance each
    # material carries (the valuation export's column) on the material's first row.
    variance = {code: figures[2] for code, figures in expected.items()}
    sheet.cell(1, len(header) + 1, "材料成本差异")
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, 2).value = sheet.cell(row, 2).value.replace("CA-", "CC-")
        sheet.cell(row, len(header) + 1, float(variance.pop(sheet.cell(row, 3).value, D(0))))
    path = tmp_path / "stock_of_A_for_C.xlsx"
    workbook.save(path)

    outcome, seen = run_import(session_factory, world.actors["cost_group"], "opening_stock", path,
                               company_id=world.companies["C"], go_live_date=GO_LIVE)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert outcome.counts == {"rows": 5, "documents": 1}
    assert _valuation(session_factory, world, "C") == expected
    with session_factory() as session:
        tb = trial_balance(session, world.actors["cost_group"], company_id=world.companies["C"], period="2026-12")
        assert tb.balanced
        assert {line["account_code"]: line["debit"] - line["credit"] for line in tb.lines}["4199"] == D("-1555.00")


def test_a_stock_list_whose_value_drifted_by_rounding_loads_at_standard_with_the_cents_in_variance(
        tmp_path: Path, api: ApiClient, session_factory: sessionmaker[Session], world: World) -> None:
    """Finding 141 (docs/costing.md, *Rounding of stock values*). EXC-STAR at standard 0.335 in
    A and C; A receives 3 kg at the contract price 0.40: stock round(3 x 0.335 = 1.005) = 1.01,
    1404 1.20 - 1.01 = 0.19. Two issues of 1 kg each take round(0.335) = 0.34: the 1 kg left is
    worth 1.01 - 0.68 = 0.33, while 1 x 0.335 rounds to 0.34. A's valuation: 1 kg, 0.33 at
    standard, 0.19 variance, 0.52 actual. Its stock list (0.33) loaded into C, whose standard
    values the kilogram at 0.34: before 1 December 2026 refused (0.33 is not 0.34); now 0.34
    at standard and 0.19 - 0.01 = 0.18 of variance, 0.52 actual as in A; 4199 -0.52."""
    for company in ("A", "C"):
        set_standard(session_factory, world, "exc_local", "0.335", company=company)
    (line,) = open_order(session_factory, world, [("exc_local", "3", "0.40", "A-AMB")])
    receive(session_factory, world, line, "3")
    issue(session_factory, world, "exc_local", "1")
    issue(session_factory, world, "exc_local", "1")
    assert _valuation(session_factory, world, "A") == {"EXC-STAR": (D("1"), D("0.33"), D("0.19"), D("0.52"))}

    response = api.as_("cost_a").get(f"/api/v1/exports/stock?company_id={world.companies['A']}")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    assert sheet.max_row == 2 and D(str(sheet.cell(2, 11).value)) == D("0.33")
    sheet.cell(1, 12, "材料成本差异")  # the variance, from the valuation export, as the go-live team adds it
    sheet.cell(2, 2).value = sheet.cell(2, 2).value.replace("CA-", "CC-")
    sheet.cell(2, 12, 0.19)
    path = tmp_path / "drifted.xlsx"
    workbook.save(path)
    outcome, seen = run_import(session_factory, world.actors["cost_group"], "opening_stock", path,
                               company_id=world.companies["C"], go_live_date=GO_LIVE)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert _valuation(session_factory, world, "C") == {"EXC-STAR": (D("1"), D("0.34"), D("0.18"), D("0.52"))}
    with session_factory() as session:
        tb = trial_balance(session, world.actors["cost_group"], company_id=world.companies["C"], period="2026-12")
        assert tb.balanced
        assert {line["account_code"]: line["debit"] - line["credit"] for line in tb.lines}["4199"] == D("-0.52")
