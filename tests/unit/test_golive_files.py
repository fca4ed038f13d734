"""Reading import files: an XLSX workbook as Excel saves it (text in the shared strings
table, dates and numbers typed), read row by row with its shared strings in a temporary
file; the same table as CSV in GB18030 reads the same."""

from __future__ import annotations

import codecs
import datetime as dt
import zipfile
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import Workbook

from erp.golive.files import OLE2_MAGIC, SpilledStrings, UnreadableFile, open_sheet

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


# --- files an import cannot read: refused with what to do, never an internal error (trial 142) ---

def _refusal(path: Path) -> str:
    with pytest.raises(UnreadableFile) as refused:
        sheet = open_sheet(path)
        list(sheet.rows)
    return str(refused.value.detail)


def test_an_old_excel_workbook_is_refused_with_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(OLE2_MAGIC + bytes(range(256)) * 8)  # an .xls: the compound file header, then binary
    assert ".xls" in _refusal(path) and ".xlsx" in _refusal(path)


def test_unicode_text_as_excel_saves_it_reads_like_csv(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"  # Excel's 「Unicode 文本」: UTF-16 with its byte order mark, tab-separated
    path.write_bytes(codecs.BOM_UTF16_LE + "物料编码\t数量\nM-1\t12.5\n".encode("utf-16-le"))
    sheet = open_sheet(path)
    assert (sheet.format, sheet.encoding, sheet.header) == ("csv", "utf-16", ["物料编码", "数量"])
    assert list(sheet.rows) == [(2, ["M-1", "12.5"])]


def test_binary_that_decodes_in_no_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"abc,def\n" + b"\xff\xfe\xfd\xfc" * 100)  # not UTF-8, not GB18030 (0xFF leads nothing)
    assert "UTF-8" in _refusal(path)


def test_a_damaged_or_foreign_zip_is_refused_without_the_librarys_english(tmp_path: Path) -> None:
    workbook = Workbook()
    for row in ROWS:
        workbook.active.append(row)
    whole = tmp_path / "whole.xlsx"
    workbook.save(whole)
    truncated = tmp_path / "truncated.xlsx"  # an interrupted download
    truncated.write_bytes(whole.read_bytes()[:1500])
    foreign = tmp_path / "foreign.xlsx"  # a zip that is no workbook
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    for path in (truncated, foreign):
        reason = _refusal(path)
        assert "XLSX" in reason and "Content_Types" not in reason and "zip" not in reason.lower()
