"""Reading import files: an XLSX workbook as Excel saves it (text in the shared strings
table, dates and numbers typed), read row by row with its shared strings in a temporary
file; the same table as CSV in GB18030 reads the same."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

from openpyxl import Workbook

from erp.golive.files import SpilledStrings, open_sheet

ROWS = [
    ["物料编码", "中文名称", "数量", "生产日期"],
    ["M-1", "对乙酰氨基酚", 12.5, dt.datetime(2026, 6, 1)],
    [None, None, None, None],  # an empty row is skipped
    ["M-2", "对乙酰氨基酚", 3, dt.datetime(2026, 7, 1)],
    ["M-3", " 淀粉 ☃ ", 0.1, None],
]


def test_an_xlsx_file_reads_row_by_row_with_its_shared_strings_spilled(tmp_path: Path) -> None:
    workbook = Workbook()
    for row in ROWS:
        workbook.active.append(row)
    path = tmp_path / "m.xlsx"
    workbook.save(path)
    sheet = open_sheet(path)
    assert sheet.format == "xlsx" and sheet.header == ["物料编码", "中文名称", "数量", "生产日期"]
    assert list(sheet.rows) == [
        (2, ["M-1", "对乙酰氨基酚", D("12.5"), dt.date(2026, 6, 1)]),
        (4, ["M-2", "对乙酰氨基酚", 3, dt.date(2026, 7, 1)]),
        (5, ["M-3", "淀粉 ☃", D("0.1")]),  # up to its last cell: the import reads past the end as empty
    ]


def test_spilled_strings_read_back_what_was_written() -> None:
    texts = ["", "a", "对乙酰氨基酚", "☃" * 300, "a"]
    strings = SpilledStrings(iter(texts * 200))
    try:
        assert len(strings) == 1000
        assert [strings[i] for i in range(1000)] == texts * 200
        assert strings[3] == "☃" * 300
    finally:
        strings.close()
