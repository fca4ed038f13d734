"""Benchmark: a year of one-minute storage readings for two cold rooms (1,051,200 readings),
imported and scanned for excursions, beside raw SQL over the same rows in the same run.

On a fresh PostgreSQL database with one company and two cold rooms (2-8 °C, 60 %), it
writes each room's sensor log as CSV (5.0 °C / 55 % with a 45-minute warm-up to 9.5 °C
every third day and a 20-minute silence every tenth day), then:

- raw import: ``COPY`` of the same rows (already typed) into a scratch table, committed;
- import: ``erp.quality.monitoring.import_readings`` per room, committed (CSV parsed and
  checked row by row, COPY into a staging table, INSERT ... ON CONFLICT DO NOTHING into the
  append-only readings, then the set-based detection of excursions and gaps over all of
  the room's readings, and the holds: none here, the rooms are empty);
- raw scan: one ``GROUP BY`` over the scratch table counting the readings out of range
  per room (what any detection must at least read);
- detection: ``detect_excursions`` of both rooms over all their readings again (the
  excursions found are updated in place: the statement's whole work, nothing new).

It prints seconds for each and the ratios (import / raw COPY, detection / raw scan), the
excursions and gaps found (expected: 122 and 36 per room in a year), and the machine's load.

Usage: flock /work/coord/bench.lock .venv/bin/python -m bench.quality_readings [--days 365]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from decimal import Decimal

from sqlalchemy import func, select, text

from bench.common import fresh_database, git_revision, machine
from erp import models  # noqa: F401 - every table mapped before timing starts
from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.db import make_session_factory
from erp.masterdata.models import Company, Group, Segment, Warehouse
from erp.quality import monitoring
from erp.quality.models import ExcursionKind, StorageExcursion

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def room_log(days: int) -> tuple[str, list[tuple[dt.datetime, str, str]]]:
    """One room's sensor log (CSV text) and the same rows typed for the raw COPY."""
    rows: list[tuple[dt.datetime, str, str]] = []
    lines = ["read_at,temperature,humidity"]
    for minute in range(days * 24 * 60):
        day, in_day = divmod(minute, 24 * 60)
        if day % 10 == 5 and 600 <= in_day < 620:
            continue  # the logger was silent
        warm = day % 3 == 1 and 120 <= in_day < 165
        at = START + dt.timedelta(minutes=minute)
        temperature = "9.50" if warm else "5.00"
        rows.append((at, temperature, "55.00"))
        lines.append(f"{at.isoformat()},{temperature},55.00")
    return "\n".join(lines) + "\n", rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(f"machine: {machine()}; revision {git_revision()}; load average before: {os.getloadavg()}")
    with fresh_database("bench_quality_readings") as (engine, dsn):
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            group = Group(code="G", name_zh="G", name_en="G")
            session.add(group)
            session.flush()
            segment = Segment(code="S", name_zh="S", name_en="S", group_id=group.id)
            session.add(segment)
            session.flush()
            company = Company(code="C", name_zh="C", name_en="C", segment_id=segment.id)
            session.add(company)
            session.flush()
            rooms = [Warehouse(code=f"COLD-{i}", company_id=company.id, name_zh="冷库", name_en="cold room",
                               temp_min=Decimal(2), temp_max=Decimal(8), max_humidity=Decimal(60)) for i in (1, 2)]
            session.add_all(rooms)
            user = User(username="qa", display_name="qa", password_hash="x", role=Role.QUALITY, group_wide=True)
            session.add(user)
            session.flush()
            room_ids = [r.id for r in rooms]
            actor = Actor(user.id, "qa", Role.QUALITY, True)
        logs = [room_log(args.days) for _ in room_ids]
        total = sum(len(rows) for _, rows in logs)
        print(f"{total:,} readings in {len(room_ids)} rooms ({args.days} days of one-minute readings)")

        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE raw_readings (warehouse_id int, read_at timestamptz, "
                                       "temperature numeric(5,2), humidity numeric(5,2))")
        start = time.perf_counter()
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy("COPY raw_readings FROM STDIN") as copy:
                    for room_id, (_, rows) in zip(room_ids, logs, strict=True):
                        for at, temperature, humidity in rows:
                            copy.write_row((room_id, at, temperature, humidity))
        raw_copy = time.perf_counter() - start

        start = time.perf_counter()
        for room_id, (content, _) in zip(room_ids, logs, strict=True):
            with factory() as session, session.begin():
                monitoring.import_readings(session, actor, warehouse_id=room_id, content=content)
        imported = time.perf_counter() - start

        start = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text(
                "SELECT warehouse_id, count(*), count(*) FILTER (WHERE temperature > 8 OR temperature < 2 "
                "OR humidity > 60) FROM raw_readings GROUP BY warehouse_id")).all()
        raw_scan = time.perf_counter() - start

        start = time.perf_counter()
        with factory() as session, session.begin():
            for room_id in room_ids:
                monitoring.detect_excursions(session, session.get(Warehouse, room_id))
        detected = time.perf_counter() - start

        with factory() as session:
            found = {kind: count for kind, count in session.execute(
                select(StorageExcursion.kind, func.count()).group_by(StorageExcursion.kind))}
        print(f"excursions: {found.get(ExcursionKind.OUT_OF_RANGE, 0)}, gaps: {found.get(ExcursionKind.GAP, 0)}")
        print(f"raw COPY of the readings:        {raw_copy:7.2f} s")
        print(f"import (parse, store, detect):   {imported:7.2f} s  ({imported / raw_copy:.2f}x raw COPY)")
        print(f"raw GROUP BY scan:               {raw_scan:7.2f} s")
        print(f"excursion and gap detection:     {detected:7.2f} s  ({detected / raw_scan:.2f}x raw scan)")
        print(f"load average after: {os.getloadavg()}; database {dsn.rsplit('/', 1)[1]} dropped")


if __name__ == "__main__":
    main()
