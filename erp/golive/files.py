"""Reading spreadsheet files row by row: XLSX (openpyxl, read-only streaming) and CSV in
UTF-8 (with or without BOM), GB18030 (what Excel saves as "CSV" on a Chinese Windows) or
UTF-16 with a byte order mark (Excel's "Unicode text", tab-separated).

Rows are read lazily, so memory stays flat whatever the file's length. An XLSX file keeps
its text cells in one table of shared strings that cells point into, which openpyxl
loads whole as a list of Python strings (about 60 bytes of overhead each: 15 MiB for a
100,000-row materials file); here that table goes to a temporary file as it is parsed and
only its offsets stay in memory (8 bytes a string).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import logging
import os
import tempfile
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from erp.messages import N_, Message
from erp.errors import ValidationFailed

XLSX_MAGIC = b"PK\x03\x04"
# The compound file header of Excel 97-2003 workbooks (.xls) and other old Office files.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
NOT_TEXT = N_("the file is not text in UTF-8, GB18030 or UTF-16: save it as .xlsx or CSV and send it again")
CHUNK = 1 << 16
log = logging.getLogger(__name__)


class UnreadableFile(ValidationFailed):
    """Imports read XLSX, or CSV in UTF-8 or GB18030, with a header row the kind's template
    names."""

    slug = "unreadable-file"
    title = N_("The file cannot be read")
    remedy = N_("Save the file from the import's template as XLSX or CSV (UTF-8) and send it again.")


@dataclass(frozen=True)
class Sheet:
    """A table read from a file: the header cells and an iterator of (row number, cells)."""

    format: str
    encoding: str | None
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``gb18030`` (which decodes any
    byte sequence GBK or GB2312 produced). Read in chunks: the file is never held whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def cell_value(value: Any) -> Any:
    """A spreadsheet cell as text, a whole number, a Decimal or a date (None when blank).

    Excel keeps numbers as binary doubles; the shortest text that reads back as the same
    double is what the user typed ("12.5", not 12.4999...), so that is what we take."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        number = Decimal(repr(value))
        return int(number) if number == number.to_integral_value() and abs(number) < 10**15 else number
    text = str(value).strip()
    return text or None


def open_sheet(path: Path) -> Sheet:
    """The first worksheet of an XLSX file, or the table of a CSV file (UTF-8, GB18030, or
    UTF-16 with its byte order mark: what Excel saves as "Unicode text").

    Refuses (``UnreadableFile``, never an internal error): an old Excel workbook (.xls, which
    subsidiaries on old systems often send: told to save it as .xlsx), any other binary file,
    a damaged or incomplete workbook, text in none of those encodings."""
    with path.open("rb") as handle:
        magic = handle.read(len(OLE2_MAGIC))
    if magic.startswith(XLSX_MAGIC):
        return _xlsx(path)
    if magic == OLE2_MAGIC:
        raise UnreadableFile(Message("the file is an old Excel workbook (.xls), which imports do not read: "
                                     "save it in Excel as .xlsx (Excel workbook) or CSV and send it again"))
    if magic.startswith(UTF16_BOMS):
        return _csv(path, "utf-16")
    if b"\x00" in magic:
        raise UnreadableFile(Message("the file is neither XLSX nor CSV text (it contains binary data)"))
    return _csv(path)


class SpilledStrings:
    """An XLSX file's shared strings in a temporary file: ``strings[i]`` reads the i-th back.
    Memory: one 8-byte offset per string, and the few hundred strings read most recently."""

    def __init__(self, texts: Iterator[str]) -> None:
        self._file = tempfile.TemporaryFile()
        self._offsets = array("Q", [0])
        position = 0
        for text in texts:
            data = text.encode("utf-8")
            self._file.write(data)
            position += len(data)
            self._offsets.append(position)
        self._file.flush()
        self._recent: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        text = self._recent.get(index)
        if text is None:
            start, end = self._offsets[index], self._offsets[index + 1]
            text = os.pread(self._file.fileno(), end - start, start).decode("utf-8")
            if len(self._recent) >= 512:
                self._recent.clear()
            self._recent[index] = text
        return text

    def close(self) -> None:
        self._file.close()


