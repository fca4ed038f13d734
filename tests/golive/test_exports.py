"""Exports: every report as CSV and XLSX, Chinese headers by default and English on request,
figures equal to the report's own, rows streamed in batches."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from erp.golive import exports
from tests.credit import history_invoice
from tests.stock import issue, open_order, receive, set_standard
from tests.world import ApiClient, World, problem


@pytest.fixture
def books(session_factory: sessionmaker[Session], world: World) -> World:
    """Company A: 100 kg EXC-STAR received at 10.50 against a standard of 10.00 (1,000.00 at
    standard, 50.00 variance); two invoices to customer 1, one due long ago."""
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.50", "A-AMB")])
    receive(session_factory, world, line, "100")
    history_invoice(session_factory, world, "cust1", dt.date(2026, 6, 1), "1000.00")  # due 2026-07-01
    history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 20), "250.00")  # due 2026-12-20
    return world


def _csv(response: object) -> list[list[str]]:
    text = response.data.decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_stock_export_in_chinese_by_default_and_english_on_request(api: ApiClient, books: World) -> None:
    cost = api.as_("cost_a")
    rows = _csv(cost.get(f"/api/v1/exports/stock?format=csv&company_id={books.companies['A']}"))
    assert rows[0][:3] == ["公司", "仓库", "物料编码"]
    # What a reader knows the codes by (finding 126): the material type and stock status in words.
    assert rows[1] == ["CA", "CA-AMB", "EXC-STAR", "EXC-STAR", "原料", "B-001", "2026-10-01", "2029-09-30",
                       "非限制", "100.0000", "1000.00"]
    english = _csv(cost.get(f"/api/v1/exports/stock?format=csv&lang=en&company_id={books.companies['A']}"))
    assert english[0][:3] == ["Company", "Warehouse", "Material code"]
    assert (english[1][4], english[1][8]) == ("raw material", "unrestricted")


def test_valuation_journal_and_trial_balance_exports_carry_the_books(api: ApiClient, books: World) -> None:
    cost = api.as_("cost_a")
    company = books.companies["A"]
    (header, row) = _csv(cost.get(f"/api/v1/exports/valuation?format=csv&company_id={company}"))
    assert row == ["CA", "EXC-STAR", "EXC-STAR", "100.0000", "1000.00", "50.00", "1050.00"]
    journal = _csv(cost.get(f"/api/v1/exports/journal?format=csv&company_id={company}&period=2026-11"))
    receipt = {r[6]: D(r[7]) for r in journal[1:] if r[3] == "stock_document"}
    assert receipt == {"1403": D("1000.00"), "1404": D("50.00"), "2202.01": D("-1050.00")}
    # the source in words too (finding 136): the document's kind in the file's language, not its code
    assert journal[0][-1] == "来源类型" and {r[-1] for r in journal[1:] if r[3] == "stock_document"} == {"采购入库"}
    trial = _csv(cost.get(f"/api/v1/exports/trial_balance?format=csv&company_id={company}&period=2026-11"))
    total = trial[-1]
    assert total[1] == "合计" and total[4] == total[5]
    problem(cost.get(f"/api/v1/exports/journal?format=csv&company_id={company}&as_of=2026-11-30"), 422)
    problem(cost.get("/api/v1/exports/journal?format=csv"), 422)


def test_variance_allocation_export_carries_the_close(
        api: ApiClient, books: World, session_factory: sessionmaker[Session]) -> None:
    """40 of the 100 kg go to production, then November closes: the variance rate is
    50.00 / 1,000.00 = 0.05, so consumption (400.00 at standard) bears 20.00 and the 60 kg
    left (600.00) keep 30.00; the export's row says the same, in both languages."""
    from erp.costing import close as closing

    issue(session_factory, books, "exc_local", "40")
    for period in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"):  # the first posting is June's
        with session_factory() as session, session.begin():
            closing.close_period(session, books.actors["cost_a"], company_id=books.companies["A"], period=period)
    cost = api.as_("cost_a")
    url = f"/api/v1/exports/variance_allocation?format=csv&company_id={books.companies['A']}&period=2026-11"
    header, row = _csv(cost.get(url))
    assert header[:3] == ["物料编码", "物料名称", "期初数量"]
    figures = dict(zip(_csv(cost.get(url + "&lang=en"))[0], row))
    assert figures["Material code"] == "EXC-STAR"
    assert {k: D(figures[k]) for k in (
        "Receipts quantity", "Receipts at standard", "Receipts variance", "Variance rate", "Consumption quantity",
        "Consumption at standard", "Variance allocated to consumption", "Closing quantity", "Closing at standard",
        "Closing variance")} == {
        "Receipts quantity": D("100"), "Receipts at standard": D("1000.00"), "Receipts variance": D("50.00"),
        "Variance rate": D("0.05"), "Consumption quantity": D("40"), "Consumption at standard": D("400.00"),
        "Variance allocated to consumption": D("20.00"), "Closing quantity": D("60"),
        "Closing at standard": D("600.00"), "Closing variance": D("30.00")}
    problem(cost.get(f"/api/v1/exports/variance_allocation?format=csv&company_id={books.companies['A']}"), 422)


