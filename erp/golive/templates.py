"""Template files per import: the headers in Chinese and English, one example row, and a
second sheet describing each column."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from erp.golive.framework import ImportKind


# A column's type as the template's reader knows it, not the code's word for it.
TYPE_WORDS = {"text": "文本 text", "int": "整数 whole number", "decimal": "数字 number", "date": "日期 date (YYYY-MM-DD)",
              "bool": "是/否 yes/no"}


def xlsx_template(kind: ImportKind) -> bytes:
    """An XLSX workbook: sheet 1 the headers and an example row, sheet 2 the columns explained."""
    workbook = Workbook()
    data = workbook.active
    data.title = "数据 Data"
    data.append([c.template_header for c in kind.columns])
    data.append([c.example for c in kind.columns])
    bold = Font(bold=True)
    for cell in data[1]:
        cell.font = bold
    for index, column in enumerate(kind.columns, start=1):
        data.column_dimensions[data.cell(1, index).column_letter].width = max(14, len(column.template_header) + 4)
    data.freeze_panes = "A2"
    info = workbook.create_sheet("列说明 Columns")
    info.append(["列 Column", "必填 Required", "类型 Type", "说明", "Description", "示例 Example"])
    for cell in info[1]:
        cell.font = bold
    for column in kind.columns:
        info.append([column.template_header, "是 yes" if column.required else "否 no", TYPE_WORDS[column.type],
                     column.help_zh, column.help_en, str(column.example)])
    for letter, width in zip("ABCDEF", (28, 14, 10, 44, 44, 22), strict=True):
        info.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_template(kind: ImportKind) -> bytes:
    """A CSV file (UTF-8 with BOM, so Excel shows the Chinese headers): headers and an example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.template_header for c in kind.columns])
    writer.writerow([c.example for c in kind.columns])
    return buffer.getvalue().encode("utf-8-sig")
