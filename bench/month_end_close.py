"""Benchmark: the month-end close against one GROUP BY scan of the same movements.

Generates one company with 2,000 materials and 200,000 ledger movements in one month on
a fresh PostgreSQL database, with the balances and the period totals that the postings
would have kept current (built here from the generated ledger with GROUP BY, as
``flask --app erp stock check --repair`` would), then times (median of several runs,
each rolled back):

- baseline: SELECT material_id, sum(quantity), sum(value) ... GROUP BY material_id over the
  month's movements;
- the close through the service layer (erp.costing.close.close_period), which also carries
  prices forward and restates the stock at the next period's standards. It reads the
  period totals, not the ledger: the cost of totalling moved to posting time, where the
  receipts benchmark measures it.

Target: the close within 5x of the scan. Usage:
    .venv/bin/python bench/month_end_close.py [--materials 2000] [--movements 200000]
"""

from __future__ import annotations

import argparse
import time

import psycopg
from sqlalchemy.orm import Session

from bench.common import fresh_database, git_revision, machine, timed
from erp.auth.roles import Actor, Role
from erp.costing.close import close_period
from erp.db import make_session_factory

PERIOD = "2026-11"

SETUP = """
INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'G', 'G', 'G', now(), now());
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'S', 'S', 'S', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 'C1', 1, 'C1', 'C1', true, now(), now());
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at)
    VALUES (1, 'W1', 1, 'W1', 'W1', 10, 30, 75, true, now(), now()),
           (2, 'W2', 1, 'W2', 'W2', 2, 8, 60, true, now(), now());
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
INSERT INTO standard_prices (company_id, material_id, period, price, carried_forward, set_at)
    SELECT 1, m, %(period)s, round((1 + (m %% 97))::numeric * 1.37, 4), false, now()
    FROM generate_series(1, %(materials)s) AS m;
INSERT INTO accounting_periods (company_id, period, status) VALUES (1, %(period)s, 'open');
INSERT INTO stock_documents (id, doc_type, company_id, posting_date, period, created_by, created_at)
    SELECT d, 'receipt', 1, DATE '2026-11-01', %(period)s, 1, now()
    FROM generate_series(1, %(documents)s) AS d;
SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT 1000000))
    FROM unnest(ARRAY['groups', 'segments', 'companies', 'warehouses', 'units', 'users', 'materials', 'batches',
                      'stock_documents']) AS t;
"""

# One month of movements: 30 % receipts (with a purchase price variance), 60 % consumption
# to four accounts (at a quarter of the receipt size, so stock stays positive), 10 %
# transfers between the two stores (pairs that net to zero).
MOVEMENTS = """
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
SELECT 1 + i / 1000,
       CASE WHEN k < 3 THEN 'receipt' WHEN k < 9 THEN 'issue' ELSE 'transfer' END,
       CASE WHEN k < 3 THEN 'receipt' WHEN k < 9 THEN 'consumption' ELSE 'internal' END,
       1,
       CASE WHEN k = 9 AND i %% 20 >= 10 THEN 2 ELSE 1 END,
       m, m, 'unrestricted',
       q * CASE WHEN k < 3 THEN 1 WHEN k < 9 THEN -0.25 WHEN i %% 20 < 10 THEN -0.1 ELSE 0.1 END,
       round(q * p * CASE WHEN k < 3 THEN 1 WHEN k < 9 THEN -0.25 WHEN i %% 20 < 10 THEN -0.1 ELSE 0.1 END, 2),
       CASE WHEN k < 3 THEN round(q * p * ((i %% 41) - 20) / 400.0, 2) ELSE 0 END,
       CASE WHEN k BETWEEN 3 AND 8 THEN (ARRAY['5001', '5101', '6401', '6711'])[1 + i %% 4] END,
       DATE '2026-11-01' + (i %% 30), %(period)s, 1, now()
FROM (
    SELECT i, (i / %(materials)s) %% 10 AS k, 1 + i %% %(materials)s AS m,
           (1 + (i / %(materials)s) %% 50)::numeric AS q
    FROM generate_series(0, %(movements)s - 1) AS i
) g
JOIN standard_prices sp ON sp.company_id = 1 AND sp.material_id = g.m AND sp.period = %(period)s
CROSS JOIN LATERAL (SELECT sp.price AS p) price;
INSERT INTO stock_balances (company_id, warehouse_id, material_id, batch_id, status, quantity, value,
                            last_posting_date)
    SELECT company_id, warehouse_id, material_id, batch_id, status, sum(quantity), sum(value), max(posting_date)
    FROM stock_movements GROUP BY company_id, warehouse_id, material_id, batch_id, status;
INSERT INTO period_movement_totals (company_id, period, material_id, close_class, offset_account, quantity, value,
                                    variance)
    SELECT company_id, period, material_id, close_class, coalesce(offset_account, ''), sum(quantity), sum(value),
           sum(variance)
    FROM stock_movements WHERE close_class <> 'internal'
    GROUP BY company_id, period, material_id, close_class, coalesce(offset_account, '');
ANALYZE;
"""

BASELINE = """
SELECT material_id, sum(quantity), sum(value) FROM stock_movements
WHERE company_id = 1 AND period = %(period)s GROUP BY material_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--materials", type=int, default=2000)
    parser.add_argument("--movements", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    params = {"materials": args.materials, "movements": args.movements, "period": PERIOD,
              "documents": args.movements // 1000 + 1}
    with fresh_database("erp_bench_close") as (engine, url):
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            for statement in (SETUP + MOVEMENTS).split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)
            conn.commit()
        print(f"generated {args.movements:,} movements of {args.materials:,} materials "
              f"in {time.perf_counter() - started:.1f} s")

        with psycopg.connect(url) as conn:
            conn.execute(BASELINE, params).fetchall()  # warm the cache like the close's first run
            scan = timed(lambda: conn.execute(BASELINE, params).fetchall(), args.runs)

        sessions = make_session_factory(engine)
        actor = Actor(1, "bench", Role.COST_ACCOUNTANT, True)

        def close_and_roll_back() -> None:
            with sessions() as session:
                session.begin()
                close_period(session, actor, company_id=1, period=PERIOD)
                session.rollback()

        close_and_roll_back()
        close = timed(close_and_roll_back, args.runs)
        with sessions() as session, session.begin():
            result = close_period(session, actor, company_id=1, period=PERIOD)
        check_books(sessions())

    print(f"machine: {machine()}; revision {git_revision()}")
    print(f"GROUP BY scan over the month's movements: {scan * 1000:8.1f} ms (median of {args.runs})")
    print(f"month-end close (service layer):          {close * 1000:8.1f} ms (median of {args.runs})")
    print(f"ratio close / scan: {close / scan:.2f}x (target: within 5x)")
    print(f"closed {result.materials} materials; variance allocated {result.variance_allocated}, "
          f"remaining {result.variance_remaining}")


def check_books(session: Session) -> None:
    """The benchmark's close must also be right: the close entry balances."""
    from sqlalchemy import func, select

    from erp.costing.models import JournalLine

    with session:
        total = session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)))
    assert total == 0, f"journal out of balance by {total}"


if __name__ == "__main__":
    main()