def test_ageing_and_consolidated_receivables_exports(api: ApiClient, books: World) -> None:
    cio = api.as_("cio")
    ageing = _csv(cio.get("/api/v1/exports/ageing?format=csv&as_of=2026-11-30"))
    assert ageing[0][4] == "原发票号"
    # Invoices raised in the system have no old number (taken-over ones do: test_opening_receivables).
    assert [(r[0], r[1], r[4], r[6], r[7], r[8]) for r in ageing[1:]] == [
        ("CA", "K0001", "", "2026-07-01", "1000.00", "over_90"), ("CA", "K0001", "", "2026-12-20", "250.00", "not_due")]
    receivables = _csv(cio.get("/api/v1/exports/receivables?format=csv&lang=en&as_of=2026-11-30"))
    assert receivables[0][:4] == ["Customer", "Customer name", "USCC", "Open"]
    (row,) = receivables[1:]
    assert row[0] == "K0001" and (row[3], row[4], row[5], row[9]) == ("1250.00", "1000.00", "250.00", "1000.00")


def test_the_ageing_export_names_the_sales_order_an_invoice_shipped(
        api: ApiClient, books: World, session_factory: sessionmaker[Session]) -> None:
    """An invoice raised by a shipment names its order by number; one taken over without an
    order (the books' two) names none."""
    from tests.credit import new_order, ship

    order = new_order(session_factory, books, lines=[("10", "100.00")], confirm=True).order
    ship(session_factory, books, order.id, ["10"], day=dt.date(2026, 11, 25))  # 1,000.00, due 2026-12-25
    ageing = _csv(api.as_("cio").get("/api/v1/exports/ageing?format=csv&as_of=2026-11-30"))
    assert ageing[0][9] == "销售订单号"
    assert [(r[6], r[7], r[9]) for r in ageing[1:]] == [
        ("2026-07-01", "1000.00", ""), ("2026-12-20", "250.00", ""), ("2026-12-25", "1000.00", "SO-CA-2026-000001")]
    english = _csv(api.as_("cio").get("/api/v1/exports/ageing?format=csv&lang=en&as_of=2026-11-30"))
    assert english[0][9] == "Sales order"
    # each invoice by its own number (migration 0046), the shipped one numbered last
    assert (ageing[0][10], english[0][10]) == ("单据编号", "Document number")
    assert sorted(r[10] for r in ageing[1:]) == [f"AR-CA-2026-{n:06d}" for n in (1, 2, 3)]
    assert ageing[3][10] == "AR-CA-2026-000003"


