"""Building import files for tests: CSV text in a chosen encoding, or an XLSX workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.roles import Actor
from erp.golive.framework import ImportOutcome, execute_import
from erp.golive.kinds import KINDS


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


class Recorder:
    """Collects what an import reports through ``progress``."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.rows_done = 0

    def __call__(self, rows_done: int, *, rows_total: int | None = None, errors: Any = (), force: bool = False) -> None:
        self.rows_done = rows_done
        self.errors.extend(errors)

    def at(self) -> set[tuple[int, str | None]]:
        """The (row, column) of every error."""
        return {(e["row"], e["column"]) for e in self.errors}


def run_import(session_factory: sessionmaker[Session], actor: Actor, kind: str, path: Path, *,
               dry_run: bool = False, company_id: int | None = None, go_live_date: dt.date | None = None,
               ) -> tuple[ImportOutcome | Exception, Recorder]:
    recorder = Recorder()
    with session_factory() as session:
        try:
            outcome: ImportOutcome | Exception = execute_import(
                session, actor, KINDS[kind], path, file_name=path.name, company_id=company_id, dry_run=dry_run,
                progress=recorder, go_live_date=go_live_date)
        except Exception as exc:  # noqa: BLE001 - the test looks at what was refused
            outcome = exc
    return outcome, recorder
