"""The go-live import page in a real browser, in Chinese (finding 115): the steward downloads
the customers' template, uploads a file whose rows are refused (row, column and reason in
Chinese; nothing written, nothing to confirm), then a corrected file, checks it and imports
it; the credit controller checks a company's opening receivables (what each customer owes,
totalled), imports them and opens an invoice taken over from the result."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from stdnum.cn import uscc

# A company no other page test posts in: its go-live date closes its books before it.
COMPANY = "DIST08"


def _uscc(seed: str) -> str:
    body = "91310000" + seed.upper().rjust(9, "0")[:9]
    return body + uscc.calc_check_digit(body)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def _check(page: Any, kind: str, path: Path, company: str | None = None, go_live: str | None = None) -> None:
    page.goto("/golive/imports")
    page.select_option("#f-kind", kind)
    if company:
        page.select_option("#f-company_id", label=page.locator("#f-company_id option", has_text=company)
                           .first.inner_text())
    if go_live:
        page.fill("#f-go_live_date", go_live)
    page.set_input_files("#f-file", str(path))
    page.get_by_test_id("check-file").click()
    page.wait_for_selector("[data-testid=import-job][data-status=succeeded], [data-testid=import-job][data-status=failed]")


def test_the_steward_checks_a_file_sees_its_refused_rows_and_imports_the_corrected_one(
        signed_in: Any, shot: Any, tmp_path: Path) -> None:
    page = signed_in("steward")
    page.get_by_role("link", name="上线导入").click()
    page.wait_for_selector("[data-testid=import-form]")
    assert page.locator("[data-testid=kinds] tr[data-kind=customers]").count() == 1
    shot(page, "import-form")
    response = page.request.get(page.get_by_test_id("template-customers").get_attribute("href"))
    assert response.ok and response.headers["content-type"].startswith("application/vnd.openxmlformats")
    template = tmp_path / "customers.xlsx"
    template.write_bytes(response.body())
    header = [cell.value for cell in next(load_workbook(template).active.iter_rows(max_row=1))]
    assert header[:3] == ["编码 / Code", "统一社会信用代码 / USCC", "中文名称 / Chinese name"], header

    run = uuid.uuid4().hex[:6].upper()
    header = ["编码", "统一社会信用代码", "中文名称", "英文名称", "账期天数", "冻结"]
    good = [f"KG{run}1", _uscc(run + "1"), "新客户一", "New Customer One", "30", "否"]
    bad = _csv(tmp_path / "bad.csv", [header, good,
        [f"KG{run}2", "91310000000000001X", "新客户二", "New Customer Two", "30", "否"],  # row 3: check character
        [f"KG{run}1", _uscc(run + "3"), "新客户三", "New Customer Three", "30", "否"],  # row 4: the code twice
        [f"KG{run}5", _uscc(run + "5"), "新客户五", "New Customer Five", "30", "也许"],  # row 5: not 是/否
    ])
    _check(page, "customers", bad)
    refused = page.get_by_test_id("rows-refused").inner_text()
    assert "无法导入" in refused or "不能导入" in refused, refused
    rows = {(r.get_attribute("data-row"), r.get_attribute("data-column")): r.inner_text()
            for r in page.locator("[data-testid=row-errors] tbody tr").all()}
    assert set(rows) == {("3", "uscc"), ("4", "code"), ("5", "blocked")}, rows
    assert "统一社会信用代码" in rows[("3", "uscc")] and "校验码不正确" in rows[("3", "uscc")]
    assert "第 2 行" in rows[("4", "code")], rows[("4", "code")]
    assert "是/否" in rows[("5", "blocked")]
    assert page.get_by_test_id("import-file").count() == 0  # a refused file cannot be imported
    shot(page, "rows-refused")

    fixed = _csv(tmp_path / "good.csv", [header, good,
                                         [f"KG{run}2", _uscc(run + "2"), "新客户二", "New Customer Two", "45", "是"]])
    _check(page, "customers", fixed)
    assert "没有错误" in page.get_by_test_id("done").inner_text()
    assert "2" in page.get_by_test_id("counts").inner_text()
    shot(page, "checked")
    page.get_by_test_id("import-file").click()
    page.wait_for_selector("[data-testid=import-job][data-status=succeeded]")
    assert "已导入" in page.get_by_test_id("done").inner_text()
    shot(page, "imported")


def test_the_credit_controller_checks_opening_receivables_per_customer_and_takes_them_over(
        signed_in: Any, shot: Any, tmp_path: Path) -> None:
    page = signed_in("credit")
    run = uuid.uuid4().hex[:6].upper()
    path = _csv(tmp_path / "receivables.csv", [
        ["客户编码", "原发票号", "开票日期", "到期日", "未收金额"],
        ["K0001", f"OLD-{run}-1", "2026-10-15", "2026-11-14", "11300.00"],
        ["K0001", f"OLD-{run}-2", "2026-11-20", "2026-12-20", "2000.50"],
        ["K0002", f"OLD-{run}-3", "2026-09-01", "2026-10-01", "5650.00"],
    ])
    _check(page, "opening_receivables", path, company=COMPANY, go_live="2026-12-01")
    assert "没有错误" in page.get_by_test_id("done").inner_text()
    customers = {r.get_attribute("data-customer"): r.inner_text()
                 for r in page.locator("[data-testid=totals-by-customer] tbody tr").all()}
    assert set(customers) == {"K0001", "K0002"}
    assert "¥13,300.50" in customers["K0001"] and "¥5,650.00" in customers["K0002"]
    assert page.get_by_test_id("total-amount").inner_text() == "¥18,950.50"
    shot(page, "receivables-checked")
    page.get_by_test_id("import-file").click()
    page.wait_for_selector("[data-testid=import-job][data-status=succeeded]")
    assert "已导入" in page.get_by_test_id("done").inner_text()
    links = page.locator("[data-testid=documents-invoices] [data-testid=document-link]")
    assert links.count() == 3 and links.first.inner_text() == f"OLD-{run}-1"
    shot(page, "receivables-imported")
    links.first.click()
    page.wait_for_load_state()
    assert f"OLD-{run}-1" in page.content()
    shot(page, "invoice-taken-over")
