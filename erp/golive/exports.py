"""Exports of the reports as CSV or XLSX, streamed: rows come from the database in batches
(a server-side cursor on PostgreSQL) and go out as they come, so a 500,000-row export never
holds its rows in memory.

Each report is the owning module's own query (``erp.inventory.queries.stock_query``,
``erp.costing.reports.*_query``, ``erp.credit.receivables.*_query``) with its rights and
scoping, plus the columns to show, headed in Chinese (default) or English.

CSV streams straight to the client (UTF-8 with BOM, so Excel shows Chinese). XLSX is a zip
file whose parts must be finished before it can be read, so it is written with XlsxWriter's
constant-memory mode (each row written to disk as it comes) into a temporary file, which is
then streamed and deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import quote

from sqlalchemy import Select
from sqlalchemy.orm import Session

from erp import narration
from erp.clock import business_today
from erp.golive.words import translation, word_of
from erp.messages import Message, Named, plain_value
from erp.auth.roles import Actor

BATCH_ROWS = 2000


@dataclass(frozen=True)
class ExportColumn:
    key: str
    zh: str
    en: str
    type: str = "text"  # text, decimal, date, int

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Report:
    """A report that can be exported: its name, title, columns, and its query (which checks
    the caller's rights and scope) built from the request's parameters."""

    name: str
    title_zh: str
    title_en: str
    columns: Sequence[ExportColumn]
    query: Callable[..., Select[Any] | list[Any]]
    params: Sequence[str] = ()


def _c(key: str, zh: str, en: str, type_: str = "text") -> ExportColumn:
    return ExportColumn(key, zh, en, type_)


# --- the reports ---------------------------------------------------------------------------------

def _stock(session: Session, actor: Actor, *, company_id: int | None = None, warehouse_id: int | None = None,
           as_of: dt.date | None = None, **_: Any) -> Select[Any]:
    from erp.inventory.queries import STOCK_DIMENSIONS, stock_query

    return stock_query(actor, group_by=STOCK_DIMENSIONS, company_id=company_id, warehouse_id=warehouse_id, as_of=as_of)


def _valuation(session: Session, actor: Actor, *, company_id: int | None = None, **_: Any) -> Select[Any]:
    from erp.costing.reports import valuation_query

    return valuation_query(session, actor, company_id=company_id)


def _variance_allocation(session: Session, actor: Actor, *, company_id: int | None = None, period: str | None = None,
                         **_: Any) -> Select[Any]:
    from erp.costing.reports import variance_allocation_query

    _require(company_id=company_id, period=period)
    return variance_allocation_query(session, actor, company_id=company_id, period=period)  # type: ignore[arg-type]


def _journal(session: Session, actor: Actor, *, company_id: int | None = None, period: str | None = None,
             **_: Any) -> Select[Any]:
    from erp.costing.reports import journal_query

    _require(company_id=company_id)
    return journal_query(session, actor, company_id=company_id, period=period)  # type: ignore[arg-type]


def _trial_balance(session: Session, actor: Actor, *, company_id: int | None = None, period: str | None = None,
                   **_: Any) -> list[Any]:
    from erp.costing.reports import trial_balance

    _require(period=period)
    report = trial_balance(session, actor, company_id=company_id, period=period)  # type: ignore[arg-type]
    return [*report.lines, {"account_code": "", "name_zh": "合计", "name_en": "Total", "kind": "",
                            "debit": report.total_debit, "credit": report.total_credit}]


def _ageing(session: Session, actor: Actor, *, company_id: int | None = None, as_of: dt.date | None = None,
            **_: Any) -> Select[Any]:
    from erp.credit.receivables import open_items_ageing_query

    return open_items_ageing_query(session, actor, as_of=as_of or business_today(), company_id=company_id)


def _receivables(session: Session, actor: Actor, *, company_id: int | None = None, as_of: dt.date | None = None,
                 settings: Any = None, **_: Any) -> Select[Any]:
    from erp.credit.exposure import CreditPolicy
    from erp.credit.receivables import receivables_by_customer_query

    return receivables_by_customer_query(session, actor, as_of=as_of or business_today(),
                                         policy=CreditPolicy.from_settings(settings), company_id=company_id)


class MissingParameter(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _require(**values: Any) -> None:
    for name, value in values.items():
        if value is None:
            raise MissingParameter(name)


AGEING_COLUMNS = [
    _c("open_amount", "未收金额", "Open", "decimal"), _c("overdue", "逾期金额", "Overdue", "decimal"),
    _c("not_due", "未到期", "Not due", "decimal"), _c("days_1_30", "逾期1-30天", "1-30 days", "decimal"),
    _c("days_31_60", "逾期31-60天", "31-60 days", "decimal"), _c("days_61_90", "逾期61-90天", "61-90 days", "decimal"),
    _c("over_90", "逾期90天以上", "Over 90 days", "decimal"),
]

def export_file_name(report: Report, lang: str, extension: str, *, company: str | None = None,
                     warehouse: str | None = None, period: str | None = None, as_of: dt.date | None = None,
                     on: dt.date | None = None) -> tuple[str, str]:
    """The name a downloaded report is saved under: what it is, whose, of when, and the day it
    was taken (trial finding 51: every file was "heyi-<report>.xlsx"), such as
    ``库存明细_FORM01_截至2026-11-30_20261201.xlsx``; and an ASCII name for clients that
    read only ``filename`` (``heyi-stock_FORM01_as-of-2026-11-30_20261201.xlsx``)."""
    zh = lang == "zh"
    title = report.title_zh if zh else report.title_en.replace(" ", "-")
    when = [period] if period else []
    if as_of is not None:
        when.append(f"截至{as_of.isoformat()}" if zh else f"as-of-{as_of.isoformat()}")
    taken = (on or business_today()).strftime("%Y%m%d")
    parts = [part for part in (company, warehouse, *when) if part]
    name = "_".join([title, *parts, taken])
    ascii_parts = [f"as-of-{as_of.isoformat()}" if as_of is not None and part.endswith(as_of.isoformat()) else part
                   for part in parts]
    fallback = "_".join([f"heyi-{report.name}", *ascii_parts, taken])
    return _file_safe(name) + "." + extension, _file_safe(fallback, ascii_only=True) + "." + extension


def _file_safe(name: str, *, ascii_only: bool = False) -> str:
    """Without the characters file systems or the header refuse (and, for the ASCII name, any other)."""
    return "".join("-" if c in '\\/:*?"<>|;,' or ord(c) < 32 or (ascii_only and ord(c) > 126) else c for c in name)


def attachment(name: str, fallback: str) -> str:
    """A Content-Disposition for a download named ``name`` (UTF-8 as RFC 5987's ``filename*``,
    which browsers prefer) with the ASCII ``fallback`` as ``filename``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


REPORTS: dict[str, Report] = {r.name: r for r in (
    Report("stock", "库存明细", "stock on hand", [
        _c("company_code", "公司", "Company"), _c("warehouse_code", "仓库", "Warehouse"),
        _c("material_code", "物料编码", "Material code"), _c("material_name_zh", "物料名称", "Material name"),
        _c("material_type", "物料类型", "Material type"), _c("batch_number", "批号", "Batch"),
        _c("manufacture_date", "生产日期", "Manufacture date", "date"),
        _c("expiry_date", "有效期至", "Expiry date", "date"), _c("status", "库存状态", "Stock status"),
        _c("quantity", "数量", "Quantity", "decimal"), _c("value", "标准成本金额", "Value at standard", "decimal"),
    ], _stock, ("company_id", "warehouse_id", "as_of")),
    Report("valuation", "存货估值", "inventory valuation", [
        _c("company_code", "公司", "Company"), _c("material_code", "物料编码", "Material code"),
        _c("material_name_zh", "物料名称", "Material name"), _c("quantity", "数量", "Quantity", "decimal"),
        _c("standard_value", "标准成本金额", "Value at standard", "decimal"),
        _c("variance", "材料成本差异", "Variance carried", "decimal"),
        _c("actual_value", "实际成本金额", "Value at actual", "decimal"),
    ], _valuation, ("company_id",)),
    Report("variance_allocation", "材料成本差异分配", "variance allocation", [
        _c("material_code", "物料编码", "Material code"), _c("name_zh", "物料名称", "Material name"),
        _c("opening_quantity", "期初数量", "Opening quantity", "decimal"),
        _c("opening_value", "期初标准成本", "Opening at standard", "decimal"),
        _c("opening_variance", "期初差异", "Opening variance", "decimal"),
        _c("receipts_quantity", "本期收入数量", "Receipts quantity", "decimal"),
        _c("receipts_value", "本期收入标准成本", "Receipts at standard", "decimal"),
        _c("receipts_variance", "本期收入差异", "Receipts variance", "decimal"),
        _c("variance_rate", "差异率", "Variance rate", "decimal"),
        _c("consumption_quantity", "本期发出数量", "Consumption quantity", "decimal"),
        _c("consumption_value", "本期发出标准成本", "Consumption at standard", "decimal"),
        _c("consumption_variance", "发出分摊差异", "Variance allocated to consumption", "decimal"),
        _c("closing_quantity", "期末数量", "Closing quantity", "decimal"),
        _c("closing_value", "期末标准成本", "Closing at standard", "decimal"),
        _c("closing_variance", "期末差异", "Closing variance", "decimal"),
    ], _variance_allocation, ("company_id", "period")),
    Report("journal", "会计分录", "journal", [
        _c("entry_id", "凭证号", "Entry", "int"), _c("entry_date", "日期", "Date", "date"),
        _c("period", "期间", "Period"), _c("source_type", "来源", "Source"), _c("source_id", "来源单据", "Source id", "int"),
        _c("memo", "摘要", "Memo", "narration"), _c("account_code", "科目", "Account"),
        _c("amount", "金额（借+贷-）", "Amount (debit +, credit -)", "decimal"),
        _c("material_id", "物料ID", "Material id", "int"), _c("customer_id", "客户ID", "Customer id", "int"),
        # the source in words (the document's kind), after the columns files were read by before
        _c("source", "来源类型", "Source kind", "journal_source"),
    ], _journal, ("company_id", "period")),
    Report("trial_balance", "科目余额表", "trial balance", [
        _c("account_code", "科目编码", "Account"), _c("name_zh", "科目名称", "Account name (Chinese)"),
        _c("name_en", "英文名称", "Account name"), _c("kind", "类别", "Kind"),
        _c("debit", "借方余额", "Debit", "decimal"), _c("credit", "贷方余额", "Credit", "decimal"),
    ], _trial_balance, ("company_id", "period")),
    Report("ageing", "应收账龄明细", "receivables ageing", [
        _c("company_code", "公司", "Company"), _c("customer_code", "客户编码", "Customer"),
        _c("customer_name_zh", "客户名称", "Customer name"), _c("invoice_id", "发票号", "Invoice", "int"),
        _c("reference", "原发票号", "Old invoice number"),
        _c("invoice_date", "开票日期", "Invoice date", "date"), _c("due_date", "到期日", "Due date", "date"),
        _c("open_amount", "未收金额", "Open amount", "decimal"), _c("bucket", "账龄", "Ageing bucket"),
        _c("order_number", "销售订单号", "Sales order"),
        _c("document_number", "单据编号", "Document number"),
    ], _ageing, ("company_id", "as_of")),
    Report("receivables", "集团应收汇总（按客户）", "consolidated receivables by customer", [
        _c("customer_code", "客户编码", "Customer"), _c("customer_name_zh", "客户名称", "Customer name"),
        _c("customer_uscc", "统一社会信用代码", "USCC"), *AGEING_COLUMNS,
        _c("exposure", "集团风险敞口", "Group exposure", "decimal"), _c("credit_limit", "信用额度", "Credit limit", "decimal"),
        _c("utilisation", "额度使用率", "Utilisation", "decimal"), _c("on_hold", "信用冻结", "On hold"),
    ], _receivables, ("company_id", "as_of")),
)}


# --- streaming -----------------------------------------------------------------------------------

def _cell(value: Any, column: ExportColumn, lang: str = "en") -> Any:
    """A value as the file shows it: Decimals exact (as text in CSV, numbers in XLSX), dates ISO,
    a narration (a journal entry's 摘要), a coded value (a status, a material type) and yes/no
    in the file's language (finding 126)."""
    if value is None:
        return None
    if column.type == "narration":
        return narration_in(value, lang)
    if column.type == "journal_source":
        from erp.ui.labels import journal_source

        return journal_source(*value, translate=_catalogue(lang).gettext)
    if isinstance(value, Enum):
        # What a reader knows it by (原料, 待检隔离; raw material, quarantine), not its code: the
        # imports read these words back (erp.golive.words), so an export loads as it is.
        return word_of(value, lang)
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if column.type == "decimal":
        return Decimal(value) if not isinstance(value, Decimal) else value
    return value


_catalogue = translation  # the catalogue of a language, outside a request (erp.golive.words)


def narration_in(stored: str, lang: str) -> str:
    """A stored narration (erp.narration) in ``lang`` (zh or en), records named in it; a
    person's words as they were typed."""
    said = narration.read(stored)
    if not isinstance(said, Message):
        return said or ""
    return said.render(_catalogue(lang).gettext,
                       lambda value: value.label(lang) if isinstance(value, Named) else plain_value(value))


def _value(row: Any, key: str) -> Any:
    if key == "source":  # a journal line's source in words: its source and the kind of its document
        return (_value(row, "source_type"), _value(row, "document_kind"))
    if isinstance(row, dict):
        return row.get(key)
    return getattr(row, key, None)


def rows_of(session: Session, source: Select[Any] | list[Any]) -> Iterator[Any]:
    """The rows of a report, fetched in batches (a server-side cursor on PostgreSQL)."""
    if isinstance(source, list):
        yield from source
        return
    result = session.execute(source.execution_options(yield_per=BATCH_ROWS))
    for partition in result.partitions():
        yield from partition


def csv_chunks(report: Report, rows: Iterator[Any], lang: str) -> Iterator[bytes]:
    """The report as CSV bytes (UTF-8 with BOM), yielded every ``BATCH_ROWS`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.header(lang) for c in report.columns])
    count = 0
    for row in rows:
        values = []
        for column in report.columns:
            value = _cell(_value(row, column.key), column, lang)
            values.append(format(value, "f") if isinstance(value, Decimal) else
                          value.isoformat() if isinstance(value, dt.date) else "" if value is None else value)
        writer.writerow(values)
        count += 1
        if count % BATCH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(report: Report, rows: Iterator[Any], lang: str, path: str) -> int:
    """Write the report to an XLSX file at ``path`` row by row (constant memory); returns the row count."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet((report.title_zh if lang == "zh" else report.title_en)[:31])
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [c.header(lang) for c in report.columns], bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, column in enumerate(report.columns):
            value = _cell(_value(row, column.key), column, lang)
            if value is None:
                continue
            if isinstance(value, Decimal):
                # Exact figures as numbers Excel can sum; Excel holds 15 significant digits,
                # beyond any amount or quantity these columns carry.
                sheet.write_number(count, index, float(value))
            elif isinstance(value, dt.date):
                sheet.write_datetime(count, index, dt.datetime(value.year, value.month, value.day), date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(count, index, value)
            else:
                sheet.write_string(count, index, str(value))
    workbook.close()
    return count


def xlsx_chunks(report: Report, rows: Iterator[Any], lang: str) -> Iterator[bytes]:
    """The report as XLSX bytes: written to a temporary file, then streamed from it and deleted."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(report, rows, lang, path)
        with open(path, "rb") as produced:
            while chunk := produced.read(1 << 16):
                yield chunk
    finally:
        os.unlink(path)