def test_xlsx_exports_open_with_numbers_and_dates(api: ApiClient, books: World) -> None:
    response = api.as_("cost_a").get(f"/api/v1/exports/stock?company_id={books.companies['A']}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    header, row = list(sheet.iter_rows(values_only=True))
    assert header[0] == "公司" and row[0] == "CA"
    assert row[6] == dt.datetime(2026, 10, 1) and row[9] == 100 and row[10] == 1000


def test_exports_keep_the_reports_rights(api: ApiClient, books: World) -> None:
    problem(api.as_("cost_a").get(f"/api/v1/exports/valuation?company_id={books.companies['B']}"), 403)
    problem(api.as_("clerk_a").get("/api/v1/exports/receivables"), 403)
    problem(api.as_("cost_a").get("/api/v1/exports/nothing"), 404)


def test_csv_streams_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV writer hands out a chunk per batch of rows, never the whole file at once."""
    monkeypatch.setattr(exports, "BATCH_ROWS", 10)
    report = exports.REPORTS["trial_balance"]
    rows = ({"account_code": str(i), "debit": D(i), "credit": D(0)} for i in range(35))
    chunks = list(exports.csv_chunks(report, rows, "en"))
    assert len(chunks) == 4  # rows 1-10, 11-20, 21-30, 31-35 (with the header in the first)
    assert b"".join(chunks).decode("utf-8").count("\n") == 36


def test_the_cli_exports_to_csv_and_xlsx(app: Flask, books: World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "valuation.csv"
    result = runner.invoke(args=["export", "valuation", str(out), "--company", "CA", "--as", "cost_a"])
    assert result.exit_code == 0, result.output
    assert "1 rows written" in result.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[1] == "CA,EXC-STAR,EXC-STAR,100.0000,1000.00,50.00,1050.00"
    xlsx = tmp_path / "tb.xlsx"
    result = runner.invoke(args=["export", "trial_balance", str(xlsx), "--company", "CA", "--period", "2026-11",
                                 "--lang", "en", "--as", "cost_a"])
    assert result.exit_code == 0, result.output
    assert load_workbook(xlsx).worksheets[0]["A1"].value == "Account"


def _saved_as(response: object) -> tuple[str, str]:
    """The name a browser saves a download under (RFC 5987's filename*), and the ASCII filename."""
    from urllib.parse import unquote

    header = response.headers["Content-Disposition"]  # type: ignore[attr-defined]
    assert header.startswith("attachment; ")
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert fallback.isascii() and encoded.isascii()
    return unquote(encoded), fallback


def test_an_export_is_named_by_its_report_company_period_and_day(api: ApiClient, books: World) -> None:
    """Trial finding 51: every download was "heyi-<report>.xlsx"; the file now says what it is,
    whose and of when, and the day it was taken, in the reader's language."""
    from erp.clock import business_today

    cost, company, taken = api.as_("cost_a"), books.companies["A"], business_today().strftime("%Y%m%d")
    name, fallback = _saved_as(cost.get(f"/api/v1/exports/journal?company_id={company}&period=2026-11"))
    assert name == f"会计分录_CA_2026-11_{taken}.xlsx" and fallback == f"heyi-journal_CA_2026-11_{taken}.xlsx"
    name, fallback = _saved_as(cost.get(f"/api/v1/exports/stock?format=csv&lang=en&company_id={company}"
                                        "&as_of=2026-11-30"))
    assert name == f"stock-on-hand_CA_as-of-2026-11-30_{taken}.csv" == fallback.replace("heyi-stock", "stock-on-hand")
    name, _ = _saved_as(api.as_("cio").get("/api/v1/exports/ageing?as_of=2026-11-30"))
    assert name.endswith(f"_截至2026-11-30_{taken}.xlsx") and not name.startswith("heyi")


def test_a_page_export_and_an_import_template_are_named_in_chinese(
        client: object, api: ApiClient, books: World) -> None:
    from tests.ui.conftest import sign_in

    sign_in(client, books, "cost_a")  # type: ignore[arg-type]
    name, fallback = _saved_as(client.get("/exports/journal?company=CA&period=2026-11"))  # type: ignore[attr-defined]
    assert name.startswith("会计分录_CA_2026-11_") and fallback.startswith("heyi-journal_CA_2026-11_")
    name, fallback = _saved_as(api.as_("steward").get("/api/v1/imports/materials/template"))
    assert (name, fallback) == ("导入模板_物料.xlsx", "heyi-import-materials.xlsx")
