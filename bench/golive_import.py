"""Benchmark: go-live imports beside a raw COPY of the same rows, and memory against file size.

On a fresh PostgreSQL database with one company and two units it writes a CSV of N
materials (the materials template's columns) and then, in the same run:

- raw: ``COPY materials (...) FROM STDIN`` of the same rows (unit codes already resolved to
  ids, as the import resolves them), committed; the rows are deleted again afterwards;
- import: ``execute_import`` of the file as a commit (header mapping, typed cells, the API's
  schema per row, in-file and in-master uniqueness, unit references, the catalog's rule,
  multi-row INSERTs, the record of what was written, the content checksum), committed.

Each is timed as the median of ``--repeat`` runs; it prints rows/s of both and their ratio
(target: the import within 5x of COPY). With ``--rss`` it runs the import of 10,000 and of
100,000 rows from CSV and from XLSX, each in a separate process, and prints each one's
peak resident memory (target: flat in the file's length).

With ``--opening N`` it imports N opening stock rows (the receipt's checks, prices, batches,
the set-based bulk posting: ledger, balances, period totals, journal) beside a raw COPY of
the same rows into batches, stock_movements and stock_balances.

With ``--opening-rss`` it imports 10,000 and 100,000 opening stock rows, each in a
separate process, and prints each one's peak resident memory (target: flat).

With ``--export-rss`` it exports 50,000 and 500,000 rows of stock (balances written with
plain SQL) as CSV and as XLSX, each in its own process, and prints the peak memory (target:
flat: the export streams).

Usage: flock /work/coord/bench.lock .venv/bin/python -m bench.golive_import [--materials 20000] [--repeat 3]
       [--no-materials] [--opening 100000] [--rss] [--opening-rss] [--export-rss]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import psycopg
from sqlalchemy import text

from bench.common import fresh_database, git_revision, machine
from erp import models  # noqa: F401 - every table mapped before timing starts
from erp.auth.roles import Actor, Role
from erp.clock import business_day
from erp.db import make_session_factory
from erp.golive.framework import execute_import
from erp.golive.kinds import KINDS

SETUP = """
INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'G', 'G', 'G', now(), now());
INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at)
    VALUES (1, 'KG', 'KG', 'KG', 3, true, now(), now()), (2, 'EA', 'EA', 'EA', 0, true, now(), now());
INSERT INTO users (id, username, display_name, password_hash, role, group_wide, active, created_at)
    VALUES (1, 'steward', 'steward', 'x', 'steward', true, true, now());
