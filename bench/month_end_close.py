"""Benchmark: the group's month-end close against one GROUP BY scan of the same movements.

The target (../shared/DESIGN.md): the month-end close of 30 companies over one month of a
million-movement year, within 5x of one GROUP BY scan over those movements.

Generates, on a fresh PostgreSQL database, a group of 30 companies sharing 500 materials
and 1,000,000 ledger movements spread over the twelve months December 2025 to November
2026 (receipts with a price variance, consumption to four accounts, transfers), with the
balances and the period totals that the postings would have kept current (built here from
the generated ledger with GROUP BY, as ``flask --app erp stock check --repair`` would).
The first eleven months are then closed through the service, one group close per month,
as the group would have closed them; that is set-up, reported but not timed against the
target.

Then times (median of several runs):

- baseline: SELECT company_id, material_id, sum(quantity), sum(value) ... GROUP BY over
  the last month's movements of every company, all rows fetched;
- the close of the last month for all 30 companies through the service layer
  (erp.costing.close.close_periods in one transaction, as ``flask --app erp costing close
  PERIOD`` and ``POST /api/v1/costing/closes`` run it; rolled back so the next run finds
  the same books). The close allocates the variance, posts one entry per company, locks
  the period and restates stock whose standard price changes in the next period. It reads
  the period totals and the previous close's balances, not the ledger: the cost of
  totalling moved to posting time, where the receipts benchmark measures it.

Usage:
    .venv/bin/python -m bench.month_end_close [--companies 30] [--materials 500]
        [--movements 1000000] [--months 12]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench import ledger_sql
from bench.common import ADMIN_URL, fresh_database, git_revision, machine, timed
from erp.auth.roles import Actor, Role
from erp.clock import business_today, pin_business_day
from erp.costing.close import close_periods
from erp.costing.models import JournalLine
from erp.masterdata.models import Company
from erp.period import Period
from erp.db import make_engine, make_session_factory

FIRST_PERIOD = "2025-12"

SETUP = """
INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'G', 'G', 'G', now(), now());
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'S', 'S', 'S', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    SELECT c, 'C' || lpad(c::text, 2, '0'), 1, 'C' || c, 'C' || c, true, now(), now()
    FROM generate_series(1, %(companies)s) AS c;
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at)
    SELECT w, 'W' || w, 1 + (w - 1) / 2, 'W' || w, 'W' || w, 2, 30, 75, true, now(), now()
    FROM generate_series(1, 2 * %(companies)s) AS w;
INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at)
    VALUES (1, 'KG', 'KG', 'KG', 3, true, now(), now());
INSERT INTO users (id, username, display_name, password_hash, role, group_wide, active, created_at)
    VALUES (1, 'bench', 'bench', 'x', 'cost_accountant', true, true, now());
INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed,
                       inspection_required, over_receipt_tolerance_pct, active, created_at, updated_at)
    SELECT m, 'M' || m, 'M' || m, 'M' || m,
           (ARRAY['raw', 'packaging', 'intermediate', 'finished', 'trade'])[1 + m %% 5],
           1, 'local', true, false, 0, true, now(), now()
    FROM generate_series(1, %(materials)s) AS m;
INSERT INTO batches (id, material_id, batch_number, created_at) SELECT m, m, 'B' || m, now()
    FROM generate_series(1, %(materials)s) AS m;
INSERT INTO standard_prices (company_id, material_id, period, price, set_at)
    SELECT c, m, %(first)s, round((1 + ((m + c) %% 97))::numeric * 1.37, 4), now()
    FROM generate_series(1, %(companies)s) AS c CROSS JOIN generate_series(1, %(materials)s) AS m;
INSERT INTO accounting_periods (company_id, period, status)
    SELECT c, %(first)s, 'open' FROM generate_series(1, %(companies)s) AS c;
INSERT INTO stock_documents (id, number, doc_type, company_id, posting_date, period, created_by, created_at)
    SELECT d.id, 'GR-' || lpad(d.id::text, 8, '0'), 'receipt', d.c,
           (%(first_day)s::date + make_interval(months => d.mo))::date,
           to_char(%(first_day)s::date + make_interval(months => d.mo), 'YYYY-MM'), 1, now()
    FROM (SELECT 1 + mo * %(companies)s + (c - 1) AS id, mo, c
          FROM generate_series(0, %(months)s - 1) AS mo CROSS JOIN generate_series(1, %(companies)s) AS c) AS d;
SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT 1000000))
    FROM unnest(ARRAY['groups', 'segments', 'companies', 'warehouses', 'units', 'users', 'materials', 'batches',
                      'stock_documents']) AS t;
"""

# Movement i falls in month i mod months and company (i / months) mod companies, on a
# material that cycles through the master; k picks its kind: 30 % receipts (with a price
# variance), 60 % consumption to four accounts at a quarter of a receipt's size (stock
# stays positive), 10 % transfers between the company's two stores (pairs netting to zero).
MOVEMENTS = """
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
SELECT 1 + g.mo * %(companies)s + (g.c - 1),
       CASE WHEN k < 3 THEN 'receipt' WHEN k < 9 THEN 'issue' ELSE 'transfer' END,
       CASE WHEN k < 3 THEN 'receipt' WHEN k < 9 THEN 'consumption' ELSE 'internal' END,
       g.c,
       2 * g.c - CASE WHEN k = 9 AND g.r %% 2 = 1 THEN 0 ELSE 1 END,
       g.m, g.m, 'unrestricted',
       q * CASE WHEN k < 3 THEN 1 WHEN k < 9 THEN -0.25 WHEN g.r %% 2 = 0 THEN -0.1 ELSE 0.1 END,
       round(q * sp.price * CASE WHEN k < 3 THEN 1 WHEN k < 9 THEN -0.25 WHEN g.r %% 2 = 0 THEN -0.1 ELSE 0.1 END, 2),
       CASE WHEN k < 3 THEN round(q * sp.price * ((g.i %% 41) - 20) / 400.0, 2) ELSE 0 END,
       CASE WHEN k BETWEEN 3 AND 8 THEN (ARRAY['5001', '5101', '6401', '6711'])[1 + g.i %% 4] END,
       (%(first_day)s::date + make_interval(months => g.mo))::date + (g.r %% 28),
       to_char(%(first_day)s::date + make_interval(months => g.mo), 'YYYY-MM'), 1, now()
FROM (
    SELECT i, i %% %(months)s AS mo, 1 + (i / %(months)s) %% %(companies)s AS c,
           i / (%(months)s * %(companies)s) AS r,
           1 + (i / (%(months)s * %(companies)s)) %% %(materials)s AS m
    FROM generate_series(0, %(movements)s - 1) AS i
) g
CROSS JOIN LATERAL (SELECT (g.r / %(materials)s * 7 + g.c + g.mo) %% 10 AS k,
                           (1 + (g.r * 13) %% 50)::numeric AS q) kind