def _load_xlsx(path: Path) -> tuple[Any, SpilledStrings | None]:
    """openpyxl's read-only workbook with its shared strings spilled to a temporary file."""
    from openpyxl.cell.text import Text
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.reader.strings import SHEET_MAIN_NS, iterparse
    from openpyxl.xml.constants import SHARED_STRINGS

    spilled: list[SpilledStrings] = []

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is None:
                return
            tag = "{%s}si" % SHEET_MAIN_NS

            def texts() -> Iterator[str]:
                with self.archive.open(part.PartName[1:]) as source:
                    table = None
                    for event, node in iterparse(source, events=("start", "end")):
                        if event == "start":
                            table = node if table is None else table
                        elif node.tag == tag:
                            # As openpyxl's read_string_table reads an entry; then the entries
                            # read so far leave the parsed tree (clearing one would leave it there).
                            text = Text.from_tree(node).content.replace("x005F_", "")
                            table.clear()
                            yield text

            spilled.append(SpilledStrings(texts()))
            self.shared_strings = spilled[0]

    reader = Reader(path, read_only=True, data_only=True)
    try:
        reader.read()
    except BaseException:
        for strings in spilled:
            strings.close()
        raise
    return reader.wb, spilled[0] if spilled else None


def _xlsx(path: Path) -> Sheet:
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook, strings = _load_xlsx(path)
    except (InvalidFileException, KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        # the library's reason is English and technical: logged, the reader told what to do
        log.info("unreadable workbook %s: %r", path.name, exc)
        raise UnreadableFile(Message("the file is not a readable XLSX workbook (damaged, incomplete, or not a "
                                     "workbook): save it again from Excel as .xlsx and send it again")) from exc

    def close() -> None:
        workbook.close()
        if strings is not None:
            strings.close()

    sheet = workbook.worksheets[0]
    rows = _xlsx_rows(workbook, sheet)
    header: list[str] = []
    first = 0
    for number, cells in rows:
        values = [cell_value(c) for c in cells]
        if any(v is not None for v in values):
            header = ["" if v is None else str(v) for v in values]
            first = number
            break
    else:
        close()
        return Sheet("xlsx", None, [], iter(()))

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in rows:
                values = [cell_value(c) for c in cells]
                if number > first and any(v is not None for v in values):
                    yield number, values
        finally:
            close()

    return Sheet("xlsx", None, header, body())


def _xlsx_rows(workbook: Any, sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of a read-only worksheet as the file numbers its rows.

    openpyxl's own loop clears each row's XML element once read but leaves it in the parsed
    tree (a few dozen bytes a row, 10 MiB over 100,000 rows); this one drops the rows read
    so far from the tree as it goes. Cells are typed by openpyxl's parser (dates by their
    number format, numbers, shared or inline strings)."""
    from openpyxl.worksheet._reader import DATA_TAG, ROW_TAG, WorkSheetParser, iterparse

    with sheet._get_source() as source:  # noqa: SLF001 - the sheet's XML part, as its own loop opens it
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=True,  # noqa: SLF001
                                 epoch=workbook.epoch, date_formats=workbook._date_formats,  # noqa: SLF001
                                 timedelta_formats=workbook._timedelta_formats)  # noqa: SLF001
        sheet_data = None
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == DATA_TAG:
                    sheet_data = element
                continue
            if element.tag != ROW_TAG:
                continue
            number, cells = parser.parse_row(element)
            if sheet_data is not None:
                sheet_data.clear()
            values: list[Any] = [None] * max((cell["column"] for cell in cells), default=0)
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, values


def _csv(path: Path, encoding: str | None = None) -> Sheet:
    encoding = encoding or csv_encoding(path)
    handle = path.open(encoding=encoding, newline="")
    try:
        sample = handle.read(CHUNK)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header: list[str] = []
        number = 0
        for number, cells in enumerate(reader, start=1):
            if any(c.strip() for c in cells):
                header = [c.strip() for c in cells]
                break
    except UnicodeError as exc:
        handle.close()
        raise UnreadableFile(Message(NOT_TEXT)) from exc
    except BaseException:
        handle.close()
        raise
    first = number

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            for row_number, cells in enumerate(reader, start=first + 1):
                values = [c.strip() or None for c in cells]  # CSV cells are text: cell_value's case for str
                if any(v is not None for v in values):
                    yield row_number, values
        except csv.Error as exc:
            raise UnreadableFile(Message("row {row}: the CSV is malformed ({reason})", row=reader.line_num,
                                         reason=str(exc))) from exc
        except UnicodeError as exc:
            raise UnreadableFile(Message(NOT_TEXT)) from exc
        finally:
            handle.close()

    return Sheet("csv", encoding, header, body())