"""
HEADER = ["code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope", "storage_temp_min",
          "storage_temp_max", "storage_max_humidity", "shelf_life_days", "batch_managed", "inspection_required",
          "over_receipt_tolerance_pct"]
TYPES = ["raw", "packaging", "intermediate", "finished", "trade"]


def material_row(i: int, prefix: str = "M") -> list[str]:
    return [f"{prefix}{i:07d}", f"物料{i}", f"Material {i}", TYPES[i % 5], "KG" if i % 3 else "EA",
            "central" if i % 2 else "local", "2" if i % 7 == 0 else "", "25", "65" if i % 4 == 0 else "",
            str(365 + i % 1460), "是" if i % 5 else "否", "否" if i % 3 else "是", str(i % 5)]


def material_rows(count: int) -> list[list[str]]:
    return [material_row(i) for i in range(count)]


def write_file(path: Path, rows: Iterable[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def copy_raw(dsn: str, rows: list[list[str]]) -> float:
    """COPY the same rows into materials (units resolved), commit; returns seconds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for r in rows:
        writer.writerow([r[0], r[1], r[2], r[3], 1 if r[4] == "KG" else 2, r[5], r[6] or None, r[7], r[8] or None,
                         r[9], r[10] == "是", r[11] == "是", r[12], True, "2026-11-29 00:00:00+00",
                         "2026-11-29 00:00:00+00"])
    data = buffer.getvalue()
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        with conn.cursor().copy(
            "COPY materials (code, name_zh, name_en, material_type, unit_id, procurement_scope, storage_temp_min, "
            "storage_temp_max, storage_max_humidity, shelf_life_days, batch_managed, inspection_required, "
            "over_receipt_tolerance_pct, active, created_at, updated_at) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(data)
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute("DELETE FROM materials")
        conn.commit()
    return elapsed


def copy_raw_all(dsn: str, rows: list[list[str]]) -> float:
    """COPY of every row the import writes, not only the materials: the import's batch, the
    materials carrying it and their file row (``import_batch_id``, ``import_row``, a foreign
    key checked per row) and the import's one audit row, committed; returns seconds. Not
    the issue's baseline (a raw COPY of the materials rows): printed beside it to show the
    database work of what the import records."""
    base = 10_000_000  # ids apart from the import's
    materials = io.StringIO()
    m_writer = csv.writer(materials)
    for n, r in enumerate(rows):
        m_writer.writerow([r[0], r[1], r[2], r[3], 1 if r[4] == "KG" else 2, r[5], r[6] or None, r[7], r[8] or None,
                           r[9], r[10] == "是", r[11] == "是", r[12], True, base, n + 2, "2026-11-29 00:00:00+00",
                           "2026-11-29 00:00:00+00"])
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO import_batches (id, kind, company_key, file_name, rows, status, summary, "
                           "created_by, created_at) VALUES (%s, 'materials', 0, 'raw.csv', 0, 'pending', '{}', 1, "
                           "now())", (base,))
            with cursor.copy(
                    "COPY materials (code, name_zh, name_en, material_type, unit_id, procurement_scope, "
                    "storage_temp_min, storage_temp_max, storage_max_humidity, shelf_life_days, batch_managed, "
                    "inspection_required, over_receipt_tolerance_pct, active, import_batch_id, import_row, "
                    "created_at, updated_at) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(materials.getvalue())
            cursor.execute("UPDATE import_batches SET status = 'committed', checksum = 'raw', rows = %s "
                           "WHERE id = %s", (len(rows), base))
            cursor.execute("INSERT INTO audit_events (occurred_at, actor_id, actor_name, entity, entity_id, action, "
                           "changes, reason) VALUES (now(), 1, 'steward', 'import', %s, 'import', '{}', "
                           "'go-live import')", (base,))
        conn.commit()
        elapsed = time.perf_counter() - start
        # The audit trail is append-only (its trigger refuses deletes): its row stays, as the
        # import's own do between runs.
        conn.execute("DELETE FROM materials")
        conn.execute("DELETE FROM import_batches WHERE id = %s", (base,))
        conn.commit()
    return elapsed


def run_import(engine: object, path: Path) -> float:
    actor = Actor(user_id=1, username="steward", role=Role.STEWARD, group_wide=True)
    session_factory = make_session_factory(engine)  # type: ignore[arg-type]
    with session_factory() as session:
        start = time.perf_counter()
        outcome = execute_import(session, actor, KINDS["materials"], path, file_name=path.name, company_id=None,
                                 dry_run=False, progress=lambda *a, **k: None)
        elapsed = time.perf_counter() - start
    assert outcome.committed and outcome.error_count == 0, outcome
    return elapsed


def undo_last(engine: object) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("DELETE FROM materials"))
        conn.execute(text("DELETE FROM import_records"))
        conn.execute(text("DELETE FROM import_batches"))


def write_xlsx_file(path: Path, rows: Iterable[list[str]]) -> Path:
    """The rows as an XLSX workbook the way Excel saves one: text in the shared strings
    table, numbers as numbers (XlsxWriter's default mode, which holds the workbook until it
    is closed: this runs in the parent, the child process only imports the file)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, [int(v) if v.isdigit() else v or None for v in row])
    workbook.close()
    return path


def load_average() -> str:
    """The 1-minute load average now (the machine is shared: ratios move with it)."""
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return loadavg.read().split()[0]


def peak_rss() -> float:
    """This process's peak resident memory in MiB: VmHWM, which starts afresh at exec
    (``ru_maxrss`` would carry the parent's size at fork into the child)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_child(count: int, file_path: str) -> None:
    """In a fresh process: import the ``count`` materials of a CSV or XLSX file (written by
    the parent), print the peak RSS in MiB."""
    with fresh_database(f"bench_golive_rss_{count}") as (engine, _dsn):
        with engine.begin() as conn:
            conn.execute(text(SETUP))
        before = peak_rss()
        seconds = run_import(engine, Path(file_path))
        peak = peak_rss()
    print(f"{count} {before:.1f} {peak:.1f} {seconds:.2f}")


STOCK_SETUP = """
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'S', 'S', 'S', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 'C1', 1, 'C1', 'C1', true, now(), now());
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at)
    SELECT w, 'W' || w, 1, 'W', 'W', 10, 30, 75, true, now(), now() FROM generate_series(1, 10) AS w;
INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed,
                       inspection_required, over_receipt_tolerance_pct, active, created_at, updated_at)
    SELECT m, 'M' || m, '物料' || m, 'M' || m, 'raw', 1, 'local', true, false, 0, true, now(), now()
    FROM generate_series(1, 5000) AS m;
INSERT INTO batches (id, material_id, batch_number, manufacture_date, expiry_date, created_at)
    SELECT b, 1 + b % 5000, 'B' || b, DATE '2026-01-01', DATE '2028-01-01', now() FROM generate_series(1, :batches) AS b;
INSERT INTO stock_balances (company_id, warehouse_id, material_id, batch_id, status, quantity, value)
    SELECT 1, w, 1 + b % 5000, b, 'unrestricted', 10 + b % 97, (10 + b % 97) * 3.25
    FROM generate_series(1, :batches) AS b, generate_series(1, 10) AS w;
"""


def export_child(rows: int, file_format: str) -> None:
    """In a fresh process: export ``rows`` stock balances, print peak RSS (MiB), seconds, bytes."""
    from erp.golive.exports import REPORTS, csv_chunks, rows_of, write_xlsx

    with fresh_database(f"bench_golive_export_{rows}") as (engine, _dsn):
        with engine.begin() as conn:
            conn.execute(text(SETUP))
            for statement in STOCK_SETUP.split(";"):
                if statement.strip():
                    conn.execute(text(statement), {"batches": rows // 10})
        actor = Actor(user_id=1, username="cost", role=Role.COST_ACCOUNTANT, group_wide=True)
        report = REPORTS["stock"]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with tempfile.TemporaryDirectory() as tmp, make_session_factory(engine)() as session, session.begin():
            source = report.query(session, actor)
            out = Path(tmp) / f"stock.{file_format}"
            start = time.perf_counter()
            if file_format == "csv":
                with out.open("wb") as handle:
                    for chunk in csv_chunks(report, rows_of(session, source), "zh"):
                        handle.write(chunk)
            else:
                write_xlsx(report, rows_of(session, source), "zh", str(out))
            seconds = time.perf_counter() - start
            size = out.stat().st_size
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows} {before:.1f} {peak:.1f} {seconds:.2f} {size}")


OPENING_SETUP = """
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'S', 'S', 'S', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 'C1', 1, 'C1', 'C1', true, now(), now());
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at)
    SELECT w, 'W' || w, 1, 'W', 'W', 10, 30, 75, true, now(), now() FROM generate_series(0, 9) AS w;
INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed,
                       inspection_required, over_receipt_tolerance_pct, active, shelf_life_days, created_at, updated_at)
    SELECT m, 'M' || m, '物料' || m, 'M' || m, 'raw', 1, 'local', true, false, 0, true, 1095, now(), now()
    FROM generate_series(0, 4999) AS m;
INSERT INTO standard_prices (company_id, material_id, period, price, set_at)
    SELECT 1, m, '2026-12', 2 + m % 50, now() FROM generate_series(0, 4999) AS m;
UPDATE users SET role = 'cost_accountant', group_wide = true WHERE id = 1;
"""


GO_LIVE = dt.date(2026, 12, 1)


def opening_row(i: int) -> list[str]:
    quantity = 10 + i % 97
    return [f"W{i % 10}", f"M{i % 5000}", f"B{i:07d}", "2026-06-01", "2028-06-01", "unrestricted", str(quantity),
            f"{quantity * (2 + i % 5000 % 50)}.00", f"{i % 7 - 3}.00"]


OPENING_HEADER = ["warehouse_code", "material_code", "batch_number", "manufacture_date", "expiry_date", "status",
                  "quantity", "value", "variance"]
OPENING_ACTOR = Actor(user_id=1, username="steward", role=Role.COST_ACCOUNTANT, group_wide=True)


def write_opening_file(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(OPENING_HEADER)
        writer.writerows(opening_row(i) for i in range(count))
    return path


def import_opening(engine: object, path: Path) -> float:
    """The opening stock file imported and committed (the go-live day is the business day:
    nothing is posted after today); returns seconds."""
    session_factory = make_session_factory(engine)  # type: ignore[arg-type]
    with session_factory() as session, business_day(GO_LIVE):
        start = time.perf_counter()
        outcome = execute_import(session, OPENING_ACTOR, KINDS["opening_stock"], path, file_name=path.name,
                                 company_id=1, dry_run=False, progress=lambda *a, **k: None, go_live_date=GO_LIVE)
        seconds = time.perf_counter() - start
    assert outcome.committed and outcome.error_count == 0, outcome
    return seconds


def opening_rss_child(count: int, file_path: str) -> None:
    """In a fresh process: import the ``count`` opening stock rows of a CSV file (written by
    the parent), print the peak RSS in MiB before and after, and the seconds."""
    with fresh_database(f"bench_golive_opening_rss_{count}") as (engine, _dsn):
        with engine.begin() as conn:
            conn.execute(text(SETUP))
            conn.execute(text(OPENING_SETUP))
        before = peak_rss()
        seconds = import_opening(engine, Path(file_path))
        peak = peak_rss()
    print(f"{count} {before:.1f} {peak:.1f} {seconds:.2f}")


def opening_benchmark(count: int, repeat: int) -> None:
    """Opening stock through the ledger and the journal beside a raw COPY of the same rows
    into batches, stock_movements and stock_balances."""
    raw_times, import_times = [], []
    for attempt in range(repeat):
        with fresh_database("bench_golive_opening") as (engine, dsn), tempfile.TemporaryDirectory() as tmp:
            with engine.begin() as conn:
                conn.execute(text(SETUP))
                conn.execute(text(OPENING_SETUP))
            path = write_opening_file(Path(tmp) / "opening.csv", count)
            with psycopg.connect(dsn) as conn:
                conn.execute("INSERT INTO stock_documents (id, doc_type, company_id, posting_date, period, "
                             "created_by, created_at, number) VALUES (1, 'adjustment', 1, DATE '2026-12-01', "
                             "'2026-12', 1, now(), 'ADJ-1')")
                start = time.perf_counter()
                with conn.cursor().copy("COPY batches (id, material_id, batch_number, manufacture_date, "
                                        "expiry_date, created_at) FROM STDIN") as copy:
                    for i in range(count):
                        copy.write_row([i + 1, i % 5000, f"B{i:07d}", "2026-06-01", "2028-06-01", "2026-11-29"])
                with conn.cursor().copy("COPY stock_movements (document_id, movement_type, close_class, company_id, "
                                        "warehouse_id, material_id, batch_id, status, quantity, value, variance, "
                                        "posting_date, period, created_by, created_at) FROM STDIN") as copy:
                    for i in range(count):
                        r = opening_row(i)
                        copy.write_row([1, "adjustment", "receipt", 1, i % 10, i % 5000, i + 1, "unrestricted", r[6],
                                        r[7], r[8], "2026-12-01", "2026-12", 1, "2026-11-29"])
                with conn.cursor().copy("COPY stock_balances (company_id, warehouse_id, material_id, batch_id, "
                                        "status, quantity, value, last_posting_date) FROM STDIN") as copy:
                    for i in range(count):
                        r = opening_row(i)
                        copy.write_row([1, i % 10, i % 5000, i + 1, "unrestricted", r[6], r[7], "2026-12-01"])
                raw_times.append(time.perf_counter() - start)
                conn.rollback()
            cpu = time.process_time()
            import_times.append(import_opening(engine, path))
            cpu = time.process_time() - cpu
        print(f"  opening stock run {attempt + 1}: raw {raw_times[-1]:.2f} s, import {import_times[-1]:.2f} s "
              f"(its process's CPU {cpu:.2f} s); load average {load_average()}")
    raw, imported = sorted(raw_times)[len(raw_times) // 2], sorted(import_times)[len(import_times) // 2]
    print(f"opening stock: {count} rows; raw COPY {raw:.3f} s ({count / raw:,.0f} rows/s); import {imported:.3f} s "
          f"({count / imported:,.0f} rows/s); ratio {imported / raw:.2f}x (target <= 5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--materials", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss", action="store_true", help="peak memory of 10k and 100k-row imports")
    parser.add_argument("--opening", type=int, default=0, help="also import this many opening stock rows")
    parser.add_argument("--export-rss", action="store_true", help="peak memory of 50k and 500k-row stock exports")
    parser.add_argument("--no-materials", action="store_true", help="skip the materials import beside COPY")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--export-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--opening-rss", action="store_true",
                        help="peak memory of 10k and 100k-row opening stock imports")
    parser.add_argument("--opening-rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.opening_rss_child:
        opening_rss_child(int(args.opening_rss_child[0]), args.opening_rss_child[1])
        return
    if args.rss_child:
        rss_child(int(args.rss_child[0]), args.rss_child[1])
        return
    if args.export_child:
        export_child(int(args.export_child[0]), args.export_child[1])
        return
    print(f"machine: {machine()}; revision {git_revision()}")
    if args.opening:
        opening_benchmark(args.opening, args.repeat)
    if not args.no_materials:
        materials_benchmark(args.materials, args.repeat)
    if args.rss:
        for file_format in ("csv", "xlsx"):
            for count in (10_000, 100_000):
                with tempfile.TemporaryDirectory() as tmp:
                    # Written here, row by row: the child process only imports it.
                    rows = (material_row(i) for i in range(count))
                    path = (write_xlsx_file(Path(tmp) / "materials.xlsx", rows) if file_format == "xlsx"
                            else write_file(Path(tmp) / "materials.csv", rows))
                    size = path.stat().st_size
                    out = subprocess.run([sys.executable, "-m", "bench.golive_import", "--rss-child", str(count),
                                          str(path)], capture_output=True, text=True, check=True).stdout.split()
                print(f"materials import of {int(out[0]):,} rows from {file_format} ({size / 2**20:.1f} "
                      f"MiB file): peak RSS {float(out[2]):.1f} MiB (after set-up {float(out[1]):.1f} MiB), "
                      f"{float(out[3]):.2f} s")
    if args.opening_rss:
        for count in (10_000, 100_000):
            with tempfile.TemporaryDirectory() as tmp:
                path = write_opening_file(Path(tmp) / "opening.csv", count)  # here: the child only imports it
                size = path.stat().st_size
                out = subprocess.run([sys.executable, "-m", "bench.golive_import", "--opening-rss-child", str(count),
                                      str(path)], capture_output=True, text=True, check=True).stdout.split()
            print(f"opening stock import of {int(out[0]):,} rows from csv ({size / 2**20:.1f} MiB file): peak RSS "
                  f"{float(out[2]):.1f} MiB (after set-up {float(out[1]):.1f} MiB), {float(out[3]):.2f} s; load "
                  f"average {load_average()}")
    if args.export_rss:
        for file_format in ("csv", "xlsx"):
            for count in (50_000, 500_000):
                out = subprocess.run([sys.executable, "-m", "bench.golive_import", "--export-child", str(count),
                                      file_format], capture_output=True, text=True, check=True).stdout.split()
                print(f"stock export of {int(out[0]):,} rows as {file_format}: peak RSS {float(out[2]):.1f} MiB "
                      f"(before {float(out[1]):.1f} MiB), {float(out[3]):.2f} s, {int(out[4]) / 2**20:.1f} MiB file")


def materials_benchmark(count: int, repeat: int) -> None:
    """Materials through the import beside a raw COPY of the same rows."""
    with fresh_database("bench_golive") as (engine, dsn):
        with engine.begin() as conn:
            conn.execute(text(SETUP))
        rows = material_rows(count)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_file(Path(tmp) / "materials.csv", rows)
            raw_times, all_times, import_times = [], [], []
            for attempt in range(repeat):
                raw_times.append(copy_raw(dsn, rows))
                all_times.append(copy_raw_all(dsn, rows))
                cpu = time.process_time()
                import_times.append(run_import(engine, path))
                cpu = time.process_time() - cpu
                undo_last(engine)
                print(f"  materials run {attempt + 1}: raw {raw_times[-1]:.2f} s, raw of the three tables "
                      f"{all_times[-1]:.2f} s, import {import_times[-1]:.2f} s (its process's CPU {cpu:.2f} s); "
                      f"load average {load_average()}")
        raw, imported = sorted(raw_times)[len(raw_times) // 2], sorted(import_times)[len(import_times) // 2]
        every = sorted(all_times)[len(all_times) // 2]
        print(f"materials: {count} rows; raw COPY {raw:.3f} s ({count / raw:,.0f} rows/s); "
              f"import {imported:.3f} s ({count / imported:,.0f} rows/s); ratio {imported / raw:.2f}x (target <= 5x)")
        print(f"  beside a raw COPY of every row the import writes (its batch, the materials carrying it and their "
              f"file row, its one audit row: not the issue's baseline): {every:.3f} s, ratio {imported / every:.2f}x")


if __name__ == "__main__":
    main()