JOIN standard_prices sp ON sp.company_id = g.c AND sp.material_id = g.m AND sp.period = %(first)s;
"""
DERIVED = ledger_sql.BALANCES_FROM_LEDGER + ";\n" + ledger_sql.PERIOD_TOTALS_FROM_LEDGER + """;
VACUUM ANALYZE;
"""

BASELINE = ledger_sql.MONTH_SCAN


def periods(first: str, count: int) -> list[str]:
    result = [first]
    while len(result) < count:
        result.append(Period(result[-1]).next())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--materials", type=int, default=500)
    parser.add_argument("--movements", type=int, default=1_000_000, help="over the whole year")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true",
                        help="keep the database (erp_bench_close) with the last month still open")
    parser.add_argument("--reuse", action="store_true", help="measure again on the database --keep kept")
    parser.add_argument("--database-url", default=None,
                        help="measure on a database bench/generate.py loaded (its last month open; every close "
                             "rolled back)")
    parser.add_argument("--check", action="store_true",
                        help="also time the pages' confirmation step: the close run and rolled back with each "
                             "company's figures read (erp.costing.board.close_and_check), and that read alone")
    parser.add_argument("--statements", action="store_true",
                        help="after the timed runs, one more close with each statement's time (where it goes)")
    args = parser.parse_args()
    if args.database_url:
        args.reuse = True
        # The generated data set's last month is the current one (November 2026): it can be
        # closed from the day after it ends, so the close runs as of that day if today is earlier.
        day_after = Period(periods(FIRST_PERIOD, args.months)[-1]).last_day + dt.timedelta(days=1)
        if business_today() < day_after:
            pin_business_day(day_after)
            print(f"business day pinned to {day_after} (the day after the month to close)")
    months = periods(FIRST_PERIOD, args.months)
    last = months[-1]
    params = {"companies": args.companies, "materials": args.materials, "movements": args.movements,
              "months": args.months, "first": FIRST_PERIOD, "first_day": FIRST_PERIOD + "-01", "period": last}
    if args.database_url:
        database = existing_database(args.database_url.rsplit("/", 1)[1], base=args.database_url)
    elif args.reuse:
        database = existing_database("erp_bench_close")
    else:
        database = fresh_database("erp_bench_close", keep=args.keep)
    with database as (engine, url):
        if not args.reuse:
            generate(engine, url, args, months, params)
        with psycopg.connect(url) as conn:
            conn.execute(BASELINE, params).fetchall()  # warm the cache like the close's first run
            scan = timed(lambda: conn.execute(BASELINE, params).fetchall(), args.runs)

            month_rows = conn.execute("SELECT count(*) FROM stock_movements WHERE period = %(period)s",
                                      params).fetchone()[0]  # type: ignore[index]
            accountant = conn.execute("SELECT min(id) FROM users WHERE role = 'cost_accountant' AND group_wide"
                                      ).fetchone()[0]  # type: ignore[index]

        sessions = make_session_factory(engine)
        actor = Actor(accountant, "bench", Role.COST_ACCOUNTANT, True)

        sums: dict[str, str] = {}

        def close_group(keep: bool, checksums: bool = False) -> list[Any]:
            with sessions() as session:
                session.begin()
                results = close_periods(session, actor, company_ids=None, period=last)
                if checksums:
                    sums.update(close_checksums(session, last))
                if keep:
                    session.commit()
                else:
                    session.rollback()
                return results

        close_group(keep=False)
        close = timed(lambda: close_group(keep=False), args.runs)
        checked = read_alone = None
        if args.check:
            from erp.costing.board import RateWatch, close_and_check, close_checks

            watch = RateWatch(Decimal("0.10"), Decimal("0.05"))
            ids: list[int] = []

            def confirmation_step() -> None:
                # As the board's group close shows it: the close in a savepoint rolled back.
                with sessions() as session:
                    session.begin()
                    ids[:] = session.scalars(select(Company.id).where(Company.active.is_(True))).all()
                    savepoint = session.begin_nested()
                    close_and_check(session, actor, company_ids=ids, period=last, watch=watch)
                    savepoint.rollback()
                    session.rollback()

            def read_after_close() -> float:
                with sessions() as session:
                    session.begin()
                    close_periods(session, actor, company_ids=None, period=last)
                    started = time.perf_counter()
                    close_checks(session, ids, period=last, watch=watch)
                    elapsed = time.perf_counter() - started
                    session.rollback()
                    return elapsed

            confirmation_step()
            checked = timed(confirmation_step, args.runs)
            read_alone = sorted(read_after_close() for _ in range(args.runs))[args.runs // 2]
        statements = statement_times(engine, lambda: close_group(keep=False)) if args.statements else []
        # the kept database keeps its last month open
        results = close_group(keep=not (args.keep or args.reuse), checksums=True)
        materials = sum(r.materials for r in results)
        allocated = sum(r.variance_allocated for r in results)
        remaining = sum(r.variance_remaining for r in results)
        check_books(sessions)

    print(f"machine: {machine()}; revision {git_revision()}; load average {os.getloadavg()[0]:.1f}")
    print(f"GROUP BY scan over {last}'s {month_rows:,} movements: {scan * 1000:8.1f} ms (median of {args.runs})")
    print(f"group close of {len(results)} companies (service):   {close * 1000:8.1f} ms (median of {args.runs})")
    print(f"ratio close / scan: {close / scan:.2f}x (targets: within 5x, DESIGN.md; within 3x on the generated "
          "data set, issue 18)")
    print(f"closed {materials} company-materials; variance allocated {allocated}, remaining {remaining}")
    if checked is not None and read_alone is not None:
        print(f"confirmation step (close rolled back + figures): {checked * 1000:8.1f} ms (median of {args.runs}; "
              f"{checked / close:.2f}x the close); the figures' query alone {read_alone * 1000:.1f} ms")
    for name, (rows, digest) in sums.items():
        print(f"checksum of the close's {name}: {rows:,} rows, md5 {digest}")
    if statements:
        total = sum(elapsed for elapsed, _ in statements)
        print(f"one more close, statement by statement ({len(statements)} statements, {total * 1000:.0f} ms "
              "in the database driver):")
        for elapsed, text in sorted(statements, reverse=True)[:8]:
            print(f"  {elapsed * 1000:8.1f} ms  {text}")


def generate(engine: Engine, url: str, args: argparse.Namespace, months: list[str], params: dict[str, Any]) -> None:
    """The group's year of movements, and every month but the last closed."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in (SETUP + MOVEMENTS + DERIVED).split(";\n"):
            if statement.strip():
                conn.execute(statement, params)
        month_rows = conn.execute("SELECT count(*) FROM stock_movements WHERE period = %(period)s",
                                  params).fetchone()[0]  # type: ignore[index]
    print(f"generated {args.movements:,} movements ({month_rows:,} in {months[-1]}) of {args.companies} "
          f"companies x {args.materials:,} materials in {time.perf_counter() - started:.1f} s")
    sessions = make_session_factory(engine)
    actor = Actor(1, "bench", Role.COST_ACCOUNTANT, True)
    started = time.perf_counter()
    for period in months[:-1]:
        with sessions() as session, session.begin():
            close_periods(session, actor, company_ids=None, period=period)
    print(f"closed {months[0]} to {months[-2]} for every company (set-up) in {time.perf_counter() - started:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def statement_times(engine: Engine, run: Callable[[], object]) -> list[tuple[float, str]]:
    """(seconds, first words) of every statement ``run`` sends through ``engine``."""
    times: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        times.append((time.perf_counter() - conn.info["started"].pop(), " ".join(statement.split())[:110]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return times


@contextmanager
def existing_database(name: str, base: str = ADMIN_URL) -> Iterator[tuple[Engine, str]]:
    """The database an earlier run kept (--keep), or one the generator loaded."""
    url = "postgresql+psycopg://" + base.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        yield engine, url.replace("postgresql+psycopg://", "postgresql://")
    finally:
        engine.dispose()


# What a close wrote, as md5 over its rows in a fixed order (read inside the close's own
# transaction, before it is rolled back), so that a change meant only for speed can show it
# wrote the same books: the allocation rows, the balance rows, the period rows' totals, and
# the close entries' journal lines (without their ids, which the sequences give afresh).
CHECKSUMS = {
    "allocation rows": """SELECT count(*), md5(string_agg(concat_ws(',', company_id, material_id, account_code,
            consumed_value, allocated_variance), ';' ORDER BY company_id, material_id, account_code))
        FROM variance_allocations WHERE period = %(period)s""",
    "balance rows": """SELECT count(*), md5(string_agg(concat_ws(',', company_id, material_id, opening_quantity,
            opening_value, opening_variance, receipts_quantity, receipts_value, receipts_variance,
            other_inflow_quantity, other_inflow_value, consumption_quantity, consumption_value,
            consumption_variance, variance_rate, closing_quantity, closing_value, closing_variance),
            ';' ORDER BY company_id, material_id))
        FROM material_period_balances WHERE period = %(period)s""",
    "period totals": """SELECT count(*), md5(string_agg(concat_ws(',', company_id, status, close_materials,
            variance_allocated, variance_remaining), ';' ORDER BY company_id))
        FROM accounting_periods WHERE period = %(period)s""",
    "journal lines": """SELECT count(*), md5(string_agg(concat_ws(',', l.company_id, l.account_code, l.material_id,
            l.amount, e.entry_date, e.memo), ';' ORDER BY l.company_id, l.account_code, l.material_id, l.amount))
        FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
        WHERE e.period = %(period)s AND e.source_type = 'period_close'""",
}


def close_checksums(session: Session, period: str) -> dict[str, tuple[int, str]]:
    """``CHECKSUMS`` over the rows of ``period``'s close in ``session``'s transaction."""
    raw = session.connection().exec_driver_sql
    return {name: tuple(raw(sql, {"period": period}).one()) for name, sql in CHECKSUMS.items()}  # type: ignore[misc]


def check_books(sessions: sessionmaker[Session]) -> None:
    """The benchmark's closes must also be right: every company's journal balances."""
    with sessions() as session:
        off = session.execute(
            select(JournalLine.company_id, func.sum(JournalLine.amount))
            .group_by(JournalLine.company_id).having(func.sum(JournalLine.amount) != 0)
        ).all()
    assert not off, f"journals out of balance: {off}"


if __name__ == "__main__":
    main()
